//! aws_s3_bucket, aws_s3_bucket_versioning, aws_s3_bucket_lifecycle_configuration.

use crate::harness::*;

async fn bucket_exists(name: &str) -> bool {
    s3().await.head_bucket().bucket(name).send().await.is_ok()
}

async fn bucket_tags(name: &str) -> Vec<(String, String)> {
    match found(s3().await.get_bucket_tagging().bucket(name).send().await) {
        Some(t) => {
            let mut v: Vec<_> = t
                .tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            v.sort();
            v
        }
        None => vec![],
    }
}

fn bucket_stack(name: &str, team: &str) -> String {
    format!(
        r#"
resource "aws_s3_bucket" "archive" {{
  bucket        = "{name}"
  force_destroy = true
  tags = {{
    team = "{team}"
  }}
}}
output "arn" {{
  value = aws_s3_bucket.archive.arn
}}
"#
    )
}

#[tokio::test]
async fn s3_bucket_full_lifecycle() {
    let name = unique("tf-bucket");
    let stack = TestStack::new(&bucket_stack(&name, "iot"));

    stack.apply();
    assert!(
        bucket_exists(&name).await,
        "bucket exists in the emulator after apply"
    );
    assert_eq!(
        bucket_tags(&name).await,
        vec![("team".into(), "iot".into())]
    );
    assert_eq!(
        stack.ok_in(&["output", "-raw", "arn"]).trim(),
        format!("arn:aws:s3:::{name}")
    );

    // A second plan has nothing to do.
    let plan = stack.plan_json();
    assert!(
        changed(&plan).is_empty(),
        "no-op plan expected, got {:?}",
        changed(&plan)
    );

    // In-place: tags.
    stack.write("main.tf", &bucket_stack(&name, "platform"));
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan),
        [(
            "aws_s3_bucket.archive".to_string(),
            vec!["update".to_string()]
        )]
        .into()
    );
    assert_eq!(changed_attrs(&plan, "aws_s3_bucket.archive"), vec!["tags"]);
    stack.apply();
    assert_eq!(
        bucket_tags(&name).await,
        vec![("team".into(), "platform".into())]
    );

    // Force-new: the bucket name. Put an object in so force_destroy is exercised too.
    s3().await
        .put_object()
        .bucket(&name)
        .key("raw/x.json")
        .body(b"{}".to_vec().into())
        .send()
        .await
        .unwrap();
    let renamed = unique("tf-bucket");
    stack.write("main.tf", &bucket_stack(&renamed, "platform"));
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan)["aws_s3_bucket.archive"],
        vec!["delete", "create"]
    );
    let rc = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "aws_s3_bucket.archive")
        .unwrap();
    assert_eq!(
        rc["change"]["replace_paths"],
        serde_json::json!([["bucket"]])
    );
    let human = stack.ok(&["plan"]);
    assert!(human.contains("# forces replacement"), "{human}");
    assert!(human.contains("must be replaced"), "{human}");
    stack.apply();
    assert!(
        !bucket_exists(&name).await,
        "old bucket is gone after replacement"
    );
    assert!(
        bucket_exists(&renamed).await,
        "new bucket exists after replacement"
    );

    stack.destroy();
    assert!(
        !bucket_exists(&renamed).await,
        "bucket is gone after destroy"
    );
}

fn versioning_stack(bucket_ref: &str, status: &str, a: &str, b: &str) -> String {
    format!(
        r#"
resource "aws_s3_bucket" "a" {{
  bucket        = "{a}"
  force_destroy = true
}}
resource "aws_s3_bucket" "b" {{
  bucket        = "{b}"
  force_destroy = true
}}
resource "aws_s3_bucket_versioning" "v" {{
  bucket = aws_s3_bucket.{bucket_ref}.id
  versioning_configuration {{
    status = "{status}"
  }}
}}
"#
    )
}

/// The bucket's versioning as S3 behaves: an Enabled bucket gives each new object a
/// version id, a Suspended one gives "null". (moto's GetBucketVersioning answer has a
/// non-standard XML root the SDK cannot parse, so behaviour is checked instead.)
async fn versioning_status(bucket: &str) -> Option<String> {
    let out = found(
        s3().await
            .put_object()
            .bucket(bucket)
            .key("probe")
            .body(b"x".to_vec().into())
            .send()
            .await,
    )?;
    Some(match out.version_id() {
        Some(v) if v != "null" => "Enabled".to_string(),
        _ => "Suspended".to_string(),
    })
}

