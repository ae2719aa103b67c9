//! aws_iot_topic_rule. Everything but the name updates in place through one
//! ReplaceTopicRule call, as in the Terraform AWS provider. The actions are in
//! `actions.rs` (one table row per flat action), their argument kinds in `fields.rs`,
//! the checks of the SQL, topic filter and substitution templates in `check.rs`.

mod actions;
pub mod check;
pub mod evaluate;
mod fields;
pub mod perform;

use super::ResourceType;
use super::attrs::{Attrs, block, blocks, bool_of, obj, req_name_or_id, req_str, str_of};
use super::client::{Provider, aws_error};
use super::iot_common::{read_tags, tag_list, update_tags};
use super::not_found::{Service, gone, is_not_found};
use super::reread::reread;
use super::retry::iam_propagation;
use super::schema::{Block, Schema, boolean, out, single, string, string_map as map_attr};
use actions::{action_blocks, from_action, kinds, to_action};

/// Every action block kind a rule (and its `error_action`) can hold.
pub use actions::kinds as action_kinds;
use async_trait::async_trait;
use aws_sdk_iot::types::{Action, TopicRulePayload};
use serde_json::{Value as Json, json};

pub struct IotTopicRule {
    schema: Schema,
}

impl Default for IotTopicRule {
    fn default() -> Self {
        let mut error_action = Block::new();
        for b in action_blocks() {
            error_action = error_action.block(b);
        }
        let mut block = Block::new()
            .attr(string("name").required().force_new())
            .attr(string("sql").required())
            .attr(string("sql_version").required())
            .attr(boolean("enabled").required())
            .attr(string("description"))
            .attr(map_attr("tags"))
            .attr(out("id"))
            .attr(out("arn"))
            .block(single("error_action", error_action));
        for b in action_blocks() {
            block = block.block(b);
        }
        IotTopicRule {
            schema: Schema {
                id_attr: "name",
                block,
            },
        }
    }
}

fn s(a: &Attrs, k: &str) -> Option<String> {
    str_of(a, k).map(str::to_string)
}

fn actions_of(a: &Attrs) -> anyhow::Result<Vec<Action>> {
    let mut out = vec![];
    for kind in kinds() {
        for b in blocks(a, kind) {
            out.push(to_action(kind, b)?);
        }
    }
    Ok(out)
}

fn payload(planned: &Attrs) -> anyhow::Result<TopicRulePayload> {
    let actions = actions_of(planned)?;
    let error_action = match block(planned, "error_action") {
        Some(e) => {
            let mut acts = actions_of(e)?;
            if acts.len() > 1 {
                anyhow::bail!(
                    "error_action takes exactly one action block, found {}",
                    acts.len()
                );
            }
            acts.pop()
        }
        None => None,
    };
    Ok(TopicRulePayload::builder()
        .sql(req_str(planned, "sql")?)
        .aws_iot_sql_version(req_str(planned, "sql_version")?)
        .rule_disabled(bool_of(planned, "enabled") != Some(true))
        .set_description(s(planned, "description"))
        .set_actions(Some(actions))
        .set_error_action(error_action)
        .build()?)
}

#[async_trait]
impl ResourceType for IotTopicRule {
    fn name(&self) -> &'static str {
        "aws_iot_topic_rule"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("name", json!(id))])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let name = req_name_or_id(prior, "name", "rule has no name")?;
        let out = match p.iot().get_topic_rule().rule_name(name).send().await {
            Ok(o) => o,
            Err(e)
                if is_not_found(Service::Iot, &e)
                    || aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&e)
                        == Some("UnauthorizedException") =>
            {
                return Ok(None);
            }
            Err(e) => return Err(aws_error("GetTopicRule", e)),
        };
        let Some(rule) = out.rule() else {
            return Ok(None);
        };
        let arn = out.rule_arn().unwrap_or_default().to_string();
        let mut a = Attrs::new();
        a.insert("id".into(), json!(name));
        a.insert("name".into(), json!(name));
        a.insert("arn".into(), json!(arn));
        a.insert("sql".into(), json!(rule.sql()));
        a.insert("sql_version".into(), json!(rule.aws_iot_sql_version()));
        a.insert("enabled".into(), json!(rule.rule_disabled() != Some(true)));
        a.insert(
            "description".into(),
            json!(rule.description().filter(|d| !d.is_empty())),
        );
        for kind in kinds() {
            a.insert(kind.to_string(), json!([]));
        }
        for act in rule.actions() {
            if let Some((kind, v)) = from_action(act)
                && let Some(Json::Array(l)) = a.get_mut(kind)
            {
                l.push(v);
            }
        }
        let error_action = match rule.error_action().and_then(from_action) {
            Some((kind, v)) => {
                let mut e = serde_json::Map::new();
                for k in kinds() {
                    e.insert(k.to_string(), json!([]));
                }
                e.insert(kind.to_string(), json!([v]));
                json!([e])
            }
            None => json!([]),
        };
        a.insert("error_action".into(), error_action);
        a.insert("tags".into(), read_tags(p, &arn, prior).await?);
        Ok(Some(a))
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(planned, "name")?;
        let payload = payload(planned)?;
        let tags = tag_list(p, planned)?.map(|t| {
            t.iter()
                .map(|t| format!("{}={}", t.key(), t.value().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("&")
        });
        // The rule's roles may have been created a moment ago: IAM propagation is retried.
        iam_propagation(p, "CreateTopicRule", || async {
            let req = p
                .iot()
                .create_topic_rule()
                .rule_name(name)
                .topic_rule_payload(payload.clone())
                .set_tags(tags.clone());
            super::attempts::adopt(p, "CreateTopicRule", req.send().await)
                .map_err(|e| aws_error("CreateTopicRule", e))
        })
        .await?;
        super::created(
            self.read(p, planned).await,
            planned,
            format!("rule {name} vanished after creation"),
        )
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(prior, "name")?;
        let mut rule_changed = false;
        for (k, v) in planned {
            if k != "tags" && prior.get(k) != Some(v) {
                rule_changed = true;
            }
        }
        if rule_changed {
            let payload = payload(planned)?;
            iam_propagation(p, "ReplaceTopicRule", || async {
                p.iot()
                    .replace_topic_rule()
                    .rule_name(name)
                    .topic_rule_payload(payload.clone())
                    .send()
                    .await
                    .map_err(|e| aws_error("ReplaceTopicRule", e))
            })
            .await?;
        }
        update_tags(p, req_str(prior, "arn")?, prior, planned).await?;
        reread(self, p, planned, || format!("rule {name} no longer exists")).await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let name = req_str(prior, "name")?;
        gone(
            Service::Iot,
            "DeleteTopicRule",
            p.iot().delete_topic_rule().rule_name(name).send().await,
        )
    }

    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        self.read(p, planned).await
    }

    /// The SQL, topic filter and substitution templates, checked before AWS sees them
    /// (also where they were unknown until apply).
    fn plan_local(
        &self,
        config: &mut serde_json::Map<String, Json>,
        _dir: &std::path::Path,
    ) -> anyhow::Result<()> {
        let problems = check::check_rule(config);
        if problems.is_empty() {
            Ok(())
        } else {
            anyhow::bail!("{}", check::describe(&problems))
        }
    }
}
