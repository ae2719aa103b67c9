//! One test file run: its run blocks in order, each with its own variables, against a
//! state of its own per configuration (the stack, or a run's `module { source }`), kept
//! in a private temporary directory; then every state destroyed, last used first. A
//! state that cannot be destroyed is kept beside the stack and named, never lost.

use super::{FileResult, Printer, RunResult, Status, TestArgs};
use crate::backend::{self, Backend};
use crate::config::eval::Scope;
use crate::config::stack::Stack;
use crate::config::vars::VarInput;
use crate::diag::{Diagnostic, Loc, Severity};
use crate::engine::{self, ApplyOptions, PlanOptions};
use crate::provider::Provider;
use crate::state::State;
use crate::testing::file::{self, Command, Run, TestFile};
use crate::testing::pipeline::{Deployed, Message, Pipeline};
use crate::value::Value;
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

/// A state this file's runs use: one per configuration directory.
pub(super) struct Slot {
    pub(super) config_dir: PathBuf,
    pub(super) path: PathBuf,
    pub(super) backend: Backend,
    /// The variables of the last run that loaded this configuration (cleanup uses them).
    pub(super) inputs: Vec<VarInput>,
}

struct FileRun<'a> {
    dir: &'a Path,
    args: &'a TestArgs,
    tmp: PathBuf,
    slots: Vec<Slot>,
    run_outputs: BTreeMap<String, Value>,
    pipelines: HashMap<PathBuf, Pipeline>,
    interrupt: watch::Receiver<bool>,
}

type Diags = Vec<Diagnostic>;

fn err(summary: &str, detail: impl Into<String>, loc: &Loc) -> Diagnostic {
    Diagnostic::error(summary, detail, Some(loc))
}

fn warning(summary: &str, detail: impl Into<String>, loc: &Loc) -> Diagnostic {
    Diagnostic::warning(summary, detail, Some(loc))
}

