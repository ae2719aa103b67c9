//! The build step: a package an operation uploads (a Lambda crate built with cargo-lambda,
//! or a zip file) is built or read before the cloud call, with its own progress events,
//! and handed to the provider with the planned attributes.

use crate::build::{Package, Request};
use crate::config::stack::Stack;
use crate::engine::plan::ResourceChange;
use crate::engine::{Event, Ui};
use crate::provider::{Attrs, package};
use std::time::Instant;

/// Builds (or reads) what the create (`prior` None) or update of `change` uploads; None
/// when it uploads nothing.
pub(super) async fn build_step(
    stack: Option<&Stack>,
    ui: &dyn Ui,
    change: &ResourceChange,
    prior: Option<&Attrs>,
    planned: &Attrs,
) -> anyhow::Result<Option<Package>> {
    let Some(req) = package::request(&change.rtype, prior, planned) else {
        return Ok(None);
    };
    let dir = stack
        .map(|s| s.dir_of(&change.address.resource.module).to_path_buf())
        .unwrap_or_default();
    if !req.builds() {
        return crate::build::build(&req, &dir).await.map(Some);
    }
    let source = match &req {
        Request::Crate { path, .. } | Request::Zip { path } => path.clone(),
    };
    let address = change.address.clone();
    ui.event(Event::Building {
        address: address.clone(),
        source: source.clone(),
    });
    let start = Instant::now();
    let package = crate::build::build(&req, &dir).await?;
    ui.event(Event::Built {
        address,
        source,
        elapsed_secs: start.elapsed().as_secs(),
    });
    Ok(Some(package))
}

/// `planned` with the package handed in, or `planned` itself when there is none.
pub(super) fn with_package<'a>(
    planned: &'a Attrs,
    package: &Option<Package>,
    handed: &'a mut Option<Attrs>,
) -> &'a Attrs {
    match package {
        Some(pkg) => handed.insert(package::attach(planned, pkg)),
        None => planned,
    }
}
