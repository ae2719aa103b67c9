//! Modules from local paths: nesting, count/for_each on module blocks, outputs,
//! for_each over a module, depends_on a module, module addresses in plan / apply /
//! state / -target / import / state mv / graph, moved {} into, out of and between
//! modules, removed {}, and clear errors for what is not supported.

use crate::harness::*;

/// The ARN of the thing called `name`, or None when it does not exist.
async fn thing_arn(name: &str) -> Option<String> {
    found(iot().await.describe_thing().thing_name(name).send().await)
        .and_then(|t| t.thing_arn().map(str::to_string))
}

async fn topic_arn(name: &str) -> Option<String> {
    let out = sns().await.list_topics().send().await.unwrap();
    out.topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .find(|a| a.ends_with(&format!(":{name}")))
        .map(str::to_string)
}

fn write_module(stack: &TestStack, dir: &str, src: &str) {
    std::fs::create_dir_all(stack.path().join(dir)).unwrap();
    stack.write(&format!("{dir}/main.tf"), src);
}

const NODE_MODULE: &str = r#"
variable "name" {
  type = string
}

resource "aws_iot_thing" "this" {
  name = var.name
}

output "thing_name" {
  value = aws_iot_thing.this.name
}
"#;

const SITE_MODULE: &str = r#"
variable "name" {
  type = string
}
variable "nodes" {
  type = list(string)
}
variable "topic" {
  type = string
}

module "node" {
  source = "../node"
  count  = length(var.nodes)
  name   = "${var.name}-${var.nodes[count.index]}"
}

resource "aws_iot_thing" "gateway" {
  name = "${var.name}-gw"
  attributes = {
    topic = var.topic
  }
}

output "thing_names" {
  value = module.node[*].thing_name
}
"#;

fn fleet_root(p: &str) -> String {
    format!(
        r#"
variable "sites" {{
  type    = map(list(string))
  default = {{ b1 = ["n1", "n2"], b2 = ["n3"] }}
}}

resource "aws_sns_topic" "alerts" {{
  name = "{p}-alerts"
}}

module "site" {{
  source   = "./modules/site"
  for_each = var.sites
  name     = "{p}-${{each.key}}"
  nodes    = each.value
  topic    = aws_sns_topic.alerts.arn
}}

# for_each over a module with for_each: its keys are known at plan time.
resource "aws_iot_thing_group" "per_site" {{
  for_each   = module.site
  name       = "{p}-group-${{each.key}}"
  depends_on = [module.site]
}}

output "things" {{
  value = {{ for k, s in module.site : k => s.thing_names }}
}}
"#
    )
}

