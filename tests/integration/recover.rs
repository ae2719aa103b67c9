//! A create whose answer was lost and not retried (`max_retries = 0`) fails, and leaves
//! its intent in the journal; the next run must find the object that create made and
//! track it, also for a type without a name. Here: an SNS subscription (found by topic,
//! protocol and endpoint) to a topic made outside the stack, so that deleting the topic
//! cannot hide a subscription left behind.

use crate::faults::{account_contents, account_sdk, assert_empty, make_zip};
use crate::harness::*;
use crate::proxy::faults::Faults;
use crate::proxy::{Config, Proxy, fresh_account, seed};

/// The subscriptions of `topic`: (ARN, protocol, endpoint).
async fn subscriptions(sns: &aws_sdk_sns::Client, topic: &str) -> Vec<(String, String, String)> {
    let out = sns
        .list_subscriptions_by_topic()
        .topic_arn(topic)
        .send()
        .await
        .unwrap();
    out.subscriptions()
        .iter()
        .map(|s| {
            (
                s.subscription_arn().unwrap_or_default().to_string(),
                s.protocol().unwrap_or_default().to_string(),
                s.endpoint().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscription_whose_subscribe_answer_was_lost_is_found_and_tracked() {
    let account = fresh_account();
    let lossy = Proxy::start(Config {
        faults: Faults {
            lost: 1.0,
            only: vec!["Subscribe".into()],
            ..Faults::default()
        },
        account: Some(account.clone()),
        seed: seed(),
        ..Config::default()
    });
    let sns = aws_sdk_sns::Client::new(&account_sdk(&lossy).await);
    let topic = sns
        .create_topic()
        .name(unique("rsub"))
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_string();
    let endpoint = format!("arn:aws:sqs:{REGION}:{account}:{}", unique("rsubq"));
    let stack = TestStack::new(&format!(
        r#"
provider "aws" {{
  max_retries = 0
}}
resource "aws_sns_topic_subscription" "s" {{
  topic_arn = "{topic}"
  protocol  = "sqs"
  endpoint  = "{endpoint}"
}}
"#
    ));
    let dir = stack.path();
    let path = dir.display().to_string();
    let lost_apply = || {
        let out = lossy.output(dir, &["apply", "-auto-approve", &path]);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            !out.status.success() && err.contains("aws_sns_topic_subscription.s"),
            "the lost answer must fail the apply, naming the resource: {err}"
        );
    };
    let wanted = |subs: &[(String, String, String)]| {
        subs.len() == 1 && subs[0].1 == "sqs" && subs[0].2 == endpoint
    };

    // The answer lost: AWS holds the subscription, the state does not.
    lost_apply();
    let made = subscriptions(&sns, &topic).await;
    assert!(wanted(&made), "{made:?}");
    // The next apply finds it (no second Subscribe), and it is the only one.
    let clean = Proxy::start(Config {
        account: Some(account.clone()),
        ..Config::default()
    });
    let out = clean.ok(dir, &["apply", "-auto-approve", &path]);
    assert!(
        out.contains("aws_sns_topic_subscription.s: found object"),
        "{out}"
    );
    assert_eq!(clean.stat("op:Subscribe"), 0, "{:?}", clean.stats());
    assert_eq!(subscriptions(&sns, &topic).await, made);
    let plan: serde_json::Value =
        serde_json::from_str(&clean.ok(dir, &["plan", "-json", &path])).unwrap();
    assert!(changed(&plan).is_empty(), "{:?}", changed(&plan));
    clean.ok(dir, &["destroy", "-auto-approve", &path]);
    assert_eq!(subscriptions(&sns, &topic).await, vec![]);

    // Lost again, then destroy straight away: the intent is resolved and the subscription
    // deleted, not forgotten.
    lost_apply();
    assert!(wanted(&subscriptions(&sns, &topic).await));
    let out = clean.ok(dir, &["destroy", "-auto-approve", &path]);
    assert!(
        out.contains("aws_sns_topic_subscription.s: found object"),
        "{out}"
    );
    assert_eq!(subscriptions(&sns, &topic).await, vec![]);
    sns.delete_topic().topic_arn(&topic).send().await.unwrap();
}

/// The creates of the types whose objects are named by their configuration (attachments,
/// a membership, an alarm, a bucket's versioning) or by nothing (a generated Lambda
/// statement id, a subscription).
const UNNAMED_CREATES: &[&str] = &[
    "AttachPolicy",
    "AttachThingPrincipal",
    "AddThingToThingGroup",
    "PutRolePolicy",
    "AttachRolePolicy",
    "PutMetricAlarm",
    "PutBucketVersioning",
    "AddPermission",
    "Subscribe",
];

/// Every answer of those creates is lost and never retried: each apply fails, and the
/// next one must find what the failed one made, so that each create is called exactly
/// once however many applies it takes; then the re-plan is empty and destroy leaves the
/// account empty.
#[tokio::test(flavor = "multi_thread")]
async fn each_create_whose_answer_was_lost_is_made_once_and_found() {
    let account = fresh_account();
    let lossy = Proxy::start(Config {
        faults: Faults {
            lost: 1.0,
            only: UNNAMED_CREATES.iter().map(|s| s.to_string()).collect(),
            ..Faults::default()
        },
        account: Some(account.clone()),
        seed: seed(),
        ..Config::default()
    });
    let clean = Proxy::start(Config {
        account: Some(account.clone()),
        ..Config::default()
    });
    let p = unique("rlost");
    let allow = |action: &str| {
        format!(
            r#"jsonencode({{ Version = "2012-10-17", Statement = [{{ Effect = "Allow", Action = "{action}", Resource = "*" }}] }})"#
        )
    };
    let stack = TestStack::new(&format!(
        r#"
provider "aws" {{
  max_retries = 0
}}
resource "aws_iot_thing" "t" {{
  name = "{p}-thing"
}}
resource "aws_iot_thing_group" "g" {{
  name = "{p}-group"
}}
resource "aws_iot_thing_group_membership" "m" {{
  thing_name       = aws_iot_thing.t.name
  thing_group_name = aws_iot_thing_group.g.name
}}
resource "aws_iot_certificate" "c" {{
  active = true
}}
resource "aws_iot_policy" "pol" {{
  name   = "{p}-pol"
  policy = {iot_policy}
}}
resource "aws_iot_policy_attachment" "pa" {{
  policy = aws_iot_policy.pol.name
  target = aws_iot_certificate.c.arn
}}
resource "aws_iot_thing_principal_attachment" "tp" {{
  thing     = aws_iot_thing.t.name
  principal = aws_iot_certificate.c.arn
}}
resource "aws_iam_role" "r" {{
  name               = "{p}-role"
  assume_role_policy = {assume}
}}
resource "aws_iam_role_policy" "rp" {{
  name   = "inline"
  role   = aws_iam_role.r.name
  policy = {inline}
}}
resource "aws_iam_policy" "mp" {{
  name   = "{p}-managed"
  policy = {managed}
}}
resource "aws_iam_role_policy_attachment" "ra" {{
  role       = aws_iam_role.r.name
  policy_arn = aws_iam_policy.mp.arn
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
resource "aws_s3_bucket" "b" {{
  bucket = "{p}-bucket"
}}
resource "aws_s3_bucket_versioning" "v" {{
  bucket = aws_s3_bucket.b.id
  versioning_configuration {{
    status = "Enabled"
  }}
}}
resource "aws_lambda_function" "f" {{
  function_name = "{p}-fn"
  role          = aws_iam_role.r.arn
  filename      = "fn.zip"
  handler       = "bootstrap"
  runtime       = "provided.al2023"
}}
resource "aws_lambda_permission" "perm" {{
  statement_id_prefix = "{p}-"
  action              = "lambda:InvokeFunction"
  function_name       = aws_lambda_function.f.function_name
  principal           = "iot.amazonaws.com"
}}
resource "aws_sns_topic" "topic" {{
  name = "{p}-topic"
}}
resource "aws_sns_topic_subscription" "s" {{
  topic_arn = aws_sns_topic.topic.arn
  protocol  = "sqs"
  endpoint  = "arn:aws:sqs:{REGION}:{account}:{p}-q"
}}
"#,
        iot_policy = allow("iot:Connect"),
        inline = allow("s3:GetObject"),
        managed = allow("dynamodb:GetItem"),
        assume = assume_role("lambda.amazonaws.com"),
    ));
    make_zip(&stack.path().join("fn.zip"), "v1");
    let dir = stack.path();
    let path = dir.display().to_string();
    let mut failed = 0;
    loop {
        let out = lossy.output(dir, &["apply", "-auto-approve", &path]);
        if out.status.success() {
            break;
        }
        failed += 1;
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("Error:") && !err.contains("panicked") && failed <= UNNAMED_CREATES.len(),
            "apply {failed}: {err}\n{}",
            lossy.summary()
        );
    }
    assert!(failed >= 1);
    eprintln!("converged after {failed} failed applies");
    let calls = lossy.stats();
    for op in UNNAMED_CREATES {
        assert_eq!(
            calls.get(&format!("op:{op}")).copied(),
            Some(1),
            "{op} must be called exactly once: {calls:?}"
        );
    }
    assert_eq!(
        lossy.stat("answer lost after effect (5xx)")
            + lossy.stat("answer lost after effect (reset)"),
        UNNAMED_CREATES.len() as u64
    );
    let plan: serde_json::Value =
        serde_json::from_str(&clean.ok(dir, &["plan", "-json", &path])).unwrap();
    assert!(changed(&plan).is_empty(), "{:?}", changed(&plan));
    let c = account_sdk(&clean).await;
    let policy = aws_sdk_lambda::Client::new(&c)
        .get_policy()
        .function_name(format!("{p}-fn"))
        .send()
        .await
        .unwrap();
    let statements: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    assert_eq!(
        statements["Statement"].as_array().unwrap().len(),
        1,
        "{statements}"
    );
    clean.ok(dir, &["destroy", "-auto-approve", &path]);
    assert_empty(&account_contents(&clean).await, &clean);
}
