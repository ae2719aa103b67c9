//! Choosing and opening the state backend: `-state PATH`, `backend "local"`, or
//! `backend "s3"` (conditional writes, S3 lock object or DynamoDB lock table), per
//! workspace, with `-backend-config` overrides.

use crate::config::BlockNode;
use crate::config::eval::Scope;
use crate::provider::Provider;
use crate::provider::state_store::{DynamoDbLockTable, S3Store};
use crate::state::local::{LocalBackend, LocalLock};
use crate::state::remote::{RemoteBackend, RemoteLock};
use crate::state::{LockError, State, StateStore};

use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub enum Backend {
    Local(Arc<LocalBackend>),
    Remote(Arc<RemoteBackend>),
}

pub enum LockGuard {
    Local(#[allow(dead_code)] LocalLock),
    Remote(#[allow(dead_code)] RemoteLock),
}

impl Backend {
    pub async fn read(&self) -> anyhow::Result<Option<State>> {
        match self {
            Backend::Local(b) => b.read(),
            Backend::Remote(b) => b.read().await,
        }
    }

    pub async fn lock(&self, op: &str) -> Result<LockGuard, LockError> {
        match self {
            Backend::Local(b) => b.lock(op).map(LockGuard::Local),
            Backend::Remote(b) => b.lock(op).await.map(LockGuard::Remote),
        }
    }

    pub async fn write(&self, state: &State) -> anyhow::Result<()> {
        match self {
            Backend::Local(b) => b.write(state),
            Backend::Remote(b) => b.write_async(state).await,
        }
    }

    /// Unconditional replacement of the stored state (after `state push`'s own checks).
    pub async fn push(&self, state: &State) -> anyhow::Result<()> {
        match self {
            Backend::Local(b) => b.write(state),
            Backend::Remote(b) => b.push(state).await,
        }
    }

    pub fn store(&self) -> Arc<dyn StateStore> {
        match self {
            Backend::Local(b) => b.clone(),
            Backend::Remote(b) => b.clone(),
        }
    }

    pub fn backup(&self) -> anyhow::Result<()> {
        match self {
            Backend::Local(b) => b.backup(),
            Backend::Remote(_) => Ok(()),
        }
    }

    pub async fn force_unlock(&self, id: &str) -> anyhow::Result<()> {
        match self {
            Backend::Local(b) => b.force_unlock(id),
            Backend::Remote(b) => b.force_unlock(id).await,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Backend::Local(b) => b.path.display().to_string(),
            Backend::Remote(b) => b.location(),
        }
    }
}

/// The `backend` block of `terraform {}`: its type and literal settings.
pub fn backend_block(
    terraform: Option<&BlockNode>,
) -> anyhow::Result<Option<(String, BTreeMap<String, Json>)>> {
    let Some(tf) = terraform else { return Ok(None) };
    let Some(b) = tf.blocks.iter().find(|b| b.kind == "backend") else {
        return Ok(None);
    };
    let kind = b.labels.first().cloned().unwrap_or_default();
    let scope = Scope::new(PathBuf::from("."));
    let mut settings = BTreeMap::new();
    for a in &b.attrs {
        let v = scope.eval(&a.expr).map_err(|e| {
            anyhow::anyhow!(
                "{}: backend settings must be literal values (no variables or references): {e}",
                a.loc
            )
        })?;
        settings.insert(a.name.clone(), v.to_json());
    }
    for nb in &b.blocks {
        let mut m = serde_json::Map::new();
        for a in &nb.attrs {
            let v = scope
                .eval(&a.expr)
                .map_err(|e| anyhow::anyhow!("{}: {e}", a.loc))?;
            m.insert(a.name.clone(), v.to_json());
        }
        settings.insert(nb.kind.clone(), Json::Object(m));
    }
    Ok(Some((kind, settings)))
}

/// `-backend-config key=value` or `-backend-config FILE` (a tfvars-style file).
pub fn apply_overrides(
    settings: &mut BTreeMap<String, Json>,
    overrides: &[String],
) -> anyhow::Result<()> {
    for o in overrides {
        if let Some((k, v)) = o.split_once('=') {
            let v = v.trim();
            let parsed = match v {
                "true" => json!(true),
                "false" => json!(false),
                _ => json!(v.trim_matches('"')),
            };
            settings.insert(k.trim().to_string(), parsed);
        } else {
            let text = std::fs::read_to_string(o)
                .map_err(|e| anyhow::anyhow!("-backend-config {o}: {e}"))?;
            let body =
                hcl::parse(&text).map_err(|e| anyhow::anyhow!("-backend-config {o}: {e}"))?;
            let scope = Scope::new(PathBuf::from("."));
            for a in body.attributes() {
                let v = scope
                    .eval(&a.expr)
                    .map_err(|e| anyhow::anyhow!("-backend-config {o}: {}: {e}", a.key))?;
                settings.insert(a.key.to_string(), v.to_json());
            }
        }
    }
    Ok(())
}

fn s<'a>(m: &'a BTreeMap<String, Json>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Json::as_str).filter(|v| !v.is_empty())
}

