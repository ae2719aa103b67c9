//! Engine behaviour across resource types: saved plans, failures, ordering, crash
//! recovery, count/for_each, targets, import. (Locking, errors with locations and the
//! graph need no AWS: tests/offline.)

use crate::harness::*;
use serde_json::json;

async fn topic_arn(name: &str) -> Option<String> {
    let out = sns().await.list_topics().send().await.unwrap();
    out.topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .find(|a| a.ends_with(&format!(":{name}")))
        .map(str::to_string)
}

fn topics_stack(prefix: &str, names: &[&str]) -> String {
    let set = names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"
variable "nodes" {{
  type    = set(string)
  default = [{set}]
}}
resource "aws_sns_topic" "node" {{
  for_each     = var.nodes
  name         = "{prefix}-${{each.key}}"
  display_name = upper(each.value)
}}
output "arns" {{
  value = {{ for k, t in aws_sns_topic.node : k => t.arn }}
}}
"#
    )
}

#[tokio::test]
async fn for_each_instances_are_created_and_removed_by_key() {
    let p = unique("tf-fe");
    let stack = TestStack::new(&topics_stack(&p, &["node-01", "node-02", "node-03"]));
    stack.apply();
    for n in ["node-01", "node-02", "node-03"] {
        assert!(
            topic_arn(&format!("{p}-{n}")).await.is_some(),
            "{n} created"
        );
    }
    let outputs: serde_json::Value =
        serde_json::from_str(&stack.ok_in(&["output", "-json"])).unwrap();
    assert_eq!(outputs["arns"]["value"].as_object().unwrap().len(), 3);
    let listed = stack.ok_in(&["state", "list"]);
    assert!(
        listed.contains("aws_sns_topic.node[\"node-02\"]"),
        "{listed}"
    );

    // Dropping one key deletes exactly that instance.
    stack.write("main.tf", &topics_stack(&p, &["node-01", "node-03"]));
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan),
        [(
            "aws_sns_topic.node[\"node-02\"]".to_string(),
            vec!["delete".to_string()]
        )]
        .into()
    );
    stack.apply();
    assert!(topic_arn(&format!("{p}-node-02")).await.is_none());
    assert!(topic_arn(&format!("{p}-node-01")).await.is_some());
    stack.destroy();
    assert!(topic_arn(&format!("{p}-node-01")).await.is_none());
}

#[tokio::test]
async fn saved_plan_is_applied_exactly_and_refused_when_stale() {
    let name = unique("tf-saved");
    let stack = TestStack::new(&format!(
        "resource \"aws_sns_topic\" \"t\" {{\n  name = \"{name}\"\n}}\n"
    ));
    let plan_file = stack.path().join("tf.plan");
    let pf = plan_file.display().to_string();
    stack.ok(&["plan", "-out", &pf]);
    assert!(topic_arn(&name).await.is_none(), "plan changes nothing");
    let out = thingform(&["apply".into(), pf.clone()], stack.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(topic_arn(&name).await.is_some(), "saved plan applied");

    // The state moved on (serial changed): the same plan file is refused.
    let out = thingform(&["apply".into(), pf.clone()], stack.path());
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("saved plan is stale"), "{err}");

    // A plan made, then the configuration edited: refused as well.
    stack.ok(&["plan", "-out", &pf]);
    stack.write(
        "main.tf",
        &format!(
            "resource \"aws_sns_topic\" \"t\" {{\n  name = \"{name}\"\n  display_name = \"x\"\n}}\n"
        ),
    );
    let out = thingform(&["apply".into(), pf], stack.path());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("configuration in"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stack.destroy();
}

#[tokio::test]
async fn a_failed_resource_skips_its_dependents_and_the_rest_continue() {
    let ok = unique("tf-ok");
    // SNS refuses a topic name with spaces; the subscription that needs the topic is
    // skipped, the unrelated topic is still created.
    let stack = TestStack::new(&format!(
        r#"
resource "aws_sns_topic" "bad" {{
  name = "not a valid topic name!"
}}
resource "aws_sns_topic_subscription" "s" {{
  topic_arn = aws_sns_topic.bad.arn
  protocol  = "email"
  endpoint  = "x@example.com"
}}
resource "aws_sns_topic" "ok" {{
  name = "{ok}"
}}
"#
    ));
    let out = stack.run(&["apply", "-auto-approve"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("failed:      aws_sns_topic.bad"), "{err}");
    assert!(
        err.contains("skipped:     aws_sns_topic_subscription.s"),
        "{err}"
    );
    assert!(
        topic_arn(&ok).await.is_some(),
        "independent resource created"
    );
    // The state records exactly what exists (the failed create's journaled intent stays
    // until the next plan looks for the object: its answer might have been lost).
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(stack.state_path()).unwrap()).unwrap();
    let recorded: Vec<&str> = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["address"].as_str())
        .collect();
    assert_eq!(
        recorded,
        ["aws_sns_topic.ok"],
        "state records exactly what exists"
    );
    stack.write("main.tf", "");
    stack.destroy();
    assert!(topic_arn(&ok).await.is_none());
}

