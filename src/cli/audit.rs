//! `thingform audit`: Device Defender's checks (and the pipeline checks) on the stack and
//! its state, before anything is deployed; also the warnings a plan prints.

use super::args::{StateFlags, VarFlags};
use super::{load_stack, open_backend, workspace};
use crate::audit::{CHECKS, Finding, audit};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct AuditArgs {
    #[command(flatten)]
    pub vars: VarFlags,
    #[command(flatten)]
    pub state: StateFlags,
    /// Machine-readable output: {"checks": [...], "findings": [...]}
    #[arg(long = "json")]
    pub json: bool,
    /// Exit with 2 when there are findings
    #[arg(long = "strict")]
    pub strict: bool,
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

fn line(f: &Finding) -> String {
    format!(
        "{} {} ({}) {}: {}",
        format!("{:?}", f.severity).to_uppercase(),
        f.check,
        f.reason,
        f.resource,
        f.message
    )
}

/// The findings as plan warnings (printed after the plan, on stderr).
pub fn print_plan_warnings(findings: &[Finding]) {
    for f in findings {
        eprintln!("Warning: audit: {}", line(f));
    }
    if !findings.is_empty() {
        eprintln!(
            "(`thingform audit` lists them; `-json` for machines, `-strict` to fail on them)"
        );
    }
}

pub async fn run(a: AuditArgs) -> anyhow::Result<i32> {
    let stack = load_stack(&a.dir, &a.vars, &workspace(&a.dir, &a.state))?;
    let be = open_backend(&a.dir, &a.state).await?;
    let state = be.read().await?;
    let findings = audit(&stack, state.as_ref());
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "checks": CHECKS,
                "noncompliant": findings.len(),
                "findings": findings,
            }))?
        );
    } else if findings.is_empty() {
        println!("Audit passed: {} checks, no findings.", CHECKS.len());
    } else {
        for f in &findings {
            println!("{}", line(f));
        }
        println!(
            "\n{} finding{} from {} checks.",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
            CHECKS.len()
        );
    }
    Ok(if a.strict && !findings.is_empty() {
        2
    } else {
        0
    })
}
