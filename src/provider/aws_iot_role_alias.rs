//! aws_iot_role_alias: an alias the IoT credentials provider exchanges for temporary
//! credentials of an IAM role. Named by its alias (the id, the import id); the role and
//! the credential duration are updated in place, the alias forces a new object.

use super::ResourceType;
use super::attrs::{Attrs, i64_of, obj, req_name_or_id, req_str};
use super::client::{Provider, aws_error};
use super::iot_common::{read_tags, tag_list, update_tags};
use super::not_found::{Service, absent, is_not_found};
use super::reread::reread;
use super::schema::{Block, Schema, number, out, string, string_map};
use async_trait::async_trait;
use serde_json::json;

/// Terraform's default credential duration, in seconds.
const DEFAULT_DURATION: i64 = 3600;

pub struct IotRoleAlias {
    schema: Schema,
}

impl Default for IotRoleAlias {
    fn default() -> Self {
        IotRoleAlias {
            schema: Schema {
                id_attr: "alias",
                block: Block::new()
                    .attr(string("alias").required().force_new())
                    .attr(string("role_arn").required())
                    .attr(number("credential_duration").default(json!(DEFAULT_DURATION)))
                    .attr(string_map("tags"))
                    .attr(out("id"))
                    .attr(out("arn")),
            },
        }
    }
}

fn duration(a: &Attrs) -> anyhow::Result<i32> {
    let d = i64_of(a, "credential_duration").unwrap_or(DEFAULT_DURATION);
    if !(900..=43200).contains(&d) {
        anyhow::bail!("credential_duration must be between 900 and 43200 seconds, got {d}");
    }
    Ok(d as i32)
}

#[async_trait]
impl ResourceType for IotRoleAlias {
    fn name(&self) -> &'static str {
        "aws_iot_role_alias"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("alias", json!(id))])
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let alias = req_name_or_id(prior, "alias", "role alias has no alias")?;
        let Some(out) = absent(
            Service::Iot,
            "DescribeRoleAlias",
            p.iot().describe_role_alias().role_alias(alias).send().await,
        )?
        else {
            return Ok(None);
        };
        let Some(d) = out.role_alias_description() else {
            return Ok(None);
        };
        let arn = d.role_alias_arn().unwrap_or_default().to_string();
        let mut a = Attrs::new();
        a.insert("id".into(), json!(alias));
        a.insert("alias".into(), json!(alias));
        a.insert("arn".into(), json!(arn));
        a.insert("role_arn".into(), json!(d.role_arn()));
        a.insert(
            "credential_duration".into(),
            json!(d.credential_duration_seconds()),
        );
        a.insert("tags".into(), read_tags(p, &arn, prior).await?);
        Ok(Some(a))
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let alias = req_str(planned, "alias")?;
        p.iot()
            .create_role_alias()
            .role_alias(alias)
            .role_arn(req_str(planned, "role_arn")?)
            .credential_duration_seconds(duration(planned)?)
            .set_tags(tag_list(p, planned)?)
            .send()
            .await
            .map_err(|e| aws_error("CreateRoleAlias", e))?;
        super::created(
            self.read(p, planned).await,
            planned,
            format!("role alias {alias} vanished after creation"),
        )
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let alias = req_str(prior, "alias")?;
        let role_arn = req_str(planned, "role_arn")?;
        let seconds = duration(planned)?;
        if prior.get("role_arn") != planned.get("role_arn")
            || i64_of(prior, "credential_duration") != Some(i64::from(seconds))
        {
            p.iot()
                .update_role_alias()
                .role_alias(alias)
                .role_arn(role_arn)
                .credential_duration_seconds(seconds)
                .send()
                .await
                .map_err(|e| aws_error("UpdateRoleAlias", e))?;
        }
        update_tags(p, req_str(prior, "arn")?, prior, planned).await?;
        reread(self, p, planned, || {
            format!("role alias {alias} no longer exists")
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let alias = req_str(prior, "alias")?;
        match p.iot().delete_role_alias().role_alias(alias).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(Service::Iot, &e) => Ok(()),
            Err(e) => Err(aws_error("DeleteRoleAlias", e)),
        }
    }

    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        self.read(p, planned).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_duration_defaults_to_an_hour_and_is_bounded() {
        let mut a = Attrs::new();
        assert_eq!(duration(&a).unwrap(), 3600);
        a.insert("credential_duration".into(), json!(43200));
        assert_eq!(duration(&a).unwrap(), 43200);
        a.insert("credential_duration".into(), json!(899));
        assert!(duration(&a).is_err());
        a.insert("credential_duration".into(), json!(43201));
        assert!(duration(&a).is_err());
    }
}
