//! Plan: refresh every instance in state from AWS, evaluate the stack in dependency
//! order, and diff each instance. The result is a value that can be rendered, saved and
//! applied exactly.

mod checks;
pub mod moves;
mod refresh;
mod walk;
mod wire;

pub use checks::{CheckResult, CheckStatus, FAILED, KNOWN_AFTER_APPLY, run_checks};
pub use refresh::{import_object, refresh};
pub use walk::plan;

use crate::address::{Address, ResourceId};
use crate::state::{ResourceState, State};
use crate::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Create,
    Update,
    DeleteThenCreate,
    CreateThenDelete,
    Delete,
}

impl Action {
    /// Terraform's `actions` list.
    pub fn terraform_actions(self) -> Vec<&'static str> {
        match self {
            Action::NoOp => vec!["no-op"],
            Action::Create => vec!["create"],
            Action::Update => vec!["update"],
            Action::DeleteThenCreate => vec!["delete", "create"],
            Action::CreateThenDelete => vec!["create", "delete"],
            Action::Delete => vec!["delete"],
        }
    }
    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }
}

/// One planned change. In memory the planned object is a typed [`Value`] (with
/// `Unknown` for what is known only after apply); saved plans and `-json` carry it as
/// Terraform does, `after` (unknowns as null) beside its `after_unknown` mask (see `wire`).
#[derive(Clone, Debug)]
pub struct ResourceChange {
    pub address: Address,
    pub rtype: String,
    pub action: Action,
    /// The refreshed prior object (null when creating).
    pub before: Json,
    /// The planned object (null when deleting, and for a no-op, whose object is the
    /// refreshed state's).
    pub after: Value,
    /// Top-level attributes that differ.
    pub changed: Vec<String>,
    /// Attributes whose change forces the replacement.
    pub replace_paths: Vec<String>,
    pub reason: Option<String>,
    /// Resources this one depends on (config references, or state for orphans): every
    /// instance of each. Recorded by resource so a fleet's plan and state stay linear.
    pub depends_on: Vec<ResourceId>,
    /// Set when the plan imports this object (the id it is imported by).
    pub importing: Option<String>,
    /// For a deposed object left by an interrupted create_before_destroy.
    pub deposed: bool,
    pub notes: Vec<String>,
    /// The aliased provider configuration that manages it (None: the default).
    pub provider: Option<String>,
}

impl ResourceChange {
    /// The planned object (a copy; the engine reads `after` in place).
    pub fn planned_value(&self) -> Value {
        self.after.clone()
    }
    /// Which parts of the planned object are known only after apply (`-json`'s mask).
    pub fn after_unknown(&self) -> Json {
        self.after.unknown_mask()
    }
}

/// Rebuilds a value from its JSON and its unknown mask.
pub fn with_unknowns(j: &Json, mask: &Json) -> Value {
    match mask {
        Json::Bool(true) => Value::Unknown,
        Json::Object(m) => match j {
            Json::Object(o) => {
                let mut keys: BTreeSet<&String> = o.keys().collect();
                keys.extend(m.keys());
                Value::Map(
                    keys.into_iter()
                        .map(|k| {
                            (
                                k.clone(),
                                with_unknowns(
                                    o.get(k).unwrap_or(&Json::Null),
                                    m.get(k).unwrap_or(&Json::Bool(false)),
                                ),
                            )
                        })
                        .collect(),
                )
            }
            _ => Value::from_json(j),
        },
        Json::Array(ms) => match j {
            Json::Array(items) => Value::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| with_unknowns(x, ms.get(i).unwrap_or(&Json::Bool(false))))
                    .collect(),
            ),
            _ => Value::from_json(j),
        },
        _ => Value::from_json(j),
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OutputChange {
    pub name: String,
    pub before: Option<Json>,
    pub after: Json,
    pub after_unknown: bool,
    pub sensitive: bool,
    pub changed: bool,
}

