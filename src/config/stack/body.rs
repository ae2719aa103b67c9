//! Block bodies evaluated against a schema: attributes converted to their types with
//! defaults applied, nested and `dynamic` blocks as lists, JSON documents canonical.

use crate::config::BlockNode;
use crate::config::eval::Scope;
use crate::diag::{Diagnostic, Diagnostics};
use crate::provider::schema::{Block, Ty};
use crate::value::Value;
use crate::value::canonical_json;
use std::collections::BTreeMap;

/// Evaluates a block body to an object: attributes by schema, nested blocks as lists.
pub fn eval_block(
    scope: &mut Scope,
    node: &BlockNode,
    schema: &Block,
    what: &str,
    diags: &mut Diagnostics,
) -> Value {
    let mut out = BTreeMap::new();
    for a in &schema.attrs {
        let v = match node.attr(a.name) {
            Some(attr) => match scope.eval(&attr.expr) {
                Ok(v) => match conform(v, &a.ty) {
                    Ok(v) => v,
                    Err(e) => {
                        diags.push(Diagnostic::error(
                            "Incorrect attribute value type",
                            format!("{what}.{} must be {}: {e}", a.name, a.ty.describe()),
                            Some(&attr.loc),
                        ));
                        Value::Null
                    }
                },
                Err(e) => {
                    diags.push(Diagnostic::error(
                        "Invalid expression",
                        format!("{what}.{}: {e}", a.name),
                        Some(&attr.loc),
                    ));
                    Value::Null
                }
            },
            None => Value::Null,
        };
        let v = match (&v, &a.default) {
            (Value::Null, Some(d)) => Value::from_json(d),
            _ => v,
        };
        out.insert(a.name.to_string(), v);
    }
    for nb in &schema.blocks {
        let mut items = vec![];
        for b in &node.blocks {
            if b.kind == nb.name {
                items.push(eval_block(
                    scope,
                    b,
                    &nb.block,
                    &format!("{what}.{}", nb.name),
                    diags,
                ));
            } else if b.kind == "dynamic" && b.labels.first().map(String::as_str) == Some(nb.name) {
                items.extend(eval_dynamic(scope, b, nb.name, &nb.block, what, diags));
            }
        }
        if nb.set {
            items.sort_by_key(|v| v.to_json().to_string());
        }
        out.insert(nb.name.to_string(), Value::List(items));
    }
    Value::Map(out)
}

fn eval_dynamic(
    scope: &mut Scope,
    b: &BlockNode,
    name: &str,
    schema: &Block,
    what: &str,
    diags: &mut Diagnostics,
) -> Vec<Value> {
    let Some(fe) = b.attr("for_each") else {
        return vec![];
    };
    let iterator = b
        .attr("iterator")
        .and_then(|a| match &a.expr {
            hcl::Expression::Variable(v) => Some(v.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| name.to_string());
    let coll = match scope.eval(&fe.expr) {
        Ok(v) => v,
        Err(e) => {
            diags.push(Diagnostic::error(
                "Invalid dynamic for_each",
                e,
                Some(&fe.loc),
            ));
            return vec![];
        }
    };
    let pairs: Vec<(Value, Value)> = match coll {
        Value::List(l) => l
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Value::Number(i as f64), v))
            .collect(),
        Value::Map(m) => m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
        Value::Null => vec![],
        Value::Unknown => {
            diags.push(Diagnostic::error(
                "Invalid dynamic for_each",
                "The dynamic block's for_each depends on values known only after apply.",
                Some(&fe.loc),
            ));
            return vec![];
        }
        other => {
            diags.push(Diagnostic::error(
                "Invalid dynamic for_each",
                format!("needs a list or map, got {}", other.type_name()),
                Some(&fe.loc),
            ));
            return vec![];
        }
    };
    let Some(content) = b.blocks.iter().find(|c| c.kind == "content") else {
        diags.push(Diagnostic::error(
            "Invalid dynamic block",
            "A dynamic block needs a content { ... } block.",
            Some(&b.loc),
        ));
        return vec![];
    };
    pairs
        .into_iter()
        .map(|(k, v)| {
            scope.with_root(
                &iterator,
                Value::Map([("key".to_string(), k), ("value".to_string(), v)].into()),
                |s| eval_block(s, content, schema, &format!("{what}.{name}"), diags),
            )
        })
        .collect()
}

/// Converts an evaluated value to a schema type.
pub fn conform(v: Value, ty: &Ty) -> Result<Value, String> {
    if matches!(v, Value::Null | Value::Unknown) {
        return Ok(v);
    }
    match (ty, v) {
        (Ty::Any, v) => Ok(v),
        (Ty::String, v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => {
            Ok(Value::String(v.to_template_string().unwrap_or_default()))
        }
        (Ty::Number, Value::Number(n)) => Ok(Value::Number(n)),
        (Ty::Number, Value::String(s)) => s
            .trim()
            .parse()
            .map(Value::Number)
            .map_err(|_| format!("{s:?} is not a number")),
        (Ty::Bool, Value::Bool(b)) => Ok(Value::Bool(b)),
        (Ty::Bool, Value::String(s)) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
        (Ty::Json, Value::String(s)) => {
            if serde_json::from_str::<serde_json::Value>(&s).is_err() {
                return Err("the string is not valid JSON; build it with jsonencode({...})".into());
            }
            Ok(Value::String(canonical_json(&s)))
        }
        (Ty::Json, v @ (Value::Map(_) | Value::List(_))) => {
            if v.has_unknown() {
                return Ok(Value::Unknown);
            }
            Ok(Value::String(canonical_json(&v.to_json().to_string())))
        }
        (Ty::List(t), Value::List(l)) => Ok(Value::List(
            l.into_iter()
                .map(|x| conform(x, t))
                .collect::<Result<_, _>>()?,
        )),
        (Ty::Set(t), Value::List(l)) => {
            let mut items: Vec<Value> = l
                .into_iter()
                .map(|x| conform(x, t))
                .collect::<Result<_, _>>()?;
            if !items.iter().any(Value::has_unknown) {
                items.sort_by_key(|v| v.to_json().to_string());
                items.dedup();
            }
            Ok(Value::List(items))
        }
        (Ty::Map(t), Value::Map(m)) => Ok(Value::Map(
            m.into_iter()
                .map(|(k, x)| conform(x, t).map(|x| (k, x)))
                .collect::<Result<_, _>>()?,
        )),
        (t, v) => Err(format!("got {}", describe_value(&v, t))),
    }
}

fn describe_value(v: &Value, _want: &Ty) -> String {
    match v {
        Value::List(_) => "a list".into(),
        Value::Map(_) => "an object".into(),
        other => format!("{} {other}", other.type_name()),
    }
}
