//! Helpers to read planned attributes (JSON) inside resource modules.

use serde_json::{Map, Value as Json};

pub type Attrs = Map<String, Json>;

pub fn str_of<'a>(a: &'a Attrs, k: &str) -> Option<&'a str> {
    a.get(k).and_then(Json::as_str).filter(|s| !s.is_empty())
}

pub fn req_str<'a>(a: &'a Attrs, k: &str) -> anyhow::Result<&'a str> {
    str_of(a, k).ok_or_else(|| anyhow::anyhow!("attribute `{k}` is required but has no value"))
}

/// The attribute that names an object (`name`, `arn`, ...), or its `id` when only that is
/// known (an import).
pub fn name_or_id<'a>(a: &'a Attrs, k: &str) -> Option<&'a str> {
    str_of(a, k).or_else(|| str_of(a, "id"))
}

/// [`name_or_id`], required: `missing` is the error when neither is set.
pub fn req_name_or_id<'a>(a: &'a Attrs, k: &str, missing: &str) -> anyhow::Result<&'a str> {
    name_or_id(a, k).ok_or_else(|| anyhow::Error::msg(missing.to_string()))
}

pub fn bool_of(a: &Attrs, k: &str) -> Option<bool> {
    a.get(k).and_then(Json::as_bool)
}

pub fn i64_of(a: &Attrs, k: &str) -> Option<i64> {
    a.get(k)
        .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
}

/// Nested blocks of `k` (a list of objects); empty when unset.
pub fn blocks<'a>(a: &'a Attrs, k: &str) -> Vec<&'a Attrs> {
    a.get(k)
        .and_then(Json::as_array)
        .map(|l| l.iter().filter_map(Json::as_object).collect())
        .unwrap_or_default()
}

pub fn block<'a>(a: &'a Attrs, k: &str) -> Option<&'a Attrs> {
    blocks(a, k).into_iter().next()
}

pub fn string_map(a: &Attrs, k: &str) -> Vec<(String, String)> {
    a.get(k)
        .and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn string_list(a: &Attrs, k: &str) -> Vec<String> {
    a.get(k)
        .and_then(Json::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A JSON object from key/value pairs (tags).
pub fn map_json(pairs: impl IntoIterator<Item = (String, String)>) -> Json {
    Json::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k, Json::String(v)))
            .collect(),
    )
}

/// Builds an attribute map: `obj([("bucket", json!(x)), ...])`.
pub fn obj<const N: usize>(pairs: [(&str, Json); N]) -> Attrs {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A name for an object the configuration did not name: `prefix` (or `thingform-`)
/// followed by `random_len` random hex characters.
pub fn generated_name(prefix: Option<&str>, random_len: usize) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "{}{}",
        prefix.unwrap_or("thingform-"),
        &id[..random_len.min(id.len())]
    )
}
