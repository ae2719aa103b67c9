//! `init` (with the offer to copy a local state into a newly configured backend) and the
//! `workspace` commands.

use super::args::{InitArgs, WorkspaceCommand};
use super::open_backend;
use super::ui::confirm;
use crate::backend::{Backend, workspace};
use crate::state::local::LocalBackend;

/// Prepares a stack directory; with a remote backend newly configured, offers to copy
/// the existing local state into it.
pub async fn init(a: InitArgs) -> anyhow::Result<i32> {
    let InitArgs {
        state: flags,
        force_copy,
        dir,
    } = a;
    crate::config::load_dir(&dir).map_err(anyhow::Error::new)?;
    std::fs::create_dir_all(dir.join(".thingform"))?;
    let be = open_backend(&dir, &flags).await?;
    if let Backend::Remote(_) = &be {
        let ws = super::workspace(&dir, &flags);
        let local =
            LocalBackend::with_crypt(workspace::local_state_path(&dir, &ws), be.crypt().cloned());
        local.unlock().await?;
        if let Some(local_state) = local.read()?.filter(|s| !s.resources.is_empty()) {
            super::locked(&be, true, "init", async || {
                match be.read().await? {
                    Some(remote) if !remote.resources.is_empty() => {
                        eprintln!(
                            "Warning: both {} and {} hold state; the remote one is used. Compare them with `thingform state pull` before deleting the local file.",
                            local.path.display(),
                            be.describe()
                        );
                    }
                    _ => {
                        let copy = force_copy
                            || confirm(&format!(
                                "Do you want to copy existing state to the new backend?\n  {} holds {} resources; the backend {} is empty.",
                                local.path.display(),
                                local_state.resources.len(),
                                be.describe()
                            ))?;
                        if copy {
                            be.push(&local_state).await?;
                            let moved = local.path.with_extension("json.migrated");
                            std::fs::rename(&local.path, &moved)?;
                            println!(
                                "Copied the state to {}; the local copy was kept as {}.",
                                be.describe(),
                                moved.display()
                            );
                        } else {
                            println!(
                                "State not copied; the backend {} starts empty.",
                                be.describe()
                            );
                        }
                    }
                }
                Ok(())
            })
            .await?;
        }
    }
    println!(
        "thingform has been successfully initialized in {} (state: {}).",
        dir.display(),
        be.describe()
    );
    Ok(0)
}

pub fn dispatch(cmd: WorkspaceCommand) -> anyhow::Result<i32> {
    match cmd {
        WorkspaceCommand::New { name, dir } => {
            workspace::valid_name(&name)?;
            if workspace::list(&dir).contains(&name) {
                anyhow::bail!(
                    "workspace {name:?} already exists; select it with `thingform workspace select {name}`"
                );
            }
            workspace::create(&dir, &name)?;
            println!(
                "Created and switched to workspace \"{name}\"!\n\nYou're now on a new, empty workspace. Workspaces isolate their state,\nso if you run \"thingform plan\" thingform will not see any existing state\nfor this configuration."
            );
        }
        WorkspaceCommand::Select { name, dir } => {
            if !workspace::list(&dir).contains(&name) {
                anyhow::bail!(
                    "workspace {name:?} does not exist; create it with `thingform workspace new {name}`"
                );
            }
            workspace::select(&dir, &name)?;
            println!("Switched to workspace \"{name}\".");
        }
        WorkspaceCommand::List { dir } => {
            let current = workspace::current(&dir, None);
            for w in workspace::list(&dir) {
                println!("{} {w}", if w == current { "*" } else { " " });
            }
        }
        WorkspaceCommand::Show { dir } => println!("{}", workspace::current(&dir, None)),
        WorkspaceCommand::Delete { name, dir, force } => {
            if name == "default" {
                anyhow::bail!("the default workspace cannot be deleted");
            }
            if workspace::current(&dir, None) == name {
                anyhow::bail!("workspace {name:?} is the current one; select another first");
            }
            if !workspace::list(&dir).contains(&name) {
                anyhow::bail!("workspace {name:?} does not exist");
            }
            let be = LocalBackend::new(workspace::local_state_path(&dir, &name));
            let st = be.read()?.unwrap_or_default();
            if !st.resources.is_empty() && !force {
                anyhow::bail!(
                    "workspace {name:?} still manages {} resources; destroy them first (`thingform destroy -w {name}`), or pass -force to forget them",
                    st.resources.len()
                );
            }
            workspace::delete(&dir, &name)?;
            println!("Deleted workspace \"{name}\"!");
        }
    }
    Ok(0)
}
