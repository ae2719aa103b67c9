//! A cheap nesting-depth pre-scan run before hcl-edit parses a file: the parser (and the
//! evaluator after it) recurse once per nesting level, so 5,000 nested brackets would
//! overflow the stack and abort the process. Brackets, parentheses, braces, quoted
//! strings and the `${ }`/`%{ }` templates inside them each count as one level; comments
//! are skipped. Heredoc bodies are scanned as code (their brackets are usually balanced,
//! and only a file past the limit is refused).

use crate::diag::{Diagnostic, Loc};

/// The deepest nesting accepted. Real stacks stay far below it (stacks/campus reaches 8).
pub const MAX_DEPTH: usize = 128;

#[derive(Clone, Copy, PartialEq)]
enum Frame {
    /// `(`, `[` or `{` in code.
    Bracket,
    /// A quoted string.
    Str,
    /// `${` or `%{` inside a string: code until its `}`.
    Template,
}

/// Refuses a file nested deeper than [`MAX_DEPTH`], naming where it gets too deep.
pub fn check(file: &str, src: &str) -> Result<(), Diagnostic> {
    let bytes = src.as_bytes();
    let mut stack: Vec<Frame> = vec![];
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        if stack.last() == Some(&Frame::Str) {
            match (c, next) {
                (b'\\', _) => i += 1,
                (b'"', _) | (b'\n', _) => {
                    stack.pop();
                }
                (b'$' | b'%', Some(b'{')) => {
                    stack.push(Frame::Template);
                    i += 1;
                }
                _ => {}
            }
        } else {
            match (c, next) {
                (b'#', _) | (b'/', Some(b'/')) => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                (b'/', Some(b'*')) => {
                    i += 2;
                    while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                        i += 1;
                    }
                    i += 1;
                }
                (b'"', _) => stack.push(Frame::Str),
                (b'(' | b'[' | b'{', _) => stack.push(Frame::Bracket),
                (b')' | b']' | b'}', _) => {
                    // Mismatches are the parser's to report.
                    stack.pop();
                }
                _ => {}
            }
        }
        if stack.len() > MAX_DEPTH {
            return Err(Diagnostic::error(
                "Nesting too deep",
                format!(
                    "brackets, strings and templates are nested more than {MAX_DEPTH} levels deep here; thingform refuses deeper nesting (it would exhaust the parser's stack). Flatten the expression, e.g. with locals."
                ),
                Some(&Loc::at(file, src, i)),
            ));
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(n: usize) -> String {
        format!("x = {}1{}\n", "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn deep_nesting_is_an_error_at_its_line_and_column() {
        let src = format!("a = 1\n{}", nested(5000));
        let d = check("deep.tf", &src).unwrap_err();
        let text = d.to_string();
        assert!(text.contains("Nesting too deep"), "{text}");
        assert!(text.contains("deep.tf:2:"), "{text}");
        assert!(check("ok.tf", &nested(MAX_DEPTH - 1)).is_ok());
        assert!(check("ok.tf", &nested(MAX_DEPTH + 1)).is_err());
    }

    #[test]
    fn strings_comments_and_templates_count_as_written() {
        // Brackets inside strings and comments are text, not nesting.
        let text = format!(
            "x = \"{}\" # {}\n/* {} */\ny = \"${{[1]}}\"\n",
            "(".repeat(500),
            "[".repeat(500),
            "{".repeat(500)
        );
        assert!(check("s.tf", &text).is_ok());
        // Templates nest: a string in a template in a string in a template...
        let deep = format!("x = {}1{}\n", "\"${".repeat(100), "}\"".repeat(100));
        assert!(check("t.tf", &deep).is_err());
        // Escaped quotes stay inside the string.
        assert!(check("e.tf", &format!("x = \"\\\"{}\"\n", "(".repeat(300))).is_ok());
    }
}
