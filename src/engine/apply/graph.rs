//! The apply graph: one node per operation, plus per-resource gates.

use crate::address::ResourceId;
use crate::engine::plan::{Action, ResourceChange};
use crate::graph::Dag;
use std::collections::BTreeMap;

/// One node of the apply graph. `Op` is an operation; the others are gates that carry
/// a resource's ordering to every instance at once, so the graph has a few edges per
/// instance instead of one per pair of instances (a fleet of N devices whose
/// attachments refer to N certificates is 2N edges, not N²).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
/// The variant order matters: every `Op` sorts before every gate (see the apply loop).
pub enum Step {
    /// Part of change `i` (a replacement is two nodes: its destroy and its create).
    Op(usize, Part),
    /// Every create/update of resource `r` finished.
    Done(usize),
    /// Every destroy of an instance that depends on resource `r` finished.
    Released(usize),
    /// Every create/update of an instance that depends on resource `r` finished (the
    /// old objects of `r`'s create_before_destroy replacements may go).
    Moved(usize),
    /// Every plain delete of resource type `t` finished (creates of `t` may reuse names).
    TypeFreed(usize),
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

/// The part of a change a graph node runs: a replacement is two nodes, so that its
/// destroy half can wait for dependents to be destroyed and its create half can come
/// before dependents are re-created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Destroy,
    Main,
}

pub(super) fn has_part(a: Action, part: Part) -> bool {
    match part {
        Part::Main => matches!(
            a,
            Action::Create | Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete
        ),
        Part::Destroy => matches!(
            a,
            Action::Delete | Action::DeleteThenCreate | Action::CreateThenDelete
        ),
    }
}

