//! A remote backend: the state document as one object in an object store, written only
//! if it is still the version this run read (no lost update between two writers), and
//! locked with a conditional create of a lock object (or a lock table).
//!
//! Between two document writes, each journal batch is its own object,
//! `<key>.journal/<lineage>/<base serial>/<seq>`, created with `If-None-Match: *` (so two
//! writers can never both append the same batch) and read back in sequence until the
//! first missing one. A new document starts a new journal under its own serial; the
//! segments it folded in are deleted after it is written (segments a crash leaves behind
//! name an older serial and are never read again).
//!
//! The stores themselves (S3, DynamoDB) are implemented in the backend layer behind the
//! traits below; this module knows no AWS types.

use super::crypt::{self, Crypt};
use super::journal::{Batch, Header};
use super::{LockError, LockInfo, State, StateStore, UnlockError};
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
    journal: Mutex<RemoteJournal>,
    /// The stack's state encryption: the document and every journal segment are sealed
    /// before upload, so the bucket never holds plain state. `None`: plain, and an
    /// encrypted object is refused with a clear error.
    pub crypt: Option<Arc<Crypt>>,
}

/// Where the journal of the current document stands.
#[derive(Default)]
struct RemoteJournal {
    header: Option<Header>,
    /// The sequence number the next batch takes (1-based).
    next_seq: u64,
    bytes: u64,
    document_bytes: u64,
}

/// The journal is compacted once it is as large as the document, and never below this.
const MIN_COMPACT_BYTES: u64 = 1 << 20;

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
            journal: Mutex::new(RemoteJournal::default()),
            crypt: None,
        }
    }

    fn segment_key(&self, h: &Header, seq: u64) -> String {
        format!(
            "{}.journal/{}/{}/{seq:08}",
            self.key, h.lineage, h.base_serial
        )
    }

    /// Counts a write and says whether the fault hook fails it.
    fn next_write_faulty(&self) -> anyhow::Result<Option<usize>> {
        let n = {
            let mut w = self
                .writes
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?;
            *w += 1;
            *w
        };
        Ok(match self.fault_at {
            Some((at, from_on)) if n == at || (from_on && n > at) => Some(n),
            _ => None,
        })
    }

    fn lock_key(&self) -> String {
        format!("{}.tflock", self.key)
    }

    pub fn location(&self) -> String {
        self.store.describe(&self.key)
    }

    /// What was stored, opened: decrypted when sealed (refused without the stack's
    /// encryption), checked when plain (refused unless migrating).
    async fn open(&self, body: Vec<u8>, purpose: &str, origin: &str) -> anyhow::Result<Vec<u8>> {
        match &self.crypt {
            Some(c) => c.open_async(body, purpose, origin).await,
            None => match crypt::sealed_head(&body) {
                Some(h) => Err(crypt::not_configured(origin, h.ok().as_ref(), "state")),
                None => Ok(body),
            },
        }
    }

    /// What to upload: sealed when encryption is on (the key prepared first).
    async fn seal(&self, plain: Vec<u8>, purpose: &str) -> anyhow::Result<Vec<u8>> {
        match &self.crypt {
            Some(c) if c.encrypts() => {
                c.prepare_write().await?;
                let mut plain = plain;
                let sealed = c.seal(&plain, purpose, None);
                zeroize::Zeroize::zeroize(&mut plain);
                sealed
            }
            _ => Ok(plain),
        }
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
                let body = self.open(body, "state", &self.location()).await?;
                let text = String::from_utf8(body)
                    .map_err(|_| anyhow::anyhow!("state at {} is not UTF-8", self.location()))?;
                let mut state = State::parse(&text, &self.location())?;
                let doc_bytes = text.len() as u64;
                *self
                    .version
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))? = Some(etag);
                // Replay the journal of this document, segment by segment.
                let header = Header::for_state(&state);
                let mut seq = 1;
                let mut bytes = 0;
                while let Some((body, _)) = self.store.get(&self.segment_key(&header, seq)).await? {
                    let stored = body.len();
                    let origin = self.store.describe(&self.segment_key(&header, seq));
                    let body = self.open(body, "journal", &origin).await?;
                    let batch: Batch = serde_json::from_slice(&body).map_err(|e| {
                        anyhow::anyhow!(
                            "state journal segment {} is damaged ({e}); it was left untouched",
                            self.store.describe(&self.segment_key(&header, seq))
                        )
                    })?;
                    state.apply_batch(&batch);
                    bytes += stored as u64;
                    seq += 1;
                }
                *self
                    .journal
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))? = RemoteJournal {
                    header: Some(header),
                    next_seq: seq,
                    bytes,
                    document_bytes: doc_bytes,
                };
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
        let body = self
            .seal(state.to_json_pretty().into_bytes(), "state")
            .await?;
        let doc_bytes = body.len();
        let result = if let Some(n) = self.next_write_faulty()? {
            Err(PutError::Other(anyhow::anyhow!(
                "simulated remote write failure (THINGFORM_FAULT_STATE_WRITE={n})"
            )))
        } else {
            self.store.put(&self.key, body, cond).await
        };
        match result {
            Ok(etag) => {
                super::stats::record(doc_bytes, true);
                *self
                    .version
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))? = Some(etag);
                let old = std::mem::replace(
                    &mut *self
                        .journal
                        .lock()
                        .map_err(|_| anyhow::anyhow!("poisoned"))?,
                    RemoteJournal {
                        header: Some(Header::for_state(state)),
                        next_seq: 1,
                        bytes: 0,
                        document_bytes: doc_bytes as u64,
                    },
                );
                // The new document holds the old journal: its segments can go. Best
                // effort: a leftover segment names an older serial and is never read.
                if let Some(h) = old.header {
                    for seq in 1..old.next_seq {
                        let _ = self.store.delete(&self.segment_key(&h, seq)).await;
                    }
                }
                Ok(())
            }
            Err(e) => {
                let saved = super::local::LocalBackend::with_crypt(
                    self.errored_path.clone(),
                    self.crypt.clone(),
                )
                .write(state);
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

    /// Appends one journal batch as its own object (created only if absent).
    pub async fn append_async(&self, batch: &Batch) -> anyhow::Result<bool> {
        let (key, seq) = {
            let j = self
                .journal
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?;
            let Some(h) = &j.header else {
                anyhow::bail!(
                    "internal error: a state journal batch before its document was written"
                );
            };
            (self.segment_key(h, j.next_seq), j.next_seq)
        };
        let body = self.seal(serde_json::to_vec(batch)?, "journal").await?;
        let len = body.len();
        let result = if let Some(n) = self.next_write_faulty()? {
            Err(PutError::Other(anyhow::anyhow!(
                "simulated remote write failure (THINGFORM_FAULT_STATE_WRITE={n})"
            )))
        } else {
            self.store.put(&key, body, Condition::IfAbsent).await
        };
        match result {
            Ok(_) => {
                super::stats::record(len, false);
                let mut j = self
                    .journal
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))?;
                j.next_seq = seq + 1;
                j.bytes += len as u64;
                Ok(j.bytes >= j.document_bytes.max(MIN_COMPACT_BYTES))
            }
            Err(PutError::PreconditionFailed) => Err(anyhow::anyhow!(
                "the state journal at {} was appended to by another writer since this run read it",
                self.store.describe(&key)
            )),
            Err(PutError::Other(e)) => Err(anyhow::anyhow!(
                "cannot append to the state journal at {}: {e:#}",
                self.store.describe(&key)
            )),
        }
    }

    /// Unconditional upload (state push after its own checks).
    pub async fn push(&self, state: &State) -> anyhow::Result<()> {
        let body = self
            .seal(state.to_json_pretty().into_bytes(), "state")
            .await?;
        self.store
            .put(&self.key, body, Condition::None)
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
    async fn append(&self, batch: &Batch) -> anyhow::Result<bool> {
        self.append_async(batch).await
    }
}

