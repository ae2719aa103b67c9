//! aws_iot_topic_rule. Everything but the name updates in place through one
//! ReplaceTopicRule call, as in the Terraform AWS provider.

use super::ResourceType;
use super::attrs::{Attrs, block, blocks, bool_of, i64_of, obj, req_name_or_id, req_str, str_of};
use super::client::{Provider, aws_error};
use super::iot_common::{read_tags, tag_list, update_tags};
use super::not_found::{Service, gone, is_not_found};
use super::reread::reread;
use super::retry::iam_propagation;
use super::schema::{
    Block, NestedBlock, Schema, boolean, list, number, out, single, string, string_map as map_attr,
};
use async_trait::async_trait;
use aws_sdk_iot::types::{
    Action, CannedAccessControlList, CloudwatchAlarmAction, CloudwatchLogsAction,
    CloudwatchMetricAction, DynamoDBv2Action, DynamoDbAction, DynamoKeyType, LambdaAction,
    MessageFormat, PutItemInput, RepublishAction, S3Action, SnsAction, TopicRulePayload,
};
use serde_json::{Value as Json, json};

/// The supported action kinds, in the order they are listed.
const KINDS: &[&str] = &[
    "cloudwatch_alarm",
    "cloudwatch_logs",
    "cloudwatch_metric",
    "dynamodb",
    "dynamodbv2",
    "lambda",
    "republish",
    "s3",
    "sns",
];

fn action_blocks() -> Vec<NestedBlock> {
    vec![
        list(
            "cloudwatch_alarm",
            Block::new()
                .attr(string("alarm_name").required())
                .attr(string("role_arn").required())
                .attr(string("state_reason").required())
                .attr(string("state_value").required()),
        )
        .set(),
        list(
            "cloudwatch_logs",
            Block::new()
                .attr(string("log_group_name").required())
                .attr(string("role_arn").required())
                .attr(boolean("batch_mode").default(json!(false))),
        )
        .set(),
        list(
            "cloudwatch_metric",
            Block::new()
                .attr(string("metric_name").required())
                .attr(string("metric_namespace").required())
                .attr(string("metric_unit").required())
                .attr(string("metric_value").required())
                .attr(string("metric_timestamp"))
                .attr(string("role_arn").required()),
        )
        .set(),
        list(
            "dynamodb",
            Block::new()
                .attr(string("table_name").required())
                .attr(string("role_arn").required())
                .attr(string("hash_key_field").required())
                .attr(string("hash_key_value").required())
                .attr(string("hash_key_type"))
                .attr(string("range_key_field"))
                .attr(string("range_key_value"))
                .attr(string("range_key_type"))
                .attr(string("payload_field"))
                .attr(string("operation")),
        )
        .set(),
        list(
            "dynamodbv2",
            Block::new().attr(string("role_arn").required()).block(
                single(
                    "put_item",
                    Block::new().attr(string("table_name").required()),
                )
                .min(1),
            ),
        )
        .set(),
        list(
            "lambda",
            Block::new().attr(string("function_arn").required()),
        )
        .set(),
        list(
            "republish",
            Block::new()
                .attr(string("role_arn").required())
                .attr(string("topic").required())
                .attr(number("qos").default(json!(0))),
        )
        .set(),
        list(
            "s3",
            Block::new()
                .attr(string("bucket_name").required())
                .attr(string("key").required())
                .attr(string("role_arn").required())
                .attr(string("canned_acl")),
        )
        .set(),
        list(
            "sns",
            Block::new()
                .attr(string("target_arn").required())
                .attr(string("role_arn").required())
                .attr(string("message_format").default(json!("RAW"))),
        )
        .set(),
    ]
}

pub struct IotTopicRule {
    schema: Schema,
}

