//! stacks/campus-lite: the part of the campus stack LocalStack Community can host. Runs in
//! the moto lane and in the LocalStack lane (scripts/test.sh).

use crate::harness::*;
use std::path::PathBuf;

#[tokio::test]
async fn campus_lite_applies_replans_and_destroys() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let state = tempfile::tempdir().unwrap();
    let state_file = state.path().join("lite.json").display().to_string();
    let stack = repo.join("stacks/campus-lite").display().to_string();
    let run = |args: &[&str]| {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend(["-state".to_string(), state_file.clone(), stack.clone()]);
        let out = thingform(&all, &repo);
        assert!(
            out.status.success(),
            "thingform {args:?}:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    // env=prod: the campus test deploys dev and staging into the same emulator concurrently.
    run(&["apply", "-auto-approve", "-var", "env=prod"]);

    let account = sts_account().await;
    let bucket = format!("prod-campus-archive-{account}");
    let rules = s3()
        .await
        .get_bucket_lifecycle_configuration()
        .bucket(&bucket)
        .send()
        .await
        .expect("archive lifecycle");
    assert_eq!(
        rules.rules()[0].expiration().and_then(|e| e.days()),
        Some(365)
    );
    let topic = sns().await.list_topics().send().await.unwrap();
    assert!(
        topic
            .topics()
            .iter()
            .filter_map(|t| t.topic_arn())
            .any(|a| a.ends_with(":prod-campus-alerts"))
    );
    let alarm = cloudwatch()
        .await
        .describe_alarms()
        .alarm_names("prod-campus-ingest-errors")
        .send()
        .await
        .unwrap();
    assert_eq!(alarm.metric_alarms().len(), 1);
    assert!(
        iam()
            .await
            .get_role()
            .role_name("prod-campus-ingest")
            .send()
            .await
            .is_ok()
    );

    let plan: serde_json::Value =
        serde_json::from_str(&run(&["plan", "-json", "-var", "env=prod"])).unwrap();
    assert!(
        changed(&plan).is_empty(),
        "no-op re-plan: {:?}",
        changed(&plan)
    );

    run(&["destroy", "-auto-approve", "-var", "env=prod"]);
    assert!(
        s3().await
            .head_bucket()
            .bucket(&bucket)
            .send()
            .await
            .not_found()
    );
    assert!(
        iam()
            .await
            .get_role()
            .role_name("prod-campus-ingest")
            .send()
            .await
            .not_found()
    );
}

async fn sts_account() -> String {
    let c = aws_sdk_sts::Client::new(&sdk_config().await);
    c.get_caller_identity()
        .send()
        .await
        .unwrap()
        .account()
        .unwrap()
        .to_string()
}
