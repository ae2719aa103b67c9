//! The lock-then-run helper: the lock is released on every path, and an unlock error is
//! handed back to the caller. `#[tokio::test]` runs a current-thread runtime, on which
//! the old `block_on`-in-`Drop` release panicked.

use super::*;
use crate::state::remote::ObjectStore;
use crate::state::testing::MemStore;
use std::sync::atomic::Ordering;

const LOCK_KEY: &str = "stack/state.json.tflock";

fn remote() -> (Arc<MemStore>, Backend) {
    let store = Arc::new(MemStore::default());
    let b = RemoteBackend::new(store.clone(), "stack/state.json".into(), None);
    (store, Backend::Remote(Arc::new(b)))
}

#[tokio::test]
async fn the_lock_is_held_during_the_run_and_released_after_success() {
    let (store, be) = remote();
    let run = be
        .locked(Some("apply"), async || {
            assert!(store.keys().contains(&LOCK_KEY.to_string()), "held");
            Ok(7)
        })
        .await;
    assert_eq!(run.result.unwrap(), 7);
    run.unlock.unwrap();
    assert!(store.keys().is_empty(), "released: {:?}", store.keys());
}

#[tokio::test]
async fn the_lock_is_released_after_a_failing_run() {
    let (store, be) = remote();
    let run = be
        .locked(Some("apply"), async || -> anyhow::Result<()> {
            anyhow::bail!("the apply failed")
        })
        .await;
    assert_eq!(run.result.unwrap_err().to_string(), "the apply failed");
    run.unlock.unwrap();
    assert!(store.keys().is_empty(), "released: {:?}", store.keys());
    // And it can be taken again.
    let again = be.locked(Some("plan"), async || Ok(())).await;
    again.result.unwrap();
    again.unlock.unwrap();
}

#[tokio::test]
async fn the_lock_is_released_after_a_panicking_run() {
    let (store, be) = remote();
    let caught = AssertUnwindSafe(be.locked(Some("apply"), async || -> anyhow::Result<()> {
        panic!("a bug in the run")
    }))
    .catch_unwind()
    .await;
    assert!(caught.is_err(), "the panic goes on to the caller");
    assert!(store.keys().is_empty(), "released: {:?}", store.keys());
}

#[tokio::test]
async fn an_unlock_error_is_returned_with_the_lock_id() {
    let (store, be) = remote();
    let mut held_id = String::new();
    let run = be
        .locked(Some("apply"), async || {
            let (body, _) = store.get(LOCK_KEY).await?.expect("lock object");
            held_id = serde_json::from_slice::<crate::state::LockInfo>(&body)?.id;
            store.fail_deletes.store(true, Ordering::SeqCst);
            Ok("done")
        })
        .await;
    assert_eq!(run.result.unwrap(), "done", "the run's own result is kept");
    let err = run.unlock.unwrap_err();
    assert_eq!(err.id, held_id);
    assert!(err.cause.to_string().contains("unreachable"), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "could not release the state lock {held_id} (mem://{LOCK_KEY}: the store is unreachable); remove it with `thingform force-unlock {held_id}`"
        )
    );
    assert_eq!(store.keys(), vec![LOCK_KEY.to_string()], "the lock stays");
}

#[tokio::test]
async fn a_held_lock_stops_the_run_before_it_starts() {
    let (_store, be) = remote();
    let guard = be.lock("apply").await.unwrap();
    let mut started = false;
    let run = be
        .locked(Some("plan"), async || {
            started = true;
            Ok(())
        })
        .await;
    let err = run.result.unwrap_err();
    assert!(
        matches!(err.downcast_ref::<LockError>(), Some(LockError::Held(_))),
        "{err}"
    );
    assert!(!started);
    run.unlock.unwrap();
    guard.unlock().await.unwrap();
}

#[tokio::test]
async fn without_lock_nothing_is_locked() {
    let (store, be) = remote();
    let run = be
        .locked(None, async || {
            assert!(store.keys().is_empty());
            Ok(())
        })
        .await;
    run.result.unwrap();
    run.unlock.unwrap();
}

#[tokio::test]
async fn a_local_lock_is_released_after_a_failing_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let be = Backend::Local(Arc::new(LocalBackend::new(path.clone())));
    let info = dir.path().join("state.json.lock.info");
    let run = be
        .locked(Some("apply"), async || -> anyhow::Result<()> {
            assert!(info.exists(), "held");
            anyhow::bail!("failed")
        })
        .await;
    assert!(run.result.is_err());
    run.unlock.unwrap();
    assert!(!info.exists(), "released");
    let other = LocalBackend::new(path);
    other.lock("plan").unwrap().unlock().unwrap();
}

#[tokio::test]
async fn state_edits_back_up_then_write_a_new_serial() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let be = Backend::Local(Arc::new(LocalBackend::new(path.clone())));
    let mut st = State::new();
    be.write(&st).await.unwrap();
    be.write_new_serial(&mut st).await.unwrap();
    assert_eq!(st.serial, 1);
    assert_eq!(be.read().await.unwrap().unwrap().serial, 1);
    let backup = std::fs::read_to_string(dir.path().join("state.json.backup")).unwrap();
    assert_eq!(State::parse(&backup, "b").unwrap().serial, 0);
}
