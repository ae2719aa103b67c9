//! aws_lambda_function (from a zip `filename`, from S3, or built from a Rust crate with
//! cargo-lambda: thingform's `cargo_lambda {}` block).
//!
//! A crate's source is hashed at plan time, so an unchanged crate is a no-op plan and a
//! changed one is an UpdateFunctionCode. The build itself is the engine's own step
//! (`crate::build`), which hands the package in with the planned attributes.

use super::super::ResourceType;
use super::super::attrs::{
    Attrs, block, blocks, bool_of, i64_of, map_json, obj, req_name_or_id, req_str, str_of,
    string_list, string_map,
};
use super::super::client::{Provider, aws_error};
use super::super::not_found::{Service, absent, gone, is_not_found};
use super::super::package;
use super::super::reread::reread;
use super::super::retry::iam_propagation;
use super::super::schema::{
    Block, Schema, boolean, number, out, single, string, string_list as list_attr,
    string_map as map_attr,
};
use crate::build;
use async_trait::async_trait;
use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    ApplicationLogLevel, Architecture, Environment, FunctionCode, LogFormat, LoggingConfig,
    PackageType, Runtime, SystemLogLevel,
};
use base64::Engine;
use serde_json::{Value as Json, json};
use sha2::Digest;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

pub struct LambdaFunction {
    schema: Schema,
}

impl Default for LambdaFunction {
    fn default() -> Self {
        LambdaFunction {
            schema: Schema {
                id_attr: "function_name",
                block: Block::new()
                    .attr(string("function_name").required().force_new())
                    .attr(string("role").required())
                    .attr(string("handler").computed())
                    .attr(string("runtime").computed())
                    .attr(string("filename"))
                    .attr(string("s3_bucket"))
                    .attr(string("s3_key"))
                    .attr(string("s3_object_version"))
                    .attr(string("source_code_hash").computed())
                    .attr(string("package_type").default(json!("Zip")).force_new())
                    .attr(number("memory_size").default(json!(128)))
                    .attr(number("timeout").default(json!(3)))
                    .attr(list_attr("architectures").computed())
                    .attr(string("description"))
                    .attr(boolean("publish").default(json!(false)).local_only())
                    .attr(list_attr("layers"))
                    .attr(map_attr("tags"))
                    .attr(out("id"))
                    .attr(out("arn"))
                    .attr(out("invoke_arn"))
                    .attr(out("qualified_arn"))
                    .attr(out("version"))
                    .attr(out("last_modified"))
                    .attr(number("source_code_size").computed())
                    .block(single(
                        "environment",
                        Block::new().attr(map_attr("variables")),
                    ))
                    .block(single(
                        "logging_config",
                        Block::new()
                            .attr(string("log_format").required())
                            .attr(string("log_group").computed())
                            .attr(string("application_log_level"))
                            .attr(string("system_log_level")),
                    ))
                    .block(single(
                        "cargo_lambda",
                        Block::new()
                            .attr(string("path").required())
                            .attr(string("arch").default(json!("arm64")))
                            .attr(string("binary"))
                            .attr(string("source_hash").computed()),
                    )),
            },
        }
    }
}

/// The code to upload: the package the engine's build step handed in (a built crate or
/// a zip file), or nothing (S3). A crate build may rewrite its Cargo.lock, so the crate's
/// source hash taken after the build is recorded in `planned`: the next plan compares
/// against what was really built.
fn code_bytes(
    p: &Provider,
    planned: &mut Attrs,
    handed: Option<package::Handed>,
) -> anyhow::Result<Option<Vec<u8>>> {
    let wanted = block(planned, "cargo_lambda").is_some() || str_of(planned, "filename").is_some();
    let Some(h) = handed else {
        if wanted {
            anyhow::bail!("no package was built for this function (the build step did not run)");
        }
        return Ok(None);
    };
    for w in h.warnings {
        p.warn(w);
    }
    if let Some(after) = h.source_hash
        && let Some(Json::Array(l)) = planned.get_mut("cargo_lambda")
        && let Some(Json::Object(b)) = l.first_mut()
    {
        b.insert("source_hash".into(), json!(after));
    }
    Ok(Some(std::fs::read(&h.zip).map_err(|e| {
        anyhow::anyhow!("cannot read lambda package {}: {e}", h.zip.display())
    })?))
}

