//! A validated stack: the module, its variable values, the dependency graph of its
//! configuration objects, and evaluation of each object against known values.

use super::eval::{Reference, Scope, references};
use super::vars::{self, VarInput};
use super::{Attr, BlockNode, Module, ResourceConfig, load_dir};
use crate::address::{InstanceKey, Mode, ResourceId};
use crate::diag::{Diagnostic, Diagnostics, Loc, did_you_mean};
use crate::graph::Dag;
use crate::provider;
use crate::provider::schema::{Block, Ty};
use crate::value::Value;
use crate::value::canonical_json;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// A configuration object in the evaluation graph.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    Var(String),
    Local(String),
    Resource(ResourceId),
    Output(String),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Var(n) => write!(f, "var.{n}"),
            Node::Local(n) => write!(f, "local.{n}"),
            Node::Resource(r) => write!(f, "{r}"),
            Node::Output(n) => write!(f, "output.{n}"),
        }
    }
}

/// The evaluated value of every instance of one resource block.
#[derive(Clone, Debug)]
pub enum Instances {
    Single(Value),
    Count(Vec<Value>),
    ForEach(BTreeMap<String, Value>),
    /// Not evaluated (outside -target): references to it are unknown.
    Unknown,
}

impl Instances {
    pub fn into_value(self) -> Value {
        match self {
            Instances::Single(v) => v,
            Instances::Count(l) => Value::List(l),
            Instances::ForEach(m) => Value::Map(m),
            Instances::Unknown => Value::Unknown,
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            Instances::Single(v) => v.clone(),
            Instances::Count(l) => Value::List(l.clone()),
            Instances::ForEach(m) => Value::Map(m.clone()),
            Instances::Unknown => Value::Unknown,
        }
    }

    pub fn set(&mut self, key: &Option<InstanceKey>, v: Value) {
        match (self, key) {
            (Instances::Count(l), Some(InstanceKey::Int(i))) => {
                let i = *i as usize;
                if i < l.len() {
                    l[i] = v;
                }
            }
            (Instances::ForEach(m), Some(InstanceKey::Str(k))) => {
                m.insert(k.clone(), v);
            }
            (slot, _) => *slot = Instances::Single(v),
        }
    }
}

/// One expanded instance: its key and the `each`/`count` values it sees.
#[derive(Clone, Debug)]
pub struct Expansion {
    pub key: Option<InstanceKey>,
    pub each: Option<(Value, Value)>,
}

pub struct Stack {
    pub module: Module,
    pub vars: BTreeMap<String, Value>,
    pub graph: Dag<Node>,
    pub workspace: String,
}

impl Stack {
    /// Loads, resolves variables, checks every block against its schema and every
    /// reference against the declarations, and builds the dependency graph.
    pub fn load(
        dir: &Path,
        inputs: &[VarInput],
        workspace: &str,
    ) -> Result<(Stack, Vec<Diagnostic>), Diagnostics> {
        let module = load_dir(dir)?;
        let mut diags = Diagnostics::default();
        let (vars, warnings) = match vars::resolve(&module, inputs) {
            Ok(v) => v,
            Err(d) => {
                diags.extend(d);
                (BTreeMap::new(), vec![])
            }
        };
        diags.0.extend(warnings);
        let mut stack = Stack {
            module,
            vars,
            graph: Dag::new(),
            workspace: workspace.to_string(),
        };
        stack.check_schemas(&mut diags);
        stack.build_graph(&mut diags);
        diags.into_result().map(|w| (stack, w))
    }

    /// Loads a stack with variable values fixed in advance (applying a saved plan).
    pub fn load_resolved(
        dir: &Path,
        vars: BTreeMap<String, Value>,
        workspace: &str,
    ) -> Result<Stack, Diagnostics> {
        let module = load_dir(dir)?;
        let mut diags = Diagnostics::default();
        let mut stack = Stack {
            module,
            vars,
            graph: Dag::new(),
            workspace: workspace.to_string(),
        };
        stack.check_schemas(&mut diags);
        stack.build_graph(&mut diags);
        diags.into_result().map(|_| stack)
    }

