//! `thingform test`: test files run against the emulator, their publishes performed
//! through it, and everything they made destroyed. What landed and what is left is
//! checked through the SDK, never through thingform's output alone. (moto stores topic
//! rules but never runs them: matching and routing are thingform's; every write an
//! action makes reaches the emulator.)

use crate::harness::*;

fn stack(prefix: &str, rule_infix: &str) -> String {
    format!(
        r#"variable "log_group" {{
  type = string
}}

variable "threshold" {{
  type    = number
  default = 30
  validation {{
    condition     = var.threshold > 0
    error_message = "threshold must be positive."
  }}
}}

resource "aws_dynamodb_table" "events" {{
  name         = "{prefix}-events"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "device"
  range_key    = "ts"
  attribute {{
    name = "device"
    type = "S"
  }}
  attribute {{
    name = "ts"
    type = "N"
  }}
}}

resource "aws_iam_role" "rule" {{
  name               = "{prefix}-rule"
  assume_role_policy = {trust}
}}

resource "aws_iot_topic_rule" "route" {{
  name        = "{rule_infix}_route"
  enabled     = true
  sql         = "SELECT *, topic(2) AS device FROM 'plant/+/telemetry'"
  sql_version = "2016-03-23"

  dynamodb {{
    table_name      = aws_dynamodb_table.events.name
    role_arn        = aws_iam_role.rule.arn
    hash_key_field  = "device"
    hash_key_value  = "$${{topic(2)}}"
    range_key_field = "ts"
    range_key_value = "$${{timestamp()}}"
    range_key_type  = "NUMBER"
    payload_field   = "reading"
  }}

  cloudwatch_metric {{
    metric_namespace = "{prefix}"
    metric_name      = "temp"
    metric_value     = "$${{temp}}"
    metric_unit      = "None"
    role_arn         = aws_iam_role.rule.arn
  }}

  republish {{
    topic    = "alerts/$${{topic(2)}}"
    role_arn = aws_iam_role.rule.arn
  }}
}}

resource "aws_iot_topic_rule" "alerts" {{
  name        = "{rule_infix}_alerts"
  enabled     = true
  sql         = "SELECT device, temp FROM 'alerts/+' WHERE temp > ${{var.threshold}}"
  sql_version = "2016-03-23"

  cloudwatch_logs {{
    log_group_name = var.log_group
    role_arn       = aws_iam_role.rule.arn
  }}
}}

resource "aws_iot_topic_rule" "echo" {{
  name        = "{rule_infix}_echo"
  enabled     = true
  sql         = "SELECT * FROM 'echo/#'"
  sql_version = "2016-03-23"

  republish {{
    topic    = "echo/again"
    role_arn = aws_iam_role.rule.arn
  }}
}}

check "threshold_is_sane" {{
  assert {{
    condition     = var.threshold < 100
    error_message = "a threshold of 100 C or more never fires."
  }}
}}

output "table" {{
  value = aws_dynamodb_table.events.name
}}
"#,
        trust = assume_role("iot.amazonaws.com"),
    )
}

const PASSING: &str = r#"
variables {
  threshold = 35
}

run "deploy" {
  assert {
    condition     = output.table == "${var.prefix}-events" && aws_iot_topic_rule.route.enabled
    error_message = "the table is ${output.table}"
  }
}

run "telemetry_is_stored_measured_and_alerted" {
  command = plan

  publish "hot" {
    topic    = "plant/p7/telemetry"
    payload  = { temp = 41.5, unit = "C" }
    clientid = "p7"
  }

  assert {
    condition     = publish.hot.dynamodb[0].status == "performed" && publish.hot.dynamodb[0].item.reading.temp == 41.5
    error_message = "the reading was not stored: ${jsonencode(publish.hot.dynamodb)}"
  }

  assert {
    condition     = length(publish.hot.messages) == 2 && publish.hot.messages[1].topic == "alerts/p7" && contains(publish.hot.messages[1].matched, "aws_iot_topic_rule.alerts")
    error_message = "the republished alert did not reach the alerts rule: ${jsonencode(publish.hot.messages)}"
  }

  assert {
    condition     = anytrue([for a in publish.hot.actions : a.type == "cloudwatch_logs" && a.status == "performed" && a.depth == 1])
    error_message = "the alert was not logged: ${jsonencode(publish.hot.actions)}"
  }
}