/// Whether an update uploads new code.
pub fn code_changed(prior: &Attrs, planned: &Attrs) -> bool {
    [
        "filename",
        "s3_bucket",
        "s3_key",
        "s3_object_version",
        "source_code_hash",
        "cargo_lambda",
        "architectures",
    ]
    .iter()
    .any(|k| prior.get(*k) != planned.get(*k))
}

fn environment(planned: &Attrs) -> Environment {
    let vars: HashMap<String, String> = block(planned, "environment")
        .map(|e| string_map(e, "variables").into_iter().collect())
        .unwrap_or_default();
    Environment::builder().set_variables(Some(vars)).build()
}

fn logging(planned: &Attrs) -> Option<LoggingConfig> {
    let l = block(planned, "logging_config")?;
    Some(
        LoggingConfig::builder()
            .set_log_format(str_of(l, "log_format").map(LogFormat::from))
            .set_log_group(str_of(l, "log_group").map(str::to_string))
            .set_application_log_level(
                str_of(l, "application_log_level").map(ApplicationLogLevel::from),
            )
            .set_system_log_level(str_of(l, "system_log_level").map(SystemLogLevel::from))
            .build(),
    )
}

fn architectures(planned: &Attrs) -> Option<Vec<Architecture>> {
    let a = string_list(planned, "architectures");
    (!a.is_empty()).then(|| a.iter().map(|x| Architecture::from(x.as_str())).collect())
}

/// Fails fast when the role does not exist at all; IAM propagation delays are retried later.
async fn check_role_exists(p: &Provider, role_arn: &str) -> anyhow::Result<()> {
    let name = role_arn.rsplit('/').next().unwrap_or(role_arn);
    match p.iam().get_role().role_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(Service::Iam, &e) => {
            anyhow::bail!(
                "the Lambda execution role {role_arn} does not exist; create it (aws_iam_role) and reference its arn"
            )
        }
        // Not allowed to read IAM: let Lambda decide.
        Err(_) => Ok(()),
    }
}

/// New functions start `Pending`; AWS refuses changes until they are `Active` (the SDK's
/// own waiter). A function that ends `Failed` exists but cannot run: the user is told why.
async fn wait_active(p: &Provider, name: &str) -> anyhow::Result<()> {
    use aws_smithy_runtime_api::client::waiters::error::WaiterError;
    match p
        .lambda()
        .wait_until_function_active_v2()
        .function_name(name)
        .wait(Duration::from_secs(600))
        .await
    {
        Ok(_) => Ok(()),
        Err(WaiterError::FailureState(f)) => {
            let reason = f
                .final_poll()
                .as_result()
                .ok()
                .and_then(|o| o.configuration())
                .and_then(|c| c.state_reason())
                .unwrap_or("no reason given")
                .to_string();
            p.warn(format!(
                "function {name} was created but is in state Failed: {reason}"
            ));
            Ok(())
        }
        Err(WaiterError::ExceededMaxWait(_)) => {
            anyhow::bail!("function {name} was still Pending after 10 minutes")
        }
        Err(WaiterError::OperationFailed(e)) => Err(aws_error("GetFunction", e.into_error())),
        Err(e) => Err(anyhow::anyhow!("GetFunction: waiting for {name}: {e}")),
    }
}

/// Waits for an update to finish (the SDK's own waiter); a failed update is an error.
async fn wait_updated(p: &Provider, name: &str) -> anyhow::Result<()> {
    use aws_smithy_runtime_api::client::waiters::error::WaiterError;
    match p
        .lambda()
        .wait_until_function_updated_v2()
        .function_name(name)
        .wait(Duration::from_secs(600))
        .await
    {
        Ok(_) => Ok(()),
        Err(WaiterError::FailureState(f)) => anyhow::bail!(
            "function {name} update failed: {}",
            f.final_poll()
                .as_result()
                .ok()
                .and_then(|o| o.configuration())
                .and_then(|c| c.last_update_status_reason())
                .unwrap_or("no reason given")
        ),
        Err(WaiterError::ExceededMaxWait(_)) => {
            anyhow::bail!("function {name} was still updating after 10 minutes")
        }
        Err(WaiterError::OperationFailed(e)) => Err(aws_error("GetFunction", e.into_error())),
        Err(e) => Err(anyhow::anyhow!("GetFunction: waiting for {name}: {e}")),
    }
}

