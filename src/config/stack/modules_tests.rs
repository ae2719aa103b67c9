//! Module expansion, graphs through modules, provider resolution.

use super::super::Node;
use super::*;

fn load(files: &[(&str, &str)]) -> Result<Stack, Diagnostics> {
    let dir = tempfile::tempdir().unwrap();
    for (name, src) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, src).unwrap();
    }
    let r = Stack::load(dir.path(), &[], "default").map(|(s, _)| s);
    std::mem::forget(dir);
    r
}

const LEAF: &str = "variable \"n\" {}\nresource \"aws_sns_topic\" \"t\" {\n  name = var.n\n}\noutput \"arn\" {\n  value = aws_sns_topic.t.arn\n}\n";

#[test]
fn calls_expand_into_instances_with_their_resources() {
    let s = load(&[
        (
            "main.tf",
            "module \"a\" {\n  source   = \"./m\"\n  for_each = toset([\"x\", \"y\"])\n  n        = each.key\n}\nmodule \"b\" {\n  source = \"./m\"\n  count  = length(module.a)\n  n      = \"b${count.index}\"\n}\n",
        ),
        ("m/main.tf", LEAF),
    ])
    .unwrap();
    let names: Vec<String> = s.modules.keys().map(|m| m.to_string()).collect();
    assert_eq!(
        names,
        [
            "module.a[\"x\"]",
            "module.a[\"y\"]",
            "module.b[0]",
            "module.b[1]"
        ]
    );
    assert!(
        s.resources.contains_key(
            &"module.b[1].aws_sns_topic.t"
                .parse::<crate::address::Address>()
                .unwrap()
                .resource
        )
    );
    // The same module definition is loaded once.
    assert!(Arc::ptr_eq(
        &s.modules.values().next().unwrap().def,
        &s.modules.values().last().unwrap().def
    ));
    // A module instance's output depends on its resource, which depends on its input.
    let out = Node::Output("module.a[\"x\"]".parse().unwrap(), "arn".into());
    let deps = s.graph.all_dependencies(&out);
    assert!(deps.contains(&Node::Var("module.a[\"x\"]".parse().unwrap(), "n".into())));
}

#[test]
fn a_cycle_through_a_module_is_reported_with_locations() {
    let err = load(&[
        (
            "main.tf",
            "module \"a\" {\n  source = \"./m\"\n  n      = module.a.arn\n}\n",
        ),
        ("m/main.tf", LEAF),
    ])
    .err()
    .unwrap();
    let d = err
        .errors()
        .find(|d| d.summary == "Cycle in references")
        .expect("cycle");
    assert!(d.detail.contains("module.a.var.n"), "{}", d.detail);
    assert!(d.detail.contains("main.tf:"), "{}", d.detail);
}

#[test]
fn providers_resolve_through_module_blocks() {
    let s = load(&[
        (
            "main.tf",
            "provider \"aws\" {\n  alias  = \"eu\"\n  region = \"eu-west-1\"\n}\nmodule \"a\" {\n  source    = \"./m\"\n  providers = { aws = aws.eu }\n  n         = \"a\"\n}\nmodule \"b\" {\n  source = \"./m\"\n  n      = \"b\"\n}\n",
        ),
        ("m/main.tf", LEAF),
    ])
    .unwrap();
    let provider = |a: &str| {
        let id = a.parse::<crate::address::Address>().unwrap().resource;
        s.resources[&id].provider_config.clone()
    };
    assert_eq!(provider("module.a.aws_sns_topic.t"), Some("eu".into()));
    assert_eq!(provider("module.b.aws_sns_topic.t"), None);
    let err = load(&[
        (
            "main.tf",
            "module \"a\" {\n  source    = \"./m\"\n  providers = { aws = aws.eu }\n  n         = \"a\"\n}\n",
        ),
        ("m/main.tf", LEAF),
    ])
    .err()
    .unwrap();
    assert!(err.to_string().contains("aws.eu"), "{err}");
}

#[test]
fn a_module_that_contains_itself_is_an_error() {
    let err = load(&[
        ("main.tf", "module \"a\" {\n  source = \"./m\"\n}\n"),
        ("m/main.tf", "module \"again\" {\n  source = \"../m\"\n}\n"),
    ])
    .err()
    .unwrap();
    assert!(err.to_string().contains("cannot contain itself"), "{err}");
}

#[test]
fn paths_are_normalised_lexically() {
    assert_eq!(lexical(Path::new("a/./b/../c")), PathBuf::from("a/c"));
    assert_eq!(lexical(Path::new("./m")), PathBuf::from("m"));
    assert_eq!(lexical(Path::new("../x")), PathBuf::from("../x"));
    assert_eq!(lexical(Path::new(".")), PathBuf::from("."));
}
