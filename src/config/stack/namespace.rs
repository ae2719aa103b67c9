//! A module instance's namespace in the evaluation scope: the names its expressions see
//! (`path`, `terraform`, `var`, `local`, the keys of its module calls), entered before
//! anything in it is evaluated, and the input variables and outputs that connect it to
//! its caller.

use super::Stack;
use crate::address::{InstanceKey, ModuleInstance};
use crate::config::Module;
use crate::config::eval::Scope;
use crate::diag::Diagnostic;
use crate::value::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

impl Stack {
    /// `path`, `terraform` and an empty `local` for a module's namespace.
    pub(super) fn base_roots(&self, s: &mut Scope, def: &Module) {
        let dir = def.dir.display().to_string();
        let root = self.module.dir.display().to_string();
        let cwd = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        s.dir = def.dir.clone();
        s.roots.insert(
            "path".into(),
            Value::Map(
                [
                    ("module".to_string(), Value::String(dir)),
                    ("root".into(), Value::String(root)),
                    ("cwd".into(), Value::String(cwd)),
                ]
                .into(),
            ),
        );
        let ws = Value::Map(
            [(
                "workspace".to_string(),
                Value::String(self.workspace.clone()),
            )]
            .into(),
        );
        s.roots.insert("terraform".into(), ws.clone());
        s.roots.insert("thingform".into(), ws);
        s.root_map("local");
    }

    /// Fills a module instance's namespace with what is known before evaluation: the
    /// base roots, the root's variables, and for each module call the instances it has
    /// (`module.site` has its keys before any output is known).
    pub(super) fn init_namespace(&self, s: &mut Scope, m: &ModuleInstance) {
        let def = self.def(m).clone();
        self.base_roots(s, &def);
        let vars = if m.is_root() {
            self.vars.clone()
        } else {
            BTreeMap::new()
        };
        s.roots.insert("var".into(), Value::Map(vars));
        for call in def.module_calls.values() {
            let insts: Vec<&ModuleInstance> = self.instances_of_call(m, &call.name).collect();
            let v = if call.count.is_some() {
                Value::List(insts.iter().map(|_| Value::Map(BTreeMap::new())).collect())
            } else if call.for_each.is_some() {
                Value::Map(
                    insts
                        .iter()
                        .filter_map(|i| match &i.0.last()?.1 {
                            Some(InstanceKey::Str(k)) => {
                                Some((k.clone(), Value::Map(BTreeMap::new())))
                            }
                            _ => None,
                        })
                        .collect(),
                )
            } else {
                Value::Map(BTreeMap::new())
            };
            s.root_map("module").insert(call.name.clone(), v);
        }
    }

    /// Makes `m` the module instance whose names `scope` shows, filling its namespace
    /// the first time.
    pub fn enter(&self, scope: &mut Scope, m: &ModuleInstance) {
        if scope.enter(m) {
            self.init_namespace(scope, m);
        }
    }

    /// Evaluates input variable `name` of module instance `m` (not the root) from the
    /// call's argument in the caller, into `m`'s namespace.
    pub fn eval_module_var(
        &self,
        scope: &mut Scope,
        m: &ModuleInstance,
        name: &str,
    ) -> Result<(), Diagnostic> {
        let (Some(inst), Some((parent, _))) = (self.modules.get(m), m.parent()) else {
            return Ok(());
        };
        let Some(var) = inst.def.variables.get(name) else {
            return Ok(());
        };
        let value = match inst.call.args.iter().find(|a| a.name == name) {
            Some(arg) => {
                self.enter(scope, &parent);
                let r = match inst.binding() {
                    Some((n, v)) => scope.with_root(n, v, |s| s.eval(&arg.expr)),
                    None => scope.eval(&arg.expr),
                };
                let v = r.map_err(|e| {
                    Diagnostic::error(
                        "Invalid value for input variable",
                        format!("{m}: var.{name}: {e}"),
                        Some(&arg.loc),
                    )
                })?;
                match (&var.ty, v.has_unknown()) {
                    (Some(t), false) => t.convert(v).map_err(|e| {
                        Diagnostic::error(
                            "Invalid value for input variable",
                            format!(
                                "{m}: var.{name} must be {}: {e}. Fix the argument in the module block.",
                                t.describe()
                            ),
                            Some(&arg.loc),
                        )
                    })?,
                    _ => v,
                }
            }
            None => default_value(var)?,
        };
        if !value.has_unknown() {
            validate(var, &value, m)?;
        }
        self.enter(scope, m);
        scope.root_map("var").insert(name.to_string(), value);
        Ok(())
    }

