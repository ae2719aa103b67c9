//! `thingform rule test`: one topic rule of the stack evaluated locally on one message —
//! whether it matched, its output document, and each action that would fire with its
//! resolved input. Also the plan-time check of every rule's SQL, topic filter and
//! substitution templates, with the location of the argument in the stack file.

use super::args::{StateFlags, VarFlags};
use super::{load_stack, open_backend, workspace};
use crate::address::Address;
use crate::audit::values;
use crate::config::BlockNode;
use crate::config::stack::Stack;
use crate::diag::{Diagnostic, Diagnostics, Loc};
use crate::iotsql::Context;
use crate::provider::aws_iot_topic_rule::check;
use crate::provider::aws_iot_topic_rule::evaluate::{evaluate_rule, now_ms};
use clap::{Args, Subcommand};
use serde_json::{Value as Json, json};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum RuleCommand {
    /// Evaluate a topic rule of the stack on one message, locally: match, output, actions
    Test(RuleTestArgs),
}

#[derive(Args, Debug)]
pub struct RuleTestArgs {
    #[command(flatten)]
    pub vars: VarFlags,
    #[command(flatten)]
    pub state: StateFlags,
    /// The rule's address, e.g. aws_iot_topic_rule.ingest
    pub address: String,
    /// The topic the message is published to
    #[arg(long = "topic", value_name = "TOPIC")]
    pub topic: String,
    /// The message: a file, or the payload itself (JSON, or any text)
    #[arg(long = "payload", value_name = "FILE|JSON")]
    pub payload: String,
    /// The MQTT client id clientid() returns
    #[arg(long = "clientid", value_name = "ID")]
    pub clientid: Option<String>,
    /// The principal principal() returns (a certificate id)
    #[arg(long = "principal", value_name = "ID")]
    pub principal: Option<String>,
    /// Perform the S3, DynamoDB, SNS and CloudWatch actions against the endpoint (as AWS IoT would)
    #[arg(long = "perform")]
    pub perform: bool,
    /// Machine-readable output: {"matched", "output", "actions"}
    #[arg(long = "json")]
    pub json: bool,
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

pub async fn dispatch(c: RuleCommand) -> anyhow::Result<i32> {
    match c {
        RuleCommand::Test(a) => test(a).await,
    }
}

/// Where an argument path (`["s3", "key"]`) of a resource block is written.
fn locate(body: &BlockNode, path: &[String]) -> Option<Loc> {
    let (last, blocks) = path.split_last()?;
    let mut node = body;
    for seg in blocks {
        match node.blocks.iter().find(|b| &b.kind == seg) {
            Some(b) => node = b,
            None => return Some(node.loc.clone()),
        }
    }
    Some(match node.attr(last) {
        Some(a) => a.loc.clone(),
        None => node
            .blocks
            .iter()
            .find(|b| &b.kind == last)
            .map(|b| b.loc.clone())
            .unwrap_or_else(|| node.loc.clone()),
    })
}

/// Every topic rule's SQL, topic filter and substitution templates, checked where their
/// values are known without AWS (`validate`, and before every plan).
pub fn check_rules(stack: &Stack) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let rules: Vec<_> = stack
        .module
        .resources
        .values()
        .filter(|rc| {
            rc.id.rtype == "aws_iot_topic_rule" && rc.id.mode == crate::address::Mode::Managed
        })
        .collect();
    if rules.is_empty() {
        return diags;
    }
    let ids: Vec<_> = rules.iter().map(|rc| rc.id.clone()).collect();
    let vals = values::evaluate_only(stack, None, Some(&ids));
    for rc in rules {
        for inst in vals
            .of_type("aws_iot_topic_rule")
            .filter(|i| i.addr.resource == rc.id)
        {
            for p in check::check_rule(&inst.attrs) {
                let loc = locate(&rc.body, &p.path).unwrap_or_else(|| rc.loc.clone());
                diags.push(Diagnostic::error(
                    "Invalid topic rule",
                    format!("{}: {}: {}", inst.addr, p.path.join("."), p.message),
                    Some(&loc),
                ));
            }
        }
    }
    diags
}

fn read_payload(p: &str) -> anyhow::Result<Vec<u8>> {
    let path = std::path::Path::new(p);
    if !p.trim_start().starts_with(['{', '[']) && path.is_file() {
        return std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("cannot read the payload file {p}: {e}"));
    }
    if p.trim_start().starts_with(['{', '['])
        && let Err(e) = serde_json::from_str::<Json>(p)
    {
        anyhow::bail!("-payload is neither a file nor valid JSON: {e}");
    }
    Ok(p.as_bytes().to_vec())
}