impl Default for IotTopicRule {
    fn default() -> Self {
        let mut error_action = Block::new();
        for b in action_blocks() {
            error_action = error_action.block(b);
        }
        let mut block = Block::new()
            .attr(string("name").required().force_new())
            .attr(string("sql").required())
            .attr(string("sql_version").required())
            .attr(boolean("enabled").required())
            .attr(string("description"))
            .attr(map_attr("tags"))
            .attr(out("id"))
            .attr(out("arn"))
            .block(single("error_action", error_action));
        for b in action_blocks() {
            block = block.block(b);
        }
        IotTopicRule {
            schema: Schema {
                id_attr: "name",
                block,
            },
        }
    }
}

fn s(a: &Attrs, k: &str) -> Option<String> {
    str_of(a, k).map(str::to_string)
}

fn to_action(kind: &str, a: &Attrs) -> anyhow::Result<Action> {
    let b = Action::builder();
    Ok(match kind {
        "lambda" => b
            .lambda(
                LambdaAction::builder()
                    .set_function_arn(s(a, "function_arn"))
                    .build()?,
            )
            .build(),
        "sns" => b
            .sns(
                SnsAction::builder()
                    .set_target_arn(s(a, "target_arn"))
                    .set_role_arn(s(a, "role_arn"))
                    .set_message_format(str_of(a, "message_format").map(MessageFormat::from))
                    .build()?,
            )
            .build(),
        "s3" => b
            .s3(S3Action::builder()
                .set_role_arn(s(a, "role_arn"))
                .set_bucket_name(s(a, "bucket_name"))
                .set_key(s(a, "key"))
                .set_canned_acl(str_of(a, "canned_acl").map(CannedAccessControlList::from))
                .build()?)
            .build(),
        "dynamodbv2" => b
            .dynamo_dbv2(
                DynamoDBv2Action::builder()
                    .set_role_arn(s(a, "role_arn"))
                    .set_put_item(
                        block(a, "put_item")
                            .map(|p| {
                                PutItemInput::builder()
                                    .set_table_name(s(p, "table_name"))
                                    .build()
                            })
                            .transpose()?,
                    )
                    .build()?,
            )
            .build(),
        "dynamodb" => b
            .dynamo_db(
                DynamoDbAction::builder()
                    .set_table_name(s(a, "table_name"))
                    .set_role_arn(s(a, "role_arn"))
                    .set_operation(s(a, "operation"))
                    .set_hash_key_field(s(a, "hash_key_field"))
                    .set_hash_key_value(s(a, "hash_key_value"))
                    .set_hash_key_type(str_of(a, "hash_key_type").map(DynamoKeyType::from))
                    .set_range_key_field(s(a, "range_key_field"))
                    .set_range_key_value(s(a, "range_key_value"))
                    .set_range_key_type(str_of(a, "range_key_type").map(DynamoKeyType::from))
                    .set_payload_field(s(a, "payload_field"))
                    .build()?,
            )
            .build(),
        "cloudwatch_metric" => b
            .cloudwatch_metric(
                CloudwatchMetricAction::builder()
                    .set_role_arn(s(a, "role_arn"))
                    .set_metric_namespace(s(a, "metric_namespace"))
                    .set_metric_name(s(a, "metric_name"))
                    .set_metric_value(s(a, "metric_value"))
                    .set_metric_unit(s(a, "metric_unit"))
                    .set_metric_timestamp(s(a, "metric_timestamp"))
                    .build()?,
            )
            .build(),
        "cloudwatch_alarm" => b
            .cloudwatch_alarm(
                CloudwatchAlarmAction::builder()
                    .set_role_arn(s(a, "role_arn"))
                    .set_alarm_name(s(a, "alarm_name"))
                    .set_state_reason(s(a, "state_reason"))
                    .set_state_value(s(a, "state_value"))
                    .build()?,
            )
            .build(),
        "cloudwatch_logs" => b
            .cloudwatch_logs(
                CloudwatchLogsAction::builder()
                    .set_role_arn(s(a, "role_arn"))
                    .set_log_group_name(s(a, "log_group_name"))
                    .set_batch_mode(bool_of(a, "batch_mode").filter(|b| *b))
                    .build()?,
            )
            .build(),
        "republish" => b
            .republish(
                RepublishAction::builder()
                    .set_role_arn(s(a, "role_arn"))
                    .set_topic(s(a, "topic"))
                    .set_qos(i64_of(a, "qos").map(|q| q as i32))
                    .build()?,
            )
            .build(),
        other => anyhow::bail!("unsupported topic rule action {other}"),
    })
}

