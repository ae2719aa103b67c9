//! aws_sns_topic: a topic with its attributes (display name, policies, FIFO, KMS) and tags.

use super::ResourceType;
use super::attrs::{Attrs, bool_of, map_json, obj, req_name_or_id, req_str, str_of, string_map};
use super::client::{Provider, aws_error};
use super::not_found::{Service, absent, gone};
use super::reread::reread;
use super::schema::{
    Block, Schema, boolean, json as json_attr, out, string, string_map as map_attr,
};
use crate::value::canonical_json;
use async_trait::async_trait;
use aws_sdk_sns::types::Tag;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, HashMap};

pub struct SnsTopic {
    schema: Schema,
}

/// Configuration attribute -> SNS topic attribute name.
const ATTRIBUTES: &[(&str, &str)] = &[
    ("display_name", "DisplayName"),
    ("policy", "Policy"),
    ("delivery_policy", "DeliveryPolicy"),
    ("kms_master_key_id", "KmsMasterKeyId"),
    ("content_based_deduplication", "ContentBasedDeduplication"),
    ("signature_version", "SignatureVersion"),
    ("tracing_config", "TracingConfig"),
    ("archive_policy", "ArchivePolicy"),
    ("fifo_throughput_scope", "FifoThroughputScope"),
];

impl Default for SnsTopic {
    fn default() -> Self {
        Self::new()
    }
}

impl SnsTopic {
    pub fn new() -> Self {
        SnsTopic {
            schema: Schema {
                id_attr: "arn",
                block: Block::new()
                    .attr(string("name").computed().force_new())
                    .attr(string("name_prefix").force_new())
                    .attr(boolean("fifo_topic").default(json!(false)).force_new())
                    .attr(boolean("content_based_deduplication").default(json!(false)))
                    .attr(string("display_name"))
                    .attr(json_attr("policy").computed())
                    .attr(json_attr("delivery_policy"))
                    .attr(string("kms_master_key_id"))
                    .attr(string("signature_version").computed())
                    .attr(string("tracing_config").computed())
                    .attr(json_attr("archive_policy"))
                    .attr(string("fifo_throughput_scope").computed())
                    .attr(out("beginning_archive_time"))
                    .attr(map_attr("tags"))
                    .attr(out("id"))
                    .attr(out("arn"))
                    .attr(out("owner")),
            },
        }
    }
}

fn attr_value(planned: &Attrs, key: &str) -> Option<String> {
    match planned.get(key)? {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        Json::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

fn tags(tags: BTreeMap<String, String>) -> anyhow::Result<Vec<Tag>> {
    tags.into_iter()
        .map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()?))
        .collect()
}

