//! `thingform fmt`, run as a user runs it: files already `terraform fmt`-clean come out
//! byte-identical (a corpus of the Terraform AWS provider's documentation examples, see
//! tests/fixtures/fmt/corpus/SOURCES.md for each origin, and every stack and example
//! shipped here), messy input comes out as `terraform fmt` writes it, and the options,
//! listing, diff, stdin and exit codes are Terraform's.

use crate::harness::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(repo().join("tests/fixtures/fmt").join(name)).unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn run_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_thingform"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run thingform");
    let input = stdin.unwrap_or("").to_string();
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = pipe.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// Runs `thingform fmt ARGS` in `stack`'s directory.
fn fmt(stack: &TestStack, args: &[&str]) -> Output {
    let mut all = vec!["fmt".to_string()];
    all.extend(args.iter().map(|s| s.to_string()));
    stack.run_args(&all)
}

fn read(stack: &TestStack, name: &str) -> String {
    std::fs::read_to_string(stack.path().join(name)).unwrap()
}

#[test]
fn provider_documentation_corpus_is_left_byte_identical() {
    // Configurations taken unchanged from the Terraform AWS provider's documentation
    // (website/docs/r/*.html.markdown, hashicorp/terraform-provider-aws); each file's
    // page and commit are listed in tests/fixtures/fmt/corpus/SOURCES.md.
    let corpus = repo().join("tests/fixtures/fmt/corpus");
    let stack = TestStack::new("");
    std::fs::remove_file(stack.path().join("main.tf")).unwrap();
    let mut originals = vec![];
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tf") {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            stack.write(&name, &text);
            originals.push((name, text));
        }
    }
    assert!(originals.len() >= 30, "{} configurations", originals.len());
    let out = fmt(&stack, &["-check", "-diff"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");
    let out = fmt(&stack, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "no file listed as changed");
    for (name, text) in originals {
        assert_eq!(read(&stack, &name), text, "{name} changed");
    }
}

#[test]
fn shipped_stacks_and_examples_are_fmt_clean() {
    let out = run_in(
        &repo(),
        &["fmt", "-check", "-diff", "-recursive", "stacks", "examples"],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");
}

#[test]
fn messy_input_comes_out_as_terraform_fmt_writes_it_and_fmt_is_idempotent() {
    // The messy file's expected output follows hclwrite's rules (src/fmt/layout.rs);
    // terraform_*_in/out.tf are Terraform's own fmt test cases (see SOURCES.md).
    for (input, expected) in [
        ("messy_in.tf", "messy_out.tf"),
        ("terraform_general_in.tf", "terraform_general_out.tf"),
        (
            "terraform_variable_type_in.tf",
            "terraform_variable_type_out.tf",
        ),
    ] {
        let stack = TestStack::new(&fixture(input));
        let out = fmt(&stack, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(
            stdout(&out),
            "main.tf\n",
            "{input}: the changed file is listed"
        );
        assert_eq!(read(&stack, "main.tf"), fixture(expected), "{input}");
        let again = fmt(&stack, &[]);
        assert_eq!(stdout(&again), "", "{input}: a second run changes nothing");
        assert_eq!(read(&stack, "main.tf"), fixture(expected));
    }
}

#[test]
fn check_exits_3_lists_and_writes_nothing() {
    let messy = fixture("messy_in.tf");
    let stack = TestStack::new(&messy);
    stack.write("clean.tf", "a = 1\n");
    let out = fmt(&stack, &["-check"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stdout(&out), "main.tf\n");
    assert_eq!(read(&stack, "main.tf"), messy, "-check writes nothing");

    let out = fmt(&stack, &["-check", "-list=false"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stdout(&out), "");

    let clean = TestStack::new("a = 1\n");
    assert_eq!(fmt(&clean, &["-check"]).status.code(), Some(0));
}

#[test]
fn diff_prints_a_unified_diff_and_write_false_keeps_the_file() {
    let stack = TestStack::new("a=1\nbb = 2\n");
    let out = fmt(&stack, &["-diff", "-write=false"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("main.tf\n--- old/main.tf\n+++ new/main.tf\n"),
        "{text}"
    );
    assert!(
        text.contains("@@ -1,2 +1,2 @@\n-a=1\n+a  = 1\n bb = 2\n"),
        "{text}"
    );
    assert_eq!(read(&stack, "main.tf"), "a=1\nbb = 2\n");
}

#[test]
fn dash_reads_stdin_and_writes_stdout() {
    let out = run_in(&repo(), &["fmt", "-"], Some("a=1\nbb = \"${x}\"\n"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "a  = 1\nbb = x\n");
    let out = run_in(&repo(), &["fmt", "-check", "-"], Some("a=1\n"));
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn recursive_walks_subdirectories_and_extensions_are_terraforms() {
    let stack = TestStack::new("a=1\n");
    std::fs::create_dir_all(stack.path().join("modules/site")).unwrap();
    std::fs::create_dir_all(stack.path().join(".terraform")).unwrap();
    stack.write("modules/site/main.tf", "b=2\n");
    stack.write(".terraform/x.tf", "c=3\n");
    stack.write("prod.tfvars", "d=4\n");
    stack.write("main.tf.json", "{\"e\":5}");
    stack.write("other.hcl", "f=6\n");
    stack.write("a.tftest.hcl", "g=7\n");

    let out = fmt(&stack, &[]);
    assert_eq!(stdout(&out), "a.tftest.hcl\nmain.tf\nprod.tfvars\n");
    assert_eq!(
        read(&stack, "modules/site/main.tf"),
        "b=2\n",
        "not recursive"
    );

    let out = fmt(&stack, &["-recursive"]);
    assert_eq!(stdout(&out), "modules/site/main.tf\n");
    assert_eq!(read(&stack, "modules/site/main.tf"), "b = 2\n");
    assert_eq!(
        read(&stack, ".terraform/x.tf"),
        "c=3\n",
        "hidden directories skipped"
    );
    assert_eq!(read(&stack, "main.tf.json"), "{\"e\":5}");
    assert_eq!(read(&stack, "other.hcl"), "f=6\n");

    let out = fmt(&stack, &["other.hcl"]);
    assert_eq!(out.status.code(), Some(2));
    let out = fmt(&stack, &["missing"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("No file or directory at missing"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn invalid_hcl_is_reported_with_file_and_line_and_never_written() {
    let bad = "resource \"aws_sns_topic\" \"a\" {\n  name   =   \"x\"\n  tags = {\n}\n";
    let stack = TestStack::new(bad);
    stack.write("ok.tf", "a=1\n");
    let out = fmt(&stack, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("Invalid HCL syntax") && err.contains("main.tf:"),
        "{err}"
    );
    assert_eq!(read(&stack, "main.tf"), bad, "nothing written");
    assert_eq!(
        read(&stack, "ok.tf"),
        "a = 1\n",
        "the other files are formatted"
    );
}
