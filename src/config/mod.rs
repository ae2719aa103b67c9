//! The config layer: a stack directory of `*.tf` / `*.hcl` files -> a typed [`Module`],
//! and the expression evaluator that turns it into values.
//!
//! This layer reads files and evaluates expressions; it never talks to AWS and never
//! reads or writes state.

mod blocks;
pub mod checks;
pub mod depth;
pub mod eval;
pub mod functions;
pub mod stack;
pub mod types;
pub mod vars;

use crate::address::{Mode, ResourceId};
use crate::diag::{Diagnostic, Diagnostics, Loc};
use hcl::edit::Span;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One attribute: `name = expr`, with where it was written.
#[derive(Clone, Debug)]
pub struct Attr {
    pub name: String,
    pub expr: hcl::Expression,
    pub loc: Loc,
}

/// A block with its attributes and nested blocks, in source order.
#[derive(Clone, Debug)]
pub struct BlockNode {
    pub kind: String,
    pub labels: Vec<String>,
    pub attrs: Vec<Attr>,
    pub blocks: Vec<BlockNode>,
    pub loc: Loc,
}

impl BlockNode {
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }
    fn take_attr(&mut self, name: &str) -> Option<Attr> {
        let i = self.attrs.iter().position(|a| a.name == name)?;
        Some(self.attrs.remove(i))
    }
    fn take_blocks(&mut self, kind: &str) -> Vec<BlockNode> {
        let (taken, kept) = std::mem::take(&mut self.blocks)
            .into_iter()
            .partition(|b| b.kind == kind);
        self.blocks = kept;
        taken
    }
}

#[derive(Clone, Debug)]
pub struct Variable {
    pub name: String,
    pub ty: Option<types::TypeConstraint>,
    pub default: Option<Attr>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub nullable: bool,
    pub validations: Vec<(Attr, Attr)>,
    pub loc: Loc,
}

#[derive(Clone, Debug, Default)]
pub struct Lifecycle {
    pub prevent_destroy: bool,
    pub create_before_destroy: bool,
    /// Attribute names whose changes are ignored; `all` ignores every attribute.
    pub ignore_changes: Vec<String>,
    pub ignore_all: bool,
}

#[derive(Clone, Debug)]
pub struct ResourceConfig {
    pub id: ResourceId,
    /// The body without meta-arguments.
    pub body: BlockNode,
    pub count: Option<Attr>,
    pub for_each: Option<Attr>,
    pub depends_on: Vec<(ResourceId, Loc)>,
    /// `depends_on = [module.network]`: every resource of that module call.
    pub depends_on_modules: Vec<(String, Loc)>,
    /// `provider = aws.eu`: the aliased configuration it uses (None: the default).
    pub provider: Option<(Option<String>, Loc)>,
    /// The root module's provider configuration it resolves to, through the modules'
    /// `providers` maps (None: the default). Set when the stack is assembled.
    pub provider_config: Option<String>,
    pub lifecycle: Lifecycle,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub struct Output {
    pub name: String,
    pub value: Attr,
    pub sensitive: bool,
    pub description: Option<String>,
    pub loc: Loc,
}

/// A loaded stack directory.
#[derive(Clone, Debug, Default)]
pub struct Module {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    /// sha256 over the file names and contents; a saved plan is bound to it.
    pub hash: String,
    pub variables: BTreeMap<String, Variable>,
    pub locals: BTreeMap<String, Attr>,
    pub resources: BTreeMap<ResourceId, ResourceConfig>,
    pub outputs: BTreeMap<String, Output>,
    /// The default `provider "aws"` block.
    pub provider: Option<BlockNode>,
    /// `provider "aws" { alias = "eu" ... }` blocks, by alias.
    pub provider_aliases: BTreeMap<String, BlockNode>,
    pub terraform: Option<BlockNode>,
    /// `import { to = ADDRESS, id = "..." }` blocks.
    pub imports: Vec<ImportBlock>,
    /// `check {}` blocks, in source order.
    pub checks: Vec<checks::CheckBlock>,
    /// `moved { from = ADDRESS, to = ADDRESS }` blocks, in source order.
    pub moved: Vec<MovedBlock>,
    /// `moved { for_each = ...  from = ...[each.key]  to = ...[each.key] }` blocks (a
    /// thingform extension: one block moves a whole fleet), expanded at plan time.
    pub moved_each: Vec<MovedEach>,
    /// `removed { from = ADDRESS  lifecycle { destroy = false } }` blocks.
    pub removed: Vec<RemovedBlock>,
    /// `module "NAME" { source = "./modules/x" ... }` blocks, by name.
    pub module_calls: BTreeMap<String, ModuleCall>,
}

/// A `module` block: a child module from a local directory, with its inputs and
/// meta-arguments.
#[derive(Clone, Debug)]
pub struct ModuleCall {
    pub name: String,
    /// The directory it loads from, as written (`./modules/site`).
    pub source: String,
    /// The input variables it sets, as written.
    pub args: Vec<Attr>,
    pub count: Option<Attr>,
    pub for_each: Option<Attr>,
    pub depends_on: Vec<(ResourceId, Loc)>,
    pub depends_on_modules: Vec<(String, Loc)>,
    /// `providers = { aws = aws.eu }`: the module's provider configuration (None: its
    /// default) -> the caller's, with where it was written.
    pub providers: Vec<(Option<String>, Option<String>, Loc)>,
    pub loc: Loc,
}

/// Either end of a `moved` block, or the `from` of a `removed` block: a resource, one
/// instance, or a whole module instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Resource(crate::address::Address),
    Module(crate::address::ModuleInstance),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Resource(a) => write!(f, "{a}"),
            Endpoint::Module(m) => write!(f, "{m}"),
        }
    }
}

