//! aws_s3_bucket_versioning: a bucket's versioning state (Enabled / Suspended / Disabled).

use super::ResourceType;
use super::attrs::{Attrs, block, obj, req_str, str_of};
use super::client::{Provider, aws_error};
use super::not_found::{Service, is_not_found, is_not_found_message};
use super::reread::reread;
use super::schema::{Block, Schema, out, single, string};
use async_trait::async_trait;
use aws_sdk_s3::types::{BucketVersioningStatus, MfaDelete, VersioningConfiguration};
use serde_json::json;

pub struct S3BucketVersioning {
    schema: Schema,
}

impl Default for S3BucketVersioning {
    fn default() -> Self {
        Self::new()
    }
}

impl S3BucketVersioning {
    pub fn new() -> Self {
        S3BucketVersioning {
            schema: Schema {
                id_attr: "bucket",
                block: Block::new()
                    .attr(string("bucket").required().force_new())
                    .attr(string("expected_bucket_owner").force_new())
                    .attr(out("id"))
                    .block(
                        single(
                            "versioning_configuration",
                            Block::new()
                                .attr(string("status").required())
                                .attr(string("mfa_delete").computed()),
                        )
                        .min(1),
                    ),
            },
        }
    }
}

async fn put(
    p: &Provider,
    bucket: &str,
    status: &str,
    mfa_delete: Option<&str>,
) -> anyhow::Result<()> {
    let status = match status {
        "Enabled" => BucketVersioningStatus::Enabled,
        "Suspended" => BucketVersioningStatus::Suspended,
        other => anyhow::bail!(
            "versioning status {other:?} is invalid: use Enabled, Suspended or Disabled"
        ),
    };
    let mut cfg = VersioningConfiguration::builder().status(status);
    if let Some(m) = mfa_delete {
        cfg = cfg.mfa_delete(MfaDelete::from(m));
    }
    p.s3()
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(cfg.build())
        .send()
        .await
        .map_err(|e| aws_error("PutBucketVersioning", e))?;
    Ok(())
}

fn planned_status(planned: &Attrs) -> (String, Option<String>) {
    let b = block(planned, "versioning_configuration");
    (
        b.and_then(|b| str_of(b, "status"))
            .unwrap_or("Enabled")
            .to_string(),
        b.and_then(|b| str_of(b, "mfa_delete")).map(str::to_string),
    )
}

/// moto 5.2 answers GetBucketVersioning with a `<GetBucketVersioningResponse>` root where
/// S3 sends `<VersioningConfiguration>`, and the SDK refuses to parse it. The status is in
/// the body all the same; read it from there (only for a 200 answer with that root).
fn moto_versioning_body<E>(
    e: &aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> Option<(Option<String>, Option<String>)> {
    let raw = e.raw_response()?;
    if raw.status().as_u16() != 200 {
        return None;
    }
    let body = std::str::from_utf8(raw.body().bytes()?).ok()?;
    if !body.contains("<GetBucketVersioningResponse") {
        return None;
    }
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find('<')? + start;
        Some(body[start..end].to_string())
    };
    Some((tag("Status"), tag("MfaDelete")))
}

#[async_trait]
impl ResourceType for S3BucketVersioning {
    fn name(&self) -> &'static str {
        "aws_s3_bucket_versioning"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("bucket", json!(id))])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let bucket = req_str(prior, "bucket")?;
        let (status, mfa) = match p.s3().get_bucket_versioning().bucket(bucket).send().await {
            Ok(v) => (
                v.status().map(|s| s.as_str().to_string()),
                v.mfa_delete().map(|m| m.as_str().to_string()),
            ),
            Err(e) if is_not_found(Service::S3, &e) => return Ok(None),
            Err(e) => match moto_versioning_body(&e) {
                Some(parsed) => parsed,
                None => return Err(aws_error("GetBucketVersioning", e)),
            },
        };
        // A bucket that was never versioned reports no status: Terraform calls it Disabled.
        let status = status.unwrap_or_else(|| "Disabled".to_string());
        let mfa = mfa.unwrap_or_else(|| "Disabled".into());
        let mut a = Attrs::new();
        a.insert("id".into(), json!(bucket));
        a.insert("bucket".into(), json!(bucket));
        a.insert(
            "expected_bucket_owner".into(),
            prior
                .get("expected_bucket_owner")
                .cloned()
                .unwrap_or(json!(null)),
        );
        a.insert(
            "versioning_configuration".into(),
            json!([{"status": status, "mfa_delete": mfa}]),
        );
        Ok(Some(a))
    }

    /// Its configuration names the object: the planned attributes are what `read` needs.
    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        crate::provider::recover_by_read(self, p, planned).await
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let bucket = req_str(planned, "bucket")?;
        let (status, mfa) = planned_status(planned);
        // "Disabled" is only meaningful for a bucket that was never versioned: nothing to call.
        if status != "Disabled" {
            put(p, bucket, &status, mfa.as_deref()).await?;
        }
        reread(self, p, planned, || {
            format!("bucket {bucket} does not exist")
        })
        .await
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let bucket = req_str(planned, "bucket")?;
        let (status, mfa) = planned_status(planned);
        if status == "Disabled" {
            anyhow::bail!(
                "versioning of bucket {bucket} cannot go back to Disabled once it was enabled; use Suspended"
            );
        }
        put(p, bucket, &status, mfa.as_deref()).await?;
        reread(self, p, prior, || format!("bucket {bucket} does not exist")).await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        // S3 cannot un-version a bucket; like Terraform, destroying this resource suspends it.
        let bucket = req_str(prior, "bucket")?;
        let (status, _) = planned_status(prior);
        if status == "Enabled" {
            match put(p, bucket, "Suspended", None).await {
                Err(e) if is_not_found_message(Service::S3, &e) => {}
                other => other?,
            }
        }
        Ok(())
    }
}