#[async_trait]
impl ResourceType for LambdaFunction {
    fn name(&self) -> &'static str {
        "aws_lambda_function"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn import_attrs(&self, id: &str) -> Attrs {
        obj([("id", json!(id)), ("function_name", json!(id))])
    }

    fn plan_local(
        &self,
        config: &mut serde_json::Map<String, Json>,
        dir: &Path,
    ) -> anyhow::Result<()> {
        // Relative paths are relative to the working directory, as in Terraform (that is
        // what `path.module` is for). They are kept relative to the stack directory, so
        // the state does not depend on where thingform was run from.
        if let Some(Json::Array(cls)) = config.get_mut("cargo_lambda")
            && let Some(Json::Object(cl)) = cls.first_mut()
        {
            let given = cl
                .get("path")
                .and_then(Json::as_str)
                .unwrap_or(".")
                .to_string();
            let abs = build::absolute(&given)?;
            let hash = build::crate_source_hash(&abs)?;
            let (arch, _) =
                build::effective_arch(cl.get("arch").and_then(Json::as_str).unwrap_or("arm64"));
            cl.insert("path".into(), json!(build::relative_to(&abs, dir)));
            cl.insert("source_hash".into(), json!(hash));
            if config.get("architectures").is_none_or(Json::is_null) {
                config.insert("architectures".into(), json!([arch]));
            }
            if config.get("runtime").is_none_or(Json::is_null) {
                config.insert("runtime".into(), json!("provided.al2023"));
            }
            if config.get("handler").is_none_or(Json::is_null) {
                config.insert("handler".into(), json!("bootstrap"));
            }
        }
        if let Some(f) = config
            .get("filename")
            .and_then(Json::as_str)
            .map(str::to_string)
        {
            let abs = build::absolute(&f)?;
            config.insert("filename".into(), json!(build::relative_to(&abs, dir)));
            if config.get("source_code_hash").is_none_or(Json::is_null) {
                let bytes = std::fs::read(&abs).map_err(|e| {
                    anyhow::anyhow!("cannot read lambda package {}: {e}", abs.display())
                })?;
                config.insert(
                    "source_code_hash".into(),
                    json!(
                        base64::engine::general_purpose::STANDARD
                            .encode(sha2::Sha256::digest(&bytes))
                    ),
                );
            }
        }
        Ok(())
    }

