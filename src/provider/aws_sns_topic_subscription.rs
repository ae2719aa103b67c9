//! aws_sns_topic_subscription. Email-style subscriptions stay "pending confirmation" until
//! a human clicks the link: that state is exposed as `pending_confirmation`, never diffed,
//! and a destroy that AWS cannot carry out for a pending subscription says so.

use super::ResourceType;
use super::attrs::{Attrs, obj, req_name_or_id, req_str, str_of};
use super::client::{Provider, aws_error};
use super::not_found::{Service, absent, is_not_found};
use super::reread::reread;
use super::schema::{Block, Schema, boolean, json as json_attr, number, out, string};
use crate::value::canonical_json;
use async_trait::async_trait;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{Value as Json, json};
use std::collections::HashMap;

pub struct SnsTopicSubscription {
    schema: Schema,
}

const ATTRIBUTES: &[(&str, &str)] = &[
    ("filter_policy", "FilterPolicy"),
    ("filter_policy_scope", "FilterPolicyScope"),
    ("raw_message_delivery", "RawMessageDelivery"),
    ("redrive_policy", "RedrivePolicy"),
    ("delivery_policy", "DeliveryPolicy"),
    ("subscription_role_arn", "SubscriptionRoleArn"),
];

impl Default for SnsTopicSubscription {
    fn default() -> Self {
        Self::new()
    }
}

