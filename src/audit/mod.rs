//! `thingform audit`: the Device Defender audit checks that can be decided from the stack
//! and its state, under AWS's check names and reason codes, plus pipeline checks no audit
//! has. `values.rs` evaluates the stack without AWS (state values where there are some);
//! `policy.rs` reads IAM and IoT policy documents; `checks.rs` holds the checks.

mod checks;
pub mod policy;
pub mod values;

use crate::config::stack::Stack;
use crate::state::State;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

/// One noncompliant resource.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Device Defender's check name (`IOT_POLICY_OVERLY_PERMISSIVE_CHECK`), or thingform's
    /// for the pipeline checks (`TOPIC_RULE_ERROR_ACTION_CHECK`).
    #[serde(rename = "check_name")]
    pub check: String,
    #[serde(rename = "reason_code")]
    pub reason: String,
    pub severity: Severity,
    pub resource: String,
    pub message: String,
}

/// Every check this audit runs, Device Defender's first.
pub const CHECKS: &[&str] = &[
    "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
    "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK",
    "DEVICE_CERTIFICATE_SHARED_CHECK",
    "LOGGING_DISABLED_CHECK",
    "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK",
    "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK",
    "TOPIC_RULE_ERROR_ACTION_CHECK",
    "TOPIC_RULE_LAMBDA_PERMISSION_CHECK",
    "TOPIC_RULE_ROLE_PERMISSION_CHECK",
    "CLOUDWATCH_ALARM_ACTIONS_CHECK",
];

/// Runs every check on already evaluated values.
pub fn audit_values(v: &values::Values) -> Vec<Finding> {
    let mut out = vec![];
    checks::iot_policies(v, &mut out);
    checks::shared_certificates(v, &mut out);
    checks::logging(v, &mut out);
    checks::role_aliases(v, &mut out);
    checks::pipeline(v, &mut out);
    checks::alarms(v, &mut out);
    out.sort_by(|a, b| {
        (a.severity, &a.check, &a.resource).cmp(&(b.severity, &b.check, &b.resource))
    });
    out.dedup();
    out
}

/// Audits a stack, with its state's values when there is one.
pub fn audit(stack: &Stack, state: Option<&State>) -> Vec<Finding> {
    audit_values(&values::evaluate(stack, state))
}

#[cfg(test)]
mod tests;
