//! IoT parity: aws_iot_role_alias and aws_iot_logging_options. Configurations are taken
//! unchanged from the Terraform AWS provider's documentation
//! (hashicorp/terraform-provider-aws, website/docs/r/...), each test citing its page;
//! the updates are written by the test. Results are checked through the IoT API.

use crate::harness::*;

/// website/docs/r/iot_role_alias.html.markdown, "Example Usage".
const ROLE_ALIAS_EXAMPLE: &str = r#"data "aws_iam_policy_document" "assume_role" {
  statement {
    effect = "Allow"

    principals {
      type        = "Service"
      identifiers = ["credentials.iot.amazonaws.com"]
    }

    actions = ["sts:AssumeRole"]
  }
}

resource "aws_iam_role" "role" {
  name               = "dynamodb-access-role"
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
}

resource "aws_iot_role_alias" "alias" {
  alias    = "Thermostat-dynamodb-access-role-alias"
  role_arn = aws_iam_role.role.arn
}
"#;

/// website/docs/r/iot_logging_options.html.markdown, "Example Usage" (the role it names
/// is declared by the test in a separate file).
const LOGGING_OPTIONS_EXAMPLE: &str = r#"resource "aws_iot_logging_options" "example" {
  default_log_level = "WARN"
  role_arn          = aws_iam_role.example.arn
}
"#;

fn assert_no_changes(stack: &TestStack) {
    let plan = stack.plan_json();
    assert!(changed(&plan).is_empty(), "{:?}", changed(&plan));
}

/// (role ARN, credential duration) of a role alias, None when it does not exist.
async fn role_alias(alias: &str) -> Option<(String, i32)> {
    let out = found(
        iot()
            .await
            .describe_role_alias()
            .role_alias(alias)
            .send()
            .await,
    )?;
    let d = out.role_alias_description().unwrap();
    Some((
        d.role_arn().unwrap().to_string(),
        d.credential_duration_seconds().unwrap(),
    ))
}

async fn role_arn(name: &str) -> String {
    iam()
        .await
        .get_role()
        .role_name(name)
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_string()
}

#[tokio::test]
async fn iot_role_alias_docs_example_updates_imports_and_destroys() {
    const ALIAS: &str = "Thermostat-dynamodb-access-role-alias";
    let stack = TestStack::new(ROLE_ALIAS_EXAMPLE);
    stack.ok(&["validate"]);
    stack.apply();
    let first_role = role_arn("dynamodb-access-role").await;
    assert_eq!(role_alias(ALIAS).await, Some((first_role, 3600)));
    assert_no_changes(&stack);

    // Update in place: another role and a longer credential duration.
    let other = unique("tf-role-alias");
    stack.write(
        "main.tf",
        &ROLE_ALIAS_EXAMPLE.replace(
            "  role_arn = aws_iam_role.role.arn\n}",
            "  role_arn = aws_iam_role.other.arn\n  credential_duration = 7200\n}",
        ),
    );
    stack.write(
        "other.tf",
        &format!(
            "resource \"aws_iam_role\" \"other\" {{\n  name               = \"{other}\"\n  assume_role_policy = data.aws_iam_policy_document.assume_role.json\n}}\n"
        ),
    );
    let plan = stack.plan_json();
    let acts = actions(&plan);
    assert_eq!(
        acts.get("aws_iot_role_alias.alias").map(Vec::as_slice),
        Some(&["update".to_string()][..]),
        "{acts:?}"
    );
    stack.apply();
    let other_arn = role_arn(&other).await;
    assert_eq!(role_alias(ALIAS).await, Some((other_arn, 7200)));
    assert_no_changes(&stack);

    // Import by alias after forgetting it.
    let dir = stack.path().display().to_string();
    stack.ok_in(&["state", "rm", "aws_iot_role_alias.alias", "-dir", &dir]);
    stack.ok_in(&["import", "aws_iot_role_alias.alias", ALIAS, &dir]);
    assert_no_changes(&stack);

    stack.destroy();
    assert_eq!(role_alias(ALIAS).await, None);
}

#[tokio::test]
async fn iot_role_alias_rejects_a_credential_duration_out_of_range() {
    let alias = unique("tf-alias");
    let stack = TestStack::new(&format!(
        r#"resource "aws_iot_role_alias" "a" {{
  alias               = "{alias}"
  role_arn            = "arn:aws:iam::123456789012:role/none"
  credential_duration = 60
}}
"#
    ));
    let out = stack.run(&["apply", "-auto-approve"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("between 900 and 43200"), "{err}");
    assert_eq!(role_alias(&alias).await, None);
}

/// moto (5.2.5) implements neither SetV2LoggingOptions nor GetV2LoggingOptions: the apply
/// fails with thingform's NotSupported message and records nothing. The full cycle
/// (create, read back, no-op plan, update, destroy leaving the setting) needs an endpoint
/// that implements v2 logging.
#[tokio::test]
async fn iot_logging_options_docs_example_reports_that_moto_lacks_v2_logging() {
    let role = unique("tf-iot-logging");
    let stack = TestStack::new(LOGGING_OPTIONS_EXAMPLE);
    stack.write(
        "role.tf",
        &format!(
            "resource \"aws_iam_role\" \"example\" {{\n  name               = \"{role}\"\n  assume_role_policy = {}\n}}\n",
            assume_role("iot.amazonaws.com")
        ),
    );
    stack.ok(&["validate"]);
    let plan = stack.plan_json();
    assert_eq!(
        actions(&plan)
            .get("aws_iot_logging_options.example")
            .map(Vec::as_slice),
        Some(&["create".to_string()][..])
    );
    let out = stack.run(&["apply", "-auto-approve"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("SetV2LoggingOptions"), "{err}");
    assert!(err.contains("not supported by this endpoint"), "{err}");
    // Nothing recorded (the failed create's journaled intent stays until the next plan
    // looks for the object, as its answer might have been lost).
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(stack.state_path()).unwrap()).unwrap();
    assert!(
        state["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["type"] != "aws_iot_logging_options"),
        "{state}"
    );
    stack.destroy();
}
