//! Choosing and opening the state backend: `-state PATH`, `backend "local"`, or
//! `backend "s3"` (conditional writes, S3 lock object or DynamoDB lock table), per
//! workspace, with `-backend-config` overrides.

use super::Backend;
use super::s3::{DynamoDbLockTable, S3Store};
use super::workspace;
use crate::config::BlockNode;
use crate::config::eval::Scope;
use crate::provider::client::Provider;
use crate::state::local::LocalBackend;
use crate::state::remote::{LockTable, RemoteBackend};

use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// What the command line says about the state of a stack directory.
#[derive(Clone, Copy, Debug, Default)]
pub struct Selection<'a> {
    /// `-w NAME` (or `THINGFORM_WORKSPACE`); see [`workspace::current`] for the rest.
    pub workspace: Option<&'a str>,
    /// `-state PATH`: a local state file, whatever the configuration says.
    pub state_path: Option<&'a Path>,
    /// `-backend-config KEY=VALUE|FILE`, in order.
    pub overrides: &'a [String],
}

/// The state backend of a stack directory: `-state`, else the `terraform { backend }`
/// block, else the local file of the current workspace.
pub async fn open(dir: &Path, sel: &Selection<'_>) -> anyhow::Result<Backend> {
    let ws = workspace::current(dir, sel.workspace);
    let module = crate::config::load_dir(dir).ok();
    let crypt = match &module {
        Some(m) => super::encryption::from_module(m)?.state,
        None => None,
    };
    let local = |p: PathBuf| Backend::Local(Arc::new(LocalBackend::with_crypt(p, crypt.clone())));
    if let Some(p) = sel.state_path {
        return Ok(local(p.to_path_buf()));
    }
    let terraform = module.as_ref().and_then(|m| m.terraform.as_ref());
    let c = Choice {
        dir,
        workspace: &ws,
        overrides: sel.overrides,
        local_default: workspace::local_state_path(dir, &ws),
    };
    let Some((kind, settings)) = backend_block(terraform)? else {
        return Ok(local(c.local_default));
    };
    Ok(match open_configured(c, &kind, settings).await? {
        Backend::Local(b) => local(b.path.clone()),
        Backend::Remote(b) => {
            let mut b = Arc::try_unwrap(b)
                .map_err(|_| anyhow::anyhow!("internal error: backend shared"))?;
            b.crypt = crypt;
            Backend::Remote(Arc::new(b))
        }
    })
}

struct Choice<'a> {
    dir: &'a Path,
    workspace: &'a str,
    overrides: &'a [String],
    /// Where the local state of the workspace lives.
    local_default: PathBuf,
}

async fn open_configured(
    c: Choice<'_>,
    kind: &str,
    mut settings: BTreeMap<String, Json>,
) -> anyhow::Result<Backend> {
    apply_overrides(&mut settings, c.overrides)?;
    match kind {
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
            let lock_table: Option<Arc<dyn LockTable>> = match s(&settings, "dynamodb_table") {
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