run "a_cool_reading_raises_no_alert" {
  command = plan

  publish "cool" {
    topic   = "plant/p8/telemetry"
    payload = { temp = 20 }
  }

  assert {
    condition     = length(publish.cool.messages) == 2 && length(publish.cool.messages[1].matched) == 0 && length(publish.cool.cloudwatch_logs) == 0
    error_message = "a 20 C reading must not be logged as an alert"
  }
}

run "a_republish_loop_is_stopped" {
  command = plan

  publish "loop" {
    topic   = "echo/start"
    payload = "ping"
  }

  assert {
    condition     = length(publish.loop.errors) == 1 && strcontains(publish.loop.errors[0].error, "loop") && length(publish.loop.messages) == 9
    error_message = "the loop guard did not stop the echo rule: ${jsonencode(publish.loop.errors)}"
  }
}

run "a_negative_threshold_is_refused" {
  command = plan

  variables {
    threshold = -1
  }

  expect_failures = [var.threshold]
}

run "an_absurd_threshold_fails_its_check" {
  command = plan

  variables {
    threshold = 150
  }

  expect_failures = [check.threshold_is_sane]
}
"#;

const FAILING: &str = r#"
run "deploy" {
  assert {
    condition     = output.table == "not-this-name"
    error_message = "the table is named ${output.table}"
  }
}

run "expects_a_failure_that_does_not_come" {
  command = plan

  expect_failures = [var.threshold]
}
"#;