#[tokio::test]
async fn s3_bucket_versioning_full_lifecycle() {
    let (a, b) = (unique("tf-ver-a"), unique("tf-ver-b"));
    let stack = TestStack::new(&versioning_stack("a", "Enabled", &a, &b));
    stack.apply();
    assert_eq!(versioning_status(&a).await.as_deref(), Some("Enabled"));
    assert!(
        changed(&stack.plan_json()).is_empty(),
        "no-op plan after apply"
    );

    stack.write("main.tf", &versioning_stack("a", "Suspended", &a, &b));
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan),
        [(
            "aws_s3_bucket_versioning.v".to_string(),
            vec!["update".to_string()]
        )]
        .into()
    );
    stack.apply();
    assert_eq!(versioning_status(&a).await.as_deref(), Some("Suspended"));

    stack.write("main.tf", &versioning_stack("b", "Enabled", &a, &b));
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan)["aws_s3_bucket_versioning.v"],
        vec!["delete", "create"]
    );
    stack.apply();
    assert_eq!(versioning_status(&b).await.as_deref(), Some("Enabled"));

    stack.destroy();
    // Destroying versioning suspends it (S3 cannot un-version a bucket); the buckets go too.
    assert!(
        s3().await.head_bucket().bucket(&b).send().await.not_found(),
        "bucket b destroyed"
    );
    assert!(
        s3().await.head_bucket().bucket(&a).send().await.not_found(),
        "bucket a destroyed"
    );
}

fn lifecycle_stack(bucket_ref: &str, days: u32, a: &str, b: &str) -> String {
    format!(
        r#"
resource "aws_s3_bucket" "a" {{
  bucket        = "{a}"
  force_destroy = true
}}
resource "aws_s3_bucket" "b" {{
  bucket        = "{b}"
  force_destroy = true
}}
resource "aws_s3_bucket_lifecycle_configuration" "l" {{
  bucket = aws_s3_bucket.{bucket_ref}.id
  rule {{
    id     = "tiering"
    status = "Enabled"
    filter {{
      prefix = "raw/"
    }}
    transition {{
      days          = 30
      storage_class = "INTELLIGENT_TIERING"
    }}
    noncurrent_version_expiration {{
      noncurrent_days = 60
    }}
    expiration {{
      days = {days}
    }}
  }}
  rule {{
    id     = "multipart"
    status = "Enabled"
    abort_incomplete_multipart_upload {{
      days_after_initiation = 7
    }}
  }}
}}
"#
    )
}

async fn lifecycle_rules(bucket: &str) -> Option<Vec<aws_sdk_s3::types::LifecycleRule>> {
    s3().await
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .ok()
        .map(|o| o.rules().to_vec())
}

#[tokio::test]
async fn s3_bucket_lifecycle_configuration_full_lifecycle() {
    let (a, b) = (unique("tf-lc-a"), unique("tf-lc-b"));
    let stack = TestStack::new(&lifecycle_stack("a", 365, &a, &b));
    stack.apply();
    let rules = lifecycle_rules(&a)
        .await
        .expect("lifecycle configuration exists");
    assert_eq!(rules.len(), 2);
    let tiering = rules.iter().find(|r| r.id() == Some("tiering")).unwrap();
    assert_eq!(tiering.expiration().and_then(|e| e.days()), Some(365));
    assert_eq!(
        tiering.transitions()[0].storage_class().map(|s| s.as_str()),
        Some("INTELLIGENT_TIERING")
    );
    assert_eq!(tiering.filter().and_then(|f| f.prefix()), Some("raw/"));
    let plan = stack.plan_json();
    assert!(
        changed(&plan).is_empty(),
        "no-op plan after apply, got {:?}",
        changed(&plan)
    );

    stack.write("main.tf", &lifecycle_stack("a", 400, &a, &b));
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan),
        [(
            "aws_s3_bucket_lifecycle_configuration.l".to_string(),
            vec!["update".to_string()]
        )]
        .into()
    );
    assert_eq!(
        changed_attrs(&plan, "aws_s3_bucket_lifecycle_configuration.l"),
        vec!["rule"]
    );
    stack.apply();
    let rules = lifecycle_rules(&a).await.unwrap();
    assert_eq!(
        rules
            .iter()
            .find(|r| r.id() == Some("tiering"))
            .unwrap()
            .expiration()
            .and_then(|e| e.days()),
        Some(400)
    );

    stack.write("main.tf", &lifecycle_stack("b", 400, &a, &b));
    assert_eq!(
        changed(&stack.plan_json())["aws_s3_bucket_lifecycle_configuration.l"],
        vec!["delete", "create"]
    );
    stack.apply();
    assert!(
        lifecycle_rules(&a).await.is_none(),
        "old bucket's rules removed on replace"
    );
    assert!(
        lifecycle_rules(&b).await.is_some(),
        "new bucket has the rules"
    );

    stack.destroy();
    assert!(s3().await.head_bucket().bucket(&b).send().await.not_found());
}
