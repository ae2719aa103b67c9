//! The run commands: validate, plan, apply (from the stack or a saved plan), destroy,
//! graph and import.

use super::args::{
    ApplyArgs, DestroyArgs, GraphArgs, ImportArgs, PlanArgs, PlanFlags, ValidateArgs,
};
use super::ui::{confirm, interrupt_channel, print_warnings, ui_for};
use super::{load_stack, locked, open_backend, render, workspace};
use crate::address::Address;
use crate::backend::{self, Backend};
use crate::config::stack::Stack;
use crate::engine::{self, Action, ApplyOptions, Plan, PlanOptions, Ui};
use crate::provider::cloud::{AwsCloud, Cloud};
use crate::provider::{Provider, resource_type};
use crate::state::State;
use crate::value::Value;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

pub fn validate(a: ValidateArgs) -> anyhow::Result<i32> {
    let ValidateArgs { json, dir, .. } = a;
    match Stack::load(&dir, &[], &backend::workspace::current(&dir, None)) {
        Ok((_, warnings)) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"valid": true, "error_count": 0, "warning_count": warnings.len(), "diagnostics": warnings})
                );
            } else {
                print_warnings(&warnings);
                println!("Success! The configuration is valid.");
            }
            Ok(0)
        }
        Err(d) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"valid": false, "error_count": d.errors().count(), "warning_count": d.warnings().count(), "diagnostics": d.0})
                );
                Ok(1)
            } else {
                Err(anyhow::Error::new(d))
            }
        }
    }
}

pub async fn plan(a: PlanArgs) -> anyhow::Result<i32> {
    let PlanArgs {
        flags,
        out,
        destroy,
        detailed_exitcode,
        dir,
    } = a;
    let stack = load_stack(&dir, &flags.vars, &workspace(&dir, &flags.state))?;
    let be = open_backend(&dir, &flags.state).await?;
    locked(&be, flags.state.lock, "plan", async || {
        let prior = be.read().await?.unwrap_or_default();
        let mut provider = configure_provider(&stack).await?;
        provider.read_concurrency = flags.parallelism.max(1);
        let opts = plan_options(&flags, destroy)?;
        let ui = ui_for(flags.json);
        let cloud = AwsCloud::shared(Arc::new(provider));
        let plan = engine::plan(&stack, prior, cloud.as_ref(), &opts, ui.as_ref()).await?;
        print_plan(&plan, flags.json);
        if let Some(path) = &out {
            write_plan_file(path, &plan)?;
            if !flags.json {
                println!(
                    "\nSaved the plan to: {}\n\nTo perform exactly these actions, run:\n    thingform apply {}",
                    path.display(),
                    path.display()
                );
            }
        }
        Ok(if detailed_exitcode && plan.has_changes() {
            2
        } else {
            0
        })
    })
    .await
}

pub async fn apply(a: ApplyArgs) -> anyhow::Result<i32> {
    if a.target.is_file() {
        apply_saved(&a.target, &a.flags).await
    } else {
        plan_and_apply(&a.target, &a.flags, a.destroy, a.auto_approve).await
    }
}

pub async fn destroy(a: DestroyArgs) -> anyhow::Result<i32> {
    plan_and_apply(&a.dir, &a.flags, true, a.auto_approve).await
}

pub fn graph(a: GraphArgs) -> anyhow::Result<i32> {
    let GraphArgs { vars, dir } = a;
    let stack = load_stack(&dir, &vars, &backend::workspace::current(&dir, None))?;
    let mut g: crate::graph::Dag<String> = crate::graph::Dag::new();
    for id in stack.module.resources.keys() {
        g.add_node(id.to_string());
        for d in stack.resource_dependencies(id) {
            g.add_dependency(&id.to_string(), &d.to_string());
        }
    }
    print!("{}", g.to_dot(&dir.display().to_string()));
    Ok(0)
}

