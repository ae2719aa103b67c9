//! Root blocks of a stack file into the typed [`Module`]: resources and data sources
//! (meta-arguments separated from the body), variables, locals, outputs, the provider
//! configurations, module calls, and the import / moved / removed / check blocks.

use super::*;

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

pub(super) fn add_blocks(module: &mut Module, root: BlockNode, diags: &mut Diagnostics) {
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
                if let Some(a) = block.attr("alias") {
                    let Some(alias) = literal_string(a).filter(|s| is_ident(s)) else {
                        diags.push(Diagnostic::error(
                            "Invalid provider alias",
                            "`alias` must be a literal name such as \"eu\" (letters, digits, _ and -); resources then use provider = aws.eu.",
                            Some(&a.loc),
                        ));
                        continue;
                    };
                    if let Some(prev) = module.provider_aliases.get(&alias) {
                        diags.push(Diagnostic::error(
                            "Duplicate provider configuration",
                            format!("provider \"aws\" with alias = \"{alias}\" is already declared at {}.", prev.loc),
                            Some(&block.loc),
                        ));
                        continue;
                    }
                    let mut block = block;
                    block.take_attr("alias");
                    module.provider_aliases.insert(alias, block);
                    continue;
                }
                if let Some(prev) = &module.provider {
                    diags.push(Diagnostic::error(
                        "Duplicate provider configuration",
                        format!("A default provider \"aws\" block is already declared at {}. Give the others an alias (alias = \"eu\") and select them with provider = aws.eu.", prev.loc),
                        Some(&block.loc),
                    ));
                    continue;
                }
                module.provider = Some(block);
            }
            // Several terraform blocks (one with the backend, one with encryption, ...)
            // are one configuration, as in Terraform.
            "terraform" | "thingform" => match &mut module.terraform {
                Some(t) => {
                    t.attrs.extend(block.attrs);
                    t.blocks.extend(block.blocks);
                }
                None => module.terraform = Some(block),
            },
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
            "moved" if block.attr("for_each").is_some() => {
                match (block.attr("for_each"), block.attr("from"), block.attr("to")) {
                    (Some(fe), Some(from), Some(to)) => module.moved_each.push(MovedEach {
                        for_each: fe.clone(),
                        from: from.clone(),
                        to: to.clone(),
                        loc: block.loc.clone(),
                    }),
                    _ => diags.push(Diagnostic::error(
                        "Invalid moved block",
                        "A moved block with for_each needs `from` and `to` addresses that use each.key, e.g. from = aws_iot_thing.node[each.key]  to = module.node[each.key].aws_iot_thing.this.",
                        Some(&block.loc),
                    )),
                }
            }
            "moved" => {
                let addr = |name: &str| endpoint(&block, name);
                match (addr("from"), addr("to")) {
                    (Some(Endpoint::Resource(from)), Some(Endpoint::Resource(to))) if from.resource.rtype != to.resource.rtype || from.resource.mode != to.resource.mode => {
                        diags.push(Diagnostic::error(
                            "Resource type mismatch",
                            format!("This moved block moves {from} to {to}, which is a different resource type; a moved block can only rename an object of the same type."),
                            Some(&block.loc),
                        ))
                    }
                    (Some(from @ Endpoint::Resource(_)), Some(to @ Endpoint::Module(_))) | (Some(from @ Endpoint::Module(_)), Some(to @ Endpoint::Resource(_))) => {
                        diags.push(Diagnostic::error(
                            "Invalid moved block",
                            format!("{from} and {to} must both be resources or both modules: a module moves to a module (from = module.a  to = module.b[\"x\"]), a resource to a resource (from = aws_iot_thing.n  to = module.b.aws_iot_thing.n)."),
                            Some(&block.loc),
                        ))
                    }
                    (Some(from), Some(to)) => module.moved.push(MovedBlock { from, to, loc: block.loc.clone() }),
                    _ => diags.push(Diagnostic::error(
                        "Invalid moved block",
                        "Write it as moved { from = aws_iot_thing.old  to = aws_iot_thing.new }: both resource, instance or module addresses (module.NAME, module.NAME[\"KEY\"]).",
                        Some(&block.loc),
                    )),
                }
            }
            "removed" => {
                if let Some(r) = removed_block(&block, diags) {
                    module.removed.push(r);
                }
            }
            "module" => {
                if !expect_labels(&block, 1, "module \"NAME\" { source = \"./modules/NAME\" ... }", diags) {
                    continue;
                }
                if let Some(call) = module_call(block, diags) {
                    if let Some(prev) = module.module_calls.get(&call.name) {
                        diags.push(Diagnostic::error(
                            "Duplicate module call",
                            format!("module.{} is already declared at {}. Module names must be unique.", call.name, prev.loc),
                            Some(&call.loc),
                        ));
                        continue;
                    }
                    module.module_calls.insert(call.name.clone(), call);
                }
            }
            other => diags.push(Diagnostic::error(
                "Unsupported block type",
                format!(
                    "Blocks of type \"{other}\" are not supported here. A stack holds resource, data, module, variable, locals, output, provider, import, moved, removed, check and terraform blocks."
                ),
                Some(&block.loc),
            )),
        }
    }
}

