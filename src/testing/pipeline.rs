//! `publish {}`: a message run through the deployed topic rules locally, as AWS IoT's
//! rules engine would, and every action of every match performed against the endpoint —
//! S3, DynamoDB, SNS, CloudWatch metrics, logs and alarms through the provider; a
//! republish routes its message through the rules again (at most [`MAX_HOPS`] deep); a
//! Lambda action runs the function locally ([`super::lambda`]), after checking that its
//! resource policy lets `iot.amazonaws.com` invoke it from that rule, as Lambda would.
//! A failed action runs the rule's `error_action` with the error document AWS builds.

use super::lambda::{FunctionSpec, LocalFunction, Outcome};
use crate::iotsql::{Context, Version};
use crate::provider::Provider;
use crate::provider::aws_iot_topic_rule::evaluate::{action_input, evaluate_rule, now_ms};
use crate::provider::aws_iot_topic_rule::perform;
use serde_json::{Map, Value as Json, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How many republish hops one publish follows before it stops (a rule republishing to
/// a topic it reads would loop forever, and bill for it).
pub const MAX_HOPS: usize = 8;

/// One message to publish.
#[derive(Debug, Clone)]
pub struct Message {
    pub topic: String,
    pub payload: Vec<u8>,
    pub clientid: Option<String>,
    pub principal: Option<String>,
}

/// The deployed objects a publish needs, by address, with their attributes.
#[derive(Default)]
pub struct Deployed {
    pub rules: Vec<(String, Map<String, Json>)>,
    pub functions: Vec<(String, Map<String, Json>)>,
    pub permissions: Vec<Map<String, Json>>,
}

pub struct Pipeline {
    provider: Arc<Provider>,
    stack_dir: PathBuf,
    deployed: Deployed,
    /// Functions started so far, by ARN: warm across the publishes of one test file.
    running: tokio::sync::Mutex<HashMap<String, Arc<LocalFunction>>>,
    /// Log streams made for the functions' output.
    streams: tokio::sync::Mutex<Vec<String>>,
    build_dir: PathBuf,
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.build_dir);
    }
}

fn s<'a>(m: &'a Map<String, Json>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Json::as_str)
}

fn first_block<'a>(m: &'a Map<String, Json>, k: &str) -> Option<&'a Map<String, Json>> {
    m.get(k)
        .and_then(Json::as_array)
        .and_then(|l| l.first())
        .and_then(Json::as_object)
}

/// AWS's name for an action kind in the error document (`failedAction`).
fn aws_action_name(kind: &str) -> String {
    let mut out = String::new();
    for part in kind.split('_') {
        let mut c = part.chars();
        if let Some(f) = c.next() {
            out.extend(f.to_uppercase());
            out.push_str(c.as_str());
        }
    }
    match kind {
        "dynamodb" => "DynamoAction".into(),
        "dynamodbv2" => "DynamoActionV2".into(),
        "sns" => "SnsAction".into(),
        "s3" => "S3Action".into(),
        _ => format!("{out}Action"),
    }
}

impl Pipeline {
    pub fn new(provider: Arc<Provider>, stack_dir: &Path, deployed: Deployed) -> Pipeline {
        Pipeline {
            provider,
            stack_dir: stack_dir.to_path_buf(),
            deployed,
            running: tokio::sync::Mutex::new(HashMap::new()),
            streams: tokio::sync::Mutex::new(vec![]),
            build_dir: std::env::temp_dir()
                .join(format!("thingform-test-{}", uuid::Uuid::new_v4().simple())),
        }
    }

    /// New deployed objects (after another run block applied), keeping warm functions
    /// whose configuration did not change.
    pub async fn redeploy(&mut self, deployed: Deployed) {
        let mut running = self.running.lock().await;
        running.retain(|arn, _| {
            let old = self
                .deployed
                .functions
                .iter()
                .find(|(_, f)| s(f, "arn") == Some(arn));
            let new = deployed
                .functions
                .iter()
                .find(|(_, f)| s(f, "arn") == Some(arn));
            matches!((old, new), (Some(a), Some(b)) if a.1 == b.1)
        });
        drop(running);
        self.deployed = deployed;
    }

