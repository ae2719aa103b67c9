//! Apply: walk the plan's changes as a DAG, concurrently up to `parallelism`, writing
//! state after every single operation. A failed operation skips what depends on it;
//! everything else continues. Ctrl-C stops new operations and lets running ones finish.

use super::diff::{merge_computed, normalize, normalize_json, same};
use super::plan::{Action, Plan, ResourceChange};
use super::{Event, Ui};
use crate::address::{Address, InstanceKey, Mode, ResourceId};
use crate::config::stack::{Instances, Node, Stack};
use crate::graph::Dag;
use crate::provider::{self, Attrs, PartialCreate, Provider, ResourceType};
use crate::state::{OutputState, PendingCreate, ResourceState, State, StateStore};
use crate::value::Value;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

#[derive(Clone, Debug)]
pub struct ApplyOptions {
    pub parallelism: usize,
}

#[derive(Clone, Debug, Default)]
pub struct ApplyReport {
    pub done: Vec<(Address, Action)>,
    pub failed: Vec<(Address, Action, String)>,
    pub skipped: Vec<Address>,
    pub not_started: Vec<Address>,
    pub interrupted: bool,
    pub outputs: BTreeMap<String, OutputState>,
    pub warnings: Vec<String>,
}

impl ApplyReport {
    pub fn ok(&self) -> bool {
        self.failed.is_empty()
            && self.skipped.is_empty()
            && self.not_started.is_empty()
            && !self.interrupted
    }
}

struct Shared {
    state: tokio::sync::Mutex<State>,
    /// The latest value of every instance, for evaluating the ones that refer to it.
    values: Mutex<BTreeMap<Address, Value>>,
    store: Arc<dyn StateStore>,
    /// Data source results from the plan.
    data: BTreeMap<String, Json>,
    /// Operations that must not overlap (see `ResourceType::serialization_key`).
    serial_locks: Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Set once a state write failed: nothing new starts, since it could not be recorded.
    state_write_failed: std::sync::atomic::AtomicBool,
    /// The serial of the last state written; also serialises the writes.
    written_serial: tokio::sync::Mutex<u64>,
}

impl Shared {
    /// Applies `f` to the state and returns once a state that includes the change is
    /// written (group commit: operations finishing together share one write, so an apply
    /// of many objects does not rewrite the whole document once per object).
    async fn update(&self, f: impl FnOnce(&mut State)) -> anyhow::Result<()> {
        // Async locks: a task waiting for them never blocks a runtime worker, so the
        // write (which may be an S3 request) always makes progress.
        let mine = {
            let mut s = self.state.lock().await;
            f(&mut s);
            s.serial += 1;
            s.serial
        };
        let mut written = self.written_serial.lock().await;
        if *written >= mine {
            return Ok(());
        }
        let snapshot = self.state.lock().await.clone();
        match self.store.write(&snapshot).await {
            Ok(()) => {
                *written = snapshot.serial;
                Ok(())
            }
            Err(e) => {
                self.state_write_failed
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                Err(e)
            }
        }
    }
}

/// The part of a change a graph node runs: a replacement is two nodes, so that its
/// destroy half can wait for dependents to be destroyed and its create half can come
/// before dependents are re-created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Destroy = 0,
    Main = 1,
}

/// Graph key of change `i`'s `part`.
pub fn step(i: usize, part: Part) -> usize {
    i * 2 + part as usize
}

fn unstep(k: usize) -> (usize, Part) {
    (
        k / 2,
        if k.is_multiple_of(2) {
            Part::Destroy
        } else {
            Part::Main
        },
    )
}

fn has_part(a: Action, part: Part) -> bool {
    match part {
        Part::Main => matches!(
            a,
            Action::Create | Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete
        ),
        Part::Destroy => matches!(
            a,
            Action::Delete | Action::DeleteThenCreate | Action::CreateThenDelete
        ),
    }
}