/// The order of operations (edges mean "happens after"): creates and updates after what
/// they refer to; destroys before the destroy of what they depended on; a replacement's
/// create after its destroy (or, with create_before_destroy, its destroy after its
/// create and after dependents moved to the new object); and creates of a type after
/// deletes of that type, so a renamed resource frees its AWS name first. Dependencies
/// are by resource: an instance waits for every instance of what it refers to.
pub fn apply_graph(changes: &[ResourceChange]) -> Dag<Step> {
    let mut g: Dag<Step> = Dag::new();
    let mut resources: BTreeMap<&ResourceId, usize> = BTreeMap::new();
    let mut types: BTreeMap<&str, usize> = BTreeMap::new();
    for c in changes {
        let n = resources.len();
        resources.entry(&c.address.resource).or_insert(n);
        let n = types.len();
        types.entry(c.rtype.as_str()).or_insert(n);
    }
    for (i, c) in changes.iter().enumerate() {
        for part in [Part::Destroy, Part::Main] {
            if has_part(c.action, part) {
                g.add_node(Step::Op(i, part));
            }
        }
    }
    for (i, c) in changes.iter().enumerate() {
        if c.action == Action::NoOp {
            continue;
        }
        let main = Step::Op(i, Part::Main);
        let destroy = Step::Op(i, Part::Destroy);
        let r = resources[&c.address.resource];
        let t = types[c.rtype.as_str()];
        match c.action {
            Action::DeleteThenCreate => g.add_dependency(&main, &destroy),
            Action::CreateThenDelete => g.add_dependency(&destroy, &main),
            _ => {}
        }
        if c.deposed {
            // An old object left by an interrupted create_before_destroy: nothing
            // refers to it any more.
            continue;
        }
        if has_part(c.action, Part::Main) {
            g.add_dependency(&Step::Done(r), &main);
        }
        if has_part(c.action, Part::Destroy) {
            if c.action == Action::CreateThenDelete {
                g.add_dependency(&destroy, &Step::Moved(r));
            } else {
                g.add_dependency(&destroy, &Step::Released(r));
            }
        }
        let mut deps: Vec<&ResourceId> = c.depends_on.iter().collect();
        deps.sort();
        deps.dedup();
        for d in deps {
            if d == &c.address.resource {
                continue;
            }
            // A dependency without changes has nothing to wait for.
            let Some(&rd) = resources.get(d) else {
                continue;
            };
            if has_part(c.action, Part::Main) {
                g.add_dependency(&main, &Step::Done(rd));
                g.add_dependency(&Step::Moved(rd), &main);
            }
            if has_part(c.action, Part::Destroy) {
                g.add_dependency(&Step::Released(rd), &destroy);
            }
        }
        if c.action == Action::Delete {
            g.add_dependency(&Step::TypeFreed(t), &destroy);
        }
        if matches!(c.action, Action::Create | Action::DeleteThenCreate) {
            g.add_dependency(&main, &Step::TypeFreed(t));
        }
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;
    use serde_json::Value as Json;

    fn change(addr: &str, action: Action, deps: &[&str]) -> ResourceChange {
        ResourceChange {
            address: addr.parse().unwrap(),
            rtype: addr.split('.').next().unwrap().to_string(),
            action,
            before: Json::Null,
            after: crate::value::Value::Null,
            changed: vec![],
            replace_paths: vec![],
            reason: None,
            depends_on: deps
                .iter()
                .map(|d| d.parse::<Address>().unwrap().resource)
                .collect(),
            importing: None,
            deposed: false,
            notes: vec![],
            provider: None,
        }
    }

    fn op(i: usize, part: Part) -> Step {
        Step::Op(i, part)
    }

    /// Whether `a` comes before `b` in every order the graph allows.
    fn before(g: &Dag<Step>, a: Step, b: Step) -> bool {
        g.all_dependencies(&b).contains(&a)
    }

    #[test]
    fn creates_follow_references_and_deletes_go_in_reverse() {
        let changes = vec![
            change("aws_s3_bucket.b", Action::Create, &[]),
            change(
                "aws_s3_bucket_versioning.v",
                Action::Create,
                &["aws_s3_bucket.b"],
            ),
            change("aws_sns_topic.old", Action::Delete, &[]),
            change(
                "aws_sns_topic_subscription.s",
                Action::Delete,
                &["aws_sns_topic.old"],
            ),
            change("aws_sns_topic.same", Action::NoOp, &[]),
        ];
        let g = apply_graph(&changes);
        assert!(
            before(&g, op(0, Part::Main), op(1, Part::Main)),
            "versioning after its bucket"
        );
        assert!(
            before(&g, op(3, Part::Destroy), op(2, Part::Destroy)),
            "topic deleted after its subscription"
        );
        assert!(
            !g.contains(&op(4, Part::Main)) && !g.contains(&op(4, Part::Destroy)),
            "no-ops are not operations"
        );
        assert!(!before(&g, op(0, Part::Main), op(2, Part::Destroy)));
    }

    #[test]
    fn creates_wait_for_deletes_of_the_same_type() {
        let changes = vec![
            change("aws_sns_topic.new", Action::Create, &[]),
            change("aws_sns_topic.old", Action::Delete, &[]),
        ];
        let g = apply_graph(&changes);
        assert!(before(&g, op(1, Part::Destroy), op(0, Part::Main)));
    }

    #[test]
    fn a_replaced_resource_is_destroyed_after_its_replaced_dependents() {
        let changes = vec![
            change("aws_iam_role.r", Action::DeleteThenCreate, &[]),
            change(
                "aws_iam_role_policy_attachment.a",
                Action::DeleteThenCreate,
                &["aws_iam_role.r"],
            ),
        ];
        let g = apply_graph(&changes);
        assert!(g.topo_order().is_ok());
        assert!(
            before(&g, op(1, Part::Destroy), op(0, Part::Destroy)),
            "attachment detached before the role is deleted"
        );
        assert!(
            before(&g, op(0, Part::Destroy), op(0, Part::Main)),
            "role deleted before it is re-created"
        );
        assert!(
            before(&g, op(0, Part::Main), op(1, Part::Main)),
            "attachment re-created after the new role"
        );
    }

    #[test]
    fn a_fleet_graph_is_linear_in_instances() {
        // N attachments each referring to the N certificates and N things: by-resource
        // dependencies through gates, a few edges per instance, never N².
        let n = 2000;
        let mut changes = vec![];
        for i in 0..n {
            changes.push(change(
                &format!("aws_iot_certificate.c[{i}]"),
                Action::Create,
                &[],
            ));
            changes.push(change(
                &format!("aws_iot_thing.t[{i}]"),
                Action::Create,
                &[],
            ));
            changes.push(change(
                &format!("aws_iot_thing_principal_attachment.a[{i}]"),
                Action::Create,
                &["aws_iot_certificate.c", "aws_iot_thing.t"],
            ));
        }
        let g = apply_graph(&changes);
        assert!(
            g.edge_count() < 8 * changes.len(),
            "{} edges",
            g.edge_count()
        );
        let a = changes
            .iter()
            .position(|c| c.address.to_string() == "aws_iot_thing_principal_attachment.a[7]")
            .unwrap();
        let c = changes
            .iter()
            .position(|c| c.address.to_string() == "aws_iot_certificate.c[1999]")
            .unwrap();
        assert!(before(&g, op(c, Part::Main), op(a, Part::Main)));
    }

    #[test]
    fn destroying_topic_a_does_not_order_the_subscription_of_topic_ab() {
        let changes = vec![
            change("aws_sns_topic.a", Action::Delete, &[]),
            change("aws_sns_topic.ab", Action::Delete, &[]),
            change(
                "aws_sns_topic_subscription.s",
                Action::Delete,
                &["aws_sns_topic.ab"],
            ),
        ];
        let g = apply_graph(&changes);
        assert!(before(&g, op(2, Part::Destroy), op(1, Part::Destroy)));
        assert!(!before(&g, op(2, Part::Destroy), op(0, Part::Destroy)));
    }
}
