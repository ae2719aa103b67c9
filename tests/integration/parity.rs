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

// --- aws_iot_topic_rule actions --------------------------------------------------------

#[tokio::test]
async fn topic_rule_docs_example_with_sns_error_action() {
    // Unchanged from website/docs/r/iot_topic_rule.html.markdown ("Example Usage").
    let stack = TestStack::new(
        r#"
resource "aws_iot_topic_rule" "rule" {
  name        = "MyRule"
  description = "Example rule"
  enabled     = true
  sql         = "SELECT * FROM 'topic/test'"
  sql_version = "2016-03-23"

  sns {
    message_format = "RAW"
    role_arn       = aws_iam_role.role.arn
    target_arn     = aws_sns_topic.mytopic.arn
  }

  error_action {
    sns {
      message_format = "RAW"
      role_arn       = aws_iam_role.role.arn
      target_arn     = aws_sns_topic.myerrortopic.arn
    }
  }
}

resource "aws_sns_topic" "mytopic" {
  name = "mytopic"
}

resource "aws_sns_topic" "myerrortopic" {
  name = "myerrortopic"
}

data "aws_iam_policy_document" "assume_role" {
  statement {
    effect = "Allow"

    principals {
      type        = "Service"
      identifiers = ["iot.amazonaws.com"]
    }

    actions = ["sts:AssumeRole"]
  }
}

resource "aws_iam_role" "myrole" {
  name               = "myrole"
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
}

data "aws_iam_policy_document" "mypolicy" {
  statement {
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.mytopic.arn]
  }
}

resource "aws_iam_role_policy" "mypolicy" {
  name   = "mypolicy"
  role   = aws_iam_role.myrole.id
  policy = data.aws_iam_policy_document.mypolicy.json
}
"#,
    );
    // The example refers to `aws_iam_role.role`, which it never declares (the role is
    // `myrole`): Terraform rejects it too, so validate must fail on that reference.
    let out = stack.run(&["validate"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("aws_iam_role.role"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn every_action_rule(name: &str) -> String {
    // Each action block as website/docs/r/iot_topic_rule.html.markdown documents its
    // arguments (one block per action kind), the `http` one also as the error action.
    format!(
        r#"
locals {{
  role = "arn:aws:iam::123456789012:role/iot-rules"
}}

resource "aws_iot_topic_rule" "all" {{
  name        = "{name}"
  enabled     = true
  sql         = "SELECT * FROM 'sensors/+/reading'"
  sql_version = "2016-03-23"

  http {{
    url              = "https://ingest.example.com/readings"
    confirmation_url = "https://ingest.example.com/"
    http_header {{
      key   = "X-Source"
      value = "iot"
    }}
    http_header {{
      key   = "X-Team"
      value = "campus"
    }}
  }}
  sqs {{
    queue_url  = "https://sqs.eu-west-1.amazonaws.com/123456789012/readings"
    role_arn   = local.role
    use_base64 = false
  }}
  kinesis {{
    role_arn      = local.role
    stream_name   = "readings"
    partition_key = "$${{topic()}}"
  }}
  firehose {{
    delivery_stream_name = "readings"
    role_arn             = local.role
    separator            = ","
    batch_mode           = true
  }}
  step_functions {{
    execution_name_prefix = "reading"
    state_machine_name    = "enrich"
    role_arn              = local.role
  }}
  timestream {{
    database_name = "campus"
    table_name    = "readings"
    role_arn      = local.role
    dimension {{
      name  = "device"
      value = "$${{clientId()}}"
    }}
    timestamp {{
      unit  = "MILLISECONDS"
      value = "$${{timestamp()}}"
    }}
  }}
  iot_analytics {{
    channel_name = "readings"
    role_arn     = local.role
  }}
  iot_events {{
    input_name = "readings"
    role_arn   = local.role
    message_id = "$${{newuuid()}}"
  }}
  kafka {{
    destination_arn = "arn:aws:iot:eu-west-1:123456789012:ruledestination/vpc/2ce781c8-68a6-4c52-9c62-63fe489ecc60"
    topic           = "readings"
    key             = "$${{clientId()}}"
    client_properties = {{
      "acks"              = "1"
      "bootstrap.servers" = "b-1.example.kafka.eu-west-1.amazonaws.com:9092"
    }}
    header {{
      key   = "source"
      value = "iot"
    }}
  }}
  elasticsearch {{
    endpoint = "https://search-readings.eu-west-1.es.amazonaws.com"
    id       = "$${{newuuid()}}"
    index    = "readings"
    type     = "reading"
    role_arn = local.role
  }}

  error_action {{
    http {{
      url = "https://ingest.example.com/errors"
      http_header {{
        key   = "X-Error"
        value = "1"
      }}
    }}
  }}
}}
"#
    )
}

#[tokio::test]
async fn topic_rule_every_action_round_trips() {
    let name = unique("all_actions").replace('-', "_");
    let stack = TestStack::new(&every_action_rule(&name));
    apply_noop(&stack);
    let rule = iot()
        .await
        .get_topic_rule()
        .rule_name(&name)
        .send()
        .await
        .unwrap();
    let rule = rule.rule().unwrap();
    let acts = rule.actions();
    assert_eq!(acts.len(), 10, "{acts:?}");
    let http = acts.iter().find_map(|a| a.http()).expect("http action");
    assert_eq!(http.url(), "https://ingest.example.com/readings");
    assert_eq!(
        http.headers()
            .iter()
            .map(|h| (h.key(), h.value()))
            .collect::<Vec<_>>(),
        vec![("X-Source", "iot"), ("X-Team", "campus")]
    );
    assert!(acts.iter().any(|a| {
        a.sqs()
            .is_some_and(|s| s.queue_url().ends_with("/readings"))
    }));
    assert!(
        acts.iter()
            .any(|a| a.kinesis().is_some_and(|k| k.stream_name() == "readings"))
    );
    assert!(
        acts.iter()
            .any(|a| a.firehose().is_some_and(|f| f.batch_mode() == Some(true)))
    );
    assert!(acts.iter().any(|a| {
        a.step_functions()
            .is_some_and(|s| s.state_machine_name() == "enrich")
    }));
    let ts = acts
        .iter()
        .find_map(|a| a.timestream())
        .expect("timestream");
    assert_eq!(ts.dimensions()[0].name(), "device");
    assert_eq!(ts.timestamp().map(|t| t.unit()), Some("MILLISECONDS"));
    assert!(acts.iter().any(|a| {
        a.iot_analytics()
            .is_some_and(|x| x.channel_name() == Some("readings"))
    }));
    assert!(
        acts.iter()
            .any(|a| a.iot_events().is_some_and(|x| x.input_name() == "readings"))
    );
    let kafka = acts.iter().find_map(|a| a.kafka()).expect("kafka");
    assert_eq!(
        kafka.client_properties().get("acks").map(String::as_str),
        Some("1")
    );
    assert!(
        acts.iter()
            .any(|a| a.elasticsearch().is_some_and(|e| e.index() == "readings"))
    );
    let err = rule
        .error_action()
        .and_then(|e| e.http())
        .expect("http error action");
    assert_eq!(err.url(), "https://ingest.example.com/errors");

    // An argument of one action changes in place.
    stack.write(
        "main.tf",
        &every_action_rule(&name).replace("\"X-Team\"", "\"X-Site\""),
    );
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan),
        [(
            "aws_iot_topic_rule.all".to_string(),
            vec!["update".to_string()]
        )]
        .into()
    );
    apply_noop(&stack);
    stack.destroy();
    assert!(
        iot()
            .await
            .get_topic_rule()
            .rule_name(&name)
            .send()
            .await
            .not_found()
    );
}
