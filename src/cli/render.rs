//! Rendering of plans, progress and values in Terraform's visual language, and of
//! plans as `terraform show -json`-shaped JSON.

mod compact;
pub use compact::plan_compact;

use crate::engine::plan::{Action, OutputChange, Plan, ResourceChange};
use crate::provider::{self, schema::Block};
use crate::value::{Value, format_number};
use serde_json::{Value as Json, json};
use std::fmt::Write;

const SENSITIVE: &str = "(sensitive value)";

fn symbol(a: Action) -> &'static str {
    match a {
        Action::Create => "+",
        Action::Update => "~",
        Action::Delete => "-",
        Action::DeleteThenCreate => "-/+",
        Action::CreateThenDelete => "+/-",
        Action::NoOp => " ",
    }
}

fn heading(c: &ResourceChange) -> String {
    let what = match c.action {
        Action::Create => "will be created".to_string(),
        Action::Update => "will be updated in-place".to_string(),
        Action::Delete if c.deposed => "(deposed object) will be destroyed".to_string(),
        Action::Delete => "will be destroyed".to_string(),
        Action::DeleteThenCreate | Action::CreateThenDelete => "must be replaced".to_string(),
        Action::NoOp => "has no changes".to_string(),
    };
    let mut s = format!("  # {} {what}", c.address);
    if let Some(id) = &c.importing {
        s = if c.action == Action::NoOp {
            format!("  # {} will be imported (id {id:?})", c.address)
        } else {
            format!("{s}\n  # (imported from id {id:?})")
        };
    }
    if let Some(r) = &c.reason
        && c.action == Action::Delete
        && r != "destroy"
    {
        let _ = write!(s, "\n  # (because {r})");
    }
    s
}

