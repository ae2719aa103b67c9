//! Regular expressions (RE2 syntax, through the `regex` crate): `regex`, `regexall`,
//! and `replace` with a `/pattern/` search.
//! https://developer.hashicorp.com/terraform/language/functions/regex

use super::{arity, str_arg};
use crate::value::Value;
use regex::Regex;

/// `Ok(None)` when `name` is not one of this family's functions.
pub(super) fn call(name: &str, args: &[Value]) -> Result<Option<Value>, String> {
    let v = match name {
        "regex" => {
            arity(args, 2)?;
            let re = compile(&str_arg(&args[0], "pattern")?)?;
            let text = str_arg(&args[1], "string")?;
            let caps = re
                .captures(&text)
                .ok_or("pattern did not match any part of the given string")?;
            result(&re, &caps)?
        }
        "regexall" => {
            arity(args, 2)?;
            let re = compile(&str_arg(&args[0], "pattern")?)?;
            let text = str_arg(&args[1], "string")?;
            Value::List(
                re.captures_iter(&text)
                    .map(|c| result(&re, &c))
                    .collect::<Result<_, _>>()?,
            )
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// `replace(string, "/re/", replacement)`: every match replaced, `$1` / `${name}`
/// expanded as Go's `Regexp.ReplaceAllString` does (the `regex` crate's syntax is the same).
pub(super) fn replace(text: &str, pattern: &str, replacement: &str) -> Result<String, String> {
    let re = compile(pattern)?;
    Ok(re.replace_all(text, replacement).into_owned())
}

fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| format!("invalid regular expression pattern: {e}"))
}

/// No capture group: the whole match. Unnamed groups: a list. Named groups: an object.
/// A group that did not take part in the match is null.
fn result(re: &Regex, caps: &regex::Captures) -> Result<Value, String> {
    let group = |i: usize| {
        caps.get(i)
            .map(|m| Value::String(m.as_str().to_string()))
            .unwrap_or(Value::Null)
    };
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    if names.is_empty() {
        return Ok(group(0));
    }
    let named = names.iter().filter(|n| n.is_some()).count();
    if named == 0 {
        return Ok(Value::List((1..=names.len()).map(group).collect()));
    }
    if named != names.len() {
        return Err("named and unnamed capture groups cannot be mixed in the same pattern".into());
    }
    Ok(Value::Map(
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.unwrap_or_default().to_string(), group(i + 1)))
            .collect(),
    ))
}
