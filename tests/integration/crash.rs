//! A crash at every call: the recording proxy (calls.rs) stops `thingform apply` (and
//! `destroy`) at its k-th AWS call — SIGKILL with the request held and then dropped, or a
//! first Ctrl-C (SIGINT) — and the next run must converge with no duplicate and no
//! orphan, checked through the SDK by an inventory of the whole account.
//!
//! Each test has its own moto server (reset between kill points, so the account holds
//! only this stack) and its own copy of stacks/campus. CI runs a deterministic stride of
//! kill points; `scripts/crash-sweep.sh` runs every k (THINGFORM_CRASH_STRIDE=1).

use crate::calls::{CallLog, Signal};
use crate::campus::campus_copy;
use crate::harness::{REGION, require_cargo_lambda};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A private moto server (scripts/emulator.sh with its own run directory), stopped on drop.
struct Emulator {
    run: tempfile::TempDir,
    endpoint: String,
}

impl Emulator {
    fn start() -> Emulator {
        let run = tempfile::tempdir().unwrap();
        let out = Command::new("bash")
            .arg(repo().join("scripts/emulator.sh"))
            .arg("start")
            .env("THINGFORM_RUN_DIR", run.path())
            .env_remove("MOTO_PORT")
            .output()
            .expect("run scripts/emulator.sh");
        assert!(
            out.status.success(),
            "emulator failed to start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let endpoint = String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string();
        assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint:?}");
        Emulator { run, endpoint }
    }

