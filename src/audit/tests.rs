//! The audit on small stacks, one per finding, and on the campus stack (which must be
//! clean).

use super::*;

fn stack_of(hcl: &str) -> (tempfile::TempDir, Stack) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), hcl).unwrap();
    let (s, _) = Stack::load(dir.path(), &[], "default").unwrap_or_else(|d| panic!("{d}"));
    (dir, s)
}

fn reasons(hcl: &str) -> Vec<(String, String, String)> {
    let (_d, s) = stack_of(hcl);
    audit(&s, None)
        .into_iter()
        .map(|f| (f.check, f.reason, f.resource))
        .collect()
}

fn has(found: &[(String, String, String)], check: &str, reason: &str, res: &str) -> bool {
    found
        .iter()
        .any(|(c, r, a)| c == check && r == reason && a == res)
}

#[test]
fn the_campus_stack_passes_clean() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks/campus");
    let (s, _) = Stack::load(&dir, &[], "default").unwrap_or_else(|d| panic!("{d}"));
    let f = audit(&s, None);
    assert!(f.is_empty(), "{f:#?}");

    // The checks did look: without the rule role's SNS statement, the heat alert's
    // action is not allowed, and without the Lambda permission the ingest rule's is not.
    let copy = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "tf") {
            let text = std::fs::read_to_string(&p).unwrap();
            let text = text
                .replace(
                    "actions   = [\"sns:Publish\"]",
                    "actions   = [\"sns:GetTopicAttributes\"]",
                )
                .replace("= \"iot.amazonaws.com\"\n", "= \"events.amazonaws.com\"\n");
            std::fs::write(copy.path().join(p.file_name().unwrap()), text).unwrap();
        }
    }
    std::os::unix::fs::symlink(dir.join("modules"), copy.path().join("modules")).unwrap();
    let (s, _) = Stack::load(copy.path(), &[], "default").unwrap_or_else(|d| panic!("{d}"));
    let f: Vec<(String, String)> = audit(&s, None)
        .into_iter()
        .map(|f| (f.check, f.resource))
        .collect();
    assert!(
        f.contains(&(
            "TOPIC_RULE_ROLE_PERMISSION_CHECK".into(),
            "aws_iot_topic_rule.heat_alert".into()
        )),
        "{f:?}"
    );
    assert!(
        f.contains(&(
            "TOPIC_RULE_LAMBDA_PERMISSION_CHECK".into(),
            "aws_iot_topic_rule.ingest".into()
        )),
        "{f:?}"
    );
}

#[test]
fn iot_policies_overly_permissive_and_misconfigured() {
    let f = reasons(
        r#"
resource "aws_iot_policy" "wide" {
  name = "wide"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = "iot:*", Resource = "*" },
      { Effect = "Deny", Action = "iot:Subscribe", Resource = "arn:aws:iot:eu-west-1:1:topicfilter/secret/+" },
    ]
  })
}
resource "aws_iot_policy" "scoped" {
  name = "scoped"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "iot:Publish", Resource = "arn:aws:iot:eu-west-1:1:topic/d/$${iot:Connection.Thing.ThingName}/*" }]
  })
}
"#,
    );
    assert!(
        has(
            &f,
            "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
            "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
            "aws_iot_policy.wide"
        ),
        "{f:?}"
    );
    assert!(
        has(
            &f,
            "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK",
            "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT",
            "aws_iot_policy.wide"
        ),
        "{f:?}"
    );
    assert!(
        has(
            &f,
            "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK",
            "TOPIC_FILTERS_INTENDED_TO_BE_DENIED_ALLOWED_USING_WILDCARDS",
            "aws_iot_policy.wide"
        ),
        "{f:?}"
    );
    assert!(
        !f.iter().any(|(_, _, a)| a == "aws_iot_policy.scoped"),
        "{f:?}"
    );
}

#[test]
fn a_certificate_on_two_things_and_disabled_logging() {
    let f = reasons(
        r#"
resource "aws_iot_thing" "a" { name = "a" }
resource "aws_iot_thing" "b" { name = "b" }
resource "aws_iot_certificate" "shared" { active = true }
resource "aws_iot_certificate" "own" { active = true }
resource "aws_iot_thing_principal_attachment" "a" {
  thing     = aws_iot_thing.a.name
  principal = aws_iot_certificate.shared.arn
}
resource "aws_iot_thing_principal_attachment" "b" {
  thing     = aws_iot_thing.b.name
  principal = aws_iot_certificate.shared.arn
}
resource "aws_iot_thing_principal_attachment" "own" {
  thing     = aws_iot_thing.b.name
  principal = aws_iot_certificate.own.arn
}
resource "aws_iot_logging_options" "this" {
  default_log_level = "DISABLED"
  role_arn          = "arn:aws:iam::1:role/log"
}
"#,
    );
    assert!(
        has(
            &f,
            "DEVICE_CERTIFICATE_SHARED_CHECK",
            "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES",
            "aws_iot_thing_principal_attachment.a"
        ),
        "{f:?}"
    );
    assert_eq!(
        f.iter()
            .filter(|x| x.0 == "DEVICE_CERTIFICATE_SHARED_CHECK")
            .count(),
        1,
        "{f:?}"
    );
    assert!(
        has(
            &f,
            "LOGGING_DISABLED_CHECK",
            "LOGGING_DISABLED",
            "aws_iot_logging_options.this"
        ),
        "{f:?}"
    );
}

