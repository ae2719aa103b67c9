//! The engine driven through the in-memory fake cloud: plan and apply lifecycles with no
//! emulator. After every step the state (the document with its journal replayed) must
//! describe exactly the objects the cloud holds.

use super::{Action, ApplyOptions, ApplyReport, Event, Plan, PlanOptions, Silent, Ui, apply, plan};
use crate::config::stack::Stack;
use crate::provider::cloud::Cloud;
use crate::provider::fake::{Call, Failure, FakeCloud, Op};
use crate::state::State;
use crate::state::local::LocalBackend;
use crate::value::json_equivalent;
use std::sync::{Arc, Mutex};

struct Env {
    dir: tempfile::TempDir,
    cloud: Arc<FakeCloud>,
}

impl Env {
    fn new(hcl: &str) -> Env {
        let env = Env {
            dir: tempfile::tempdir().unwrap(),
            cloud: Arc::new(FakeCloud::new()),
        };
        env.write(hcl);
        env
    }

    fn write(&self, hcl: &str) {
        std::fs::write(self.dir.path().join("main.tf"), hcl).unwrap();
    }

    fn backend(&self) -> LocalBackend {
        LocalBackend::new(self.dir.path().join("state.json"))
    }

    /// The durable state: the document with its journal replayed.
    fn state(&self) -> State {
        self.backend().read().unwrap().unwrap_or_default()
    }

    async fn plan(&self, destroy: bool) -> Plan {
        self.plan_with(PlanOptions {
            destroy,
            parallelism: 1,
            ..PlanOptions::default()
        })
        .await
    }

    async fn plan_with(&self, opts: PlanOptions) -> Plan {
        let (stack, _) = Stack::load(self.dir.path(), &[], "default").unwrap();
        plan(&stack, self.state(), self.cloud.as_ref(), &opts, &Silent)
            .await
            .unwrap()
    }

    /// Plans and applies; checks the state against the cloud afterwards.
    async fn apply(&self, destroy: bool) -> (Plan, ApplyReport) {
        let p = self.plan(destroy).await;
        let out = self.apply_plan(p, true).await;
        self.check_state_matches_cloud();
        out
    }

    async fn apply_unchecked(&self, destroy: bool) -> (Plan, ApplyReport) {
        let p = self.plan(destroy).await;
        self.apply_plan(p, false).await
    }

    /// Applies a plan saved to a file and read back (`plan -out`, then `apply FILE`):
    /// apply evaluates the stack itself.
    async fn apply_saved(&self) -> (Plan, ApplyReport) {
        let p = self.plan(false).await;
        let saved: Plan = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert!(saved.evaluated.is_none());
        let out = self.apply_plan(saved, true).await;
        self.check_state_matches_cloud();
        out
    }

    /// Applies `p`, one operation at a time. With `check`, the durable state (the
    /// document and its journal, as a crash would leave them) is compared with the
    /// cloud after every operation.
    async fn apply_plan(&self, p: Plan, check: bool) -> (Plan, ApplyReport) {
        let (stack, _) = Stack::load(self.dir.path(), &[], "default").unwrap();
        let (_tx, rx) = tokio::sync::watch::channel(false);
        let cloud: Arc<dyn Cloud> = self.cloud.clone();
        let ui = Arc::new(StepCheck {
            state_path: self.backend().path,
            cloud: self.cloud.clone(),
            check,
            errors: Mutex::new(vec![]),
        });
        let report = apply(
            p.clone(),
            Some(Arc::new(stack)),
            cloud,
            Arc::new(self.backend()),
            &ApplyOptions { parallelism: 1 },
            ui.clone(),
            rx,
        )
        .await
        .unwrap();
        let errors = ui.errors.lock().unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        (p, report)
    }

    fn check_state_matches_cloud(&self) {
        if let Err(e) = state_matches_cloud(&self.backend(), &self.cloud) {
            panic!("{e}");
        }
    }

    fn calls(&self) -> Vec<(Op, String)> {
        self.cloud
            .log()
            .into_iter()
            .map(|Call { op, rtype, .. }| (op, rtype))
            .collect()
    }
}

