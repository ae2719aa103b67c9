//! aws_lambda_permission: one statement of a function's resource policy.

use super::super::ResourceType;
use super::super::attrs::{Attrs, obj, req_str, str_of};
use super::super::client::{Provider, aws_error};
use super::super::not_found::{Service, absent, gone};
use super::super::reread::reread;
use super::super::schema::{Block, Schema, out, string};
use async_trait::async_trait;
use serde_json::{Value as Json, json};
pub struct LambdaPermission {
    schema: Schema,
}

impl Default for LambdaPermission {
    fn default() -> Self {
        LambdaPermission {
            schema: Schema {
                id_attr: "statement_id",
                block: Block::new()
                    .attr(string("statement_id").computed().force_new())
                    .attr(string("statement_id_prefix").force_new())
                    .attr(string("action").required().force_new())
                    .attr(string("function_name").required().force_new())
                    .attr(string("principal").required().force_new())
                    .attr(string("source_arn").force_new())
                    .attr(string("source_account").force_new())
                    .attr(string("qualifier").force_new())
                    .attr(string("event_source_token").force_new())
                    .attr(string("principal_org_id").force_new())
                    .attr(string("function_url_auth_type").force_new())
                    .attr(out("id")),
            },
        }
    }
}

fn function_key(f: &str) -> String {
    // A function may be named by name or ARN; both serialise on the bare name.
    f.rsplit(':')
        .find(|s| !s.is_empty() && *s != "$LATEST")
        .unwrap_or(f)
        .to_string()
}

#[async_trait]
impl ResourceType for LambdaPermission {
    fn name(&self) -> &'static str {
        "aws_lambda_permission"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    /// Import id: `FUNCTION_NAME/STATEMENT_ID`, as in Terraform.
    fn import_attrs(&self, id: &str) -> Attrs {
        let (f, sid) = id.split_once('/').unwrap_or((id, ""));
        obj([
            ("id", json!(sid)),
            ("function_name", json!(f)),
            ("statement_id", json!(sid)),
        ])
    }
    /// `source_arn` must be an ARN, checked at plan time as the AWS provider does.
    fn plan_local(
        &self,
        config: &mut serde_json::Map<String, Json>,
        _dir: &std::path::Path,
    ) -> anyhow::Result<()> {
        match config.get("source_arn") {
            Some(Json::String(arn)) => super::super::arn::check("source_arn", arn),
            _ => Ok(()),
        }
    }
    /// AWS refuses concurrent policy changes on one function ("PreconditionFailed").
    fn serialization_key(&self, planned: &Attrs) -> Option<String> {
        str_of(planned, "function_name").map(|f| format!("lambda-policy:{}", function_key(f)))
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let f = req_str(prior, "function_name")?;
        let sid = req_str(prior, "statement_id")?;
        let Some(out) = absent(
            Service::Lambda,
            "GetPolicy",
            p.lambda()
                .get_policy()
                .function_name(f)
                .set_qualifier(str_of(prior, "qualifier").map(str::to_string))
                .send()
                .await,
        )?
        else {
            return Ok(None);
        };
        let policy: Json = serde_json::from_str(out.policy().unwrap_or("{}")).unwrap_or(Json::Null);
        let found = policy["Statement"]
            .as_array()
            .map(|l| l.iter().any(|s| s["Sid"] == json!(sid)))
            .unwrap_or(false);
        if !found {
            return Ok(None);
        }
        let mut a = prior.clone();
        a.insert("id".into(), json!(sid));
        Ok(Some(a))
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let f = req_str(planned, "function_name")?;
        let sid = match str_of(planned, "statement_id") {
            Some(s) => s.to_string(),
            None => super::super::attrs::generated_name(str_of(planned, "statement_id_prefix"), 16),
        };
        let req = p
            .lambda()
            .add_permission()
            .function_name(f)
            .statement_id(&sid)
            .action(req_str(planned, "action")?)
            .principal(req_str(planned, "principal")?)
            .set_source_arn(str_of(planned, "source_arn").map(str::to_string))
            .set_source_account(str_of(planned, "source_account").map(str::to_string))
            .set_qualifier(str_of(planned, "qualifier").map(str::to_string))
            .set_event_source_token(str_of(planned, "event_source_token").map(str::to_string))
            .set_principal_org_id(str_of(planned, "principal_org_id").map(str::to_string))
            .set_function_url_auth_type(
                str_of(planned, "function_url_auth_type")
                    .map(aws_sdk_lambda::types::FunctionUrlAuthType::from),
            );
        super::super::attempts::adopt(p, "AddPermission", req.send().await)
            .map_err(|e| aws_error("AddPermission", e))?;
        let mut state = planned.clone();
        state.insert("statement_id".into(), json!(sid));
        reread(self, p, &state, || {
            format!("permission {sid} is missing right after AddPermission")
        })
        .await
    }

    /// A statement is found by its `statement_id`; a generated one (from
    /// `statement_id_prefix`) by the prefix, action and principal, among the statements
    /// the state does not track yet.
    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        if str_of(planned, "statement_id").is_some() {
            return crate::provider::recover_by_read(self, p, planned).await;
        }
        let f = req_str(planned, "function_name")?;
        let prefix = str_of(planned, "statement_id_prefix").unwrap_or("thingform-");
        let taken: Vec<&str> = planned
            .get(crate::provider::RECOVER_TAKEN)
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        let Some(out) = absent(
            Service::Lambda,
            "GetPolicy",
            p.lambda()
                .get_policy()
                .function_name(f)
                .set_qualifier(str_of(planned, "qualifier").map(str::to_string))
                .send()
                .await,
        )?
        else {
            return Ok(None);
        };
        let policy: Json = serde_json::from_str(out.policy().unwrap_or("{}")).unwrap_or(Json::Null);
        let principal = str_of(planned, "principal").unwrap_or_default();
        let action = str_of(planned, "action").unwrap_or_default();
        let found = policy["Statement"].as_array().and_then(|l| {
            l.iter().find_map(|s| {
                let sid = s["Sid"].as_str()?;
                let principal_matches = match &s["Principal"] {
                    Json::String(v) => v == principal,
                    Json::Object(m) => m.values().any(|v| v == principal),
                    _ => false,
                };
                (sid.starts_with(prefix)
                    && !taken.contains(&sid)
                    && s["Action"] == json!(action)
                    && principal_matches)
                    .then(|| sid.to_string())
            })
        });
        let Some(sid) = found else {
            return Ok(None);
        };
        let mut named = planned.clone();
        named.retain(|k, _| !k.starts_with("__thingform_"));
        named.insert("statement_id".into(), json!(sid));
        self.read(p, &named).await
    }

    async fn update(&self, p: &Provider, _prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        reread(self, p, planned, || {
            "permission no longer exists".to_string()
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let f = req_str(prior, "function_name")?;
        let sid = req_str(prior, "statement_id")?;
        gone(
            Service::Lambda,
            "RemovePermission",
            p.lambda()
                .remove_permission()
                .function_name(f)
                .statement_id(sid)
                .set_qualifier(str_of(prior, "qualifier").map(str::to_string))
                .send()
                .await,
        )
    }
}
