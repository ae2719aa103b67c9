//! The topic rule actions, each as the Terraform AWS provider names it: its schema, the
//! SDK `Action` it becomes and the configuration-shaped JSON it reads back as. Flat
//! actions (string and bool arguments only) are one table row each; the rest (enums,
//! nested blocks, maps) are written out below the table.

use super::super::attrs::{Attrs, block, blocks, str_of, string_map};
use super::super::schema::{Block, NestedBlock, list, single, string, string_map as map_attr};
use super::fields::*;
use aws_sdk_iot::types::{
    Action, CannedAccessControlList, CloudwatchAlarmAction, CloudwatchLogsAction,
    CloudwatchMetricAction, DynamoDBv2Action, DynamoDbAction, DynamoKeyType, ElasticsearchAction,
    FirehoseAction, HttpAction, HttpActionHeader, IotAnalyticsAction, IotEventsAction, KafkaAction,
    KafkaActionHeader, KinesisAction, LambdaAction, LocationAction, LocationTimestamp,
    MessageFormat, PutItemInput, RepublishAction, S3Action, SnsAction, SqsAction,
    StepFunctionsAction, TimestreamAction, TimestreamDimension, TimestreamTimestamp,
};
use serde_json::{Map, Value as Json, json};

/// A builder's result, whether its `build()` can fail (most) or not (`IotAnalyticsAction`).
trait Built<T> {
    fn built(self) -> anyhow::Result<T>;
}

impl<T> Built<T> for Result<T, aws_sdk_iot::error::BuildError> {
    fn built(self) -> anyhow::Result<T> {
        Ok(self?)
    }
}

impl Built<IotAnalyticsAction> for IotAnalyticsAction {
    fn built(self) -> anyhow::Result<IotAnalyticsAction> {
        Ok(self)
    }
}

/// One row per flat action: `"tf_name", SdkType, builder_setter, getter { "argument" =>
/// sdk_field, sdk_setter, field_kind }` (field kinds in `fields.rs`).
macro_rules! flat_actions {
    ($( $kind:literal, $ty:ident, $set:ident, $get:ident {
        $( $attr:literal => $field:ident, $setter:ident, $conv:ident );* $(;)?
    } )*) => {
        const FLAT_KINDS: &[&str] = &[$($kind),*];

        fn flat_blocks() -> Vec<NestedBlock> {
            vec![$( list($kind, Block::new() $( .attr($conv::attr($attr)) )* ).set() ),*]
        }

        fn flat_to(kind: &str, a: &Attrs) -> anyhow::Result<Option<Action>> {
            Ok(match kind {
                $( $kind => Some(
                    Action::builder()
                        .$set(Built::built($ty::builder() $( .$setter($conv::to(a, $attr)) )* .build())?)
                        .build(),
                ), )*
                _ => None,
            })
        }

        fn flat_from(a: &Action) -> Option<(&'static str, Json)> {
            $( if let Some(x) = a.$get() {
                let mut m = Map::new();
                $( m.insert($attr.to_string(), $conv::from(&x.$field)); )*
                return Some(($kind, Json::Object(m)));
            } )*
            None
        }
    };
}

