//! Helpers for batched refresh (`ResourceType::read_many`).
//!
//! A batched read lists what it can and reads the rest one by one with `read`, so that
//! its answer for every object is the one `read` would give. Objects missing from a
//! listing are confirmed with `read` when the listing could miss them (a differently
//! spelled ARN, a page budget used up): deletions are rare, so this costs little and
//! never reports an object gone that `read` would find.

use super::{Attrs, Provider, ResourceType};
use futures::StreamExt;

/// Reads `priors[i]` for every `i` in `which` with the type's own `read`, a few at a
/// time, and stores each answer in `out[i]`.
pub async fn read_each<T: ResourceType + ?Sized>(
    t: &T,
    p: &Provider,
    priors: &[&Attrs],
    which: Vec<usize>,
    out: &mut [Option<Attrs>],
) -> anyhow::Result<()> {
    let reads = which
        .into_iter()
        .map(|i| async move { (i, t.read(p, priors[i]).await) });
    let mut answers = futures::stream::iter(reads).buffer_unordered(p.read_concurrency.max(1));
    while let Some((i, live)) = answers.next().await {
        out[i] = live?;
    }
    Ok(())
}

/// Runs `f` for every key, `p.read_concurrency` at a time; answers in any order.
pub async fn per_key<K, V, F, Fut>(p: &Provider, keys: Vec<K>, f: F) -> anyhow::Result<Vec<(K, V)>>
where
    K: Clone,
    F: Fn(K) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<V>>,
{
    let calls = keys.into_iter().map(|k| {
        let fut = f(k.clone());
        async move { fut.await.map(|v| (k, v)) }
    });
    futures::stream::iter(calls)
        .buffer_unordered(p.read_concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}
