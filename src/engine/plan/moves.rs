//! `moved {}` blocks: before anything is refreshed, objects tracked at a block's `from`
//! are re-addressed to its `to`, so refactoring a fleet (renaming a resource, count ->
//! for_each, moving resources into or out of a module, renaming a module) never
//! recreates a device.

use crate::address::{Address, ModuleInstance, ResourceId};
use crate::config::{Endpoint, MovedBlock};
use crate::state::State;
use serde::{Deserialize, Serialize};

/// One instance the plan re-addresses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    pub from: Address,
    pub to: Address,
}

/// Resources renamed by a block (old, new), for the dependencies that name them.
type Renames = Vec<(ResourceId, ResourceId)>;

/// `id` with the module prefix `from` replaced by `to`, when it is under `from`.
fn rebase(id: &ResourceId, from: &ModuleInstance, to: &ModuleInstance) -> Option<ResourceId> {
    if !id.module.starts_with(from) {
        return None;
    }
    let mut steps = to.0.clone();
    steps.extend(id.module.0[from.0.len()..].iter().cloned());
    Some(ResourceId {
        module: ModuleInstance(steps),
        ..id.clone()
    })
}

/// Applies `blocks` to `state`, in order (a chain `a -> b`, `b -> c` ends at `c`). As in
/// Terraform, a block whose `from` tracks nothing is a no-op, and an instance is never
/// moved onto an address the state already tracks (that block is reported instead).
pub fn apply_moves(state: &mut State, blocks: &[MovedBlock]) -> (Vec<Move>, Vec<String>) {
    let mut moves: Vec<Move> = vec![];
    let mut warnings = vec![];
    for b in blocks {
        // Each moved object, and each renamed resource (for recorded dependencies).
        let (pairs, renamed): (Vec<(Address, Address)>, Renames) = match (&b.from, &b.to) {
            // One instance (a resource without count/for_each is its unkeyed instance).
            (Endpoint::Resource(from), Endpoint::Resource(to))
                if from.key.is_some() || to.key.is_some() =>
            {
                match state.get(from) {
                    Some(_) => (vec![(from.clone(), to.clone())], vec![]),
                    None => (vec![], vec![]),
                }
            }
            (Endpoint::Resource(from), Endpoint::Resource(to)) => (
                state
                    .instances_of(&from.resource)
                    .map(|r| {
                        (
                            r.address.clone(),
                            to.resource.instance(r.address.key.clone()),
                        )
                    })
                    .collect(),
                vec![(from.resource.clone(), to.resource.clone())],
            ),
            (Endpoint::Module(from), Endpoint::Module(to)) => {
                let pairs: Vec<(Address, Address)> = state
                    .iter()
                    .filter_map(|r| {
                        let id = rebase(&r.address.resource, from, to)?;
                        Some((r.address.clone(), id.instance(r.address.key.clone())))
                    })
                    .collect();
                let mut renamed: Vec<(ResourceId, ResourceId)> = pairs
                    .iter()
                    .map(|(f, t)| (f.resource.clone(), t.resource.clone()))
                    .collect();
                renamed.dedup();
                (pairs, renamed)
            }
            _ => (vec![], vec![]),
        };
        for (from, to) in pairs {
            if state.get(&to).is_some() {
                warnings.push(format!(
                    "moved block at {}: {to} is already tracked, so {from} was not moved to it; remove one of them from the state (`thingform state rm`) or fix the block",
                    b.loc
                ));
                continue;
            }
            let Some(mut rs) = state.remove(&from) else {
                continue;
            };
            rs.address = to.clone();
            state.upsert(rs);
            // A chain of blocks records one move from the first address to the last.
            match moves.iter_mut().find(|m| m.to == from) {
                Some(m) => m.to = to,
                None => moves.push(Move { from, to }),
            }
        }
        for (old, new) in renamed {
            let (old, new) = (old.to_string(), new.to_string());
            let affected: Vec<Address> = state
                .iter()
                .filter(|r| r.dependencies.contains(&old))
                .map(|r| r.address.clone())
                .collect();
            for a in affected {
                if let Some(mut rs) = state.remove(&a) {
                    for d in rs.dependencies.iter_mut().filter(|d| **d == old) {
                        *d = new.clone();
                    }
                    state.upsert(rs);
                }
            }
        }
    }
    moves.retain(|m| m.from != m.to);
    (moves, warnings)
}

/// `removed {}` blocks: instances under a block's `from` that the configuration no
/// longer declares. Those of blocks with `lifecycle { destroy = false }` are taken out
/// of `state` and returned (forgotten: the objects stay in AWS); the others stay and are
/// destroyed as any instance missing from the configuration. A block whose `from` is
/// still declared is an error, as in Terraform.
pub fn apply_removed(
    state: &mut State,
    blocks: &[crate::config::RemovedBlock],
    declared: &dyn Fn(&Endpoint) -> bool,
) -> Result<Vec<Address>, crate::diag::Diagnostics> {
    let mut diags = crate::diag::Diagnostics::default();
    let mut forgotten = vec![];
    for b in blocks {
        if declared(&b.from) {
            diags.push(crate::diag::Diagnostic::error(
                "Removed object still exists",
                format!(
                    "This removed block declares that {} was removed, but it is still declared in the configuration. Remove its block (or this removed block).",
                    b.from
                ),
                Some(&b.loc),
            ));
            continue;
        }
        if b.destroy {
            continue;
        }
        let under: Vec<Address> = state
            .iter()
            .map(|r| &r.address)
            .filter(|a| removes(&b.from, &a.resource))
            .cloned()
            .collect();
        for a in under {
            state.remove(&a);
            forgotten.push(a);
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(forgotten)
    }
}

/// Whether a removed block's `from` covers resource `id` (in any instance of the
/// modules it names: `from` is written without instance keys).
pub fn removes(from: &Endpoint, id: &ResourceId) -> bool {
    match from {
        Endpoint::Resource(f) => {
            f.resource.mode == id.mode
                && f.resource.rtype == id.rtype
                && f.resource.name == id.name
                && f.resource.module.config_path() == id.module.config_path()
        }
        Endpoint::Module(m) => id.module.config_path().starts_with(&m.config_path()),
    }
}
