//! Apply: walk the plan's changes as a DAG, concurrently up to `parallelism`, writing
//! state after every single operation. A failed operation skips what depends on it;
//! everything else continues. Ctrl-C stops new operations and lets running ones finish.

use super::diff::{merge_computed, normalize, normalize_json, same};
use super::plan::{Action, Plan, ResourceChange};
use super::{Event, Ui};
use crate::address::{Address, InstanceKey, Mode, ResourceId};
use crate::config::stack::Expansion;
use crate::config::stack::{Instances, Node, Stack};
use crate::graph::Dag;
use crate::provider::{self, Attrs, PartialCreate, Provider, ResourceType};
use crate::state::{Batch, OutputState, PendingCreate, Record, ResourceState, State, StateStore};
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
    journal: tokio::sync::Mutex<Journal>,
    /// Instance values and the evaluation scope built from them.
    values: Mutex<Values>,
    store: Arc<dyn StateStore>,
    /// Data source results from the plan.
    data: BTreeMap<String, Json>,
    /// Operations that must not overlap (see `ResourceType::serialization_key`).
    serial_locks: Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Set once a state write failed: nothing new starts, since it could not be recorded.
    state_write_failed: std::sync::atomic::AtomicBool,
    /// The last commit sequence number made durable; also serialises the writes.
    written: tokio::sync::Mutex<u64>,
}

/// The state as this run has changed it, and the records not yet durable.
struct Journal {
    state: State,
    buffered: Vec<Record>,
    /// Commits requested so far.
    seq: u64,
}

