//! Evaluation of a parsed statement against one message, with AWS's operator type rules:
//! an operand of a type an operator does not accept makes the result `Undefined`, a
//! `Undefined` item is left out of the output, and a WHERE that is not `true` does not match.

use super::Context;
use super::parser::{BinOp, Expr, From, Item, Select, UnOp};
use super::value::V;

pub type Res = Result<V, String>;

/// The current document of an evaluation: the payload, or one element of a nested SELECT.
pub struct Env<'a> {
    pub ctx: &'a Context,
    pub doc: &'a V,
}

/// The output of a SELECT over `doc`: `None` when its WHERE does not hold.
pub fn select(sel: &Select, env: &Env) -> Result<Option<V>, String> {
    if let Some(w) = &sel.where_
        && eval(w, env)? != V::Bool(true)
    {
        return Ok(None);
    }
    if sel.value {
        return match &sel.items[0] {
            Item::Expr { expr, .. } => eval(expr, env).map(Some),
            Item::Star => Ok(Some(env.doc.clone())),
        };
    }
    if let [Item::Star] = sel.items.as_slice()
        && !matches!(env.doc, V::Obj(_))
    {
        // A non-object payload (an array, or raw bytes) comes out whole.
        return Ok(Some(env.doc.clone()));
    }
    let mut out: Vec<(String, V)> = vec![];
    let put = |k: String, v: V, out: &mut Vec<(String, V)>| {
        if let Some(slot) = out.iter_mut().find(|(x, _)| *x == k) {
            slot.1 = v;
        } else {
            out.push((k, v));
        }
    };
    for (i, item) in sel.items.iter().enumerate() {
        match item {
            Item::Star => {
                if let V::Obj(o) = env.doc {
                    for (k, v) in o {
                        put(k.clone(), v.clone(), &mut out);
                    }
                }
            }
            Item::Expr { expr, alias } => {
                let v = eval(expr, env)?;
                if v == V::Undefined {
                    continue;
                }
                let key = alias.clone().unwrap_or_else(|| item_name(expr, i));
                put(key, v, &mut out);
            }
        }
    }
    Ok(Some(V::Obj(out)))
}

/// The key of an item without AS: a field's own name, a function's name, else `_N`.
fn item_name(e: &Expr, i: usize) -> String {
    match e {
        Expr::Field(n) | Expr::Member(_, n) => n.clone(),
        Expr::Call(n, _) => n.clone(),
        Expr::Cast(_, _) => "cast".into(),
        _ => format!("_{}", i + 1),
    }
}

