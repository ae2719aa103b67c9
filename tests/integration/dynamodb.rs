//! aws_dynamodb_table.

use crate::harness::*;

fn table_stack(name: &str, range_key: &str, retention: &str, gsi: bool) -> String {
    let gsi_block = if gsi {
        r#"
  attribute {
    name = "building"
    type = "S"
  }
  global_secondary_index {
    name            = "by-building"
    hash_key        = "building"
    projection_type = "ALL"
  }"#
    } else {
        ""
    };
    format!(
        r#"
resource "aws_dynamodb_table" "readings" {{
  name         = "{name}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "device_id"
  range_key    = "{range_key}"

  attribute {{
    name = "device_id"
    type = "S"
  }}
  attribute {{
    name = "{range_key}"
    type = "S"
  }}{gsi_block}

  ttl {{
    attribute_name = "expires_at"
    enabled        = true
  }}

  tags = {{
    retention = "{retention}"
  }}
}}
"#
    )
}

async fn describe(name: &str) -> Option<aws_sdk_dynamodb::types::TableDescription> {
    dynamodb()
        .await
        .describe_table()
        .table_name(name)
        .send()
        .await
        .ok()
        .and_then(|t| t.table().cloned())
}

async fn tags(arn: &str) -> Vec<(String, String)> {
    let out = dynamodb()
        .await
        .list_tags_of_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    out.tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

#[tokio::test]
async fn dynamodb_table_full_lifecycle() {
    let name = unique("tf-readings");
    let stack = TestStack::new(&table_stack(&name, "ts", "90d", false));
    stack.apply();

    let t = describe(&name).await.expect("table exists after apply");
    let keys: Vec<(String, String)> = t
        .key_schema()
        .iter()
        .map(|k| {
            (
                k.attribute_name().to_string(),
                k.key_type().as_str().to_string(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            ("device_id".into(), "HASH".into()),
            ("ts".into(), "RANGE".into())
        ]
    );
    assert_eq!(
        t.billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str()),
        Some("PAY_PER_REQUEST")
    );
    let ttl = dynamodb()
        .await
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some("expires_at"));
    assert_eq!(
        ttl.time_to_live_status().map(|s| s.as_str()),
        Some("ENABLED")
    );
    assert_eq!(
        tags(t.table_arn().unwrap()).await,
        vec![("retention".into(), "90d".into())]
    );

    let plan = stack.plan_json();
    assert!(
        changed(&plan).is_empty(),
        "no-op plan after apply, got {:?}",
        changed(&plan)
    );

    // In place: tags, and a new global secondary index.
    stack.write("main.tf", &table_stack(&name, "ts", "30d", true));
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan),
        [(
            "aws_dynamodb_table.readings".to_string(),
            vec!["update".to_string()]
        )]
        .into()
    );
    assert_eq!(
        changed_attrs(&plan, "aws_dynamodb_table.readings"),
        vec!["attribute", "global_secondary_index", "tags"]
    );
    stack.apply();
    let t = describe(&name).await.unwrap();
    assert_eq!(
        tags(t.table_arn().unwrap()).await,
        vec![("retention".into(), "30d".into())]
    );
    assert_eq!(
        t.global_secondary_indexes()
            .iter()
            .map(|g| g.index_name().unwrap_or_default())
            .collect::<Vec<_>>(),
        vec!["by-building"]
    );
    assert!(
        changed(&stack.plan_json()).is_empty(),
        "no-op plan after the update"
    );

    // Force-new: the range key.
    stack.write("main.tf", &table_stack(&name, "timestamp", "30d", true));
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan)["aws_dynamodb_table.readings"],
        vec!["delete", "create"]
    );
    let rc = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "aws_dynamodb_table.readings")
        .unwrap();
    assert!(
        rc["change"]["replace_paths"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(["range_key"]))
    );
    stack.apply();
    let t = describe(&name).await.unwrap();
    assert_eq!(t.key_schema()[1].attribute_name(), "timestamp");

    stack.destroy();
    assert!(describe(&name).await.is_none(), "table gone after destroy");
}

#[tokio::test]
async fn unchanged_ttl_is_never_sent_again() {
    // UpdateTimeToLive is rate limited by AWS; a change of tags alone must not call it.
    // moto rejects enabling TTL when it is already enabled, so a second call would fail.
    let name = unique("tf-ttl");
    let stack = TestStack::new(&table_stack(&name, "ts", "a", false));
    stack.apply();
    stack.write("main.tf", &table_stack(&name, "ts", "b", false));
    stack.apply();
    let ttl = dynamodb()
        .await
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.attribute_name()),
        Some("expires_at")
    );
    stack.destroy();
}
