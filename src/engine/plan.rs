//! Plan: refresh every instance in state from AWS, evaluate the stack in dependency
//! order, and diff each instance. The result is a value that can be rendered, saved and
//! applied exactly.

use super::diff::{changed_attributes, merge_computed, normalize, normalize_json};
use super::{Event, Ui};
use crate::address::{Address, Mode, ResourceId};
use crate::config::stack::{Instances, Node, Stack};
use crate::diag::{Diagnostic, Diagnostics};
use crate::provider::{self, Provider, ResourceType};
use crate::state::{ResourceState, State};
use crate::value::{Value, json_equivalent};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Create,
    Update,
    DeleteThenCreate,
    CreateThenDelete,
    Delete,
}

impl Action {
    /// Terraform's `actions` list.
    pub fn terraform_actions(self) -> Vec<&'static str> {
        match self {
            Action::NoOp => vec!["no-op"],
            Action::Create => vec!["create"],
            Action::Update => vec!["update"],
            Action::DeleteThenCreate => vec!["delete", "create"],
            Action::CreateThenDelete => vec!["create", "delete"],
            Action::Delete => vec!["delete"],
        }
    }
    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResourceChange {
    pub address: Address,
    #[serde(rename = "type")]
    pub rtype: String,
    pub action: Action,
    /// The refreshed prior object (null when creating).
    pub before: Json,
    /// The planned object, unknown values as null (null when deleting).
    pub after: Json,
    /// Which parts of `after` are known only after apply.
    pub after_unknown: Json,
    /// Top-level attributes that differ.
    pub changed: Vec<String>,
    /// Attributes whose change forces the replacement.
    pub replace_paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Resources this one depends on (config references, or state for orphans): every
    /// instance of each. Recorded by resource so a fleet's plan and state stay linear.
    pub depends_on: Vec<ResourceId>,
    /// Set when the plan imports this object (the id it is imported by).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importing: Option<String>,
    /// For a deposed object left by an interrupted create_before_destroy.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deposed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl ResourceChange {
    pub fn planned_value(&self) -> Value {
        with_unknowns(&self.after, &self.after_unknown)
    }
}

/// Rebuilds a value from its JSON and its unknown mask.
pub fn with_unknowns(j: &Json, mask: &Json) -> Value {
    match mask {
        Json::Bool(true) => Value::Unknown,
        Json::Object(m) => match j {
            Json::Object(o) => {
                let mut keys: BTreeSet<&String> = o.keys().collect();
                keys.extend(m.keys());
                Value::Map(
                    keys.into_iter()
                        .map(|k| {
                            (
                                k.clone(),
                                with_unknowns(
                                    o.get(k).unwrap_or(&Json::Null),
                                    m.get(k).unwrap_or(&Json::Bool(false)),
                                ),
                            )
                        })
                        .collect(),
                )
            }
            _ => Value::from_json(j),
        },
        Json::Array(ms) => match j {
            Json::Array(items) => Value::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| with_unknowns(x, ms.get(i).unwrap_or(&Json::Bool(false))))
                    .collect(),
            ),
            _ => Value::from_json(j),
        },
        _ => Value::from_json(j),
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OutputChange {
    pub name: String,
    pub before: Option<Json>,
    pub after: Json,
    pub after_unknown: bool,
    pub sensitive: bool,
    pub changed: bool,
}

/// An attribute that changed in AWS since the last apply.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Drift {
    pub address: Address,
    /// Empty when the object was deleted outside thingform.
    pub attributes: Vec<String>,
    pub deleted: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub thingform_version: String,
    pub stack_dir: std::path::PathBuf,
    pub config_hash: String,
    pub workspace: String,
    pub variables: BTreeMap<String, Json>,
    pub state_lineage: String,
    pub state_serial: u64,
    pub destroy: bool,
    pub changes: Vec<ResourceChange>,
    pub outputs: Vec<OutputChange>,
    pub drift: Vec<Drift>,
    pub warnings: Vec<String>,
    /// The state after refresh; apply starts from it.
    pub refreshed: State,
    /// Data source results read during plan, by address.
    #[serde(default)]
    pub data: BTreeMap<String, Json>,
    /// A refresh-only plan: it only records drift in the state.
    #[serde(default)]
    pub refresh_only: bool,
}

