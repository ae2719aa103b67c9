//! A test file (`*.tftest.hcl`), read as `terraform test` reads it: file-level
//! `variables {}` and `run "NAME" {}` blocks with `command`, `variables`, `assert`,
//! `expect_failures`, `plan_options` and `module { source }`; plus thingform's pipeline
//! steps inside a run: `publish "LABEL" { topic, payload, clientid, principal }` and
//! `data "TYPE" "NAME" {}` blocks read after the publishes (what landed).

use crate::config::{Attr, BlockNode, parse_file};
use crate::diag::{Diagnostic, Diagnostics, Loc};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Plan,
    Apply,
}

#[derive(Debug, Clone)]
pub struct Assert {
    pub condition: Attr,
    pub error_message: Attr,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub struct Publish {
    pub label: Option<String>,
    pub topic: Attr,
    pub payload: Attr,
    pub clientid: Option<Attr>,
    pub principal: Option<Attr>,
    pub loc: Loc,
}

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub refresh_only: bool,
    pub refresh: Option<Attr>,
    pub replace: Vec<(String, Loc)>,
    pub target: Vec<(String, Loc)>,
}

#[derive(Debug, Clone)]
pub struct Run {
    pub name: String,
    pub loc: Loc,
    pub command: Command,
    pub variables: Vec<Attr>,
    pub asserts: Vec<Assert>,
    /// `expect_failures`: references (`var.x`, `check.c`, `aws_x.y`, `output.o`) as written.
    pub expect_failures: Vec<(String, Loc)>,
    pub publishes: Vec<Publish>,
    pub data: Vec<BlockNode>,
    pub options: PlanOptions,
    /// `module { source = "./dir" }`: the configuration this run uses instead of the
    /// stack (relative to the stack directory); it has its own state.
    pub module: Option<(String, Loc)>,
}

#[derive(Debug, Clone)]
pub struct TestFile {
    pub path: PathBuf,
    /// The path as shown (relative to the stack directory).
    pub name: String,
    pub variables: Vec<Attr>,
    pub runs: Vec<Run>,
}