flat_actions! {
    "cloudwatch_alarm", CloudwatchAlarmAction, cloudwatch_alarm, cloudwatch_alarm {
        "alarm_name" => alarm_name, set_alarm_name, req;
        "role_arn" => role_arn, set_role_arn, req;
        "state_reason" => state_reason, set_state_reason, req;
        "state_value" => state_value, set_state_value, req;
    }
    "cloudwatch_logs", CloudwatchLogsAction, cloudwatch_logs, cloudwatch_logs {
        "log_group_name" => log_group_name, set_log_group_name, req;
        "role_arn" => role_arn, set_role_arn, req;
        "batch_mode" => batch_mode, set_batch_mode, flag;
    }
    "cloudwatch_metric", CloudwatchMetricAction, cloudwatch_metric, cloudwatch_metric {
        "metric_name" => metric_name, set_metric_name, req;
        "metric_namespace" => metric_namespace, set_metric_namespace, req;
        "metric_unit" => metric_unit, set_metric_unit, req;
        "metric_value" => metric_value, set_metric_value, req;
        "metric_timestamp" => metric_timestamp, set_metric_timestamp, opt;
        "role_arn" => role_arn, set_role_arn, req;
    }
    "elasticsearch", ElasticsearchAction, elasticsearch, elasticsearch {
        "endpoint" => endpoint, set_endpoint, req;
        "id" => id, set_id, req;
        "index" => index, set_index, req;
        "role_arn" => role_arn, set_role_arn, req;
        "type" => r#type, set_type, req;
    }
    "firehose", FirehoseAction, firehose, firehose {
        "delivery_stream_name" => delivery_stream_name, set_delivery_stream_name, req;
        "role_arn" => role_arn, set_role_arn, req;
        "separator" => separator, set_separator, opt;
        "batch_mode" => batch_mode, set_batch_mode, flag;
    }
    "iot_analytics", IotAnalyticsAction, iot_analytics, iot_analytics {
        "channel_name" => channel_name, set_channel_name, req_o;
        "role_arn" => role_arn, set_role_arn, req_o;
        "batch_mode" => batch_mode, set_batch_mode, flag;
    }
    "iot_events", IotEventsAction, iot_events, iot_events {
        "input_name" => input_name, set_input_name, req;
        "role_arn" => role_arn, set_role_arn, req;
        "message_id" => message_id, set_message_id, opt;
        "batch_mode" => batch_mode, set_batch_mode, flag;
    }
    "kinesis", KinesisAction, kinesis, kinesis {
        "partition_key" => partition_key, set_partition_key, opt;
        "role_arn" => role_arn, set_role_arn, req;
        "stream_name" => stream_name, set_stream_name, req;
    }
    "lambda", LambdaAction, lambda, lambda {
        "function_arn" => function_arn, set_function_arn, req;
    }
    "republish", RepublishAction, republish, republish {
        "role_arn" => role_arn, set_role_arn, req;
        "topic" => topic, set_topic, req;
        "qos" => qos, set_qos, qos;
    }
    "sqs", SqsAction, sqs, sqs {
        "queue_url" => queue_url, set_queue_url, req;
        "role_arn" => role_arn, set_role_arn, req;
        "use_base64" => use_base64, set_use_base64, req_flag;
    }
    "step_functions", StepFunctionsAction, step_functions, step_functions {
        "execution_name_prefix" => execution_name_prefix, set_execution_name_prefix, opt;
        "state_machine_name" => state_machine_name, set_state_machine_name, req;
        "role_arn" => role_arn, set_role_arn, req;
    }
}

/// The actions with enums, nested blocks or maps.
const OTHER_KINDS: &[&str] = &[
    "dynamodb",
    "dynamodbv2",
    "http",
    "kafka",
    "location",
    "s3",
    "sns",
    "timestream",
];

/// Every action kind, flat ones first.
pub fn kinds() -> impl Iterator<Item = &'static str> {
    FLAT_KINDS.iter().chain(OTHER_KINDS).copied()
}

fn key_value() -> Block {
    Block::new()
        .attr(string("key").required())
        .attr(string("value").required())
}

/// The schema of every action block (used at the top level and inside `error_action`).
pub fn action_blocks() -> Vec<NestedBlock> {
    let mut out = flat_blocks();
    out.extend([
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
            "http",
            Block::new()
                .attr(string("url").required())
                .attr(string("confirmation_url").computed())
                .block(list("http_header", key_value())),
        )
        .set(),
        list(
            "kafka",
            Block::new()
                .attr(map_attr("client_properties").required())
                .attr(string("destination_arn").required())
                .attr(string("key"))
                .attr(string("partition"))
                .attr(string("topic"))
                .block(list("header", key_value())),
        )
        .set(),
        // Amazon Location (AWS IoT's LocationAction), named as the provider names
        // arguments: snake_case of the API's fields.
        list(
            "location",
            Block::new()
                .attr(string("device_id").required())
                .attr(string("latitude").required())
                .attr(string("longitude").required())
                .attr(string("role_arn").required())
                .attr(string("tracker_name").required())
                .block(single(
                    "timestamp",
                    Block::new()
                        .attr(string("unit"))
                        .attr(string("value").required()),
                )),
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
        list(
            "timestream",
            Block::new()
                .attr(string("database_name").required())
                .attr(string("role_arn").required())
                .attr(string("table_name").required())
                .block(
                    list(
                        "dimension",
                        Block::new()
                            .attr(string("name").required())
                            .attr(string("value").required()),
                    )
                    .set()
                    .min(1),
                )
                .block(single(
                    "timestamp",
                    Block::new()
                        .attr(string("unit").required())
                        .attr(string("value").required()),
                )),
        )
        .set(),
    ]);
    out
}

fn s(a: &Attrs, k: &str) -> Option<String> {
    str_of(a, k).map(str::to_string)
}

fn kv_pairs(a: &Attrs, k: &str) -> Vec<(Option<String>, Option<String>)> {
    blocks(a, k)
        .into_iter()
        .map(|h| (s(h, "key"), s(h, "value")))
        .collect()
}

