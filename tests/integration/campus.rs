//! The flagship stack, end to end: stacks/campus deployed as two environments side by
//! side (workspaces dev and staging), verified through the SDK, re-planned as a no-op,
//! then dev destroyed while staging stays untouched.

use crate::harness::*;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The campus tests deploy the same names (env dev/staging; campus_lite has prod), so
/// they take turns.
pub static CAMPUS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) fn campus_copy() -> tempfile::TempDir {
    // A copy of the stack beside a copy of the Lambda crate, so the test never writes
    // state into the repository and the relative crate path still resolves.
    let root = tempfile::tempdir().unwrap();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let copy = |from: PathBuf, to: PathBuf| {
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(&from)
            .arg(&to)
            .status()
            .unwrap();
        assert!(status.success(), "copy {}", from.display());
    };
    std::fs::create_dir_all(root.path().join("stacks")).unwrap();
    std::fs::create_dir_all(root.path().join("lambdas/ingest")).unwrap();
    copy(
        repo.join("stacks/campus"),
        root.path().join("stacks/campus"),
    );
    for f in ["Cargo.toml", "src", "tests"] {
        copy(
            repo.join("lambdas/ingest").join(f),
            root.path().join("lambdas/ingest").join(f),
        );
    }
    // The crate is a member of the repository's workspace; here it stands alone, with the
    // repository's lock file so dependency versions match.
    let manifest = root.path().join("lambdas/ingest/Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str("\n[workspace]\n");
    std::fs::write(&manifest, text).unwrap();
    std::fs::copy(
        repo.join("Cargo.lock"),
        root.path().join("lambdas/ingest/Cargo.lock"),
    )
    .unwrap();
    let _ = std::fs::remove_dir_all(root.path().join("stacks/campus/.thingform"));
    root
}

fn run(root: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.push("stacks/campus".into());
    thingform(&all, root)
}

fn ok(root: &std::path::Path, args: &[&str]) -> String {
    let out = run(root, args);
    assert!(
        out.status.success(),
        "thingform {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

async fn things_with_prefix(prefix: &str) -> BTreeSet<String> {
    let out = iot()
        .await
        .list_things()
        .max_results(250)
        .send()
        .await
        .unwrap();
    out.things()
        .iter()
        .filter_map(|t| t.thing_name())
        .filter(|n| n.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

async fn verify_environment(env: &str) {
    let prefix = format!("{env}-campus");
    let iot = iot().await;
    // Devices: 12 things of the sensor type with their location attributes.
    let things = things_with_prefix(&format!("{prefix}-node-")).await;
    assert_eq!(things.len(), 12, "{env}: 12 things");
    let t = iot
        .describe_thing()
        .thing_name(format!("{prefix}-node-04"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        t.thing_type_name(),
        Some(format!("{prefix}-TemperatureSensor").as_str())
    );
    assert_eq!(t.attributes().unwrap()["building"], "science");
    assert_eq!(t.attributes().unwrap()["location"], "lab-1");
    // One active certificate per node, attached to its thing and to the device policy.
    let principals = iot
        .list_thing_principals()
        .thing_name(format!("{prefix}-node-04"))
        .send()
        .await
        .unwrap();
    assert_eq!(principals.principals().len(), 1);
    let cert_arn = principals.principals()[0].clone();
    let policies = iot
        .list_attached_policies()
        .target(&cert_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        policies
            .policies()
            .iter()
            .filter_map(|p| p.policy_name())
            .collect::<Vec<_>>(),
        vec![format!("{prefix}-device")]
    );
    let cert_id = cert_arn.rsplit('/').next().unwrap();
    let cert = iot
        .describe_certificate()
        .certificate_id(cert_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        cert.certificate_description()
            .unwrap()
            .status()
            .map(|s| s.as_str()),
        Some("ACTIVE")
    );
    // Least privilege: the device may only connect as itself and publish its own topic.
    let doc: serde_json::Value = serde_json::from_str(
        iot.get_policy()
            .policy_name(format!("{prefix}-device"))
            .send()
            .await
            .unwrap()
            .policy_document()
            .unwrap(),
    )
    .unwrap();
    let text = doc.to_string();
    assert!(
        text.contains("client/${iot:Connection.Thing.ThingName}"),
        "{text}"
    );
    assert!(
        text.contains("topic/sensors/campus/${iot:Connection.Thing.ThingName}/environment"),
        "{text}"
    );
    assert!(!text.contains("\"iot:*\""), "no wildcard actions");
    // Shadow desired configuration.
    let shadow = iotdata()
        .await
        .get_thing_shadow()
        .thing_name(format!("{prefix}-node-07"))
        .send()
        .await
        .unwrap();
    let shadow: serde_json::Value =
        serde_json::from_slice(shadow.payload().unwrap().as_ref()).unwrap();
    assert_eq!(shadow["state"]["desired"]["reporting_interval_s"], 60);
    // Rules: ingest to Lambda + S3 with an error action; heat alert to SNS.
    let rule_prefix = format!("{env}_campus");
    let ingest = iot
        .get_topic_rule()
        .rule_name(format!("{rule_prefix}_ingest"))
        .send()
        .await
        .unwrap();
    let r = ingest.rule().unwrap();
    assert!(
        r.sql().unwrap().contains("topic(3) AS device_id")
            && r.sql().unwrap().contains("timestamp() AS ts")
    );
    assert!(r.actions().iter().any(|a| a.lambda().is_some()));
    assert!(r.actions().iter().any(|a| a.s3().is_some()));
    assert!(r.error_action().and_then(|e| e.cloudwatch_logs()).is_some());
    let heat = iot
        .get_topic_rule()
        .rule_name(format!("{rule_prefix}_heat_alert"))
        .send()
        .await
        .unwrap();
    assert!(
        heat.rule()
            .unwrap()
            .sql()
            .unwrap()
            .ends_with("WHERE temp > 38")
    );
    assert!(heat.rule().unwrap().actions()[0].sns().is_some());
    // Storage.
    let ttl = dynamodb()
        .await
        .describe_time_to_live()
        .table_name(format!("{prefix}-readings"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description().unwrap().attribute_name(),
        Some("expires_at")
    );
    let table = dynamodb()
        .await
        .describe_table()
        .table_name(format!("{prefix}-readings"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        table
            .table()
            .unwrap()
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str()),
        Some("PAY_PER_REQUEST")
    );
    let bucket = format!("{prefix}-archive-123456789012");
    let rules = s3()
        .await
        .get_bucket_lifecycle_configuration()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let rule = &rules.rules()[0];
    assert_eq!(
        rule.transitions()[0].storage_class().map(|s| s.as_str()),
        Some("INTELLIGENT_TIERING")
    );
    assert_eq!(rule.expiration().and_then(|e| e.days()), Some(365));
    assert!(rule.noncurrent_version_expiration().is_some());
    // Alerts and alarms.
    let topics = sns().await.list_topics().send().await.unwrap();
    let topic = topics
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .find(|a| a.ends_with(&format!(":{prefix}-alerts")))
        .expect("alerts topic")
        .to_string();
    let subs = sns()
        .await
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    assert_eq!(subs.subscriptions()[0].protocol(), Some("email"));
    for alarm in ["fleet-silent", "ingest-errors"] {
        let a = cloudwatch()
            .await
            .describe_alarms()
            .alarm_names(format!("{prefix}-{alarm}"))
            .send()
            .await
            .unwrap();
        let a = a
            .metric_alarms()
            .first()
            .unwrap_or_else(|| panic!("{env}: alarm {alarm}"));
        assert_eq!(a.alarm_actions(), std::slice::from_ref(&topic));
    }
    let silent = cloudwatch()
        .await
        .describe_alarms()
        .alarm_names(format!("{prefix}-fleet-silent"))
        .send()
        .await
        .unwrap();
    let silent = &silent.metric_alarms()[0];
    assert_eq!(
        (silent.period(), silent.evaluation_periods()),
        (Some(300), Some(2)),
        "10 minutes below baseline"
    );
    // Compute: the Rust Lambda, its environment, and the rule's permission to invoke it.
    let f = lambda()
        .await
        .get_function()
        .function_name(format!("{prefix}-ingest"))
        .send()
        .await
        .unwrap();
    let c = f.configuration().unwrap();
    assert_eq!(c.runtime().map(|r| r.as_str()), Some("provided.al2023"));
    assert_eq!(
        c.environment().unwrap().variables().unwrap()["TABLE_NAME"],
        format!("{prefix}-readings")
    );
    let policy = lambda()
        .await
        .get_policy()
        .function_name(format!("{prefix}-ingest"))
        .send()
        .await
        .unwrap();
    assert!(policy.policy().unwrap().contains("iot.amazonaws.com"));
    let role = iam()
        .await
        .get_role()
        .role_name(format!("{prefix}-ingest"))
        .send()
        .await
        .unwrap();
    assert!(role.role().is_some());
    let lg = logs()
        .await
        .describe_log_groups()
        .log_group_name_prefix(format!("/aws/lambda/{prefix}-ingest"))
        .send()
        .await
        .unwrap();
    assert_eq!(lg.log_groups()[0].retention_in_days(), Some(30));
}

#[tokio::test]
async fn campus_stack_two_environments_side_by_side() {
    require_cargo_lambda("build the ingest Lambda");
    let _turn = CAMPUS.lock().await;
    let root = campus_copy();
    let root = root.path();
    let out = thingform(
        &[
            "workspace".into(),
            "new".into(),
            "staging".into(),
            "stacks/campus".into(),
        ],
        root,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = thingform(
        &[
            "workspace".into(),
            "new".into(),
            "dev".into(),
            "stacks/campus".into(),
        ],
        root,
    );
    assert!(out.status.success());

    ok(
        root,
        &["apply", "-auto-approve", "-w", "dev", "-var", "env=dev"],
    );
    ok(
        root,
        &[
            "apply",
            "-auto-approve",
            "-w",
            "staging",
            "-var",
            "env=staging",
        ],
    );
    verify_environment("dev").await;
    verify_environment("staging").await;

    // A second plan of each has no resource changes. (moto invents a new IoT endpoint
    // address on every DescribeEndpoint, so the endpoint output may differ; resources may not.)
    for env in ["dev", "staging"] {
        let out = ok(
            root,
            &["plan", "-json", "-w", env, "-var", &format!("env={env}")],
        );
        let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(
            plan["resource_changes"].as_array().unwrap().len() >= 90,
            "{env}: the whole stack is planned"
        );
        assert!(
            changed(&plan).is_empty(),
            "{env}: no-op plan, got {:?}",
            changed(&plan)
        );
    }
    let outputs: serde_json::Value = serde_json::from_str(
        &thingform(
            &[
                "output".into(),
                "-json".into(),
                "-w".into(),
                "dev".into(),
                "-dir".into(),
                "stacks/campus".into(),
            ],
            root,
        )
        .stdout
        .iter()
        .map(|b| *b as char)
        .collect::<String>(),
    )
    .unwrap();
    assert_eq!(outputs["table_name"]["value"], "dev-campus-readings");
    assert_eq!(
        outputs["thing_arns"]["value"].as_object().unwrap().len(),
        12
    );
    assert_eq!(outputs["device_private_keys"]["sensitive"], true);
    assert!(
        outputs["device_private_keys"]["value"].is_null(),
        "sensitive output hidden in -json listing"
    );

    ok(
        root,
        &["destroy", "-auto-approve", "-w", "dev", "-var", "env=dev"],
    );
    assert!(
        things_with_prefix("dev-campus-").await.is_empty(),
        "dev has nothing left"
    );
    assert!(
        iot()
            .await
            .get_topic_rule()
            .rule_name("dev_campus_ingest")
            .send()
            .await
            .not_found()
    );
    assert!(
        lambda()
            .await
            .get_function()
            .function_name("dev-campus-ingest")
            .send()
            .await
            .not_found()
    );
    assert!(
        dynamodb()
            .await
            .describe_table()
            .table_name("dev-campus-readings")
            .send()
            .await
            .not_found()
    );
    assert!(
        s3().await
            .head_bucket()
            .bucket("dev-campus-archive-123456789012")
            .send()
            .await
            .not_found()
    );
    assert!(
        iam()
            .await
            .get_role()
            .role_name("dev-campus-ingest")
            .send()
            .await
            .not_found()
    );
    verify_environment("staging").await;
    let out = ok(
        root,
        &["plan", "-json", "-w", "staging", "-var", "env=staging"],
    );
    assert!(
        changed(&serde_json::from_str(&out).unwrap()).is_empty(),
        "staging untouched by the dev destroy"
    );

    ok(
        root,
        &[
            "destroy",
            "-auto-approve",
            "-w",
            "staging",
            "-var",
            "env=staging",
        ],
    );
    assert!(things_with_prefix("staging-campus-").await.is_empty());
}

/// A deployment of the campus stack as it was before the devices moved into
/// `modules/sensor-node` (tests/fixtures/campus-v1 holds the two files that changed)
/// upgrades to today's stack with zero replacements: the moved blocks re-address every
/// node's Thing, certificate, attachments and shadow.
#[tokio::test]
async fn campus_upgrade_into_modules_replaces_nothing() {
    require_cargo_lambda("build the ingest Lambda");
    let _turn = CAMPUS.lock().await;
    let root = campus_copy();
    let root = root.path();
    let stack = root.join("stacks/campus");
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let fixture = repo.join("tests/fixtures/campus-v1");
    for f in ["devices.tf", "outputs.tf"] {
        std::fs::copy(fixture.join(f), stack.join(f)).unwrap();
    }
    std::fs::remove_file(stack.join("moved.tf")).unwrap();
    std::fs::remove_dir_all(stack.join("modules")).unwrap();
    let env = ["-var", "env=staging"];
    ok(root, &["workspace", "new", "staging"]);
    let args: Vec<&str> = ["apply", "-auto-approve"].into_iter().chain(env).collect();
    ok(root, &args);
    let listed = state_list(root);
    assert!(
        listed.contains("aws_iot_certificate.node[\"node-04\"]"),
        "{listed}"
    );
    let cert_before = node_certificate("staging-campus-node-04").await;

    // Today's stack.
    let fresh = campus_copy();
    for f in ["devices.tf", "outputs.tf", "moved.tf"] {
        std::fs::copy(fresh.path().join("stacks/campus").join(f), stack.join(f)).unwrap();
    }
    copy_dir(
        &fresh.path().join("stacks/campus/modules"),
        &stack.join("modules"),
    );
    let args: Vec<&str> = ["plan", "-json"].into_iter().chain(env).collect();
    let plan: serde_json::Value = serde_json::from_str(&ok(root, &args)).unwrap();
    assert!(
        changed(&plan).is_empty(),
        "upgrade replaces nothing: {:?}",
        changed(&plan)
    );
    let moved = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["previous_address"].is_string())
        .count();
    assert_eq!(moved, 12 * 6, "every node's six objects move");
    let args: Vec<&str> = ["apply", "-auto-approve"].into_iter().chain(env).collect();
    let out = ok(root, &args);
    assert!(
        out.contains("aws_iot_certificate.node[\"node-04\"] has moved to module.sensor_node[\"node-04\"].aws_iot_certificate.this"),
        "{out}"
    );
    assert!(out.contains("0 added, 0 changed, 0 destroyed"), "{out}");
    assert_eq!(
        node_certificate("staging-campus-node-04").await,
        cert_before,
        "the device keeps its certificate"
    );
    verify_environment("staging").await;
    let listed = state_list(root);
    assert!(
        listed.contains("module.sensor_node[\"node-12\"].aws_iot_thing_shadow.this"),
        "{listed}"
    );
    let args: Vec<&str> = ["destroy", "-auto-approve"]
        .into_iter()
        .chain(env)
        .collect();
    ok(root, &args);
    assert!(things_with_prefix("staging-campus-").await.is_empty());
}

fn state_list(root: &std::path::Path) -> String {
    let args: Vec<String> = ["state", "list", "-w", "staging", "-dir", "stacks/campus"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let out = thingform(&args, root);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The certificate attached to a Thing.
async fn node_certificate(thing: &str) -> Vec<String> {
    iot()
        .await
        .list_thing_principals()
        .thing_name(thing)
        .send()
        .await
        .unwrap()
        .principals()
        .to_vec()
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}
