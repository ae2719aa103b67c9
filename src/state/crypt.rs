//! Encryption at rest for state documents, journal records and saved plans (OpenTofu's
//! `terraform { encryption {} }` model): a [`Crypt`] seals bytes with AES-256-GCM
//! (`aes-gcm`) under a data key from a [`KeyProvider`] — a passphrase through PBKDF2
//! ([`Pbkdf2`]) or a KMS data key (implemented in the backend layer) — and opens what it,
//! or a `fallback` method, sealed.
//!
//! A sealed document is a JSON envelope: a clear [`Head`] (method, key provider and the
//! provider's metadata: PBKDF2's salt and iterations, KMS's wrapped data key), then
//! `encrypted_data`, base64 of nonce ‖ ciphertext ‖ tag. The head and the purpose
//! (`state`, `journal`, `plan`) are the AES-GCM associated data, so a modified head, a
//! swapped file or a wrong key all fail authentication — a clear error, never a silent
//! fresh state. Plain input is accepted only where an `unencrypted` method is the method
//! or a fallback (migration, OpenTofu's rule). Keys never appear in messages.
//!
//! Keys are fetched asynchronously (KMS is a network call) by [`Crypt::unlock`] and
//! [`Crypt::prepare_write`], then used by the synchronous [`Crypt::seal`]/[`Crypt::open`]
//! the local backend's file I/O calls.

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{Aead, OsRng, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

pub const ENVELOPE_VERSION: u32 = 1;
/// Every sealed document starts with these bytes (the head's first field).
const MARKER: &[u8] = b"{\"thingform_encryption\":";
const NONCE_LEN: usize = 12;

/// How a blob was sealed; stored in clear beside it and authenticated with it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Head {
    pub thingform_encryption: u32,
    /// The method's address in the configuration: `aes_gcm.NAME`.
    pub method: String,
    /// The key provider's address: `pbkdf2.NAME`, `aws_kms.NAME`.
    pub key_provider: String,
    /// What the key provider needs to find the key again (never the key).
    pub key_meta: Json,
    /// Saved plans only: the stack whose configuration holds the encryption block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_dir: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    #[serde(flatten)]
    head: Head,
    encrypted_data: String,
}

/// A 256-bit data key, wiped from memory when dropped.
pub type KeyBytes = Zeroizing<[u8; 32]>;

/// Where data keys come from.
#[async_trait]
pub trait KeyProvider: Send + Sync {
    /// `TYPE.NAME`, as the configuration addresses it.
    fn name(&self) -> &str;
    /// A key to encrypt with, and the metadata stored beside the data to get it back.
    async fn encryption_key(&self) -> anyhow::Result<(KeyBytes, Json)>;
    /// The key `meta` names. A wrong key is found out by the decryption, not here.
    async fn decryption_key(&self, meta: &Json) -> anyhow::Result<KeyBytes>;
    /// Whether a key read back may encrypt again (PBKDF2: same passphrase and salt, and
    /// the derivation is deliberately slow). KMS hands out a fresh data key per run.
    fn reuse_for_writing(&self) -> bool {
        false
    }
}

/// A `method` block.
#[derive(Clone)]
pub enum Method {
    Unencrypted {
        name: String,
    },
    AesGcm {
        name: String,
        keys: Arc<dyn KeyProvider>,
    },
}

impl Method {
    /// `TYPE.NAME`.
    pub fn address(&self) -> String {
        match self {
            Method::Unencrypted { name } => format!("unencrypted.{name}"),
            Method::AesGcm { name, .. } => format!("aes_gcm.{name}"),
        }
    }
}

/// The `state {}` or `plan {}` settings: the method that writes, and those that may read.
pub struct Crypt {
    /// `state` or `plan`, for messages.
    pub what: &'static str,
    method: Method,
    fallbacks: Vec<Method>,
    write_key: Mutex<Option<(Head, KeyBytes)>>,
    read_keys: Mutex<HashMap<String, KeyBytes>>,
}

/// Whether `bytes` is a sealed envelope (and its head, if it parses).
pub fn sealed_head(bytes: &[u8]) -> Option<anyhow::Result<Head>> {
    if !bytes.starts_with(MARKER) {
        return None;
    }
    // The head is small and comes first; only the envelope as a whole is JSON.
    Some(
        serde_json::from_slice::<Envelope>(bytes)
            .map(|e| e.head)
            .map_err(|e| anyhow::anyhow!("its encryption envelope is damaged ({e})")),
    )
}

/// Whether a file starts like a sealed envelope (from its first bytes).
pub fn looks_sealed(prefix: &[u8]) -> bool {
    prefix.starts_with(MARKER)
}

