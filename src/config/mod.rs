//! The config layer: a stack directory of `*.tf` / `*.hcl` files -> a typed [`Module`],
//! and the expression evaluator that turns it into values.
//!
//! This layer reads files and evaluates expressions; it never talks to AWS and never
//! reads or writes state.

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
    pub provider: Option<BlockNode>,
    pub terraform: Option<BlockNode>,
    /// `import { to = ADDRESS, id = "..." }` blocks.
    pub imports: Vec<ImportBlock>,
    /// `check {}` blocks, in source order.
    pub checks: Vec<checks::CheckBlock>,
    /// `moved { from = ADDRESS, to = ADDRESS }` blocks, in source order.
    pub moved: Vec<MovedBlock>,
}

/// A `moved {}` block: objects tracked at `from` are tracked at `to` from now on (a
/// whole resource, keys kept, or one instance, e.g. count -> for_each).
#[derive(Clone, Debug)]
pub struct MovedBlock {
    pub from: crate::address::Address,
    pub to: crate::address::Address,
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
            Ok(blocks) => add_blocks(&mut module, blocks, &mut diags),
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

fn literal_string(attr: &Attr) -> Option<String> {
    match &attr.expr {
        hcl::Expression::String(s) => Some(s.clone()),
        hcl::Expression::TemplateExpr(t) => {
            let s = t.to_string();
            (!s.contains("${") && !s.contains("%{")).then_some(s)
        }
        _ => None,
    }
}

fn literal_bool(attr: &Attr, diags: &mut Diagnostics) -> bool {
    match &attr.expr {
        hcl::Expression::Bool(b) => *b,
        _ => {
            diags.push(Diagnostic::error(
                "Expected a literal bool",
                format!(
                    "`{}` must be `true` or `false` written literally here.",
                    attr.name
                ),
                Some(&attr.loc),
            ));
            false
        }
    }
}

fn expect_labels(block: &BlockNode, n: usize, what: &str, diags: &mut Diagnostics) -> bool {
    if block.labels.len() != n {
        diags.push(Diagnostic::error(
            format!("Wrong number of labels on {} block", block.kind),
            format!("Write it as {what}."),
            Some(&block.loc),
        ));
        return false;
    }
    true
}

fn add_blocks(module: &mut Module, root: BlockNode, diags: &mut Diagnostics) {
    for attr in &root.attrs {
        diags.push(Diagnostic::error(
            "Unexpected top-level attribute",
            format!(
                "`{}` cannot be set at the top level of a stack file. Put values in a `variable` default, a `locals` block or a *.tfvars file.",
                attr.name
            ),
            Some(&attr.loc),
        ));
    }
    for block in root.blocks {
        match block.kind.as_str() {
            "resource" | "data" => {
                if !expect_labels(&block, 2, &format!("{} \"TYPE\" \"NAME\" {{ ... }}", block.kind), diags) {
                    continue;
                }
                let mode = if block.kind == "data" { Mode::Data } else { Mode::Managed };
                let rc = resource_config(mode, block, diags);
                if let Some(prev) = module.resources.get(&rc.id) {
                    diags.push(Diagnostic::error(
                        "Duplicate resource",
                        format!("{} is already declared at {}. Resource names must be unique per type.", rc.id, prev.loc),
                        Some(&rc.loc),
                    ));
                    continue;
                }
                module.resources.insert(rc.id.clone(), rc);
            }
            "variable" => {
                if !expect_labels(&block, 1, "variable \"NAME\" { ... }", diags) {
                    continue;
                }
                let v = variable(block, diags);
                if let Some(prev) = module.variables.get(&v.name) {
                    diags.push(Diagnostic::error(
                        "Duplicate variable",
                        format!("var.{} is already declared at {}.", v.name, prev.loc),
                        Some(&v.loc),
                    ));
                    continue;
                }
                module.variables.insert(v.name.clone(), v);
            }
            "locals" => {
                for b in &block.blocks {
                    diags.push(Diagnostic::error(
                        "Unexpected block in locals",
                        "A locals block holds only `name = value` attributes.",
                        Some(&b.loc),
                    ));
                }
                for attr in block.attrs {
                    if let Some(prev) = module.locals.get(&attr.name) {
                        diags.push(Diagnostic::error(
                            "Duplicate local value",
                            format!("local.{} is already defined at {}.", attr.name, prev.loc),
                            Some(&attr.loc),
                        ));
                        continue;
                    }
                    module.locals.insert(attr.name.clone(), attr);
                }
            }
            "output" => {
                if !expect_labels(&block, 1, "output \"NAME\" { value = ... }", diags) {
                    continue;
                }
                let name = block.labels[0].clone();
                let Some(value) = block.attr("value").cloned() else {
                    diags.push(Diagnostic::error(
                        "Missing required argument",
                        format!("output \"{name}\" needs `value = ...`."),
                        Some(&block.loc),
                    ));
                    continue;
                };
                let sensitive = block.attr("sensitive").map(|a| literal_bool(a, diags)).unwrap_or(false);
                let description = block.attr("description").and_then(literal_string);
                for a in &block.attrs {
                    if !["value", "sensitive", "description", "depends_on"].contains(&a.name.as_str()) {
                        diags.push(Diagnostic::error(
                            "Unsupported argument",
                            format!("An output block takes value, sensitive, description and depends_on, not `{}`.", a.name),
                            Some(&a.loc),
                        ));
                    }
                }
                module.outputs.insert(name.clone(), Output { name, value, sensitive, description, loc: block.loc });
            }
            "provider" => {
                if !expect_labels(&block, 1, "provider \"aws\" { ... }", diags) {
                    continue;
                }
                if block.labels[0] != "aws" {
                    diags.push(Diagnostic::error(
                        "Unsupported provider",
                        format!("thingform manages AWS only; provider \"{}\" is not supported.", block.labels[0]),
                        Some(&block.loc),
                    ));
                    continue;
                }
                if block.attr("alias").is_some() {
                    diags.push(Diagnostic::error(
                        "Provider aliases are not supported",
                        "thingform uses one AWS provider configuration per stack. Remove `alias`.",
                        Some(&block.loc),
                    ));
                }
                if module.provider.is_some() {
                    diags.push(Diagnostic::error(
                        "Duplicate provider configuration",
                        "Only one provider \"aws\" block is allowed per stack.",
                        Some(&block.loc),
                    ));
                    continue;
                }
                module.provider = Some(block);
            }
            "terraform" | "thingform" => module.terraform = Some(block),
            "check" => {
                if !expect_labels(&block, 1, "check \"NAME\" { assert { ... } }", diags) {
                    continue;
                }
                let c = checks::check_block(block, diags);
                if let Some(prev) = module.checks.iter().find(|p| p.name == c.name) {
                    diags.push(Diagnostic::error(
                        "Duplicate check block",
                        format!("check \"{}\" is already declared at {}. Check names must be unique.", c.name, prev.loc),
                        Some(&c.loc),
                    ));
                    continue;
                }
                module.checks.push(c);
            }
            "import" => {
                let to = block.attr("to").and_then(|a| hcl::format::to_string(&a.expr).ok()).and_then(|t| t.trim().parse().ok());
                match (to, block.attr("id")) {
                    (Some(to), Some(id)) => module.imports.push(ImportBlock { to, id: id.clone(), loc: block.loc.clone() }),
                    _ => diags.push(Diagnostic::error(
                        "Invalid import block",
                        "Write it as import { to = aws_iot_thing.sensor  id = \"sensor-1\" }: `to` a resource address, `id` the object's id.",
                        Some(&block.loc),
                    )),
                }
            }
            "moved" => {
                let addr = |name: &str| {
                    block
                        .attr(name)
                        .and_then(|a| hcl::format::to_string(&a.expr).ok())
                        .and_then(|t| t.trim().parse::<crate::address::Address>().ok())
                };
                match (addr("from"), addr("to")) {
                    (Some(from), Some(to)) if from.resource.rtype != to.resource.rtype => {
                        diags.push(Diagnostic::error(
                            "Resource type mismatch",
                            format!("This moved block moves {from} to {to}, which is a different resource type; a moved block can only rename an object of the same type."),
                            Some(&block.loc),
                        ))
                    }
                    (Some(from), Some(to)) if from.key.is_some() != to.key.is_some() => {
                        diags.push(Diagnostic::error(
                            "Invalid moved block",
                            format!("{from} and {to} must both be whole resources or both single instances (e.g. from = aws_iot_thing.node[0]  to = aws_iot_thing.node[\"a\"])."),
                            Some(&block.loc),
                        ))
                    }
                    (Some(from), Some(to)) => module.moved.push(MovedBlock { from, to, loc: block.loc.clone() }),
                    _ => diags.push(Diagnostic::error(
                        "Invalid moved block",
                        "Write it as moved { from = aws_iot_thing.old  to = aws_iot_thing.new }: both resource or instance addresses.",
                        Some(&block.loc),
                    )),
                }
            }
            other => diags.push(Diagnostic::error(
                "Unsupported block type",
                format!(
                    "Blocks of type \"{other}\" are not supported here. A stack holds resource, data, variable, locals, output, provider, import, moved, check and terraform blocks."
                ),
                Some(&block.loc),
            )),
        }
    }
}

fn resource_config(mode: Mode, mut block: BlockNode, diags: &mut Diagnostics) -> ResourceConfig {
    let id = ResourceId {
        mode,
        rtype: block.labels[0].clone(),
        name: block.labels[1].clone(),
    };
    let count = block.take_attr("count");
    let for_each = block.take_attr("for_each");
    if let (Some(_), Some(fe)) = (&count, &for_each) {
        diags.push(Diagnostic::error(
            "Invalid combination of count and for_each",
            "A resource may use count or for_each, not both.",
            Some(&fe.loc),
        ));
    }
    let mut depends_on = vec![];
    if let Some(dep) = block.take_attr("depends_on") {
        match &dep.expr {
            hcl::Expression::Array(items) => {
                for item in items {
                    match eval::static_reference(item) {
                        Some(r) => depends_on.push((r, dep.loc.clone())),
                        None => diags.push(Diagnostic::error(
                            "Invalid depends_on reference",
                            "depends_on takes a list of resource references such as [aws_s3_bucket.archive].",
                            Some(&dep.loc),
                        )),
                    }
                }
            }
            _ => diags.push(Diagnostic::error(
                "Invalid depends_on",
                "depends_on must be a list: depends_on = [aws_iam_role.ingest].",
                Some(&dep.loc),
            )),
        }
    }
    if let Some(p) = block.take_attr("provider") {
        diags.push(Diagnostic::warning(
            "Provider argument ignored",
            "thingform has one AWS provider configuration per stack; `provider` on a resource is ignored.",
            Some(&p.loc),
        ));
    }
    let mut lifecycle = Lifecycle::default();
    for lc in block.take_blocks("lifecycle") {
        for attr in &lc.attrs {
            match attr.name.as_str() {
                "prevent_destroy" => lifecycle.prevent_destroy = literal_bool(attr, diags),
                "create_before_destroy" => lifecycle.create_before_destroy = literal_bool(attr, diags),
                "ignore_changes" => match &attr.expr {
                    hcl::Expression::Variable(v) if v.as_str() == "all" => lifecycle.ignore_all = true,
                    hcl::Expression::Array(items) => {
                        for item in items {
                            match item {
                                hcl::Expression::Variable(v) => lifecycle.ignore_changes.push(v.to_string()),
                                hcl::Expression::Traversal(t) => {
                                    // `tags["x"]` and `tags.x` ignore the whole top-level attribute.
                                    if let hcl::Expression::Variable(v) = &t.expr {
                                        lifecycle.ignore_changes.push(v.to_string());
                                    }
                                }
                                hcl::Expression::String(s) => lifecycle.ignore_changes.push(s.clone()),
                                _ => diags.push(Diagnostic::error(
                                    "Invalid ignore_changes entry",
                                    "List attribute names: ignore_changes = [tags, billing_mode], or write `all`.",
                                    Some(&attr.loc),
                                )),
                            }
                        }
                    }
                    _ => diags.push(Diagnostic::error(
                        "Invalid ignore_changes",
                        "ignore_changes takes a list of attribute names, or `all`.",
                        Some(&attr.loc),
                    )),
                },
                other => diags.push(Diagnostic::error(
                    "Unsupported lifecycle argument",
                    format!(
                        "`{other}` is not a lifecycle argument. Use prevent_destroy, create_before_destroy or ignore_changes."
                    ),
                    Some(&attr.loc),
                )),
            }
        }
    }
    for unsupported in ["provisioner", "connection"] {
        for b in block.take_blocks(unsupported) {
            diags.push(Diagnostic::error(
                format!("{unsupported} blocks are not supported"),
                "thingform manages AWS resources declaratively; run scripts outside the stack.",
                Some(&b.loc),
            ));
        }
    }
    let loc = block.loc.clone();
    ResourceConfig {
        id,
        body: block,
        count,
        for_each,
        depends_on,
        lifecycle,
        loc,
    }
}

fn variable(block: BlockNode, diags: &mut Diagnostics) -> Variable {
    let name = block.labels[0].clone();
    let mut v = Variable {
        name: name.clone(),
        ty: None,
        default: None,
        description: None,
        sensitive: false,
        nullable: true,
        validations: vec![],
        loc: block.loc.clone(),
    };
    for attr in &block.attrs {
        match attr.name.as_str() {
            "type" => match types::TypeConstraint::parse(&attr.expr) {
                Ok(t) => v.ty = Some(t),
                Err(msg) => diags.push(Diagnostic::error("Invalid type constraint", msg, Some(&attr.loc))),
            },
            "default" => v.default = Some(attr.clone()),
            "description" => v.description = literal_string(attr),
            "sensitive" => v.sensitive = literal_bool(attr, diags),
            "nullable" => v.nullable = literal_bool(attr, diags),
            other => diags.push(Diagnostic::error(
                "Unsupported argument",
                format!(
                    "variable \"{name}\" does not take `{other}`. A variable takes type, default, description, sensitive, nullable and validation blocks."
                ),
                Some(&attr.loc),
            )),
        }
    }
    for b in &block.blocks {
        if b.kind != "validation" {
            diags.push(Diagnostic::error(
                "Unsupported block",
                format!(
                    "variable \"{name}\" takes only validation blocks, not `{}`.",
                    b.kind
                ),
                Some(&b.loc),
            ));
            continue;
        }
        match (b.attr("condition"), b.attr("error_message")) {
            (Some(c), Some(m)) => v.validations.push((c.clone(), m.clone())),
            _ => diags.push(Diagnostic::error(
                "Incomplete validation block",
                "A validation block needs `condition` and `error_message`.",
                Some(&b.loc),
            )),
        }
    }
    v
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
    fn meta_arguments_are_separated_from_the_body() {
        let root = parse_file(
            "main.tf",
            "resource \"aws_sns_topic\" \"t\" {\n  count = 2\n  name = \"x\"\n  depends_on = [aws_s3_bucket.b]\n  lifecycle {\n    ignore_changes = [tags]\n  }\n}\n",
        )
        .unwrap();
        let mut m = Module::default();
        let mut d = Diagnostics::default();
        add_blocks(&mut m, root, &mut d);
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
