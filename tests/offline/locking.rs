//! The local state lock: a held lock fails fast and names its holder, and force-unlock
//! removes a record left by a process that died.

use crate::harness::*;

#[test]
fn a_held_lock_fails_fast_and_names_the_holder() {
    let stack = TestStack::new("resource \"aws_sns_topic\" \"t\" {\n  name = \"locked\"\n}\n");
    let be = thingform::state::local::LocalBackend::new(stack.state_path());
    let lock = be.lock("apply").expect("take the lock");
    let out = stack.run(&["plan"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("the state is locked"), "{err}");
    assert!(err.contains(&lock.info.id), "lock ID named: {err}");
    assert!(err.contains("Operation: apply"), "{err}");
    assert!(err.contains("force-unlock"), "{err}");
    drop(lock);
    stack.ok(&["plan"]);
}

#[test]
fn force_unlock_removes_a_stale_lock_record() {
    let stack = TestStack::new("resource \"aws_sns_topic\" \"t\" {\n  name = \"x\"\n}\n");
    let be = thingform::state::local::LocalBackend::new(stack.state_path());
    let lock = be.lock("apply").unwrap();
    let id = lock.info.id.clone();
    std::mem::forget(lock); // as if the process died without cleaning up its record
    let out = stack.run(&["force-unlock", "wrong-id"]);
    assert!(!out.status.success(), "a wrong lock ID is refused");
    stack.ok(&["force-unlock", &id]);
}