/// The error for sealed input where no encryption is configured.
pub fn not_configured(origin: &str, head: Option<&Head>, what: &str) -> anyhow::Error {
    let how = head
        .map(|h| format!(" (method {}, key provider {})", h.method, h.key_provider))
        .unwrap_or_default();
    anyhow::anyhow!(
        "{origin} is encrypted{how}, but this stack configures no {what} encryption; restore the `terraform {{ encryption {{ {what} {{ ... }} }} }}` block (and its key) that wrote it. Nothing was changed"
    )
}

fn aad(purpose: &str, head: &Head) -> Vec<u8> {
    let mut a = format!("thingform/{purpose}/v1\n").into_bytes();
    a.extend(serde_json::to_vec(head).unwrap_or_default());
    a
}

fn cipher(key: &KeyBytes) -> Aes256Gcm {
    Aes256Gcm::new(aes_gcm::Key::<Aes256Gcm>::from_slice(&key[..]))
}

impl Crypt {
    pub fn new(what: &'static str, method: Method, fallbacks: Vec<Method>) -> Crypt {
        Crypt {
            what,
            method,
            fallbacks,
            write_key: Mutex::new(None),
            read_keys: Mutex::new(HashMap::new()),
        }
    }

    /// The same settings for another kind of file (saved plans without a `plan {}`
    /// block follow the state's: a plan holds the state).
    pub fn same_for(&self, what: &'static str) -> Crypt {
        Crypt::new(what, self.method.clone(), self.fallbacks.clone())
    }

    /// Whether writes are encrypted (the method is not `unencrypted`).
    pub fn encrypts(&self) -> bool {
        matches!(self.method, Method::AesGcm { .. })
    }

    /// Whether plain input is accepted (an `unencrypted` method or fallback: migration).
    pub fn reads_plain(&self) -> bool {
        std::iter::once(&self.method)
            .chain(&self.fallbacks)
            .any(|m| matches!(m, Method::Unencrypted { .. }))
    }

    /// Checks plain input: accepted only during a migration.
    pub fn check_plain(&self, origin: &str) -> anyhow::Result<()> {
        if self.reads_plain() {
            return Ok(());
        }
        anyhow::bail!(
            "{origin} is not encrypted, but the {what} encryption of this stack ({}) requires it. To encrypt an existing plain {what}, add `method \"unencrypted\" \"migrate\" {{}}` and `fallback {{ method = method.unencrypted.migrate }}` to the `{what}` block for one run; it is encrypted on the next write. Nothing was changed",
            self.method.address(),
            what = self.what
        )
    }

