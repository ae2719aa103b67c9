//! Scopes and instances: the base scope, locals, count/for_each expansion, and one
//! instance's value against its schema.

use super::{Expansion, Instances, Node, Stack, eval_block, schema_for};
use crate::address::{InstanceKey, Mode, ModuleInstance, ResourceId};
use crate::config::eval::Scope;
use crate::config::{Attr, ResourceConfig};
use crate::diag::{Diagnostic, Diagnostics};
use crate::provider;
use crate::value::Value;
use std::collections::BTreeMap;

impl Stack {
    /// The root module's namespace: `var`, `path`, `terraform` and the keys of each
    /// module call. Module instances' namespaces are filled when first entered.
    pub fn base_scope(&self) -> Scope {
        let mut s = Scope::new(self.module.dir.clone());
        self.init_namespace(&mut s, &ModuleInstance::root());
        s
    }

    /// Sets the value of a resource's instances in `scope` (in its module instance).
    pub fn set_resource(&self, scope: &mut Scope, id: &ResourceId, v: Value) {
        self.enter(scope, &id.module);
        put_resource(scope, id, v);
    }

    pub fn eval_local(
        &self,
        scope: &mut Scope,
        m: &ModuleInstance,
        name: &str,
    ) -> Result<(), Diagnostic> {
        let Some(attr) = self.def(m).locals.get(name) else {
            return Ok(());
        };
        self.enter(scope, m);
        let v = scope.eval(&attr.expr).map_err(|e| {
            let at = if m.is_root() {
                String::new()
            } else {
                format!("{m}: ")
            };
            Diagnostic::error(
                "Invalid local value",
                format!("{at}local.{name}: {e}"),
                Some(&attr.loc),
            )
        })?;
        scope.root_map("local").insert(name.to_string(), v);
        Ok(())
    }

    /// Evaluates a variable (of a module instance; the root's are given), a local or
    /// a module output: the objects between resources.
    pub fn eval_value_node(&self, scope: &mut Scope, node: &Node) -> Result<(), Diagnostic> {
        match node {
            Node::Var(m, n) if !m.is_root() => self.eval_module_var(scope, m, n),
            Node::Local(m, n) => self.eval_local(scope, m, n),
            Node::Output(m, n) if !m.is_root() => self.eval_module_output(scope, m, n),
            _ => Ok(()),
        }
    }

    /// Evaluates every variable, local and module output in order, with whatever
    /// resource values `scope` holds.
    pub fn eval_locals(&self, scope: &mut Scope) -> Result<(), Diagnostic> {
        for n in self.order() {
            if !matches!(n, Node::Resource(_)) {
                self.eval_value_node(scope, &n)?;
            }
        }
        self.enter(scope, &ModuleInstance::root());
        Ok(())
    }

    /// The instances `count` or `for_each` produce. Their value must be known at plan time.
    pub fn expand(
        &self,
        rc: &ResourceConfig,
        scope: &mut Scope,
    ) -> Result<Vec<Expansion>, Diagnostic> {
        self.enter(scope, &rc.id.module);
        expand_meta(rc.count.as_ref(), rc.for_each.as_ref(), scope)
    }

    /// An empty container of the right shape for a resource's instances.
    pub fn empty_instances(rc: &ResourceConfig) -> Instances {
        if rc.count.is_some() {
            Instances::Count(vec![])
        } else if rc.for_each.is_some() {
            Instances::ForEach(BTreeMap::new())
        } else {
            Instances::Single(Value::Null)
        }
    }

    /// Evaluates one instance's body against its schema: the configuration value, with
    /// defaults applied, types converted, sets sorted and JSON documents canonical.
    pub fn eval_instance(
        &self,
        rc: &ResourceConfig,
        exp: &Expansion,
        scope: &mut Scope,
    ) -> Result<Value, Diagnostics> {
        self.enter(scope, &rc.id.module);
        let schema = schema_for(&rc.id).ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "Unsupported resource type",
                rc.id.rtype.clone(),
                Some(&rc.loc),
            ))
        })?;
        // `count` / `each` are bound for this instance only (no copy of the scope: it
        // holds every instance evaluated so far).
        let bound = exp
            .each
            .as_ref()
            .map(|(k, v)| binding(rc.count.is_some(), k, v));
        let mut diags = Diagnostics::default();
        let what = format!("{}", rc.id);
        let v = match bound {
            Some((name, value)) => scope.with_root(name, value, |s| {
                eval_block(s, &rc.body, schema, &what, &mut diags)
            }),
            None => eval_block(scope, &rc.body, schema, &what, &mut diags),
        };
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(v)
        }
    }

    /// The value of the default provider block (`{}` when there is none), or of the
    /// one with `alias`.
    pub fn provider_config(
        &self,
        scope: &Scope,
        alias: Option<&str>,
    ) -> Result<Value, Diagnostics> {
        let block = match alias {
            None => self.module.provider.as_ref(),
            Some(a) => self.module.provider_aliases.get(a),
        };
        match block {
            None => Ok(Value::Map(BTreeMap::new())),
            Some(p) => {
                let mut diags = Diagnostics::default();
                let v = eval_block(
                    &mut scope.clone(),
                    p,
                    &provider::provider_schema(),
                    "provider \"aws\"",
                    &mut diags,
                );
                if diags.has_errors() {
                    Err(diags)
                } else {
                    Ok(v)
                }
            }
        }
    }
}

