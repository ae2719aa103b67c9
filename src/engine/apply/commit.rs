//! The journal of a run: records applied to the state in memory and made durable by
//! group commit.

use super::values::Values;
use crate::state::{Batch, Record, State, StateStore};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// What the operations of a run share.
pub(super) struct Shared {
    pub journal: tokio::sync::Mutex<Journal>,
    /// Instance values and the evaluation scope built from them.
    pub values: Mutex<Values>,
    pub store: Arc<dyn StateStore>,
    /// Data source results from the plan.
    pub data: BTreeMap<String, Json>,
    /// Operations that must not overlap (see `ResourceType::serialization_key`).
    pub serial_locks: Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Set once a state write failed: nothing new starts, since it could not be recorded.
    pub state_write_failed: std::sync::atomic::AtomicBool,
    /// The last commit sequence number made durable; also serialises the writes.
    pub written: tokio::sync::Mutex<u64>,
    /// Warnings the cloud raised, each with the address it belongs to.
    pub warnings: Mutex<Vec<String>>,
}

/// The state as this run has changed it, and the records not yet durable.
pub(super) struct Journal {
    pub state: State,
    pub buffered: Vec<Record>,
    /// Commits requested so far.
    pub seq: u64,
}

impl Shared {
    /// Applies `records` to the state and returns once they are durable (group commit:
    /// operations finishing together share one journal append, so an apply of many
    /// objects writes each record once instead of rewriting the whole document).
    pub async fn commit(&self, records: Vec<Record>) -> anyhow::Result<()> {
        // Async locks: a task waiting for them never blocks a runtime worker, so the
        // write (which may be an S3 request) always makes progress.
        let mine = {
            let mut j = self.journal.lock().await;
            for r in &records {
                j.state.apply_record(r);
            }
            j.buffered.extend(records);
            j.seq += 1;
            j.seq
        };
        let mut written = self.written.lock().await;
        if *written >= mine {
            return Ok(());
        }
        let (batch, upto) = {
            let mut j = self.journal.lock().await;
            j.state.serial += 1;
            let batch = Batch {
                serial: j.state.serial,
                records: std::mem::take(&mut j.buffered),
            };
            (batch, j.seq)
        };
        let failed_before = self
            .state_write_failed
            .load(std::sync::atomic::Ordering::SeqCst);
        let result = match self.store.append(&batch).await {
            // An earlier batch failed and its records are only in memory: only a whole
            // document can make this commit (and those records) durable.
            Ok(_) if failed_before => self.compact().await,
            Ok(false) => Ok(()),
            // The journal is as large as the document: fold it in.
            Ok(true) => self.compact().await,
            // The journal could not be written: try the whole document (a remote store
            // that cannot be reached saves it locally and says how to push it).
            Err(e) => self
                .compact()
                .await
                .map_err(|e2| anyhow::anyhow!("{e:#}; {e2:#}")),
        };
        match result {
            Ok(()) => {
                *written = upto;
                self.state_write_failed
                    .store(false, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            }
            Err(e) => {
                self.state_write_failed
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                Err(e)
            }
        }
    }

    /// Writes the whole document (the caller holds `written`). Records committed but not
    /// yet appended are included; appending them afterwards is harmless (idempotent).
    pub async fn compact(&self) -> anyhow::Result<()> {
        // Written under the lock rather than from a copy: a fleet's state is large, and
        // compactions are rare.
        let j = self.journal.lock().await;
        self.store.write(&j.state).await
    }
}
