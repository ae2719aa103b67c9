//! The command line, split by job: [`args`] (the clap surface and Terraform's spellings),
//! [`run`] (validate, plan, apply, destroy, graph, import), [`state`] (the state
//! commands, output, force-unlock), [`workspace`] (init and workspaces), [`fmt`] (the
//! fmt command), [`ui`] (progress, prompt, Ctrl-C, errors) and [`render`] (plans and
//! values, human and JSON). The only layer that writes to stdout/stderr or picks exit codes.

pub mod args;
pub mod audit;
pub mod fmt;
pub mod render;
pub mod rule;
pub mod run;
pub mod show;
pub mod state;
pub mod test;
pub mod ui;
pub mod workspace;

use crate::backend::{self, Backend};
use crate::config::stack::Stack;
use args::{Cli, Command, StateFlags, VarFlags};
use std::path::Path;

pub use args::normalize_args;
pub use ui::print_error;

/// Exit code and a rendered error, for `main`.
pub fn run() -> i32 {
    let argv: Vec<String> = std::env::args().collect();
    ui::init(&argv);
    let cli = match args::parse(argv) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    if let Some(dir) = &cli.chdir
        && let Err(e) = std::env::set_current_dir(dir)
    {
        eprintln!(
            "Error: -chdir={}: {e}; give a directory that exists",
            dir.display()
        );
        return 1;
    }
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

async fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Init(a) => workspace::init(a).await,
        Command::Validate(a) => run::validate(a),
        Command::Plan(a) => run::plan(a).await,
        Command::Apply(a) => run::apply(a).await,
        Command::Destroy(a) => run::destroy(a).await,
        Command::Graph(a) => run::graph(a),
        Command::Show(a) => show::show(a).await,
        Command::Completions(a) => show::completions(a),
        Command::Output(a) => state::output(a).await,
        Command::State { command } => state::dispatch(command).await,
        Command::Import(a) => run::import(a).await,
        Command::ForceUnlock(a) => state::force_unlock(a).await,
        Command::Workspace { command } => workspace::dispatch(command),
        Command::Fmt(a) => fmt::fmt(a),
        Command::Rule { command } => rule::dispatch(command).await,
        Command::Audit(a) => audit::run(a).await,
        Command::Test(a) => test::test(a).await,
        Command::Version => version(),
    }
}

fn version() -> anyhow::Result<i32> {
    println!("thingform v{}", env!("CARGO_PKG_VERSION"));
    Ok(0)
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

/// The workspace a command runs in (see [`backend::workspace::current`]).
fn workspace(dir: &Path, flags: &StateFlags) -> String {
    backend::workspace::current(dir, flags.workspace.as_deref())
}

/// The state backend for a stack directory, as the state flags choose it.
async fn open_backend(dir: &Path, flags: &StateFlags) -> anyhow::Result<Backend> {
    let sel = backend::Selection {
        workspace: flags.workspace.as_deref(),
        state_path: flags.state.as_deref(),
        overrides: &flags.backend_config,
    };
    backend::open(dir, &sel).await
}

/// Lock, run, unlock: `run` holds the state lock for `operation` (unless `-lock=false`),
/// which is released whatever `run` returns; a failed release is reported as a warning
/// and the run's own result stands.
async fn locked<T>(
    be: &Backend,
    lock: bool,
    operation: &str,
    run: impl AsyncFnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let done = be.locked(lock.then_some(operation), run).await;
    if let Err(e) = &done.unlock {
        ui::print_unlock_error(e);
    }
    done.result
}

fn load_stack(dir: &Path, vars: &VarFlags, ws: &str) -> anyhow::Result<Stack> {
    let (stack, warnings) = Stack::load(dir, &vars.ordered, ws).map_err(anyhow::Error::new)?;
    rule::check_rules(&stack)
        .into_result()
        .map_err(anyhow::Error::new)?;
    ui::print_warnings(&warnings);
    Ok(stack)
}
