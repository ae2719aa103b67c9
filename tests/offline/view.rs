//! `show` (human, -json, -html), `graph -format svg`, completions and -chdir, with no
//! AWS: plans are made with -refresh=false from a state written here. The HTML view is
//! loaded in headless Chromium, which the tests drive with real clicks and typing; its
//! screenshot is kept under `<target>/artefacts/`.

use crate::browser;
use crate::harness::*;
use serde_json::{Value, json};

const SECRET: &str = "TOPSECRET-private-key";

/// A stack whose plan against `state()` has every action: +1 create (topic), ~2 update
/// (nodes 0 and 1), -/+1 replace (thing type), -1 delete (node 2), 1 no-op (certificate).
fn mixed() -> TestStack {
    let s = TestStack::new(
        r#"provider "aws" {
  region = "eu-west-1"
}
resource "aws_iot_thing_type" "t" {
  name = "sensor-v2"
}
resource "aws_iot_thing" "node" {
  count           = 2
  name            = "node-${count.index}"
  thing_type_name = aws_iot_thing_type.t.name
  attributes      = { floor = count.index == 1 ? "2" : "1" }
}
resource "aws_iot_certificate" "c" {
  active = true
}
resource "aws_sns_topic" "alerts" {
  name = "alerts"
}
"#,
    );
    std::fs::create_dir_all(s.path().join(".thingform")).unwrap();
    std::fs::write(s.state_path(), state().to_string()).unwrap();
    s
}

fn state() -> Value {
    let thing = |i: u32| {
        json!({"address": format!("aws_iot_thing.node[{i}]"), "mode": "managed", "type": "aws_iot_thing",
            "name": "node", "index_key": i, "dependencies": ["aws_iot_thing_type.t"],
            "attributes": {"arn": format!("arn:aws:iot:eu-west-1:123456789012:thing/node-{i}"),
                "attributes": {"floor": "1"}, "default_client_id": format!("node-{i}"),
                "id": format!("node-{i}"), "name": format!("node-{i}"), "thing_type_name": "sensor", "version": 1}})
    };
    json!({"version": 2, "thingform_version": "0.1.0", "serial": 3,
        "lineage": "11111111-2222-3333-4444-555555555555",
        "resources": [
            {"address": "aws_iot_thing_type.t", "mode": "managed", "type": "aws_iot_thing_type", "name": "t",
             "attributes": {"arn": "arn:aws:iot:eu-west-1:123456789012:thingtype/sensor", "id": "sensor", "name": "sensor"}},
            thing(0), thing(1), thing(2),
            {"address": "aws_iot_certificate.c", "mode": "managed", "type": "aws_iot_certificate", "name": "c",
             "attributes": {"active": true, "arn": "arn:aws:iot:eu-west-1:123456789012:cert/abc", "id": "abc",
                "certificate_pem": "PEM", "private_key": SECRET, "public_key": "PUBLIC-also-sensitive"}}],
        "outputs": {"cert_key": {"value": SECRET, "sensitive": true}, "region": {"value": "eu-west-1"}}})
}

fn no_secret(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET) && !text.contains("PUBLIC-also-sensitive"),
        "{what} shows a sensitive value:\n{text}"
    );
}

