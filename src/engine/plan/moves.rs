//! `moved {}` blocks: before anything is refreshed, objects tracked at a block's `from`
//! are re-addressed to its `to`, so refactoring a fleet (renaming a resource, count ->
//! for_each) never recreates a device.

use crate::address::Address;
use crate::config::MovedBlock;
use crate::state::State;
use serde::{Deserialize, Serialize};

/// One instance the plan re-addresses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    pub from: Address,
    pub to: Address,
}

/// Applies `blocks` to `state`, in order (a chain `a -> b`, `b -> c` ends at `c`). As in
/// Terraform, a block whose `from` tracks nothing is a no-op, and an instance is never
/// moved onto an address the state already tracks (that block is reported instead).
pub fn apply_moves(state: &mut State, blocks: &[MovedBlock]) -> (Vec<Move>, Vec<String>) {
    let mut moves: Vec<Move> = vec![];
    let mut warnings = vec![];
    for b in blocks {
        let pairs: Vec<(Address, Address)> = if b.from.key.is_some() {
            match state.get(&b.from) {
                Some(_) => vec![(b.from.clone(), b.to.clone())],
                None => vec![],
            }
        } else {
            state
                .instances_of(&b.from.resource)
                .map(|r| {
                    (
                        r.address.clone(),
                        b.to.resource.instance(r.address.key.clone()),
                    )
                })
                .collect()
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
        if b.from.key.is_none() {
            let (old, new) = (b.from.resource.to_string(), b.to.resource.to_string());
            let renamed: Vec<Address> = state
                .iter()
                .filter(|r| r.dependencies.contains(&old))
                .map(|r| r.address.clone())
                .collect();
            for a in renamed {
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
