//! Input variable values: defaults, `TF_VAR_*`, `terraform.tfvars`, `*.auto.tfvars`,
//! then `-var` and `-var-file` in command-line order (later wins, as in Terraform).

use super::eval::Scope;
use super::{Module, display_path, parse_file};
use crate::diag::{Diagnostic, Diagnostics, Loc};
use crate::value::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One `-var NAME=VALUE` or `-var-file PATH`, in command-line order.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum VarInput {
    Assign(String),
    File(PathBuf),
    /// A value already evaluated (a test file's `variables` block), converted to the
    /// variable's type and validated like any other; `origin` names where it was written.
    #[serde(skip)]
    Value {
        name: String,
        value: Value,
        origin: String,
        loc: Loc,
    },
}

struct Source {
    value: Value,
    origin: String,
}

fn parse_raw(module: &Module, name: &str, raw: &str) -> Result<Value, String> {
    let is_string = module
        .variables
        .get(name)
        .map(|v| matches!(v.ty, None | Some(super::types::TypeConstraint::String)))
        .unwrap_or(true);
    if is_string {
        return Ok(Value::String(raw.to_string()));
    }
    let body = hcl::parse(&format!("v = {raw}\n"))
        .map_err(|e| format!("cannot parse {raw:?} as an HCL value: {e}"))?;
    let expr = body
        .attributes()
        .next()
        .map(|a| a.expr.clone())
        .ok_or("empty value")?;
    Scope::new(PathBuf::from(".")).eval(&expr)
}

fn load_tfvars(
    path: &Path,
    into: &mut Vec<(String, Source, Option<Loc>)>,
    diags: &mut Diagnostics,
) {
    let src = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => {
            diags.push(Diagnostic::error(
                "Cannot read variables file",
                format!("{}: {e}", path.display()),
                None,
            ));
            return;
        }
    };
    let file = display_path(path);
    if path.extension().and_then(|e| e.to_str()) == Some("json") {
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&src) {
            Ok(m) => {
                for (k, v) in m {
                    into.push((
                        k,
                        Source {
                            value: Value::from_json(&v),
                            origin: file.clone(),
                        },
                        None,
                    ));
                }
            }
            Err(e) => diags.push(Diagnostic::error(
                "Invalid JSON variables file",
                format!("{file}: {e}"),
                None,
            )),
        }
        return;
    }
    match parse_file(&file, &src) {
        Ok(root) => {
            for b in &root.blocks {
                diags.push(Diagnostic::error(
                    "Unexpected block in variables file",
                    "A variables file holds only `name = value` lines.",
                    Some(&b.loc),
                ));
            }
            let scope = Scope::new(path.parent().unwrap_or(Path::new(".")).to_path_buf());
            for a in root.attrs {
                match scope.eval(&a.expr) {
                    Ok(v) => into.push((
                        a.name.clone(),
                        Source {
                            value: v,
                            origin: file.clone(),
                        },
                        Some(a.loc),
                    )),
                    Err(e) => diags.push(Diagnostic::error(
                        "Invalid variable value",
                        format!("{e}. Values in a variables file must be literals: no references."),
                        Some(&a.loc),
                    )),
                }
            }
        }
        Err(d) => diags.push(d),
    }
}

