//! aws_dynamodb_table: keys, attributes, billing, GSIs/LSIs, TTL, streams, PITR, tags.
//!
//! Sharp edges handled here: tables are usable only once ACTIVE (we wait after every
//! change); UpdateTimeToLive is not idempotent and AWS allows about one change per hour,
//! so it is called only when the TTL setting really changed; a GSI change is one
//! UpdateTable call per index.

mod replicas;
mod requests;
use replicas::{read_replicas, sync_replicas};
use requests::*;

use super::ResourceType;
use super::attrs::{
    Attrs, block, blocks, bool_of, i64_of, map_json, obj, req_name_or_id, req_str, str_of,
    string_map,
};
use super::client::{Provider, aws_error};
use super::not_found::{Service, absent, is_not_found};
use super::reread::reread;
use super::schema::{
    Block, Schema, boolean, list, number, out, single, string, string_map as map_attr, string_set,
};
use super::wait::{Poll, poll_until};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    BillingMode, CreateGlobalSecondaryIndexAction, DeleteGlobalSecondaryIndexAction,
    GlobalSecondaryIndexUpdate, KeySchemaElement, KeyType, LocalSecondaryIndex,
    StreamSpecification, StreamViewType, TableClass, TimeToLiveStatus,
    UpdateGlobalSecondaryIndexAction,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::time::Duration;

pub struct DynamoDbTable {
    schema: Schema,
}

impl Default for DynamoDbTable {
    fn default() -> Self {
        Self::new()
    }
}

impl DynamoDbTable {
    pub fn new() -> Self {
        DynamoDbTable {
            schema: Schema {
                id_attr: "name",
                block: Block::new()
                    .attr(string("name").required().force_new())
                    .attr(string("hash_key").required().force_new())
                    .attr(string("range_key").force_new())
                    .attr(string("billing_mode").default(json!("PROVISIONED")))
                    .attr(number("read_capacity").computed())
                    .attr(number("write_capacity").computed())
                    .attr(boolean("stream_enabled").default(json!(false)))
                    .attr(string("stream_view_type").computed())
                    .attr(boolean("deletion_protection_enabled").default(json!(false)))
                    .attr(string("table_class").computed())
                    .attr(map_attr("tags"))
                    .attr(out("id"))
                    .attr(out("arn"))
                    .attr(out("stream_arn"))
                    .attr(out("stream_label"))
                    .block(
                        list(
                            "attribute",
                            Block::new()
                                .attr(string("name").required())
                                .attr(string("type").required()),
                        )
                        .set()
                        .min(1),
                    )
                    .block(
                        list(
                            "global_secondary_index",
                            Block::new()
                                .attr(string("name").required())
                                .attr(string("hash_key"))
                                .attr(string("range_key"))
                                .attr(string("projection_type").required())
                                .attr(string_set("non_key_attributes"))
                                .attr(number("read_capacity"))
                                .attr(number("write_capacity"))
                                // The newer provider form, instead of hash_key/range_key.
                                .block(list(
                                    "key_schema",
                                    Block::new()
                                        .attr(string("attribute_name").required())
                                        .attr(string("key_type").required()),
                                )),
                        )
                        .set(),
                    )
                    .block(
                        list(
                            "local_secondary_index",
                            Block::new()
                                .attr(string("name").required())
                                .attr(string("range_key").required())
                                .attr(string("projection_type").required())
                                .attr(string_set("non_key_attributes")),
                        )
                        .set()
                        .force_new(),
                    )
                    .block(single(
                        "ttl",
                        Block::new()
                            .attr(string("attribute_name"))
                            .attr(boolean("enabled").default(json!(false))),
                    ))
                    .block(single(
                        "point_in_time_recovery",
                        Block::new().attr(boolean("enabled").required()),
                    ))
                    .block(
                        list(
                            "replica",
                            Block::new()
                                .attr(string("region_name").required())
                                .attr(string("kms_key_arn").computed())
                                .attr(boolean("propagate_tags").default(json!(false)))
                                .attr(boolean("point_in_time_recovery").default(json!(false)))
                                .attr(out("arn"))
                                .attr(out("stream_arn"))
                                .attr(out("stream_label")),
                        )
                        .set(),
                    ),
            },
        }
    }
}

