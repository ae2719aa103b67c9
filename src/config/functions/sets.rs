//! Set and list-reduction functions: `setproduct`, `setunion`, `setintersection`,
//! `setsubtract`, `transpose`, `sum`, `alltrue`, `anytrue`. Sets are lists here, in
//! `toset`'s order (sorted, without duplicates).

use super::{list_arg, map_arg, num_arg, sort_key, str_arg};
use crate::value::Value;
use std::collections::BTreeMap;

/// `Ok(None)` when `name` is not one of this family's functions.
pub(super) fn call(name: &str, args: &[Value]) -> Result<Option<Value>, String> {
    let v = match name {
        "setproduct" => {
            if args.len() < 2 {
                return Err("at least two arguments are required".into());
            }
            let mut rows: Vec<Vec<Value>> = vec![vec![]];
            for a in args {
                let items = list_arg(a, "argument")?;
                rows = rows
                    .iter()
                    .flat_map(|r| {
                        items.iter().map(move |i| {
                            let mut r = r.clone();
                            r.push(i.clone());
                            r
                        })
                    })
                    .collect();
            }
            Value::List(rows.into_iter().map(Value::List).collect())
        }
        "setunion" | "setintersection" | "setsubtract" => {
            if args.is_empty() || (name == "setsubtract" && args.len() != 2) {
                return Err(match name {
                    "setsubtract" => "takes 2 arguments".into(),
                    _ => "at least one argument is required".into(),
                });
            }
            let sets = args
                .iter()
                .map(|a| list_arg(a, "argument").map(set))
                .collect::<Result<Vec<_>, _>>()?;
            let (first, rest) = sets.split_first().expect("checked above");
            let out: Vec<Value> = match name {
                "setunion" => set(sets.concat()),
                "setintersection" => first
                    .iter()
                    .filter(|v| rest.iter().all(|s| s.contains(v)))
                    .cloned()
                    .collect(),
                _ => first
                    .iter()
                    .filter(|v| !rest[0].contains(v))
                    .cloned()
                    .collect(),
            };
            Value::List(out)
        }
        "transpose" => {
            let m = map_arg(args.first().ok_or("takes 1 argument")?, "argument")?;
            let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            for (k, vs) in m {
                for v in list_arg(&vs, "each value")? {
                    let v = str_arg(&v, "each list element")?;
                    out.entry(v).or_default().push(Value::String(k.clone()));
                }
            }
            Value::Map(out.into_iter().map(|(k, v)| (k, Value::List(v))).collect())
        }
        "sum" => {
            let l = list_arg(args.first().ok_or("takes 1 argument")?, "argument")?;
            if l.is_empty() {
                return Err("cannot sum an empty list".into());
            }
            let mut total = 0.0;
            for v in &l {
                if v.is_null() {
                    return Err(
                        "argument must be list, set, or tuple of number values, not null".into(),
                    );
                }
                total += num_arg(v, "each element")?;
            }
            Value::Number(total)
        }
        "alltrue" | "anytrue" => {
            let l = list_arg(args.first().ok_or("takes 1 argument")?, "argument")?;
            let bools = l
                .iter()
                .map(|v| match v {
                    Value::Bool(b) => Ok(*b),
                    Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
                    Value::Null => Ok(false),
                    other => Err(format!("elements must be bools, got {}", other.type_name())),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Value::Bool(match name {
                "alltrue" => bools.iter().all(|b| *b),
                _ => bools.iter().any(|b| *b),
            })
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// A list as a set: sorted as `toset` sorts, without duplicates.
fn set(mut items: Vec<Value>) -> Vec<Value> {
    items.sort_by_key(sort_key);
    items.dedup();
    items
}
