//! thingform against a hostile AWS: the fault proxy (tests/integration/proxy) between
//! thingform and moto injects throttling, 5xx, resets and lost answers, and enforces
//! AWS's rules that moto skips. Each run uses a moto account of its own, so "nothing
//! left" is checked by listing the whole account through the SDK.
//!
//! AWS's delays are scaled by 1/50 (RULES_SCALE): the thing-type wait after deprecation
//! is 6 s instead of 5 min, an asynchronous detach 0.6 s instead of ~30 s, IAM role
//! propagation 0.3 s, a Lambda update 0.12 s, the not-found window after a create 0.2 s.

use crate::harness::*;
use crate::proxy::faults::{Faults, Latency};
use crate::proxy::{Config, Proxy, fresh_account, seed};
use std::path::PathBuf;
use std::time::Duration;

const RULES_SCALE: f64 = 0.02;

/// SDK configuration for the run's account (through a proxy without faults).
pub(crate) async fn account_sdk(clean: &Proxy) -> aws_types::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(clean.endpoint())
        .region(aws_types::region::Region::new(REGION))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await
}

/// Everything the account holds, by type (empty types left out).
pub(crate) async fn account_contents(clean: &Proxy) -> Vec<String> {
    let c = account_sdk(clean).await;
    let iot = aws_sdk_iot::Client::new(&c);
    let iam = aws_sdk_iam::Client::new(&c);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&c)
            .force_path_style(true)
            .build(),
    );
    let mut left: Vec<String> = vec![];
    let mut add = |kind: &str, names: Vec<String>| {
        left.extend(names.into_iter().map(|n| format!("{kind} {n}")));
    };
    let o = iot.list_things().send().await.unwrap();
    add(
        "thing",
        o.things()
            .iter()
            .filter_map(|t| t.thing_name().map(str::to_string))
            .collect(),
    );
    let o = iot.list_thing_types().send().await.unwrap();
    add(
        "thing type",
        o.thing_types()
            .iter()
            .filter_map(|t| t.thing_type_name().map(str::to_string))
            .collect(),
    );
    let o = iot.list_thing_groups().send().await.unwrap();
    add(
        "thing group",
        o.thing_groups()
            .iter()
            .filter_map(|t| t.group_name().map(str::to_string))
            .collect(),
    );
    let o = iot.list_certificates().send().await.unwrap();
    add(
        "certificate",
        o.certificates()
            .iter()
            .filter_map(|t| t.certificate_id().map(str::to_string))
            .collect(),
    );
    let o = iot.list_policies().send().await.unwrap();
    add(
        "IoT policy",
        o.policies()
            .iter()
            .filter_map(|t| t.policy_name().map(str::to_string))
            .collect(),
    );
    let o = iot.list_topic_rules().send().await.unwrap();
    add(
        "topic rule",
        o.rules()
            .iter()
            .filter_map(|t| t.rule_name().map(str::to_string))
            .collect(),
    );
    let o = iam.list_roles().send().await.unwrap();
    add(
        "IAM role",
        o.roles()
            .iter()
            .map(|r| r.role_name().to_string())
            .collect(),
    );
    let o = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    add(
        "IAM policy",
        o.policies()
            .iter()
            .filter_map(|p| p.policy_name().map(str::to_string))
            .collect(),
    );
    let o = aws_sdk_lambda::Client::new(&c)
        .list_functions()
        .send()
        .await
        .unwrap();
    add(
        "function",
        o.functions()
            .iter()
            .filter_map(|f| f.function_name().map(str::to_string))
            .collect(),
    );
    let o = aws_sdk_dynamodb::Client::new(&c)
        .list_tables()
        .send()
        .await
        .unwrap();
    add("table", o.table_names().to_vec());
    let o = s3.list_buckets().send().await.unwrap();
    add(
        "bucket",
        o.buckets()
            .iter()
            .filter_map(|b| b.name().map(str::to_string))
            .collect(),
    );
    let sns = aws_sdk_sns::Client::new(&c);
    let o = sns.list_topics().send().await.unwrap();
    add(
        "topic",
        o.topics()
            .iter()
            .filter_map(|t| t.topic_arn().map(str::to_string))
            .collect(),
    );
    let o = sns.list_subscriptions().send().await.unwrap();
    add(
        "subscription",
        o.subscriptions()
            .iter()
            .filter_map(|s| s.subscription_arn().map(str::to_string))
            .collect(),
    );
    let o = aws_sdk_cloudwatchlogs::Client::new(&c)
        .describe_log_groups()
        .send()
        .await
        .unwrap();
    add(
        "log group",
        o.log_groups()
            .iter()
            .filter_map(|g| g.log_group_name().map(str::to_string))
            .collect(),
    );
    let o = aws_sdk_cloudwatch::Client::new(&c)
        .describe_alarms()
        .send()
        .await
        .unwrap();
    add(
        "alarm",
        o.metric_alarms()
            .iter()
            .filter_map(|a| a.alarm_name().map(str::to_string))
            .collect(),
    );
    left
}