#[test]
fn show_prints_the_state_and_a_saved_plan_and_never_a_sensitive_value() {
    let s = mixed();
    let human = s.ok(&["show", "-dir"]);
    assert!(
        human.contains("# aws_iot_thing.node[2]:\nresource \"aws_iot_thing\" \"node\" {"),
        "{human}"
    );
    assert!(
        human.contains("private_key     = (sensitive value)"),
        "{human}"
    );
    assert!(
        human.contains("cert_key = (sensitive value)\nregion = \"eu-west-1\""),
        "{human}"
    );
    no_secret("show", &human);

    let j: Value = serde_json::from_str(&s.ok(&["show", "-json", "-dir"])).unwrap();
    let res = j["values"]["root_module"]["resources"].as_array().unwrap();
    assert_eq!(res.len(), 5);
    let cert = res
        .iter()
        .find(|r| r["address"] == "aws_iot_certificate.c")
        .unwrap();
    assert_eq!(cert["values"]["private_key"], Value::Null);
    assert_eq!(cert["sensitive_values"]["private_key"], json!(true));
    assert_eq!(
        j["values"]["outputs"]["cert_key"],
        json!({"sensitive": true, "value": null})
    );
    no_secret("show -json", &j.to_string());

    s.ok(&["plan", "-refresh=false", "-out", "p.tfplan"]);
    let plan = s.path().join("p.tfplan").display().to_string();
    let out = s.run_args(&["show".into(), plan.clone()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Plan: 2 to add, 2 to change, 2 to destroy."),
        "{text}"
    );
    assert!(
        text.contains("# aws_iot_thing_type.t must be replaced"),
        "{text}"
    );
    let out = s.run_args(&["show".into(), "-json".into(), plan]);
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["resource_changes"].as_array().unwrap().len(), 6);
    no_secret("show -json PLAN", &j.to_string());

    // Drift recorded in a plan colours a no-op instance as drift in the HTML view.
    let mut saved: Value =
        serde_json::from_str(&std::fs::read_to_string(s.path().join("p.tfplan")).unwrap()).unwrap();
    saved["drift"] =
        json!([{"address": "aws_iot_certificate.c", "attributes": ["active"], "deleted": false}]);
    std::fs::write(s.path().join("drift.tfplan"), saved.to_string()).unwrap();
    let out = s.run_args(&[
        "show".into(),
        "-html".into(),
        s.path().join("drift.tfplan").display().to_string(),
    ]);
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(
        html.contains("<tr id=\"totals\"><td>all</td><td data-kind=\"create\">1</td><td data-kind=\"update\">2</td><td data-kind=\"replace\">1</td><td data-kind=\"delete\">1</td><td data-kind=\"drift\">1</td><td data-kind=\"no-op\">0</td>"),
        "{html}"
    );
    assert!(html.contains("changed outside thingform: active"));

    let bad = s.path().join("main.tf").display().to_string();
    let out = s.run_args(&["show".into(), bad]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is neither a thingform plan file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn graph_format_svg_draws_every_resource_and_dependency_without_graphviz() {
    let s = mixed();
    let svg = s.ok(&["graph", "-format", "svg"]);
    assert!(svg.starts_with("<svg"), "{svg}");
    assert_eq!(
        svg.matches("<g class=\"node\" data-group=").count(),
        4,
        "{svg}"
    );
    assert!(svg.contains("data-group=\"aws_iot_thing.node\""));
    assert_eq!(svg.matches("<path").count(), 1, "one dependency: {svg}");
    let dot = s.ok(&["graph"]);
    assert!(dot.starts_with("digraph"), "DOT stays the default: {dot}");
}

#[test]
fn completions_and_chdir() {
    let s = mixed();
    let bash = s.run_args(&["completions".into(), "bash".into()]);
    let bash = String::from_utf8_lossy(&bash.stdout);
    assert!(
        bash.contains("_thingform()") && bash.contains("show"),
        "{bash}"
    );
    let fish = s.run_args(&["completions".into(), "fish".into()]);
    assert!(String::from_utf8_lossy(&fish.stdout).contains("complete -c thingform"));
    // -chdir: the command runs in DIR, as if started there.
    let other = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_thingform"))
        .arg(format!("-chdir={}", s.path().display()))
        .args(["show", "-json"])
        .current_dir(other.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["serial"], json!(3));
    let out = s.run_args(&["-chdir=no/such/dir".into(), "validate".into()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("-chdir=no/such/dir"),
        "{}",
        stderr(&out)
    );
}

fn count(b: &mut browser::Browser, selector: &str) -> u64 {
    let sel = serde_json::to_string(selector).unwrap();
    b.eval(&format!("document.querySelectorAll({sel}).length"))
        .as_u64()
        .unwrap()
}

fn text(b: &mut browser::Browser, selector: &str) -> String {
    let sel = serde_json::to_string(selector).unwrap();
    b.eval(&format!("document.querySelector({sel}).textContent"))
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn the_html_view_of_a_plan_in_a_browser() {
    let s = mixed();
    s.ok(&["plan", "-refresh=false", "-out", "p.tfplan"]);
    let plan = s.path().join("p.tfplan").display().to_string();
    let out = s.run_args(&["show".into(), "-html".into(), plan]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = String::from_utf8(out.stdout).unwrap();
    no_secret("show -html PLAN", &html);
    let page = s.path().join("plan.html");
    std::fs::write(&page, &html).unwrap();
    let Some(mut b) = browser::launch() else {
        return;
    };
    b.open(&page);

    // The summary and the graph, as the browser built them.
    let totals: Vec<String> = ["create", "update", "replace", "delete", "drift", "no-op"]
        .iter()
        .map(|k| text(&mut b, &format!("#totals td[data-kind=\"{k}\"]")))
        .collect();
    assert_eq!(totals, ["1", "2", "1", "1", "0", "1"]);
    assert_eq!(count(&mut b, "#graph g.node"), 4);
    assert_eq!(
        count(&mut b, "#graph g.node.k-delete"),
        1,
        "the nodes resource has a delete"
    );
    assert_eq!(count(&mut b, "#list .inst"), 6);

    // A click on an instance shows its diff.
    b.click(".inst[data-addr=\"aws_iot_thing.node[1]\"]");
    b.wait_for("!document.getElementById('detail').hidden");
    let rows = b.eval("[...document.querySelectorAll('#detail tr.chg')].map(r => [...r.cells].map(c => c.textContent))");
    assert_eq!(
        rows,
        json!([
            ["attributes", "{\"floor\":\"1\"}", "→", "{\"floor\":\"2\"}"],
            ["thing_type_name", "\"sensor\"", "→", "\"sensor-v2\""]
        ]),
        "{rows}"
    );
    b.screenshot(&browser::artefacts().join("plan-view.png"));

    // The certificate's sensitive attributes are hidden in its detail too.
    b.click(".inst[data-addr=\"aws_iot_certificate.c\"]");
    b.wait_for(
        "document.querySelector('#detail h3').textContent.includes('aws_iot_certificate.c')",
    );
    let detail = text(&mut b, "#detail");
    assert!(detail.contains("private_key(sensitive value)"), "{detail}");

    // Filters: hide the no-ops; search; a click on a graph node lists its instances.
    b.click("#filters input[data-kind=\"no-op\"]");
    b.wait_for("document.querySelectorAll('#list .inst').length === 5");
    b.type_into("#search", "node[1");
    b.wait_for("document.querySelectorAll('#list .inst').length === 1");
    b.eval("(() => { const s = document.getElementById('search'); s.value = ''; s.dispatchEvent(new Event('input')); })()");
    b.wait_for("document.querySelectorAll('#list .inst').length === 5");
    b.click("#graph g.node[data-group=\"aws_iot_thing.node\"] rect");
    b.wait_for("document.querySelectorAll('#list .inst').length === 3");
    assert_eq!(text(&mut b, "#shown"), "(3 of 6)");
}

#[test]
fn the_html_view_of_the_state_in_a_browser() {
    let s = mixed();
    let html = s.ok(&["show", "-html", "-dir"]);
    no_secret("show -html", &html);
    let page = s.path().join("state.html");
    std::fs::write(&page, &html).unwrap();
    let Some(mut b) = browser::launch() else {
        return;
    };
    b.open(&page);
    assert_eq!(text(&mut b, "#totals td[data-kind=\"no-op\"]"), "5");
    assert_eq!(count(&mut b, "#outputs tr"), 2);
    b.click(".inst[data-addr=\"aws_iot_thing.node[2]\"]");
    b.wait_for("!document.getElementById('detail').hidden");
    assert!(text(&mut b, "#detail").contains("default_client_id\"node-2\""));
    b.screenshot(&browser::artefacts().join("state-view.png"));
}

#[test]
fn the_html_view_stays_light_at_5000_instances() {
    let s = TestStack::new(
        "resource \"aws_iot_thing\" \"node\" {\n  count = 5000\n  name = \"node-${count.index}\"\n  attributes = { floor = \"1\" }\n}\nresource \"aws_sns_topic\" \"t\" {\n  name = \"t\"\n}\n",
    );
    s.ok(&["plan", "-out", "p.tfplan"]);
    let plan = s.path().join("p.tfplan").display().to_string();
    let out = s.run_args(&["show".into(), "-html".into(), plan]);
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(
        html.len() < 4 * 1024 * 1024,
        "page weight {} bytes",
        html.len()
    );
    let page = s.path().join("big.html");
    std::fs::write(&page, &html).unwrap();
    let Some(mut b) = browser::launch() else {
        return;
    };
    b.open(&page);
    assert_eq!(text(&mut b, "#totals td[data-kind=\"create\"]"), "5001");
    // Rows are made only for open groups, a page at a time.
    assert!(
        count(&mut b, "#list .inst") <= 201,
        "{}",
        count(&mut b, "#list .inst")
    );
    b.click("details.res[data-group=\"aws_iot_thing.node\"] > summary");
    b.wait_for("document.querySelectorAll('#list .inst').length === 201");
    b.type_into("#search", "node[4999]");
    b.wait_for("document.querySelectorAll('#list .inst').length === 1");
    b.click(".inst[data-addr=\"aws_iot_thing.node[4999]\"]");
    b.wait_for("!document.getElementById('detail').hidden");
    assert!(text(&mut b, "#detail").contains("\"node-4999\""));
}

#[test]
fn plan_compact_prints_one_line_per_changed_instance_and_the_counts() {
    let s = mixed();
    let out = s.ok(&["plan", "-refresh=false", "-compact"]);
    assert!(
        out.starts_with(
            "  ~ aws_iot_thing.node[0]  (thing_type_name)\n  ~ aws_iot_thing.node[1]  (attributes, thing_type_name)\n  - aws_iot_thing.node[2]  (no longer in the configuration)\n-/+ aws_iot_thing_type.t  (name forces replacement)\n  + aws_sns_topic.alerts\n\nPlan: 2 to add, 2 to change, 2 to destroy. 2 output(s) change.\n"
        ),
        "{out}"
    );
    assert!(!out.contains('\x1b'), "piped output is never coloured");
    assert!(
        !out.contains("aws_iot_certificate.c"),
        "no-ops are not listed: {out}"
    );
}