/// The SDK action for one action block of kind `kind`.
pub fn to_action(kind: &str, a: &Attrs) -> anyhow::Result<Action> {
    if let Some(act) = flat_to(kind, a)? {
        return Ok(act);
    }
    let b = Action::builder();
    Ok(match kind {
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
        "http" => {
            let headers = kv_pairs(a, "http_header")
                .into_iter()
                .map(|(k, v)| HttpActionHeader::builder().set_key(k).set_value(v).build())
                .collect::<Result<Vec<_>, _>>()?;
            b.http(
                HttpAction::builder()
                    .set_url(s(a, "url"))
                    .set_confirmation_url(s(a, "confirmation_url"))
                    .set_headers((!headers.is_empty()).then_some(headers))
                    .build()?,
            )
            .build()
        }
        "kafka" => {
            let headers = kv_pairs(a, "header")
                .into_iter()
                .map(|(k, v)| KafkaActionHeader::builder().set_key(k).set_value(v).build())
                .collect::<Result<Vec<_>, _>>()?;
            b.kafka(
                KafkaAction::builder()
                    .set_destination_arn(s(a, "destination_arn"))
                    .set_topic(s(a, "topic"))
                    .set_key(s(a, "key"))
                    .set_partition(s(a, "partition"))
                    .set_client_properties(Some(
                        string_map(a, "client_properties").into_iter().collect(),
                    ))
                    .set_headers((!headers.is_empty()).then_some(headers))
                    .build()?,
            )
            .build()
        }
        "location" => {
            let ts = block(a, "timestamp")
                .map(|t| {
                    LocationTimestamp::builder()
                        .set_unit(s(t, "unit"))
                        .set_value(s(t, "value"))
                        .build()
                })
                .transpose()?;
            b.location(
                LocationAction::builder()
                    .set_device_id(s(a, "device_id"))
                    .set_latitude(s(a, "latitude"))
                    .set_longitude(s(a, "longitude"))
                    .set_role_arn(s(a, "role_arn"))
                    .set_tracker_name(s(a, "tracker_name"))
                    .set_timestamp(ts)
                    .build()?,
            )
            .build()
        }
        "timestream" => {
            let dims = blocks(a, "dimension")
                .into_iter()
                .map(|d| {
                    TimestreamDimension::builder()
                        .set_name(s(d, "name"))
                        .set_value(s(d, "value"))
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            let ts = block(a, "timestamp")
                .map(|t| {
                    TimestreamTimestamp::builder()
                        .set_unit(s(t, "unit"))
                        .set_value(s(t, "value"))
                        .build()
                })
                .transpose()?;
            b.timestream(
                TimestreamAction::builder()
                    .set_role_arn(s(a, "role_arn"))
                    .set_database_name(s(a, "database_name"))
                    .set_table_name(s(a, "table_name"))
                    .set_dimensions(Some(dims))
                    .set_timestamp(ts)
                    .build()?,
            )
            .build()
        }
        other => anyhow::bail!("unsupported topic rule action {other}"),
    })
}

/// An SDK action as (kind, attributes in the configuration's shape); `None` for an
/// action kind thingform does not manage.
pub fn from_action(a: &Action) -> Option<(&'static str, Json)> {
    if let Some(found) = flat_from(a) {
        return Some(found);
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
    if let Some(x) = a.http() {
        return Some((
            "http",
            json!({
                "url": x.url(),
                "confirmation_url": x.confirmation_url().filter(|u| !u.is_empty()),
                "http_header": x.headers().iter().map(|h| json!({"key": h.key(), "value": h.value()})).collect::<Vec<_>>(),
            }),
        ));
    }
    if let Some(x) = a.kafka() {
        return Some((
            "kafka",
            json!({
                "destination_arn": x.destination_arn(), "topic": x.topic(),
                "key": x.key(), "partition": x.partition(),
                "client_properties": x.client_properties(),
                "header": x.headers().iter().map(|h| json!({"key": h.key(), "value": h.value()})).collect::<Vec<_>>(),
            }),
        ));
    }
    if let Some(x) = a.location() {
        return Some((
            "location",
            json!({
                "device_id": x.device_id(), "latitude": x.latitude(), "longitude": x.longitude(),
                "role_arn": x.role_arn(), "tracker_name": x.tracker_name(),
                "timestamp": x.timestamp().map(|t| json!([{"unit": t.unit(), "value": t.value()}])).unwrap_or(json!([])),
            }),
        ));
    }
    if let Some(x) = a.timestream() {
        return Some((
            "timestream",
            json!({
                "role_arn": x.role_arn(), "database_name": x.database_name(), "table_name": x.table_name(),
                "dimension": x.dimensions().iter().map(|d| json!({"name": d.name(), "value": d.value()})).collect::<Vec<_>>(),
                "timestamp": x.timestamp().map(|t| json!([{"unit": t.unit(), "value": t.value()}])).unwrap_or(json!([])),
            }),
        ));
    }
    None
}
