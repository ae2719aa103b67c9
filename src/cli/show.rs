//! `thingform show [FILE]`: the state, or a saved plan, for people (as `terraform show`),
//! as `-json` (the shape of `terraform show -json`) or as one `-html` page; and
//! `thingform completions SHELL`. Sensitive values are hidden in every form.

use super::args::{Cli, CompletionsArgs, ShowArgs};
use super::{open_backend, render, workspace};
use crate::config::stack::Stack;
use crate::engine::Plan;
use crate::state::State;
use crate::view::{self, Model, layout};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::path::Path;

/// What `show` shows.
enum Shown {
    Plan(Box<Plan>),
    State(Box<State>),
}

pub async fn show(a: ShowArgs) -> anyhow::Result<i32> {
    let (shown, title) = match &a.file {
        Some(path) => (read_file(path)?, path.display().to_string()),
        None => {
            let st = open_backend(&a.dir, &a.state)
                .await?
                .read()
                .await?
                .unwrap_or_default();
            let ws = workspace(&a.dir, &a.state);
            let dir = std::fs::canonicalize(&a.dir).unwrap_or(a.dir.clone());
            (
                Shown::State(Box::new(st)),
                format!("{} (workspace {ws})", dir.display()),
            )
        }
    };
    if a.html {
        let model = match &shown {
            Shown::Plan(p) => {
                let (add, change, destroy) = p.counts();
                Model::from_plan(
                    p,
                    &format!(
                        "Plan {title}: {add} to add, {change} to change, {destroy} to destroy"
                    ),
                )
            }
            Shown::State(s) => Model::from_state(s, &format!("State of {title}")),
        };
        print!("{}", view::html::page(&model));
        return Ok(0);
    }
    match (&shown, a.json) {
        (Shown::Plan(p), true) => println!("{}", render::plan_json(p)),
        (Shown::Plan(p), false) => print!("{}", render::plan_human(p)),
        (Shown::State(s), true) => println!("{}", state_json(s)),
        (Shown::State(s), false) => print!("{}", state_human(s)),
    }
    Ok(0)
}

/// A plan file or a state file, told apart by their fields.
fn read_file(path: &Path) -> anyhow::Result<Shown> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let what = |e: &dyn std::fmt::Display| {
        anyhow::anyhow!(
            "{} is neither a thingform plan file (`thingform plan -out FILE`) nor a state file: {e}",
            path.display()
        )
    };
    let j: Json = serde_json::from_str(&text).map_err(|e| what(&e))?;
    if j.get("changes").is_some() && j.get("config_hash").is_some() {
        let plan: Plan = serde_json::from_value(j).map_err(|e| what(&e))?;
        Ok(Shown::Plan(Box::new(plan)))
    } else if j.get("resources").is_some() && j.get("lineage").is_some() {
        let st = State::parse(&text, &path.display().to_string()).map_err(|e| what(&e))?;
        Ok(Shown::State(Box::new(st)))
    } else {
        Err(what(&"it has neither `changes` nor `resources`"))
    }
}

/// As `terraform show` prints a state: each instance's attributes, then the outputs.
pub fn state_human(st: &State) -> String {
    if st.resources.is_empty() && st.outputs.is_empty() {
        return "The state file is empty. No resources are represented.\n".into();
    }
    let mut s = String::new();
    for r in st.iter() {
        s.push_str(&format!(
            "# {}:{}\n",
            r.address,
            if r.tainted { " (tainted)" } else { "" }
        ));
        s.push_str(&render::attributes_human(&r.rtype, &r.name, &r.attributes));
        s.push('\n');
    }
    if !st.outputs.is_empty() {
        s.push_str("\nOutputs:\n\n");
        for (k, o) in &st.outputs {
            let v = if o.sensitive {
                "(sensitive value)".to_string()
            } else {
                render::output_value(&o.value)
            };
            s.push_str(&format!("{k} = {v}\n"));
        }
    }
    s
}

/// The state in the shape of `terraform show -json` (`values.root_module`, one
/// `child_modules` entry per module instance), sensitive values null.
pub fn state_json(st: &State) -> Json {
    let mut root = vec![];
    let mut modules: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for r in st.iter() {
        let (values, sensitive) = render::redact(&r.rtype, &Json::Object(r.attributes.clone()));
        let mut j = json!({
            "address": r.address.to_string(),
            "mode": if r.address.resource.mode == crate::address::Mode::Data { "data" } else { "managed" },
            "type": r.rtype,
            "name": r.name,
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "schema_version": 0,
            "values": values,
            "sensitive_values": sensitive,
        });
        if let Some(k) = &r.index_key {
            j["index"] = serde_json::to_value(k).unwrap_or(Json::Null);
        }
        if r.tainted {
            j["tainted"] = json!(true);
        }
        if !r.dependencies.is_empty() {
            j["depends_on"] = json!(r.dependencies);
        }
        let (module, _, _) = view::split_address(&r.address.to_string());
        if module.is_empty() {
            root.push(j);
        } else {
            modules.entry(module).or_default().push(j);
        }
    }
    let outputs: serde_json::Map<String, Json> = st
        .outputs
        .iter()
        .map(|(k, o)| {
            let value = if o.sensitive {
                Json::Null
            } else {
                o.value.clone()
            };
            (k.clone(), json!({"sensitive": o.sensitive, "value": value}))
        })
        .collect();
    let mut root_module = json!({ "resources": root });
    if !modules.is_empty() {
        root_module["child_modules"] = modules
            .into_iter()
            .map(|(address, resources)| json!({"address": address, "resources": resources}))
            .collect();
    }
    json!({
        "format_version": "1.0",
        "thingform_version": st.thingform_version,
        "serial": st.serial,
        "lineage": st.lineage,
        "values": { "outputs": outputs, "root_module": root_module },
    })
}

/// The stack's resource graph as an SVG picture (`graph -format svg`): an arrow from
/// each resource to those that depend on it.
pub fn stack_svg(stack: &Stack) -> String {
    let ids: Vec<_> = stack.resources.keys().collect();
    let index: BTreeMap<String, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.to_string(), i))
        .collect();
    let nodes: Vec<layout::Node> = ids
        .iter()
        .map(|id| layout::Node {
            id: id.to_string(),
            label: id.to_string(),
            kind: None,
        })
        .collect();
    let mut edges = vec![];
    for (i, id) in ids.iter().enumerate() {
        for d in stack.resource_dependencies(id) {
            if let Some(&j) = index.get(&d.to_string()) {
                edges.push((j, i));
            }
        }
    }
    layout::svg(&nodes, &edges)
}

/// `thingform completions bash|zsh|fish|elvish|powershell`.
pub fn completions(a: CompletionsArgs) -> anyhow::Result<i32> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    clap_complete::generate(a.shell, &mut cmd, "thingform", &mut std::io::stdout());
    Ok(0)
}
