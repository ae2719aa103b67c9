//! Fleets: a count-based fleet of devices applies, plans and destroys with state that
//! grows linearly (dependencies by resource, a journal appended per operation and folded
//! in at the end), and an apply killed at any moment leaves a document and journal that
//! the next run replays to exactly what exists in the emulator.

use crate::harness::*;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

fn fleet(p: &str, n: usize) -> String {
    format!(
        r#"
variable "n" {{
  type    = number
  default = {n}
}}
resource "aws_iot_policy" "device" {{
  name = "{p}-device"
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = ["iot:Connect"], Resource = ["*"] }}]
  }})
}}
resource "aws_iot_thing" "dev" {{
  count = var.n
  name  = "{p}-${{count.index}}"
  attributes = {{
    building = "b${{count.index % 3}}"
  }}
}}
resource "aws_iot_certificate" "dev" {{
  count  = var.n
  active = true
}}
resource "aws_iot_thing_principal_attachment" "dev" {{
  count     = var.n
  thing     = aws_iot_thing.dev[count.index].name
  principal = aws_iot_certificate.dev[count.index].arn
}}
resource "aws_iot_policy_attachment" "dev" {{
  count  = var.n
  policy = aws_iot_policy.device.name
  target = aws_iot_certificate.dev[count.index].arn
}}
"#
    )
}

async fn things_with_prefix(p: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut token = None;
    loop {
        let page = iot()
            .await
            .list_things()
            .set_next_token(token)
            .max_results(250)
            .send()
            .await
            .unwrap();
        for t in page.things() {
            if let Some(n) = t.thing_name()
                && n.starts_with(&format!("{p}-"))
            {
                out.insert(n.to_string());
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return out;
        }
    }
}

async fn policy_targets(policy: &str) -> Option<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut marker = None;
    loop {
        let page = found(
            iot()
                .await
                .list_targets_for_policy()
                .policy_name(policy)
                .set_marker(marker)
                .page_size(250)
                .send()
                .await,
        )?;
        out.extend(page.targets().iter().cloned());
        marker = page.next_marker().map(str::to_string);
        if marker.is_none() {
            return Some(out);
        }
    }
}

