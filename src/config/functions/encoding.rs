//! Encoding and hashing of strings: base64, MD5, SHA-1, SHA-256, JSON.

use super::{arity, str_arg};
use crate::value::Value;
use crate::value::hex;
use base64::Engine;
use sha2::Digest;

/// `Ok(None)` when `name` is not one of this family's functions.
pub(super) fn call(name: &str, args: &[Value]) -> Result<Option<Value>, String> {
    let s = |v: String| Ok(Value::String(v));
    let v = match name {
        "base64encode" => {
            arity(args, 1)?;
            s(base64::engine::general_purpose::STANDARD.encode(str_arg(&args[0], "string")?))
        }
        "base64decode" => {
            arity(args, 1)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(str_arg(&args[0], "string")?)
                .map_err(|e| format!("invalid base64: {e}"))?;
            s(String::from_utf8(bytes).map_err(|_| "decoded bytes are not UTF-8".to_string())?)
        }
        "sha256" => {
            arity(args, 1)?;
            s(hex(&sha2::Sha256::digest(
                str_arg(&args[0], "string")?.as_bytes(),
            )))
        }
        "md5" => {
            arity(args, 1)?;
            s(hex(&md5::Md5::digest(
                str_arg(&args[0], "string")?.as_bytes(),
            )))
        }
        "sha1" => {
            arity(args, 1)?;
            s(hex(&sha1::Sha1::digest(
                str_arg(&args[0], "string")?.as_bytes(),
            )))
        }
        "base64sha256" => {
            arity(args, 1)?;
            s(
                base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(
                    str_arg(&args[0], "string")?.as_bytes(),
                )),
            )
        }
        "jsonencode" => {
            arity(args, 1)?;
            s(args[0].to_json().to_string())
        }
        "jsondecode" => {
            arity(args, 1)?;
            let j: serde_json::Value = serde_json::from_str(&str_arg(&args[0], "string")?)
                .map_err(|e| format!("invalid JSON: {e}"))?;
            Ok(Value::from_json(&j))
        }
        _ => return Ok(None),
    };
    v.map(Some)
}