pub struct BackendChoice<'a> {
    pub dir: &'a Path,
    pub workspace: &'a str,
    pub state_flag: Option<&'a Path>,
    pub overrides: &'a [String],
    pub terraform: Option<&'a BlockNode>,
    /// Where the local state of a workspace lives.
    pub local_default: PathBuf,
}

pub async fn open(c: BackendChoice<'_>) -> anyhow::Result<Backend> {
    if let Some(p) = c.state_flag {
        return Ok(Backend::Local(Arc::new(LocalBackend::new(p.to_path_buf()))));
    }
    let Some((kind, mut settings)) = backend_block(c.terraform)? else {
        return Ok(Backend::Local(Arc::new(LocalBackend::new(c.local_default))));
    };
    apply_overrides(&mut settings, c.overrides)?;
    match kind.as_str() {
        "local" => {
            let path = match s(&settings, "path") {
                Some(p) if c.workspace == "default" => c.dir.join(p),
                Some(p) => {
                    let name = Path::new(p)
                        .file_name()
                        .map(|f| f.to_os_string())
                        .unwrap_or_else(|| "state.json".into());
                    c.dir
                        .join(".thingform")
                        .join("workspaces")
                        .join(c.workspace)
                        .join(name)
                }
                None => c.local_default,
            };
            Ok(Backend::Local(Arc::new(LocalBackend::new(path))))
        }
        "s3" => {
            let bucket = s(&settings, "bucket").ok_or_else(|| {
                anyhow::anyhow!(
                    "backend \"s3\" needs `bucket` (in the block or -backend-config bucket=...)"
                )
            })?;
            let key = s(&settings, "key").ok_or_else(|| {
                anyhow::anyhow!("backend \"s3\" needs `key`, the state object's path")
            })?;
            let prefix = s(&settings, "workspace_key_prefix").unwrap_or("env:");
            let object_key = if c.workspace == "default" {
                key.to_string()
            } else {
                format!("{prefix}/{}/{key}", c.workspace)
            };
            let mut endpoints = serde_json::Map::new();
            if let Some(e) = s(&settings, "endpoint") {
                endpoints.insert("s3".into(), json!(e));
            }
            if let Some(e) = s(&settings, "dynamodb_endpoint") {
                endpoints.insert("dynamodb".into(), json!(e));
            }
            if let Some(Json::Object(m)) = settings.get("endpoints") {
                for (k, v) in m {
                    endpoints.insert(k.clone(), v.clone());
                }
            }
            let mut cfg = serde_json::Map::new();
            for k in ["region", "profile", "access_key", "secret_key", "token"] {
                if let Some(v) = s(&settings, k) {
                    cfg.insert(k.into(), json!(v));
                }
            }
            if settings.get("use_path_style").and_then(Json::as_bool) == Some(true)
                || settings.get("force_path_style").and_then(Json::as_bool) == Some(true)
            {
                cfg.insert("s3_use_path_style".into(), json!(true));
            }
            if !endpoints.is_empty() {
                cfg.insert("endpoints".into(), json!([endpoints]));
            }
            let provider = Arc::new(Provider::configure(&Json::Object(cfg)).await?);
            let store = Arc::new(S3Store {
                provider: provider.clone(),
                bucket: bucket.to_string(),
            });
            let use_lockfile = settings
                .get("use_lockfile")
                .and_then(Json::as_bool)
                .unwrap_or(true);
            let lock_table: Option<Arc<dyn crate::state::remote::LockTable>> =
                match s(&settings, "dynamodb_table") {
                    Some(t) if !use_lockfile || !settings.contains_key("use_lockfile") => {
                        Some(Arc::new(DynamoDbLockTable {
                            provider,
                            table: t.to_string(),
                        }))
                    }
                    _ => None,
                };
            let mut backend = RemoteBackend::new(store, object_key, lock_table);
            backend.errored_path = std::env::current_dir()
                .unwrap_or_default()
                .join("errored.tfstate.json");
            Ok(Backend::Remote(Arc::new(backend)))
        }
        other => anyhow::bail!(
            "backend \"{other}\" is not supported; thingform supports backend \"local\" and backend \"s3\""
        ),
    }
}
