//! Attribute access, indexing and operators over values (unknown in, unknown out).

use crate::value::Value;
use hcl::expr::BinaryOperator;

pub(super) fn get_attr(value: Value, name: &str) -> Result<Value, String> {
    match value {
        Value::Unknown => Ok(Value::Unknown),
        Value::Map(mut m) => m.remove(name).ok_or_else(|| {
            let keys: Vec<&str> = m.keys().map(String::as_str).collect();
            format!(
                "this object has no attribute `{name}`{}",
                crate::diag::did_you_mean(name, keys.iter().copied())
            )
        }),
        Value::Null => Err(format!("cannot read `{name}` of a null value")),
        Value::List(_) => Err(format!(
            "cannot read `{name}` of a list; use an index such as [0] or a splat such as [*].{name}"
        )),
        other => Err(format!("cannot read `{name}` of a {}", other.type_name())),
    }
}

pub(super) fn index(value: Value, idx: Value) -> Result<Value, String> {
    match (value, idx) {
        (Value::Unknown, _) | (_, Value::Unknown) => Ok(Value::Unknown),
        (Value::List(l), Value::Number(n)) => {
            let len = l.len();
            l.into_iter()
                .nth(n as usize)
                .filter(|_| n >= 0.0)
                .ok_or_else(|| {
                    format!(
                        "index {} out of range for a list of {len} elements",
                        crate::value::format_number(n)
                    )
                })
        }
        (Value::List(l), Value::String(s)) => match s.parse::<usize>() {
            Ok(i) => l
                .into_iter()
                .nth(i)
                .ok_or_else(|| format!("index {i} out of range")),
            Err(_) => Err(format!("a list is indexed by number, not {s:?}")),
        },
        (Value::Map(mut m), k) => {
            let key = k.to_template_string().ok_or("map keys are strings")?;
            m.remove(&key)
                .ok_or_else(|| format!("no element with key {key:?}"))
        }
        (Value::Null, _) => Err("cannot index a null value".into()),
        (v, i) => Err(format!(
            "cannot index a {} with a {}",
            v.type_name(),
            i.type_name()
        )),
    }
}

pub(super) fn binary(op: BinaryOperator, l: Value, r: Value) -> Result<Value, String> {
    use BinaryOperator::*;
    if matches!(l, Value::Unknown) || matches!(r, Value::Unknown) {
        return Ok(Value::Unknown);
    }
    let num = |v: &Value| -> Result<f64, String> {
        match v {
            Value::Number(n) => Ok(*n),
            Value::String(s) => s
                .trim()
                .parse()
                .map_err(|_| format!("{s:?} is not a number")),
            other => Err(format!("expected a number, got {}", other.type_name())),
        }
    };
    let boolean = |v: &Value| -> Result<bool, String> {
        match v {
            Value::Bool(b) => Ok(*b),
            Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
            other => Err(format!("expected a bool, got {}", other.type_name())),
        }
    };
    Ok(match op {
        Eq => Value::Bool(loosely_equal(&l, &r)),
        NotEq => Value::Bool(!loosely_equal(&l, &r)),
        Less => Value::Bool(num(&l)? < num(&r)?),
        LessEq => Value::Bool(num(&l)? <= num(&r)?),
        Greater => Value::Bool(num(&l)? > num(&r)?),
        GreaterEq => Value::Bool(num(&l)? >= num(&r)?),
        Plus => Value::Number(num(&l)? + num(&r)?),
        Minus => Value::Number(num(&l)? - num(&r)?),
        Mul => Value::Number(num(&l)? * num(&r)?),
        Div => {
            let d = num(&r)?;
            if d == 0.0 {
                return Err("division by zero".into());
            }
            Value::Number(num(&l)? / d)
        }
        Mod => {
            let d = num(&r)?;
            if d == 0.0 {
                return Err("modulo by zero".into());
            }
            Value::Number(num(&l)? % d)
        }
        And => Value::Bool(boolean(&l)? && boolean(&r)?),
        Or => Value::Bool(boolean(&l)? || boolean(&r)?),
    })
}

fn loosely_equal(l: &Value, r: &Value) -> bool {
    match (l, r) {
        (Value::Number(a), Value::String(b)) | (Value::String(b), Value::Number(a)) => {
            b.parse::<f64>().map(|x| x == *a).unwrap_or(false)
        }
        _ => l == r,
    }
}
