//! One operation: a create, update or delete through the cloud, journaled.

use super::build::{build_step, with_package};
use super::commit::Shared;
use super::graph::Part;
use super::values::{drop_computed_unknowns, final_attributes, known_at_plan};
use crate::address::Address;
use crate::config::stack::Stack;
use crate::engine::diff::normalize_json;
use crate::engine::plan::{Action, ResourceChange};
use crate::engine::{Event, Ui};
use crate::provider::cloud::{Cloud, Reply};
use crate::provider::{Attrs, PartialCreate, ResourceType};
use crate::state::{PendingCreate, Record, ResourceState};
use crate::value::Value;
use serde_json::Value as Json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs one cloud call, with progress events while it lasts, and keeps the warnings it
/// raised (with the address they belong to) for the report.
async fn call<T>(
    shared: &Shared,
    ui: &dyn Ui,
    address: &Address,
    action: Action,
    f: impl std::future::Future<Output = Reply<T>>,
) -> anyhow::Result<T> {
    let reply = with_progress(ui, address, action, f).await;
    let mut w = shared.warnings.lock().unwrap_or_else(|e| e.into_inner());
    reply.take(address, &mut w)
}

/// Attributes kept only in state (force_destroy, a certificate's private key): the
/// provider's answer wins when it has one, else the planned value.
fn keep_local_only(t: &dyn ResourceType, attrs: &mut Attrs, planned: &Attrs) {
    for a in t.schema().block.attrs.iter().filter(|a| a.local_only) {
        if attrs.get(a.name).is_none_or(Json::is_null) {
            attrs.insert(
                a.name.to_string(),
                planned.get(a.name).cloned().unwrap_or(Json::Null),
            );
        }
    }
}

/// How the UI names a node's operation: a replacement shows as a destroy, then a create.
pub(super) fn shown_action(a: Action, part: Part) -> Action {
    match (a, part) {
        (Action::DeleteThenCreate | Action::CreateThenDelete, Part::Destroy) => Action::Delete,
        (Action::DeleteThenCreate | Action::CreateThenDelete, Part::Main) => Action::Create,
        (a, _) => a,
    }
}

fn id_of(t: &dyn ResourceType, attrs: &Attrs) -> Option<String> {
    attrs
        .get(t.schema().id_attr)
        .or_else(|| attrs.get("id"))
        .and_then(Json::as_str)
        .map(str::to_string)
}

fn resource_state(change: &ResourceChange, attrs: Attrs, tainted: bool) -> ResourceState {
    ResourceState {
        dependencies: change.depends_on.iter().map(|r| r.to_string()).collect(),
        tainted,
        provider: change.provider.clone(),
        ..ResourceState::managed(change.address.clone(), attrs)
    }
}

async fn with_progress<F: std::future::Future<Output = T>, T>(
    ui: &dyn Ui,
    address: &Address,
    action: Action,
    f: F,
) -> T {
    tokio::pin!(f);
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    tick.tick().await;
    loop {
        tokio::select! {
            out = &mut f => return out,
            _ = tick.tick() => ui.event(Event::StillWorking { address: address.clone(), action, elapsed_secs: start.elapsed().as_secs() }),
        }
    }
}

