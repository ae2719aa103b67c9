//! aws_sns_topic and aws_sns_topic_subscription.

use crate::harness::*;
use std::collections::HashMap;

fn topic_stack(name: &str, display: &str, endpoint: &str, filter: &str) -> String {
    format!(
        r#"
resource "aws_sns_topic" "alerts" {{
  name         = "{name}"
  display_name = "{display}"
}}

resource "aws_sns_topic_subscription" "ops" {{
  topic_arn     = aws_sns_topic.alerts.arn
  protocol      = "email"
  endpoint      = "{endpoint}"
  filter_policy = jsonencode({{ severity = ["{filter}"] }})
}}
"#
    )
}

async fn topic_attrs(arn: &str) -> Option<HashMap<String, String>> {
    sns()
        .await
        .get_topic_attributes()
        .topic_arn(arn)
        .send()
        .await
        .ok()
        .and_then(|o| o.attributes().cloned())
}

async fn find_topic(name: &str) -> Option<String> {
    let out = sns().await.list_topics().send().await.unwrap();
    out.topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .find(|a| a.ends_with(&format!(":{name}")))
        .map(str::to_string)
}

async fn subscriptions(topic_arn: &str) -> Vec<(String, String, String)> {
    let out = sns()
        .await
        .list_subscriptions_by_topic()
        .topic_arn(topic_arn)
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

async fn sub_attrs(arn: &str) -> HashMap<String, String> {
    sns()
        .await
        .get_subscription_attributes()
        .subscription_arn(arn)
        .send()
        .await
        .unwrap()
        .attributes()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn sns_topic_and_subscription_full_lifecycle() {
    let name = unique("tf-alerts");
    let stack = TestStack::new(&topic_stack(&name, "Alerts", "ops@example.com", "high"));
    stack.apply();

    let arn = find_topic(&name).await.expect("topic exists after apply");
    assert_eq!(
        topic_attrs(&arn)
            .await
            .unwrap()
            .get("DisplayName")
            .map(String::as_str),
        Some("Alerts")
    );
    let subs = subscriptions(&arn).await;
    assert_eq!(subs.len(), 1);
    assert_eq!(
        (subs[0].1.as_str(), subs[0].2.as_str()),
        ("email", "ops@example.com")
    );
    let fp: serde_json::Value =
        serde_json::from_str(&sub_attrs(&subs[0].0).await["FilterPolicy"]).unwrap();
    assert_eq!(fp, serde_json::json!({"severity": ["high"]}));

    // moto confirms email subscriptions at once, so pending_confirmation is false here;
    // against AWS it stays true until someone clicks, and is never diffed either way.
    let plan = stack.plan_json();
    assert!(
        changed(&plan).is_empty(),
        "no-op plan after apply, got {:?}",
        changed(&plan)
    );

    // In place: the topic's display name and the subscription's filter policy.
    stack.write(
        "main.tf",
        &topic_stack(&name, "Campus alerts", "ops@example.com", "critical"),
    );
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan),
        [
            (
                "aws_sns_topic.alerts".to_string(),
                vec!["update".to_string()]
            ),
            (
                "aws_sns_topic_subscription.ops".to_string(),
                vec!["update".to_string()]
            )
        ]
        .into()
    );
    assert_eq!(
        changed_attrs(&plan, "aws_sns_topic.alerts"),
        vec!["display_name"]
    );
    assert_eq!(
        changed_attrs(&plan, "aws_sns_topic_subscription.ops"),
        vec!["filter_policy"]
    );
    stack.apply();
    assert_eq!(
        topic_attrs(&arn)
            .await
            .unwrap()
            .get("DisplayName")
            .map(String::as_str),
        Some("Campus alerts")
    );
    let subs = subscriptions(&arn).await;
    let fp: serde_json::Value =
        serde_json::from_str(&sub_attrs(&subs[0].0).await["FilterPolicy"]).unwrap();
    assert_eq!(fp, serde_json::json!({"severity": ["critical"]}));

    // Force-new: the subscription endpoint (and only the subscription is replaced).
    stack.write(
        "main.tf",
        &topic_stack(&name, "Campus alerts", "oncall@example.com", "critical"),
    );
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan),
        [(
            "aws_sns_topic_subscription.ops".to_string(),
            vec!["delete".to_string(), "create".to_string()]
        )]
        .into()
    );
    stack.apply();
    let subs = subscriptions(&arn).await;
    assert_eq!(
        subs.iter().map(|s| s.2.as_str()).collect::<Vec<_>>(),
        vec!["oncall@example.com"],
        "old subscription removed"
    );

    // Force-new: the topic name replaces the topic and, through the reference, its subscription.
    let renamed = unique("tf-alerts");
    stack.write(
        "main.tf",
        &topic_stack(&renamed, "Campus alerts", "oncall@example.com", "critical"),
    );
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan)["aws_sns_topic.alerts"],
        vec!["delete", "create"]
    );
    stack.apply();
    assert!(find_topic(&name).await.is_none(), "old topic deleted");
    let new_arn = find_topic(&renamed).await.expect("new topic");
    assert_eq!(
        subscriptions(&new_arn).await.len(),
        1,
        "subscription follows the new topic"
    );

    stack.destroy();
    assert!(
        find_topic(&renamed).await.is_none(),
        "topic gone after destroy"
    );
}

#[tokio::test]
async fn drift_made_behind_thingforms_back_shows_in_the_next_plan() {
    let name = unique("tf-drift");
    let stack = TestStack::new(&topic_stack(&name, "Alerts", "ops@example.com", "high"));
    stack.apply();
    let arn = find_topic(&name).await.unwrap();
    sns()
        .await
        .set_topic_attributes()
        .topic_arn(&arn)
        .attribute_name("DisplayName")
        .attribute_value("changed by hand")
        .send()
        .await
        .unwrap();

    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan),
        [(
            "aws_sns_topic.alerts".to_string(),
            vec!["update".to_string()]
        )]
        .into()
    );
    assert_eq!(
        changed_attrs(&plan, "aws_sns_topic.alerts"),
        vec!["display_name"]
    );
    let drift = plan["resource_drift"].as_array().unwrap();
    assert_eq!(drift.len(), 1);
    assert_eq!(drift[0]["address"], "aws_sns_topic.alerts");
    assert_eq!(
        drift[0]["changed_attributes"],
        serde_json::json!(["display_name"])
    );
    let human = stack.ok(&["plan"]);
    assert!(
        human.contains("Objects have changed outside of thingform"),
        "{human}"
    );
    assert!(
        human.contains("\"changed by hand\" -> \"Alerts\""),
        "{human}"
    );

    stack.apply();
    assert_eq!(
        topic_attrs(&arn).await.unwrap()["DisplayName"],
        "Alerts",
        "apply corrects the drift"
    );

    // An object deleted behind thingform's back is re-created.
    sns()
        .await
        .delete_topic()
        .topic_arn(&arn)
        .send()
        .await
        .unwrap();
    let plan = stack.plan_json();
    assert_eq!(changed(&plan)["aws_sns_topic.alerts"], vec!["create"]);
    stack.destroy();
}
