//! Lifecycle property tests (in the spirit of Pulumi's lifecycle fuzzing): random stacks,
//! random changes between them, random operations (apply, destroy, targeted apply,
//! refresh-only, import) and random fault plans (a create, update or delete failing
//! before its effect, after it — the answer lost — or as a partial create), all against
//! the in-memory `FakeCloud`. After every operation of every apply, and after every step,
//! the durable state (document plus journal) must describe exactly what the cloud holds,
//! with nothing orphaned; at the end, with the faults gone, one apply converges to the
//! stack and one destroy leaves the cloud empty. A failure prints the shrunk case: its
//! stacks as HCL and its steps.
//!
//! Cases: THINGFORM_PROPTEST_CASES (default 24).

use super::tests::{StepCheck, state_matches_cloud};
use super::{ApplyOptions, Plan, PlanOptions, Silent, apply, plan};
use crate::config::stack::Stack;
use crate::provider::cloud::Cloud;
use crate::provider::fake::{Failure, FakeCloud, Op};
use crate::state::local::LocalBackend;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex};

/// A stack: Things (by key, with an attribute value) and SNS topics (by key, with a
/// display name and a number of email subscriptions).
#[derive(Clone, PartialEq)]
struct Spec {
    things: BTreeMap<u8, u8>,
    topics: BTreeMap<u8, (u8, u8)>,
}

impl fmt::Debug for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.hcl(&BTreeSet::new()))
    }
}

impl Spec {
    fn hcl(&self, imports: &BTreeSet<u8>) -> String {
        let mut s = String::new();
        for (k, v) in &self.things {
            s += &format!(
                "resource \"aws_iot_thing\" \"t{k}\" {{\n  name = \"thing-{k}\"\n  attributes = {{ v = \"{v}\" }}\n}}\n"
            );
        }
        for (k, (display, subs)) in &self.topics {
            s += &format!(
                "resource \"aws_sns_topic\" \"p{k}\" {{\n  name = \"topic-{k}\"\n  display_name = \"d{display}\"\n}}\n"
            );
            s += &format!(
                "resource \"aws_sns_topic_subscription\" \"s{k}\" {{\n  count = {subs}\n  topic_arn = aws_sns_topic.p{k}.arn\n  protocol = \"email\"\n  endpoint = \"ops${{count.index}}@example.com\"\n}}\n"
            );
        }
        for k in imports {
            s += &format!("import {{\n  to = aws_iot_thing.t{k}\n  id = \"thing-{k}\"\n}}\n");
        }
        s
    }

    /// What the cloud must hold once this stack is applied: names per type, and the
    /// number of subscriptions.
    fn expected(&self) -> (BTreeSet<String>, BTreeSet<String>, usize) {
        (
            self.things.keys().map(|k| format!("thing-{k}")).collect(),
            self.topics.keys().map(|k| format!("topic-{k}")).collect(),
            self.topics.values().map(|(_, n)| *n as usize).sum(),
        )
    }
}

#[derive(Clone, Debug)]
enum Step {
    /// Switch to stack N (of the case's stacks) and apply it.
    Apply(usize),
    Destroy,
    /// Apply only one resource of the current stack (-target), by its position.
    Targeted(usize),
    RefreshOnly,
    /// A Thing of the current stack (by position) is made outside thingform, then
    /// adopted by an `import {}` block.
    Import(usize),
}

/// One injected fault: the k-th `op` of a type from now fails as `how`.
#[derive(Clone, Debug)]
struct Fault {
    op: Op,
    rtype: &'static str,
    k: usize,
    how: Failure,
}

#[derive(Clone)]
struct Case {
    specs: Vec<Spec>,
    steps: Vec<(Step, Vec<Fault>)>,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\n--- a lifecycle case ---")?;
        for (i, s) in self.specs.iter().enumerate() {
            writeln!(f, "## stack {i}\n{}", s.hcl(&BTreeSet::new()))?;
        }
        writeln!(f, "## steps (stack 0 is applied first)")?;
        for (i, (step, faults)) in self.steps.iter().enumerate() {
            writeln!(f, "{i}: {step:?} with faults {faults:?}")?;
        }
        Ok(())
    }
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::collection::btree_map(0u8..5, 0u8..3, 0..4),
        prop::collection::btree_map(0u8..4, (0u8..3, 0u8..3), 0..3),
    )
        .prop_map(|(things, topics)| Spec { things, topics })
}

