//! A test file's cleanup: every state it used destroyed, and a state that cannot be
//! emptied kept beside the stack (never lost) with the command that destroys it.

use super::run::{Slot, create_private_dir};
use crate::config::stack::Stack;
use crate::engine::{self, ApplyOptions, PlanOptions};
use crate::testing::file::TestFile;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::watch;

pub(super) async fn destroy(
    slot: &Slot,
    parallelism: usize,
    interrupt: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let Some(state) = slot.backend.read().await? else {
        return Ok(());
    };
    if state.iter().next().is_none() && state.pending.is_empty() {
        return Ok(());
    }
    let (stack, _) =
        Stack::load(&slot.config_dir, &slot.inputs, "default").map_err(anyhow::Error::new)?;
    let cloud = super::super::run::configure_cloud(&stack, parallelism).await?;
    let ui: Arc<dyn engine::Ui> = Arc::new(engine::Silent);
    let opts = PlanOptions {
        destroy: true,
        parallelism,
        ..PlanOptions::default()
    };
    let plan = engine::plan(&stack, state, cloud.as_ref(), &opts, ui.as_ref()).await?;
    let report = engine::apply(
        plan,
        Some(Arc::new(stack)),
        cloud,
        slot.backend.store(),
        &ApplyOptions { parallelism },
        ui,
        interrupt,
    )
    .await?;
    if !report.ok() {
        let failed: Vec<String> = report
            .failed
            .iter()
            .map(|(a, _, e)| format!("{a}: {e}"))
            .collect();
        anyhow::bail!("destroy failed: {}", failed.join("; "));
    }
    Ok(())
}

/// Copies a state cleanup could not empty beside the stack; returns its path.
pub(super) fn keep_state(dir: &Path, file: &TestFile, slot: &Slot) -> String {
    let stem = Path::new(&file.name)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("test")
        .trim_end_matches(".tftest.hcl")
        .to_string();
    let target = dir.join(".thingform").join(format!(
        "errored-test-{stem}-{}.json",
        chrono::Utc::now().format("%Y%m%dT%H%M%S")
    ));
    let _ = create_private_dir(target.parent().unwrap_or(dir));
    match std::fs::copy(&slot.path, &target) {
        Ok(_) => crate::config::display_path(&target),
        Err(_) => crate::config::display_path(&slot.path),
    }
}
