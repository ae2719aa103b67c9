//! Data sources: aws_iam_policy_document (computed locally, like Terraform's),
//! aws_caller_identity, aws_region, aws_iot_endpoint.

use super::attrs::{Attrs, blocks, str_of, string_list};
use super::client::{Provider, aws_error};
use super::schema::{Block, Schema, list, out, string, string_set};
use async_trait::async_trait;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[async_trait]
pub trait DataSourceType: Send + Sync {
    fn name(&self) -> &'static str;
    fn schema(&self) -> &Schema;
    /// The result computed without AWS, when this data source can (policy documents).
    fn read_local(&self, _cfg: &Attrs) -> Option<anyhow::Result<Attrs>> {
        None
    }
    async fn read(&self, p: &Provider, cfg: &Attrs) -> anyhow::Result<Attrs>;
}

type Registry = BTreeMap<&'static str, Box<dyn DataSourceType>>;

pub fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(|| {
        let all: Vec<Box<dyn DataSourceType>> = vec![
            Box::new(PolicyDocument::new()),
            Box::new(CallerIdentity::new()),
            Box::new(Region::new()),
            Box::new(IotEndpoint::new()),
        ];
        all.into_iter().map(|d| (d.name(), d)).collect()
    })
}

pub fn data_source(name: &str) -> Option<&'static dyn DataSourceType> {
    registry().get(name).map(|b| b.as_ref())
}

pub struct PolicyDocument {
    schema: Schema,
}

impl PolicyDocument {
    fn new() -> Self {
        let principals = Block::new()
            .attr(string("type").required())
            .attr(string_set("identifiers").required());
        let statement = Block::new()
            .attr(string("sid"))
            .attr(string("effect"))
            .attr(string_set("actions"))
            .attr(string_set("not_actions"))
            .attr(string_set("resources"))
            .attr(string_set("not_resources"))
            .block(list("principals", principals.clone()))
            .block(list("not_principals", principals))
            .block(list(
                "condition",
                Block::new()
                    .attr(string("test").required())
                    .attr(string("variable").required())
                    .attr(super::schema::string_list("values").required()),
            ));
        PolicyDocument {
            schema: Schema {
                id_attr: "id",
                block: Block::new()
                    .attr(string("version"))
                    .attr(string("policy_id"))
                    .attr(out("json"))
                    .attr(out("minified_json"))
                    .attr(out("id"))
                    .block(list("statement", statement)),
            },
        }
    }
}

/// One string when there is one element, a list otherwise (as Terraform renders them).
fn one_or_many(v: Vec<String>) -> Json {
    if v.len() == 1 { json!(v[0]) } else { json!(v) }
}

pub fn policy_json(cfg: &Attrs) -> Json {
    let mut statements = vec![];
    for s in blocks(cfg, "statement") {
        let mut st = serde_json::Map::new();
        if let Some(sid) = str_of(s, "sid") {
            st.insert("Sid".into(), json!(sid));
        }
        st.insert(
            "Effect".into(),
            json!(str_of(s, "effect").unwrap_or("Allow")),
        );
        for (attr, key) in [
            ("actions", "Action"),
            ("not_actions", "NotAction"),
            ("resources", "Resource"),
            ("not_resources", "NotResource"),
        ] {
            let v = string_list(s, attr);
            if !v.is_empty() {
                st.insert(key.into(), one_or_many(v));
            }
        }
        for (attr, key) in [
            ("principals", "Principal"),
            ("not_principals", "NotPrincipal"),
        ] {
            let ps = blocks(s, attr);
            if ps.is_empty() {
                continue;
            }
            let mut m = serde_json::Map::new();
            for pr in ps {
                let t = str_of(pr, "type").unwrap_or("AWS").to_string();
                let ids = string_list(pr, "identifiers");
                if t == "*" {
                    st.insert(key.into(), json!("*"));
                    continue;
                }
                m.insert(t, one_or_many(ids));
            }
            if !m.is_empty() {
                st.insert(key.into(), Json::Object(m));
            }
        }
        let conds = blocks(s, "condition");
        if !conds.is_empty() {
            let mut m: serde_json::Map<String, Json> = serde_json::Map::new();
            for c in conds {
                let test = str_of(c, "test").unwrap_or_default().to_string();
                let entry = m.entry(test).or_insert_with(|| json!({}));
                if let Some(o) = entry.as_object_mut() {
                    o.insert(
                        str_of(c, "variable").unwrap_or_default().to_string(),
                        one_or_many(string_list(c, "values")),
                    );
                }
            }
            st.insert("Condition".into(), Json::Object(m));
        }
        statements.push(Json::Object(st));
    }
    let mut doc = serde_json::Map::new();
    doc.insert(
        "Version".into(),
        json!(str_of(cfg, "version").unwrap_or("2012-10-17")),
    );
    if let Some(id) = str_of(cfg, "policy_id") {
        doc.insert("Id".into(), json!(id));
    }
    doc.insert("Statement".into(), Json::Array(statements));
    Json::Object(doc)
}

