//! `check` blocks run at the end of plan and of apply: each scoped data source is read,
//! then each assertion evaluated. Nothing here fails a run: results are warnings, as
//! Terraform reports them.

use crate::address::ResourceId;
use crate::config::checks::{Assert, CheckBlock};
use crate::config::eval::Scope;
use crate::config::stack::{Expansion, Stack};
use crate::diag::Diagnostic;
use crate::engine::diff::{merge_computed, normalize, normalize_json};
use crate::provider::cloud::Cloud;
use crate::value::Value;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Fail,
    Error,
    Unknown,
}

/// The result of one `check` block.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub status: CheckStatus,
    /// The error messages of the assertions that failed (`-json`'s `problems`).
    pub problems: Vec<String>,
    /// What to print, all warnings: failed assertions (their error_message, at their
    /// condition), assertions known only after apply, a scoped data source that failed.
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckResult {
    pub fn address(&self) -> String {
        format!("check.{}", self.name)
    }

    /// The result as `terraform show -json` writes it in `checks`.
    pub fn to_json(&self) -> Json {
        let problems: Vec<Json> = self
            .problems
            .iter()
            .map(|m| serde_json::json!({ "message": m }))
            .collect();
        serde_json::json!({
            "address": { "kind": "check", "name": self.name, "to_display": self.address() },
            "status": self.status,
            "instances": [{
                "address": { "to_display": self.address() },
                "status": self.status,
                "problems": problems,
            }],
        })
    }
}

pub const KNOWN_AFTER_APPLY: &str = "Check block assertion known after apply";
pub const FAILED: &str = "Check block assertion failed";

/// Runs every check of `stack` against `scope` (which holds every object's value).
/// `deferred` says whether a resource still has changes to make (a scoped data source
/// that depends on one is read only during apply); `warnings` receives the cloud's.
pub async fn run_checks(
    stack: &Stack,
    scope: &mut Scope,
    cloud: &dyn Cloud,
    deferred: &(dyn Fn(&ResourceId) -> bool + Sync),
    warnings: &mut Vec<String>,
) -> Vec<CheckResult> {
    let mut out = vec![];
    for c in &stack.module.checks {
        let mut diagnostics = vec![];
        if let Some(d) = &c.data {
            let v = read_scoped(stack, c, scope, cloud, deferred, &mut diagnostics, warnings).await;
            stack.set_resource(scope, &d.id, v);
        }
        let mut problems = vec![];
        let mut statuses = vec![];
        for a in &c.asserts {
            let (status, diag) = assertion(c, a, scope);
            if status == CheckStatus::Fail {
                problems.push(diag.as_ref().map(|d| d.detail.clone()).unwrap_or_default());
            }
            statuses.push(status);
            diagnostics.extend(diag);
        }
        let status = [CheckStatus::Fail, CheckStatus::Error, CheckStatus::Unknown]
            .into_iter()
            .find(|s| statuses.contains(s))
            .unwrap_or(CheckStatus::Pass);
        out.push(CheckResult {
            name: c.name.clone(),
            status,
            problems,
            diagnostics,
        });
    }
    out
}

/// The scoped data source's value: unknown when its configuration is, when it waits
/// for a resource with changes, or when the read failed (a warning, never an error).
async fn read_scoped(
    stack: &Stack,
    c: &CheckBlock,
    scope: &mut Scope,
    cloud: &dyn Cloud,
    deferred: &(dyn Fn(&ResourceId) -> bool + Sync),
    diagnostics: &mut Vec<Diagnostic>,
    warnings: &mut Vec<String>,
) -> Value {
    let Some(rc) = &c.data else {
        return Value::Null;
    };
    let Some(ds) = cloud.data_source(&rc.id.rtype) else {
        return Value::Unknown;
    };
    let schema = &ds.schema().block;
    let exp = Expansion {
        key: None,
        each: None,
    };
    let config = match stack.eval_instance(rc, &exp, scope) {
        Ok(v) => normalize(&v, schema),
        Err(d) => {
            diagnostics.extend(d.0.into_iter().map(as_warning));
            return Value::Unknown;
        }
    };
    if config.has_unknown() || rc.depends_on.iter().any(|(r, _)| deferred(r)) {
        return merge_computed(&config, None, schema);
    }
    let cfg = config.to_json().as_object().cloned().unwrap_or_default();
    let addr = rc.id.instance(None);
    let result = match ds.read_local(&cfg) {
        Some(r) => r,
        None => cloud
            .read_data(&rc.id.rtype, &cfg)
            .await
            .take(&addr, warnings),
    };
    match result {
        Ok(attrs) => Value::from_json(&normalize_json(&Json::Object(attrs), schema)),
        Err(e) => {
            diagnostics.push(Diagnostic::warning(
                "Error reading data source",
                format!("{addr} (in check \"{}\"): {e:#}", c.name),
                Some(&rc.loc),
            ));
            Value::Unknown
        }
    }
}

