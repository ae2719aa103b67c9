//! `moved` blocks with `for_each` (a thingform extension: Terraform needs one block per
//! instance, a fleet would need thousands) expanded into one move per element.

use super::Stack;
use crate::config::eval::Scope;
use crate::config::{Endpoint, MovedBlock, MovedEach};
use crate::diag::{Diagnostic, Diagnostics};
use crate::value::Value;
use hcl::expr::{Expression, TraversalOperator};

impl Stack {
    /// Every `moved` block, those with `for_each` expanded (after the others, in order).
    pub fn moved_blocks(&self) -> Result<Vec<MovedBlock>, Diagnostics> {
        let mut out = self.module.moved.clone();
        if self.module.moved_each.is_empty() {
            return Ok(out);
        }
        let mut diags = Diagnostics::default();
        let mut scope = self.base_scope();
        let _ = self.eval_locals(&mut scope);
        for b in &self.module.moved_each {
            match expand(b, &scope) {
                Ok(blocks) => out.extend(blocks),
                Err(d) => diags.push(d),
            }
        }
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(out)
        }
    }
}

fn expand(b: &MovedEach, scope: &Scope) -> Result<Vec<MovedBlock>, Diagnostic> {
    let exps = super::instances::expand_meta(None, Some(&b.for_each), scope)?;
    let mut scope = scope.clone();
    let mut out = vec![];
    for e in exps {
        let Some((k, v)) = e.each else { continue };
        let each = Value::Map([("key".to_string(), k), ("value".to_string(), v)].into());
        let ends = scope.with_root("each", each, |s| {
            let from = endpoint(&b.from.expr, s).map_err(|e| (e, &b.from))?;
            let to = endpoint(&b.to.expr, s).map_err(|e| (e, &b.to))?;
            Ok::<_, (String, &crate::config::Attr)>((from, to))
        });
        let (from, to) = ends.map_err(|(e, attr)| {
            Diagnostic::error(
                "Invalid moved block",
                format!("`{}`: {e}. Write an address whose keys may use each.key, e.g. aws_iot_thing.node[each.key].", attr.name),
                Some(&attr.loc),
            )
        })?;
        if std::mem::discriminant(&from) != std::mem::discriminant(&to) {
            return Err(Diagnostic::error(
                "Invalid moved block",
                format!("{from} and {to} must both be resources or both modules."),
                Some(&b.loc),
            ));
        }
        out.push(MovedBlock {
            from,
            to,
            loc: b.loc.clone(),
        });
    }
    Ok(out)
}

/// An address written as a traversal, its index expressions evaluated.
fn endpoint(expr: &Expression, scope: &Scope) -> Result<Endpoint, String> {
    render(expr, scope)?.parse()
}

fn render(expr: &Expression, scope: &Scope) -> Result<String, String> {
    match expr {
        Expression::Variable(v) => Ok(v.to_string()),
        Expression::Traversal(t) => {
            let mut s = render(&t.expr, scope)?;
            for op in &t.operators {
                match op {
                    TraversalOperator::GetAttr(a) => {
                        s.push('.');
                        s.push_str(a.as_str());
                    }
                    TraversalOperator::LegacyIndex(i) => s.push_str(&format!("[{i}]")),
                    TraversalOperator::Index(e) => match scope.eval(e)? {
                        Value::String(k) => {
                            s.push_str(&format!("[{}]", serde_json::Value::String(k)))
                        }
                        Value::Number(n) if n.fract() == 0.0 && n >= 0.0 => {
                            s.push_str(&format!("[{}]", n as i64))
                        }
                        other => {
                            return Err(format!(
                                "an instance key must be a string or a whole number, got {}",
                                other.type_name()
                            ));
                        }
                    },
                    _ => return Err("splats are not addresses".into()),
                }
            }
            Ok(s)
        }
        _ => Err("not an address".into()),
    }
}
