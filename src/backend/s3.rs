//! The AWS side of the remote state backend: an S3 object store with conditional writes
//! and a DynamoDB lock table, behind the state layer's traits.

use crate::provider::client::{Provider, aws_error};
use crate::state::LockInfo;
use crate::state::remote::{Condition, LockTable, ObjectStore, PutError};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::sync::Arc;

pub struct S3Store {
    pub provider: Arc<Provider>,
    pub bucket: String,
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn get(&self, key: &str) -> anyhow::Result<Option<(Vec<u8>, String)>> {
        match self
            .provider
            .s3()
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(o) => {
                let etag = o.e_tag().unwrap_or_default().to_string();
                let body = o
                    .body
                    .collect()
                    .await
                    .map_err(|e| anyhow::anyhow!("reading s3://{}/{key}: {e}", self.bucket))?;
                Ok(Some((body.into_bytes().to_vec(), etag)))
            }
            Err(e) if matches!(e.code(), Some("NoSuchKey") | Some("NotFound")) => Ok(None),
            Err(e) if e.code() == Some("NoSuchBucket") => Err(anyhow::anyhow!(
                "the state bucket {} does not exist; create it first (thingform does not create its own backend)",
                self.bucket
            )),
            Err(e) => Err(aws_error(
                &format!("GetObject s3://{}/{key}", self.bucket),
                e,
            )),
        }
    }

    async fn put(&self, key: &str, body: Vec<u8>, cond: Condition) -> Result<String, PutError> {
        let mut req = self
            .provider
            .s3()
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(body));
        match &cond {
            Condition::None => {}
            Condition::IfAbsent => req = req.if_none_match("*"),
            Condition::IfMatch(etag) => req = req.if_match(etag),
        }
        match req.send().await {
            Ok(o) => Ok(o.e_tag().unwrap_or_default().to_string()),
            Err(e)
                if matches!(
                    e.code(),
                    Some("PreconditionFailed") | Some("ConditionalRequestConflict")
                ) =>
            {
                Err(PutError::PreconditionFailed)
            }
            Err(e) if e.raw_response().map(|r| r.status().as_u16()) == Some(412) => {
                Err(PutError::PreconditionFailed)
            }
            Err(e) => Err(PutError::Other(aws_error(
                &format!("PutObject s3://{}/{key}", self.bucket),
                e,
            ))),
        }
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        self.provider
            .s3()
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| aws_error(&format!("DeleteObject s3://{}/{key}", self.bucket), e))?;
        Ok(())
    }

    fn describe(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

/// Terraform's DynamoDB lock table layout: partition key `LockID` (string), the holder's
/// info in `Info`.
pub struct DynamoDbLockTable {
    pub provider: Arc<Provider>,
    pub table: String,
}

#[async_trait]
impl LockTable for DynamoDbLockTable {
    async fn acquire(&self, id: &str, info: &LockInfo) -> anyhow::Result<Result<(), LockInfo>> {
        let put = self
            .provider
            .dynamodb()
            .put_item()
            .table_name(&self.table)
            .item("LockID", AttributeValue::S(id.into()))
            .item("Info", AttributeValue::S(serde_json::to_string(info)?))
            .condition_expression("attribute_not_exists(LockID)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(Ok(())),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                Ok(Err(self.holder(id).await?.unwrap_or_else(|| LockInfo {
                    id: "(unknown)".into(),
                    ..info.clone()
                })))
            }
            Err(e) => Err(aws_error(
                &format!("PutItem on lock table {}", self.table),
                e,
            )),
        }
    }

    async fn release(&self, id: &str) -> anyhow::Result<()> {
        self.provider
            .dynamodb()
            .delete_item()
            .table_name(&self.table)
            .key("LockID", AttributeValue::S(id.into()))
            .send()
            .await
            .map_err(|e| aws_error(&format!("DeleteItem on lock table {}", self.table), e))?;
        Ok(())
    }

    async fn holder(&self, id: &str) -> anyhow::Result<Option<LockInfo>> {
        let out = self
            .provider
            .dynamodb()
            .get_item()
            .table_name(&self.table)
            .key("LockID", AttributeValue::S(id.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws_error(&format!("GetItem on lock table {}", self.table), e))?;
        Ok(out
            .item()
            .and_then(|i| i.get("Info"))
            .and_then(|v| v.as_s().ok())
            .and_then(|s| serde_json::from_str(s).ok()))
    }
}
