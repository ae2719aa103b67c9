//! Filesystem functions, relative to the stack directory: `file`, `filebase64`,
//! `fileexists`, `filesha256`, `filebase64sha256`.

use super::{arity, str_arg};
use crate::value::Value;
use crate::value::hex;
use base64::Engine;
use sha2::Digest;
use std::path::Path;

/// `Ok(None)` when `name` is not one of this family's functions.
pub(super) fn call(name: &str, args: &[Value], dir: &Path) -> Result<Option<Value>, String> {
    let s = |v: String| Ok(Value::String(v));
    let v = match name {
        "file" => {
            arity(args, 1)?;
            s(String::from_utf8(read_file(dir, &args[0])?)
                .map_err(|_| "file is not UTF-8; use filebase64".to_string())?)
        }
        "filebase64" => {
            arity(args, 1)?;
            s(base64::engine::general_purpose::STANDARD.encode(read_file(dir, &args[0])?))
        }
        "fileexists" => {
            arity(args, 1)?;
            Ok(Value::Bool(dir.join(str_arg(&args[0], "path")?).is_file()))
        }
        "filesha256" => {
            arity(args, 1)?;
            s(hex(&sha2::Sha256::digest(read_file(dir, &args[0])?)))
        }
        "filebase64sha256" => {
            arity(args, 1)?;
            s(base64::engine::general_purpose::STANDARD
                .encode(sha2::Sha256::digest(read_file(dir, &args[0])?)))
        }
        _ => return Ok(None),
    };
    v.map(Some)
}

fn read_file(dir: &Path, p: &Value) -> Result<Vec<u8>, String> {
    let rel = str_arg(p, "path")?;
    let path = dir.join(&rel);
    std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}