    /// Publishes `msg`: every rule evaluated, every action of a match performed, and
    /// republished messages followed. The result is what the test's assertions read.
    pub async fn publish(&self, msg: Message) -> Json {
        let mut queue = VecDeque::from([(msg.clone(), 0usize, None::<String>)]);
        let mut messages = vec![];
        let mut actions: Vec<Json> = vec![];
        let mut rules = Map::new();
        let mut first_matched = vec![];
        while let Some((m, depth, via)) = queue.pop_front() {
            let ts = now_ms();
            let traceid = uuid::Uuid::new_v4().to_string();
            let mut matched = vec![];
            for (addr, attrs) in &self.deployed.rules {
                let ctx_of = |version: Version| {
                    let mut c = Context::new(version, &m.topic, &m.payload, ts);
                    c.clientid = m.clientid.clone();
                    c.principal = m.principal.clone();
                    c.traceid = Some(traceid.clone());
                    c
                };
                let r = match evaluate_rule(addr, attrs, ctx_of) {
                    Ok(r) => r,
                    Err(e) => {
                        actions.push(json!({
                            "rule": addr, "topic": m.topic, "depth": depth, "type": "rule",
                            "status": "failed", "error": format!("{e:#}"),
                        }));
                        continue;
                    }
                };
                if depth == 0 {
                    rules.insert(
                        addr.clone(),
                        json!({"matched": r["matched"], "output": r["output"]}),
                    );
                }
                if r["matched"] != json!(true) {
                    continue;
                }
                matched.push(json!(addr));
                let version = s(attrs, "sql_version")
                    .and_then(|v| Version::parse(v).ok())
                    .unwrap_or(Version::V2016_03_23);
                let ctx = ctx_of(version);
                let mut failures = vec![];
                for a in r["actions"].as_array().cloned().unwrap_or_default() {
                    let done = self.perform(addr, attrs, a, &m, depth, &mut queue).await;
                    if done["status"] == json!("failed") {
                        failures.push(json!({
                            "failedAction": aws_action_name(done["type"].as_str().unwrap_or("")),
                            "failedResource": done.get("resource").cloned().unwrap_or(Json::Null),
                            "errorMessage": done["error"],
                        }));
                    }
                    actions.push(with_origin(done, addr, &m.topic, depth, false));
                }
                if !failures.is_empty()
                    && let Some(ea) = first_block(attrs, "error_action")
                {
                    use base64::Engine;
                    let doc = json!({
                        "ruleName": s(attrs, "name").unwrap_or(addr),
                        "topic": m.topic,
                        "cloudwatchTraceId": traceid,
                        "clientId": m.clientid.clone().unwrap_or_default(),
                        "base64OriginalPayload": base64::engine::general_purpose::STANDARD.encode(&m.payload),
                        "failures": failures,
                    });
                    for kind in crate::provider::aws_iot_topic_rule::action_kinds() {
                        if let Some(f) = first_block(ea, kind) {
                            let input = action_input(kind, f, &doc, &ctx);
                            let done = self
                                .perform(addr, attrs, input, &m, depth, &mut queue)
                                .await;
                            actions.push(with_origin(done, addr, &m.topic, depth, true));
                        }
                    }
                }
            }
            if depth == 0 {
                first_matched = matched.clone();
            }
            messages.push(json!({
                "topic": m.topic, "depth": depth, "via": via,
                "payload": String::from_utf8_lossy(&m.payload), "matched": matched,
            }));
        }
        let mut by_type: BTreeMap<String, Vec<Json>> = BTreeMap::new();
        for t in [
            "lambda",
            "s3",
            "dynamodb",
            "sns",
            "republish",
            "cloudwatch_metric",
            "cloudwatch_logs",
            "cloudwatch_alarm",
        ] {
            by_type.insert(t.into(), vec![]);
        }
        for a in &actions {
            let t = a["type"].as_str().unwrap_or_default();
            let key = if t == "dynamodbv2" { "dynamodb" } else { t };
            by_type.entry(key.to_string()).or_default().push(a.clone());
        }
        let errors: Vec<Json> = actions
            .iter()
            .filter(|a| a["status"] == json!("failed"))
            .cloned()
            .collect();
        let mut out = json!({
            "topic": msg.topic,
            "payload": String::from_utf8_lossy(&msg.payload),
            "matched": first_matched,
            "rules": rules,
            "messages": messages,
            "actions": actions,
            "errors": errors,
        });
        for (k, v) in by_type {
            out[k] = json!(v);
        }
        out
    }

