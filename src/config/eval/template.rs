//! String templates: interpolation, `%{if}` / `%{for}` directives, indented heredocs.

use super::Evaluator;
use crate::value::Value;

impl Evaluator<'_> {
    pub(super) fn eval_template(&mut self, t: &hcl::Template) -> Result<Value, String> {
        let elements = t.elements();
        if let [hcl::template::Element::Interpolation(i)] = elements {
            return self.eval(&i.expr);
        }
        let mut out = String::new();
        for el in elements {
            match el {
                hcl::template::Element::Literal(s) => out.push_str(s),
                hcl::template::Element::Interpolation(i) => match self.eval(&i.expr)? {
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
                hcl::template::Element::Directive(d) => match d {
                    hcl::template::Directive::If(ifd) => match self.eval(&ifd.cond_expr)? {
                        Value::Bool(true) => {
                            push_template(&mut out, self.eval_template(&ifd.true_template)?)?
                        }
                        Value::Bool(false) => {
                            if let Some(f) = &ifd.false_template {
                                push_template(&mut out, self.eval_template(f)?)?
                            }
                        }
                        Value::Unknown => return Ok(Value::Unknown),
                        _ => return Err("%{if} condition must be a bool".into()),
                    },
                    hcl::template::Directive::For(fd) => {
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
                            let r = self.eval_template(&fd.template);
                            self.bound.truncate(depth);
                            push_template(&mut out, r?)?;
                        }
                    }
                },
            }
        }
        Ok(Value::String(out))
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
