//! The Terraform function subset. Every function returns unknown when an argument is
//! unknown (except `length` of a list with unknown elements, which is still known).
//! One module per family, as Terraform's documentation groups them; `try` and `can`
//! are evaluated lazily by the evaluator.

mod collections;
mod conversion;
mod encoding;
mod files;
mod net;
mod numeric;
mod regex;
mod sets;
mod strings;
mod templatefile;
mod time;
mod yaml;

#[cfg(test)]
mod tests_issue10;

pub use time::evaluate_impure;

use crate::value::{Value, format_number};
use std::collections::BTreeMap;
use std::path::Path;

pub const NAMES: &[&str] = &[
    "abs",
    "alltrue",
    "anytrue",
    "base64decode",
    "base64encode",
    "base64sha256",
    "ceil",
    "chomp",
    "cidrsubnet",
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
    "formatdate",
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
    "md5",
    "merge",
    "min",
    "one",
    "range",
    "regex",
    "regexall",
    "replace",
    "reverse",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "sha1",
    "sha256",
    "slice",
    "sort",
    "split",
    "startswith",
    "strcontains",
    "strrev",
    "substr",
    "sum",
    "templatefile",
    "timestamp",
    "title",
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    "transpose",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "upper",
    "urlencode",
    "uuid",
    "values",
    "yamldecode",
    "yamlencode",
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
    let args = args.as_slice();
    for family in [
        numeric::call,
        strings::call,
        collections::call,
        conversion::call,
        encoding::call,
        regex::call,
        sets::call,
        yaml::call,
        time::call,
        net::call,
    ] {
        if let Some(v) = family(name, args)? {
            return Ok(v);
        }
    }
    if let Some(v) = files::call(name, args, dir)? {
        return Ok(v);
    }
    match templatefile::call(name, args, dir)? {
        Some(v) => Ok(v),
        None => Err(unknown_function(name)),
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

    #[test]
    fn every_listed_function_is_implemented_by_a_family() {
        // `try` and `can` are evaluated lazily by the evaluator, never called here.
        for name in NAMES.iter().filter(|n| !matches!(**n, "try" | "can")) {
            if let Err(e) = call(name, vec![], Path::new(".")) {
                assert!(
                    !e.starts_with("there is no function named"),
                    "{name} is listed in NAMES but no family implements it"
                );
            }
        }
    }
}
