//! A remote backend: the state document as one object in an object store, written only
//! if it is still the version this run read (no lost update between two writers), and
//! locked with a conditional create of a lock object (or a lock table).
//!
//! The stores themselves (S3, DynamoDB) are implemented in the provider layer behind the
//! traits below; this module knows no AWS types.

use super::{LockError, LockInfo, State, StateStore};
use async_trait::async_trait;
use std::sync::{Arc, Mutex};

/// How a write is conditioned.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    None,
    /// Only if the object does not exist (S3 `If-None-Match: *`).
    IfAbsent,
    /// Only if the object is still at this version (S3 `If-Match: <etag>`).
    IfMatch(String),
}

#[derive(Debug, thiserror::Error)]
pub enum PutError {
    #[error("the object changed since it was read (precondition failed)")]
    PreconditionFailed,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// The object and its version tag, if it exists.
    async fn get(&self, key: &str) -> anyhow::Result<Option<(Vec<u8>, String)>>;
    /// Writes the object; returns its new version tag.
    async fn put(&self, key: &str, body: Vec<u8>, cond: Condition) -> Result<String, PutError>;
    async fn delete(&self, key: &str) -> anyhow::Result<()>;
    /// Where the object lives, for messages (`s3://bucket/key`).
    fn describe(&self, key: &str) -> String;
}

/// A lock table (DynamoDB) for endpoints without conditional writes.
#[async_trait]
pub trait LockTable: Send + Sync {
    /// Takes the lock, or returns the holder's info.
    async fn acquire(&self, id: &str, info: &LockInfo) -> anyhow::Result<Result<(), LockInfo>>;
    async fn release(&self, id: &str) -> anyhow::Result<()>;
    async fn holder(&self, id: &str) -> anyhow::Result<Option<LockInfo>>;
}

pub struct RemoteBackend {
    pub store: Arc<dyn ObjectStore>,
    pub key: String,
    pub lock_table: Option<Arc<dyn LockTable>>,
    /// The version of the state object this run last read or wrote.
    version: Mutex<Option<String>>,
    /// Where the state goes when the remote write fails.
    pub errored_path: std::path::PathBuf,
    /// Test hook: fail the Nth remote state write (THINGFORM_FAULT_STATE_WRITE=N), or
    /// every write from the Nth on (`N+`).
    fault_at: Option<(usize, bool)>,
    writes: Mutex<usize>,
}

impl RemoteBackend {
    pub fn new(
        store: Arc<dyn ObjectStore>,
        key: String,
        lock_table: Option<Arc<dyn LockTable>>,
    ) -> Self {
        RemoteBackend {
            store,
            key,
            lock_table,
            version: Mutex::new(None),
            errored_path: std::path::PathBuf::from("errored.tfstate.json"),
            fault_at: std::env::var("THINGFORM_FAULT_STATE_WRITE")
                .ok()
                .and_then(|s| {
                    let from_on = s.ends_with('+');
                    s.trim_end_matches('+').parse().ok().map(|n| (n, from_on))
                }),
            writes: Mutex::new(0),
        }
    }

    fn lock_key(&self) -> String {
        format!("{}.tflock", self.key)
    }

    pub fn location(&self) -> String {
        self.store.describe(&self.key)
    }

