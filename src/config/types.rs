//! Variable type constraints (`string`, `list(string)`, `map(number)`, `object({...})`, `any`)
//! and conversion of values to them.

use crate::value::Value;
use hcl::expr::{Expression, ObjectKey};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub enum TypeConstraint {
    Any,
    String,
    Number,
    Bool,
    List(Box<TypeConstraint>),
    Set(Box<TypeConstraint>),
    Map(Box<TypeConstraint>),
    Object(BTreeMap<String, (TypeConstraint, bool)>),
    Tuple(Vec<TypeConstraint>),
}

impl TypeConstraint {
    pub fn parse(expr: &Expression) -> Result<TypeConstraint, String> {
        match expr {
            Expression::Variable(v) => match v.as_str() {
                "any" => Ok(TypeConstraint::Any),
                "string" => Ok(TypeConstraint::String),
                "number" => Ok(TypeConstraint::Number),
                "bool" => Ok(TypeConstraint::Bool),
                other => Err(format!("unknown type `{other}`: use string, number, bool, list(...), set(...), map(...), object({{...}}), tuple([...]) or any")),
            },
            Expression::FuncCall(c) => {
                let name = c.name.name.as_str();
                let arg = c.args.first().ok_or_else(|| format!("{name}(...) needs an element type"))?;
                match name {
                    "list" => Ok(TypeConstraint::List(Box::new(Self::parse(arg)?))),
                    "set" => Ok(TypeConstraint::Set(Box::new(Self::parse(arg)?))),
                    "map" => Ok(TypeConstraint::Map(Box::new(Self::parse(arg)?))),
                    "optional" => Self::parse(arg),
                    "object" => match arg {
                        Expression::Object(o) => {
                            let mut fields = BTreeMap::new();
                            for (k, v) in o.iter() {
                                let key = match k {
                                    ObjectKey::Identifier(i) => i.to_string(),
                                    ObjectKey::Expression(Expression::String(s)) => s.clone(),
                                    _ => return Err("object type attribute names must be identifiers".into()),
                                };
                                let optional = matches!(v, Expression::FuncCall(f) if f.name.name.as_str() == "optional");
                                fields.insert(key, (Self::parse(v)?, optional));
                            }
                            Ok(TypeConstraint::Object(fields))
                        }
                        _ => Err("object(...) takes an object of attribute types: object({ name = string })".into()),
                    },
                    "tuple" => match arg {
                        Expression::Array(items) => Ok(TypeConstraint::Tuple(items.iter().map(Self::parse).collect::<Result<_, _>>()?)),
                        _ => Err("tuple(...) takes a list of types: tuple([string, number])".into()),
                    },
                    other => Err(format!("unknown type constructor `{other}`")),
                }
            }
            _ => Err("a type is written as string, number, bool, list(T), set(T), map(T), object({...}), tuple([...]) or any".into()),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            TypeConstraint::Any => "any".into(),
            TypeConstraint::String => "string".into(),
            TypeConstraint::Number => "number".into(),
            TypeConstraint::Bool => "bool".into(),
            TypeConstraint::List(t) => format!("list({})", t.describe()),
            TypeConstraint::Set(t) => format!("set({})", t.describe()),
            TypeConstraint::Map(t) => format!("map({})", t.describe()),
            TypeConstraint::Object(_) => "object".into(),
            TypeConstraint::Tuple(_) => "tuple".into(),
        }
    }

    /// Converts `v` to this type the way Terraform does (numbers and bools to strings and
    /// back), or says why it cannot.
    pub fn convert(&self, v: Value) -> Result<Value, String> {
        if matches!(v, Value::Unknown | Value::Null) {
            return Ok(v);
        }
        match (self, v) {
            (TypeConstraint::Any, v) => Ok(v),
            (
                TypeConstraint::String,
                v @ (Value::String(_) | Value::Number(_) | Value::Bool(_)),
            ) => Ok(Value::String(v.to_template_string().unwrap_or_default())),
            (TypeConstraint::Number, Value::Number(n)) => Ok(Value::Number(n)),
            (TypeConstraint::Number, Value::String(s)) => s
                .trim()
                .parse()
                .map(Value::Number)
                .map_err(|_| format!("{s:?} is not a number")),
            (TypeConstraint::Bool, Value::Bool(b)) => Ok(Value::Bool(b)),
            (TypeConstraint::Bool, Value::String(s)) if s == "true" || s == "false" => {
                Ok(Value::Bool(s == "true"))
            }
            (TypeConstraint::List(t) | TypeConstraint::Set(t), Value::List(l)) => {
                let mut out = l
                    .into_iter()
                    .enumerate()
                    .map(|(i, x)| t.convert(x).map_err(|e| format!("element {i}: {e}")))
                    .collect::<Result<Vec<_>, _>>()?;
                if matches!(self, TypeConstraint::Set(_)) {
                    out.sort_by_key(|v| v.to_json().to_string());
                    out.dedup();
                }
                Ok(Value::List(out))
            }
            (TypeConstraint::Map(t), Value::Map(m)) => Ok(Value::Map(
                m.into_iter()
                    .map(|(k, x)| {
                        t.convert(x)
                            .map(|x| (k.clone(), x))
                            .map_err(|e| format!("key {k:?}: {e}"))
                    })
                    .collect::<Result<_, _>>()?,
            )),
            (TypeConstraint::Object(fields), Value::Map(mut m)) => {
                let mut out = BTreeMap::new();
                for (name, (t, optional)) in fields {
                    match m.remove(name) {
                        Some(x) => {
                            out.insert(
                                name.clone(),
                                t.convert(x)
                                    .map_err(|e| format!("attribute {name:?}: {e}"))?,
                            );
                        }
                        None if *optional => {
                            out.insert(name.clone(), Value::Null);
                        }
                        None => return Err(format!("attribute {name:?} is required")),
                    }
                }
                Ok(Value::Map(out))
            }
            (TypeConstraint::Tuple(ts), Value::List(l)) if ts.len() == l.len() => Ok(Value::List(
                ts.iter()
                    .zip(l)
                    .map(|(t, x)| t.convert(x))
                    .collect::<Result<_, _>>()?,
            )),
            (t, v) => Err(format!(
                "a {} value cannot be used where {} is required",
                v.type_name(),
                t.describe()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(src: &str) -> TypeConstraint {
        let body = hcl::parse(&format!("t = {src}\n")).unwrap();
        TypeConstraint::parse(&body.attributes().next().unwrap().expr).unwrap()
    }

    #[test]
    fn converts_like_terraform() {
        assert_eq!(
            ty("string").convert(Value::Number(3.0)).unwrap(),
            Value::String("3".into())
        );
        assert_eq!(
            ty("number").convert(Value::String("42".into())).unwrap(),
            Value::Number(42.0)
        );
        assert!(ty("number").convert(Value::String("x".into())).is_err());
        let l = Value::List(vec![
            Value::String("b".into()),
            Value::String("a".into()),
            Value::String("a".into()),
        ]);
        assert_eq!(
            ty("set(string)").convert(l).unwrap().to_json(),
            serde_json::json!(["a", "b"])
        );
        let obj = Value::from_json(&serde_json::json!({"name": "x"}));
        assert!(
            ty("object({ name = string, size = optional(number) })")
                .convert(obj)
                .is_ok()
        );
        assert!(
            ty("object({ name = string, size = number })")
                .convert(Value::from_json(&serde_json::json!({"name": "x"})))
                .is_err()
        );
    }
}
