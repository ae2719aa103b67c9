//! The checks: Device Defender's, under AWS's check names and reason codes, as far as the
//! stack and state decide them, and the pipeline checks no audit has.

use super::policy::{self, Statement, allows, glob, service_of};
use super::values::{ACCOUNT, Instance, Values};
use super::{Finding, Severity};
use crate::iotsql::{Template, Version};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

fn s<'a>(i: &'a Instance, k: &str) -> Option<&'a str> {
    i.attrs.get(k).and_then(Json::as_str)
}

fn finding(check: &str, reason: &str, sev: Severity, i: &Instance, msg: String) -> Finding {
    Finding {
        check: check.into(),
        reason: reason.into(),
        severity: sev,
        resource: i.addr.to_string(),
        message: msg,
    }
}

/// The MQTT data-plane actions of an IoT policy.
const DATA_PLANE: &[&str] = &[
    "iot:Connect",
    "iot:Publish",
    "iot:Subscribe",
    "iot:Receive",
    "iot:RetainPublish",
    "iot:GetThingShadow",
    "iot:UpdateThingShadow",
    "iot:DeleteThingShadow",
    "iot:ListNamedShadowsForThing",
];

/// A resource that reaches every device: a wildcard not narrowed by a policy variable.
fn broad(resource: &str) -> bool {
    (resource.contains('*') || resource.contains('?')) && !resource.contains("${iot:")
}