pub(super) fn resource_config(
    mode: Mode,
    mut block: BlockNode,
    diags: &mut Diagnostics,
) -> ResourceConfig {
    let id = ResourceId {
        module: Default::default(),
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
    let (depends_on, depends_on_modules) = match block.take_attr("depends_on") {
        Some(dep) => parse_depends_on(&dep, diags),
        None => (vec![], vec![]),
    };
    let provider = block
        .take_attr("provider")
        .and_then(|p| provider_ref(&p.expr, &p.loc, diags).map(|alias| (alias, p.loc.clone())));
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
        depends_on_modules,
        provider,
        provider_config: None,
        lifecycle,
        loc,
    }
}

/// `depends_on = [aws_s3_bucket.archive, module.network]`.
type DependsOn = (Vec<(ResourceId, Loc)>, Vec<(String, Loc)>);

fn parse_depends_on(dep: &Attr, diags: &mut Diagnostics) -> DependsOn {
    let (mut resources, mut modules) = (vec![], vec![]);
    let hcl::Expression::Array(items) = &dep.expr else {
        diags.push(Diagnostic::error(
            "Invalid depends_on",
            "depends_on must be a list: depends_on = [aws_iam_role.ingest].",
            Some(&dep.loc),
        ));
        return (resources, modules);
    };
    for item in items {
        match eval::references(item).as_slice() {
            [eval::Reference::Resource(r)] => resources.push((r.clone(), dep.loc.clone())),
            [eval::Reference::Module { call, .. }] => modules.push((call.clone(), dep.loc.clone())),
            _ => diags.push(Diagnostic::error(
                "Invalid depends_on reference",
                "depends_on takes a list of resource or module references such as [aws_s3_bucket.archive, module.network].",
                Some(&dep.loc),
            )),
        }
    }
    (resources, modules)
}

/// The `from`/`to` of a moved or removed block, as an address.
fn endpoint(block: &BlockNode, name: &str) -> Option<Endpoint> {
    block
        .attr(name)
        .and_then(|a| hcl::format::to_string(&a.expr).ok())
        .and_then(|t| t.trim().parse::<Endpoint>().ok())
}

fn removed_block(block: &BlockNode, diags: &mut Diagnostics) -> Option<RemovedBlock> {
    let Some(from) = endpoint(block, "from") else {
        diags.push(Diagnostic::error(
            "Invalid removed block",
            "Write it as removed { from = aws_iot_thing.old  lifecycle { destroy = false } }: `from` a resource or module address (no instance key).",
            Some(&block.loc),
        ));
        return None;
    };
    if let Endpoint::Resource(a) = &from
        && a.key.is_some()
    {
        diags.push(Diagnostic::error(
            "Invalid removed block",
            format!("`from = {a}` names one instance; a removed block takes a whole resource or module (drop the [key])."),
            Some(&block.loc),
        ));
        return None;
    }
    let mut destroy = true;
    for a in &block.attrs {
        if a.name != "from" {
            diags.push(Diagnostic::error(
                "Unsupported argument",
                format!(
                    "A removed block takes `from` and a lifecycle block, not `{}`.",
                    a.name
                ),
                Some(&a.loc),
            ));
        }
    }
    for b in &block.blocks {
        if b.kind != "lifecycle" {
            diags.push(Diagnostic::error(
                "Unsupported block",
                format!("A removed block takes a lifecycle block, not `{}`.", b.kind),
                Some(&b.loc),
            ));
            continue;
        }
        for a in &b.attrs {
            match a.name.as_str() {
                "destroy" => destroy = literal_bool(a, diags),
                other => diags.push(Diagnostic::error(
                    "Unsupported lifecycle argument",
                    format!("A removed block's lifecycle takes `destroy`, not `{other}`."),
                    Some(&a.loc),
                )),
            }
        }
    }
    Some(RemovedBlock {
        from,
        destroy,
        loc: block.loc.clone(),
    })
}

