//! aws_s3_bucket_lifecycle_configuration: the whole lifecycle rule set of one bucket,
//! written with one PutBucketLifecycleConfiguration.

use super::ResourceType;
use super::attrs::{Attrs, blocks, bool_of, i64_of, obj, req_str, str_of, string_map};
use super::client::{Provider, aws_error};
use super::not_found::{Service, gone, is_not_found};
use super::schema::{
    Block, Schema, boolean, list, number, out, single, string, string_map as map_attr,
};
use async_trait::async_trait;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleAndOperator, LifecycleRuleFilter,
    NoncurrentVersionExpiration, NoncurrentVersionTransition, Tag, Transition,
    TransitionStorageClass,
};
use serde_json::{Value as Json, json};

pub struct S3BucketLifecycle {
    schema: Schema,
}

impl Default for S3BucketLifecycle {
    fn default() -> Self {
        Self::new()
    }
}

impl S3BucketLifecycle {
    pub fn new() -> Self {
        let filter = Block::new()
            .attr(string("prefix"))
            .attr(number("object_size_greater_than"))
            .attr(number("object_size_less_than"))
            .block(single(
                "tag",
                Block::new()
                    .attr(string("key").required())
                    .attr(string("value").required()),
            ))
            .block(single(
                "and",
                Block::new()
                    .attr(string("prefix"))
                    .attr(map_attr("tags"))
                    .attr(number("object_size_greater_than"))
                    .attr(number("object_size_less_than")),
            ));
        let rule = Block::new()
            .attr(string("id").required())
            .attr(string("status").required())
            .attr(string("prefix"))
            .block(single("filter", filter))
            .block(single(
                "expiration",
                Block::new()
                    .attr(number("days"))
                    .attr(string("date"))
                    .attr(boolean("expired_object_delete_marker")),
            ))
            .block(
                list(
                    "transition",
                    Block::new()
                        .attr(number("days"))
                        .attr(string("date"))
                        .attr(string("storage_class").required()),
                )
                .set(),
            )
            .block(single(
                "noncurrent_version_expiration",
                Block::new()
                    .attr(number("noncurrent_days"))
                    .attr(number("newer_noncurrent_versions")),
            ))
            .block(
                list(
                    "noncurrent_version_transition",
                    Block::new()
                        .attr(number("noncurrent_days"))
                        .attr(number("newer_noncurrent_versions"))
                        .attr(string("storage_class").required()),
                )
                .set(),
            )
            .block(single(
                "abort_incomplete_multipart_upload",
                Block::new().attr(number("days_after_initiation")),
            ));
        S3BucketLifecycle {
            schema: Schema {
                id_attr: "bucket",
                block: Block::new()
                    .attr(string("bucket").required().force_new())
                    .attr(string("expected_bucket_owner").force_new())
                    .attr(out("id"))
                    .block(list("rule", rule).min(1)),
            },
        }
    }
}

fn date(s: &str) -> anyhow::Result<aws_smithy_types::DateTime> {
    let s = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_string()
    };
    aws_smithy_types::DateTime::from_str(&s, aws_smithy_types::date_time::Format::DateTime).map_err(
        |e| anyhow::anyhow!("invalid date {s:?} (use RFC 3339, e.g. 2027-01-01T00:00:00Z): {e}"),
    )
}

