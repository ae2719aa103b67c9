//! Collection functions over lists and maps.

use super::{arity, list_arg, map_arg, num_arg, sort_key, str_arg};
use crate::value::Value;
use std::collections::BTreeMap;

/// `Ok(None)` when `name` is not one of this family's functions.
pub(super) fn call(name: &str, args: &[Value]) -> Result<Option<Value>, String> {
    let v = match name {
        "length" => match args.first() {
            Some(Value::List(l)) => Ok(Value::Number(l.len() as f64)),
            Some(Value::Map(m)) => Ok(Value::Number(m.len() as f64)),
            Some(Value::String(x)) => Ok(Value::Number(x.chars().count() as f64)),
            Some(Value::Unknown) => Ok(Value::Unknown),
            Some(other) => Err(format!("cannot take the length of a {}", other.type_name())),
            None => Err("takes 1 argument".into()),
        },
        "coalesce" => {
            for a in args {
                match a {
                    Value::Unknown => return Ok(Some(Value::Unknown)),
                    Value::Null => continue,
                    Value::String(x) if x.is_empty() => continue,
                    other => return Ok(Some(other.clone())),
                }
            }
            Err("no non-null, non-empty argument".into())
        }
        "coalescelist" => {
            for a in args {
                if let Value::List(l) = a
                    && !l.is_empty()
                {
                    return Ok(Some(a.clone()));
                }
            }
            Ok(Value::List(vec![]))
        }
        "compact" => Ok(Value::List(
            list_arg(args.first().ok_or("takes 1 argument")?, "list")?
                .into_iter()
                .filter(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
                .collect(),
        )),
        "concat" => {
            let mut out = vec![];
            for a in args {
                out.extend(list_arg(a, "argument")?);
            }
            Ok(Value::List(out))
        }
        "contains" => {
            arity(args, 2)?;
            Ok(Value::Bool(list_arg(&args[0], "list")?.contains(&args[1])))
        }
        "index" => {
            arity(args, 2)?;
            list_arg(&args[0], "list")?
                .iter()
                .position(|v| v == &args[1])
                .map(|i| Value::Number(i as f64))
                .ok_or_else(|| "value not found in the list".into())
        }
        "distinct" => {
            let mut out: Vec<Value> = vec![];
            for v in list_arg(args.first().ok_or("takes 1 argument")?, "list")? {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
            Ok(Value::List(out))
        }
        "element" => {
            arity(args, 2)?;
            let l = list_arg(&args[0], "list")?;
            if l.is_empty() {
                return Err("cannot use element() on an empty list".into());
            }
            let i = num_arg(&args[1], "index")? as usize;
            Ok(l[i % l.len()].clone())
        }
        "flatten" => {
            fn flat(v: Value, out: &mut Vec<Value>) {
                match v {
                    Value::List(l) => l.into_iter().for_each(|x| flat(x, out)),
                    other => out.push(other),
                }
            }
            let mut out = vec![];
            flat(
                Value::List(list_arg(args.first().ok_or("takes 1 argument")?, "list")?),
                &mut out,
            );
            Ok(Value::List(out))
        }
        "keys" => Ok(Value::List(
            map_arg(args.first().ok_or("takes 1 argument")?, "map")?
                .into_keys()
                .map(Value::String)
                .collect(),
        )),
        "values" => Ok(Value::List(
            map_arg(args.first().ok_or("takes 1 argument")?, "map")?
                .into_values()
                .collect(),
        )),
        "lookup" => {
            if args.len() < 2 || args.len() > 3 {
                return Err("takes a map, a key and an optional default".into());
            }
            let m = map_arg(&args[0], "map")?;
            let k = str_arg(&args[1], "key")?;
            match (m.get(&k), args.get(2)) {
                (Some(v), _) => Ok(v.clone()),
                (None, Some(d)) => Ok(d.clone()),
                (None, None) => Err(format!("the map has no key {k:?} and no default was given")),
            }
        }
        "merge" => {
            let mut out = BTreeMap::new();
            for a in args {
                out.extend(map_arg(a, "argument")?);
            }
            Ok(Value::Map(out))
        }
        "one" => {
            let l = list_arg(args.first().ok_or("takes 1 argument")?, "list")?;
            match l.len() {
                0 => Ok(Value::Null),
                1 => Ok(l[0].clone()),
                n => Err(format!("must have zero or one elements, has {n}")),
            }
        }
        "range" => {
            let nums = args
                .iter()
                .map(|a| num_arg(a, "argument"))
                .collect::<Result<Vec<_>, _>>()?;
            let (start, end, step) = match nums.as_slice() {
                [e] => (0.0, *e, 1.0),
                [s, e] => (*s, *e, if e >= s { 1.0 } else { -1.0 }),
                [s, e, st] => (*s, *e, *st),
                _ => return Err("takes 1 to 3 numbers".into()),
            };
            if step == 0.0 {
                return Err("step must not be zero".into());
            }
            let mut out = vec![];
            let mut x = start;
            while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
                out.push(Value::Number(x));
                x += step;
                if out.len() > 1_000_000 {
                    return Err("range is too large".into());
                }
            }
            Ok(Value::List(out))
        }
        "reverse" => {
            let mut l = list_arg(args.first().ok_or("takes 1 argument")?, "list")?;
            l.reverse();
            Ok(Value::List(l))
        }
        "slice" => {
            arity(args, 3)?;
            let l = list_arg(&args[0], "list")?;
            let (a, b) = (
                num_arg(&args[1], "start")? as usize,
                num_arg(&args[2], "end")? as usize,
            );
            if a > b || b > l.len() {
                return Err(format!(
                    "indexes {a}..{b} out of range for a list of {}",
                    l.len()
                ));
            }
            Ok(Value::List(l[a..b].to_vec()))
        }
        "sort" => {
            let mut l = list_arg(args.first().ok_or("takes 1 argument")?, "list")?;
            l.sort_by_key(sort_key);
            Ok(Value::List(l))
        }
        "zipmap" => {
            arity(args, 2)?;
            let (k, v) = (list_arg(&args[0], "keys")?, list_arg(&args[1], "values")?);
            if k.len() != v.len() {
                return Err("keys and values must have the same length".into());
            }
            Ok(Value::Map(
                k.iter()
                    .map(|x| str_arg(x, "key"))
                    .collect::<Result<Vec<_>, _>>()?
                    .into_iter()
                    .zip(v)
                    .collect(),
            ))
        }
        _ => return Ok(None),
    };
    v.map(Some)
}
