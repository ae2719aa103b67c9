//! Terraform parity (issue 10): configurations taken from the Terraform AWS provider's
//! documentation (hashicorp/terraform-provider-aws, website/docs/r/*.html.markdown),
//! applied against moto, checked through the SDK, re-planned as a no-op and destroyed.

use crate::harness::*;

/// Applies, asserts the next plan is a no-op.
fn apply_noop(stack: &TestStack) {
    stack.apply();
    let plan = stack.plan_json();
    assert!(
        changed(&plan).is_empty(),
        "no-op plan after apply, got {:?}\n{}",
        changed(&plan),
        serde_json::to_string_pretty(&plan["resource_changes"]).unwrap()
    );
}

// --- the three perpetual diffs ---------------------------------------------------------

#[tokio::test]
async fn dynamodb_ttl_with_empty_attribute_name_is_a_no_op() {
    // The `ttl` block as in website/docs/r/dynamodb_table.html.markdown ("Example Usage"),
    // disabled the way users write it: `attribute_name = ""`, `enabled = false`.
    let name = unique("GameScores");
    let stack = TestStack::new(&format!(
        r#"
resource "aws_dynamodb_table" "basic-dynamodb-table" {{
  name           = "{name}"
  billing_mode   = "PROVISIONED"
  read_capacity  = 20
  write_capacity = 20
  hash_key       = "UserId"

  attribute {{
    name = "UserId"
    type = "S"
  }}

  ttl {{
    attribute_name = ""
    enabled        = false
  }}
}}
"#
    ));
    apply_noop(&stack);
    let ttl = dynamodb()
        .await
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    assert_ne!(
        ttl.time_to_live_description()
            .and_then(|d| d.time_to_live_status())
            .map(|s| s.as_str()),
        Some("ENABLED")
    );
    stack.destroy();
    assert!(
        dynamodb()
            .await
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .not_found()
    );
}

async fn rules(bucket: &str) -> Vec<aws_sdk_s3::types::LifecycleRule> {
    s3().await
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .unwrap()
        .rules()
        .to_vec()
}

#[tokio::test]
async fn lifecycle_rule_level_prefix_and_empty_expiration_are_no_ops() {
    // website/docs/r/s3_bucket_lifecycle_configuration.html.markdown documents the
    // rule-level `prefix` ("Required if `filter` not specified", deprecated by S3) and an
    // `expiration` block whose arguments are all optional; rule "log" uses the former,
    // rule "empty" the latter with an empty `expiration {}`.
    let bucket = unique("my-bucket");
    let stack = TestStack::new(&format!(
        r#"
resource "aws_s3_bucket" "bucket" {{
  bucket = "{bucket}"
}}

resource "aws_s3_bucket_lifecycle_configuration" "bucket-config" {{
  bucket = aws_s3_bucket.bucket.bucket

  rule {{
    id     = "log"
    prefix = "log/"

    expiration {{
      days = 90
    }}

    status = "Enabled"
  }}

  rule {{
    id = "empty"

    filter {{
      prefix = "tmp/"
    }}

    expiration {{}}

    noncurrent_version_expiration {{
      noncurrent_days = 1
    }}

    status = "Enabled"
  }}
}}
"#
    ));
    apply_noop(&stack);
    let rs = rules(&bucket).await;
    let log = rs.iter().find(|r| r.id() == Some("log")).expect("rule log");
    let prefix = log.filter().and_then(|f| f.prefix()).or(
        #[allow(deprecated)]
        log.prefix(),
    );
    assert_eq!(prefix, Some("log/"));
    assert_eq!(log.expiration().and_then(|e| e.days()), Some(90));
    let empty = rs
        .iter()
        .find(|r| r.id() == Some("empty"))
        .expect("rule empty");
    assert_eq!(
        empty
            .noncurrent_version_expiration()
            .and_then(|n| n.noncurrent_days()),
        Some(1)
    );
    stack.destroy();
    assert!(
        s3().await
            .head_bucket()
            .bucket(&bucket)
            .send()
            .await
            .not_found()
    );
}
