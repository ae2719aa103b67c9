//! String templates: interpolation, `%{if}` / `%{for}` directives, strip markers (`~`),
//! indented heredocs.
//!
//! A strip marker removes all whitespace (spaces and newlines) on its side of an
//! interpolation or directive, as HCL does: `${~ x}` and `%{~ for ...}` trim the end of
//! the literal before, `${x ~}` and `%{ for ... ~}` the start of the literal after —
//! including the first literal of a directive's body.

use super::{Evaluator, Scope};
use crate::value::Value;
use hcl::template::{Directive, Element, Strip, Template};

impl Scope {
    /// Renders template source text (a `templatefile` file: no quotes, no escapes).
    pub fn eval_template_source(&self, src: &str) -> Result<Value, String> {
        let t: Template = src.parse().map_err(|e| format!("invalid template: {e}"))?;
        Evaluator {
            scope: self,
            bound: vec![],
        }
        .eval_template(&t)
    }
}

impl Evaluator<'_> {
    pub(super) fn eval_template(&mut self, t: &Template) -> Result<Value, String> {
        if let [Element::Interpolation(i)] = t.elements() {
            return self.eval(&i.expr);
        }
        self.eval_stripped(t, Strip::None, Strip::None)
    }

    /// Evaluates `t` whose first literal follows a marker `before` and whose last
    /// literal precedes a marker `after` (the enclosing directive's markers).
    fn eval_stripped(
        &mut self,
        t: &Template,
        before: Strip,
        after: Strip,
    ) -> Result<Value, String> {
        let elements = t.elements();
        let mut out = String::new();
        for (n, el) in elements.iter().enumerate() {
            match el {
                Element::Literal(s) => {
                    let prev = match n {
                        0 => before,
                        _ => strip_of(&elements[n - 1]),
                    };
                    let next = elements.get(n + 1).map(strip_of).unwrap_or(after);
                    let mut lit = s.as_str();
                    if prev.strip_end() {
                        lit = lit.trim_start();
                    }
                    if next.strip_start() {
                        lit = lit.trim_end();
                    }
                    out.push_str(lit);
                }
                Element::Interpolation(i) => match self.eval(&i.expr)? {
                    Value::Unknown => return Ok(Value::Unknown),
                    Value::Null => {
                        return Err("cannot include a null value in a string template".into());
                    }
                    v => out.push_str(&v.to_template_string().ok_or_else(|| {
                        format!(
                            "cannot include a {} in a string template; use jsonencode() or join()",
                            v.type_name()
                        )
                    })?),
                },
                Element::Directive(Directive::If(ifd)) => match self.eval(&ifd.cond_expr)? {
                    Value::Bool(true) => {
                        let after = match ifd.false_template {
                            Some(_) => ifd.else_strip,
                            None => ifd.endif_strip,
                        };
                        let v = self.eval_stripped(&ifd.true_template, ifd.if_strip, after)?;
                        push_template(&mut out, v)?
                    }
                    Value::Bool(false) => {
                        if let Some(f) = &ifd.false_template {
                            let v = self.eval_stripped(f, ifd.else_strip, ifd.endif_strip)?;
                            push_template(&mut out, v)?
                        }
                    }
                    Value::Unknown => return Ok(Value::Unknown),
                    _ => return Err("%{if} condition must be a bool".into()),
                },
                Element::Directive(Directive::For(fd)) => {
                    let coll = self.eval(&fd.collection_expr)?;
                    let pairs: Vec<(Value, Value)> = match coll {
                        Value::Unknown => return Ok(Value::Unknown),
                        Value::List(l) => l
                            .into_iter()
                            .enumerate()
                            .map(|(i, v)| (Value::Number(i as f64), v))
                            .collect(),
                        Value::Map(m) => {
                            m.into_iter().map(|(k, v)| (Value::String(k), v)).collect()
                        }
                        other => {
                            return Err(format!("cannot iterate over a {}", other.type_name()));
                        }
                    };
                    for (k, v) in pairs {
                        let depth = self.bound.len();
                        if let Some(kv) = &fd.key_var {
                            self.bound.push((kv.to_string(), k));
                        }
                        self.bound.push((fd.value_var.to_string(), v));
                        let r = self.eval_stripped(&fd.template, fd.for_strip, fd.endfor_strip);
                        self.bound.truncate(depth);
                        push_template(&mut out, r?)?;
                    }
                }
            }
        }
        Ok(Value::String(out))
    }
}

