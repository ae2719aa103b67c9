//! Type conversion: `tostring`, `tonumber`, `tobool`, `tolist`, `toset`, `tomap`.

use super::{list_arg, map_arg, num_arg, sort_key, str_arg};
use crate::value::Value;

/// `Ok(None)` when `name` is not one of this family's functions.
pub(super) fn call(name: &str, args: &[Value]) -> Result<Option<Value>, String> {
    let s = |v: String| Ok(Value::String(v));
    let v = match name {
        "tostring" => match args.first() {
            Some(Value::Null) => Ok(Value::Null),
            Some(v) => s(str_arg(v, "value")?),
            None => Err("takes 1 argument".into()),
        },
        "tonumber" => match args.first() {
            Some(Value::Null) => Ok(Value::Null),
            Some(v) => Ok(Value::Number(num_arg(v, "value")?)),
            None => Err("takes 1 argument".into()),
        },
        "tobool" => match args.first() {
            Some(Value::Bool(b)) => Ok(Value::Bool(*b)),
            Some(Value::String(x)) if x == "true" || x == "false" => Ok(Value::Bool(x == "true")),
            Some(Value::Null) => Ok(Value::Null),
            _ => Err("takes a bool or \"true\"/\"false\"".into()),
        },
        "tolist" => Ok(Value::List(list_arg(
            args.first().ok_or("takes 1 argument")?,
            "value",
        )?)),
        "toset" => {
            let mut items = list_arg(args.first().ok_or("takes 1 argument")?, "value")?;
            items.sort_by_key(sort_key);
            items.dedup();
            Ok(Value::List(items))
        }
        "tomap" => Ok(Value::Map(map_arg(
            args.first().ok_or("takes 1 argument")?,
            "value",
        )?)),
        _ => return Ok(None),
    };
    v.map(Some)
}
