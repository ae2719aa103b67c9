//! The terminal side of a run: progress as Terraform prints it, warnings and errors, the
//! approval prompt and Ctrl-C. On a terminal ([`Style::rich`]) the output is coloured
//! (unless `-no-color` or `NO_COLOR`), completions carry a "[37/93 12s]" counter, the
//! Lambda build is its own step and the apply ends with its slowest operations; piped
//! (CI logs) it stays plain lines, as Terraform prints them.

use crate::diag::{Diagnostic, Diagnostics};
use crate::engine::{self, Action, Event, Plan, Ui};
use crate::state::{LockError, UnlockError};
use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

static NO_COLOR_FLAG: AtomicBool = AtomicBool::new(false);

/// Records `-no-color` from the command line (any command), before anything prints.
pub fn init(args: &[String]) {
    let flag = args
        .iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "-no-color" || a == "--no-color");
    NO_COLOR_FLAG.store(flag, Ordering::SeqCst);
}

/// How this process writes to the terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    /// stdout is a terminal: counters, build steps, the slowest operations.
    pub rich: bool,
    /// ANSI colours: a terminal, no `-no-color`, no `NO_COLOR` (any non-empty value).
    pub color: bool,
}

impl Style {
    pub fn detect() -> Style {
        let rich = std::io::stdout().is_terminal();
        let no_color = NO_COLOR_FLAG.load(Ordering::SeqCst)
            || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            rich,
            color: rich && !no_color,
        }
    }

    /// `text` in an ANSI style (`1` bold, `31` red, `32` green, `33` yellow, `36` cyan,
    /// `2` dim, `35` magenta), or as is without colour.
    pub fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn style() -> Style {
    static S: OnceLock<Style> = OnceLock::new();
    *S.get_or_init(Style::detect)
}