#[test]
fn role_aliases_overly_permissive_and_unused_services() {
    let f = reasons(
        r#"
resource "aws_iam_role" "dev" {
  name = "devices"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "credentials.iot.amazonaws.com" } }] })
}
resource "aws_iam_role_policy" "dev" {
  name = "p"
  role = aws_iam_role.dev.name
  policy = jsonencode({ Version = "2012-10-17", Statement = [
    { Effect = "Allow", Action = ["s3:*", "iam:PassRole", "ec2:DescribeInstances", "iot:CreateThing"], Resource = "*" },
  ] })
}
resource "aws_iot_role_alias" "dev" {
  alias    = "devices"
  role_arn = aws_iam_role.dev.arn
}
"#,
    );
    let ra = "aws_iot_role_alias.dev";
    for r in [
        "ALLOWS_BROAD_ACCESS_TO_USED_SERVICES",
        "ALLOWS_ACCESS_TO_SECURITY_AUDITING_SERVICES",
        "ALLOWS_ACCESS_TO_IOT_NON_DATA_PLANE_ACTIONS",
    ] {
        assert!(
            has(&f, "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK", r, ra),
            "{r}: {f:?}"
        );
    }
    assert!(
        has(
            &f,
            "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK",
            "ALLOWS_ACCESS_TO_UNUSED_SERVICES",
            ra
        ),
        "{f:?}"
    );
}

const PIPELINE: &str = r#"
resource "aws_s3_bucket" "raw" { bucket = "raw-archive" }
resource "aws_sns_topic" "t" { name = "t" }
resource "aws_iam_role" "rule" {
  name = "rule"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "iot.amazonaws.com" } }] })
}
resource "aws_iam_role_policy" "rule" {
  name = "p"
  role = aws_iam_role.rule.name
  policy = jsonencode({ Version = "2012-10-17", Statement = [
    { Effect = "Allow", Action = "s3:PutObject", Resource = "${aws_s3_bucket.raw.arn}/raw/*" },
  ] })
}
resource "aws_lambda_function" "f" {
  function_name = "f"
  role          = aws_iam_role.rule.arn
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  filename      = "f.zip"
  source_code_hash = "x"
}
resource "aws_iot_topic_rule" "r" {
  name        = "r"
  enabled     = true
  sql         = "SELECT * FROM 'a/+'"
  sql_version = "2016-03-23"
  s3 {
    bucket_name = aws_s3_bucket.raw.bucket
    key         = "raw/$${topic(2)}.json"
    role_arn    = aws_iam_role.rule.arn
  }
  s3 {
    bucket_name = aws_s3_bucket.raw.bucket
    key         = "other/$${topic(2)}.json"
    role_arn    = aws_iam_role.rule.arn
  }
  sns {
    target_arn = aws_sns_topic.t.arn
    role_arn   = aws_iam_role.rule.arn
  }
  lambda {
    function_arn = aws_lambda_function.f.arn
  }
}
resource "aws_cloudwatch_metric_alarm" "quiet" {
  alarm_name          = "quiet"
  comparison_operator = "LessThanThreshold"
  evaluation_periods  = 1
  metric_name         = "Invocations"
  namespace           = "AWS/Lambda"
  period              = 60
  statistic           = "Sum"
  threshold           = 1
}
"#;

#[test]
fn pipeline_checks() {
    let f = reasons(PIPELINE);
    let r = "aws_iot_topic_rule.r";
    assert!(
        has(&f, "TOPIC_RULE_ERROR_ACTION_CHECK", "NO_ERROR_ACTION", r),
        "{f:?}"
    );
    assert!(
        has(
            &f,
            "TOPIC_RULE_LAMBDA_PERMISSION_CHECK",
            "LAMBDA_NOT_INVOKABLE_BY_IOT",
            r
        ),
        "{f:?}"
    );
    assert!(
        has(
            &f,
            "CLOUDWATCH_ALARM_ACTIONS_CHECK",
            "NO_ALARM_ACTIONS",
            "aws_cloudwatch_metric_alarm.quiet"
        ),
        "{f:?}"
    );
    let (_d, s) = stack_of(PIPELINE);
    let msgs: Vec<String> = audit(&s, None)
        .into_iter()
        .filter(|f| f.check == "TOPIC_RULE_ROLE_PERMISSION_CHECK")
        .map(|f| f.message)
        .collect();
    // raw/* is allowed; other/... and sns:Publish are not.
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(
        msgs[0].contains("s3:PutObject on arn:aws:s3:::raw-archive/other/x.json"),
        "{msgs:?}"
    );
    assert!(msgs[1].contains("sns:Publish on arn:aws:sns:"), "{msgs:?}");

    // The permission for iot.amazonaws.com, an error action and alarm actions fix them.
    let fixed = PIPELINE.replace(
        "resource \"aws_cloudwatch_metric_alarm\" \"quiet\" {",
        "resource \"aws_lambda_permission\" \"iot\" {\n  action = \"lambda:InvokeFunction\"\n  function_name = aws_lambda_function.f.function_name\n  principal = \"iot.amazonaws.com\"\n  source_arn = aws_iot_topic_rule.r.arn\n}\nresource \"aws_cloudwatch_metric_alarm\" \"quiet\" {\n  alarm_actions = [aws_sns_topic.t.arn]",
    );
    let f = reasons(&fixed);
    assert!(
        !f.iter().any(|x| x.0 == "TOPIC_RULE_LAMBDA_PERMISSION_CHECK"
            || x.0 == "CLOUDWATCH_ALARM_ACTIONS_CHECK"),
        "{f:?}"
    );
}
