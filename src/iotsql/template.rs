//! Substitution templates in rule action fields: `${expression}` parts, each parsed by the
//! SQL expression parser and evaluated against the original message (not the SELECT
//! output: AWS evaluates them separately, so aliases are not visible).

use super::eval::{Env, eval};
use super::parser::{Expr, Parser};
use super::value::V;
use super::{Context, SqlError, Version};

#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    Lit(String),
    Expr(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub parts: Vec<Part>,
}

impl Template {
    pub fn parse(text: &str, version: Version) -> Result<Template, SqlError> {
        let mut parts = vec![];
        let mut lit = String::new();
        let mut i = 0;
        while i < text.len() {
            if text[i..].starts_with("${") {
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                let mut p = Parser::new(text, i + 2, version);
                let e = p.expr().map_err(|e| SqlError {
                    offset: e.offset,
                    message: format!("in the substitution template at offset {i}: {}", e.message),
                })?;
                p.expect_sym("}").map_err(|e| SqlError {
                    offset: e.offset,
                    message: format!(
                        "the substitution template at offset {i} is not closed with `}}` ({})",
                        e.message
                    ),
                })?;
                parts.push(Part::Expr(e));
                i = p.offset();
                continue;
            }
            let c = text[i..].chars().next().expect("in range");
            lit.push(c);
            i += c.len_utf8();
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Template { parts })
    }

    pub fn has_expressions(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Expr(_)))
    }

    /// The field's value for one message; an `Undefined` expression becomes empty text.
    pub fn render(&self, ctx: &Context) -> Result<String, String> {
        let doc = ctx.document();
        let env = Env { ctx, doc: &doc };
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Expr(e) => {
                    let v = eval(e, &env)?;
                    if let Some(t) = v.to_text().filter(|_| v != V::Null) {
                        out.push_str(&t);
                    } else if v == V::Null {
                        out.push_str("null");
                    }
                }
            }
        }
        Ok(out)
    }
}
