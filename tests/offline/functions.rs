//! Terraform's functions (issue 10) and template strip markers, through the binary:
//! a stack whose outputs use them is validated, planned and applied (outputs only, so
//! no AWS), and `output -json` is read back.

use crate::harness::*;

const STACK: &str = r#"
locals {
  nodes = ["node-01", "node-02"]
}

output "ids" {
  value = [for n in local.nodes : replace(n, "/node-(\\d+)/", "n$1")]
}

output "date" {
  value = regex("(?P<y>\\d{4})-(?P<m>\\d{2})", "2024-05-17")
}

output "all" {
  value = regexall("[a-z]+", "1234abcd5678efgh9")
}

output "yaml" {
  value = yamlencode({ nodes = local.nodes, port = 8883 })
}

output "decoded" {
  value = yamldecode("a: [1, 2]\nb: text\n")
}

output "hosts" {
  value = templatefile("${path.module}/hosts.tftpl", { nodes = local.nodes, port = 8883 })
}

output "inline" {
  value = "[${~ join(",", local.nodes) ~}]"
}

output "subnet" {
  value = [cidrsubnet("10.1.0.0/16", 8, 3), cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)]
}

output "when" {
  value = formatdate("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00")
}

output "digests" {
  value = { md5 = md5("hello world"), sha1 = sha1("hello world") }
}

output "sets" {
  value = {
    product   = setproduct(["a", "b"], ["x"])
    union     = setunion(["b", "a"], ["c"])
    intersect = setintersection(["a", "b"], ["b", "c"])
    subtract  = setsubtract(["a", "b", "c"], ["a", "c"])
    transpose = transpose({ a = ["1", "2"], b = ["2"] })
  }
}

output "checks" {
  value = [alltrue([for n in local.nodes : startswith(n, "node-")]), anytrue([false]), sum([1, 2, 3.5])]
}

output "query" {
  value = urlencode("Hello World!")
}

output "created" {
  value = timestamp()
}

output "id" {
  value = uuid()
}
"#;

const HOSTS: &str = "%{ for n in nodes ~}\nhost ${n}:${port}\n%{ endfor ~}\n";

#[test]
fn functions_in_outputs_plan_apply_and_read_back() {
    let stack = TestStack::new(STACK);
    stack.write("hosts.tftpl", HOSTS);
    stack.ok(&["validate"]);

    // Impure functions are unknown in a plan, as Terraform shows them.
    let plan = stack.ok(&["plan"]);
    assert!(plan.contains("+ created = (known after apply)"), "{plan}");
    assert!(plan.contains("+ id = (known after apply)"), "{plan}");
    assert!(plan.contains("+ ids = [\"n01\", \"n02\"]"), "{plan}");

    stack.ok(&["apply", "-auto-approve"]);
    let out = stack.run_args(&["output".into(), "-json".into()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let v = |k: &str| json[k]["value"].clone();
    use serde_json::json;
    assert_eq!(v("ids"), json!(["n01", "n02"]));
    assert_eq!(v("date"), json!({"y": "2024", "m": "05"}));
    assert_eq!(v("all"), json!(["abcd", "efgh"]));
    assert_eq!(
        v("yaml"),
        json!("\"nodes\":\n- \"node-01\"\n- \"node-02\"\n\"port\": 8883\n")
    );
    assert_eq!(v("decoded"), json!({"a": [1, 2], "b": "text"}));
    assert_eq!(v("hosts"), json!("host node-01:8883\nhost node-02:8883\n"));
    assert_eq!(v("inline"), json!("[node-01,node-02]"));
    assert_eq!(
        v("subnet"),
        json!(["10.1.3.0/24", "fd00:fd12:3456:7800:a200::/72"])
    );
    assert_eq!(v("when"), json!("Tue, 02 Jan 2018 23:12:01 -0800"));
    assert_eq!(
        v("digests"),
        json!({"md5": "5eb63bbbe01eeed093cb22bb8f5acdc3", "sha1": "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"})
    );
    assert_eq!(
        v("sets"),
        json!({
            "product": [["a", "x"], ["b", "x"]],
            "union": ["a", "b", "c"],
            "intersect": ["b"],
            "subtract": ["b"],
            "transpose": {"1": ["a"], "2": ["a", "b"]}
        })
    );
    assert_eq!(v("checks"), json!([true, false, 6.5]));
    assert_eq!(v("query"), json!("Hello+World%21"));
    // Known after apply: a real timestamp and a version-4 UUID.
    let created = v("created");
    let created = created.as_str().unwrap();
    assert!(
        created.len() == 20 && created.ends_with('Z') && created.as_bytes()[10] == b'T',
        "{created}"
    );
    let id = v("id");
    let id = id.as_str().unwrap();
    assert!(id.len() == 36 && id.as_bytes()[14] == b'4', "{id}");
}

#[test]
fn timestamp_in_a_resource_argument_is_known_after_apply() {
    let stack = TestStack::new(
        "resource \"aws_sns_topic\" \"t\" {\n  name = \"fn-${md5(\"t\")}\"\n  tags = {\n    created = timestamp()\n  }\n}\n",
    );
    let plan = stack.ok(&["plan"]);
    assert!(
        plan.contains("\"created\" = (known after apply)")
            || plan.contains("created = (known after apply)"),
        "{plan}"
    );
    assert!(
        plan.contains("fn-e358efa489f58062f10dd7316b65649e"),
        "{plan}"
    );
}

#[test]
fn function_errors_name_the_function() {
    let stack = TestStack::new("output \"x\" {\n  value = regex(\"[0-9]+\", \"abc\")\n}\n");
    let out = stack.run(&["validate"]);
    let out = if out.status.success() {
        stack.run(&["plan"])
    } else {
        out
    };
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("regex()") && err.contains("did not match"),
        "{err}"
    );
    assert!(err.contains("main.tf:2"), "{err}");
}
