//! String functions, and `format`'s verbs.

use super::{arity, list_arg, num_arg, str_arg};
use crate::value::Value;

/// `Ok(None)` when `name` is not one of this family's functions.
pub(super) fn call(name: &str, args: &[Value]) -> Result<Option<Value>, String> {
    let s = |v: String| Ok(Value::String(v));
    let v = match name {
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
            arity(args, 2)?;
            let cut: Vec<char> = str_arg(&args[1], "characters")?.chars().collect();
            s(str_arg(&args[0], "string")?
                .trim_matches(|c| cut.contains(&c))
                .to_string())
        }
        "trimprefix" => {
            arity(args, 2)?;
            let (a, p) = (str_arg(&args[0], "string")?, str_arg(&args[1], "prefix")?);
            s(a.strip_prefix(&p).unwrap_or(&a).to_string())
        }
        "trimsuffix" => {
            arity(args, 2)?;
            let (a, p) = (str_arg(&args[0], "string")?, str_arg(&args[1], "suffix")?);
            s(a.strip_suffix(&p).unwrap_or(&a).to_string())
        }
        "startswith" => {
            arity(args, 2)?;
            Ok(Value::Bool(
                str_arg(&args[0], "string")?.starts_with(&str_arg(&args[1], "prefix")?),
            ))
        }
        "strcontains" => {
            arity(args, 2)?;
            Ok(Value::Bool(
                str_arg(&args[0], "string")?.contains(&str_arg(&args[1], "substr")?),
            ))
        }
        "endswith" => {
            arity(args, 2)?;
            Ok(Value::Bool(
                str_arg(&args[0], "string")?.ends_with(&str_arg(&args[1], "suffix")?),
            ))
        }
        "substr" => {
            arity(args, 3)?;
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
            arity(args, 3)?;
            let (a, from, to) = (
                str_arg(&args[0], "string")?,
                str_arg(&args[1], "search")?,
                str_arg(&args[2], "replacement")?,
            );
            // A search wrapped in slashes is a regular expression.
            if from.len() > 2 && from.starts_with('/') && from.ends_with('/') {
                return s(super::regex::replace(&a, &from[1..from.len() - 1], &to)?).map(Some);
            }
            s(a.replace(&from, &to))
        }
        "split" => {
            arity(args, 2)?;
            let (sep, text) = (
                str_arg(&args[0], "separator")?,
                str_arg(&args[1], "string")?,
            );
            if text.is_empty() {
                return Ok(Some(Value::List(vec![])));
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
        _ => return Ok(None),
    };
    v.map(Some)
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
