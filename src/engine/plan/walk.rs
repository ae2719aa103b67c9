//! The plan walk: evaluate the stack in dependency order and diff each instance.

use super::{
    Action, OutputChange, Plan, PlanOptions, ResourceChange, import_object, recorded_dependencies,
    refresh,
};
use crate::address::{Address, Mode, ResourceId};
use crate::config::stack::{Instances, Node, Stack};
use crate::diag::{Diagnostic, Diagnostics};
use crate::engine::Ui;
use crate::engine::diff::{changed_attributes, merge_computed, normalize, normalize_json};
use crate::provider::ResourceType;
use crate::provider::cloud::{Cloud, pick};
use crate::state::{ResourceState, State};
use crate::value::{Value, json_equivalent};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

/// Computes the plan for `stack` against `prior` (which becomes the plan's refreshed
/// state: it is not copied, a fleet's state can be large).
pub async fn plan(
    stack: &Stack,
    prior: State,
    cloud: &dyn Cloud,
    opts: &PlanOptions,
    ui: &dyn Ui,
) -> anyhow::Result<Plan> {
    let (state_lineage, state_serial) = (prior.lineage.clone(), prior.serial);
    // moved {} blocks re-address what the state tracks before anything is read.
    let mut prior = prior;
    let moved = stack.moved_blocks().map_err(anyhow::Error::new)?;
    let (moves, mut cloud_warnings) = super::moves::apply_moves(&mut prior, &moved);
    // removed {} blocks with destroy = false: those objects leave the state, not AWS.
    let declared = |e: &crate::config::Endpoint| match e {
        crate::config::Endpoint::Resource(_) => stack
            .resources
            .keys()
            .any(|id| super::moves::removes(e, id)),
        crate::config::Endpoint::Module(m) => stack
            .modules
            .keys()
            .any(|k| k.config_path().starts_with(&m.config_path())),
    };
    let forgets = super::moves::apply_removed(&mut prior, &stack.module.removed, &declared)
        .map_err(anyhow::Error::new)?;
    let (refreshed, drift) = if opts.refresh {
        refresh(prior, cloud, opts.parallelism, ui, &mut cloud_warnings).await?
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
            if !stack.resources.contains_key(&ib.to.resource) {
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
            let provider = stack.resources[&ib.to.resource].provider_config.clone();
            match import_object(cloud, provider.as_deref(), &ib.to, &id, &mut cloud_warnings).await
            {
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

    // The one evaluation of this run: apply (in this process) continues from it.
    let mut evaluated = None;
    let mut checks = vec![];
    if !opts.destroy && !opts.refresh_only {
        let mut scope = stack.base_scope();
        scope.root_map("local");
        for node in stack.order() {
            match node {
                Node::Var(ref m, _) if m.is_root() => {}
                Node::Var(..) | Node::Local(..) => {
                    if let Err(d) = stack.eval_value_node(&mut scope, &node) {
                        diags.push(d);
                    }
                }
                Node::Output(ref m, _) if !m.is_root() => {
                    if let Err(d) = stack.eval_value_node(&mut scope, &node) {
                        diags.push(d);
                    }
                }
                Node::Output(_, name) => {
                    stack.enter(&mut scope, &crate::address::ModuleInstance::root());
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
                    let rc = &stack.resources[&id];
                    let Some(ds) = cloud.data_source(&id.rtype) else {
                        continue;
                    };
                    let schema = &ds.schema().block;
                    let exps = match stack.expand(rc, &mut scope) {
                        Ok(e) => e,
                        Err(d) => {
                            diags.push(d);
                            stack.set_resource(&mut scope, &id, Value::Unknown);
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
                                None => match pick(cloud, rc.provider_config.as_deref()) {
                                    Ok(c) => c
                                        .read_data(&id.rtype, &cfg)
                                        .await
                                        .take(&addr, &mut cloud_warnings),
                                    Err(e) => Err(e),
                                },
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
                    stack.set_resource(&mut scope, &id, instances.to_value());
                }
                Node::Resource(id) => {
                    let rc = &stack.resources[&id];
                    if !in_target(&id) {
                        stack.set_resource(&mut scope, &id, Value::Unknown);
                        continue;
                    }
                    let Ok(t) = cloud.resource_type(&id.rtype) else {
                        continue;
                    };
                    let schema = &t.schema().block;
                    let exps = match stack.expand(rc, &mut scope) {
                        Ok(e) => e,
                        Err(d) => {
                            diags.push(d);
                            stack.set_resource(&mut scope, &id, Value::Unknown);
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
                        if let Err(e) = crate::engine::diff::apply_plan_local(
                            t,
                            &mut config,
                            stack.dir_of(&id.module),
                        ) {
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
                        // What the state records as dependencies follows the configuration
                        // (written with the refreshed state when applied), so a moved
                        // instance is destroyed in its new order, not its old one.
                        if change.action == Action::NoOp
                            && let Some(r) = refreshed.resources.get_mut(&addr)
                        {
                            let want: Vec<String> = deps.iter().map(ToString::to_string).collect();
                            if r.dependencies != want {
                                r.dependencies = want;
                            }
                        }
                        let visible = unchanged.unwrap_or_else(|| change.after.clone());
                        instances.set(&exp.key, visible);
                        if instance_targeted(&addr) {
                            changes.push(change);
                        }
                    }
                    stack.set_resource(&mut scope, &id, instances.into_value());
                }
            }
        }
        stack.enter(&mut scope, &crate::address::ModuleInstance::root());
        // Checks run last and wait for nothing: a scoped data source that depends on a
        // resource with changes is read during apply.
        if !diags.has_errors() {
            let pending: BTreeSet<ResourceId> = changes
                .iter()
                .filter(|c| c.action != Action::NoOp)
                .map(|c| c.address.resource.clone())
                .collect();
            let deferred = |r: &ResourceId| pending.contains(r);
            checks =
                super::run_checks(stack, &mut scope, cloud, &deferred, &mut cloud_warnings).await;
        }
        // A targeted plan leaves what it does not target unknown: apply evaluates anew.
        if opts.targets.is_empty() {
            evaluated = Some(scope);
        }
    }

    // Instances in state that the configuration no longer declares are deleted.
    let mut configured_deps = BTreeMap::new();
    for r in refreshed.iter().filter(|_| !opts.refresh_only) {
        if in_config.contains(&r.address)
            || r.mode != Mode::Managed
            || !instance_targeted(&r.address)
        {
            continue;
        }
        if opts.destroy
            && let Some(rc) = stack.resources.get(&r.address.resource)
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
            after: Value::Null,
            changed: vec![],
            replace_paths: vec![],
            reason: Some(if opts.destroy {
                "destroy".into()
            } else {
                "no longer in the configuration".into()
            }),
            depends_on: destroy_dependencies(stack, r, &mut configured_deps),
            importing: None,
            deposed: false,
            notes: cloud
                .delete_note(&r.rtype)
                .map(|n| format!("{}: {n}", r.address))
                .into_iter()
                .collect(),
            provider: r.provider.clone(),
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
            after: Value::Null,
            changed: vec![],
            replace_paths: vec![],
            reason: Some(format!(
                "deposed object #{i} left by an interrupted create_before_destroy replacement"
            )),
            depends_on: vec![],
            importing: None,
            deposed: true,
            notes: vec![],
            provider: r.provider.clone(),
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
    warnings.extend(cloud_warnings);
    for c in changes.iter_mut() {
        c.importing = imported.get(&c.address).cloned();
        // An imported no-op shows the object it adopts.
        if c.action == Action::NoOp
            && c.importing.is_some()
            && let Some(r) = refreshed.get(&c.address)
        {
            c.before = Json::Object(r.attributes.clone());
            c.after = Value::from_json(&c.before);
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
        checks,
        moves,
        forgets,
        evaluated,
    })
}

/// What an instance's destroy waits for: what the state recorded, and, while the
/// configuration still declares it, what the configuration says it depends on (a state
/// written before a `moved` block names the old addresses).
/// (The configuration's part is computed once per resource, in `cache`.)
fn destroy_dependencies(
    stack: &Stack,
    r: &ResourceState,
    cache: &mut BTreeMap<ResourceId, Vec<ResourceId>>,
) -> Vec<ResourceId> {
    let mut deps = recorded_dependencies(r);
    let id = &r.address.resource;
    if stack.resources.contains_key(id) {
        let configured = cache.entry(id.clone()).or_insert_with(|| {
            stack
                .resource_dependencies(id)
                .into_iter()
                .filter(|d| d.mode == Mode::Managed && d != id)
                .collect()
        });
        deps.extend(configured.iter().cloned());
        deps.sort();
        deps.dedup();
    }
    deps
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
        after: after.clone(),
        changed: vec![],
        replace_paths: vec![],
        reason: None,
        depends_on: depends_on.clone(),
        importing: None,
        deposed: false,
        notes: vec![],
        provider: rc.provider_config.clone(),
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
        c.after = Value::Null;
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
    change.notes = t.plan_notes(Some(&prior.attributes), &change.after.to_json());
    if change.action.is_replace() {
        change
            .notes
            .extend(t.delete_note().map(|n| format!("{addr}: {n}")));
    }
    (change, None)
}
