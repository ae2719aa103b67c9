//! Working as a team: remote state in S3 with locking, lost-update protection, errored
//! state recovery, state commands, import blocks and refresh-only plans.

use crate::harness::*;

fn s3_backend(bucket: &str, extra: &str) -> String {
    format!(
        "terraform {{\n  backend \"s3\" {{\n    bucket = \"{bucket}\"\n    key    = \"campus/terraform.tfstate\"\n    region = \"eu-west-1\"\n{extra}  }}\n}}\n"
    )
}

async fn remote_state(bucket: &str, key: &str) -> Option<serde_json::Value> {
    let o = found(s3().await.get_object().bucket(bucket).key(key).send().await)?;
    serde_json::from_slice(&o.body.collect().await.unwrap().into_bytes()).ok()
}

fn topics(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("resource \"aws_sns_topic\" \"t{i}\" {{\n  name = \"{prefix}-{i}\"\n}}\n"))
        .collect()
}

#[tokio::test]
async fn two_concurrent_applies_on_one_s3_backend_exactly_one_proceeds() {
    let bucket = state_bucket().await;
    let p = unique("tf-conc");
    // Two checkouts of the same stack, one backend.
    let a = TestStack::new(&format!("{}{}", s3_backend(&bucket, ""), topics(&p, 40)));
    let b = TestStack::new(&format!("{}{}", s3_backend(&bucket, ""), topics(&p, 40)));
    let spawn = |s: &TestStack| {
        std::process::Command::new(env!("CARGO_BIN_EXE_thingform"))
            .args(["apply", "-auto-approve"])
            .arg(s.path())
            .current_dir(s.path())
            .env("AWS_ENDPOINT_URL", endpoint())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", REGION)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (ca, cb) = (spawn(&a), spawn(&b));
    let (oa, ob) = (
        ca.wait_with_output().unwrap(),
        cb.wait_with_output().unwrap(),
    );
    let results = [
        (
            oa.status.success(),
            String::from_utf8_lossy(&oa.stderr).to_string(),
        ),
        (
            ob.status.success(),
            String::from_utf8_lossy(&ob.stderr).to_string(),
        ),
    ];
    let ok = results.iter().filter(|(s, _)| *s).count();
    assert_eq!(ok, 1, "exactly one apply proceeds: {results:?}");
    let loser = &results.iter().find(|(s, _)| !*s).unwrap().1;
    assert!(
        loser.contains("the state is locked")
            && loser.contains("Operation: apply")
            && loser.contains("Lock ID:"),
        "{loser}"
    );
    assert!(
        loser.contains(&format!("s3://{bucket}/campus/terraform.tfstate")),
        "names the state: {loser}"
    );
    let st = remote_state(&bucket, "campus/terraform.tfstate")
        .await
        .expect("state in S3");
    assert_eq!(st["resources"].as_array().unwrap().len(), 40);
    assert!(
        s3().await
            .head_object()
            .bucket(&bucket)
            .key("campus/terraform.tfstate.tflock")
            .send()
            .await
            .not_found(),
        "lock released"
    );
    // The second checkout sees the first one's work: nothing to do.
    assert!(changed(&b.plan_json()).is_empty());
    b.destroy();
}

#[tokio::test]
async fn workspaces_on_s3_are_separate_objects() {
    let bucket = state_bucket().await;
    let p = unique("tf-ws");
    let stack = TestStack::new(&format!(
        "{}variable \"env\" {{}}\nresource \"aws_sns_topic\" \"t\" {{\n  name = \"{p}-${{terraform.workspace}}-${{var.env}}\"\n}}\n",
        s3_backend(&bucket, "")
    ));
    stack.ok(&["apply", "-auto-approve", "-w", "dev", "-var", "env=dev"]);
    stack.ok(&[
        "apply",
        "-auto-approve",
        "-w",
        "staging",
        "-var",
        "env=staging",
    ]);
    let dev = remote_state(&bucket, "env:/dev/campus/terraform.tfstate")
        .await
        .expect("dev state object");
    let staging = remote_state(&bucket, "env:/staging/campus/terraform.tfstate")
        .await
        .expect("staging state object");
    assert_eq!(
        dev["resources"][0]["attributes"]["name"],
        format!("{p}-dev-dev")
    );
    assert_eq!(
        staging["resources"][0]["attributes"]["name"],
        format!("{p}-staging-staging")
    );
    stack.ok(&["destroy", "-auto-approve", "-w", "dev", "-var", "env=dev"]);
    let names: Vec<String> = sns()
        .await
        .list_topics()
        .send()
        .await
        .unwrap()
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .map(str::to_string)
        .collect();
    assert!(
        !names.iter().any(|n| n.ends_with(&format!("{p}-dev-dev"))),
        "dev destroyed"
    );
    assert!(
        names
            .iter()
            .any(|n| n.ends_with(&format!("{p}-staging-staging"))),
        "staging untouched"
    );
    stack.ok(&[
        "destroy",
        "-auto-approve",
        "-w",
        "staging",
        "-var",
        "env=staging",
    ]);
}

#[tokio::test]
async fn a_failed_remote_write_leaves_an_errored_state_that_state_push_restores() {
    let bucket = state_bucket().await;
    let p = unique("tf-err");
    let stack = TestStack::new(&format!("{}{}", s3_backend(&bucket, ""), topics(&p, 3)));
    // Writes: 1 = the refreshed state at the start, 2 = the journal entry of the first
    // create, 3 = its result. From the 3rd on, every remote write fails (S3 unreachable).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_thingform"))
        .args(["apply", "-auto-approve", "-parallelism=1"])
        .arg(stack.path())
        .current_dir(stack.path())
        .env("AWS_ENDPOINT_URL", endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .env("THINGFORM_FAULT_STATE_WRITE", "3+")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("errored.tfstate.json") && err.contains("state push"),
        "{err}"
    );
    let errored = stack.path().join("errored.tfstate.json");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&errored).unwrap()).unwrap();
    let tracked = saved["resources"].as_array().unwrap().len();
    assert_eq!(
        tracked, 1,
        "the errored file tracks the object created before the failure"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not started"),
        "nothing new starts once state cannot be saved"
    );
    let remote = remote_state(&bucket, "campus/terraform.tfstate")
        .await
        .unwrap();
    assert!(
        remote["resources"].as_array().unwrap().len() < tracked,
        "the remote copy is behind"
    );

    stack.ok_in(&["state", "push", errored.to_str().unwrap()]);
    let remote = remote_state(&bucket, "campus/terraform.tfstate")
        .await
        .unwrap();
    assert_eq!(
        remote["resources"].as_array().unwrap().len(),
        tracked,
        "state push restored it"
    );
    // Nothing is created twice: the next apply only adds what never got created.
    let plan = stack.plan_json();
    assert_eq!(changed(&plan).len(), 3 - tracked);
    stack.apply();
    stack.destroy();
}

