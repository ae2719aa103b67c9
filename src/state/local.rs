//! The local backend: `.thingform/state.json` in the stack directory (or `-state PATH`),
//! written atomically, locked with an OS file lock plus a lock-info file naming the holder.

use super::{LockError, LockInfo, State};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub struct LocalBackend {
    pub path: PathBuf,
}

/// Holds the lock until dropped.
pub struct LocalLock {
    file: File,
    info_path: PathBuf,
    pub info: LockInfo,
}

impl Drop for LocalLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.info_path);
        let _ = self.file.unlock();
    }
}

impl LocalBackend {
    pub fn new(path: PathBuf) -> Self {
        LocalBackend { path }
    }

    fn lock_path(&self) -> PathBuf {
        sibling(&self.path, ".lock")
    }

    fn lock_info_path(&self) -> PathBuf {
        sibling(&self.path, ".lock.info")
    }

    pub fn read(&self) -> anyhow::Result<Option<State>> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(Some(State::parse(&text, &self.path.display().to_string())?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow::anyhow!(
                "cannot read state file {}: {e}",
                self.path.display()
            )),
        }
    }

    /// Writes the whole document atomically: a crash leaves either the old or the new
    /// file, never a half-written one. The file is created 0600 (it may hold secrets).
    pub fn write(&self, state: &State) -> anyhow::Result<()> {
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        let tmp = sibling(&self.path, &format!(".tmp-{}", std::process::id()));
        let result = (|| -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(state.to_json_pretty().as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            File::open(dir)?.sync_all()?;
            Ok(())
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            anyhow::bail!("cannot write state file {}: {e}", self.path.display());
        }
        Ok(())
    }

    /// Keeps the state as it was before this run at `<path>.backup`.
    pub fn backup(&self) -> anyhow::Result<()> {
        if self.path.is_file() {
            let b = sibling(&self.path, ".backup");
            std::fs::copy(&self.path, &b)
                .map_err(|e| anyhow::anyhow!("cannot back up state to {}: {e}", b.display()))?;
        }
        Ok(())
    }

    pub fn lock(&self, operation: &str) -> Result<LocalLock, LockError> {
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)
            .map_err(|e| LockError::Io(format!("{}: {e}", dir.display())))?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(self.lock_path())
            .map_err(|e| LockError::Io(format!("{}: {e}", self.lock_path().display())))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let info = std::fs::read_to_string(self.lock_info_path())
                    .ok()
                    .and_then(|s| serde_json::from_str::<LockInfo>(&s).ok())
                    .unwrap_or_else(|| LockInfo {
                        id: "(unknown)".into(),
                        operation: "(unknown)".into(),
                        who: "(unknown)".into(),
                        created: "(unknown)".into(),
                        path: self.path.display().to_string(),
                        pid: 0,
                    });
                return Err(LockError::Held(Box::new(info)));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(LockError::Io(e.to_string())),
        }
        // The OS lock is ours; a leftover info file is from a run that was killed.
        let info = LockInfo::new(operation, &self.path.display().to_string());
        std::fs::write(
            self.lock_info_path(),
            serde_json::to_string_pretty(&info).unwrap_or_default(),
        )
        .map_err(|e| LockError::Io(e.to_string()))?;
        Ok(LocalLock {
            file,
            info_path: self.lock_info_path(),
            info,
        })
    }

    /// Removes a lock left by a run that can no longer release it.
    pub fn force_unlock(&self, id: &str) -> anyhow::Result<()> {
        let info = std::fs::read_to_string(self.lock_info_path())
            .ok()
            .and_then(|s| serde_json::from_str::<LockInfo>(&s).ok());
        match info {
            None => anyhow::bail!("the state at {} is not locked", self.path.display()),
            Some(i) if i.id != id => anyhow::bail!(
                "the lock on {} has ID {}, not {id}; check the ID printed by the failed command",
                self.path.display(),
                i.id
            ),
            Some(_) => {
                std::fs::remove_file(self.lock_info_path())?;
                let _ = std::fs::remove_file(self.lock_path());
                Ok(())
            }
        }
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn write_is_atomic_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join(".thingform/state.json"));
        let mut s = State::new();
        s.serial = 7;
        b.write(&s).unwrap();
        let mode = std::fs::metadata(&b.path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(b.read().unwrap().unwrap().serial, 7);
        let leftovers: Vec<_> = std::fs::read_dir(b.path.parent().unwrap())
            .unwrap()
            .collect();
        assert_eq!(leftovers.len(), 1, "no temp files left behind");
    }

    #[test]
    fn second_lock_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("state.json"));
        let held = b.lock("apply").unwrap();
        match b.lock("plan") {
            Err(LockError::Held(info)) => {
                assert_eq!(info.operation, "apply");
                assert_eq!(info.id, held.info.id);
            }
            other => panic!("expected a held lock, got {:?}", other.err()),
        }
        drop(held);
        assert!(b.lock("plan").is_ok());
    }

    #[test]
    fn corrupt_state_is_an_error_not_a_reset() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("state.json"));
        std::fs::write(&b.path, "{ not json").unwrap();
        let err = b.read().unwrap_err().to_string();
        assert!(err.contains("left untouched"), "{err}");
        assert_eq!(std::fs::read_to_string(&b.path).unwrap(), "{ not json");
    }
}
