//! Data sources: aws_iam_policy_document (computed locally, like Terraform's;
//! `policy_document.rs`), aws_partition (`partition.rs`), aws_caller_identity,
//! aws_region, aws_iot_endpoint, and what is stored: aws_dynamodb_table_item,
//! aws_s3_object, aws_s3_objects (`storage.rs`).

mod partition;
mod policy_document;
pub mod storage;

pub use partition::{Partition, partition_of};
pub use policy_document::{PolicyDocument, policy_json};

use super::attrs::{Attrs, str_of};
use super::client::{Provider, aws_error};
use super::schema::{Block, Schema, out, string};
use async_trait::async_trait;
use serde_json::json;
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
            Box::new(Partition::new()),
            Box::new(CallerIdentity::new()),
            Box::new(Region::new()),
            Box::new(IotEndpoint::new()),
            Box::new(storage::TableItem::new()),
            Box::new(storage::Object::new()),
            Box::new(storage::Objects::new()),
        ];
        all.into_iter().map(|d| (d.name(), d)).collect()
    })
}

pub fn data_source(name: &str) -> Option<&'static dyn DataSourceType> {
    registry().get(name).map(|b| b.as_ref())
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
                // `region` is the provider v6 argument; `name` its deprecated spelling.
                block: Block::new()
                    .attr(string("region").computed())
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
        let name = str_of(cfg, "region")
            .or_else(|| str_of(cfg, "name"))
            .unwrap_or(&p.region)
            .to_string();
        let mut a = Attrs::new();
        a.insert("id".into(), json!(name));
        a.insert("name".into(), json!(name));
        a.insert("region".into(), json!(name));
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
