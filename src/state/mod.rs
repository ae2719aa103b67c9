//! The state layer: what thingform believes exists in AWS.
//!
//! The document is written atomically (temp file, fsync, rename); between two such
//! writes every resource operation appends a small record to a journal (see
//! [`journal`]), so a crash or Ctrl-C never loses track of an AWS object and the bytes
//! written per run grow linearly with the resources. This layer knows nothing about HCL
//! or AWS.

pub mod crypt;
pub mod journal;
pub mod local;
pub mod remote;
#[cfg(test)]
pub(crate) mod testing;

pub use journal::{Batch, Record};

use crate::address::{Address, InstanceKey, Mode, ResourceId};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

/// 2: dependencies are recorded by resource (`aws_iot_certificate.dev`), once, instead
/// of one entry per instance of what is referenced (version 1, quadratic for fleets).
pub const FORMAT_VERSION: u32 = 2;

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
    /// The resources (or, keyed, single instances) this instance depended on when it was
    /// last applied, for destroy order once the configuration no longer mentions it.
    /// Recorded by resource: linear in the size of the configuration, never one entry
    /// per instance of a fleet.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Created, but a later step of its creation failed: the next plan replaces it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tainted: bool,
    /// The aliased provider configuration that manages it (`aws.eu`: "eu"); absent for
    /// the default. Orphans are read and destroyed through it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
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
    /// The aliased provider configuration it is created through (None: the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
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
    /// Every instance, by address (a list of objects on disk).
    #[serde(default, with = "resource_list")]
    pub resources: BTreeMap<Address, ResourceState>,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputState>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingCreate>,
    /// Old objects of a create_before_destroy replacement whose delete has not finished.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deposed: Vec<ResourceState>,
}

/// Where the engine writes state: whole documents now and then, and a journal batch
/// after every group of operations in between.
#[async_trait::async_trait]
pub trait StateStore: Send + Sync {
    /// Replaces the whole document; the journal of the previous document is discarded
    /// (the new document includes it). Also starts a new, empty journal.
    async fn write(&self, state: &State) -> anyhow::Result<()>;
    /// Appends one batch to the journal of the document this store last wrote, and
    /// returns once it is durable. `Ok(true)`: the journal has grown as large as the
    /// document, and the caller should compact it with [`StateStore::write`].
    async fn append(&self, batch: &Batch) -> anyhow::Result<bool>;
}

#[async_trait::async_trait]
impl StateStore for local::LocalBackend {
    async fn write(&self, state: &State) -> anyhow::Result<()> {
        off_the_runtime(|| local::LocalBackend::write(self, state))
    }
    async fn append(&self, batch: &Batch) -> anyhow::Result<bool> {
        off_the_runtime(|| local::LocalBackend::append(self, batch))
    }
}