fn date_string(d: &aws_smithy_types::DateTime) -> String {
    d.fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

fn tag(k: &str, v: &str) -> anyhow::Result<Tag> {
    Ok(Tag::builder().key(k).value(v).build()?)
}

fn to_rule(r: &Attrs) -> anyhow::Result<LifecycleRule> {
    let status = match req_str(r, "status")? {
        "Enabled" => ExpirationStatus::Enabled,
        "Disabled" => ExpirationStatus::Disabled,
        other => {
            anyhow::bail!("lifecycle rule status {other:?} is invalid: use Enabled or Disabled")
        }
    };
    let mut b = LifecycleRule::builder()
        .id(req_str(r, "id")?)
        .status(status);
    if let Some(f) = blocks(r, "filter").first() {
        let mut fb = LifecycleRuleFilter::builder();
        if let Some(p) = f.get("prefix").and_then(Json::as_str) {
            fb = fb.prefix(p);
        }
        fb = fb.set_object_size_greater_than(i64_of(f, "object_size_greater_than"));
        fb = fb.set_object_size_less_than(i64_of(f, "object_size_less_than"));
        if let Some(t) = blocks(f, "tag").first() {
            fb = fb.tag(tag(req_str(t, "key")?, req_str(t, "value")?)?);
        }
        if let Some(a) = blocks(f, "and").first() {
            let tags = string_map(a, "tags")
                .into_iter()
                .map(|(k, v)| tag(&k, &v))
                .collect::<Result<Vec<_>, _>>()?;
            fb = fb.and(
                LifecycleRuleAndOperator::builder()
                    .set_prefix(str_of(a, "prefix").map(str::to_string))
                    .set_tags((!tags.is_empty()).then_some(tags))
                    .set_object_size_greater_than(i64_of(a, "object_size_greater_than"))
                    .set_object_size_less_than(i64_of(a, "object_size_less_than"))
                    .build(),
            );
        }
        b = b.filter(fb.build());
    } else if let Some(p) = str_of(r, "prefix") {
        b = b.filter(LifecycleRuleFilter::builder().prefix(p).build());
    } else {
        // S3 needs a filter or prefix; an empty prefix means "every object", as in Terraform.
        b = b.filter(LifecycleRuleFilter::builder().prefix("").build());
    }
    if let Some(e) = blocks(r, "expiration")
        .into_iter()
        .find(|e| !expiration_is_empty(e))
    {
        // An empty `expiration {}` sets nothing: S3 keeps no empty Expiration.
        let mut eb = LifecycleExpiration::builder().set_days(i64_of(e, "days").map(|d| d as i32));
        if let Some(d) = str_of(e, "date") {
            eb = eb.date(date(d)?);
        }
        eb = eb.set_expired_object_delete_marker(
            bool_of(e, "expired_object_delete_marker").filter(|b| *b),
        );
        b = b.expiration(eb.build());
    }
    for t in blocks(r, "transition") {
        let mut tb = Transition::builder()
            .set_days(i64_of(t, "days").map(|d| d as i32))
            .storage_class(TransitionStorageClass::from(req_str(t, "storage_class")?));
        if let Some(d) = str_of(t, "date") {
            tb = tb.date(date(d)?);
        }
        b = b.transitions(tb.build());
    }
    if let Some(n) = blocks(r, "noncurrent_version_expiration").first() {
        b = b.noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .set_noncurrent_days(i64_of(n, "noncurrent_days").map(|d| d as i32))
                .set_newer_noncurrent_versions(
                    i64_of(n, "newer_noncurrent_versions").map(|d| d as i32),
                )
                .build(),
        );
    }
    for n in blocks(r, "noncurrent_version_transition") {
        b = b.noncurrent_version_transitions(
            NoncurrentVersionTransition::builder()
                .set_noncurrent_days(i64_of(n, "noncurrent_days").map(|d| d as i32))
                .set_newer_noncurrent_versions(
                    i64_of(n, "newer_noncurrent_versions").map(|d| d as i32),
                )
                .storage_class(TransitionStorageClass::from(req_str(n, "storage_class")?))
                .build(),
        );
    }
    if let Some(a) = blocks(r, "abort_incomplete_multipart_upload").first() {
        b = b.abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .set_days_after_initiation(i64_of(a, "days_after_initiation").map(|d| d as i32))
                .build(),
        );
    }
    Ok(b.build()?)
}

/// An `expiration` block that sets nothing (`expiration {}`, or only
/// `expired_object_delete_marker = false`).
fn expiration_is_empty(e: &Attrs) -> bool {
    e.get("days").is_none_or(Json::is_null)
        && str_of(e, "date").is_none()
        && bool_of(e, "expired_object_delete_marker") != Some(true)
}

