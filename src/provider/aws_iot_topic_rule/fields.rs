//! How one flat action argument maps between the configuration (JSON attributes) and an
//! SDK action field: one module per (schema, SDK field type) pair, each with `attr` (the
//! schema), `to` (the value the builder's `set_*` takes) and `from` (the field, read back).

use super::super::attrs::{Attrs, bool_of, i64_of, str_of};
use super::super::schema::{Attr, boolean, number, string};
use serde_json::{Value as Json, json};

/// Required string; the SDK field is a `String`.
pub mod req {
    use super::*;
    pub fn attr(k: &'static str) -> Attr {
        string(k).required()
    }
    pub fn to(a: &Attrs, k: &str) -> Option<String> {
        str_of(a, k).map(str::to_string)
    }
    pub fn from(v: &str) -> Json {
        json!(v)
    }
}

/// Required string; the SDK field is an `Option<String>`.
pub mod req_o {
    use super::*;
    pub fn attr(k: &'static str) -> Attr {
        string(k).required()
    }
    pub fn to(a: &Attrs, k: &str) -> Option<String> {
        str_of(a, k).map(str::to_string)
    }
    pub fn from(v: &Option<String>) -> Json {
        json!(v)
    }
}

/// Optional string (`Option<String>`); empty reads back as unset.
pub mod opt {
    use super::*;
    pub fn attr(k: &'static str) -> Attr {
        string(k)
    }
    pub fn to(a: &Attrs, k: &str) -> Option<String> {
        str_of(a, k).map(str::to_string)
    }
    pub fn from(v: &Option<String>) -> Json {
        json!(v.as_deref().filter(|s| !s.is_empty()))
    }
}

/// Optional bool defaulting to false (`batch_mode`); AWS omits false.
pub mod flag {
    use super::*;
    pub fn attr(k: &'static str) -> Attr {
        boolean(k).default(json!(false))
    }
    pub fn to(a: &Attrs, k: &str) -> Option<bool> {
        bool_of(a, k)
    }
    pub fn from(v: &Option<bool>) -> Json {
        json!(v.unwrap_or(false))
    }
}

/// Required bool (`use_base64`); AWS may omit false.
pub mod req_flag {
    use super::*;
    pub fn attr(k: &'static str) -> Attr {
        boolean(k).required()
    }
    pub fn to(a: &Attrs, k: &str) -> Option<bool> {
        bool_of(a, k)
    }
    pub fn from(v: &Option<bool>) -> Json {
        json!(v.unwrap_or(false))
    }
}

/// MQTT QoS: a number defaulting to 0.
pub mod qos {
    use super::*;
    pub fn attr(k: &'static str) -> Attr {
        number(k).default(json!(0))
    }
    pub fn to(a: &Attrs, k: &str) -> Option<i32> {
        i64_of(a, k).map(|q| q as i32)
    }
    pub fn from(v: &Option<i32>) -> Json {
        json!(v.unwrap_or(0))
    }
}
