//! The examples/ stacks apply, re-plan as a no-op and destroy cleanly against moto.

use crate::harness::*;
use std::path::PathBuf;

fn example(name: &str) -> TestStack {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
        .join("main.tf");
    TestStack::new(&std::fs::read_to_string(src).unwrap())
}

#[tokio::test]
async fn minimal_example_writes_a_rule_to_dynamodb() {
    let stack = example("minimal");
    stack.write(
        "terraform.tfvars",
        &format!("name = \"{}\"\n", unique("gh")),
    );
    stack.apply();
    let plan = stack.plan_json();
    assert!(changed(&plan).is_empty(), "{:?}", changed(&plan));
    let rules = iot().await.list_topic_rules().send().await.unwrap();
    let rule = rules
        .rules()
        .iter()
        .find(|r| r.rule_name().is_some_and(|n| n.starts_with("gh_")))
        .expect("rule")
        .rule_name()
        .unwrap()
        .to_string();
    let r = iot()
        .await
        .get_topic_rule()
        .rule_name(&rule)
        .send()
        .await
        .unwrap();
    assert!(r.rule().unwrap().actions()[0].dynamo_dbv2().is_some());
    stack.destroy();
    assert!(
        iot()
            .await
            .get_topic_rule()
            .rule_name(&rule)
            .send()
            .await
            .not_found()
    );
}

#[tokio::test]
async fn factory_line_example_counts_machines_and_republishes() {
    let stack = example("factory-line");
    let line = unique("line");
    stack.write(
        "terraform.tfvars",
        &format!("line = \"{line}\"\nmachines = 4\n"),
    );
    stack.apply();
    let things = iot()
        .await
        .list_things()
        .max_results(250)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = things
        .things()
        .iter()
        .filter_map(|t| t.thing_name())
        .filter(|n| n.starts_with(&line))
        .collect();
    assert_eq!(names.len(), 4);
    let r = iot()
        .await
        .get_topic_rule()
        .rule_name(format!("{}_condition", line.replace('-', "_")))
        .send()
        .await
        .unwrap();
    let acts = r.rule().unwrap().actions();
    assert!(
        acts.iter().any(|a| a.republish().is_some())
            && acts.iter().any(|a| a.cloudwatch_metric().is_some())
    );
    assert!(changed(&stack.plan_json()).is_empty());
    stack.destroy();
}
