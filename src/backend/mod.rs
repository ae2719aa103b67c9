//! The backend layer: where a stack's state lives and how it is locked.
//!
//! It chooses the backend (`-state`, `terraform { backend }`, `-backend-config`, the
//! workspace: [`choice`], [`workspace`]), implements the state layer's remote traits
//! with S3 and DynamoDB ([`s3`]), and runs a command under the state lock
//! ([`Backend::locked`]), releasing it explicitly on every path.
//!
//! It sits above `state`, `config` (the `backend` block's literal settings) and
//! `provider` (only `provider::client`, to build SDK clients); it never knows the engine,
//! the plan or the CLI, and prints nothing: unlock errors are returned.

pub mod choice;
pub mod encryption;
pub mod s3;
pub mod workspace;

pub use choice::{Selection, open};

use crate::state::local::{LocalBackend, LocalLock};
use crate::state::remote::{RemoteBackend, RemoteLock};
use crate::state::{LockError, State, StateStore, UnlockError};
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

#[derive(Clone)]
pub enum Backend {
    Local(Arc<LocalBackend>),
    Remote(Arc<RemoteBackend>),
}

/// A held state lock; released only by [`LockGuard::unlock`].
#[must_use = "the state lock is released only by `unlock`"]
pub enum LockGuard {
    Local(LocalLock),
    Remote(RemoteLock),
}

impl LockGuard {
    pub async fn unlock(self) -> Result<(), UnlockError> {
        match self {
            LockGuard::Local(l) => l.unlock(),
            LockGuard::Remote(l) => l.unlock().await,
        }
    }
}

/// What a run under the lock produced: its own result, and whether the lock was
/// released (the caller reports a failed unlock; the lock then stays until
/// `thingform force-unlock`).
#[must_use]
pub struct Locked<T> {
    pub result: anyhow::Result<T>,
    pub unlock: Result<(), UnlockError>,
}

impl Backend {
    /// The stored state, decrypted when the stack encrypts it; afterwards the key this
    /// run writes with is ready (see [`crate::state::crypt::Crypt::prepare_write`]).
    pub async fn read(&self) -> anyhow::Result<Option<State>> {
        let state = match self {
            Backend::Local(b) => {
                b.unlock().await?;
                b.read()?
            }
            Backend::Remote(b) => b.read().await?,
        };
        self.prepare_write().await?;
        Ok(state)
    }

    /// The stack's state encryption, if any.
    pub fn crypt(&self) -> Option<&Arc<crate::state::crypt::Crypt>> {
        match self {
            Backend::Local(b) => b.crypt.as_ref(),
            Backend::Remote(b) => b.crypt.as_ref(),
        }
    }

    async fn prepare_write(&self) -> anyhow::Result<()> {
        match self.crypt() {
            Some(c) => c.prepare_write().await,
            None => Ok(()),
        }
    }

    /// A state file given on the command line (`state push FILE`), opened with this
    /// stack's state encryption (so an encrypted `errored.tfstate.json` can be pushed).
    /// A plain file is taken as it is: it was handed over explicitly (`state pull` output
    /// edited by hand), and it is sealed when written.
    pub async fn read_file(&self, path: &std::path::Path) -> anyhow::Result<State> {
        let mut head = [0u8; 64];
        let n = std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let crypt = if crate::state::crypt::looks_sealed(&head[..n]) {
            self.crypt().cloned()
        } else {
            None
        };
        let f = LocalBackend::with_crypt(path.to_path_buf(), crypt);
        f.unlock().await?;
        f.read()?
            .ok_or_else(|| anyhow::anyhow!("cannot read {}: no such file", path.display()))
    }

    pub async fn lock(&self, op: &str) -> Result<LockGuard, LockError> {
        match self {
            Backend::Local(b) => b.lock(op).map(LockGuard::Local),
            Backend::Remote(b) => b.lock(op).await.map(LockGuard::Remote),
        }
    }

    /// Runs `run` holding the state lock for `operation` (no lock when `None`, as with
    /// `-lock=false`), and releases it afterwards whether `run` succeeded, failed,
    /// stopped on Ctrl-C or panicked. A lock that cannot be taken is `result`'s error
    /// (a [`LockError`]) and `run` does not start.
    pub async fn locked<T>(
        &self,
        operation: Option<&str>,
        run: impl AsyncFnOnce() -> anyhow::Result<T>,
    ) -> Locked<T> {
        let guard = match operation {
            None => None,
            Some(op) => match self.lock(op).await {
                Ok(g) => Some(g),
                Err(e) => {
                    return Locked {
                        result: Err(e.into()),
                        unlock: Ok(()),
                    };
                }
            },
        };
        let outcome = AssertUnwindSafe(run()).catch_unwind().await;
        let unlock = match guard {
            Some(g) => g.unlock().await,
            None => Ok(()),
        };
        match outcome {
            Ok(result) => Locked { result, unlock },
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    pub async fn write(&self, state: &State) -> anyhow::Result<()> {
        self.prepare_write().await?;
        match self {
            Backend::Local(b) => b.write(state),
            Backend::Remote(b) => b.write_async(state).await,
        }
    }

    /// A state command's edit: a new serial, the previous state kept as the backup
    /// (local backends), then the new document written.
    pub async fn write_new_serial(&self, state: &mut State) -> anyhow::Result<()> {
        state.serial += 1;
        self.backup()?;
        self.write(state).await
    }

    /// Unconditional replacement of the stored state (after `state push`'s own checks).
    pub async fn push(&self, state: &State) -> anyhow::Result<()> {
        self.prepare_write().await?;
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

    /// Keeps the state as it was before this run (local backends: `<path>.backup`).
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

#[cfg(test)]
mod tests;
