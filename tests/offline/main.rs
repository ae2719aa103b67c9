//! Tests of the `thingform` binary that need no AWS: validation errors, cycles, bad
//! input, the dependency graph, locking and force-unlock. They run without an emulator
//! and this binary does not link the AWS SDK. Every run points AWS at a loopback
//! listener that counts connections, and fails if thingform made one.

mod browser;
mod harness;

mod audit;
mod config;
mod fmt;
mod functions;
mod fuzz;
mod hostile;
mod locking;
mod rules;
mod view;