#[tokio::test]
async fn nested_modules_with_for_each_and_count() {
    let p = unique("tf-mod");
    let stack = TestStack::new(&fleet_root(&p));
    write_module(&stack, "modules/site", SITE_MODULE);
    write_module(&stack, "modules/node", NODE_MODULE);

    let plan = stack.plan_json();
    let acts = actions(&plan);
    for a in [
        "aws_sns_topic.alerts",
        "aws_iot_thing_group.per_site[\"b1\"]",
        "module.site[\"b1\"].aws_iot_thing.gateway",
        "module.site[\"b1\"].module.node[1].aws_iot_thing.this",
        "module.site[\"b2\"].module.node[0].aws_iot_thing.this",
    ] {
        assert_eq!(
            acts.get(a),
            Some(&vec!["create".to_string()]),
            "{a}: {acts:?}"
        );
    }
    assert_eq!(acts.len(), 8, "{acts:?}");

    stack.apply();
    // What the emulator holds, through the SDK.
    for name in ["b1-n1", "b1-n2", "b2-n3", "b1-gw", "b2-gw"] {
        assert!(thing_arn(&format!("{p}-{name}")).await.is_some(), "{name}");
    }
    let gw = iot()
        .await
        .describe_thing()
        .thing_name(format!("{p}-b1-gw"))
        .send()
        .await
        .unwrap();
    let topic = topic_arn(&format!("{p}-alerts")).await.unwrap();
    assert_eq!(
        gw.attributes().and_then(|a| a.get("topic")),
        Some(&topic),
        "a module input from a root resource"
    );
    assert!(
        found(
            iot()
                .await
                .describe_thing_group()
                .thing_group_name(format!("{p}-group-b2"))
                .send()
                .await
        )
        .is_some()
    );
    let out = stack.ok_in(&["output", "-json", "things"]);
    let things: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        things,
        serde_json::json!({"b1": [format!("{p}-b1-n1"), format!("{p}-b1-n2")], "b2": [format!("{p}-b2-n3")]})
    );
    let listed = stack.ok_in(&["state", "list"]);
    assert!(
        listed.contains("module.site[\"b1\"].module.node[1].aws_iot_thing.this"),
        "{listed}"
    );
    assert!(
        changed(&stack.plan_json()).is_empty(),
        "second plan is empty"
    );

    // graph names module addresses.
    let dot = stack.ok(&["graph"]);
    assert!(
        dot.contains("module.site[\\\"b1\\\"].aws_iot_thing.gateway")
            || dot.contains("module.site[\"b1\"].aws_iot_thing.gateway"),
        "{dot}"
    );

    // -target a resource inside a module instance.
    stack.write(
        "terraform.tfvars",
        "sites = { b1 = [\"n1\", \"n2\", \"n9\"], b2 = [\"n3\", \"n4\"] }\n",
    );
    let out = stack.ok(&[
        "apply",
        "-auto-approve",
        "-target=module.site[\"b1\"].module.node[2].aws_iot_thing.this",
    ]);
    assert!(out.contains("1 added"), "{out}");
    assert!(thing_arn(&format!("{p}-b1-n9")).await.is_some());
    assert!(
        thing_arn(&format!("{p}-b2-n4")).await.is_none(),
        "not targeted"
    );
    let acts = actions(&stack.plan_json());
    assert_eq!(
        acts.get("module.site[\"b2\"].module.node[1].aws_iot_thing.this"),
        Some(&vec!["create".to_string()])
    );
    // -target a whole module instance.
    let out = stack.ok(&["apply", "-auto-approve", "-target=module.site[\"b2\"]"]);
    assert!(out.contains("1 added"), "{out}");
    assert!(thing_arn(&format!("{p}-b2-n4")).await.is_some());

    stack.destroy();
    for name in ["b1-n1", "b1-n9", "b2-n3", "b1-gw"] {
        assert!(thing_arn(&format!("{p}-{name}")).await.is_none(), "{name}");
    }
    assert!(topic_arn(&format!("{p}-alerts")).await.is_none());
}

#[tokio::test]
async fn moved_into_between_and_out_of_modules_without_recreating() {
    let p = unique("tf-mvm");
    let stack = TestStack::new(&format!(
        r#"
resource "aws_sns_topic" "t" {{
  for_each = toset(["a", "b"])
  name     = "{p}-${{each.key}}"
}}
"#
    ));
    stack.apply();
    let arn_a = topic_arn(&format!("{p}-a")).await.expect("created");
    write_module(
        &stack,
        "modules/topic",
        r#"
variable "name" {
  type = string
}
resource "aws_sns_topic" "this" {
  name = var.name
}
output "arn" {
  value = aws_sns_topic.this.arn
}
"#,
    );
    // Into a module with for_each: one moved block per instance, as Terraform needs.
    stack.write(
        "main.tf",
        &format!(
            r#"
module "topic" {{
  source   = "./modules/topic"
  for_each = toset(["a", "b"])
  name     = "{p}-${{each.key}}"
}}
moved {{
  from = aws_sns_topic.t["a"]
  to   = module.topic["a"].aws_sns_topic.this
}}
moved {{
  from = aws_sns_topic.t["b"]
  to   = module.topic["b"].aws_sns_topic.this
}}
"#
        ),
    );
    let plan = stack.plan_json();
    assert!(
        actions(&plan)
            .values()
            .all(|a| a == &vec!["no-op".to_string()]),
        "{:?}",
        actions(&plan)
    );
    let out = stack.apply();
    assert!(
        out.contains("aws_sns_topic.t[\"a\"] has moved to module.topic[\"a\"].aws_sns_topic.this"),
        "{out}"
    );
    assert_eq!(topic_arn(&format!("{p}-a")).await, Some(arn_a.clone()));

    // A module renamed: every instance in it moves.
    stack.write(
        "main.tf",
        &format!(
            r#"
module "alerts" {{
  source   = "./modules/topic"
  for_each = toset(["a", "b"])
  name     = "{p}-${{each.key}}"
}}
moved {{
  from = module.topic
  to   = module.alerts
}}
moved {{
  from = module.topic["a"]
  to   = module.alerts["a"]
}}
moved {{
  from = module.topic["b"]
  to   = module.alerts["b"]
}}
"#
        ),
    );
    assert!(
        changed(&stack.plan_json()).is_empty(),
        "a module rename recreates nothing"
    );
    stack.apply();
    let listed = stack.ok_in(&["state", "list"]);
    assert!(
        listed.contains("module.alerts[\"b\"].aws_sns_topic.this")
            && !listed.contains("module.topic"),
        "{listed}"
    );

    // Out of the module, back to the root.
    stack.write(
        "main.tf",
        &format!(
            r#"
resource "aws_sns_topic" "a" {{
  name = "{p}-a"
}}
module "alerts" {{
  source   = "./modules/topic"
  for_each = toset(["b"])
  name     = "{p}-${{each.key}}"
}}
moved {{
  from = module.alerts["a"].aws_sns_topic.this
  to   = aws_sns_topic.a
}}
"#
        ),
    );
    assert!(changed(&stack.plan_json()).is_empty());
    stack.apply();
    assert_eq!(topic_arn(&format!("{p}-a")).await, Some(arn_a));
    stack.destroy();
    assert!(topic_arn(&format!("{p}-b")).await.is_none());
}