fn module_call(mut block: BlockNode, diags: &mut Diagnostics) -> Option<ModuleCall> {
    let name = block.labels[0].clone();
    let loc = block.loc.clone();
    let source = match block.take_attr("source") {
        Some(a) => match literal_string(&a) {
            Some(s) => s,
            None => {
                diags.push(Diagnostic::error(
                    "Invalid module source",
                    "`source` must be a literal string such as \"./modules/site\".",
                    Some(&a.loc),
                ));
                return None;
            }
        },
        None => {
            diags.push(Diagnostic::error(
                "Missing required argument",
                format!("module \"{name}\" needs `source = \"./modules/...\"`, the directory of the child module."),
                Some(&loc),
            ));
            return None;
        }
    };
    if let Some(v) = block.take_attr("version") {
        diags.push(Diagnostic::error(
            "Invalid module version",
            "`version` applies to registry modules only; a local module (source = \"./...\") has no version. Remove it.",
            Some(&v.loc),
        ));
    }
    let count = block.take_attr("count");
    let for_each = block.take_attr("for_each");
    if let (Some(_), Some(fe)) = (&count, &for_each) {
        diags.push(Diagnostic::error(
            "Invalid combination of count and for_each",
            "A module may use count or for_each, not both.",
            Some(&fe.loc),
        ));
    }
    let (depends_on, depends_on_modules) = match block.take_attr("depends_on") {
        Some(dep) => parse_depends_on(&dep, diags),
        None => (vec![], vec![]),
    };
    let providers = block
        .take_attr("providers")
        .map(|a| providers_map(&a, diags))
        .unwrap_or_default();
    for b in &block.blocks {
        diags.push(Diagnostic::error(
            "Unsupported block",
            format!(
                "module \"{name}\" takes input arguments (name = value) and the meta-arguments source, count, for_each, depends_on and providers, not a `{}` block.",
                b.kind
            ),
            Some(&b.loc),
        ));
    }
    Some(ModuleCall {
        name,
        source,
        args: block.attrs,
        count,
        for_each,
        depends_on,
        depends_on_modules,
        providers,
        loc,
    })
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

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// `aws` (the default configuration: None) or `aws.NAME` (Some(NAME)), as written in
/// `provider = ...` and in a module's `providers` map.
fn provider_ref(
    expr: &hcl::Expression,
    loc: &Loc,
    diags: &mut Diagnostics,
) -> Option<Option<String>> {
    let text = hcl::format::to_string(expr).unwrap_or_default();
    let text = text.trim();
    match text.split_once('.') {
        None if text == "aws" => Some(None),
        Some(("aws", alias)) if is_ident(alias) => Some(Some(alias.to_string())),
        _ => {
            diags.push(Diagnostic::error(
                "Invalid provider reference",
                format!("`{text}` is not a provider configuration: write aws (the default) or aws.ALIAS for a provider \"aws\" block with alias = \"ALIAS\"."),
                Some(loc),
            ));
            None
        }
    }
}

/// `providers = { aws = aws.eu, aws.west = aws.us }`: the child module's configuration
/// (None: its default) -> the caller's.
fn providers_map(
    attr: &Attr,
    diags: &mut Diagnostics,
) -> Vec<(Option<String>, Option<String>, Loc)> {
    let hcl::Expression::Object(obj) = &attr.expr else {
        diags.push(Diagnostic::error(
            "Invalid providers argument",
            "providers is a map from the module's provider names to this module's: providers = { aws = aws.eu }.",
            Some(&attr.loc),
        ));
        return vec![];
    };
    let mut out = vec![];
    for (k, v) in obj.iter() {
        let key = match k {
            hcl::expr::ObjectKey::Identifier(id) => hcl::Expression::Variable(id.clone().into()),
            hcl::expr::ObjectKey::Expression(e) => e.clone(),
            _ => continue,
        };
        if let (Some(child), Some(parent)) = (
            provider_ref(&key, &attr.loc, diags),
            provider_ref(v, &attr.loc, diags),
        ) {
            out.push((child, parent, attr.loc.clone()));
        }
    }
    out
}
