//! aws_iot_thing_group and aws_iot_thing_group_membership.

use super::ResourceType;
use super::attrs::{
    Attrs, block, blocks, bool_of, obj, req_name_or_id, req_str, str_of, string_map,
};
use super::batch;
use super::client::{Provider, aws_error};
use super::iot_common::{read_tags, tag_list, update_tags};
use super::not_found::{Service, absent, gone};
use super::reread::reread;
use super::schema::{Block, Schema, boolean, number, out, single, string, string_map as map_attr};
use async_trait::async_trait;
use aws_sdk_iot::types::{AttributePayload, ThingGroupProperties};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};

pub struct IotThingGroup {
    schema: Schema,
}

impl Default for IotThingGroup {
    fn default() -> Self {
        IotThingGroup {
            schema: Schema {
                id_attr: "name",
                block: Block::new()
                    .attr(string("name").required().force_new())
                    .attr(string("parent_group_name").force_new())
                    .attr(map_attr("tags"))
                    .attr(out("id"))
                    .attr(out("arn"))
                    .attr(number("version").computed())
                    .block(single(
                        "properties",
                        Block::new().attr(string("description")).block(single(
                            "attribute_payload",
                            Block::new().attr(map_attr("attributes")),
                        )),
                    )),
            },
        }
    }
}

fn properties(planned: &Attrs) -> ThingGroupProperties {
    let props = block(planned, "properties");
    let attrs: std::collections::HashMap<String, String> = props
        .and_then(|p| block(p, "attribute_payload"))
        .map(|a| string_map(a, "attributes").into_iter().collect())
        .unwrap_or_default();
    ThingGroupProperties::builder()
        .set_thing_group_description(
            props
                .and_then(|p| str_of(p, "description"))
                .map(str::to_string),
        )
        .attribute_payload(
            AttributePayload::builder()
                .set_attributes(Some(attrs))
                .merge(false)
                .build(),
        )
        .build()
}

#[async_trait]
impl ResourceType for IotThingGroup {
    fn name(&self) -> &'static str {
        "aws_iot_thing_group"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("name", json!(id))])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let name = req_name_or_id(prior, "name", "thing group has no name")?;
        let Some(g) = absent(
            Service::Iot,
            "DescribeThingGroup",
            p.iot()
                .describe_thing_group()
                .thing_group_name(name)
                .send()
                .await,
        )?
        else {
            return Ok(None);
        };
        let arn = g.thing_group_arn().unwrap_or_default().to_string();
        let props = g.thing_group_properties();
        let description = props.and_then(|p| p.thing_group_description());
        let attrs: std::collections::BTreeMap<String, String> = props
            .and_then(|p| p.attribute_payload())
            .and_then(|a| a.attributes())
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        // An unset properties block reads back as the user wrote it.
        let wrote_props = !blocks(prior, "properties").is_empty();
        let properties = if description.is_some() || !attrs.is_empty() || wrote_props {
            let payload = if !attrs.is_empty()
                || block(prior, "properties")
                    .is_some_and(|p| !blocks(p, "attribute_payload").is_empty())
            {
                json!([{"attributes": attrs}])
            } else {
                json!([])
            };
            json!([{"description": description, "attribute_payload": payload}])
        } else {
            json!([])
        };
        let parent = g
            .thing_group_metadata()
            .and_then(|m| m.parent_group_name())
            .map(str::to_string);
        let mut a = Attrs::new();
        a.insert("id".into(), json!(name));
        a.insert("name".into(), json!(name));
        a.insert("arn".into(), json!(arn));
        a.insert("version".into(), json!(g.version()));
        a.insert("parent_group_name".into(), json!(parent));
        a.insert("properties".into(), properties);
        a.insert("tags".into(), read_tags(p, &arn, prior).await?);
        Ok(Some(a))
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(planned, "name")?;
        let req = p
            .iot()
            .create_thing_group()
            .thing_group_name(name)
            .set_parent_group_name(str_of(planned, "parent_group_name").map(str::to_string))
            .thing_group_properties(properties(planned))
            .set_tags(tag_list(p, planned)?);
        super::attempts::adopt(p, "CreateThingGroup", req.send().await)
            .map_err(|e| aws_error("CreateThingGroup", e))?;
        super::created(
            self.read(p, planned).await,
            planned,
            format!("thing group {name} vanished after creation"),
        )
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(prior, "name")?;
        if prior.get("properties") != planned.get("properties") {
            p.iot()
                .update_thing_group()
                .thing_group_name(name)
                .thing_group_properties(properties(planned))
                .send()
                .await
                .map_err(|e| aws_error("UpdateThingGroup", e))?;
        }
        update_tags(p, req_str(prior, "arn")?, prior, planned).await?;
        reread(self, p, planned, || {
            format!("thing group {name} no longer exists")
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let name = req_str(prior, "name")?;
        gone(
            Service::Iot,
            "DeleteThingGroup",
            p.iot()
                .delete_thing_group()
                .thing_group_name(name)
                .send()
                .await,
        )
    }

    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        self.read(p, planned).await
    }
}

pub struct IotThingGroupMembership {
    schema: Schema,
}

impl Default for IotThingGroupMembership {
    fn default() -> Self {
        IotThingGroupMembership {
            schema: Schema {
                id_attr: "id",
                block: Block::new()
                    .attr(string("thing_name").required().force_new())
                    .attr(string("thing_group_name").required().force_new())
                    .attr(
                        boolean("override_dynamic_group")
                            .default(json!(false))
                            .local_only(),
                    )
                    .attr(out("id")),
            },
        }
    }
}