#[tokio::test]
async fn prevent_destroy_refuses_the_plan() {
    let name = unique("tf-keep");
    let body = |n: &str| {
        format!(
            "resource \"aws_sns_topic\" \"t\" {{\n  name = \"{n}\"\n  lifecycle {{\n    prevent_destroy = true\n  }}\n}}\n"
        )
    };
    let stack = TestStack::new(&body(&name));
    stack.apply();
    let out = stack.run(&["destroy", "-auto-approve"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("prevent_destroy"), "{err}");
    assert!(err.contains("main.tf:1:1"), "points at the resource: {err}");
    // A force-new change is refused the same way.
    stack.write("main.tf", &body(&unique("tf-keep")));
    assert!(!stack.run(&["plan"]).status.success());
    assert!(topic_arn(&name).await.is_some(), "nothing was destroyed");
    stack.write(
        "main.tf",
        &format!("resource \"aws_sns_topic\" \"t\" {{\n  name = \"{name}\"\n}}\n"),
    );
    stack.destroy();
}

#[tokio::test]
async fn target_limits_the_plan_to_a_resource_and_its_dependencies() {
    let p = unique("tf-tgt");
    let stack = TestStack::new(&format!(
        r#"
resource "aws_sns_topic" "a" {{
  name = "{p}-a"
}}
resource "aws_sns_topic_subscription" "s" {{
  topic_arn = aws_sns_topic.a.arn
  protocol  = "email"
  endpoint  = "a@example.com"
}}
resource "aws_sns_topic" "other" {{
  name = "{p}-other"
}}
"#
    ));
    let out = stack.ok(&["plan", "-json", "-target", "aws_sns_topic_subscription.s"]);
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    let addrs: Vec<String> = changed(&plan).into_keys().collect();
    assert_eq!(
        addrs,
        vec!["aws_sns_topic.a", "aws_sns_topic_subscription.s"]
    );
    stack.ok(&[
        "apply",
        "-auto-approve",
        "-target=aws_sns_topic_subscription.s",
    ]);
    assert!(topic_arn(&format!("{p}-a")).await.is_some());
    assert!(
        topic_arn(&format!("{p}-other")).await.is_none(),
        "untargeted resource untouched"
    );
    stack.destroy();
}

#[tokio::test]
async fn an_interrupted_create_is_found_again_from_the_journal() {
    // Simulates a crash between the AWS call and the state write: the object exists in
    // AWS, and the state holds only the journaled intent.
    let name = unique("tf-crash");
    let stack = TestStack::new(&format!(
        "resource \"aws_sns_topic\" \"t\" {{\n  name = \"{name}\"\n}}\n"
    ));
    sns().await.create_topic().name(&name).send().await.unwrap();
    std::fs::create_dir_all(stack.state_path().parent().unwrap()).unwrap();
    let state = json!({
        "version": 1, "thingform_version": "0.1.0", "serial": 3, "lineage": "crash-test",
        "resources": [], "outputs": {},
        "pending": [{"address": "aws_sns_topic.t", "type": "aws_sns_topic", "planned": {"name": name}, "started_at": "2026-01-01T00:00:00Z"}]
    });
    std::fs::write(stack.state_path(), state.to_string()).unwrap();
    let plan = stack.plan_json();
    assert_eq!(
        actions(&plan)["aws_sns_topic.t"],
        vec!["no-op"],
        "the object is tracked again, not created twice"
    );
    stack.apply();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(stack.state_path()).unwrap()).unwrap();
    assert!(saved.get("pending").is_none(), "journal entry resolved");
    assert_eq!(saved["resources"][0]["address"], "aws_sns_topic.t");
    stack.destroy();
    assert!(topic_arn(&name).await.is_none());
}