    /// Evaluates output `name` of module instance `m` (not the root) and stores it
    /// where the caller sees it: `module.CALL`, `module.CALL[KEY]`.
    pub fn eval_module_output(
        &self,
        scope: &mut Scope,
        m: &ModuleInstance,
        name: &str,
    ) -> Result<(), Diagnostic> {
        let (Some(inst), Some((parent, (call, key)))) = (self.modules.get(m), m.parent()) else {
            return Ok(());
        };
        let Some(out) = inst.def.outputs.get(name) else {
            return Ok(());
        };
        self.enter(scope, m);
        let v = scope.eval(&out.value.expr).map_err(|e| {
            Diagnostic::error(
                "Invalid output value",
                format!("{m}: output.{name}: {e}"),
                Some(&out.value.loc),
            )
        });
        let v = v.unwrap_or(Value::Unknown);
        let (call, key) = (call.clone(), key.clone());
        self.enter(scope, &parent);
        let slot = scope
            .root_map("module")
            .entry(call)
            .or_insert_with(|| Value::Map(BTreeMap::new()));
        let obj = match (&key, slot) {
            (None, slot) => Some(slot),
            (Some(InstanceKey::Str(k)), Value::Map(m)) => Some(
                m.entry(k.clone())
                    .or_insert_with(|| Value::Map(BTreeMap::new())),
            ),
            (Some(InstanceKey::Int(i)), Value::List(l)) => {
                usize::try_from(*i).ok().and_then(|i| l.get_mut(i))
            }
            _ => None,
        };
        if let Some(obj) = obj {
            if !matches!(obj, Value::Map(_)) {
                *obj = Value::Map(BTreeMap::new());
            }
            if let Value::Map(o) = obj {
                o.insert(name.to_string(), v);
            }
        }
        Ok(())
    }
}

pub(super) fn default_value(var: &crate::config::Variable) -> Result<Value, Diagnostic> {
    match &var.default {
        Some(d) => {
            let v = Scope::new(PathBuf::new()).eval(&d.expr).map_err(|e| {
                Diagnostic::error(
                    "Invalid default value",
                    format!("{e}. A default must be a literal value without references."),
                    Some(&d.loc),
                )
            })?;
            match &var.ty {
                Some(t) => t.convert(v.clone()).or(Ok(v)),
                None => Ok(v),
            }
        }
        None => Ok(Value::Null),
    }
}

/// A module variable's validation blocks, for a known value.
fn validate(
    var: &crate::config::Variable,
    value: &Value,
    m: &ModuleInstance,
) -> Result<(), Diagnostic> {
    let mut scope = Scope::new(PathBuf::new());
    scope
        .root_map("var")
        .insert(var.name.clone(), value.clone());
    for (cond, msg) in &var.validations {
        if let Ok(Value::Bool(false)) = scope.eval(&cond.expr) {
            let message = scope
                .eval(&msg.expr)
                .ok()
                .and_then(|m| m.to_template_string())
                .unwrap_or_default();
            return Err(Diagnostic::error(
                "Invalid value for variable",
                format!("{m}: var.{}: {message}", var.name),
                Some(&cond.loc),
            ));
        }
    }
    Ok(())
}
