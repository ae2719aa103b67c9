//! A topic rule evaluated locally on one message, as AWS IoT's rules engine would: the
//! SQL run by `iotsql`, then each action of a match with its fields resolved
//! (substitution templates rendered against the message) and the document it is given.
//! Used by `rule test` and by `thingform test`'s publish step.

use super::action_kinds;
use crate::iotsql::{Context, Statement, Template, Version};
use serde_json::{Map, Value as Json, json};

/// A field's value for this message: templates rendered, unknowns said so.
pub fn resolve(v: &Json, ctx: &Context) -> Json {
    match v {
        Json::String(s) if s.contains("${") => match Template::parse(s, ctx.version) {
            Ok(t) => match t.render(ctx) {
                Ok(r) => Json::String(r),
                Err(e) => Json::String(format!("(not evaluated: {e})")),
            },
            Err(e) => Json::String(format!("(invalid template: {e})")),
        },
        Json::Null => Json::String("(known after apply)".into()),
        Json::Array(a) => Json::Array(a.iter().map(|x| resolve(x, ctx)).collect()),
        Json::Object(o) => Json::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), resolve(x, ctx)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// What one action would receive: its resolved fields, plus the document it is given.
pub fn action_input(kind: &str, fields: &Map<String, Json>, output: &Json, ctx: &Context) -> Json {
    let mut m = Map::new();
    m.insert("type".into(), json!(kind));
    for (k, v) in fields {
        // Empty nested blocks and unset optionals say nothing.
        if matches!(v, Json::Array(a) if a.is_empty()) || v.is_null() && kind != "lambda" {
            continue;
        }
        m.insert(k.clone(), resolve(v, ctx));
    }
    let doc = output.clone();
    if doc.is_null() {
        return Json::Object(m);
    }
    match kind {
        "s3" => {
            m.insert("body".into(), doc);
        }
        "dynamodbv2" => {
            m.insert("item".into(), doc);
        }
        "dynamodb" => {
            let mut item = Map::new();
            let get = |k: &str| m.get(k).and_then(Json::as_str).map(str::to_string);
            if let (Some(f), Some(v)) = (get("hash_key_field"), get("hash_key_value")) {
                item.insert(f, json!(v));
            }
            if let (Some(f), Some(v)) = (get("range_key_field"), get("range_key_value")) {
                item.insert(f, json!(v));
            }
            item.insert(
                get("payload_field").unwrap_or_else(|| "payload".into()),
                doc,
            );
            m.insert("item".into(), Json::Object(item));
        }
        "sns" | "cloudwatch_logs" | "sqs" | "kinesis" | "firehose" => {
            m.insert("message".into(), json!(doc.to_string()));
        }
        "republish" | "http" | "kafka" | "iot_events" | "iot_analytics" => {
            m.insert("payload".into(), doc);
        }
        "lambda" | "step_functions" => {
            m.insert("event".into(), doc);
        }
        _ => {}
    }
    Json::Object(m)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A rule's evaluation on one message as `{"matched", "output", "actions", ...}`: `a`
/// are the rule's attributes (templates still unrendered), `addr` names it in errors,
/// and `ctx_of` makes the message's context for the rule's SQL version.
pub fn evaluate_rule(
    addr: &str,
    a: &Map<String, Json>,
    ctx_of: impl Fn(Version) -> Context,
) -> anyhow::Result<Json> {
    let s = |k: &str| a.get(k).and_then(Json::as_str);
    let (Some(sql), Some(ver)) = (s("sql"), s("sql_version")) else {
        anyhow::bail!(
            "{addr}: its sql or sql_version is only known after apply; apply the stack first, then test the rule"
        );
    };
    let version = Version::parse(ver).map_err(|m| anyhow::anyhow!("{addr}: {m}"))?;
    let st = Statement::parse(sql, version)
        .map_err(|e| anyhow::anyhow!("{addr}: invalid IoT SQL: {e}"))?;
    let ctx = ctx_of(version);
    crate::iotsql::topic::validate_topic(&ctx.topic).map_err(|m| anyhow::anyhow!("-topic: {m}"))?;
    let enabled = a.get("enabled") != Some(&Json::Bool(false));
    let outcome = st
        .evaluate(&ctx)
        .map_err(|e| anyhow::anyhow!("{addr}: {e}"))?;
    let matched = enabled && outcome.matched;
    let mut actions = vec![];
    let mut error_action = Json::Null;
    if matched {
        let output = outcome.output.clone().unwrap_or(Json::Null);
        for kind in action_kinds() {
            for b in a.get(kind).and_then(Json::as_array).into_iter().flatten() {
                if let Json::Object(f) = b {
                    actions.push(action_input(kind, f, &output, &ctx));
                }
            }
        }
        if let Some(Json::Object(ea)) = a
            .get("error_action")
            .and_then(Json::as_array)
            .and_then(|l| l.first())
        {
            for kind in action_kinds() {
                if let Some(Json::Object(f)) = ea
                    .get(kind)
                    .and_then(Json::as_array)
                    .and_then(|l| l.first())
                {
                    // Its message is the error document AWS builds when an action fails.
                    error_action = action_input(kind, f, &Json::Null, &ctx);
                }
            }
        }
    }
    Ok(json!({
        "rule": addr,
        "sql_version": ver,
        "enabled": enabled,
        "topic": ctx.topic,
        "topic_matched": outcome.topic_matched,
        "matched": matched,
        "output": if matched { outcome.output.unwrap_or(Json::Null) } else { Json::Null },
        "actions": actions,
        "error_action": error_action,
    }))
}
