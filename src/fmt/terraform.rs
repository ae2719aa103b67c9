//! What `terraform fmt` changes beyond HCL's layout, walking the body structure over the
//! tokens (attributes and blocks, nested):
//! - an attribute whose value is one interpolation and nothing else, `"${expr}"`, becomes
//!   `expr` (wrapped in parentheses when it spans lines);
//! - block labels are written quoted (`resource foo bar {` -> `resource "foo" "bar" {`),
//!   and comments between them dropped;
//! - a `variable` block's legacy `type` spellings become type constraints: `"string"` ->
//!   `string`, `"list"` -> `list(string)`, `"map"` -> `map(string)`, bare `list`/`map`/`set`
//!   -> `list(any)`/`map(any)`/`set(any)`.

use super::lexer::{Kind, Token};

/// Applies the rewrites to a whole file's tokens.
pub fn rewrite(tokens: Vec<Token>) -> Vec<Token> {
    let mut w = Walker {
        toks: tokens,
        i: 0,
        out: vec![],
    };
    let mut blocks = vec![];
    w.body(&mut blocks, false);
    // Anything a malformed structure left unvisited is kept as it was.
    while w.i < w.toks.len() {
        w.copy();
    }
    w.out
}

struct Walker {
    toks: Vec<Token>,
    i: usize,
    out: Vec<Token>,
}

impl Walker {
    fn peek(&self, at: usize) -> Option<Kind> {
        self.toks.get(self.i + at).map(|t| t.kind)
    }

    fn copy(&mut self) {
        self.out.push(self.toks[self.i].clone());
        self.i += 1;
    }

    fn body(&mut self, in_blocks: &mut Vec<String>, nested: bool) {
        while let Some(kind) = self.peek(0) {
            match kind {
                Kind::CBrace if nested => return,
                Kind::Ident if self.peek(1) == Some(Kind::Equal) => self.attribute(in_blocks),
                Kind::Ident => self.block(in_blocks),
                _ => self.copy(),
            }
        }
    }

    fn attribute(&mut self, in_blocks: &[String]) {
        let name = self.toks[self.i].text.clone();
        self.copy();
        self.copy();
        let start = self.i;
        let mut depth = 0;
        while let Some(t) = self.toks.get(self.i) {
            if depth == 0 && (t.ends_line() || t.kind == Kind::CBrace) {
                break;
            }
            depth += t.bracket_change();
            self.i += 1;
        }
        let mut expr: Vec<Token> = self.toks[start..self.i].to_vec();
        // A trailing inline comment is not part of the expression.
        let mut tail = vec![];
        while expr.last().is_some_and(|t| t.kind == Kind::Comment) {
            tail.insert(0, expr.pop().unwrap());
        }
        let expr = if in_blocks.len() == 1 && in_blocks[0] == "variable" && name == "type" {
            type_expr(expr)
        } else {
            value_expr(expr)
        };
        self.out.extend(expr);
        self.out.extend(tail);
    }

    fn block(&mut self, in_blocks: &mut Vec<String>) {
        let kind = self.toks[self.i].text.clone();
        self.copy();
        loop {
            match self.peek(0) {
                Some(Kind::Ident) => {
                    let label = self.toks[self.i].text.clone();
                    self.out.push(Token::new(Kind::OQuote, "\""));
                    self.out.push(Token::new(Kind::QuotedLit, &label));
                    self.out.push(Token::new(Kind::CQuote, "\""));
                    self.i += 1;
                }
                Some(Kind::OQuote) => {
                    while let Some(k) = self.peek(0) {
                        self.copy();
                        if k == Kind::CQuote || k == Kind::Newline {
                            break;
                        }
                    }
                }
                Some(Kind::Comment) if !self.toks[self.i].ends_line() => self.i += 1,
                Some(Kind::OBrace) => {
                    self.copy();
                    in_blocks.push(kind);
                    self.body(in_blocks, true);
                    in_blocks.pop();
                    if self.peek(0) == Some(Kind::CBrace) {
                        self.copy();
                    }
                    return;
                }
                // Not a block after all (invalid input never gets here): leave it.
                _ => return,
            }
        }
    }
}

fn tok(kind: Kind, text: &str) -> Token {
    Token::new(kind, text)
}

/// `"${expr}"` -> `expr`, as `terraform fmt` unwraps a lone interpolation.
fn value_expr(tokens: Vec<Token>) -> Vec<Token> {
    let n = tokens.len();
    if n < 5
        || tokens[0].kind != Kind::OQuote
        || tokens[1].kind != Kind::TemplateInterp
        || tokens[n - 2].kind != Kind::TemplateSeqEnd
        || tokens[n - 1].kind != Kind::CQuote
    {
        return tokens;
    }
    let inside = &tokens[2..n - 2];
    let mut quotes = 0;
    for t in inside {
        match t.kind {
            Kind::OQuote => quotes += 1,
            Kind::CQuote => quotes -= 1,
            _ if quotes > 0 => {}
            Kind::TemplateInterp | Kind::TemplateSeqEnd | Kind::QuotedLit => return tokens,
            _ => {}
        }
    }
    let first = inside.iter().position(|t| t.kind != Kind::Newline);
    let last = inside.iter().rposition(|t| t.kind != Kind::Newline);
    let trimmed: Vec<Token> = match (first, last) {
        (Some(f), Some(l)) => inside[f..=l].to_vec(),
        _ => vec![],
    };
    let multi_line = trimmed.iter().any(|t| t.kind == Kind::Newline);
    let parens = trimmed.first().is_some_and(|t| t.kind == Kind::OParen)
        && trimmed.last().is_some_and(|t| t.kind == Kind::CParen);
    if multi_line && !parens {
        let mut wrapped = vec![tok(Kind::OParen, "(")];
        wrapped.extend(trimmed);
        wrapped.push(tok(Kind::CParen, ")"));
        return wrapped;
    }
    trimmed
}

/// A variable's legacy type spellings, as `terraform fmt` rewrites them.
fn type_expr(tokens: Vec<Token>) -> Vec<Token> {
    let call = |name: &str, arg: &str| {
        vec![
            tok(Kind::Ident, name),
            tok(Kind::OParen, "("),
            tok(Kind::Ident, arg),
            tok(Kind::CParen, ")"),
        ]
    };
    match tokens.as_slice() {
        [t] if t.kind == Kind::Ident && matches!(t.text.as_str(), "list" | "map" | "set") => {
            call(&t.text, "any")
        }
        [o, s, c]
            if o.kind == Kind::OQuote && s.kind == Kind::QuotedLit && c.kind == Kind::CQuote =>
        {
            match s.text.as_str() {
                "string" => vec![tok(Kind::Ident, "string")],
                "list" | "map" => call(&s.text, "string"),
                _ => tokens,
            }
        }
        _ => tokens,
    }
}
