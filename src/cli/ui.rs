//! The terminal side of a run: progress as Terraform prints it, warnings and errors, the
//! approval prompt and Ctrl-C.

use crate::diag::{Diagnostic, Diagnostics};
use crate::engine::{self, Action, Event, Ui};
use crate::state::{LockError, UnlockError};
use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};

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