/// The order of operations (edges mean "happens after"): creates and updates after what
/// they refer to; destroys before the destroy of what they depended on; a replacement's
/// create after its destroy (or, with create_before_destroy, its destroy after its
/// create and after dependents moved to the new object); and creates of a type after
/// deletes of that type, so a renamed resource frees its AWS name first.
pub fn apply_graph(changes: &[ResourceChange]) -> Dag<usize> {
    let mut g: Dag<usize> = Dag::new();
    let mut by_addr: BTreeMap<&Address, Vec<usize>> = BTreeMap::new();
    for (i, c) in changes.iter().enumerate() {
        for part in [Part::Destroy, Part::Main] {
            if has_part(c.action, part) {
                g.add_node(step(i, part));
            }
        }
        if c.action != Action::NoOp && !c.deposed {
            by_addr.entry(&c.address).or_default().push(i);
        }
    }
    for (i, c) in changes.iter().enumerate() {
        match c.action {
            Action::DeleteThenCreate => {
                g.add_dependency(&step(i, Part::Main), &step(i, Part::Destroy))
            }
            Action::CreateThenDelete => {
                g.add_dependency(&step(i, Part::Destroy), &step(i, Part::Main))
            }
            _ => {}
        }
        for d in &c.depends_on {
            for &j in by_addr.get(d).into_iter().flatten() {
                if j == i {
                    continue;
                }
                let dep = changes[j].action;
                if has_part(c.action, Part::Main) && has_part(dep, Part::Main) {
                    g.add_dependency(&step(i, Part::Main), &step(j, Part::Main));
                }
                if has_part(c.action, Part::Destroy)
                    && has_part(dep, Part::Destroy)
                    && dep != Action::CreateThenDelete
                {
                    g.add_dependency(&step(j, Part::Destroy), &step(i, Part::Destroy));
                }
                if dep == Action::CreateThenDelete && has_part(c.action, Part::Main) {
                    g.add_dependency(&step(j, Part::Destroy), &step(i, Part::Main));
                }
            }
        }
        if matches!(c.action, Action::Create | Action::DeleteThenCreate) {
            for (j, o) in changes.iter().enumerate() {
                if o.action == Action::Delete && o.rtype == c.rtype && !o.deposed {
                    g.add_dependency(&step(i, Part::Main), &step(j, Part::Destroy));
                }
            }
        }
    }
    g
}

fn rtype(name: &str) -> anyhow::Result<&'static dyn ResourceType> {
    provider::resource_type(name).ok_or_else(|| anyhow::anyhow!("unsupported resource type {name}"))
}

/// Builds the evaluation scope from the current instance values.
fn scope_for(
    stack: &Stack,
    values: &BTreeMap<Address, Value>,
    data: &BTreeMap<String, Json>,
) -> crate::config::eval::Scope {
    let mut scope = stack.base_scope();
    scope.root_map("local");
    let mut per_resource: BTreeMap<&ResourceId, Vec<(&Option<InstanceKey>, &Value)>> =
        BTreeMap::new();
    for (a, v) in values {
        per_resource
            .entry(&a.resource)
            .or_default()
            .push((&a.key, v));
    }
    // Walk in dependency order: locals and data sources may use resources and each other.
    for node in stack.order() {
        match node {
            Node::Local(l) => {
                let _ = stack.eval_local(&mut scope, &l);
            }
            Node::Resource(id) if id.mode == Mode::Data => {
                let rc = &stack.module.resources[&id];
                let mut inst = Stack::empty_instances(rc);
                let exps = stack.expand(rc, &scope).unwrap_or_default();
                if let Instances::Count(l) = &mut inst {
                    l.resize(exps.len(), Value::Null);
                }
                for exp in &exps {
                    let addr = id.instance(exp.key.clone());
                    let v = match data.get(&addr.to_string()) {
                        Some(j) => Value::from_json(j),
                        None => read_data_locally(stack, rc, exp, &scope),
                    };
                    inst.set(&exp.key, v);
                }
                Stack::set_resource(&mut scope, &id, inst.to_value());
            }
            Node::Resource(id) => {
                let rc = &stack.module.resources[&id];
                let mut inst = Stack::empty_instances(rc);
                for (k, v) in per_resource.get(&id).into_iter().flatten() {
                    if let (Instances::Count(l), Some(InstanceKey::Int(i))) = (&mut inst, k)
                        && l.len() <= *i as usize
                    {
                        l.resize(*i as usize + 1, Value::Null);
                    }
                    inst.set(k, (*v).clone());
                }
                if !per_resource.contains_key(&id) && rc.count.is_none() && rc.for_each.is_none() {
                    inst = Instances::Unknown;
                }
                Stack::set_resource(&mut scope, &id, inst.to_value());
            }
            _ => {}
        }
    }
    scope
}

