//! Performing a rule's actions against the endpoint, as AWS IoT would after a match:
//! `rule test -perform` (moto and LocalStack store rules but never run them). Each action
//! arrives resolved (templates rendered, the output document attached) by the rule test;
//! S3, DynamoDB (both versions), SNS, CloudWatch metrics, logs and alarms are performed
//! here; Lambda and republish by `thingform test` (which runs the function locally and
//! routes the republished message through the rules again); the others are reported as
//! not performed.

use super::super::client::{Provider, aws_error};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value as Json;
use std::collections::HashMap;

/// A JSON value as a DynamoDB attribute (as the DynamoDBv2 action writes each field).
pub fn attribute(v: &Json) -> AttributeValue {
    match v {
        Json::Null => AttributeValue::Null(true),
        Json::Bool(b) => AttributeValue::Bool(*b),
        Json::Number(n) => AttributeValue::N(n.to_string()),
        Json::String(s) => AttributeValue::S(s.clone()),
        Json::Array(a) => AttributeValue::L(a.iter().map(attribute).collect()),
        Json::Object(o) => {
            AttributeValue::M(o.iter().map(|(k, v)| (k.clone(), attribute(v))).collect())
        }
    }
}

fn field<'a>(a: &'a Json, k: &str) -> anyhow::Result<&'a str> {
    let v = a
        .get(k)
        .and_then(Json::as_str)
        .ok_or_else(|| anyhow::anyhow!("the action has no {k}"))?;
    if v.contains('⟨') || v.starts_with("(known after apply") || v.starts_with("(not evaluated") {
        anyhow::bail!("its {k} is not known yet ({v}); apply the stack first");
    }
    Ok(v)
}

/// Performs one resolved action; `None` for a kind this does not perform.
pub async fn perform(p: &Provider, action: &Json) -> Option<anyhow::Result<String>> {
    let kind = action.get("type").and_then(Json::as_str)?;
    Some(match kind {
        "s3" => s3(p, action).await,
        "dynamodbv2" => dynamodbv2(p, action).await,
        "sns" => sns(p, action).await,
        "dynamodb" => dynamodb(p, action).await,
        "cloudwatch_metric" => metric(p, action).await,
        "cloudwatch_logs" => logs(p, action).await,
        "cloudwatch_alarm" => alarm(p, action).await,
        _ => return None,
    })
}

async fn s3(p: &Provider, a: &Json) -> anyhow::Result<String> {
    let (bucket, key) = (field(a, "bucket_name")?, field(a, "key")?);
    let body = a.get("body").map(Json::to_string).unwrap_or_default();
    p.s3()
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into_bytes().into())
        .send()
        .await
        .map_err(|e| aws_error("PutObject", e))?;
    Ok(format!("s3://{bucket}/{key}"))
}

async fn dynamodbv2(p: &Provider, a: &Json) -> anyhow::Result<String> {
    let put = a
        .get("put_item")
        .and_then(Json::as_array)
        .and_then(|l| l.first())
        .cloned()
        .unwrap_or(Json::Null);
    let table = field(&put, "table_name")?;
    let Some(Json::Object(item)) = a.get("item") else {
        anyhow::bail!("the rule's output is not a JSON object, so it is not a DynamoDB item");
    };
    let item: HashMap<String, AttributeValue> = item
        .iter()
        .map(|(k, v)| (k.clone(), attribute(v)))
        .collect();
    put_item(p, table, item).await
}

async fn put_item(
    p: &Provider,
    table: &str,
    item: HashMap<String, AttributeValue>,
) -> anyhow::Result<String> {
    p.dynamodb()
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .map_err(|e| aws_error("PutItem", e))?;
    Ok(format!("item put into DynamoDB table {table}"))
}

async fn sns(p: &Provider, a: &Json) -> anyhow::Result<String> {
    let target = field(a, "target_arn")?;
    let message = a.get("message").and_then(Json::as_str).unwrap_or_default();
    let out = p
        .sns()
        .publish()
        .target_arn(target)
        .message(message)
        .send()
        .await
        .map_err(|e| aws_error("Publish", e))?;
    Ok(format!(
        "published to {target} (message id {})",
        out.message_id().unwrap_or("?")
    ))
}

/// A key written by the DynamoDB (v1) action: a number when its type says so.
fn key_value(a: &Json, value: &str, ty: &str) -> anyhow::Result<AttributeValue> {
    let v = field(a, value)?;
    Ok(match a.get(ty).and_then(Json::as_str) {
        Some("NUMBER") => AttributeValue::N(v.to_string()),
        _ => AttributeValue::S(v.to_string()),
    })
}

