//! aws_s3_bucket: the bucket itself and its tags. Versioning and lifecycle are their own
//! resource types, as in the Terraform AWS provider (v4+).

use super::ResourceType;
use super::attrs::{Attrs, bool_of, map_json, name_or_id, obj, str_of, string_map};
use super::client::{Provider, aws_error};
use super::not_found::{Service, is_not_found};
use super::reread::reread;
use super::schema::{Block, Schema, boolean, out, string, string_map as map_attr};
use async_trait::async_trait;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier, Tag, Tagging,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::json;
use std::collections::BTreeMap;

pub struct S3Bucket {
    schema: Schema,
}

impl Default for S3Bucket {
    fn default() -> Self {
        Self::new()
    }
}

impl S3Bucket {
    pub fn new() -> Self {
        S3Bucket {
            schema: Schema {
                id_attr: "bucket",
                block: Block::new()
                    .attr(string("bucket").computed().force_new())
                    .attr(string("bucket_prefix").force_new())
                    .attr(boolean("force_destroy").default(json!(false)).local_only())
                    .attr(boolean("object_lock_enabled").computed().force_new())
                    .attr(map_attr("tags"))
                    .attr(out("id"))
                    .attr(out("arn"))
                    .attr(out("bucket_domain_name"))
                    .attr(out("bucket_regional_domain_name"))
                    .attr(out("region")),
            },
        }
    }
}

pub(crate) async fn live_tags(
    p: &Provider,
    bucket: &str,
) -> anyhow::Result<BTreeMap<String, String>> {
    match p.s3().get_bucket_tagging().bucket(bucket).send().await {
        Ok(out) => Ok(out
            .tag_set()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect()),
        Err(e) if is_not_found(Service::S3, &e) => Ok(BTreeMap::new()),
        Err(e) => Err(aws_error("GetBucketTagging", e)),
    }
}

async fn put_tags(p: &Provider, bucket: &str, planned: &Attrs) -> anyhow::Result<()> {
    let tags = p.tags_all(&string_map(planned, "tags"));
    if tags.is_empty() {
        p.s3()
            .delete_bucket_tagging()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| aws_error("DeleteBucketTagging", e))?;
        return Ok(());
    }
    let tag_set = tags
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()?;
    p.s3()
        .put_bucket_tagging()
        .bucket(bucket)
        .tagging(Tagging::builder().set_tag_set(Some(tag_set)).build()?)
        .send()
        .await
        .map_err(|e| aws_error("PutBucketTagging", e))?;
    Ok(())
}

/// Deletes every object version and delete marker, for `force_destroy`.
async fn empty_bucket(p: &Provider, bucket: &str) -> anyhow::Result<()> {
    let mut key_marker: Option<String> = None;
    let mut version_marker: Option<String> = None;
    loop {
        let page = p
            .s3()
            .list_object_versions()
            .bucket(bucket)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
            .map_err(|e| aws_error("ListObjectVersions", e))?;
        let mut ids = vec![];
        for v in page.versions() {
            ids.push(
                ObjectIdentifier::builder()
                    .key(v.key().unwrap_or_default())
                    .set_version_id(v.version_id().map(str::to_string))
                    .build()?,
            );
        }
        for m in page.delete_markers() {
            ids.push(
                ObjectIdentifier::builder()
                    .key(m.key().unwrap_or_default())
                    .set_version_id(m.version_id().map(str::to_string))
                    .build()?,
            );
        }
        for chunk in ids.chunks(1000) {
            p.s3()
                .delete_objects()
                .bucket(bucket)
                .delete(
                    Delete::builder()
                        .set_objects(Some(chunk.to_vec()))
                        .quiet(true)
                        .build()?,
                )
                .send()
                .await
                .map_err(|e| aws_error("DeleteObjects", e))?;
        }
        if page.is_truncated() == Some(true) {
            key_marker = page.next_key_marker().map(str::to_string);
            version_marker = page.next_version_id_marker().map(str::to_string);
        } else {
            return Ok(());
        }
    }
}