/// What `read` returns for a membership that exists.
fn membership(prior: &Attrs, thing: &str, group: &str) -> Attrs {
    obj([
        ("id", json!(format!("{group}/{thing}"))),
        ("thing_name", json!(thing)),
        ("thing_group_name", json!(group)),
        (
            "override_dynamic_group",
            prior
                .get("override_dynamic_group")
                .cloned()
                .unwrap_or(json!(false)),
        ),
    ])
}

/// Which of `wanted` are direct members of `group`, from ListThingsInThingGroup pages
/// (250 a page). `None`: the group does not exist. Paging stops once every wanted Thing
/// was seen, or after as many pages as Things wanted (then `read` decides the rest).
async fn members_of_group(
    p: &Provider,
    group: &str,
    wanted: HashSet<String>,
) -> anyhow::Result<Option<HashSet<String>>> {
    let budget = wanted.len();
    let mut found = HashSet::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    while found.len() < wanted.len() && pages < budget {
        let Some(page) = absent(
            Service::Iot,
            "ListThingsInThingGroup",
            p.iot()
                .list_things_in_thing_group()
                .thing_group_name(group)
                .max_results(250)
                .set_next_token(token.take())
                .send()
                .await,
        )?
        else {
            return Ok(None);
        };
        pages += 1;
        found.extend(
            page.things()
                .iter()
                .filter(|t| wanted.contains(*t))
                .cloned(),
        );
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(Some(found))
}

impl IotThingGroupMembership {
    async fn per_group(
        &self,
        p: &Provider,
        priors: &[&Attrs],
    ) -> anyhow::Result<Vec<Option<Attrs>>> {
        let mut out: Vec<Option<Attrs>> = vec![None; priors.len()];
        let mut single: Vec<usize> = vec![];
        let mut by_group: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, prior) in priors.iter().enumerate() {
            match (
                str_of(prior, "thing_group_name"),
                str_of(prior, "thing_name"),
            ) {
                (Some(group), Some(_)) => by_group.entry(group).or_default().push(i),
                _ => single.push(i),
            }
        }
        let listed = batch::per_key(p, by_group.keys().copied().collect(), |group| {
            let wanted: HashSet<String> = by_group[group]
                .iter()
                .filter_map(|&i| str_of(priors[i], "thing_name").map(str::to_string))
                .collect();
            members_of_group(p, group, wanted)
        })
        .await?;
        for (group, members) in listed {
            // Group gone: so are its memberships (out[i] stays None).
            let Some(members) = members else { continue };
            for &i in &by_group[group] {
                let thing = str_of(priors[i], "thing_name").unwrap_or_default();
                if members.contains(thing) {
                    out[i] = Some(membership(priors[i], thing, group));
                } else {
                    single.push(i);
                }
            }
        }
        batch::read_each(self, p, priors, single, &mut out).await?;
        Ok(out)
    }
}

#[async_trait]
impl ResourceType for IotThingGroupMembership {
    fn name(&self) -> &'static str {
        "aws_iot_thing_group_membership"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    /// Import id: `GROUP/THING`.
    fn import_attrs(&self, id: &str) -> Attrs {
        let (g, t) = id.split_once('/').unwrap_or((id, ""));
        obj([
            ("id", json!(id)),
            ("thing_group_name", json!(g)),
            ("thing_name", json!(t)),
        ])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let (thing, group) = (
            req_str(prior, "thing_name")?,
            req_str(prior, "thing_group_name")?,
        );
        let Some(out) = absent(
            Service::Iot,
            "ListThingGroupsForThing",
            p.iot()
                .list_thing_groups_for_thing()
                .thing_name(thing)
                .send()
                .await,
        )?
        else {
            return Ok(None);
        };
        if !out
            .thing_groups()
            .iter()
            .any(|g| g.group_name() == Some(group))
        {
            return Ok(None);
        }
        Ok(Some(membership(prior, thing, group)))
    }

    /// Memberships are refreshed with ListThingsInThingGroup pages, once per group,
    /// instead of one ListThingGroupsForThing per Thing. Used only when some group has
    /// several members in the stack (otherwise it saves nothing).
    async fn read_many(
        &self,
        p: &Provider,
        priors: &[&Attrs],
    ) -> Option<anyhow::Result<Vec<Option<Attrs>>>> {
        let groups: HashSet<&str> = priors
            .iter()
            .filter_map(|a| str_of(a, "thing_group_name"))
            .collect();
        if !p.lists(priors.len(), 3) || groups.len() >= priors.len() {
            return None;
        }
        Some(self.per_group(p, priors).await)
    }

    /// Its configuration names the object: the planned attributes are what `read` needs.
    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        crate::provider::recover_by_read(self, p, planned).await
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let (thing, group) = (
            req_str(planned, "thing_name")?,
            req_str(planned, "thing_group_name")?,
        );
        p.iot()
            .add_thing_to_thing_group()
            .thing_name(thing)
            .thing_group_name(group)
            .override_dynamic_groups(bool_of(planned, "override_dynamic_group") == Some(true))
            .send()
            .await
            .map_err(|e| aws_error("AddThingToThingGroup", e))?;
        reread(self, p, planned, || {
            format!("{thing} is not in {group} right after adding it")
        })
        .await
    }

    async fn update(&self, p: &Provider, _prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        reread(self, p, planned, || {
            "membership no longer exists".to_string()
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let (thing, group) = (
            req_str(prior, "thing_name")?,
            req_str(prior, "thing_group_name")?,
        );
        gone(
            Service::Iot,
            "RemoveThingFromThingGroup",
            p.iot()
                .remove_thing_from_thing_group()
                .thing_name(thing)
                .thing_group_name(group)
                .send()
                .await,
        )
    }
}