pub async fn run_file(
    dir: &Path,
    path: &Path,
    args: &TestArgs,
    printer: &Printer,
    interrupt: watch::Receiver<bool>,
) -> FileResult {
    let shown = path.strip_prefix(dir).unwrap_or(path).display().to_string();
    printer.line(&format!("{shown}... in progress"));
    let file = match file::load(path, dir) {
        Ok(f) => f,
        Err(d) => {
            printer.diags(&d.0);
            printer.line(&format!("{shown}... fail"));
            return FileResult {
                name: shown,
                status: Status::Error,
                runs: vec![],
                diagnostics: d.0,
            };
        }
    };
    let tmp =
        std::env::temp_dir().join(format!("thingform-test-{}", uuid::Uuid::new_v4().simple()));
    if let Err(e) = create_private_dir(&tmp) {
        let d = Diagnostic::error(
            "Cannot run the tests",
            format!("{}: {e}", tmp.display()),
            None,
        );
        printer.diags(std::slice::from_ref(&d));
        return FileResult {
            name: shown,
            status: Status::Error,
            runs: vec![],
            diagnostics: vec![d],
        };
    }
    let mut fr = FileRun {
        dir,
        args,
        tmp: tmp.clone(),
        slots: vec![],
        run_outputs: BTreeMap::new(),
        pipelines: HashMap::new(),
        interrupt,
    };
    let mut runs = vec![];
    let mut stop = false;
    for run in &file.runs {
        let r = if stop || *fr.interrupt.borrow() {
            RunResult {
                name: run.name.clone(),
                status: Status::Skip,
                diagnostics: vec![],
                publishes: vec![],
                elapsed_ms: 0,
            }
        } else {
            fr.execute(&file, run).await
        };
        // An error (not a failed assertion) leaves the state unknown to later runs.
        stop |= r.status == Status::Error;
        printer.run_done(&r);
        runs.push(r);
    }
    fr.pipelines.clear(); // local functions stop here
    printer.line(&format!("{shown}... tearing down"));
    let cleanup = fr.cleanup(&file).await;
    printer.diags(&cleanup);
    let failed_cleanup = cleanup.iter().any(|d| d.severity == Severity::Error);
    if !failed_cleanup {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    let status = if failed_cleanup || runs.iter().any(|r| r.status == Status::Error) {
        Status::Error
    } else if runs.iter().any(|r| r.status == Status::Fail) {
        Status::Fail
    } else {
        Status::Pass
    };
    printer.line(&format!("{shown}... {}", status.word()));
    FileResult {
        name: shown,
        status,
        runs,
        diagnostics: cleanup,
    }
}

pub(super) fn create_private_dir(p: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(p)
}

/// `expect_failures`: each reference, and whether it failed.
struct Expected(Vec<(String, Loc, bool)>);

impl Expected {
    /// Marks every expected reference `matches` accepts; true when one did.
    fn take(&mut self, matches: impl Fn(&str) -> bool) -> bool {
        let mut any = false;
        for (r, _, seen) in self.0.iter_mut() {
            if matches(r) {
                *seen = true;
                any = true;
            }
        }
        any
    }
    fn missing(&self, run: &str) -> Diags {
        self.0
            .iter()
            .filter(|(_, _, seen)| !seen)
            .map(|(r, loc, _)| {
                err(
                    "Missing expected failure",
                    format!("run {run:?} was expected to fail on {r}, but it did not."),
                    loc,
                )
            })
            .collect()
    }
}

/// Whether an expected reference names `addr` (a resource, or one instance of it).
fn names_address(reference: &str, addr: &crate::address::Address) -> bool {
    reference == addr.to_string() || reference == addr.resource.to_string()
}

fn eval_in(scope: &Scope, a: &crate::config::Attr) -> Result<Value, Diagnostic> {
    match scope.eval(&a.expr) {
        Ok(v) if v.has_unknown() => Err(err(
            "Unknown value",
            format!("{} depends on values known only after apply.", a.name),
            &a.loc,
        )),
        Ok(v) => Ok(v),
        Err(e) => Err(err(
            "Invalid expression",
            format!("{}: {e}", a.name),
            &a.loc,
        )),
    }
}

fn eval_string(scope: &Scope, a: &crate::config::Attr) -> Result<String, Diagnostic> {
    let v = eval_in(scope, a)?;
    v.to_template_string().ok_or_else(|| {
        err(
            "Invalid value",
            format!("{} must be a string, got {}", a.name, v.type_name()),
            &a.loc,
        )
    })
}

/// The deployed topic rules, functions and permissions of a state.
fn deployed_of(state: &State) -> Deployed {
    let mut d = Deployed::default();
    for r in state.iter() {
        if r.mode != crate::address::Mode::Managed {
            continue;
        }
        let entry = (r.address.to_string(), r.attributes.clone());
        match r.rtype.as_str() {
            "aws_iot_topic_rule" => d.rules.push(entry),
            "aws_lambda_function" => d.functions.push(entry),
            "aws_lambda_permission" => d.permissions.push(r.attributes.clone()),
            _ => {}
        }
    }
    d
}

impl FileRun<'_> {
    async fn execute(&mut self, file: &TestFile, run: &Run) -> RunResult {
        let start = Instant::now();
        let mut res = RunResult {
            name: run.name.clone(),
            status: Status::Pass,
            diagnostics: vec![],
            publishes: vec![],
            elapsed_ms: 0,
        };
        let mut expected = Expected(
            run.expect_failures
                .iter()
                .map(|(r, l)| (r.clone(), l.clone(), false))
                .collect(),
        );
        match self.steps(file, run, &mut expected, &mut res).await {
            Ok(failures) => {
                let missing = expected.missing(&run.name);
                if !failures.is_empty() || !missing.is_empty() {
                    res.status = Status::Fail;
                }
                res.diagnostics.extend(failures);
                res.diagnostics.extend(missing);
            }
            Err(errors) => {
                res.status = Status::Error;
                res.diagnostics.extend(errors);
            }
        }
        res.elapsed_ms = start.elapsed().as_millis();
        res
    }

    /// The run's variable values: the file's, then the run's (which win), evaluated with
    /// `run.NAME` (earlier runs' outputs) and `var` (the file's values) in scope.
    fn variables(
        &self,
        file: &TestFile,
        run: &Run,
    ) -> Result<BTreeMap<String, (Value, Loc)>, Diags> {
        let mut scope = Scope::new(self.dir.to_path_buf());
        scope
            .roots
            .insert("run".into(), Value::Map(self.run_outputs.clone()));
        let mut values = BTreeMap::new();
        let mut errors = vec![];
        for a in &file.variables {
            match eval_in(&scope, a) {
                Ok(v) => {
                    values.insert(a.name.clone(), (v, a.loc.clone()));
                }
                Err(d) => errors.push(d),
            }
        }
        for (k, (v, _)) in &values {
            scope.root_map("var").insert(k.clone(), v.clone());
        }
        for a in &run.variables {
            match eval_in(&scope, a) {
                Ok(v) => {
                    values.insert(a.name.clone(), (v, a.loc.clone()));
                }
                Err(d) => errors.push(d),
            }
        }
        if errors.is_empty() {
            Ok(values)
        } else {
            Err(errors)
        }
    }

    async fn slot(&mut self, config_dir: &Path, inputs: &[VarInput]) -> anyhow::Result<usize> {
        if let Some(i) = self.slots.iter().position(|s| s.config_dir == config_dir) {
            self.slots[i].inputs = inputs.to_vec();
            return Ok(i);
        }
        let path = self.tmp.join(format!("state-{}.json", self.slots.len()));
        let backend = backend::open(
            config_dir,
            &backend::Selection {
                workspace: None,
                state_path: Some(&path),
                overrides: &[],
            },
        )
        .await?;
        self.slots.push(Slot {
            config_dir: config_dir.to_path_buf(),
            path,
            backend,
            inputs: inputs.to_vec(),
        });
        Ok(self.slots.len() - 1)
    }

    /// Runs the steps; `Ok` holds the failures (assertions), `Err` the errors.
    async fn steps(
        &mut self,
        file: &TestFile,
        run: &Run,
        expected: &mut Expected,
        res: &mut RunResult,
    ) -> Result<Diags, Diags> {
        let any = |e: anyhow::Error| vec![err("Run failed", format!("{e:#}"), &run.loc)];
        let config_dir = match &run.module {
            Some((src, _)) => self.dir.join(src),
            None => self.dir.to_path_buf(),
        };
        let values = self.variables(file, run)?;
        let declared = crate::config::load_dir(&config_dir).map_err(|d| d.0)?;
        let mut inputs = self.args.vars.ordered.clone();
        for (name, (v, loc)) in &values {
            if declared.variables.contains_key(name) {
                inputs.push(VarInput::Value {
                    name: name.clone(),
                    value: v.clone(),
                    origin: format!("{} (run {:?})", file.name, run.name),
                    loc: loc.clone(),
                });
            }
        }
        let stack = match Stack::load(&config_dir, &inputs, "default") {
            Ok((s, warnings)) => {
                res.diagnostics.extend(warnings);
                s
            }
            Err(d) => {
                let errors: Vec<_> = d.errors().cloned().collect();
                let expected_vars = !errors.is_empty()
                    && errors.iter().all(|e| {
                        e.summary == "Invalid value for variable"
                            && expected.0.iter().any(|(r, _, _)| {
                                r.starts_with("var.") && e.detail.starts_with(&format!("{r} "))
                            })
                    });
                if expected_vars {
                    for e in &errors {
                        expected.take(|r| {
                            r.starts_with("var.") && e.detail.starts_with(&format!("{r} "))
                        });
                    }
                    return Ok(vec![]);
                }
                return Err(d.0);
            }
        };
        super::super::rule::check_rules(&stack)
            .into_result()
            .map_err(|d| d.0)?;
        let slot = self.slot(&config_dir, &inputs).await.map_err(any)?;
        let be = self.slots[slot].backend.clone();
        let prior = be.read().await.map_err(any)?.unwrap_or_default();
        let cloud = super::super::run::configure_cloud(&stack, self.args.parallelism)
            .await
            .map_err(any)?;
        let mut var_scope = Scope::new(self.dir.to_path_buf());
        var_scope
            .roots
            .insert("run".into(), Value::Map(self.run_outputs.clone()));
        let refresh = match &run.options.refresh {
            Some(a) => match eval_in(&var_scope, a).map_err(|d| vec![d])? {
                Value::Bool(b) => b,
                other => {
                    return Err(vec![err(
                        "Invalid value",
                        format!("refresh must be true or false, got {}", other.type_name()),
                        &a.loc,
                    )]);
                }
            },
            None => true,
        };
        let targets: Vec<String> = run.options.target.iter().map(|(t, _)| t.clone()).collect();
        let opts = PlanOptions {
            destroy: false,
            refresh,
            targets: super::super::run::parse_targets(&targets, &stack).map_err(any)?,
            parallelism: self.args.parallelism,
            refresh_only: run.options.refresh_only,
        };
        if !run.options.replace.is_empty() {
            return Err(vec![err(
                "Unsupported plan option",
                "plan_options.replace is not supported yet; change an argument that forces replacement instead.",
                &run.options.replace[0].1,
            )]);
        }
        let ui: Arc<dyn engine::Ui> = Arc::new(engine::Silent);
        let mut plan = match engine::plan(&stack, prior, cloud.as_ref(), &opts, ui.as_ref()).await {
            Ok(p) => p,
            Err(e) => {
                let text = format!("{e:#}");
                if expected.take(|r| !r.starts_with("var.") && text.contains(r)) {
                    return Ok(vec![]);
                }
                return Err(any(e));
            }
        };
        let mut failures = vec![];
        let mut checks = std::mem::take(&mut plan.checks);
        let stack = Arc::new(stack);
        if run.command == Command::Apply {
            let report = engine::apply(
                plan,
                Some(stack.clone()),
                cloud.clone(),
                be.store(),
                &ApplyOptions {
                    parallelism: self.args.parallelism,
                },
                ui.clone(),
                self.interrupt.clone(),
            )
            .await
            .map_err(any)?;
            let mut said: Vec<&String> = report.warnings.iter().collect();
            said.sort();
            said.dedup();
            if !said.is_empty() {
                let lines: Vec<String> = said.iter().map(|w| format!("- {w}")).collect();
                res.diagnostics.push(warning(
                    "Warnings from the apply",
                    lines.join("\n"),
                    &run.loc,
                ));
            }
            let mut errors = vec![];
            for (addr, _, e) in &report.failed {
                if !expected.take(|r| names_address(r, addr)) {
                    errors.push(err("Apply failed", format!("{addr}: {e}"), &run.loc));
                }
            }
            if report.interrupted {
                errors.push(err("Interrupted", "the apply was interrupted; the rest of the file is skipped and what it made is destroyed", &run.loc));
            }
            if !errors.is_empty() {
                return Err(errors);
            }
            checks = report.checks;
            // The values after apply, for the assertions: a plan without refresh.
            let after = be.read().await.map_err(any)?.unwrap_or_default();
            let quiet = PlanOptions {
                refresh: false,
                parallelism: self.args.parallelism,
                ..PlanOptions::default()
            };
            plan = engine::plan(&stack, after, cloud.as_ref(), &quiet, ui.as_ref())
                .await
                .map_err(any)?;
        }
        for c in &checks {
            if c.status == engine::plan::CheckStatus::Fail {
                let key = format!("check.{}", c.name);
                if !expected.take(|r| r == key) {
                    res.diagnostics.extend(c.diagnostics.iter().cloned());
                }
            }
        }
        // The assertions' scope: the stack's values, outputs, earlier runs' outputs, the
        // test file's own variables, then what the publishes and reads bring.
        let mut scope = plan.evaluated.take().unwrap_or_else(|| stack.base_scope());
        scope.enter(&crate::address::ModuleInstance::root());
        let mut outputs = BTreeMap::new();
        for o in &plan.outputs {
            let v = if o.after_unknown {
                Value::Unknown
            } else {
                Value::from_json(&o.after)
            };
            outputs.insert(o.name.clone(), v);
        }
        scope
            .roots
            .insert("output".into(), Value::Map(outputs.clone()));
        scope
            .roots
            .insert("run".into(), Value::Map(self.run_outputs.clone()));
        for (k, (v, _)) in &values {
            scope
                .root_map("var")
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        if !run.publishes.is_empty() || !run.data.is_empty() {
            let provider = Arc::new(
                super::super::run::configure_provider(&stack, None, self.args.parallelism)
                    .await
                    .map_err(any)?,
            );
            if !run.publishes.is_empty() {
                let state = be.read().await.map_err(any)?.unwrap_or_default();
                let deployed = deployed_of(&state);
                match self.pipelines.get_mut(&config_dir) {
                    Some(p) => p.redeploy(deployed).await,
                    None => {
                        let p = Pipeline::new(provider.clone(), &config_dir, deployed);
                        self.pipelines.insert(config_dir.clone(), p);
                    }
                }
                for (i, p) in run.publishes.iter().enumerate() {
                    let msg = Message {
                        topic: eval_string(&scope, &p.topic).map_err(|d| vec![d])?,
                        payload: match eval_in(&scope, &p.payload).map_err(|d| vec![d])? {
                            Value::String(s) => s.into_bytes(),
                            other => other.to_json().to_string().into_bytes(),
                        },
                        clientid: match &p.clientid {
                            Some(a) => Some(eval_string(&scope, a).map_err(|d| vec![d])?),
                            None => None,
                        },
                        principal: match &p.principal {
                            Some(a) => Some(eval_string(&scope, a).map_err(|d| vec![d])?),
                            None => None,
                        },
                    };
                    crate::iotsql::topic::validate_topic(&msg.topic)
                        .map_err(|e| vec![err("Invalid topic", e, &p.topic.loc)])?;
                    let pipeline = &self.pipelines[&config_dir];
                    let result = pipeline.publish(msg).await;
                    for e in result["errors"].as_array().into_iter().flatten() {
                        res.diagnostics.push(warning(
                            "Rule action failed",
                            format!(
                                "{}: {} action: {}",
                                e["rule"].as_str().unwrap_or_default(),
                                e["type"].as_str().unwrap_or_default(),
                                e["error"].as_str().unwrap_or_default()
                            ),
                            &p.loc,
                        ));
                    }
                    let label = p.label.clone().unwrap_or_else(|| format!("#{}", i + 1));
                    if let Some(l) = &p.label {
                        scope
                            .root_map("publish")
                            .insert(l.clone(), Value::from_json(&result));
                    }
                    res.publishes.push((label, result));
                }
            }
            for d in &run.data {
                let v = read_data(&provider, &scope, d).await.map_err(|d| vec![d])?;
                let data = scope.root_map("data");
                let t = data
                    .entry(d.labels[0].clone())
                    .or_insert_with(|| Value::Map(BTreeMap::new()));
                if let Value::Map(m) = t {
                    m.insert(d.labels[1].clone(), v);
                }
            }
        }
        for a in &run.asserts {
            match scope.eval(&a.condition.expr) {
                Ok(Value::Bool(true)) => {}
                Ok(Value::Bool(false)) => {
                    let msg = scope
                        .eval(&a.error_message.expr)
                        .ok()
                        .and_then(|m| m.to_template_string())
                        .unwrap_or_else(|| "(the error_message could not be evaluated)".into());
                    failures.push(err("Test assertion failed", msg, &a.condition.loc));
                }
                Ok(Value::Unknown) => failures.push(err(
                    "Unknown condition value",
                    "The condition depends on values known only after apply; use command = apply for this run.",
                    &a.condition.loc,
                )),
                Ok(other) => failures.push(err(
                    "Invalid condition",
                    format!("The condition must be true or false, got {}.", other.type_name()),
                    &a.condition.loc,
                )),
                Err(e) => failures.push(err("Invalid condition", e, &a.condition.loc)),
            }
        }
        self.run_outputs
            .insert(run.name.clone(), Value::Map(outputs));
        Ok(failures)
    }

    /// Destroys every state this file used, last used first.
    async fn cleanup(&mut self, file: &TestFile) -> Diags {
        let mut out = vec![];
        // Cleanup runs even after a Ctrl-C stopped the runs: with an interrupt of its own.
        let (_keep, never) = watch::channel(false);
        for slot in self.slots.iter().rev() {
            match super::cleanup::destroy(slot, self.args.parallelism, never.clone()).await {
                Ok(()) => {}
                Err(e) => {
                    let kept = super::cleanup::keep_state(self.dir, file, slot);
                    out.push(Diagnostic::error(
                        "Failed to clean up after the tests",
                        format!(
                            "{e:#}\nThe objects the tests made in {} are still in AWS. Their state is kept in {kept}; destroy them with\n    thingform destroy -state={kept} {}",
                            slot.config_dir.display(),
                            slot.config_dir.display()
                        ),
                        None,
                    ));
                }
            }
        }
        out
    }
}

/// A run's `data` block read after the publishes.
async fn read_data(
    provider: &Provider,
    scope: &Scope,
    d: &crate::config::BlockNode,
) -> Result<Value, Diagnostic> {
    let ty = &d.labels[0];
    let Some(ds) = crate::provider::data::data_source(ty) else {
        return Err(err(
            "Unknown data source",
            format!(
                "thingform has no data source {ty:?}.{}",
                crate::diag::did_you_mean(ty, crate::provider::data::registry().keys().copied())
            ),
            &d.loc,
        ));
    };
    if let Some(b) = d.blocks.first() {
        return Err(err(
            "Unsupported block",
            format!(
                "a run's data block takes arguments only; {:?} is a block",
                b.kind
            ),
            &b.loc,
        ));
    }
    let schema = ds.schema();
    let mut attrs = Map::new();
    for a in &d.attrs {
        if schema.block.get_attr(&a.name).is_none() {
            return Err(err(
                "Unsupported argument",
                format!(
                    "{ty} has no argument {:?}.{}",
                    a.name,
                    crate::diag::did_you_mean(&a.name, schema.block.names())
                ),
                &a.loc,
            ));
        }
        attrs.insert(a.name.clone(), eval_in(scope, a)?.to_json());
    }
    let read = match ds.read_local(&attrs) {
        Some(r) => r,
        None => ds.read(provider, &attrs).await,
    };
    let out: Map<String, Json> = read.map_err(|e| {
        err(
            "Data source read failed",
            format!("data.{ty}.{}: {e:#}", d.labels[1]),
            &d.loc,
        )
    })?;
    Ok(Value::from_json(&Json::Object(out)))
}
