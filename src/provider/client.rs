//! The configured AWS provider: region, credentials, endpoints, default tags, and one SDK
//! client per service, created on first use.

use super::schema::{Block, boolean, number, single, string, string_map};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

/// A service's config builder with thingform's retry partition and attempt log (see
/// [`super::attempts`]).
macro_rules! retrying {
    ($service:literal, $b:expr) => {
        $b.retry_partition(super::attempts::retry_partition($service))
            .interceptor(super::attempts::AttemptLog)
            .retry_classifier(super::attempts::NotImplemented)
    };
}

/// The services whose endpoint the `endpoints {}` block can override.
pub const SERVICES: &[&str] = &[
    "s3",
    "dynamodb",
    "sns",
    "sts",
    "iot",
    "iotdata",
    "lambda",
    "iam",
    "cloudwatch",
    "logs",
];

/// The schema of `provider "aws" { ... }`.
pub fn provider_schema() -> Block {
    let mut endpoints = Block::new();
    for s in SERVICES {
        endpoints = endpoints.attr(string(s));
    }
    Block::new()
        .attr(string("region"))
        .attr(string("profile"))
        .attr(string("access_key"))
        .attr(string("secret_key").sensitive())
        .attr(string("token").sensitive())
        .attr(number("max_retries"))
        .attr(boolean("s3_use_path_style"))
        .attr(boolean("skip_credentials_validation"))
        .attr(boolean("skip_metadata_api_check"))
        .attr(boolean("skip_region_validation"))
        .attr(boolean("skip_requesting_account_id"))
        .block(single("endpoints", endpoints))
        .block(single(
            "default_tags",
            Block::new().attr(string_map("tags")),
        ))
}

/// An AWS error the endpoint answered with "not implemented": reported as such and never retried.
#[derive(Debug, thiserror::Error)]
#[error("{0} is not supported by this endpoint (the emulator does not implement it)")]
pub struct NotSupported(pub String);

pub struct Provider {
    pub region: String,
    pub default_tags: BTreeMap<String, String>,
    sdk: aws_types::SdkConfig,
    endpoints: BTreeMap<String, String>,
    path_style: bool,
    /// How often waiters poll AWS (DynamoDB ACTIVE, ...).
    pub poll_interval: Duration,
    /// How many reads a batched refresh runs at once (the run's `-parallelism`).
    pub read_concurrency: usize,
    /// From how many instances a type refreshes with its list API instead of one read
    /// each (`THINGFORM_LIST_THRESHOLD`). `None`: each type's own default (see
    /// [`Provider::lists`]).
    pub list_threshold: Option<usize>,
    s3: OnceLock<aws_sdk_s3::Client>,
    dynamodb: OnceLock<aws_sdk_dynamodb::Client>,
    sns: OnceLock<aws_sdk_sns::Client>,
    iot: OnceLock<aws_sdk_iot::Client>,
    iotdata: tokio::sync::OnceCell<aws_sdk_iotdataplane::Client>,
    lambda: OnceLock<aws_sdk_lambda::Client>,
    iam: OnceLock<aws_sdk_iam::Client>,
    cloudwatch: OnceLock<aws_sdk_cloudwatch::Client>,
    logs: OnceLock<aws_sdk_cloudwatchlogs::Client>,
    sts: OnceLock<aws_sdk_sts::Client>,
    account: tokio::sync::OnceCell<String>,
    /// How long to retry AWS's "role cannot be assumed" right after a role was created.
    pub iam_retry_budget: Duration,
    /// How long to keep retrying DeleteThingType after deprecation (AWS wants 5 minutes).
    pub thing_type_delete_budget: Duration,
    /// How long to retry a delete AWS refuses because a detach has not taken effect yet
    /// (DetachThingPrincipal is asynchronous).
    pub detach_budget: Duration,
    /// How long a create re-reads an object that its first read did not find yet.
    pub read_after_create_budget: Duration,
}

tokio::task_local! {
    /// The warnings raised by the provider call running in this task (see [`collect_warnings`]).
    static WARNINGS: std::cell::RefCell<Vec<String>>;
}

/// Runs one provider call and returns its output with the warnings it raised, so they
/// travel with the answer they belong to (as Terraform's provider responses carry their
/// diagnostics), never through state shared between calls.
pub async fn collect_warnings<F: std::future::Future>(f: F) -> (F::Output, Vec<String>) {
    let call = WARNINGS.scope(std::cell::RefCell::new(Vec::new()), async move {
        let out = f.await;
        let w = WARNINGS.with(|w| std::mem::take(&mut *w.borrow_mut()));
        (out, w)
    });
    super::attempts::scope(call).await
}

