//! Lambda entry point: reads TABLE_NAME and TTL_DAYS from the environment.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
    let ttl_days: i64 = std::env::var("TTL_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(90);
    let config = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let (client, table) = (client.clone(), table.clone());
        async move {
            Ok::<Value, Error>(ingest::handle(&client, &table, ttl_days, event.payload).await?)
        }
    }))
    .await
}