/// A data source whose inputs were unknown at plan time, computed now when it can be
/// computed without AWS (policy documents); otherwise unknown.
fn read_data_locally(
    stack: &Stack,
    rc: &crate::config::ResourceConfig,
    exp: &crate::config::stack::Expansion,
    scope: &crate::config::eval::Scope,
) -> Value {
    let Some(ds) = crate::provider::data::data_source(&rc.id.rtype) else {
        return Value::Unknown;
    };
    let Ok(config) = stack.eval_instance(rc, exp, scope) else {
        return Value::Unknown;
    };
    let config = normalize(&config, &ds.schema().block);
    if config.has_unknown() {
        return Value::Unknown;
    }
    let cfg = config.to_json().as_object().cloned().unwrap_or_default();
    match ds.read_local(&cfg) {
        Some(Ok(attrs)) => {
            Value::from_json(&normalize_json(&Json::Object(attrs), &ds.schema().block))
        }
        _ => Value::Unknown,
    }
}

/// The final attributes to send to AWS: the configuration evaluated with every value
/// now known, checked against what the plan promised.
fn final_attributes(
    stack: &Stack,
    change: &ResourceChange,
    prior: Option<&Attrs>,
    values: &BTreeMap<Address, Value>,
    data: &BTreeMap<String, Json>,
) -> anyhow::Result<Attrs> {
    let t = rtype(&change.rtype)?;
    let schema = &t.schema().block;
    let rc = stack
        .module
        .resources
        .get(&change.address.resource)
        .ok_or_else(|| anyhow::anyhow!("{} is no longer in the configuration", change.address))?;
    let scope = scope_for(stack, values, data);
    let exps = stack
        .expand(rc, &scope)
        .map_err(|d| anyhow::anyhow!("{}", crate::diag::Diagnostics::from(d)))?;
    let exp = exps
        .into_iter()
        .find(|e| e.key == change.address.key)
        .ok_or_else(|| {
            anyhow::anyhow!("{} is no longer produced by count/for_each", change.address)
        })?;
    let config = stack
        .eval_instance(rc, &exp, &scope)
        .map_err(|d| anyhow::anyhow!("{d}"))?;
    let mut config = normalize(&config, schema);
    super::diff::apply_plan_local(t, &mut config, &stack.module.dir)?;
    let config = normalize(&config, schema);
    let prior_value = prior.map(|p| Value::from_json(&Json::Object(p.clone())));
    let base = if change.action == Action::Update {
        prior_value.as_ref()
    } else {
        None
    };
    let mut planned = merge_computed(&config, base, schema);
    if let (Value::Map(m), Some(pv)) = (&mut planned, &prior_value)
        && change.action == Action::Update
    {
        for name in schema.names() {
            if rc.lifecycle.ignore_all || rc.lifecycle.ignore_changes.iter().any(|i| i == name) {
                m.insert(
                    name.to_string(),
                    pv.get(name).cloned().unwrap_or(Value::Null),
                );
            }
        }
    }
    // Everything the plan showed as known must still be the same.
    let promised = change.planned_value();
    for a in &schema.attrs {
        let p = promised.get(a.name).cloned().unwrap_or(Value::Null);
        let now = planned.get(a.name).cloned().unwrap_or(Value::Null);
        if !p.has_unknown() && !now.has_unknown() && !same(&now, &p.to_json()) {
            anyhow::bail!(
                "{}.{} was {} in the plan but is {} now; something changed since the plan was made: run plan again",
                change.address,
                a.name,
                p,
                now
            );
        }
    }
    let known = drop_computed_unknowns(&planned, schema, &change.address.to_string())?;
    Ok(known.to_json().as_object().cloned().unwrap_or_default())
}