    /// Empties every moto backend (`POST /moto-api/reset`).
    fn reset(&self) {
        let addr = self.endpoint.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).expect("connect to moto");
        write!(
            s,
            "POST /moto-api/reset HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "moto reset: {answer}");
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(repo().join("scripts/emulator.sh"))
            .arg("stop")
            .env("THINGFORM_RUN_DIR", self.run.path())
            .status();
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `thingform ARGS... stacks/campus` in `root`, against `endpoint`. THINGFORM_CRASH_BIN
/// names another thingform binary (scripts/crash-sweep.sh runs a copy, so a long sweep
/// is not disturbed by a rebuild).
fn tf(root: &Path, endpoint: &str, args: &[&str]) -> Command {
    let bin = std::env::var("THINGFORM_CRASH_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_thingform").to_string());
    let mut c = Command::new(bin);
    c.args(args)
        .arg("stacks/campus")
        .current_dir(root)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("THINGFORM_POLL_INTERVAL_MS", "50")
        .env_remove("AWS_PROFILE");
    c
}

fn ok(root: &Path, endpoint: &str, args: &[&str]) -> Output {
    let out = tf(root, endpoint, args).output().expect("run thingform");
    assert!(
        out.status.success(),
        "thingform {args:?} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Everything in the account, as "kind name" -> how many (certificates by status, since
/// their ids differ between runs). Two runs of the same stack give equal inventories; a
/// duplicate or an orphan changes a count or adds a key.
async fn inventory(endpoint: &str) -> BTreeMap<String, usize> {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_types::region::Region::new(REGION))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    let mut inv = BTreeMap::new();
    let mut add = |kind: &str, name: &str| {
        *inv.entry(format!("{kind} {name}")).or_insert(0) += 1;
    };
    let iot = aws_sdk_iot::Client::new(&conf);
    let things = iot.list_things().max_results(250).send().await.unwrap();
    for t in things.things() {
        let name = t.thing_name().unwrap_or_default();
        add("thing", name);
        let p = iot
            .list_thing_principals()
            .thing_name(name)
            .send()
            .await
            .unwrap();
        for _ in p.principals() {
            add("thing-principal", name);
        }
        let data = aws_sdk_iotdataplane::Client::new(&conf);
        if data
            .get_thing_shadow()
            .thing_name(name)
            .send()
            .await
            .is_ok()
        {
            add("shadow", name);
        }
    }
    for t in iot.list_thing_types().send().await.unwrap().thing_types() {
        add("thing-type", t.thing_type_name().unwrap_or_default());
    }
    for g in iot.list_thing_groups().send().await.unwrap().thing_groups() {
        let name = g.group_name().unwrap_or_default();
        add("thing-group", name);
        let members = iot
            .list_things_in_thing_group()
            .thing_group_name(name)
            .send()
            .await
            .unwrap();
        for m in members.things() {
            add("group-member", &format!("{name}/{m}"));
        }
    }
    let certs = iot.list_certificates().page_size(250).send().await.unwrap();
    for c in certs.certificates() {
        add("certificate", c.status().map(|s| s.as_str()).unwrap_or("?"));
    }
    for p in iot.list_policies().send().await.unwrap().policies() {
        let name = p.policy_name().unwrap_or_default();
        add("iot-policy", name);
        let targets = iot
            .list_targets_for_policy()
            .policy_name(name)
            .send()
            .await
            .unwrap();
        for _ in targets.targets() {
            add("iot-policy-target", name);
        }
    }
    for r in iot.list_topic_rules().send().await.unwrap().rules() {
        add("topic-rule", r.rule_name().unwrap_or_default());
    }
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    for t in ddb.list_tables().send().await.unwrap().table_names() {
        add("table", t);
    }
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    for b in s3.list_buckets().send().await.unwrap().buckets() {
        add("bucket", b.name().unwrap_or_default());
    }
    let iam = aws_sdk_iam::Client::new(&conf);
    for r in iam.list_roles().send().await.unwrap().roles() {
        add("role", r.role_name());
        let inline = iam
            .list_role_policies()
            .role_name(r.role_name())
            .send()
            .await
            .unwrap();
        for p in inline.policy_names() {
            add("role-policy", &format!("{}/{p}", r.role_name()));
        }
    }
    let lambda = aws_sdk_lambda::Client::new(&conf);
    for f in lambda.list_functions().send().await.unwrap().functions() {
        let name = f.function_name().unwrap_or_default();
        add("function", name);
        if let Ok(p) = lambda.get_policy().function_name(name).send().await {
            let doc: serde_json::Value =
                serde_json::from_str(p.policy().unwrap_or("{}")).unwrap_or_default();
            for s in doc["Statement"].as_array().into_iter().flatten() {
                add("permission", s["Sid"].as_str().unwrap_or("?"));
            }
        }
    }
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    for g in logs
        .describe_log_groups()
        .send()
        .await
        .unwrap()
        .log_groups()
    {
        add("log-group", g.log_group_name().unwrap_or_default());
    }
    let sns = aws_sdk_sns::Client::new(&conf);
    for t in sns.list_topics().send().await.unwrap().topics() {
        add("topic", t.topic_arn().unwrap_or_default());
    }
    for s in sns
        .list_subscriptions()
        .send()
        .await
        .unwrap()
        .subscriptions()
    {
        add("subscription", s.endpoint().unwrap_or_default());
    }
    let cw = aws_sdk_cloudwatch::Client::new(&conf);
    for a in cw.describe_alarms().send().await.unwrap().metric_alarms() {
        add("alarm", a.alarm_name().unwrap_or_default());
    }
    inv
}

/// What differs between two inventories ("kind name: want -> got"), if anything.
fn diff(want: &BTreeMap<String, usize>, got: &BTreeMap<String, usize>) -> Option<String> {
    let keys: std::collections::BTreeSet<&String> = want.keys().chain(got.keys()).collect();
    let d: Vec<String> = keys
        .into_iter()
        .filter(|k| want.get(*k) != got.get(*k))
        .map(|k| {
            format!(
                "{k}: {} -> {}",
                want.get(k).copied().unwrap_or(0),
                got.get(k).copied().unwrap_or(0)
            )
        })
        .collect();
    (!d.is_empty()).then(|| d.join(", "))
}

/// Which kill points a sweep tries: f, f+s, f+2s, ... (f = THINGFORM_CRASH_FIRST or 1,
/// s = the stride variable or `default`) while the run still reaches call k.
fn stride(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .max(1)
}

fn describe(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// One campus copy in front of a private emulator with a trapping proxy.
struct Bench {
    emu: Emulator,
    proxy: CallLog,
    root: tempfile::TempDir,
}

impl Bench {
    fn new() -> Bench {
        require_cargo_lambda("build the campus ingest Lambda");
        let emu = Emulator::start();
        let proxy = CallLog::start_to(&emu.endpoint);
        Bench {
            emu,
            proxy,
            root: campus_copy(),
        }
    }

    /// An empty account and no state.
    fn fresh(&self) {
        self.emu.reset();
        let _ = std::fs::remove_dir_all(self.root.path().join("stacks/campus/.thingform"));
    }

    fn ok(&self, args: &[&str]) -> Output {
        ok(self.root.path(), &self.emu.endpoint, args)
    }

    /// Runs `args` through the proxy, stopped by `signal` at call `k`. Returns the output
    /// and the call the trap fired at (None: the run made fewer than k calls).
    fn trapped(&self, args: &[&str], k: usize, signal: Signal) -> (Output, Option<String>) {
        self.proxy.arm(k, signal);
        let child = tf(self.root.path(), self.proxy.endpoint(), args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn thingform");
        self.proxy.watch(child.id());
        let out = child.wait_with_output().expect("wait for thingform");
        (out, self.proxy.disarm())
    }

    /// Whether the stack has converged: None when a plan shows nothing to do.
    fn unconverged(&self) -> Option<String> {
        let out = self.ok(&["plan", "-json"]);
        let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let changed = crate::harness::changed(&plan);
        (!changed.is_empty())
            .then(|| format!("the re-plan after recovery is not empty: {changed:?}"))
    }
}

/// What a stopped run must look like: killed by SIGKILL, or (Ctrl-C) an ordinary exit
/// with no panic; in both cases nothing else printed a panic.
fn check_stopped(out: &Output, signal: Signal, context: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{context}: {}", describe(out));
    match signal {
        Signal::Kill => assert_eq!(out.status.signal(), Some(9), "{context}"),
        Signal::Interrupt => assert!(
            out.status.code().is_some(),
            "{context}: a first Ctrl-C must stop thingform cleanly, not kill it: {}",
            describe(out)
        ),
    }
}

/// Sweeps kill points across `apply` (and, when `destroy_stride` is set, across
/// `destroy`), checking recovery after each. Returns (apply points, destroy points).
async fn sweep(
    signal: Signal,
    apply_stride: usize,
    destroy_stride: Option<usize>,
) -> (usize, usize) {
    let b = Bench::new();
    // The reference: a clean apply (its call count) and the account it leaves.
    b.fresh();
    let empty = inventory(&b.emu.endpoint).await;
    b.proxy.take();
    let out = tf(
        b.root.path(),
        b.proxy.endpoint(),
        &["apply", "-auto-approve"],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "reference apply: {}", describe(&out));
    let apply_calls = b.proxy.take().len();
    let full = inventory(&b.emu.endpoint).await;
    assert!(full.len() > 40, "the campus inventory: {full:?}");
    let out = tf(
        b.root.path(),
        b.proxy.endpoint(),
        &["destroy", "-auto-approve"],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "reference destroy: {}",
        describe(&out)
    );
    let destroy_calls = b.proxy.take().len();
    assert_eq!(inventory(&b.emu.endpoint).await, empty, "reference destroy");
    eprintln!(
        "crash sweep ({signal:?}): a clean campus apply makes {apply_calls} calls, a destroy {destroy_calls}"
    );

    let first = stride("THINGFORM_CRASH_FIRST", 1);
    // Every stop point is tried; the failures are listed together at the end.
    let mut failures: Vec<String> = vec![];
    let mut applied = 0;
    let mut k = first;
    loop {
        b.fresh();
        let (out, fired) = b.trapped(&["apply", "-auto-approve"], k, signal);
        let Some(at) = fired else {
            assert!(
                out.status.success(),
                "apply untrapped at k={k}: {}",
                describe(&out)
            );
            break;
        };
        let context = format!("apply stopped by {signal:?} at call {at}");
        check_stopped(&out, signal, &context);
        applied += 1;
        // The next apply (no -lock=false: the lock must be free) converges.
        let out = tf(b.root.path(), &b.emu.endpoint, &["apply", "-auto-approve"])
            .output()
            .unwrap();
        if !out.status.success() {
            eprintln!(
                "  FAILED: {context}: the next apply failed: {}",
                describe(&out)
            );
            failures.push(format!(
                "{context}: the next apply failed: {}",
                describe(&out)
            ));
        } else if let Some(d) = b.unconverged() {
            eprintln!("  FAILED: {context}: {d}");
            failures.push(format!("{context}: {d}"));
        } else {
            let now = inventory(&b.emu.endpoint).await;
            match diff(&full, &now) {
                None => eprintln!("  ok: {context}"),
                Some(d) => {
                    eprintln!("  FAILED: {context}: {d}");
                    failures.push(format!("{context}: duplicates or orphans: {d}"));
                }
            }
        }
        k += apply_stride;
    }

    let mut destroyed = 0;
    if let Some(ds) = destroy_stride {
        let mut k = first;
        loop {
            b.fresh();
            b.ok(&["apply", "-auto-approve"]);
            let (out, fired) = b.trapped(&["destroy", "-auto-approve"], k, signal);
            let Some(at) = fired else {
                assert!(
                    out.status.success(),
                    "destroy untrapped: {}",
                    describe(&out)
                );
                break;
            };
            let context = format!("destroy stopped by {signal:?} at call {at}");
            check_stopped(&out, signal, &context);
            destroyed += 1;
            let out = tf(
                b.root.path(),
                &b.emu.endpoint,
                &["destroy", "-auto-approve"],
            )
            .output()
            .unwrap();
            if !out.status.success() {
                eprintln!(
                    "  FAILED: {context}: the next destroy failed: {}",
                    describe(&out)
                );
                failures.push(format!(
                    "{context}: the next destroy failed: {}",
                    describe(&out)
                ));
            } else {
                match diff(&empty, &inventory(&b.emu.endpoint).await) {
                    None => eprintln!("  ok: {context}"),
                    Some(d) => {
                        eprintln!("  FAILED: {context}: {d}");
                        failures.push(format!("{context}: left behind after destroy: {d}"));
                    }
                }
            }
            k += ds;
        }
    }
    eprintln!(
        "crash sweep ({signal:?}): {applied} stop points across apply, {destroyed} across destroy, {} failed",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} stop points did not recover:\n{}",
        failures.len(),
        applied + destroyed,
        failures.join("\n")
    );
    (applied, destroyed)
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_at_a_stride_of_calls_across_apply_and_destroy_converges() {
    let (a, d) = sweep(
        Signal::Kill,
        stride("THINGFORM_CRASH_STRIDE", 44),
        Some(stride("THINGFORM_CRASH_DESTROY_STRIDE", 97)),
    )
    .await;
    assert!(a > 1 && d > 1, "the sweep reached too few calls: {a} {d}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_ctrl_c_at_a_stride_of_calls_stops_cleanly_and_converges() {
    let (a, _) = sweep(
        Signal::Interrupt,
        stride("THINGFORM_INTERRUPT_STRIDE", 88),
        std::env::var("THINGFORM_INTERRUPT_DESTROY_STRIDE")
            .ok()
            .map(|_| stride("THINGFORM_INTERRUPT_DESTROY_STRIDE", 61)),
    )
    .await;
    assert!(a > 1, "the sweep reached too few calls: {a}");
}
