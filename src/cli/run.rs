//! The run commands: validate, plan, apply (from the stack or a saved plan), destroy,
//! graph and import.

use super::args::{
    ApplyArgs, DestroyArgs, GraphArgs, GraphFormat, ImportArgs, PlanArgs, PlanFlags, ValidateArgs,
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
    let loaded = Stack::load(&dir, &[], &backend::workspace::current(&dir, None)).and_then(
        |(stack, warnings)| {
            super::rule::check_rules(&stack).into_result()?;
            Ok((stack, warnings))
        },
    );
    match loaded {
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
        compact,
        dir,
    } = a;
    let stack = load_stack(&dir, &flags.vars, &workspace(&dir, &flags.state))?;
    let be = open_backend(&dir, &flags.state).await?;
    locked(&be, flags.state.lock, "plan", async || {
        let prior = be.read().await?.unwrap_or_default();
        let cloud = configure_cloud(&stack, flags.parallelism).await?;
        let opts = plan_options(&flags, destroy, &stack)?;
        let ui = ui_for(flags.json || compact);
        let findings = crate::audit::audit(&stack, Some(&prior));
        let plan = engine::plan(&stack, prior, cloud.as_ref(), &opts, ui.as_ref()).await?;
        if compact && !flags.json {
            print!("{}", super::ui::paint_plan(&render::plan_compact(&plan)));
        } else {
            print_plan(&plan, flags.json);
        }
        super::audit::print_plan_warnings(&findings);
        if let Some(path) = &out {
            write_plan_file(path, &plan).await?;
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
    let GraphArgs { vars, format, dir } = a;
    let stack = load_stack(&dir, &vars, &backend::workspace::current(&dir, None))?;
    if format == GraphFormat::Svg {
        print!("{}", super::show::stack_svg(&stack));
        return Ok(0);
    }
    let mut g: crate::graph::Dag<String> = crate::graph::Dag::new();
    for id in stack.resources.keys() {
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
    if !stack.resources.contains_key(&addr.resource) {
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
        let cloud = configure_cloud(&stack, 1).await?;
        let mut warnings = vec![];
        let provider = stack.resources[&addr.resource].provider_config.clone();
        let rs = engine::plan::import_object(
            cloud.as_ref(),
            provider.as_deref(),
            &addr,
            &id,
            &mut warnings,
        )
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

/// The provider configuration `alias` (None: the default), configured.
pub(super) async fn configure_provider(
    stack: &Stack,
    alias: Option<&str>,
    parallelism: usize,
) -> anyhow::Result<Provider> {
    let mut scope = stack.base_scope();
    // The provider may use locals; those that need resources are simply not available to it.
    for n in stack.order() {
        if let crate::config::stack::Node::Local(m, l) = n
            && m.is_root()
        {
            let _ = stack.eval_local(&mut scope, &m, &l);
        }
    }
    let cfg = stack
        .provider_config(&scope, alias)
        .map_err(anyhow::Error::new)?;
    let name = match alias {
        Some(a) => format!("provider \"aws\" (alias {a:?})"),
        None => "provider \"aws\"".to_string(),
    };
    if cfg.has_unknown() {
        anyhow::bail!(
            "the {name} configuration depends on values known only after apply; use variables"
        );
    }
    let mut p = Provider::configure(&cfg.to_json()).await?;
    p.read_concurrency = parallelism.max(1);
    Ok(p)
}

/// The configured cloud: the default provider configuration and every aliased one.
pub(super) async fn configure_cloud(
    stack: &Stack,
    parallelism: usize,
) -> anyhow::Result<Arc<dyn Cloud>> {
    let default = Arc::new(configure_provider(stack, None, parallelism).await?);
    let mut aliases = vec![];
    for alias in stack.module.provider_aliases.keys() {
        let p = configure_provider(stack, Some(alias), parallelism).await?;
        aliases.push((alias.clone(), Arc::new(p)));
    }
    Ok(AwsCloud::with_aliases(default, aliases))
}

fn plan_options(flags: &PlanFlags, destroy: bool, stack: &Stack) -> anyhow::Result<PlanOptions> {
    Ok(PlanOptions {
        destroy,
        refresh: flags.refresh,
        targets: parse_targets(&flags.targets, stack)?,
        parallelism: flags.parallelism,
        refresh_only: flags.refresh_only,
    })
}

/// `-target` addresses: resources, instances, or a module (every resource in it; a
/// module written without a key covers all of its instances).
pub(super) fn parse_targets(t: &[String], stack: &Stack) -> anyhow::Result<Vec<Address>> {
    let mut out = vec![];
    for s in t {
        let e = match s.parse::<Address>() {
            Ok(a) => {
                out.push(a);
                continue;
            }
            Err(e) => e,
        };
        let Ok(m) = s.parse::<crate::address::ModuleInstance>() else {
            anyhow::bail!("-target: {e}");
        };
        let before = out.len();
        for id in stack.resources.keys() {
            let steps = &id.module.0;
            let covered = steps.len() >= m.0.len()
                && m.0
                    .iter()
                    .zip(steps)
                    .all(|((n, k), (sn, sk))| n == sn && (k.is_none() || k == sk));
            if covered {
                out.push(id.instance(None));
            }
        }
        if out.len() == before {
            anyhow::bail!("-target={s}: no module instance of the configuration matches it");
        }
    }
    Ok(out)
}

fn print_plan(plan: &Plan, json: bool) {
    if json {
        println!("{}", render::plan_json(plan));
    } else {
        print!("{}", super::ui::paint_plan(&render::plan_human(plan)));
    }
}

async fn write_plan_file(path: &Path, plan: &Plan) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let text = backend::encryption::seal_plan(&plan.stack_dir, serde_json::to_vec(plan)?).await?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot write plan file {}: {e}", path.display()))?;
    f.write_all(&text)?;
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
        let provider = configure_cloud(&stack, flags.parallelism).await?;
        let opts = plan_options(flags, destroy, &stack)?;
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
    super::ui::start_apply(&plan);
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
    super::ui::print_slowest();
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
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("cannot read plan file {}: {e}", path.display()))?;
    let text = backend::encryption::open_plan(path, bytes).await?;
    let plan: Plan = serde_json::from_slice(&text).map_err(|e| {
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
        let provider = configure_cloud(&stack, flags.parallelism).await?;
        let ui = ui_for(flags.json);
        run_apply(plan, stack, provider, &be, flags, ui, interrupt_channel()).await
    })
    .await
}
