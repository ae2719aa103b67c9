//! The command-line surface: clap definitions (one place), Terraform's single-dash flags
//! normalised to clap's, and `-var` / `-var-file` in command-line order.

use crate::config::vars::VarInput;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "thingform",
    version,
    about = "Plan, apply and destroy AWS IoT pipelines declared in Terraform-compatible HCL"
)]
pub struct Cli {
    /// Switch to DIR before running the command (as Terraform's -chdir=DIR)
    #[arg(long = "chdir", value_name = "DIR")]
    pub chdir: Option<PathBuf>,
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
    /// `vars` and `var_files` merged in command-line order (filled by [`parse`]).
    #[arg(skip)]
    pub ordered: Vec<VarInput>,
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
    /// No colour (also NO_COLOR=1; output is coloured only on a terminal)
    #[arg(long = "no-color")]
    pub no_color: bool,
    /// Accepted for Terraform compatibility (thingform never prompts for variables)
    #[arg(long = "input", action = clap::ArgAction::Set, value_name = "BOOL", default_value_t = false)]
    pub input: bool,
}

// The argument structs of the subcommands carry no doc comment: the variant's is the
// subcommand's help.

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Prepare a stack directory (creates .thingform/)
    Init(InitArgs),
    /// Check the stack: syntax, types, references, cycles
    Validate(ValidateArgs),
    /// Show what apply would change
    Plan(PlanArgs),
    /// Make AWS match the stack (or apply a saved plan file)
    Apply(ApplyArgs),
    /// Destroy everything the stack manages, in reverse dependency order
    Destroy(DestroyArgs),
    /// Print the resource dependency graph (Graphviz DOT, or an SVG picture)
    Graph(GraphArgs),
    /// Show the state or a saved plan: for people, -json for programs, -html as a web page
    Show(ShowArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions(CompletionsArgs),
    /// Print output values from the state
    Output(OutputArgs),
    /// Inspect the state
    State {
        #[command(subcommand)]
        command: StateCommand,
    },
    /// Adopt an existing AWS object into the state
    Import(ImportArgs),
    /// Remove a lock left by a run that crashed
    ForceUnlock(ForceUnlockArgs),
    /// Manage workspaces (environments), each with its own state
    Workspace {
        #[command(subcommand)]
        command: WorkspaceCommand,
    },
    /// Rewrite configuration files to the canonical format (as `terraform fmt`)
    Fmt(FmtArgs),
    /// Device Defender's audit checks (and pipeline checks) on the stack, before deploying
    Audit(super::audit::AuditArgs),
    /// Topic rules evaluated locally (rule test)
    Rule {
        #[command(subcommand)]
        command: super::rule::RuleCommand,
    },
    /// Run the stack's tests (*.tftest.hcl): plan/apply, publish through the rules, assert
    Test(super::test::TestArgs),
    /// Print the version
    Version,
}

#[derive(Args, Debug)]
pub struct FmtArgs {
    /// List files whose formatting differs (-list=false: don't; off when reading stdin)
    #[arg(long = "list", default_value_t = true, action = clap::ArgAction::Set,
          num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_name = "BOOL")]
    pub list: bool,
    /// Write the result to the files (-write=false: don't; off with stdin or -check)
    #[arg(long = "write", default_value_t = true, action = clap::ArgAction::Set,
          num_args = 0..=1, require_equals = true, default_missing_value = "true",
          value_name = "BOOL")]
    pub write: bool,
    /// Print a unified diff of the changes
    #[arg(long = "diff")]
    pub diff: bool,
    /// Write nothing; exit 3 if any input is not formatted (0 if all is)
    #[arg(long = "check")]
    pub check: bool,
    /// Also process the files in subdirectories
    #[arg(long = "recursive")]
    pub recursive: bool,
    /// Directories or files to format (default: the current directory); `-` reads
    /// standard input and writes the result to standard output
    #[arg(value_name = "TARGET", allow_hyphen_values = true)]
    pub targets: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    #[command(flatten)]
    pub state: StateFlags,
    /// Copy an existing local state into a newly configured backend without asking
    #[arg(long = "force-copy", alias = "migrate-state")]
    pub force_copy: bool,
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[arg(long = "json")]
    pub json: bool,
    #[arg(long = "no-color")]
    pub no_color: bool,
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub flags: PlanFlags,
    /// Save the plan to apply it exactly later
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Plan to destroy everything
    #[arg(long = "destroy")]
    pub destroy: bool,
    /// Exit 0 with no changes, 2 with changes, 1 on error
    #[arg(long = "detailed-exitcode")]
    pub detailed_exitcode: bool,
    /// One line per changed resource, then the counts
    #[arg(long = "compact")]
    pub compact: bool,
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub flags: PlanFlags,
    /// Skip the interactive approval
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    /// Plan to destroy everything
    #[arg(long = "destroy")]
    pub destroy: bool,
    /// A stack directory or a plan file made with plan -out
    #[arg(default_value = ".")]
    pub target: PathBuf,
}