#[async_trait]
impl ResourceType for SnsTopic {
    fn name(&self) -> &'static str {
        "aws_sns_topic"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("arn", json!(id))])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let arn = req_name_or_id(prior, "arn", "topic has no ARN")?;
        let Some(out) = absent(
            Service::Sns,
            "GetTopicAttributes",
            p.sns().get_topic_attributes().topic_arn(arn).send().await,
        )?
        else {
            return Ok(None);
        };
        let attrs: HashMap<String, String> = out.attributes().cloned().unwrap_or_default();
        let get = |k: &str| attrs.get(k).filter(|v| !v.is_empty()).cloned();
        let name = arn.rsplit(':').next().unwrap_or_default().to_string();
        let live: BTreeMap<String, String> = match p
            .sns()
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
        {
            Ok(t) => t
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            Err(e) => return Err(aws_error("ListTagsForResource", e)),
        };
        let mut a = Attrs::new();
        a.insert("id".into(), json!(arn));
        a.insert("arn".into(), json!(arn));
        a.insert("name".into(), json!(name));
        a.insert(
            "name_prefix".into(),
            prior.get("name_prefix").cloned().unwrap_or(Json::Null),
        );
        a.insert("owner".into(), json!(get("Owner")));
        a.insert(
            "fifo_topic".into(),
            json!(get("FifoTopic").as_deref() == Some("true")),
        );
        a.insert(
            "content_based_deduplication".into(),
            json!(get("ContentBasedDeduplication").as_deref() == Some("true")),
        );
        a.insert("display_name".into(), json!(get("DisplayName")));
        a.insert(
            "policy".into(),
            json!(get("Policy").map(|s| canonical_json(&s))),
        );
        a.insert(
            "delivery_policy".into(),
            json!(get("DeliveryPolicy").map(|s| canonical_json(&s))),
        );
        a.insert("kms_master_key_id".into(), json!(get("KmsMasterKeyId")));
        a.insert("signature_version".into(), json!(get("SignatureVersion")));
        a.insert("tracing_config".into(), json!(get("TracingConfig")));
        a.insert(
            "archive_policy".into(),
            json!(
                get("ArchivePolicy")
                    .filter(|s| !s.is_empty() && s != "{}")
                    .map(|s| canonical_json(&s))
            ),
        );
        a.insert(
            "fifo_throughput_scope".into(),
            json!(get("FifoThroughputScope")),
        );
        a.insert(
            "beginning_archive_time".into(),
            json!(get("BeginningArchiveTime")),
        );
        a.insert("tags".into(), map_json(p.own_tags(&live)));
        Ok(Some(a))
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let fifo = bool_of(planned, "fifo_topic") == Some(true);
        let name = match str_of(planned, "name") {
            Some(n) => n.to_string(),
            None => {
                let name = super::attrs::generated_name(str_of(planned, "name_prefix"), 12);
                if fifo { format!("{name}.fifo") } else { name }
            }
        };
        let mut req = p.sns().create_topic().name(&name);
        if fifo {
            req = req.attributes("FifoTopic", "true");
            if bool_of(planned, "content_based_deduplication") == Some(true) {
                req = req.attributes("ContentBasedDeduplication", "true");
            }
        }
        for (key, aws) in ATTRIBUTES {
            if *key == "content_based_deduplication" {
                continue;
            }
            if let Some(v) = attr_value(planned, key) {
                req = req.attributes(*aws, v);
            }
        }
        let all = p.tags_all(&string_map(planned, "tags"));
        if !all.is_empty() {
            req = req.set_tags(Some(tags(all)?));
        }
        let out = req.send().await.map_err(|e| aws_error("CreateTopic", e))?;
        let arn = out
            .topic_arn()
            .ok_or_else(|| anyhow::anyhow!("CreateTopic returned no ARN"))?;
        let mut prior = planned.clone();
        prior.insert("arn".into(), json!(arn));
        super::created(
            self.read(p, &prior).await,
            &prior,
            format!("topic {arn} vanished right after it was created"),
        )
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let arn = req_str(prior, "arn")?;
        for (key, aws) in ATTRIBUTES {
            let (old, new) = (attr_value(prior, key), attr_value(planned, key));
            if old != new {
                if new.is_none()
                    && matches!(
                        *key,
                        "policy" | "signature_version" | "tracing_config" | "fifo_throughput_scope"
                    )
                {
                    continue; // computed: AWS keeps its own value
                }
                p.sns()
                    .set_topic_attributes()
                    .topic_arn(arn)
                    .attribute_name(*aws)
                    .attribute_value(new.unwrap_or_default())
                    .send()
                    .await
                    .map_err(|e| aws_error(&format!("SetTopicAttributes ({aws})"), e))?;
            }
        }
        if prior.get("tags") != planned.get("tags") {
            let (removed, want) = p.tag_changes(prior, planned);
            if !removed.is_empty() {
                p.sns()
                    .untag_resource()
                    .resource_arn(arn)
                    .set_tag_keys(Some(removed))
                    .send()
                    .await
                    .map_err(|e| aws_error("UntagResource", e))?;
            }
            if !want.is_empty() {
                p.sns()
                    .tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(tags(want)?))
                    .send()
                    .await
                    .map_err(|e| aws_error("TagResource", e))?;
            }
        }
        reread(self, p, prior, || format!("topic {arn} no longer exists")).await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let arn = req_str(prior, "arn")?;
        gone(
            Service::Sns,
            "DeleteTopic",
            p.sns().delete_topic().topic_arn(arn).send().await,
        )
    }

    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let Some(name) = str_of(planned, "name") else {
            return Ok(None);
        };
        let mut token = None;
        loop {
            let page = p
                .sns()
                .list_topics()
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| aws_error("ListTopics", e))?;
            for t in page.topics() {
                if let Some(arn) = t.topic_arn().filter(|a| a.rsplit(':').next() == Some(name)) {
                    return self.read(p, &obj([("arn", json!(arn))])).await;
                }
            }
            match page.next_token() {
                Some(t) => token = Some(t.to_string()),
                None => return Ok(None),
            }
        }
    }
}
