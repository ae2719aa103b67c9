//! Refresh: read every instance in state from the cloud; import: adopt an object.

use super::Drift;
use crate::address::{Address, Mode};
use crate::engine::diff::normalize_json;
use crate::engine::{Event, Ui};
use crate::provider::Attrs;
use crate::provider::cloud::{Cloud, pick};
use crate::provider::{RECOVER_STARTED_AT, RECOVER_TAINTED, RECOVER_TAKEN};
use crate::state::{ResourceState, State};
use crate::value::json_equivalent;
use futures::StreamExt;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Reads every instance in state from the cloud. Objects gone from it leave the state;
/// creates that a crash interrupted are looked up by name and adopted when found.
/// Warnings the cloud raised are added to `warnings`, each with its address.
pub async fn refresh(
    prior: State,
    cloud: &dyn Cloud,
    parallelism: usize,
    ui: &dyn Ui,
    warnings: &mut Vec<String>,
) -> anyhow::Result<(State, Vec<Drift>)> {
    let mut state = prior;
    let mut drift = vec![];
    // Objects without a name (certificates) are recognised by when they were made and by
    // not being tracked yet: each interrupted create is told both, and gets its own.
    let mut taken: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for pending in std::mem::take(&mut state.pending) {
        let schema = cloud.schema(&pending.rtype)?;
        let ids = taken.entry(pending.rtype.clone()).or_insert_with(|| {
            state
                .iter()
                .filter(|r| r.rtype == pending.rtype)
                .filter_map(|r| r.attributes.get("id").cloned())
                .collect()
        });
        let mut planned = pending.planned.clone();
        planned.insert(
            RECOVER_STARTED_AT.into(),
            Json::String(pending.started_at.clone()),
        );
        planned.insert(RECOVER_TAKEN.into(), Json::Array(ids.clone()));
        let found = pick(cloud, pending.provider.as_deref())?
            .recover(&pending.rtype, &planned)
            .await
            .take(&pending.address, warnings)?;
        match found {
            Some(mut attrs) if state.get(&pending.address).is_none() => {
                let tainted = attrs.remove(RECOVER_TAINTED).is_some();
                if let Some(id) = attrs.get("id") {
                    ids.push(id.clone());
                }
                let attrs = normalize_json(&Json::Object(attrs), &schema.block);
                let id = attrs.get(schema.id_attr).and_then(Json::as_str).unwrap_or("?").to_string();
                ui.event(Event::Recovered { address: pending.address.clone(), id });
                state.upsert(ResourceState {
                    provider: pending.provider.clone(),
                    tainted,
                    ..ResourceState::managed(
                        pending.address.clone(),
                        attrs.as_object().cloned().unwrap_or_default(),
                    )
                });
            }
            Some(_) => {}
            None => ui.event(Event::Warning(format!(
                "{}: a create was interrupted earlier and AWS has no such object (or it cannot be found by name); it is no longer tracked",
                pending.address
            ))),
        }
    }
    // Types that can read many instances with one list call do so (a fleet of Things is a
    // handful of ListThings pages, not one DescribeThing each); the rest read one by one.
    // The reads borrow each instance's prior attributes from the state (no copy).
    // Batches are per type and provider configuration (each alias is its own region or
    // account).
    type Batches<'a> = BTreeMap<(String, Option<&'a str>), (Vec<Address>, Vec<&'a Attrs>)>;
    let mut batched: Batches = BTreeMap::new();
    for r in state.iter().filter(|r| r.mode == Mode::Managed) {
        let (addrs, priors) = batched
            .entry((r.rtype.clone(), r.provider.as_deref()))
            .or_default();
        addrs.push(r.address.clone());
        priors.push(&r.attributes);
    }
    let mut results: Vec<(Address, Option<Attrs>)> = vec![];
    let mut single: Vec<(Address, &Attrs, Option<&str>)> = vec![];
    // Every type's batched read at once (each pages or fans out on its own).
    let batch_reads =
        batched
            .into_iter()
            .map(|((rtype_name, provider), (addrs, priors))| async move {
                let answer = match pick(cloud, provider) {
                    Ok(c) => c.read_many(&rtype_name, &priors).await,
                    Err(e) => Some(crate::provider::cloud::Reply::new(Err(e))),
                };
                (rtype_name, provider, addrs, priors, answer)
            });
    for done in futures::future::join_all(batch_reads).await {
        let (rtype_name, provider, addrs, priors, answer) = done;
        let answer = answer.map(|r| {
            warnings.extend(r.warnings.into_iter().map(|w| format!("{rtype_name}: {w}")));
            r.result
        });
        match answer {
            Some(Ok(lives)) if lives.len() == addrs.len() => {
                drop(priors);
                for (a, live) in addrs.into_iter().zip(lives) {
                    ui.event(Event::Refreshing(a.clone()));
                    results.push((a, live));
                }
            }
            Some(Err(e)) => return Err(anyhow::anyhow!("refreshing {rtype_name}: {e:#}")),
            _ => single.extend(addrs.into_iter().zip(priors).map(|(a, p)| (a, p, provider))),
        }
    }
    let reads = single.into_iter().map(|(a, prior, provider)| async move {
        ui.event(Event::Refreshing(a.clone()));
        let reply = pick(cloud, provider)?.read(&a.resource.rtype, prior).await;
        let mut w = vec![];
        let live = reply
            .take(&a, &mut w)
            .map_err(|e| anyhow::anyhow!("refreshing {a}: {e:#}"))?;
        Ok::<_, anyhow::Error>((a, live, w))
    });
    let singles: Vec<anyhow::Result<_>> = futures::stream::iter(reads)
        .buffer_unordered(parallelism.max(1))
        .collect()
        .await;
    for r in singles {
        let (a, live, w) = r?;
        warnings.extend(w);
        results.push((a, live));
    }
    results.sort_by(|a, b| a.0.cmp(&b.0));
    for (addr, live) in results {
        let schema = cloud.schema(&addr.resource.rtype)?;
        match live {
            None => {
                drift.push(Drift {
                    address: addr.clone(),
                    attributes: vec![],
                    deleted: true,
                });
                state.remove(&addr);
            }
            Some(mut attrs) => {
                let Some(r) = state.resources.get_mut(&addr) else {
                    continue;
                };
                for a in schema.block.attrs.iter().filter(|a| a.local_only) {
                    attrs.insert(
                        a.name.to_string(),
                        r.attributes.get(a.name).cloned().unwrap_or(Json::Null),
                    );
                }
                let new = normalize_json(&Json::Object(attrs), &schema.block);
                let old = normalize_json(
                    &Json::Object(std::mem::take(&mut r.attributes)),
                    &schema.block,
                );
                let changed: Vec<String> = schema
                    .block
                    .names()
                    .filter(|k| {
                        !json_equivalent(
                            old.get(*k).unwrap_or(&Json::Null),
                            new.get(*k).unwrap_or(&Json::Null),
                        )
                    })
                    .map(str::to_string)
                    .collect();
                if !changed.is_empty() {
                    drift.push(Drift {
                        address: addr.clone(),
                        attributes: changed,
                        deleted: false,
                    });
                }
                r.attributes = match new {
                    Json::Object(m) => m,
                    _ => Default::default(),
                };
            }
        }
    }
    drift.sort_by(|a, b| a.address.cmp(&b.address));
    Ok((state, drift))
}

/// Reads the AWS object `id` as the instance `addr` would hold it in state (what
/// `thingform import` and `import {}` blocks adopt). `None`: no such object.
pub async fn import_object(
    cloud: &dyn Cloud,
    provider: Option<&str>,
    addr: &Address,
    id: &str,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Option<ResourceState>> {
    let rtype = &addr.resource.rtype;
    let cloud = pick(cloud, provider)?;
    let schema = cloud.schema(rtype)?;
    let prior = cloud.import_attrs(rtype, id)?;
    let Some(attrs) = cloud.read(rtype, &prior).await.take(addr, warnings)? else {
        return Ok(None);
    };
    let mut attrs = normalize_json(&Json::Object(attrs), &schema.block)
        .as_object()
        .cloned()
        .unwrap_or_default();
    // Attributes kept only in state start at their defaults (e.g. force_destroy = false).
    for a in schema.block.attrs.iter().filter(|a| a.local_only) {
        attrs.insert(a.name.to_string(), a.default.clone().unwrap_or(Json::Null));
    }
    Ok(Some(ResourceState {
        provider: provider.map(str::to_string),
        ..ResourceState::managed(addr.clone(), attrs)
    }))
}