/// The markers an element shows to its neighbours: a directive's opening marker faces
/// what comes before it, its closing marker what comes after.
fn strip_of(el: &Element) -> Strip {
    match el {
        Element::Literal(_) => Strip::None,
        Element::Interpolation(i) => i.strip,
        Element::Directive(Directive::If(d)) => {
            Strip::from((d.if_strip.strip_start(), d.endif_strip.strip_end()))
        }
        Element::Directive(Directive::For(d)) => {
            Strip::from((d.for_strip.strip_start(), d.endfor_strip.strip_end()))
        }
    }
}

fn push_template(out: &mut String, v: Value) -> Result<(), String> {
    match v {
        Value::Unknown => Err("unknown value inside a template directive".into()),
        v => {
            out.push_str(&v.to_template_string().unwrap_or_default());
            Ok(())
        }
    }
}

pub(super) fn dedent(s: &str) -> String {
    let indent = s
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: String = s
        .lines()
        .map(|l| l.get(indent..).unwrap_or("").to_string() + "\n")
        .collect();
    if !s.ends_with('\n') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::Scope;
    use crate::value::Value;
    use std::path::PathBuf;

    fn eval(src: &str) -> Value {
        let body = hcl::parse(&format!("x = {src}\n")).unwrap();
        let expr = body.attributes().next().unwrap().expr.clone();
        let mut s = Scope::new(PathBuf::from("."));
        s.root_map("var").insert(
            "names".into(),
            Value::List(vec![Value::String("a".into()), Value::String("b".into())]),
        );
        s.root_map("var").insert("on".into(), Value::Bool(true));
        s.eval(&expr).unwrap()
    }

    fn string(src: &str) -> String {
        match eval(src) {
            Value::String(s) => s,
            other => panic!("not a string: {other:?}"),
        }
    }

    // https://developer.hashicorp.com/terraform/language/expressions/strings#whitespace-stripping
    #[test]
    fn interpolation_strip_markers_trim_adjacent_whitespace() {
        assert_eq!(string(r#""hello ${~ "x" ~} world""#), "helloxworld");
        assert_eq!(string(r#""hello ${~ "x"} world""#), "hellox world");
        assert_eq!(string(r#""hello ${"x" ~}  world""#), "hello xworld");
        assert_eq!(string(r#""a ${"x"} b""#), "a x b");
    }

    // The documentation's example: one name per line, no blank lines around the loop.
    #[test]
    fn directive_strip_markers_in_heredocs() {
        let src = "<<EOT\n%{ for ip in var.names ~}\nserver ${ip}\n%{ endfor ~}\nEOT";
        assert_eq!(string(src), "server a\nserver b\n");
        let src = "<<EOT\nstart\n%{~ for ip in var.names ~}\n  ${ip}\n%{~ endfor ~}\nend\nEOT";
        assert_eq!(string(src), "startabend\n");
        let src = "<<EOT\n%{ if var.on ~}\nyes\n%{~ else ~}\nno\n%{~ endif }\nEOT";
        assert_eq!(string(src), "yes\n");
    }

    #[test]
    fn without_markers_whitespace_is_kept() {
        let src = "<<EOT\n%{ for ip in var.names }\nserver ${ip}\n%{ endfor }\nEOT";
        assert_eq!(string(src), "\nserver a\n\nserver b\n\n");
    }
}
