//! `check "NAME" { data ... assert { condition, error_message } }` blocks: parsed here,
//! validated against the declarations in `stack/checks.rs`, evaluated by the engine at
//! the end of plan and of apply. A check never creates dependency edges and never fails
//! a run: its results are warnings.

use super::blocks::resource_config;
use super::{Attr, BlockNode, Diagnostic, Diagnostics, Loc, ResourceConfig, eval};
use crate::address::Mode;

/// One `assert` block.
#[derive(Clone, Debug)]
pub struct Assert {
    pub condition: Attr,
    pub error_message: Attr,
    pub loc: Loc,
}

/// One `check` block: an optional scoped data source and its assertions.
#[derive(Clone, Debug)]
pub struct CheckBlock {
    pub name: String,
    /// The scoped data source: only this check's assertions may refer to it, and
    /// nothing waits for it.
    pub data: Option<ResourceConfig>,
    pub asserts: Vec<Assert>,
    pub loc: Loc,
}

/// Parses a `check` block (its labels already checked).
pub(super) fn check_block(block: BlockNode, diags: &mut Diagnostics) -> CheckBlock {
    let name = block.labels[0].clone();
    if !valid_identifier(&name) {
        diags.push(Diagnostic::error(
            "Invalid check block name",
            "A name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.",
            Some(&block.loc),
        ));
    }
    for a in &block.attrs {
        diags.push(Diagnostic::error(
            "Unsupported argument",
            format!(
                "check \"{name}\" has no argument named \"{}\". A check block holds an optional data block and assert blocks.",
                a.name
            ),
            Some(&a.loc),
        ));
    }
    let mut check = CheckBlock {
        name: name.clone(),
        data: None,
        asserts: vec![],
        loc: block.loc.clone(),
    };
    for b in block.blocks {
        match b.kind.as_str() {
            "data" => {
                if b.labels.len() != 2 {
                    diags.push(Diagnostic::error(
                        "Wrong number of labels on data block",
                        "Write it as data \"TYPE\" \"NAME\" { ... }.",
                        Some(&b.loc),
                    ));
                    continue;
                }
                if let Some(prev) = &check.data {
                    diags.push(Diagnostic::error(
                        "Multiple data resource blocks",
                        format!(
                            "This check block already has a data resource defined at {}.",
                            prev.loc
                        ),
                        Some(&b.loc),
                    ));
                    continue;
                }
                for meta in ["count", "for_each"] {
                    if let Some(a) = b.attr(meta) {
                        diags.push(Diagnostic::error(
                            "Invalid scoped data block",
                            format!("A data block inside a check block cannot use `{meta}`."),
                            Some(&a.loc),
                        ));
                    }
                }
                check.data = Some(resource_config(Mode::Data, b, diags));
            }
            "assert" => {
                if let Some(a) = assert_block(&name, b, diags) {
                    check.asserts.push(a);
                }
            }
            other => diags.push(Diagnostic::error(
                "Unsupported block type",
                format!(
                    "Blocks of type \"{other}\" are not expected in check \"{name}\". A check block holds an optional data block and assert blocks."
                ),
                Some(&b.loc),
            )),
        }
    }
    if check.asserts.is_empty() {
        diags.push(Diagnostic::error(
            "Zero assert blocks",
            "Check blocks must have at least one assert block.",
            Some(&check.loc),
        ));
    }
    check
}

fn assert_block(check: &str, b: BlockNode, diags: &mut Diagnostics) -> Option<Assert> {
    for a in &b.attrs {
        if a.name != "condition" && a.name != "error_message" {
            diags.push(Diagnostic::error(
                "Unsupported argument",
                format!(
                    "An assert block (in check \"{check}\") takes condition and error_message, not \"{}\".",
                    a.name
                ),
                Some(&a.loc),
            ));
        }
    }
    for nb in &b.blocks {
        diags.push(Diagnostic::error(
            "Unsupported block type",
            format!(
                "Blocks of type \"{}\" are not expected in an assert block.",
                nb.kind
            ),
            Some(&nb.loc),
        ));
    }
    let mut missing = |name: &str| {
        diags.push(Diagnostic::error(
            "Missing required argument",
            format!("The argument \"{name}\" is required, but no definition was found."),
            Some(&b.loc),
        ));
    };
    let condition = b.attr("condition").cloned();
    let error_message = b.attr("error_message").cloned();
    if condition.is_none() {
        missing("condition");
    }
    if error_message.is_none() {
        missing("error_message");
    }
    let (condition, error_message) = (condition?, error_message?);
    if eval::references(&condition.expr).is_empty() {
        diags.push(Diagnostic::error(
            "Invalid assert expression",
            "The condition expression must refer to at least one object from elsewhere in the configuration, or else its result would not be checking anything.",
            Some(&condition.loc),
        ));
    }
    if let Some(kind) = not_a_string(&error_message.expr) {
        diags.push(Diagnostic::error(
            "Invalid error message",
            format!("Unsuitable value for error message: string required, not {kind}."),
            Some(&error_message.loc),
        ));
    }
    // Kept even when invalid (the stack fails to load anyway): no "Zero assert blocks" noise.
    Some(Assert {
        condition,
        error_message,
        loc: b.loc,
    })
}

