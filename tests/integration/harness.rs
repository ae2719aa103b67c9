//! Test harness: one moto server per test run (started by scripts/emulator.sh on
//! 127.0.0.1), a temporary stack directory per test, and the thingform binary run as a
//! user would run it. Verification goes through the AWS SDK, never through thingform's
//! state file.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::Value as Json;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub const REGION: &str = "eu-west-1";

/// The emulator endpoint: `THINGFORM_TEST_ENDPOINT` when CI started one, else started here.
pub fn endpoint() -> &'static str {
    static EP: OnceLock<String> = OnceLock::new();
    EP.get_or_init(|| {
        if let Ok(ep) = std::env::var("THINGFORM_TEST_ENDPOINT") {
            assert!(
                ep.starts_with("http://127.0.0.1:"),
                "tests talk only to 127.0.0.1, got {ep}"
            );
            return ep;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/emulator.sh");
        let out = Command::new("bash")
            .arg(script)
            .arg("start")
            .output()
            .expect("run scripts/emulator.sh");
        assert!(
            out.status.success(),
            "emulator failed to start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ep = String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string();
        assert!(
            ep.starts_with("http://127.0.0.1:"),
            "unexpected endpoint {ep:?}"
        );
        ep
    })
}

/// A short random suffix so tests sharing one emulator never collide.
/// Which emulator the tests run against: `moto` (default) or `localstack`.
pub fn lane() -> String {
    std::env::var("THINGFORM_TEST_LANE").unwrap_or_else(|_| "moto".into())
}

/// A short random suffix so tests sharing one emulator never collide.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}

pub struct TestStack {
    pub dir: tempfile::TempDir,
}

impl TestStack {
    pub fn new(main_tf: &str) -> TestStack {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("main.tf"), main_tf).expect("write main.tf");
        TestStack { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, content: &str) {
        std::fs::write(self.dir.path().join(name), content).expect("write stack file");
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir.path().join(".thingform/state.json")
    }

    /// Runs `thingform ARGS... STACK_DIR` against the emulator.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.push(self.path().display().to_string());
        thingform(&all, self.path())
    }

    /// Runs and asserts success, returning stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "thingform {args:?} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// Runs `thingform ARGS...` with the stack directory as working directory (for
    /// commands that read the state from there: output, state).
    pub fn ok_in(&self, args: &[&str]) -> String {
        let all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let out = thingform(&all, self.path());
        assert!(
            out.status.success(),
            "thingform {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    pub fn apply(&self) -> String {
        self.ok(&["apply", "-auto-approve"])
    }

    pub fn destroy(&self) -> String {
        self.ok(&["destroy", "-auto-approve"])
    }

    /// `plan -json`, parsed.
    pub fn plan_json(&self) -> Json {
        let out = self.ok(&["plan", "-json"]);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("plan -json is not JSON ({e}):\n{out}"))
    }
}

pub fn thingform(args: &[String], cwd: &Path) -> Output {
    command(args, cwd).output().expect("run thingform")
}

/// The thingform binary with `args`, run in `cwd` against the emulator (not started).
pub fn command(args: &[String], cwd: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_thingform"));
    c.args(args)
        .current_dir(cwd)
        .env("AWS_ENDPOINT_URL", endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("THINGFORM_POLL_INTERVAL_MS", "50")
        .env_remove("AWS_PROFILE");
    c
}

/// Fails the test, never skips it, when cargo-lambda is not on PATH: scripts/test.sh
/// installs it (scripts/cargo-lambda.sh prints the directory to put on PATH).
pub fn require_cargo_lambda(what: &str) {
    let found = Command::new("cargo-lambda")
        .args(["lambda", "--help"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "cargo-lambda is needed to {what}: run the tests with scripts/test.sh, which installs it, or put the directory scripts/cargo-lambda.sh prints on PATH"
    );
}

/// `Some(value)`, or `None` when AWS answers that the object does not exist (HTTP 404,
/// or a `NotFound` / `NoSuch...` error code). Any other error fails the test, so an
/// object is never taken for deleted because the emulator could not be asked.
pub fn found<T, E: ProvideErrorMetadata + Debug>(
    r: Result<T, SdkError<E, HttpResponse>>,
) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(SdkError::ServiceError(se))
            if se.raw().status().as_u16() == 404
                || se
                    .err()
                    .code()
                    .is_some_and(|c| c.contains("NotFound") || c.contains("NoSuch")) =>
        {
            None
        }
        Err(e) => panic!("expected the object or a not-found answer, got {e:?}"),
    }
}

/// `.not_found()` on an SDK call's result: true when the object does not exist, false
/// when it does; any other error fails the test (see [`found`]).
pub trait NotFound {
    fn not_found(self) -> bool;
}

impl<T, E: ProvideErrorMetadata + Debug> NotFound for Result<T, SdkError<E, HttpResponse>> {
    fn not_found(self) -> bool {
        found(self).is_none()
    }
}

/// A new S3 bucket for a remote state backend.
pub async fn state_bucket() -> String {
    let name = unique("tfstate");
    s3().await
        .create_bucket()
        .bucket(&name)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    name
}

/// The actions planned per address, e.g. {"aws_sns_topic.t": ["update"]}.
pub fn actions(plan: &Json) -> std::collections::BTreeMap<String, Vec<String>> {
    plan["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .map(|c| {
            (
                c["address"].as_str().unwrap_or_default().to_string(),
                c["change"]["actions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

/// Addresses whose planned action is not no-op.
pub fn changed(plan: &Json) -> std::collections::BTreeMap<String, Vec<String>> {
    actions(plan)
        .into_iter()
        .filter(|(_, a)| a != &vec!["no-op".to_string()])
        .collect()
}

/// Top-level attributes whose before and after differ in one resource change.
pub fn changed_attrs(plan: &Json, address: &str) -> Vec<String> {
    let c = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == address)
        .expect("address in plan");
    let before = c["change"]["before"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let after = c["change"]["after"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let unknown = c["change"]["after_unknown"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut keys: Vec<String> = before.keys().chain(after.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| {
            let (b, a) = (
                before.get(k).unwrap_or(&Json::Null),
                after.get(k).unwrap_or(&Json::Null),
            );
            let empty = |j: &Json| {
                j.is_null()
                    || j.as_array().is_some_and(|x| x.is_empty())
                    || j.as_object().is_some_and(|x| x.is_empty())
            };
            !(b == a || (empty(b) && empty(a))) && unknown.get(k) != Some(&Json::Bool(true))
        })
        .collect()
}

pub async fn sdk_config() -> aws_types::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(aws_types::region::Region::new(REGION))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await
}

pub async fn s3() -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk_config().await)
            .force_path_style(true)
            .build(),
    )
}

pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config().await)
}

pub async fn sns() -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(&sdk_config().await)
}

pub async fn iot() -> aws_sdk_iot::Client {
    aws_sdk_iot::Client::new(&sdk_config().await)
}

pub async fn iotdata() -> aws_sdk_iotdataplane::Client {
    aws_sdk_iotdataplane::Client::new(&sdk_config().await)
}

pub async fn iam() -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&sdk_config().await)
}

pub async fn lambda() -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&sdk_config().await)
}

pub async fn cloudwatch() -> aws_sdk_cloudwatch::Client {
    aws_sdk_cloudwatch::Client::new(&sdk_config().await)
}

pub async fn logs() -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::new(&sdk_config().await)
}

/// The trust policy of a role a service may assume.
pub fn assume_role(service: &str) -> String {
    format!(
        r#"jsonencode({{
    Version = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "sts:AssumeRole", Principal = {{ Service = "{service}" }} }}]
  }})"#
    )
}
