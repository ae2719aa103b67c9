//! `data "aws_iam_policy_document"`, computed locally as Terraform's provider does:
//! the document's own `statement` blocks merged with `source_policy_documents` and
//! `override_policy_documents` by statement `Sid`.
//!
//! Merge order (the provider's documented rules): the statements of every source
//! document, in order (their non-empty Sids must be unique); then the document's own
//! statements, each replacing a source statement with the same Sid in place, or appended;
//! then each override document in order, each statement replacing the one with the same
//! Sid so far, or appended. Statements without a Sid are never replaced.

use super::super::attrs::{Attrs, blocks, str_of, string_list};
use super::super::client::Provider;
use super::super::schema::{
    Block, Schema, list, out, string, string_list as list_attr, string_set,
};
use super::DataSourceType;
use async_trait::async_trait;
use serde_json::{Value as Json, json};

pub struct PolicyDocument {
    schema: Schema,
}

impl PolicyDocument {
    pub(super) fn new() -> Self {
        let principals = Block::new()
            .attr(string("type").required())
            .attr(string_set("identifiers").required());
        let statement = Block::new()
            .attr(string("sid"))
            .attr(string("effect"))
            .attr(string_set("actions"))
            .attr(string_set("not_actions"))
            .attr(string_set("resources"))
            .attr(string_set("not_resources"))
            .block(list("principals", principals.clone()))
            .block(list("not_principals", principals))
            .block(list(
                "condition",
                Block::new()
                    .attr(string("test").required())
                    .attr(string("variable").required())
                    .attr(list_attr("values").required()),
            ));
        PolicyDocument {
            schema: Schema {
                id_attr: "id",
                block: Block::new()
                    .attr(string("version"))
                    .attr(string("policy_id"))
                    .attr(list_attr("source_policy_documents"))
                    .attr(list_attr("override_policy_documents"))
                    .attr(out("json"))
                    .attr(out("minified_json"))
                    .attr(out("id"))
                    .block(list("statement", statement)),
            },
        }
    }
}

/// One string when there is one element, a list otherwise (as Terraform renders them).
fn one_or_many(v: Vec<String>) -> Json {
    if v.len() == 1 { json!(v[0]) } else { json!(v) }
}

/// One `statement` block as the JSON statement Terraform renders.
fn statement_json(s: &Attrs) -> Json {
    let mut st = serde_json::Map::new();
    if let Some(sid) = str_of(s, "sid") {
        st.insert("Sid".into(), json!(sid));
    }
    st.insert(
        "Effect".into(),
        json!(str_of(s, "effect").unwrap_or("Allow")),
    );
    for (attr, key) in [
        ("actions", "Action"),
        ("not_actions", "NotAction"),
        ("resources", "Resource"),
        ("not_resources", "NotResource"),
    ] {
        let v = string_list(s, attr);
        if !v.is_empty() {
            st.insert(key.into(), one_or_many(v));
        }
    }
    for (attr, key) in [
        ("principals", "Principal"),
        ("not_principals", "NotPrincipal"),
    ] {
        let ps = blocks(s, attr);
        if ps.is_empty() {
            continue;
        }
        let mut m = serde_json::Map::new();
        for pr in ps {
            let t = str_of(pr, "type").unwrap_or("AWS").to_string();
            if t == "*" {
                st.insert(key.into(), json!("*"));
                continue;
            }
            // Several blocks of one type add up, as in the provider.
            let mut ids = match m.remove(&t) {
                Some(Json::String(one)) => vec![one],
                Some(Json::Array(l)) => l
                    .into_iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => vec![],
            };
            ids.extend(string_list(pr, "identifiers"));
            m.insert(t, one_or_many(ids));
        }
        if !m.is_empty() {
            st.insert(key.into(), Json::Object(m));
        }
    }
    let conds = blocks(s, "condition");
    if !conds.is_empty() {
        let mut m: serde_json::Map<String, Json> = serde_json::Map::new();
        for c in conds {
            let test = str_of(c, "test").unwrap_or_default().to_string();
            let entry = m.entry(test).or_insert_with(|| json!({}));
            if let Some(o) = entry.as_object_mut() {
                o.insert(
                    str_of(c, "variable").unwrap_or_default().to_string(),
                    one_or_many(string_list(c, "values")),
                );
            }
        }
        st.insert("Condition".into(), Json::Object(m));
    }
    Json::Object(st)
}

fn sid_of(st: &Json) -> Option<&str> {
    st.get("Sid")
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
}

