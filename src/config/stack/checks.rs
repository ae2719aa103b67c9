//! `check` blocks validated against the stack: the scoped data source against its
//! schema, every reference against the declarations. A check adds nothing to the
//! dependency graph (it runs after everything else), so it can never form a cycle.

use super::Stack;
use super::check::check_block;
use crate::address::ResourceId;
use crate::config::checks::CheckBlock;
use crate::config::eval::{Reference, references};
use crate::config::{Attr, BlockNode};
use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::provider;

impl Stack {
    /// The check whose scoped data source is `id`, if any.
    pub(super) fn scoped_data_owner(&self, id: &ResourceId) -> Option<&str> {
        self.module
            .checks
            .iter()
            .find(|c| c.data.as_ref().is_some_and(|d| &d.id == id))
            .map(|c| c.name.as_str())
    }

    pub(super) fn validate_checks(&self, diags: &mut Diagnostics) {
        for c in &self.module.checks {
            let from = format!("check.{}", c.name);
            if let Some(d) = &c.data {
                self.validate_scoped_data(c, d, diags);
                let attrs = all_attrs(&d.body);
                self.check_refs(c, &from, attrs, diags);
                for (dep, loc) in &d.depends_on {
                    if !self.module.resources.contains_key(dep) {
                        diags.push(Diagnostic::error(
                            "Reference to undeclared resource",
                            format!("depends_on of {} names {dep}, which is not declared in this stack.", d.id),
                            Some(loc),
                        ));
                    }
                }
            }
            for a in &c.asserts {
                self.check_refs(c, &from, vec![&a.condition, &a.error_message], diags);
            }
        }
    }

    fn validate_scoped_data(
        &self,
        c: &CheckBlock,
        d: &crate::config::ResourceConfig,
        diags: &mut Diagnostics,
    ) {
        if let Some(prev) = self.module.resources.get(&d.id) {
            diags.push(Diagnostic::error(
                "Duplicate data resource",
                format!(
                    "{} (in check \"{}\") is already declared at {}. Data resource names must be unique per type.",
                    d.id, c.name, prev.loc
                ),
                Some(&d.loc),
            ));
        }
        if let Some(other) = self
            .module
            .checks
            .iter()
            .find(|o| o.name != c.name && o.data.as_ref().is_some_and(|od| od.id == d.id))
            && other.name < c.name
        {
            diags.push(Diagnostic::error(
                "Duplicate data resource",
                format!(
                    "{} is also declared in check \"{}\". Data resource names must be unique per type.",
                    d.id, other.name
                ),
                Some(&d.loc),
            ));
        }
        match provider::data::data_source(&d.id.rtype) {
            Some(ds) => check_block(
                &d.body,
                &ds.schema().block,
                &format!("data.{}", d.id.rtype),
                diags,
            ),
            None => diags.push(Diagnostic::error(
                "Unsupported data source",
                format!(
                    "data \"{}\" (in check \"{}\") is not supported.{}",
                    d.id.rtype,
                    c.name,
                    did_you_mean(&d.id.rtype, provider::data::registry().keys().copied())
                ),
                Some(&d.loc),
            )),
        }
    }

    fn check_refs(&self, c: &CheckBlock, from: &str, attrs: Vec<&Attr>, diags: &mut Diagnostics) {
        let own = c.data.as_ref().map(|d| &d.id);
        for a in attrs {
            for r in references(&a.expr) {
                if let Reference::Resource(id) = &r
                    && Some(id) == own
                {
                    continue;
                }
                self.check_reference(
                    &r,
                    &crate::address::ModuleInstance::root(),
                    &from,
                    &a.loc,
                    Default::default(),
                    diags,
                );
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

#[cfg(test)]
mod tests {
    use super::*;

    fn load(src: &str) -> Result<Stack, Diagnostics> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), src).unwrap();
        Stack::load(dir.path(), &[], "default").map(|(s, _)| s)
    }

    const TOPIC: &str = "resource \"aws_sns_topic\" \"t\" {\n  name = \"t\"\n}\n";

    #[test]
    fn checks_add_no_graph_nodes_or_edges() {
        let s = load(&format!(
            "{TOPIC}check \"c\" {{\n  data \"aws_caller_identity\" \"me\" {{\n    depends_on = [aws_sns_topic.t]\n  }}\n  assert {{\n    condition     = aws_sns_topic.t.name == data.aws_caller_identity.me.account_id\n    error_message = \"${{aws_sns_topic.t.arn}} is wrong\"\n  }}\n}}\n"
        ))
        .unwrap();
        assert_eq!(s.order().len(), 1, "only the topic: {:?}", s.order());
        assert!(s.module.resources.len() == 1);
    }

    #[test]
    fn undeclared_references_in_checks_are_errors() {
        let err = load(&format!(
            "{TOPIC}check \"c\" {{\n  assert {{\n    condition     = aws_sns_topic.u.name == var.nope\n    error_message = \"x\"\n  }}\n}}\n"
        ))
        .err()
        .unwrap();
        let text = err.to_string();
        assert!(text.contains("check.c refers to aws_sns_topic.u"), "{text}");
        assert!(text.contains("Did you mean \"aws_sns_topic.t\""), "{text}");
        assert!(text.contains("var.nope"), "{text}");
        assert!(
            err.errors().all(|d| d.loc.as_ref().unwrap().line == 6),
            "{text}"
        );
    }

    #[test]
    fn scoped_data_is_only_visible_inside_its_check() {
        let err = load(&format!(
            "{TOPIC}output \"id\" {{\n  value = data.aws_caller_identity.me.account_id\n}}\ncheck \"c\" {{\n  data \"aws_caller_identity\" \"me\" {{}}\n  assert {{\n    condition     = data.aws_caller_identity.me.account_id != \"\"\n    error_message = \"x\"\n  }}\n}}\n"
        ))
        .err()
        .unwrap();
        let d = err.errors().next().unwrap();
        assert_eq!(d.summary, "Reference to scoped resource", "{err}");
        assert!(d.detail.contains("check \"c\""), "{}", d.detail);
        assert_eq!(err.errors().count(), 1, "{err}");
    }

    #[test]
    fn scoped_data_is_checked_against_its_schema() {
        let err = load(&format!(
            "{TOPIC}data \"aws_region\" \"r\" {{}}\ncheck \"c\" {{\n  data \"aws_region\" \"r\" {{}}\n  assert {{\n    condition     = aws_sns_topic.t.name != \"\"\n    error_message = \"x\"\n  }}\n}}\ncheck \"d\" {{\n  data \"aws_caller_identity\" \"me\" {{\n    nmae = \"x\"\n  }}\n  assert {{\n    condition     = data.aws_caller_identity.me.account_id != \"\"\n    error_message = \"x\"\n  }}\n}}\n"
        ))
        .err()
        .unwrap();
        let text = err.to_string();
        assert!(text.contains("Duplicate data resource"), "{text}");
        assert!(
            text.contains("data.aws_caller_identity has no argument named \"nmae\""),
            "{text}"
        );
    }
}
