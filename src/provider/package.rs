//! Packages built outside the provider (`crate::build`): which instances need one, and
//! how the engine hands it in with the planned attributes. The package travels in a
//! hidden attribute that the provider takes out before anything is recorded, so it is
//! never stored in state.

use super::Attrs;
use super::attrs::{block, str_of};
use crate::build::{Package, Request};
use serde_json::{Value as Json, json};
use std::path::PathBuf;

/// The hidden attribute that carries a package into `create`/`update`.
pub const PACKAGE_ATTR: &str = "__thingform_package";

/// What the engine must build (or read) before the create (`prior` None) or update of
/// an instance of `rtype`; None when the operation uploads no local package.
pub fn request(rtype: &str, prior: Option<&Attrs>, planned: &Attrs) -> Option<Request> {
    if rtype != "aws_lambda_function" {
        return None;
    }
    if let Some(prior) = prior
        && !super::aws_lambda::code_changed(prior, planned)
    {
        return None;
    }
    if let Some(cl) = block(planned, "cargo_lambda") {
        return Some(Request::Crate {
            path: str_of(cl, "path").unwrap_or(".").to_string(),
            arch: str_of(cl, "arch").unwrap_or("arm64").to_string(),
            binary: str_of(cl, "binary").map(str::to_string),
        });
    }
    str_of(planned, "filename").map(|f| Request::Zip {
        path: f.to_string(),
    })
}

/// `planned` with `package` handed in (the package must outlive the provider call).
pub fn attach(planned: &Attrs, package: &Package) -> Attrs {
    let mut a = planned.clone();
    a.insert(
        PACKAGE_ATTR.into(),
        json!({
            "zip": package.zip.display().to_string(),
            "source_hash": package.source_hash,
            "warnings": package.warnings,
        }),
    );
    a
}

/// A package as the provider receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Handed {
    pub zip: PathBuf,
    pub source_hash: Option<String>,
    pub warnings: Vec<String>,
}

/// Takes the handed-in package out of `planned` (None when there is none).
pub fn take(planned: &mut Attrs) -> anyhow::Result<Option<Handed>> {
    let Some(v) = planned.remove(PACKAGE_ATTR) else {
        return Ok(None);
    };
    let zip = v
        .get("zip")
        .and_then(Json::as_str)
        .ok_or_else(|| anyhow::anyhow!("malformed package handed to the provider"))?;
    Ok(Some(Handed {
        zip: PathBuf::from(zip),
        source_hash: v
            .get("source_hash")
            .and_then(Json::as_str)
            .map(str::to_string),
        warnings: v
            .get("warnings")
            .and_then(Json::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|w| w.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::attrs::obj;

    #[test]
    fn only_a_lambda_create_or_code_change_needs_a_package() {
        let crate_fn = obj([
            ("function_name", json!("f")),
            (
                "cargo_lambda",
                json!([{"path": "lambdas/ingest", "arch": "x86_64", "source_hash": "h1"}]),
            ),
        ]);
        assert_eq!(
            request("aws_lambda_function", None, &crate_fn),
            Some(Request::Crate {
                path: "lambdas/ingest".into(),
                arch: "x86_64".into(),
                binary: None
            })
        );
        assert_eq!(
            request("aws_lambda_function", Some(&crate_fn), &crate_fn),
            None
        );
        let mut changed = crate_fn.clone();
        changed.insert(
            "cargo_lambda".into(),
            json!([{"path": "lambdas/ingest", "arch": "x86_64", "source_hash": "h2"}]),
        );
        assert!(request("aws_lambda_function", Some(&crate_fn), &changed).is_some());
        let zip_fn = obj([("filename", json!("f.zip"))]);
        assert_eq!(
            request("aws_lambda_function", None, &zip_fn),
            Some(Request::Zip {
                path: "f.zip".into()
            })
        );
        assert_eq!(request("aws_s3_bucket", None, &zip_fn), None);
        assert_eq!(
            request("aws_lambda_function", None, &obj([("s3_key", json!("k"))])),
            None
        );
    }

    #[test]
    fn a_handed_package_is_taken_out_of_the_attributes() {
        let dir = std::env::temp_dir().join("no-such-thingform-package");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("p.zip"), b"PK").unwrap();
        let pkg = futures::executor::block_on(crate::build::build(
            &Request::Zip {
                path: "p.zip".into(),
            },
            &dir,
        ))
        .unwrap();
        let planned = obj([("filename", json!("p.zip"))]);
        let mut handed = attach(&planned, &pkg);
        let h = take(&mut handed).unwrap().unwrap();
        assert_eq!(
            handed, planned,
            "nothing of the package is left to be recorded"
        );
        assert_eq!(h.zip, dir.join("p.zip"));
        assert_eq!(take(&mut handed).unwrap(), None);
    }
}
