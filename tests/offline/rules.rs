//! Topic rules checked and evaluated offline: invalid SQL, topic filters and substitution
//! templates are errors at the argument's file:line in `validate` and `plan`; `rule test`
//! evaluates a rule of the campus stack on one message.

use crate::harness::*;
use std::path::PathBuf;

const RULE: &str = r#"resource "aws_iot_topic_rule" "r" {
  name        = "r"
  enabled     = true
  sql         = "SELECT * FROM 'sensors/+/data'"
  sql_version = "2016-03-23"

  republish {
    topic    = "out/$${topic(2)}"
    role_arn = "arn:aws:iam::123456789012:role/r"
  }
}
"#;

#[test]
fn invalid_sql_topic_filters_and_templates_are_errors_at_their_line() {
    let ok = TestStack::new(RULE);
    ok.ok(&["validate"]);

    let bad_sql = TestStack::new(&RULE.replace("SELECT * FROM", "SELECT * FRM"));
    let out = bad_sql.run(&["validate"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("main.tf:4:3")
            && err.contains("invalid IoT SQL")
            && err.contains("expected FROM"),
        "{err}"
    );

    let bad_filter = TestStack::new(&RULE.replace("sensors/+/data", "sensors/a+/data"));
    let err = stderr(&bad_filter.run(&["validate"]));
    assert!(
        err.contains("main.tf:4:3") && err.contains("must be a whole level"),
        "{err}"
    );

    let bad_template = TestStack::new(&RULE.replace("$${topic(2)}", "$${topic(2}"));
    let err = stderr(&bad_template.run(&["validate"]));
    assert!(
        err.contains("main.tf:8:5")
            && err.contains("republish.topic")
            && err.contains("substitution template"),
        "{err}"
    );

    let bad_version = TestStack::new(&RULE.replace("2016-03-23", "2016-01-01"));
    let err = stderr(&bad_version.run(&["validate"]));
    assert!(
        err.contains("main.tf:5:3") && err.contains("not an AWS IoT SQL version"),
        "{err}"
    );

    // plan refuses before reading anything from AWS (the harness fails on a connection).
    let out = bad_sql.run(&["plan"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("main.tf:4:3"), "{}", stderr(&out));
}

fn campus() -> TestStack {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    TestStack::copy_of(&repo.join("stacks/campus"))
}

#[test]
fn rule_test_evaluates_a_campus_rule_and_its_actions() {
    let stack = campus();
    stack.write("hot.json", r#"{"temp": 39.5, "humidity": 40}"#);
    let payload = stack.path().join("hot.json").display().to_string();
    let out = stack.ok(&[
        "rule",
        "test",
        "aws_iot_topic_rule.ingest",
        "-topic",
        "sensors/campus/node-01/environment",
        "-payload",
        &payload,
        "-var",
        "env=dev",
        "-json",
    ]);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["matched"], true);
    assert_eq!(r["output"]["device_id"], "node-01");
    assert_eq!(r["output"]["temp"], 39.5);
    assert!(r["output"]["ts"].as_i64().unwrap() > 1_700_000_000_000);
    let actions = r["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 2, "{out}");
    assert_eq!(actions[0]["type"], "lambda");
    assert!(
        actions[0]["function_arn"]
            .as_str()
            .unwrap()
            .ends_with(":function:dev-campus-ingest")
    );
    assert_eq!(actions[0]["event"], r["output"]);
    assert_eq!(actions[1]["type"], "s3");
    let key = actions[1]["key"].as_str().unwrap();
    assert!(
        key.starts_with("raw/node-01/20") && key.ends_with(".json"),
        "{key}"
    );
    assert_eq!(r["error_action"]["type"], "cloudwatch_logs");

    // The heat alert's WHERE (temp > 38 by default) holds for 39.5, not for 20.
    let hot = stack.ok(&[
        "rule",
        "test",
        "aws_iot_topic_rule.heat_alert",
        "-topic",
        "sensors/campus/node-01/environment",
        "-payload",
        r#"{"temp": 39.5}"#,
        "-var",
        "env=dev",
    ]);
    assert!(
        hot.contains("MATCHED") && hot.contains("sns") && hot.contains("message = "),
        "{hot}"
    );
    let mild = stack.ok(&[
        "rule",
        "test",
        "aws_iot_topic_rule.heat_alert",
        "-topic",
        "sensors/campus/node-01/environment",
        "-payload",
        r#"{"temp": 20}"#,
        "-var",
        "env=dev",
    ]);
    assert!(mild.contains("NOT MATCHED: its WHERE clause"), "{mild}");
    let elsewhere = stack.ok(&[
        "rule",
        "test",
        "aws_iot_topic_rule.heat_alert",
        "-topic",
        "sensors/lab/node-01/environment",
        "-payload",
        r#"{"temp": 45}"#,
        "-var",
        "env=dev",
    ]);
    assert!(
        elsewhere.contains("does not match its FROM topic filter"),
        "{elsewhere}"
    );

    let out = stack.run(&[
        "rule",
        "test",
        "aws_sns_topic.alerts",
        "-topic",
        "a/b",
        "-payload",
        "{}",
        "-var",
        "env=dev",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not a topic rule"),
        "{}",
        stderr(&out)
    );
    let out = stack.run(&[
        "rule",
        "test",
        "aws_iot_topic_rule.ingest",
        "-topic",
        "a/+",
        "-payload",
        "{}",
        "-var",
        "env=dev",
    ]);
    assert!(stderr(&out).contains("wildcard"), "{}", stderr(&out));
}

#[test]
fn test_files_are_checked_before_anything_runs() {
    let none = TestStack::new(RULE);
    let out = none.ok(&["test"]);
    assert!(out.contains("No test files found"), "{out}");
    let missing = none.run(&["test", "-filter=tests/none.tftest.hcl"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("no such test file"),
        "{}",
        stderr(&missing)
    );

    let bad = TestStack::new(RULE);
    std::fs::create_dir_all(bad.path().join("tests")).unwrap();
    bad.write(
        "tests/bad.tftest.hcl",
        "run \"deploy\" {\n  comand = apply\n}\n\nrun \"deploy\" {\n  publish \"p\" {\n    topic = \"a/b\"\n  }\n}\n",
    );
    // Refused before any AWS call: the harness's endpoint fails the test on a connection.
    let out = bad.run(&["test"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("tests/bad.tftest.hcl:2:3") && err.contains("Did you mean \"command\"?"),
        "{err}"
    );
    assert!(
        err.contains("tests/bad.tftest.hcl:5:1") && err.contains("Duplicate run block"),
        "{err}"
    );
    assert!(
        err.contains("tests/bad.tftest.hcl:6:3") && err.contains("needs topic"),
        "{err}"
    );
    assert!(
        !bad.path().join(".thingform").exists(),
        "a refused test file wrote state"
    );
    let xml = bad.path().join("results.xml");
    let out = bad.run(&["test", &format!("-junit-xml={}", xml.display())]);
    assert_eq!(out.status.code(), Some(1));
    let xml = std::fs::read_to_string(xml).expect("the JUnit file is written");
    assert!(
        xml.contains("<testsuite name=\"tests/bad.tftest.hcl\" tests=\"0\"")
            && xml.contains("Duplicate run block"),
        "{xml}"
    );
}