/// Every instance in `backend`'s durable state is one object in the cloud with the same
/// attributes (a tainted or deposed one at least exists), and every object is in state.
pub(super) fn state_matches_cloud(backend: &LocalBackend, cloud: &FakeCloud) -> Result<(), String> {
    let state = backend.read().unwrap().unwrap_or_default();
    let mut tracked = 0;
    for r in state.iter() {
        let schema = cloud.schema(&r.rtype).unwrap();
        let id = r.attributes[schema.id_attr].as_str().unwrap_or_default();
        let objects = cloud.objects(&r.rtype);
        let Some(obj) = objects.get(id) else {
            return Err(format!(
                "{} ({id}) is in state but not in the cloud",
                r.address
            ));
        };
        tracked += 1;
        if r.tainted {
            continue;
        }
        for (k, v) in obj {
            let in_state = r.attributes.get(k).unwrap_or(&serde_json::Value::Null);
            if !json_equivalent(v, in_state) {
                return Err(format!("{}.{k}: cloud {v}, state {in_state}", r.address));
            }
        }
    }
    // Old objects of an unfinished create_before_destroy are tracked as deposed.
    for r in &state.deposed {
        let id_attr = cloud.schema(&r.rtype).unwrap().id_attr;
        let id = r.attributes[id_attr].as_str().unwrap_or_default();
        if !cloud.objects(&r.rtype).contains_key(id) {
            return Err(format!("deposed {} ({id}) is not in the cloud", r.address));
        }
        tracked += 1;
    }
    let in_cloud: usize = cloud.all().values().map(|m| m.len()).sum();
    if tracked != in_cloud {
        return Err(format!(
            "objects in the cloud not tracked: {:?}",
            cloud.all()
        ));
    }
    Ok(())
}

/// A Ui that checks the durable state against the cloud each time an operation is done.
pub(super) struct StepCheck {
    pub(super) state_path: std::path::PathBuf,
    pub(super) cloud: Arc<FakeCloud>,
    pub(super) check: bool,
    pub(super) errors: Mutex<Vec<String>>,
}

impl Ui for StepCheck {
    fn event(&self, e: Event) {
        if let (true, Event::Completed { address, .. }) = (self.check, &e) {
            // A fresh reader: the document with its journal replayed.
            let reader = LocalBackend::new(self.state_path.clone());
            if let Err(err) = state_matches_cloud(&reader, &self.cloud) {
                self.errors
                    .lock()
                    .unwrap()
                    .push(format!("after {address}: {err}"));
            }
        }
    }
}

fn actions(p: &Plan) -> Vec<(String, Action)> {
    p.changes
        .iter()
        .map(|c| (c.address.to_string(), c.action))
        .collect()
}

const TOPIC_AND_SUB: &str = r#"
resource "aws_sns_topic" "t" {
  name = "alerts"
}
resource "aws_sns_topic_subscription" "s" {
  topic_arn = aws_sns_topic.t.arn
  protocol  = "email"
  endpoint  = "ops@example.com"
}
"#;

fn op(o: Op, t: &str) -> (Op, String) {
    (o, t.to_string())
}

#[tokio::test]
async fn creates_follow_dependencies_destroys_reverse_and_a_replan_is_a_no_op() {
    let env = Env::new(TOPIC_AND_SUB);
    let (_, report) = env.apply_saved().await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(
        env.calls(),
        vec![
            op(Op::Create, "aws_sns_topic"),
            op(Op::Create, "aws_sns_topic_subscription")
        ]
    );
    let sub = env.cloud.objects("aws_sns_topic_subscription");
    let topic = env.cloud.objects("aws_sns_topic");
    assert_eq!(
        sub.values().next().unwrap()["topic_arn"],
        topic.values().next().unwrap()["arn"],
        "the subscription got the topic's ARN, known only after its create"
    );
    let again = env.plan(false).await;
    assert!(!again.has_changes(), "{:?}", actions(&again));

    let (_, report) = env.apply(true).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(
        env.calls()[2..],
        [
            op(Op::Delete, "aws_sns_topic_subscription"),
            op(Op::Delete, "aws_sns_topic")
        ]
    );
    assert!(env.cloud.all().is_empty());
    assert_eq!(env.state().iter().count(), 0);
}

#[tokio::test]
async fn an_update_is_made_in_place() {
    let env = Env::new(TOPIC_AND_SUB);
    env.apply(false).await;
    let arn = env
        .cloud
        .objects("aws_sns_topic")
        .into_keys()
        .next()
        .unwrap();
    env.write(&TOPIC_AND_SUB.replace(
        "name = \"alerts\"",
        "name = \"alerts\"\n  display_name = \"Alerts\"",
    ));
    let (p, report) = env.apply(false).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(
        actions(&p),
        vec![
            ("aws_sns_topic.t".into(), Action::Update),
            ("aws_sns_topic_subscription.s".into(), Action::NoOp)
        ]
    );
    let topics = env.cloud.objects("aws_sns_topic");
    assert_eq!(
        topics[&arn]["display_name"], "Alerts",
        "same object, updated"
    );
    assert!(!env.plan(false).await.has_changes());
}

