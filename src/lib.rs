//! thingform: a Terraform-style deployer for AWS IoT pipelines.
//!
//! Layers, each knowing only those drawn below it in ARCHITECTURE.md (and checked by
//! `layering.rs`): `cli` -> `backend`, `engine` -> `config`, `state` -> `provider` ->
//! `build` -> the shared `value`, `address`, `diag` and `graph`.

pub mod address;
pub mod audit;
pub mod backend;
pub mod build;
pub mod cli;
pub mod config;
pub mod diag;
pub mod engine;
pub mod fmt;
pub mod graph;
pub mod iotsql;
pub mod provider;
pub mod state;
pub mod testing;
pub mod value;
pub mod view;

mod layering;
