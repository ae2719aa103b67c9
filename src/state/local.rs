//! The local backend: `.thingform/state.json` in the stack directory (or `-state PATH`),
//! written atomically, with its journal beside it (`state.json.journal`, JSON lines,
//! fsynced per batch), locked with an OS file lock plus a lock-info file naming the holder.

use super::crypt::{self, Crypt};
use super::journal::{Batch, Header, header_of, replay_lines_with};
use super::{LockError, LockInfo, State, UnlockError};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub struct LocalBackend {
    pub path: PathBuf,
    journal: Mutex<Journal>,
    /// The stack's state encryption (`terraform { encryption { state {} } }`): the
    /// document, its backup and every journal line are sealed with it. `None`: plain,
    /// and an encrypted file is refused with a clear error.
    pub crypt: Option<Arc<Crypt>>,
    /// Why the journal's key could not be fetched: reported only if the journal turns
    /// out to continue the document (a leftover journal of an older document, sealed
    /// with a key since rotated away, is ignored like any leftover).
    journal_key_error: Mutex<Option<String>>,
}

/// The journal of the document this backend last wrote.
#[derive(Default)]
struct Journal {
    header: Option<Header>,
    file: Option<File>,
    bytes: u64,
    document_bytes: u64,
}

/// The journal is compacted once it is as large as the document, and never below this.
const MIN_COMPACT_BYTES: u64 = 4 << 20;

/// Holds the lock until [`LocalLock::unlock`]. Dropped without it, the OS lock goes with
/// the file and the lock-info file stays behind (the next `lock` overwrites it).
#[must_use = "the lock-info file is removed only by `unlock`"]
pub struct LocalLock {
    file: File,
    info_path: PathBuf,
    pub info: LockInfo,
}

impl LocalLock {
    /// Removes the lock-info file and releases the OS lock.
    pub fn unlock(self) -> Result<(), UnlockError> {
        let fail = |cause: anyhow::Error| UnlockError {
            id: self.info.id.clone(),
            cause,
        };
        match std::fs::remove_file(&self.info_path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(anyhow::anyhow!("{}: {e}", self.info_path.display()))),
        }
        self.file.unlock().map_err(|e| fail(e.into()))
    }
}

impl LocalBackend {
    pub fn new(path: PathBuf) -> Self {
        LocalBackend {
            path,
            journal: Mutex::new(Journal::default()),
            crypt: None,
            journal_key_error: Mutex::new(None),
        }
    }

    pub fn with_crypt(path: PathBuf, crypt: Option<Arc<Crypt>>) -> Self {
        LocalBackend {
            crypt,
            ..LocalBackend::new(path)
        }
    }

    /// Fetches the keys the document and its journal were sealed with (a KMS call, or a
    /// PBKDF2 derivation), so that [`LocalBackend::read`] can open them.
    pub async fn unlock(&self) -> anyhow::Result<()> {
        let Some(c) = &self.crypt else { return Ok(()) };
        if let Ok(bytes) = std::fs::read(&self.path)
            && let Some(head) = crypt::sealed_head(&bytes)
        {
            let origin = self.path.display().to_string();
            let head = head.map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
            c.unlock(&head, &origin).await?;
        }
        if let Ok(text) = std::fs::read_to_string(self.journal_path())
            && let Some(h) = header_of(&text).and_then(|h| h.encryption)
        {
            let unlocked = c
                .unlock(&h, &self.journal_path().display().to_string())
                .await;
            if let Ok(mut slot) = self.journal_key_error.lock() {
                *slot = unlocked.err().map(|e| format!("{e:#}"));
            }
        }
        Ok(())
    }

    /// The document as bytes to write: pretty JSON, sealed when encryption is on.
    fn encode(&self, state: &State) -> anyhow::Result<Option<Vec<u8>>> {
        match &self.crypt {
            Some(c) if c.encrypts() => {
                let mut plain = serde_json::to_vec_pretty(state)?;
                plain.push(b'\n');
                let sealed = c.seal(&plain, "state", None);
                zeroize::Zeroize::zeroize(&mut plain);
                Ok(Some(sealed?))
            }
            _ => Ok(None),
        }
    }

    /// Writes the document, sealed or streamed plain; returns the bytes written.
    fn write_document(&self, path: &Path, state: &State) -> anyhow::Result<u64> {
        match self.encode(state)? {
            Some(bytes) => write_atomically_with(path, |w| w.write_all(&bytes)),
            // Streamed to the file: a fleet's document is never held as one string.
            None => write_atomically_with(path, |w| {
                serde_json::to_writer_pretty(&mut *w, state).map_err(std::io::Error::other)?;
                w.write_all(b"\n")
            }),
        }
    }