async fn replace(create_before_destroy: bool) -> Vec<(Op, String)> {
    let env = Env::new(TOPIC_AND_SUB);
    env.apply(false).await;
    let lifecycle = if create_before_destroy {
        "\n  lifecycle {\n    create_before_destroy = true\n  }"
    } else {
        ""
    };
    env.write(&TOPIC_AND_SUB.replace(
        "name = \"alerts\"",
        &format!("name = \"alarms\"{lifecycle}"),
    ));
    // One order from a saved plan, the other from the plan's own evaluation.
    let (p, report) = if create_before_destroy {
        env.apply_saved().await
    } else {
        env.apply(false).await
    };
    assert!(report.ok(), "{report:?}");
    let expected = if create_before_destroy {
        Action::CreateThenDelete
    } else {
        Action::DeleteThenCreate
    };
    assert_eq!(actions(&p)[0], ("aws_sns_topic.t".into(), expected));
    assert!(p.changes[1].action.is_replace(), "the subscription follows");
    let names: Vec<_> = env
        .cloud
        .objects("aws_sns_topic")
        .into_values()
        .map(|o| o["name"].clone())
        .collect();
    assert_eq!(names, vec![serde_json::json!("alarms")]);
    assert!(!env.plan(false).await.has_changes());
    env.calls()[2..].to_vec()
}

#[tokio::test]
async fn a_replacement_destroys_first_by_default() {
    assert_eq!(
        replace(false).await,
        vec![
            op(Op::Delete, "aws_sns_topic_subscription"),
            op(Op::Delete, "aws_sns_topic"),
            op(Op::Create, "aws_sns_topic"),
            op(Op::Create, "aws_sns_topic_subscription"),
        ]
    );
}

#[tokio::test]
async fn a_create_before_destroy_replacement_creates_first() {
    let calls = replace(true).await;
    let pos = |o: Op, t: &str| calls.iter().position(|c| c == &op(o, t)).unwrap();
    assert!(pos(Op::Create, "aws_sns_topic") < pos(Op::Delete, "aws_sns_topic"));
    assert!(
        pos(Op::Create, "aws_sns_topic") < pos(Op::Create, "aws_sns_topic_subscription"),
        "{calls:?}"
    );
    assert!(
        pos(Op::Delete, "aws_sns_topic_subscription") < pos(Op::Delete, "aws_sns_topic"),
        "{calls:?}"
    );
}

const TWO_PAIRS: &str = r#"
resource "aws_sns_topic" "a" {
  name = "a"
}
resource "aws_sns_topic_subscription" "a" {
  topic_arn = aws_sns_topic.a.arn
  protocol  = "email"
  endpoint  = "a@example.com"
}
resource "aws_sns_topic" "b" {
  name = "b"
}
resource "aws_sns_topic_subscription" "b" {
  topic_arn = aws_sns_topic.b.arn
  protocol  = "email"
  endpoint  = "b@example.com"
}
"#;

#[tokio::test]
async fn a_failure_skips_its_dependents_and_the_rest_continues() {
    let env = Env::new(TWO_PAIRS);
    env.cloud
        .fail(Op::Create, "aws_sns_topic", 1, Failure::Before);
    let (_, report) = env.apply(false).await;
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.skipped.len(), 1, "{report:?}");
    let failed = &report.failed[0].0;
    let skipped = &report.skipped[0];
    assert_eq!(failed.resource.name, skipped.resource.name);
    assert_eq!(skipped.resource.rtype, "aws_sns_topic_subscription");
    assert_eq!(report.done.len(), 2, "the other pair is made: {report:?}");
    assert_eq!(env.state().iter().count(), 2);
    // The next run makes what is missing.
    let (p, report) = env.apply(false).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(p.counts(), (2, 0, 0));
    assert!(!env.plan(false).await.has_changes());
}