/// A literal that can never become a string (numbers and bools convert, as in Terraform).
fn not_a_string(expr: &hcl::Expression) -> Option<&'static str> {
    match expr {
        hcl::Expression::Null => Some("null"),
        hcl::Expression::Array(_) => Some("a tuple"),
        hcl::Expression::Object(_) => Some("an object"),
        hcl::Expression::Parenthesis(e) => not_a_string(e),
        _ => None,
    }
}

fn valid_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use crate::config::blocks::add_blocks;
    use crate::config::{Module, parse_file};
    use crate::diag::Diagnostics;

    fn load(src: &str) -> (Module, Diagnostics) {
        let mut m = Module::default();
        let mut d = Diagnostics::default();
        add_blocks(&mut m, parse_file("checks.tf", src).unwrap(), &mut d);
        (m, d)
    }

    fn errors(src: &str) -> Vec<(String, String, usize)> {
        let (_, d) = load(src);
        d.errors()
            .map(|e| {
                (
                    e.summary.clone(),
                    e.detail.clone(),
                    e.loc.as_ref().map(|l| l.line).unwrap_or(0),
                )
            })
            .collect()
    }

    #[test]
    fn parses_scoped_data_and_asserts() {
        let (m, d) = load(
            "check \"topic\" {\n  data \"aws_caller_identity\" \"me\" {\n    depends_on = [aws_sns_topic.t]\n  }\n  assert {\n    condition     = aws_sns_topic.t.fifo_topic\n    error_message = \"not fifo\"\n  }\n  assert {\n    condition     = data.aws_caller_identity.me.account_id != \"\"\n    error_message = \"no account: ${var.x}\"\n  }\n}\n",
        );
        assert!(!d.has_errors(), "{d}");
        let c = &m.checks[0];
        assert_eq!(c.name, "topic");
        assert_eq!(c.asserts.len(), 2);
        assert_eq!(c.asserts[0].condition.loc.line, 6);
        let data = c.data.as_ref().unwrap();
        assert_eq!(data.id.to_string(), "data.aws_caller_identity.me");
        assert_eq!(data.depends_on.len(), 1);
        assert!(
            m.resources.is_empty(),
            "a scoped data source is not a stack resource"
        );
    }

    #[test]
    fn condition_must_reference_something() {
        let e = errors(
            "check \"c\" {\n  assert {\n    condition     = 1 == 1\n    error_message = \"x\"\n  }\n}\n",
        );
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].0, "Invalid assert expression");
        assert!(e[0].1.contains("must refer to at least one object"));
        assert_eq!(e[0].2, 3);
    }

    #[test]
    fn unknown_names_and_missing_arguments_are_errors() {
        let e = errors(
            "check \"c\" {\n  severity = \"high\"\n  assert {\n    condition = var.x\n    message   = \"x\"\n  }\n  precondition {}\n}\n",
        );
        let summaries: Vec<&str> = e.iter().map(|x| x.0.as_str()).collect();
        assert!(
            e.iter()
                .any(|x| x.0 == "Unsupported argument" && x.1.contains("severity") && x.2 == 2),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|x| x.0 == "Unsupported argument" && x.1.contains("\"message\"") && x.2 == 5),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|x| x.0 == "Missing required argument" && x.1.contains("error_message")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|x| x.0 == "Unsupported block type" && x.1.contains("precondition")),
            "{e:?}"
        );
        assert!(summaries.contains(&"Zero assert blocks"), "{e:?}");
    }

    #[test]
    fn error_message_must_be_a_string() {
        for bad in ["[\"a\"]", "{ a = 1 }", "null"] {
            let e = errors(&format!(
                "check \"c\" {{\n  assert {{\n    condition     = var.x\n    error_message = {bad}\n  }}\n}}\n"
            ));
            assert_eq!(e.len(), 1, "{bad}: {e:?}");
            assert_eq!(e[0].0, "Invalid error message");
            assert_eq!(e[0].2, 4);
        }
        // Terraform converts numbers and bools, and templates are evaluated later.
        for ok in ["42", "\"x ${var.x}\""] {
            let e = errors(&format!(
                "check \"c\" {{\n  assert {{\n    condition     = var.x\n    error_message = {ok}\n  }}\n}}\n"
            ));
            assert!(e.is_empty(), "{ok}: {e:?}");
        }
    }

    #[test]
    fn duplicate_checks_and_second_data_block_are_errors() {
        let a = "  assert {\n    condition     = var.x\n    error_message = \"x\"\n  }\n";
        let e = errors(&format!(
            "check \"c\" {{\n{a}  data \"aws_caller_identity\" \"a\" {{}}\n  data \"aws_caller_identity\" \"b\" {{}}\n}}\ncheck \"c\" {{\n{a}}}\n"
        ));
        let summaries: Vec<&str> = e.iter().map(|x| x.0.as_str()).collect();
        assert!(
            summaries.contains(&"Multiple data resource blocks"),
            "{e:?}"
        );
        assert!(summaries.contains(&"Duplicate check block"), "{e:?}");
        let e = errors(&format!(
            "check \"c\" {{\n{a}  data \"aws_caller_identity\" \"a\" {{\n    count = 2\n  }}\n}}\n"
        ));
        assert_eq!(e[0].0, "Invalid scoped data block", "{e:?}");
    }
}