    /// Performs one resolved action of `rule`; returns it with its `status`.
    async fn perform(
        &self,
        rule: &str,
        rule_attrs: &Map<String, Json>,
        mut a: Json,
        m: &Message,
        depth: usize,
        queue: &mut VecDeque<(Message, usize, Option<String>)>,
    ) -> Json {
        let kind = a["type"].as_str().unwrap_or_default().to_string();
        let done: Option<anyhow::Result<String>> = match kind.as_str() {
            "lambda" => Some(self.lambda(rule, rule_attrs, &mut a).await),
            "republish" => Some(republish(&a, m, depth, rule, queue)),
            _ => perform::perform(&self.provider, &a).await,
        };
        match done {
            Some(Ok(what)) => {
                a["status"] = json!("performed");
                a["result"] = json!(what);
            }
            Some(Err(e)) => {
                a["status"] = json!("failed");
                a["error"] = json!(format!("{e:#}"));
            }
            None => {
                a["status"] = json!("not_performed");
                a["result"] = json!(format!(
                    "thingform does not perform {kind} actions locally (it performs lambda, republish, s3, dynamodb, dynamodbv2, sns, cloudwatch_metric, cloudwatch_logs and cloudwatch_alarm)"
                ));
            }
        }
        a
    }

    /// Whether a resource policy of the stack lets this rule invoke `function`.
    fn permitted(&self, function: &Map<String, Json>, rule_attrs: &Map<String, Json>) -> bool {
        let names = [s(function, "function_name"), s(function, "arn")];
        self.deployed.permissions.iter().any(|p| {
            let target = s(p, "function_name");
            let action = s(p, "action").unwrap_or_default();
            target.is_some()
                && names.contains(&target)
                && s(p, "principal") == Some("iot.amazonaws.com")
                && (action == "lambda:InvokeFunction" || action == "lambda:*")
                && s(p, "source_arn").is_none_or(|src| Some(src) == s(rule_attrs, "arn"))
        })
    }