fn stats(stack: &TestStack, args: &[&str]) -> serde_json::Value {
    let file = stack.path().join("stats.json");
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.push(stack.path().display().to_string());
    let out = command(&all, stack.path())
        .env("THINGFORM_STATS_FILE", &file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "thingform {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
}

#[tokio::test]
async fn a_fleet_applies_with_linear_state_and_destroys_cleanly() {
    let p = unique("fleet");
    let n = 40;
    let stack = TestStack::new(&fleet(&p, n));
    let written = stats(&stack, &["apply", "-auto-approve", "-parallelism=8"]);

    // The emulator holds the whole fleet, wired up.
    assert_eq!(things_with_prefix(&p).await.len(), n);
    let targets = policy_targets(&format!("{p}-device")).await.unwrap();
    assert_eq!(targets.len(), n, "every certificate has the policy");
    for i in [0, n - 1] {
        let principals = iot()
            .await
            .list_thing_principals()
            .thing_name(format!("{p}-{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            principals.principals().len(),
            1,
            "device {i} has its certificate"
        );
        assert!(targets.contains(&principals.principals()[0]));
    }

    // The state: dependencies by resource, never one entry per instance referenced; the
    // journal was folded into the document at the end.
    let text = std::fs::read_to_string(stack.state_path()).unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(state["version"], 2);
    let resources = state["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 4 * n + 1);
    for r in resources {
        let deps = r["dependencies"].as_array().unwrap();
        assert!(deps.len() <= 3, "{}: {deps:?}", r["address"]);
        for d in deps {
            assert!(!d.as_str().unwrap().contains('['), "{d} names an instance");
        }
    }
    assert!(!stack.state_path().with_extension("json.journal").exists());
    // Bytes written: the records once each, plus the documents at start and end; a
    // full-document rewrite per operation would be ~N times the final size.
    let bytes = written["state_bytes_written"].as_u64().unwrap();
    let documents = written["state_document_writes"].as_u64().unwrap();
    assert!(
        bytes < 4 * text.len() as u64,
        "{bytes} bytes written for a {}-byte state",
        text.len()
    );
    assert!(documents <= 3, "{documents} whole-document writes");
    assert!(written["state_journal_appends"].as_u64().unwrap() >= 2);

    // No perpetual diff.
    assert!(changed(&stack.plan_json()).is_empty());

    stack.destroy();
    assert!(things_with_prefix(&p).await.is_empty());
    assert!(
        policy_targets(&format!("{p}-device")).await.is_none(),
        "the policy is gone"
    );
}

async fn topics_with_prefix(p: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut token = None;
    loop {
        let page = sns()
            .await
            .list_topics()
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        for t in page.topics() {
            if let Some(arn) = t.topic_arn()
                && arn
                    .rsplit(':')
                    .next()
                    .unwrap_or("")
                    .starts_with(&format!("{p}-"))
            {
                out.insert(arn.to_string());
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return out;
        }
    }
}

fn topic_fleet(p: &str, n: usize, backend: &str) -> String {
    format!(
        "{backend}resource \"aws_sns_topic\" \"t\" {{\n  count = {n}\n  name  = \"{p}-${{count.index}}\"\n}}\n"
    )
}

/// Starts an apply and kills it (SIGKILL) once `ready()` says it is midway.
fn kill_midway(stack: &TestStack, ready: &dyn Fn() -> bool) {
    let args: Vec<String> = ["apply", "-auto-approve", "-parallelism=2"]
        .iter()
        .map(|s| s.to_string())
        .chain([stack.path().display().to_string()])
        .collect();
    let mut child = command(&args, stack.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the apply never got far enough to be killed midway"
        );
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the apply finished ({status}) before it could be killed midway");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL: no handler runs, nothing is flushed.
    child.wait().unwrap();
}

#[tokio::test]
async fn an_apply_killed_midway_is_replayed_from_its_journal() {
    let p = unique("tf-kill");
    let n = 60;
    let stack = TestStack::new(&topic_fleet(&p, n, ""));
    let journal = stack.state_path().with_extension("json.journal");
    let j = journal.clone();
    kill_midway(&stack, &move || {
        std::fs::read_to_string(&j)
            .map(|t| t.lines().count() > 12)
            .unwrap_or(false)
    });
    let made = topics_with_prefix(&p).await;
    assert!(!made.is_empty() && made.len() < n, "{} topics", made.len());
    assert!(journal.exists(), "the killed run left its journal");

    // The next run reads document + journal: every topic that exists is tracked (the
    // one whose create was in flight is found through its journaled intent).
    let listed = stack.ok_in(&["state", "list"]);
    let tracked = listed.lines().count();
    assert!(
        tracked + 2 >= made.len(),
        "{tracked} tracked, {} exist",
        made.len()
    );
    stack.apply();
    assert_eq!(topics_with_prefix(&p).await.len(), n, "no topic made twice");
    assert!(!journal.exists(), "folded into the document at the end");
    stack.destroy();
    assert!(topics_with_prefix(&p).await.is_empty(), "nothing leaked");
}

#[tokio::test]
async fn an_apply_killed_midway_on_the_s3_backend_is_replayed_from_its_segments() {
    let bucket = state_bucket().await;
    let backend = format!(
        "terraform {{\n  backend \"s3\" {{\n    bucket = \"{bucket}\"\n    key    = \"fleet/terraform.tfstate\"\n    region = \"eu-west-1\"\n  }}\n}}\n"
    );
    let p = unique("tf-kill-s3");
    let n = 60;
    let stack = TestStack::new(&topic_fleet(&p, n, &backend));
    let segments = |bucket: String| {
        move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                s3().await
                    .list_objects_v2()
                    .bucket(&bucket)
                    .prefix("fleet/terraform.tfstate.journal/")
                    .send()
                    .await
                    .map(|o| o.key_count().unwrap_or(0))
                    .unwrap_or(0)
            })
        }
    };
    let count = segments(bucket.clone());
    // On a plain thread: it blocks while polling, with its own runtime for the SDK.
    std::thread::scope(|sc| {
        sc.spawn(|| kill_midway(&stack, &|| count() > 12))
            .join()
            .unwrap()
    });
    let made = topics_with_prefix(&p).await;
    assert!(!made.is_empty() && made.len() < n, "{} topics", made.len());
    // The killed run could not release its lock object: the next run says so, naming the
    // lock, and the user removes it, as with Terraform.
    let out = stack.run(&["apply", "-auto-approve"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let id = err
        .lines()
        .find_map(|l| l.trim().strip_prefix("Lock ID:"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| panic!("no lock ID in: {err}"));
    stack.ok(&["force-unlock", "-force", &id]);
    let left = bucket.clone();
    assert!(
        std::thread::spawn(move || segments(left)()).join().unwrap() > 0,
        "the killed run left journal segments"
    );
    stack.apply();
    assert_eq!(topics_with_prefix(&p).await.len(), n, "no topic made twice");
    let left = bucket.clone();
    assert_eq!(
        std::thread::spawn(move || segments(left)()).join().unwrap(),
        0,
        "segments are removed once folded into the document"
    );
    stack.destroy();
    assert!(topics_with_prefix(&p).await.is_empty(), "nothing leaked");
}

#[tokio::test]
async fn destroy_target_a_does_not_touch_what_depends_on_ab() {
    let p = unique("tf-ab");
    let stack = TestStack::new(&format!(
        r#"
resource "aws_sns_topic" "a" {{
  name = "{p}-a"
}}
resource "aws_sns_topic" "ab" {{
  name = "{p}-ab"
}}
resource "aws_sns_topic_subscription" "s" {{
  topic_arn = aws_sns_topic.ab.arn
  protocol  = "email"
  endpoint  = "ops@example.com"
}}
"#
    ));
    stack.apply();
    let out = stack.ok(&["plan", "-destroy", "-json", "-target", "aws_sns_topic.a"]);
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        changed(&plan).keys().cloned().collect::<Vec<_>>(),
        vec!["aws_sns_topic.a".to_string()]
    );
    stack.destroy();
}
