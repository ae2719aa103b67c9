//! The values of AWS IoT SQL: JSON's types with `Int` and `Decimal` kept apart, plus
//! `Undefined` (a missing field, or an operation on types it does not accept), which is
//! left out of the output document.

use serde_json::{Map, Number, Value as Json};

#[derive(Clone, Debug, PartialEq)]
pub enum V {
    Undefined,
    Null,
    Bool(bool),
    Int(i64),
    Dec(f64),
    Str(String),
    Arr(Vec<V>),
    Obj(Vec<(String, V)>),
}

impl V {
    /// A JSON value; with `whole_as_int` (SQL 2016-03-23) a whole decimal such as `10.0`
    /// is an `Int`, as the data types reference documents.
    pub fn from_json(j: &Json, whole_as_int: bool) -> V {
        match j {
            Json::Null => V::Null,
            Json::Bool(b) => V::Bool(*b),
            Json::Number(n) => {
                if let Some(i) = n.as_i64() {
                    V::Int(i)
                } else {
                    let f = n.as_f64().unwrap_or(f64::NAN);
                    if whole_as_int && f.fract() == 0.0 && f.abs() < 9.0e15 {
                        V::Int(f as i64)
                    } else {
                        V::Dec(f)
                    }
                }
            }
            Json::String(s) => V::Str(s.clone()),
            Json::Array(a) => V::Arr(a.iter().map(|x| V::from_json(x, whole_as_int)).collect()),
            Json::Object(o) => V::Obj(
                o.iter()
                    .map(|(k, v)| (k.clone(), V::from_json(v, whole_as_int)))
                    .collect(),
            ),
        }
    }

    /// JSON; `None` for `Undefined` (left out of objects and arrays).
    pub fn to_json(&self) -> Option<Json> {
        Some(match self {
            V::Undefined => return None,
            V::Null => Json::Null,
            V::Bool(b) => Json::Bool(*b),
            V::Int(i) => Json::from(*i),
            V::Dec(f) => Number::from_f64(*f).map(Json::Number).unwrap_or(Json::Null),
            V::Str(s) => Json::String(s.clone()),
            V::Arr(a) => Json::Array(a.iter().filter_map(V::to_json).collect()),
            V::Obj(o) => {
                let mut m = Map::new();
                for (k, v) in o {
                    if let Some(j) = v.to_json() {
                        m.insert(k.clone(), j);
                    }
                }
                Json::Object(m)
            }
        })
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            V::Undefined => "Undefined",
            V::Null => "Null",
            V::Bool(_) => "Boolean",
            V::Int(_) => "Int",
            V::Dec(_) => "Decimal",
            V::Str(_) => "String",
            V::Arr(_) => "Array",
            V::Obj(_) => "Object",
        }
    }

    /// A member of an object (`Undefined` when absent or not an object).
    pub fn member(&self, key: &str) -> V {
        match self {
            V::Obj(o) => o
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or(V::Undefined),
            _ => V::Undefined,
        }
    }

    /// An element of an array by a 0-based index (`Undefined` when out of range).
    pub fn index(&self, i: &V) -> V {
        match (self, i) {
            (V::Arr(a), V::Int(n)) if *n >= 0 => {
                a.get(*n as usize).cloned().unwrap_or(V::Undefined)
            }
            (V::Obj(_), V::Str(k)) => self.member(k),
            _ => V::Undefined,
        }
    }

    /// A number as a decimal: numbers, and strings that hold one (the comparison and
    /// arithmetic operators convert them so).
    pub fn as_dec(&self) -> Option<f64> {
        match self {
            V::Int(i) => Some(*i as f64),
            V::Dec(f) => Some(*f),
            V::Str(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        }
    }

    /// A number as Int or Decimal, converting a numeric string.
    pub fn as_num(&self) -> Option<V> {
        match self {
            V::Int(_) | V::Dec(_) => Some(self.clone()),
            V::Str(s) => {
                let t = s.trim();
                if let Ok(i) = t.parse::<i64>() {
                    Some(V::Int(i))
                } else {
                    t.parse::<f64>().ok().filter(|f| f.is_finite()).map(V::Dec)
                }
            }
            _ => None,
        }
    }

    /// A Boolean, or a case-insensitive "true"/"false" string (the logical operators).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            V::Bool(b) => Some(*b),
            V::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
            V::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    /// The text a value becomes in a string context (a substitution template, concat).
    pub fn to_text(&self) -> Option<String> {
        match self {
            V::Undefined => None,
            V::Str(s) => Some(s.clone()),
            V::Dec(f) => Some(dec_text(*f)),
            other => other.to_json().map(|j| j.to_string()),
        }
    }
}

/// A decimal as AWS prints it: `22.5`, `10.0`.
pub fn dec_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}