#[tokio::test]
async fn a_partial_create_is_recorded_tainted_and_replaced_next_time() {
    let env = Env::new(TOPIC_AND_SUB);
    env.cloud
        .fail(Op::Create, "aws_sns_topic", 1, Failure::Partial);
    let (_, report) = env.apply(false).await;
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.skipped.len(), 1, "{report:?}");
    let state = env.state();
    let t = state.get(&"aws_sns_topic.t".parse().unwrap()).unwrap();
    assert!(t.tainted, "the object made is tracked, tainted");
    assert_eq!(env.cloud.objects("aws_sns_topic").len(), 1);

    let (p, report) = env.apply(false).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(
        actions(&p),
        vec![
            ("aws_sns_topic.t".into(), Action::DeleteThenCreate),
            ("aws_sns_topic_subscription.s".into(), Action::Create)
        ]
    );
    assert!(!env.state().iter().any(|r| r.tainted));
    assert!(!env.plan(false).await.has_changes());
}

#[tokio::test]
async fn a_lost_answer_leaves_a_failure_and_drift_is_planned_back() {
    let env = Env::new(TOPIC_AND_SUB);
    env.apply(false).await;
    let arn = env
        .cloud
        .objects("aws_sns_topic")
        .into_keys()
        .next()
        .unwrap();
    env.cloud
        .set_attr("aws_sns_topic", &arn, "display_name", "changed".into());
    let p = env.plan(false).await;
    assert_eq!(p.drift.len(), 1);
    assert_eq!(p.changes[0].action, Action::Update);
    // The update is made but its answer lost: reported failed, the state still holds
    // the old object; the next refresh sees the change made.
    env.cloud
        .fail(Op::Update, "aws_sns_topic", 1, Failure::After);
    let (_, report) = env.apply_unchecked(false).await;
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert!(!env.plan(false).await.has_changes());
    let (p, report) = env.apply(false).await;
    assert!(report.ok() && p.drift.len() == 1, "{report:?}");
}

#[tokio::test]
async fn cloud_warnings_come_back_with_their_address() {
    let env = Env::new(TOPIC_AND_SUB);
    env.apply(false).await;
    env.cloud
        .warn_on_delete("aws_sns_topic_subscription", "kept pending confirmation");
    let (_, report) = env.apply(true).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(
        report.warnings,
        vec!["aws_sns_topic_subscription.s: kept pending confirmation".to_string()]
    );
}

#[tokio::test]
async fn destroying_topic_a_leaves_the_subscription_of_topic_ab() {
    let env = Env::new(
        r#"
resource "aws_sns_topic" "a" {
  name = "a"
}
resource "aws_sns_topic" "ab" {
  name = "ab"
}
resource "aws_sns_topic_subscription" "s" {
  topic_arn = aws_sns_topic.ab.arn
  protocol  = "email"
  endpoint  = "ab@example.com"
}
"#,
    );
    env.apply(false).await;
    let p = env
        .plan_with(PlanOptions {
            destroy: true,
            targets: vec!["aws_sns_topic.a".parse().unwrap()],
            ..PlanOptions::default()
        })
        .await;
    assert_eq!(
        actions(&p),
        vec![("aws_sns_topic.a".into(), Action::Delete)],
        "typed addresses: `a` is no prefix of `ab`"
    );
    let p = env
        .plan_with(PlanOptions {
            destroy: true,
            targets: vec!["aws_sns_topic.ab".parse().unwrap()],
            ..PlanOptions::default()
        })
        .await;
    assert_eq!(
        actions(&p),
        vec![
            ("aws_sns_topic.ab".into(), Action::Delete),
            ("aws_sns_topic_subscription.s".into(), Action::Delete)
        ]
    );
}

#[tokio::test]
async fn a_refresh_reads_a_listable_type_with_one_call_and_sees_deletions() {
    let env = Env::new(
        r#"
resource "aws_sns_topic" "t" {
  for_each = toset(["a", "b", "c"])
  name     = each.key
}
"#,
    );
    env.apply(false).await;
    env.cloud.list_reads("aws_sns_topic");
    let before = env.cloud.reads();
    let gone = env
        .cloud
        .objects("aws_sns_topic")
        .into_keys()
        .next()
        .unwrap();
    env.cloud.remove("aws_sns_topic", &gone);
    let (p, report) = env.apply(false).await;
    assert!(report.ok(), "{report:?}");
    let after = env.cloud.reads();
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (0, 1),
        "one list call, no single reads"
    );
    assert_eq!(p.drift.len(), 1);
    assert!(p.drift[0].deleted);
    assert_eq!(p.counts(), (1, 0, 0), "the deleted topic is made again");
}
