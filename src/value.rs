//! The dynamic value type shared by config evaluation, the plan and the providers.
//!
//! `Unknown` stands for "known after apply": a value that depends on an attribute AWS
//! computes when a resource is created. Unknowns propagate through every operation.

use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Unknown,
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "object",
            Value::Unknown => "unknown",
        }
    }

    /// True when the value, or anything inside it, is unknown.
    pub fn has_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::List(l) => l.iter().any(Value::has_unknown),
            Value::Map(m) => m.values().any(Value::has_unknown),
            _ => false,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Null, an empty string-free collection: what AWS and Terraform treat as "not set".
    pub fn is_empty_like(&self) -> bool {
        match self {
            Value::Null => true,
            Value::List(l) => l.is_empty(),
            Value::Map(m) => m.is_empty(),
            _ => false,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&Vec<Value>> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// Converts a known value to JSON. Unknowns become JSON null.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null | Value::Unknown => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => Json::String(s.clone()),
            Value::List(l) => Json::Array(l.iter().map(Value::to_json).collect()),
            Value::Map(m) => {
                Json::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    pub fn from_json(j: &Json) -> Value {
        match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
            Json::String(s) => Value::String(s.clone()),
            Json::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            Json::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// The "unknown mask" of a value in the shape of `terraform show -json`'s `after_unknown`.
    pub fn unknown_mask(&self) -> Json {
        match self {
            Value::Unknown => Json::Bool(true),
            Value::List(l) if self.has_unknown() => {
                Json::Array(l.iter().map(Value::unknown_mask).collect())
            }
            Value::Map(m) if self.has_unknown() => Json::Object(
                m.iter()
                    .filter(|(_, v)| v.has_unknown())
                    .map(|(k, v)| (k.clone(), v.unknown_mask()))
                    .collect(),
            ),
            Value::List(_) => Json::Array(vec![]),
            Value::Map(_) => Json::Object(Default::default()),
            _ => Json::Bool(false),
        }
    }

    /// String form used by string templates and `tostring`.
    pub fn to_template_string(&self) -> Option<String> {
        match self {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(format_number(*n)),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

pub fn number_to_json(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Json::Number((n as i64).into())
    } else {
        serde_json::Number::from_f64(n)
            .map(Json::Number)
            .unwrap_or(Json::Null)
    }
}

pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Semantic equality of two JSON values as the differ sees them: numbers by value,
/// and null equal to an empty list, map or string-free collection.
pub fn json_equivalent(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equivalent(p, q))
        }
        (Json::Object(x), Json::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().all(|k| {
                json_equivalent(
                    x.get(k).unwrap_or(&Json::Null),
                    y.get(k).unwrap_or(&Json::Null),
                )
            })
        }
        (Json::Null, other) | (other, Json::Null) => json_is_empty(other),
        _ => a == b,
    }
}

pub fn json_is_empty(j: &Json) -> bool {
    match j {
        Json::Null => true,
        Json::Array(a) => a.is_empty(),
        Json::Object(o) => o.is_empty(),
        _ => false,
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Unknown => write!(f, "(known after apply)"),
            Value::String(s) => write!(f, "{}", Json::String(s.clone())),
            Value::Number(n) => write!(f, "{}", format_number(*n)),
            other => write!(f, "{}", other.to_json()),
        }
    }
}

/// Canonical form of a JSON document held in a string (sorted keys, no whitespace), so
/// two spellings of one policy compare equal.
pub fn canonical_json(s: &str) -> String {
    match serde_json::from_str::<Json>(s) {
        Ok(v) => sort_json(&v).to_string(),
        Err(_) => s.to_string(),
    }
}

fn sort_json(v: &Json) -> Json {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Json::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sort_json(&m[k])))
                    .collect(),
            )
        }
        Json::Array(a) => Json::Array(a.iter().map(sort_json).collect()),
        other => other.clone(),
    }
}

/// Lower-case hexadecimal of `bytes` (hashes).
pub fn hex(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_by_value() {
        assert!(json_equivalent(&json!(5), &json!(5.0)));
        assert!(!json_equivalent(&json!(5), &json!(6)));
    }

    #[test]
    fn null_equals_empty_collections_only() {
        assert!(json_equivalent(&json!(null), &json!({})));
        assert!(json_equivalent(&json!({"a": null}), &json!({})));
        assert!(!json_equivalent(&json!(null), &json!("")));
        assert!(!json_equivalent(&json!(null), &json!(false)));
    }

    #[test]
    fn unknown_mask_marks_nested_unknowns() {
        let mut m = BTreeMap::new();
        m.insert("arn".to_string(), Value::Unknown);
        m.insert("name".to_string(), Value::String("x".into()));
        assert_eq!(Value::Map(m).unknown_mask(), json!({"arn": true}));
    }

    #[test]
    fn canonical_json_sorts_keys_and_hex_is_lower_case() {
        assert_eq!(
            canonical_json("{ \"b\": [1, {\"d\":1,\"c\":2}], \"a\": null }"),
            r#"{"a":null,"b":[1,{"c":2,"d":1}]}"#
        );
        assert_eq!(canonical_json("not json"), "not json");
        assert_eq!(hex(&[0, 0xab, 0x1f]), "00ab1f");
    }
}