impl Provider {
    /// Builds the provider from the evaluated `provider "aws"` block (or `{}`), falling back
    /// to the standard AWS environment (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, ...).
    pub async fn configure(cfg: &Json) -> anyhow::Result<Provider> {
        let get = |k: &str| cfg.get(k).and_then(Json::as_str).map(str::to_string);
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(profile) = get("profile") {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = get("region") {
            loader = loader.region(aws_types::region::Region::new(region));
        }
        if let (Some(ak), Some(sk)) = (get("access_key"), get("secret_key")) {
            loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
                ak,
                sk,
                get("token"),
                None,
                "provider-block",
            ));
        }
        loader = loader.retry_config(super::attempts::retry_config(
            cfg.get("max_retries").and_then(Json::as_u64),
        ));
        let sdk = loader.load().await;
        let region = sdk.region().map(|r| r.to_string()).ok_or_else(|| {
            anyhow::anyhow!(
                "no AWS region configured: set `region` in the provider \"aws\" block, or AWS_REGION in the environment"
            )
        })?;
        let mut endpoints = BTreeMap::new();
        if let Some(eps) = cfg
            .get("endpoints")
            .and_then(Json::as_array)
            .and_then(|l| l.first())
            .and_then(Json::as_object)
        {
            for (k, v) in eps {
                if let Some(url) = v.as_str().filter(|s| !s.is_empty()) {
                    endpoints.insert(k.clone(), url.to_string());
                }
            }
        }
        let default_tags = cfg
            .get("default_tags")
            .and_then(Json::as_array)
            .and_then(|l| l.first())
            .and_then(|b| b.get("tags"))
            .and_then(Json::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let path_style = cfg
            .get("s3_use_path_style")
            .and_then(Json::as_bool)
            .unwrap_or(false)
            || endpoints.contains_key("s3")
            || sdk.endpoint_url().is_some();
        let poll_interval = std::env::var("THINGFORM_POLL_INTERVAL_MS")
            .ok()
            .and_then(|s| s.parse().ok())
            .map(Duration::from_millis)
            .unwrap_or(Duration::from_secs(2));
        Ok(Provider {
            region,
            default_tags,
            sdk,
            endpoints,
            path_style,
            poll_interval,
            read_concurrency: 10,
            list_threshold: std::env::var("THINGFORM_LIST_THRESHOLD")
                .ok()
                .and_then(|s| s.parse().ok()),
            s3: OnceLock::new(),
            dynamodb: OnceLock::new(),
            sns: OnceLock::new(),
            iot: OnceLock::new(),
            iotdata: tokio::sync::OnceCell::new(),
            lambda: OnceLock::new(),
            iam: OnceLock::new(),
            cloudwatch: OnceLock::new(),
            logs: OnceLock::new(),
            sts: OnceLock::new(),
            account: tokio::sync::OnceCell::new(),
            iam_retry_budget: env_secs("THINGFORM_IAM_RETRY_SECS", 120),
            thing_type_delete_budget: env_secs("THINGFORM_THING_TYPE_DELETE_SECS", 420),
            detach_budget: env_secs("THINGFORM_DETACH_SECS", 120),
            read_after_create_budget: env_secs("THINGFORM_READ_AFTER_CREATE_SECS", 20),
        })
    }

    /// The environment a process run locally in this provider's place needs to reach the
    /// same account (a Lambda function `thingform test` runs): region, endpoints (the
    /// SDKs' `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`) and credentials.
    pub async fn process_env(&self) -> anyhow::Result<Vec<(String, String)>> {
        use aws_credential_types::provider::ProvideCredentials;
        let mut env = vec![
            ("AWS_REGION".to_string(), self.region.clone()),
            ("AWS_DEFAULT_REGION".to_string(), self.region.clone()),
        ];
        if let Some(e) = self.sdk.endpoint_url() {
            env.push(("AWS_ENDPOINT_URL".into(), e.to_string()));
        }
        for (service, url) in &self.endpoints {
            env.push((
                format!("AWS_ENDPOINT_URL_{}", service.to_uppercase()),
                url.clone(),
            ));
        }
        let creds = match self.sdk.credentials_provider() {
            Some(p) => p
                .provide_credentials()
                .await
                .map_err(|e| anyhow::anyhow!("no AWS credentials for the local process: {e}"))?,
            None => anyhow::bail!("no AWS credentials are configured"),
        };
        env.push(("AWS_ACCESS_KEY_ID".into(), creds.access_key_id().into()));
        env.push((
            "AWS_SECRET_ACCESS_KEY".into(),
            creds.secret_access_key().into(),
        ));
        if let Some(t) = creds.session_token() {
            env.push(("AWS_SESSION_TOKEN".into(), t.into()));
        }
        Ok(env)
    }

    /// The endpoint this provider talks to for `service`, when it is not AWS's own.
    pub fn endpoint(&self, service: &str) -> Option<String> {
        self.endpoints
            .get(service)
            .cloned()
            .or_else(|| self.sdk.endpoint_url().map(str::to_string))
    }