enum Release {
    Object(Arc<dyn ObjectStore>, String),
    Table(Arc<dyn LockTable>, String),
}

/// A remote lock, held until [`RemoteLock::unlock`]. Dropping it without unlocking
/// leaves the lock in place (`thingform force-unlock` removes it).
#[must_use = "a remote lock is released only by `unlock`"]
pub struct RemoteLock {
    release: Release,
    pub info: LockInfo,
}

impl RemoteLock {
    /// Releases the lock (deletes the lock object or the lock table item); the error
    /// names the lock so the caller can tell the user how to remove it.
    pub async fn unlock(self) -> Result<(), UnlockError> {
        let result = match &self.release {
            Release::Object(s, k) => s.delete(k).await,
            Release::Table(t, k) => t.release(k).await,
        };
        result.map_err(|cause| UnlockError {
            id: self.info.id.clone(),
            cause,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testing::MemStore;

    fn put(serial: u64, addr: &str) -> Batch {
        let mut attrs = serde_json::Map::new();
        attrs.insert("id".into(), addr.into());
        Batch {
            serial,
            records: vec![super::super::Record::Put {
                resource: super::super::ResourceState::managed(addr.parse().unwrap(), attrs),
            }],
        }
    }

    #[tokio::test]
    async fn journal_segments_replay_and_compaction_removes_them() {
        let store = Arc::new(MemStore::default());
        let b = RemoteBackend::new(store.clone(), "s/state".into(), None);
        let mut s = State::new();
        s.serial = 1;
        b.write_async(&s).await.unwrap();
        b.append_async(&put(2, "aws_iot_thing.a[0]")).await.unwrap();
        b.append_async(&put(3, "aws_iot_thing.a[1]")).await.unwrap();
        let keys = store.keys();
        assert_eq!(
            keys.len(),
            3,
            "the document and one object per batch: {keys:?}"
        );

        let next_run = RemoteBackend::new(store.clone(), "s/state".into(), None);
        let back = next_run.read().await.unwrap().unwrap();
        assert_eq!(back.serial, 3);
        assert_eq!(back.resources.len(), 2);

        // The next run compacts: the segments it folded in are deleted.
        next_run.write_async(&back).await.unwrap();
        let keys = store.keys();
        assert_eq!(keys, vec!["s/state".to_string()]);
        let again = RemoteBackend::new(store.clone(), "s/state".into(), None);
        assert_eq!(again.read().await.unwrap().unwrap().resources.len(), 2);
    }

    #[tokio::test]
    async fn two_writers_cannot_append_the_same_batch() {
        let store = Arc::new(MemStore::default());
        let a = RemoteBackend::new(store.clone(), "k".into(), None);
        a.write_async(&State::new()).await.unwrap();
        let b = RemoteBackend::new(store.clone(), "k".into(), None);
        b.read().await.unwrap();
        a.append_async(&put(1, "aws_iot_thing.x")).await.unwrap();
        let err = b
            .append_async(&put(1, "aws_iot_thing.y"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("another writer"), "{err}");
    }
}
