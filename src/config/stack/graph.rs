//! References checked against the declarations, and the dependency graph of vars,
//! locals, resources and outputs (cycles reported with their locations).

use super::{Node, Stack};
use crate::config::eval::{Reference, references};
use crate::config::{Attr, BlockNode, ResourceConfig};
use crate::diag::{Diagnostic, Diagnostics, Loc, did_you_mean};
use crate::graph::Dag;

impl Stack {
    pub(super) fn check_reference(
        &self,
        r: &Reference,
        from: &dyn std::fmt::Display,
        loc: &Loc,
        rc: Option<&ResourceConfig>,
        diags: &mut Diagnostics,
    ) -> Option<Node> {
        match r {
            Reference::Var(n) => {
                if self.module.variables.contains_key(n) {
                    return Some(Node::Var(n.clone()));
                }
                diags.push(Diagnostic::error(
                    "Reference to undeclared input variable",
                    format!(
                        "{from} refers to var.{n}, which is not declared.{} Declare it with variable \"{n}\" {{}}.",
                        did_you_mean(n, self.module.variables.keys().map(String::as_str))
                    ),
                    Some(loc),
                ));
            }
            Reference::Local(n) => {
                if self.module.locals.contains_key(n) {
                    return Some(Node::Local(n.clone()));
                }
                diags.push(Diagnostic::error(
                    "Reference to undeclared local value",
                    format!(
                        "{from} refers to local.{n}, which no locals block defines.{}",
                        did_you_mean(n, self.module.locals.keys().map(String::as_str))
                    ),
                    Some(loc),
                ));
            }
            Reference::Resource(id) => {
                if self.module.resources.contains_key(id) {
                    return Some(Node::Resource(id.clone()));
                }
                if let Some(c) = self.scoped_data_owner(id) {
                    diags.push(Diagnostic::error(
                        "Reference to scoped resource",
                        format!(
                            "{from} refers to {id}, which is declared inside check \"{c}\" and is not available from this context. Only that check's assertions can use it."
                        ),
                        Some(loc),
                    ));
                    return None;
                }
                let names: Vec<String> = self.module.resources.keys().map(|k| k.to_string()).collect();
                diags.push(Diagnostic::error(
                    "Reference to undeclared resource",
                    format!(
                        "{from} refers to {id}, which is not declared in this stack.{}",
                        did_you_mean(&id.to_string(), names.iter().map(String::as_str))
                    ),
                    Some(loc),
                ));
            }
            Reference::Each => {
                if rc.map(|r| r.for_each.is_none()).unwrap_or(true) {
                    diags.push(Diagnostic::error(
                        "Reference to \"each\" in context without for_each",
                        format!("{from} uses each.key/each.value but does not set for_each."),
                        Some(loc),
                    ));
                }
            }
            Reference::Count => {
                if rc.map(|r| r.count.is_none()).unwrap_or(true) {
                    diags.push(Diagnostic::error(
                        "Reference to \"count\" in non-counted context",
                        format!("{from} uses count.index but does not set count."),
                        Some(loc),
                    ));
                }
            }
            Reference::Path | Reference::Terraform => {}
            Reference::Undeclared(n) => diags.push(Diagnostic::error(
                "Invalid reference",
                format!(
                    "{from} refers to `{n}`, which is not a known name. References start with var., local., data., a resource type, each., count., path. or terraform."
                ),
                Some(loc),
            )),
        }
        None
    }

    pub(super) fn build_graph(&mut self, diags: &mut Diagnostics) {
        let mut edges: Vec<(Node, Node)> = vec![];
        let mut add_refs = |this: &Stack,
                            node: &Node,
                            attrs: Vec<&Attr>,
                            rc: Option<&ResourceConfig>,
                            diags: &mut Diagnostics| {
            for a in attrs {
                for r in references(&a.expr) {
                    if let Some(target) = this.check_reference(&r, node, &a.loc, rc, diags) {
                        edges.push((node.clone(), target));
                    }
                }
            }
        };
        let mut extra: Vec<(Node, Node)> = vec![];
        let mut g: Dag<Node> = Dag::new();
        for name in self.module.variables.keys() {
            g.add_node(Node::Var(name.clone()));
        }
        for (name, attr) in &self.module.locals {
            let node = Node::Local(name.clone());
            g.add_node(node.clone());
            add_refs(self, &node, vec![attr], None, diags);
        }
        for (id, rc) in &self.module.resources {
            let node = Node::Resource(id.clone());
            g.add_node(node.clone());
            let mut attrs = all_attrs(&rc.body);
            attrs.extend(rc.count.iter());
            attrs.extend(rc.for_each.iter());
            add_refs(self, &node, attrs, Some(rc), diags);
            for (dep, loc) in &rc.depends_on {
                if self.module.resources.contains_key(dep) {
                    extra.push((node.clone(), Node::Resource(dep.clone())));
                } else {
                    diags.push(Diagnostic::error(
                        "Reference to undeclared resource",
                        format!(
                            "depends_on of {id} names {dep}, which is not declared in this stack."
                        ),
                        Some(loc),
                    ));
                }
            }
        }
        for (name, out) in &self.module.outputs {
            let node = Node::Output(name.clone());
            g.add_node(node.clone());
            add_refs(self, &node, vec![&out.value], None, diags);
        }
        if let Some(p) = &self.module.provider {
            // The provider is configured before any resource: it may use variables and locals only.
            for a in all_attrs(p) {
                for r in references(&a.expr) {
                    if let Reference::Resource(id) = &r {
                        diags.push(Diagnostic::error(
                            "Provider configuration refers to a resource",
                            format!("provider \"aws\" uses {id}; the provider can only use variables and locals."),
                            Some(&a.loc),
                        ));
                    } else {
                        self.check_reference(
                            &r,
                            &Node::Local("provider".into()),
                            &a.loc,
                            None,
                            diags,
                        );
                    }
                }
            }
        }
        for (from, to) in edges.into_iter().chain(extra) {
            g.add_dependency(&from, &to);
        }
        for cycle in g.cycles() {
            let members: Vec<String> = cycle
                .iter()
                .map(|n| format!("  {n} ({})", self.loc_of(n)))
                .collect();
            diags.push(Diagnostic::error(
                "Cycle in references",
                format!(
                    "These objects refer to each other in a loop, so none of them can be evaluated first:\n{}\nBreak the loop, e.g. by building a name from a variable instead of another resource's attribute.",
                    members.join("\n")
                ),
                Some(&self.loc_of(&cycle[0])),
            ));
        }
        self.graph = g;
    }
}

fn all_attrs(b: &BlockNode) -> Vec<&Attr> {
    let mut v: Vec<&Attr> = b.attrs.iter().collect();
    for nb in &b.blocks {
        v.extend(all_attrs(nb));
    }
    v
}
