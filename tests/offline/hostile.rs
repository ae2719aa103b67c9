//! Hostile input: every file of tests/hostile/config (each says what the error must name
//! and where), invalid UTF-8, a 50 MB file, 5,000 nested brackets, and state files that
//! are truncated, corrupted, of a newer format or with a damaged journal, and a saved
//! plan from another stack. Each must be a clear error with its location, exit code 1,
//! no panic, and leave every state file byte for byte as it was.

use crate::harness::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use thingform::state::State;
use thingform::state::local::LocalBackend;

/// The state a hostile run must not touch: a real document (serial 5, one topic).
fn seed_state(stack: &TestStack) {
    seed(stack, true)
}

/// A state with no resources (a plan of it contacts no AWS).
fn seed(stack: &TestStack, with_topic: bool) {
    let be = LocalBackend::new(stack.state_path());
    let mut s = State::new();
    s.serial = 5;
    if !with_topic {
        be.write(&s).unwrap();
        return;
    }
    let attrs = serde_json::json!({
        "arn": "arn:aws:sns:eu-west-1:123456789012:seeded",
        "name": "seeded",
    });
    s.upsert(thingform::state::ResourceState::managed(
        "aws_sns_topic.seeded".parse().unwrap(),
        attrs.as_object().unwrap().clone(),
    ));
    be.write(&s).unwrap();
}

/// SHA-256 of every file under the stack's `.thingform` directory.
fn hashes(stack: &TestStack) -> BTreeMap<PathBuf, String> {
    let dir = stack.path().join(".thingform");
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let p = e.path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        // The OS lock file and the lock record come and go with every run.
        if p.is_file() && !name.ends_with(".lock") && !name.ends_with(".lock.info") {
            let bytes = std::fs::read(&p).unwrap();
            out.insert(p, format!("{:x}", Sha256::digest(&bytes)));
        }
    }
    out
}

/// Runs `thingform ARGS... STACK_DIR`, which must fail cleanly: exit code 1, the
/// expected text and location in stderr, no panic, and every state file unchanged.
fn refused(stack: &TestStack, args: &[&str], expect: &[&str], case: &str) -> Output {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.push(stack.path().display().to_string());
    refused_args(stack, &all, expect, case)
}

/// As [`refused`], with the whole command line given (run in the stack directory).
fn refused_args(stack: &TestStack, args: &[String], expect: &[&str], case: &str) -> Output {
    let before = hashes(stack);
    let out = stack.run_args(args);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{case}: thingform {args:?} must exit 1\nstderr:\n{}",
        &err[..err.len().min(4000)]
    );
    assert!(!err.contains("panicked"), "{case}: {err}");
    for e in expect {
        assert!(
            err.contains(e),
            "{case}: stderr lacks {e:?}:\n{}",
            &err[..err.len().min(4000)]
        );
    }
    assert_eq!(hashes(stack), before, "{case}: a state file changed");
    out
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/config")
}

#[test]
fn every_file_of_the_config_corpus_is_a_located_error() {
    let mut tried = 0;
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let header = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("# {key}: ")))
                .unwrap_or_else(|| panic!("{} lacks `# {key}:`", path.display()))
                .to_string()
        };
        let (expect, at) = (header("expect"), header("at"));
        let stack = TestStack::new(&text);
        seed(&stack, false);
        let case = path.file_name().unwrap().to_string_lossy().to_string();
        for cmd in [&["validate"][..], &["plan"][..]] {
            // validate checks the configuration only; some errors appear at plan.
            let out = stack.run(cmd);
            if cmd == ["validate"] && out.status.success() {
                continue;
            }
            refused(&stack, cmd, &[&expect, &at], &format!("{case} ({cmd:?})"));
        }
        tried += 1;
    }
    assert!(tried >= 15, "the corpus has {tried} cases");
}

#[test]
fn invalid_utf8_is_an_error_naming_the_file() {
    let stack = TestStack::new("");
    seed_state(&stack);
    std::fs::write(
        stack.path().join("main.tf"),
        b"resource \"aws_sns_topic\" \"t\" {\n  name = \"\xff\xfe\"\n}\n",
    )
    .unwrap();
    refused(&stack, &["plan"], &["main.tf"], "invalid UTF-8");
    refused(&stack, &["validate"], &["main.tf"], "invalid UTF-8");
}

#[test]
fn five_thousand_nested_brackets_are_an_error_not_a_stack_overflow() {
    let n = 5000;
    for (file, text) in [
        (
            "main.tf",
            format!("locals {{\n  x = {}1{}\n}}\n", "[".repeat(n), "]".repeat(n)),
        ),
        (
            "main.tf",
            format!("locals {{\n  x = {}1{}\n}}\n", "(".repeat(n), ")".repeat(n)),
        ),
        (
            "main.tf",
            format!(
                "locals {{\n  x = {}1{}\n}}\n",
                "{a=".repeat(n),
                "}".repeat(n)
            ),
        ),
        (
            "main.tf",
            format!(
                "locals {{\n  x = {}1{}\n}}\n",
                "\"${".repeat(n),
                "}\"".repeat(n)
            ),
        ),
    ] {
        let stack = TestStack::new(&text);
        seed_state(&stack);
        refused(
            &stack,
            &["plan"],
            &["Nesting too deep", &format!("{file}:2:")],
            "deep nesting",
        );
    }
    // The same in a variables file.
    let stack = TestStack::new("variable \"x\" {\n  type = any\n}\n");
    seed_state(&stack);
    stack.write(
        "terraform.tfvars",
        &format!("x = {}1{}\n", "[".repeat(n), "]".repeat(n)),
    );
    refused(
        &stack,
        &["plan"],
        &["Nesting too deep", "terraform.tfvars:1:"],
        "deep tfvars",
    );
}

