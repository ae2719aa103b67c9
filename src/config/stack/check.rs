//! Every block checked against its schema: unknown or misplaced arguments and blocks,
//! block counts, required arguments, unsupported types.

use super::Stack;
use crate::address::Mode;
use crate::config::BlockNode;
use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::provider::{self, schema::Block};
use std::collections::BTreeMap;

impl Stack {
    pub(super) fn check_schemas(&self, diags: &mut Diagnostics) {
        if let Some(p) = &self.module.provider {
            check_block(p, &provider::provider_schema(), "provider \"aws\"", diags);
        }
        for (alias, p) in &self.module.provider_aliases {
            let what = format!("provider \"aws\" (alias {alias:?})");
            check_block(p, &provider::provider_schema(), &what, diags);
        }
        // Each module once, however many instances it has.
        let mut defs = vec![self.module.clone()];
        for i in self.modules.values() {
            if !defs.iter().any(|d| std::sync::Arc::ptr_eq(d, &i.def)) {
                defs.push(i.def.clone());
            }
        }
        for rc in defs.iter().flat_map(|d| d.resources.values()) {
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
}

pub(super) fn check_block(node: &BlockNode, schema: &Block, what: &str, diags: &mut Diagnostics) {
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