/// The test files of a stack directory: `DIR/*.tftest.hcl` and `DIR/TESTS/*.tftest.hcl`,
/// sorted by path.
pub fn discover(dir: &Path, tests_dir: &str) -> Vec<PathBuf> {
    let mut out = vec![];
    for d in [dir.to_path_buf(), dir.join(tests_dir)] {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_file()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(".tftest.hcl"))
                {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn unsupported(diags: &mut Diagnostics, what: &str, loc: &Loc, hint: &str) {
    diags.push(Diagnostic::error(
        "Unsupported test file content",
        format!("{what} is not supported in thingform test files. {hint}"),
        Some(loc),
    ));
}

/// A list of references (`[var.a, aws_x.y]`) as written.
fn references(a: &Attr, diags: &mut Diagnostics, what: &str) -> Vec<(String, Loc)> {
    match &a.expr {
        hcl::Expression::Array(items) => items
            .iter()
            .map(|e| {
                (
                    hcl::format::to_string(e)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                    a.loc.clone(),
                )
            })
            .collect(),
        _ => {
            diags.push(Diagnostic::error(
                "Invalid value",
                format!(
                    "{what} must be a list of references, such as [var.name, aws_s3_bucket.b]."
                ),
                Some(&a.loc),
            ));
            vec![]
        }
    }
}

fn string_literal(a: &Attr, diags: &mut Diagnostics, what: &str) -> Option<String> {
    match &a.expr {
        hcl::Expression::String(s) => Some(s.clone()),
        hcl::Expression::Variable(v) => Some(v.to_string()),
        hcl::Expression::Traversal(_) => hcl::format::to_string(&a.expr).ok(),
        _ => {
            diags.push(Diagnostic::error(
                "Invalid value",
                format!("{what} must be written literally here."),
                Some(&a.loc),
            ));
            None
        }
    }
}

fn run_block(b: &BlockNode, diags: &mut Diagnostics) -> Option<Run> {
    let name = match b.labels.as_slice() {
        [n] => n.clone(),
        _ => {
            diags.push(Diagnostic::error(
                "Invalid run block",
                "A run block takes one label, its name: run \"deploy\" { ... }.",
                Some(&b.loc),
            ));
            return None;
        }
    };
    let mut run = Run {
        name,
        loc: b.loc.clone(),
        command: Command::Apply,
        variables: vec![],
        asserts: vec![],
        expect_failures: vec![],
        publishes: vec![],
        data: vec![],
        options: PlanOptions::default(),
        module: None,
    };
    for a in &b.attrs {
        match a.name.as_str() {
            "command" => match string_literal(a, diags, "command").as_deref() {
                Some("apply") => run.command = Command::Apply,
                Some("plan") => run.command = Command::Plan,
                Some(other) => diags.push(Diagnostic::error(
                    "Invalid command",
                    format!("command = {other}: write command = apply or command = plan."),
                    Some(&a.loc),
                )),
                None => {}
            },
            "expect_failures" => {
                run.expect_failures = references(a, diags, "expect_failures");
            }
            "providers" | "state_key" | "parallel" => unsupported(
                diags,
                &format!("`{}` in a run block", a.name),
                &a.loc,
                "Configure the provider in the stack; runs use one state per configuration and run in order.",
            ),
            other => diags.push(Diagnostic::error(
                "Unsupported argument",
                format!(
                    "A run block has no argument {other:?}.{} It takes command, variables, assert, expect_failures, plan_options, module, publish and data.",
                    crate::diag::did_you_mean(other, ["command", "expect_failures"].into_iter())
                ),
                Some(&a.loc),
            )),
        }
    }
    for nb in &b.blocks {
        match nb.kind.as_str() {
            "variables" => run.variables.extend(nb.attrs.iter().cloned()),
            "assert" => match (nb.attr("condition"), nb.attr("error_message")) {
                (Some(c), Some(m)) => run.asserts.push(Assert {
                    condition: c.clone(),
                    error_message: m.clone(),
                    loc: nb.loc.clone(),
                }),
                _ => diags.push(Diagnostic::error(
                    "Invalid assert block",
                    "An assert block needs condition = <bool> and error_message = \"...\".",
                    Some(&nb.loc),
                )),
            },
            "publish" => {
                let (Some(topic), Some(payload)) = (nb.attr("topic"), nb.attr("payload")) else {
                    diags.push(Diagnostic::error(
                        "Invalid publish block",
                        "A publish block needs topic = \"a/topic\" and payload = jsonencode({...}) (or a string).",
                        Some(&nb.loc),
                    ));
                    continue;
                };
                for a in &nb.attrs {
                    if !["topic", "payload", "clientid", "principal"].contains(&a.name.as_str()) {
                        diags.push(Diagnostic::error(
                            "Unsupported argument",
                            format!("A publish block has no argument {:?}; it takes topic, payload, clientid and principal.", a.name),
                            Some(&a.loc),
                        ));
                    }
                }
                if nb.labels.len() > 1 {
                    diags.push(Diagnostic::error(
                        "Invalid publish block",
                        "A publish block takes at most one label, the name its results are read by: publish \"hot\" { ... } -> publish.hot.",
                        Some(&nb.loc),
                    ));
                }
                run.publishes.push(Publish {
                    label: nb.labels.first().cloned(),
                    topic: topic.clone(),
                    payload: payload.clone(),
                    clientid: nb.attr("clientid").cloned(),
                    principal: nb.attr("principal").cloned(),
                    loc: nb.loc.clone(),
                });
            }
            "data" => {
                if nb.labels.len() != 2 {
                    diags.push(Diagnostic::error(
                        "Invalid data block",
                        "A data block takes two labels: data \"aws_s3_object\" \"raw\" { ... }.",
                        Some(&nb.loc),
                    ));
                    continue;
                }
                run.data.push(nb.clone());
            }
            "plan_options" => {
                for a in &nb.attrs {
                    match a.name.as_str() {
                        "mode" => match string_literal(a, diags, "mode").as_deref() {
                            Some("refresh-only") => run.options.refresh_only = true,
                            Some("normal") => run.options.refresh_only = false,
                            Some(m) => diags.push(Diagnostic::error(
                                "Invalid plan mode",
                                format!("mode = {m}: write normal or refresh-only."),
                                Some(&a.loc),
                            )),
                            None => {}
                        },
                        "refresh" => run.options.refresh = Some(a.clone()),
                        "replace" => run.options.replace = references(a, diags, "replace"),
                        "target" => run.options.target = references(a, diags, "target"),
                        other => diags.push(Diagnostic::error(
                            "Unsupported argument",
                            format!("plan_options has no argument {other:?}; it takes mode, refresh, replace and target."),
                            Some(&a.loc),
                        )),
                    }
                }
            }
            "module" => match nb.attr("source") {
                Some(src) => {
                    if let Some(s) = string_literal(src, diags, "source") {
                        if !(s.starts_with("./") || s.starts_with("../")) {
                            diags.push(Diagnostic::error(
                                "Unsupported module source",
                                format!("source = {s:?}: a run's module must be a local directory (\"./...\")."),
                                Some(&src.loc),
                            ));
                        }
                        run.module = Some((s, src.loc.clone()));
                    }
                }
                None => diags.push(Diagnostic::error(
                    "Invalid module block",
                    "A run's module block needs source = \"./dir\".",
                    Some(&nb.loc),
                )),
            },
            other => diags.push(Diagnostic::error(
                "Unsupported block",
                format!(
                    "A run block has no {other:?} block; it takes variables, assert, plan_options, module, publish and data."
                ),
                Some(&nb.loc),
            )),
        }
    }
    Some(run)
}

/// Reads one test file. Every mistake is reported with its location.
pub fn load(path: &Path, stack_dir: &Path) -> Result<TestFile, Diagnostics> {
    let name = path
        .strip_prefix(stack_dir)
        .unwrap_or(path)
        .display()
        .to_string();
    let shown = crate::config::display_path(path);
    let src = std::fs::read(path).map_err(|e| {
        Diagnostics(vec![Diagnostic::error(
            "Cannot read test file",
            format!("{shown}: {e}"),
            None,
        )])
    })?;
    let src = String::from_utf8(src).map_err(|e| {
        Diagnostics(vec![Diagnostic::error(
            "Invalid test file",
            format!("{shown} is not UTF-8 text ({e})"),
            None,
        )])
    })?;
    let root = parse_file(&shown, &src).map_err(|d| Diagnostics(vec![d]))?;
    let mut diags = Diagnostics::default();
    let mut file = TestFile {
        path: path.to_path_buf(),
        name,
        variables: vec![],
        runs: vec![],
    };
    for a in &root.attrs {
        diags.push(Diagnostic::error(
            "Unexpected argument",
            format!(
                "{} = ... at the top of a test file; put it in a variables {{}} block.",
                a.name
            ),
            Some(&a.loc),
        ));
    }
    for b in &root.blocks {
        match b.kind.as_str() {
            "variables" => file.variables.extend(b.attrs.iter().cloned()),
            "run" => {
                if let Some(r) = run_block(b, &mut diags) {
                    if file.runs.iter().any(|x| x.name == r.name) {
                        diags.push(Diagnostic::error(
                            "Duplicate run block",
                            format!("run {:?} is already declared in this file; give each run its own name.", r.name),
                            Some(&r.loc),
                        ));
                    }
                    file.runs.push(r);
                }
            }
            "provider" | "mock_provider" | "override_resource" | "override_data"
            | "override_module" => unsupported(
                &mut diags,
                &format!("A {} block", b.kind),
                &b.loc,
                "Tests run against the stack's own provider configuration (point it at the emulator with AWS_ENDPOINT_URL).",
            ),
            other => diags.push(Diagnostic::error(
                "Unsupported block",
                format!("A test file has no {other:?} block; it takes variables and run blocks."),
                Some(&b.loc),
            )),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(src: &str) -> Result<TestFile, Diagnostics> {
        let d = tempfile_dir();
        let p = d.join("a.tftest.hcl");
        std::fs::write(&p, src).unwrap();
        let r = load(&p, &d);
        std::fs::remove_dir_all(&d).unwrap();
        r
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("tftest-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn reads_runs_in_order_with_their_steps() {
        let f = load_str(
            r#"
variables { env = "t" }
run "first" {
  command = plan
  variables { n = 2 }
  assert {
    condition     = var.n == 2
    error_message = "n"
  }
  expect_failures = [var.n, aws_s3_bucket.b]
}
run "second" {
  publish "hot" {
    topic   = "a/b"
    payload = jsonencode({ t = 1 })
  }
  data "aws_s3_object" "o" {
    bucket = "b"
    key    = publish.hot.s3[0].key
  }
  plan_options { mode = refresh-only }
}
"#,
        )
        .unwrap();
        assert_eq!(f.variables.len(), 1);
        assert_eq!(f.runs.len(), 2);
        assert_eq!(f.runs[0].command, Command::Plan);
        assert_eq!(f.runs[0].asserts.len(), 1);
        let ef: Vec<_> = f.runs[0]
            .expect_failures
            .iter()
            .map(|x| x.0.as_str())
            .collect();
        assert_eq!(ef, ["var.n", "aws_s3_bucket.b"]);
        assert_eq!(f.runs[1].command, Command::Apply);
        assert_eq!(f.runs[1].publishes[0].label.as_deref(), Some("hot"));
        assert_eq!(f.runs[1].data[0].labels, ["aws_s3_object", "o"]);
        assert!(f.runs[1].options.refresh_only);
    }

    #[test]
    fn mistakes_are_located() {
        let e = load_str("run \"a\" {\n  comand = apply\n}\n").unwrap_err();
        let d = &e.0[0];
        assert!(d.detail.contains("Did you mean \"command\"?"), "{d:?}");
        assert_eq!(d.loc.as_ref().map(|l| l.line), Some(2));
        let e = load_str("run \"a\" {}\nrun \"a\" {}\n").unwrap_err();
        assert!(e.0[0].summary.contains("Duplicate run"));
        let e = load_str("run \"a\" {\n  assert { condition = true }\n}\n").unwrap_err();
        assert!(e.0[0].detail.contains("error_message"));
        let e = load_str("mock_provider \"aws\" {}\n").unwrap_err();
        assert!(e.0[0].detail.contains("not supported"));
        let e = load_str("run \"a\" {\n  command = destroy\n}\n").unwrap_err();
        assert!(e.0[0].detail.contains("command = plan"));
    }
}