#[async_trait]
impl ResourceType for DynamoDbTable {
    fn name(&self) -> &'static str {
        "aws_dynamodb_table"
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("name", json!(id))])
    }

    fn plan_notes(&self, prior: Option<&Attrs>, planned: &Json) -> Vec<String> {
        let (Some(prior), Some(planned)) = (prior, planned.as_object()) else {
            return vec![];
        };
        let (was_on, was_attr) = ttl_of(prior);
        let (on, attr) = ttl_of(planned);
        if was_on && on && was_attr != attr {
            return vec![format!(
                "switching the TTL attribute of table {} from {:?} to {:?} disables TTL, then enables it again; AWS allows about one TTL change per table per hour, so the second call may be refused until then",
                str_of(prior, "name").unwrap_or("?"),
                was_attr.unwrap_or_default(),
                attr.unwrap_or_default()
            )];
        }
        vec![]
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let name = req_name_or_id(prior, "name", "table has no name")?;
        let Some(t) = absent(
            Service::DynamoDb,
            "DescribeTable",
            p.dynamodb().describe_table().table_name(name).send().await,
        )?
        else {
            return Ok(None);
        };
        let Some(t) = t.table() else { return Ok(None) };
        let arn = t.table_arn().unwrap_or_default().to_string();
        let key = |ks: &[KeySchemaElement], kt: KeyType| {
            ks.iter()
                .find(|k| k.key_type() == &kt)
                .map(|k| k.attribute_name().to_string())
        };
        let ppr = t.billing_mode_summary().and_then(|b| b.billing_mode())
            == Some(&BillingMode::PayPerRequest);
        let throughput = t.provisioned_throughput();
        let prior_gsis = blocks(prior, "global_secondary_index");
        let gsis: Vec<Json> = t
            .global_secondary_indexes()
            .iter()
            .map(|g| {
                let proj = g.projection();
                // Read back in the form the configuration used: `key_schema` blocks or
                // hash_key/range_key.
                let as_blocks = prior_gsis.iter().any(|p| {
                    str_of(p, "name") == g.index_name() && !blocks(p, "key_schema").is_empty()
                });
                let (hash, range, ks) = if as_blocks {
                    (Json::Null, Json::Null, gsi_key_schema_json(g.key_schema()))
                } else {
                    (
                        json!(key(g.key_schema(), KeyType::Hash)),
                        json!(key(g.key_schema(), KeyType::Range)),
                        json!([]),
                    )
                };
                json!({
                    "name": g.index_name(),
                    "hash_key": hash,
                    "range_key": range,
                    "key_schema": ks,
                    "projection_type": proj.and_then(|p| p.projection_type()).map(|p| p.as_str()),
                    "non_key_attributes": proj.map(|p| p.non_key_attributes().to_vec()).unwrap_or_default(),
                    "read_capacity": if ppr { Json::Null } else { json!(g.provisioned_throughput().and_then(|t| t.read_capacity_units())) },
                    "write_capacity": if ppr { Json::Null } else { json!(g.provisioned_throughput().and_then(|t| t.write_capacity_units())) },
                })
            })
            .collect();
        let lsis: Vec<Json> = t
            .local_secondary_indexes()
            .iter()
            .map(|l| {
                let proj = l.projection();
                json!({
                    "name": l.index_name(),
                    "range_key": key(l.key_schema(), KeyType::Range),
                    "projection_type": proj.and_then(|p| p.projection_type()).map(|p| p.as_str()),
                    "non_key_attributes": proj.map(|p| p.non_key_attributes().to_vec()).unwrap_or_default(),
                })
            })
            .collect();
        let stream = t.stream_specification();
        let stream_enabled = stream.map(|s| s.stream_enabled()).unwrap_or(false);
        let ttl = p
            .dynamodb()
            .describe_time_to_live()
            .table_name(name)
            .send()
            .await
            .map_err(|e| aws_error("DescribeTimeToLive", e))?;
        let ttl_desc = ttl.time_to_live_description();
        let ttl_on = matches!(
            ttl_desc.and_then(|d| d.time_to_live_status()),
            Some(TimeToLiveStatus::Enabled) | Some(TimeToLiveStatus::Enabling)
        );
        let (prior_ttl_on, _) = ttl_of(prior);
        let ttl_json = if ttl_on {
            json!([{"attribute_name": ttl_desc.and_then(|d| d.attribute_name()), "enabled": true}])
        } else if let Some(t) = block(prior, "ttl").filter(|_| !prior_ttl_on) {
            // TTL off reads back as the user wrote it (`enabled = false`, and its
            // `attribute_name` as written, `""` included), not as a change.
            json!([{"attribute_name": t.get("attribute_name").cloned().unwrap_or(Json::Null), "enabled": false}])
        } else {
            json!([])
        };
        let pitr = match p
            .dynamodb()
            .describe_continuous_backups()
            .table_name(name)
            .send()
            .await
        {
            Ok(b) => b
                .continuous_backups_description()
                .and_then(|d| d.point_in_time_recovery_description())
                .and_then(|d| d.point_in_time_recovery_status())
                .map(|s| s.as_str() == "ENABLED")
                .unwrap_or(false),
            Err(e) => return Err(aws_error("DescribeContinuousBackups", e)),
        };
        let pitr_json = if pitr || block(prior, "point_in_time_recovery").is_some() {
            json!([{"enabled": pitr}])
        } else {
            json!([])
        };
        let tags = p
            .dynamodb()
            .list_tags_of_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(|e| aws_error("ListTagsOfResource", e))?;
        let live: BTreeMap<String, String> = tags
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        let mut a = Attrs::new();
        a.insert("id".into(), json!(name));
        a.insert("name".into(), json!(name));
        a.insert("arn".into(), json!(arn));
        a.insert("hash_key".into(), json!(key(t.key_schema(), KeyType::Hash)));
        a.insert(
            "range_key".into(),
            json!(key(t.key_schema(), KeyType::Range)),
        );
        a.insert(
            "billing_mode".into(),
            json!(if ppr {
                "PAY_PER_REQUEST"
            } else {
                "PROVISIONED"
            }),
        );
        a.insert(
            "read_capacity".into(),
            json!(if ppr {
                0
            } else {
                throughput
                    .and_then(|t| t.read_capacity_units())
                    .unwrap_or(0)
            }),
        );
        a.insert(
            "write_capacity".into(),
            json!(if ppr {
                0
            } else {
                throughput
                    .and_then(|t| t.write_capacity_units())
                    .unwrap_or(0)
            }),
        );
        a.insert(
            "attribute".into(),
            Json::Array(
                t.attribute_definitions()
                    .iter()
                    .map(|d| json!({"name": d.attribute_name(), "type": d.attribute_type().as_str()}))
                    .collect(),
            ),
        );
        a.insert("global_secondary_index".into(), Json::Array(gsis));
        a.insert("local_secondary_index".into(), Json::Array(lsis));
        a.insert("stream_enabled".into(), json!(stream_enabled));
        a.insert(
            "stream_view_type".into(),
            if stream_enabled {
                json!(
                    stream
                        .and_then(|s| s.stream_view_type())
                        .map(|v| v.as_str())
                )
            } else {
                Json::Null
            },
        );
        a.insert("stream_arn".into(), json!(t.latest_stream_arn()));
        a.insert("stream_label".into(), json!(t.latest_stream_label()));
        a.insert(
            "deletion_protection_enabled".into(),
            json!(t.deletion_protection_enabled().unwrap_or(false)),
        );
        a.insert(
            "table_class".into(),
            json!(
                t.table_class_summary()
                    .and_then(|c| c.table_class())
                    .map(|c| c.as_str())
                    .unwrap_or("STANDARD")
            ),
        );
        a.insert("ttl".into(), ttl_json);
        a.insert("point_in_time_recovery".into(), pitr_json);
        a.insert("replica".into(), read_replicas(p, t, prior));
        a.insert("tags".into(), map_json(p.own_tags(&live)));
        Ok(Some(a))
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(planned, "name")?;
        let ppr = is_ppr(planned);
        let mut req = p
            .dynamodb()
            .create_table()
            .table_name(name)
            .set_attribute_definitions(Some(attribute_definitions(planned)?))
            .set_key_schema(Some(key_schema(
                req_str(planned, "hash_key")?,
                str_of(planned, "range_key"),
            )?))
            .billing_mode(if ppr {
                BillingMode::PayPerRequest
            } else {
                BillingMode::Provisioned
            })
            .set_provisioned_throughput(provisioned(ppr, planned)?);
        for g in blocks(planned, "global_secondary_index") {
            req = req.global_secondary_indexes(gsi(g, ppr)?);
        }
        for l in blocks(planned, "local_secondary_index") {
            req = req.local_secondary_indexes(
                LocalSecondaryIndex::builder()
                    .index_name(req_str(l, "name")?)
                    .set_key_schema(Some(key_schema(
                        req_str(planned, "hash_key")?,
                        Some(req_str(l, "range_key")?),
                    )?))
                    .projection(projection(l)?)
                    .build()?,
            );
        }
        if bool_of(planned, "stream_enabled") == Some(true) {
            req = req.stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::from(
                        str_of(planned, "stream_view_type").unwrap_or("NEW_AND_OLD_IMAGES"),
                    ))
                    .build()?,
            );
        }
        if let Some(c) = str_of(planned, "table_class") {
            req = req.table_class(TableClass::from(c));
        }
        if bool_of(planned, "deletion_protection_enabled") == Some(true) {
            req = req.deletion_protection_enabled(true);
        }
        let tags = p.tags_all(&string_map(planned, "tags"));
        if !tags.is_empty() {
            req = req.set_tags(Some(tag_list(tags)?));
        }
        let out = super::attempts::adopt(p, "CreateTable", req.send().await).map_err(|e| match e.code() {
            Some("ResourceInUseException") => anyhow::Error::new(crate::provider::AlreadyExists(format!(
                "table {name:?} already exists; import it with `thingform import ADDRESS {name}` or choose another name"
            ))),
            _ => aws_error("CreateTable", e),
        })?;
        wait_active(p, name).await?;
        let (ttl_on, ttl_attr) = ttl_of(planned);
        if ttl_on {
            let attr = ttl_attr
                .ok_or_else(|| anyhow::anyhow!("ttl.enabled = true needs ttl.attribute_name"))?;
            set_ttl(p, name, true, &attr).await?;
        }
        if pitr_of(planned) {
            set_pitr(p, name, true).await?;
        }
        if !blocks(planned, "replica").is_empty() {
            let arn = match out.as_ref().and_then(|o| o.table_description()) {
                Some(t) => t.table_arn().unwrap_or_default().to_string(),
                // Adopted after a lost answer: ask for the ARN.
                None => p
                    .dynamodb()
                    .describe_table()
                    .table_name(name)
                    .send()
                    .await
                    .map_err(|e| aws_error("DescribeTable", e))?
                    .table()
                    .and_then(|t| t.table_arn())
                    .unwrap_or_default()
                    .to_string(),
            };
            sync_replicas(p, name, &arn, &Attrs::new(), planned).await?;
        }
        super::created(
            self.read(p, planned).await,
            planned,
            format!("table {name} vanished right after it was created"),
        )
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(prior, "name")?;
        let ppr = is_ppr(planned);
        let db = p.dynamodb();
        let billing_changed = str_of(prior, "billing_mode") != str_of(planned, "billing_mode");
        let capacity_changed = !ppr
            && (i64_of(prior, "read_capacity") != i64_of(planned, "read_capacity")
                || i64_of(prior, "write_capacity") != i64_of(planned, "write_capacity"));
        if billing_changed || capacity_changed {
            db.update_table()
                .table_name(name)
                .billing_mode(if ppr {
                    BillingMode::PayPerRequest
                } else {
                    BillingMode::Provisioned
                })
                .set_provisioned_throughput(provisioned(ppr, planned)?)
                .send()
                .await
                .map_err(|e| aws_error("UpdateTable (billing)", e))?;
            wait_active(p, name).await?;
        }
        let stream_changed = bool_of(prior, "stream_enabled") != bool_of(planned, "stream_enabled")
            || (bool_of(planned, "stream_enabled") == Some(true)
                && str_of(planned, "stream_view_type").is_some()
                && str_of(prior, "stream_view_type") != str_of(planned, "stream_view_type"));
        if stream_changed {
            let on = bool_of(planned, "stream_enabled") == Some(true);
            let mut spec = StreamSpecification::builder().stream_enabled(on);
            if on {
                spec = spec.stream_view_type(StreamViewType::from(
                    str_of(planned, "stream_view_type").unwrap_or("NEW_AND_OLD_IMAGES"),
                ));
            }
            db.update_table()
                .table_name(name)
                .stream_specification(spec.build()?)
                .send()
                .await
                .map_err(|e| aws_error("UpdateTable (stream)", e))?;
            wait_active(p, name).await?;
        }
        if bool_of(prior, "deletion_protection_enabled")
            != bool_of(planned, "deletion_protection_enabled")
        {
            db.update_table()
                .table_name(name)
                .deletion_protection_enabled(
                    bool_of(planned, "deletion_protection_enabled") == Some(true),
                )
                .send()
                .await
                .map_err(|e| aws_error("UpdateTable (deletion protection)", e))?;
        }
        if let Some(c) =
            str_of(planned, "table_class").filter(|c| Some(*c) != str_of(prior, "table_class"))
        {
            db.update_table()
                .table_name(name)
                .table_class(TableClass::from(c))
                .send()
                .await
                .map_err(|e| aws_error("UpdateTable (class)", e))?;
            wait_active(p, name).await?;
        }
        // Global secondary indexes: AWS takes one index creation or deletion per call.
        let by_name = |a: &Attrs| -> BTreeMap<String, Attrs> {
            blocks(a, "global_secondary_index")
                .into_iter()
                .filter_map(|g| Some((str_of(g, "name")?.to_string(), g.clone())))
                .collect()
        };
        let (old, new) = (by_name(prior), by_name(planned));
        for gname in old.keys().filter(|n| !new.contains_key(*n)) {
            db.update_table()
                .table_name(name)
                .global_secondary_index_updates(
                    GlobalSecondaryIndexUpdate::builder()
                        .delete(
                            DeleteGlobalSecondaryIndexAction::builder()
                                .index_name(gname)
                                .build()?,
                        )
                        .build(),
                )
                .send()
                .await
                .map_err(|e| aws_error("UpdateTable (delete index)", e))?;
            wait_active(p, name).await?;
        }
        for (gname, g) in &new {
            match old.get(gname) {
                None => {
                    let idx = gsi(g, ppr)?;
                    db.update_table()
                        .table_name(name)
                        .set_attribute_definitions(Some(attribute_definitions(planned)?))
                        .global_secondary_index_updates(
                            GlobalSecondaryIndexUpdate::builder()
                                .create(
                                    CreateGlobalSecondaryIndexAction::builder()
                                        .index_name(gname)
                                        .set_key_schema(Some(idx.key_schema().to_vec()))
                                        .set_projection(idx.projection().cloned())
                                        .set_provisioned_throughput(
                                            idx.provisioned_throughput().cloned(),
                                        )
                                        .build()?,
                                )
                                .build(),
                        )
                        .send()
                        .await
                        .map_err(|e| aws_error("UpdateTable (create index)", e))?;
                    wait_active(p, name).await?;
                }
                Some(o)
                    if !ppr
                        && (i64_of(o, "read_capacity") != i64_of(g, "read_capacity")
                            || i64_of(o, "write_capacity") != i64_of(g, "write_capacity")) =>
                {
                    db.update_table()
                        .table_name(name)
                        .global_secondary_index_updates(
                            GlobalSecondaryIndexUpdate::builder()
                                .update(
                                    UpdateGlobalSecondaryIndexAction::builder()
                                        .index_name(gname)
                                        .set_provisioned_throughput(provisioned(false, g)?)
                                        .build()?,
                                )
                                .build(),
                        )
                        .send()
                        .await
                        .map_err(|e| aws_error("UpdateTable (index capacity)", e))?;
                    wait_active(p, name).await?;
                }
                Some(o)
                    if !crate::value::json_equivalent(
                        &Json::Object(o.clone()),
                        &Json::Object(g.clone()),
                    ) && ppr =>
                {
                    anyhow::bail!(
                        "index {gname} of table {name} changed keys or projection; AWS cannot change that in place: rename the index to replace it"
                    )
                }
                Some(_) => {}
            }
        }
        // TTL: only when it changed (UpdateTimeToLive is rate limited and not idempotent).
        let (was_on, was_attr) = ttl_of(prior);
        let (on, attr) = ttl_of(planned);
        if was_on != on || (on && was_attr != attr) {
            if was_on && (!on || was_attr != attr) {
                set_ttl(p, name, false, was_attr.as_deref().unwrap_or_default()).await?;
            }
            if on {
                let attr = attr.ok_or_else(|| {
                    anyhow::anyhow!("ttl.enabled = true needs ttl.attribute_name")
                })?;
                set_ttl(p, name, true, &attr).await?;
            }
        }
        if pitr_of(prior) != pitr_of(planned) {
            set_pitr(p, name, pitr_of(planned)).await?;
        }
        if prior.get("replica") != planned.get("replica")
            || prior.get("tags") != planned.get("tags")
        {
            sync_replicas(p, name, req_str(prior, "arn")?, prior, planned).await?;
        }
        if prior.get("tags") != planned.get("tags") {
            let arn = req_str(prior, "arn")?;
            let (removed, want) = p.tag_changes(prior, planned);
            if !removed.is_empty() {
                db.untag_resource()
                    .resource_arn(arn)
                    .set_tag_keys(Some(removed))
                    .send()
                    .await
                    .map_err(|e| aws_error("UntagResource", e))?;
            }
            if !want.is_empty() {
                db.tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(tag_list(want)?))
                    .send()
                    .await
                    .map_err(|e| aws_error("TagResource", e))?;
            }
        }
        reread(self, p, planned, || {
            format!("table {name} no longer exists")
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let name = req_str(prior, "name")?;
        // Replicas go first, as AWS deletes a global table region by region.
        if !blocks(prior, "replica").is_empty() {
            let arn = str_of(prior, "arn").unwrap_or_default();
            sync_replicas(p, name, arn, prior, &Attrs::new()).await?;
        }
        match p.dynamodb().delete_table().table_name(name).send().await {
            Ok(_) => {}
            Err(e) if is_not_found(Service::DynamoDb, &e) => return Ok(()),
            Err(e) => return Err(aws_error("DeleteTable", e)),
        }
        poll_until(
            p.poll_interval,
            Duration::from_secs(600),
            |_| format!("table {name} was still being deleted after 10 minutes"),
            || async {
                let r = p.dynamodb().describe_table().table_name(name).send().await;
                Ok(match absent(Service::DynamoDb, "DescribeTable", r)? {
                    None => Poll::Ready(()),
                    Some(_) => Poll::Pending(None),
                })
            },
        )
        .await
    }

    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        self.read(p, planned).await
    }
}
