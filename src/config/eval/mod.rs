//! Expression evaluation with unknown values, and static reference analysis.
//!
//! `template.rs` evaluates string templates and heredocs, `ops.rs` attribute access,
//! indexing and operators, `refs.rs` the static reference analysis.

mod ops;
mod refs;
mod template;

pub use refs::{Reference, references, static_reference};

use ops::{binary, get_attr, index};
use template::dedent;

use super::functions;
use crate::address::ModuleInstance;
use crate::value::Value;
use hcl::expr::{Expression, ObjectKey, TraversalOperator, UnaryOperator};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Everything an expression can refer to, by root name (`var`, `local`, `aws_s3_bucket`,
/// `data`, `each`, `count`, `path`, `terraform`).
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub roots: BTreeMap<String, Value>,
    /// The stack directory, for `file()` and friends.
    pub dir: PathBuf,
    /// The module instance whose names `roots` and `dir` hold (the root module at
    /// first); the others' wait in `parked` until [`Scope::enter`] brings them back.
    pub ns: ModuleInstance,
    parked: BTreeMap<ModuleInstance, (BTreeMap<String, Value>, PathBuf)>,
}

impl Scope {
    pub fn new(dir: PathBuf) -> Self {
        Scope {
            roots: BTreeMap::new(),
            dir,
            ns: ModuleInstance::root(),
            parked: BTreeMap::new(),
        }
    }

    /// Makes module instance `m` the one whose names expressions see (no copy: the
    /// current one is parked). Returns whether `m` had no names yet.
    pub fn enter(&mut self, m: &ModuleInstance) -> bool {
        if &self.ns == m {
            return false;
        }
        let (roots, dir, fresh) = match self.parked.remove(m) {
            Some((r, d)) => (r, d, false),
            None => (BTreeMap::new(), self.dir.clone(), true),
        };
        let old_roots = std::mem::replace(&mut self.roots, roots);
        let old_dir = std::mem::replace(&mut self.dir, dir);
        let old_ns = std::mem::replace(&mut self.ns, m.clone());
        self.parked.insert(old_ns, (old_roots, old_dir));
        fresh
    }

    pub fn eval(&self, expr: &Expression) -> Result<Value, String> {
        Evaluator {
            scope: self,
            bound: vec![],
        }
        .eval(expr)
    }

    /// Runs `f` with `name` bound to `value` (a `count`, `each` or dynamic-block
    /// iterator), then restores what was there: no copy of the scope per instance.
    pub fn with_root<R>(&mut self, name: &str, value: Value, f: impl FnOnce(&mut Scope) -> R) -> R {
        let prev = self.roots.insert(name.to_string(), value);
        let out = f(self);
        match prev {
            Some(p) => {
                self.roots.insert(name.to_string(), p);
            }
            None => {
                self.roots.remove(name);
            }
        }
        out
    }

    /// A root whose value is an object; created empty on first use.
    pub fn root_map(&mut self, root: &str) -> &mut BTreeMap<String, Value> {
        let v = self
            .roots
            .entry(root.to_string())
            .or_insert_with(|| Value::Map(BTreeMap::new()));
        if !matches!(v, Value::Map(_)) {
            *v = Value::Map(BTreeMap::new());
        }
        match v {
            Value::Map(m) => m,
            _ => unreachable!("just made a map"),
        }
    }
}

fn unary(op: UnaryOperator, v: Value) -> Result<Value, String> {
    Ok(match (op, v) {
        (_, Value::Unknown) => Value::Unknown,
        (UnaryOperator::Neg, Value::Number(n)) => Value::Number(-n),
        (UnaryOperator::Not, Value::Bool(b)) => Value::Bool(!b),
        (UnaryOperator::Not, v) => {
            return Err(format!(
                "cannot apply ! to {}: it takes a bool",
                v.type_name()
            ));
        }
        (UnaryOperator::Neg, v) => {
            return Err(format!(
                "cannot apply - to {}: it takes a number",
                v.type_name()
            ));
        }
    })
}

/// The parser reads `!a.b` and `-a.b` as a traversal of `!a`; HCL means `!(a.b)`. For such
/// a traversal: the operator and the traversal it applies to.
pub(crate) fn unary_under(t: &hcl::expr::Traversal) -> Option<(UnaryOperator, Expression)> {
    let Expression::Operation(op) = &t.expr else {
        return None;
    };
    let hcl::expr::Operation::Unary(u) = op.as_ref() else {
        return None;
    };
    Some((
        u.operator,
        Expression::Traversal(Box::new(hcl::expr::Traversal::new(
            u.expr.clone(),
            t.operators.clone(),
        ))),
    ))
}