/// The `expiration` block read back: AWS's, with the user's own spelling of what AWS
/// does not keep (`expired_object_delete_marker = false`, an empty `expiration {}`).
fn expiration_json(e: Option<&LifecycleExpiration>, prior: Option<&Attrs>) -> Json {
    let prior_e = prior.and_then(|p| blocks(p, "expiration").into_iter().next());
    let aws_empty = e.is_none_or(|e| {
        e.days().is_none() && e.date().is_none() && e.expired_object_delete_marker() != Some(true)
    });
    if aws_empty {
        return match prior_e.filter(|p| expiration_is_empty(p)) {
            Some(p) => json!([p]),
            None => json!([]),
        };
    }
    let e = e.expect("not empty");
    let marker = match e.expired_object_delete_marker() {
        Some(true) => json!(true),
        _ => prior_e
            .and_then(|p| p.get("expired_object_delete_marker"))
            .filter(|m| m.as_bool() == Some(false))
            .cloned()
            .unwrap_or(Json::Null),
    };
    json!([{
        "days": e.days().map(|d| json!(d)).unwrap_or(Json::Null),
        "date": e.date().map(date_string),
        "expired_object_delete_marker": marker,
    }])
}

/// The rule as the configuration would spell it. `prior` says whether the user wrote a
/// `filter {}` block, so an empty AWS filter reads back in the user's own shape.
fn from_rule(r: &LifecycleRule, prior: Option<&Attrs>) -> Json {
    let num = |v: Option<i32>| v.map(|d| json!(d)).unwrap_or(Json::Null);
    let num64 = |v: Option<i64>| v.map(|d| json!(d)).unwrap_or(Json::Null);
    let filter = r.filter().map(|f| {
        let and = f.and().map(|a| {
            json!([{
                "prefix": a.prefix(),
                "tags": a.tags().iter().map(|t| (t.key().to_string(), json!(t.value()))).collect::<serde_json::Map<_, _>>(),
                "object_size_greater_than": num64(a.object_size_greater_than()),
                "object_size_less_than": num64(a.object_size_less_than()),
            }])
        });
        json!({
            "prefix": f.prefix().filter(|p| !p.is_empty()),
            "object_size_greater_than": num64(f.object_size_greater_than()),
            "object_size_less_than": num64(f.object_size_less_than()),
            "tag": f.tag().map(|t| json!([{"key": t.key(), "value": t.value()}])).unwrap_or(json!([])),
            "and": and.unwrap_or(json!([])),
        })
    });
    let filter_is_empty = filter
        .as_ref()
        .map(|f| crate::value::json_equivalent(f, &Json::Null))
        .unwrap_or(true)
        || filter
            .as_ref()
            .map(|f| {
                f.as_object()
                    .is_some_and(|o| o.values().all(crate::value::json_is_empty))
            })
            .unwrap_or(true);
    let user_wrote_filter = prior
        .map(|p| !blocks(p, "filter").is_empty())
        .unwrap_or(true);
    // A rule-level `prefix` (deprecated by S3) is sent as a prefix-only filter, or kept
    // by S3 as the rule's own Prefix: either reads back as the `prefix` the user wrote.
    #[allow(deprecated)]
    let rule_prefix = r.prefix();
    let filter_prefix_only = r.filter().filter(|f| {
        f.and().is_none()
            && f.tag().is_none()
            && f.object_size_greater_than().is_none()
            && f.object_size_less_than().is_none()
    });
    let user_wrote_prefix = prior.is_some_and(|p| p.get("prefix").is_some_and(Json::is_string));
    let as_rule_prefix = if !user_wrote_filter && user_wrote_prefix {
        match (filter_prefix_only, rule_prefix) {
            (Some(f), _) => Some(f.prefix().unwrap_or_default().to_string()),
            (None, Some(p)) if r.filter().is_none() => Some(p.to_string()),
            _ => None,
        }
    } else {
        None
    };
    let filter_json = match filter {
        _ if as_rule_prefix.is_some() => json!([]),
        Some(_) if filter_is_empty && !user_wrote_filter => json!([]),
        Some(f) => json!([f]),
        None => json!([]),
    };
    let prefix_json = match as_rule_prefix {
        Some(p) => json!(p),
        None => rule_prefix
            .filter(|p| !p.is_empty())
            .map(|p| json!(p))
            .unwrap_or(Json::Null),
    };
    json!({
        "id": r.id(),
        "status": r.status().as_str(),
        "prefix": prefix_json,
        "filter": filter_json,
        "expiration": expiration_json(r.expiration(), prior),
        "transition": r.transitions().iter().map(|t| json!({
            "days": num(t.days()),
            "date": t.date().map(date_string),
            "storage_class": t.storage_class().map(|s| s.as_str()),
        })).collect::<Vec<_>>(),
        "noncurrent_version_expiration": r.noncurrent_version_expiration().map(|n| json!([{
            "noncurrent_days": num(n.noncurrent_days()),
            "newer_noncurrent_versions": num(n.newer_noncurrent_versions()),
        }])).unwrap_or(json!([])),
        "noncurrent_version_transition": r.noncurrent_version_transitions().iter().map(|n| json!({
            "noncurrent_days": num(n.noncurrent_days()),
            "newer_noncurrent_versions": num(n.newer_noncurrent_versions()),
            "storage_class": n.storage_class().map(|s| s.as_str()),
        })).collect::<Vec<_>>(),
        "abort_incomplete_multipart_upload": r.abort_incomplete_multipart_upload().map(|a| json!([{
            "days_after_initiation": num(a.days_after_initiation()),
        }])).unwrap_or(json!([])),
    })
}

