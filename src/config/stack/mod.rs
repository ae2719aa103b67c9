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

pub use body::{conform, eval_block};

use super::vars::{self, VarInput};
use super::{Module, load_dir};
use crate::address::{InstanceKey, Mode, ResourceId};
use crate::diag::{Diagnostic, Diagnostics, Loc};
use crate::graph::Dag;
use crate::provider;
use crate::provider::schema::Block;
use crate::value::Value;
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
        stack.validate_checks(&mut diags);
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
        stack.validate_checks(&mut diags);
        diags.into_result().map(|_| stack)
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
