//! Apply: walk the plan's changes as a DAG, concurrently up to `parallelism`, writing
//! state after every single operation. A failed operation skips what depends on it;
//! everything else continues. Ctrl-C stops new operations and lets running ones finish.

mod build;
mod commit;
mod graph;
mod run;
mod values;

pub use graph::{Part, Step, apply_graph};

use super::plan::{Action, CheckResult, Plan, ResourceChange, run_checks};
use super::{Event, Ui};
use crate::address::Address;
use crate::config::stack::Stack;
use crate::graph::Dag;
use crate::provider::cloud::Cloud;
use crate::state::{OutputState, Record, StateStore};
use crate::value::Value;
use commit::{Journal, Shared};
use graph::has_part;
use run::shown_action;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::watch;
use values::Values;

#[derive(Clone, Debug)]
pub struct ApplyOptions {
    pub parallelism: usize,
}

#[derive(Clone, Debug, Default)]
pub struct ApplyReport {
    pub done: Vec<(Address, Action)>,
    pub failed: Vec<(Address, Action, String)>,
    pub skipped: Vec<Address>,
    pub not_started: Vec<Address>,
    pub interrupted: bool,
    pub outputs: BTreeMap<String, OutputState>,
    pub warnings: Vec<String>,
    /// The `check` blocks' results after this apply (warnings only; never a failure).
    pub checks: Vec<CheckResult>,
}

impl ApplyReport {
    pub fn ok(&self) -> bool {
        self.failed.is_empty()
            && self.skipped.is_empty()
            && self.not_started.is_empty()
            && !self.interrupted
    }
}