    fn check_schemas(&self, diags: &mut Diagnostics) {
        if let Some(p) = &self.module.provider {
            check_block(p, &provider::provider_schema(), "provider \"aws\"", diags);
        }
        for rc in self.module.resources.values() {
            if rc.id.mode == Mode::Data {
                match provider::data::data_source(&rc.id.rtype) {
                    Some(d) => check_block(
                        &rc.body,
                        &d.schema().block,
                        &format!("data.{}", rc.id.rtype),
                        diags,
                    ),
                    None => diags.push(Diagnostic::error(
                        "Unsupported data source",
                        format!(
                            "data \"{}\" is not supported.{} Supported data sources: {}.",
                            rc.id.rtype,
                            did_you_mean(&rc.id.rtype, provider::data::registry().keys().copied()),
                            provider::data::registry()
                                .keys()
                                .copied()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        Some(&rc.loc),
                    )),
                }
                continue;
            }
            match provider::resource_type(&rc.id.rtype) {
                Some(t) => check_block(&rc.body, &t.schema().block, &rc.id.rtype, diags),
                None if provider::PLANNED_TYPES.contains(&rc.id.rtype.as_str()) => diags.push(Diagnostic::error(
                    "Resource type not implemented yet",
                    format!(
                        "{} is part of thingform's planned resource set but this build does not implement it yet. Implemented: {}.",
                        rc.id.rtype,
                        provider::registry().keys().copied().collect::<Vec<_>>().join(", ")
                    ),
                    Some(&rc.loc),
                )),
                None => diags.push(Diagnostic::error(
                    "Unsupported resource type",
                    format!(
                        "thingform does not know resource type \"{}\".{} Supported: {}.",
                        rc.id.rtype,
                        did_you_mean(&rc.id.rtype, provider::registry().keys().copied()),
                        provider::registry().keys().copied().collect::<Vec<_>>().join(", ")
                    ),
                    Some(&rc.loc),
                )),
            }
        }
    }

    fn check_reference(
        &self,
        r: &Reference,
        from: &Node,
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

    fn build_graph(&mut self, diags: &mut Diagnostics) {
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

    pub fn loc_of(&self, n: &Node) -> Loc {
        match n {
            Node::Var(v) => self.module.variables.get(v).map(|v| v.loc.clone()),
            Node::Local(l) => self.module.locals.get(l).map(|a| a.loc.clone()),
            Node::Resource(r) => self.module.resources.get(r).map(|r| r.loc.clone()),
            Node::Output(o) => self.module.outputs.get(o).map(|o| o.loc.clone()),
        }
        .unwrap_or_default()
    }

    /// Evaluation order: every object after what it refers to.
    pub fn order(&self) -> Vec<Node> {
        self.graph.topo_order().unwrap_or_default()
    }

    /// Resources `id` depends on, directly or through locals.
    pub fn resource_dependencies(&self, id: &ResourceId) -> Vec<ResourceId> {
        self.graph
            .all_dependencies(&Node::Resource(id.clone()))
            .into_iter()
            .filter_map(|n| match n {
                Node::Resource(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    /// `var`, `path` and `terraform` roots.
    pub fn base_scope(&self) -> Scope {
        let mut s = Scope::new(self.module.dir.clone());
        s.roots.insert("var".into(), Value::Map(self.vars.clone()));
        let dir = self.module.dir.display().to_string();
        let cwd = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        s.roots.insert(
            "path".into(),
            Value::Map(
                [
                    ("module".to_string(), Value::String(dir.clone())),
                    ("root".into(), Value::String(dir)),
                    ("cwd".into(), Value::String(cwd)),
                ]
                .into(),
            ),
        );
        let ws = Value::Map(
            [(
                "workspace".to_string(),
                Value::String(self.workspace.clone()),
            )]
            .into(),
        );
        s.roots.insert("terraform".into(), ws.clone());
        s.roots.insert("thingform".into(), ws);
        s
    }

    /// Sets the value of a resource's instances in `scope`.
    pub fn set_resource(scope: &mut Scope, id: &ResourceId, v: Value) {
        match id.mode {
            Mode::Managed => {
                scope.root_map(&id.rtype).insert(id.name.clone(), v);
            }
            Mode::Data => {
                let data = scope.root_map("data");
                let t = data
                    .entry(id.rtype.clone())
                    .or_insert_with(|| Value::Map(BTreeMap::new()));
                if let Value::Map(m) = t {
                    m.insert(id.name.clone(), v);
                }
            }
        }
    }

    pub fn eval_local(&self, scope: &mut Scope, name: &str) -> Result<(), Diagnostic> {
        let attr = &self.module.locals[name];
        let v = scope.eval(&attr.expr).map_err(|e| {
            Diagnostic::error(
                "Invalid local value",
                format!("local.{name}: {e}"),
                Some(&attr.loc),
            )
        })?;
        scope.root_map("local").insert(name.to_string(), v);
        Ok(())
    }

    /// Evaluates every local in order, with whatever resource values `scope` holds.
    pub fn eval_locals(&self, scope: &mut Scope) -> Result<(), Diagnostic> {
        scope.root_map("local");
        for n in self.order() {
            if let Node::Local(l) = n {
                self.eval_local(scope, &l)?;
            }
        }
        Ok(())
    }

    /// The instances `count` or `for_each` produce. Their value must be known at plan time.
    pub fn expand(&self, rc: &ResourceConfig, scope: &Scope) -> Result<Vec<Expansion>, Diagnostic> {
        if let Some(c) = &rc.count {
            let v = scope
                .eval(&c.expr)
                .map_err(|e| Diagnostic::error("Invalid count argument", e, Some(&c.loc)))?;
            let n = match v {
                Value::Number(n) if n >= 0.0 && n.fract() == 0.0 => n as i64,
                Value::Unknown => {
                    return Err(Diagnostic::error(
                        "Invalid count argument",
                        "The count value depends on resource attributes that cannot be determined until apply. Use a variable or a literal, or apply the resources it depends on first with -target.",
                        Some(&c.loc),
                    ));
                }
                other => {
                    return Err(Diagnostic::error(
                        "Invalid count argument",
                        format!("count must be a whole number >= 0, got {other}"),
                        Some(&c.loc),
                    ));
                }
            };
            return Ok((0..n)
                .map(|i| Expansion {
                    key: Some(InstanceKey::Int(i)),
                    each: Some((Value::Number(i as f64), Value::Null)),
                })
                .collect());
        }
        if let Some(fe) = &rc.for_each {
            let v = scope
                .eval(&fe.expr)
                .map_err(|e| Diagnostic::error("Invalid for_each argument", e, Some(&fe.loc)))?;
            if v.has_unknown() {
                return Err(Diagnostic::error(
                    "Invalid for_each argument",
                    "The for_each value depends on resource attributes that cannot be determined until apply. Use a map or set of strings built from variables.",
                    Some(&fe.loc),
                ));
            }
            let pairs: Vec<(String, Value)> = match v {
                Value::Map(m) => m.into_iter().collect(),
                Value::List(l) => {
                    let mut out = vec![];
                    for item in l {
                        match item {
                            Value::String(s) => out.push((s.clone(), Value::String(s))),
                            other => {
                                return Err(Diagnostic::error(
                                    "Invalid for_each argument",
                                    format!(
                                        "for_each over a set needs strings, got a {}; use toset([...]) of strings or a map",
                                        other.type_name()
                                    ),
                                    Some(&fe.loc),
                                ));
                            }
                        }
                    }
                    out.sort_by(|a, b| a.0.cmp(&b.0));
                    out.dedup_by(|a, b| a.0 == b.0);
                    out
                }
                other => {
                    return Err(Diagnostic::error(
                        "Invalid for_each argument",
                        format!(
                            "for_each needs a map or a set of strings, got {}",
                            other.type_name()
                        ),
                        Some(&fe.loc),
                    ));
                }
            };
            return Ok(pairs
                .into_iter()
                .map(|(k, v)| Expansion {
                    key: Some(InstanceKey::Str(k.clone())),
                    each: Some((Value::String(k), v)),
                })
                .collect());
        }
        Ok(vec![Expansion {
            key: None,
            each: None,
        }])
    }

    /// An empty container of the right shape for a resource's instances.
    pub fn empty_instances(rc: &ResourceConfig) -> Instances {
        if rc.count.is_some() {
            Instances::Count(vec![])
        } else if rc.for_each.is_some() {
            Instances::ForEach(BTreeMap::new())
        } else {
            Instances::Single(Value::Null)
        }
    }

    /// Evaluates one instance's body against its schema: the configuration value, with
    /// defaults applied, types converted, sets sorted and JSON documents canonical.
    pub fn eval_instance(
        &self,
        rc: &ResourceConfig,
        exp: &Expansion,
        scope: &mut Scope,
    ) -> Result<Value, Diagnostics> {
        let schema = schema_for(&rc.id).ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "Unsupported resource type",
                rc.id.rtype.clone(),
                Some(&rc.loc),
            ))
        })?;
        // `count` / `each` are bound for this instance only (no copy of the scope: it
        // holds every instance evaluated so far).
        let bound = exp.each.as_ref().map(|(k, v)| {
            if rc.count.is_some() {
                (
                    "count",
                    Value::Map([("index".to_string(), k.clone())].into()),
                )
            } else {
                (
                    "each",
                    Value::Map(
                        [
                            ("key".to_string(), k.clone()),
                            ("value".to_string(), v.clone()),
                        ]
                        .into(),
                    ),
                )
            }
        });
        let mut diags = Diagnostics::default();
        let what = format!("{}", rc.id);
        let v = match bound {
            Some((name, value)) => scope.with_root(name, value, |s| {
                eval_block(s, &rc.body, schema, &what, &mut diags)
            }),
            None => eval_block(scope, &rc.body, schema, &what, &mut diags),
        };
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(v)
        }
    }

    /// The provider block's value (`{}` when there is none).
    pub fn provider_config(&self, scope: &Scope) -> Result<Value, Diagnostics> {
        match &self.module.provider {
            None => Ok(Value::Map(BTreeMap::new())),
            Some(p) => {
                let mut diags = Diagnostics::default();
                let v = eval_block(
                    &mut scope.clone(),
                    p,
                    &provider::provider_schema(),
                    "provider \"aws\"",
                    &mut diags,
                );
                if diags.has_errors() {
                    Err(diags)
                } else {
                    Ok(v)
                }
            }
        }
    }
}

/// The schema of a managed resource type or a data source.
pub fn schema_for(id: &ResourceId) -> Option<&'static Block> {
    match id.mode {
        Mode::Managed => provider::resource_type(&id.rtype).map(|t| &t.schema().block),
        Mode::Data => provider::data::data_source(&id.rtype).map(|d| &d.schema().block),
    }
}

fn all_attrs(b: &BlockNode) -> Vec<&Attr> {
    let mut v: Vec<&Attr> = b.attrs.iter().collect();
    for nb in &b.blocks {
        v.extend(all_attrs(nb));
    }
    v
}

fn check_block(node: &BlockNode, schema: &Block, what: &str, diags: &mut Diagnostics) {
    for a in &node.attrs {
        match schema.get_attr(&a.name) {
            Some(s) if s.output => diags.push(Diagnostic::error(
                "Invalid attribute",
                format!(
                    "`{}` of {what} is set by AWS and cannot be configured; remove it.",
                    a.name
                ),
                Some(&a.loc),
            )),
            Some(_) => {}
            None if schema.get_block(&a.name).is_some() => diags.push(Diagnostic::error(
                "Unsupported argument",
                format!(
                    "`{}` of {what} is a block: write {} {{ ... }} without `=`.",
                    a.name, a.name
                ),
                Some(&a.loc),
            )),
            None => diags.push(Diagnostic::error(
                "Unsupported argument",
                format!(
                    "{what} has no argument named \"{}\".{}",
                    a.name,
                    did_you_mean(&a.name, schema.names())
                ),
                Some(&a.loc),
            )),
        }
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for b in &node.blocks {
        if b.kind == "dynamic" {
            let Some(label) = b.labels.first() else {
                diags.push(Diagnostic::error(
                    "Invalid dynamic block",
                    "Write it as dynamic \"BLOCK_NAME\" { for_each = ... content { ... } }.",
                    Some(&b.loc),
                ));
                continue;
            };
            match schema.get_block(label) {
                Some(nb) => {
                    if b.attr("for_each").is_none() {
                        diags.push(Diagnostic::error(
                            "Invalid dynamic block",
                            "A dynamic block needs for_each.",
                            Some(&b.loc),
                        ));
                    }
                    for c in b.blocks.iter().filter(|c| c.kind == "content") {
                        check_block(c, &nb.block, &format!("{what}.{label}"), diags);
                    }
                }
                None => diags.push(Diagnostic::error(
                    "Unsupported block type",
                    format!(
                        "{what} has no block named \"{label}\".{}",
                        did_you_mean(label, schema.names())
                    ),
                    Some(&b.loc),
                )),
            }
            continue;
        }
        match schema.get_block(&b.kind) {
            Some(nb) => {
                *counts.entry(nb.name).or_default() += 1;
                check_block(b, &nb.block, &format!("{what}.{}", b.kind), diags);
            }
            None if schema.get_attr(&b.kind).is_some() => diags.push(Diagnostic::error(
                "Unsupported block type",
                format!(
                    "`{}` of {what} is an argument: write {} = ... .",
                    b.kind, b.kind
                ),
                Some(&b.loc),
            )),
            None => diags.push(Diagnostic::error(
                "Unsupported block type",
                format!(
                    "{what} has no block named \"{}\".{}",
                    b.kind,
                    did_you_mean(&b.kind, schema.names())
                ),
                Some(&b.loc),
            )),
        }
    }
    for nb in &schema.blocks {
        let n = counts.get(nb.name).copied().unwrap_or(0);
        let dynamic = node
            .blocks
            .iter()
            .any(|b| b.kind == "dynamic" && b.labels.first().map(String::as_str) == Some(nb.name));
        if nb.max > 0 && n > nb.max {
            diags.push(Diagnostic::error(
                "Too many blocks",
                format!(
                    "{what} takes at most {} \"{}\" block(s), found {n}.",
                    nb.max, nb.name
                ),
                Some(&node.loc),
            ));
        }
        if n < nb.min && !dynamic {
            diags.push(Diagnostic::error(
                "Missing required block",
                format!("{what} needs at least {} \"{}\" block(s).", nb.min, nb.name),
                Some(&node.loc),
            ));
        }
    }
    for a in &schema.attrs {
        if a.required && node.attr(a.name).is_none() {
            diags.push(Diagnostic::error(
                "Missing required argument",
                format!(
                    "{what} needs the argument \"{}\" ({}).",
                    a.name,
                    a.ty.describe()
                ),
                Some(&node.loc),
            ));
        }
    }
}

/// Evaluates a block body to an object: attributes by schema, nested blocks as lists.
pub fn eval_block(
    scope: &mut Scope,
    node: &BlockNode,
    schema: &Block,
    what: &str,
    diags: &mut Diagnostics,
) -> Value {
    let mut out = BTreeMap::new();
    for a in &schema.attrs {
        let v = match node.attr(a.name) {
            Some(attr) => match scope.eval(&attr.expr) {
                Ok(v) => match conform(v, &a.ty) {
                    Ok(v) => v,
                    Err(e) => {
                        diags.push(Diagnostic::error(
                            "Incorrect attribute value type",
                            format!("{what}.{} must be {}: {e}", a.name, a.ty.describe()),
                            Some(&attr.loc),
                        ));
                        Value::Null
                    }
                },
                Err(e) => {
                    diags.push(Diagnostic::error(
                        "Invalid expression",
                        format!("{what}.{}: {e}", a.name),
                        Some(&attr.loc),
                    ));
                    Value::Null
                }
            },
            None => Value::Null,
        };
        let v = match (&v, &a.default) {
            (Value::Null, Some(d)) => Value::from_json(d),
            _ => v,
        };
        out.insert(a.name.to_string(), v);
    }
    for nb in &schema.blocks {
        let mut items = vec![];
        for b in &node.blocks {
            if b.kind == nb.name {
                items.push(eval_block(
                    scope,
                    b,
                    &nb.block,
                    &format!("{what}.{}", nb.name),
                    diags,
                ));
            } else if b.kind == "dynamic" && b.labels.first().map(String::as_str) == Some(nb.name) {
                items.extend(eval_dynamic(scope, b, nb.name, &nb.block, what, diags));
            }
        }
        if nb.set {
            items.sort_by_key(|v| v.to_json().to_string());
        }
        out.insert(nb.name.to_string(), Value::List(items));
    }
    Value::Map(out)
}

fn eval_dynamic(
    scope: &mut Scope,
    b: &BlockNode,
    name: &str,
    schema: &Block,
    what: &str,
    diags: &mut Diagnostics,
) -> Vec<Value> {
    let Some(fe) = b.attr("for_each") else {
        return vec![];
    };
    let iterator = b
        .attr("iterator")
        .and_then(|a| match &a.expr {
            hcl::Expression::Variable(v) => Some(v.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| name.to_string());
    let coll = match scope.eval(&fe.expr) {
        Ok(v) => v,
        Err(e) => {
            diags.push(Diagnostic::error(
                "Invalid dynamic for_each",
                e,
                Some(&fe.loc),
            ));
            return vec![];
        }
    };
    let pairs: Vec<(Value, Value)> = match coll {
        Value::List(l) => l
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Value::Number(i as f64), v))
            .collect(),
        Value::Map(m) => m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
        Value::Null => vec![],
        Value::Unknown => {
            diags.push(Diagnostic::error(
                "Invalid dynamic for_each",
                "The dynamic block's for_each depends on values known only after apply.",
                Some(&fe.loc),
            ));
            return vec![];
        }
        other => {
            diags.push(Diagnostic::error(
                "Invalid dynamic for_each",
                format!("needs a list or map, got {}", other.type_name()),
                Some(&fe.loc),
            ));
            return vec![];
        }
    };
    let Some(content) = b.blocks.iter().find(|c| c.kind == "content") else {
        diags.push(Diagnostic::error(
            "Invalid dynamic block",
            "A dynamic block needs a content { ... } block.",
            Some(&b.loc),
        ));
        return vec![];
    };
    pairs
        .into_iter()
        .map(|(k, v)| {
            scope.with_root(
                &iterator,
                Value::Map([("key".to_string(), k), ("value".to_string(), v)].into()),
                |s| eval_block(s, content, schema, &format!("{what}.{name}"), diags),
            )
        })
        .collect()
}

/// Converts an evaluated value to a schema type.
pub fn conform(v: Value, ty: &Ty) -> Result<Value, String> {
    if matches!(v, Value::Null | Value::Unknown) {
        return Ok(v);
    }
    match (ty, v) {
        (Ty::Any, v) => Ok(v),
        (Ty::String, v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => {
            Ok(Value::String(v.to_template_string().unwrap_or_default()))
        }
        (Ty::Number, Value::Number(n)) => Ok(Value::Number(n)),
        (Ty::Number, Value::String(s)) => s
            .trim()
            .parse()
            .map(Value::Number)
            .map_err(|_| format!("{s:?} is not a number")),
        (Ty::Bool, Value::Bool(b)) => Ok(Value::Bool(b)),
        (Ty::Bool, Value::String(s)) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
        (Ty::Json, Value::String(s)) => {
            if serde_json::from_str::<serde_json::Value>(&s).is_err() {
                return Err("the string is not valid JSON; build it with jsonencode({...})".into());
            }
            Ok(Value::String(canonical_json(&s)))
        }
        (Ty::Json, v @ (Value::Map(_) | Value::List(_))) => {
            if v.has_unknown() {
                return Ok(Value::Unknown);
            }
            Ok(Value::String(canonical_json(&v.to_json().to_string())))
        }
        (Ty::List(t), Value::List(l)) => Ok(Value::List(
            l.into_iter()
                .map(|x| conform(x, t))
                .collect::<Result<_, _>>()?,
        )),
        (Ty::Set(t), Value::List(l)) => {
            let mut items: Vec<Value> = l
                .into_iter()
                .map(|x| conform(x, t))
                .collect::<Result<_, _>>()?;
            if !items.iter().any(Value::has_unknown) {
                items.sort_by_key(|v| v.to_json().to_string());
                items.dedup();
            }
            Ok(Value::List(items))
        }
        (Ty::Map(t), Value::Map(m)) => Ok(Value::Map(
            m.into_iter()
                .map(|(k, x)| conform(x, t).map(|x| (k, x)))
                .collect::<Result<_, _>>()?,
        )),
        (t, v) => Err(format!("got {}", describe_value(&v, t))),
    }
}

fn describe_value(v: &Value, _want: &Ty) -> String {
    match v {
        Value::List(_) => "a list".into(),
        Value::Map(_) => "an object".into(),
        other => format!("{} {other}", other.type_name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(files: &[(&str, &str)]) -> Result<Stack, Diagnostics> {
        let dir = tempfile::tempdir().unwrap();
        for (name, src) in files {
            std::fs::write(dir.path().join(name), src).unwrap();
        }
        let r = Stack::load(dir.path(), &[], "default").map(|(s, _)| s);
        std::mem::forget(dir);
        r
    }

    #[test]
    fn unknown_attribute_is_reported_with_location_and_hint() {
        let err = stack(&[(
            "main.tf",
            "resource \"aws_s3_bucket\" \"b\" {\n  buckt = \"x\"\n}\n",
        )])
        .err()
        .unwrap();
        let d = err.errors().next().unwrap();
        assert_eq!(d.loc.as_ref().unwrap().line, 2);
        assert!(d.detail.contains("Did you mean \"bucket\""), "{}", d.detail);
    }

    #[test]
    fn missing_required_argument() {
        let err = stack(&[("main.tf", "resource \"aws_dynamodb_table\" \"t\" {\n  name = \"x\"\n  attribute {\n    name = \"id\"\n    type = \"S\"\n  }\n}\n")]).err().unwrap();
        assert!(
            err.errors().any(|d| d.detail.contains("\"hash_key\"")),
            "{err}"
        );
    }

    #[test]
    fn reference_cycle_lists_members_with_locations() {
        let src = "resource \"aws_sns_topic\" \"a\" {\n  name = aws_sns_topic.b.name\n}\nresource \"aws_sns_topic\" \"b\" {\n  name = aws_sns_topic.a.name\n}\n";
        let err = stack(&[("cycle.tf", src)]).err().unwrap();
        let d = err
            .errors()
            .find(|d| d.summary == "Cycle in references")
            .unwrap();
        assert!(
            d.detail.contains("aws_sns_topic.a (") && d.detail.contains("cycle.tf:1:1)"),
            "{}",
            d.detail
        );
        assert!(d.detail.contains("cycle.tf:4:1)"), "{}", d.detail);
    }

    #[test]
    fn undeclared_references_are_errors() {
        let err = stack(&[("main.tf", "resource \"aws_sns_topic\" \"a\" {\n  name = \"${var.envv}-${local.x}\"\n}\nvariable \"env\" {}\n")]).err().unwrap();
        let text = err.to_string();
        assert!(
            text.contains("var.envv") && text.contains("Did you mean \"env\""),
            "{text}"
        );
        assert!(text.contains("local.x"), "{text}");
    }

    #[test]
    fn for_each_expands_and_evaluates_instances() {
        let s = stack(&[(
            "main.tf",
            "variable \"nodes\" {\n  type = set(string)\n  default = [\"b\", \"a\"]\n}\nresource \"aws_sns_topic\" \"t\" {\n  for_each = var.nodes\n  name = \"dev-${each.key}\"\n  tags = { n = each.value }\n}\n",
        )])
        .unwrap();
        let rc = &s.module.resources[&ResourceId::managed("aws_sns_topic", "t")];
        let scope = s.base_scope();
        let exps = s.expand(rc, &scope).unwrap();
        assert_eq!(exps.len(), 2);
        assert_eq!(exps[0].key, Some(InstanceKey::Str("a".into())));
        let v = s.eval_instance(rc, &exps[1], &mut scope.clone()).unwrap();
        assert_eq!(v.get("name"), Some(&Value::String("dev-b".into())));
        assert_eq!(
            v.get("fifo_topic"),
            Some(&Value::Bool(false)),
            "defaults are applied"
        );
    }

    #[test]
    fn wrong_type_is_reported() {
        let s = stack(&[(
            "main.tf",
            "resource \"aws_sns_topic\" \"t\" {\n  name = [\"x\"]\n}\n",
        )])
        .unwrap();
        let rc = &s.module.resources[&ResourceId::managed("aws_sns_topic", "t")];
        let err = s
            .eval_instance(
                rc,
                &Expansion {
                    key: None,
                    each: None,
                },
                &mut s.base_scope(),
            )
            .unwrap_err();
        assert!(err.to_string().contains("must be string"), "{err}");
    }
}
