//! `thingform audit`: the Device Defender audit checks that can be decided from the stack
//! and its state, under AWS's check names and reason codes, plus pipeline checks no audit
//! has. `values.rs` evaluates the stack without AWS; `policy.rs` reads IAM and IoT policy
//! documents; `checks.rs` holds the checks.

pub mod values;
