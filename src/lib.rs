//! thingform: a Terraform-style deployer for AWS IoT pipelines.
//!
//! Layers, each knowing only those below it: `cli` -> `backend` (where the state lives,
//! its locking) and `engine` -> `graph`, `state`, `config` -> `provider`. See
//! ARCHITECTURE.md.

pub mod address;
pub mod backend;
pub mod build;
pub mod cli;
pub mod config;
pub mod diag;
pub mod engine;
pub mod graph;
pub mod provider;
pub mod state;
pub mod value;

mod layering;