impl Plan {
    /// The prior object of a change (a no-op's is the refreshed state's, copied only
    /// here, when it is rendered).
    pub fn object_before<'a>(&'a self, c: &'a ResourceChange) -> Cow<'a, Json> {
        if c.action == Action::NoOp && c.before.is_null() {
            return match self.refreshed.get(&c.address) {
                Some(r) => Cow::Owned(Json::Object(r.attributes.clone())),
                None => Cow::Borrowed(&c.before),
            };
        }
        Cow::Borrowed(&c.before)
    }

    /// The planned object of a change (a no-op's is its prior object).
    pub fn object_after<'a>(&'a self, c: &'a ResourceChange) -> Cow<'a, Json> {
        if c.action == Action::NoOp && c.after.is_null() {
            return self.object_before(c);
        }
        Cow::Borrowed(&c.after)
    }

    pub fn has_changes(&self) -> bool {
        if self.refresh_only {
            return !self.drift.is_empty();
        }
        self.changes.iter().any(|c| c.importing.is_some())
            || self.changes.iter().any(|c| c.action != Action::NoOp)
            || self.outputs.iter().any(|o| o.changed)
    }
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut add = 0;
        let mut change = 0;
        let mut destroy = 0;
        for c in &self.changes {
            match c.action {
                Action::Create => add += 1,
                Action::Update => change += 1,
                Action::Delete => destroy += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    add += 1;
                    destroy += 1
                }
                Action::NoOp => {}
            }
        }
        (add, change, destroy)
    }
}

#[derive(Clone, Debug)]
pub struct PlanOptions {
    pub destroy: bool,
    pub refresh: bool,
    pub targets: Vec<Address>,
    pub parallelism: usize,
    /// Only accept drift into the state: no changes to AWS.
    pub refresh_only: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            destroy: false,
            refresh: true,
            targets: vec![],
            parallelism: 10,
            refresh_only: false,
        }
    }
}

fn rtype(name: &str) -> anyhow::Result<&'static dyn ResourceType> {
    provider::resource_type(name).ok_or_else(|| anyhow::anyhow!("the state holds a resource of type {name}, which this build of thingform does not support"))
}

