//! Fuzzing with proptest (cargo-fuzz needs a nightly toolchain): the HCL loader, the
//! expression evaluator and the state reader are fed generated and mutated input for a
//! bounded time, and must answer Ok or a clear error — never panic (proptest shrinks a
//! panicking input and prints it). THINGFORM_FUZZ_SECONDS per target (default 5);
//! scripts/fuzz.sh runs them longer and prints the number of cases.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn budget() -> Duration {
    Duration::from_secs_f64(
        std::env::var("THINGFORM_FUZZ_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5.0),
    )
}

/// Runs `test` on values of `strategy` in batches of 64 (a new seed each) until the time
/// budget is spent; a failure is shrunk and fails the test. Returns the cases run.
fn fuzz<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value)) -> usize
where
    S::Value: std::fmt::Debug,
{
    let deadline = Instant::now() + budget();
    let mut cases = 0;
    let mut batch: u64 = 0;
    while Instant::now() < deadline {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&batch.to_le_bytes());
        seed[8..16].copy_from_slice(&(name.len() as u64).to_le_bytes());
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: 64,
                failure_persistence: None,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        if let Err(e) = runner.run(&strategy, |v| {
            test(v);
            Ok(())
        }) {
            panic!("fuzz {name}: {e}");
        }
        cases += 64;
        batch += 1;
    }
    println!("fuzz {name}: {cases} cases, no panic");
    cases
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.tf` file shipped in stacks/ (the seeds mutations start from).
fn seeds() -> Vec<String> {
    let mut out = vec![];
    for stack in std::fs::read_dir(repo().join("stacks")).unwrap().flatten() {
        for f in std::fs::read_dir(stack.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if f.path().extension().is_some_and(|e| e == "tf") {
                out.push(std::fs::read_to_string(f.path()).unwrap());
            }
        }
    }
    out.sort();
    out
}

/// A byte-level mutation: (position as a fraction of the length, what to do, a byte).
fn mutations() -> impl Strategy<Value = Vec<(f64, u8, u8)>> {
    prop::collection::vec((0.0..1.0f64, 0u8..4, any::<u8>()), 1..8)
}

fn mutate(src: &str, muts: &[(f64, u8, u8)]) -> String {
    let mut b = src.as_bytes().to_vec();
    for (at, what, byte) in muts {
        let i = ((b.len() as f64) * at) as usize;
        match what {
            0 if i < b.len() => {
                b.remove(i);
            }
            1 => b.insert(i.min(b.len()), *byte),
            2 if i < b.len() => b[i] = *byte,
            _ => {
                // Duplicate a slice: repeated blocks, attributes, brackets.
                let end = (i + 40).min(b.len());
                let piece = b[i.min(end)..end].to_vec();
                b.splice(i.min(b.len())..i.min(b.len()), piece);
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// Token soup from HCL's alphabet, nesting included.
fn hcl_soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("resource"),
        Just("locals"),
        Just("variable"),
        Just("\"aws_sns_topic\""),
        Just("\"t\""),
        Just("{"),
        Just("}"),
        Just("["),
        Just("]"),
        Just("("),
        Just(")"),
        Just("="),
        Just("\n"),
        Just(" "),
        Just("\""),
        Just("${"),
        Just("%{"),
        Just("~}"),
        Just("<<EOT\n"),
        Just("EOT\n"),
        Just("#"),
        Just("//"),
        Just("/*"),
        Just("*/"),
        Just("x"),
        Just("local.x"),
        Just("var.y"),
        Just("1"),
        Just("1.5e300"),
        Just("-"),
        Just("?"),
        Just(":"),
        Just("=>"),
        Just("..."),
        Just("for"),
        Just("in"),
        Just("if"),
        Just(","),
        Just("."),
        Just("[*]"),
        Just("é"),
        Just("\u{0}"),
        Just("\\"),
    ];
    prop::collection::vec(token, 0..120).prop_map(|t| t.concat())
}

#[test]
fn the_hcl_loader_never_panics() {
    let seeds = seeds();
    assert!(seeds.len() >= 10, "the stacks' files seed the mutations");
    let n = seeds.len();
    let mutated = fuzz(
        "HCL loader (mutated stack files)",
        (0..n, mutations()),
        |(i, m)| {
            let src = mutate(&seeds[i], &m);
            let _ = thingform::config::parse_file("fuzz.tf", &src);
        },
    );
    let soup = fuzz("HCL loader (token soup)", hcl_soup(), |src| {
        let _ = thingform::config::parse_file("fuzz.tf", &src);
    });
    assert!(mutated > 0 && soup > 0);
}

#[test]
fn a_whole_mutated_stack_loads_or_fails_cleanly() {
    let campus = repo().join("stacks/campus");
    let files: Vec<(String, String)> = std::fs::read_dir(&campus)
        .unwrap()
        .flatten()
        .filter(|f| f.path().extension().is_some_and(|e| e == "tf"))
        .map(|f| {
            (
                f.file_name().to_string_lossy().to_string(),
                std::fs::read_to_string(f.path()).unwrap(),
            )
        })
        .collect();
    let n = files.len();
    fuzz(
        "stack loader (campus, one file mutated)",
        (0..n, mutations()),
        |(i, m)| {
            let dir = tempfile::tempdir().unwrap();
            for (j, (name, text)) in files.iter().enumerate() {
                let text = if i == j {
                    mutate(text, &m)
                } else {
                    text.clone()
                };
                std::fs::write(dir.path().join(name), text).unwrap();
            }
            let _ = thingform::config::stack::Stack::load(dir.path(), &[], "default");
        },
    );
}

/// Expressions: literals, operators, function calls, for-expressions, conditionals,
/// splats and indexes, nested a few levels.
fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("1".to_string()),
        Just("-0.5".to_string()),
        Just("1e308".to_string()),
        Just("\"s\"".to_string()),
        Just("\"${1}x%{ if true }y%{ endif }\"".to_string()),
        Just("true".to_string()),
        Just("null".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("[1, \"a\", null]".to_string()),
        Just("{ a = 1, b = [2] }".to_string()),
        Just("\"é🦀\"".to_string()),
    ];
    leaf.prop_recursive(5, 64, 4, |inner| {
        let f = prop_oneof![
            Just("length"),
            Just("upper"),
            Just("lower"),
            Just("format"),
            Just("join"),
            Just("split"),
            Just("concat"),
            Just("merge"),
            Just("keys"),
            Just("values"),
            Just("lookup"),
            Just("element"),
            Just("slice"),
            Just("range"),
            Just("tonumber"),
            Just("tostring"),
            Just("tolist"),
            Just("toset"),
            Just("tomap"),
            Just("jsonencode"),
            Just("jsondecode"),
            Just("yamldecode"),
            Just("base64decode"),
            Just("regex"),
            Just("replace"),
            Just("substr"),
            Just("cidrsubnet"),
            Just("flatten"),
            Just("zipmap"),
            Just("coalesce"),
            Just("try"),
            Just("can"),
            Just("min"),
            Just("max"),
            Just("pow"),
            Just("abs"),
            Just("floor"),
            Just("chunklist"),
            Just("setproduct"),
            Just("distinct"),
            Just("reverse"),
            Just("sort"),
            Just("formatdate"),
            Just("parseint"),
            Just("trimprefix"),
            Just("startswith"),
        ];
        prop_oneof![
            (f, prop::collection::vec(inner.clone(), 0..4))
                .prop_map(|(f, a)| format!("{f}({})", a.join(", "))),
            (
                inner.clone(),
                prop_oneof![
                    Just("+"),
                    Just("-"),
                    Just("*"),
                    Just("/"),
                    Just("%"),
                    Just("=="),
                    Just("!="),
                    Just("<"),
                    Just(">="),
                    Just("&&"),
                    Just("||")
                ],
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}[{b}]")),
            inner.clone().prop_map(|a| format!("{a}[*].x")),
            inner.clone().prop_map(|a| format!("!{a}")),
            (inner.clone(), inner.clone())
                .prop_map(|(l, b)| format!("[for k, v in {l} : {b} if v != null]")),
            (inner.clone(), inner.clone())
                .prop_map(|(l, b)| format!("{{for k, v in {l} : tostring(k) => {b}...}}")),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|a| format!("[{}]", a.join(", "))),
            inner.prop_map(|a| format!("\"pre-${{{a}}}-post\"")),
        ]
    })
}

#[test]
fn the_evaluator_never_panics() {
    fuzz("expression evaluator", expr(), |src| {
        if let Ok(body) = hcl::parse(&format!("x = {src}\n"))
            && let Some(a) = body.attributes().next()
        {
            let scope = thingform::config::eval::Scope::new(PathBuf::from("."));
            let _ = scope.eval(&a.expr);
        }
    });
}

#[test]
fn the_state_reader_never_panics() {
    // A real state document (resources, outputs, a pending create) to mutate.
    let dir = tempfile::tempdir().unwrap();
    let be = thingform::state::local::LocalBackend::new(dir.path().join("state.json"));
    let mut s = thingform::state::State::new();
    for i in 0..3 {
        let attrs = serde_json::json!({ "arn": format!("arn:aws:sns:eu-west-1:123456789012:t{i}"), "name": format!("t{i}"), "tags": { "k": "v" } });
        s.upsert(thingform::state::ResourceState::managed(
            format!("aws_sns_topic.t[\"{i}\"]").parse().unwrap(),
            attrs.as_object().unwrap().clone(),
        ));
    }
    be.write(&s).unwrap();
    let doc = std::fs::read_to_string(dir.path().join("state.json")).unwrap();
    let journal = std::fs::read_to_string(be.journal_path()).unwrap_or_default();
    fuzz("state reader (document)", mutations(), |m| {
        let _ = thingform::state::State::parse(&mutate(&doc, &m), "fuzz");
    });
    fuzz(
        "state reader (document and journal on disk)",
        (mutations(), mutations(), any::<bool>()),
        |(md, mj, both)| {
            let d = tempfile::tempdir().unwrap();
            let be = thingform::state::local::LocalBackend::new(d.path().join("state.json"));
            let text = if both { mutate(&doc, &md) } else { doc.clone() };
            std::fs::write(d.path().join("state.json"), text).unwrap();
            let extra = format!(
                "{journal}{{\"records\": [{{\"remove\": \"aws_sns_topic.t[\\\"1\\\"]\"}}]}}\n"
            );
            std::fs::write(be.journal_path(), mutate(&extra, &mj)).unwrap();
            let _ = be.read();
        },
    );
}
