//! The state layer: what thingform believes exists in AWS.
//!
//! The document is written atomically (temp file, fsync, rename) after every resource
//! operation, and the intent to create is journaled before each create, so a crash or
//! Ctrl-C never loses track of an AWS object. This layer knows nothing about HCL or AWS.

pub mod local;
pub mod remote;

use crate::address::{Address, InstanceKey, Mode};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeMap;

pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ResourceState {
    pub address: Address,
    pub mode: Mode,
    #[serde(rename = "type")]
    pub rtype: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_key: Option<InstanceKey>,
    pub attributes: serde_json::Map<String, Json>,
    /// Addresses this instance depended on when it was last applied (for destroy order
    /// once the configuration no longer mentions it).
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Created, but a later step of its creation failed: the next plan replaces it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tainted: bool,
}

/// A create that was started but not confirmed: written before the AWS call, removed after.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PendingCreate {
    pub address: Address,
    #[serde(rename = "type")]
    pub rtype: String,
    /// The planned attributes, enough for the provider to look for the object by name.
    pub planned: serde_json::Map<String, Json>,
    pub started_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OutputState {
    pub value: Json,
    #[serde(default)]
    pub sensitive: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct State {
    pub version: u32,
    pub thingform_version: String,
    pub serial: u64,
    pub lineage: String,
    #[serde(default)]
    pub resources: Vec<ResourceState>,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputState>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingCreate>,
    /// Old objects of a create_before_destroy replacement whose delete has not finished.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deposed: Vec<ResourceState>,
}

/// Where the engine writes state after every operation.
#[async_trait::async_trait]
pub trait StateStore: Send + Sync {
    async fn write(&self, state: &State) -> anyhow::Result<()>;
}

#[async_trait::async_trait]
impl StateStore for local::LocalBackend {
    async fn write(&self, state: &State) -> anyhow::Result<()> {
        local::LocalBackend::write(self, state)
    }
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

impl ResourceState {
    /// A managed instance at `address` with these attributes, no recorded dependencies.
    pub fn managed(address: Address, attributes: serde_json::Map<String, Json>) -> ResourceState {
        ResourceState {
            mode: Mode::Managed,
            rtype: address.resource.rtype.clone(),
            name: address.resource.name.clone(),
            index_key: address.key.clone(),
            address,
            attributes,
            dependencies: vec![],
            tainted: false,
        }
    }
}

impl State {
    pub fn new() -> State {
        State {
            version: FORMAT_VERSION,
            thingform_version: env!("CARGO_PKG_VERSION").to_string(),
            serial: 0,
            lineage: uuid::Uuid::new_v4().to_string(),
            resources: vec![],
            outputs: BTreeMap::new(),
            pending: vec![],
            deposed: vec![],
        }
    }

    pub fn get(&self, addr: &Address) -> Option<&ResourceState> {
        self.resources.iter().find(|r| &r.address == addr)
    }

    /// Inserts or replaces the instance at its address, keeping the list sorted.
    pub fn upsert(&mut self, rs: ResourceState) {
        match self.resources.iter_mut().find(|r| r.address == rs.address) {
            Some(slot) => *slot = rs,
            None => {
                self.resources.push(rs);
                self.resources.sort_by(|a, b| a.address.cmp(&b.address));
            }
        }
    }

    pub fn remove(&mut self, addr: &Address) -> Option<ResourceState> {
        let i = self.resources.iter().position(|r| &r.address == addr)?;
        Some(self.resources.remove(i))
    }

    pub fn parse(text: &str, origin: &str) -> anyhow::Result<State> {
        let state: State = serde_json::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "state file {origin} is not valid thingform state ({e}); it was left untouched"
            )
        })?;
        if state.version > FORMAT_VERSION {
            anyhow::bail!(
                "state file {origin} has format version {} but this thingform understands up to {FORMAT_VERSION}; upgrade thingform",
                state.version
            );
        }
        Ok(state)
    }

    pub fn to_json_pretty(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }
}

/// Who holds a lock, and for what.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LockInfo {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Operation")]
    pub operation: String,
    #[serde(rename = "Who")]
    pub who: String,
    #[serde(rename = "Created")]
    pub created: String,
    #[serde(rename = "Path")]
    pub path: String,
    #[serde(rename = "Pid")]
    pub pid: u32,
}

impl LockInfo {
    pub fn new(operation: &str, path: &str) -> LockInfo {
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "localhost".into());
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            who: format!("{user}@{host}"),
            created: chrono::Utc::now().to_rfc3339(),
            path: path.to_string(),
            pid: std::process::id(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "the state is locked by another thingform run\n\n  Lock ID:   {}\n  Operation: {}\n  Who:       {}\n  Created:   {}\n  Path:      {}\n\nWait for that run to finish. If it crashed and no thingform is running, remove the lock with:\n  thingform force-unlock {}",
        .0.id, .0.operation, .0.who, .0.created, .0.path, .0.id
    )]
    Held(Box<LockInfo>),
    #[error("cannot lock the state: {0}")]
    Io(String),
}