pub fn eval(e: &Expr, env: &Env) -> Res {
    Ok(match e {
        Expr::Lit(v) => v.clone(),
        Expr::Star => env.doc.clone(),
        Expr::Field(n) => env.doc.member(n),
        Expr::Member(b, n) => {
            let base = eval(b, env)?;
            match (&base, n.parse::<i64>()) {
                (V::Arr(_), Ok(i)) => base.index(&V::Int(i)),
                _ => base.member(n),
            }
        }
        Expr::Index(b, i) => {
            let base = eval(b, env)?;
            let i = eval(i, env)?;
            base.index(&i)
        }
        Expr::Unary(UnOp::Not, x) => match eval(x, env)?.as_bool() {
            Some(b) => V::Bool(!b),
            None => V::Undefined,
        },
        Expr::Unary(UnOp::Neg, x) => match eval(x, env)?.as_num() {
            Some(V::Int(n)) => n.checked_neg().map(V::Int).unwrap_or(V::Dec(-(n as f64))),
            Some(V::Dec(f)) => V::Dec(-f),
            _ => V::Undefined,
        },
        Expr::Bin(op, l, r) => {
            let l = eval(l, env)?;
            // AND/OR need both sides (AWS evaluates both); Undefined on either side is
            // Undefined unless the other decides.
            let r = eval(r, env)?;
            binary(*op, &l, &r)
        }
        Expr::Call(name, args) => super::functions::call(name, args, env)?,
        Expr::Cast(x, ty) => cast(&eval(x, env)?, ty),
        Expr::Case {
            operand,
            whens,
            otherwise,
        } => {
            let subject = match operand {
                Some(o) => Some(eval(o, env)?),
                None => None,
            };
            for (w, then) in whens {
                let w = eval(w, env)?;
                let hit = match &subject {
                    Some(s) => binary(BinOp::Eq, s, &w) == V::Bool(true),
                    None => w == V::Bool(true),
                };
                if hit {
                    return eval(then, env);
                }
            }
            match otherwise {
                Some(o) => eval(o, env)?,
                None => V::Undefined,
            }
        }
        Expr::Object(items) => {
            let mut o = vec![];
            for (k, x) in items {
                o.push((k.clone(), eval(x, env)?));
            }
            V::Obj(o)
        }
        Expr::Array(items) => V::Arr(
            items
                .iter()
                .map(|x| eval(x, env))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Expr::Sub(sel) => {
            let From::Expr(src) = &sel.from else {
                return Ok(V::Undefined);
            };
            let V::Arr(elems) = eval(src, env)? else {
                return Ok(V::Undefined);
            };
            let mut out = vec![];
            for el in &elems {
                let inner = Env {
                    ctx: env.ctx,
                    doc: el,
                };
                if let Some(v) = select(sel, &inner)?
                    && v != V::Undefined
                {
                    out.push(v);
                }
            }
            V::Arr(out)
        }
    })
}

fn num_pair(l: &V, r: &V) -> Option<(V, V)> {
    Some((l.as_num()?, r.as_num()?))
}

/// A binary operator under AWS's type rules (the operators reference).
pub fn binary(op: BinOp, l: &V, r: &V) -> V {
    use BinOp::*;
    if *l == V::Undefined || *r == V::Undefined {
        // `false AND Undefined` is still false, `true OR Undefined` still true.
        return match (op, l.as_bool(), r.as_bool()) {
            (And, Some(false), _) | (And, _, Some(false)) => V::Bool(false),
            (Or, Some(true), _) | (Or, _, Some(true)) => V::Bool(true),
            _ => V::Undefined,
        };
    }
    match op {
        And | Or => match (l.as_bool(), r.as_bool()) {
            (Some(a), Some(b)) => V::Bool(if op == And { a && b } else { a || b }),
            _ => V::Undefined,
        },
        Eq | Ne => {
            let eq = match (l, r) {
                (V::Int(_) | V::Dec(_), V::Int(_) | V::Dec(_)) => l.as_dec() == r.as_dec(),
                _ => equal(l, r),
            };
            V::Bool(if op == Eq { eq } else { !eq })
        }
        Lt | Le | Gt | Ge => match (l.as_dec(), r.as_dec()) {
            (Some(a), Some(b)) => V::Bool(match op {
                Lt => a < b,
                Le => a <= b,
                Gt => a > b,
                _ => a >= b,
            }),
            _ => V::Undefined,
        },
        Add => match (l, r) {
            (V::Str(a), V::Str(b)) => V::Str(format!("{a}{b}")),
            _ => arith(op, l, r),
        },
        Sub | Mul | Div | Mod => arith(op, l, r),
        In => match r {
            V::Arr(a) => V::Bool(a.iter().any(|x| binary(Eq, l, x) == V::Bool(true))),
            _ => V::Undefined,
        },
    }
}

fn equal(l: &V, r: &V) -> bool {
    match (l, r) {
        (V::Arr(a), V::Arr(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| binary(BinOp::Eq, x, y) == V::Bool(true))
        }
        (V::Obj(a), V::Obj(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| binary(BinOp::Eq, v, &r.member(k)) == V::Bool(true))
                && b.iter().all(|(k, _)| l.member(k) != V::Undefined)
        }
        _ => l == r,
    }
}

fn arith(op: BinOp, l: &V, r: &V) -> V {
    let Some((a, b)) = num_pair(l, r) else {
        return V::Undefined;
    };
    match (a, b) {
        (V::Int(x), V::Int(y)) => match op {
            BinOp::Add => x
                .checked_add(y)
                .map(V::Int)
                .unwrap_or(V::Dec(x as f64 + y as f64)),
            BinOp::Sub => x
                .checked_sub(y)
                .map(V::Int)
                .unwrap_or(V::Dec(x as f64 - y as f64)),
            BinOp::Mul => x
                .checked_mul(y)
                .map(V::Int)
                .unwrap_or(V::Dec(x as f64 * y as f64)),
            BinOp::Div if y == 0 => V::Undefined,
            BinOp::Div => x
                .checked_div(y)
                .map(V::Int)
                .unwrap_or(V::Dec(x as f64 / y as f64)),
            BinOp::Mod if y == 0 => V::Undefined,
            _ => x.checked_rem(y).map(V::Int).unwrap_or(V::Int(0)),
        },
        (a, b) => {
            let (x, y) = (
                a.as_dec().unwrap_or(f64::NAN),
                b.as_dec().unwrap_or(f64::NAN),
            );
            let v = match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div if y == 0.0 => return V::Undefined,
                BinOp::Div => x / y,
                BinOp::Mod if y == 0.0 => return V::Undefined,
                _ => x % y,
            };
            if v.is_finite() {
                V::Dec(v)
            } else {
                V::Undefined
            }
        }
    }
}

/// `cast(value AS type)` as the functions reference describes it.
pub fn cast(v: &V, ty: &str) -> V {
    match (ty, v) {
        (_, V::Undefined) => V::Undefined,
        ("Int", V::Int(_)) => v.clone(),
        ("Int", V::Dec(f)) => V::Int(f.trunc() as i64),
        ("Int", V::Bool(b)) => V::Int(*b as i64),
        ("Int", V::Str(s)) => match v.as_num() {
            Some(V::Int(n)) => V::Int(n),
            Some(V::Dec(f)) => V::Int(f.trunc() as i64),
            _ => {
                let _ = s;
                V::Undefined
            }
        },
        ("Decimal", V::Int(n)) => V::Dec(*n as f64),
        ("Decimal", V::Dec(_)) => v.clone(),
        ("Decimal", V::Bool(b)) => V::Dec(if *b { 1.0 } else { 0.0 }),
        ("Decimal", V::Str(_)) => v.as_dec().map(V::Dec).unwrap_or(V::Undefined),
        ("Boolean", V::Bool(_)) => v.clone(),
        ("Boolean", V::Int(n)) => V::Bool(*n != 0),
        ("Boolean", V::Dec(f)) => V::Bool(*f != 0.0),
        ("Boolean", V::Str(_)) => v.as_bool().map(V::Bool).unwrap_or(V::Undefined),
        ("String", V::Null) => V::Undefined,
        ("String", _) => v.to_text().map(V::Str).unwrap_or(V::Undefined),
        _ => V::Undefined,
    }
}