/// An SDK action as (kind, attributes in the configuration's shape).
fn from_action(a: &Action) -> Option<(&'static str, Json)> {
    if let Some(x) = a.lambda() {
        return Some(("lambda", json!({"function_arn": x.function_arn()})));
    }
    if let Some(x) = a.sns() {
        return Some((
            "sns",
            json!({"target_arn": x.target_arn(), "role_arn": x.role_arn(), "message_format": x.message_format().map(|m| m.as_str()).unwrap_or("RAW")}),
        ));
    }
    if let Some(x) = a.s3() {
        return Some((
            "s3",
            json!({"bucket_name": x.bucket_name(), "key": x.key(), "role_arn": x.role_arn(), "canned_acl": x.canned_acl().map(|c| c.as_str())}),
        ));
    }
    if let Some(x) = a.dynamo_dbv2() {
        return Some((
            "dynamodbv2",
            json!({"role_arn": x.role_arn(), "put_item": x.put_item().map(|p| json!([{"table_name": p.table_name()}])).unwrap_or(json!([]))}),
        ));
    }
    if let Some(x) = a.dynamo_db() {
        return Some((
            "dynamodb",
            json!({
                "table_name": x.table_name(), "role_arn": x.role_arn(), "operation": x.operation(),
                "hash_key_field": x.hash_key_field(), "hash_key_value": x.hash_key_value(),
                "hash_key_type": x.hash_key_type().map(|t| t.as_str()),
                "range_key_field": x.range_key_field(), "range_key_value": x.range_key_value(),
                "range_key_type": x.range_key_type().map(|t| t.as_str()), "payload_field": x.payload_field(),
            }),
        ));
    }
    if let Some(x) = a.cloudwatch_metric() {
        return Some((
            "cloudwatch_metric",
            json!({
                "role_arn": x.role_arn(), "metric_namespace": x.metric_namespace(), "metric_name": x.metric_name(),
                "metric_value": x.metric_value(), "metric_unit": x.metric_unit(), "metric_timestamp": x.metric_timestamp(),
            }),
        ));
    }
    if let Some(x) = a.cloudwatch_alarm() {
        return Some((
            "cloudwatch_alarm",
            json!({"role_arn": x.role_arn(), "alarm_name": x.alarm_name(), "state_reason": x.state_reason(), "state_value": x.state_value()}),
        ));
    }
    if let Some(x) = a.cloudwatch_logs() {
        return Some((
            "cloudwatch_logs",
            json!({"role_arn": x.role_arn(), "log_group_name": x.log_group_name(), "batch_mode": x.batch_mode().unwrap_or(false)}),
        ));
    }
    if let Some(x) = a.republish() {
        return Some((
            "republish",
            json!({"role_arn": x.role_arn(), "topic": x.topic(), "qos": x.qos().unwrap_or(0)}),
        ));
    }
    None
}

fn actions_of(a: &Attrs) -> anyhow::Result<Vec<Action>> {
    let mut out = vec![];
    for kind in KINDS {
        for b in blocks(a, kind) {
            out.push(to_action(kind, b)?);
        }
    }
    Ok(out)
}

fn payload(planned: &Attrs) -> anyhow::Result<TopicRulePayload> {
    let actions = actions_of(planned)?;
    let error_action = match block(planned, "error_action") {
        Some(e) => {
            let mut acts = actions_of(e)?;
            if acts.len() > 1 {
                anyhow::bail!(
                    "error_action takes exactly one action block, found {}",
                    acts.len()
                );
            }
            acts.pop()
        }
        None => None,
    };
    Ok(TopicRulePayload::builder()
        .sql(req_str(planned, "sql")?)
        .aws_iot_sql_version(req_str(planned, "sql_version")?)
        .rule_disabled(bool_of(planned, "enabled") != Some(true))
        .set_description(s(planned, "description"))
        .set_actions(Some(actions))
        .set_error_action(error_action)
        .build()?)
}

