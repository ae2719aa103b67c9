//! Attribute-by-attribute comparison of the desired configuration with the refreshed
//! state, following the schema's computed / force-new rules.

use crate::provider::schema::{Block, Ty};
use crate::value::{Value, json_equivalent};
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Puts a value in the canonical shape for its schema: every attribute present (null when
/// unset), unknown keys dropped, sets and set-blocks sorted, JSON documents canonical.
pub fn normalize(v: &Value, schema: &Block) -> Value {
    let Value::Map(m) = v else { return v.clone() };
    let mut out = BTreeMap::new();
    for a in &schema.attrs {
        let x = m.get(a.name).cloned().unwrap_or(Value::Null);
        let x = match (&a.ty, x) {
            (Ty::Json, Value::String(s)) => Value::String(crate::value::canonical_json(&s)),
            (Ty::Set(_), Value::List(mut l)) if !l.iter().any(Value::has_unknown) => {
                l.sort_by_key(|e| e.to_json().to_string());
                Value::List(l)
            }
            (_, x) => x,
        };
        out.insert(a.name.to_string(), x);
    }
    for b in &schema.blocks {
        let items: Vec<Value> = match m.get(b.name) {
            Some(Value::List(l)) => l.iter().map(|e| normalize(e, &b.block)).collect(),
            Some(Value::Unknown) => {
                out.insert(b.name.to_string(), Value::Unknown);
                continue;
            }
            _ => vec![],
        };
        let mut items = items;
        if b.set && !items.iter().any(Value::has_unknown) {
            items.sort_by_key(|e| e.to_json().to_string());
        }
        out.insert(b.name.to_string(), Value::List(items));
    }
    Value::Map(out)
}

pub fn normalize_json(j: &Json, schema: &Block) -> Json {
    normalize(&Value::from_json(j), schema).to_json()
}

/// Fills what the configuration leaves to AWS: computed attributes keep the prior value
/// (or become unknown for a new object), output-only ones likewise.
pub fn merge_computed(config: &Value, prior: Option<&Value>, schema: &Block) -> Value {
    let Value::Map(c) = config else {
        return config.clone();
    };
    let mut out = c.clone();
    for a in &schema.attrs {
        let set = c.get(a.name).map(|v| !v.is_null()).unwrap_or(false);
        if a.output || (a.computed && !set) {
            let pv = prior.and_then(|p| p.get(a.name)).cloned();
            out.insert(a.name.to_string(), pv.unwrap_or(Value::Unknown));
        }
    }
    for b in &schema.blocks {
        if let (Some(Value::List(items)), Some(Value::List(pitems))) =
            (c.get(b.name), prior.and_then(|p| p.get(b.name)))
        {
            let merged: Vec<Value> = items
                .iter()
                .enumerate()
                .map(|(i, item)| merge_computed(item, pitems.get(i), &b.block))
                .collect();
            out.insert(b.name.to_string(), Value::List(merged));
        } else if let Some(Value::List(items)) = c.get(b.name) {
            let merged: Vec<Value> = items
                .iter()
                .map(|item| merge_computed(item, None, &b.block))
                .collect();
            out.insert(b.name.to_string(), Value::List(merged));
        }
    }
    Value::Map(out)
}

/// Runs a resource type's plan-time local step (hashing a crate, a zip file) on the
/// known part of a configuration value.
pub fn apply_plan_local(
    t: &dyn crate::provider::ResourceType,
    config: &mut Value,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    let before = config.to_json();
    let Json::Object(mut map) = before.clone() else {
        return Ok(());
    };
    t.plan_local(&mut map, dir)?;
    if let Value::Map(m) = config {
        for (k, v) in map {
            if before.get(&k) != Some(&v) && !matches!(m.get(&k), Some(Value::Unknown)) {
                m.insert(k, Value::from_json(&v));
            }
        }
    }
    Ok(())
}

/// True when the planned value equals the prior one (unknown never equals).
pub fn same(planned: &Value, prior: &Json) -> bool {
    !planned.has_unknown() && json_equivalent(&planned.to_json(), prior)
}

/// The top-level attributes and blocks that differ, and which of them force replacement.
pub fn changed_attributes(
    planned: &Value,
    prior: &Json,
    schema: &Block,
) -> (Vec<String>, Vec<String>) {
    let mut changed = vec![];
    let mut forces = vec![];
    for a in &schema.attrs {
        if a.local_only && !a.force_new {
            // Kept only in state (e.g. force_destroy): a change is a state-only update.
        }
        let p = planned.get(a.name).cloned().unwrap_or(Value::Null);
        let q = prior.get(a.name).cloned().unwrap_or(Json::Null);
        if a.output {
            continue;
        }
        if !same(&p, &q) {
            changed.push(a.name.to_string());
            if a.force_new {
                forces.push(a.name.to_string());
            }
        }
    }
    for b in &schema.blocks {
        let p = planned.get(b.name).cloned().unwrap_or(Value::List(vec![]));
        let q = prior.get(b.name).cloned().unwrap_or(Json::Array(vec![]));
        if !same(&p, &q) {
            changed.push(b.name.to_string());
            if b.force_new || nested_force_new(&p, &q, &b.block) {
                forces.push(b.name.to_string());
            }
        }
    }
    (changed, forces)
}

fn nested_force_new(p: &Value, q: &Json, schema: &Block) -> bool {
    let (Value::List(ps), Some(qs)) = (p, q.as_array()) else {
        return false;
    };
    if ps.len() != qs.len() {
        return schema.attrs.iter().any(|a| a.force_new);
    }
    ps.iter().zip(qs).any(|(pe, qe)| {
        schema.attrs.iter().any(|a| {
            a.force_new
                && !same(
                    &pe.get(a.name).cloned().unwrap_or(Value::Null),
                    qe.get(a.name).unwrap_or(&Json::Null),
                )
        }) || schema.blocks.iter().any(|b| {
            b.force_new
                && !same(
                    &pe.get(b.name).cloned().unwrap_or(Value::Null),
                    qe.get(b.name).unwrap_or(&Json::Null),
                )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::resource_type;
    use serde_json::json;

    fn table_schema() -> &'static Block {
        &resource_type("aws_dynamodb_table").unwrap().schema().block
    }

    fn cfg(j: Json) -> Value {
        normalize(&Value::from_json(&j), table_schema())
    }

    fn prior() -> Json {
        normalize_json(
            &json!({
                "id": "t", "name": "t", "arn": "arn:aws:dynamodb:x:1:table/t", "hash_key": "device_id", "range_key": "ts",
                "billing_mode": "PAY_PER_REQUEST", "read_capacity": 0, "write_capacity": 0,
                "attribute": [{"name": "ts", "type": "S"}, {"name": "device_id", "type": "S"}],
                "ttl": [{"attribute_name": "expires_at", "enabled": true}], "tags": {"env": "dev"},
                "stream_enabled": false, "deletion_protection_enabled": false, "table_class": "STANDARD",
            }),
            table_schema(),
        )
    }

    fn desired(overrides: Json) -> Value {
        let mut base = json!({
            "name": "t", "hash_key": "device_id", "range_key": "ts", "billing_mode": "PAY_PER_REQUEST",
            "attribute": [{"name": "device_id", "type": "S"}, {"name": "ts", "type": "S"}],
            "ttl": [{"attribute_name": "expires_at", "enabled": true}], "tags": {"env": "dev"},
            "stream_enabled": false, "deletion_protection_enabled": false,
        });
        for (k, v) in overrides.as_object().unwrap() {
            base[k] = v.clone();
        }
        let p = Value::from_json(&prior());
        merge_computed(&cfg(base), Some(&p), table_schema())
    }

    #[test]
    fn identical_config_is_no_change_even_with_set_order_and_computed_attributes() {
        let (changed, forces) = changed_attributes(&desired(json!({})), &prior(), table_schema());
        assert!(changed.is_empty(), "{changed:?}");
        assert!(forces.is_empty());
    }

    #[test]
    fn in_place_change_is_an_update() {
        let (changed, forces) = changed_attributes(
            &desired(json!({"tags": {"env": "prod"}})),
            &prior(),
            table_schema(),
        );
        assert_eq!(changed, vec!["tags"]);
        assert!(forces.is_empty());
    }

    #[test]
    fn replace_when_hash_key_changes() {
        let (changed, forces) = changed_attributes(
            &desired(json!({"hash_key": "thing"})),
            &prior(),
            table_schema(),
        );
        assert_eq!(changed, vec!["hash_key"]);
        assert_eq!(forces, vec!["hash_key"]);
    }

    #[test]
    fn computed_attributes_become_unknown_for_new_objects() {
        let v = merge_computed(&cfg(json!({"name": "t"})), None, table_schema());
        assert_eq!(v.get("arn"), Some(&Value::Unknown));
        assert_eq!(v.get("read_capacity"), Some(&Value::Unknown));
        assert_eq!(v.get("name"), Some(&Value::String("t".into())));
    }
}