fn as_warning(mut d: Diagnostic) -> Diagnostic {
    d.severity = crate::diag::Severity::Warning;
    d
}

/// One assertion: its status and the warning to print, if any.
fn assertion(c: &CheckBlock, a: &Assert, scope: &Scope) -> (CheckStatus, Option<Diagnostic>) {
    let loc = Some(&a.condition.loc);
    let invalid = |detail: String| {
        (
            CheckStatus::Error,
            Some(Diagnostic::warning("Invalid condition result", detail, loc)),
        )
    };
    let passed = match scope.eval(&a.condition.expr) {
        Err(e) => return invalid(format!("check \"{}\": {e}", c.name)),
        Ok(v) if v.has_unknown() => {
            return (
                CheckStatus::Unknown,
                Some(Diagnostic::warning(
                    KNOWN_AFTER_APPLY,
                    "The condition could not be evaluated at this time, a result will be known when this plan is applied.",
                    loc,
                )),
            );
        }
        Ok(Value::Bool(b)) => b,
        Ok(Value::String(s)) if s == "true" || s == "false" => s == "true",
        Ok(Value::Null) => {
            return invalid(
                "Condition expression must return either true or false, not null.".into(),
            );
        }
        Ok(other) => {
            return invalid(format!(
                "Invalid condition result value: a bool is required, got {}.",
                other.type_name()
            ));
        }
    };
    if passed {
        return (CheckStatus::Pass, None);
    }
    let message = match scope.eval(&a.error_message.expr) {
        Ok(v) if v.has_unknown() => "(the error message is known only after apply)".to_string(),
        Ok(v) => match v.to_template_string() {
            Some(s) => s,
            None => {
                return invalid(format!(
                    "Unsuitable value for error message: string required, got {}.",
                    v.type_name()
                ));
            }
        },
        Err(e) => return invalid(format!("Invalid error message: {e}")),
    };
    (
        CheckStatus::Fail,
        Some(Diagnostic::warning(FAILED, message, loc)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{ApplyOptions, PlanOptions, Silent, apply, plan};
    use crate::provider::fake::FakeCloud;
    use crate::state::local::LocalBackend;
    use std::sync::Arc;

    const STACK: &str = r#"
variable "fifo" {
  default = false
}
resource "aws_sns_topic" "t" {
  name       = var.fifo ? "alerts.fifo" : "alerts"
  fifo_topic = var.fifo
}
check "topic" {
  assert {
    condition     = aws_sns_topic.t.arn != ""
    error_message = "no ARN"
  }
  assert {
    condition     = aws_sns_topic.t.fifo_topic
    error_message = "${aws_sns_topic.t.name} is not a FIFO topic"
  }
}
check "name" {
  assert {
    condition     = aws_sns_topic.t.name != ""
    error_message = "empty name"
  }
}
"#;

    async fn run(dir: &std::path::Path, cloud: &Arc<FakeCloud>) -> (Plan, Vec<CheckResult>) {
        let (stack, _) = Stack::load(dir, &[], "default").unwrap();
        let backend = LocalBackend::new(dir.join("state.json"));
        let prior = backend.read().unwrap().unwrap_or_default();
        let opts = PlanOptions {
            parallelism: 1,
            ..PlanOptions::default()
        };
        let p = plan(&stack, prior, cloud.as_ref(), &opts, &Silent)
            .await
            .unwrap();
        let (_tx, rx) = tokio::sync::watch::channel(false);
        let report = apply(
            p.clone(),
            Some(Arc::new(stack)),
            cloud.clone(),
            Arc::new(backend),
            &ApplyOptions { parallelism: 1 },
            Arc::new(Silent),
            rx,
        )
        .await
        .unwrap();
        assert!(report.ok(), "checks never fail an apply: {report:?}");
        (p, report.checks)
    }

    fn statuses(r: &[CheckResult]) -> Vec<(String, CheckStatus)> {
        r.iter().map(|c| (c.name.clone(), c.status)).collect()
    }

    use crate::engine::Plan;

    #[tokio::test]
    async fn unknown_at_plan_then_warnings_after_apply_then_fixed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), STACK).unwrap();
        let cloud = Arc::new(FakeCloud::new());
        let (p, applied) = run(dir.path(), &cloud).await;
        // At plan time the ARN is unknown: that assertion is known after apply; the
        // known one already fails; the name check passes.
        let topic = &p.checks[0];
        assert_eq!(topic.status, CheckStatus::Fail);
        let summaries: Vec<&str> = topic
            .diagnostics
            .iter()
            .map(|d| d.summary.as_str())
            .collect();
        assert_eq!(summaries, [KNOWN_AFTER_APPLY, FAILED]);
        assert_eq!(topic.diagnostics[0].loc.as_ref().unwrap().line, 11);
        assert_eq!(p.checks[1].status, CheckStatus::Pass);
        // After apply every value is known: one failure, with its message and place.
        assert_eq!(
            statuses(&applied),
            [
                ("topic".into(), CheckStatus::Fail),
                ("name".into(), CheckStatus::Pass)
            ]
        );
        let d = &applied[0].diagnostics;
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].summary, FAILED);
        assert_eq!(d[0].severity, crate::diag::Severity::Warning);
        assert_eq!(d[0].detail, "alerts is not a FIFO topic");
        assert_eq!(d[0].loc.as_ref().unwrap().line, 15);
        assert_eq!(applied[0].problems, ["alerts is not a FIFO topic"]);
        // Fixing the configuration makes the check pass (the topic is replaced).
        std::fs::write(
            dir.path().join("main.tf"),
            STACK.replace("default = false", "default = true"),
        )
        .unwrap();
        let (_, applied) = run(dir.path(), &cloud).await;
        assert_eq!(
            statuses(&applied),
            [
                ("topic".into(), CheckStatus::Pass),
                ("name".into(), CheckStatus::Pass)
            ]
        );
        assert!(applied.iter().all(|c| c.diagnostics.is_empty()));
    }

    #[tokio::test]
    async fn a_scoped_data_source_with_unknown_inputs_is_read_during_apply() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("main.tf"),
            r#"
resource "aws_sns_topic" "t" {
  name = "alerts"
}
check "policy" {
  data "aws_iam_policy_document" "d" {
    statement {
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.t.arn]
    }
  }
  assert {
    condition     = length(data.aws_iam_policy_document.d.json) > 0
    error_message = "the policy does not name the topic"
  }
}
"#,
        )
        .unwrap();
        let cloud = Arc::new(FakeCloud::new());
        let (p, applied) = run(dir.path(), &cloud).await;
        // At plan time the data source's input is unknown: it is not read yet.
        assert_eq!(p.checks[0].status, CheckStatus::Unknown);
        assert_eq!(p.checks[0].diagnostics[0].summary, KNOWN_AFTER_APPLY);
        assert_eq!(applied[0].status, CheckStatus::Pass, "{applied:?}");
        // The scoped data source is not a resource of the stack: nothing in state.
        let state = LocalBackend::new(dir.path().join("state.json"))
            .read()
            .unwrap()
            .unwrap();
        assert_eq!(state.iter().count(), 1);
    }
}