#[tokio::test]
async fn detailed_exitcode_is_2_with_changes_and_0_without() {
    let name = unique("tf-exit");
    let stack = TestStack::new(&format!(
        "resource \"aws_sns_topic\" \"t\" {{\n  name = \"{name}\"\n}}\nresource \"aws_sns_topic_subscription\" \"s\" {{\n  topic_arn = aws_sns_topic.t.arn\n  protocol = \"email\"\n  endpoint = \"x@example.com\"\n}}\n"
    ));
    assert_eq!(
        stack.run(&["plan", "-detailed-exitcode"]).status.code(),
        Some(2)
    );
    stack.apply();
    assert_eq!(
        stack.run(&["plan", "-detailed-exitcode"]).status.code(),
        Some(0)
    );
    stack.destroy();
}

#[tokio::test]
async fn import_adopts_an_existing_object_with_a_no_op_plan() {
    let name = unique("tf-import");
    s3().await
        .create_bucket()
        .bucket(&name)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let stack = TestStack::new(&format!(
        "resource \"aws_s3_bucket\" \"b\" {{\n  bucket = \"{name}\"\n}}\n"
    ));
    let out = thingform(
        &[
            "import".into(),
            "aws_s3_bucket.b".into(),
            name.clone(),
            stack.path().display().to_string(),
        ],
        stack.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan = stack.plan_json();
    assert!(
        changed(&plan).is_empty(),
        "imported bucket matches config: {:?}",
        changed(&plan)
    );
    stack.destroy();
    assert!(
        s3().await
            .head_bucket()
            .bucket(&name)
            .send()
            .await
            .not_found()
    );
}

#[tokio::test]
async fn ignore_changes_keeps_drift_out_of_the_plan() {
    let name = unique("tf-ign");
    let stack = TestStack::new(&format!(
        "resource \"aws_sns_topic\" \"t\" {{\n  name = \"{name}\"\n  display_name = \"a\"\n  lifecycle {{\n    ignore_changes = [display_name]\n  }}\n}}\n"
    ));
    stack.apply();
    let arn = topic_arn(&name).await.unwrap();
    sns()
        .await
        .set_topic_attributes()
        .topic_arn(&arn)
        .attribute_name("DisplayName")
        .attribute_value("set by ops")
        .send()
        .await
        .unwrap();
    stack.write(
        "main.tf",
        &format!("resource \"aws_sns_topic\" \"t\" {{\n  name = \"{name}\"\n  display_name = \"b\"\n  lifecycle {{\n    ignore_changes = [display_name]\n  }}\n}}\n"),
    );
    let plan = stack.plan_json();
    assert!(
        changed(&plan).is_empty(),
        "ignored attribute neither drifts nor updates: {:?}",
        changed(&plan)
    );
    stack.destroy();
}

#[tokio::test]
async fn create_before_destroy_creates_the_replacement_first() {
    let (a, b) = (unique("tf-cbd"), unique("tf-cbd"));
    let body = |n: &str| {
        format!(
            "resource \"aws_sns_topic\" \"t\" {{\n  name = \"{n}\"\n  lifecycle {{\n    create_before_destroy = true\n  }}\n}}\n"
        )
    };
    let stack = TestStack::new(&body(&a));
    stack.apply();
    stack.write("main.tf", &body(&b));
    let plan = stack.plan_json();
    assert_eq!(changed(&plan)["aws_sns_topic.t"], vec!["create", "delete"]);
    let out = stack.apply();
    let created = out.find(&"Creation complete".to_string()).expect("created");
    let destroyed = out.find("Destruction complete").expect("destroyed");
    assert!(
        created < destroyed,
        "new object created before the old one is destroyed:\n{out}"
    );
    assert!(topic_arn(&a).await.is_none());
    assert!(topic_arn(&b).await.is_some());
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(stack.state_path()).unwrap()).unwrap();
    assert!(state.get("deposed").is_none(), "no deposed object left");
    stack.destroy();
}