/// stacks/campus beside a copy of its Lambda crate, in a temporary directory (as in
/// campus.rs), so the relative crate path resolves and no state lands in the repository.
fn campus_copy() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let copy = |from: PathBuf, to: PathBuf| {
        let ok = std::process::Command::new("cp")
            .arg("-r")
            .arg(&from)
            .arg(&to)
            .status()
            .unwrap()
            .success();
        assert!(ok, "copy {}", from.display());
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

fn proxy_account(p: &Proxy) -> Option<String> {
    p.account()
}

pub(crate) fn assert_empty(left: &[String], proxy: &Proxy) {
    assert!(
        left.is_empty(),
        "the account still holds {left:?} (seed {})\ncounters:\n{}",
        proxy.seed(),
        proxy.summary()
    );
}

/// The issue's convergence run: stacks/campus applied, re-planned (no changes) and
/// destroyed through 20% transient faults, 5% lost answers and AWS's rules, one pass each.
#[tokio::test(flavor = "multi_thread")]
async fn campus_converges_through_faults_lost_answers_and_aws_rules() {
    require_cargo_lambda("build the campus ingest Lambda");
    let root = campus_copy();
    let account = fresh_account();
    let proxy = Proxy::start(Config {
        faults: Faults::transient(0.20, 0.05),
        rules: Some(RULES_SCALE),
        account: Some(account.clone()),
        seed: seed(),
        ..Config::default()
    });
    let clean = Proxy::start(Config {
        account: Some(account),
        ..Config::default()
    });
    let dir = root.path();
    proxy.ok(dir, &["apply", "-auto-approve", "stacks/campus"]);
    let c = account_sdk(&clean).await;
    let things = aws_sdk_iot::Client::new(&c)
        .list_things()
        .send()
        .await
        .unwrap();
    assert_eq!(things.things().len(), 12, "the campus nodes exist");
    assert!(
        aws_sdk_lambda::Client::new(&c)
            .get_function()
            .function_name("dev-campus-ingest")
            .send()
            .await
            .is_ok()
    );
    let plan: serde_json::Value =
        serde_json::from_str(&proxy.ok(dir, &["plan", "-json", "stacks/campus"])).unwrap();
    assert!(
        changed(&plan).is_empty(),
        "re-plan through faults is empty, got {:?} (seed {})",
        changed(&plan),
        proxy.seed()
    );
    proxy.ok(dir, &["destroy", "-auto-approve", "stacks/campus"]);
    assert_empty(&account_contents(&clean).await, &proxy);
    eprintln!(
        "campus through the fault proxy (seed {}):\n{}",
        proxy.seed(),
        proxy.summary()
    );
    let s = proxy.stats();
    let faults: u64 = s
        .iter()
        .filter(|(k, _)| {
            k.contains("throttled") || k.contains("before the call") || k.contains("lost")
        })
        .map(|(_, v)| v)
        .sum();
    assert!(faults > 50, "faults were injected: {s:?}");
    assert!(
        s.keys().any(|k| k.starts_with("rule: ")),
        "AWS's rules refused calls: {s:?}"
    );
}

/// A stack of one object per protocol: REST-JSON (IoT), Query (IAM, SNS), JSON (DynamoDB,
/// Logs), REST-XML (S3), CBOR (CloudWatch).
fn protocols_stack(p: &str) -> String {
    format!(
        r#"
resource "aws_iot_thing" "t" {{
  name = "{p}-thing"
}}
resource "aws_iot_policy" "pol" {{
  name   = "{p}-pol"
  policy = jsonencode({{ Version = "2012-10-17", Statement = [{{ Effect = "Allow", Action = "iot:Connect", Resource = "*" }}] }})
}}
resource "aws_iam_role" "r" {{
  name               = "{p}-role"
  assume_role_policy = {assume}
}}
resource "aws_iam_role_policy" "rp" {{
  name   = "inline"
  role   = aws_iam_role.r.name
  policy = jsonencode({{ Version = "2012-10-17", Statement = [{{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }}] }})
}}
resource "aws_sns_topic" "t" {{
  name = "{p}-topic"
}}
resource "aws_dynamodb_table" "d" {{
  name         = "{p}-table"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {{
    name = "id"
    type = "S"
  }}
}}
resource "aws_cloudwatch_log_group" "l" {{
  name = "/{p}/logs"
}}
resource "aws_s3_bucket" "b" {{
  bucket = "{p}-bucket"
}}
resource "aws_cloudwatch_metric_alarm" "a" {{
  alarm_name          = "{p}-alarm"
  namespace           = "Campus"
  metric_name         = "Readings"
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  evaluation_periods  = 1
  period              = 300
  statistic           = "Sum"
}}
"#,
        assume = assume_role("lambda.amazonaws.com")
    )
}

/// One fault kind at a high rate, on every protocol: apply, plan (empty), destroy, and
/// nothing left in the account.
async fn survives(kind: &str, faults: Faults) -> Proxy {
    let account = fresh_account();
    let proxy = Proxy::start(Config {
        faults,
        account: Some(account.clone()),
        seed: seed(),
        ..Config::default()
    });
    let clean = Proxy::start(Config {
        account: Some(account),
        ..Config::default()
    });
    let stack = TestStack::new(&protocols_stack(&unique("flt")));
    let dir = stack.path();
    let path = dir.display().to_string();
    proxy.ok(dir, &["apply", "-auto-approve", &path]);
    let plan: serde_json::Value =
        serde_json::from_str(&proxy.ok(dir, &["plan", "-json", &path])).unwrap();
    assert!(changed(&plan).is_empty(), "{kind}: {:?}", changed(&plan));
    proxy.ok(dir, &["destroy", "-auto-approve", &path]);
    assert_empty(&account_contents(&clean).await, &proxy);
    eprintln!("{kind} (seed {}):\n{}", proxy.seed(), proxy.summary());
    proxy
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_in_each_protocols_shape_is_retried() {
    let p = survives(
        "throttling",
        Faults {
            throttle: 0.25,
            ..Faults::default()
        },
    )
    .await;
    assert!(p.stat("throttled") >= 10, "{}", p.summary());
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_and_resets_are_retried() {
    let p = survives(
        "5xx and resets",
        Faults {
            server_error: 0.25,
            reset: 0.15,
            ..Faults::default()
        },
    )
    .await;
    assert!(p.stat("5xx before the call") >= 5, "{}", p.summary());
    assert!(p.stat("reset before the call") >= 3, "{}", p.summary());
}

/// Half the answers of every changing call are lost after the call took effect: retried
/// creates meet "already exists" and adopt their own object; retried deletes meet "not
/// found" and succeed. Nothing fails, nothing is left.
#[tokio::test(flavor = "multi_thread")]
async fn lost_answers_are_adopted_or_taken_as_done() {
    let p = survives(
        "lost answers",
        Faults {
            lost: 0.5,
            ..Faults::default()
        },
    )
    .await;
    let lost =
        p.stat("answer lost after effect (5xx)") + p.stat("answer lost after effect (reset)");
    assert!(lost >= 5, "{}", p.summary());
    // Whether a lost answer lands on a create that is not idempotent (so that its retry
    // meets "already exists" and adopts) depends on the seed and the order of calls; the
    // property is that the run converged and left nothing (checked by `survives`).
    eprintln!(
        "retried creates that met their own object: {}",
        p.stat("already exists (emulator)")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_answers_and_latency_only_slow_things_down() {
    survives(
        "slow answers",
        Faults {
            slow: 0.2,
            slow_by: Duration::from_millis(300),
            ..Faults::default()
        },
    )
    .await;
    let proxy = Proxy::start(Config {
        latency: Latency::Random(Duration::from_millis(5), Duration::from_millis(40)),
        account: Some(fresh_account()),
        seed: seed(),
        ..Config::default()
    });
    let stack = TestStack::new(&format!(
        "resource \"aws_sns_topic\" \"t\" {{\n  name = \"{}\"\n}}\n",
        unique("lat")
    ));
    let path = stack.path().display().to_string();
    proxy.ok(stack.path(), &["apply", "-auto-approve", &path]);
    let fixed = Proxy::start(Config {
        latency: Latency::Fixed(Duration::from_millis(20)),
        account: proxy_account(&proxy),
        seed: seed(),
        ..Config::default()
    });
    fixed.ok(stack.path(), &["destroy", "-auto-approve", &path]);
}

/// `max_retries` in the provider block bounds the attempts: always throttled, CreateTopic
/// is tried exactly max_retries + 1 times and the error names the resource.
#[tokio::test(flavor = "multi_thread")]
async fn max_retries_bounds_the_attempts_and_the_error_names_the_resource() {
    let proxy = Proxy::start(Config {
        faults: Faults {
            throttle: 1.0,
            only: vec!["CreateTopic".into()],
            ..Faults::default()
        },
        account: Some(fresh_account()),
        seed: seed(),
        ..Config::default()
    });
    let stack = TestStack::new(&format!(
        "provider \"aws\" {{\n  max_retries = 2\n}}\nresource \"aws_sns_topic\" \"t\" {{\n  name = \"{}\"\n}}\n",
        unique("mr")
    ));
    let out = proxy.output(
        stack.path(),
        &[
            "apply",
            "-auto-approve",
            &stack.path().display().to_string(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("aws_sns_topic.t") && err.contains("Throttling"),
        "{err}"
    );
    assert_eq!(proxy.stat("op:CreateTopic"), 3, "{:?}", proxy.stats());
}

/// A non-retryable refusal fails at once, naming the resource: a bucket that is not empty
/// (AWS's BucketNotEmpty; the proxy's rule answers first) is asked once, not 26 times.
#[tokio::test(flavor = "multi_thread")]
async fn non_retryable_errors_fail_fast_naming_the_resource() {
    let account = fresh_account();
    let proxy = Proxy::start(Config {
        rules: Some(RULES_SCALE),
        account: Some(account),
        seed: seed(),
        ..Config::default()
    });
    let bucket = unique("nr");
    let stack = TestStack::new(&format!(
        "resource \"aws_s3_bucket\" \"b\" {{\n  bucket = \"{bucket}\"\n}}\n"
    ));
    let path = stack.path().display().to_string();
    proxy.ok(stack.path(), &["apply", "-auto-approve", &path]);
    let c = account_sdk(&proxy).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&c)
            .force_path_style(true)
            .build(),
    );
    s3.put_object()
        .bucket(&bucket)
        .key("reading.json")
        .body(b"{}".to_vec().into())
        .send()
        .await
        .unwrap();
    let out = proxy.output(stack.path(), &["destroy", "-auto-approve", &path]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("aws_s3_bucket.b") && err.contains("not empty"),
        "{err}"
    );
    assert_eq!(
        proxy.stat("rule: S3 bucket delete while not empty"),
        1,
        "the proxy's rule answered, and was not retried: {:?}",
        proxy.stats()
    );
    s3.delete_object()
        .bucket(&bucket)
        .key("reading.json")
        .send()
        .await
        .unwrap();
    proxy.ok(stack.path(), &["destroy", "-auto-approve", &path]);
    assert!(s3.head_bucket().bucket(&bucket).send().await.not_found());
}

/// AWS's asynchronous DetachThingPrincipal and its certificate rules: the Thing and the
/// certificate are refused while the detach has not taken effect (moto deletes at once:
/// getmoto/moto#1908), and thingform waits it out.
#[tokio::test(flavor = "multi_thread")]
async fn destroy_waits_for_asynchronous_detaches_and_certificate_rules() {
    let account = fresh_account();
    // Detach takes 30 s on this scale: 1.5 s.
    let proxy = Proxy::start(Config {
        rules: Some(0.05),
        account: Some(account.clone()),
        seed: seed(),
        ..Config::default()
    });
    let p = unique("det");
    let stack = TestStack::new(&format!(
        r#"
resource "aws_iot_thing" "t" {{
  name = "{p}"
}}
resource "aws_iot_certificate" "c" {{
  active = true
}}
resource "aws_iot_policy" "pol" {{
  name   = "{p}"
  policy = jsonencode({{ Version = "2012-10-17", Statement = [{{ Effect = "Allow", Action = "iot:Connect", Resource = "*" }}] }})
}}
resource "aws_iot_policy_attachment" "a" {{
  policy = aws_iot_policy.pol.name
  target = aws_iot_certificate.c.arn
}}
resource "aws_iot_thing_principal_attachment" "tp" {{
  thing     = aws_iot_thing.t.name
  principal = aws_iot_certificate.c.arn
}}
resource "aws_iot_thing_type" "tt" {{
  name       = "{p}-type"
  deprecated = true
}}
"#
    ));
    let path = stack.path().display().to_string();
    proxy.ok(stack.path(), &["apply", "-auto-approve", &path]);
    proxy.ok(stack.path(), &["destroy", "-auto-approve", &path]);
    let s = proxy.summary();
    assert!(
        proxy.stat("rule: Thing delete while principals attached (asynchronous detach)") >= 1,
        "{s}"
    );
    assert!(
        proxy.stat("rule: thing type delete within 5 minutes of deprecation") >= 1,
        "{s}"
    );
    let clean = Proxy::start(Config {
        account: Some(account),
        ..Config::default()
    });
    assert_empty(&account_contents(&clean).await, &proxy);
}

/// Each rule answers with AWS's error code, checked through the SDK (what thingform
/// meets): certificate delete while ACTIVE (CertificateStateException) or attached
/// (DeleteConflictException), IoT policy delete while attached (DeleteConflictException),
/// IAM role delete with policies (DeleteConflict), Lambda create right after its role
/// (InvalidParameterValueException), a read right after a create (NoSuchEntity).
#[tokio::test(flavor = "multi_thread")]
async fn each_rule_answers_with_awss_error_code() {
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;
    let proxy = Proxy::start(Config {
        rules: Some(1.0),
        account: Some(fresh_account()),
        seed: seed(),
        ..Config::default()
    });
    let c = account_sdk(&proxy).await;
    let iot = aws_sdk_iot::Client::new(&c);
    let cert = iot
        .create_keys_and_certificate()
        .set_as_active(true)
        .send()
        .await
        .unwrap();
    let (id, arn) = (
        cert.certificate_id().unwrap(),
        cert.certificate_arn().unwrap(),
    );
    let e = iot
        .delete_certificate()
        .certificate_id(id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("CertificateStateException"));
    let p = unique("rule");
    iot.create_policy()
        .policy_name(&p)
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    iot.attach_policy()
        .policy_name(&p)
        .target(arn)
        .send()
        .await
        .unwrap();
    iot.update_certificate()
        .certificate_id(id)
        .new_status(aws_sdk_iot::types::CertificateStatus::Inactive)
        .send()
        .await
        .unwrap();
    let e = iot
        .delete_certificate()
        .certificate_id(id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("DeleteConflictException"));
    let e = iot
        .delete_policy()
        .policy_name(&p)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("DeleteConflictException"));
    iot.detach_policy()
        .policy_name(&p)
        .target(arn)
        .send()
        .await
        .unwrap();
    iot.delete_policy().policy_name(&p).send().await.unwrap();
    iot.delete_certificate()
        .certificate_id(id)
        .send()
        .await
        .unwrap();

    let iam = aws_sdk_iam::Client::new(&c);
    let role = iam
        .create_role()
        .role_name(&p)
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    let e = iam.get_role().role_name(&p).send().await.unwrap_err();
    assert_eq!(
        e.code(),
        Some("NoSuchEntity"),
        "not found right after create"
    );
    let e = aws_sdk_lambda::Client::new(&c)
        .create_function()
        .function_name(&p)
        .role(role.role().unwrap().arn())
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_smithy_types::Blob::new(b"PK".to_vec()))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameterValueException"));
    assert!(e.message().unwrap_or("").contains("cannot be assumed"));
    iam.put_role_policy()
        .role_name(&p)
        .policy_name("inline")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let e = iam.delete_role().role_name(&p).send().await.unwrap_err();
    assert_eq!(e.code(), Some("DeleteConflict"));
    iam.delete_role_policy()
        .role_name(&p)
        .policy_name("inline")
        .send()
        .await
        .unwrap();
    iam.delete_role().role_name(&p).send().await.unwrap();
}

/// A zip holding one file, made with Python's zipfile (as compute.rs does).
pub(crate) fn make_zip(path: &std::path::Path, content: &str) {
    let ok = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n    z.writestr(zipfile.ZipInfo('bootstrap', (2020,1,1,0,0,0)), sys.argv[2])",
        ])
        .arg(path)
        .arg(content)
        .status()
        .expect("python3")
        .success();
    assert!(ok);
}

/// Lambda's rules: CreateFunction is refused while its new role is not assumable yet
/// (InvalidParameterValueException), the function reads Pending / InProgress while a
/// create or update runs, and an update during another is refused
/// (ResourceConflictException). thingform retries the first and waits out the others.
/// Scale 1/2: the role readable after 5 s and assumable after 7.5 s, an update 3 s.
#[tokio::test(flavor = "multi_thread")]
async fn lambda_create_and_updates_wait_for_role_propagation_and_running_updates() {
    let account = fresh_account();
    let proxy = Proxy::start(Config {
        rules: Some(0.5),
        account: Some(account.clone()),
        seed: seed(),
        ..Config::default()
    });
    let p = unique("lam");
    let stack_text = |memory: u32| {
        format!(
            r#"
resource "aws_iam_role" "fn" {{
  name               = "{p}"
  assume_role_policy = {assume}
}}
resource "aws_lambda_function" "f" {{
  function_name = "{p}"
  role          = aws_iam_role.fn.arn
  filename      = "fn.zip"
  handler       = "bootstrap"
  runtime       = "provided.al2023"
  memory_size   = {memory}
}}
"#,
            assume = assume_role("lambda.amazonaws.com")
        )
    };
    let stack = TestStack::new(&stack_text(128));
    make_zip(&stack.path().join("fn.zip"), "v1");
    let path = stack.path().display().to_string();
    proxy.ok(stack.path(), &["apply", "-auto-approve", &path]);
    assert!(
        proxy.stat("rule: Lambda create right after its role (IAM propagation)") >= 1,
        "{}",
        proxy.summary()
    );
    // Config and code change together: two updates, one after the other.
    stack.write("main.tf", &stack_text(256));
    make_zip(&stack.path().join("fn.zip"), "v2");
    proxy.ok(stack.path(), &["apply", "-auto-approve", &path]);
    let clean = Proxy::start(Config {
        account: Some(account),
        ..Config::default()
    });
    let c = account_sdk(&clean).await;
    let f = aws_sdk_lambda::Client::new(&c)
        .get_function_configuration()
        .function_name(&p)
        .send()
        .await
        .unwrap();
    assert_eq!(f.memory_size(), Some(256));
    proxy.ok(stack.path(), &["destroy", "-auto-approve", &path]);
    assert_empty(&account_contents(&clean).await, &proxy);
    eprintln!("lambda rules (seed {}):\n{}", proxy.seed(), proxy.summary());
}
