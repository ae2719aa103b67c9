//! Test doubles for the state layer's remote traits (unit tests only).

use super::remote::{Condition, ObjectStore, PutError};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// An object store in memory with S3's conditional-write semantics.
#[derive(Default)]
pub struct MemStore {
    pub objects: Mutex<BTreeMap<String, (Vec<u8>, u64)>>,
    /// Every delete fails while this is set (an unreachable store).
    pub fail_deletes: AtomicBool,
}

impl MemStore {
    pub fn keys(&self) -> Vec<String> {
        self.objects.lock().unwrap().keys().cloned().collect()
    }
}

#[async_trait]
impl ObjectStore for MemStore {
    async fn get(&self, key: &str) -> anyhow::Result<Option<(Vec<u8>, String)>> {
        Ok(self
            .objects
            .lock()
            .unwrap()
            .get(key)
            .map(|(b, v)| (b.clone(), v.to_string())))
    }
    async fn put(&self, key: &str, body: Vec<u8>, cond: Condition) -> Result<String, PutError> {
        let mut m = self.objects.lock().unwrap();
        let cur = m.get(key).map(|(_, v)| v.to_string());
        match (&cond, &cur) {
            (Condition::IfAbsent, Some(_)) => return Err(PutError::PreconditionFailed),
            (Condition::IfMatch(v), c) if c.as_ref() != Some(v) => {
                return Err(PutError::PreconditionFailed);
            }
            _ => {}
        }
        let v = cur.and_then(|c| c.parse::<u64>().ok()).unwrap_or(0) + 1;
        m.insert(key.to_string(), (body, v));
        Ok(v.to_string())
    }
    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        if self.fail_deletes.load(Ordering::SeqCst) {
            anyhow::bail!("mem://{key}: the store is unreachable");
        }
        self.objects.lock().unwrap().remove(key);
        Ok(())
    }
    fn describe(&self, key: &str) -> String {
        format!("mem://{key}")
    }
}