/// A scalar or collection as HCL would print it, on one line when short.
fn literal(v: &Value, sensitive: bool) -> String {
    if sensitive && !v.is_null() {
        return SENSITIVE.into();
    }
    match v {
        Value::Unknown => "(known after apply)".into(),
        Value::Null => "null".into(),
        Value::String(s) => {
            if s.contains('\n') {
                format!("<<-EOT\n{}\nEOT", s.trim_end_matches('\n'))
            } else {
                Json::String(s.clone()).to_string()
            }
        }
        Value::Number(n) => format_number(*n),
        Value::Bool(b) => b.to_string(),
        Value::List(l) => format!(
            "[{}]",
            l.iter()
                .map(|x| literal(x, false))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Map(m) => format!(
            "{{ {} }}",
            m.iter()
                .map(|(k, x)| format!("{} = {}", key(k), literal(x, false)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn key(k: &str) -> String {
    if k.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !k.starts_with(|c: char| c.is_ascii_digit())
    {
        k.to_string()
    } else {
        Json::String(k.to_string()).to_string()
    }
}

/// JSON policies print as jsonencode({...}) for readability when they change.
fn pretty_json_string(s: &str) -> Option<String> {
    let j: Json = serde_json::from_str(s).ok()?;
    if !j.is_object() && !j.is_array() {
        return None;
    }
    Some(format!(
        "jsonencode({})",
        serde_json::to_string_pretty(&j).ok()?
    ))
}

struct Printer {
    out: String,
}

impl Printer {
    fn line(&mut self, indent: usize, sym: &str, text: &str) {
        let pad = " ".repeat(indent);
        let sym = if sym.trim().is_empty() { " " } else { sym };
        let _ = writeln!(self.out, "{pad}  {sym} {text}");
    }

    /// The closing brace of a block or map opened by `line` at `indent`.
    fn close(&mut self, indent: usize) {
        let _ = writeln!(self.out, "{}}}", " ".repeat(indent + 4));
    }

    /// Prints a block body: attributes aligned, then nested blocks.
    fn body(
        &mut self,
        indent: usize,
        before: Option<&Value>,
        after: Option<&Value>,
        schema: &Block,
        forces: &[String],
        top: bool,
    ) {
        let width = schema
            .attrs
            .iter()
            .filter(|a| {
                let b = before
                    .and_then(|v| v.get(a.name))
                    .cloned()
                    .unwrap_or(Value::Null);
                let x = after
                    .and_then(|v| v.get(a.name))
                    .cloned()
                    .unwrap_or(Value::Null);
                !(b.is_empty_like() && x.is_empty_like())
            })
            .map(|a| a.name.len())
            .max()
            .unwrap_or(0);
        let mut hidden = 0;
        let mut attrs: Vec<_> = schema.attrs.iter().collect();
        attrs.sort_by_key(|a| a.name);
        for a in attrs {
            let b = before
                .and_then(|v| v.get(a.name))
                .cloned()
                .unwrap_or(Value::Null);
            let x = after
                .and_then(|v| v.get(a.name))
                .cloned()
                .unwrap_or(Value::Null);
            let name = format!("{:width$}", a.name);
            let force = if top && forces.iter().any(|f| f == a.name) {
                " # forces replacement"
            } else {
                ""
            };
            match (before.is_some(), after.is_some()) {
                (false, true) => {
                    if x.is_empty_like() {
                        continue;
                    }
                    self.value(indent, "+", &name, &x, a.sensitive);
                }
                (true, false) => {
                    if b.is_empty_like() {
                        continue;
                    }
                    self.value(indent, "-", &name, &b, a.sensitive);
                }
                _ => {
                    let same = !x.has_unknown()
                        && crate::value::json_equivalent(&b.to_json(), &x.to_json());
                    if same {
                        if matches!(a.name, "id" | "name" | "bucket" | "arn") && !b.is_null() && top
                        {
                            self.line(
                                indent,
                                " ",
                                &format!("{name} = {}", literal(&b, a.sensitive)),
                            );
                        } else if !b.is_null() {
                            hidden += 1;
                        }
                        continue;
                    }
                    if b.is_null() {
                        self.value(indent, "+", &name, &x, a.sensitive);
                    } else if x.is_null() {
                        self.line(
                            indent,
                            "-",
                            &format!("{name} = {} -> null{force}", literal(&b, a.sensitive)),
                        );
                    } else if let (Value::Map(bm), Value::Map(xm)) = (&b, &x) {
                        self.line(indent, "~", &format!("{name} = {{{force}"));
                        let keys: std::collections::BTreeSet<&String> =
                            bm.keys().chain(xm.keys()).collect();
                        let kw = keys.iter().map(|k| key(k).len()).max().unwrap_or(0);
                        for k in keys {
                            let kk = format!("{:kw$}", key(k));
                            match (bm.get(k), xm.get(k)) {
                                (Some(p), Some(q)) if p == q => self.line(
                                    indent + 4,
                                    " ",
                                    &format!("{kk} = {}", literal(p, a.sensitive)),
                                ),
                                (Some(p), Some(q)) => self.line(
                                    indent + 4,
                                    "~",
                                    &format!(
                                        "{kk} = {} -> {}",
                                        literal(p, a.sensitive),
                                        literal(q, a.sensitive)
                                    ),
                                ),
                                (Some(p), None) => self.line(
                                    indent + 4,
                                    "-",
                                    &format!("{kk} = {} -> null", literal(p, a.sensitive)),
                                ),
                                (None, Some(q)) => self.line(
                                    indent + 4,
                                    "+",
                                    &format!("{kk} = {}", literal(q, a.sensitive)),
                                ),
                                (None, None) => {}
                            }
                        }
                        self.close(indent);
                    } else if let (Value::String(p), Value::String(q)) = (&b, &x) {
                        match (pretty_json_string(p), pretty_json_string(q)) {
                            (Some(pp), Some(qq)) if !a.sensitive => {
                                self.line(indent, "~", &format!("{name} = {force}"));
                                let diff = similar::TextDiff::from_lines(&pp, &qq);
                                for change in diff.iter_all_changes() {
                                    let sym = match change.tag() {
                                        similar::ChangeTag::Delete => "-",
                                        similar::ChangeTag::Insert => "+",
                                        similar::ChangeTag::Equal => " ",
                                    };
                                    self.line(
                                        indent + 4,
                                        sym,
                                        change.value().trim_end_matches('\n'),
                                    );
                                }
                            }
                            _ => self.line(
                                indent,
                                "~",
                                &format!(
                                    "{name} = {} -> {}{force}",
                                    literal(&b, a.sensitive),
                                    literal(&x, a.sensitive)
                                ),
                            ),
                        }
                    } else {
                        self.line(
                            indent,
                            "~",
                            &format!(
                                "{name} = {} -> {}{force}",
                                literal(&b, a.sensitive),
                                literal(&x, a.sensitive)
                            ),
                        );
                    }
                }
            }
        }
        for nb in &schema.blocks {
            let bl = before
                .and_then(|v| v.get(nb.name))
                .and_then(Value::as_list)
                .cloned()
                .unwrap_or_default();
            let xl = after
                .and_then(|v| v.get(nb.name))
                .and_then(Value::as_list)
                .cloned()
                .unwrap_or_default();
            let force = if top && forces.iter().any(|f| f == nb.name) {
                " # forces replacement"
            } else {
                ""
            };
            if before.is_some()
                && after.is_some()
                && crate::value::json_equivalent(
                    &Value::List(bl.clone()).to_json(),
                    &Value::List(xl.clone()).to_json(),
                )
                && !Value::List(xl.clone()).has_unknown()
            {
                if !bl.is_empty() {
                    hidden += 1;
                }
                continue;
            }
            let n = bl.len().max(xl.len());
            for i in 0..n {
                let (b, x) = (bl.get(i), xl.get(i));
                let (sym, bb, xx) = match (before.is_some(), after.is_some(), b, x) {
                    (false, true, _, Some(x)) => ("+", None, Some(x)),
                    (true, false, Some(b), _) => ("-", Some(b), None),
                    (true, true, Some(b), Some(x)) => ("~", Some(b), Some(x)),
                    (true, true, None, Some(x)) => ("+", None, Some(x)),
                    (true, true, Some(b), None) => ("-", Some(b), None),
                    _ => continue,
                };
                if sym == "~"
                    && crate::value::json_equivalent(
                        &bb.map(Value::to_json).unwrap_or_default(),
                        &xx.map(Value::to_json).unwrap_or_default(),
                    )
                    && !xx.map(Value::has_unknown).unwrap_or(false)
                {
                    continue;
                }
                self.line(indent, sym, &format!("{} {{{force}", nb.name));
                self.body(indent + 4, bb, xx, &nb.block, forces, false);
                self.close(indent);
            }
        }
        if hidden > 0 && before.is_some() && after.is_some() {
            self.line(
                indent,
                " ",
                &format!("# ({hidden} unchanged attributes hidden)"),
            );
        }
    }

    fn value(&mut self, indent: usize, sym: &str, name: &str, v: &Value, sensitive: bool) {
        match v {
            Value::Map(m) if !sensitive && !m.is_empty() => {
                self.line(indent, sym, &format!("{name} = {{"));
                let kw = m.keys().map(|k| key(k).len()).max().unwrap_or(0);
                for (k, x) in m {
                    self.line(
                        indent + 4,
                        sym,
                        &format!("{:kw$} = {}", key(k), literal(x, false)),
                    );
                }
                self.close(indent);
            }
            Value::String(s) if !sensitive && pretty_json_string(s).is_some() => {
                let p = pretty_json_string(s).unwrap_or_default();
                let mut lines = p.lines();
                self.line(
                    indent,
                    sym,
                    &format!("{name} = {}", lines.next().unwrap_or_default()),
                );
                for l in lines {
                    self.line(indent + 2, " ", l);
                }
            }
            _ => self.line(indent, sym, &format!("{name} = {}", literal(v, sensitive))),
        }
    }
}

fn schema_of(rtype: &str) -> Block {
    provider::resource_type(rtype)
        .map(|t| t.schema().block.clone())
        .unwrap_or_default()
}

pub fn resource_change(c: &ResourceChange) -> String {
    let schema = schema_of(&c.rtype);
    let mut p = Printer { out: String::new() };
    let _ = writeln!(p.out, "{}", heading(c));
    let before = (!c.before.is_null()).then(|| Value::from_json(&c.before));
    let after = (!c.after.is_null()).then(|| c.planned_value());
    let (b, a) = match c.action {
        Action::Create => (None, after.as_ref()),
        Action::Delete => (before.as_ref(), None),
        _ => (before.as_ref(), after.as_ref()),
    };
    let res = &c.address.resource;
    let sym = symbol(c.action);
    let _ = writeln!(
        p.out,
        "{sym:>3} resource \"{}\" \"{}\" {{",
        res.rtype, res.name
    );
    p.body(4, b, a, &schema, &c.replace_paths, true);
    let _ = writeln!(p.out, "    }}");
    p.out
}

fn output_line(o: &OutputChange) -> String {
    let after = if o.after_unknown {
        Value::Unknown
    } else {
        Value::from_json(&o.after)
    };
    let before = o.before.as_ref().map(Value::from_json);
    match (&before, o.after.is_null() && !o.after_unknown) {
        (None, _) => format!("  + {} = {}", o.name, literal(&after, o.sensitive)),
        (Some(b), true) => format!("  - {} = {} -> null", o.name, literal(b, o.sensitive)),
        (Some(b), false) => format!(
            "  ~ {} = {} -> {}",
            o.name,
            literal(b, o.sensitive),
            literal(&after, o.sensitive)
        ),
    }
}

/// The whole plan, as `terraform plan` prints it: the changes, then the warnings of
/// the `check` blocks.
pub fn plan_human(plan: &Plan) -> String {
    let mut s = plan_changes(plan);
    for d in plan.checks.iter().flat_map(|c| &c.diagnostics) {
        let _ = write!(s, "\n{d}");
    }
    s
}

fn plan_changes(plan: &Plan) -> String {
    let mut s = String::new();
    let drifted: Vec<_> = plan.drift.iter().collect();
    if !drifted.is_empty() {
        s.push_str("\nNote: Objects have changed outside of thingform\n\nthingform detected the following changes made outside of thingform since the last apply:\n\n");
        for d in drifted {
            if d.deleted {
                let _ = writeln!(s, "  # {} has been deleted", d.address);
            } else {
                let _ = writeln!(
                    s,
                    "  # {} has changed: {}",
                    d.address,
                    d.attributes.join(", ")
                );
            }
        }
        s.push('\n');
    }
    if plan.refresh_only {
        if plan.drift.is_empty() {
            s.push_str("\nNo changes. Your infrastructure still matches the state.\n");
        } else {
            s.push_str("This is a refresh-only plan, so thingform will not take any actions to undo these. If you were expecting these changes then you can apply this plan to record the updated values in the state without changing any remote objects.\n");
        }
        return s;
    }
    let changes: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp || c.importing.is_some())
        .collect();
    let outputs: Vec<&OutputChange> = plan.outputs.iter().filter(|o| o.changed).collect();
    for m in &plan.moves {
        let _ = writeln!(s, "\n  # {} has moved to {}", m.from, m.to);
    }
    for a in &plan.forgets {
        let _ = writeln!(
            s,
            "\n  # {a} will no longer be managed by thingform\n    (a removed block with lifecycle {{ destroy = false }}: the object stays in AWS, only the state forgets it)"
        );
    }
    let forget = if plan.forgets.is_empty() {
        String::new()
    } else {
        format!(", {} to forget", plan.forgets.len())
    };
    if changes.is_empty() {
        if outputs.is_empty() && !(plan.moves.is_empty() && plan.forgets.is_empty()) {
            let _ = writeln!(s, "\nPlan: 0 to add, 0 to change, 0 to destroy{forget}.");
        } else if outputs.is_empty() {
            s.push_str("\nNo changes. Your infrastructure matches the configuration.\n\nthingform has compared your real infrastructure against your configuration and found no differences, so no changes are needed.\n");
        } else {
            s.push_str("\nChanges to Outputs:\n");
            for o in outputs {
                let _ = writeln!(s, "{}", output_line(o));
            }
            s.push_str("\nYou can apply this plan to save these new output values to the state, without changing any real infrastructure.\n");
        }
        return s;
    }
    let mut symbols = vec![];
    let has = |f: &dyn Fn(Action) -> bool| changes.iter().any(|c| f(c.action));
    if has(&|a| a == Action::Create) {
        symbols.push("  + create");
    }
    if has(&|a| a == Action::Update) {
        symbols.push("  ~ update in-place");
    }
    if has(&|a| a == Action::Delete) {
        symbols.push("  - destroy");
    }
    if has(&|a| a == Action::DeleteThenCreate) {
        symbols.push("-/+ destroy and then create replacement");
    }
    if has(&|a| a == Action::CreateThenDelete) {
        symbols.push("+/- create replacement and then destroy");
    }
    let _ = writeln!(
        s,
        "\nthingform used the live AWS state to generate the following execution plan. Resource actions are indicated with the following symbols:\n{}\n\nthingform will perform the following actions:\n",
        symbols.join("\n")
    );
    for c in &changes {
        s.push_str(&resource_change(c));
        s.push('\n');
    }
    let (add, change, destroy) = plan.counts();
    let imports = plan
        .changes
        .iter()
        .filter(|c| c.importing.is_some())
        .count();
    if imports > 0 {
        let _ = writeln!(
            s,
            "Plan: {imports} to import, {add} to add, {change} to change, {destroy} to destroy{forget}."
        );
    } else {
        let _ = writeln!(
            s,
            "Plan: {add} to add, {change} to change, {destroy} to destroy{forget}."
        );
    }
    if !outputs.is_empty() {
        s.push_str("\nChanges to Outputs:\n");
        for o in outputs {
            let _ = writeln!(s, "{}", output_line(o));
        }
    }
    for w in &plan.warnings {
        let _ = writeln!(s, "\nWarning: {w}");
    }
    s
}

/// Replaces sensitive attribute values with null; returns the sensitivity mask.
pub(super) fn redact(rtype: &str, v: &Json) -> (Json, Json) {
    let schema = schema_of(rtype);
    let mut out = v.clone();
    let mut mask = serde_json::Map::new();
    if let Some(o) = out.as_object_mut() {
        for a in schema.attrs.iter().filter(|a| a.sensitive) {
            if let Some(x) = o.get_mut(a.name)
                && !x.is_null()
            {
                *x = Json::Null;
                mask.insert(a.name.to_string(), Json::Bool(true));
            }
        }
    }
    (out, Json::Object(mask))
}

/// The plan in the shape of `terraform show -json` (format 1.2).
pub fn plan_json(plan: &Plan) -> Json {
    let changes: Vec<Json> = plan
        .changes
        .iter()
        .map(|c| {
            let (before, before_sensitive) = redact(&c.rtype, &plan.object_before(c));
            let (after, after_sensitive) = redact(&c.rtype, &plan.object_after(c));
            let mut j = json!({
                "address": c.address.to_string(),
                "mode": "managed",
                "type": c.rtype,
                "name": c.address.resource.name,
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "change": {
                    "actions": c.action.terraform_actions(),
                    "before": before,
                    "after": after,
                    "after_unknown": c.after_unknown(),
                    "before_sensitive": before_sensitive,
                    "after_sensitive": after_sensitive,
                    "replace_paths": c.replace_paths.iter().map(|p| json!([p])).collect::<Vec<_>>(),
                },
            });
            if let Some(m) = plan.moves.iter().find(|m| m.to == c.address) {
                j["previous_address"] = json!(m.from.to_string());
            }
            if let Some(k) = &c.address.key {
                j["index"] = serde_json::to_value(k).unwrap_or(Json::Null);
            }
            if c.deposed {
                j["deposed"] = json!("deposed");
            }
            if let Some(id) = &c.importing {
                j["change"]["importing"] = json!({ "id": id });
            }
            if c.action.is_replace() {
                j["action_reason"] = json!(if c.reason.is_some() {
                    "replace_because_tainted"
                } else {
                    "replace_because_cannot_update"
                });
            }
            if c.action == Action::Delete
                && c.reason.as_deref() == Some("no longer in the configuration")
            {
                j["action_reason"] = json!("delete_because_no_resource_config");
            }
            j
        })
        .collect();
    let outputs: serde_json::Map<String, Json> = plan
        .outputs
        .iter()
        .map(|o| {
            let actions = match (&o.before, o.after.is_null() && !o.after_unknown, o.changed) {
                (_, _, false) => vec!["no-op"],
                (None, _, _) => vec!["create"],
                (Some(_), true, _) => vec!["delete"],
                (Some(_), false, _) => vec!["update"],
            };
            let hide = |v: &Json| if o.sensitive { Json::Null } else { v.clone() };
            (
                o.name.clone(),
                json!({
                    "actions": actions,
                    "before": o.before.as_ref().map(hide),
                    "after": hide(&o.after),
                    "after_unknown": o.after_unknown,
                    "before_sensitive": o.sensitive,
                    "after_sensitive": o.sensitive,
                }),
            )
        })
        .collect();
    let drift: Vec<Json> = plan
        .drift
        .iter()
        .map(|d| json!({"address": d.address.to_string(), "deleted": d.deleted, "changed_attributes": d.attributes}))
        .collect();
    json!({
        "format_version": "1.2",
        "thingform_version": plan.thingform_version,
        "applyable": plan.has_changes(),
        "errored": false,
        "resource_changes": changes,
        "output_changes": outputs,
        "resource_drift": drift,
        "warnings": plan.warnings,
        "checks": plan.checks.iter().map(|c| c.to_json()).collect::<Vec<_>>(),
    })
}

/// An attribute map as `state show` prints it.
pub fn attributes_human(rtype: &str, name: &str, attrs: &serde_json::Map<String, Json>) -> String {
    let schema = schema_of(rtype);
    let mut p = Printer { out: String::new() };
    let _ = writeln!(p.out, "resource \"{rtype}\" \"{name}\" {{");
    let v = Value::from_json(&Json::Object(attrs.clone()));
    p.body(0, None, Some(&v), &schema, &[], true);
    p.out.push_str("}\n");
    // Body lines carry a "+" marker for creation; state show prints plain attributes.
    p.out
        .lines()
        .map(|l| l.replacen(" + ", "   ", 1))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// An output value as Terraform prints it: short values on one line, collections one
/// element per line.
pub fn output_value(v: &Json) -> String {
    fn pretty(v: &Value, indent: usize) -> String {
        let pad = "  ".repeat(indent + 1);
        let end = "  ".repeat(indent);
        match v {
            Value::Map(m) if !m.is_empty() => {
                let w = m.keys().map(|k| key(k).len()).max().unwrap_or(0);
                let body: Vec<String> = m
                    .iter()
                    .map(|(k, x)| format!("{pad}{:w$} = {}", key(k), pretty(x, indent + 1)))
                    .collect();
                format!("{{\n{}\n{end}}}", body.join("\n"))
            }
            Value::List(l) if l.len() > 1 => {
                let body: Vec<String> = l
                    .iter()
                    .map(|x| format!("{pad}{},", pretty(x, indent + 1)))
                    .collect();
                format!("[\n{}\n{end}]", body.join("\n"))
            }
            other => literal(other, false),
        }
    }
    pretty(&Value::from_json(v), 0)
}