/// Runs blocking file I/O (an fsync takes milliseconds) without stalling the other tasks
/// of a multi-threaded runtime's worker.
fn off_the_runtime<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Process-wide counters of what the state layer wrote (for benchmarks:
/// `THINGFORM_STATS_FILE`).
pub mod stats {
    use std::sync::atomic::{AtomicU64, Ordering};

    static BYTES: AtomicU64 = AtomicU64::new(0);
    static WRITES: AtomicU64 = AtomicU64::new(0);
    static DOCUMENTS: AtomicU64 = AtomicU64::new(0);

    /// One durable write of `bytes`; `document`: a whole document (else a journal batch).
    pub fn record(bytes: usize, document: bool) {
        BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
        WRITES.fetch_add(1, Ordering::Relaxed);
        if document {
            DOCUMENTS.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `(bytes written, writes, of which whole documents)`.
    pub fn snapshot() -> (u64, u64, u64) {
        (
            BYTES.load(Ordering::Relaxed),
            WRITES.load(Ordering::Relaxed),
            DOCUMENTS.load(Ordering::Relaxed),
        )
    }
}

/// `resources` is a map in memory (fleets of thousands: lookups must not scan) and a
/// list of objects on disk, as it always was.
mod resource_list {
    use super::ResourceState;
    use crate::address::Address;
    use serde::{Deserialize, Deserializer, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(
        m: &BTreeMap<Address, ResourceState>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.values())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<Address, ResourceState>, D::Error> {
        let list = Vec::<ResourceState>::deserialize(d)?;
        Ok(list.into_iter().map(|r| (r.address.clone(), r)).collect())
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
            provider: None,
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
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
            pending: vec![],
            deposed: vec![],
        }
    }

    pub fn get(&self, addr: &Address) -> Option<&ResourceState> {
        self.resources.get(addr)
    }

    /// Inserts or replaces the instance at its address.
    pub fn upsert(&mut self, rs: ResourceState) {
        self.resources.insert(rs.address.clone(), rs);
    }

    pub fn remove(&mut self, addr: &Address) -> Option<ResourceState> {
        self.resources.remove(addr)
    }

    /// Every instance, in address order.
    pub fn iter(&self) -> impl Iterator<Item = &ResourceState> {
        self.resources.values()
    }

    /// The instances of one resource block.
    pub fn instances_of<'a>(
        &'a self,
        id: &'a ResourceId,
    ) -> impl Iterator<Item = &'a ResourceState> + 'a {
        self.resources
            .range(id.instance(None)..)
            .take_while(move |(a, _)| &a.resource == id)
            .map(|(_, r)| r)
    }

    pub fn parse(text: &str, origin: &str) -> anyhow::Result<State> {
        Self::finish_parse(serde_json::from_str(text), origin)
    }

    /// [`State::parse`] from a reader: a fleet's document is never held as one string
    /// beside its parsed form.
    pub fn parse_reader(r: impl std::io::Read, origin: &str) -> anyhow::Result<State> {
        Self::finish_parse(serde_json::from_reader(r), origin)
    }

    fn finish_parse(parsed: serde_json::Result<State>, origin: &str) -> anyhow::Result<State> {
        let mut state: State = parsed.map_err(|e| {
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
        state.migrate();
        Ok(state)
    }

    /// Brings a document of an older format up to [`FORMAT_VERSION`]. Version 1 listed
    /// every instance of each referenced resource in `dependencies`; they collapse to the
    /// resource (which orders destroys exactly as before: after every instance of it).
    pub fn migrate(&mut self) {
        if self.version < 2 {
            for r in self.resources.values_mut() {
                r.dependencies = resource_dependencies(&r.dependencies);
            }
            for r in self.deposed.iter_mut() {
                r.dependencies = resource_dependencies(&r.dependencies);
            }
        }
        self.version = FORMAT_VERSION;
    }

    /// Applies one journal record. Records are idempotent: replaying a batch that a
    /// compaction already folded in leaves the state unchanged.
    pub fn apply_record(&mut self, r: &Record) {
        match r {
            Record::Put { resource } => self.upsert(resource.clone()),
            Record::Remove { address } => {
                self.remove(address);
            }
            Record::PendingAdd { pending } => {
                self.pending.retain(|p| p.address != pending.address);
                self.pending.push(pending.clone());
            }
            Record::PendingRemove { address } => self.pending.retain(|p| &p.address != address),
            Record::Depose { resource } => {
                if !self.deposed.contains(resource) {
                    self.deposed.push(resource.clone());
                }
            }
            Record::DeposedRemove {
                address,
                attributes,
            } => self
                .deposed
                .retain(|d| !(&d.address == address && &d.attributes == attributes)),
            Record::Outputs { outputs } => self.outputs = outputs.clone(),
        }
    }

    pub fn to_json_pretty(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }
}

/// Dependencies as resource addresses, each once (an instance address keeps only its
/// resource; unparseable entries are kept as they are).
pub fn resource_dependencies(deps: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = vec![];
    for d in deps {
        let r = match d.parse::<Address>() {
            Ok(a) => a.resource.to_string(),
            Err(_) => d.clone(),
        };
        if seen.insert(r.clone()) {
            out.push(r);
        }
    }
    out
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

/// A lock that could not be released, as Terraform's `statemgr.Locker::Unlock` reports
/// it: the caller decides how to tell the user (the lock stays until force-unlocked).
#[derive(Debug, thiserror::Error)]
#[error(
    "could not release the state lock {id} ({cause:#}); remove it with `thingform force-unlock {id}`"
)]
pub struct UnlockError {
    pub id: String,
    pub cause: anyhow::Error,
}