fn fault() -> impl Strategy<Value = Fault> {
    (
        prop_oneof![Just(Op::Create), Just(Op::Update), Just(Op::Delete)],
        prop_oneof![
            Just("aws_iot_thing"),
            Just("aws_sns_topic"),
            Just("aws_sns_topic_subscription")
        ],
        1usize..4,
        prop_oneof![
            Just(Failure::Before),
            Just(Failure::After),
            Just(Failure::Partial)
        ],
    )
        .prop_map(|(op, rtype, k, how)| Fault {
            op,
            rtype,
            k,
            // Only a create can be partial.
            how: if how == Failure::Partial && op != Op::Create {
                Failure::After
            } else {
                how
            },
        })
}

fn case() -> impl Strategy<Value = Case> {
    prop::collection::vec(spec(), 1..4).prop_flat_map(|specs| {
        let n = specs.len();
        let step = prop_oneof![
            4 => (0..n).prop_map(Step::Apply),
            1 => Just(Step::Destroy),
            1 => (0usize..8).prop_map(Step::Targeted),
            1 => Just(Step::RefreshOnly),
            1 => (0usize..8).prop_map(Step::Import),
        ];
        (
            Just(specs),
            prop::collection::vec((step, prop::collection::vec(fault(), 0..3)), 1..7),
        )
            .prop_map(|(specs, steps)| Case { specs, steps })
    })
}

struct World {
    dir: tempfile::TempDir,
    cloud: Arc<FakeCloud>,
    current: Spec,
    imports: BTreeSet<u8>,
}

impl World {
    fn backend(&self) -> LocalBackend {
        LocalBackend::new(self.dir.path().join("state.json"))
    }

    fn write(&self) {
        std::fs::write(
            self.dir.path().join("main.tf"),
            self.current.hcl(&self.imports),
        )
        .unwrap();
    }

    /// After a step with no fault: the state matches the cloud exactly. After a fault
    /// (an answer lost), the state may still hold what the cloud no longer has, or old
    /// attributes (the next refresh corrects both), but nothing in the cloud may be
    /// untracked: each object is in the state, or named by a journaled pending create
    /// (the next refresh adopts it by name, or a subscription by what identifies it).
    fn check(&self, after: &str, faulted: bool) -> Result<(), TestCaseError> {
        let fail = |e: String| TestCaseError::fail(format!("after {after}: {e}"));
        if !faulted {
            return state_matches_cloud(&self.backend(), &self.cloud).map_err(fail);
        }
        let state = self.backend().read().unwrap().unwrap_or_default();
        for (rtype, objects) in self.cloud.all() {
            let id_attr = self.cloud.schema(&rtype).unwrap().id_attr;
            for (id, obj) in objects {
                let tracked = state.iter().chain(&state.deposed).any(|r| {
                    r.rtype == rtype
                        && r.attributes.get(id_attr).and_then(|v| v.as_str()) == Some(&id)
                });
                let keys = crate::provider::fake::identity(&rtype);
                let pending = state.pending.iter().any(|p| {
                    p.rtype == rtype
                        && keys
                            .iter()
                            .all(|k| obj.get(*k).is_some() && p.planned.get(*k) == obj.get(*k))
                });
                if !tracked && !pending {
                    return Err(fail(format!(
                        "{rtype} {id} is in the cloud but tracked by nothing"
                    )));
                }
            }
        }
        Ok(())
    }

    async fn plan(&self, opts: PlanOptions) -> Result<Plan, TestCaseError> {
        self.write();
        let (stack, _) = Stack::load(self.dir.path(), &[], "default")
            .map_err(|e| TestCaseError::fail(format!("stack: {e}")))?;
        let prior = self.backend().read().unwrap().unwrap_or_default();
        plan(&stack, prior, self.cloud.as_ref(), &opts, &Silent)
            .await
            .map_err(|e| TestCaseError::fail(format!("plan: {e:#}")))
    }

    /// Plans and applies with `opts`, checking the durable state against the cloud after
    /// every operation. Returns whether every operation succeeded.
    async fn run(&self, opts: PlanOptions, what: &str) -> Result<bool, TestCaseError> {
        let fired = self.cloud.fired_failures();
        let p = self.plan(opts).await?;
        let (stack, _) = Stack::load(self.dir.path(), &[], "default").unwrap();
        let (_tx, rx) = tokio::sync::watch::channel(false);
        let cloud: Arc<dyn Cloud> = self.cloud.clone();
        // Faults armed: the exact check after every operation does not hold once one
        // fires; the step ends with the orphan check instead.
        let armed = self.cloud.armed_failures() > 0;
        let ui = Arc::new(StepCheck {
            state_path: self.backend().path,
            cloud: self.cloud.clone(),
            check: !armed,
            errors: Mutex::new(vec![]),
        });
        let report = apply(
            p,
            Some(Arc::new(stack)),
            cloud,
            Arc::new(self.backend()),
            &ApplyOptions { parallelism: 1 },
            ui.clone(),
            rx,
        )
        .await
        .map_err(|e| TestCaseError::fail(format!("{what}: apply: {e:#}")))?;
        let errors = ui.errors.lock().unwrap().clone();
        prop_assert!(errors.is_empty(), "{what}: {errors:?}");
        self.check(what, self.cloud.fired_failures() > fired)?;
        Ok(report.ok())
    }

