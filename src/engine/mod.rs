//! The engine: plan (refresh + diff) and apply/destroy (the DAG walk).
//!
//! It orders and runs operations through the [`Cloud`](crate::provider::cloud::Cloud)
//! seam (AWS, or the in-memory fake cloud in tests) and keeps state current; it never names an AWS SDK type and never prints: it reports progress
//! through [`Ui`] and returns values the CLI renders.

pub mod apply;
pub mod diff;
pub mod plan;

pub use apply::{ApplyOptions, ApplyReport, apply};
pub use plan::{Action, Plan, PlanOptions, ResourceChange, plan};

#[cfg(test)]
mod lifecycle_tests;
#[cfg(test)]
mod tests;

use crate::address::Address;

/// Progress events, rendered by the CLI.
#[derive(Clone, Debug)]
pub enum Event {
    Refreshing(Address),
    Recovered {
        address: Address,
        id: String,
    },
    Started {
        address: Address,
        action: Action,
    },
    StillWorking {
        address: Address,
        action: Action,
        elapsed_secs: u64,
    },
    /// A package (a Lambda crate) is being built for the operation on `address`.
    Building {
        address: Address,
        source: String,
    },
    Built {
        address: Address,
        source: String,
        elapsed_secs: u64,
    },
    Completed {
        address: Address,
        action: Action,
        elapsed_secs: u64,
        id: Option<String>,
    },
    Failed {
        address: Address,
        action: Action,
        error: String,
    },
    Skipped {
        address: Address,
        because: Address,
    },
    Warning(String),
    Interrupted,
}

pub trait Ui: Send + Sync {
    fn event(&self, e: Event);
}

/// A Ui that drops every event (tests, -json).
pub struct Silent;

impl Ui for Silent {
    fn event(&self, _e: Event) {}
}
