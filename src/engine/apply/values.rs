//! One evaluation scope for a run, and the final attributes of each operation.

use crate::address::{Address, InstanceKey, Mode, ModuleInstance, ResourceId};
use crate::config::stack::{Expansion, Instances, Node, Stack};
use crate::engine::diff::{merge_computed, normalize, normalize_json, same};
use crate::engine::plan::{Action, ResourceChange};
use crate::provider::{Attrs, ResourceType};
use crate::value::Value;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// The value of every instance, held in one evaluation scope and updated in place as
/// operations finish (no second copy, no rebuild per operation). Locals and data sources
/// built from resources are re-evaluated only when something that refers to a changed
/// resource is evaluated (with the graph's by-resource ordering, about once per resource).
pub(super) struct Values {
    scope: crate::config::eval::Scope,
    /// Resources changed since the locals and data sources were last evaluated.
    changed: BTreeSet<ResourceId>,
    /// count/for_each expansions, evaluated once per resource.
    pub expansions: BTreeMap<ResourceId, BTreeMap<Option<InstanceKey>, Expansion>>,
}

impl Values {
    /// The scope of a run: every managed resource from `values` (consumed), then locals
    /// and data sources in dependency order.
    pub fn new(
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
        for node in stack.order() {
            match &node {
                Node::Resource(id) if id.mode == Mode::Managed => {
                    let mut mine = values.split_off(&id.instance(None));
                    let rest = mine.split_off(
                        &ResourceId {
                            name: format!("{}\u{0}", id.name),
                            ..id.clone()
                        }
                        .instance(None),
                    );
                    values.extend(rest);
                    let v = resource_value(stack, id, mine);
                    stack.set_resource(&mut scope, id, v);
                }
                Node::Output(m, _) | Node::Var(m, _) if m.is_root() => {}
                _ => eval_local_or_data(stack, &node, &mut scope, data),
            }
        }
        stack.enter(&mut scope, &ModuleInstance::root());
        Values {
            scope,
            changed: BTreeSet::new(),
            expansions: BTreeMap::new(),
        }
    }

    /// Continues from a scope the plan filled (this process's one evaluation).
    pub fn from_scope(scope: crate::config::eval::Scope) -> Values {
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
        self.scope.enter(&id.module);
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

    pub fn set(&mut self, addr: &Address, value: Value) {
        if let Some(slot) = self.slot(addr) {
            *slot = value;
        }
        self.changed.insert(addr.resource.clone());
    }

    pub fn remove(&mut self, addr: &Address) {
        let id = &addr.resource;
        self.scope.enter(&id.module);
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
    pub fn scope(
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
            || !stack.modules.is_empty()
            || stack.resources.keys().any(|id| id.mode == Mode::Data);
        if stale && has_derived {
            for node in stack.order() {
                match &node {
                    Node::Resource(id) if id.mode == Mode::Managed => {}
                    Node::Output(m, _) | Node::Var(m, _) if m.is_root() => {}
                    _ => eval_local_or_data(stack, &node, &mut self.scope, data),
                }
            }
            self.changed.clear();
        }
        &mut self.scope
    }
}

/// The value of all instances of a managed resource, from its instances' values.
fn resource_value(stack: &Stack, id: &ResourceId, values: BTreeMap<Address, Value>) -> Value {
    let Some(rc) = stack.resources.get(id) else {
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
        Node::Resource(id) if id.mode == Mode::Data => {
            let rc = &stack.resources[id];
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
            stack.set_resource(scope, id, inst.to_value());
        }
        Node::Resource(_) => {}
        _ => {
            let _ = stack.eval_value_node(scope, node);
        }
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
pub(super) fn final_attributes(
    t: &dyn ResourceType,
    stack: &Stack,
    change: &ResourceChange,
    prior: Option<&Attrs>,
    values: &Mutex<Values>,
    data: &BTreeMap<String, Json>,
) -> anyhow::Result<Attrs> {
    let schema = &t.schema().block;
    let rc = stack
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
    crate::engine::diff::apply_plan_local(t, &mut config, stack.dir_of(&rc.id.module))?;
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
    let promised = &change.after;
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
pub(super) fn known_at_plan(promised: &Value, schema: &crate::provider::schema::Block) -> bool {
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
pub(super) fn drop_computed_unknowns(
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