#[tokio::test]
async fn state_push_refuses_an_older_serial_or_another_lineage() {
    let p = unique("tf-push");
    let stack = TestStack::new(&topics(&p, 1));
    stack.apply();
    let old = std::fs::read_to_string(stack.state_path()).unwrap();
    std::fs::write(stack.path().join("old.json"), &old).unwrap();
    stack.write("main.tf", &topics(&p, 2));
    stack.apply();
    let push = |file: &str, force: bool| {
        let mut args = vec![
            "state".to_string(),
            "push".into(),
            stack.path().join(file).display().to_string(),
            "-dir".into(),
            stack.path().display().to_string(),
        ];
        if force {
            args.push("-force".into());
        }
        thingform(&args, stack.path())
    };
    let out = push("old.json", false);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("older than the stored state"));
    let mut other: serde_json::Value = serde_json::from_str(&old).unwrap();
    other["lineage"] = "another".into();
    other["serial"] = 999.into();
    std::fs::write(stack.path().join("other.json"), other.to_string()).unwrap();
    let out = push("other.json", false);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("another state"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        push("old.json", true).status.success(),
        "-force pushes anyway"
    );
    stack.write("main.tf", &topics(&p, 2));
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan).len(),
        1,
        "the pushed state is what plan sees now"
    );
    let pulled = stack.ok_in(&["state", "pull"]);
    assert!(pulled.contains("\"lineage\""));
    // Clean up: re-import the topic the old state forgot, then destroy.
    stack.apply();
    stack.destroy();
}

#[tokio::test]
async fn state_mv_after_renaming_a_resource_gives_a_no_op_plan() {
    let p = unique("tf-mv");
    let stack = TestStack::new(&format!(
        "resource \"aws_sns_topic\" \"old\" {{\n  count = 2\n  name = \"{p}-${{count.index}}\"\n}}\n"
    ));
    stack.apply();
    stack.write("main.tf", &format!("resource \"aws_sns_topic\" \"alerts\" {{\n  count = 2\n  name = \"{p}-${{count.index}}\"\n}}\n"));
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan).len(),
        4,
        "without mv: 2 deletes and 2 creates"
    );
    let dir = stack.path().display().to_string();
    stack.ok_in(&[
        "state",
        "mv",
        "aws_sns_topic.old",
        "aws_sns_topic.alerts",
        "-dir",
        &dir,
    ]);
    let plan = stack.plan_json();
    assert!(
        changed(&plan).is_empty(),
        "no-op after state mv: {:?}",
        changed(&plan)
    );
    stack.ok_in(&["state", "rm", "aws_sns_topic.alerts[1]", "-dir", &dir]);
    let listed = stack.ok_in(&["state", "list", "-dir", &dir]);
    assert_eq!(listed.trim(), "aws_sns_topic.alerts[0]");
    assert!(
        sns()
            .await
            .list_topics()
            .send()
            .await
            .unwrap()
            .topics()
            .iter()
            .any(|t| t.topic_arn().unwrap().ends_with(&format!("{p}-1"))),
        "state rm leaves AWS alone"
    );
    stack.write("main.tf", &format!("resource \"aws_sns_topic\" \"alerts\" {{\n  count = 1\n  name = \"{p}-${{count.index}}\"\n}}\n"));
    stack.destroy();
    sns()
        .await
        .delete_topic()
        .topic_arn(format!("arn:aws:sns:eu-west-1:123456789012:{p}-1"))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn import_blocks_adopt_existing_objects_in_the_plan() {
    let p = unique("tf-impb");
    let arn = sns()
        .await
        .create_topic()
        .name(&p)
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_string();
    let stack = TestStack::new(&format!(
        "import {{\n  to = aws_sns_topic.t\n  id = \"{arn}\"\n}}\nresource \"aws_sns_topic\" \"t\" {{\n  name = \"{p}\"\n  display_name = \"adopted\"\n}}\n"
    ));
    let plan = stack.plan_json();
    let rc = &plan["resource_changes"][0];
    assert_eq!(rc["change"]["importing"]["id"], arn.as_str());
    assert_eq!(
        rc["change"]["actions"],
        serde_json::json!(["update"]),
        "imported, then updated to match the config"
    );
    let human = stack.ok(&["plan"]);
    assert!(human.contains("1 to import"), "{human}");
    stack.apply();
    let attrs = sns()
        .await
        .get_topic_attributes()
        .topic_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(attrs.attributes().unwrap()["DisplayName"], "adopted");
    assert!(
        changed(&stack.plan_json()).is_empty(),
        "no-op once imported"
    );
    stack.destroy();
}