/// Applies `plan`. `stack` is needed for every change but deletes. State is written
/// through `store` after each operation.
pub async fn apply(
    mut plan: Plan,
    stack: Option<Arc<Stack>>,
    cloud: Arc<dyn Cloud>,
    store: Arc<dyn StateStore>,
    opts: &ApplyOptions,
    ui: Arc<dyn Ui>,
    mut interrupt: watch::Receiver<bool>,
) -> anyhow::Result<ApplyReport> {
    crate::config::functions::evaluate_impure(true); // timestamp()/uuid(): known in apply
    // The refreshed state moves out of the plan (a fleet's state is not copied), and
    // no-op changes carry nothing an operation needs.
    let mut start_state = std::mem::take(&mut plan.refreshed);
    start_state.serial = plan.state_serial + 1;
    let values = match plan.evaluated.take() {
        // The plan's own evaluation, made in this process.
        Some(scope) if stack.is_some() => Values::from_scope(scope),
        _ => {
            let mut values: BTreeMap<Address, Value> = BTreeMap::new();
            for r in start_state.iter() {
                values.insert(
                    r.address.clone(),
                    Value::from_json(&Json::Object(r.attributes.clone())),
                );
            }
            for c in &plan.changes {
                if c.action != Action::Delete && c.action != Action::NoOp {
                    values.insert(c.address.clone(), c.after.clone());
                }
            }
            Values::new(stack.as_deref(), values, &plan.data)
        }
    };
    // The refreshed state is recorded first, as Terraform does; it also starts the
    // journal that every operation of this run appends to.
    store.write(&start_state).await?;
    let shared = Arc::new(Shared {
        journal: tokio::sync::Mutex::new(Journal {
            state: start_state,
            buffered: vec![],
            seq: 0,
        }),
        values: Mutex::new(values),
        store,
        data: plan.data.clone(),
        serial_locks: Mutex::new(BTreeMap::new()),
        state_write_failed: std::sync::atomic::AtomicBool::new(false),
        written: tokio::sync::Mutex::new(0),
        warnings: Mutex::new(vec![]),
    });

    let graph = apply_graph(&plan.changes);
    // Each change is dropped once its operations are done (a fleet's planned values are
    // not all kept to the end); what the loop reports comes from `summary`.
    let summary: Vec<(Address, Action)> = plan
        .changes
        .iter()
        .map(|c| (c.address.clone(), c.action))
        .collect();
    let mut parts_left: Vec<u8> = plan
        .changes
        .iter()
        .map(|c| has_part(c.action, Part::Main) as u8 + has_part(c.action, Part::Destroy) as u8)
        .collect();
    let mut live: Vec<Option<Arc<ResourceChange>>> = std::mem::take(&mut plan.changes)
        .into_iter()
        .map(|c| Some(Arc::new(c)))
        .collect();
    let mut indegree: BTreeMap<Step, usize> = graph
        .nodes()
        .map(|&k| (k, graph.dependencies(&k).len()))
        .collect();
    let mut ready: BTreeSet<Step> = indegree
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(k, _)| *k)
        .collect();
    let mut finished: BTreeSet<Step> = BTreeSet::new();
    let mut report = ApplyReport::default();
    let mut skipped: BTreeSet<Address> = BTreeSet::new();
    let mut set = tokio::task::JoinSet::new();
    let mut running = 0usize;
    let parallelism = opts.parallelism.max(1);
    let mut interrupted = *interrupt.borrow();

    /// A node finished well: whatever waited only for it is ready.
    fn release(
        graph: &Dag<Step>,
        k: &Step,
        indegree: &mut BTreeMap<Step, usize>,
        finished: &BTreeSet<Step>,
        ready: &mut BTreeSet<Step>,
    ) {
        for d in graph.dependents(k) {
            if let Some(n) = indegree.get_mut(&d) {
                *n -= 1;
                if *n == 0 && !finished.contains(&d) {
                    ready.insert(d);
                }
            }
        }
    }

    loop {
        // Gates pass as soon as they are ready; they are not operations. They order after
        // every `Op`, so a ready gate is always the set's last element.
        while let Some(&k) = ready.last()
            && !matches!(k, Step::Op(..))
        {
            ready.remove(&k);
            finished.insert(k);
            release(&graph, &k, &mut indegree, &finished, &mut ready);
        }
        while running < parallelism
            && !interrupted
            && !shared
                .state_write_failed
                .load(std::sync::atomic::Ordering::SeqCst)
        {
            let Some(k) = ready.pop_first() else { break };
            let Step::Op(i, part) = k else {
                ready.insert(k);
                break;
            };
            let Some(change) = live[i].clone() else {
                return Err(anyhow::anyhow!(
                    "internal error: change {i} started after it finished"
                ));
            };
            ui.event(Event::Started {
                address: change.address.clone(),
                action: shown_action(change.action, part),
            });
            let (shared, stack, cloud, ui2) =
                (shared.clone(), stack.clone(), cloud.clone(), ui.clone());
            set.spawn(async move {
                let start = Instant::now();
                let r = run::run_change(shared, stack, cloud, ui2, change, part).await;
                (k, r, start.elapsed().as_secs())
            });
            running += 1;
        }
        if running == 0 {
            break;
        }
        tokio::select! {
            joined = set.join_next() => {
                let Some(joined) = joined else { break };
                running -= 1;
                let (k, result, secs) = match joined {
                    Ok(x) => x,
                    Err(e) => return Err(anyhow::anyhow!("an apply task failed: {e}")),
                };
                finished.insert(k);
                let Step::Op(i, part) = k else { continue };
                parts_left[i] = parts_left[i].saturating_sub(1);
                if parts_left[i] == 0 {
                    live[i] = None;
                }
                let (c_address, c_action) = (&summary[i].0, summary[i].1);
                match result {
                    Ok(id) => {
                        ui.event(Event::Completed { address: c_address.clone(), action: shown_action(c_action, part), elapsed_secs: secs, id });
                        if part == Part::Main || c_action == Action::Delete {
                            report.done.push((c_address.clone(), c_action));
                        }
                        release(&graph, &k, &mut indegree, &finished, &mut ready);
                    }
                    Err(e) => {
                        let msg = format!("{e:#}");
                        ui.event(Event::Failed { address: c_address.clone(), action: shown_action(c_action, part), error: msg.clone() });
                        report.failed.push((c_address.clone(), c_action, msg));
                        // Everything that waits for it, transitively, is skipped. The walk
                        // stops at nodes already settled, so many failures cost one pass.
                        let mut stack = graph.dependents(&k);
                        while let Some(d) = stack.pop() {
                            if !finished.insert(d) {
                                continue;
                            }
                            ready.remove(&d);
                            stack.extend(graph.dependents(&d));
                            if let Step::Op(j, _) = d {
                                let s = &summary[j].0;
                                if s != c_address && skipped.insert(s.clone()) {
                                    ui.event(Event::Skipped { address: s.clone(), because: c_address.clone() });
                                    report.skipped.push(s.clone());
                                }
                            }
                        }
                    }
                }
            }
            changed = interrupt.changed(), if !interrupted => {
                if changed.is_ok() && *interrupt.borrow() {
                    interrupted = true;
                    ui.event(Event::Interrupted);
                }
            }
        }
    }
    report.interrupted = interrupted;
    let mut not_started = BTreeSet::new();
    for &k in graph.nodes() {
        if let Step::Op(i, _) = k {
            let addr = &summary[i].0;
            if !finished.contains(&k) && not_started.insert(addr.clone()) {
                report.not_started.push(addr.clone());
            }
        }
    }
    report.warnings = shared
        .warnings
        .lock()
        .map(|mut w| std::mem::take(&mut *w))
        .unwrap_or_default();

    // Outputs, from the final values (unless the state can no longer be written).
    if shared
        .state_write_failed
        .load(std::sync::atomic::Ordering::SeqCst)
    {
        return Ok(report);
    }
    // The checks run on a copy of the final scope (taken only when there are checks),
    // once nothing failed: a failed apply's values are partly unknown.
    let mut check_scope = None;
    let outputs = if plan.destroy {
        Some(BTreeMap::new())
    } else if let Some(stack) = &stack {
        let mut vals = shared
            .values
            .lock()
            .map_err(|_| anyhow::anyhow!("values lock poisoned"))?;
        let scope = vals.scope(stack, &plan.data, None);
        if !stack.module.checks.is_empty() && report.ok() {
            check_scope = Some(scope.clone());
        }
        let mut outputs = BTreeMap::new();
        for (name, o) in &stack.module.outputs {
            if let Ok(v) = scope.eval(&o.value.expr)
                && !v.has_unknown()
            {
                outputs.insert(
                    name.clone(),
                    OutputState {
                        value: v.to_json(),
                        sensitive: o.sensitive,
                    },
                );
            }
        }
        report.outputs = outputs.clone();
        Some(outputs)
    } else {
        None
    };
    if let Some(outputs) = outputs {
        shared.commit(vec![Record::Outputs { outputs }]).await?;
    }
    if let (Some(mut scope), Some(stack)) = (check_scope, &stack) {
        let mut warnings = vec![];
        report.checks =
            run_checks(stack, &mut scope, cloud.as_ref(), &|_| false, &mut warnings).await;
        report.warnings.extend(warnings);
    }
    // Fold the journal into the document: the next run starts from one file.
    let _written = shared.written.lock().await;
    shared.compact().await?;
    Ok(report)
}