/// The instances a `count` or `for_each` argument produces (one unkeyed instance
/// without either). Their keys must be known at plan time.
pub(super) fn expand_meta(
    count: Option<&Attr>,
    for_each: Option<&Attr>,
    scope: &Scope,
) -> Result<Vec<Expansion>, Diagnostic> {
    if let Some(c) = count {
        let v = scope
            .eval(&c.expr)
            .map_err(|e| Diagnostic::error("Invalid count argument", e, Some(&c.loc)))?;
        let n = match v {
            Value::Number(n) if n >= 0.0 && n.fract() == 0.0 => n as i64,
            Value::Unknown => {
                return Err(Diagnostic::error(
                    "Invalid count argument",
                    "The count value depends on resource attributes that cannot be determined until apply. Use a variable or a literal, or apply the resources it depends on first with -target.",
                    Some(&c.loc),
                ));
            }
            other => {
                return Err(Diagnostic::error(
                    "Invalid count argument",
                    format!("count must be a whole number >= 0, got {other}"),
                    Some(&c.loc),
                ));
            }
        };
        return Ok((0..n)
            .map(|i| Expansion {
                key: Some(InstanceKey::Int(i)),
                each: Some((Value::Number(i as f64), Value::Null)),
            })
            .collect());
    }
    if let Some(fe) = for_each {
        let v = scope
            .eval(&fe.expr)
            .map_err(|e| Diagnostic::error("Invalid for_each argument", e, Some(&fe.loc)))?;
        // A map's keys are known even when its values are not (e.g. `for_each =
        // aws_s3_bucket.archive`, whose instances are created in this apply): only
        // an unknown collection or an unknown set element leaves the keys unknown.
        let keys_unknown = match &v {
            Value::Map(_) => false,
            Value::List(l) => l.iter().any(Value::has_unknown),
            other => other.has_unknown(),
        };
        if keys_unknown {
            return Err(Diagnostic::error(
                "Invalid for_each argument",
                "The for_each keys depend on resource attributes that cannot be determined until apply. Use a map (its values may be known only after apply) or a set of strings built from variables.",
                Some(&fe.loc),
            ));
        }
        let pairs: Vec<(String, Value)> = match v {
            Value::Map(m) => m.into_iter().collect(),
            Value::List(l) => {
                let mut out = vec![];
                for item in l {
                    match item {
                        Value::String(s) => out.push((s.clone(), Value::String(s))),
                        other => {
                            return Err(Diagnostic::error(
                                "Invalid for_each argument",
                                format!(
                                    "for_each over a set needs strings, got a {}; use toset([...]) of strings or a map",
                                    other.type_name()
                                ),
                                Some(&fe.loc),
                            ));
                        }
                    }
                }
                out.sort_by(|a, b| a.0.cmp(&b.0));
                out.dedup_by(|a, b| a.0 == b.0);
                out
            }
            other => {
                return Err(Diagnostic::error(
                    "Invalid for_each argument",
                    format!(
                        "for_each needs a map or a set of strings, got {}",
                        other.type_name()
                    ),
                    Some(&fe.loc),
                ));
            }
        };
        return Ok(pairs
            .into_iter()
            .map(|(k, v)| Expansion {
                key: Some(InstanceKey::Str(k.clone())),
                each: Some((Value::String(k), v)),
            })
            .collect());
    }
    Ok(vec![Expansion {
        key: None,
        each: None,
    }])
}

/// Puts a resource's value in the scope's current namespace.
pub(super) fn put_resource(scope: &mut Scope, id: &ResourceId, v: Value) {
    match id.mode {
        Mode::Managed => {
            scope.root_map(&id.rtype).insert(id.name.clone(), v);
        }
        Mode::Data => {
            let data = scope.root_map("data");
            let t = data
                .entry(id.rtype.clone())
                .or_insert_with(|| Value::Map(BTreeMap::new()));
            if let Value::Map(m) = t {
                m.insert(id.name.clone(), v);
            }
        }
    }
}

/// The `count` (`counted`) or `each` object an instance's expressions see.
pub(super) fn binding(counted: bool, k: &Value, v: &Value) -> (&'static str, Value) {
    if counted {
        (
            "count",
            Value::Map([("index".to_string(), k.clone())].into()),
        )
    } else {
        (
            "each",
            Value::Map(
                [
                    ("key".to_string(), k.clone()),
                    ("value".to_string(), v.clone()),
                ]
                .into(),
            ),
        )
    }
}