impl SnsTopicSubscription {
    pub fn new() -> Self {
        SnsTopicSubscription {
            schema: Schema {
                id_attr: "arn",
                block: Block::new()
                    .attr(string("topic_arn").required().force_new())
                    .attr(string("protocol").required().force_new())
                    .attr(string("endpoint").required().force_new())
                    .attr(json_attr("filter_policy"))
                    .attr(string("filter_policy_scope").computed())
                    .attr(boolean("raw_message_delivery").default(json!(false)))
                    .attr(json_attr("redrive_policy"))
                    .attr(json_attr("delivery_policy"))
                    .attr(string("subscription_role_arn"))
                    .attr(
                        boolean("endpoint_auto_confirms")
                            .default(json!(false))
                            .local_only(),
                    )
                    .attr(
                        number("confirmation_timeout_in_minutes")
                            .default(json!(1))
                            .local_only(),
                    )
                    .attr(out("id"))
                    .attr(out("arn"))
                    .attr(out("owner_id"))
                    .attr(boolean("pending_confirmation").computed())
                    .attr(boolean("confirmation_was_authenticated").computed()),
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

#[async_trait]
impl ResourceType for SnsTopicSubscription {
    fn name(&self) -> &'static str {
        "aws_sns_topic_subscription"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("arn", json!(id))])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let arn = req_name_or_id(prior, "arn", "subscription has no ARN")?;
        let Some(out) = absent(
            Service::Sns,
            "GetSubscriptionAttributes",
            p.sns()
                .get_subscription_attributes()
                .subscription_arn(arn)
                .send()
                .await,
        )?
        else {
            return Ok(None);
        };
        let attrs: HashMap<String, String> = out.attributes().cloned().unwrap_or_default();
        let get = |k: &str| attrs.get(k).filter(|v| !v.is_empty()).cloned();
        let mut a = Attrs::new();
        a.insert("id".into(), json!(arn));
        a.insert("arn".into(), json!(arn));
        a.insert("topic_arn".into(), json!(get("TopicArn")));
        a.insert("protocol".into(), json!(get("Protocol")));
        a.insert("endpoint".into(), json!(get("Endpoint")));
        a.insert("owner_id".into(), json!(get("Owner")));
        a.insert(
            "filter_policy".into(),
            json!(get("FilterPolicy").map(|s| canonical_json(&s))),
        );
        a.insert(
            "filter_policy_scope".into(),
            json!(get("FilterPolicyScope")),
        );
        a.insert(
            "raw_message_delivery".into(),
            json!(get("RawMessageDelivery").as_deref() == Some("true")),
        );
        a.insert(
            "redrive_policy".into(),
            json!(get("RedrivePolicy").map(|s| canonical_json(&s))),
        );
        a.insert(
            "delivery_policy".into(),
            json!(get("DeliveryPolicy").map(|s| canonical_json(&s))),
        );
        a.insert(
            "subscription_role_arn".into(),
            json!(get("SubscriptionRoleArn")),
        );
        a.insert(
            "pending_confirmation".into(),
            json!(get("PendingConfirmation").as_deref() == Some("true")),
        );
        a.insert(
            "confirmation_was_authenticated".into(),
            json!(get("ConfirmationWasAuthenticated").as_deref() == Some("true")),
        );
        Ok(Some(a))
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let mut req = p
            .sns()
            .subscribe()
            .topic_arn(req_str(planned, "topic_arn")?)
            .protocol(req_str(planned, "protocol")?)
            .endpoint(req_str(planned, "endpoint")?)
            // With this flag AWS returns the real ARN even while confirmation is pending.
            .return_subscription_arn(true);
        for (key, aws) in ATTRIBUTES {
            if let Some(v) = attr_value(planned, key) {
                if *key == "raw_message_delivery" && v == "false" {
                    continue;
                }
                req = req.attributes(*aws, v);
            }
        }
        let out = req.send().await.map_err(|e| aws_error("Subscribe", e))?;
        let arn = out
            .subscription_arn()
            .ok_or_else(|| anyhow::anyhow!("Subscribe returned no ARN"))?;
        let mut prior = planned.clone();
        prior.insert("arn".into(), json!(arn));
        super::created(
            self.read(p, &prior).await,
            &prior,
            format!("subscription {arn} vanished right after it was created"),
        )
    }

    /// A subscription has no name: it is the one of its topic with the planned protocol
    /// and endpoint (what makes SNS's own Subscribe idempotent), not tracked yet. One
    /// still pending confirmation has no ARN to adopt it by, and is left to expire.
    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let (Some(topic), Some(protocol), Some(endpoint)) = (
            str_of(planned, "topic_arn"),
            str_of(planned, "protocol"),
            str_of(planned, "endpoint"),
        ) else {
            return Ok(None);
        };
        let taken: Vec<&str> = planned
            .get(super::RECOVER_TAKEN)
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        let mut token = None;
        loop {
            let Some(page) = absent(
                Service::Sns,
                "ListSubscriptionsByTopic",
                p.sns()
                    .list_subscriptions_by_topic()
                    .topic_arn(topic)
                    .set_next_token(token)
                    .send()
                    .await,
            )?
            else {
                return Ok(None);
            };
            let found = page.subscriptions().iter().find_map(|s| {
                let arn = s.subscription_arn()?;
                (s.protocol() == Some(protocol)
                    && s.endpoint() == Some(endpoint)
                    && arn.starts_with("arn:")
                    && !taken.contains(&arn))
                .then_some(arn)
            });
            if let Some(arn) = found {
                return self.read(p, &obj([("arn", json!(arn))])).await;
            }
            match page.next_token() {
                Some(t) => token = Some(t.to_string()),
                None => return Ok(None),
            }
        }
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let arn = req_str(prior, "arn")?;
        for (key, aws) in ATTRIBUTES {
            let (old, new) = (attr_value(prior, key), attr_value(planned, key));
            if old != new && !(new.is_none() && *key == "filter_policy_scope") {
                p.sns()
                    .set_subscription_attributes()
                    .subscription_arn(arn)
                    .attribute_name(*aws)
                    .attribute_value(new.unwrap_or_default())
                    .send()
                    .await
                    .map_err(|e| aws_error(&format!("SetSubscriptionAttributes ({aws})"), e))?;
            }
        }
        reread(self, p, prior, || {
            format!("subscription {arn} no longer exists")
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let arn = req_str(prior, "arn")?;
        let pending = prior.get("pending_confirmation").and_then(Json::as_bool) == Some(true);
        match p.sns().unsubscribe().subscription_arn(arn).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(Service::Sns, &e) => Ok(()),
            Err(e) if pending && e.code() == Some("InvalidParameter") => {
                p.warn(format!(
                    "subscription {arn} ({} {}) is still pending confirmation; AWS does not let it be deleted and removes it by itself after 3 days",
                    str_of(prior, "protocol").unwrap_or("?"),
                    str_of(prior, "endpoint").unwrap_or("?")
                ));
                Ok(())
            }
            Err(e) => Err(aws_error("Unsubscribe", e)),
        }
    }
}
