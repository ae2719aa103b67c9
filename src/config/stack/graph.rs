//! References checked against the declarations, and the dependency graph of every
//! module instance's variables, locals, resources and outputs (cycles reported with
//! their locations).

use super::{Node, Stack};
use crate::address::ModuleInstance;
use crate::config::eval::{Reference, references};
use crate::config::{Attr, BlockNode};
use crate::diag::{Diagnostic, Diagnostics, Loc, did_you_mean};
use crate::graph::Dag;

/// Whether `each` / `count` may be used where a reference is written.
#[derive(Clone, Copy, Default)]
pub(super) struct Ctx {
    pub each: bool,
    pub count: bool,
}

impl Stack {
    /// The objects reference `r`, written in module instance `m`, stands for (a whole
    /// module call stands for the outputs of all its instances), or an error.
    pub(super) fn check_reference(
        &self,
        r: &Reference,
        m: &ModuleInstance,
        from: &dyn std::fmt::Display,
        loc: &Loc,
        ctx: Ctx,
        diags: &mut Diagnostics,
    ) -> Vec<Node> {
        let def = self.def(m);
        let here = if m.is_root() {
            "this stack"
        } else {
            "this module"
        };
        match r {
            Reference::Var(n) => {
                if def.variables.contains_key(n) {
                    return vec![Node::Var(m.clone(), n.clone())];
                }
                diags.push(Diagnostic::error(
                    "Reference to undeclared input variable",
                    format!(
                        "{from} refers to var.{n}, which is not declared.{} Declare it with variable \"{n}\" {{}}.",
                        did_you_mean(n, def.variables.keys().map(String::as_str))
                    ),
                    Some(loc),
                ));
            }
            Reference::Local(n) => {
                if def.locals.contains_key(n) {
                    return vec![Node::Local(m.clone(), n.clone())];
                }
                diags.push(Diagnostic::error(
                    "Reference to undeclared local value",
                    format!(
                        "{from} refers to local.{n}, which no locals block defines.{}",
                        did_you_mean(n, def.locals.keys().map(String::as_str))
                    ),
                    Some(loc),
                ));
            }
            Reference::Resource(id) => {
                let id = id.clone().in_module(m);
                if self.resources.contains_key(&id) {
                    return vec![Node::Resource(id)];
                }
                if m.is_root()
                    && let Some(c) = self.scoped_data_owner(&id)
                {
                    diags.push(Diagnostic::error(
                        "Reference to scoped resource",
                        format!(
                            "{from} refers to {id}, which is declared inside check \"{c}\" and is not available from this context. Only that check's assertions can use it."
                        ),
                        Some(loc),
                    ));
                    return vec![];
                }
                let names: Vec<String> = def.resources.keys().map(|k| k.to_string()).collect();
                let bare = crate::address::ResourceId { module: ModuleInstance::root(), ..id.clone() };
                diags.push(Diagnostic::error(
                    "Reference to undeclared resource",
                    format!(
                        "{from} refers to {bare}, which is not declared in {here}.{}",
                        did_you_mean(&bare.to_string(), names.iter().map(String::as_str))
                    ),
                    Some(loc),
                ));
            }
            Reference::Module { call, output } => {
                let Some(mc) = def.module_calls.get(call) else {
                    diags.push(Diagnostic::error(
                        "Reference to undeclared module",
                        format!(
                            "{from} refers to module.{call}, which is not declared in {here}.{}",
                            did_you_mean(call, def.module_calls.keys().map(String::as_str))
                        ),
                        Some(loc),
                    ));
                    return vec![];
                };
                let mut out = vec![];
                for inst in self.instances_of_call(m, call) {
                    let child = &self.modules[inst].def;
                    match output {
                        Some(o) if child.outputs.contains_key(o) => {
                            out.push(Node::Output(inst.clone(), o.clone()))
                        }
                        Some(o) => {
                            diags.push(Diagnostic::error(
                                "Unsupported attribute",
                                format!(
                                    "{from} refers to module.{call}.{o}, but module \"{call}\" ({}) declares no output \"{o}\".{}",
                                    mc.source,
                                    did_you_mean(o, child.outputs.keys().map(String::as_str))
                                ),
                                Some(loc),
                            ));
                            return vec![];
                        }
                        None => out.extend(
                            child
                                .outputs
                                .keys()
                                .map(|o| Node::Output(inst.clone(), o.clone())),
                        ),
                    }
                }
                return out;
            }
            Reference::Each => {
                if !ctx.each {
                    diags.push(Diagnostic::error(
                        "Reference to \"each\" in context without for_each",
                        format!("{from} uses each.key/each.value but does not set for_each."),
                        Some(loc),
                    ));
                }
            }
            Reference::Count => {
                if !ctx.count {
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
                    "{from} refers to `{n}`, which is not a known name. References start with var., local., data., module., a resource type, each., count., path. or terraform."
                ),
                Some(loc),
            )),
        }
        vec![]
    }

    pub(super) fn build_graph(&mut self, diags: &mut Diagnostics) {
        let mut edges: Vec<(Node, Node)> = vec![];
        let mut g: Dag<Node> = Dag::new();
        for m in self.module_instances() {
            let def = self.def(&m).clone();
            for name in def.variables.keys() {
                let node = Node::Var(m.clone(), name.clone());
                g.add_node(node.clone());
                // A module's variable is its call's argument, evaluated in the caller.
                if let (Some(inst), Some((parent, _))) = (self.modules.get(&m), m.parent()) {
                    let ctx = Ctx {
                        each: inst.call.for_each.is_some(),
                        count: inst.call.count.is_some(),
                    };
                    let attrs = super::modules::call_attrs(&inst.call, name);
                    self.add_refs(&mut edges, &node, &parent, attrs, ctx, diags);
                }
            }
            for (name, attr) in &def.locals {
                let node = Node::Local(m.clone(), name.clone());
                g.add_node(node.clone());
                self.add_refs(&mut edges, &node, &m, vec![attr], Ctx::default(), diags);
            }
            for rid in def.resources.keys() {
                let id = rid.clone().in_module(&m);
                let Some(rc) = self.resources.get(&id) else {
                    continue;
                };
                let node = Node::Resource(id.clone());
                g.add_node(node.clone());
                let mut attrs = all_attrs(&rc.body);
                attrs.extend(rc.count.iter());
                attrs.extend(rc.for_each.iter());
                let ctx = Ctx {
                    each: rc.for_each.is_some(),
                    count: rc.count.is_some(),
                };
                self.add_refs(&mut edges, &node, &m, attrs, ctx, diags);
                for (dep, loc) in &rc.depends_on {
                    if self.resources.contains_key(dep) {
                        edges.push((node.clone(), Node::Resource(dep.clone())));
                    } else {
                        diags.push(Diagnostic::error(
                            "Reference to undeclared resource",
                            format!("depends_on of {id} names {dep}, which is not declared."),
                            Some(loc),
                        ));
                    }
                }
                for (call, loc) in &rc.depends_on_modules {
                    self.depend_on_module(&node, &m, call, loc, &mut edges, diags);
                }
                // depends_on on the module blocks that led here.
                let mut at = m.clone();
                while let (Some(inst), Some((parent, _))) = (self.modules.get(&at), at.parent()) {
                    for (dep, loc) in &inst.call.depends_on {
                        let dep = dep.clone().in_module(&parent);
                        if self.resources.contains_key(&dep) {
                            edges.push((node.clone(), Node::Resource(dep)));
                        } else {
                            diags.push(Diagnostic::error(
                                "Reference to undeclared resource",
                                format!(
                                    "depends_on of module.{} names {dep}, which is not declared.",
                                    inst.call.name
                                ),
                                Some(loc),
                            ));
                        }
                    }
                    for (call, loc) in &inst.call.depends_on_modules {
                        self.depend_on_module(&node, &parent, call, loc, &mut edges, diags);
                    }
                    at = parent;
                }
            }
            for (name, out) in &def.outputs {
                let node = Node::Output(m.clone(), name.clone());
                g.add_node(node.clone());
                self.add_refs(
                    &mut edges,
                    &node,
                    &m,
                    vec![&out.value],
                    Ctx::default(),
                    diags,
                );
            }
        }
        if let Some(p) = &self.module.provider {
            // The provider is configured before any resource: it may use variables and locals only.
            let root = ModuleInstance::root();
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
                            &root,
                            &Node::Local(root.clone(), "provider".into()),
                            &a.loc,
                            Ctx::default(),
                            diags,
                        );
                    }
                }
            }
        }
        for (from, to) in edges {
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

    /// Edges from `node` to what the expressions of `attrs` (written in `m`) refer to.
    fn add_refs(
        &self,
        edges: &mut Vec<(Node, Node)>,
        node: &Node,
        m: &ModuleInstance,
        attrs: Vec<&Attr>,
        ctx: Ctx,
        diags: &mut Diagnostics,
    ) {
        for a in attrs {
            for r in references(&a.expr) {
                for target in self.check_reference(&r, m, node, &a.loc, ctx, diags) {
                    edges.push((node.clone(), target));
                }
            }
        }
    }

    /// `depends_on = [module.NAME]`: after every resource of every instance of the call.
    fn depend_on_module(
        &self,
        node: &Node,
        m: &ModuleInstance,
        call: &str,
        loc: &Loc,
        edges: &mut Vec<(Node, Node)>,
        diags: &mut Diagnostics,
    ) {
        if !self.def(m).module_calls.contains_key(call) {
            diags.push(Diagnostic::error(
                "Reference to undeclared module",
                format!("depends_on of {node} names module.{call}, which is not declared."),
                Some(loc),
            ));
            return;
        }
        for inst in self.instances_of_call(m, call) {
            for r in self.resources_under(inst) {
                edges.push((node.clone(), Node::Resource(r.clone())));
            }
        }
    }
}

fn all_attrs(b: &BlockNode) -> Vec<&Attr> {
    let mut v: Vec<&Attr> = b.attrs.iter().collect();
    for nb in &b.blocks {
        v.extend(all_attrs(nb));
    }
    v
}