async fn dynamodb(p: &Provider, a: &Json) -> anyhow::Result<String> {
    let table = field(a, "table_name")?;
    let mut item = HashMap::new();
    item.insert(
        field(a, "hash_key_field")?.to_string(),
        key_value(a, "hash_key_value", "hash_key_type")?,
    );
    if a.get("range_key_field").and_then(Json::as_str).is_some() {
        item.insert(
            field(a, "range_key_field")?.to_string(),
            key_value(a, "range_key_value", "range_key_type")?,
        );
    }
    let column = a
        .get("payload_field")
        .and_then(Json::as_str)
        .unwrap_or("payload");
    if let Some(doc) = a.get("item").and_then(|i| i.get(column)) {
        item.insert(column.to_string(), attribute(doc));
    }
    put_item(p, table, item).await
}

async fn metric(p: &Provider, a: &Json) -> anyhow::Result<String> {
    use aws_sdk_cloudwatch::types::{MetricDatum, StandardUnit};
    let (ns, name) = (field(a, "metric_namespace")?, field(a, "metric_name")?);
    let raw = field(a, "metric_value")?;
    let value: f64 = raw
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("metric_value {raw:?} is not a number"))?;
    let mut d = MetricDatum::builder()
        .metric_name(name)
        .value(value)
        .unit(StandardUnit::from(field(a, "metric_unit")?));
    if let Some(ts) = a.get("metric_timestamp").and_then(Json::as_str) {
        let secs: i64 = ts
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("metric_timestamp {ts:?} is not epoch seconds"))?;
        d = d.timestamp(aws_smithy_types::DateTime::from_secs(secs));
    }
    p.cloudwatch()
        .put_metric_data()
        .namespace(ns)
        .metric_data(d.build())
        .send()
        .await
        .map_err(|e| aws_error("PutMetricData", e))?;
    Ok(format!("metric {ns}/{name} = {value}"))
}

async fn logs(p: &Provider, a: &Json) -> anyhow::Result<String> {
    use aws_sdk_cloudwatchlogs::types::InputLogEvent;
    let group = field(a, "log_group_name")?;
    // AWS IoT writes each message to a stream of its own choosing; one per message here.
    let stream = format!("iot-rule/{}", uuid::Uuid::new_v4().simple());
    p.logs()
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(&stream)
        .send()
        .await
        .map_err(|e| aws_error("CreateLogStream", e))?;
    let message = a.get("message").and_then(Json::as_str).unwrap_or_default();
    let now = super::evaluate::now_ms();
    p.logs()
        .put_log_events()
        .log_group_name(group)
        .log_stream_name(&stream)
        .log_events(
            InputLogEvent::builder()
                .timestamp(now)
                .message(message)
                .build()
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        )
        .send()
        .await
        .map_err(|e| aws_error("PutLogEvents", e))?;
    Ok(format!("logged to {group} (stream {stream})"))
}

async fn alarm(p: &Provider, a: &Json) -> anyhow::Result<String> {
    use aws_sdk_cloudwatch::types::StateValue;
    let name = field(a, "alarm_name")?;
    let state = field(a, "state_value")?;
    p.cloudwatch()
        .set_alarm_state()
        .alarm_name(name)
        .state_value(StateValue::from(state))
        .state_reason(field(a, "state_reason")?)
        .send()
        .await
        .map_err(|e| aws_error("SetAlarmState", e))?;
    Ok(format!("alarm {name} set to {state}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_becomes_dynamodb_attributes() {
        let a = attribute(&json!({"t": 21.5, "d": "n1", "ok": true, "n": null, "l": [1, "x"]}));
        let AttributeValue::M(m) = a else { panic!() };
        assert_eq!(m["t"], AttributeValue::N("21.5".into()));
        assert_eq!(m["d"], AttributeValue::S("n1".into()));
        assert_eq!(m["ok"], AttributeValue::Bool(true));
        assert_eq!(m["n"], AttributeValue::Null(true));
        assert_eq!(
            m["l"],
            AttributeValue::L(vec![
                AttributeValue::N("1".into()),
                AttributeValue::S("x".into())
            ])
        );
    }

    #[test]
    fn placeholders_are_refused() {
        let e = field(&json!({"bucket_name": "b-⟨account⟩"}), "bucket_name").unwrap_err();
        assert!(e.to_string().contains("apply the stack first"), "{e}");
    }
}