async fn create(
    shared: &Shared,
    stack: Option<&Stack>,
    cloud: &dyn Cloud,
    ui: &dyn Ui,
    change: &ResourceChange,
    planned: &Attrs,
) -> anyhow::Result<Attrs> {
    let t = cloud.resource_type(&change.rtype)?;
    let package = build_step(stack, ui, change, None, planned).await?;
    let mut handed = None;
    let upload = with_package(planned, &package, &mut handed);
    // Journal the intent first: if we die during the call, the next plan looks for the object.
    let pending = PendingCreate {
        address: change.address.clone(),
        rtype: change.rtype.clone(),
        planned: planned.clone(),
        started_at: chrono::Utc::now().to_rfc3339(),
        provider: change.provider.clone(),
    };
    shared.commit(vec![Record::PendingAdd { pending }]).await?;
    let result = call(
        shared,
        ui,
        &change.address,
        Action::Create,
        cloud.create(&change.rtype, upload),
    )
    .await;
    let done_pending = Record::PendingRemove {
        address: change.address.clone(),
    };
    match result {
        Ok(attrs) => {
            let mut attrs = normalize_json(&Json::Object(attrs), &t.schema().block)
                .as_object()
                .cloned()
                .unwrap_or_default();
            keep_local_only(t, &mut attrs, planned);
            let rs = resource_state(change, attrs.clone(), false);
            shared
                .commit(vec![done_pending, Record::Put { resource: rs }])
                .await?;
            Ok(attrs)
        }
        Err(e) => {
            if let Some(p) = e.downcast_ref::<PartialCreate>() {
                let mut attrs = p.attrs.clone();
                keep_local_only(t, &mut attrs, planned);
                let rs = resource_state(change, attrs, true);
                shared
                    .commit(vec![done_pending, Record::Put { resource: rs }])
                    .await?;
            } else if e.chain().any(|c| {
                c.is::<crate::provider::AlreadyExists>()
                    || c.is::<crate::provider::client::NotSupported>()
            }) {
                // An object that existed before the call is not this create's, and an
                // endpoint without the API made nothing: the intent must not adopt (or
                // look for) anything later.
                shared.commit(vec![done_pending]).await?;
            }
            // Any other error keeps the intent journaled: the call may have taken effect
            // with its answer lost (a timeout, a dropped connection), and the next plan
            // looks the object up by name (`recover`) instead of leaving it untracked.
            Err(e)
        }
    }
}

