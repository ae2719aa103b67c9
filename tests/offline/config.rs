//! Configuration errors with locations, cycles, bad input, the dependency graph, and
//! every stack shipped in this repository validating.

use crate::harness::*;
use std::path::PathBuf;

#[test]
fn errors_name_file_line_and_what_to_do() {
    let stack =
        TestStack::new("resource \"aws_sns_topic\" \"a\" {\n  name = aws_sns_topic.b.name\n}\n");
    stack.write("b.tf", "resource \"aws_sns_topic\" \"b\" {\n  display_nam = \"x\"\n  name = aws_sns_topic.a.name\n}\n");
    let out = stack.run(&["validate"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("Cycle in references"), "{err}");
    assert!(
        err.contains("main.tf:1:1") && err.contains("b.tf:1:1"),
        "both cycle members located: {err}"
    );
    assert!(
        err.contains("b.tf:2:3") && err.contains("Did you mean \"display_name\""),
        "{err}"
    );

    let bad = TestStack::new("resource \"aws_sns_topic\" \"a\" {\n  name = \"x\"\n");
    let out = bad.run(&["plan"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("Invalid HCL syntax") && err.contains("main.tf:"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn graph_draws_an_edge_from_each_resource_to_what_it_refers_to() {
    let stack = TestStack::new(
        "resource \"aws_sns_topic\" \"t\" {\n  name = \"graph\"\n}\nresource \"aws_sns_topic_subscription\" \"s\" {\n  topic_arn = aws_sns_topic.t.arn\n  protocol = \"email\"\n  endpoint = \"x@example.com\"\n}\n",
    );
    let dot = stack.ok(&["graph"]);
    assert!(
        dot.contains("\"aws_sns_topic_subscription.s\" -> \"aws_sns_topic.t\""),
        "{dot}"
    );
    assert!(
        !dot.contains("\"aws_sns_topic.t\" ->"),
        "the topic refers to nothing: {dot}"
    );
}

#[test]
fn every_shipped_stack_validates() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![];
    for parent in ["stacks", "examples"] {
        for entry in std::fs::read_dir(repo.join(parent)).unwrap() {
            let dir = entry.unwrap().path();
            if dir.join("main.tf").is_file() {
                dirs.push(dir);
            }
        }
    }
    assert!(dirs.len() >= 6, "stacks and examples found: {dirs:?}");
    for dir in dirs {
        let stack = TestStack::copy_of(&dir);
        let out = stack.run(&["validate"]);
        assert!(
            out.status.success(),
            "{} does not validate:\n{}",
            dir.display(),
            stderr(&out)
        );
    }
}
