//! Rust crates for Lambda: the source hash, the architecture, and `cargo lambda build`.

use sha2::Digest;
use std::path::{Path, PathBuf};

/// sha256 over every source file of a crate (paths and contents, sorted), skipping
/// `target/` and hidden directories.
pub fn crate_source_hash(dir: &Path) -> anyhow::Result<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if name == "target" || name.starts_with('.') {
                continue;
            }
            if p.is_dir() {
                walk(&p, base, out)?;
            } else {
                out.push(p.strip_prefix(base).unwrap_or(&p).to_path_buf());
            }
        }
        Ok(())
    }
    if !dir.join("Cargo.toml").is_file() {
        anyhow::bail!(
            "cargo_lambda.path {} has no Cargo.toml; point it at the Lambda crate's directory",
            dir.display()
        );
    }
    let mut files = vec![];
    walk(dir, dir, &mut files)
        .map_err(|e| anyhow::anyhow!("cannot read crate {}: {e}", dir.display()))?;
    files.sort();
    let mut h = sha2::Sha256::new();
    for f in &files {
        h.update(f.to_string_lossy().as_bytes());
        h.update(std::fs::read(dir.join(f))?);
    }
    // A workspace member's dependency versions live in the workspace's Cargo.lock.
    if !files.iter().any(|f| f == Path::new("Cargo.lock")) {
        let abs = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        if let Some(lock) = abs
            .ancestors()
            .skip(1)
            .map(|a| a.join("Cargo.lock"))
            .find(|l| l.is_file())
        {
            h.update(b"workspace Cargo.lock");
            h.update(std::fs::read(lock)?);
        }
    }
    Ok(crate::value::hex(&h.finalize()))
}

/// Whether the Rust standard library for aarch64 Linux is installed (cargo-lambda cannot
/// build arm64 without it, and thingform never downloads it).
fn aarch64_std_available() -> bool {
    let sysroot = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok();
    match sysroot {
        Some(o) if o.status.success() => {
            let root = String::from_utf8_lossy(&o.stdout).trim().to_string();
            Path::new(&root)
                .join("lib/rustlib/aarch64-unknown-linux-gnu/lib")
                .is_dir()
        }
        _ => false,
    }
}

/// The architecture a crate is really built for, and a warning when it is not the one
/// asked for (arm64 without the aarch64 standard library falls back to x86_64).
pub fn effective_arch(requested: &str) -> (&'static str, Option<String>) {
    match requested {
        "x86_64" | "x86-64" | "amd64" => ("x86_64", None),
        _ if aarch64_std_available() => ("arm64", None),
        _ => (
            "x86_64",
            Some("the aarch64 Rust standard library is not installed on this machine, so the function is built for x86_64 instead of arm64 (install it with `rustup target add aarch64-unknown-linux-gnu` to build arm64)".into()),
        ),
    }
}

fn cargo_lambda_bin() -> String {
    std::env::var("THINGFORM_CARGO_LAMBDA").unwrap_or_else(|_| "cargo-lambda".into())
}

