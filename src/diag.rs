//! Diagnostics: errors and warnings that point at a place in the user's stack.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A place in a stack file: `main.tf:12:3`, with the text of that line for display.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Loc {
    pub file: String,
    pub line: usize,
    pub col: usize,
    #[serde(skip)]
    pub snippet: String,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

impl Loc {
    /// The location of byte `offset` in `src`.
    pub fn at(file: &str, src: &str, offset: usize) -> Loc {
        let offset = offset.min(src.len());
        let before = &src[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let col = before[line_start..].chars().count() + 1;
        let line_end = src[line_start..]
            .find('\n')
            .map(|i| line_start + i)
            .unwrap_or(src.len());
        Loc {
            file: file.to_string(),
            line,
            col,
            snippet: src[line_start..line_end].to_string(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub loc: Option<Loc>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>, loc: Option<&Loc>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            loc: loc.cloned(),
        }
    }
    pub fn warning(
        summary: impl Into<String>,
        detail: impl Into<String>,
        loc: Option<&Loc>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            loc: loc.cloned(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "Error",
            Severity::Warning => "Warning",
        };
        writeln!(f, "{label}: {}", self.summary)?;
        if let Some(loc) = &self.loc {
            writeln!(f)?;
            writeln!(f, "  on {loc}:")?;
            if !loc.snippet.is_empty() {
                writeln!(f, "  {:>4}: {}", loc.line, loc.snippet)?;
            }
        }
        if !self.detail.is_empty() {
            writeln!(f)?;
            writeln!(f, "{}", self.detail)?;
        }
        Ok(())
    }
}

/// A set of diagnostics carrying at least one error; usable as an `anyhow` error.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.severity == Severity::Error)
    }
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.severity == Severity::Warning)
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    /// `Err(self)` when any error was recorded.
    pub fn into_result(self) -> Result<Vec<Diagnostic>, Diagnostics> {
        if self.has_errors() {
            Err(self)
        } else {
            Ok(self.0)
        }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

/// "Did you mean ...?" for a misspelt name.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let best = candidates
        .into_iter()
        .map(|c| (strsim_distance(name, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min();
    match best {
        Some((_, c)) => format!(" Did you mean \"{c}\"?"),
        None => String::new(),
    }
}

fn strsim_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loc_counts_lines_and_columns() {
        let src = "a = 1\n  bb = 2\n";
        let loc = Loc::at("main.tf", src, 8);
        assert_eq!((loc.line, loc.col), (2, 3));
        assert_eq!(loc.snippet, "  bb = 2");
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(
            did_you_mean("buckt", ["bucket", "tags"]),
            " Did you mean \"bucket\"?"
        );
        assert_eq!(did_you_mean("zzzzzz", ["bucket"]), "");
    }
}
