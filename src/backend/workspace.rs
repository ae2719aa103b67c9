//! Workspaces of a stack directory: which one is current, and where each keeps its
//! local state (`.thingform/state.json` for `default`,
//! `.thingform/workspaces/NAME/state.json` for the others).

use std::path::{Path, PathBuf};

/// The workspace: the flag (`-w`/`THINGFORM_WORKSPACE`), then `TF_WORKSPACE`, then the
/// one selected with `thingform workspace select`, then `default`.
pub fn current(dir: &Path, flag: Option<&str>) -> String {
    if let Some(w) = flag.filter(|w| !w.is_empty()) {
        return w.to_string();
    }
    if let Ok(w) = std::env::var("TF_WORKSPACE")
        && !w.is_empty()
    {
        return w;
    }
    std::fs::read_to_string(selection_file(dir))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".into())
}

/// The directory that holds a workspace's local state.
pub fn dir(dir: &Path, ws: &str) -> PathBuf {
    if ws == "default" {
        dir.join(".thingform")
    } else {
        dir.join(".thingform").join("workspaces").join(ws)
    }
}

/// The local state file of a workspace.
pub fn local_state_path(stack_dir: &Path, ws: &str) -> PathBuf {
    dir(stack_dir, ws).join("state.json")
}

fn selection_file(dir: &Path) -> PathBuf {
    dir.join(".thingform").join("environment")
}

pub fn valid_name(ws: &str) -> anyhow::Result<()> {
    if ws.is_empty()
        || ws.len() > 90
        || !ws
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        anyhow::bail!("invalid workspace name {ws:?}: use letters, digits, '-' and '_'");
    }
    Ok(())
}

/// `default`, then the others in name order.
pub fn list(dir: &Path) -> Vec<String> {
    let mut out = vec!["default".to_string()];
    if let Ok(rd) = std::fs::read_dir(dir.join(".thingform").join("workspaces")) {
        let mut names: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        out.extend(names);
    }
    out
}

/// Makes `name` the workspace later commands use.
pub fn select(dir: &Path, name: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir.join(".thingform"))?;
    std::fs::write(selection_file(dir), format!("{name}\n"))?;
    Ok(())
}

/// Creates the workspace's directory and selects it.
pub fn create(stack_dir: &Path, name: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir(stack_dir, name))?;
    select(stack_dir, name)
}

/// Removes the workspace's directory, state included.
pub fn delete(stack_dir: &Path, name: &str) -> anyhow::Result<()> {
    std::fs::remove_dir_all(dir(stack_dir, name))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selected_workspace_and_its_state_path() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(current(d.path(), Some("flag")), "flag");
        assert_eq!(list(d.path()), vec!["default"]);
        create(d.path(), "dev").unwrap();
        assert_eq!(list(d.path()), vec!["default", "dev"]);
        if std::env::var_os("TF_WORKSPACE").is_none() {
            assert_eq!(current(d.path(), None), "dev");
        }
        assert_eq!(
            local_state_path(d.path(), "dev"),
            d.path().join(".thingform/workspaces/dev/state.json")
        );
        assert_eq!(
            local_state_path(d.path(), "default"),
            d.path().join(".thingform/state.json")
        );
        delete(d.path(), "dev").unwrap();
        assert_eq!(list(d.path()), vec!["default"]);
        assert!(valid_name("a-b_1").is_ok());
        assert!(valid_name("a/b").is_err());
    }
}