/// Resolves every declared variable to a value, or explains which are missing or wrong.
pub fn resolve(
    module: &Module,
    inputs: &[VarInput],
) -> Result<(BTreeMap<String, Value>, Vec<Diagnostic>), Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut given: Vec<(String, Source, Option<Loc>)> = vec![];
    let mut env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("TF_VAR_"))
        .collect();
    env.sort();
    for (k, raw) in env {
        let name = k.trim_start_matches("TF_VAR_").to_string();
        if !module.variables.contains_key(&name) {
            continue; // Terraform ignores environment values for undeclared variables.
        }
        match parse_raw(module, &name, &raw) {
            Ok(v) => given.push((
                name,
                Source {
                    value: v,
                    origin: format!("environment variable {k}"),
                },
                None,
            )),
            Err(e) => diags.push(Diagnostic::error(
                "Invalid value for variable",
                format!("{k}: {e}"),
                None,
            )),
        }
    }
    let mut files: Vec<PathBuf> = vec![];
    for name in [
        "terraform.tfvars",
        "terraform.tfvars.json",
        "thingform.tfvars",
    ] {
        let p = module.dir.join(name);
        if p.is_file() {
            files.push(p);
        }
    }
    let mut auto: Vec<PathBuf> = std::fs::read_dir(&module.dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json")
                })
                .collect()
        })
        .unwrap_or_default();
    auto.sort();
    files.extend(auto);
    for f in &files {
        load_tfvars(f, &mut given, &mut diags);
    }
    for input in inputs {
        match input {
            VarInput::Assign(s) => {
                let Some((name, raw)) = s.split_once('=') else {
                    diags.push(Diagnostic::error(
                        "Invalid -var option",
                        format!("{s:?}: write it as -var 'NAME=VALUE'."),
                        None,
                    ));
                    continue;
                };
                let name = name.trim().to_string();
                if !module.variables.contains_key(&name) {
                    diags.push(Diagnostic::error(
                        "Value for undeclared variable",
                        format!(
                            "-var sets {name:?}, but the stack declares no variable \"{name}\".{} Declare it with variable \"{name}\" {{}}.",
                            crate::diag::did_you_mean(&name, module.variables.keys().map(String::as_str))
                        ),
                        None,
                    ));
                    continue;
                }
                match parse_raw(module, &name, raw) {
                    Ok(v) => given.push((
                        name,
                        Source {
                            value: v,
                            origin: "-var".into(),
                        },
                        None,
                    )),
                    Err(e) => diags.push(Diagnostic::error(
                        "Invalid value for variable",
                        format!("-var {name}: {e}"),
                        None,
                    )),
                }
            }
            VarInput::File(p) => load_tfvars(p, &mut given, &mut diags),
            VarInput::Value {
                name,
                value,
                origin,
                loc,
            } => given.push((
                name.clone(),
                Source {
                    value: value.clone(),
                    origin: origin.clone(),
                },
                Some(loc.clone()),
            )),
        }
    }
    let mut chosen: BTreeMap<String, (Source, Option<Loc>)> = BTreeMap::new();
    for (name, src, loc) in given {
        if !module.variables.contains_key(&name) {
            diags.push(Diagnostic::warning(
                "Value for undeclared variable",
                format!(
                    "{} sets {name:?}, which the stack does not declare; it is ignored.",
                    src.origin
                ),
                loc.as_ref(),
            ));
            continue;
        }
        chosen.insert(name, (src, loc));
    }
    let mut values = BTreeMap::new();
    for (name, var) in &module.variables {
        let (raw, origin, loc) = match chosen.remove(name) {
            Some((src, loc)) => (src.value, src.origin, loc.or(Some(var.loc.clone()))),
            None => match &var.default {
                Some(d) => match Scope::new(module.dir.clone()).eval(&d.expr) {
                    Ok(v) => (v, "default".to_string(), Some(d.loc.clone())),
                    Err(e) => {
                        diags.push(Diagnostic::error(
                            "Invalid default value",
                            format!("{e}. A default must be a literal value without references."),
                            Some(&d.loc),
                        ));
                        continue;
                    }
                },
                None => {
                    diags.push(Diagnostic::error(
                        "No value for required variable",
                        format!(
                            "var.{name} has no default. Pass it with -var '{name}=...', a -var-file, a *.auto.tfvars file or TF_VAR_{name}."
                        ),
                        Some(&var.loc),
                    ));
                    continue;
                }
            },
        };
        let value = match &var.ty {
            Some(t) => match t.convert(raw) {
                Ok(v) => v,
                Err(e) => {
                    diags.push(Diagnostic::error(
                        "Invalid value for variable",
                        format!("var.{name} (from {origin}) must be {}: {e}.", t.describe()),
                        loc.as_ref(),
                    ));
                    continue;
                }
            },
            None => raw,
        };
        if value.is_null() && !var.nullable {
            diags.push(Diagnostic::error(
                "Null value for non-nullable variable",
                format!("var.{name} is declared nullable = false; give it a value."),
                loc.as_ref(),
            ));
            continue;
        }
        let mut scope = Scope::new(module.dir.clone());
        scope.root_map("var").insert(name.clone(), value.clone());
        for (cond, msg) in &var.validations {
            match scope.eval(&cond.expr) {
                Ok(Value::Bool(true)) => {}
                Ok(Value::Bool(false)) => {
                    let message = scope
                        .eval(&msg.expr)
                        .ok()
                        .and_then(|m| m.to_template_string())
                        .unwrap_or_default();
                    diags.push(Diagnostic::error(
                        "Invalid value for variable",
                        format!("var.{name} (from {origin}): {message}"),
                        Some(&cond.loc),
                    ));
                }
                Ok(other) => diags.push(Diagnostic::error(
                    "Invalid validation condition",
                    format!("the condition must be a bool, got {}", other.type_name()),
                    Some(&cond.loc),
                )),
                Err(e) => diags.push(Diagnostic::error(
                    "Invalid validation condition",
                    e,
                    Some(&cond.loc),
                )),
            }
        }
        values.insert(name.clone(), value);
    }
    diags.into_result().map(|warnings| (values, warnings))
}