#[async_trait]
impl ResourceType for IotTopicRule {
    fn name(&self) -> &'static str {
        "aws_iot_topic_rule"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("name", json!(id))])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let name = req_name_or_id(prior, "name", "rule has no name")?;
        let out = match p.iot().get_topic_rule().rule_name(name).send().await {
            Ok(o) => o,
            Err(e)
                if is_not_found(Service::Iot, &e)
                    || aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&e)
                        == Some("UnauthorizedException") =>
            {
                return Ok(None);
            }
            Err(e) => return Err(aws_error("GetTopicRule", e)),
        };
        let Some(rule) = out.rule() else {
            return Ok(None);
        };
        let arn = out.rule_arn().unwrap_or_default().to_string();
        let mut a = Attrs::new();
        a.insert("id".into(), json!(name));
        a.insert("name".into(), json!(name));
        a.insert("arn".into(), json!(arn));
        a.insert("sql".into(), json!(rule.sql()));
        a.insert("sql_version".into(), json!(rule.aws_iot_sql_version()));
        a.insert("enabled".into(), json!(rule.rule_disabled() != Some(true)));
        a.insert(
            "description".into(),
            json!(rule.description().filter(|d| !d.is_empty())),
        );
        for kind in KINDS {
            a.insert(kind.to_string(), json!([]));
        }
        for act in rule.actions() {
            if let Some((kind, v)) = from_action(act)
                && let Some(Json::Array(l)) = a.get_mut(kind)
            {
                l.push(v);
            }
        }
        let error_action = match rule.error_action().and_then(from_action) {
            Some((kind, v)) => {
                let mut e = serde_json::Map::new();
                for k in KINDS {
                    e.insert(k.to_string(), json!([]));
                }
                e.insert(kind.to_string(), json!([v]));
                json!([e])
            }
            None => json!([]),
        };
        a.insert("error_action".into(), error_action);
        a.insert("tags".into(), read_tags(p, &arn, prior).await?);
        Ok(Some(a))
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(planned, "name")?;
        let payload = payload(planned)?;
        let tags = tag_list(p, planned)?.map(|t| {
            t.iter()
                .map(|t| format!("{}={}", t.key(), t.value().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("&")
        });
        // The rule's roles may have been created a moment ago: IAM propagation is retried.
        iam_propagation(p, "CreateTopicRule", || async {
            p.iot()
                .create_topic_rule()
                .rule_name(name)
                .topic_rule_payload(payload.clone())
                .set_tags(tags.clone())
                .send()
                .await
                .map_err(|e| aws_error("CreateTopicRule", e))
        })
        .await?;
        super::created(
            self.read(p, planned).await,
            planned,
            format!("rule {name} vanished after creation"),
        )
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(prior, "name")?;
        let mut rule_changed = false;
        for (k, v) in planned {
            if k != "tags" && prior.get(k) != Some(v) {
                rule_changed = true;
            }
        }
        if rule_changed {
            let payload = payload(planned)?;
            iam_propagation(p, "ReplaceTopicRule", || async {
                p.iot()
                    .replace_topic_rule()
                    .rule_name(name)
                    .topic_rule_payload(payload.clone())
                    .send()
                    .await
                    .map_err(|e| aws_error("ReplaceTopicRule", e))
            })
            .await?;
        }
        update_tags(p, req_str(prior, "arn")?, prior, planned).await?;
        reread(self, p, planned, || format!("rule {name} no longer exists")).await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let name = req_str(prior, "name")?;
        gone(
            Service::Iot,
            "DeleteTopicRule",
            p.iot().delete_topic_rule().rule_name(name).send().await,
        )
    }

    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        self.read(p, planned).await
    }
}
