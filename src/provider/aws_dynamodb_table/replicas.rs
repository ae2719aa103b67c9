//! `replica` blocks of aws_dynamodb_table (global tables, version 2019.11.21): one
//! UpdateTable `ReplicaUpdates` call per replica created or deleted, then, in the
//! replica's own region, point-in-time recovery and (with `propagate_tags`) the table's
//! tags. As in the Terraform AWS provider, `propagate_tags` is how thingform treats the
//! replica, not something AWS stores: it reads back as configured.

use super::super::attrs::{Attrs, blocks, bool_of, str_of};
use super::super::client::{Provider, aws_error};
use super::requests::{tag_list, wait_active};
use aws_sdk_dynamodb::types::{
    CreateReplicationGroupMemberAction, DeleteReplicationGroupMemberAction,
    PointInTimeRecoverySpecification, ReplicationGroupUpdate, TableDescription,
};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

/// A DynamoDB client for another region, with this provider's credentials and endpoint.
fn regional(p: &Provider, region: &str) -> aws_sdk_dynamodb::Client {
    let conf = p
        .dynamodb()
        .config()
        .to_builder()
        .region(aws_types::region::Region::new(region.to_string()))
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

/// The table's ARN in another region.
fn replica_arn(table_arn: &str, home: &str, region: &str) -> String {
    table_arn.replacen(&format!(":{home}:"), &format!(":{region}:"), 1)
}

fn by_region(a: &Attrs) -> BTreeMap<String, Attrs> {
    blocks(a, "replica")
        .into_iter()
        .filter_map(|r| Some((str_of(r, "region_name")?.to_string(), r.clone())))
        .collect()
}

/// The replicas as read back: AWS's list, with `propagate_tags` and
/// `point_in_time_recovery` as configured (the latter is set in the replica's region at
/// create/update; reading it needs a call per region, which moto cannot answer).
pub(super) fn read_replicas(p: &Provider, t: &TableDescription, prior: &Attrs) -> Json {
    let prior = by_region(prior);
    let arn = t.table_arn().unwrap_or_default();
    Json::Array(
        t.replicas()
            .iter()
            .filter_map(|r| {
                let region = r.region_name()?;
                let pr = prior.get(region);
                let flag = |k: &str| pr.and_then(|p| bool_of(p, k)).unwrap_or(false);
                Some(json!({
                    "region_name": region,
                    "kms_key_arn": r.kms_master_key_id(),
                    "propagate_tags": flag("propagate_tags"),
                    "point_in_time_recovery": flag("point_in_time_recovery"),
                    "arn": replica_arn(arn, &p.region, region),
                    "stream_arn": Json::Null,
                    "stream_label": Json::Null,
                }))
            })
            .collect(),
    )
}

/// Creates the replicas `planned` has and `prior` lacks, deletes the reverse, and sets
/// point-in-time recovery and tags in each replica's region where they changed.
pub(super) async fn sync_replicas(
    p: &Provider,
    name: &str,
    table_arn: &str,
    prior: &Attrs,
    planned: &Attrs,
) -> anyhow::Result<()> {
    let (old, new) = (by_region(prior), by_region(planned));
    let db = p.dynamodb();
    for region in old.keys().filter(|r| !new.contains_key(*r)) {
        db.update_table()
            .table_name(name)
            .replica_updates(
                ReplicationGroupUpdate::builder()
                    .delete(
                        DeleteReplicationGroupMemberAction::builder()
                            .region_name(region)
                            .build()?,
                    )
                    .build(),
            )
            .send()
            .await
            .map_err(|e| aws_error("UpdateTable (delete replica)", e))?;
        wait_active(p, name).await?;
    }
    for (region, r) in &new {
        let was = old.get(region);
        if was.is_none() {
            db.update_table()
                .table_name(name)
                .replica_updates(
                    ReplicationGroupUpdate::builder()
                        .create(
                            CreateReplicationGroupMemberAction::builder()
                                .region_name(region)
                                .set_kms_master_key_id(str_of(r, "kms_key_arn").map(str::to_string))
                                .build()?,
                        )
                        .build(),
                )
                .send()
                .await
                .map_err(|e| aws_error("UpdateTable (create replica)", e))?;
            wait_active(p, name).await?;
        }
        let pitr = bool_of(r, "point_in_time_recovery").unwrap_or(false);
        let was_pitr = was
            .and_then(|w| bool_of(w, "point_in_time_recovery"))
            .unwrap_or(false);
        let client = regional(p, region);
        if pitr != was_pitr {
            client
                .update_continuous_backups()
                .table_name(name)
                .point_in_time_recovery_specification(
                    PointInTimeRecoverySpecification::builder()
                        .point_in_time_recovery_enabled(pitr)
                        .build()?,
                )
                .send()
                .await
                .map_err(|e| aws_error(&format!("UpdateContinuousBackups ({region})"), e))?;
        }
        let propagate = bool_of(r, "propagate_tags") == Some(true);
        let tags = p.tags_all(&super::super::attrs::string_map(planned, "tags"));
        if propagate
            && !tags.is_empty()
            && (was.is_none() || prior.get("tags") != planned.get("tags"))
        {
            client
                .tag_resource()
                .resource_arn(replica_arn(table_arn, &p.region, region))
                .set_tags(Some(tag_list(tags)?))
                .send()
                .await
                .map_err(|e| aws_error(&format!("TagResource ({region})"), e))?;
        }
    }
    Ok(())
}
