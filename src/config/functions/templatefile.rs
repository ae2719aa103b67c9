//! `templatefile(path, vars)`: a file (relative to the stack directory, as `file`
//! resolves it) rendered as a template, with only `vars` in scope. The template language
//! is the evaluator's own (interpolation, `%{for}` / `%{if}`, strip markers).
//! https://developer.hashicorp.com/terraform/language/functions/templatefile

use super::{arity, map_arg, str_arg};
use crate::config::eval::Scope;
use crate::value::Value;
use std::cell::Cell;
use std::path::Path;

thread_local! {
    static RENDERING: Cell<bool> = const { Cell::new(false) };
}

/// `Ok(None)` when `name` is not one of this family's functions.
pub(super) fn call(name: &str, args: &[Value], dir: &Path) -> Result<Option<Value>, String> {
    if name != "templatefile" {
        return Ok(None);
    }
    arity(args, 2)?;
    let rel = str_arg(&args[0], "path")?;
    let path = dir.join(&rel);
    let src = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let vars = map_arg(&args[1], "vars")?;
    if let Some(k) = vars.keys().find(|k| !is_identifier(k)) {
        return Err(format!(
            "invalid template variable name {k:?}: must start with a letter, followed by zero or more letters, digits, and underscores"
        ));
    }
    if RENDERING.get() {
        return Err("cannot recursively call templatefile from inside another template".into());
    }
    let mut scope = Scope::new(dir.to_path_buf());
    scope.roots.extend(vars);
    RENDERING.set(true);
    let out = scope.eval_template_source(&src);
    RENDERING.set(false);
    out.map(Some)
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn is_identifier(k: &str) -> bool {
    let mut c = k.chars();
    c.next().is_some_and(|f| f.is_alphabetic() || f == '_')
        && c.all(|x| x.is_alphanumeric() || x == '_' || x == '-')
}