fn data_plane_grants(sts: &[Statement]) -> Vec<(String, String)> {
    let mut out = vec![];
    for st in sts.iter().filter(|s| s.allow) {
        for a in DATA_PLANE {
            if st.covers_action(a) {
                for r in st.resources.iter().filter(|r| broad(r)) {
                    out.push((a.to_string(), r.clone()));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// IOT_POLICY_OVERLY_PERMISSIVE_CHECK and IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK.
pub fn iot_policies(v: &Values, out: &mut Vec<Finding>) {
    for p in v.of_type("aws_iot_policy") {
        let Some(sts) = p.attrs.get("policy").and_then(policy::parse) else {
            continue;
        };
        let grants = data_plane_grants(&sts);
        if !grants.is_empty() {
            let list: Vec<String> = grants.iter().map(|(a, r)| format!("{a} on {r}")).collect();
            out.push(finding(
                "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
                "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
                Severity::Critical,
                p,
                format!(
                    "allows {} — a wildcard not narrowed by a policy variable such as ${{iot:Connection.Thing.ThingName}} reaches every device",
                    list.join(", ")
                ),
            ));
        }
        for d in sts.iter().filter(|s| !s.allow) {
            for r in d
                .resources
                .iter()
                .filter(|r| r.contains('+') || r.contains('#'))
            {
                out.push(finding(
                    "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK",
                    "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT",
                    Severity::Medium,
                    p,
                    format!("denies {r}: MQTT wildcards (+, #) are literal characters in policies, so this Deny matches only that exact name"),
                ));
                // What the Deny was meant to cover, e.g. `a/+/c` -> `a/x/c`.
                let intended = r.replace('+', "x").replace('#', "x/y");
                let covered = sts.iter().filter(|a| a.allow).any(|a| {
                    a.resources
                        .iter()
                        .any(|ar| ar.contains('*') && glob(ar, &intended, false))
                        && d.actions.iter().any(|da| a.covers_action(da))
                });
                if covered {
                    out.push(finding(
                        "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK",
                        "TOPIC_FILTERS_INTENDED_TO_BE_DENIED_ALLOWED_USING_WILDCARDS",
                        Severity::Medium,
                        p,
                        format!("topics the Deny of {r} means to cover (such as {intended}) stay allowed by a `*` in an Allow statement"),
                    ));
                }
            }
        }
    }
}

/// DEVICE_CERTIFICATE_SHARED_CHECK: one certificate attached to several Things.
pub fn shared_certificates(v: &Values, out: &mut Vec<Finding>) {
    let mut things: BTreeMap<&str, (BTreeSet<&str>, &Instance)> = BTreeMap::new();
    for a in v.of_type("aws_iot_thing_principal_attachment") {
        if let (Some(p), Some(t)) = (s(a, "principal"), s(a, "thing")) {
            things.entry(p).or_insert((BTreeSet::new(), a)).0.insert(t);
        }
    }
    for (p, (ts, first)) in things {
        if ts.len() > 1 {
            out.push(finding(
                "DEVICE_CERTIFICATE_SHARED_CHECK",
                "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES",
                Severity::Critical,
                first,
                format!(
                    "certificate {p} is attached to {} Things ({}); each device needs its own certificate",
                    ts.len(),
                    ts.into_iter().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
}

/// LOGGING_DISABLED_CHECK: decidable where the stack manages the account's logging.
pub fn logging(v: &Values, out: &mut Vec<Finding>) {
    for l in v.of_type("aws_iot_logging_options") {
        let disabled = l.attrs.get("disable_all_logs") == Some(&Json::Bool(true))
            || s(l, "default_log_level") == Some("DISABLED");
        if disabled {
            out.push(finding(
                "LOGGING_DISABLED_CHECK",
                "LOGGING_DISABLED",
                Severity::Low,
                l,
                "AWS IoT logging to CloudWatch is disabled (disable_all_logs or default_log_level DISABLED)".into(),
            ));
        }
    }
}

/// The policy statements of a role (by ARN) from the stack: inline policies and
/// attached managed policies. `None` when the role or one of its documents is not known.
fn role_statements(v: &Values, role_arn: &str) -> Option<Vec<Statement>> {
    let role = v
        .of_type("aws_iam_role")
        .find(|r| s(r, "arn") == Some(role_arn))?;
    let names: Vec<&str> = [s(role, "name"), s(role, "id")]
        .into_iter()
        .flatten()
        .collect();
    let mut sts = vec![];
    for rp in v.of_type("aws_iam_role_policy") {
        if s(rp, "role").is_some_and(|r| names.contains(&r)) {
            sts.extend(rp.attrs.get("policy").and_then(policy::parse)?);
        }
    }
    let mut arns: Vec<&str> = v
        .of_type("aws_iam_role_policy_attachment")
        .filter(|a| s(a, "role").is_some_and(|r| names.contains(&r)))
        .filter_map(|a| s(a, "policy_arn"))
        .collect();
    for a in v.of_type("aws_iam_policy_attachment") {
        let roles = a.attrs.get("roles").and_then(Json::as_array);
        if roles.is_some_and(|l| {
            l.iter()
                .any(|r| r.as_str().is_some_and(|r| names.contains(&r)))
        }) {
            arns.extend(s(a, "policy_arn"));
        }
    }
    for arn in arns {
        if arn.ends_with(":policy/AdministratorAccess") && arn.contains(":aws:policy/") {
            sts.push(Statement {
                allow: true,
                actions: vec!["*".into()],
                not_actions: vec![],
                resources: vec!["*".into()],
                not_resources: vec![],
            });
            continue;
        }
        let p = v
            .of_type("aws_iam_policy")
            .find(|p| s(p, "arn") == Some(arn))?;
        sts.extend(p.attrs.get("policy").and_then(policy::parse)?);
    }
    Some(sts)
}

const AUDITING: &[&str] = &[
    "iam",
    "cloudtrail",
    "guardduty",
    "inspector",
    "trustedadvisor",
];

/// The service a resource type belongs to, for "unused services".
fn service_of_type(t: &str) -> Option<&'static str> {
    const MAP: &[(&str, &str)] = &[
        ("aws_s3_", "s3"),
        ("aws_dynamodb_", "dynamodb"),
        ("aws_sns_", "sns"),
        ("aws_sqs_", "sqs"),
        ("aws_lambda_", "lambda"),
        ("aws_iot_", "iot"),
        ("aws_cloudwatch_log_", "logs"),
        ("aws_cloudwatch_metric_", "cloudwatch"),
        ("aws_iam_", "iam"),
        ("aws_kinesis_", "kinesis"),
        ("aws_timestream", "timestream"),
    ];
    MAP.iter().find(|(p, _)| t.starts_with(p)).map(|(_, s)| *s)
}

/// IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK and IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK.
pub fn role_aliases(v: &Values, out: &mut Vec<Finding>) {
    let used: BTreeSet<&str> = v
        .instances
        .iter()
        .filter_map(|i| service_of_type(&i.rtype))
        .collect();
    for ra in v.of_type("aws_iot_role_alias") {
        let Some(sts) = s(ra, "role_arn").and_then(|arn| role_statements(v, arn)) else {
            continue;
        };
        let mut reasons: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        let mut services = BTreeSet::new();
        for st in sts.iter().filter(|s| s.allow) {
            for a in &st.actions {
                let svc = service_of(a);
                services.insert(svc.clone());
                if a == "*" || a.ends_with(":*") {
                    reasons
                        .entry("ALLOWS_BROAD_ACCESS_TO_USED_SERVICES")
                        .or_default()
                        .insert(a.clone());
                }
                if a == "*" || AUDITING.contains(&svc.as_str()) {
                    reasons
                        .entry("ALLOWS_ACCESS_TO_SECURITY_AUDITING_SERVICES")
                        .or_default()
                        .insert(a.clone());
                }
                if svc == "iot" && !DATA_PLANE.iter().any(|d| glob(a, d, true)) {
                    reasons
                        .entry("ALLOWS_ACCESS_TO_IOT_NON_DATA_PLANE_ACTIONS")
                        .or_default()
                        .insert(a.clone());
                }
            }
        }
        for (a, r) in data_plane_grants(&sts) {
            reasons
                .entry("ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS")
                .or_default()
                .insert(format!("{a} on {r}"));
        }
        for (reason, what) in reasons {
            out.push(finding(
                "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK",
                reason,
                Severity::Critical,
                ra,
                format!(
                    "the credentials this role alias hands to devices allow {}",
                    what.into_iter().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let unused: Vec<String> = services
            .into_iter()
            .filter(|svc| svc != "*" && svc != "sts" && !used.contains(svc.as_str()))
            .collect();
        if !unused.is_empty() {
            out.push(finding(
                "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK",
                "ALLOWS_ACCESS_TO_UNUSED_SERVICES",
                Severity::Medium,
                ra,
                format!(
                    "the role grants {} although the stack declares nothing of {} (AWS decides \"unused\" from a year of usage; thingform from the stack)",
                    unused.iter().map(|s| format!("{s}:*")).collect::<Vec<_>>().join(", "),
                    if unused.len() == 1 { "that service" } else { "those services" }
                ),
            ));
        }
    }
}

/// A field with its substitution templates replaced by a sample level (`x`), so policy
/// resources such as `raw/*` can be matched against `raw/${topic(3)}/...`.
fn sample(field: &str) -> String {
    match Template::parse(field, Version::V2016_03_23) {
        Ok(t) => t
            .parts
            .iter()
            .map(|p| match p {
                crate::iotsql::template::Part::Lit(s) => s.as_str(),
                crate::iotsql::template::Part::Expr(_) => "x",
            })
            .collect(),
        Err(_) => field.to_string(),
    }
}

/// The IAM actions and the resource ARN a rule action needs its role to allow.
fn needs(v: &Values, kind: &str, a: &serde_json::Map<String, Json>) -> Vec<(String, String)> {
    let f = |k: &str| a.get(k).and_then(Json::as_str).map(sample);
    let region = &v.region;
    let arn_of = |rtype: &str, key: &str, val: &str| {
        v.of_type(rtype)
            .find(|i| s(i, key) == Some(val))
            .and_then(|i| s(i, "arn").map(str::to_string))
    };
    let acct = v
        .of_type("aws_iam_role")
        .find_map(|r| {
            s(r, "arn")
                .and_then(|a| a.split(':').nth(4))
                .map(str::to_string)
        })
        .unwrap_or_else(|| ACCOUNT.into());
    match kind {
        "s3" => match (f("bucket_name"), f("key")) {
            (Some(b), Some(k)) => vec![("s3:PutObject".into(), format!("arn:aws:s3:::{b}/{k}"))],
            _ => vec![],
        },
        "dynamodbv2" | "dynamodb" => {
            let table = a
                .get("put_item")
                .and_then(Json::as_array)
                .and_then(|l| l.first())
                .and_then(|p| p.get("table_name"))
                .and_then(Json::as_str)
                .map(str::to_string)
                .or_else(|| f("table_name"));
            table
                .map(|t| {
                    let arn = arn_of("aws_dynamodb_table", "name", &t)
                        .unwrap_or_else(|| format!("arn:aws:dynamodb:{region}:{acct}:table/{t}"));
                    vec![("dynamodb:PutItem".into(), arn)]
                })
                .unwrap_or_default()
        }
        "sns" => f("target_arn")
            .map(|t| vec![("sns:Publish".into(), t)])
            .unwrap_or_default(),
        "republish" => f("topic")
            .map(|t| {
                vec![(
                    "iot:Publish".into(),
                    format!("arn:aws:iot:{region}:{acct}:topic/{t}"),
                )]
            })
            .unwrap_or_default(),
        "cloudwatch_logs" => f("log_group_name")
            .map(|g| {
                let arn = format!("arn:aws:logs:{region}:{acct}:log-group:{g}:log-stream:x");
                vec![
                    ("logs:CreateLogStream".into(), arn.clone()),
                    ("logs:PutLogEvents".into(), arn),
                ]
            })
            .unwrap_or_default(),
        "cloudwatch_metric" => vec![("cloudwatch:PutMetricData".into(), "*".into())],
        "cloudwatch_alarm" => f("alarm_name")
            .map(|n| {
                let arn = arn_of("aws_cloudwatch_metric_alarm", "alarm_name", &n)
                    .unwrap_or_else(|| format!("arn:aws:cloudwatch:{region}:{acct}:alarm:{n}"));
                vec![("cloudwatch:SetAlarmState".into(), arn)]
            })
            .unwrap_or_default(),
        "kinesis" => f("stream_name")
            .map(|n| {
                vec![(
                    "kinesis:PutRecord".into(),
                    format!("arn:aws:kinesis:{region}:{acct}:stream/{n}"),
                )]
            })
            .unwrap_or_default(),
        "firehose" => f("delivery_stream_name")
            .map(|n| {
                vec![(
                    "firehose:PutRecord".into(),
                    format!("arn:aws:firehose:{region}:{acct}:deliverystream/{n}"),
                )]
            })
            .unwrap_or_default(),
        "step_functions" => f("state_machine_name")
            .map(|n| {
                vec![(
                    "states:StartExecution".into(),
                    format!("arn:aws:states:{region}:{acct}:stateMachine:{n}"),
                )]
            })
            .unwrap_or_default(),
        _ => vec![],
    }
}

/// Each action block of a rule (and of its error_action), as (kind, fields, in error_action).
fn rule_actions(r: &Instance) -> Vec<(&'static str, &serde_json::Map<String, Json>, bool)> {
    let mut out = vec![];
    let kinds: Vec<&'static str> = crate::provider::aws_iot_topic_rule::action_kinds().collect();
    for k in &kinds {
        for b in r
            .attrs
            .get(*k)
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            if let Json::Object(m) = b {
                out.push((*k, m, false));
            }
        }
    }
    if let Some(Json::Object(ea)) = r
        .attrs
        .get("error_action")
        .and_then(Json::as_array)
        .and_then(|l| l.first())
    {
        for k in &kinds {
            for b in ea.get(*k).and_then(Json::as_array).into_iter().flatten() {
                if let Json::Object(m) = b {
                    out.push((*k, m, true));
                }
            }
        }
    }
    out
}

/// The pipeline checks: error_action, Lambda permissions, action roles.
pub fn pipeline(v: &Values, out: &mut Vec<Finding>) {
    for r in v.of_type("aws_iot_topic_rule") {
        let has_error_action = r
            .attrs
            .get("error_action")
            .and_then(Json::as_array)
            .is_some_and(|l| !l.is_empty());
        if !has_error_action {
            out.push(finding(
                "TOPIC_RULE_ERROR_ACTION_CHECK",
                "NO_ERROR_ACTION",
                Severity::Medium,
                r,
                "the rule has no error_action: a failing action (throttling, a missing permission) is dropped without a trace".into(),
            ));
        }
        let rule_arn = s(r, "arn").unwrap_or_default();
        for (kind, a, in_error) in rule_actions(r) {
            let at = if in_error {
                format!("error_action.{kind}")
            } else {
                kind.to_string()
            };
            if kind == "lambda" {
                let Some(fa) = a.get("function_arn").and_then(Json::as_str) else {
                    continue;
                };
                let fname = fa.rsplit(':').next().unwrap_or(fa);
                let permitted = v.of_type("aws_lambda_permission").any(|p| {
                    let f = s(p, "function_name").unwrap_or_default();
                    (f == fa || f == fname || f.ends_with(&format!(":function:{fname}")))
                        && s(p, "principal") == Some("iot.amazonaws.com")
                        && s(p, "action").is_some_and(|x| glob(x, "lambda:InvokeFunction", true))
                        && s(p, "source_arn").is_none_or(|src| glob(src, rule_arn, false))
                });
                if !permitted {
                    out.push(finding(
                        "TOPIC_RULE_LAMBDA_PERMISSION_CHECK",
                        "LAMBDA_NOT_INVOKABLE_BY_IOT",
                        Severity::High,
                        r,
                        format!("{at}: no aws_lambda_permission lets iot.amazonaws.com invoke {fa} for this rule, so AWS IoT cannot call it"),
                    ));
                }
                continue;
            }
            let Some(role) = a.get("role_arn").and_then(Json::as_str) else {
                continue;
            };
            let Some(sts) = role_statements(v, role) else {
                continue;
            };
            for (action, arn) in needs(v, kind, a) {
                if !allows(&sts, &action, &arn) {
                    out.push(finding(
                        "TOPIC_RULE_ROLE_PERMISSION_CHECK",
                        "ROLE_DOES_NOT_ALLOW_ACTION",
                        Severity::High,
                        r,
                        format!("{at}: the role {role} does not allow {action} on {arn}"),
                    ));
                }
            }
        }
    }
}

/// CLOUDWATCH_ALARM_ACTIONS_CHECK: an alarm nobody hears.
pub fn alarms(v: &Values, out: &mut Vec<Finding>) {
    for a in v.of_type("aws_cloudwatch_metric_alarm") {
        let actions = a
            .attrs
            .get("alarm_actions")
            .and_then(Json::as_array)
            .is_some_and(|l| !l.is_empty());
        let enabled = a.attrs.get("actions_enabled") != Some(&Json::Bool(false));
        if !actions || !enabled {
            out.push(finding(
                "CLOUDWATCH_ALARM_ACTIONS_CHECK",
                if actions {
                    "ALARM_ACTIONS_DISABLED"
                } else {
                    "NO_ALARM_ACTIONS"
                },
                Severity::Low,
                a,
                if actions {
                    "actions_enabled = false: the alarm changes state but notifies nobody".into()
                } else {
                    "the alarm has no alarm_actions: it changes state but notifies nobody".into()
                },
            ));
        }
    }
}