    pub fn s3(&self) -> &aws_sdk_s3::Client {
        self.s3.get_or_init(|| {
            let mut b = retrying!("s3", aws_sdk_s3::config::Builder::from(&self.sdk))
                .force_path_style(self.path_style);
            if let Some(e) = self.endpoints.get("s3") {
                b = b.endpoint_url(e);
            }
            aws_sdk_s3::Client::from_conf(b.build())
        })
    }

    pub fn dynamodb(&self) -> &aws_sdk_dynamodb::Client {
        self.dynamodb.get_or_init(|| {
            let mut b = retrying!(
                "dynamodb",
                aws_sdk_dynamodb::config::Builder::from(&self.sdk)
            );
            if let Some(e) = self.endpoints.get("dynamodb") {
                b = b.endpoint_url(e);
            }
            aws_sdk_dynamodb::Client::from_conf(b.build())
        })
    }

    pub fn sns(&self) -> &aws_sdk_sns::Client {
        self.sns.get_or_init(|| {
            let mut b = retrying!("sns", aws_sdk_sns::config::Builder::from(&self.sdk));
            if let Some(e) = self.endpoints.get("sns") {
                b = b.endpoint_url(e);
            }
            aws_sdk_sns::Client::from_conf(b.build())
        })
    }

    pub fn iot(&self) -> &aws_sdk_iot::Client {
        self.iot.get_or_init(|| {
            let mut b = retrying!("iot", aws_sdk_iot::config::Builder::from(&self.sdk));
            if let Some(e) = self.endpoints.get("iot") {
                b = b.endpoint_url(e);
            }
            aws_sdk_iot::Client::from_conf(b.build())
        })
    }

    /// The IoT data plane (device shadows). Against AWS its endpoint is account-specific
    /// and found with DescribeEndpoint; an endpoint override is used as it is.
    pub async fn iotdata(&self) -> anyhow::Result<&aws_sdk_iotdataplane::Client> {
        self.iotdata
            .get_or_try_init(|| async {
                let mut b = retrying!(
                    "iotdataplane",
                    aws_sdk_iotdataplane::config::Builder::from(&self.sdk)
                );
                match self
                    .endpoints
                    .get("iotdata")
                    .cloned()
                    .or_else(|| self.sdk.endpoint_url().map(str::to_string))
                {
                    Some(e) => b = b.endpoint_url(e),
                    None => {
                        let ep = self
                            .iot()
                            .describe_endpoint()
                            .endpoint_type("iot:Data-ATS")
                            .send()
                            .await
                            .map_err(|e| aws_error("DescribeEndpoint", e))?;
                        let addr = ep.endpoint_address().ok_or_else(|| {
                            anyhow::anyhow!("DescribeEndpoint returned no address")
                        })?;
                        b = b.endpoint_url(format!("https://{addr}"));
                    }
                }
                Ok::<_, anyhow::Error>(aws_sdk_iotdataplane::Client::from_conf(b.build()))
            })
            .await
    }

    pub fn lambda(&self) -> &aws_sdk_lambda::Client {
        self.lambda.get_or_init(|| {
            let mut b = retrying!("lambda", aws_sdk_lambda::config::Builder::from(&self.sdk));
            if let Some(e) = self.endpoints.get("lambda") {
                b = b.endpoint_url(e);
            }
            aws_sdk_lambda::Client::from_conf(b.build())
        })
    }

    pub fn iam(&self) -> &aws_sdk_iam::Client {
        self.iam.get_or_init(|| {
            let mut b = retrying!("iam", aws_sdk_iam::config::Builder::from(&self.sdk));
            if let Some(e) = self.endpoints.get("iam") {
                b = b.endpoint_url(e);
            }
            aws_sdk_iam::Client::from_conf(b.build())
        })
    }

    pub fn cloudwatch(&self) -> &aws_sdk_cloudwatch::Client {
        self.cloudwatch.get_or_init(|| {
            let mut b = retrying!(
                "cloudwatch",
                aws_sdk_cloudwatch::config::Builder::from(&self.sdk)
            );
            if let Some(e) = self.endpoints.get("cloudwatch") {
                b = b.endpoint_url(e);
            }
            aws_sdk_cloudwatch::Client::from_conf(b.build())
        })
    }

    pub fn logs(&self) -> &aws_sdk_cloudwatchlogs::Client {
        self.logs.get_or_init(|| {
            let mut b = retrying!(
                "cloudwatchlogs",
                aws_sdk_cloudwatchlogs::config::Builder::from(&self.sdk)
            );
            if let Some(e) = self.endpoints.get("logs") {
                b = b.endpoint_url(e);
            }
            aws_sdk_cloudwatchlogs::Client::from_conf(b.build())
        })
    }