    pub async fn read(&self) -> anyhow::Result<Option<State>> {
        match self.store.get(&self.key).await? {
            None => {
                *self
                    .version
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))? = None;
                Ok(None)
            }
            Some((body, etag)) => {
                let text = String::from_utf8(body)
                    .map_err(|_| anyhow::anyhow!("state at {} is not UTF-8", self.location()))?;
                let state = State::parse(&text, &self.location())?;
                *self
                    .version
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))? = Some(etag);
                Ok(Some(state))
            }
        }
    }

    /// Writes conditionally on the version read: a concurrent writer is detected, never
    /// overwritten. If the write fails, the state is saved locally so nothing is lost.
    pub async fn write_async(&self, state: &State) -> anyhow::Result<()> {
        let cond = match self
            .version
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .clone()
        {
            Some(v) => Condition::IfMatch(v),
            None => Condition::IfAbsent,
        };
        let n = {
            let mut w = self
                .writes
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?;
            *w += 1;
            *w
        };
        let faulty = match self.fault_at {
            Some((at, from_on)) => n == at || (from_on && n > at),
            None => false,
        };
        let result = if faulty {
            Err(PutError::Other(anyhow::anyhow!(
                "simulated remote write failure (THINGFORM_FAULT_STATE_WRITE={n})"
            )))
        } else {
            self.store
                .put(&self.key, state.to_json_pretty().into_bytes(), cond)
                .await
        };
        match result {
            Ok(etag) => {
                *self
                    .version
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))? = Some(etag);
                Ok(())
            }
            Err(e) => {
                let saved = super::local::LocalBackend::new(self.errored_path.clone()).write(state);
                let why = match &e {
                    PutError::PreconditionFailed => format!(
                        "the state at {} was changed by another writer since this run read it",
                        self.location()
                    ),
                    PutError::Other(err) => {
                        format!("cannot write the state to {}: {err:#}", self.location())
                    }
                };
                match saved {
                    Ok(()) => Err(anyhow::anyhow!(
                        "{why}. The state this run produced was saved to {}; once the cause is fixed, upload it with `thingform state push {}`",
                        self.errored_path.display(),
                        self.errored_path.display()
                    )),
                    Err(local) => Err(anyhow::anyhow!(
                        "{why}; saving it locally failed too ({local:#})"
                    )),
                }
            }
        }
    }

    /// Unconditional upload (state push after its own checks).
    pub async fn push(&self, state: &State) -> anyhow::Result<()> {
        self.store
            .put(
                &self.key,
                state.to_json_pretty().into_bytes(),
                Condition::None,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(())
    }

    pub async fn lock(&self, operation: &str) -> Result<RemoteLock, LockError> {
        let info = LockInfo::new(operation, &self.location());
        if let Some(table) = &self.lock_table {
            return match table.acquire(&self.lock_key(), &info).await {
                Ok(Ok(())) => Ok(RemoteLock {
                    release: Release::Table(table.clone(), self.lock_key()),
                    info,
                }),
                Ok(Err(holder)) => Err(LockError::Held(Box::new(holder))),
                Err(e) => Err(LockError::Io(format!("{e:#}"))),
            };
        }
        let body = serde_json::to_vec_pretty(&info).unwrap_or_default();
        match self
            .store
            .put(&self.lock_key(), body, Condition::IfAbsent)
            .await
        {
            Ok(_) => Ok(RemoteLock {
                release: Release::Object(self.store.clone(), self.lock_key()),
                info,
            }),
            Err(PutError::PreconditionFailed) => {
                let holder = self
                    .store
                    .get(&self.lock_key())
                    .await
                    .ok()
                    .flatten()
                    .and_then(|(b, _)| serde_json::from_slice::<LockInfo>(&b).ok())
                    .unwrap_or_else(|| LockInfo {
                        id: "(unreadable)".into(),
                        ..info.clone()
                    });
                Err(LockError::Held(Box::new(holder)))
            }
            Err(PutError::Other(e)) => Err(LockError::Io(format!("{e:#}"))),
        }
    }

    pub async fn force_unlock(&self, id: &str) -> anyhow::Result<()> {
        let holder = match &self.lock_table {
            Some(t) => t.holder(&self.lock_key()).await?,
            None => self
                .store
                .get(&self.lock_key())
                .await?
                .and_then(|(b, _)| serde_json::from_slice::<LockInfo>(&b).ok()),
        };
        match holder {
            None => anyhow::bail!("the state at {} is not locked", self.location()),
            Some(h) if h.id != id => {
                anyhow::bail!("the lock on {} has ID {}, not {id}", self.location(), h.id)
            }
            Some(_) => match &self.lock_table {
                Some(t) => t.release(&self.lock_key()).await,
                None => self.store.delete(&self.lock_key()).await,
            },
        }
    }
}

#[async_trait]
impl StateStore for RemoteBackend {
    async fn write(&self, state: &State) -> anyhow::Result<()> {
        self.write_async(state).await
    }
}

enum Release {
    Object(Arc<dyn ObjectStore>, String),
    Table(Arc<dyn LockTable>, String),
}

/// Holds a remote lock until dropped.
pub struct RemoteLock {
    release: Release,
    pub info: LockInfo,
}

impl Drop for RemoteLock {
    fn drop(&mut self) {
        let fut = async {
            match &self.release {
                Release::Object(s, k) => s.delete(k).await,
                Release::Table(t, k) => t.release(k).await,
            }
        };
        let result = match tokio::runtime::Handle::try_current() {
            Ok(h) => tokio::task::block_in_place(|| h.block_on(fut)),
            Err(_) => Err(anyhow::anyhow!("no runtime to release the lock")),
        };
        if let Err(e) = result {
            eprintln!(
                "Warning: could not release the state lock {} ({e:#}); remove it with `thingform force-unlock {}`",
                self.info.id, self.info.id
            );
        }
    }
}
