//! aws_iot_provisioning_template (fleet provisioning and JITP). A template body change is a
//! new default version; AWS keeps at most 5, so the oldest non-default one is pruned.

use super::ResourceType;
use super::attrs::{Attrs, block, bool_of, obj, req_name_or_id, req_str, str_of};
use super::client::{Provider, aws_error};
use super::iot_common::{read_tags, tag_list, update_tags};
use super::not_found::{Service, absent, gone};
use super::reread::reread;
use super::schema::{
    Block, Schema, boolean, json as json_attr, out, single, string, string_map as map_attr,
};
use crate::value::canonical_json;
use async_trait::async_trait;
use aws_sdk_iot::types::{ProvisioningHook, TemplateType};
use serde_json::json;

pub struct IotProvisioningTemplate {
    schema: Schema,
}

impl Default for IotProvisioningTemplate {
    fn default() -> Self {
        IotProvisioningTemplate {
            schema: Schema {
                id_attr: "name",
                block: Block::new()
                    .attr(string("name").required().force_new())
                    .attr(string("description"))
                    .attr(boolean("enabled").default(json!(false)))
                    .attr(string("provisioning_role_arn").required())
                    .attr(json_attr("template_body").required())
                    .attr(
                        string("type")
                            .default(json!("FLEET_PROVISIONING"))
                            .force_new(),
                    )
                    .attr(map_attr("tags"))
                    .attr(out("id"))
                    .attr(out("arn"))
                    .attr(out("default_version_id"))
                    .block(single(
                        "pre_provisioning_hook",
                        Block::new()
                            .attr(string("target_arn").required())
                            .attr(string("payload_version").computed()),
                    )),
            },
        }
    }
}

fn hook(planned: &Attrs) -> anyhow::Result<Option<ProvisioningHook>> {
    block(planned, "pre_provisioning_hook")
        .map(|h| {
            Ok(ProvisioningHook::builder()
                .target_arn(req_str(h, "target_arn")?)
                .set_payload_version(str_of(h, "payload_version").map(str::to_string))
                .build()?)
        })
        .transpose()
}

#[async_trait]
impl ResourceType for IotProvisioningTemplate {
    fn name(&self) -> &'static str {
        "aws_iot_provisioning_template"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("name", json!(id))])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let name = req_name_or_id(prior, "name", "template has no name")?;
        let Some(t) = absent(
            Service::Iot,
            "DescribeProvisioningTemplate",
            p.iot()
                .describe_provisioning_template()
                .template_name(name)
                .send()
                .await,
        )?
        else {
            return Ok(None);
        };
        let arn = t.template_arn().unwrap_or_default().to_string();
        let mut a = Attrs::new();
        a.insert("id".into(), json!(name));
        a.insert("name".into(), json!(name));
        a.insert("arn".into(), json!(arn));
        a.insert(
            "description".into(),
            json!(t.description().filter(|d| !d.is_empty())),
        );
        a.insert("enabled".into(), json!(t.enabled().unwrap_or(false)));
        a.insert(
            "provisioning_role_arn".into(),
            json!(t.provisioning_role_arn()),
        );
        a.insert(
            "template_body".into(),
            json!(t.template_body().map(canonical_json)),
        );
        a.insert(
            "type".into(),
            json!(
                t.r#type()
                    .map(|x| x.as_str())
                    .unwrap_or("FLEET_PROVISIONING")
            ),
        );
        a.insert("default_version_id".into(), json!(t.default_version_id()));
        a.insert(
            "pre_provisioning_hook".into(),
            t.pre_provisioning_hook()
                .map(|h| json!([{"target_arn": h.target_arn(), "payload_version": h.payload_version()}]))
                .unwrap_or(json!([])),
        );
        a.insert("tags".into(), read_tags(p, &arn, prior).await?);
        Ok(Some(a))
    }

    /// Its configuration names the object: the planned attributes are what `read` needs.
    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        crate::provider::recover_by_read(self, p, planned).await
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(planned, "name")?;
        p.iot()
            .create_provisioning_template()
            .template_name(name)
            .set_description(str_of(planned, "description").map(str::to_string))
            .template_body(req_str(planned, "template_body")?)
            .enabled(bool_of(planned, "enabled") == Some(true))
            .provisioning_role_arn(req_str(planned, "provisioning_role_arn")?)
            .set_pre_provisioning_hook(hook(planned)?)
            .r#type(TemplateType::from(
                str_of(planned, "type").unwrap_or("FLEET_PROVISIONING"),
            ))
            .set_tags(tag_list(p, planned)?)
            .send()
            .await
            .map_err(|e| aws_error("CreateProvisioningTemplate", e))?;
        super::created(
            self.read(p, planned).await,
            planned,
            format!("template {name} vanished after creation"),
        )
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(prior, "name")?;
        if prior.get("template_body") != planned.get("template_body") {
            let versions = p
                .iot()
                .list_provisioning_template_versions()
                .template_name(name)
                .send()
                .await
                .map_err(|e| aws_error("ListProvisioningTemplateVersions", e))?;
            let mut old: Vec<i32> = versions
                .versions()
                .iter()
                .filter(|v| !v.is_default_version())
                .filter_map(|v| v.version_id())
                .collect();
            old.sort();
            let excess = (versions.versions().len() + 1).saturating_sub(5);
            for v in old.into_iter().take(excess) {
                p.iot()
                    .delete_provisioning_template_version()
                    .template_name(name)
                    .version_id(v)
                    .send()
                    .await
                    .map_err(|e| aws_error("DeleteProvisioningTemplateVersion", e))?;
            }
            p.iot()
                .create_provisioning_template_version()
                .template_name(name)
                .template_body(req_str(planned, "template_body")?)
                .set_as_default(true)
                .send()
                .await
                .map_err(|e| aws_error("CreateProvisioningTemplateVersion", e))?;
        }
        p.iot()
            .update_provisioning_template()
            .template_name(name)
            .set_description(str_of(planned, "description").map(str::to_string))
            .enabled(bool_of(planned, "enabled") == Some(true))
            .provisioning_role_arn(req_str(planned, "provisioning_role_arn")?)
            .set_pre_provisioning_hook(hook(planned)?)
            .send()
            .await
            .map_err(|e| aws_error("UpdateProvisioningTemplate", e))?;
        update_tags(p, req_str(prior, "arn")?, prior, planned).await?;
        reread(self, p, planned, || {
            format!("template {name} no longer exists")
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let name = req_str(prior, "name")?;
        gone(
            Service::Iot,
            "DeleteProvisioningTemplate",
            p.iot()
                .delete_provisioning_template()
                .template_name(name)
                .send()
                .await,
        )
    }
}
