//! Static reference analysis: what an expression refers to, without evaluating it.

use crate::address::ResourceId;
use hcl::expr::{Expression, ObjectKey, TraversalOperator};

/// What an expression refers to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reference {
    Var(String),
    Local(String),
    Resource(ResourceId),
    /// `module.NAME`, `module.NAME.OUTPUT` or `module.NAME[KEY].OUTPUT`.
    Module {
        call: String,
        output: Option<String>,
    },
    Each,
    Count,
    Path,
    Terraform,
    /// A name that is none of the above.
    Undeclared(String),
}

/// `aws_s3_bucket.archive` or `data.aws_region.current` written as a bare reference.
pub fn static_reference(expr: &Expression) -> Option<ResourceId> {
    match references(expr).as_slice() {
        [Reference::Resource(r)] => Some(r.clone()),
        _ => None,
    }
}

/// Every reference in an expression, in order of appearance.
pub fn references(expr: &Expression) -> Vec<Reference> {
    let mut out = vec![];
    collect_refs(expr, &mut vec![], &mut out);
    out
}

fn root_ref(root: &str, ops: &[TraversalOperator]) -> Reference {
    let attr = |i: usize| match ops.get(i) {
        Some(TraversalOperator::GetAttr(a)) => Some(a.to_string()),
        _ => None,
    };
    match root {
        "var" => attr(0)
            .map(Reference::Var)
            .unwrap_or(Reference::Undeclared("var".into())),
        "local" => attr(0)
            .map(Reference::Local)
            .unwrap_or(Reference::Undeclared("local".into())),
        "module" => match attr(0) {
            Some(call) => {
                let output = match ops.get(1) {
                    Some(TraversalOperator::GetAttr(o)) => Some(o.to_string()),
                    Some(TraversalOperator::Index(_)) | Some(TraversalOperator::LegacyIndex(_)) => {
                        attr(2)
                    }
                    _ => None,
                };
                Reference::Module { call, output }
            }
            None => Reference::Undeclared("module".into()),
        },
        "each" => Reference::Each,
        "count" => Reference::Count,
        "path" => Reference::Path,
        "terraform" | "thingform" => Reference::Terraform,
        "data" => match (attr(0), attr(1)) {
            (Some(t), Some(n)) => Reference::Resource(ResourceId::data(&t, &n)),
            _ => Reference::Undeclared("data".into()),
        },
        t if t.contains('_') => match attr(0) {
            Some(n) => Reference::Resource(ResourceId::managed(t, &n)),
            None => Reference::Undeclared(t.into()),
        },
        other => Reference::Undeclared(other.into()),
    }
}

fn collect_refs(expr: &Expression, bound: &mut Vec<String>, out: &mut Vec<Reference>) {
    match expr {
        Expression::Variable(v) if !bound.iter().any(|b| b == v.as_str()) => {
            out.push(root_ref(v.as_str(), &[]));
        }
        Expression::Traversal(t) if super::unary_under(t).is_some() => {
            if let Some((_, inner)) = super::unary_under(t) {
                collect_refs(&inner, bound, out);
            }
        }
        Expression::Traversal(t) => {
            match &t.expr {
                Expression::Variable(v) if !bound.iter().any(|b| b == v.as_str()) => {
                    out.push(root_ref(v.as_str(), &t.operators))
                }
                other => collect_refs(other, bound, out),
            }
            for op in &t.operators {
                if let TraversalOperator::Index(e) = op {
                    collect_refs(e, bound, out);
                }
            }
        }
        Expression::Array(items) => items.iter().for_each(|e| collect_refs(e, bound, out)),
        Expression::Object(obj) => {
            for (k, v) in obj.iter() {
                if let ObjectKey::Expression(e) = k {
                    collect_refs(e, bound, out);
                }
                collect_refs(v, bound, out);
            }
        }
        Expression::TemplateExpr(t) => {
            if let Ok(template) = hcl::Template::from_expr(t) {
                collect_template_refs(&template, bound, out);
            }
        }
        Expression::FuncCall(c) => c.args.iter().for_each(|e| collect_refs(e, bound, out)),
        Expression::Parenthesis(e) => collect_refs(e, bound, out),
        Expression::Conditional(c) => {
            collect_refs(&c.cond_expr, bound, out);
            collect_refs(&c.true_expr, bound, out);
            collect_refs(&c.false_expr, bound, out);
        }
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(u) => collect_refs(&u.expr, bound, out),
            hcl::expr::Operation::Binary(b) => {
                collect_refs(&b.lhs_expr, bound, out);
                collect_refs(&b.rhs_expr, bound, out);
            }
        },
        Expression::ForExpr(f) => {
            collect_refs(&f.collection_expr, bound, out);
            let depth = bound.len();
            if let Some(k) = &f.key_var {
                bound.push(k.to_string());
            }
            bound.push(f.value_var.to_string());
            if let Some(k) = &f.key_expr {
                collect_refs(k, bound, out);
            }
            collect_refs(&f.value_expr, bound, out);
            if let Some(c) = &f.cond_expr {
                collect_refs(c, bound, out);
            }
            bound.truncate(depth);
        }
        _ => {}
    }
}

fn collect_template_refs(t: &hcl::Template, bound: &mut Vec<String>, out: &mut Vec<Reference>) {
    for el in t.elements() {
        match el {
            hcl::template::Element::Literal(_) => {}
            hcl::template::Element::Interpolation(i) => collect_refs(&i.expr, bound, out),
            hcl::template::Element::Directive(hcl::template::Directive::If(d)) => {
                collect_refs(&d.cond_expr, bound, out);
                collect_template_refs(&d.true_template, bound, out);
                if let Some(f) = &d.false_template {
                    collect_template_refs(f, bound, out);
                }
            }
            hcl::template::Element::Directive(hcl::template::Directive::For(d)) => {
                collect_refs(&d.collection_expr, bound, out);
                let depth = bound.len();
                if let Some(k) = &d.key_var {
                    bound.push(k.to_string());
                }
                bound.push(d.value_var.to_string());
                collect_template_refs(&d.template, bound, out);
                bound.truncate(depth);
            }
        }
    }
}
