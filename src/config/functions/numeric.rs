//! Numeric functions: `abs`, `ceil`, `floor`, `max`, `min`.

use super::{arity, num_arg};
use crate::value::Value;

/// `Ok(None)` when `name` is not one of this family's functions.
pub(super) fn call(name: &str, args: &[Value]) -> Result<Option<Value>, String> {
    let v = match name {
        "abs" => {
            arity(args, 1)?;
            Ok(Value::Number(num_arg(&args[0], "number")?.abs()))
        }
        "ceil" => Ok(Value::Number(
            num_arg(args.first().ok_or("takes 1 argument")?, "number")?.ceil(),
        )),
        "floor" => Ok(Value::Number(
            num_arg(args.first().ok_or("takes 1 argument")?, "number")?.floor(),
        )),
        "max" | "min" => {
            let nums = args
                .iter()
                .map(|a| num_arg(a, "argument"))
                .collect::<Result<Vec<_>, _>>()?;
            let r = if name == "max" {
                nums.iter().cloned().fold(f64::MIN, f64::max)
            } else {
                nums.iter().cloned().fold(f64::MAX, f64::min)
            };
            if nums.is_empty() {
                return Err("needs at least one number".into());
            }
            Ok(Value::Number(r))
        }
        _ => return Ok(None),
    };
    v.map(Some)
}