impl Shared {
    /// Applies `records` to the state and returns once they are durable (group commit:
    /// operations finishing together share one journal append, so an apply of many
    /// objects writes each record once instead of rewriting the whole document).
    async fn commit(&self, records: Vec<Record>) -> anyhow::Result<()> {
        // Async locks: a task waiting for them never blocks a runtime worker, so the
        // write (which may be an S3 request) always makes progress.
        let mine = {
            let mut j = self.journal.lock().await;
            for r in &records {
                j.state.apply_record(r);
            }
            j.buffered.extend(records);
            j.seq += 1;
            j.seq
        };
        let mut written = self.written.lock().await;
        if *written >= mine {
            return Ok(());
        }
        let (batch, upto) = {
            let mut j = self.journal.lock().await;
            j.state.serial += 1;
            let batch = Batch {
                serial: j.state.serial,
                records: std::mem::take(&mut j.buffered),
            };
            (batch, j.seq)
        };
        let failed_before = self
            .state_write_failed
            .load(std::sync::atomic::Ordering::SeqCst);
        let result = match self.store.append(&batch).await {
            // An earlier batch failed and its records are only in memory: only a whole
            // document can make this commit (and those records) durable.
            Ok(_) if failed_before => self.compact().await,
            Ok(false) => Ok(()),
            // The journal is as large as the document: fold it in.
            Ok(true) => self.compact().await,
            // The journal could not be written: try the whole document (a remote store
            // that cannot be reached saves it locally and says how to push it).
            Err(e) => self
                .compact()
                .await
                .map_err(|e2| anyhow::anyhow!("{e:#}; {e2:#}")),
        };
        match result {
            Ok(()) => {
                *written = upto;
                self.state_write_failed
                    .store(false, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            }
            Err(e) => {
                self.state_write_failed
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                Err(e)
            }
        }
    }

    /// Writes the whole document (the caller holds `written`). Records committed but not
    /// yet appended are included; appending them afterwards is harmless (idempotent).
    async fn compact(&self) -> anyhow::Result<()> {
        // Written under the lock rather than from a copy: a fleet's state is large, and
        // compactions are rare.
        let j = self.journal.lock().await;
        self.store.write(&j.state).await
    }
}

/// One node of the apply graph. `Op` is an operation; the others are gates that carry
/// a resource's ordering to every instance at once, so the graph has a few edges per
/// instance instead of one per pair of instances (a fleet of N devices whose
/// attachments refer to N certificates is 2N edges, not N²).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
/// The variant order matters: every `Op` sorts before every gate (see the apply loop).
pub enum Step {
    /// Part of change `i` (a replacement is two nodes: its destroy and its create).
    Op(usize, Part),
    /// Every create/update of resource `r` finished.
    Done(usize),
    /// Every destroy of an instance that depends on resource `r` finished.
    Released(usize),
    /// Every create/update of an instance that depends on resource `r` finished (the
    /// old objects of `r`'s create_before_destroy replacements may go).
    Moved(usize),
    /// Every plain delete of resource type `t` finished (creates of `t` may reuse names).
    TypeFreed(usize),
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

/// The part of a change a graph node runs: a replacement is two nodes, so that its
/// destroy half can wait for dependents to be destroyed and its create half can come
/// before dependents are re-created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Destroy,
    Main,
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
/// deletes of that type, so a renamed resource frees its AWS name first. Dependencies
/// are by resource: an instance waits for every instance of what it refers to.
pub fn apply_graph(changes: &[ResourceChange]) -> Dag<Step> {
    let mut g: Dag<Step> = Dag::new();
    let mut resources: BTreeMap<&ResourceId, usize> = BTreeMap::new();
    let mut types: BTreeMap<&str, usize> = BTreeMap::new();
    for c in changes {
        let n = resources.len();
        resources.entry(&c.address.resource).or_insert(n);
        let n = types.len();
        types.entry(c.rtype.as_str()).or_insert(n);
    }
    for (i, c) in changes.iter().enumerate() {
        for part in [Part::Destroy, Part::Main] {
            if has_part(c.action, part) {
                g.add_node(Step::Op(i, part));
            }
        }
    }
    for (i, c) in changes.iter().enumerate() {
        if c.action == Action::NoOp {
            continue;
        }
        let main = Step::Op(i, Part::Main);
        let destroy = Step::Op(i, Part::Destroy);
        let r = resources[&c.address.resource];
        let t = types[c.rtype.as_str()];
        match c.action {
            Action::DeleteThenCreate => g.add_dependency(&main, &destroy),
            Action::CreateThenDelete => g.add_dependency(&destroy, &main),
            _ => {}
        }
        if c.deposed {
            // An old object left by an interrupted create_before_destroy: nothing
            // refers to it any more.
            continue;
        }
        if has_part(c.action, Part::Main) {
            g.add_dependency(&Step::Done(r), &main);
        }
        if has_part(c.action, Part::Destroy) {
            if c.action == Action::CreateThenDelete {
                g.add_dependency(&destroy, &Step::Moved(r));
            } else {
                g.add_dependency(&destroy, &Step::Released(r));
            }
        }
        let mut deps: Vec<&ResourceId> = c.depends_on.iter().collect();
        deps.sort();
        deps.dedup();
        for d in deps {
            if d == &c.address.resource {
                continue;
            }
            // A dependency without changes has nothing to wait for.
            let Some(&rd) = resources.get(d) else {
                continue;
            };
            if has_part(c.action, Part::Main) {
                g.add_dependency(&main, &Step::Done(rd));
                g.add_dependency(&Step::Moved(rd), &main);
            }
            if has_part(c.action, Part::Destroy) {
                g.add_dependency(&Step::Released(rd), &destroy);
            }
        }
        if c.action == Action::Delete {
            g.add_dependency(&Step::TypeFreed(t), &destroy);
        }
        if matches!(c.action, Action::Create | Action::DeleteThenCreate) {
            g.add_dependency(&main, &Step::TypeFreed(t));
        }
    }
    g
}

fn rtype(name: &str) -> anyhow::Result<&'static dyn ResourceType> {
    provider::resource_type(name).ok_or_else(|| anyhow::anyhow!("unsupported resource type {name}"))
}

/// The value of every instance, held in one evaluation scope and updated in place as
/// operations finish (no second copy, no rebuild per operation). Locals and data sources
/// built from resources are re-evaluated only when something that refers to a changed
/// resource is evaluated (with the graph's by-resource ordering, about once per resource).
struct Values {
    scope: crate::config::eval::Scope,
    /// Resources changed since the locals and data sources were last evaluated.
    changed: BTreeSet<ResourceId>,
    /// count/for_each expansions, evaluated once per resource.
    expansions: BTreeMap<ResourceId, BTreeMap<Option<InstanceKey>, Expansion>>,
}

impl Values {
    /// The scope of a run: every managed resource from `values` (consumed), then locals
    /// and data sources in dependency order.
    fn new(
        stack: Option<&Stack>,
        mut values: BTreeMap<Address, Value>,
        data: &BTreeMap<String, Json>,
    ) -> Values {
        let Some(stack) = stack else {
            return Values {
                scope: crate::config::eval::Scope::new(Default::default()),
                changed: BTreeSet::new(),
                expansions: BTreeMap::new(),
            };
        };
        let mut scope = stack.base_scope();
        scope.root_map("local");
        for node in stack.order() {
            match &node {
                Node::Resource(id) if id.mode == Mode::Managed => {
                    let mut mine = values.split_off(&id.instance(None));
                    let rest = mine.split_off(
                        &ResourceId {
                            mode: id.mode.clone(),
                            rtype: id.rtype.clone(),
                            name: format!("{}\u{0}", id.name),
                        }
                        .instance(None),
                    );
                    values.extend(rest);
                    let v = resource_value(stack, id, mine);
                    Stack::set_resource(&mut scope, id, v);
                }
                Node::Local(_) | Node::Resource(_) => {
                    eval_local_or_data(stack, &node, &mut scope, data)
                }
                _ => {}
            }
        }
        Values {
            scope,
            changed: BTreeSet::new(),
            expansions: BTreeMap::new(),
        }
    }

