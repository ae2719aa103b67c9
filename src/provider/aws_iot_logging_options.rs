//! aws_iot_logging_options: the account's IoT logging settings in a region (v2 logging).
//! A singleton setting, not an object: create and update both call SetV2LoggingOptions,
//! read calls GetV2LoggingOptions, and delete changes nothing in AWS (as the Terraform
//! provider does: the settings stay as last set; the plan says so). The id is the region.

use super::ResourceType;
use super::attrs::{Attrs, bool_of, req_str};
use super::client::{Provider, aws_error};
use super::reread::reread;
use super::schema::{Block, Schema, boolean, out, string};
use async_trait::async_trait;
use aws_sdk_iot::types::LogLevel;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::json;

pub struct IotLoggingOptions {
    schema: Schema,
}

impl Default for IotLoggingOptions {
    fn default() -> Self {
        IotLoggingOptions {
            schema: Schema {
                id_attr: "id",
                block: Block::new()
                    .attr(string("default_log_level").required())
                    .attr(string("role_arn").required())
                    .attr(boolean("disable_all_logs").default(json!(false)))
                    .attr(out("id")),
            },
        }
    }
}

fn log_level(a: &Attrs) -> anyhow::Result<LogLevel> {
    let level = req_str(a, "default_log_level")?;
    let known = LogLevel::values();
    if !known.contains(&level) {
        anyhow::bail!(
            "default_log_level must be one of {}, got {level:?}",
            known.join(", ")
        );
    }
    Ok(LogLevel::from(level))
}

async fn set(p: &Provider, planned: &Attrs) -> anyhow::Result<()> {
    p.iot()
        .set_v2_logging_options()
        .role_arn(req_str(planned, "role_arn")?)
        .default_log_level(log_level(planned)?)
        .disable_all_logs(bool_of(planned, "disable_all_logs").unwrap_or(false))
        .send()
        .await
        .map_err(|e| aws_error("SetV2LoggingOptions", e))?;
    Ok(())
}

#[async_trait]
impl ResourceType for IotLoggingOptions {
    fn name(&self) -> &'static str {
        "aws_iot_logging_options"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn delete_note(&self) -> Option<String> {
        Some("IoT logging options are an account setting: destroying them only removes them from the state, and AWS keeps the settings last applied".into())
    }

    async fn read(&self, p: &Provider, _prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let o = match p.iot().get_v2_logging_options().send().await {
            Ok(o) => o,
            // The account has no v2 logging settings (never set, or reset outside thingform).
            Err(e) if ProvideErrorMetadata::code(&e) == Some("NotConfiguredException") => {
                return Ok(None);
            }
            Err(e) => return Err(aws_error("GetV2LoggingOptions", e)),
        };
        let mut a = Attrs::new();
        a.insert("id".into(), json!(p.region));
        a.insert("role_arn".into(), json!(o.role_arn()));
        a.insert(
            "default_log_level".into(),
            json!(o.default_log_level().map(|l| l.as_str())),
        );
        a.insert("disable_all_logs".into(), json!(o.disable_all_logs()));
        Ok(Some(a))
    }

    /// Its configuration names the object: the planned attributes are what `read` needs.
    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        crate::provider::recover_by_read(self, p, planned).await
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        set(p, planned).await?;
        super::created(
            self.read(p, planned).await,
            planned,
            "IoT logging options could not be read back".into(),
        )
    }

    async fn update(&self, p: &Provider, _prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        set(p, planned).await?;
        reread(self, p, planned, || {
            "IoT logging options could not be read back".into()
        })
        .await
    }

    async fn delete(&self, _p: &Provider, _prior: &Attrs) -> anyhow::Result<()> {
        // Nothing to delete in AWS: the account keeps its logging settings.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels_are_checked_against_the_sdk_values() {
        let mut a = Attrs::new();
        a.insert("default_log_level".into(), json!("WARN"));
        assert_eq!(log_level(&a).unwrap(), LogLevel::Warn);
        a.insert("default_log_level".into(), json!("LOUD"));
        let err = log_level(&a).unwrap_err().to_string();
        assert!(err.contains("DEBUG") && err.contains("\"LOUD\""), "{err}");
    }
}