#[derive(Args, Debug)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub flags: PlanFlags,
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct GraphArgs {
    #[command(flatten)]
    pub vars: VarFlags,
    /// dot (Graphviz text) or svg (a picture, laid out by thingform itself)
    #[arg(long = "format", value_enum, default_value = "dot")]
    pub format: GraphFormat,
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Svg,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    #[command(flatten)]
    pub state: StateFlags,
    /// Machine-readable output (the shape of `terraform show -json`)
    #[arg(long = "json", conflicts_with = "html")]
    pub json: bool,
    /// One self-contained HTML page: graph, summary, filters, diffs (redirect to a file)
    #[arg(long = "html")]
    pub html: bool,
    #[arg(long = "no-color")]
    pub no_color: bool,
    /// The stack whose state is shown when no FILE is given
    #[arg(long = "dir", default_value = ".")]
    pub dir: PathBuf,
    /// A plan file (from plan -out) or a state file; the stack's state when omitted
    pub file: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct OutputArgs {
    #[command(flatten)]
    pub state: StateFlags,
    #[arg(long = "json")]
    pub json: bool,
    /// Print a string output without quotes (and a sensitive one in clear)
    #[arg(long = "raw")]
    pub raw: bool,
    #[arg(long = "no-color")]
    pub no_color: bool,
    /// Output name (all when omitted)
    pub name: Option<String>,
    #[arg(long = "dir", default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[command(flatten)]
    pub vars: VarFlags,
    #[command(flatten)]
    pub state: StateFlags,
    pub address: String,
    pub id: String,
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct ForceUnlockArgs {
    #[command(flatten)]
    pub state: StateFlags,
    pub lock_id: String,
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    #[arg(long = "force")]
    pub force: bool,
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
    List(StateListArgs),
    /// Forget instances without destroying them in AWS
    Rm(StateRmArgs),
    /// Rename an instance or a whole resource in the state (after renaming it in the stack)
    Mv(StateMvArgs),
    /// Print the current state as JSON
    Pull(StatePullArgs),
    /// Replace the stored state with a file (e.g. errored.tfstate.json)
    Push(StatePushArgs),
    /// Show one resource's attributes
    Show(StateShowArgs),
}

#[derive(Args, Debug)]
pub struct StateListArgs {
    #[command(flatten)]
    pub state: StateFlags,
    #[arg(long = "dir", default_value = ".")]
    pub dir: PathBuf,
    /// Only addresses starting with these
    pub filter: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StateRmArgs {
    #[command(flatten)]
    pub state: StateFlags,
    #[arg(long = "dir", default_value = ".")]
    pub dir: PathBuf,
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    #[arg(required = true)]
    pub addresses: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StateMvArgs {
    #[command(flatten)]
    pub state: StateFlags,
    #[arg(long = "dir", default_value = ".")]
    pub dir: PathBuf,
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    pub from: String,
    pub to: String,
}

#[derive(Args, Debug)]
pub struct StatePullArgs {
    #[command(flatten)]
    pub state: StateFlags,
    #[arg(long = "dir", default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct StatePushArgs {
    #[command(flatten)]
    pub state: StateFlags,
    #[arg(long = "dir", default_value = ".")]
    pub dir: PathBuf,
    /// Push even an older serial or another lineage
    #[arg(long = "force")]
    pub force: bool,
    pub file: PathBuf,
}

#[derive(Args, Debug)]
pub struct StateShowArgs {
    #[command(flatten)]
    pub state: StateFlags,
    #[arg(long = "dir", default_value = ".")]
    pub dir: PathBuf,
    pub address: String,
}

impl Command {
    /// The variable flags of the commands that take them.
    fn var_flags_mut(&mut self) -> Option<&mut VarFlags> {
        match self {
            Command::Plan(a) => Some(&mut a.flags.vars),
            Command::Apply(a) => Some(&mut a.flags.vars),
            Command::Destroy(a) => Some(&mut a.flags.vars),
            Command::Graph(a) => Some(&mut a.vars),
            Command::Import(a) => Some(&mut a.vars),
            Command::Rule {
                command: super::rule::RuleCommand::Test(a),
            } => Some(&mut a.vars),
            Command::Audit(a) => Some(&mut a.vars),
            Command::Test(a) => Some(&mut a.vars),
            _ => None,
        }
    }
}

/// Parses the command line (Terraform spellings accepted); `-var` and `-var-file` are
/// merged into [`VarFlags::ordered`] in the order they were given.
pub fn parse(args: Vec<String>) -> Result<Cli, clap::Error> {
    let matches = Cli::command().try_get_matches_from(normalize_args(args))?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let (Some(flags), Some((_, mut sub))) = (cli.command.var_flags_mut(), matches.subcommand()) {
        // `rule test`: the flags are on the innermost subcommand.
        while let Some((_, inner)) = sub.subcommand() {
            sub = inner;
        }
        flags.ordered = in_command_line_order(flags, sub);
    }
    Ok(cli)
}

/// Interleaves `-var` and `-var-file` by the positions clap recorded for their values.
fn in_command_line_order(v: &VarFlags, m: &ArgMatches) -> Vec<VarInput> {
    let at =
        |id: &str| -> Vec<usize> { m.indices_of(id).map(Iterator::collect).unwrap_or_default() };
    let mut all: Vec<(usize, VarInput)> = at("vars")
        .into_iter()
        .zip(v.vars.iter().cloned().map(VarInput::Assign))
        .chain(
            at("var_files")
                .into_iter()
                .zip(v.var_files.iter().cloned().map(VarInput::File)),
        )
        .collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, input)| input).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Cli {
        parse(args.iter().map(|s| s.to_string()).collect()).unwrap()
    }

    #[test]
    fn vars_and_var_files_keep_their_command_line_order() {
        let mut cli = parsed(&[
            "thingform",
            "plan",
            "-var-file=a.tfvars",
            "-var",
            "x=1",
            "--var-file",
            "b.tfvars",
            "-var=y=2",
            "dir",
        ]);
        let v = cli.command.var_flags_mut().unwrap();
        assert_eq!(
            v.ordered,
            vec![
                VarInput::File("a.tfvars".into()),
                VarInput::Assign("x=1".into()),
                VarInput::File("b.tfvars".into()),
                VarInput::Assign("y=2".into()),
            ]
        );
        let mut cli = parsed(&[
            "thingform",
            "import",
            "-var",
            "a=1",
            "aws_sns_topic.t",
            "arn",
        ]);
        assert_eq!(
            cli.command.var_flags_mut().unwrap().ordered,
            vec![VarInput::Assign("a=1".into())]
        );
        assert!(
            parsed(&["thingform", "plan"])
                .command
                .var_flags_mut()
                .unwrap()
                .ordered
                .is_empty()
        );
    }

    #[test]
    fn single_dash_long_flags_are_normalised() {
        let args: Vec<String> = [
            "thingform",
            "apply",
            "-auto-approve",
            "-w",
            "x",
            "--",
            "-var",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            normalize_args(args),
            vec![
                "thingform",
                "apply",
                "--auto-approve",
                "-w",
                "x",
                "--",
                "-var"
            ]
        );
    }
}
