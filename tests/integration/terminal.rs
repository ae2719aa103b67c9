//! Terminal output: on a terminal (a pty from util-linux `script`) an apply is coloured,
//! counts "[k/N Ns]" and ends with its slowest operations; `NO_COLOR` / `-no-color`
//! drop the colours only; piped, the lines stay as Terraform prints them. The topics are
//! checked through the SDK.

use crate::harness::*;
use std::process::Command;

fn stack(names: &[String]) -> TestStack {
    let mut tf = String::new();
    for (i, n) in names.iter().enumerate() {
        tf.push_str(&format!(
            "resource \"aws_sns_topic\" \"t{i}\" {{\n  name = \"{n}\"\n}}\n"
        ));
    }
    TestStack::new(&tf)
}

/// Runs thingform ARGS in the stack under a pseudo-terminal; returns what it printed.
fn on_a_terminal(s: &TestStack, args: &[&str], env: &[(&str, &str)]) -> String {
    let quote = |a: &str| format!("'{}'", a.replace('\'', "'\\''"));
    let mut line = vec![quote(env!("CARGO_BIN_EXE_thingform"))];
    line.extend(args.iter().map(|a| quote(a)));
    line.push(quote(&s.path().display().to_string()));
    let base = command(&[], s.path());
    let mut c = Command::new("script");
    c.args(["-qec", &line.join(" "), "/dev/null"])
        .current_dir(s.path());
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c
        .output()
        .expect("util-linux `script` runs the command on a pseudo-terminal");
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    assert!(
        out.status.success(),
        "thingform {args:?} on a terminal failed:\n{text}"
    );
    text
}

async fn topic_exists(name: &str) -> bool {
    let out = sns().await.list_topics().send().await.unwrap();
    out.topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .any(|a| a.ends_with(&format!(":{name}")))
}

#[tokio::test]
async fn on_a_terminal_apply_is_coloured_counted_and_summarised() {
    let names: Vec<String> = (0..3).map(|_| unique("tty")).collect();
    let s = stack(&names);
    let out = on_a_terminal(&s, &["apply", "-auto-approve"], &[]);
    for n in &names {
        assert!(topic_exists(n).await, "{n} was created");
    }
    assert!(
        out.contains("\x1b[32m+\x1b[0m resource"),
        "plan symbols coloured:\n{out}"
    );
    for k in 1..=3 {
        assert!(out.contains(&format!("[{k}/3 ")), "counter {k}/3:\n{out}");
    }
    assert!(
        out.contains("\x1b[32mCreation complete\x1b[0m after"),
        "{out}"
    );
    assert!(
        out.contains("Slowest operations") && out.contains("(of 3 in "),
        "{out}"
    );
    assert!(out.contains("aws_sns_topic.t0 (create)"), "{out}");

    // NO_COLOR: the same progress, no escape codes.
    s.write(
        "more.tf",
        &format!(
            "resource \"aws_sns_topic\" \"extra\" {{\n  name = \"{}\"\n}}\n",
            unique("tty")
        ),
    );
    let out = on_a_terminal(&s, &["apply", "-auto-approve"], &[("NO_COLOR", "1")]);
    assert!(!out.contains('\x1b'), "NO_COLOR: no escapes:\n{out:?}");
    assert!(
        out.contains("[1/1 ") && out.contains("Slowest operations"),
        "{out}"
    );

    // -no-color, and plan -compact.
    s.write("more.tf", "");
    let out = on_a_terminal(&s, &["plan", "-compact", "-no-color"], &[]);
    assert!(!out.contains('\x1b'), "-no-color: no escapes:\n{out:?}");
    assert!(
        out.contains("  - aws_sns_topic.extra  (no longer in the configuration)\n\nPlan: 0 to add, 0 to change, 1 to destroy."),
        "{out}"
    );

    // Piped (CI logs): Terraform's plain lines, no counter, no summary, no colour.
    let out = s.destroy();
    assert!(
        !out.contains('\x1b') && !out.contains("[1/") && !out.contains("Slowest"),
        "{out}"
    );
    assert!(
        out.contains("aws_sns_topic.t0: Destruction complete after"),
        "{out}"
    );
    for n in &names {
        assert!(!topic_exists(n).await, "{n} was destroyed");
    }
}
