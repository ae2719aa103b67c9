//! Batched refresh (`read_many`) and lean creates of the fleet types, against moto.
//!
//! Each test applies a small stack, changes or deletes one object behind thingform's
//! back through the SDK, and checks that a plan sees exactly that (so the list-based
//! read agrees with the single read). Plans and applies run through a loopback proxy
//! that records every request, so the tests also check which AWS calls were made.

use crate::calls::{CallLog, count, ops};
use crate::harness::*;

fn list_things_in_group(m: &str, s: &[&str]) -> bool {
    m == "GET" && s.len() == 3 && s[0] == "thing-groups" && s[2] == "things"
}
fn list_groups_for_thing(m: &str, s: &[&str]) -> bool {
    m == "GET" && s.len() == 3 && s[0] == "things" && s[2] == "thing-groups"
}
fn list_certificates(m: &str, s: &[&str]) -> bool {
    m == "GET" && s == ["certificates"]
}
fn describe_certificate(m: &str, s: &[&str]) -> bool {
    m == "GET" && s.len() == 2 && s[0] == "certificates"
}
fn list_targets_for_policy(m: &str, s: &[&str]) -> bool {
    m == "POST" && s.len() == 2 && s[0] == "policy-targets"
}
fn list_attached_policies(m: &str, s: &[&str]) -> bool {
    m == "POST" && s.len() == 2 && s[0] == "attached-policies"
}
fn list_thing_principals(m: &str, s: &[&str]) -> bool {
    m == "GET" && s.len() == 3 && s[0] == "things" && s[2] == "principals"
}
fn describe_thing(m: &str, s: &[&str]) -> bool {
    m == "GET" && s.len() == 2 && s[0] == "things"
}
fn list_principal_things(m: &str, s: &[&str]) -> bool {
    m == "GET" && s == ["principals", "things"]
}
fn create_thing(m: &str, s: &[&str]) -> bool {
    m == "POST" && s.len() == 2 && s[0] == "things"
}
fn delete_thing(m: &str, s: &[&str]) -> bool {
    m == "DELETE" && s.len() == 2 && s[0] == "things"
}

fn outputs(stack: &TestStack) -> serde_json::Value {
    serde_json::from_str(&stack.ok_in(&["output", "-json"])).unwrap()
}

fn output_list(stack: &TestStack, name: &str) -> Vec<String> {
    outputs(stack)[name]["value"]
        .as_array()
        .unwrap_or_else(|| panic!("output {name}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn change(address: &str, action: &str) -> (String, Vec<String>) {
    (address.to_string(), vec![action.to_string()])
}

#[tokio::test]
async fn certificates_are_refreshed_with_list_certificates() {
    let stack = TestStack::new(
        r#"
resource "aws_iot_certificate" "c" {
  count  = 5
  active = count.index != 1
}
output "ids" {
  value = aws_iot_certificate.c[*].id
}
"#,
    );
    stack.apply();
    let ids = output_list(&stack, "ids");
    let log = CallLog::start();
    assert!(
        changed(&log.plan_json(&stack)).is_empty(),
        "no-op plan of the certificates"
    );
    let calls = log.take();
    assert_eq!(count(&calls, describe_certificate), 0, "{calls:?}");
    assert!(count(&calls, list_certificates) >= 1, "{calls:?}");

    // Behind thingform's back: certificate 2 deactivated, certificate 3 deleted.
    let client = iot().await;
    let set = |id: &str, status: aws_sdk_iot::types::CertificateStatus| {
        client
            .update_certificate()
            .certificate_id(id)
            .new_status(status)
            .send()
    };
    set(&ids[2], aws_sdk_iot::types::CertificateStatus::Inactive)
        .await
        .unwrap();
    set(&ids[3], aws_sdk_iot::types::CertificateStatus::Inactive)
        .await
        .unwrap();
    client
        .delete_certificate()
        .certificate_id(&ids[3])
        .send()
        .await
        .unwrap();
    let plan = log.plan_json(&stack);
    assert_eq!(
        changed(&plan),
        [
            change("aws_iot_certificate.c[2]", "update"),
            change("aws_iot_certificate.c[3]", "create"),
        ]
        .into()
    );
    let calls = log.take();
    // Only the certificate missing from the list is asked about directly.
    assert_eq!(count(&calls, describe_certificate), 1, "{calls:?}");
    stack.destroy();
}

fn fleet_stack(p: &str, things: usize, certs: usize) -> String {
    format!(
        r#"
resource "aws_iot_thing" "t" {{
  count = {things}
  name  = "{p}-${{count.index}}"
  attributes = {{
    building = "b${{count.index}}"
  }}
}}
resource "aws_iot_certificate" "c" {{
  count  = {certs}
  active = true
}}
resource "aws_iot_policy" "device" {{
  name = "{p}"
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = ["iot:Connect"], Resource = ["*"] }}]
  }})
}}
resource "aws_iot_thing_principal_attachment" "a" {{
  count     = {certs}
  thing     = aws_iot_thing.t[count.index % {things}].name
  principal = aws_iot_certificate.c[count.index].arn
}}
resource "aws_iot_policy_attachment" "a" {{
  count  = {certs}
  policy = aws_iot_policy.device.name
  target = aws_iot_certificate.c[count.index].arn
}}
output "cert_arns" {{
  value = aws_iot_certificate.c[*].arn
}}
"#
    )
}

