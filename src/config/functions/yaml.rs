//! `yamlencode` and `yamldecode`. Decoding goes through `serde_yaml_ng`; encoding writes
//! Terraform's style itself: block style, every key and string double-quoted, sequences
//! in a mapping at the key's indentation, `{}` / `[]` for empty collections.
//! https://developer.hashicorp.com/terraform/language/functions/yamlencode

use super::{arity, str_arg};
use crate::value::{Value, format_number};
use serde_yaml_ng::Value as Yaml;
use std::collections::BTreeMap;

/// `Ok(None)` when `name` is not one of this family's functions.
pub(super) fn call(name: &str, args: &[Value]) -> Result<Option<Value>, String> {
    let v = match name {
        "yamlencode" => {
            arity(args, 1)?;
            let mut out = String::new();
            encode(&args[0], 0, &mut out);
            // A document that is one plain scalar ends with libyaml's explicit end marker.
            if matches!(args[0], Value::Null | Value::Bool(_) | Value::Number(_)) {
                out.push_str("...\n");
            }
            Value::String(out)
        }
        "yamldecode" => {
            arity(args, 1)?;
            let text = str_arg(&args[0], "string")?;
            let mut y: Yaml =
                serde_yaml_ng::from_str(&text).map_err(|e| format!("invalid YAML: {e}"))?;
            y.apply_merge().map_err(|e| e.to_string())?;
            decode(y)?
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

fn decode(y: Yaml) -> Result<Value, String> {
    Ok(match y {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(s) => Value::List(s.into_iter().map(decode).collect::<Result<_, _>>()?),
        Yaml::Mapping(m) => {
            let mut out = BTreeMap::new();
            for (k, v) in m {
                let key = match decode(k)? {
                    Value::String(s) => s,
                    Value::Number(n) => format_number(n),
                    Value::Bool(b) => b.to_string(),
                    Value::Null => "null".into(),
                    other => {
                        return Err(format!("a mapping key cannot be a {}", other.type_name()));
                    }
                };
                out.insert(key, decode(v)?);
            }
            Value::Map(out)
        }
        Yaml::Tagged(t) => return Err(format!("unsupported tag {:?}", t.tag.to_string())),
    })
}

/// A scalar (or an empty collection) as written after `key: ` or `- `; a multi-line
/// string is a literal block whose lines are indented to `indent`.
fn scalar(v: &Value, indent: usize) -> Option<String> {
    Some(match v {
        Value::Null | Value::Unknown => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format_number(*n),
        Value::String(s) if literal_allowed(s) => literal(s, indent),
        Value::String(s) => quote(s),
        Value::List(l) if l.is_empty() => "[]".into(),
        Value::Map(m) if m.is_empty() => "{}".into(),
        _ => return None,
    })
}

/// Multi-line strings are literal blocks, as Terraform writes them, unless libyaml
/// would refuse the block style (a space before a line break or at the end, or a
/// character such as a tab that must be escaped): then they are double-quoted.
fn literal_allowed(s: &str) -> bool {
    s.contains('\n')
        && !s.contains(" \n")
        && !s.ends_with(' ')
        && !s
            .chars()
            .any(|c| c != '\n' && (c.is_control() || c == '\u{feff}'))
}

/// `|` with an indentation indicator when the text starts with a space or a line
/// break, and the chomping indicator its trailing line breaks need (`-` none, `+` more
/// than one), then the lines indented to `indent` (empty lines stay empty).
fn literal(s: &str, indent: usize) -> String {
    let mut out = String::from("|");
    if s.starts_with([' ', '\n']) {
        out.push('2');
    }
    let body = if !s.ends_with('\n') {
        out.push('-');
        s
    } else if s.ends_with("\n\n") || s == "\n" {
        out.push('+');
        &s[..s.len() - 1]
    } else {
        &s[..s.len() - 1]
    };
    let pad = " ".repeat(indent);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
    out
}

/// A YAML double-quoted scalar.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Writes `v` as a block at `indent` columns, ending with a newline.
fn encode(v: &Value, indent: usize, out: &mut String) {
    if let Some(s) = scalar(v, indent + 2) {
        out.push_str(&s);
        out.push('\n');
        return;
    }
    let pad = " ".repeat(indent);
    match v {
        Value::List(l) => {
            for (i, item) in l.iter().enumerate() {
                if i > 0 {
                    out.push_str(&pad);
                }
                out.push_str("- ");
                match scalar(item, indent + 2) {
                    Some(s) => {
                        out.push_str(&s);
                        out.push('\n');
                    }
                    // A nested block starts on the dash's line, indented past it.
                    None => encode(item, indent + 2, out),
                }
            }
        }
        Value::Map(m) => {
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(&pad);
                }
                out.push_str(&quote(k));
                out.push(':');
                match (scalar(item, indent + 2), item) {
                    (Some(s), _) => {
                        out.push(' ');
                        out.push_str(&s);
                        out.push('\n');
                    }
                    // A sequence under a key stays at the key's indentation.
                    (None, Value::List(_)) => {
                        out.push('\n');
                        out.push_str(&pad);
                        encode(item, indent, out);
                    }
                    (None, _) => {
                        out.push('\n');
                        out.push_str(&" ".repeat(indent + 2));
                        encode(item, indent + 2, out);
                    }
                }
            }
        }
        _ => unreachable!("scalars are written above"),
    }
}