impl std::str::FromStr for Endpoint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.parse::<crate::address::Address>() {
            Ok(a) => Ok(Endpoint::Resource(a)),
            Err(e) => match s.parse::<crate::address::ModuleInstance>() {
                Ok(m) if !m.is_root() => Ok(Endpoint::Module(m)),
                _ => Err(e),
            },
        }
    }
}

/// A `moved` block with `for_each`: one move per element, `each.key`/`each.value` in
/// the instance keys of `from` and `to`.
#[derive(Clone, Debug)]
pub struct MovedEach {
    pub for_each: Attr,
    pub from: Attr,
    pub to: Attr,
    pub loc: Loc,
}

/// A `removed {}` block: what `from` tracked is no longer managed; with
/// `lifecycle { destroy = false }` it is forgotten (left in AWS), otherwise destroyed.
#[derive(Clone, Debug)]
pub struct RemovedBlock {
    pub from: Endpoint,
    pub destroy: bool,
    pub loc: Loc,
}

/// A `moved {}` block: objects tracked at `from` are tracked at `to` from now on (a
/// whole resource, keys kept, or one instance, e.g. count -> for_each).
#[derive(Clone, Debug)]
pub struct MovedBlock {
    pub from: Endpoint,
    pub to: Endpoint,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub struct ImportBlock {
    pub to: crate::address::Address,
    pub id: Attr,
    pub loc: Loc,
}

/// Loads every `*.tf` and `*.hcl` file of `dir` (not `*.tfvars`), sorted by name.
pub fn load_dir(dir: &Path) -> Result<Module, Diagnostics> {
    let mut diags = Diagnostics::default();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Cannot read stack directory",
            format!(
                "{}: {e}. Pass the directory that holds your *.tf / *.hcl files.",
                dir.display()
            ),
            None,
        ))
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("tf") | Some("hcl")
            )
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Diagnostic::error(
            "No configuration files",
            format!(
                "{} holds no *.tf or *.hcl files. Is this the right stack directory?",
                dir.display()
            ),
            None,
        )
        .into());
    }
    let mut module = Module {
        dir: dir.to_path_buf(),
        ..Default::default()
    };
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    for path in &files {
        let src = match std::fs::read_to_string(path) {
            Ok(s) => s,
            Err(e) => {
                diags.push(Diagnostic::error(
                    "Cannot read file",
                    format!("{}: {e}", path.display()),
                    None,
                ));
                continue;
            }
        };
        sha2::Digest::update(
            &mut hasher,
            path.file_name()
                .map(|n| n.as_encoded_bytes())
                .unwrap_or_default(),
        );
        sha2::Digest::update(&mut hasher, src.as_bytes());
        let display = display_path(path);
        match parse_file(&display, &src) {
            Ok(blocks) => blocks::add_blocks(&mut module, blocks, &mut diags),
            Err(d) => diags.push(d),
        }
    }
    module.files = files;
    module.hash = crate::value::hex(&sha2::Digest::finalize(hasher));
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(module)
    }
}