    pub fn journal_path(&self) -> PathBuf {
        sibling(&self.path, ".journal")
    }

    fn dir(&self) -> &Path {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    fn lock_path(&self) -> PathBuf {
        sibling(&self.path, ".lock")
    }

    fn lock_info_path(&self) -> PathBuf {
        sibling(&self.path, ".lock.info")
    }

    /// The document with its journal replayed: exactly what the last run made durable.
    pub fn read(&self) -> anyhow::Result<Option<State>> {
        let origin = self.path.display().to_string();
        let mut state = match File::open(&self.path) {
            Ok(f) => {
                let mut r = std::io::BufReader::with_capacity(1 << 16, f);
                let sealed = crypt::looks_sealed(r.fill_buf().unwrap_or_default());
                match (&self.crypt, sealed) {
                    (None, false) => State::parse_reader(r, &origin)?,
                    (None, true) => {
                        let mut bytes = vec![];
                        r.read_to_end(&mut bytes)?;
                        let head = crypt::sealed_head(&bytes).and_then(Result::ok);
                        return Err(crypt::not_configured(&origin, head.as_ref(), "state"));
                    }
                    (Some(c), false) => {
                        c.check_plain(&origin)?;
                        State::parse_reader(r, &origin)?
                    }
                    (Some(c), true) => {
                        let mut bytes = vec![];
                        r.read_to_end(&mut bytes)
                            .map_err(|e| anyhow::anyhow!("cannot read state file {origin}: {e}"))?;
                        let plain = zeroize::Zeroizing::new(c.open(bytes, "state", &origin)?);
                        State::parse_reader(&plain[..], &origin)?
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "cannot read state file {}: {e}",
                    self.path.display()
                ));
            }
        };
        let jp = self.journal_path();
        match std::fs::read_to_string(&jp) {
            Ok(text) => {
                replay_lines_with(
                    &mut state,
                    &text,
                    &jp.display().to_string(),
                    self.crypt.as_deref(),
                )
                .map_err(|e| {
                    match self.journal_key_error.lock().ok().and_then(|s| s.clone()) {
                        Some(why) => anyhow::anyhow!(why),
                        None => e,
                    }
                })?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => anyhow::bail!("cannot read state journal {}: {e}", jp.display()),
        }
        Ok(Some(state))
    }

    /// Writes the whole document atomically: a crash leaves either the old or the new
    /// file, never a half-written one. The file is created 0600 (it may hold secrets).
    /// The journal of the previous document is removed afterwards (a crash in between
    /// leaves a journal that names the previous serial, which readers ignore).
    pub fn write(&self, state: &State) -> anyhow::Result<()> {
        let len = self.write_document(&self.path, state)?;
        super::stats::record(len as usize, true);
        let mut j = self
            .journal
            .lock()
            .map_err(|_| anyhow::anyhow!("state journal lock poisoned"))?;
        j.file = None;
        j.bytes = 0;
        j.document_bytes = len;
        j.header = Some(Header {
            encryption: match &self.crypt {
                Some(c) => c.write_head()?,
                None => None,
            },
            ..Header::for_state(state)
        });
        match std::fs::remove_file(self.journal_path()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => anyhow::bail!(
                "cannot remove the old state journal {}: {e}",
                self.journal_path().display()
            ),
        }
        Ok(())
    }

    /// Appends one batch to the journal of the document last written, and fsyncs it.
    pub fn append(&self, batch: &Batch) -> anyhow::Result<bool> {
        let mut j = self
            .journal
            .lock()
            .map_err(|_| anyhow::anyhow!("state journal lock poisoned"))?;
        let Some(header) = j.header.clone() else {
            anyhow::bail!("internal error: a state journal batch before its document was written");
        };
        let jp = self.journal_path();
        let fail = |e: std::io::Error| {
            anyhow::anyhow!("cannot append to the state journal {}: {e}", jp.display())
        };
        if j.file.is_none() {
            let mut f = OpenOptions::new()
                .append(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(&jp)
                .map_err(fail)?;
            let mut line = serde_json::to_string(&header)?;
            line.push('\n');
            f.write_all(line.as_bytes()).map_err(fail)?;
            f.sync_all().map_err(fail)?;
            File::open(self.dir())
                .and_then(|d| d.sync_all())
                .map_err(fail)?;
            j.bytes += line.len() as u64;
            j.file = Some(f);
        }
        let mut line = match (&header.encryption, &self.crypt) {
            (Some(_), Some(c)) => {
                let mut plain = serde_json::to_vec(batch)?;
                let sealed = c.seal_line(&plain);
                zeroize::Zeroize::zeroize(&mut plain);
                serde_json::to_string(&sealed?)?
            }
            _ => serde_json::to_string(batch)?,
        };
        line.push('\n');
        if let Some(f) = j.file.as_mut() {
            f.write_all(line.as_bytes()).map_err(fail)?;
            f.sync_data().map_err(fail)?;
        }
        j.bytes += line.len() as u64;
        super::stats::record(line.len(), false);
        Ok(j.bytes >= j.document_bytes.max(MIN_COMPACT_BYTES))
    }

    /// Keeps the state as it was before this run at `<path>.backup` (journal included).
    pub fn backup(&self) -> anyhow::Result<()> {
        if let Some(state) = self.read()? {
            let b = sibling(&self.path, ".backup");
            self.write_document(&b, &state)
                .map_err(|e| anyhow::anyhow!("cannot back up state to {}: {e:#}", b.display()))?;
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

/// Counts what goes through it.
struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes what `fill` produces to `path` atomically: temp file, fsync, rename, fsync of
/// the directory; created 0600. Returns the length written.
fn write_atomically_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<u64> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let tmp = sibling(path, &format!(".tmp-{}", std::process::id()));
    let result = (|| -> std::io::Result<u64> {
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        let mut w = Counting {
            inner: std::io::BufWriter::with_capacity(1 << 16, f),
            bytes: 0,
        };
        fill(&mut w)?;
        let bytes = w.bytes;
        let f = w.inner.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()?;
        Ok(bytes)
    })();
    match result {
        Ok(n) => Ok(n),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            anyhow::bail!("cannot write state file {}: {e}", path.display());
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

    fn thing(addr: &str) -> crate::state::ResourceState {
        let mut attrs = serde_json::Map::new();
        attrs.insert("id".into(), addr.into());
        crate::state::ResourceState::managed(addr.parse().unwrap(), attrs)
    }

    fn put(serial: u64, addr: &str) -> Batch {
        Batch {
            serial,
            records: vec![crate::state::Record::Put {
                resource: thing(addr),
            }],
        }
    }

    #[test]
    fn journal_batches_are_replayed_until_the_next_document() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("state.json"));
        let mut s = State::new();
        s.serial = 1;
        b.write(&s).unwrap();
        assert!(!b.append(&put(2, "aws_iot_thing.a[0]")).unwrap());
        assert!(!b.append(&put(3, "aws_iot_thing.a[1]")).unwrap());
        let mode = std::fs::metadata(b.journal_path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "the journal may hold secrets too");
        // A second reader (the next run) sees document + journal.
        let other = LocalBackend::new(b.path.clone());
        let back = other.read().unwrap().unwrap();
        assert_eq!(back.serial, 3);
        assert_eq!(back.resources.len(), 2);
        // The document on disk is unchanged: only the journal grew.
        let doc = State::parse(&std::fs::read_to_string(&b.path).unwrap(), "d").unwrap();
        assert_eq!(doc.resources.len(), 0);
        // Compaction folds the journal in and removes it.
        b.write(&back).unwrap();
        assert!(!b.journal_path().exists());
        assert_eq!(other.read().unwrap().unwrap().resources.len(), 2);
        // A journal left by a crash between compaction and its removal is ignored.
        b.append(&put(4, "aws_iot_thing.a[2]")).unwrap();
        let stale = std::fs::read_to_string(b.journal_path()).unwrap();
        let mut newer = other.read().unwrap().unwrap();
        newer.serial = 4;
        b.write(&newer).unwrap();
        std::fs::write(b.journal_path(), stale).unwrap();
        let after = other.read().unwrap().unwrap();
        assert_eq!(after.serial, 4);
        assert_eq!(after.resources.len(), 3);
    }

    #[test]
    fn a_crash_mid_append_loses_only_the_unacknowledged_batch() {
        let dir = tempfile::tempdir().unwrap();
        let b = LocalBackend::new(dir.path().join("state.json"));
        b.write(&State::new()).unwrap();
        b.append(&put(1, "aws_iot_thing.a[0]")).unwrap();
        b.append(&put(2, "aws_iot_thing.a[1]")).unwrap();
        let text = std::fs::read_to_string(b.journal_path()).unwrap();
        std::fs::write(b.journal_path(), &text[..text.len() - 7]).unwrap();
        let s = LocalBackend::new(b.path.clone()).read().unwrap().unwrap();
        assert_eq!(s.serial, 1);
        assert_eq!(
            s.iter().map(|r| r.address.to_string()).collect::<Vec<_>>(),
            vec!["aws_iot_thing.a[0]"]
        );
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
        held.unlock().unwrap();
        assert!(
            !b.lock_info_path().exists(),
            "unlock removes the lock-info file"
        );
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