    fn lock<T>(m: &Mutex<T>) -> anyhow::Result<std::sync::MutexGuard<'_, T>> {
        m.lock()
            .map_err(|_| anyhow::anyhow!("encryption key cache poisoned"))
    }

    /// Makes sure the key that encrypts this run's writes is at hand (one KMS
    /// GenerateDataKey or one PBKDF2 derivation per run, none if a PBKDF2 key was just
    /// derived to read).
    pub async fn prepare_write(&self) -> anyhow::Result<()> {
        let Method::AesGcm { keys, .. } = &self.method else {
            return Ok(());
        };
        if Self::lock(&self.write_key)?.is_some() {
            return Ok(());
        }
        let method = self.method.address();
        if keys.reuse_for_writing() {
            let cache = Self::lock(&self.read_keys)?;
            for (h, k) in cache.iter() {
                if let Ok(head) = serde_json::from_str::<Head>(h)
                    && head.method == method
                    && head.key_provider == keys.name()
                {
                    let head = Head {
                        stack_dir: None,
                        ..head
                    };
                    *Self::lock(&self.write_key)? = Some((head, k.clone()));
                    return Ok(());
                }
            }
        }
        let (key, meta) = keys.encryption_key().await.map_err(|e| {
            anyhow::anyhow!(
                "cannot get a key to encrypt the {} from key provider {}: {e:#}",
                self.what,
                keys.name()
            )
        })?;
        let head = Head {
            thingform_encryption: ENVELOPE_VERSION,
            method,
            key_provider: keys.name().to_string(),
            key_meta: meta,
            stack_dir: None,
        };
        // What this run writes, it can read back (the backup reads the new document).
        Self::lock(&self.read_keys)?.insert(Self::cache_key(&head), key.clone());
        *Self::lock(&self.write_key)? = Some((head, key));
        Ok(())
    }

    /// The head this run writes with (for a journal's header), once prepared.
    pub fn write_head(&self) -> anyhow::Result<Option<Head>> {
        if !self.encrypts() {
            return Ok(None);
        }
        match &*Self::lock(&self.write_key)? {
            Some((h, _)) => Ok(Some(h.clone())),
            None => anyhow::bail!(
                "internal error: the {} encryption key was not prepared before a write",
                self.what
            ),
        }
    }

    fn with_write_key<T>(&self, f: impl FnOnce(&Head, &KeyBytes) -> T) -> anyhow::Result<T> {
        match &*Self::lock(&self.write_key)? {
            Some((h, k)) => Ok(f(h, k)),
            None => anyhow::bail!(
                "internal error: the {} encryption key was not prepared before a write",
                self.what
            ),
        }
    }

    fn encrypt(key: &KeyBytes, plain: &[u8], aad: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let ct = cipher(key)
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
            .map_err(|_| anyhow::anyhow!("AES-GCM encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend(ct);
        Ok(out)
    }

    /// Seals `plain` as an envelope (`stack_dir` goes into the head of saved plans).
    /// Plain in, plain out when the method is `unencrypted`.
    pub fn seal(
        &self,
        plain: &[u8],
        purpose: &str,
        stack_dir: Option<&str>,
    ) -> anyhow::Result<Vec<u8>> {
        if !self.encrypts() {
            return Ok(plain.to_vec());
        }
        self.with_write_key(|h, k| {
            let head = Head {
                stack_dir: stack_dir.map(str::to_string),
                ..h.clone()
            };
            let data = Self::encrypt(k, plain, &aad(purpose, &head))?;
            let env = Envelope {
                head,
                encrypted_data: B64.encode(data),
            };
            let mut out = serde_json::to_vec(&env)?;
            out.push(b'\n');
            Ok(out)
        })?
    }

    /// Seals one journal line under the head of [`Crypt::write_head`]: base64 only.
    pub fn seal_line(&self, plain: &[u8]) -> anyhow::Result<String> {
        self.with_write_key(|h, k| {
            Self::encrypt(k, plain, &aad("journal", h)).map(|d| B64.encode(d))
        })?
    }

    fn method_for(&self, head: &Head) -> Option<&Arc<dyn KeyProvider>> {
        std::iter::once(&self.method)
            .chain(&self.fallbacks)
            .find_map(|m| match m {
                Method::AesGcm { keys, .. }
                    if m.address() == head.method && keys.name() == head.key_provider =>
                {
                    Some(keys)
                }
                _ => None,
            })
    }

    fn cache_key(head: &Head) -> String {
        let h = Head {
            stack_dir: None,
            ..head.clone()
        };
        serde_json::to_string(&h).unwrap_or_default()
    }

    /// Fetches the key `head` names (from the method or a fallback), for [`Crypt::open`].
    pub async fn unlock(&self, head: &Head, origin: &str) -> anyhow::Result<()> {
        if head.thingform_encryption > ENVELOPE_VERSION {
            anyhow::bail!(
                "{origin} was encrypted by a newer thingform (envelope version {}); upgrade thingform",
                head.thingform_encryption
            );
        }
        let ck = Self::cache_key(head);
        if Self::lock(&self.read_keys)?.contains_key(&ck) {
            return Ok(());
        }
        let Some(keys) = self.method_for(head) else {
            let mut known: Vec<String> = std::iter::once(&self.method)
                .chain(&self.fallbacks)
                .map(|m| match m {
                    Method::AesGcm { keys, .. } => format!("{} with {}", m.address(), keys.name()),
                    Method::Unencrypted { .. } => m.address(),
                })
                .collect();
            known.dedup();
            anyhow::bail!(
                "{origin} was encrypted with method {} and key provider {}, which the {} block of this stack neither uses nor lists as a fallback (it has: {}). Add them back (as a `fallback`) to read it. Nothing was changed",
                head.method,
                head.key_provider,
                self.what,
                known.join(", ")
            );
        };
        let key = keys.decryption_key(&head.key_meta).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot get the key of {origin} from key provider {}: {e:#}. Nothing was changed",
                head.key_provider
            )
        })?;
        Self::lock(&self.read_keys)?.insert(ck, key);
        Ok(())
    }

    fn decrypt(
        &self,
        head: &Head,
        data_b64: &str,
        purpose: &str,
        origin: &str,
    ) -> anyhow::Result<Vec<u8>> {
        let cache = Self::lock(&self.read_keys)?;
        let Some(key) = cache.get(&Self::cache_key(head)) else {
            anyhow::bail!("internal error: the key of {origin} was not unlocked before reading");
        };
        let fail = || {
            anyhow::anyhow!(
                "cannot decrypt {origin}: the key from {} does not match it, or the file was modified (AES-GCM authentication failed). Check the passphrase or KMS key; nothing was changed",
                head.key_provider
            )
        };
        let data = B64.decode(data_b64.trim()).map_err(|_| fail())?;
        if data.len() < NONCE_LEN + 16 {
            return Err(fail());
        }
        let (nonce, ct) = data.split_at(NONCE_LEN);
        cipher(key)
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: &aad(purpose, head),
                },
            )
            .map_err(|_| fail())
    }

    /// Opens what [`Crypt::seal`] made (its key unlocked first), or checks that plain
    /// input is allowed and returns it.
    pub fn open(&self, bytes: Vec<u8>, purpose: &str, origin: &str) -> anyhow::Result<Vec<u8>> {
        if !bytes.starts_with(MARKER) {
            self.check_plain(origin)?;
            return Ok(bytes);
        }
        let env: Envelope = serde_json::from_slice(&bytes)
            .map_err(|e| anyhow::anyhow!("{origin}: its encryption envelope is damaged ({e})"))?;
        self.decrypt(&env.head, &env.encrypted_data, purpose, origin)
    }

    /// [`Crypt::unlock`] then [`Crypt::open`].
    pub async fn open_async(
        &self,
        bytes: Vec<u8>,
        purpose: &str,
        origin: &str,
    ) -> anyhow::Result<Vec<u8>> {
        if let Some(head) = sealed_head(&bytes) {
            let head = head.map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
            self.unlock(&head, origin).await?;
        }
        self.open(bytes, purpose, origin)
    }

    /// Opens one journal line sealed by [`Crypt::seal_line`] under `head`.
    pub fn open_line(&self, head: &Head, line: &str, origin: &str) -> anyhow::Result<Vec<u8>> {
        self.decrypt(head, line, "journal", origin)
    }
}