/// The path as the user would like to read it: relative to the working directory.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Parses one file into root blocks (and root attributes, which are errors for stacks
/// but the content of a tfvars file).
pub fn parse_file(file: &str, src: &str) -> Result<BlockNode, Diagnostic> {
    depth::check(file, src)?;
    let body = hcl::edit::parser::parse_body(src).map_err(|e| {
        let loc = e.location();
        let at = Loc::at(file, src, loc.offset());
        Diagnostic::error(
            "Invalid HCL syntax",
            format!(
                "{}. Check brackets, quotes and `=` signs near this line.",
                e.message()
            ),
            Some(&at),
        )
    })?;
    Ok(convert_body(
        file,
        src,
        "",
        vec![],
        &body,
        Loc::at(file, src, 0),
    ))
}

fn convert_body(
    file: &str,
    src: &str,
    kind: &str,
    labels: Vec<String>,
    body: &hcl::edit::structure::Body,
    loc: Loc,
) -> BlockNode {
    let mut node = BlockNode {
        kind: kind.to_string(),
        labels,
        attrs: vec![],
        blocks: vec![],
        loc,
    };
    for structure in body.iter() {
        match structure {
            hcl::edit::structure::Structure::Attribute(a) => {
                let offset = a.span().map(|r| r.start).unwrap_or(0);
                node.attrs.push(Attr {
                    name: a.key.as_str().to_string(),
                    expr: hcl::Expression::from(a.value.clone()),
                    loc: Loc::at(file, src, offset),
                });
            }
            hcl::edit::structure::Structure::Block(b) => {
                let offset = b.span().map(|r| r.start).unwrap_or(0);
                let labels = b.labels.iter().map(|l| l.as_str().to_string()).collect();
                node.blocks.push(convert_body(
                    file,
                    src,
                    b.ident.as_str(),
                    labels,
                    &b.body,
                    Loc::at(file, src, offset),
                ));
            }
        }
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_names_line() {
        let err = parse_file("main.tf", "resource \"a\" \"b\" {\n  x = \n}\n").unwrap_err();
        let loc = err.loc.unwrap();
        assert_eq!(loc.file, "main.tf");
        assert!(loc.line >= 2, "{loc}");
    }

    #[test]
    fn terraform_blocks_are_merged() {
        let root = parse_file(
            "main.tf",
            "terraform {\n  backend \"local\" {}\n}\nterraform {\n  required_version = \">= 1.5\"\n  encryption {}\n}\n",
        )
        .unwrap();
        let mut m = Module::default();
        let mut d = Diagnostics::default();
        blocks::add_blocks(&mut m, root, &mut d);
        let t = m.terraform.unwrap();
        let kinds: Vec<&str> = t.blocks.iter().map(|b| b.kind.as_str()).collect();
        assert_eq!(kinds, ["backend", "encryption"]);
        assert!(t.attr("required_version").is_some());
    }

    #[test]
    fn meta_arguments_are_separated_from_the_body() {
        let root = parse_file(
            "main.tf",
            "resource \"aws_sns_topic\" \"t\" {\n  count = 2\n  name = \"x\"\n  depends_on = [aws_s3_bucket.b]\n  lifecycle {\n    ignore_changes = [tags]\n  }\n}\n",
        )
        .unwrap();
        let mut m = Module::default();
        let mut d = Diagnostics::default();
        blocks::add_blocks(&mut m, root, &mut d);
        assert!(!d.has_errors(), "{d}");
        let rc = &m.resources[&ResourceId::managed("aws_sns_topic", "t")];
        assert!(rc.count.is_some());
        assert_eq!(rc.body.attrs.len(), 1);
        assert_eq!(
            rc.depends_on[0].0,
            ResourceId::managed("aws_s3_bucket", "b")
        );
        assert_eq!(rc.lifecycle.ignore_changes, vec!["tags".to_string()]);
        assert_eq!(rc.loc.line, 1);
    }
}
