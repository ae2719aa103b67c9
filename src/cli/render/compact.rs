//! `plan -compact`: one line per changed resource instance (symbol, address, what
//! changes), then the counts — a reviewable summary of a fleet-sized plan.

use crate::engine::plan::{Action, Plan};
use std::fmt::Write;

pub fn plan_compact(plan: &Plan) -> String {
    let mut s = String::new();
    for d in &plan.drift {
        let what = if d.deleted {
            "deleted outside thingform".to_string()
        } else {
            format!("changed outside thingform: {}", d.attributes.join(", "))
        };
        let _ = writeln!(s, "  ! {}  ({what})", d.address);
    }
    for m in &plan.moves {
        let _ = writeln!(s, "  > {}  (moved from {})", m.to, m.from);
    }
    let mut shown = 0;
    for c in &plan.changes {
        if c.action == Action::NoOp && c.importing.is_none() {
            continue;
        }
        shown += 1;
        let sym = match c.action {
            Action::Create => "+",
            Action::Update => "~",
            Action::Delete => "-",
            Action::DeleteThenCreate => "-/+",
            Action::CreateThenDelete => "+/-",
            Action::NoOp => "<=",
        };
        let mut why = vec![];
        if let Some(id) = &c.importing {
            why.push(format!("import {id}"));
        }
        match c.action {
            Action::Update => why.push(c.changed.join(", ")),
            a if a.is_replace() => {
                if c.replace_paths.is_empty() {
                    why.push(c.reason.clone().unwrap_or_else(|| "replace".into()));
                } else {
                    why.push(format!("{} forces replacement", c.replace_paths.join(", ")));
                }
            }
            Action::Delete => why.extend(c.reason.iter().filter(|r| *r != "destroy").cloned()),
            _ => {}
        }
        if c.deposed {
            why.push("deposed object".into());
        }
        why.retain(|w| !w.is_empty());
        let why = if why.is_empty() {
            String::new()
        } else {
            format!("  ({})", why.join("; "))
        };
        let _ = writeln!(s, "{sym:>3} {}{why}", c.address);
    }
    if plan.refresh_only {
        let _ = writeln!(
            s,
            "\nRefresh-only plan: {} object(s) changed outside thingform.",
            plan.drift.len()
        );
        return s;
    }
    if shown == 0 && !plan.has_changes() {
        s.push_str("No changes. Your infrastructure matches the configuration.\n");
        return s;
    }
    let (add, change, destroy) = plan.counts();
    let outputs = plan.outputs.iter().filter(|o| o.changed).count();
    let _ = write!(
        s,
        "\nPlan: {add} to add, {change} to change, {destroy} to destroy."
    );
    if outputs > 0 {
        let _ = write!(s, " {outputs} output(s) change.");
    }
    s.push('\n');
    for w in &plan.warnings {
        let _ = writeln!(s, "\nWarning: {w}");
    }
    s
}
