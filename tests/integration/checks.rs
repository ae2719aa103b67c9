//! `check {}` blocks against the emulator: a failing assertion is a warning printed
//! with its error_message and the condition's file:line, plan and apply succeed, and the
//! warning goes away once the configuration is fixed. What the checks see is verified
//! through the SDK, never through the state file.
//!
//! The resources follow the Terraform AWS provider's documentation examples
//! (website/docs/r/sns_topic.html.markdown "Example Usage":
//! `resource "aws_sns_topic" "user_updates" { name = "user-updates-topic" }`, and
//! website/docs/r/dynamodb_table.html.markdown "Basic Example"), with unique names.

use crate::harness::*;
use std::process::Output;

fn stack(topic: &str, table: &str, billing: &str) -> String {
    format!(
        r#"resource "aws_sns_topic" "user_updates" {{
  name = "{topic}"
}}

resource "aws_dynamodb_table" "basic-dynamodb-table" {{
  name         = "{table}"
  billing_mode = "{billing}"
  {capacity}
  hash_key     = "UserId"

  attribute {{
    name = "UserId"
    type = "S"
  }}
}}

check "topic_arn" {{
  assert {{
    condition     = startswith(aws_sns_topic.user_updates.arn, "arn:aws:sns:") && endswith(aws_sns_topic.user_updates.arn, ":{topic}")
    error_message = "The topic ARN ${{aws_sns_topic.user_updates.arn}} is not an SNS ARN for {topic}."
  }}
}}

check "billing" {{
  assert {{
    condition     = aws_dynamodb_table.basic-dynamodb-table.billing_mode == "PROVISIONED"
    error_message = "Table ${{aws_dynamodb_table.basic-dynamodb-table.name}} must use provisioned capacity."
  }}
}}
"#,
        capacity = if billing == "PROVISIONED" {
            "read_capacity  = 5\n  write_capacity = 5"
        } else {
            ""
        }
    )
}