/// Reads every instance in state from AWS. Objects gone from AWS leave the state;
/// creates that a crash interrupted are looked up by name and adopted when found.
pub async fn refresh(
    prior: State,
    provider: &Provider,
    parallelism: usize,
    ui: &dyn Ui,
) -> anyhow::Result<(State, Vec<Drift>)> {
    let mut state = prior;
    let mut drift = vec![];
    for pending in std::mem::take(&mut state.pending) {
        let t = rtype(&pending.rtype)?;
        match t.recover(provider, &pending.planned).await? {
            Some(attrs) if state.get(&pending.address).is_none() => {
                let attrs = normalize_json(&Json::Object(attrs), &t.schema().block);
                let id = attrs.get(t.schema().id_attr).and_then(Json::as_str).unwrap_or("?").to_string();
                ui.event(Event::Recovered { address: pending.address.clone(), id });
                state.upsert(ResourceState::managed(
                    pending.address.clone(),
                    attrs.as_object().cloned().unwrap_or_default(),
                ));
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
    let mut batched: BTreeMap<String, (Vec<Address>, Vec<&provider::Attrs>)> = BTreeMap::new();
    for r in state.iter().filter(|r| r.mode == Mode::Managed) {
        let (addrs, priors) = batched.entry(r.rtype.clone()).or_default();
        addrs.push(r.address.clone());
        priors.push(&r.attributes);
    }
    let mut results: Vec<(Address, Option<provider::Attrs>)> = vec![];
    let mut single: Vec<(Address, &provider::Attrs)> = vec![];
    // Every type's batched read at once (each pages or fans out on its own).
    let batch_reads = batched
        .into_iter()
        .map(|(rtype_name, (addrs, priors))| async move {
            let t = rtype(&rtype_name)?;
            let answer = t.read_many(provider, &priors).await;
            Ok::<_, anyhow::Error>((rtype_name, addrs, priors, answer))
        });
    for done in futures::future::join_all(batch_reads).await {
        let (rtype_name, addrs, priors, answer) = done?;
        match answer {
            Some(Ok(lives)) if lives.len() == addrs.len() => {
                drop(priors);
                for (a, live) in addrs.into_iter().zip(lives) {
                    ui.event(Event::Refreshing(a.clone()));
                    results.push((a, live));
                }
            }
            Some(Err(e)) => return Err(anyhow::anyhow!("refreshing {rtype_name}: {e:#}")),
            _ => single.extend(addrs.into_iter().zip(priors)),
        }
    }
    let reads = single.into_iter().map(|(a, prior)| async move {
        ui.event(Event::Refreshing(a.clone()));
        let t = rtype(&a.resource.rtype)?;
        let live = t
            .read(provider, prior)
            .await
            .map_err(|e| anyhow::anyhow!("refreshing {a}: {e:#}"))?;
        Ok::<_, anyhow::Error>((a, live))
    });
    let singles: Vec<anyhow::Result<_>> = futures::stream::iter(reads)
        .buffer_unordered(parallelism.max(1))
        .collect()
        .await;
    for r in singles {
        results.push(r?);
    }
    results.sort_by(|a, b| a.0.cmp(&b.0));
    for (addr, live) in results {
        let t = rtype(&addr.resource.rtype)?;
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
                for a in t.schema().block.attrs.iter().filter(|a| a.local_only) {
                    attrs.insert(
                        a.name.to_string(),
                        r.attributes.get(a.name).cloned().unwrap_or(Json::Null),
                    );
                }
                let new = normalize_json(&Json::Object(attrs), &t.schema().block);
                let old = normalize_json(
                    &Json::Object(std::mem::take(&mut r.attributes)),
                    &t.schema().block,
                );
                let changed: Vec<String> = t
                    .schema()
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

fn sensitive_error(d: Diagnostic) -> anyhow::Error {
    anyhow::Error::new(Diagnostics::from(d))
}

/// Reads the AWS object `id` as the instance `addr` would hold it in state (what
/// `thingform import` and `import {}` blocks adopt). `None`: no such object.
pub async fn import_object(
    t: &dyn ResourceType,
    provider: &Provider,
    addr: &Address,
    id: &str,
) -> anyhow::Result<Option<ResourceState>> {
    let Some(attrs) = t.read(provider, &t.import_attrs(id)).await? else {
        return Ok(None);
    };
    let mut attrs = normalize_json(&Json::Object(attrs), &t.schema().block)
        .as_object()
        .cloned()
        .unwrap_or_default();
    // Attributes kept only in state start at their defaults (e.g. force_destroy = false).
    for a in t.schema().block.attrs.iter().filter(|a| a.local_only) {
        attrs.insert(a.name.to_string(), a.default.clone().unwrap_or(Json::Null));
    }
    Ok(Some(ResourceState::managed(addr.clone(), attrs)))
}

/// Computes the plan for `stack` against `prior` (which becomes the plan's refreshed
/// state: it is not copied, a fleet's state can be large).
pub async fn plan(
    stack: &Stack,
    prior: State,
    provider: &Provider,
    opts: &PlanOptions,
    ui: &dyn Ui,
) -> anyhow::Result<Plan> {
    let (state_lineage, state_serial) = (prior.lineage.clone(), prior.serial);
    let (refreshed, drift) = if opts.refresh {
        refresh(prior, provider, opts.parallelism, ui).await?
    } else {
        (prior, vec![])
    };
    // import {} blocks: read each object that is not tracked yet and plan with it as prior.
    let mut refreshed = refreshed;
    let mut imported: BTreeMap<Address, String> = BTreeMap::new();
    if !opts.destroy {
        let scope = stack.base_scope();
        let mut diags = Diagnostics::default();
        for ib in &stack.module.imports {
            if refreshed.get(&ib.to).is_some() {
                continue;
            }
            if !stack.module.resources.contains_key(&ib.to.resource) {
                diags.push(Diagnostic::error(
                    "Import to an undeclared resource",
                    format!("import block targets {}, which the stack does not declare; add a resource block for it", ib.to),
                    Some(&ib.loc),
                ));
                continue;
            }
            let id = match scope.eval(&ib.id.expr).map(|v| v.to_template_string()) {
                Ok(Some(id)) => id,
                _ => {
                    diags.push(Diagnostic::error(
                        "Invalid import id",
                        "The id must be a string known at plan time (variables and literals).",
                        Some(&ib.id.loc),
                    ));
                    continue;
                }
            };
            let t = rtype(&ib.to.resource.rtype)?;
            match import_object(t, provider, &ib.to, &id).await {
                Ok(Some(rs)) => {
                    refreshed.upsert(rs);
                    imported.insert(ib.to.clone(), id);
                }
                Ok(None) => diags.push(Diagnostic::error(
                    "Cannot import non-existent remote object",
                    format!(
                        "No {} with id {id:?} exists; check the id.",
                        ib.to.resource.rtype
                    ),
                    Some(&ib.loc),
                )),
                Err(e) => diags.push(Diagnostic::error(
                    "Import failed",
                    format!("{}: {e:#}", ib.to),
                    Some(&ib.loc),
                )),
            }
        }
        if diags.has_errors() {
            return Err(anyhow::Error::new(diags));
        }
    }
    let target_ids: Option<BTreeSet<ResourceId>> = if opts.targets.is_empty() {
        None
    } else {
        let mut set = BTreeSet::new();
        for t in &opts.targets {
            set.insert(t.resource.clone());
            if opts.destroy {
                // Destroying something destroys what depends on it first.
                for n in stack
                    .graph
                    .all_dependents(&Node::Resource(t.resource.clone()))
                {
                    if let Node::Resource(r) = n {
                        set.insert(r);
                    }
                }
                // ... and what the state says depends on it (orphans included),
                // transitively. Compared as typed addresses: `aws_sns_topic.a` is not a
                // prefix match for `aws_sns_topic.ab`.
                loop {
                    let before = set.len();
                    for r in refreshed.iter() {
                        if !set.contains(&r.address.resource)
                            && recorded_dependencies(r).iter().any(|d| set.contains(d))
                        {
                            set.insert(r.address.resource.clone());
                        }
                    }
                    if set.len() == before {
                        break;
                    }
                }
            } else {
                set.extend(stack.resource_dependencies(&t.resource));
            }
        }
        Some(set)
    };
    let in_target = |id: &ResourceId| target_ids.as_ref().map(|s| s.contains(id)).unwrap_or(true);
    let instance_targeted = |a: &Address| {
        if opts.targets.is_empty() {
            return true;
        }
        if !in_target(&a.resource) {
            return false;
        }
        // An instance target (`x["a"]`) names one instance; its dependencies are whole resources.
        opts.targets
            .iter()
            .all(|t| t.resource != a.resource || t.key.is_none() || t == a)
            || opts.targets.iter().any(|t| t == a)
    };

    let mut changes: Vec<ResourceChange> = vec![];
    let mut outputs = vec![];
    let mut warnings = vec![];
    let mut diags = Diagnostics::default();
    let mut in_config: BTreeSet<Address> = BTreeSet::new();
    let mut data_results: BTreeMap<String, Json> = BTreeMap::new();

    if !opts.destroy && !opts.refresh_only {
        let mut scope = stack.base_scope();
        scope.root_map("local");
        for node in stack.order() {
            match node {
                Node::Var(_) => {}
                Node::Local(name) => {
                    if let Err(d) = stack.eval_local(&mut scope, &name) {
                        diags.push(d);
                    }
                }
                Node::Output(name) => {
                    let out = &stack.module.outputs[&name];
                    if !opts.targets.is_empty() {
                        continue;
                    }
                    match scope.eval(&out.value.expr) {
                        Ok(v) => {
                            let before = refreshed.outputs.get(&name).map(|o| o.value.clone());
                            let changed = match &before {
                                Some(b) => v.has_unknown() || !json_equivalent(b, &v.to_json()),
                                None => true,
                            };
                            outputs.push(OutputChange {
                                name: name.clone(),
                                before,
                                after: v.to_json(),
                                after_unknown: v.has_unknown(),
                                sensitive: out.sensitive,
                                changed,
                            });
                        }
                        Err(e) => diags.push(Diagnostic::error(
                            "Invalid output value",
                            format!("output.{name}: {e}"),
                            Some(&out.value.loc),
                        )),
                    }
                }
                Node::Resource(id) if id.mode == Mode::Data => {
                    let rc = &stack.module.resources[&id];
                    let Some(ds) = provider::data::data_source(&id.rtype) else {
                        continue;
                    };
                    let schema = &ds.schema().block;
                    let exps = match stack.expand(rc, &scope) {
                        Ok(e) => e,
                        Err(d) => {
                            diags.push(d);
                            Stack::set_resource(&mut scope, &id, Value::Unknown);
                            continue;
                        }
                    };
                    let mut instances = Stack::empty_instances(rc);
                    if let Instances::Count(l) = &mut instances {
                        l.resize(exps.len(), Value::Null);
                    }
                    for exp in &exps {
                        let addr = id.instance(exp.key.clone());
                        let config = match stack.eval_instance(rc, exp, &mut scope) {
                            Ok(v) => normalize(&v, schema),
                            Err(d) => {
                                diags.extend(d);
                                instances.set(&exp.key, Value::Unknown);
                                continue;
                            }
                        };
                        let value = if config.has_unknown() {
                            // Read during apply, once what it depends on is known.
                            merge_computed(&config, None, schema)
                        } else {
                            let cfg = config.to_json().as_object().cloned().unwrap_or_default();
                            let result = match ds.read_local(&cfg) {
                                Some(r) => r,
                                None => ds.read(provider, &cfg).await,
                            };
                            match result {
                                Ok(attrs) => {
                                    let j = normalize_json(&Json::Object(attrs), schema);
                                    data_results.insert(addr.to_string(), j.clone());
                                    Value::from_json(&j)
                                }
                                Err(e) => {
                                    diags.push(Diagnostic::error(
                                        "Error reading data source",
                                        format!("{addr}: {e:#}"),
                                        Some(&rc.loc),
                                    ));
                                    Value::Unknown
                                }
                            }
                        };
                        instances.set(&exp.key, value);
                    }
                    Stack::set_resource(&mut scope, &id, instances.to_value());
                }
                Node::Resource(id) => {
                    let rc = &stack.module.resources[&id];
                    if !in_target(&id) {
                        Stack::set_resource(&mut scope, &id, Value::Unknown);
                        continue;
                    }
                    let Some(t) = provider::resource_type(&id.rtype) else {
                        continue;
                    };
                    let schema = &t.schema().block;
                    let exps = match stack.expand(rc, &scope) {
                        Ok(e) => e,
                        Err(d) => {
                            diags.push(d);
                            Stack::set_resource(&mut scope, &id, Value::Unknown);
                            continue;
                        }
                    };
                    let deps: Vec<ResourceId> = stack
                        .resource_dependencies(&id)
                        .into_iter()
                        .filter(|r| r.mode == Mode::Managed && r != &id)
                        .collect();
                    let mut instances = Stack::empty_instances(rc);
                    if let Instances::Count(l) = &mut instances {
                        l.resize(exps.len(), Value::Null);
                    }
                    for exp in &exps {
                        let addr = id.instance(exp.key.clone());
                        in_config.insert(addr.clone());
                        let mut config = match stack.eval_instance(rc, exp, &mut scope) {
                            Ok(v) => normalize(&v, schema),
                            Err(d) => {
                                diags.extend(d);
                                instances.set(&exp.key, Value::Unknown);
                                continue;
                            }
                        };
                        if let Err(e) =
                            super::diff::apply_plan_local(t, &mut config, &stack.module.dir)
                        {
                            diags.push(Diagnostic::error(
                                "Cannot prepare resource",
                                format!("{addr}: {e:#}"),
                                Some(&rc.loc),
                            ));
                            instances.set(&exp.key, Value::Unknown);
                            continue;
                        }
                        let config = normalize(&config, schema);
                        let prior_rs = refreshed.get(&addr);
                        let (change, unchanged) = diff_instance(
                            t,
                            &addr,
                            rc,
                            &config,
                            prior_rs,
                            deps.clone(),
                            &mut diags,
                        );
                        let visible = unchanged.unwrap_or_else(|| change.planned_value());
                        instances.set(&exp.key, visible);
                        if instance_targeted(&addr) {
                            changes.push(change);
                        }
                    }
                    Stack::set_resource(&mut scope, &id, instances.into_value());
                }
            }
        }
    }

    // Instances in state that the configuration no longer declares are deleted.
    for r in refreshed.iter().filter(|_| !opts.refresh_only) {
        if in_config.contains(&r.address)
            || r.mode != Mode::Managed
            || !instance_targeted(&r.address)
        {
            continue;
        }
        if opts.destroy
            && let Some(rc) = stack.module.resources.get(&r.address.resource)
            && rc.lifecycle.prevent_destroy
        {
            diags.push(Diagnostic::error(
                        "Instance cannot be destroyed",
                        format!(
                            "{} has lifecycle.prevent_destroy = true, and this plan would destroy it. Remove prevent_destroy (and apply) first, or leave it out with -target.",
                            r.address
                        ),
                        Some(&rc.loc),
                    ));
        }
        changes.push(ResourceChange {
            address: r.address.clone(),
            rtype: r.rtype.clone(),
            action: Action::Delete,
            before: Json::Object(r.attributes.clone()),
            after: Json::Null,
            after_unknown: Json::Bool(false),
            changed: vec![],
            replace_paths: vec![],
            reason: Some(if opts.destroy {
                "destroy".into()
            } else {
                "no longer in the configuration".into()
            }),
            depends_on: recorded_dependencies(r),
            importing: None,
            deposed: false,
            notes: provider::resource_type(&r.rtype)
                .and_then(|t| t.delete_note())
                .map(|n| format!("{}: {n}", r.address))
                .into_iter()
                .collect(),
        });
    }
    for (i, r) in refreshed.deposed.iter().enumerate() {
        if !instance_targeted(&r.address) {
            continue;
        }
        changes.push(ResourceChange {
            address: r.address.clone(),
            rtype: r.rtype.clone(),
            action: Action::Delete,
            before: Json::Object(r.attributes.clone()),
            after: Json::Null,
            after_unknown: Json::Bool(false),
            changed: vec![],
            replace_paths: vec![],
            reason: Some(format!(
                "deposed object #{i} left by an interrupted create_before_destroy replacement"
            )),
            depends_on: vec![],
            importing: None,
            deposed: true,
            notes: vec![],
        });
    }
    if diags.has_errors() {
        return Err(anyhow::Error::new(diags));
    }
    warnings.extend(
        diags
            .warnings()
            .map(|w| format!("{}: {}", w.summary, w.detail)),
    );
    for c in &changes {
        warnings.extend(c.notes.iter().cloned());
    }
    warnings.extend(provider.take_warnings());
    for c in changes.iter_mut() {
        c.importing = imported.get(&c.address).cloned();
        // An imported no-op shows the object it adopts.
        if c.action == Action::NoOp
            && c.importing.is_some()
            && let Some(r) = refreshed.get(&c.address)
        {
            c.before = Json::Object(r.attributes.clone());
            c.after = c.before.clone();
        }
    }
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    if opts.destroy {
        for (name, o) in &refreshed.outputs {
            outputs.push(OutputChange {
                name: name.clone(),
                before: Some(o.value.clone()),
                after: Json::Null,
                after_unknown: false,
                sensitive: o.sensitive,
                changed: true,
            });
        }
    } else {
        for (name, o) in &refreshed.outputs {
            if !stack.module.outputs.contains_key(name) && opts.targets.is_empty() {
                outputs.push(OutputChange {
                    name: name.clone(),
                    before: Some(o.value.clone()),
                    after: Json::Null,
                    after_unknown: false,
                    sensitive: o.sensitive,
                    changed: true,
                });
            }
        }
    }
    outputs.sort_by(|a, b| a.name.cmp(&b.name));
    let _ = sensitive_error;
    Ok(Plan {
        format_version: 1,
        thingform_version: env!("CARGO_PKG_VERSION").to_string(),
        stack_dir: std::fs::canonicalize(&stack.module.dir)
            .unwrap_or_else(|_| stack.module.dir.clone()),
        config_hash: stack.module.hash.clone(),
        workspace: stack.workspace.clone(),
        variables: stack
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect(),
        state_lineage,
        state_serial,
        destroy: opts.destroy,
        changes,
        outputs,
        drift,
        warnings,
        refreshed,
        data: data_results,
        refresh_only: opts.refresh_only,
    })
}

/// The resources a state entry recorded as its dependencies.
pub fn recorded_dependencies(r: &ResourceState) -> Vec<ResourceId> {
    let mut out: Vec<ResourceId> = r
        .dependencies
        .iter()
        .filter_map(|d| d.parse::<Address>().ok())
        .map(|a| a.resource)
        .collect();
    out.sort();
    out.dedup();
    out
}

fn diff_instance(
    t: &dyn ResourceType,
    addr: &Address,
    rc: &crate::config::ResourceConfig,
    config: &Value,
    prior: Option<&ResourceState>,
    depends_on: Vec<ResourceId>,
    diags: &mut Diagnostics,
) -> (ResourceChange, Option<Value>) {
    let schema = &t.schema().block;
    let base = |action: Action, before: Json, after: &Value| ResourceChange {
        address: addr.clone(),
        rtype: t.name().to_string(),
        action,
        before,
        after: after.to_json(),
        after_unknown: after.unknown_mask(),
        changed: vec![],
        replace_paths: vec![],
        reason: None,
        depends_on: depends_on.clone(),
        importing: None,
        deposed: false,
        notes: vec![],
    };
    let Some(prior) = prior else {
        let planned = merge_computed(config, None, schema);
        return (base(Action::Create, Json::Null, &planned), None);
    };
    let prior_json = Json::Object(prior.attributes.clone());
    let prior_value = Value::from_json(&prior_json);
    let mut planned = merge_computed(config, Some(&prior_value), schema);
    // ignore_changes: the prior value wins for the listed attributes.
    if let Value::Map(m) = &mut planned {
        for name in schema.names() {
            if rc.lifecycle.ignore_all || rc.lifecycle.ignore_changes.iter().any(|i| i == name) {
                m.insert(
                    name.to_string(),
                    prior_value.get(name).cloned().unwrap_or(Value::Null),
                );
            }
        }
    }
    let (changed, forces) = changed_attributes(&planned, &prior_json, schema);
    let replace = prior.tainted || !forces.is_empty();
    if changed.is_empty() && !prior.tainted {
        // The object is the refreshed state's: not copied into the plan (see
        // `Plan::object_before`); the value others see is the prior one.
        let mut c = base(Action::NoOp, Json::Null, &Value::Null);
        c.after = Json::Null;
        c.after_unknown = Json::Bool(false);
        return (c, Some(prior_value));
    }
    let mut change = if replace {
        if rc.lifecycle.prevent_destroy {
            diags.push(Diagnostic::error(
                "Instance cannot be destroyed",
                format!(
                    "{addr} has lifecycle.prevent_destroy = true, but changing {} forces replacing it. Revert that change, or remove prevent_destroy first.",
                    forces.join(", ")
                ),
                Some(&rc.loc),
            ));
        }
        // A replacement is a new object: everything AWS computes is unknown again.
        let fresh = merge_computed(config, None, schema);
        let action = if rc.lifecycle.create_before_destroy {
            Action::CreateThenDelete
        } else {
            Action::DeleteThenCreate
        };
        let mut c = base(action, prior_json.clone(), &fresh);
        c.replace_paths = forces;
        if prior.tainted {
            c.reason = Some("tainted: an earlier create did not finish".into());
        }
        c
    } else {
        base(Action::Update, prior_json.clone(), &planned)
    };
    change.changed = changed;
    change.notes = t.plan_notes(Some(&prior.attributes), &change.after);
    if change.action.is_replace() {
        change
            .notes
            .extend(t.delete_note().map(|n| format!("{addr}: {n}")));
    }
    (change, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_mask_round_trips_through_json() {
        let v = Value::from_json(&json!({"a": 1, "b": [1, 2]}));
        let mut m = v.as_map().unwrap().clone();
        m.insert("arn".into(), Value::Unknown);
        let v = Value::Map(m);
        let back = with_unknowns(&v.to_json(), &v.unknown_mask());
        assert_eq!(back, v);
    }
}
