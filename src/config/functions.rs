//! The Terraform function subset. Every function returns unknown when an argument is
//! unknown (except `length` of a list with unknown elements, which is still known).

use crate::value::{Value, format_number};
use base64::Engine;
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::Path;

pub const NAMES: &[&str] = &[
    "abs",
    "base64decode",
    "base64encode",
    "base64sha256",
    "ceil",
    "chomp",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "distinct",
    "element",
    "endswith",
    "file",
    "filebase64",
    "filebase64sha256",
    "fileexists",
    "filesha256",
    "flatten",
    "floor",
    "format",
    "formatlist",
    "index",
    "join",
    "jsondecode",
    "jsonencode",
    "keys",
    "length",
    "lookup",
    "lower",
    "max",
    "merge",
    "min",
    "one",
    "range",
    "replace",
    "reverse",
    "sha256",
    "slice",
    "sort",
    "split",
    "startswith",
    "strrev",
    "substr",
    "title",
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "upper",
    "values",
    "zipmap",
    "try",
    "can",
];

fn str_arg(v: &Value, what: &str) -> Result<String, String> {
    v.to_template_string()
        .ok_or_else(|| format!("{what} must be a string, got {}", v.type_name()))
}

fn num_arg(v: &Value, what: &str) -> Result<f64, String> {
    match v {
        Value::Number(n) => Ok(*n),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("{what}: {s:?} is not a number")),
        other => Err(format!(
            "{what} must be a number, got {}",
            other.type_name()
        )),
    }
}

fn list_arg(v: &Value, what: &str) -> Result<Vec<Value>, String> {
    match v {
        Value::List(l) => Ok(l.clone()),
        other => Err(format!("{what} must be a list, got {}", other.type_name())),
    }
}

fn map_arg(v: &Value, what: &str) -> Result<BTreeMap<String, Value>, String> {
    match v {
        Value::Map(m) => Ok(m.clone()),
        Value::Null => Ok(BTreeMap::new()),
        other => Err(format!(
            "{what} must be a map or object, got {}",
            other.type_name()
        )),
    }
}

fn arity(args: &[Value], n: usize) -> Result<(), String> {
    if args.len() != n {
        return Err(format!("takes {n} argument(s), got {}", args.len()));
    }
    Ok(())
}

fn read_file(dir: &Path, p: &Value) -> Result<Vec<u8>, String> {
    let rel = str_arg(p, "path")?;
    let path = dir.join(&rel);
    std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// `format`'s verbs: %s %d %f %.Nf %v %q %%.
fn format_fn(fmt: &str, args: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let mut it = args.iter();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_digit() || n == '.' || n == '-' || n == '+' || n == '0' {
                spec.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let verb = chars.next().ok_or("format string ends with %")?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let arg = it
            .next()
            .ok_or("not enough arguments for the format string")?;
        let width: usize = spec
            .split('.')
            .next()
            .and_then(|w| w.trim_start_matches(['-', '+', '0']).parse().ok())
            .unwrap_or(0);
        let zero = spec.starts_with('0');
        let s = match verb {
            's' | 'v' => match arg {
                Value::List(_) | Value::Map(_) => arg.to_json().to_string(),
                _ => str_arg(arg, "format argument")?,
            },
            'q' => serde_json::Value::String(str_arg(arg, "format argument")?).to_string(),
            'd' => format!("{}", num_arg(arg, "format argument")?.trunc() as i64),
            'f' => {
                let prec: usize = spec
                    .split_once('.')
                    .and_then(|(_, p)| p.parse().ok())
                    .unwrap_or(6);
                format!("{:.*}", prec, num_arg(arg, "format argument")?)
            }
            't' => match arg {
                Value::Bool(b) => b.to_string(),
                _ => return Err("%t needs a bool".into()),
            },
            other => return Err(format!("unsupported format verb %{other}")),
        };
        if s.chars().count() < width {
            let pad = width - s.chars().count();
            if spec.starts_with('-') {
                out.push_str(&s);
                out.push_str(&" ".repeat(pad));
            } else {
                out.push_str(&(if zero { "0" } else { " " }).repeat(pad));
                out.push_str(&s);
            }
        } else {
            out.push_str(&s);
        }
    }
    Ok(out)
}

fn sort_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_json().to_string(),
    }
}