pub async fn import(a: ImportArgs) -> anyhow::Result<i32> {
    let ImportArgs {
        vars,
        state,
        address,
        id,
        dir,
    } = a;
    let stack = load_stack(&dir, &vars, &workspace(&dir, &state))?;
    let addr: Address = address.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    if !stack.module.resources.contains_key(&addr.resource) {
        anyhow::bail!(
            "{} is not declared in the stack; add a resource \"{}\" \"{}\" block before importing into it",
            addr.resource,
            addr.resource.rtype,
            addr.resource.name
        );
    }
    resource_type(&addr.resource.rtype)
        .ok_or_else(|| anyhow::anyhow!("unsupported type {}", addr.resource.rtype))?;
    let be = open_backend(&dir, &state).await?;
    locked(&be, state.lock, "import", async || {
        let mut st = be.read().await?.unwrap_or_default();
        if st.get(&addr).is_some() {
            anyhow::bail!(
                "{addr} is already managed by thingform; `thingform state show {addr}` shows it"
            );
        }
        let provider = configure_provider(&stack).await?;
        let mut warnings = vec![];
        let cloud = AwsCloud::shared(Arc::new(provider));
        let rs = engine::plan::import_object(cloud.as_ref(), &addr, &id, &mut warnings)
            .await?
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "cannot import non-existent remote object: no {} with id {id:?} was found",
                    addr.resource.rtype
                )
            })?;
        for w in &warnings {
            eprintln!("Warning: {w}");
        }
        st.upsert(rs);
        be.write_new_serial(&mut st).await?;
        println!(
            "{addr}: Import prepared!\n\nImport successful!\n\nThe resources that were imported are shown above. These resources are now in your thingform state and will henceforth be managed by thingform."
        );
        Ok(0)
    })
    .await
}

async fn configure_provider(stack: &Stack) -> anyhow::Result<Provider> {
    let mut scope = stack.base_scope();
    // The provider may use locals; those that need resources are simply not available to it.
    scope.root_map("local");
    for n in stack.order() {
        if let crate::config::stack::Node::Local(l) = n {
            let _ = stack.eval_local(&mut scope, &l);
        }
    }
    let cfg = stack.provider_config(&scope).map_err(anyhow::Error::new)?;
    if cfg.has_unknown() {
        anyhow::bail!(
            "the provider \"aws\" configuration depends on values known only after apply; use variables"
        );
    }
    Provider::configure(&cfg.to_json()).await
}

fn plan_options(flags: &PlanFlags, destroy: bool) -> anyhow::Result<PlanOptions> {
    Ok(PlanOptions {
        destroy,
        refresh: flags.refresh,
        targets: parse_targets(&flags.targets)?,
        parallelism: flags.parallelism,
        refresh_only: flags.refresh_only,
    })
}

fn parse_targets(t: &[String]) -> anyhow::Result<Vec<Address>> {
    t.iter()
        .map(|s| {
            s.parse::<Address>()
                .map_err(|e| anyhow::anyhow!("-target: {e}"))
        })
        .collect()
}

fn print_plan(plan: &Plan, json: bool) {
    if json {
        println!("{}", render::plan_json(plan));
    } else {
        print!("{}", render::plan_human(plan));
    }
}

fn write_plan_file(path: &Path, plan: &Plan) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let text = serde_json::to_string(plan)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot write plan file {}: {e}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

async fn plan_and_apply(
    dir: &Path,
    flags: &PlanFlags,
    destroy: bool,
    auto_approve: bool,
) -> anyhow::Result<i32> {
    let stack = Arc::new(load_stack(dir, &flags.vars, &workspace(dir, &flags.state))?);
    let be = open_backend(dir, &flags.state).await?;
    let op = if destroy { "destroy" } else { "apply" };
    // Ctrl-C from here on stops cleanly: during the plan nothing has changed yet.
    let interrupt = interrupt_channel();
    locked(&be, flags.state.lock, op, async || {
        let prior = be.read().await?.unwrap_or_default();
        let mut provider = configure_provider(&stack).await?;
        provider.read_concurrency = flags.parallelism.max(1);
        let provider = AwsCloud::shared(Arc::new(provider));
        let opts = plan_options(flags, destroy)?;
        let ui = ui_for(flags.json);
        let had_pending = !prior.pending.is_empty();
        let mut stop = interrupt.clone();
        let mut plan = tokio::select! {
            plan = engine::plan(&stack, prior, provider.as_ref(), &opts, ui.as_ref()) => plan?,
            Ok(_) = stop.wait_for(|i| *i) => {
                eprintln!("\nInterrupted during the plan; nothing was changed.");
                return Ok(1);
            }
        };
        // Checks known only after apply are reported by the apply itself, as Terraform does.
        for c in plan.checks.iter_mut() {
            c.diagnostics.retain(|d| d.summary != engine::plan::KNOWN_AFTER_APPLY);
        }
        print_plan(&plan, flags.json);
        if !plan.has_changes() && plan.drift.is_empty() && !had_pending {
            return Ok(0);
        }
        if !auto_approve {
            if !std::io::stdin().is_terminal() && flags.input {
                anyhow::bail!("approval needed but stdin is not a terminal; pass -auto-approve");
            }
            let q = if destroy {
                "Do you really want to destroy all resources?\n  thingform will destroy all your managed infrastructure, as shown above.\n  There is no undo."
            } else {
                "Do you want to perform these actions?\n  thingform will perform the actions described above."
            };
            if !confirm(q)? {
                eprintln!("{} cancelled.", if destroy { "Destroy" } else { "Apply" });
                return Ok(1);
            }
        }
        run_apply(plan, stack.clone(), provider, &be, flags, ui, interrupt.clone()).await
    })
    .await
}

