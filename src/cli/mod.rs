//! The command line: argument parsing (Terraform's single-dash flags accepted), terminal
//! and JSON rendering, the approval prompt, Ctrl-C, and exit codes.

pub mod backend;
pub mod render;

use crate::address::Address;
use crate::config::stack::Stack;
use crate::config::vars::VarInput;
use crate::diag::{Diagnostic, Diagnostics};
use crate::engine::{self, Action, ApplyOptions, Event, Plan, PlanOptions, Ui};
use crate::provider::{Provider, resource_type};
use crate::state::local::LocalBackend;
use crate::state::{LockError, State, StateStore};
use crate::value::Value;
use backend::Backend;
use clap::{Args, CommandFactory, Parser, Subcommand};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

#[derive(Parser, Debug)]
#[command(
    name = "thingform",
    version,
    about = "Plan, apply and destroy AWS IoT pipelines declared in Terraform-compatible HCL"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone, Default)]
pub struct VarFlags {
    /// Set a variable: -var 'name=value' (HCL syntax for non-string types)
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Load variables from a .tfvars file
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct StateFlags {
    /// State file (default: STACK_DIR/.thingform/state.json)
    #[arg(long = "state", value_name = "PATH")]
    pub state: Option<PathBuf>,
    /// Take the state lock (default true)
    #[arg(long = "lock", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub lock: bool,
    /// Workspace (environment) to use; each has its own state
    #[arg(
        short = 'w',
        long = "workspace",
        env = "THINGFORM_WORKSPACE",
        value_name = "NAME"
    )]
    pub workspace: Option<String>,
    /// Override a backend setting (KEY=VALUE) or load settings from a file; repeatable
    #[arg(long = "backend-config", value_name = "KEY=VALUE|FILE")]
    pub backend_config: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct PlanFlags {
    #[command(flatten)]
    pub vars: VarFlags,
    #[command(flatten)]
    pub state: StateFlags,
    /// Limit the operation to this resource (and what it depends on); repeatable
    #[arg(long = "target", value_name = "ADDRESS")]
    pub targets: Vec<String>,
    /// Read live AWS state before planning (default true)
    #[arg(long = "refresh", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
    /// Only update the state to match AWS (accept drift); change nothing in AWS
    #[arg(long = "refresh-only")]
    pub refresh_only: bool,
    /// How many AWS operations run at once
    #[arg(long = "parallelism", default_value_t = 10)]
    pub parallelism: usize,
    /// Machine-readable output
    #[arg(long = "json")]
    pub json: bool,
    /// Accepted for Terraform compatibility (output is never colored)
    #[arg(long = "no-color")]
    pub no_color: bool,
    /// Accepted for Terraform compatibility (thingform never prompts for variables)
    #[arg(long = "input", action = clap::ArgAction::Set, value_name = "BOOL", default_value_t = false)]
    pub input: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Prepare a stack directory (creates .thingform/)
    Init {
        #[command(flatten)]
        state: StateFlags,
        /// Copy an existing local state into a newly configured backend without asking
        #[arg(long = "force-copy", alias = "migrate-state")]
        force_copy: bool,
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Check the stack: syntax, types, references, cycles
    Validate {
        #[arg(long = "json")]
        json: bool,
        #[arg(long = "no-color")]
        no_color: bool,
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Show what apply would change
    Plan {
        #[command(flatten)]
        flags: PlanFlags,
        /// Save the plan to apply it exactly later
        #[arg(long = "out", value_name = "FILE")]
        out: Option<PathBuf>,
        /// Plan to destroy everything
        #[arg(long = "destroy")]
        destroy: bool,
        /// Exit 0 with no changes, 2 with changes, 1 on error
        #[arg(long = "detailed-exitcode")]
        detailed_exitcode: bool,
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Make AWS match the stack (or apply a saved plan file)
    Apply {
        #[command(flatten)]
        flags: PlanFlags,
        /// Skip the interactive approval
        #[arg(long = "auto-approve")]
        auto_approve: bool,
        /// Plan to destroy everything
        #[arg(long = "destroy")]
        destroy: bool,
        /// A stack directory or a plan file made with plan -out
        #[arg(default_value = ".")]
        target: PathBuf,
    },
    /// Destroy everything the stack manages, in reverse dependency order
    Destroy {
        #[command(flatten)]
        flags: PlanFlags,
        #[arg(long = "auto-approve")]
        auto_approve: bool,
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Print the resource dependency graph as Graphviz DOT
    Graph {
        #[command(flatten)]
        vars: VarFlags,
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Print output values from the state
    Output {
        #[command(flatten)]
        state: StateFlags,
        #[arg(long = "json")]
        json: bool,
        /// Print a string output without quotes (and a sensitive one in clear)
        #[arg(long = "raw")]
        raw: bool,
        #[arg(long = "no-color")]
        no_color: bool,
        /// Output name (all when omitted)
        name: Option<String>,
        #[arg(long = "dir", default_value = ".")]
        dir: PathBuf,
    },
    /// Inspect the state
    State {
        #[command(subcommand)]
        command: StateCommand,
    },
    /// Adopt an existing AWS object into the state
    Import {
        #[command(flatten)]
        vars: VarFlags,
        #[command(flatten)]
        state: StateFlags,
        address: String,
        id: String,
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Remove a lock left by a run that crashed
    ForceUnlock {
        #[command(flatten)]
        state: StateFlags,
        lock_id: String,
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long = "force")]
        force: bool,
    },
    /// Manage workspaces (environments), each with its own state
    Workspace {
        #[command(subcommand)]
        command: WorkspaceCommand,
    },
    /// Print the version
    Version,
}

#[derive(Subcommand, Debug)]
pub enum WorkspaceCommand {
    /// Create a workspace and select it
    New {
        name: String,
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Select the workspace later commands use
    Select {
        name: String,
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// List workspaces; the current one is marked with *
    List {
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Print the current workspace
    Show {
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Delete a workspace whose state is empty (or any with -force)
    Delete {
        name: String,
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long = "force")]
        force: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum StateCommand {
    /// List resource addresses in the state
    List {
        #[command(flatten)]
        state: StateFlags,
        #[arg(long = "dir", default_value = ".")]
        dir: PathBuf,
        /// Only addresses starting with these
        filter: Vec<String>,
    },
    /// Forget instances without destroying them in AWS
    Rm {
        #[command(flatten)]
        state: StateFlags,
        #[arg(long = "dir", default_value = ".")]
        dir: PathBuf,
        #[arg(long = "dry-run")]
        dry_run: bool,
        #[arg(required = true)]
        addresses: Vec<String>,
    },
    /// Rename an instance or a whole resource in the state (after renaming it in the stack)
    Mv {
        #[command(flatten)]
        state: StateFlags,
        #[arg(long = "dir", default_value = ".")]
        dir: PathBuf,
        #[arg(long = "dry-run")]
        dry_run: bool,
        from: String,
        to: String,
    },
    /// Print the current state as JSON
    Pull {
        #[command(flatten)]
        state: StateFlags,
        #[arg(long = "dir", default_value = ".")]
        dir: PathBuf,
    },
    /// Replace the stored state with a file (e.g. errored.tfstate.json)
    Push {
        #[command(flatten)]
        state: StateFlags,
        #[arg(long = "dir", default_value = ".")]
        dir: PathBuf,
        /// Push even an older serial or another lineage
        #[arg(long = "force")]
        force: bool,
        file: PathBuf,
    },
    /// Show one resource's attributes
    Show {
        #[command(flatten)]
        state: StateFlags,
        #[arg(long = "dir", default_value = ".")]
        dir: PathBuf,
        address: String,
    },
}

/// Terraform spells long flags with one dash (`-auto-approve`, `-var=x=1`); clap wants two.
pub fn normalize_args(args: Vec<String>) -> Vec<String> {
    let cmd = Cli::command();
    let mut longs: Vec<String> = vec![];
    fn collect(c: &clap::Command, out: &mut Vec<String>) {
        for a in c.get_arguments() {
            if let Some(l) = a.get_long() {
                out.push(l.to_string());
            }
        }
        for s in c.get_subcommands() {
            collect(s, out);
        }
    }
    collect(&cmd, &mut longs);
    let mut after_double_dash = false;
    args.into_iter()
        .map(|a| {
            if a == "--" {
                after_double_dash = true;
            }
            if after_double_dash || !a.starts_with('-') || a.starts_with("--") || a.len() < 3 {
                return a;
            }
            let name = a[1..].split('=').next().unwrap_or("");
            if longs.iter().any(|l| l == name) {
                format!("-{a}")
            } else {
                a
            }
        })
        .collect()
}

/// Exit code and a rendered error, for `main`.
pub fn run() -> i32 {
    let args = normalize_args(std::env::args().collect());
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let code = match rt.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            print_error(&e);
            1
        }
    };
    write_stats();
    code
}

/// `THINGFORM_STATS_FILE=PATH`: what this run wrote to the state, as JSON (benchmarks).
fn write_stats() {
    let Some(path) = std::env::var_os("THINGFORM_STATS_FILE") else {
        return;
    };
    let (bytes, writes, documents) = crate::state::stats::snapshot();
    let body = serde_json::json!({
        "state_bytes_written": bytes,
        "state_writes": writes,
        "state_document_writes": documents,
        "state_journal_appends": writes - documents,
    });
    if let Err(e) = std::fs::write(&path, body.to_string()) {
        eprintln!(
            "Warning: cannot write THINGFORM_STATS_FILE {}: {e}",
            std::path::Path::new(&path).display()
        );
    }
}

pub fn print_error(e: &anyhow::Error) {
    if let Some(d) = e.downcast_ref::<Diagnostics>() {
        eprintln!("{d}");
    } else if let Some(l) = e.downcast_ref::<LockError>() {
        eprintln!("Error: {l}");
    } else {
        eprintln!("Error: {e:#}");
    }
}

fn print_warnings(w: &[Diagnostic]) {
    for d in w {
        eprintln!("{d}");
    }
}

fn var_inputs(v: &VarFlags) -> Vec<VarInput> {
    // -var and -var-file are applied in command-line order; clap separates them, so
    // recover the order from the raw arguments.
    let raw: Vec<String> = normalize_args(std::env::args().collect());
    let mut out = vec![];
    let (mut vi, mut fi) = (0, 0);
    let mut it = raw.iter().peekable();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, rest)) if f == "--var" || f == "--var-file" => {
                (f.to_string(), Some(rest.to_string()))
            }
            _ => (a.clone(), None),
        };
        if flag == "--var" && vi < v.vars.len() {
            if inline.is_none() {
                it.next();
            }
            out.push(VarInput::Assign(v.vars[vi].clone()));
            vi += 1;
        } else if flag == "--var-file" && fi < v.var_files.len() {
            if inline.is_none() {
                it.next();
            }
            out.push(VarInput::File(v.var_files[fi].clone()));
            fi += 1;
        }
    }
    out.extend(v.vars[vi..].iter().cloned().map(VarInput::Assign));
    out.extend(v.var_files[fi..].iter().cloned().map(VarInput::File));
    out
}

/// The workspace: `-w`/`THINGFORM_WORKSPACE`, then `TF_WORKSPACE`, then the one selected
/// with `thingform workspace select`, then `default`.
fn current_workspace(dir: &Path, flag: Option<&str>) -> String {
    if let Some(w) = flag.filter(|w| !w.is_empty()) {
        return w.to_string();
    }
    if let Ok(w) = std::env::var("TF_WORKSPACE")
        && !w.is_empty()
    {
        return w;
    }
    std::fs::read_to_string(dir.join(".thingform").join("environment"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".into())
}

fn workspace_dir(dir: &Path, ws: &str) -> PathBuf {
    if ws == "default" {
        dir.join(".thingform")
    } else {
        dir.join(".thingform").join("workspaces").join(ws)
    }
}

fn valid_workspace_name(ws: &str) -> anyhow::Result<()> {
    if ws.is_empty()
        || ws.len() > 90
        || !ws
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        anyhow::bail!("invalid workspace name {ws:?}: use letters, digits, '-' and '_'");
    }
    Ok(())
}

fn load_stack(dir: &Path, vars: &VarFlags, ws: &str) -> anyhow::Result<Stack> {
    let (stack, warnings) = Stack::load(dir, &var_inputs(vars), ws).map_err(anyhow::Error::new)?;
    print_warnings(&warnings);
    Ok(stack)
}

/// The state backend for a stack directory: `-state`, else the `terraform { backend }`
/// block, else the local file of the current workspace.
async fn open_backend(dir: &Path, flags: &StateFlags) -> anyhow::Result<Backend> {
    let ws = current_workspace(dir, flags.workspace.as_deref());
    let module = crate::config::load_dir(dir).ok();
    backend::open(backend::BackendChoice {
        dir,
        workspace: &ws,
        state_flag: flags.state.as_deref(),
        overrides: &flags.backend_config,
        terraform: module.as_ref().and_then(|m| m.terraform.as_ref()),
        local_default: workspace_dir(dir, &ws).join("state.json"),
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

/// Terminal progress, as Terraform prints it.
struct TermUi {
    out: Mutex<()>,
}

fn verb(a: Action) -> (&'static str, &'static str, &'static str) {
    match a {
        Action::Create | Action::CreateThenDelete | Action::DeleteThenCreate => {
            ("Creating...", "Still creating...", "Creation complete")
        }
        Action::Update => (
            "Modifying...",
            "Still modifying...",
            "Modifications complete",
        ),
        Action::Delete => (
            "Destroying...",
            "Still destroying...",
            "Destruction complete",
        ),
        Action::NoOp => ("", "", ""),
    }
}

impl Ui for TermUi {
    fn event(&self, e: Event) {
        let _g = self.out.lock();
        match e {
            Event::Refreshing(a) => println!("{a}: Refreshing state..."),
            Event::Recovered { address, id } => {
                println!(
                    "{address}: found object [id={id}] from an interrupted create; it is tracked again"
                )
            }
            Event::Started { address, action } => {
                let v = if action == Action::DeleteThenCreate {
                    "Replacing (destroy, then create)..."
                } else {
                    verb(action).0
                };
                println!("{address}: {v}")
            }
            Event::StillWorking {
                address,
                action,
                elapsed_secs,
            } => {
                println!("{address}: {} [{elapsed_secs}s elapsed]", verb(action).1)
            }
            Event::Completed {
                address,
                action,
                elapsed_secs,
                id,
            } => {
                let id = id.map(|i| format!(" [id={i}]")).unwrap_or_default();
                println!("{address}: {} after {elapsed_secs}s{id}", verb(action).2)
            }
            Event::Failed {
                address,
                action,
                error,
            } => {
                eprintln!(
                    "\nError: {} {address}: {error}\n",
                    match action {
                        Action::Delete => "deleting",
                        Action::Update => "updating",
                        _ => "creating",
                    }
                )
            }
            Event::Skipped { address, because } => {
                println!("{address}: skipped because {because} failed")
            }
            Event::Building { address, source } => println!("{address}: Building {source}..."),
            Event::Built {
                address,
                source,
                elapsed_secs,
            } => println!("{address}: Built {source} [{elapsed_secs}s]"),
            Event::Warning(w) => eprintln!("Warning: {w}"),
            Event::Interrupted => eprintln!(
                "\nInterrupt received.\nPlease wait for thingform to exit or data loss may occur.\nGracefully shutting down: running operations finish and are saved to state; nothing new starts."
            ),
        }
        let _ = std::io::stdout().flush();
    }
}

fn ui_for(json: bool) -> Arc<dyn Ui> {
    if json {
        Arc::new(engine::Silent)
    } else {
        Arc::new(TermUi {
            out: Mutex::new(()),
        })
    }
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

fn confirm(question: &str) -> anyhow::Result<bool> {
    print!("\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    println!();
    Ok(line.trim() == "yes")
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

async fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Workspace { command } => workspace_command(command),
        Command::Version => {
            println!("thingform v{}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
        Command::Init {
            state,
            force_copy,
            dir,
        } => init(&dir, &state, force_copy).await,
        Command::Validate { json, dir, .. } => {
            match Stack::load(&dir, &[], &current_workspace(&dir, None)) {
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
        Command::Plan {
            flags,
            out,
            destroy,
            detailed_exitcode,
            dir,
        } => {
            let stack = load_stack(
                &dir,
                &flags.vars,
                &current_workspace(&dir, flags.state.workspace.as_deref()),
            )?;
            let be = open_backend(&dir, &flags.state).await?;
            let _lock = if flags.state.lock {
                Some(be.lock("plan").await?)
            } else {
                None
            };
            let prior = be.read().await?.unwrap_or_default();
            let mut provider = configure_provider(&stack).await?;
            provider.read_concurrency = flags.parallelism.max(1);
            let opts = plan_options(&flags, destroy)?;
            let ui = ui_for(flags.json);
            let plan = engine::plan(&stack, prior, &provider, &opts, ui.as_ref()).await?;
            if flags.json {
                println!("{}", render::plan_json(&plan));
            } else {
                print!("{}", render::plan_human(&plan));
            }
            if let Some(path) = out {
                write_plan_file(&path, &plan)?;
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
        }
        Command::Apply {
            flags,
            auto_approve,
            destroy,
            target,
        } => {
            if target.is_file() {
                apply_saved(&target, &flags).await
            } else {
                plan_and_apply(&target, &flags, destroy, auto_approve).await
            }
        }
        Command::Destroy {
            flags,
            auto_approve,
            dir,
        } => plan_and_apply(&dir, &flags, true, auto_approve).await,
        Command::Graph { vars, dir } => {
            let stack = load_stack(&dir, &vars, &current_workspace(&dir, None))?;
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
        Command::Output {
            state,
            json,
            raw,
            name,
            dir,
            ..
        } => {
            let st = open_backend(&dir, &state)
                .await?
                .read()
                .await?
                .unwrap_or_default();
            match name {
                Some(n) => {
                    let o = st.outputs.get(&n).ok_or_else(|| {
                        anyhow::anyhow!("output {n:?} not found: apply the stack first, or check the name with `thingform output`")
                    })?;
                    if json {
                        println!("{}", o.value);
                    } else if raw {
                        match &o.value {
                            serde_json::Value::String(s) => println!("{s}"),
                            serde_json::Value::Number(_) | serde_json::Value::Bool(_) => {
                                println!("{}", o.value)
                            }
                            _ => anyhow::bail!(
                                "-raw prints only strings, numbers and bools; use -json for {n}"
                            ),
                        }
                    } else if o.sensitive {
                        println!("<sensitive>");
                    } else {
                        println!("{}", render::output_value(&o.value));
                    }
                }
                None => {
                    if json {
                        let m: serde_json::Map<String, serde_json::Value> = st
                            .outputs
                            .iter()
                            .map(|(k, o)| {
                                (k.clone(), serde_json::json!({"sensitive": o.sensitive, "value": if o.sensitive { serde_json::Value::Null } else { o.value.clone() }}))
                            })
                            .collect();
                        println!("{}", serde_json::Value::Object(m));
                    } else if st.outputs.is_empty() {
                        eprintln!(
                            "Warning: No outputs found. Apply a stack with output blocks first."
                        );
                    } else {
                        for (k, o) in &st.outputs {
                            let v = if o.sensitive {
                                "<sensitive>".to_string()
                            } else {
                                render::output_value(&o.value)
                            };
                            println!("{k} = {v}");
                        }
                    }
                }
            }
            Ok(0)
        }
        Command::State { command } => match command {
            StateCommand::List { state, dir, filter } => {
                let st = open_backend(&dir, &state)
                    .await?
                    .read()
                    .await?
                    .unwrap_or_default();
                for r in st.iter() {
                    let a = r.address.to_string();
                    if filter.is_empty() || filter.iter().any(|f| a.starts_with(f.as_str())) {
                        println!("{a}");
                    }
                }
                Ok(0)
            }
            StateCommand::Rm {
                state,
                dir,
                dry_run,
                addresses,
            } => {
                let be = open_backend(&dir, &state).await?;
                let _lock = if state.lock {
                    Some(be.lock("state rm").await?)
                } else {
                    None
                };
                let mut st = be.read().await?.unwrap_or_default();
                let mut removed = vec![];
                for a in &addresses {
                    let before = st.resources.len();
                    let matched: Vec<Address> = st
                        .iter()
                        .filter(|r| address_matches(&r.address, a))
                        .map(|r| r.address.clone())
                        .collect();
                    if matched.is_empty() {
                        anyhow::bail!(
                            "no instance matches {a} in the state; see `thingform state list`"
                        );
                    }
                    for m in &matched {
                        st.remove(m);
                    }
                    debug_assert!(st.resources.len() < before);
                    removed.extend(matched);
                }
                for a in &removed {
                    println!("{} {a}", if dry_run { "Would remove" } else { "Removed" });
                }
                if !dry_run {
                    st.serial += 1;
                    be.backup()?;
                    be.write(&st).await?;
                    println!(
                        "Successfully removed {} resource instance(s). They still exist in AWS; thingform no longer manages them.",
                        removed.len()
                    );
                }
                Ok(0)
            }
            StateCommand::Mv {
                state,
                dir,
                dry_run,
                from,
                to,
            } => {
                let be = open_backend(&dir, &state).await?;
                let _lock = if state.lock {
                    Some(be.lock("state mv").await?)
                } else {
                    None
                };
                let mut st = be.read().await?.unwrap_or_default();
                let moves = plan_moves(&st, &from, &to)?;
                for (a, b) in &moves {
                    println!("{}Move {a} to {b}", if dry_run { "Would " } else { "" });
                }
                if !dry_run {
                    for (a, b) in &moves {
                        if let Some(mut r) = st.remove(a) {
                            r.address = b.clone();
                            r.name = b.resource.name.clone();
                            r.index_key = b.key.clone();
                            st.upsert(r);
                        }
                    }
                    st.serial += 1;
                    be.backup()?;
                    be.write(&st).await?;
                    println!("Successfully moved {} object(s).", moves.len());
                }
                Ok(0)
            }
            StateCommand::Pull { state, dir } => {
                let st = open_backend(&dir, &state)
                    .await?
                    .read()
                    .await?
                    .unwrap_or_default();
                print!("{}", st.to_json_pretty());
                Ok(0)
            }
            StateCommand::Push {
                state,
                dir,
                force,
                file,
            } => {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
                let mut incoming = State::parse(&text, &file.display().to_string())?;
                let be = open_backend(&dir, &state).await?;
                let _lock = if state.lock {
                    Some(be.lock("state push").await?)
                } else {
                    None
                };
                if let Some(current) = be.read().await? {
                    let empty = current.resources.is_empty() && current.serial == 0;
                    if !force && !empty && current.lineage != incoming.lineage {
                        anyhow::bail!(
                            "{} belongs to another state (lineage {}) than {} (lineage {}); pushing it would replace unrelated state. Use -force if you are sure",
                            file.display(),
                            incoming.lineage,
                            be.describe(),
                            current.lineage
                        );
                    }
                    if !force && incoming.serial < current.serial {
                        anyhow::bail!(
                            "{} has serial {}, older than the stored state's {}; it would lose newer changes. Use -force if you are sure",
                            file.display(),
                            incoming.serial,
                            current.serial
                        );
                    }
                    // Plans made against the replaced state must be refused.
                    incoming.serial = incoming.serial.max(current.serial + 1);
                }
                be.push(&incoming).await?;
                println!(
                    "Pushed {} ({} resources, serial {}) to {}.",
                    file.display(),
                    incoming.resources.len(),
                    incoming.serial,
                    be.describe()
                );
                Ok(0)
            }
            StateCommand::Show {
                state,
                dir,
                address,
            } => {
                let st = open_backend(&dir, &state)
                    .await?
                    .read()
                    .await?
                    .unwrap_or_default();
                let addr: Address = address.parse().map_err(|e: String| anyhow::anyhow!(e))?;
                let r = st.get(&addr).ok_or_else(|| {
                    anyhow::anyhow!("no instance {addr} in the state; see `thingform state list`")
                })?;
                print!(
                    "# {addr}:\n{}",
                    render::attributes_human(&r.rtype, &r.name, &r.attributes)
                );
                Ok(0)
            }
        },
        Command::Import {
            vars,
            state,
            address,
            id,
            dir,
        } => {
            let stack = load_stack(
                &dir,
                &vars,
                &current_workspace(&dir, state.workspace.as_deref()),
            )?;
            let addr: Address = address.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            if !stack.module.resources.contains_key(&addr.resource) {
                anyhow::bail!(
                    "{} is not declared in the stack; add a resource \"{}\" \"{}\" block before importing into it",
                    addr.resource,
                    addr.resource.rtype,
                    addr.resource.name
                );
            }
            let t = resource_type(&addr.resource.rtype)
                .ok_or_else(|| anyhow::anyhow!("unsupported type {}", addr.resource.rtype))?;
            let be = open_backend(&dir, &state).await?;
            let _lock = if state.lock {
                Some(be.lock("import").await?)
            } else {
                None
            };
            let mut st = be.read().await?.unwrap_or_default();
            if st.get(&addr).is_some() {
                anyhow::bail!(
                    "{addr} is already managed by thingform; `thingform state show {addr}` shows it"
                );
            }
            let provider = configure_provider(&stack).await?;
            let rs = engine::plan::import_object(t, &provider, &addr, &id)
                .await?
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "cannot import non-existent remote object: no {} with id {id:?} was found",
                        addr.resource.rtype
                    )
                })?;
            st.upsert(rs);
            st.serial += 1;
            be.backup()?;
            be.write(&st).await?;
            println!(
                "{addr}: Import prepared!\n\nImport successful!\n\nThe resources that were imported are shown above. These resources are now in your thingform state and will henceforth be managed by thingform."
            );
            Ok(0)
        }
        Command::ForceUnlock {
            state,
            lock_id,
            dir,
            ..
        } => {
            open_backend(&dir, &state)
                .await?
                .force_unlock(&lock_id)
                .await?;
            println!("thingform state has been successfully unlocked!");
            Ok(0)
        }
    }
}

/// `aws_x.y` matches every instance of the resource; `aws_x.y["k"]` exactly one.
fn address_matches(a: &Address, pattern: &str) -> bool {
    let text = a.to_string();
    text == pattern || (!pattern.contains('[') && a.resource.to_string() == pattern)
}

/// The (from, to) pairs of a `state mv`.
fn plan_moves(st: &State, from: &str, to: &str) -> anyhow::Result<Vec<(Address, Address)>> {
    let from_addr: Address = from.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let to_addr: Address = to.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    if from_addr.resource.rtype != to_addr.resource.rtype {
        anyhow::bail!("cannot move {from} to {to}: the resource types differ");
    }
    let moves: Vec<(Address, Address)> = if from_addr.key.is_some() || to_addr.key.is_some() {
        st.get(&from_addr)
            .map(|_| vec![(from_addr.clone(), to_addr.clone())])
            .unwrap_or_default()
    } else {
        st.instances_of(&from_addr.resource)
            .map(|r| {
                (
                    r.address.clone(),
                    to_addr.resource.instance(r.address.key.clone()),
                )
            })
            .collect()
    };
    if moves.is_empty() {
        anyhow::bail!("no instance matches {from} in the state; see `thingform state list`");
    }
    for (_, b) in &moves {
        if st.get(b).is_some() {
            anyhow::bail!("cannot move to {b}: the state already has an instance there");
        }
    }
    Ok(moves)
}

/// Prepares a stack directory; with a remote backend newly configured, offers to copy
/// the existing local state into it.
async fn init(dir: &Path, flags: &StateFlags, force_copy: bool) -> anyhow::Result<i32> {
    let module = crate::config::load_dir(dir).map_err(anyhow::Error::new)?;
    std::fs::create_dir_all(dir.join(".thingform"))?;
    let be = open_backend(dir, flags).await?;
    if let Backend::Remote(_) = &be {
        let ws = current_workspace(dir, flags.workspace.as_deref());
        let local = LocalBackend::new(workspace_dir(dir, &ws).join("state.json"));
        if let Some(local_state) = local.read()?.filter(|s| !s.resources.is_empty()) {
            let _lock = be.lock("init").await?;
            match be.read().await? {
                Some(remote) if !remote.resources.is_empty() => {
                    eprintln!(
                        "Warning: both {} and {} hold state; the remote one is used. Compare them with `thingform state pull` before deleting the local file.",
                        local.path.display(),
                        be.describe()
                    );
                }
                _ => {
                    let copy = force_copy
                        || confirm(&format!(
                            "Do you want to copy existing state to the new backend?\n  {} holds {} resources; the backend {} is empty.",
                            local.path.display(),
                            local_state.resources.len(),
                            be.describe()
                        ))?;
                    if copy {
                        be.push(&local_state).await?;
                        let moved = local.path.with_extension("json.migrated");
                        std::fs::rename(&local.path, &moved)?;
                        println!(
                            "Copied the state to {}; the local copy was kept as {}.",
                            be.describe(),
                            moved.display()
                        );
                    } else {
                        println!(
                            "State not copied; the backend {} starts empty.",
                            be.describe()
                        );
                    }
                }
            }
        }
    }
    let _ = module;
    println!(
        "thingform has been successfully initialized in {} (state: {}).",
        dir.display(),
        be.describe()
    );
    Ok(0)
}

fn list_workspaces(dir: &Path) -> Vec<String> {
    let mut out = vec!["default".to_string()];
    if let Ok(rd) = std::fs::read_dir(dir.join(".thingform").join("workspaces")) {
        let mut names: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        out.extend(names);
    }
    out
}

fn workspace_command(cmd: WorkspaceCommand) -> anyhow::Result<i32> {
    let select = |dir: &Path, name: &str| -> anyhow::Result<()> {
        std::fs::create_dir_all(dir.join(".thingform"))?;
        std::fs::write(
            dir.join(".thingform").join("environment"),
            format!("{name}\n"),
        )?;
        Ok(())
    };
    match cmd {
        WorkspaceCommand::New { name, dir } => {
            valid_workspace_name(&name)?;
            if list_workspaces(&dir).contains(&name) {
                anyhow::bail!(
                    "workspace {name:?} already exists; select it with `thingform workspace select {name}`"
                );
            }
            std::fs::create_dir_all(workspace_dir(&dir, &name))?;
            select(&dir, &name)?;
            println!(
                "Created and switched to workspace \"{name}\"!\n\nYou're now on a new, empty workspace. Workspaces isolate their state,\nso if you run \"thingform plan\" thingform will not see any existing state\nfor this configuration."
            );
        }
        WorkspaceCommand::Select { name, dir } => {
            if !list_workspaces(&dir).contains(&name) {
                anyhow::bail!(
                    "workspace {name:?} does not exist; create it with `thingform workspace new {name}`"
                );
            }
            select(&dir, &name)?;
            println!("Switched to workspace \"{name}\".");
        }
        WorkspaceCommand::List { dir } => {
            let current = current_workspace(&dir, None);
            for w in list_workspaces(&dir) {
                println!("{} {w}", if w == current { "*" } else { " " });
            }
        }
        WorkspaceCommand::Show { dir } => println!("{}", current_workspace(&dir, None)),
        WorkspaceCommand::Delete { name, dir, force } => {
            if name == "default" {
                anyhow::bail!("the default workspace cannot be deleted");
            }
            if current_workspace(&dir, None) == name {
                anyhow::bail!("workspace {name:?} is the current one; select another first");
            }
            if !list_workspaces(&dir).contains(&name) {
                anyhow::bail!("workspace {name:?} does not exist");
            }
            let be = LocalBackend::new(workspace_dir(&dir, &name).join("state.json"));
            let st = be.read()?.unwrap_or_default();
            if !st.resources.is_empty() && !force {
                anyhow::bail!(
                    "workspace {name:?} still manages {} resources; destroy them first (`thingform destroy -w {name}`), or pass -force to forget them",
                    st.resources.len()
                );
            }
            std::fs::remove_dir_all(workspace_dir(&dir, &name))?;
            println!("Deleted workspace \"{name}\"!");
        }
    }
    Ok(0)
}

fn interrupt_channel() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = tx.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "\nTwo interrupts received. Exiting immediately; creates in flight are journaled in the state and the next plan looks for them."
                );
                std::process::exit(130);
            }
        }
    });
    rx
}

async fn plan_and_apply(
    dir: &Path,
    flags: &PlanFlags,
    destroy: bool,
    auto_approve: bool,
) -> anyhow::Result<i32> {
    let stack = Arc::new(load_stack(
        dir,
        &flags.vars,
        &current_workspace(dir, flags.state.workspace.as_deref()),
    )?);
    let be = open_backend(dir, &flags.state).await?;
    let _lock = if flags.state.lock {
        Some(be.lock(if destroy { "destroy" } else { "apply" }).await?)
    } else {
        None
    };
    let prior = be.read().await?.unwrap_or_default();
    let mut provider = configure_provider(&stack).await?;
    provider.read_concurrency = flags.parallelism.max(1);
    let provider = Arc::new(provider);
    let opts = plan_options(flags, destroy)?;
    let ui = ui_for(flags.json);
    let had_pending = !prior.pending.is_empty();
    let plan = engine::plan(&stack, prior, &provider, &opts, ui.as_ref()).await?;
    if flags.json {
        println!("{}", render::plan_json(&plan));
    } else {
        print!("{}", render::plan_human(&plan));
    }
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
    be.backup()?;
    run_apply(plan, Some(stack), provider, be.store(), flags, ui).await
}

async fn run_apply(
    plan: Plan,
    stack: Option<Arc<Stack>>,
    provider: Arc<Provider>,
    store: Arc<dyn StateStore>,
    flags: &PlanFlags,
    ui: Arc<dyn Ui>,
) -> anyhow::Result<i32> {
    let destroy = plan.destroy;
    let report = engine::apply(
        plan,
        stack,
        provider,
        store,
        &ApplyOptions {
            parallelism: flags.parallelism,
        },
        ui,
        interrupt_channel(),
    )
    .await?;
    for w in &report.warnings {
        eprintln!("Warning: {w}");
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
    let _lock = if flags.state.lock {
        Some(be.lock("apply").await?)
    } else {
        None
    };
    let current = be.read().await?.unwrap_or_else(State::new);
    let fresh_state = current.serial == 0 && current.resources.is_empty() && plan.state_serial == 0;
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
    let provider = Arc::new(configure_provider(&stack).await?);
    be.backup()?;
    run_apply(
        plan,
        Some(stack),
        provider,
        be.store(),
        flags,
        ui_for(flags.json),
    )
    .await
}
