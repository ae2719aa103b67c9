//! The read that ends an update: what AWS holds now, or an error when the object vanished.

use super::{Attrs, Provider, ResourceType};

/// Reads the object back after a change; `missing` says what vanished when it is gone.
pub async fn reread<T: ResourceType + ?Sized>(
    t: &T,
    p: &Provider,
    attrs: &Attrs,
    missing: impl FnOnce() -> String,
) -> anyhow::Result<Attrs> {
    t.read(p, attrs)
        .await?
        .ok_or_else(|| anyhow::Error::msg(missing()))
}