/// A JSON policy document given as a string: its Version, Id and statements (a lone
/// statement object counts as a list of one).
struct Parsed {
    version: Option<String>,
    id: Option<String>,
    statements: Vec<Json>,
}

fn parse_document(what: &str, i: usize, text: &str) -> anyhow::Result<Parsed> {
    let doc: Json = serde_json::from_str(text)
        .map_err(|e| anyhow::anyhow!("{what}[{i}] is not a JSON policy document: {e}"))?;
    let statements = match doc.get("Statement") {
        None | Some(Json::Null) => vec![],
        Some(Json::Array(l)) => l.clone(),
        Some(o @ Json::Object(_)) => vec![o.clone()],
        Some(other) => anyhow::bail!("{what}[{i}]: Statement must be a list, not {other}"),
    };
    let s = |k: &str| doc.get(k).and_then(Json::as_str).map(str::to_string);
    Ok(Parsed {
        version: s("Version"),
        id: s("Id"),
        statements,
    })
}

/// Replaces the statement with `st`'s Sid, or appends `st`.
fn override_into(merged: &mut Vec<Json>, st: Json) {
    if let Some(sid) = sid_of(&st)
        && let Some(slot) = merged.iter_mut().find(|m| sid_of(m) == Some(sid))
    {
        *slot = st;
        return;
    }
    merged.push(st);
}

/// The merged policy document of a configuration, as Terraform renders it.
pub fn policy_json(cfg: &Attrs) -> anyhow::Result<Json> {
    // As the provider merges documents: the highest Version of all of them wins, and the
    // last Id given (sources, then the document's own, then overrides).
    let mut version = str_of(cfg, "version").unwrap_or("2012-10-17").to_string();
    let mut id: Option<String> = None;
    let mut adopt = |v: Option<String>, i: Option<String>, id: &mut Option<String>| {
        if let Some(v) = v
            && v > version
        {
            version = v;
        }
        if i.is_some() {
            *id = i;
        }
    };
    let mut merged: Vec<Json> = vec![];

    for (i, text) in string_list(cfg, "source_policy_documents")
        .iter()
        .enumerate()
    {
        let doc = parse_document("source_policy_documents", i, text)?;
        adopt(doc.version, doc.id, &mut id);
        for st in doc.statements {
            if let Some(sid) = sid_of(&st)
                && merged.iter().any(|m| sid_of(m) == Some(sid))
            {
                anyhow::bail!(
                    "duplicate Sid ({sid}) in source_policy_documents: the Sids of source documents must be unique"
                );
            }
            merged.push(st);
        }
    }

    let own: Vec<Json> = blocks(cfg, "statement")
        .into_iter()
        .map(statement_json)
        .collect();
    let mut seen = std::collections::HashSet::new();
    for st in &own {
        if let Some(sid) = sid_of(st)
            && !seen.insert(sid.to_string())
        {
            anyhow::bail!("duplicate Sid ({sid}) among the statement blocks");
        }
    }
    for st in own {
        override_into(&mut merged, st);
    }
    adopt(None, str_of(cfg, "policy_id").map(str::to_string), &mut id);

    for (i, text) in string_list(cfg, "override_policy_documents")
        .iter()
        .enumerate()
    {
        let doc = parse_document("override_policy_documents", i, text)?;
        adopt(doc.version, doc.id, &mut id);
        for st in doc.statements {
            override_into(&mut merged, st);
        }
    }

    let mut doc = serde_json::Map::new();
    doc.insert("Version".into(), json!(version));
    if let Some(id) = id {
        doc.insert("Id".into(), json!(id));
    }
    doc.insert("Statement".into(), Json::Array(merged));
    Ok(Json::Object(doc))
}

#[async_trait]
impl DataSourceType for PolicyDocument {
    fn name(&self) -> &'static str {
        "aws_iam_policy_document"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn read_local(&self, cfg: &Attrs) -> Option<anyhow::Result<Attrs>> {
        Some(policy_json(cfg).map(|doc| {
            let mut a = cfg.clone();
            let pretty = serde_json::to_string_pretty(&doc).unwrap_or_default();
            let minified = doc.to_string();
            a.insert(
                "id".into(),
                json!(crate::value::canonical_json(&minified).len().to_string()),
            );
            a.insert("json".into(), json!(pretty));
            a.insert("minified_json".into(), json!(minified));
            a
        }))
    }
    async fn read(&self, _p: &Provider, cfg: &Attrs) -> anyhow::Result<Attrs> {
        self.read_local(cfg).unwrap_or_else(|| Ok(cfg.clone()))
    }
}

#[cfg(test)]
#[path = "policy_document_tests.rs"]
mod tests;
