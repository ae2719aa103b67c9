//! The layering ARCHITECTURE.md draws, kept as a test (as rust-analyzer keeps its
//! architecture invariants): each top-level module may name, through `crate::`, only the
//! modules listed for it here. A new module must be placed in this table.

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    /// Each layer and the layers it may use. Mirrors ARCHITECTURE.md's drawing.
    const LAYERS: &[(&str, &[&str])] = &[
        ("value", &[]),
        ("address", &[]),
        ("diag", &[]),
        ("graph", &[]),
        ("iotsql", &["diag"]),
        ("layering", &[]),
        ("build", &["value"]),
        ("fmt", &["diag", "value"]),
        ("provider", &["build", "iotsql", "value"]),
        ("state", &["address", "value"]),
        ("config", &["address", "diag", "graph", "provider", "value"]),
        (
            "backend",
            &["address", "config", "diag", "provider", "state", "value"],
        ),
        (
            "engine",
            &[
                "address", "build", "config", "diag", "graph", "provider", "state", "value",
            ],
        ),
        ("view", &["address", "engine", "provider", "state", "value"]),
        (
            "testing",
            &["build", "config", "diag", "iotsql", "provider", "value"],
        ),
        (
            "audit",
            &[
                "address", "config", "diag", "iotsql", "provider", "state", "value",
            ],
        ),
        (
            "cli",
            &[
                "address", "audit", "backend", "build", "config", "diag", "engine", "fmt", "graph",
                "iotsql", "provider", "state", "testing", "value", "view",
            ],
        ),
    ];

    fn src() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
    }

    fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
        if path.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(path)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            entries.sort();
            for e in entries {
                rust_files(&e, out);
            }
        } else if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
            out.push(path.to_path_buf());
        }
    }

    /// The `crate::<module>` names a file uses, with their line numbers (comments skipped).
    fn crate_uses(text: &str) -> Vec<(usize, String)> {
        let mut out = vec![];
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let mut rest = code;
            while let Some(at) = rest.find("crate::") {
                let after = &rest[at + "crate::".len()..];
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                // `$crate::` in macros and `thingform_crate::` style names are not ours.
                let before = &rest[..at];
                if !name.is_empty()
                    && !before.ends_with('$')
                    && !before.ends_with(|c: char| c.is_alphanumeric() || c == '_')
                {
                    out.push((n + 1, name));
                }
                rest = after;
            }
        }
        out
    }

    #[test]
    fn every_top_level_module_is_placed_in_a_layer() {
        let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
        let placed: BTreeSet<&str> = LAYERS.iter().map(|(l, _)| *l).collect();
        for line in lib.lines() {
            if let Some(m) = line
                .trim()
                .strip_prefix("pub mod ")
                .or_else(|| line.trim().strip_prefix("mod "))
            {
                let m = m.trim_end_matches(';');
                assert!(
                    placed.contains(m),
                    "src/lib.rs declares `{m}`, which the layering table in src/layering.rs (and ARCHITECTURE.md) does not place"
                );
            }
        }
    }

    #[test]
    fn no_layer_uses_a_layer_it_may_not_know() {
        let mut violations = vec![];
        // This file names layers in its own strings; it is the checker, not a layer.
        for (layer, allowed) in LAYERS.iter().filter(|(l, _)| *l != "layering") {
            let mut files = vec![];
            rust_files(&src().join(format!("{layer}.rs")), &mut files);
            rust_files(&src().join(layer), &mut files);
            for f in files {
                let text = std::fs::read_to_string(&f).unwrap();
                for (line, used) in crate_uses(&text) {
                    if used != *layer && !allowed.contains(&used.as_str()) {
                        violations.push(format!(
                            "{}:{line}: `{layer}` uses `crate::{used}`",
                            f.strip_prefix(src().parent().unwrap()).unwrap().display()
                        ));
                    }
                }
            }
        }
        assert!(
            violations.is_empty(),
            "imports that break the layering in ARCHITECTURE.md:\n{}",
            violations.join("\n")
        );
    }

    #[test]
    fn the_scanner_sees_uses_and_skips_comments() {
        let uses = crate_uses(
            "use crate::state::State;\n// crate::cli\nlet x = crate::value::hex(1); // crate::engine\n$crate::x",
        );
        assert_eq!(
            uses,
            vec![(1, "state".to_string()), (3, "value".to_string())]
        );
    }
}