/// Runs `cargo lambda build --release` of the crate at `path` for `arch` into
/// `out_dir`, as a zip or as the `bootstrap` binary; the error ends with the build's last
/// lines.
async fn run_cargo_lambda(
    path: &Path,
    arch: &str,
    binary: Option<&str>,
    out_dir: &Path,
    zip: bool,
) -> anyhow::Result<()> {
    let mut cmd = tokio::process::Command::new(cargo_lambda_bin());
    cmd.args(["lambda", "build", "--release"]);
    if zip {
        cmd.args(["--output-format", "zip"]);
    }
    cmd.arg("--lambda-dir")
        .arg(out_dir)
        .arg("--manifest-path")
        .arg(path.join("Cargo.toml"))
        .arg(if arch == "arm64" {
            "--arm64"
        } else {
            "--x86-64"
        });
    if let Some(bin) = binary {
        cmd.args(["--bin", bin]);
    }
    let output = cmd.output().await.map_err(|e| {
        anyhow::anyhow!(
            "cannot run {} ({e}); install it with `pip install cargo-lambda` or set THINGFORM_CARGO_LAMBDA to its path",
            cargo_lambda_bin()
        )
    })?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = err.lines().rev().take(25).collect();
        anyhow::bail!(
            "cargo lambda build of {} failed:\n{}",
            path.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    Ok(())
}

/// Runs `cargo lambda build --release --output-format zip` into a new temporary
/// directory, which it returns.
pub(super) async fn cargo_lambda_build(
    path: &Path,
    arch: &str,
    binary: Option<&str>,
) -> anyhow::Result<PathBuf> {
    let out_dir = std::env::temp_dir().join(format!(
        "thingform-lambda-{}",
        uuid::Uuid::new_v4().simple()
    ));
    if let Err(e) = run_cargo_lambda(path, arch, binary, &out_dir, true).await {
        let _ = std::fs::remove_dir_all(&out_dir);
        return Err(e);
    }
    Ok(out_dir)
}

/// Builds a Lambda crate for this machine (`cargo lambda build --release`, x86_64 or
/// arm64 as the host is) to run locally, and returns the `bootstrap` executable; its
/// directory is `out_dir`, which the caller removes.
pub async fn build_for_host(
    path: &Path,
    binary: Option<&str>,
    out_dir: &Path,
) -> anyhow::Result<PathBuf> {
    let arch = if std::env::consts::ARCH == "aarch64" {
        "arm64"
    } else {
        "x86_64"
    };
    run_cargo_lambda(path, arch, binary, out_dir, false).await?;
    let mut found = vec![];
    for e in std::fs::read_dir(out_dir)? {
        let b = e?.path().join("bootstrap");
        if b.is_file() {
            found.push(b);
        }
    }
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => anyhow::bail!(
            "cargo lambda build produced no bootstrap in {}",
            out_dir.display()
        ),
        _ => anyhow::bail!(
            "the crate {} has several binaries; name one with cargo_lambda {{ binary = \"...\" }}",
            path.display()
        ),
    }
}

/// The one `bootstrap.zip` a build left in `out_dir`.
pub(super) fn single_zip(out_dir: &Path, path: &Path) -> anyhow::Result<PathBuf> {
    let mut zips = vec![];
    for e in std::fs::read_dir(out_dir)? {
        let z = e?.path().join("bootstrap.zip");
        if z.is_file() {
            zips.push(z);
        }
    }
    match zips.as_slice() {
        [one] => Ok(one.clone()),
        [] => anyhow::bail!(
            "cargo lambda build produced no bootstrap.zip in {}",
            out_dir.display()
        ),
        _ => anyhow::bail!(
            "the crate {} has several binaries; name one with cargo_lambda {{ binary = \"...\" }}",
            path.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_hash_follows_the_sources_and_skips_target() {
        let d = std::env::temp_dir().join(format!("tf-crate-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(d.join("src")).unwrap();
        std::fs::create_dir_all(d.join("target")).unwrap();
        std::fs::write(d.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        std::fs::write(d.join("src/main.rs"), "fn main() {}").unwrap();
        let h1 = crate_source_hash(&d).unwrap();
        std::fs::write(d.join("target/out"), "x").unwrap();
        assert_eq!(crate_source_hash(&d).unwrap(), h1, "target/ is not source");
        std::fs::write(d.join("src/main.rs"), "fn main() { }").unwrap();
        assert_ne!(crate_source_hash(&d).unwrap(), h1);
        std::fs::remove_dir_all(&d).unwrap();
        assert!(crate_source_hash(&d).is_err());
    }

    #[test]
    fn x86_64_is_built_as_asked() {
        assert_eq!(effective_arch("x86_64"), ("x86_64", None));
    }
}