fn human(r: &Json) -> String {
    let mut out = String::new();
    let rule = r["rule"].as_str().unwrap_or_default();
    let topic = r["topic"].as_str().unwrap_or_default();
    if r["enabled"] == json!(false) {
        out.push_str(&format!(
            "{rule} is disabled (enabled = false): it does not run.\n"
        ));
    }
    if r["topic_matched"] == json!(false) {
        out.push_str(&format!(
            "{rule}: NOT MATCHED: the topic {topic} does not match its FROM topic filter.\n"
        ));
        return out;
    }
    if r["matched"] == json!(false) {
        if r["enabled"] != json!(false) {
            out.push_str(&format!(
                "{rule}: NOT MATCHED: its WHERE clause does not hold for this message on {topic}.\n"
            ));
        }
        return out;
    }
    out.push_str(&format!("{rule}: MATCHED on {topic}\n\nOutput:\n"));
    let pretty = serde_json::to_string_pretty(&r["output"]).unwrap_or_default();
    for l in pretty.lines() {
        out.push_str(&format!("  {l}\n"));
    }
    let actions = r["actions"].as_array().cloned().unwrap_or_default();
    out.push_str(&format!("\nActions that would fire ({}):\n", actions.len()));
    let describe = |a: &Json, label: &str, out: &mut String| {
        let Json::Object(m) = a else { return };
        out.push_str(&format!(
            "  {label}{}\n",
            m["type"].as_str().unwrap_or_default()
        ));
        for (k, v) in m.iter().filter(|(k, _)| *k != "type") {
            let text = match v {
                Json::String(s) => s.clone(),
                other => serde_json::to_string(other).unwrap_or_default(),
            };
            out.push_str(&format!("      {k} = {text}\n"));
        }
    };
    for a in &actions {
        describe(a, "", &mut out);
    }
    if !r["error_action"].is_null() {
        out.push_str("\nOn an action failure (error_action):\n");
        describe(&r["error_action"], "", &mut out);
    }
    out
}

async fn test(a: RuleTestArgs) -> anyhow::Result<i32> {
    let addr: Address = a.address.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let stack = load_stack(&a.dir, &a.vars, &workspace(&a.dir, &a.state))?;
    if !stack.resources.contains_key(&addr.resource) {
        anyhow::bail!("{} is not declared in the stack", addr.resource);
    }
    let payload = read_payload(&a.payload)?;
    // The state gives the values of objects already created (ARNs, names); without one,
    // they are shown as placeholders.
    let be = open_backend(&a.dir, &a.state).await?;
    let state = be.read().await?;
    let vals = values::evaluate_only(
        &stack,
        state.as_ref(),
        Some(std::slice::from_ref(&addr.resource)),
    );
    let ts = now_ms();
    let inst = vals
        .get(&addr)
        .filter(|i| i.rtype == "aws_iot_topic_rule")
        .ok_or_else(|| anyhow::anyhow!("{addr} is not a topic rule of this stack"))?;
    let r = evaluate_rule(&addr.to_string(), &inst.attrs, |version| {
        let mut c = Context::new(version, &a.topic, &payload, ts);
        c.clientid = a.clientid.clone();
        c.principal = a.principal.clone();
        c.traceid = Some(uuid::Uuid::new_v4().to_string());
        c
    })?;
    let mut r = r;
    if a.perform && r["matched"] == json!(true) {
        let alias = stack.resources[&addr.resource].provider_config.clone();
        let provider = super::run::configure_provider(&stack, alias.as_deref(), 1).await?;
        if let Some(Json::Array(actions)) = r.get_mut("actions") {
            for act in actions.iter_mut() {
                let done =
                    crate::provider::aws_iot_topic_rule::perform::perform(&provider, act).await;
                let (k, v) = match done {
                    Some(Ok(what)) => ("performed", what),
                    Some(Err(e)) => ("failed", format!("{e:#}")),
                    None => (
                        "not_performed",
                        "rule test -perform performs s3, dynamodb, dynamodbv2, sns and cloudwatch actions; thingform test also runs lambda and republish".to_string(),
                    ),
                };
                act[k] = json!(v);
            }
        }
    }
    let failed = r["actions"]
        .as_array()
        .is_some_and(|l| l.iter().any(|x| x.get("failed").is_some()));
    if a.json {
        let mut o = r.clone();
        if let Json::Object(m) = &mut o {
            m.retain(|k, _| {
                ["matched", "output", "actions", "error_action", "topic"].contains(&k.as_str())
            });
        }
        println!("{}", serde_json::to_string_pretty(&o)?);
    } else {
        print!("{}", human(&r));
    }
    Ok(if failed { 1 } else { 0 })
}