/// The `pbkdf2` key provider: a 256-bit key derived from a passphrase (at least 16
/// characters) and a random salt with PBKDF2-HMAC (aws-lc-rs), OpenTofu's defaults.
pub struct Pbkdf2 {
    name: String,
    passphrase: Zeroizing<String>,
    iterations: u32,
    hash: Hash,
    salt_length: usize,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Hash {
    Sha256,
    Sha512,
}

impl Hash {
    pub fn parse(s: &str) -> Option<Hash> {
        match s {
            "sha256" => Some(Hash::Sha256),
            "sha512" => Some(Hash::Sha512),
            _ => None,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            Hash::Sha256 => "sha256",
            Hash::Sha512 => "sha512",
        }
    }
}

pub const PBKDF2_MIN_ITERATIONS: u32 = 200_000;
pub const PBKDF2_DEFAULT_ITERATIONS: u32 = 600_000;
/// A head asking for more is refused (it would only burn CPU).
const PBKDF2_MAX_ITERATIONS: u64 = 50_000_000;
pub const PBKDF2_MIN_PASSPHRASE: usize = 16;

impl Pbkdf2 {
    pub fn new(
        name: &str,
        passphrase: String,
        iterations: u32,
        hash: Hash,
        salt_length: usize,
    ) -> Pbkdf2 {
        Pbkdf2 {
            name: format!("pbkdf2.{name}"),
            passphrase: Zeroizing::new(passphrase),
            iterations,
            hash,
            salt_length,
        }
    }

    fn derive(&self, salt: &[u8], iterations: u32, hash: Hash) -> anyhow::Result<KeyBytes> {
        let alg = match hash {
            Hash::Sha256 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
            Hash::Sha512 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA512,
        };
        let n = std::num::NonZeroU32::new(iterations)
            .ok_or_else(|| anyhow::anyhow!("PBKDF2 iterations must be positive"))?;
        let mut key = Zeroizing::new([0u8; 32]);
        aws_lc_rs::pbkdf2::derive(alg, n, salt, self.passphrase.as_bytes(), &mut key[..]);
        Ok(key)
    }
}

#[async_trait]
impl KeyProvider for Pbkdf2 {
    fn name(&self) -> &str {
        &self.name
    }
    async fn encryption_key(&self) -> anyhow::Result<(KeyBytes, Json)> {
        let mut salt = vec![0u8; self.salt_length];
        OsRng.fill_bytes(&mut salt);
        let key = self.derive(&salt, self.iterations, self.hash)?;
        Ok((
            key,
            json!({"salt": B64.encode(&salt), "iterations": self.iterations, "hash_function": self.hash.as_str()}),
        ))
    }
    async fn decryption_key(&self, meta: &Json) -> anyhow::Result<KeyBytes> {
        let bad = || anyhow::anyhow!("its PBKDF2 parameters are damaged");
        let salt = meta
            .get("salt")
            .and_then(Json::as_str)
            .and_then(|s| B64.decode(s).ok())
            .ok_or_else(bad)?;
        let iterations = meta
            .get("iterations")
            .and_then(Json::as_u64)
            .filter(|n| (1..=PBKDF2_MAX_ITERATIONS).contains(n))
            .ok_or_else(bad)?;
        let hash = meta
            .get("hash_function")
            .and_then(Json::as_str)
            .and_then(Hash::parse)
            .ok_or_else(bad)?;
        self.derive(&salt, iterations as u32, hash)
    }
    fn reuse_for_writing(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;