    async fn read(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<Option<Attrs>> {
        let name = req_name_or_id(prior, "function_name", "function has no name")?;
        let Some(f) = absent(
            Service::Lambda,
            "GetFunction",
            p.lambda().get_function().function_name(name).send().await,
        )?
        else {
            return Ok(None);
        };
        let Some(c) = f.configuration() else {
            return Ok(None);
        };
        let arn = c.function_arn().unwrap_or_default().to_string();
        let live: BTreeMap<String, String> = f
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let env: BTreeMap<String, String> = c
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let logging = c.logging_config().map(|l| {
            json!([{
                "log_format": l.log_format().map(|x| x.as_str()),
                "log_group": l.log_group(),
                "application_log_level": l.application_log_level().map(|x| x.as_str()),
                "system_log_level": l.system_log_level().map(|x| x.as_str()),
            }])
        });
        let wrote_logging = !blocks(prior, "logging_config").is_empty();
        let mut a = Attrs::new();
        a.insert("id".into(), json!(name));
        a.insert("function_name".into(), json!(name));
        a.insert("arn".into(), json!(arn));
        a.insert(
            "qualified_arn".into(),
            json!(format!("{arn}:{}", c.version().unwrap_or("$LATEST"))),
        );
        a.insert(
            "invoke_arn".into(),
            json!(format!(
                "arn:aws:apigateway:{}:lambda:path/2015-03-31/functions/{arn}/invocations",
                p.region
            )),
        );
        a.insert("version".into(), json!(c.version()));
        a.insert("last_modified".into(), json!(c.last_modified()));
        a.insert("role".into(), json!(c.role()));
        a.insert("handler".into(), json!(c.handler()));
        a.insert("runtime".into(), json!(c.runtime().map(|r| r.as_str())));
        a.insert("memory_size".into(), json!(c.memory_size()));
        a.insert("timeout".into(), json!(c.timeout()));
        a.insert(
            "architectures".into(),
            json!(
                c.architectures()
                    .iter()
                    .map(|x| x.as_str())
                    .collect::<Vec<_>>()
            ),
        );
        a.insert(
            "description".into(),
            json!(c.description().filter(|d| !d.is_empty())),
        );
        a.insert(
            "layers".into(),
            json!(
                c.layers()
                    .iter()
                    .filter_map(|l| l.arn())
                    .collect::<Vec<_>>()
            ),
        );
        a.insert("source_code_hash".into(), json!(c.code_sha256()));
        a.insert("source_code_size".into(), json!(c.code_size()));
        a.insert(
            "package_type".into(),
            json!(c.package_type().map(|x| x.as_str()).unwrap_or("Zip")),
        );
        a.insert(
            "environment".into(),
            if env.is_empty() && blocks(prior, "environment").is_empty() {
                json!([])
            } else {
                json!([{"variables": env}])
            },
        );
        a.insert(
            "logging_config".into(),
            match logging {
                // AWS always reports a logging config; an endpoint that reports none does not
                // store it, so the configured value is kept (not checked for drift).
                None => prior.get("logging_config").cloned().unwrap_or(json!([])),
                Some(l) if wrote_logging => l,
                Some(_) => json!([]),
            },
        );
        a.insert("tags".into(), map_json(p.own_tags(&live)));
        for k in [
            "filename",
            "s3_bucket",
            "s3_key",
            "s3_object_version",
            "publish",
            "cargo_lambda",
        ] {
            a.insert(k.into(), prior.get(k).cloned().unwrap_or(Json::Null));
        }
        Ok(Some(a))
    }

    async fn create(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(planned, "function_name")?;
        let role = req_str(planned, "role")?;
        check_role_exists(p, role).await?;
        let mut planned = planned.clone();
        let handed = package::take(&mut planned)?;
        let zip = code_bytes(p, &mut planned, handed)?;
        let planned = &planned;
        let code = FunctionCode::builder()
            .set_zip_file(zip.map(Blob::new))
            .set_s3_bucket(str_of(planned, "s3_bucket").map(str::to_string))
            .set_s3_key(str_of(planned, "s3_key").map(str::to_string))
            .set_s3_object_version(str_of(planned, "s3_object_version").map(str::to_string))
            .build();
        let tags: HashMap<String, String> = p
            .tags_all(&string_map(planned, "tags"))
            .into_iter()
            .collect();
        iam_propagation(p, "CreateFunction", || async {
            let req = p
                .lambda()
                .create_function()
                .function_name(name)
                .role(role)
                .set_handler(str_of(planned, "handler").map(str::to_string))
                .set_runtime(str_of(planned, "runtime").map(Runtime::from))
                .code(code.clone())
                .package_type(PackageType::from(
                    str_of(planned, "package_type").unwrap_or("Zip"),
                ))
                .set_memory_size(i64_of(planned, "memory_size").map(|v| v as i32))
                .set_timeout(i64_of(planned, "timeout").map(|v| v as i32))
                .set_architectures(architectures(planned))
                .environment(environment(planned))
                .set_description(str_of(planned, "description").map(str::to_string))
                .set_layers(Some(string_list(planned, "layers")))
                .set_logging_config(logging(planned))
                .publish(bool_of(planned, "publish") == Some(true))
                .set_tags((!tags.is_empty()).then(|| tags.clone()));
            super::super::attempts::adopt(p, "CreateFunction", req.send().await)
                .map_err(|e| aws_error("CreateFunction", e))
        })
        .await?;
        if let Err(e) = wait_active(p, name).await {
            return Err(super::super::partial(planned.clone(), e));
        }
        super::super::created(
            self.read(p, planned).await,
            planned,
            format!("function {name} vanished after creation"),
        )
    }

    async fn update(&self, p: &Provider, prior: &Attrs, planned: &Attrs) -> anyhow::Result<Attrs> {
        let name = req_str(prior, "function_name")?;
        let arn = req_str(prior, "arn")?;
        let mut planned = planned.clone();
        let handed = package::take(&mut planned)?;
        let planned = &planned;
        let changed = |k: &str| prior.get(k) != planned.get(k);
        let code_changed = code_changed(prior, planned);
        let config_changed = [
            "role",
            "handler",
            "runtime",
            "memory_size",
            "timeout",
            "description",
            "layers",
            "environment",
            "logging_config",
        ]
        .iter()
        .any(|k| changed(k));
        if config_changed {
            check_role_exists(p, req_str(planned, "role")?).await?;
            super::super::retry::while_updating(p, "UpdateFunctionConfiguration", || {
                iam_propagation(p, "UpdateFunctionConfiguration", || async {
                    p.lambda()
                        .update_function_configuration()
                        .function_name(name)
                        .set_role(str_of(planned, "role").map(str::to_string))
                        .set_handler(str_of(planned, "handler").map(str::to_string))
                        .set_runtime(str_of(planned, "runtime").map(Runtime::from))
                        .set_memory_size(i64_of(planned, "memory_size").map(|v| v as i32))
                        .set_timeout(i64_of(planned, "timeout").map(|v| v as i32))
                        .description(str_of(planned, "description").unwrap_or_default())
                        .set_layers(Some(string_list(planned, "layers")))
                        .environment(environment(planned))
                        .set_logging_config(logging(planned))
                        .send()
                        .await
                        .map_err(|e| aws_error("UpdateFunctionConfiguration", e))
                })
            })
            .await?;
            wait_updated(p, name).await?;
        }
        let mut built = planned.clone();
        if code_changed {
            let zip = code_bytes(p, &mut built, handed)?;
            let zip = zip.map(Blob::new);
            super::super::retry::while_updating(p, "UpdateFunctionCode", || async {
                p.lambda()
                    .update_function_code()
                    .function_name(name)
                    .set_zip_file(zip.clone())
                    .set_s3_bucket(str_of(planned, "s3_bucket").map(str::to_string))
                    .set_s3_key(str_of(planned, "s3_key").map(str::to_string))
                    .set_architectures(architectures(planned))
                    .publish(bool_of(planned, "publish") == Some(true))
                    .send()
                    .await
                    .map_err(|e| aws_error("UpdateFunctionCode", e))
            })
            .await?;
            wait_updated(p, name).await?;
        }
        if changed("tags") {
            let (removed, want) = p.tag_changes(prior, planned);
            if !removed.is_empty() {
                p.lambda()
                    .untag_resource()
                    .resource(arn)
                    .set_tag_keys(Some(removed))
                    .send()
                    .await
                    .map_err(|e| aws_error("Lambda UntagResource", e))?;
            }
            if !want.is_empty() {
                p.lambda()
                    .tag_resource()
                    .resource(arn)
                    .set_tags(Some(want.into_iter().collect()))
                    .send()
                    .await
                    .map_err(|e| aws_error("Lambda TagResource", e))?;
            }
        }
        reread(self, p, &built, || {
            format!("function {name} no longer exists")
        })
        .await
    }

    async fn delete(&self, p: &Provider, prior: &Attrs) -> anyhow::Result<()> {
        let name = req_str(prior, "function_name")?;
        gone(
            Service::Lambda,
            "DeleteFunction",
            p.lambda()
                .delete_function()
                .function_name(name)
                .send()
                .await,
        )
    }

    async fn recover(&self, p: &Provider, planned: &Attrs) -> anyhow::Result<Option<Attrs>> {
        self.read(p, planned).await
    }
}
