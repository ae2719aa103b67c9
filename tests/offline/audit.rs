//! `thingform audit` offline: the campus stack passes clean; a stack with findings lists
//! them under Device Defender's check names and reason codes, `-json` and `-strict`
//! behave, and `plan` shows the findings as warnings.

use crate::harness::*;
use std::path::PathBuf;

const NOISY: &str = r#"resource "aws_iot_policy" "wide" {
  name   = "wide"
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "iot:*", Resource = "*" }] })
}
resource "aws_iot_topic_rule" "r" {
  name        = "r"
  enabled     = true
  sql         = "SELECT * FROM 'a/+'"
  sql_version = "2016-03-23"
  republish {
    topic    = "b/$${topic(2)}"
    role_arn = "arn:aws:iam::123456789012:role/r"
  }
}
"#;

#[test]
fn the_campus_stack_audits_clean() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let stack = TestStack::copy_of(&repo.join("stacks/campus"));
    let out = stack.ok(&["audit", "-strict"]);
    assert!(
        out.contains("Audit passed: 10 checks, no findings."),
        "{out}"
    );
}

#[test]
fn findings_by_check_name_and_reason_code_json_strict_and_in_plan() {
    let stack = TestStack::new(NOISY);
    let out = stack.ok(&["audit"]);
    assert!(
        out.contains("CRITICAL IOT_POLICY_OVERLY_PERMISSIVE_CHECK (ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS) aws_iot_policy.wide"),
        "{out}"
    );
    assert!(
        out.contains("TOPIC_RULE_ERROR_ACTION_CHECK (NO_ERROR_ACTION) aws_iot_topic_rule.r"),
        "{out}"
    );
    assert!(out.contains("2 findings from 10 checks."), "{out}");

    let strict = stack.run(&["audit", "-strict"]);
    assert_eq!(strict.status.code(), Some(2));

    let j: serde_json::Value = serde_json::from_str(&stack.ok(&["audit", "-json"])).unwrap();
    assert_eq!(j["noncompliant"], 2);
    assert_eq!(
        j["findings"][0]["check_name"],
        "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"
    );
    assert_eq!(
        j["findings"][0]["reason_code"],
        "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS"
    );
    assert_eq!(j["findings"][0]["severity"], "CRITICAL");
    assert_eq!(j["checks"].as_array().unwrap().len(), 10);

    let plan = stack.run(&["plan", "-refresh=false"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    let err = stderr(&plan);
    assert!(
        err.contains("Warning: audit: CRITICAL IOT_POLICY_OVERLY_PERMISSIVE_CHECK"),
        "{err}"
    );
}