#[tokio::test]
async fn removed_blocks_forget_or_destroy() {
    let p = unique("tf-rm");
    let stack = TestStack::new(&format!(
        r#"
resource "aws_sns_topic" "keep" {{
  name = "{p}-keep"
}}
resource "aws_sns_topic" "gone" {{
  name = "{p}-gone"
}}
resource "aws_sns_topic" "stay" {{
  name = "{p}-stay"
}}
"#
    ));
    stack.apply();
    // A removed block for something still declared is an error.
    stack.write(
        "removed.tf",
        "removed {\n  from = aws_sns_topic.keep\n  lifecycle {\n    destroy = false\n  }\n}\n",
    );
    let out = stack.run(&["plan"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("Removed object still exists") && err.contains("removed.tf:1"),
        "{err}"
    );
    // Forget `stay` (left in AWS), destroy `gone`.
    stack.write(
        "main.tf",
        &format!("resource \"aws_sns_topic\" \"keep\" {{\n  name = \"{p}-keep\"\n}}\n"),
    );
    stack.write(
        "removed.tf",
        "removed {\n  from = aws_sns_topic.stay\n  lifecycle {\n    destroy = false\n  }\n}\nremoved {\n  from = aws_sns_topic.gone\n}\n",
    );
    let out = stack.ok(&["plan"]);
    assert!(
        out.contains("aws_sns_topic.stay will no longer be managed by thingform"),
        "{out}"
    );
    assert!(
        out.contains("0 to add, 0 to change, 1 to destroy, 1 to forget"),
        "{out}"
    );
    stack.apply();
    assert!(
        topic_arn(&format!("{p}-stay")).await.is_some(),
        "left in AWS"
    );
    assert!(topic_arn(&format!("{p}-gone")).await.is_none(), "destroyed");
    let listed = stack.ok_in(&["state", "list"]);
    assert_eq!(listed.trim(), "aws_sns_topic.keep");
    stack.destroy();
    assert!(
        topic_arn(&format!("{p}-stay")).await.is_some(),
        "not tracked, so not destroyed"
    );
    let arn = topic_arn(&format!("{p}-stay")).await.unwrap();
    sns()
        .await
        .delete_topic()
        .topic_arn(arn)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn import_and_state_mv_with_module_addresses() {
    let p = unique("tf-modimp");
    let stack = TestStack::new(&format!(
        r#"
module "n" {{
  source = "./modules/node"
  name   = "{p}-one"
}}
"#
    ));
    write_module(&stack, "modules/node", NODE_MODULE);
    iot()
        .await
        .create_thing()
        .thing_name(format!("{p}-one"))
        .send()
        .await
        .unwrap();
    stack.ok(&["import", "module.n.aws_iot_thing.this", &format!("{p}-one")]);
    assert!(
        changed(&stack.plan_json()).is_empty(),
        "imported into the module"
    );
    // state mv between module addresses, then a moved-free config that matches.
    stack.ok_in(&[
        "state",
        "mv",
        "module.n.aws_iot_thing.this",
        "module.m.aws_iot_thing.this",
    ]);
    stack.write(
        "main.tf",
        &format!("module \"m\" {{\n  source = \"./modules/node\"\n  name   = \"{p}-one\"\n}}\n"),
    );
    assert!(changed(&stack.plan_json()).is_empty());
    // A whole module instance moves too.
    stack.ok_in(&["state", "mv", "module.m", "module.k[\"a\"]"]);
    stack.write(
        "main.tf",
        &format!("module \"k\" {{\n  source   = \"./modules/node\"\n  for_each = toset([\"a\"])\n  name     = \"{p}-one\"\n}}\n"),
    );
    assert!(changed(&stack.plan_json()).is_empty());
    stack.destroy();
    assert!(thing_arn(&format!("{p}-one")).await.is_none());
}

#[test]
fn module_mistakes_are_clear_errors() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "module \"x\" {\n  source = \"terraform-aws-modules/iot/aws\"\n}\n",
            "local directories only",
            "main.tf:1",
        ),
        (
            "module \"x\" {\n  source = \"./nope\"\n}\n",
            "is not a directory",
            "main.tf:1",
        ),
        (
            "module \"x\" {\n  source = \"./modules/node\"\n}\n",
            "needs `name = ...`",
            "main.tf:1",
        ),
        (
            "module \"x\" {\n  source = \"./modules/node\"\n  name   = \"a\"\n  nmae   = \"b\"\n}\n",
            "Did you mean \"name\"",
            "main.tf:4",
        ),
        (
            "module \"x\" {\n  source = \"./modules/node\"\n  name   = \"a\"\n}\noutput \"o\" {\n  value = module.x.thing_nme\n}\n",
            "declares no output \"thing_nme\"",
            "main.tf:6",
        ),
        (
            "resource \"aws_sns_topic\" \"t\" {\n  name = \"t\"\n}\nmodule \"x\" {\n  source   = \"./modules/node\"\n  for_each = toset([aws_sns_topic.t.arn])\n  name     = each.key\n}\n",
            "Invalid for_each argument",
            "main.tf:6",
        ),
    ];
    for (src, want, at) in cases {
        let stack = TestStack::new(src);
        write_module(&stack, "modules/node", NODE_MODULE);
        let out = stack.run(&["validate"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{src}\n{err}");
        assert!(
            err.contains(want) && err.contains(at),
            "{src}\nwant {want} at {at}:\n{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// The topics of `region` whose names start with `prefix`.
async fn topics_in(region: &str, prefix: &str) -> Vec<String> {
    let conf = aws_sdk_sns::config::Builder::from(&sdk_config().await)
        .region(aws_types::region::Region::new(region.to_string()))
        .build();
    let out = aws_sdk_sns::Client::from_conf(conf)
        .list_topics()
        .send()
        .await
        .unwrap();
    let mut names: Vec<String> = out
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .filter_map(|a| a.rsplit(':').next())
        .filter(|n| n.starts_with(prefix))
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn provider_aliases_for_resources_and_modules() {
    let p = unique("tf-alias");
    let root = format!(
        r#"
provider "aws" {{
  region = "us-east-1"
}}
provider "aws" {{
  alias  = "eu"
  region = "eu-west-1"
}}
resource "aws_sns_topic" "us" {{
  name = "{p}-us"
}}
resource "aws_sns_topic" "eu" {{
  provider = aws.eu
  name     = "{p}-eu"
}}
module "euro" {{
  source    = "./modules/topic"
  providers = {{ aws = aws.eu }}
  name      = "{p}-mod"
}}
"#
    );
    let stack = TestStack::new(&root);
    write_module(
        &stack,
        "modules/topic",
        "variable \"name\" {\n  type = string\n}\nresource \"aws_sns_topic\" \"this\" {\n  name = var.name\n}\n",
    );
    stack.apply();
    assert_eq!(topics_in("us-east-1", &p).await, vec![format!("{p}-us")]);
    assert_eq!(
        topics_in("eu-west-1", &p).await,
        vec![format!("{p}-eu"), format!("{p}-mod")]
    );
    assert!(
        changed(&stack.plan_json()).is_empty(),
        "refreshed per region"
    );
    // An orphan is destroyed through the configuration the state recorded.
    stack.write(
        "main.tf",
        &root
            .replace(
                "resource \"aws_sns_topic\" \"eu\"",
                "resource \"aws_sns_topic\" \"eu_unused\"",
            )
            .replace(
                &format!("name     = \"{p}-eu\""),
                &format!("name     = \"{p}-eu2\""),
            ),
    );
    stack.apply();
    assert_eq!(
        topics_in("eu-west-1", &p).await,
        vec![format!("{p}-eu2"), format!("{p}-mod")]
    );
    stack.destroy();
    assert!(topics_in("eu-west-1", &p).await.is_empty());
    assert!(topics_in("us-east-1", &p).await.is_empty());

    // An alias nobody declared is an error with its location.
    stack.write(
        "main.tf",
        "resource \"aws_sns_topic\" \"x\" {\n  provider = aws.nope\n  name     = \"x\"\n}\n",
    );
    let out = stack.run(&["validate"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("aws.nope") && err.contains("main.tf:2"),
        "{err}"
    );
}