/// Backs the state up, applies the plan and reports the outcome.
async fn run_apply(
    plan: Plan,
    stack: Arc<Stack>,
    provider: Arc<dyn Cloud>,
    be: &Backend,
    flags: &PlanFlags,
    ui: Arc<dyn Ui>,
    interrupt: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<i32> {
    be.backup()?;
    let destroy = plan.destroy;
    let report = engine::apply(
        plan,
        Some(stack),
        provider,
        be.store(),
        &ApplyOptions {
            parallelism: flags.parallelism,
        },
        ui,
        interrupt,
    )
    .await?;
    for w in &report.warnings {
        eprintln!("Warning: {w}");
    }
    if !flags.json {
        for d in report.checks.iter().flat_map(|c| &c.diagnostics) {
            eprintln!("{d}");
        }
    }
    let (mut added, mut changed, mut destroyed) = (0, 0, 0);
    for (_, a) in &report.done {
        match a {
            Action::Create => added += 1,
            Action::Update => changed += 1,
            Action::Delete => destroyed += 1,
            Action::DeleteThenCreate | Action::CreateThenDelete => {
                added += 1;
                destroyed += 1;
            }
            Action::NoOp => {}
        }
    }
    if !report.ok() {
        eprintln!(
            "\nApply failed. Completed: {added} added, {changed} changed, {destroyed} destroyed."
        );
        for (a, _, e) in &report.failed {
            eprintln!("  failed:      {a}: {e}");
        }
        for a in &report.skipped {
            eprintln!("  skipped:     {a} (depends on a failed resource)");
        }
        for a in &report.not_started {
            eprintln!("  not started: {a}");
        }
        eprintln!(
            "\nThe state records everything that was done; fix the cause and run apply again."
        );
        return Ok(1);
    }
    if destroy {
        println!("\nDestroy complete! Resources: {destroyed} destroyed.");
    } else {
        println!(
            "\nApply complete! Resources: {added} added, {changed} changed, {destroyed} destroyed."
        );
        if !report.outputs.is_empty() && !flags.json {
            println!("\nOutputs:\n");
            for (k, o) in &report.outputs {
                let v = if o.sensitive {
                    "<sensitive>".to_string()
                } else {
                    render::output_value(&o.value)
                };
                println!("{k} = {v}");
            }
        }
    }
    Ok(0)
}

async fn apply_saved(path: &Path, flags: &PlanFlags) -> anyhow::Result<i32> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read plan file {}: {e}", path.display()))?;
    let plan: Plan = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a thingform plan file ({e}); make one with `thingform plan -out FILE`",
            path.display()
        )
    })?;
    let vars = plan
        .variables
        .iter()
        .map(|(k, v)| (k.clone(), Value::from_json(v)))
        .collect();
    let stack =
        Stack::load_resolved(&plan.stack_dir, vars, &plan.workspace).map_err(anyhow::Error::new)?;
    if stack.module.hash != plan.config_hash {
        anyhow::bail!(
            "the configuration in {} changed since this plan was made; run `thingform plan -out {}` again",
            plan.stack_dir.display(),
            path.display()
        );
    }
    let mut state_flags = flags.state.clone();
    state_flags.workspace = Some(plan.workspace.clone());
    let be = open_backend(&plan.stack_dir, &state_flags).await?;
    locked(&be, flags.state.lock, "apply", async || {
        let current = be.read().await?.unwrap_or_else(State::new);
        let fresh_state =
            current.serial == 0 && current.resources.is_empty() && plan.state_serial == 0;
        if !fresh_state
            && (current.lineage != plan.state_lineage || current.serial != plan.state_serial)
        {
            anyhow::bail!(
                "saved plan is stale: the state changed since the plan was made (serial {} then, {} now). Run `thingform plan -out {}` again",
                plan.state_serial,
                current.serial,
                path.display()
            );
        }
        let mut plan = plan;
        if fresh_state {
            plan.refreshed.lineage = current.lineage.clone();
        }
        let stack = Arc::new(stack);
        let provider = AwsCloud::shared(Arc::new(configure_provider(&stack).await?));
        let ui = ui_for(flags.json);
        run_apply(plan, stack, provider, &be, flags, ui, interrupt_channel()).await
    })
    .await
}
