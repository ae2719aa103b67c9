//! `thingform fmt`: the canonical layout of HCL files, byte for byte as `terraform fmt`
//! writes it. Built on tokens, never on a re-printed syntax tree, so comments, heredocs
//! and every character of every token stay as written: only the spaces between tokens
//! change (plus the few rewrites `terraform fmt` makes, see [`terraform`]).
//!
//! - [`lexer`]: HCL's token kinds (templates, heredocs, comments) from the source;
//! - [`terraform`]: `terraform fmt`'s own rewrites over the body structure;
//! - [`layout`]: `hclwrite.Format`'s indentation, spacing and alignment passes.
//!
//! A file that is not valid HCL is refused with its `file:line:col` and never rewritten.
//! *Never knows* AWS, the state, the engine or the stack: text in, text out.

pub mod layout;
pub mod lexer;
pub mod terraform;

use crate::diag::{Diagnostic, Loc};

/// The file name endings `terraform fmt` formats (JSON variants are never touched).
pub const EXTENSIONS: &[&str] = &[
    ".tf",
    ".tfvars",
    ".tftest.hcl",
    ".tfmock.hcl",
    ".tfquery.hcl",
];

/// Whether `terraform fmt` formats a file of this name.
pub fn is_supported(name: &str) -> bool {
    EXTENSIONS.iter().any(|e| name.ends_with(e))
}

/// Names a directory walk skips, as Terraform does: hidden files, editor backups
/// (`name~`) and Emacs lock files (`#name#`).
pub fn is_ignored(name: &str) -> bool {
    name.starts_with('.') || name.ends_with('~') || (name.starts_with('#') && name.ends_with('#'))
}

/// The canonical form of `src` (named `file` in errors), or the syntax error that
/// keeps it from being formatted.
pub fn format_source(file: &str, src: &str) -> Result<String, Diagnostic> {
    check_syntax(file, src)?;
    let tokens = lexer::lex(src);
    let mut tokens = terraform::rewrite(tokens);
    layout::format(&mut tokens);
    Ok(layout::render(&tokens))
}

fn check_syntax(file: &str, src: &str) -> Result<(), Diagnostic> {
    hcl::edit::parser::parse_body(src).map(|_| ()).map_err(|e| {
        let at = Loc::at(file, src, e.location().offset());
        Diagnostic::error(
            "Invalid HCL syntax",
            format!("{}. The file was not formatted.", e.message()),
            Some(&at),
        )
    })
}

#[cfg(test)]
mod tests;