    /// The slot of one instance in the scope, created if missing.
    fn slot(&mut self, addr: &Address) -> Option<&mut Value> {
        let id = &addr.resource;
        if id.mode != Mode::Managed {
            return None;
        }
        let by_name = self.scope.root_map(&id.rtype);
        let v = by_name.entry(id.name.clone()).or_insert(Value::Null);
        match &addr.key {
            None => Some(v),
            Some(InstanceKey::Int(i)) => {
                let i = usize::try_from(*i).ok()?;
                if !matches!(v, Value::List(_)) {
                    *v = Value::List(vec![]);
                }
                let Value::List(l) = v else { return None };
                if l.len() <= i {
                    l.resize(i + 1, Value::Null);
                }
                l.get_mut(i)
            }
            Some(InstanceKey::Str(k)) => {
                if !matches!(v, Value::Map(_)) {
                    *v = Value::Map(BTreeMap::new());
                }
                let Value::Map(m) = v else { return None };
                Some(m.entry(k.clone()).or_insert(Value::Null))
            }
        }
    }

    fn set(&mut self, addr: &Address, value: Value) {
        if let Some(slot) = self.slot(addr) {
            *slot = value;
        }
        self.changed.insert(addr.resource.clone());
    }

    fn remove(&mut self, addr: &Address) {
        let id = &addr.resource;
        if let Some(v) = self.scope.root_map(&id.rtype).get_mut(&id.name) {
            match (&addr.key, v) {
                (Some(InstanceKey::Str(k)), Value::Map(m)) => {
                    m.remove(k);
                }
                (Some(InstanceKey::Int(i)), Value::List(l)) => {
                    if let Some(x) = usize::try_from(*i).ok().and_then(|i| l.get_mut(i)) {
                        *x = Value::Null;
                    }
                    while l.last() == Some(&Value::Null) {
                        l.pop();
                    }
                }
                (None, v) => *v = Value::Null,
                _ => {}
            }
        }
        self.changed.insert(addr.resource.clone());
    }

