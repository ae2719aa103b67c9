//! The compatibility corpus: configurations taken unchanged from the Terraform AWS
//! provider's documentation and acceptance tests (`tests/corpus/*/main.tf`; origins in
//! `tests/corpus/SOURCES.md`, results in `RESULTS.md`). Every entry `expected.json` marks
//! "pass" is validated, applied, checked through the SDK (each object the apply made
//! exists; after destroy it is gone), re-planned as a no-op and destroyed. An entry
//! marked "fail: ..." must still fail (when it starts passing, mark it "pass").

use crate::harness::*;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Whether the object of type `rtype` with id `id` exists in the emulator, or None for
/// a type whose existence is covered by its parent's (attachments, settings).
async fn exists(rtype: &str, id: &str) -> Option<bool> {
    let some = |b: bool| Some(b);
    match rtype {
        "aws_s3_bucket" => some(found(s3().await.head_bucket().bucket(id).send().await).is_some()),
        "aws_sns_topic" => some(
            found(
                sns()
                    .await
                    .get_topic_attributes()
                    .topic_arn(id)
                    .send()
                    .await,
            )
            .is_some(),
        ),
        "aws_dynamodb_table" => some(
            found(
                dynamodb()
                    .await
                    .describe_table()
                    .table_name(id)
                    .send()
                    .await,
            )
            .is_some(),
        ),
        "aws_iot_thing" => {
            some(found(iot().await.describe_thing().thing_name(id).send().await).is_some())
        }
        "aws_iot_thing_type" => some(
            found(
                iot()
                    .await
                    .describe_thing_type()
                    .thing_type_name(id)
                    .send()
                    .await,
            )
            .is_some(),
        ),
        "aws_iot_thing_group" => some(
            found(
                iot()
                    .await
                    .describe_thing_group()
                    .thing_group_name(id)
                    .send()
                    .await,
            )
            .is_some(),
        ),
        "aws_iot_policy" => {
            some(found(iot().await.get_policy().policy_name(id).send().await).is_some())
        }
        "aws_iot_certificate" => some(
            found(
                iot()
                    .await
                    .describe_certificate()
                    .certificate_id(id)
                    .send()
                    .await,
            )
            .is_some(),
        ),
        "aws_iot_topic_rule" => {
            some(found(iot().await.get_topic_rule().rule_name(id).send().await).is_some())
        }
        "aws_iot_role_alias" => some(
            found(
                iot()
                    .await
                    .describe_role_alias()
                    .role_alias(id)
                    .send()
                    .await,
            )
            .is_some(),
        ),
        "aws_iam_role" => some(found(iam().await.get_role().role_name(id).send().await).is_some()),
        "aws_iam_policy" => {
            some(found(iam().await.get_policy().policy_arn(id).send().await).is_some())
        }
        "aws_lambda_function" => {
            some(found(lambda().await.get_function().function_name(id).send().await).is_some())
        }
        "aws_cloudwatch_metric_alarm" => some(
            !cloudwatch()
                .await
                .describe_alarms()
                .alarm_names(id)
                .send()
                .await
                .unwrap()
                .metric_alarms()
                .is_empty(),
        ),
        "aws_cloudwatch_log_group" => some(
            logs()
                .await
                .describe_log_groups()
                .log_group_name_prefix(id)
                .send()
                .await
                .unwrap()
                .log_groups()
                .iter()
                .any(|g| g.log_group_name() == Some(id)),
        ),
        _ => None,
    }
}

/// (type, id) of every managed object the state tracks (what to look for in the
/// emulator; the check itself goes through the SDK).
fn tracked(stack: &TestStack) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(stack.state_path()).unwrap_or_default();
    let state: Json = serde_json::from_str(&text).unwrap_or(Json::Null);
    state["resources"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter(|r| r["mode"] == "managed")
                .filter_map(|r| {
                    Some((
                        r["type"].as_str()?.to_string(),
                        r["attributes"]["id"].as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn copy_entry(dir: &Path) -> TestStack {
    let stack = TestStack::new("");
    std::fs::remove_file(stack.path().join("main.tf")).unwrap();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_file() {
            std::fs::copy(e.path(), stack.path().join(e.file_name())).unwrap();
        }
    }
    stack
}

/// Runs one entry; Err holds the step that failed (validate, apply, plan, destroy, or
/// check for what the SDK saw) and everything the run printed.
async fn run_entry(dir: &Path) -> Result<(), (String, String)> {
    let stack = copy_entry(dir);
    let step = |args: &[&str]| {
        let out = stack.run(args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let name = args[0].to_string();
        match out.status.code() {
            Some(0) => Ok(text),
            _ => Err((name, text)),
        }
    };
    let cleanup = || {
        let _ = stack.run(&["destroy", "-auto-approve"]);
    };
    step(&["validate"])?;
    let applied = step(&["apply", "-auto-approve"]);
    let objects = tracked(&stack);
    if let Err(e) = applied {
        cleanup();
        return Err(e);
    }
    for (rtype, id) in &objects {
        if exists(rtype, id).await == Some(false) {
            cleanup();
            return Err((
                "check".into(),
                format!("{rtype} {id} is not in the emulator after apply"),
            ));
        }
    }
    if let Err(e) = step(&["plan", "-detailed-exitcode"]) {
        cleanup();
        return Err(e);
    }
    step(&["destroy", "-auto-approve"])?;
    for (rtype, id) in &objects {
        if exists(rtype, id).await == Some(true) {
            return Err((
                "check".into(),
                format!("{rtype} {id} is still in the emulator after destroy"),
            ));
        }
    }
    Ok(())
}

#[tokio::test]
async fn provider_documentation_corpus() {
    let expected_path = corpus_dir().join("expected.json");
    let Ok(text) = std::fs::read_to_string(&expected_path) else {
        panic!("{} is missing", expected_path.display());
    };
    let expected: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&text).expect("expected.json: {\"dir\": \"pass\" | \"fail: why\"}");
    assert!(!expected.is_empty());
    let mut wrong = vec![];
    let (mut passed, mut failed) = (0, 0);
    // One after another: entries reuse the documentation's names.
    for (entry, want) in &expected {
        let dir = corpus_dir().join(entry);
        assert!(dir.is_dir(), "{entry} listed in expected.json but missing");
        let got = run_entry(&dir).await;
        // "fail: STEP: TEXT": the same step fails, and its output says TEXT.
        let recorded = want
            .strip_prefix("fail: ")
            .map(|r| r.split_once(": ").unwrap_or((r, "")));
        match (&got, recorded) {
            (Ok(()), None) => passed += 1,
            (Err((step, text)), Some((want_step, want_text)))
                if step == want_step && text.contains(want_text) =>
            {
                failed += 1
            }
            (Ok(()), Some(_)) => wrong.push(format!(
                "{entry}: now passes (recorded: {want}); mark it \"pass\" in expected.json and RESULTS.md"
            )),
            (Err((step, text)), _) => wrong.push(format!(
                "{entry}: {step} failed (recorded: {want}):\n{}",
                text.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
            )),
        }
    }
    eprintln!(
        "corpus: {passed} of {} pass, {failed} fail as recorded in tests/corpus/RESULTS.md",
        expected.len()
    );
    assert!(
        wrong.is_empty(),
        "corpus entries off their record:\n{}",
        wrong.join("\n")
    );
}