    fn addresses(&self) -> Vec<String> {
        let mut a: Vec<String> = self
            .current
            .things
            .keys()
            .map(|k| format!("aws_iot_thing.t{k}"))
            .collect();
        a.extend(
            self.current
                .topics
                .keys()
                .map(|k| format!("aws_sns_topic.p{k}")),
        );
        a
    }

    fn names(&self, rtype: &str) -> BTreeSet<String> {
        self.cloud
            .objects(rtype)
            .values()
            .filter_map(|o| o.get("name").and_then(|n| n.as_str()).map(str::to_string))
            .collect()
    }
}

fn opts() -> PlanOptions {
    PlanOptions {
        parallelism: 1,
        ..PlanOptions::default()
    }
}

async fn run_case(case: Case) -> Result<(), TestCaseError> {
    let mut w = World {
        dir: tempfile::tempdir().unwrap(),
        cloud: Arc::new(FakeCloud::new()),
        current: case.specs[0].clone(),
        imports: BTreeSet::new(),
    };
    w.run(opts(), "the first apply").await?;
    for (i, (step, faults)) in case.steps.iter().enumerate() {
        for f in faults {
            w.cloud.fail_next(f.op, f.rtype, f.k, f.how);
        }
        let what = format!("step {i} ({step:?})");
        match step {
            Step::Apply(n) => {
                w.current = case.specs[*n].clone();
                w.imports.clear();
                w.run(opts(), &what).await?;
            }
            Step::Destroy => {
                w.run(
                    PlanOptions {
                        destroy: true,
                        ..opts()
                    },
                    &what,
                )
                .await?;
            }
            Step::Targeted(n) => {
                let all = w.addresses();
                if let Some(a) = all.get(n % all.len().max(1)) {
                    let targets = vec![a.parse().unwrap()];
                    w.run(PlanOptions { targets, ..opts() }, &what).await?;
                }
            }
            Step::RefreshOnly => {
                w.run(
                    PlanOptions {
                        refresh_only: true,
                        ..opts()
                    },
                    &what,
                )
                .await?;
            }
            Step::Import(n) => {
                let keys: Vec<u8> = w.current.things.keys().copied().collect();
                if let Some(k) = keys.get(n % keys.len().max(1)).copied() {
                    let name = format!("thing-{k}");
                    if !w.names("aws_iot_thing").contains(&name) {
                        let attrs = serde_json::json!({ "name": name });
                        w.cloud
                            .insert("aws_iot_thing", attrs.as_object().unwrap().clone())
                            .unwrap();
                        // Made outside thingform: tracked by nothing until the import.
                        w.imports.insert(k);
                        w.run(opts(), &what).await?;
                    }
                }
            }
        }
    }
    // The faults gone: one apply converges to the last stack, exactly.
    w.cloud.clear_failures();
    w.imports.clear();
    prop_assert!(
        w.run(opts(), "the final apply").await?,
        "the final apply failed"
    );
    let again = w.plan(opts()).await?;
    prop_assert!(
        !again.has_changes(),
        "the plan after the final apply is not empty: {:?}",
        again
            .changes
            .iter()
            .filter(|c| c.action != super::Action::NoOp)
            .map(|c| (c.address.to_string(), c.action))
            .collect::<Vec<_>>()
    );
    let (things, topics, subs) = w.current.expected();
    prop_assert_eq!(w.names("aws_iot_thing"), things);
    prop_assert_eq!(w.names("aws_sns_topic"), topics);
    prop_assert_eq!(w.cloud.objects("aws_sns_topic_subscription").len(), subs);
    // And one destroy leaves nothing behind.
    prop_assert!(
        w.run(
            PlanOptions {
                destroy: true,
                ..opts()
            },
            "the final destroy"
        )
        .await?,
        "the final destroy failed"
    );
    prop_assert!(
        w.cloud.all().is_empty(),
        "left in the cloud: {:?}",
        w.cloud.all()
    );
    Ok(())
}

fn cases() -> u32 {
    std::env::var("THINGFORM_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn state_matches_the_cloud_through_any_lifecycle(case in case()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(run_case(case))?;
    }
}