    async fn lambda(
        &self,
        rule: &str,
        rule_attrs: &Map<String, Json>,
        a: &mut Json,
    ) -> anyhow::Result<String> {
        let arn = a["function_arn"].as_str().unwrap_or_default().to_string();
        let bare = arn.split(':').take(7).collect::<Vec<_>>().join(":");
        let Some((faddr, f)) = self
            .deployed
            .functions
            .iter()
            .find(|(_, f)| s(f, "arn") == Some(&bare) || s(f, "function_name") == Some(&arn))
        else {
            anyhow::bail!("no aws_lambda_function of this stack has the ARN {arn}");
        };
        a["function"] = json!(faddr);
        if !self.permitted(f, rule_attrs) {
            anyhow::bail!(
                "Lambda refused the invocation: no aws_lambda_permission lets iot.amazonaws.com invoke {faddr} from {rule} (add one with principal = \"iot.amazonaws.com\" and source_arn = {rule}.arn)"
            );
        }
        let event = a.get("event").cloned().unwrap_or(Json::Null);
        let func = self.start(faddr, f, &bare).await?;
        let inv = func.invoke(&event).await;
        a["request_id"] = json!(inv.request_id);
        a["logs"] = json!(inv.logs);
        a["log_delivery"] = json!(self.deliver_logs(&func, &inv.logs).await);
        match inv.outcome {
            Outcome::Response(r) => {
                a["response"] = r;
                Ok(format!("{} answered", func.name))
            }
            Outcome::Error(e) => {
                a["response"] = Json::Null;
                a["function_error"] = e.clone();
                anyhow::bail!(
                    "{} failed: {}: {}",
                    func.name,
                    e["errorType"].as_str().unwrap_or("Unhandled"),
                    e["errorMessage"]
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| e["errorMessage"].to_string())
                )
            }
        }
    }

    /// The function's output sent to its log group, as Lambda does; says what happened
    /// (a group that does not exist is reported, never created: Lambda creates it only
    /// when the function's role may).
    async fn deliver_logs(&self, func: &LocalFunction, lines: &[String]) -> String {
        use aws_sdk_cloudwatchlogs::types::InputLogEvent;
        if lines.is_empty() {
            return "nothing to deliver".into();
        }
        let logs = self.provider.logs();
        let mut streams = self.streams.lock().await;
        if !streams.contains(&func.log_stream) {
            let made = logs
                .create_log_stream()
                .log_group_name(&func.log_group)
                .log_stream_name(&func.log_stream)
                .send()
                .await;
            if let Err(e) = made {
                let e = crate::provider::client::aws_error("CreateLogStream", e);
                return format!("not delivered to {}: {e:#}", func.log_group);
            }
            streams.push(func.log_stream.clone());
        }
        let now = now_ms();
        let events: Vec<InputLogEvent> = lines
            .iter()
            .filter_map(|l| {
                InputLogEvent::builder()
                    .timestamp(now)
                    .message(l)
                    .build()
                    .ok()
            })
            .collect();
        match logs
            .put_log_events()
            .log_group_name(&func.log_group)
            .log_stream_name(&func.log_stream)
            .set_log_events(Some(events))
            .send()
            .await
        {
            Ok(_) => format!(
                "{} lines to {} ({})",
                lines.len(),
                func.log_group,
                func.log_stream
            ),
            Err(e) => format!(
                "not delivered to {}: {:#}",
                func.log_group,
                crate::provider::client::aws_error("PutLogEvents", e)
            ),
        }
    }

    /// The running function for `arn`, built and started on first use.
    async fn start(
        &self,
        faddr: &str,
        f: &Map<String, Json>,
        arn: &str,
    ) -> anyhow::Result<Arc<LocalFunction>> {
        let mut running = self.running.lock().await;
        if let Some(r) = running.get(arn) {
            return Ok(r.clone());
        }
        let Some(cl) = first_block(f, "cargo_lambda") else {
            anyhow::bail!(
                "{faddr} is not built from a Rust crate (cargo_lambda {{}}), so thingform cannot run it locally"
            );
        };
        let path = crate::build::in_dir(&self.stack_dir, s(cl, "path").unwrap_or("."));
        let out = self
            .build_dir
            .join(faddr.replace(['[', ']', '"', '.'], "_"));
        std::fs::create_dir_all(&out)?;
        let bootstrap = crate::build::build_for_host(&path, s(cl, "binary"), &out).await?;
        let name = s(f, "function_name").unwrap_or(faddr);
        let variables = first_block(f, "environment")
            .and_then(|e| e.get("variables"))
            .and_then(Json::as_object)
            .map(|v| {
                v.iter()
                    .map(|(k, x)| {
                        (
                            k.clone(),
                            x.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| x.to_string()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let logging = first_block(f, "logging_config");
        let spec = FunctionSpec {
            name,
            arn,
            memory_mb: f.get("memory_size").and_then(Json::as_u64).unwrap_or(128),
            timeout: Duration::from_secs(f.get("timeout").and_then(Json::as_u64).unwrap_or(3)),
            variables,
            log_group: logging
                .and_then(|l| s(l, "log_group"))
                .map(str::to_string)
                .unwrap_or_else(|| format!("/aws/lambda/{name}")),
            log_format: logging.and_then(|l| s(l, "log_format")).map(str::to_string),
        };
        let env = self.provider.process_env().await?;
        let func = Arc::new(LocalFunction::start(&bootstrap, &spec, &env).await?);
        running.insert(arn.to_string(), func.clone());
        Ok(func)
    }
}

fn with_origin(mut a: Json, rule: &str, topic: &str, depth: usize, error_action: bool) -> Json {
    a["rule"] = json!(rule);
    a["topic"] = json!(topic);
    a["depth"] = json!(depth);
    a["error_action"] = json!(error_action);
    a
}

fn republish(
    a: &Json,
    m: &Message,
    depth: usize,
    rule: &str,
    queue: &mut VecDeque<(Message, usize, Option<String>)>,
) -> anyhow::Result<String> {
    let topic = a["topic"].as_str().unwrap_or_default().to_string();
    crate::iotsql::topic::validate_topic(&topic)
        .map_err(|e| anyhow::anyhow!("republish topic {topic:?}: {e}"))?;
    if depth + 1 > MAX_HOPS {
        anyhow::bail!(
            "stopped after {MAX_HOPS} republish hops: the rules republish in a loop ({rule} to {topic})"
        );
    }
    let payload = match a.get("payload") {
        Some(Json::String(s)) => s.clone().into_bytes(),
        Some(v) => v.to_string().into_bytes(),
        None => vec![],
    };
    queue.push_back((
        Message {
            topic: topic.clone(),
            payload,
            clientid: m.clientid.clone(),
            principal: m.principal.clone(),
        },
        depth + 1,
        Some(rule.to_string()),
    ));
    Ok(format!("republished to {topic}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_documents_name_actions_as_aws_does() {
        assert_eq!(aws_action_name("s3"), "S3Action");
        assert_eq!(aws_action_name("dynamodbv2"), "DynamoActionV2");
        assert_eq!(aws_action_name("cloudwatch_logs"), "CloudwatchLogsAction");
        assert_eq!(aws_action_name("lambda"), "LambdaAction");
    }
}