#[tokio::test]
async fn refresh_only_accepts_drift_into_the_state() {
    let p = unique("tf-ro");
    let stack = TestStack::new(&format!(
        "resource \"aws_sns_topic\" \"t\" {{\n  name = \"{p}\"\n}}\n"
    ));
    stack.apply();
    let arn = sns()
        .await
        .list_topics()
        .send()
        .await
        .unwrap()
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .find(|a| a.ends_with(&p))
        .unwrap()
        .to_string();
    sns()
        .await
        .set_topic_attributes()
        .topic_arn(&arn)
        .attribute_name("DisplayName")
        .attribute_value("by hand")
        .send()
        .await
        .unwrap();
    let out = stack.ok(&["plan", "-refresh-only"]);
    assert!(out.contains("refresh-only plan"), "{out}");
    stack.ok(&["apply", "-refresh-only", "-auto-approve"]);
    let st: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(stack.state_path()).unwrap()).unwrap();
    assert_eq!(
        st["resources"][0]["attributes"]["display_name"], "by hand",
        "drift recorded in state"
    );
    assert_eq!(
        sns()
            .await
            .get_topic_attributes()
            .topic_arn(&arn)
            .send()
            .await
            .unwrap()
            .attributes()
            .unwrap()["DisplayName"],
        "by hand",
        "AWS unchanged"
    );
    stack.destroy();
}

#[tokio::test]
async fn init_migrates_local_state_into_a_new_s3_backend() {
    let bucket = state_bucket().await;
    let p = unique("tf-init");
    let stack = TestStack::new(&topics(&p, 2));
    stack.apply();
    stack.write("backend.tf", &s3_backend(&bucket, ""));
    stack.ok(&["init", "-force-copy"]);
    let remote = remote_state(&bucket, "campus/terraform.tfstate")
        .await
        .expect("migrated");
    assert_eq!(remote["resources"].as_array().unwrap().len(), 2);
    assert!(
        changed(&stack.plan_json()).is_empty(),
        "plans against the migrated state"
    );
    stack.destroy();
}

#[tokio::test]
async fn a_dynamodb_lock_table_works_where_conditional_writes_are_not_used() {
    let bucket = state_bucket().await;
    let table = unique("tflocks");
    dynamodb()
        .await
        .create_table()
        .table_name(&table)
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("LockID")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("LockID")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let p = unique("tf-ddb");
    let stack = TestStack::new(&format!(
        "{}{}",
        s3_backend(&bucket, &format!("    dynamodb_table = \"{table}\"\n")),
        topics(&p, 1)
    ));
    // Someone else holds the lock in the table.
    let info = serde_json::json!({"ID": "held-by-ci", "Operation": "apply", "Who": "ci@runner", "Created": "2026-11-26T00:00:00Z", "Path": "x", "Pid": 1});
    dynamodb()
        .await
        .put_item()
        .table_name(&table)
        .item(
            "LockID",
            aws_sdk_dynamodb::types::AttributeValue::S(
                format!("{bucket}/campus/terraform.tfstate.tflock")
                    .replace(&format!("{bucket}/"), ""),
            ),
        )
        .item(
            "Info",
            aws_sdk_dynamodb::types::AttributeValue::S(info.to_string()),
        )
        .send()
        .await
        .unwrap();
    let out = stack.run(&["apply", "-auto-approve"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("held-by-ci") && err.contains("ci@runner"),
        "{err}"
    );
    stack.ok(&["force-unlock", "held-by-ci"]);
    stack.apply();
    stack.destroy();
}