    /// The scope, with the locals and data sources that `needed` (or, for `None`,
    /// anything) may see re-evaluated if a resource changed since.
    fn scope(
        &mut self,
        stack: &Stack,
        data: &BTreeMap<String, Json>,
        needed: Option<&[ResourceId]>,
    ) -> &mut crate::config::eval::Scope {
        let stale = match needed {
            None => !self.changed.is_empty(),
            Some(ids) => ids.iter().any(|id| self.changed.contains(id)),
        };
        let has_derived = stack.module.locals.keys().next().is_some()
            || stack
                .module
                .resources
                .keys()
                .any(|id| id.mode == Mode::Data);
        if stale && has_derived {
            for node in stack.order() {
                if matches!(&node, Node::Local(_))
                    || matches!(&node, Node::Resource(id) if id.mode == Mode::Data)
                {
                    eval_local_or_data(stack, &node, &mut self.scope, data);
                }
            }
            self.changed.clear();
        }
        &mut self.scope
    }
}

/// The value of all instances of a managed resource, from its instances' values.
fn resource_value(stack: &Stack, id: &ResourceId, values: BTreeMap<Address, Value>) -> Value {
    let Some(rc) = stack.module.resources.get(id) else {
        return Value::Unknown;
    };
    let mut inst = Stack::empty_instances(rc);
    let any = !values.is_empty();
    for (a, v) in values {
        if let (Instances::Count(l), Some(InstanceKey::Int(i))) = (&mut inst, &a.key)
            && l.len() <= *i as usize
        {
            l.resize(*i as usize + 1, Value::Null);
        }
        inst.set(&a.key, v);
    }
    if !any && rc.count.is_none() && rc.for_each.is_none() {
        inst = Instances::Unknown;
    }
    inst.into_value()
}

/// Evaluates a local, or a data source (from the plan's results, or computed locally
/// when its inputs were unknown at plan time).
fn eval_local_or_data(
    stack: &Stack,
    node: &Node,
    scope: &mut crate::config::eval::Scope,
    data: &BTreeMap<String, Json>,
) {
    match node {
        Node::Local(l) => {
            let _ = stack.eval_local(scope, l);
        }
        Node::Resource(id) if id.mode == Mode::Data => {
            let rc = &stack.module.resources[id];
            let mut inst = Stack::empty_instances(rc);
            let exps = stack.expand(rc, scope).unwrap_or_default();
            if let Instances::Count(l) = &mut inst {
                l.resize(exps.len(), Value::Null);
            }
            for exp in &exps {
                let addr = id.instance(exp.key.clone());
                let v = match data.get(&addr.to_string()) {
                    Some(j) => Value::from_json(j),
                    None => read_data_locally(stack, rc, exp, scope),
                };
                inst.set(&exp.key, v);
            }
            Stack::set_resource(scope, id, inst.to_value());
        }
        _ => {}
    }
}

/// A data source whose inputs were unknown at plan time, computed now when it can be
/// computed without AWS (policy documents); otherwise unknown.
fn read_data_locally(
    stack: &Stack,
    rc: &crate::config::ResourceConfig,
    exp: &Expansion,
    scope: &mut crate::config::eval::Scope,
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
    values: &Mutex<Values>,
    data: &BTreeMap<String, Json>,
) -> anyhow::Result<Attrs> {
    let t = rtype(&change.rtype)?;
    let schema = &t.schema().block;
    let rc = stack
        .module
        .resources
        .get(&change.address.resource)
        .ok_or_else(|| anyhow::anyhow!("{} is no longer in the configuration", change.address))?;
    let config = {
        let mut vals = values
            .lock()
            .map_err(|_| anyhow::anyhow!("values lock poisoned"))?;
        let needed = stack.resource_dependencies(&rc.id);
        if !vals.expansions.contains_key(&rc.id) {
            let scope = vals.scope(stack, data, Some(&needed));
            let exps = stack
                .expand(rc, scope)
                .map_err(|d| anyhow::anyhow!("{}", crate::diag::Diagnostics::from(d)))?;
            let by_key = exps.into_iter().map(|e| (e.key.clone(), e)).collect();
            vals.expansions.insert(rc.id.clone(), by_key);
        }
        let exp = vals
            .expansions
            .get(&rc.id)
            .and_then(|m| m.get(&change.address.key))
            .cloned()
            .ok_or_else(|| {
                anyhow::anyhow!("{} is no longer produced by count/for_each", change.address)
            })?;
        let scope = vals.scope(stack, data, Some(&needed));
        stack
            .eval_instance(rc, &exp, scope)
            .map_err(|d| anyhow::anyhow!("{d}"))?
    };
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

/// Whether a planned value is final: its only unknowns are whole attributes that AWS
/// alone sets.
fn known_at_plan(promised: &Value, schema: &crate::provider::schema::Block) -> bool {
    let Value::Map(m) = promised else {
        return false;
    };
    m.iter().all(|(k, v)| {
        !v.has_unknown()
            || (matches!(v, Value::Unknown) && schema.get_attr(k).is_some_and(|a| a.output))
    })
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

/// Builds or reads the package an operation uploads (a Lambda crate or zip) as its own
/// step, before the provider call; None when it uploads none.
async fn build_step(
    stack: Option<&Stack>,
    ui: &dyn Ui,
    change: &ResourceChange,
    prior: Option<&Attrs>,
    planned: &Attrs,
) -> anyhow::Result<Option<crate::build::Package>> {
    let Some(req) = provider::package::request(&change.rtype, prior, planned) else {
        return Ok(None);
    };
    let dir = stack.map(|s| s.module.dir.clone()).unwrap_or_default();
    let source = match &req {
        crate::build::Request::Crate { path, .. } => path.clone(),
        crate::build::Request::Zip { path } => path.clone(),
    };
    if req.builds() {
        let address = change.address.clone();
        ui.event(Event::Building {
            address: address.clone(),
            source: source.clone(),
        });
        let start = Instant::now();
        let package = crate::build::build(&req, &dir).await?;
        let elapsed_secs = start.elapsed().as_secs();
        ui.event(Event::Built {
            address,
            source,
            elapsed_secs,
        });
        return Ok(Some(package));
    }
    crate::build::build(&req, &dir).await.map(Some)
}

#[allow(clippy::too_many_arguments)]
async fn create(
    shared: &Shared,
    stack: Option<&Stack>,
    provider: &Provider,
    ui: &dyn Ui,
    change: &ResourceChange,
    planned: &Attrs,
    shown_action: Action,
) -> anyhow::Result<Attrs> {
    let t = rtype(&change.rtype)?;
    let package = build_step(stack, ui, change, None, planned).await?;
    let handed;
    let call = match &package {
        Some(pkg) => {
            handed = provider::package::attach(planned, pkg);
            &handed
        }
        None => planned,
    };
    // Journal the intent first: if we die during the call, the next plan looks for the object.
    let pending = PendingCreate {
        address: change.address.clone(),
        rtype: change.rtype.clone(),
        planned: planned.clone(),
        started_at: chrono::Utc::now().to_rfc3339(),
    };
    shared.commit(vec![Record::PendingAdd { pending }]).await?;
    let result = with_progress(ui, &change.address, shown_action, t.create(provider, call)).await;
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
            } else {
                shared.commit(vec![done_pending]).await?;
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
    change: Arc<ResourceChange>,
    part: Part,
) -> anyhow::Result<Option<String>> {
    let change = change.as_ref();
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
        let promised = change.planned_value();
        if known_at_plan(&promised, &t.schema().block) {
            let known =
                drop_computed_unknowns(&promised, &t.schema().block, &change.address.to_string())?;
            return Ok(known.to_json().as_object().cloned().unwrap_or_default());
        }
        let stack = stack
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no configuration loaded"))?;
        final_attributes(stack, change, prior.as_ref(), &shared.values, &shared.data)
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
            let attrs = create(
                &shared,
                stack.as_deref(),
                &provider,
                ui,
                change,
                &planned,
                Action::Create,
            )
            .await?;
            set_value(&attrs);
            Ok(id_of(t, &attrs))
        }
        Action::Update => {
            let planned = planned()?;
            let prior =
                prior.ok_or_else(|| anyhow::anyhow!("{} is not in state", change.address))?;
            let package = build_step(stack.as_deref(), ui, change, Some(&prior), &planned).await?;
            let handed;
            let call = match &package {
                Some(pkg) => {
                    handed = provider::package::attach(&planned, pkg);
                    &handed
                }
                None => &planned,
            };
            let attrs = with_progress(
                ui,
                &change.address,
                Action::Update,
                t.update(&provider, &prior, call),
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
            with_progress(
                ui,
                &change.address,
                Action::Delete,
                t.delete(&provider, &prior),
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
            with_progress(
                ui,
                &change.address,
                Action::Delete,
                t.delete(&provider, &prior),
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
            let attrs = create(
                &shared,
                stack.as_deref(),
                &provider,
                ui,
                change,
                &planned,
                Action::Create,
            )
            .await?;
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
            let attrs = create(
                &shared,
                stack.as_deref(),
                &provider,
                ui,
                change,
                &planned,
                Action::Create,
            )
            .await?;
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

/// Applies `plan`. `stack` is needed for every change but deletes. State is written
/// through `store` after each operation.
pub async fn apply(
    mut plan: Plan,
    stack: Option<Arc<Stack>>,
    provider: Arc<Provider>,
    store: Arc<dyn StateStore>,
    opts: &ApplyOptions,
    ui: Arc<dyn Ui>,
    mut interrupt: watch::Receiver<bool>,
) -> anyhow::Result<ApplyReport> {
    // The refreshed state moves out of the plan (a fleet's state is not copied), and
    // no-op changes carry nothing an operation needs.
    let mut start_state = std::mem::take(&mut plan.refreshed);
    start_state.serial = plan.state_serial + 1;
    let mut values: BTreeMap<Address, Value> = BTreeMap::new();
    for r in start_state.iter() {
        values.insert(
            r.address.clone(),
            Value::from_json(&Json::Object(r.attributes.clone())),
        );
    }
    for c in &plan.changes {
        if c.action != Action::Delete && c.action != Action::NoOp {
            values.insert(c.address.clone(), c.planned_value());
        }
    }
    let values = Values::new(stack.as_deref(), values, &plan.data);
    // The refreshed state is recorded first, as Terraform does; it also starts the
    // journal that every operation of this run appends to.
    store.write(&start_state).await?;
    let shared = Arc::new(Shared {
        journal: tokio::sync::Mutex::new(Journal {
            state: start_state,
            buffered: vec![],
            seq: 0,
        }),
        values: Mutex::new(values),
        store,
        data: plan.data.clone(),
        serial_locks: Mutex::new(BTreeMap::new()),
        state_write_failed: std::sync::atomic::AtomicBool::new(false),
        written: tokio::sync::Mutex::new(0),
    });

    let graph = apply_graph(&plan.changes);
    // Each change is dropped once its operations are done (a fleet's planned values are
    // not all kept to the end); what the loop reports comes from `summary`.
    let summary: Vec<(Address, Action)> = plan
        .changes
        .iter()
        .map(|c| (c.address.clone(), c.action))
        .collect();
    let mut parts_left: Vec<u8> = plan
        .changes
        .iter()
        .map(|c| has_part(c.action, Part::Main) as u8 + has_part(c.action, Part::Destroy) as u8)
        .collect();
    let mut live: Vec<Option<Arc<ResourceChange>>> = std::mem::take(&mut plan.changes)
        .into_iter()
        .map(|c| Some(Arc::new(c)))
        .collect();
    let mut indegree: BTreeMap<Step, usize> = graph
        .nodes()
        .map(|&k| (k, graph.dependencies(&k).len()))
        .collect();
    let mut ready: BTreeSet<Step> = indegree
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(k, _)| *k)
        .collect();
    let mut finished: BTreeSet<Step> = BTreeSet::new();
    let mut report = ApplyReport::default();
    let mut skipped: BTreeSet<Address> = BTreeSet::new();
    let mut set = tokio::task::JoinSet::new();
    let mut running = 0usize;
    let parallelism = opts.parallelism.max(1);
    let mut interrupted = *interrupt.borrow();

    /// A node finished well: whatever waited only for it is ready.
    fn release(
        graph: &Dag<Step>,
        k: &Step,
        indegree: &mut BTreeMap<Step, usize>,
        finished: &BTreeSet<Step>,
        ready: &mut BTreeSet<Step>,
    ) {
        for d in graph.dependents(k) {
            if let Some(n) = indegree.get_mut(&d) {
                *n -= 1;
                if *n == 0 && !finished.contains(&d) {
                    ready.insert(d);
                }
            }
        }
    }

    loop {
        // Gates pass as soon as they are ready; they are not operations. They order after
        // every `Op`, so a ready gate is always the set's last element.
        while let Some(&k) = ready.last()
            && !matches!(k, Step::Op(..))
        {
            ready.remove(&k);
            finished.insert(k);
            release(&graph, &k, &mut indegree, &finished, &mut ready);
        }
        while running < parallelism
            && !interrupted
            && !shared
                .state_write_failed
                .load(std::sync::atomic::Ordering::SeqCst)
        {
            let Some(k) = ready.pop_first() else { break };
            let Step::Op(i, part) = k else {
                ready.insert(k);
                break;
            };
            let Some(change) = live[i].clone() else {
                return Err(anyhow::anyhow!(
                    "internal error: change {i} started after it finished"
                ));
            };
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
                let Step::Op(i, part) = k else { continue };
                parts_left[i] = parts_left[i].saturating_sub(1);
                if parts_left[i] == 0 {
                    live[i] = None;
                }
                let (c_address, c_action) = (&summary[i].0, summary[i].1);
                match result {
                    Ok(id) => {
                        ui.event(Event::Completed { address: c_address.clone(), action: shown_action(c_action, part), elapsed_secs: secs, id });
                        if part == Part::Main || c_action == Action::Delete {
                            report.done.push((c_address.clone(), c_action));
                        }
                        release(&graph, &k, &mut indegree, &finished, &mut ready);
                    }
                    Err(e) => {
                        let msg = format!("{e:#}");
                        ui.event(Event::Failed { address: c_address.clone(), action: shown_action(c_action, part), error: msg.clone() });
                        report.failed.push((c_address.clone(), c_action, msg));
                        // Everything that waits for it, transitively, is skipped. The walk
                        // stops at nodes already settled, so many failures cost one pass.
                        let mut stack = graph.dependents(&k);
                        while let Some(d) = stack.pop() {
                            if !finished.insert(d) {
                                continue;
                            }
                            ready.remove(&d);
                            stack.extend(graph.dependents(&d));
                            if let Step::Op(j, _) = d {
                                let s = &summary[j].0;
                                if s != c_address && skipped.insert(s.clone()) {
                                    ui.event(Event::Skipped { address: s.clone(), because: c_address.clone() });
                                    report.skipped.push(s.clone());
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
    let mut not_started = BTreeSet::new();
    for &k in graph.nodes() {
        if let Step::Op(i, _) = k {
            let addr = &summary[i].0;
            if !finished.contains(&k) && not_started.insert(addr.clone()) {
                report.not_started.push(addr.clone());
            }
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
    let outputs = if plan.destroy {
        Some(BTreeMap::new())
    } else if let Some(stack) = &stack {
        let mut vals = shared
            .values
            .lock()
            .map_err(|_| anyhow::anyhow!("values lock poisoned"))?;
        let scope = vals.scope(stack, &plan.data, None);
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
        Some(outputs)
    } else {
        None
    };
    if let Some(outputs) = outputs {
        shared.commit(vec![Record::Outputs { outputs }]).await?;
    }
    // Fold the journal into the document: the next run starts from one file.
    let _written = shared.written.lock().await;
    shared.compact().await?;
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
            depends_on: deps
                .iter()
                .map(|d| d.parse::<Address>().unwrap().resource)
                .collect(),
            importing: None,
            deposed: false,
            notes: vec![],
        }
    }

    fn op(i: usize, part: Part) -> Step {
        Step::Op(i, part)
    }

    /// Whether `a` comes before `b` in every order the graph allows.
    fn before(g: &Dag<Step>, a: Step, b: Step) -> bool {
        g.all_dependencies(&b).contains(&a)
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
        assert!(
            before(&g, op(0, Part::Main), op(1, Part::Main)),
            "versioning after its bucket"
        );
        assert!(
            before(&g, op(3, Part::Destroy), op(2, Part::Destroy)),
            "topic deleted after its subscription"
        );
        assert!(
            !g.contains(&op(4, Part::Main)) && !g.contains(&op(4, Part::Destroy)),
            "no-ops are not operations"
        );
        assert!(!before(&g, op(0, Part::Main), op(2, Part::Destroy)));
    }

    #[test]
    fn creates_wait_for_deletes_of_the_same_type() {
        let changes = vec![
            change("aws_sns_topic.new", Action::Create, &[]),
            change("aws_sns_topic.old", Action::Delete, &[]),
        ];
        let g = apply_graph(&changes);
        assert!(before(&g, op(1, Part::Destroy), op(0, Part::Main)));
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
        assert!(g.topo_order().is_ok());
        assert!(
            before(&g, op(1, Part::Destroy), op(0, Part::Destroy)),
            "attachment detached before the role is deleted"
        );
        assert!(
            before(&g, op(0, Part::Destroy), op(0, Part::Main)),
            "role deleted before it is re-created"
        );
        assert!(
            before(&g, op(0, Part::Main), op(1, Part::Main)),
            "attachment re-created after the new role"
        );
    }

    #[test]
    fn a_fleet_graph_is_linear_in_instances() {
        // N attachments each referring to the N certificates and N things: by-resource
        // dependencies through gates, a few edges per instance, never N².
        let n = 2000;
        let mut changes = vec![];
        for i in 0..n {
            changes.push(change(
                &format!("aws_iot_certificate.c[{i}]"),
                Action::Create,
                &[],
            ));
            changes.push(change(
                &format!("aws_iot_thing.t[{i}]"),
                Action::Create,
                &[],
            ));
            changes.push(change(
                &format!("aws_iot_thing_principal_attachment.a[{i}]"),
                Action::Create,
                &["aws_iot_certificate.c", "aws_iot_thing.t"],
            ));
        }
        let g = apply_graph(&changes);
        assert!(
            g.edge_count() < 8 * changes.len(),
            "{} edges",
            g.edge_count()
        );
        let a = changes
            .iter()
            .position(|c| c.address.to_string() == "aws_iot_thing_principal_attachment.a[7]")
            .unwrap();
        let c = changes
            .iter()
            .position(|c| c.address.to_string() == "aws_iot_certificate.c[1999]")
            .unwrap();
        assert!(before(&g, op(c, Part::Main), op(a, Part::Main)));
    }

    #[test]
    fn destroying_topic_a_does_not_order_the_subscription_of_topic_ab() {
        let changes = vec![
            change("aws_sns_topic.a", Action::Delete, &[]),
            change("aws_sns_topic.ab", Action::Delete, &[]),
            change(
                "aws_sns_topic_subscription.s",
                Action::Delete,
                &["aws_sns_topic.ab"],
            ),
        ];
        let g = apply_graph(&changes);
        assert!(before(&g, op(2, Part::Destroy), op(1, Part::Destroy)));
        assert!(!before(&g, op(2, Part::Destroy), op(0, Part::Destroy)));
    }
}
