//! Building deployment packages from local sources: a Rust crate hashed and built with
//! `cargo lambda`, or a ready zip file read from disk.
//!
//! *Invariant:* knows no AWS, no HCL and no state. It is handed paths (relative to the
//! stack directory) and returns a package on disk plus what the caller should record.

pub mod rust_crate;

pub use rust_crate::{build_for_host, crate_source_hash, effective_arch};

use std::path::{Path, PathBuf};

/// What to build or read for one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A Rust crate built with `cargo lambda build --release --output-format zip`.
    Crate {
        /// The crate directory.
        path: String,
        /// The architecture asked for (`arm64`, `x86_64`).
        arch: String,
        /// The binary, when the crate has several.
        binary: Option<String>,
    },
    /// A zip file used as it is.
    Zip { path: String },
}

impl Request {
    /// Whether this request runs a build (and deserves its own progress lines).
    pub fn builds(&self) -> bool {
        matches!(self, Request::Crate { .. })
    }
}

/// A package ready to upload. A built package's directory is removed when it is dropped.
#[derive(Debug)]
pub struct Package {
    /// The zip to upload.
    pub zip: PathBuf,
    /// The crate's source hash taken after the build (a build may rewrite Cargo.lock).
    pub source_hash: Option<String>,
    /// What the user should know (e.g. the architecture that was really built).
    pub warnings: Vec<String>,
    owned_dir: Option<PathBuf>,
}

impl Drop for Package {
    fn drop(&mut self) {
        if let Some(d) = &self.owned_dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// `rel` resolved against the stack directory `dir` (absolute paths are kept).
pub fn in_dir(dir: &Path, rel: &str) -> PathBuf {
    let path = Path::new(rel);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        dir.join(path)
    }
}

/// Builds or reads the package `req` asks for; relative paths are relative to `dir`.
pub async fn build(req: &Request, dir: &Path) -> anyhow::Result<Package> {
    match req {
        Request::Zip { path } => {
            let zip = in_dir(dir, path);
            if !zip.is_file() {
                anyhow::bail!("cannot read lambda package {}: not a file", zip.display());
            }
            Ok(Package {
                zip,
                source_hash: None,
                warnings: vec![],
                owned_dir: None,
            })
        }
        Request::Crate { path, arch, binary } => {
            let path = in_dir(dir, path);
            let (arch, note) = effective_arch(arch);
            let out_dir = rust_crate::cargo_lambda_build(&path, arch, binary.as_deref()).await?;
            let zip = rust_crate::single_zip(&out_dir, &path);
            let zip = match zip {
                Ok(z) => z,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&out_dir);
                    return Err(e);
                }
            };
            Ok(Package {
                zip,
                source_hash: Some(crate_source_hash(&path)?),
                warnings: note.into_iter().collect(),
                owned_dir: Some(out_dir),
            })
        }
    }
}

/// `p` made absolute against the working directory, with `..` resolved.
pub fn absolute(p: &str) -> anyhow::Result<PathBuf> {
    let path = Path::new(p);
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    joined.canonicalize().map_err(|e| {
        anyhow::anyhow!(
            "{p}: {e} (relative paths are relative to the working directory; use path.module)"
        )
    })
}

/// `target` relative to the directory `base` (both made canonical).
pub fn relative_to(target: &Path, base: &Path) -> String {
    let base = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    let t: Vec<_> = target.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    if out.as_os_str().is_empty() {
        ".".into()
    } else {
        out.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_kept_relative_to_the_stack_directory() {
        let d = std::env::temp_dir().canonicalize().unwrap();
        assert_eq!(relative_to(&d.join("a/b"), &d), "a/b");
        assert_eq!(relative_to(&d, &d.join("x")), "..");
        assert_eq!(in_dir(&d, "z.zip"), d.join("z.zip"));
        assert_eq!(in_dir(&d, "/abs/z.zip"), PathBuf::from("/abs/z.zip"));
    }

    #[tokio::test]
    async fn a_zip_is_used_as_it_is_and_a_missing_one_is_an_error() {
        let d = std::env::temp_dir().join(format!("tf-build-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("f.zip"), b"PK").unwrap();
        let p = build(
            &Request::Zip {
                path: "f.zip".into(),
            },
            &d,
        )
        .await
        .unwrap();
        assert_eq!(std::fs::read(&p.zip).unwrap(), b"PK");
        drop(p);
        assert!(d.join("f.zip").is_file(), "a user's zip is never removed");
        let e = build(
            &Request::Zip {
                path: "g.zip".into(),
            },
            &d,
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("cannot read lambda package"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