/// The line of `main.tf` holding `needle` (1-based).
fn line_of(src: &str, needle: &str) -> usize {
    src.lines().position(|l| l.contains(needle)).unwrap() + 1
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn succeeded(o: &Output, what: &str) -> String {
    let t = text(o);
    assert!(o.status.success(), "{what} failed:\n{t}");
    t
}

async fn billing_mode(table: &str) -> Option<String> {
    dynamodb()
        .await
        .describe_table()
        .table_name(table)
        .send()
        .await
        .ok()?
        .table()?
        .billing_mode_summary()?
        .billing_mode()
        .map(|m| m.as_str().to_string())
}

async fn topic_exists(name: &str) -> bool {
    let out = sns().await.list_topics().send().await.unwrap();
    out.topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .any(|a| a.ends_with(&format!(":{name}")))
}

#[tokio::test]
async fn failing_check_warns_on_plan_and_apply_and_passes_once_fixed() {
    let topic = unique("user-updates-topic");
    let table = unique("GameScores");
    let src = stack(&topic, &table, "PAY_PER_REQUEST");
    let s = TestStack::new(&src);
    let billing_line = line_of(&src, "billing_mode == \"PROVISIONED\"");
    let topic_line = line_of(&src, "startswith(");
    let message = format!("Table {table} must use provisioned capacity.");

    // Plan: the billing mode is known from the configuration and fails; the ARN is
    // known only after apply. Both are warnings: the plan succeeds.
    let out = succeeded(&s.run(&["plan"]), "plan");
    assert!(
        out.contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{out}"
    );
    assert!(
        out.contains("Warning: Check block assertion failed"),
        "{out}"
    );
    assert!(out.contains(&message), "{out}");
    assert!(out.contains(&format!("main.tf:{billing_line}:")), "{out}");
    assert!(
        out.contains("Warning: Check block assertion known after apply"),
        "{out}"
    );
    assert!(out.contains(&format!("main.tf:{topic_line}:")), "{out}");

    // Apply succeeds and reports the failing check (not the plan's "known after
    // apply": apply has the answer).
    let out = succeeded(&s.run(&["apply", "-auto-approve"]), "apply");
    assert!(out.contains("Apply complete! Resources: 2 added"), "{out}");
    assert!(
        out.contains("Warning: Check block assertion failed"),
        "{out}"
    );
    assert!(out.contains(&message), "{out}");
    assert!(out.contains(&format!("main.tf:{billing_line}:")), "{out}");
    assert!(
        !out.contains("Check block assertion known after apply"),
        "{out}"
    );
    assert!(
        !out.contains("is not an SNS ARN"),
        "the ARN check passes:\n{out}"
    );
    assert!(topic_exists(&topic).await);
    assert_eq!(
        billing_mode(&table).await.as_deref(),
        Some("PAY_PER_REQUEST")
    );

    // plan -json carries the results as `terraform show -json` does.
    let plan = s.plan_json();
    let checks = plan["checks"].as_array().unwrap();
    let by_name = |n: &str| {
        checks
            .iter()
            .find(|c| c["address"]["name"] == n)
            .unwrap_or_else(|| panic!("no check {n} in {plan}"))
    };
    assert_eq!(by_name("topic_arn")["status"], "pass");
    let billing = by_name("billing");
    assert_eq!(billing["status"], "fail");
    assert_eq!(billing["address"]["to_display"], "check.billing");
    assert_eq!(
        billing["instances"][0]["problems"][0]["message"],
        message.as_str()
    );

    // Fixed: the table is updated in place, and no check warns any more.
    s.write("main.tf", &stack(&topic, &table, "PROVISIONED"));
    let out = succeeded(&s.run(&["apply", "-auto-approve"]), "apply after the fix");
    assert!(out.contains("0 added, 1 changed, 0 destroyed"), "{out}");
    assert!(!out.contains("Check block assertion"), "{out}");
    assert_eq!(billing_mode(&table).await.as_deref(), Some("PROVISIONED"));
    let plan = s.plan_json();
    assert!(
        plan["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "pass"),
        "{plan}"
    );
    let out = succeeded(&s.run(&["plan"]), "plan after the fix");
    assert!(out.contains("No changes."), "{out}");
    assert!(!out.contains("Warning"), "{out}");

    s.destroy();
    assert!(!topic_exists(&topic).await);
}

#[tokio::test]
async fn check_validation_errors_name_their_line() {
    let s = TestStack::new(
        r#"resource "aws_sns_topic" "user_updates" {
  name = "user-updates-topic"
}

check "constant" {
  assert {
    condition     = 1 == 1
    error_message = ["not", "a", "string"]
  }
}
"#,
    );
    let out = s.run(&["validate"]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("Error: Invalid assert expression"), "{t}");
    assert!(t.contains("must refer to at least one object"), "{t}");
    assert!(t.contains("main.tf:7:"), "{t}");
    assert!(t.contains("Error: Invalid error message"), "{t}");
    assert!(t.contains("main.tf:8:"), "{t}");
}

#[tokio::test]
async fn failing_scoped_data_source_is_a_warning() {
    let topic = unique("user-updates-topic");
    let s = TestStack::new(&format!(
        r#"resource "aws_sns_topic" "user_updates" {{
  name = "{topic}"
}}

check "endpoint" {{
  data "aws_iot_endpoint" "bogus" {{
    endpoint_type = "iot:NoSuchEndpointType"
  }}
  assert {{
    condition     = data.aws_iot_endpoint.bogus.endpoint_address != "" && aws_sns_topic.user_updates.name != ""
    error_message = "No endpoint."
  }}
}}
"#
    ));
    let out = succeeded(&s.run(&["apply", "-auto-approve"]), "apply");
    assert!(out.contains("Apply complete! Resources: 1 added"), "{out}");
    assert!(out.contains("Warning: Error reading data source"), "{out}");
    assert!(out.contains("data.aws_iot_endpoint.bogus"), "{out}");
    assert!(out.contains("main.tf:6:"), "{out}");
    assert!(topic_exists(&topic).await);
    s.destroy();
}
