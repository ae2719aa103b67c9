//! Data sources that read what is stored: `aws_dynamodb_table_item` (one item, by its
//! key), `aws_s3_object` (one object and its body) and `aws_s3_objects` (keys under a
//! prefix), with the Terraform AWS provider's arguments and attributes. A stack can use
//! them; `thingform test` reads what a pipeline wrote with them.

use super::super::attrs::{Attrs, str_of};
use super::super::client::{Provider, aws_error};
use super::super::schema::{Block, Schema, number, out, string, string_list, string_map};
use super::DataSourceType;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Value as Json, json};
use std::collections::HashMap;

fn b64(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// An attribute value in DynamoDB's JSON form (`{"S": "x"}`, `{"N": "1"}`, ...).
pub fn to_dynamodb_json(v: &AttributeValue) -> Json {
    match v {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(b) => json!({ "NULL": b }),
        AttributeValue::B(b) => json!({ "B": b64(b.as_ref()) }),
        AttributeValue::Ss(l) => json!({ "SS": l }),
        AttributeValue::Ns(l) => json!({ "NS": l }),
        AttributeValue::Bs(l) => json!({
            "BS": l.iter().map(|b| b64(b.as_ref())).collect::<Vec<_>>()
        }),
        AttributeValue::L(l) => json!({ "L": l.iter().map(to_dynamodb_json).collect::<Vec<_>>() }),
        AttributeValue::M(m) => json!({ "M": item_json(m) }),
        _ => Json::Null,
    }
}

/// An item in DynamoDB's JSON form, keys sorted.
pub fn item_json(item: &HashMap<String, AttributeValue>) -> Json {
    let mut keys: Vec<_> = item.keys().collect();
    keys.sort();
    Json::Object(
        keys.into_iter()
            .map(|k| (k.clone(), to_dynamodb_json(&item[k])))
            .collect::<Map<_, _>>(),
    )
}

/// DynamoDB's JSON form of one attribute value, read back.
pub fn from_dynamodb_json(v: &Json) -> Result<AttributeValue, String> {
    let Json::Object(m) = v else {
        return Err(format!(
            "{v} is not an attribute value; write it as {{\"S\": \"text\"}} or {{\"N\": \"1\"}}"
        ));
    };
    let [(tag, inner)] = m.iter().collect::<Vec<_>>()[..] else {
        return Err(format!(
            "{v} must have exactly one type key (S, N, BOOL, NULL, L, M, SS, NS)"
        ));
    };
    let text = || {
        inner
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("the value of {tag} must be a string, got {inner}"))
    };
    let texts = || -> Result<Vec<String>, String> {
        inner
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .ok_or_else(|| format!("the value of {tag} must be a list of strings"))
    };
    Ok(match tag.as_str() {
        "S" => AttributeValue::S(text()?),
        "N" => AttributeValue::N(match inner {
            Json::Number(n) => n.to_string(),
            _ => text()?,
        }),
        "BOOL" => AttributeValue::Bool(inner.as_bool().ok_or("BOOL takes true or false")?),
        "NULL" => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(texts()?),
        "NS" => AttributeValue::Ns(texts()?),
        "L" => AttributeValue::L(
            inner
                .as_array()
                .ok_or("L takes a list")?
                .iter()
                .map(from_dynamodb_json)
                .collect::<Result<_, _>>()?,
        ),
        "M" => AttributeValue::M(
            inner
                .as_object()
                .ok_or("M takes an object")?
                .iter()
                .map(|(k, x)| Ok((k.clone(), from_dynamodb_json(x)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => return Err(format!("unknown attribute value type {other:?}")),
    })
}

pub struct TableItem {
    schema: Schema,
}

impl TableItem {
    pub(super) fn new() -> Self {
        TableItem {
            schema: Schema {
                id_attr: "id",
                block: Block::new()
                    .attr(string("table_name").required())
                    .attr(string("key").required())
                    .attr(string("projection_expression"))
                    .attr(string_map("expression_attribute_names"))
                    .attr(out("item"))
                    .attr(out("id")),
            },
        }
    }
}

#[async_trait]
impl DataSourceType for TableItem {
    fn name(&self) -> &'static str {
        "aws_dynamodb_table_item"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    async fn read(&self, p: &Provider, cfg: &Attrs) -> anyhow::Result<Attrs> {
        let table = str_of(cfg, "table_name").unwrap_or_default();
        let key_text = str_of(cfg, "key").unwrap_or_default();
        let key: Json = serde_json::from_str(key_text)
            .map_err(|e| anyhow::anyhow!("key is not JSON ({e}); use jsonencode({{...}})"))?;
        let Json::Object(km) = &key else {
            anyhow::bail!("key must be a JSON object of attribute values");
        };
        let key: HashMap<String, AttributeValue> = km
            .iter()
            .map(|(k, v)| Ok((k.clone(), from_dynamodb_json(v)?)))
            .collect::<Result<_, String>>()
            .map_err(|e| anyhow::anyhow!("key: {e}"))?;
        let mut req = p
            .dynamodb()
            .get_item()
            .table_name(table)
            .set_key(Some(key))
            .consistent_read(true);
        if let Some(pe) = str_of(cfg, "projection_expression") {
            req = req.projection_expression(pe);
        }
        if let Some(Json::Object(names)) = cfg.get("expression_attribute_names") {
            for (k, v) in names {
                req = req.expression_attribute_names(k, v.as_str().unwrap_or_default());
            }
        }
        let out = req.send().await.map_err(|e| aws_error("GetItem", e))?;
        let Some(item) = out.item() else {
            anyhow::bail!(
                "no item in DynamoDB table {table} has the key {key_text}; check the key (the partition key and, if the table has one, the sort key)"
            );
        };
        let mut a = cfg.clone();
        a.insert("item".into(), json!(item_json(item).to_string()));
        a.insert("id".into(), json!(format!("{table}|{key_text}")));
        Ok(a)
    }
}

pub struct Object {
    schema: Schema,
}

impl Object {
    pub(super) fn new() -> Self {
        Object {
            schema: Schema {
                id_attr: "id",
                block: Block::new()
                    .attr(string("bucket").required())
                    .attr(string("key").required())
                    .attr(string("version_id"))
                    .attr(out("body"))
                    .attr(number("content_length").computed())
                    .attr(out("content_type"))
                    .attr(out("etag"))
                    .attr(out("last_modified"))
                    .attr(string_map("metadata").computed())
                    .attr(out("id")),
            },
        }
    }
}

/// The content types whose body Terraform returns (text and JSON).
fn readable(content_type: &str) -> bool {
    let t = content_type.split(';').next().unwrap_or("").trim();
    t.starts_with("text/")
        || matches!(
            t,
            "application/json"
                | "application/ld+json"
                | "application/x-httpd-php"
                | "application/xhtml+xml"
                | "application/x-csh"
                | "application/x-sh"
                | "application/xml"
                | "application/atom+xml"
                | "application/x-sql"
                | "application/yaml"
                | "application/octet-stream"
                | ""
        )
}

#[async_trait]
impl DataSourceType for Object {
    fn name(&self) -> &'static str {
        "aws_s3_object"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    async fn read(&self, p: &Provider, cfg: &Attrs) -> anyhow::Result<Attrs> {
        let (bucket, key) = (
            str_of(cfg, "bucket").unwrap_or_default(),
            str_of(cfg, "key").unwrap_or_default(),
        );
        let mut req = p.s3().get_object().bucket(bucket).key(key);
        if let Some(v) = str_of(cfg, "version_id") {
            req = req.version_id(v);
        }
        let out = req.send().await.map_err(|e| {
            let e = aws_error("GetObject", e);
            anyhow::anyhow!("s3://{bucket}/{key}: {e}")
        })?;
        let mut a = cfg.clone();
        let ct = out.content_type().unwrap_or("").to_string();
        a.insert("content_type".into(), json!(ct));
        a.insert("content_length".into(), json!(out.content_length()));
        a.insert("etag".into(), json!(out.e_tag()));
        a.insert(
            "last_modified".into(),
            json!(out.last_modified().map(|t| t.to_string())),
        );
        a.insert("metadata".into(), json!(out.metadata()));
        a.insert("id".into(), json!(format!("{bucket}/{key}")));
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("s3://{bucket}/{key}: reading the body: {e}"))?
            .into_bytes();
        let body = match std::str::from_utf8(&bytes) {
            Ok(text) if readable(&ct) => json!(text),
            _ => Json::Null,
        };
        a.insert("body".into(), body);
        Ok(a)
    }
}

pub struct Objects {
    schema: Schema,
}

impl Objects {
    pub(super) fn new() -> Self {
        Objects {
            schema: Schema {
                id_attr: "id",
                block: Block::new()
                    .attr(string("bucket").required())
                    .attr(string("prefix"))
                    .attr(string("delimiter"))
                    .attr(string("start_after"))
                    .attr(number("max_keys"))
                    .attr(string_list("keys").computed())
                    .attr(string_list("common_prefixes").computed())
                    .attr(out("id")),
            },
        }
    }
}

#[async_trait]
impl DataSourceType for Objects {
    fn name(&self) -> &'static str {
        "aws_s3_objects"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    async fn read(&self, p: &Provider, cfg: &Attrs) -> anyhow::Result<Attrs> {
        let bucket = str_of(cfg, "bucket").unwrap_or_default();
        let max = cfg
            .get("max_keys")
            .and_then(Json::as_u64)
            .unwrap_or(1000)
            .max(1) as usize;
        let (mut keys, mut prefixes, mut token) = (vec![], vec![], None::<String>);
        loop {
            let out = p
                .s3()
                .list_objects_v2()
                .bucket(bucket)
                .set_prefix(str_of(cfg, "prefix").map(str::to_string))
                .set_delimiter(str_of(cfg, "delimiter").map(str::to_string))
                .set_start_after(str_of(cfg, "start_after").map(str::to_string))
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| aws_error("ListObjectsV2", e))?;
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            prefixes.extend(
                out.common_prefixes()
                    .iter()
                    .filter_map(|c| c.prefix().map(str::to_string)),
            );
            token = out.next_continuation_token().map(str::to_string);
            if token.is_none() || keys.len() >= max {
                break;
            }
        }
        keys.truncate(max);
        let mut a = cfg.clone();
        a.insert("keys".into(), json!(keys));
        a.insert("common_prefixes".into(), json!(prefixes));
        a.insert("id".into(), json!(bucket));
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamodb_json_round_trips() {
        let v = json!({"M": {"a": {"S": "x"}, "n": {"N": "1.5"}, "l": {"L": [{"BOOL": true}]}}});
        let av = from_dynamodb_json(&v).unwrap();
        assert_eq!(to_dynamodb_json(&av), v);
        assert!(from_dynamodb_json(&json!({"S": "a", "N": "1"})).is_err());
        assert!(from_dynamodb_json(&json!("x")).is_err());
        assert_eq!(
            from_dynamodb_json(&json!({"N": 7})).unwrap(),
            AttributeValue::N("7".into())
        );
    }

    #[test]
    fn binary_bodies_are_not_returned() {
        assert!(readable("application/json"));
        assert!(readable("text/plain; charset=utf-8"));
        assert!(!readable("image/png"));
    }
}