    pub fn sts(&self) -> &aws_sdk_sts::Client {
        self.sts.get_or_init(|| {
            let mut b = retrying!("sts", aws_sdk_sts::config::Builder::from(&self.sdk));
            if let Some(e) = self.endpoints.get("sts") {
                b = b.endpoint_url(e);
            }
            aws_sdk_sts::Client::from_conf(b.build())
        })
    }

    /// The account the credentials belong to (STS GetCallerIdentity, asked once).
    pub async fn account_id(&self) -> anyhow::Result<String> {
        self.account
            .get_or_try_init(|| async {
                let who = self
                    .sts()
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| aws_error("GetCallerIdentity", e))?;
                who.account()
                    .map(str::to_string)
                    .ok_or_else(|| anyhow::anyhow!("GetCallerIdentity returned no account"))
            })
            .await
            .cloned()
    }

    /// Whether `n` instances of a type are refreshed with its list API: from
    /// `list_threshold` on, or the type's own `default` when it is not set (a listing
    /// returns every object of the account, so a cheap per-object read wins for few).
    pub fn lists(&self, n: usize, default: usize) -> bool {
        n >= self.list_threshold.unwrap_or(default)
    }

    /// Records a warning for the user about the call in progress: it comes back with
    /// that call's answer (see [`collect_warnings`], which the engine's seam wraps
    /// around every call). Outside such a scope there is no answer to attach it to, and
    /// it is dropped.
    pub fn warn(&self, msg: String) {
        let _ = WARNINGS.try_with(|w| w.borrow_mut().push(msg));
    }

    /// Records a warning unless the same one was recorded already in this call.
    pub fn warn_once(&self, msg: String) {
        let _ = WARNINGS.try_with(|w| {
            let mut w = w.borrow_mut();
            if !w.contains(&msg) {
                w.push(msg);
            }
        });
    }

    /// Tags to send to AWS: the provider's default_tags overlaid with the resource's own.
    pub fn tags_all(&self, tags: &[(String, String)]) -> BTreeMap<String, String> {
        let mut all = self.default_tags.clone();
        all.extend(tags.iter().cloned());
        all
    }

    /// What a tag update has to do: the keys to untag (removed, or changed — TagResource
    /// on an existing key duplicates it in some emulators) and the full set to tag.
    pub fn tag_changes(
        &self,
        prior: &super::Attrs,
        planned: &super::Attrs,
    ) -> (Vec<String>, BTreeMap<String, String>) {
        let want = self.tags_all(&super::attrs::string_map(planned, "tags"));
        let have = self.tags_all(&super::attrs::string_map(prior, "tags"));
        let removed = have
            .iter()
            .filter(|(k, v)| want.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
            .collect();
        (removed, want)
    }

    /// The resource's own tags from the live tag set: everything except default tags that
    /// still carry their default value.
    pub fn own_tags(&self, live: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        live.iter()
            .filter(|(k, v)| self.default_tags.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

fn env_secs(name: &str, default: u64) -> Duration {
    Duration::from_secs(
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default),
    )
}

/// The AWS error code of an SDK error, if the service sent one.
pub fn error_code<E: ProvideErrorMetadata>(e: &E) -> Option<&str> {
    e.code()
}

/// Turns an SDK error into a message naming the operation, AWS's code and message.
pub fn aws_error<E>(
    op: &str,
    e: aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    match &e {
        SdkError::DispatchFailure(d) => {
            anyhow::anyhow!(
                "{op}: could not reach the AWS endpoint ({d:?}); check AWS_ENDPOINT_URL / provider endpoints and your network"
            )
        }
        SdkError::TimeoutError(_) => {
            anyhow::anyhow!("{op}: the AWS endpoint did not answer in time")
        }
        _ => {
            let code = e.code().unwrap_or("");
            let message = e.message().unwrap_or("");
            if code.contains("NotImplemented")
                || message.contains("not yet implemented")
                || message.contains("not implemented")
            {
                return NotSupported(op.to_string()).into();
            }
            // An emulator answers operations it lacks with a bare HTTP 404/500/501 page;
            // AWS itself always sends an error code.
            if code.is_empty()
                && message.is_empty()
                && matches!(super::not_found::http_status(&e), Some(404 | 500 | 501))
            {
                return NotSupported(op.to_string()).into();
            }
            if code.is_empty() && message.is_empty() {
                let mut text = format!(
                    "{}",
                    aws_smithy_types::error::display::DisplayErrorContext(&e)
                );
                if text.len() > 400 {
                    text.truncate(400);
                    text.push_str("...");
                }
                anyhow::anyhow!("{op}: unexpected answer from the endpoint: {text}")
            } else {
                anyhow::anyhow!("{op}: {code}: {message}")
            }
        }
    }
}
