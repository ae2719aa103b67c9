//! `thingform test`: Terraform's `terraform test` for a stack, extended for pipelines.
//! Each `*.tftest.hcl` file (in the stack directory and its `tests/`) runs its `run`
//! blocks in order against the configured endpoint with a state of its own (never the
//! stack's), then destroys what it made, in reverse order of the states it used. A run
//! plans or applies, publishes messages through the deployed topic rules (performing
//! their actions, running Lambda functions locally), reads what landed through data
//! sources, and checks its assertions. `run.rs` runs one file; this module finds the
//! files, prints as Terraform does and picks the exit code.

mod cleanup;
mod run;

use super::args::VarFlags;
use crate::diag::Diagnostic;
use crate::testing::file;
use clap::Args;
use serde_json::{Value as Json, json};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct TestArgs {
    #[command(flatten)]
    pub vars: VarFlags,
    /// Run only these test files (repeatable; a path relative to the stack directory)
    #[arg(long = "filter", value_name = "FILE")]
    pub filter: Vec<String>,
    /// The directory of test files, relative to the stack directory
    #[arg(long = "test-directory", default_value = "tests", value_name = "DIR")]
    pub test_directory: String,
    /// Machine-readable results, one JSON document
    #[arg(long = "json")]
    pub json: bool,
    /// Also write the results as JUnit XML (one testsuite per file, one testcase per run)
    #[arg(long = "junit-xml", value_name = "FILE")]
    pub junit_xml: Option<PathBuf>,
    /// Print what each publish did (matches, actions, Lambda responses)
    #[arg(long = "verbose")]
    pub verbose: bool,
    /// Operations at once in each apply
    #[arg(long = "parallelism", default_value_t = 10)]
    pub parallelism: usize,
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Error,
    Skip,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Skip => "skip",
        }
    }
}

/// One run block's outcome.
pub struct RunResult {
    pub name: String,
    pub status: Status,
    pub diagnostics: Vec<Diagnostic>,
    pub publishes: Vec<(String, Json)>,
    pub elapsed_ms: u128,
}

/// One file's outcome.
pub struct FileResult {
    pub name: String,
    pub status: Status,
    pub runs: Vec<RunResult>,
    /// Errors of the file itself (unreadable, cleanup failed).
    pub diagnostics: Vec<Diagnostic>,
}

/// How the results are shown while they come.
pub struct Printer {
    pub json: bool,
    pub verbose: bool,
}

impl Printer {
    fn line(&self, s: &str) {
        if !self.json {
            println!("{s}");
        }
    }
    fn diags(&self, d: &[Diagnostic]) {
        if !self.json {
            for x in d {
                eprintln!("{x}");
            }
        }
    }
    pub fn run_done(&self, r: &RunResult) {
        self.line(&format!("  run \"{}\"... {}", r.name, r.status.word()));
        if self.verbose && !self.json {
            for (label, p) in &r.publishes {
                println!("{}", describe_publish(label, p));
            }
        }
        self.diags(&r.diagnostics);
    }
    pub fn warn(&self, d: &Diagnostic) {
        if !self.json {
            eprintln!("{d}");
        }
    }
}