/// Removes unknown values of computed attributes (AWS will set them); any other unknown
/// at apply time is an error.
fn drop_computed_unknowns(
    v: &Value,
    schema: &crate::provider::schema::Block,
    path: &str,
) -> anyhow::Result<Value> {
    let Value::Map(m) = v else {
        anyhow::bail!("{path} did not evaluate to an object")
    };
    let mut out = BTreeMap::new();
    for (k, x) in m {
        if let Some(nb) = schema.get_block(k) {
            let Value::List(items) = x else {
                anyhow::bail!("{path}.{k} is still unknown at apply time");
            };
            let items = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    drop_computed_unknowns(item, &nb.block, &format!("{path}.{k}[{i}]"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            out.insert(k.clone(), Value::List(items));
            continue;
        }
        if x.has_unknown() {
            if schema.get_attr(k).map(|a| a.computed).unwrap_or(false)
                && matches!(x, Value::Unknown)
            {
                continue;
            }
            anyhow::bail!(
                "{path}.{k} is still unknown at apply time; it depends on a value that could not be computed"
            );
        }
        out.insert(k.clone(), x.clone());
    }
    Ok(Value::Map(out))
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
fn shown_action(a: Action, part: Part) -> Action {
    match (a, part) {
        (Action::DeleteThenCreate | Action::CreateThenDelete, Part::Destroy) => Action::Delete,
        (Action::DeleteThenCreate | Action::CreateThenDelete, Part::Main) => Action::Create,
        (a, _) => a,
    }
}

fn key_string(a: &Address) -> String {
    a.to_string()
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
        dependencies: change.depends_on.iter().map(key_string).collect(),
        tainted,
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
    provider: &Provider,
    ui: &dyn Ui,
    change: &ResourceChange,
    planned: &Attrs,
    shown_action: Action,
) -> anyhow::Result<Attrs> {
    let t = rtype(&change.rtype)?;
    // Journal the intent first: if we die during the call, the next plan looks for the object.
    let pending = PendingCreate {
        address: change.address.clone(),
        rtype: change.rtype.clone(),
        planned: planned.clone(),
        started_at: chrono::Utc::now().to_rfc3339(),
    };
    shared.update(|s| s.pending.push(pending)).await?;
    let result = with_progress(
        ui,
        &change.address,
        shown_action,
        t.create(provider, planned),
    )
    .await;
    let forget_pending = |s: &mut State| s.pending.retain(|p| p.address != change.address);
    match result {
        Ok(attrs) => {
            let mut attrs = normalize_json(&Json::Object(attrs), &t.schema().block)
                .as_object()
                .cloned()
                .unwrap_or_default();
            keep_local_only(t, &mut attrs, planned);
            let rs = resource_state(change, attrs.clone(), false);
            shared
                .update(|s| {
                    forget_pending(s);
                    s.upsert(rs);
                })
                .await?;
            Ok(attrs)
        }
        Err(e) => {
            if let Some(p) = e.downcast_ref::<PartialCreate>() {
                let mut attrs = p.attrs.clone();
                keep_local_only(t, &mut attrs, planned);
                let rs = resource_state(change, attrs, true);
                shared
                    .update(|s| {
                        forget_pending(s);
                        s.upsert(rs);
                    })
                    .await?;
            } else {
                shared.update(forget_pending).await?;
            }
            Err(e)
        }
    }
}

async fn run_change(
    shared: Arc<Shared>,
    stack: Option<Arc<Stack>>,
    provider: Arc<Provider>,
    ui: Arc<dyn Ui>,
    change: ResourceChange,
    part: Part,
) -> anyhow::Result<Option<String>> {
    let t = rtype(&change.rtype)?;
    let ui = ui.as_ref();
    // Some AWS APIs refuse concurrent changes to one parent object: take its lock.
    let key_source = if change.after.is_object() {
        &change.after
    } else {
        &change.before
    };
    let serial_lock = match key_source.as_object().and_then(|a| t.serialization_key(a)) {
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
            .state
            .lock()
            .await
            .get(&change.address)
            .map(|r| r.attributes.clone())
    };
    let planned = || -> anyhow::Result<Attrs> {
        let stack = stack
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no configuration loaded"))?;
        let values = shared
            .values
            .lock()
            .map_err(|_| anyhow::anyhow!("values lock poisoned"))?
            .clone();
        final_attributes(stack, &change, prior.as_ref(), &values, &shared.data)
    };
    let set_value = |attrs: &Attrs| {
        if let Ok(mut v) = shared.values.lock() {
            v.insert(
                change.address.clone(),
                Value::from_json(&Json::Object(attrs.clone())),
            );
        }
    };
    match change.action {
        Action::NoOp => Ok(None),
        Action::Create => {
            let planned = planned()?;
            let attrs = create(&shared, &provider, ui, &change, &planned, Action::Create).await?;
            set_value(&attrs);
            Ok(id_of(t, &attrs))
        }
        Action::Update => {
            let planned = planned()?;
            let prior =
                prior.ok_or_else(|| anyhow::anyhow!("{} is not in state", change.address))?;
            let attrs = with_progress(
                ui,
                &change.address,
                Action::Update,
                t.update(&provider, &prior, &planned),
            )
            .await?;
            let mut attrs = normalize_json(&Json::Object(attrs), &t.schema().block)
                .as_object()
                .cloned()
                .unwrap_or_default();
            keep_local_only(t, &mut attrs, &planned);
            let rs = resource_state(&change, attrs.clone(), false);
            shared.update(|s| s.upsert(rs)).await?;
            set_value(&attrs);
            Ok(id_of(t, &attrs))
        }
        Action::Delete => {
            let prior =
                prior.ok_or_else(|| anyhow::anyhow!("{} is not in state", change.address))?;
            with_progress(
                ui,
                &change.address,
                Action::Delete,
                t.delete(&provider, &prior),
            )
            .await?;
            let deposed = change.deposed;
            let addr = change.address.clone();
            shared
                .update(|s| {
                    if deposed {
                        s.deposed
                            .retain(|d| !(d.address == addr && d.attributes == prior));
                    } else {
                        s.remove(&addr);
                    }
                })
                .await?;
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
            with_progress(
                ui,
                &change.address,
                Action::Delete,
                t.delete(&provider, &prior),
            )
            .await?;
            shared
                .update(|s| {
                    s.remove(&change.address);
                })
                .await?;
            Ok(None)
        }
        Action::DeleteThenCreate => {
            let planned = planned()?;
            let attrs = create(&shared, &provider, ui, &change, &planned, Action::Create).await?;
            set_value(&attrs);
            Ok(id_of(t, &attrs))
        }
        Action::CreateThenDelete if part == Part::Main => {
            let planned = planned()?;
            let prior =
                prior.ok_or_else(|| anyhow::anyhow!("{} is not in state", change.address))?;
            // The old object moves to the deposed list before the new one takes its address.
            let old = resource_state(&change, prior, false);
            shared
                .update(|s| {
                    s.remove(&change.address);
                    s.deposed.push(old);
                })
                .await?;
            let attrs = create(&shared, &provider, ui, &change, &planned, Action::Create).await?;
            set_value(&attrs);
            Ok(id_of(t, &attrs))
        }
        Action::CreateThenDelete => {
            let old = change.before.as_object().cloned().unwrap_or_default();
            with_progress(
                ui,
                &change.address,
                Action::Delete,
                t.delete(&provider, &old),
            )
            .await?;
            let addr = change.address.clone();
            shared
                .update(|s| {
                    s.deposed
                        .retain(|d| !(d.address == addr && d.attributes == old))
                })
                .await?;
            Ok(None)
        }
    }
}

/// Applies `plan`. `stack` is needed for every change but deletes. State is written
/// through `store` after each operation.
pub async fn apply(
    plan: Arc<Plan>,
    stack: Option<Arc<Stack>>,
    provider: Arc<Provider>,
    store: Arc<dyn StateStore>,
    opts: &ApplyOptions,
    ui: Arc<dyn Ui>,
    mut interrupt: watch::Receiver<bool>,
) -> anyhow::Result<ApplyReport> {
    let mut start_state = plan.refreshed.clone();
    start_state.serial = plan.state_serial;
    let mut values: BTreeMap<Address, Value> = BTreeMap::new();
    for r in &start_state.resources {
        values.insert(
            r.address.clone(),
            Value::from_json(&Json::Object(r.attributes.clone())),
        );
    }
    for c in &plan.changes {
        if c.action != Action::Delete {
            values.insert(c.address.clone(), c.planned_value());
        }
    }
    let shared = Arc::new(Shared {
        state: tokio::sync::Mutex::new(start_state),
        values: Mutex::new(values),
        store,
        data: plan.data.clone(),
        serial_locks: Mutex::new(BTreeMap::new()),
        state_write_failed: std::sync::atomic::AtomicBool::new(false),
        written_serial: tokio::sync::Mutex::new(0),
    });
    // The refreshed state is recorded first, as Terraform does.
    shared.update(|_| {}).await?;

    let graph = apply_graph(&plan.changes);
    let mut indegree: BTreeMap<usize, usize> = graph
        .nodes()
        .map(|&i| (i, graph.dependencies(&i).len()))
        .collect();
    let mut ready: BTreeSet<usize> = indegree
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(i, _)| *i)
        .collect();
    let mut finished: BTreeSet<usize> = BTreeSet::new();
    let mut report = ApplyReport::default();
    let mut set = tokio::task::JoinSet::new();
    let mut running = 0usize;
    let parallelism = opts.parallelism.max(1);
    let mut interrupted = *interrupt.borrow();
    loop {
        while running < parallelism
            && !interrupted
            && !shared
                .state_write_failed
                .load(std::sync::atomic::Ordering::SeqCst)
        {
            let Some(k) = ready.pop_first() else { break };
            let (i, part) = unstep(k);
            let change = plan.changes[i].clone();
            ui.event(Event::Started {
                address: change.address.clone(),
                action: shown_action(change.action, part),
            });
            let (shared, stack, provider, ui2) =
                (shared.clone(), stack.clone(), provider.clone(), ui.clone());
            set.spawn(async move {
                let start = Instant::now();
                let r = run_change(shared, stack, provider, ui2, change, part).await;
                (k, r, start.elapsed().as_secs())
            });
            running += 1;
        }
        if running == 0 {
            break;
        }
        tokio::select! {
            joined = set.join_next() => {
                let Some(joined) = joined else { break };
                running -= 1;
                let (k, result, secs) = match joined {
                    Ok(x) => x,
                    Err(e) => return Err(anyhow::anyhow!("an apply task failed: {e}")),
                };
                finished.insert(k);
                let (i, part) = unstep(k);
                let c = &plan.changes[i];
                match result {
                    Ok(id) => {
                        ui.event(Event::Completed { address: c.address.clone(), action: shown_action(c.action, part), elapsed_secs: secs, id });
                        if part == Part::Main || c.action == Action::Delete {
                            report.done.push((c.address.clone(), c.action));
                        }
                        for d in graph.dependents(&k) {
                            if let Some(n) = indegree.get_mut(&d) {
                                *n -= 1;
                                if *n == 0 && !finished.contains(&d) {
                                    ready.insert(d);
                                }
                            }
                        }
                    }
                    Err(e) => {
                        let msg = format!("{e:#}");
                        ui.event(Event::Failed { address: c.address.clone(), action: shown_action(c.action, part), error: msg.clone() });
                        report.failed.push((c.address.clone(), c.action, msg));
                        for d in graph.all_dependents(&k) {
                            if finished.insert(d) {
                                ready.remove(&d);
                                let skipped = &plan.changes[unstep(d).0].address;
                                if skipped != &c.address && !report.skipped.contains(skipped) {
                                    ui.event(Event::Skipped { address: skipped.clone(), because: c.address.clone() });
                                    report.skipped.push(skipped.clone());
                                }
                            }
                        }
                    }
                }
            }
            changed = interrupt.changed(), if !interrupted => {
                if changed.is_ok() && *interrupt.borrow() {
                    interrupted = true;
                    ui.event(Event::Interrupted);
                }
            }
        }
    }
    report.interrupted = interrupted;
    for &k in graph.nodes() {
        let addr = &plan.changes[unstep(k).0].address;
        if !finished.contains(&k) && !report.not_started.contains(addr) {
            report.not_started.push(addr.clone());
        }
    }
    report.warnings = provider.take_warnings();

    // Outputs, from the final values (unless the state can no longer be written).
    if shared
        .state_write_failed
        .load(std::sync::atomic::Ordering::SeqCst)
    {
        return Ok(report);
    }
    if plan.destroy {
        shared.update(|s| s.outputs.clear()).await?;
    } else if let Some(stack) = &stack {
        let values = shared
            .values
            .lock()
            .map_err(|_| anyhow::anyhow!("values lock poisoned"))?
            .clone();
        let scope = scope_for(stack, &values, &plan.data);
        let mut outputs = BTreeMap::new();
        for (name, o) in &stack.module.outputs {
            if let Ok(v) = scope.eval(&o.value.expr)
                && !v.has_unknown()
            {
                outputs.insert(
                    name.clone(),
                    OutputState {
                        value: v.to_json(),
                        sensitive: o.sensitive,
                    },
                );
            }
        }
        report.outputs = outputs.clone();
        shared.update(|s| s.outputs = outputs).await?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(addr: &str, action: Action, deps: &[&str]) -> ResourceChange {
        ResourceChange {
            address: addr.parse().unwrap(),
            rtype: addr.split('.').next().unwrap().to_string(),
            action,
            before: Json::Null,
            after: Json::Null,
            after_unknown: Json::Bool(false),
            changed: vec![],
            replace_paths: vec![],
            reason: None,
            depends_on: deps.iter().map(|d| d.parse().unwrap()).collect(),
            importing: None,
            deposed: false,
            notes: vec![],
        }
    }

    #[test]
    fn creates_follow_references_and_deletes_go_in_reverse() {
        let changes = vec![
            change("aws_s3_bucket.b", Action::Create, &[]),
            change(
                "aws_s3_bucket_versioning.v",
                Action::Create,
                &["aws_s3_bucket.b"],
            ),
            change("aws_sns_topic.old", Action::Delete, &[]),
            change(
                "aws_sns_topic_subscription.s",
                Action::Delete,
                &["aws_sns_topic.old"],
            ),
            change("aws_sns_topic.same", Action::NoOp, &[]),
        ];
        let g = apply_graph(&changes);
        assert_eq!(
            g.dependencies(&step(1, Part::Main)),
            vec![step(0, Part::Main)],
            "versioning after its bucket"
        );
        assert_eq!(
            g.dependencies(&step(2, Part::Destroy)),
            vec![step(3, Part::Destroy)],
            "topic deleted after its subscription"
        );
        assert!(
            !g.contains(&step(4, Part::Main)) && !g.contains(&step(4, Part::Destroy)),
            "no-ops are not operations"
        );
    }

    #[test]
    fn creates_wait_for_deletes_of_the_same_type() {
        let changes = vec![
            change("aws_sns_topic.new", Action::Create, &[]),
            change("aws_sns_topic.old", Action::Delete, &[]),
        ];
        assert_eq!(
            apply_graph(&changes).dependencies(&step(0, Part::Main)),
            vec![step(1, Part::Destroy)]
        );
    }

    #[test]
    fn a_replaced_resource_is_destroyed_after_its_replaced_dependents() {
        let changes = vec![
            change("aws_iam_role.r", Action::DeleteThenCreate, &[]),
            change(
                "aws_iam_role_policy_attachment.a",
                Action::DeleteThenCreate,
                &["aws_iam_role.r"],
            ),
        ];
        let g = apply_graph(&changes);
        let order = g.topo_order().unwrap();
        let pos = |k: usize| order.iter().position(|x| *x == k).unwrap();
        assert!(
            pos(step(1, Part::Destroy)) < pos(step(0, Part::Destroy)),
            "attachment detached before the role is deleted"
        );
        assert!(
            pos(step(0, Part::Destroy)) < pos(step(0, Part::Main)),
            "role deleted before it is re-created"
        );
        assert!(
            pos(step(0, Part::Main)) < pos(step(1, Part::Main)),
            "attachment re-created after the new role"
        );
    }
}