/// An attribute that changed in AWS since the last apply.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Drift {
    pub address: Address,
    /// Empty when the object was deleted outside thingform.
    pub attributes: Vec<String>,
    pub deleted: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub thingform_version: String,
    pub stack_dir: std::path::PathBuf,
    pub config_hash: String,
    pub workspace: String,
    pub variables: BTreeMap<String, Json>,
    pub state_lineage: String,
    pub state_serial: u64,
    pub destroy: bool,
    pub changes: Vec<ResourceChange>,
    pub outputs: Vec<OutputChange>,
    pub drift: Vec<Drift>,
    pub warnings: Vec<String>,
    /// The state after refresh; apply starts from it.
    pub refreshed: State,
    /// Data source results read during plan, by address.
    #[serde(default)]
    pub data: BTreeMap<String, Json>,
    /// A refresh-only plan: it only records drift in the state.
    #[serde(default)]
    pub refresh_only: bool,
    /// The results of the `check` blocks at the end of this plan (warnings only).
    #[serde(default)]
    pub checks: Vec<CheckResult>,
    /// Instances `moved {}` blocks re-addressed (already so in `refreshed`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moves: Vec<moves::Move>,
    /// Instances `removed {}` blocks with `destroy = false` take out of the state (already
    /// gone from `refreshed`); their objects stay in AWS.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forgets: Vec<Address>,
    /// The scope the plan filled in dependency order (variables, locals, data sources,
    /// every instance's planned value). Apply in the same process continues from it
    /// instead of evaluating the stack again; a saved plan has none, and apply evaluates
    /// once.
    #[serde(skip)]
    pub evaluated: Option<crate::config::eval::Scope>,
}

impl Plan {
    /// The prior object of a change (a no-op's is the refreshed state's, copied only
    /// here, when it is rendered).
    pub fn object_before<'a>(&'a self, c: &'a ResourceChange) -> Cow<'a, Json> {
        if c.action == Action::NoOp && c.before.is_null() {
            return match self.refreshed.get(&c.address) {
                Some(r) => Cow::Owned(Json::Object(r.attributes.clone())),
                None => Cow::Borrowed(&c.before),
            };
        }
        Cow::Borrowed(&c.before)
    }

    /// The planned object of a change (a no-op's is its prior object).
    pub fn object_after<'a>(&'a self, c: &'a ResourceChange) -> Cow<'a, Json> {
        if c.action == Action::NoOp && c.after.is_null() {
            return self.object_before(c);
        }
        Cow::Owned(c.after.to_json())
    }

    pub fn has_changes(&self) -> bool {
        if self.refresh_only {
            return !self.drift.is_empty();
        }
        self.changes.iter().any(|c| c.importing.is_some())
            || self.changes.iter().any(|c| c.action != Action::NoOp)
            || self.outputs.iter().any(|o| o.changed)
            || !self.moves.is_empty()
            || !self.forgets.is_empty()
    }
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut add = 0;
        let mut change = 0;
        let mut destroy = 0;
        for c in &self.changes {
            match c.action {
                Action::Create => add += 1,
                Action::Update => change += 1,
                Action::Delete => destroy += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    add += 1;
                    destroy += 1
                }
                Action::NoOp => {}
            }
        }
        (add, change, destroy)
    }
}

#[derive(Clone, Debug)]
pub struct PlanOptions {
    pub destroy: bool,
    pub refresh: bool,
    pub targets: Vec<Address>,
    pub parallelism: usize,
    /// Only accept drift into the state: no changes to AWS.
    pub refresh_only: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            destroy: false,
            refresh: true,
            targets: vec![],
            parallelism: 10,
            refresh_only: false,
        }
    }
}

/// The resources a state entry recorded as its dependencies.
pub fn recorded_dependencies(r: &ResourceState) -> Vec<ResourceId> {
    let mut out: Vec<ResourceId> = r
        .dependencies
        .iter()
        .filter_map(|d| d.parse::<Address>().ok())
        .map(|a| a.resource)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_mask_round_trips_through_json() {
        let v = Value::from_json(&json!({"a": 1, "b": [1, 2]}));
        let mut m = v.as_map().unwrap().clone();
        m.insert("arn".into(), Value::Unknown);
        let v = Value::Map(m);
        let back = with_unknowns(&v.to_json(), &v.unknown_mask());
        assert_eq!(back, v);
    }
}