#[test]
fn a_50_mb_file_with_an_error_at_its_end_names_the_last_line() {
    let stack = TestStack::new("");
    seed_state(&stack);
    let line = format!("  x{{}} = \"{}\"\n", "a".repeat(100));
    let mut text = String::from("locals {\n");
    let mut n = 1;
    while text.len() < 50 * 1024 * 1024 {
        text.push_str(&line.replace("{}", &n.to_string()));
        n += 1;
    }
    text.push_str("  broken = = 1\n}\n");
    let lines = text.lines().count();
    std::fs::write(stack.path().join("main.tf"), &text).unwrap();
    let out = refused(
        &stack,
        &["validate"],
        &["Invalid HCL syntax", &format!("main.tf:{}:", lines - 1)],
        "50 MB",
    );
    assert!(
        out.stderr.len() < 10_000,
        "the error quotes one line, not the file"
    );
}

#[test]
fn damaged_state_files_are_errors_and_stay_as_they_were() {
    let config = "resource \"aws_sns_topic\" \"seeded\" {\n  name = \"seeded\"\n}\n";
    let good = {
        let s = TestStack::new(config);
        seed_state(&s);
        std::fs::read_to_string(s.state_path()).unwrap()
    };
    let newer = good.replacen("\"version\": 2", "\"version\": 99", 1);
    assert_ne!(newer, good, "the document names its format version");
    let cases: Vec<(&str, String, &[&str])> = vec![
        (
            "truncated",
            good[..good.len() / 2].to_string(),
            &["state.json"],
        ),
        ("empty", String::new(), &["state.json"]),
        (
            "corrupted",
            good.replacen('{', "{\u{0}\u{7f}garbage", 2),
            &["state.json"],
        ),
        ("not an object", "[1, 2, 3]".into(), &["state.json"]),
        ("newer format", newer, &["state.json", "99"]),
        (
            "wrong types",
            good.replacen("\"serial\": ", "\"serial\": \"one\", \"x\": ", 1),
            &["state.json"],
        ),
    ];
    for (case, text, expect) in cases {
        let stack = TestStack::new(config);
        seed_state(&stack);
        std::fs::write(stack.state_path(), &text).unwrap();
        for cmd in [&["plan"][..], &["apply", "-auto-approve"][..]] {
            refused(&stack, cmd, expect, &format!("{case} state ({cmd:?})"));
        }
        refused_args(
            &stack,
            &["state".into(), "list".into()],
            expect,
            &format!("{case} state (state list)"),
        );
    }
    // Invalid UTF-8 in the state.
    let stack = TestStack::new(config);
    seed_state(&stack);
    let mut bytes = good.clone().into_bytes();
    bytes.insert(10, 0xff);
    std::fs::write(stack.state_path(), &bytes).unwrap();
    refused(
        &stack,
        &["plan"],
        &["state.json"],
        "state with invalid UTF-8",
    );
}

#[test]
fn a_journal_damaged_before_its_end_is_an_error_and_both_files_stay() {
    let config = "resource \"aws_sns_topic\" \"seeded\" {\n  name = \"seeded\"\n}\n";
    let stack = TestStack::new(config);
    let be = LocalBackend::new(stack.state_path());
    let mut s = State::new();
    s.serial = 5;
    be.write(&s).unwrap();
    be.append(&thingform::state::journal::Batch {
        serial: 6,
        records: vec![],
    })
    .unwrap();
    let journal = be.journal_path();
    let text = std::fs::read_to_string(&journal).unwrap_or_default();
    let header = text
        .lines()
        .next()
        .expect("the journal has its header")
        .to_string();
    // A damaged line followed by a good one: not a torn tail, so not dropped silently.
    std::fs::write(
        &journal,
        format!("{header}\n{{\"records\": [tor\n{{\"records\": []}}\n"),
    )
    .unwrap();
    refused(&stack, &["plan"], &["journal"], "damaged journal");
}

#[test]
fn a_saved_plan_from_another_stack_or_lineage_is_refused() {
    let apply = |plan: &Path| vec!["apply".to_string(), plan.display().to_string()];
    // A plan made against one state lineage, applied after another state took its place.
    let c = TestStack::new("output \"o\" {\n  value = \"c\"\n}\n");
    seed(&c, false);
    let plan_file = c.path().join("c.plan");
    c.ok(&["plan", "-out", plan_file.to_str().unwrap()]);
    seed(&c, false);
    refused_args(
        &c,
        &apply(&plan_file),
        &["stale", "c.plan"],
        "plan of another lineage",
    );

    // A plan of stack a, whose configuration then changed under it.
    let a = TestStack::new("output \"o\" {\n  value = \"a\"\n}\n");
    seed(&a, false);
    let plan_a = a.path().join("a.plan");
    a.ok(&["plan", "-out", plan_a.to_str().unwrap()]);
    a.write("main.tf", "output \"o\" {\n  value = \"changed\"\n}\n");
    refused_args(
        &a,
        &apply(&plan_a),
        &["changed since this plan was made"],
        "plan of a changed stack",
    );

    // Not a plan at all, and a truncated one.
    let text = std::fs::read_to_string(&plan_file).unwrap();
    std::fs::write(&plan_file, &text[..text.len() / 2]).unwrap();
    refused_args(
        &c,
        &apply(&plan_file),
        &["c.plan", "not a thingform plan file"],
        "truncated plan",
    );
    std::fs::write(&plan_file, "{\"hello\": 1}").unwrap();
    refused_args(
        &c,
        &apply(&plan_file),
        &["c.plan", "not a thingform plan file"],
        "not a plan",
    );
}