#[tokio::test]
async fn test_files_run_publish_through_the_rules_and_clean_up() {
    let prefix = unique("tt");
    let infix = prefix.replace('-', "_");
    let group = format!("/{prefix}/alerts");
    let logs = logs().await;
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .expect("create the alert log group");
    let s = TestStack::new(&stack(&prefix, &infix));
    std::fs::create_dir_all(s.path().join("tests")).unwrap();
    s.write(
        "tests/pipeline.tftest.hcl",
        &format!(
            "variables {{\n  prefix    = \"{prefix}\"\n  log_group = \"{group}\"\n}}\n{PASSING}"
        ),
    );
    s.write(
        "tests/fails.tftest.hcl",
        &format!("variables {{\n  log_group = \"{group}\"\n}}\n{FAILING}"),
    );
    // The variable `prefix` is the test files' own (the stack has none): it only names
    // things in assertions. The stack's names come from the literal prefix.
    let junit = s.path().join("junit.xml");
    let out = s.run(&[
        "test",
        "-json",
        "-filter=tests/pipeline.tftest.hcl",
        &format!("-junit-xml={}", junit.display()),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "test -json is not JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        out.status.success(),
        "the passing file failed:\n{}",
        serde_json::to_string_pretty(&report).unwrap()
    );
    let runs = &report["files"][0]["runs"];
    let statuses: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["pass"; 6], "{report:#}");
    assert_eq!(report["passed"], 6);
    let xml = std::fs::read_to_string(&junit).expect("the JUnit file");
    assert_eq!(xml.matches("<testcase ").count(), 6, "{xml}");
    assert!(
        !xml.contains("<failure") && !xml.contains("<error"),
        "{xml}"
    );

    // What the publish wrote is in the emulator: the metric and the alert's log event.
    let metrics = cloudwatch()
        .await
        .list_metrics()
        .namespace(&prefix)
        .send()
        .await
        .expect("list metrics");
    let names: Vec<_> = metrics
        .metrics()
        .iter()
        .filter_map(|m| m.metric_name())
        .collect();
    assert!(
        names.contains(&"temp"),
        "no temp metric in {prefix}: {names:?}"
    );
    let events = logs
        .filter_log_events()
        .log_group_name(&group)
        .send()
        .await
        .expect("read the alert log");
    let messages: Vec<_> = events.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(
        messages.len(),
        1,
        "one alert (41.5 C), none for 20 C: {messages:?}"
    );
    let alert: serde_json::Value = serde_json::from_str(messages[0]).expect("a JSON alert");
    assert_eq!(alert["device"], "p7");
    assert_eq!(alert["temp"], 41.5);

    // And what the runs deployed is gone.
    let gone = found(
        dynamodb()
            .await
            .describe_table()
            .table_name(format!("{prefix}-events"))
            .send()
            .await,
    );
    assert!(gone.is_none(), "the test's table was left behind");
    for rule in ["route", "alerts", "echo"] {
        let r = found(
            iot()
                .await
                .get_topic_rule()
                .rule_name(format!("{infix}_{rule}"))
                .send()
                .await,
        );
        assert!(r.is_none(), "topic rule {rule} was left behind");
    }
    let role = found(
        iam()
            .await
            .get_role()
            .role_name(format!("{prefix}-rule"))
            .send()
            .await,
    );
    assert!(role.is_none(), "the role was left behind");

    // A failing file: exit 1, the assertion's message at its line, a missing expected
    // failure named, and its objects destroyed all the same.
    let out = s.run(&["test", "-filter=tests/fails.tftest.hcl"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("run \"deploy\"... fail"), "{stdout}");
    assert!(
        stderr.contains("Test assertion failed")
            && stderr.contains(&format!("the table is named {prefix}-events"))
            && stderr.contains("fails.tftest.hcl:7"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Missing expected failure") && stderr.contains("var.threshold"),
        "{stderr}"
    );
    assert!(stdout.contains("Failure! 0 passed, 2 failed."), "{stdout}");
    let gone = found(
        dynamodb()
            .await
            .describe_table()
            .table_name(format!("{prefix}-events"))
            .send()
            .await,
    );
    assert!(gone.is_none(), "the failing file's table was left behind");
    assert!(
        !s.path().join(".thingform").exists(),
        "the tests wrote into the stack's own state directory"
    );
    logs.delete_log_group()
        .log_group_name(&group)
        .send()
        .await
        .expect("delete the alert log group");
}

#[tokio::test]
async fn campus_pipeline_test_runs_the_ingest_lambda_locally() {
    require_cargo_lambda("build the campus ingest Lambda");
    let _turn = crate::campus::CAMPUS.lock().await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = thingform(
        &["test".into(), "-json".into(), "stacks/campus".into()],
        root,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "test -json is not JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "{report:#}");
    assert_eq!(report["passed"], 4, "{report:#}");
    let runs = report["files"][0]["runs"].as_array().unwrap();
    let reading = &runs[1]["publish"][0]["result"];
    let lambda = &reading["lambda"][0];
    assert_eq!(lambda["status"], "performed", "{lambda:#}");
    assert_eq!(lambda["response"]["status"], "stored", "{lambda:#}");
    let hot = &runs[2]["publish"][0]["result"];
    assert_eq!(hot["sns"][0]["status"], "performed", "{hot:#}");
    // Everything the test deployed (env = "staging") is gone.
    let tables = dynamodb().await.list_tables().send().await.unwrap();
    assert!(
        !tables
            .table_names()
            .iter()
            .any(|t| t == "staging-campus-readings"),
        "{:?}",
        tables.table_names()
    );
    let f = found(
        lambda_client()
            .await
            .get_function()
            .function_name("staging-campus-ingest")
            .send()
            .await,
    );
    assert!(f.is_none(), "the ingest function was left behind");
}

async fn lambda_client() -> aws_sdk_lambda::Client {
    crate::harness::lambda().await
}
