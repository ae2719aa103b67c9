//! `thingform fmt`, with `terraform fmt`'s options, output and exit codes: changed files
//! are listed and rewritten; `-diff` prints a unified diff; `-check` writes nothing and
//! exits 3 if anything would change; `-` formats standard input to standard output;
//! `-recursive` walks subdirectories. A file that is not valid HCL is reported with its
//! `file:line:col`, left untouched, and the command exits 2 after the other files.

use super::args::FmtArgs;
use crate::diag::Diagnostic;
use crate::fmt;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

struct Run {
    list: bool,
    write: bool,
    diff: bool,
    recursive: bool,
    /// What the command prints: kept back under `-check`, else streamed to stdout.
    buffer: Option<Vec<u8>>,
    errors: Vec<Diagnostic>,
}

pub fn fmt(a: FmtArgs) -> anyhow::Result<i32> {
    let from_stdin = a.targets.first().is_some_and(|t| t.as_os_str() == "-");
    let (mut list, mut write) = (a.list, a.write);
    if from_stdin {
        list = false;
        write = false;
    }
    let requested_list = list;
    if a.check {
        list = true;
        write = false;
    }
    let mut run = Run {
        list,
        write,
        diff: a.diff,
        recursive: a.recursive,
        buffer: a.check.then(Vec::new),
        errors: vec![],
    };
    if from_stdin {
        let mut src = vec![];
        std::io::stdin().read_to_end(&mut src)?;
        run.file("<stdin>", None, src)?;
    } else {
        let targets = if a.targets.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            a.targets.clone()
        };
        run.targets(&targets)?;
    }
    for d in &run.errors {
        eprintln!("{d}");
    }
    if !run.errors.is_empty() {
        return Ok(2);
    }
    if let Some(buffer) = run.buffer {
        if requested_list {
            std::io::stdout().write_all(&buffer)?;
        }
        return Ok(if buffer.is_empty() { 0 } else { 3 });
    }
    Ok(0)
}

fn error(summary: String) -> Diagnostic {
    Diagnostic::error(summary, "", None)
}

/// `dir/name` as Go's `filepath.Join` spells it (`./a/./b.tf` -> `a/b.tf`).
fn clean(path: &Path) -> PathBuf {
    let cleaned: PathBuf = path
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    if cleaned.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        cleaned
    }
}

impl Run {
    fn out(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.buffer {
            Some(b) => {
                b.extend_from_slice(bytes);
                Ok(())
            }
            None => std::io::stdout().write_all(bytes),
        }
    }

    fn targets(&mut self, targets: &[PathBuf]) -> anyhow::Result<()> {
        for target in targets {
            let path = clean(target);
            let Ok(meta) = std::fs::metadata(&path) else {
                self.errors
                    .push(error(format!("No file or directory at {}", path.display())));
                return Ok(());
            };
            if meta.is_dir() {
                self.dir(&path)?;
            } else if fmt::is_supported(&path.to_string_lossy()) {
                self.read_and_format(&path)?;
            } else {
                self.errors.push(error(
                    "Only .tf, .tfvars, and .tftest.hcl files can be processed with thingform fmt"
                        .to_string(),
                ));
            }
        }
        Ok(())
    }

    fn dir(&mut self, dir: &Path) -> anyhow::Result<()> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                self.errors.push(error(format!(
                    "Cannot read directory {}: {e}",
                    dir.display()
                )));
                return Ok(());
            }
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            if fmt::is_ignored(&name) {
                continue;
            }
            let path = clean(&dir.join(&name));
            if entry.path().is_dir() {
                if self.recursive {
                    self.dir(&path)?;
                }
            } else if fmt::is_supported(&name) {
                self.read_and_format(&path)?;
            }
        }
        Ok(())
    }

    fn read_and_format(&mut self, path: &Path) -> anyhow::Result<()> {
        match std::fs::read(path) {
            Ok(src) => self.file(&path.display().to_string(), Some(path), src),
            Err(e) => {
                self.errors.push(error(format!(
                    "Failed to read file {}: {e}",
                    path.display()
                )));
                Ok(())
            }
        }
    }

    /// Formats one input, named `name`; `path` is where it is written back (not stdin).
    fn file(&mut self, name: &str, path: Option<&Path>, src: Vec<u8>) -> anyhow::Result<()> {
        let Ok(src) = String::from_utf8(src) else {
            self.errors.push(error(format!(
                "{name} is not valid UTF-8; it was not formatted"
            )));
            return Ok(());
        };
        let result = match fmt::format_source(name, &src) {
            Ok(r) => r,
            Err(d) => {
                self.errors.push(d);
                return Ok(());
            }
        };
        if result != src {
            if self.list {
                self.out(format!("{name}\n").as_bytes())?;
            }
            if self.write
                && let Some(path) = path
                && let Err(e) = std::fs::write(path, &result)
            {
                self.errors
                    .push(error(format!("Failed to write {name}: {e}")));
                return Ok(());
            }
            if self.diff {
                let diff = similar::TextDiff::from_lines(&src, &result)
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("old/{name}"), &format!("new/{name}"))
                    .to_string();
                self.out(diff.as_bytes())?;
            }
        }
        if !self.list && !self.write && !self.diff {
            self.out(result.as_bytes())?;
        }
        Ok(())
    }
}