#[tokio::test]
async fn import_works_for_iot_and_iam_objects() {
    let p = unique("tf-imp");
    iot()
        .await
        .create_thing()
        .thing_name(&p)
        .send()
        .await
        .unwrap();
    iam()
        .await
        .create_role()
        .role_name(&p)
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"iot.amazonaws.com"}}]}"#)
        .send()
        .await
        .unwrap();
    let stack = TestStack::new(&format!(
        "resource \"aws_iot_thing\" \"t\" {{\n  name = \"{p}\"\n}}\nresource \"aws_iam_role\" \"r\" {{\n  name = \"{p}\"\n  assume_role_policy = {}\n}}\n",
        assume_role("iot.amazonaws.com")
    ));
    for (addr, id) in [
        ("aws_iot_thing.t", p.as_str()),
        ("aws_iam_role.r", p.as_str()),
    ] {
        let out = thingform(
            &[
                "import".into(),
                addr.into(),
                id.into(),
                stack.path().display().to_string(),
            ],
            stack.path(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let plan = stack.plan_json();
    assert!(
        changed(&plan).is_empty(),
        "imported objects match the config: {:?}",
        changed(&plan)
    );
    stack.destroy();
    assert!(
        iot()
            .await
            .describe_thing()
            .thing_name(&p)
            .send()
            .await
            .not_found()
    );
}

/// Terraform's documented idiom of chaining for_each between resources: the keys of a
/// resource's instance map are known at plan time even when its attributes are not.
#[tokio::test]
async fn for_each_chains_over_a_resource_with_for_each() {
    let p = unique("tf-fc");
    let src = format!(
        r#"{}
resource "aws_sns_topic" "mirror" {{
  for_each = aws_sns_topic.node
  name     = "{p}-mirror-${{each.key}}"
  tags = {{
    source = each.value.arn
  }}
}}
"#,
        topics_stack(&p, &["n1", "n2"])
    );
    let stack = TestStack::new(&src);
    let plan = stack.plan_json();
    assert_eq!(
        changed(&plan).get("aws_sns_topic.mirror[\"n2\"]"),
        Some(&vec!["create".to_string()]),
        "{plan}"
    );
    stack.apply();
    let client = sns().await;
    for n in ["n1", "n2"] {
        let source = topic_arn(&format!("{p}-{n}")).await.expect("node topic");
        let mirror = topic_arn(&format!("{p}-mirror-{n}"))
            .await
            .expect("mirror topic");
        let tags = client
            .list_tags_for_resource()
            .resource_arn(&mirror)
            .send()
            .await
            .unwrap();
        let tag = tags.tags().iter().find(|t| t.key() == "source");
        assert_eq!(tag.map(|t| t.value()), Some(source.as_str()), "{n}");
    }
    assert!(changed(&stack.plan_json()).is_empty(), "no-op after apply");
    stack.destroy();
    assert!(topic_arn(&format!("{p}-mirror-n1")).await.is_none());
}

/// `moved {}`: renaming a resource (and turning count into for_each) re-addresses what
/// the state tracks; the objects in AWS are kept, never recreated.
#[tokio::test]
async fn moved_blocks_rename_without_recreating() {
    let p = unique("tf-mv");
    let before = format!(
        r#"
resource "aws_sns_topic" "old" {{
  count = 2
  name  = "{p}-${{count.index}}"
}}
"#
    );
    let stack = TestStack::new(&before);
    stack.apply();
    let arn0 = topic_arn(&format!("{p}-0")).await.expect("created");
    // Renamed, and count -> for_each with the same names.
    let after = format!(
        r#"
resource "aws_sns_topic" "fleet" {{
  for_each = toset(["0", "1"])
  name     = "{p}-${{each.key}}"
}}
moved {{
  from = aws_sns_topic.old
  to   = aws_sns_topic.fleet
}}
moved {{
  from = aws_sns_topic.fleet[0]
  to   = aws_sns_topic.fleet["0"]
}}
moved {{
  from = aws_sns_topic.fleet[1]
  to   = aws_sns_topic.fleet["1"]
}}
"#
    );
    stack.write("main.tf", &after);
    let plan = stack.plan_json();
    let acts = actions(&plan);
    assert!(
        acts.values().all(|a| a == &vec!["no-op".to_string()]),
        "only moves, nothing created or destroyed: {acts:?}"
    );
    let prev: Vec<_> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["previous_address"].as_str())
        .collect();
    assert_eq!(prev, vec!["aws_sns_topic.old[0]", "aws_sns_topic.old[1]"]);
    let out = stack.apply();
    assert!(
        out.contains("aws_sns_topic.old[0] has moved to aws_sns_topic.fleet[\"0\"]"),
        "{out}"
    );
    assert_eq!(topic_arn(&format!("{p}-0")).await, Some(arn0), "same topic");
    let listed = stack.ok_in(&["state", "list"]);
    assert!(
        listed.contains("aws_sns_topic.fleet[\"1\"]") && !listed.contains("old"),
        "{listed}"
    );
    // The move is recorded: without the blocks, the next plan is still a no-op.
    stack.write("main.tf", &after[..after.find("moved").unwrap()]);
    assert!(changed(&stack.plan_json()).is_empty());
    stack.destroy();
    assert!(topic_arn(&format!("{p}-1")).await.is_none());
}
