//! A validated stack: the module, its variable values, the dependency graph of its
//! configuration objects, and evaluation of each object against known values.
//!
//! `check.rs` checks blocks against the provider schemas, `graph.rs` checks references
//! and builds the dependency graph, `instances.rs` expands and evaluates instances, and
//! `body.rs` evaluates block bodies against a schema.

mod body;
mod check;
mod checks;
mod graph;
mod instances;
mod modules;
mod moved;
mod namespace;

pub use modules::ModInst;

pub use body::{conform, eval_block};

use super::vars::{self, VarInput};
use super::{Module, load_dir};
use crate::address::{InstanceKey, Mode, ModuleInstance, ResourceId};
use crate::diag::{Diagnostic, Diagnostics, Loc};
use crate::graph::Dag;
use crate::provider;
use crate::provider::schema::Block;
use crate::value::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// A configuration object in the evaluation graph, in its module instance (every
/// instance of a module has its own variables, locals, resources and outputs).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    Var(ModuleInstance, String),
    Local(ModuleInstance, String),
    Resource(ResourceId),
    Output(ModuleInstance, String),
}

impl Node {
    /// The module instance the object belongs to.
    pub fn module(&self) -> &ModuleInstance {
        match self {
            Node::Var(m, _) | Node::Local(m, _) | Node::Output(m, _) => m,
            Node::Resource(r) => &r.module,
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.module();
        if !m.is_root() {
            if let Node::Resource(r) = self {
                return write!(f, "{r}");
            }
            write!(f, "{m}.")?;
        }
        match self {
            Node::Var(_, n) => write!(f, "var.{n}"),
            Node::Local(_, n) => write!(f, "local.{n}"),
            Node::Resource(r) => write!(f, "{r}"),
            Node::Output(_, n) => write!(f, "output.{n}"),
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
    /// The root module.
    pub module: Arc<Module>,
    /// The root module's variable values.
    pub vars: BTreeMap<String, Value>,
    pub graph: Dag<Node>,
    pub workspace: String,
    /// Every resource block of every module instance (the root's first), keyed by its
    /// address in that instance.
    pub resources: BTreeMap<ResourceId, crate::config::ResourceConfig>,
    /// Every module instance but the root, parents before children.
    pub modules: BTreeMap<ModuleInstance, ModInst>,
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
        let stack = Stack::assemble(module, vars, workspace, &mut diags);
        dedup(&mut diags);
        diags.into_result().map(|w| (stack, w))
    }

    /// Expands the module calls, checks every block against its schema and every
    /// reference against the declarations, and builds the dependency graph.
    fn assemble(
        module: Module,
        vars: BTreeMap<String, Value>,
        workspace: &str,
        diags: &mut Diagnostics,
    ) -> Stack {
        let mut stack = Stack {
            module: Arc::new(module),
            vars,
            graph: Dag::new(),
            workspace: workspace.to_string(),
            resources: BTreeMap::new(),
            modules: BTreeMap::new(),
        };
        stack.expand_modules(diags);
        stack.check_schemas(diags);
        stack.build_graph(diags);
        stack.validate_checks(diags);
        stack
    }

    /// Loads a stack with variable values fixed in advance (applying a saved plan).
    pub fn load_resolved(
        dir: &Path,
        vars: BTreeMap<String, Value>,
        workspace: &str,
    ) -> Result<Stack, Diagnostics> {
        let module = load_dir(dir)?;
        let mut diags = Diagnostics::default();
        let stack = Stack::assemble(module, vars, workspace, &mut diags);
        dedup(&mut diags);
        diags.into_result().map(|_| stack)
    }

    pub fn loc_of(&self, n: &Node) -> Loc {
        let def = self.def(n.module());
        match n {
            Node::Var(_, v) => def.variables.get(v).map(|v| v.loc.clone()),
            Node::Local(_, l) => def.locals.get(l).map(|a| a.loc.clone()),
            Node::Resource(r) => self.resources.get(r).map(|r| r.loc.clone()),
            Node::Output(_, o) => def.outputs.get(o).map(|o| o.loc.clone()),
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
}

/// The same mistake written once in a module is reported once, not once per instance
/// of the module: diagnostics are unique by summary and location.
fn dedup(diags: &mut Diagnostics) {
    let mut seen = std::collections::BTreeSet::new();
    diags.0.retain(|d| {
        let key = (
            d.summary.clone(),
            d.loc.as_ref().map(|l| (l.file.clone(), l.line, l.col)),
            if d.loc.is_none() {
                d.detail.clone()
            } else {
                String::new()
            },
        );
        seen.insert(key)
    });
}

/// The schema of a managed resource type or a data source.
pub fn schema_for(id: &ResourceId) -> Option<&'static Block> {
    match id.mode {
        Mode::Managed => provider::resource_type(&id.rtype).map(|t| &t.schema().block),
        Mode::Data => provider::data::data_source(&id.rtype).map(|d| &d.schema().block),
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
        let mut scope = s.base_scope();
        let exps = s.expand(rc, &mut scope).unwrap();
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