pub fn call(name: &str, args: Vec<Value>, dir: &Path) -> Result<Value, String> {
    if name != "length" && name != "coalesce" && args.iter().any(Value::has_unknown) {
        if !NAMES.contains(&name) {
            return Err(unknown_function(name));
        }
        return Ok(Value::Unknown);
    }
    let s = |v: String| Ok(Value::String(v));
    match name {
        "abs" => {
            arity(&args, 1)?;
            Ok(Value::Number(num_arg(&args[0], "number")?.abs()))
        }
        "ceil" => Ok(Value::Number(
            num_arg(args.first().ok_or("takes 1 argument")?, "number")?.ceil(),
        )),
        "floor" => Ok(Value::Number(
            num_arg(args.first().ok_or("takes 1 argument")?, "number")?.floor(),
        )),
        "max" | "min" => {
            let nums = args
                .iter()
                .map(|a| num_arg(a, "argument"))
                .collect::<Result<Vec<_>, _>>()?;
            let r = if name == "max" {
                nums.iter().cloned().fold(f64::MIN, f64::max)
            } else {
                nums.iter().cloned().fold(f64::MAX, f64::min)
            };
            if nums.is_empty() {
                return Err("needs at least one number".into());
            }
            Ok(Value::Number(r))
        }
        "base64encode" => {
            arity(&args, 1)?;
            s(base64::engine::general_purpose::STANDARD.encode(str_arg(&args[0], "string")?))
        }
        "base64decode" => {
            arity(&args, 1)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(str_arg(&args[0], "string")?)
                .map_err(|e| format!("invalid base64: {e}"))?;
            s(String::from_utf8(bytes).map_err(|_| "decoded bytes are not UTF-8".to_string())?)
        }
        "sha256" => {
            arity(&args, 1)?;
            s(crate::value::hex(&sha2::Sha256::digest(
                str_arg(&args[0], "string")?.as_bytes(),
            )))
        }
        "base64sha256" => {
            arity(&args, 1)?;
            s(
                base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(
                    str_arg(&args[0], "string")?.as_bytes(),
                )),
            )
        }
        "file" => {
            arity(&args, 1)?;
            s(String::from_utf8(read_file(dir, &args[0])?)
                .map_err(|_| "file is not UTF-8; use filebase64".to_string())?)
        }
        "filebase64" => {
            arity(&args, 1)?;
            s(base64::engine::general_purpose::STANDARD.encode(read_file(dir, &args[0])?))
        }
        "fileexists" => {
            arity(&args, 1)?;
            Ok(Value::Bool(dir.join(str_arg(&args[0], "path")?).is_file()))
        }
        "filesha256" => {
            arity(&args, 1)?;
            s(crate::value::hex(&sha2::Sha256::digest(read_file(
                dir, &args[0],
            )?)))
        }
        "filebase64sha256" => {
            arity(&args, 1)?;
            s(base64::engine::general_purpose::STANDARD
                .encode(sha2::Sha256::digest(read_file(dir, &args[0])?)))
        }
        "chomp" => s(str_arg(args.first().ok_or("takes 1 argument")?, "string")?
            .trim_end_matches(['\n', '\r'])
            .to_string()),
        "trimspace" => s(str_arg(args.first().ok_or("takes 1 argument")?, "string")?
            .trim()
            .to_string()),
        "lower" => s(str_arg(args.first().ok_or("takes 1 argument")?, "string")?.to_lowercase()),
        "upper" => s(str_arg(args.first().ok_or("takes 1 argument")?, "string")?.to_uppercase()),
        "strrev" => s(str_arg(args.first().ok_or("takes 1 argument")?, "string")?
            .chars()
            .rev()
            .collect()),
        "title" => {
            let text = str_arg(args.first().ok_or("takes 1 argument")?, "string")?;
            let mut out = String::new();
            let mut start = true;
            for c in text.chars() {
                out.extend(if start {
                    c.to_uppercase().collect::<Vec<_>>()
                } else {
                    vec![c]
                });
                start = !c.is_alphanumeric();
            }
            s(out)
        }
        "trim" => {
            arity(&args, 2)?;
            let cut: Vec<char> = str_arg(&args[1], "characters")?.chars().collect();
            s(str_arg(&args[0], "string")?
                .trim_matches(|c| cut.contains(&c))
                .to_string())
        }
        "trimprefix" => {
            arity(&args, 2)?;
            let (a, p) = (str_arg(&args[0], "string")?, str_arg(&args[1], "prefix")?);
            s(a.strip_prefix(&p).unwrap_or(&a).to_string())
        }
        "trimsuffix" => {
            arity(&args, 2)?;
            let (a, p) = (str_arg(&args[0], "string")?, str_arg(&args[1], "suffix")?);
            s(a.strip_suffix(&p).unwrap_or(&a).to_string())
        }
        "startswith" => {
            arity(&args, 2)?;
            Ok(Value::Bool(
                str_arg(&args[0], "string")?.starts_with(&str_arg(&args[1], "prefix")?),
            ))
        }
        "endswith" => {
            arity(&args, 2)?;
            Ok(Value::Bool(
                str_arg(&args[0], "string")?.ends_with(&str_arg(&args[1], "suffix")?),
            ))
        }
        "substr" => {
            arity(&args, 3)?;
            let text: Vec<char> = str_arg(&args[0], "string")?.chars().collect();
            let off = num_arg(&args[1], "offset")? as i64;
            let len = num_arg(&args[2], "length")? as i64;
            let start = if off < 0 {
                (text.len() as i64 + off).max(0)
            } else {
                off.min(text.len() as i64)
            } as usize;
            let end = if len < 0 {
                text.len()
            } else {
                (start + len as usize).min(text.len())
            };
            s(text[start..end].iter().collect())
        }
        "replace" => {
            arity(&args, 3)?;
            let (a, from, to) = (
                str_arg(&args[0], "string")?,
                str_arg(&args[1], "search")?,
                str_arg(&args[2], "replacement")?,
            );
            if from.len() > 2 && from.starts_with('/') && from.ends_with('/') {
                return Err(
                    "regular-expression replace is not supported; use a literal search string"
                        .into(),
                );
            }
            s(a.replace(&from, &to))
        }
        "split" => {
            arity(&args, 2)?;
            let (sep, text) = (
                str_arg(&args[0], "separator")?,
                str_arg(&args[1], "string")?,
            );
            if text.is_empty() {
                return Ok(Value::List(vec![]));
            }
            Ok(Value::List(
                text.split(sep.as_str())
                    .map(|p| Value::String(p.into()))
                    .collect(),
            ))
        }
        "join" => {
            if args.len() < 2 {
                return Err("takes a separator and at least one list".into());
            }
            let sep = str_arg(&args[0], "separator")?;
            let mut parts = vec![];
            for l in &args[1..] {
                for item in list_arg(l, "list")? {
                    parts.push(str_arg(&item, "list element")?);
                }
            }
            s(parts.join(&sep))
        }
        "format" => {
            let (f, rest) = args.split_first().ok_or("needs a format string")?;
            s(format_fn(&str_arg(f, "format")?, rest)?)
        }
        "formatlist" => {
            let (f, rest) = args.split_first().ok_or("needs a format string")?;
            let f = str_arg(f, "format")?;
            let n = rest
                .iter()
                .filter_map(|a| a.as_list().map(Vec::len))
                .max()
                .unwrap_or(1);
            let mut out = vec![];
            for i in 0..n {
                let row: Vec<Value> = rest
                    .iter()
                    .map(|a| match a {
                        Value::List(l) => l.get(i).cloned().unwrap_or(Value::Null),
                        other => other.clone(),
                    })
                    .collect();
                out.push(Value::String(format_fn(&f, &row)?));
            }
            Ok(Value::List(out))
        }
        "jsonencode" => {
            arity(&args, 1)?;
            s(args[0].to_json().to_string())
        }
        "jsondecode" => {
            arity(&args, 1)?;
            let j: serde_json::Value = serde_json::from_str(&str_arg(&args[0], "string")?)
                .map_err(|e| format!("invalid JSON: {e}"))?;
            Ok(Value::from_json(&j))
        }
        "tostring" => match args.first() {
            Some(Value::Null) => Ok(Value::Null),
            Some(v) => s(str_arg(v, "value")?),
            None => Err("takes 1 argument".into()),
        },
        "tonumber" => match args.first() {
            Some(Value::Null) => Ok(Value::Null),
            Some(v) => Ok(Value::Number(num_arg(v, "value")?)),
            None => Err("takes 1 argument".into()),
        },
        "tobool" => match args.first() {
            Some(Value::Bool(b)) => Ok(Value::Bool(*b)),
            Some(Value::String(x)) if x == "true" || x == "false" => Ok(Value::Bool(x == "true")),
            Some(Value::Null) => Ok(Value::Null),
            _ => Err("takes a bool or \"true\"/\"false\"".into()),
        },
        "tolist" => Ok(Value::List(list_arg(
            args.first().ok_or("takes 1 argument")?,
            "value",
        )?)),
        "toset" => {
            let mut items = list_arg(args.first().ok_or("takes 1 argument")?, "value")?;
            items.sort_by_key(sort_key);
            items.dedup();
            Ok(Value::List(items))
        }
        "tomap" => Ok(Value::Map(map_arg(
            args.first().ok_or("takes 1 argument")?,
            "value",
        )?)),
        "length" => match args.first() {
            Some(Value::List(l)) => Ok(Value::Number(l.len() as f64)),
            Some(Value::Map(m)) => Ok(Value::Number(m.len() as f64)),
            Some(Value::String(x)) => Ok(Value::Number(x.chars().count() as f64)),
            Some(Value::Unknown) => Ok(Value::Unknown),
            Some(other) => Err(format!("cannot take the length of a {}", other.type_name())),
            None => Err("takes 1 argument".into()),
        },
        "coalesce" => {
            for a in &args {
                match a {
                    Value::Unknown => return Ok(Value::Unknown),
                    Value::Null => continue,
                    Value::String(x) if x.is_empty() => continue,
                    other => return Ok(other.clone()),
                }
            }
            Err("no non-null, non-empty argument".into())
        }
        "coalescelist" => {
            for a in &args {
                if let Value::List(l) = a
                    && !l.is_empty()
                {
                    return Ok(a.clone());
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
            for a in &args {
                out.extend(list_arg(a, "argument")?);
            }
            Ok(Value::List(out))
        }
        "contains" => {
            arity(&args, 2)?;
            Ok(Value::Bool(list_arg(&args[0], "list")?.contains(&args[1])))
        }
        "index" => {
            arity(&args, 2)?;
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
            arity(&args, 2)?;
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
            for a in &args {
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
            arity(&args, 3)?;
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
            arity(&args, 2)?;
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
        other => Err(unknown_function(other)),
    }
}

fn unknown_function(name: &str) -> String {
    format!(
        "there is no function named `{name}`.{} thingform supports: {}",
        crate::diag::did_you_mean(name, NAMES.iter().copied()),
        NAMES.join(", ")
    )
}

/// Used by `tostring` and templates; kept here so number formatting has one home.
pub fn number_string(n: f64) -> String {
    format_number(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(j: serde_json::Value) -> Value {
        Value::from_json(&j)
    }

    fn c(name: &str, args: Vec<serde_json::Value>) -> serde_json::Value {
        call(name, args.into_iter().map(v).collect(), Path::new("."))
            .unwrap()
            .to_json()
    }

    use serde_json::json;

    #[test]
    fn string_functions() {
        assert_eq!(
            c("format", vec![json!("%s-%03d"), json!("node"), json!(7)]),
            json!("node-007")
        );
        assert_eq!(c("join", vec![json!(","), json!(["a", "b"])]), json!("a,b"));
        assert_eq!(
            c("split", vec![json!("/"), json!("a/b")]),
            json!(["a", "b"])
        );
        assert_eq!(
            c("replace", vec![json!("a-b-c"), json!("-"), json!("_")]),
            json!("a_b_c")
        );
        assert_eq!(
            c("substr", vec![json!("hello"), json!(1), json!(3)]),
            json!("ell")
        );
    }

    #[test]
    fn collection_functions() {
        assert_eq!(
            c("merge", vec![json!({"a": 1}), json!({"b": 2, "a": 3})]),
            json!({"a": 3, "b": 2})
        );
        assert_eq!(
            c("concat", vec![json!([1]), json!([2, 3])]),
            json!([1, 2, 3])
        );
        assert_eq!(
            c("lookup", vec![json!({"a": 1}), json!("b"), json!(9)]),
            json!(9)
        );
        assert_eq!(c("toset", vec![json!(["b", "a", "b"])]), json!(["a", "b"]));
        assert_eq!(c("length", vec![json!({"a": 1, "b": 2})]), json!(2));
        assert_eq!(c("range", vec![json!(3)]), json!([0, 1, 2]));
        assert_eq!(c("zipmap", vec![json!(["a"]), json!([1])]), json!({"a": 1}));
    }

    #[test]
    fn json_round_trip() {
        assert_eq!(
            c("jsondecode", vec![json!("{\"a\":[1,2]}")]),
            json!({"a": [1, 2]})
        );
        assert_eq!(
            c("jsonencode", vec![json!({"b": 1, "a": "x"})]),
            json!("{\"a\":\"x\",\"b\":1}")
        );
    }

    #[test]
    fn unknown_function_suggests() {
        let e = call("lenght", vec![Value::Null], Path::new(".")).unwrap_err();
        assert!(e.contains("Did you mean \"length\""), "{e}");
    }
}