/// A publish's result in a few lines: what matched and what each action did.
pub fn describe_publish(label: &str, p: &Json) -> String {
    let mut out = format!(
        "    publish {label} to {}: matched {}\n",
        p["topic"].as_str().unwrap_or_default(),
        match p["matched"].as_array() {
            Some(l) if !l.is_empty() => l
                .iter()
                .filter_map(Json::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            _ => "no rule".into(),
        }
    );
    for a in p["actions"].as_array().into_iter().flatten() {
        let what = a["result"]
            .as_str()
            .or(a["error"].as_str())
            .unwrap_or_default();
        out.push_str(&format!(
            "      {}{} {} ({}): {what}\n",
            if a["error_action"] == json!(true) {
                "error_action "
            } else {
                ""
            },
            a["type"].as_str().unwrap_or_default(),
            a["status"].as_str().unwrap_or_default(),
            a["rule"].as_str().unwrap_or_default(),
        ));
        if let Some(r) = a.get("response").filter(|r| !r.is_null()) {
            out.push_str(&format!("        response: {r}\n"));
        }
    }
    out.trim_end().to_string()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The results as JUnit XML, as `terraform test -junit-xml` writes them.
fn junit(results: &[FileResult]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for f in results {
        let count = |s: Status| f.runs.iter().filter(|r| r.status == s).count();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" skipped=\"{}\" failures=\"{}\" errors=\"{}\">\n",
            xml_escape(&f.name),
            f.runs.len(),
            count(Status::Skip),
            count(Status::Fail),
            count(Status::Error)
        ));
        for r in &f.runs {
            let text = r
                .diagnostics
                .iter()
                .filter(|d| d.severity == crate::diag::Severity::Error)
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n");
            out.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\">",
                xml_escape(&r.name),
                xml_escape(&f.name),
                r.elapsed_ms as f64 / 1000.0
            ));
            match r.status {
                Status::Pass => {}
                Status::Skip => out.push_str("<skipped/>"),
                Status::Fail => out.push_str(&format!(
                    "<failure message=\"Test run failed\">{}</failure>",
                    xml_escape(&text)
                )),
                Status::Error => out.push_str(&format!(
                    "<error message=\"Encountered an error\">{}</error>",
                    xml_escape(&text)
                )),
            }
            out.push_str("</testcase>\n");
        }
        if !f.diagnostics.is_empty() {
            let text: Vec<String> = f.diagnostics.iter().map(|d| d.to_string()).collect();
            out.push_str(&format!(
                "    <system-err>{}</system-err>\n",
                xml_escape(&text.join("\n"))
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

pub async fn test(a: TestArgs) -> anyhow::Result<i32> {
    let dir = a.dir.clone();
    if !dir.is_dir() {
        anyhow::bail!("{} is not a directory", dir.display());
    }
    let mut files = file::discover(&dir, &a.test_directory);
    if !a.filter.is_empty() {
        let wanted: Vec<PathBuf> = a.filter.iter().map(|f| dir.join(f)).collect();
        for w in &wanted {
            if !files.contains(w) {
                anyhow::bail!(
                    "-filter={}: no such test file; test files end in .tftest.hcl and live in {} or {}",
                    w.strip_prefix(&dir).unwrap_or(w).display(),
                    dir.display(),
                    dir.join(&a.test_directory).display()
                );
            }
        }
        files.retain(|f| wanted.contains(f));
    }
    let printer = Printer {
        json: a.json,
        verbose: a.verbose,
    };
    if files.is_empty() {
        if a.json {
            println!(
                "{}",
                json!({"files": [], "passed": 0, "failed": 0, "errored": 0, "skipped": 0})
            );
        } else {
            println!(
                "No test files found in {} or {} (test files end in .tftest.hcl).",
                dir.display(),
                dir.join(&a.test_directory).display()
            );
        }
        return Ok(0);
    }
    let interrupt = super::ui::interrupt_channel();
    let mut results = vec![];
    for path in &files {
        let r = run::run_file(&dir, path, &a, &printer, interrupt.clone()).await;
        results.push(r);
        if *interrupt.borrow() {
            break;
        }
    }
    let count = |s: Status| {
        results
            .iter()
            .flat_map(|f| &f.runs)
            .filter(|r| r.status == s)
            .count()
    };
    let (passed, failed, errored, skipped) = (
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Error),
        count(Status::Skip),
    );
    let file_errors = results.iter().any(|f| f.status != Status::Pass);
    if let Some(path) = &a.junit_xml {
        std::fs::write(path, junit(&results))
            .map_err(|e| anyhow::anyhow!("cannot write -junit-xml {}: {e}", path.display()))?;
    }
    if a.json {
        let files: Vec<Json> = results
            .iter()
            .map(|f| {
                json!({
                    "path": f.name,
                    "status": f.status.word(),
                    "diagnostics": f.diagnostics,
                    "runs": f.runs.iter().map(|r| json!({
                        "name": r.name,
                        "status": r.status.word(),
                        "elapsed_ms": r.elapsed_ms as u64,
                        "diagnostics": r.diagnostics,
                        "publish": r.publishes.iter().map(|(l, p)| json!({"label": l, "result": p})).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "files": files, "passed": passed, "failed": failed, "errored": errored, "skipped": skipped,
            }))?
        );
    } else {
        let mut tail = format!("{passed} passed, {failed} failed");
        if errored > 0 {
            tail.push_str(&format!(", {errored} errored"));
        }
        if skipped > 0 {
            tail.push_str(&format!(", {skipped} skipped"));
        }
        if file_errors || failed + errored > 0 {
            println!("\nFailure! {tail}.");
        } else {
            println!("\nSuccess! {tail}.");
        }
    }
    Ok(if file_errors || failed + errored > 0 {
        1
    } else {
        0
    })
}
