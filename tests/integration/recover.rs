//! A create whose answer was lost and not retried (`max_retries = 0`) fails, and leaves
//! its intent in the journal; the next run must find the object that create made and
//! track it, also for a type without a name. Here: an SNS subscription (found by topic,
//! protocol and endpoint) to a topic made outside the stack, so that deleting the topic
//! cannot hide a subscription left behind.

use crate::faults::account_sdk;
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
