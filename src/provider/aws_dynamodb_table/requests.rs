//! The DynamoDB request shapes of a table (keys, indexes, throughput, TTL, PITR, tags)
//! and the wait for ACTIVE.

use super::super::attrs::{Attrs, block, blocks, bool_of, i64_of, req_str, str_of, string_list};
use super::super::client::{Provider, aws_error};
use super::super::wait::{Poll, poll_until};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    PointInTimeRecoverySpecification, Projection, ProjectionType, ProvisionedThroughput,
    ScalarAttributeType, TableStatus, Tag, TimeToLiveSpecification,
};
use std::collections::BTreeMap;
use std::time::Duration;

pub(super) fn key_schema(hash: &str, range: Option<&str>) -> anyhow::Result<Vec<KeySchemaElement>> {
    let mut ks = vec![
        KeySchemaElement::builder()
            .attribute_name(hash)
            .key_type(KeyType::Hash)
            .build()?,
    ];
    if let Some(r) = range {
        ks.push(
            KeySchemaElement::builder()
                .attribute_name(r)
                .key_type(KeyType::Range)
                .build()?,
        );
    }
    Ok(ks)
}

pub(super) fn projection(a: &Attrs) -> anyhow::Result<Projection> {
    let nka = string_list(a, "non_key_attributes");
    Ok(Projection::builder()
        .projection_type(ProjectionType::from(req_str(a, "projection_type")?))
        .set_non_key_attributes((!nka.is_empty()).then_some(nka))
        .build())
}

pub(super) fn provisioned(
    pay_per_request: bool,
    a: &Attrs,
) -> anyhow::Result<Option<ProvisionedThroughput>> {
    if pay_per_request {
        return Ok(None);
    }
    Ok(Some(
        ProvisionedThroughput::builder()
            .read_capacity_units(i64_of(a, "read_capacity").unwrap_or(1))
            .write_capacity_units(i64_of(a, "write_capacity").unwrap_or(1))
            .build()?,
    ))
}

pub(super) fn attribute_definitions(planned: &Attrs) -> anyhow::Result<Vec<AttributeDefinition>> {
    blocks(planned, "attribute")
        .into_iter()
        .map(|a| {
            Ok(AttributeDefinition::builder()
                .attribute_name(req_str(a, "name")?)
                .attribute_type(ScalarAttributeType::from(req_str(a, "type")?))
                .build()?)
        })
        .collect()
}

pub(super) fn is_ppr(a: &Attrs) -> bool {
    str_of(a, "billing_mode") == Some("PAY_PER_REQUEST")
}

/// A GSI's keys: its `key_schema` blocks (the newer provider form), else
/// hash_key/range_key.
fn gsi_keys(a: &Attrs) -> anyhow::Result<Vec<KeySchemaElement>> {
    let ks = blocks(a, "key_schema");
    if ks.is_empty() {
        let hash = str_of(a, "hash_key").ok_or_else(|| {
            anyhow::anyhow!(
                "global_secondary_index {:?} needs hash_key or key_schema blocks",
                str_of(a, "name").unwrap_or("?")
            )
        })?;
        return key_schema(hash, str_of(a, "range_key"));
    }
    ks.into_iter()
        .map(|k| {
            Ok(KeySchemaElement::builder()
                .attribute_name(req_str(k, "attribute_name")?)
                .key_type(KeyType::from(req_str(k, "key_type")?))
                .build()?)
        })
        .collect()
}

/// A GSI's key schema as `key_schema` blocks.
pub(super) fn gsi_key_schema_json(ks: &[KeySchemaElement]) -> serde_json::Value {
    serde_json::Value::Array(
        ks.iter()
            .map(|k| {
                serde_json::json!({"attribute_name": k.attribute_name(), "key_type": k.key_type().as_str()})
            })
            .collect(),
    )
}

pub(super) fn gsi(a: &Attrs, ppr: bool) -> anyhow::Result<GlobalSecondaryIndex> {
    Ok(GlobalSecondaryIndex::builder()
        .index_name(req_str(a, "name")?)
        .set_key_schema(Some(gsi_keys(a)?))
        .projection(projection(a)?)
        .set_provisioned_throughput(provisioned(ppr, a)?)
        .build()?)
}

pub(super) fn ttl_of(a: &Attrs) -> (bool, Option<String>) {
    match block(a, "ttl") {
        Some(t) => (
            bool_of(t, "enabled").unwrap_or(false),
            str_of(t, "attribute_name").map(str::to_string),
        ),
        None => (false, None),
    }
}

pub(super) fn pitr_of(a: &Attrs) -> bool {
    block(a, "point_in_time_recovery")
        .and_then(|b| bool_of(b, "enabled"))
        .unwrap_or(false)
}

/// Polls until the table and all its indexes are ACTIVE (DynamoDB creates and updates
/// asynchronously; a table in CREATING/UPDATING rejects further changes).
pub(super) async fn wait_active(p: &Provider, name: &str) -> anyhow::Result<()> {
    poll_until(
        p.poll_interval,
        Duration::from_secs(600),
        |_| format!("table {name} did not become ACTIVE within 10 minutes"),
        || async {
            let t = p
                .dynamodb()
                .describe_table()
                .table_name(name)
                .send()
                .await
                .map_err(|e| aws_error("DescribeTable", e))?;
            let table = t.table();
            let active = table.and_then(|t| t.table_status()) == Some(&TableStatus::Active)
                && table
                    .map(|t| {
                        t.global_secondary_indexes()
                            .iter()
                            .all(|g| g.index_status().map(|s| s.as_str()) == Some("ACTIVE"))
                    })
                    .unwrap_or(true);
            Ok(if active {
                Poll::Ready(())
            } else {
                Poll::Pending(None)
            })
        },
    )
    .await
}

pub(super) async fn set_ttl(
    p: &Provider,
    name: &str,
    enabled: bool,
    attr: &str,
) -> anyhow::Result<()> {
    p.dynamodb()
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(enabled)
                .attribute_name(attr)
                .build()?,
        )
        .send()
        .await
        .map_err(|e| aws_error("UpdateTimeToLive", e))?;
    Ok(())
}

pub(super) async fn set_pitr(p: &Provider, name: &str, enabled: bool) -> anyhow::Result<()> {
    p.dynamodb()
        .update_continuous_backups()
        .table_name(name)
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(enabled)
                .build()?,
        )
        .send()
        .await
        .map_err(|e| aws_error("UpdateContinuousBackups", e))?;
    Ok(())
}

pub(super) fn tag_list(tags: BTreeMap<String, String>) -> anyhow::Result<Vec<Tag>> {
    tags.into_iter()
        .map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()?))
        .collect()
}