#[tokio::test]
async fn a_small_fleet_is_created_and_destroyed_without_read_backs() {
    let p = unique("tfbc");
    let stack = TestStack::new(&fleet_stack(&p, 3, 3));
    let log = CallLog::start();
    log.run(&stack, &["apply", "-auto-approve"]);
    let calls = log.take();
    // The apply went through the proxy (so the zero counts below mean something).
    assert_eq!(count(&calls, create_thing), 3, "{calls:?}");
    for (what, f) in [
        ("DescribeThing", describe_thing as fn(&str, &[&str]) -> bool),
        ("DescribeCertificate", describe_certificate),
        ("ListThingPrincipals", list_thing_principals),
        ("ListAttachedPolicies", list_attached_policies),
    ] {
        assert_eq!(count(&calls, f), 0, "{what} during apply: {calls:?}");
    }
    // Everything exists, and the state agrees with AWS: the next plan is empty.
    let client = iot().await;
    for i in 0..3 {
        let t = client
            .describe_thing()
            .thing_name(format!("{p}-{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(t.version(), 1);
    }
    for arn in output_list(&stack, "cert_arns") {
        let attached = client
            .list_attached_policies()
            .target(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(attached.policies().len(), 1);
        let things = client
            .list_principal_things()
            .principal(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(things.things().len(), 1);
    }
    assert!(changed(&stack.plan_json()).is_empty(), "no-op plan");

    log.take();
    // Without refresh, so that only the deletes' own calls are counted.
    log.run(&stack, &["destroy", "-refresh=false", "-auto-approve"]);
    let calls = log.take();
    assert_eq!(count(&calls, delete_thing), 3, "{calls:?}");
    for (what, f) in [
        (
            "ListThingPrincipals",
            list_thing_principals as fn(&str, &[&str]) -> bool,
        ),
        ("ListAttachedPolicies", list_attached_policies),
        ("ListPrincipalThings", list_principal_things),
    ] {
        assert_eq!(count(&calls, f), 0, "{what} during destroy: {calls:?}");
    }
    for i in 0..3 {
        assert!(
            client
                .describe_thing()
                .thing_name(format!("{p}-{i}"))
                .send()
                .await
                .not_found(),
            "thing {i} deleted"
        );
    }
}

#[tokio::test]
async fn policy_and_principal_attachments_are_refreshed_per_policy_and_per_thing() {
    // 2 Things, 4 certificates: each Thing holds 2 certificates, one policy holds all 4.
    let p = unique("tfba");
    let stack = TestStack::new(&fleet_stack(&p, 2, 4));
    stack.apply();
    let arns = output_list(&stack, "cert_arns");
    let log = CallLog::start();
    assert!(changed(&log.plan_json(&stack)).is_empty(), "no-op plan");
    let calls = log.take();
    assert_eq!(count(&calls, list_targets_for_policy), 1, "{calls:?}");
    assert_eq!(count(&calls, list_attached_policies), 0, "{calls:?}");
    assert_eq!(count(&calls, list_thing_principals), 2, "{calls:?}");

    // Behind thingform's back: certificate 1 loses its policy, certificate 2 its Thing.
    let client = iot().await;
    client
        .detach_policy()
        .policy_name(&p)
        .target(&arns[1])
        .send()
        .await
        .unwrap();
    client
        .detach_thing_principal()
        .thing_name(format!("{p}-0"))
        .principal(&arns[2])
        .send()
        .await
        .unwrap();
    let plan = log.plan_json(&stack);
    assert_eq!(
        changed(&plan),
        [
            change("aws_iot_policy_attachment.a[1]", "create"),
            change("aws_iot_thing_principal_attachment.a[2]", "create"),
        ]
        .into()
    );
    let calls = log.take();
    assert_eq!(count(&calls, list_targets_for_policy), 1, "{calls:?}");
    // The detached target is confirmed with a single read.
    assert_eq!(count(&calls, list_attached_policies), 1, "{calls:?}");
    assert_eq!(count(&calls, list_thing_principals), 2, "{calls:?}");
    stack.apply();
    assert!(changed(&stack.plan_json()).is_empty(), "re-attached");
    stack.destroy();
}

#[tokio::test]
async fn thing_group_memberships_are_refreshed_per_group() {
    let p = unique("tfbg");
    let stack = TestStack::new(&format!(
        r#"
resource "aws_iot_thing_group" "g" {{
  name = "{p}"
}}
resource "aws_iot_thing" "t" {{
  count = 4
  name  = "{p}-${{count.index}}"
}}
resource "aws_iot_thing_group_membership" "m" {{
  count            = 4
  thing_name       = aws_iot_thing.t[count.index].name
  thing_group_name = aws_iot_thing_group.g.name
}}
"#
    ));
    stack.apply();
    let log = CallLog::start();
    assert!(changed(&log.plan_json(&stack)).is_empty(), "no-op plan");
    let calls = log.take();
    assert_eq!(count(&calls, list_things_in_group), 1, "{calls:?}");
    assert_eq!(count(&calls, list_groups_for_thing), 0, "{calls:?}");

    iot()
        .await
        .remove_thing_from_thing_group()
        .thing_group_name(&p)
        .thing_name(format!("{p}-2"))
        .send()
        .await
        .unwrap();
    let plan = log.plan_json(&stack);
    assert_eq!(
        changed(&plan),
        [change("aws_iot_thing_group_membership.m[2]", "create")].into()
    );
    let calls = log.take();
    assert_eq!(count(&calls, list_things_in_group), 1, "{calls:?}");
    // The missing member is confirmed with a single read.
    assert_eq!(count(&calls, list_groups_for_thing), 1, "{calls:?}");
    stack.destroy();
}

#[tokio::test]
async fn alarms_are_described_in_batches() {
    let p = unique("tfbal");
    let stack = TestStack::new(&format!(
        r#"
resource "aws_cloudwatch_metric_alarm" "a" {{
  count               = 3
  alarm_name          = "{p}-${{count.index}}"
  comparison_operator = "LessThanThreshold"
  evaluation_periods  = 2
  metric_name         = "Success"
  namespace           = "AWS/IoT"
  period              = 300
  statistic           = "Sum"
  threshold           = count.index + 1
  dimensions = {{
    RuleName = "r${{count.index}}"
  }}
  tags = {{
    n = "${{count.index}}"
  }}
}}
"#
    ));
    stack.apply();
    let log = CallLog::start();
    assert!(changed(&log.plan_json(&stack)).is_empty(), "no-op plan");
    let calls = log.take();
    assert_eq!(ops(&calls, "DescribeAlarms"), 1, "{calls:?}");

    let cw = cloudwatch().await;
    cw.delete_alarms()
        .alarm_names(format!("{p}-1"))
        .send()
        .await
        .unwrap();
    cw.tag_resource()
        .resource_arn(
            cw.describe_alarms()
                .alarm_names(format!("{p}-2"))
                .send()
                .await
                .unwrap()
                .metric_alarms()[0]
                .alarm_arn()
                .unwrap(),
        )
        .tags(
            aws_sdk_cloudwatch::types::Tag::builder()
                .key("n")
                .value("changed")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let plan = log.plan_json(&stack);
    assert_eq!(
        changed(&plan),
        [
            change("aws_cloudwatch_metric_alarm.a[1]", "create"),
            change("aws_cloudwatch_metric_alarm.a[2]", "update"),
        ]
        .into()
    );
    assert_eq!(
        changed_attrs(&plan, "aws_cloudwatch_metric_alarm.a[2]"),
        vec!["tags"]
    );
    let calls = log.take();
    assert_eq!(ops(&calls, "DescribeAlarms"), 1, "{calls:?}");
    stack.destroy();
}

#[tokio::test]
async fn log_groups_are_listed_by_prefix() {
    let p = unique("tfblg");
    let stack = TestStack::new(&format!(
        r#"
resource "aws_cloudwatch_log_group" "g" {{
  count             = 4
  name              = "/thingform/{p}/${{count.index}}"
  retention_in_days = count.index == 0 ? 7 : 14
}}
"#
    ));
    stack.apply();
    let log = CallLog::start();
    assert!(changed(&log.plan_json(&stack)).is_empty(), "no-op plan");
    let calls = log.take();
    assert_eq!(ops(&calls, "DescribeLogGroups"), 1, "{calls:?}");

    let logs = logs().await;
    logs.delete_log_group()
        .log_group_name(format!("/thingform/{p}/1"))
        .send()
        .await
        .unwrap();
    logs.put_retention_policy()
        .log_group_name(format!("/thingform/{p}/3"))
        .retention_in_days(30)
        .send()
        .await
        .unwrap();
    let plan = log.plan_json(&stack);
    assert_eq!(
        changed(&plan),
        [
            change("aws_cloudwatch_log_group.g[1]", "create"),
            change("aws_cloudwatch_log_group.g[3]", "update"),
        ]
        .into()
    );
    let calls = log.take();
    // One listing, and one direct look for the group it lacked.
    assert_eq!(ops(&calls, "DescribeLogGroups"), 2, "{calls:?}");
    stack.destroy();
}

#[tokio::test]
async fn role_policy_attachments_are_refreshed_per_role() {
    let p = unique("tfbr");
    let stack = TestStack::new(&format!(
        r#"
resource "aws_iam_role" "r" {{
  name               = "{p}"
  assume_role_policy = {assume}
}}
resource "aws_iam_role_policy_attachment" "a" {{
  for_each = toset([
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSIoTLogging",
    "arn:aws:iam::aws:policy/service-role/AWSIoTRuleActions",
  ])
  role       = aws_iam_role.r.name
  policy_arn = each.value
}}
"#,
        assume = assume_role("iot.amazonaws.com")
    ));
    stack.apply();
    let log = CallLog::start();
    assert!(changed(&log.plan_json(&stack)).is_empty(), "no-op plan");
    let calls = log.take();
    assert_eq!(ops(&calls, "ListAttachedRolePolicies"), 1, "{calls:?}");

    iam()
        .await
        .detach_role_policy()
        .role_name(&p)
        .policy_arn("arn:aws:iam::aws:policy/service-role/AWSIoTLogging")
        .send()
        .await
        .unwrap();
    let plan = log.plan_json(&stack);
    assert_eq!(
        changed(&plan),
        [change(
            "aws_iam_role_policy_attachment.a[\"arn:aws:iam::aws:policy/service-role/AWSIoTLogging\"]",
            "create"
        )]
        .into()
    );
    let calls = log.take();
    assert_eq!(ops(&calls, "ListAttachedRolePolicies"), 1, "{calls:?}");
    stack.destroy();
}
