//! `rule test` and `audit` after an apply: the values of created objects (the bucket's
//! name, the role's ARN as AWS made it) come from the state, not placeholders. What was
//! created is checked through the SDK. (moto stores topic rules but never runs them: the
//! evaluation itself is thingform's, covered offline.)

use crate::harness::*;

fn stack(bucket: &str, role: &str, rule: &str) -> String {
    format!(
        r#"resource "aws_s3_bucket" "raw" {{
  bucket        = "{bucket}"
  force_destroy = true
}}

resource "aws_dynamodb_table" "hot" {{
  name         = "{bucket}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "device"
  attribute {{
    name = "device"
    type = "S"
  }}
}}

resource "aws_sns_topic" "hot" {{
  name = "{bucket}"
}}

resource "aws_iam_role" "rule" {{
  name               = "{role}"
  assume_role_policy = {trust}
}}

resource "aws_iam_role_policy" "rule" {{
  name = "archive"
  role = aws_iam_role.rule.name
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [
      {{ Effect = "Allow", Action = "s3:PutObject", Resource = "${{aws_s3_bucket.raw.arn}}/raw/*" }},
      {{ Effect = "Allow", Action = "dynamodb:PutItem", Resource = aws_dynamodb_table.hot.arn }},
      {{ Effect = "Allow", Action = "sns:Publish", Resource = aws_sns_topic.hot.arn }},
    ]
  }})
}}

resource "aws_iot_topic_rule" "archive" {{
  name        = "{rule}"
  enabled     = true
  sql         = "SELECT *, topic(2) AS device FROM 'plant/+/telemetry' WHERE temp > 30"
  sql_version = "2016-03-23"

  s3 {{
    bucket_name = aws_s3_bucket.raw.bucket
    key         = "raw/$${{topic(2)}}/$${{timestamp()}}.json"
    role_arn    = aws_iam_role.rule.arn
  }}

  republish {{
    topic    = "alerts/$${{topic(2)}}"
    role_arn = aws_iam_role.rule.arn
  }}

  dynamodbv2 {{
    role_arn = aws_iam_role.rule.arn
    put_item {{
      table_name = aws_dynamodb_table.hot.name
    }}
  }}

  sns {{
    target_arn = aws_sns_topic.hot.arn
    role_arn   = aws_iam_role.rule.arn
  }}

  error_action {{
    s3 {{
      bucket_name = aws_s3_bucket.raw.bucket
      key         = "raw/errors/$${{newuuid()}}"
      role_arn    = aws_iam_role.rule.arn
    }}
  }}
}}
"#,
        trust = assume_role("iot.amazonaws.com")
    )
}

#[tokio::test]
async fn rule_test_and_audit_read_created_objects_from_the_state() {
    let bucket = unique("tf-rules");
    let role = unique("tf-rules-role");
    let rule = unique("tf_rules").replace('-', "_");
    let s = TestStack::new(&stack(&bucket, &role, &rule));
    s.apply();

    let got = iot()
        .await
        .get_topic_rule()
        .rule_name(&rule)
        .send()
        .await
        .unwrap();
    assert!(
        got.rule()
            .unwrap()
            .sql()
            .unwrap()
            .contains("'plant/+/telemetry'")
    );
    let role_arn = iam()
        .await
        .get_role()
        .role_name(&role)
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_string();

    let out = s.ok(&[
        "rule",
        "test",
        "aws_iot_topic_rule.archive",
        "-topic",
        "plant/press-7/telemetry",
        "-payload",
        r#"{"temp": 31.5}"#,
        "-json",
    ]);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["matched"], true, "{out}");
    assert_eq!(r["output"]["device"], "press-7");
    let of = |t: &str| {
        r["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["type"] == t)
            .unwrap_or_else(|| panic!("no {t} action in {out}"))
            .clone()
    };
    let archive = of("s3");
    assert_eq!(archive["bucket_name"], bucket.as_str());
    assert_eq!(
        archive["role_arn"],
        role_arn.as_str(),
        "the role ARN AWS made, from the state"
    );
    assert!(
        archive["key"].as_str().unwrap().starts_with("raw/press-7/"),
        "{out}"
    );
    assert_eq!(of("republish")["topic"], "alerts/press-7");

    // -perform does what AWS IoT would: the S3 object lands (read back through the SDK);
    // republish is not performed by thingform, and says so.
    let out = s.ok(&[
        "rule",
        "test",
        "aws_iot_topic_rule.archive",
        "-topic",
        "plant/press-9/telemetry",
        "-payload",
        r#"{"temp": 35}"#,
        "-perform",
        "-json",
    ]);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let acts = r["actions"].as_array().unwrap();
    let put = acts.iter().find(|a| a["type"] == "s3").unwrap();
    let key = put["key"].as_str().unwrap();
    assert_eq!(put["performed"], format!("s3://{bucket}/{key}"), "{out}");
    let obj = s3()
        .await
        .get_object()
        .bucket(&bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let body = obj.body.collect().await.unwrap().into_bytes();
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc, serde_json::json!({"temp": 35, "device": "press-9"}));
    let item = dynamodb()
        .await
        .get_item()
        .table_name(&bucket)
        .key(
            "device",
            aws_sdk_dynamodb::types::AttributeValue::S("press-9".into()),
        )
        .send()
        .await
        .unwrap();
    let item = item.item().expect("the DynamoDBv2 action put the item");
    assert_eq!(
        item["temp"],
        aws_sdk_dynamodb::types::AttributeValue::N("35".into())
    );
    let sns_act = acts.iter().find(|a| a["type"] == "sns").unwrap();
    assert!(
        sns_act["performed"]
            .as_str()
            .unwrap()
            .contains("message id"),
        "{out}"
    );
    let rp = acts.iter().find(|a| a["type"] == "republish").unwrap();
    assert!(rp["not_performed"].is_string(), "{out}");

    // The role allows s3:PutObject under raw/ but not iot:Publish: the audit, on the
    // state's ARNs, says so for the republish action only.
    let a: serde_json::Value = serde_json::from_str(&s.ok(&["audit", "-json"])).unwrap();
    let role_findings: Vec<&serde_json::Value> = a["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check_name"] == "TOPIC_RULE_ROLE_PERMISSION_CHECK")
        .collect();
    assert_eq!(role_findings.len(), 1, "{a}");
    let msg = role_findings[0]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("republish:")
            && msg.contains(&role_arn)
            && msg.contains("iot:Publish on arn:aws:iot:"),
        "{msg}"
    );

    s.destroy();
    assert!(
        iot()
            .await
            .get_topic_rule()
            .rule_name(&rule)
            .send()
            .await
            .is_err()
    );
}