/// Colours a rendered plan as Terraform does: each line's action symbol, and the
/// `Plan:` line bold. Text is unchanged without colour.
pub fn paint_plan(text: &str) -> String {
    let st = style();
    if !st.color {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let rest = body.trim_start();
        let indent = &body[..body.len() - rest.len()];
        let painted = [
            ("-/+", "35"),
            ("+/-", "35"),
            ("+", "32"),
            ("-", "31"),
            ("~", "33"),
        ]
        .iter()
        .find(|(sym, _)| rest.starts_with(&format!("{sym} ")))
        .map(|(sym, code)| format!("{indent}{}{}", st.paint(code, sym), &rest[sym.len()..]));
        let painted = match painted {
            Some(p) => p,
            None if rest.starts_with("Plan:") || rest.starts_with("# ") => {
                format!("{indent}{}", st.paint("1", rest))
            }
            None if rest.starts_with("Warning:") => format!("{indent}{}", st.paint("33", rest)),
            None => body.to_string(),
        };
        out.push_str(&painted);
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// What the counter and the final summary of an apply need.
#[derive(Default)]
struct Progress {
    total: usize,
    done: usize,
    start: Option<Instant>,
    /// (seconds, what) of every finished operation and build.
    timings: Vec<(u64, String)>,
}

fn progress() -> &'static Mutex<Progress> {
    static P: OnceLock<Mutex<Progress>> = OnceLock::new();
    P.get_or_init(|| Mutex::new(Progress::default()))
}

/// Before an apply: how many operations it runs (a replacement is two).
pub fn start_apply(plan: &Plan) {
    let total = plan
        .changes
        .iter()
        .map(|c| match c.action {
            Action::NoOp => 0,
            a if a.is_replace() => 2,
            _ => 1,
        })
        .sum();
    if let Ok(mut p) = progress().lock() {
        *p = Progress {
            total,
            start: Some(Instant::now()),
            ..Progress::default()
        };
    }
}

/// After an apply, on a terminal: its slowest operations (and builds).
pub fn print_slowest() {
    let st = style();
    if !st.rich {
        return;
    }
    let Ok(p) = progress().lock() else { return };
    if p.timings.is_empty() {
        return;
    }
    let mut t = p.timings.clone();
    t.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let total = p.start.map(|s| s.elapsed().as_secs()).unwrap_or(0);
    println!(
        "\n{} (of {} in {total}s):",
        st.paint("1", "Slowest operations"),
        p.timings.len()
    );
    for (secs, what) in t.iter().take(5) {
        println!("  {:>5}  {what}", format!("{secs}s"));
    }
}

/// "[37/93 12s] " before a completion on a terminal.
fn counter(st: Style, finished: bool) -> String {
    if !st.rich {
        return String::new();
    }
    let Ok(mut p) = progress().lock() else {
        return String::new();
    };
    if p.total == 0 {
        return String::new();
    }
    if finished {
        p.done += 1;
    }
    let secs = p.start.map(|s| s.elapsed().as_secs()).unwrap_or(0);
    st.paint("2", &format!("[{}/{} {secs}s] ", p.done, p.total))
}

fn timed(secs: u64, what: String) {
    if let Ok(mut p) = progress().lock() {
        p.timings.push((secs, what));
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

pub fn print_warnings(w: &[Diagnostic]) {
    for d in w {
        eprintln!("{d}");
    }
}

/// A state lock that could not be released: the run's own result stands.
pub fn print_unlock_error(e: &UnlockError) {
    eprintln!("Warning: {e}");
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
        let st = style();
        if st.rich && self.rich_event(st, &e) {
            let _ = std::io::stdout().flush();
            return;
        }
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

impl TermUi {
    /// The terminal's form of the events it styles; false: print the plain line.
    fn rich_event(&self, st: Style, e: &Event) -> bool {
        let addr = |a: &crate::address::Address| st.paint("1", &a.to_string());
        match e {
            Event::Started { address, action } => {
                let (v, code) = match action {
                    Action::Delete => ("Destroying...", "31"),
                    Action::Update => ("Modifying...", "33"),
                    _ => ("Creating...", "32"),
                };
                println!(
                    "{}{}: {}",
                    counter(st, false),
                    addr(address),
                    st.paint(code, v)
                );
            }
            Event::Completed {
                address,
                action,
                elapsed_secs,
                id,
            } => {
                let id = id
                    .as_ref()
                    .map(|i| st.paint("2", &format!(" [id={i}]")))
                    .unwrap_or_default();
                let done = verb(*action).2;
                println!(
                    "{}{}: {} after {elapsed_secs}s{id}",
                    counter(st, true),
                    addr(address),
                    st.paint("32", done)
                );
                let what = match action {
                    Action::Delete => "destroy",
                    Action::Update => "update",
                    _ => "create",
                };
                timed(*elapsed_secs, format!("{address} ({what})"));
            }
            Event::Failed {
                address,
                action,
                error,
            } => {
                let _ = counter(st, true);
                let what = match action {
                    Action::Delete => "deleting",
                    Action::Update => "updating",
                    _ => "creating",
                };
                eprintln!(
                    "\n{} {what} {address}: {error}\n",
                    st.paint("31;1", "Error:")
                );
            }
            Event::Building { address, source } => println!(
                "{} {} {}",
                st.paint("36;1", "==> Build"),
                st.paint("1", source),
                st.paint("2", &format!("(Lambda package for {address})..."))
            ),
            Event::Built {
                address,
                source,
                elapsed_secs,
            } => {
                println!(
                    "{} {} in {elapsed_secs}s",
                    st.paint("36;1", "==> Built"),
                    st.paint("1", source)
                );
                timed(*elapsed_secs, format!("build {source} (for {address})"));
            }
            Event::Warning(w) => eprintln!("{} {w}", st.paint("33;1", "Warning:")),
            _ => return false,
        }
        true
    }
}

/// Progress on the terminal, or none with `-json` (the JSON document is the output).
pub fn ui_for(json: bool) -> Arc<dyn Ui> {
    if json {
        Arc::new(engine::Silent)
    } else {
        Arc::new(TermUi {
            out: Mutex::new(()),
        })
    }
}

/// Asks on the terminal; only `yes` approves.
pub fn confirm(question: &str) -> anyhow::Result<bool> {
    print!("\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    println!();
    Ok(line.trim() == "yes")
}

/// The first Ctrl-C asks the apply to stop cleanly (it returns, and the state lock is
/// released on the way out); the second exits at once.
pub fn interrupt_channel() -> tokio::sync::watch::Receiver<bool> {
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