struct Evaluator<'a> {
    scope: &'a Scope,
    /// Variables bound by `for` expressions, innermost last.
    bound: Vec<(String, Value)>,
}

impl Evaluator<'_> {
    fn lookup(&self, name: &str) -> Result<Value, String> {
        if let Some((_, v)) = self.bound.iter().rev().find(|(n, _)| n == name) {
            return Ok(v.clone());
        }
        self.scope.roots.get(name).cloned().ok_or_else(|| match name {
            "each" => "`each` can only be used in a resource that sets for_each".to_string(),
            "count" => "`count.index` can only be used in a resource that sets count".to_string(),
            _ => format!("unknown name `{name}`: a reference needs a prefix such as var., local. or a resource type"),
        })
    }

    fn eval(&mut self, expr: &Expression) -> Result<Value, String> {
        Ok(match expr {
            Expression::Null => Value::Null,
            Expression::Bool(b) => Value::Bool(*b),
            Expression::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
            Expression::String(s) => Value::String(s.clone()),
            Expression::Array(items) => Value::List(
                items
                    .iter()
                    .map(|e| self.eval(e))
                    .collect::<Result<_, _>>()?,
            ),
            Expression::Object(obj) => {
                let mut m = BTreeMap::new();
                for (k, v) in obj.iter() {
                    let key = match k {
                        ObjectKey::Identifier(id) => id.to_string(),
                        ObjectKey::Expression(e) => match self.eval(e)? {
                            Value::Unknown => return Ok(Value::Unknown),
                            other => other.to_template_string().ok_or_else(|| {
                                format!("object key must be a string, got {}", other.type_name())
                            })?,
                        },
                        other => return Err(format!("unsupported object key {other:?}")),
                    };
                    m.insert(key, self.eval(v)?);
                }
                Value::Map(m)
            }
            Expression::TemplateExpr(t) => {
                let raw = match t.as_ref() {
                    hcl::expr::TemplateExpr::Heredoc(h)
                        if h.strip == hcl::expr::HeredocStripMode::Indent =>
                    {
                        hcl::expr::TemplateExpr::QuotedString(dedent(&h.template))
                    }
                    other => other.clone(),
                };
                let template =
                    hcl::Template::from_expr(&raw).map_err(|e| format!("invalid template: {e}"))?;
                self.eval_template(&template)?
            }
            Expression::Variable(v) => self.lookup(v.as_str())?,
            Expression::Traversal(t) if unary_under(t).is_some() => {
                // `!a.b` parses as `(!a).b`: the operator applies to the whole traversal.
                let (op, inner) = unary_under(t).expect("checked");
                let v = self.eval(&inner)?;
                unary(op, v)?
            }
            Expression::Traversal(t) => {
                // A reference such as `aws_iot_certificate.dev[count.index].arn` walks the
                // scope by reference and copies only what it ends on: copying the whole
                // root (every instance of a fleet) per reference would make evaluation
                // quadratic.
                if let Expression::Variable(v) = &t.expr
                    && !self.bound.iter().any(|(n, _)| n == v.as_str())
                    && let Some(root) = self.scope.roots.get(v.as_str())
                {
                    let mut cur = root;
                    let mut done = 0;
                    for op in &t.operators {
                        let next = match op {
                            TraversalOperator::GetAttr(name) => match cur {
                                Value::Map(m) => m.get(name.as_str()),
                                _ => None,
                            },
                            TraversalOperator::Index(e) => match (cur, self.eval(e)?) {
                                (Value::List(l), Value::Number(n))
                                    if n >= 0.0 && n.fract() == 0.0 =>
                                {
                                    l.get(n as usize)
                                }
                                (Value::Map(m), Value::String(k)) => m.get(&k),
                                _ => None,
                            },
                            TraversalOperator::LegacyIndex(n) => match cur {
                                Value::List(l) => l.get(*n as usize),
                                _ => None,
                            },
                            _ => None,
                        };
                        match next {
                            Some(n) => {
                                cur = n;
                                done += 1;
                            }
                            None => break,
                        }
                    }
                    return self.traverse(cur.clone(), &t.operators[done..]);
                }
                let base = self.eval(&t.expr)?;
                self.traverse(base, &t.operators)?
            }
            Expression::FuncCall(call) => self.call(call)?,
            Expression::Parenthesis(e) => self.eval(e)?,
            Expression::Conditional(c) => match self.eval(&c.cond_expr)? {
                Value::Bool(true) => self.eval(&c.true_expr)?,
                Value::Bool(false) => self.eval(&c.false_expr)?,
                Value::Unknown => Value::Unknown,
                other => {
                    return Err(format!(
                        "condition must be a bool, got {}",
                        other.type_name()
                    ));
                }
            },
            Expression::Operation(op) => match op.as_ref() {
                hcl::expr::Operation::Unary(u) => {
                    let v = self.eval(&u.expr)?;
                    unary(u.operator, v)?
                }
                hcl::expr::Operation::Binary(b) => self.binary_chain(b)?,
            },
            Expression::ForExpr(f) => self.for_expr(f)?,
            other => return Err(format!("unsupported expression: {other:?}")),
        })
    }

    /// A chain of binary operators, grouped by HCL's precedence (`*` `/` `%`, then `+`
    /// `-`, comparisons, `==` `!=`, `&&`, `||`; left-associative). The parser builds the
    /// chain right-nested, whatever the operators (`a == b && c` as `a == (b && c)`), so
    /// the operands are taken in source order and reduced here. Parentheses are operands.
    fn binary_chain(&mut self, b: &hcl::expr::BinaryOp) -> Result<Value, String> {
        fn flatten<'e>(
            e: &'e Expression,
            operands: &mut Vec<&'e Expression>,
            ops: &mut Vec<hcl::expr::BinaryOperator>,
        ) {
            match e {
                Expression::Operation(op) => match op.as_ref() {
                    hcl::expr::Operation::Binary(b) => {
                        flatten(&b.lhs_expr, operands, ops);
                        ops.push(b.operator);
                        flatten(&b.rhs_expr, operands, ops);
                    }
                    _ => operands.push(e),
                },
                _ => operands.push(e),
            }
        }
        let (mut operands, mut ops) = (vec![], vec![]);
        flatten(&b.lhs_expr, &mut operands, &mut ops);
        ops.push(b.operator);
        flatten(&b.rhs_expr, &mut operands, &mut ops);
        let mut values = Vec::with_capacity(operands.len());
        for e in operands {
            values.push(self.eval(e)?);
        }
        let mut values = values.into_iter();
        let mut out: Vec<Value> = vec![values.next().unwrap_or(Value::Null)];
        let mut pending: Vec<hcl::expr::BinaryOperator> = vec![];
        fn reduce(out: &mut Vec<Value>, op: hcl::expr::BinaryOperator) -> Result<(), String> {
            let r = out.pop().unwrap_or(Value::Null);
            let l = out.pop().unwrap_or(Value::Null);
            out.push(binary(op, l, r)?);
            Ok(())
        }
        for (op, v) in ops.into_iter().zip(values) {
            while let Some(&top) = pending.last()
                && top.precedence() >= op.precedence()
            {
                pending.pop();
                reduce(&mut out, top)?;
            }
            pending.push(op);
            out.push(v);
        }
        while let Some(top) = pending.pop() {
            reduce(&mut out, top)?;
        }
        Ok(out.pop().unwrap_or(Value::Null))
    }

    fn traverse(&mut self, mut value: Value, ops: &[TraversalOperator]) -> Result<Value, String> {
        for (i, op) in ops.iter().enumerate() {
            match op {
                TraversalOperator::AttrSplat | TraversalOperator::FullSplat => {
                    let items = match value {
                        Value::Unknown => return Ok(Value::Unknown),
                        Value::Null => vec![],
                        Value::List(l) => l,
                        other => vec![other],
                    };
                    let rest = &ops[i + 1..];
                    let out = items
                        .into_iter()
                        .map(|item| self.traverse(item, rest))
                        .collect::<Result<Vec<_>, _>>()?;
                    return Ok(Value::List(out));
                }
                TraversalOperator::GetAttr(name) => {
                    value = get_attr(value, name.as_str())?;
                }
                TraversalOperator::Index(e) => {
                    let idx = self.eval(e)?;
                    value = index(value, idx)?;
                }
                TraversalOperator::LegacyIndex(n) => {
                    value = index(value, Value::Number(*n as f64))?;
                }
            }
        }
        Ok(value)
    }

    fn call(&mut self, call: &hcl::expr::FuncCall) -> Result<Value, String> {
        let name = call.name.name.as_str();
        // try and can see errors of their arguments, so they evaluate them lazily.
        match name {
            "try" => {
                let mut last = String::from("try needs at least one argument");
                for arg in &call.args {
                    match self.eval(arg) {
                        Ok(v) => return Ok(v),
                        Err(e) => last = e,
                    }
                }
                return Err(format!(
                    "no argument of try() succeeded; the last error: {last}"
                ));
            }
            "can" => {
                let [arg] = call.args.as_slice() else {
                    return Err("can takes exactly one argument".into());
                };
                return Ok(match self.eval(arg) {
                    Ok(Value::Unknown) => Value::Unknown,
                    Ok(_) => Value::Bool(true),
                    Err(_) => Value::Bool(false),
                });
            }
            _ => {}
        }
        let mut args = call
            .args
            .iter()
            .map(|a| self.eval(a))
            .collect::<Result<Vec<_>, _>>()?;
        if call.expand_final {
            match args.pop() {
                Some(Value::List(l)) => args.extend(l),
                Some(Value::Unknown) => return Ok(Value::Unknown),
                _ => {
                    return Err(format!(
                        "{name}(...): the argument before `...` must be a list"
                    ));
                }
            }
        }
        functions::call(name, args, &self.scope.dir).map_err(|e| format!("{name}(): {e}"))
    }

    fn for_expr(&mut self, f: &hcl::expr::ForExpr) -> Result<Value, String> {
        let coll = self.eval(&f.collection_expr)?;
        let pairs: Vec<(Value, Value)> = match coll {
            Value::Unknown => return Ok(Value::Unknown),
            Value::List(l) => l
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::Number(i as f64), v))
                .collect(),
            Value::Map(m) => m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
            Value::Null => {
                return Err("cannot iterate over a null value in a for expression".into());
            }
            other => {
                return Err(format!(
                    "cannot iterate over a {} in a for expression",
                    other.type_name()
                ));
            }
        };
        let mut list = vec![];
        let mut map: BTreeMap<String, Value> = BTreeMap::new();
        let mut grouped: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (k, v) in pairs {
            let depth = self.bound.len();
            if let Some(kv) = &f.key_var {
                self.bound.push((kv.to_string(), k));
            }
            self.bound.push((f.value_var.to_string(), v));
            let result = (|| -> Result<Option<Value>, String> {
                if let Some(cond) = &f.cond_expr {
                    match self.eval(cond)? {
                        Value::Bool(true) => {}
                        Value::Bool(false) => return Ok(None),
                        Value::Unknown => return Ok(Some(Value::Unknown)),
                        other => {
                            return Err(format!(
                                "for condition must be a bool, got {}",
                                other.type_name()
                            ));
                        }
                    }
                }
                let value = self.eval(&f.value_expr)?;
                match &f.key_expr {
                    None => list.push(value),
                    Some(ke) => {
                        let key = match self.eval(ke)? {
                            Value::Unknown => return Ok(Some(Value::Unknown)),
                            k => k
                                .to_template_string()
                                .ok_or("for expression keys must be strings")?,
                        };
                        if f.grouping {
                            grouped.entry(key).or_default().push(value);
                        } else if map.insert(key.clone(), value).is_some() {
                            return Err(format!(
                                "duplicate key {key:?} in for expression; use `...` after the value to group"
                            ));
                        }
                    }
                }
                Ok(None)
            })();
            self.bound.truncate(depth);
            if let Some(v) = result? {
                return Ok(v);
            }
        }
        Ok(match &f.key_expr {
            None => Value::List(list),
            Some(_) if f.grouping => Value::Map(
                grouped
                    .into_iter()
                    .map(|(k, v)| (k, Value::List(v)))
                    .collect(),
            ),
            Some(_) => Value::Map(map),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::ResourceId;

    fn expr(src: &str) -> Expression {
        let body = hcl::parse(&format!("x = {src}\n")).unwrap();
        body.attributes().next().unwrap().expr.clone()
    }

    fn scope() -> Scope {
        let mut s = Scope::new(PathBuf::from("."));
        s.root_map("var")
            .insert("env".into(), Value::String("dev".into()));
        s.root_map("var").insert(
            "nodes".into(),
            Value::List(vec![Value::String("a".into()), Value::String("b".into())]),
        );
        let mut bucket = BTreeMap::new();
        bucket.insert("bucket".into(), Value::String("dev-archive".into()));
        bucket.insert("arn".into(), Value::Unknown);
        s.root_map("aws_s3_bucket")
            .insert("archive".into(), Value::Map(bucket));
        s
    }

    #[test]
    fn operators_follow_hcl_precedence() {
        let s = scope();
        let t = |src: &str| s.eval(&expr(src)).unwrap();
        assert_eq!(t("1 + 2 * 3"), Value::Number(7.0));
        assert_eq!(t("2 * 3 + 1"), Value::Number(7.0));
        assert_eq!(t("10 - 4 - 3"), Value::Number(3.0));
        assert_eq!(t("100 / 10 / 5"), Value::Number(2.0));
        assert_eq!(t("var.env == \"dev\" && 1 < 2"), Value::Bool(true));
        assert_eq!(t("false && true || true"), Value::Bool(true));
        assert_eq!(t("true || false && false"), Value::Bool(true));
        assert_eq!(t("1 + 1 == 2 && 3 * 2 >= 6"), Value::Bool(true));
        assert_eq!(t("(10 - 4) - 3"), Value::Number(3.0));
        assert_eq!(t("10 - (4 - 3)"), Value::Number(9.0));
        assert_eq!(t("7 % 4 * 2"), Value::Number(6.0));
    }

    #[test]
    fn unary_operators_apply_to_the_whole_reference() {
        let mut s = scope();
        let mut m = BTreeMap::new();
        m.insert("on".into(), Value::Bool(true));
        m.insert("n".into(), Value::Number(4.0));
        s.root_map("var").insert("flags".into(), Value::Map(m));
        assert_eq!(s.eval(&expr("!var.flags.on")).unwrap(), Value::Bool(false));
        assert_eq!(s.eval(&expr("-var.flags.n")).unwrap(), Value::Number(-4.0));
        assert_eq!(
            s.eval(&expr("!var.flags.on || true")).unwrap(),
            Value::Bool(true)
        );
        let refs = references(&expr("!aws_s3_bucket.archive.bucket"));
        assert!(
            refs.iter().any(|r| format!("{r:?}").contains("archive")),
            "{refs:?}"
        );
    }

    #[test]
    fn templates_and_references() {
        let s = scope();
        assert_eq!(
            s.eval(&expr("\"${var.env}-x\"")).unwrap(),
            Value::String("dev-x".into())
        );
        assert_eq!(
            s.eval(&expr("aws_s3_bucket.archive.bucket")).unwrap(),
            Value::String("dev-archive".into())
        );
    }

    #[test]
    fn unknowns_propagate_through_templates_and_functions() {
        let s = scope();
        assert_eq!(
            s.eval(&expr("\"${aws_s3_bucket.archive.arn}/*\"")).unwrap(),
            Value::Unknown
        );
        assert_eq!(
            s.eval(&expr("upper(aws_s3_bucket.archive.arn)")).unwrap(),
            Value::Unknown
        );
        assert_eq!(
            s.eval(&expr("jsonencode({a = aws_s3_bucket.archive.arn})"))
                .unwrap(),
            Value::Unknown
        );
    }

    #[test]
    fn for_expressions_and_conditionals() {
        let s = scope();
        assert_eq!(
            s.eval(&expr("{for n in var.nodes : n => upper(n) if n != \"b\"}"))
                .unwrap()
                .to_json(),
            serde_json::json!({"a": "A"})
        );
        assert_eq!(
            s.eval(&expr("var.env == \"prod\" ? 3 : 1")).unwrap(),
            Value::Number(1.0)
        );
        assert_eq!(
            s.eval(&expr("[for i, n in var.nodes : i]"))
                .unwrap()
                .to_json(),
            serde_json::json!([0, 1])
        );
    }

    #[test]
    fn splat_and_try() {
        let mut s = scope();
        s.roots.insert(
            "xs".into(),
            Value::List(vec![
                Value::Map([("a".to_string(), Value::Number(1.0))].into()),
                Value::Map([("a".to_string(), Value::Number(2.0))].into()),
            ]),
        );
        assert_eq!(
            s.eval(&expr("xs[*].a")).unwrap().to_json(),
            serde_json::json!([1, 2])
        );
        assert_eq!(
            s.eval(&expr("try(var.nope, \"fallback\")")).unwrap(),
            Value::String("fallback".into())
        );
        assert_eq!(s.eval(&expr("can(var.nope)")).unwrap(), Value::Bool(false));
    }

    #[test]
    fn reference_analysis_skips_for_variables() {
        let refs = references(&expr("[for n in var.nodes : \"${n}-${local.suffix}\"]"));
        assert_eq!(
            refs,
            vec![
                Reference::Var("nodes".into()),
                Reference::Local("suffix".into())
            ]
        );
        let refs = references(&expr("data.aws_region.current.name"));
        assert_eq!(
            refs,
            vec![Reference::Resource(ResourceId::data(
                "aws_region",
                "current"
            ))]
        );
    }

    #[test]
    fn bad_references_are_errors_not_panics() {
        let s = scope();
        let err = s.eval(&expr("aws_s3_bucket.archive.buckt")).unwrap_err();
        assert!(err.contains("Did you mean \"bucket\""), "{err}");
        assert!(
            s.eval(&expr("var.nodes[5]"))
                .unwrap_err()
                .contains("out of range")
        );
    }
}