#[async_trait]
impl DataSourceType for PolicyDocument {
    fn name(&self) -> &'static str {
        "aws_iam_policy_document"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn read_local(&self, cfg: &Attrs) -> Option<anyhow::Result<Attrs>> {
        let doc = policy_json(cfg);
        let mut a = cfg.clone();
        let pretty = serde_json::to_string_pretty(&doc).unwrap_or_default();
        let minified = doc.to_string();
        a.insert(
            "id".into(),
            json!(crate::value::canonical_json(&minified).len().to_string()),
        );
        a.insert("json".into(), json!(pretty));
        a.insert("minified_json".into(), json!(minified));
        Some(Ok(a))
    }
    async fn read(&self, _p: &Provider, cfg: &Attrs) -> anyhow::Result<Attrs> {
        self.read_local(cfg).unwrap_or_else(|| Ok(cfg.clone()))
    }
}

pub struct CallerIdentity {
    schema: Schema,
}

impl CallerIdentity {
    fn new() -> Self {
        CallerIdentity {
            schema: Schema {
                id_attr: "account_id",
                block: Block::new()
                    .attr(out("account_id"))
                    .attr(out("arn"))
                    .attr(out("user_id"))
                    .attr(out("id")),
            },
        }
    }
}

#[async_trait]
impl DataSourceType for CallerIdentity {
    fn name(&self) -> &'static str {
        "aws_caller_identity"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    async fn read(&self, p: &Provider, _cfg: &Attrs) -> anyhow::Result<Attrs> {
        let who = p
            .sts()
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| aws_error("GetCallerIdentity", e))?;
        let mut a = Attrs::new();
        a.insert("account_id".into(), json!(who.account()));
        a.insert("id".into(), json!(who.account()));
        a.insert("arn".into(), json!(who.arn()));
        a.insert("user_id".into(), json!(who.user_id()));
        Ok(a)
    }
}

pub struct Region {
    schema: Schema,
}

impl Region {
    fn new() -> Self {
        Region {
            schema: Schema {
                id_attr: "name",
                block: Block::new()
                    .attr(string("name").computed())
                    .attr(out("id"))
                    .attr(out("description"))
                    .attr(out("endpoint")),
            },
        }
    }
}

#[async_trait]
impl DataSourceType for Region {
    fn name(&self) -> &'static str {
        "aws_region"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    async fn read(&self, p: &Provider, cfg: &Attrs) -> anyhow::Result<Attrs> {
        let name = str_of(cfg, "name").unwrap_or(&p.region).to_string();
        let mut a = Attrs::new();
        a.insert("id".into(), json!(name));
        a.insert("name".into(), json!(name));
        a.insert("description".into(), json!(name));
        a.insert(
            "endpoint".into(),
            json!(format!("ec2.{name}.amazonaws.com")),
        );
        Ok(a)
    }
}

pub struct IotEndpoint {
    schema: Schema,
}

impl IotEndpoint {
    fn new() -> Self {
        IotEndpoint {
            schema: Schema {
                id_attr: "endpoint_address",
                block: Block::new()
                    .attr(string("endpoint_type"))
                    .attr(out("endpoint_address"))
                    .attr(out("id")),
            },
        }
    }
}

#[async_trait]
impl DataSourceType for IotEndpoint {
    fn name(&self) -> &'static str {
        "aws_iot_endpoint"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    async fn read(&self, p: &Provider, cfg: &Attrs) -> anyhow::Result<Attrs> {
        let mut req = p.iot().describe_endpoint();
        if let Some(t) = str_of(cfg, "endpoint_type") {
            req = req.endpoint_type(t);
        }
        let ep = req
            .send()
            .await
            .map_err(|e| aws_error("DescribeEndpoint", e))?;
        let mut a = cfg.clone();
        a.insert("endpoint_address".into(), json!(ep.endpoint_address()));
        a.insert("id".into(), json!(ep.endpoint_address()));
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_document_renders_like_terraform() {
        let cfg: Attrs = serde_json::from_value(json!({
            "statement": [{
                "sid": "Publish", "effect": null, "actions": ["iot:Publish"],
                "resources": ["arn:aws:iot:eu-west-1:1:topic/a", "arn:aws:iot:eu-west-1:1:topic/b"],
                "principals": [{"type": "Service", "identifiers": ["iot.amazonaws.com"]}],
                "condition": [{"test": "StringEquals", "variable": "aws:SourceAccount", "values": ["1"]}]
            }]
        }))
        .unwrap();
        let doc = policy_json(&cfg);
        assert_eq!(
            doc,
            json!({"Version": "2012-10-17", "Statement": [{
                "Sid": "Publish", "Effect": "Allow", "Action": "iot:Publish",
                "Resource": ["arn:aws:iot:eu-west-1:1:topic/a", "arn:aws:iot:eu-west-1:1:topic/b"],
                "Principal": {"Service": "iot.amazonaws.com"},
                "Condition": {"StringEquals": {"aws:SourceAccount": "1"}}
            }]})
        );
    }
}
