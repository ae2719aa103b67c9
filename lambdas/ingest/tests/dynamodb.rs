//! Runs the handler in-process against the moto emulator's DynamoDB (127.0.0.1 only)
//! and reads the stored item back.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use serde_json::json;

fn endpoint() -> String {
    if let Ok(ep) = std::env::var("THINGFORM_TEST_ENDPOINT") {
        return ep;
    }
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/emulator.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .arg("start")
        .output()
        .expect("start emulator");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string()
}

#[tokio::test]
async fn handler_stores_a_valid_reading_and_drops_garbage() {
    let ep = endpoint();
    assert!(ep.starts_with("http://127.0.0.1:"));
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&ep)
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    let client = aws_sdk_dynamodb::Client::new(&conf);
    let table = format!(
        "ingest-test-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    client
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("device_id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("ts")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("device_id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("ts")
                .key_type(KeyType::Range)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let out = ingest::handle(
        &client,
        &table,
        90,
        json!({"temp": 31.5, "humidity": 70, "battery": 80, "device_id": "node-07"}),
    )
    .await
    .unwrap();
    assert_eq!(out["status"], "stored");
    let ts = out["ts"].as_str().unwrap().to_string();
    let item = client
        .get_item()
        .table_name(&table)
        .key("device_id", AttributeValue::S("node-07".into()))
        .key("ts", AttributeValue::S(ts))
        .send()
        .await
        .unwrap()
        .item
        .expect("item stored");
    assert_eq!(item["temp"], AttributeValue::N("31.5".into()));
    assert!(item.contains_key("heat_index"), "enriched above 27 °C");
    let expires: i64 = item["expires_at"].as_n().unwrap().parse().unwrap();
    assert!(
        expires > chrono::Utc::now().timestamp() + 89 * 86400,
        "TTL about 90 days out"
    );

    let out = ingest::handle(
        &client,
        &table,
        90,
        json!({"temp": 999, "humidity": 70, "device_id": "node-07"}),
    )
    .await
    .unwrap();
    assert_eq!(out["status"], "rejected");
    let count = client
        .scan()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .count();
    assert_eq!(count, 1, "garbage was not stored");
    client
        .delete_table()
        .table_name(&table)
        .send()
        .await
        .unwrap();
}