pub(super) async fn run_change(
    shared: Arc<Shared>,
    stack: Option<Arc<Stack>>,
    cloud: Arc<dyn Cloud>,
    ui: Arc<dyn Ui>,
    change: Arc<ResourceChange>,
    part: Part,
) -> anyhow::Result<Option<String>> {
    let change = change.as_ref();
    let cloud = crate::provider::cloud::pick(cloud.as_ref(), change.provider.as_deref())?;
    let t = cloud.resource_type(&change.rtype)?;
    let ui = ui.as_ref();
    // Some AWS APIs refuse concurrent changes to one parent object: take its lock.
    let after = matches!(change.after, Value::Map(_)).then(|| change.after.to_json());
    let key_source = after.as_ref().unwrap_or(&change.before);
    let serial_lock = match key_source
        .as_object()
        .and_then(|a| cloud.serialization_key(&change.rtype, a))
    {
        Some(key) => {
            let m = shared
                .serial_locks
                .lock()
                .map_err(|_| anyhow::anyhow!("lock table poisoned"))?
                .entry(key)
                .or_default()
                .clone();
            Some(m)
        }
        None => None,
    };
    let _serial_guard = match &serial_lock {
        Some(m) => Some(m.lock().await),
        None => None,
    };
    let prior: Option<Attrs> = if change.deposed {
        change.before.as_object().cloned()
    } else {
        shared
            .journal
            .lock()
            .await
            .state
            .get(&change.address)
            .map(|r| r.attributes.clone())
    };
    let planned = || -> anyhow::Result<Attrs> {
        // A configuration fully known at plan time is final: only what AWS alone sets
        // (ARNs, ids) is still unknown, and evaluating it again would give the same.
        let promised = &change.after;
        if known_at_plan(promised, &t.schema().block) {
            let known =
                drop_computed_unknowns(promised, &t.schema().block, &change.address.to_string())?;
            return Ok(known.to_json().as_object().cloned().unwrap_or_default());
        }
        let stack = stack
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no configuration loaded"))?;
        final_attributes(
            t,
            stack,
            change,
            prior.as_ref(),
            &shared.values,
            &shared.data,
        )
    };
    let set_value = |attrs: &Attrs| {
        if let Ok(mut v) = shared.values.lock() {
            v.set(
                &change.address,
                Value::from_json(&Json::Object(attrs.clone())),
            );
        }
    };
    match change.action {
        Action::NoOp => Ok(None),
        Action::Create => {
            let planned = planned()?;
            let attrs = create(&shared, stack.as_deref(), cloud, ui, change, &planned).await?;
            set_value(&attrs);
            Ok(id_of(t, &attrs))
        }
        Action::Update => {
            let planned = planned()?;
            let prior =
                prior.ok_or_else(|| anyhow::anyhow!("{} is not in state", change.address))?;
            let package = build_step(stack.as_deref(), ui, change, Some(&prior), &planned).await?;
            let mut handed = None;
            let upload = with_package(&planned, &package, &mut handed);
            let attrs = call(
                &shared,
                ui,
                &change.address,
                Action::Update,
                cloud.update(&change.rtype, &prior, upload),
            )
            .await?;
            let mut attrs = normalize_json(&Json::Object(attrs), &t.schema().block)
                .as_object()
                .cloned()
                .unwrap_or_default();
            keep_local_only(t, &mut attrs, &planned);
            let rs = resource_state(change, attrs.clone(), false);
            shared.commit(vec![Record::Put { resource: rs }]).await?;
            set_value(&attrs);
            Ok(id_of(t, &attrs))
        }
        Action::Delete => {
            let prior =
                prior.ok_or_else(|| anyhow::anyhow!("{} is not in state", change.address))?;
            call(
                &shared,
                ui,
                &change.address,
                Action::Delete,
                cloud.delete(&change.rtype, &prior),
            )
            .await?;
            let deposed = change.deposed;
            let addr = change.address.clone();
            let record = if deposed {
                Record::DeposedRemove {
                    address: addr,
                    attributes: prior,
                }
            } else {
                Record::Remove { address: addr }
            };
            shared.commit(vec![record]).await?;
            if let Ok(mut v) = shared.values.lock()
                && !deposed
            {
                v.remove(&change.address);
            }
            Ok(None)
        }
        Action::DeleteThenCreate if part == Part::Destroy => {
            let prior =
                prior.ok_or_else(|| anyhow::anyhow!("{} is not in state", change.address))?;
            call(
                &shared,
                ui,
                &change.address,
                Action::Delete,
                cloud.delete(&change.rtype, &prior),
            )
            .await?;
            shared
                .commit(vec![Record::Remove {
                    address: change.address.clone(),
                }])
                .await?;
            Ok(None)
        }
        Action::DeleteThenCreate => {
            let planned = planned()?;
            let attrs = create(&shared, stack.as_deref(), cloud, ui, change, &planned).await?;
            set_value(&attrs);
            Ok(id_of(t, &attrs))
        }
        Action::CreateThenDelete if part == Part::Main => {
            let planned = planned()?;
            let prior =
                prior.ok_or_else(|| anyhow::anyhow!("{} is not in state", change.address))?;
            // The old object moves to the deposed list before the new one takes its address.
            let old = resource_state(change, prior, false);
            shared
                .commit(vec![
                    Record::Remove {
                        address: change.address.clone(),
                    },
                    Record::Depose { resource: old },
                ])
                .await?;
            let attrs = create(&shared, stack.as_deref(), cloud, ui, change, &planned).await?;
            set_value(&attrs);
            Ok(id_of(t, &attrs))
        }
        Action::CreateThenDelete => {
            let old = change.before.as_object().cloned().unwrap_or_default();
            call(
                &shared,
                ui,
                &change.address,
                Action::Delete,
                cloud.delete(&change.rtype, &old),
            )
            .await?;
            shared
                .commit(vec![Record::DeposedRemove {
                    address: change.address.clone(),
                    attributes: old,
                }])
                .await?;
            Ok(None)
        }
    }
}
