//! aws_iot_thing_type. AWS deletes a thing type only 5 minutes after it was deprecated:
//! destroy deprecates, then retries DeleteThingType until AWS accepts it (no wait when
//! the endpoint accepts at once), reporting progress; the plan says so.

use super::ResourceType;
use super::attrs::{Attrs, block, bool_of, obj, req_name_or_id, req_str, str_of, string_list};
use super::client::{Provider, aws_error};
use super::iot_common::{read_tags, tag_list, update_tags};
use super::not_found::{Service, absent, is_not_found, is_not_found_message};
use super::reread::reread;
use super::schema::{
    Block, Schema, boolean, out, single, string, string_map as map_attr, string_set,
};
use super::wait::{Poll, poll_until};
use async_trait::async_trait;
use aws_sdk_iot::types::ThingTypeProperties;
use serde_json::json;

pub struct IotThingType {
    schema: Schema,
}

impl Default for IotThingType {
    fn default() -> Self {
        IotThingType {
            schema: Schema {
                id_attr: "name",
                block: Block::new()
                    .attr(string("name").required().force_new())
                    .attr(boolean("deprecated").default(json!(false)))
                    .attr(map_attr("tags"))
                    .attr(out("id"))
                    .attr(out("arn"))
                    .block(
                        single(
                            "properties",
                            Block::new()
                                .attr(string("description").force_new())
                                .attr(string_set("searchable_attributes").force_new()),
                        )
                        .force_new(),
                    ),
            },
        }
    }
}

async fn set_deprecated(p: &Provider, name: &str, deprecated: bool) -> anyhow::Result<()> {
    p.iot()
        .deprecate_thing_type()
        .thing_type_name(name)
        .undo_deprecate(!deprecated)
        .send()
        .await
        .map_err(|e| aws_error("DeprecateThingType", e))?;
    Ok(())
}

#[async_trait]
impl ResourceType for IotThingType {
    fn name(&self) -> &'static str {
        "aws_iot_thing_type"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("name", json!(id))])
    }
    fn delete_note(&self) -> Option<String> {
        Some("AWS deletes a thing type only 5 minutes after it is deprecated; the apply deprecates it and waits until AWS accepts the delete".into())
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let name = req_name_or_id(prior, "name", "thing type has no name")?;
        let Some(t) = absent(
            Service::Iot,
            "DescribeThingType",
            p.iot()
                .describe_thing_type()
                .thing_type_name(name)
                .send()
                .await,
        )?
        else {
            return Ok(None);
        };
        let arn = t.thing_type_arn().unwrap_or_default().to_string();
        let props = t.thing_type_properties();
        let description = props.and_then(|p| p.thing_type_description());
        let searchable: Vec<String> = props
            .map(|p| p.searchable_attributes().to_vec())
            .unwrap_or_default();
        let properties = if description.is_some() || !searchable.is_empty() {
            json!([{"description": description, "searchable_attributes": searchable}])
        } else {
            json!([])
        };
        let mut a = Attrs::new();
        a.insert("id".into(), json!(name));
        a.insert("name".into(), json!(name));
        a.insert("arn".into(), json!(arn));
        a.insert(
            "deprecated".into(),
            json!(
                t.thing_type_metadata()
                    .map(|m| m.deprecated())
                    .unwrap_or(false)
            ),
        );
        a.insert("properties".into(), properties);
        a.insert("tags".into(), read_tags(p, &arn, prior).await?);
        Ok(Some(a))
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(planned, "name")?;
        let mut req = p
            .iot()
            .create_thing_type()
            .thing_type_name(name)
            .set_tags(tag_list(p, planned)?);
        if let Some(props) = block(planned, "properties") {
            let searchable = string_list(props, "searchable_attributes");
            req = req.thing_type_properties(
                ThingTypeProperties::builder()
                    .set_thing_type_description(str_of(props, "description").map(str::to_string))
                    .set_searchable_attributes((!searchable.is_empty()).then_some(searchable))
                    .build(),
            );
        }
        super::attempts::adopt(p, "CreateThingType", req.send().await)
            .map_err(|e| aws_error("CreateThingType", e))?;
        if bool_of(planned, "deprecated") == Some(true) {
            set_deprecated(p, name, true)
                .await
                .map_err(|e| super::partial(planned.clone(), e))?;
        }
        super::created(
            self.read(p, planned).await,
            planned,
            format!("thing type {name} vanished after creation"),
        )
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(prior, "name")?;
        if bool_of(prior, "deprecated") != bool_of(planned, "deprecated") {
            set_deprecated(p, name, bool_of(planned, "deprecated") == Some(true)).await?;
        }
        update_tags(p, req_str(prior, "arn")?, prior, planned).await?;
        reread(self, p, planned, || {
            format!("thing type {name} no longer exists")
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let name = req_str(prior, "name")?;
        if bool_of(prior, "deprecated") != Some(true) {
            match set_deprecated(p, name, true).await {
                Ok(()) => {}
                Err(e) if is_not_found_message(Service::Iot, &e) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        poll_until(
            p.poll_interval.max(std::time::Duration::from_millis(50)),
            p.thing_type_delete_budget,
            |t| {
                format!(
                    "thing type {name} was still not deletable {}s after deprecation",
                    t.as_secs()
                )
            },
            // Progress ("Still destroying... [60s elapsed]") is printed by the engine meanwhile.
            || async {
                match p
                    .iot()
                    .delete_thing_type()
                    .thing_type_name(name)
                    .send()
                    .await
                {
                    Ok(_) => Ok(Poll::Ready(())),
                    Err(e) if is_not_found(Service::Iot, &e) => Ok(Poll::Ready(())),
                    Err(e)
                        if aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&e)
                            == Some("InvalidRequestException") =>
                    {
                        Ok(Poll::Pending(Some(aws_error("DeleteThingType", e))))
                    }
                    Err(e) => Err(aws_error("DeleteThingType", e)),
                }
            },
        )
        .await
    }

    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        self.read(p, planned).await
    }
}