async fn put(p: &Provider, planned: &Attrs) -> anyhow::Result<()> {
    let bucket = req_str(planned, "bucket")?;
    let rules = blocks(planned, "rule")
        .into_iter()
        .map(to_rule)
        .collect::<Result<Vec<_>, _>>()?;
    p.s3()
        .put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules))
                .build()?,
        )
        .send()
        .await
        .map_err(|e| aws_error("PutBucketLifecycleConfiguration", e))?;
    Ok(())
}

#[async_trait]
impl ResourceType for S3BucketLifecycle {
    fn name(&self) -> &'static str {
        "aws_s3_bucket_lifecycle_configuration"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("bucket", json!(id))])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let bucket = req_str(prior, "bucket")?;
        let out = match p
            .s3()
            .get_bucket_lifecycle_configuration()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if is_not_found(Service::S3, &e) => return Ok(None),
            Err(e) => return Err(aws_error("GetBucketLifecycleConfiguration", e)),
        };
        let prior_rules = blocks(prior, "rule");
        let rules: Vec<Json> = out
            .rules()
            .iter()
            .map(|r| {
                let pr = prior_rules
                    .iter()
                    .find(|p| str_of(p, "id") == r.id())
                    .copied();
                from_rule(
                    r,
                    pr.or(if prior_rules.is_empty() {
                        None
                    } else {
                        Some(prior_rules[0])
                    }),
                )
            })
            .collect();
        let mut a = Attrs::new();
        a.insert("id".into(), json!(bucket));
        a.insert("bucket".into(), json!(bucket));
        a.insert(
            "expected_bucket_owner".into(),
            prior
                .get("expected_bucket_owner")
                .cloned()
                .unwrap_or(Json::Null),
        );
        a.insert("rule".into(), Json::Array(rules));
        Ok(Some(a))
    }

    /// Its configuration names the object: the planned attributes are what `read` needs.
    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        crate::provider::recover_by_read(self, p, planned).await
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        put(p, planned).await?;
        super::created(
            self.read(p, planned).await,
            planned,
            "lifecycle configuration vanished after it was written".to_string(),
        )
    }

    async fn update(&self, p: &Provider, _prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        self.create(p, planned).await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let bucket = req_str(prior, "bucket")?;
        gone(
            Service::S3,
            "DeleteBucketLifecycle",
            p.s3().delete_bucket_lifecycle().bucket(bucket).send().await,
        )
    }
}