#[async_trait]
impl ResourceType for S3Bucket {
    fn name(&self) -> &'static str {
        "aws_s3_bucket"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("bucket", json!(id))])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let Some(bucket) = name_or_id(prior, "bucket") else {
            return Ok(None);
        };
        match p.s3().head_bucket().bucket(bucket).send().await {
            Ok(_) => {}
            Err(e) if is_not_found(Service::S3, &e) => {
                return Ok(None);
            }
            Err(e) => return Err(aws_error("HeadBucket", e)),
        }
        let region = match p.s3().get_bucket_location().bucket(bucket).send().await {
            Ok(l) => l
                .location_constraint()
                .map(|c| c.as_str().to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "us-east-1".into()),
            Err(_) => p.region.clone(),
        };
        let tags = p.own_tags(&live_tags(p, bucket).await?);
        let object_lock = match p
            .s3()
            .get_object_lock_configuration()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(o) => o
                .object_lock_configuration()
                .and_then(|c| c.object_lock_enabled())
                .map(|s| s.as_str() == "Enabled")
                .unwrap_or(false),
            Err(_) => bool_of(prior, "object_lock_enabled").unwrap_or(false),
        };
        let mut a = Attrs::new();
        a.insert("id".into(), json!(bucket));
        a.insert("bucket".into(), json!(bucket));
        a.insert(
            "bucket_prefix".into(),
            prior.get("bucket_prefix").cloned().unwrap_or(json!(null)),
        );
        a.insert("object_lock_enabled".into(), json!(object_lock));
        a.insert("tags".into(), map_json(tags));
        a.insert("arn".into(), json!(format!("arn:aws:s3:::{bucket}")));
        a.insert(
            "bucket_domain_name".into(),
            json!(format!("{bucket}.s3.amazonaws.com")),
        );
        a.insert(
            "bucket_regional_domain_name".into(),
            json!(format!("{bucket}.s3.{region}.amazonaws.com")),
        );
        a.insert("region".into(), json!(region));
        Ok(Some(a))
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let bucket = match str_of(planned, "bucket") {
            Some(b) => b.to_string(),
            None => super::attrs::generated_name(str_of(planned, "bucket_prefix"), 26),
        };
        let mut req = p.s3().create_bucket().bucket(&bucket);
        if p.region != "us-east-1" {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(p.region.as_str()))
                    .build(),
            );
        }
        if bool_of(planned, "object_lock_enabled") == Some(true) {
            req = req.object_lock_enabled_for_bucket(true);
        }
        super::attempts::adopt(p, "CreateBucket", req.send().await).map_err(|e| match e.code() {
            Some("BucketAlreadyOwnedByYou") => anyhow::Error::new(crate::provider::AlreadyExists(format!(
                "bucket {bucket:?} already exists in your account; import it with `thingform import ADDRESS {bucket}` instead of creating it"
            ))),
            Some("BucketAlreadyExists") => anyhow::anyhow!(
                "bucket name {bucket:?} is taken by another AWS account (bucket names are global); choose another name"
            ),
            _ => aws_error("CreateBucket", e),
        })?;
        if !string_map(planned, "tags").is_empty() || !p.default_tags.is_empty() {
            put_tags(p, &bucket, planned).await?;
        }
        let mut prior = planned.clone();
        prior.insert("bucket".into(), json!(bucket));
        super::created(
            self.read(p, &prior).await,
            &prior,
            format!("bucket {bucket} vanished right after it was created"),
        )
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let bucket = super::attrs::req_str(prior, "bucket")?;
        if prior.get("tags") != planned.get("tags") {
            put_tags(p, bucket, planned).await?;
        }
        reread(self, p, prior, || {
            format!("bucket {bucket} no longer exists")
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let bucket = super::attrs::req_str(prior, "bucket")?;
        if bool_of(prior, "force_destroy") == Some(true) {
            empty_bucket(p, bucket).await?;
        }
        match p.s3().delete_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(Service::S3, &e) => Ok(()),
            Err(e) if e.code() == Some("BucketNotEmpty") => Err(anyhow::anyhow!(
                "bucket {bucket:?} is not empty; set force_destroy = true and apply before destroying, or empty it yourself"
            )),
            Err(e) => Err(aws_error("DeleteBucket", e)),
        }
    }

    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        if str_of(planned, "bucket").is_none() {
            return Ok(None);
        }
        self.read(p, planned).await
    }
}
