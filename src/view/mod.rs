//! What a reviewer looks at: a plan or a state as a [`Model`] (one [`Item`] per
//! instance, its action, its attribute diff with sensitive values hidden, grouped by
//! module and resource), rendered as one self-contained HTML page ([`html`]) or as an
//! SVG picture of the resource graph ([`layout`], laid out in Rust by `layout-rs`).
//! Returns strings; the CLI writes them.
//!
//! Addresses are handled as text so that module paths
//! (`module.site["b1"].aws_iot_thing.node["n1"]`) group without knowing their type:
//! [`split_address`] separates the module path, the resource and the instance key.

pub mod html;
pub mod layout;

use crate::engine::plan::{Action, Plan};
use crate::state::State;
use crate::value::Value;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

/// Shown instead of a sensitive value (never written to the page).
pub const SENSITIVE: &str = "(sensitive value)";
/// Shown for a value known only after apply.
pub const UNKNOWN: &str = "(known after apply)";

/// What happens to an instance; the colour of its node and row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Create,
    Update,
    Replace,
    Delete,
    /// Changed outside thingform; the plan accepts it (no action).
    Drift,
    NoOp,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Create,
        Kind::Update,
        Kind::Replace,
        Kind::Delete,
        Kind::Drift,
        Kind::NoOp,
    ];

    /// The CSS class and filter name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Create => "create",
            Kind::Update => "update",
            Kind::Replace => "replace",
            Kind::Delete => "delete",
            Kind::Drift => "drift",
            Kind::NoOp => "no-op",
        }
    }

    /// Terraform's symbol for the action.
    pub fn symbol(self) -> &'static str {
        match self {
            Kind::Create => "+",
            Kind::Update => "~",
            Kind::Replace => "-/+",
            Kind::Delete => "-",
            Kind::Drift => "!",
            Kind::NoOp => "=",
        }
    }

    /// Fill colour (light) of a node of this kind.
    pub fn fill(self) -> &'static str {
        match self {
            Kind::Create => "#d3f2d8",
            Kind::Update => "#fdf0c4",
            Kind::Replace => "#e9dcfb",
            Kind::Delete => "#fbd4d4",
            Kind::Drift => "#d5e8fb",
            Kind::NoOp => "#eeeeee",
        }
    }

    /// The kind that colours a resource whose instances have several: the most
    /// consequential one.
    fn weight(self) -> u8 {
        match self {
            Kind::Delete => 5,
            Kind::Replace => 4,
            Kind::Update => 3,
            Kind::Create => 2,
            Kind::Drift => 1,
            Kind::NoOp => 0,
        }
    }

    fn of(a: Action) -> Kind {
        match a {
            Action::Create => Kind::Create,
            Action::Update => Kind::Update,
            Action::DeleteThenCreate | Action::CreateThenDelete => Kind::Replace,
            Action::Delete => Kind::Delete,
            Action::NoOp => Kind::NoOp,
        }
    }
}

/// One attribute of an instance: its value before and after (None: absent).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub name: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Row {
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

/// One instance.
#[derive(Clone, Debug)]
pub struct Item {
    pub address: String,
    /// The module instance path (`module.site["b1"]`), empty at the root.
    pub module: String,
    /// The resource with instance keys dropped (`module.site.aws_iot_thing.node`): the
    /// node of the graph this instance belongs to.
    pub group: String,
    pub rtype: String,
    pub kind: Kind,
    /// Why (replacement reason, drift, import, deposed), for the detail pane.
    pub notes: Vec<String>,
    pub rows: Vec<Row>,
}

/// A plan or a state as the page shows it.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub title: String,
    /// Instances in address order.
    pub items: Vec<Item>,
    /// (group, group it depends on).
    pub edges: BTreeSet<(String, String)>,
    /// Output values (name, before, after), sensitive ones hidden.
    pub outputs: Vec<Row>,
}

/// The `.`-separated segments of an address; dots inside keys never split.
fn segments(addr: &str) -> Vec<String> {
    let mut segs: Vec<String> = vec![];
    let (mut cur, mut depth, mut quoted, mut escaped) = (String::new(), 0usize, false, false);
    for ch in addr.chars() {
        if quoted {
            cur.push(ch);
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' {
                quoted = false;
            }
            continue;
        }
        match ch {
            '"' => quoted = true,
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                segs.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    segs.push(cur);
    segs
}

/// `module.a["x"].module.b.aws_t.n["k"]` → (`module.a["x"].module.b`, `aws_t.n`, `["k"]`).
pub fn split_address(addr: &str) -> (String, String, String) {
    let segs = segments(addr);
    let mut module = vec![];
    let mut i = 0;
    while i + 2 < segs.len() && segs[i] == "module" {
        module.push(format!("module.{}", segs[i + 1]));
        i += 2;
    }
    let rest = segs[i..].join(".");
    let (res, key) = match rest.find('[') {
        Some(at) if rest.ends_with(']') => (rest[..at].to_string(), rest[at..].to_string()),
        _ => (rest, String::new()),
    };
    (module.join("."), res, key)
}

/// Drops the instance keys of a module path: `module.a["x"].module.b[0]` → `module.a.module.b`.
pub fn strip_keys(module: &str) -> String {
    if module.is_empty() {
        return String::new();
    }
    segments(module)
        .iter()
        .map(|s| s.split('[').next().unwrap_or(s))
        .collect::<Vec<_>>()
        .join(".")
}

fn group_of(module: &str, res: &str) -> String {
    let m = strip_keys(module);
    if m.is_empty() {
        res.to_string()
    } else {
        format!("{m}.{res}")
    }
}

fn sensitive_attrs(rtype: &str) -> BTreeSet<&'static str> {
    crate::provider::resource_type(rtype)
        .map(|t| {
            t.schema()
                .block
                .attrs
                .iter()
                .filter(|a| a.sensitive)
                .map(|a| a.name)
                .collect()
        })
        .unwrap_or_default()
}

/// A value as one line of text; unknowns as [`UNKNOWN`].
fn show(v: &Value) -> String {
    fn known(v: &Value) -> Json {
        match v {
            Value::Unknown => Json::String(UNKNOWN.into()),
            Value::List(l) => Json::Array(l.iter().map(known).collect()),
            Value::Map(m) => Json::Object(m.iter().map(|(k, x)| (k.clone(), known(x))).collect()),
            other => other.to_json(),
        }
    }
    match v {
        Value::Unknown => UNKNOWN.into(),
        other => known(other).to_string(),
    }
}

/// The attribute rows of an object before and after, sensitive values hidden.
fn rows(rtype: &str, before: Option<&Value>, after: Option<&Value>) -> Vec<Row> {
    let hidden = sensitive_attrs(rtype);
    let mut names: BTreeSet<&String> = BTreeSet::new();
    for v in [before, after].into_iter().flatten() {
        if let Value::Map(m) = v {
            names.extend(m.keys());
        }
    }
    let cell = |v: Option<&Value>, name: &str| -> Option<String> {
        let x = v?.get(name)?;
        if x.is_null() {
            return None;
        }
        Some(if hidden.contains(name) && !matches!(x, Value::Unknown) {
            SENSITIVE.to_string()
        } else {
            show(x)
        })
    };
    names
        .into_iter()
        .map(|n| Row {
            name: n.clone(),
            before: cell(before, n),
            after: cell(after, n),
        })
        .filter(|r| r.before.is_some() || r.after.is_some())
        .collect()
}

fn item(address: String, rtype: &str, kind: Kind, notes: Vec<String>, rows: Vec<Row>) -> Item {
    let (module, res, _) = split_address(&address);
    Item {
        group: group_of(&module, &res),
        module,
        rtype: rtype.to_string(),
        address,
        kind,
        notes,
        rows,
    }
}

/// Resolves a dependency named from inside `module` to a graph node, if there is one.
fn add_edges(
    edges: &mut BTreeSet<(String, String)>,
    groups: &BTreeSet<String>,
    it: &Item,
    deps: &[String],
) {
    for d in deps {
        let (m, r, _) = split_address(d);
        let full = group_of(&m, &r);
        let inside = group_of(&it.module, &r);
        let target = [full, inside]
            .into_iter()
            .find(|g| groups.contains(g) && *g != it.group);
        if let Some(t) = target {
            edges.insert((it.group.clone(), t));
        }
    }
}

impl Model {
    /// A plan: every change, drift marked, outputs that change.
    pub fn from_plan(plan: &Plan, title: &str) -> Model {
        let drift: BTreeMap<String, &crate::engine::plan::Drift> = plan
            .drift
            .iter()
            .map(|d| (d.address.to_string(), d))
            .collect();
        let mut deps = vec![];
        let mut items: Vec<Item> = plan
            .changes
            .iter()
            .map(|c| {
                let address = c.address.to_string();
                let mut kind = Kind::of(c.action);
                let mut notes = vec![];
                if let Some(d) = drift.get(&address) {
                    if kind == Kind::NoOp {
                        kind = Kind::Drift;
                    }
                    notes.push(if d.deleted {
                        "deleted outside thingform".to_string()
                    } else {
                        format!("changed outside thingform: {}", d.attributes.join(", "))
                    });
                }
                if let Some(r) = &c.reason {
                    notes.push(format!("because {r}"));
                }
                if !c.replace_paths.is_empty() {
                    notes.push(format!(
                        "replacement forced by {}",
                        c.replace_paths.join(", ")
                    ));
                }
                if let Some(id) = &c.importing {
                    notes.push(format!("imported from id {id}"));
                }
                if c.deposed {
                    notes.push("deposed object".into());
                }
                notes.extend(c.notes.iter().cloned());
                let before = Value::from_json(&plan.object_before(c));
                let after = if c.action == Action::NoOp {
                    Value::from_json(&plan.object_after(c))
                } else {
                    c.after.clone()
                };
                let (b, a) = match c.action {
                    Action::Create => (None, Some(&after)),
                    Action::Delete => (Some(&before), None),
                    _ => (Some(&before), Some(&after)),
                };
                let rows = rows(&c.rtype, b, a);
                deps.push(
                    c.depends_on
                        .iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>(),
                );
                item(address, &c.rtype, kind, notes, rows)
            })
            .collect();
        let outputs = plan
            .outputs
            .iter()
            .map(|o| {
                let hide = |j: &Json| {
                    if o.sensitive {
                        SENSITIVE.to_string()
                    } else {
                        j.to_string()
                    }
                };
                Row {
                    name: o.name.clone(),
                    before: o.before.as_ref().map(hide),
                    after: if o.after_unknown {
                        Some(UNKNOWN.to_string())
                    } else {
                        (!o.after.is_null()).then(|| hide(&o.after))
                    },
                }
            })
            .collect();
        let mut m = Model {
            title: title.to_string(),
            items: vec![],
            edges: BTreeSet::new(),
            outputs,
        };
        let groups: BTreeSet<String> = items.iter().map(|i| i.group.clone()).collect();
        for (it, d) in items.iter().zip(&deps) {
            add_edges(&mut m.edges, &groups, it, d);
        }
        items.sort_by(|a, b| a.address.cmp(&b.address));
        m.items = items;
        m
    }

    /// A state: every instance as it is recorded (no action).
    pub fn from_state(state: &State, title: &str) -> Model {
        let mut items = vec![];
        let mut deps = vec![];
        for r in state.iter() {
            let v = Value::from_json(&Json::Object(r.attributes.clone()));
            let mut notes = vec![];
            if r.tainted {
                notes.push("tainted: the next plan replaces it".to_string());
            }
            items.push(item(
                r.address.to_string(),
                &r.rtype,
                Kind::NoOp,
                notes,
                rows(&r.rtype, Some(&v), Some(&v)),
            ));
            deps.push(r.dependencies.clone());
        }
        let mut m = Model {
            title: title.to_string(),
            items: vec![],
            edges: BTreeSet::new(),
            outputs: state
                .outputs
                .iter()
                .map(|(k, o)| {
                    let v = Some(if o.sensitive {
                        SENSITIVE.to_string()
                    } else {
                        o.value.to_string()
                    });
                    Row {
                        name: k.clone(),
                        before: v.clone(),
                        after: v,
                    }
                })
                .collect(),
        };
        let groups: BTreeSet<String> = items.iter().map(|i| i.group.clone()).collect();
        for (it, d) in items.iter().zip(&deps) {
            add_edges(&mut m.edges, &groups, it, d);
        }
        items.sort_by(|a, b| a.address.cmp(&b.address));
        m.items = items;
        m
    }

    /// The graph's nodes: each resource group with its instance count per kind.
    pub fn groups(&self) -> BTreeMap<&str, BTreeMap<Kind, usize>> {
        let mut g: BTreeMap<&str, BTreeMap<Kind, usize>> = BTreeMap::new();
        for it in &self.items {
            *g.entry(&it.group).or_default().entry(it.kind).or_default() += 1;
        }
        g
    }

    /// Instance counts by resource type and kind.
    pub fn by_type(&self) -> BTreeMap<&str, BTreeMap<Kind, usize>> {
        let mut g: BTreeMap<&str, BTreeMap<Kind, usize>> = BTreeMap::new();
        for it in &self.items {
            *g.entry(&it.rtype).or_default().entry(it.kind).or_default() += 1;
        }
        g
    }
}

/// The kind that colours a group: the most consequential of its instances'.
pub fn dominant(counts: &BTreeMap<Kind, usize>) -> Kind {
    counts
        .keys()
        .copied()
        .max_by_key(|k| k.weight())
        .unwrap_or(Kind::NoOp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_module_resource_and_key() {
        let s = |a: &str| split_address(a);
        assert_eq!(
            s(r#"module.site["b1"].aws_iot_thing.node["n.1"]"#),
            (
                r#"module.site["b1"]"#.into(),
                "aws_iot_thing.node".into(),
                r#"["n.1"]"#.into()
            )
        );
        assert_eq!(
            s("aws_sns_topic.t"),
            ("".into(), "aws_sns_topic.t".into(), "".into())
        );
        assert_eq!(
            s("data.aws_partition.p"),
            ("".into(), "data.aws_partition.p".into(), "".into())
        );
        assert_eq!(
            s(r#"module.a[0].module.b.aws_s3_bucket.x[3]"#),
            (
                "module.a[0].module.b".into(),
                "aws_s3_bucket.x".into(),
                "[3]".into()
            )
        );
        assert_eq!(
            strip_keys(r#"module.a["x.y"].module.b[0]"#),
            "module.a.module.b"
        );
        assert_eq!(strip_keys(""), "");
    }

    #[test]
    fn sensitive_values_never_reach_the_rows() {
        let v = Value::from_json(&serde_json::json!({"private_key": "SECRET", "arn": "a"}));
        let r = rows("aws_iot_certificate", Some(&v), Some(&v));
        let text = format!("{r:?}");
        assert!(!text.contains("SECRET"), "{text}");
        assert!(text.contains(SENSITIVE));
    }

    #[test]
    fn a_group_takes_its_most_consequential_kind() {
        let c: BTreeMap<Kind, usize> =
            [(Kind::Create, 3), (Kind::Delete, 1), (Kind::NoOp, 9)].into();
        assert_eq!(dominant(&c), Kind::Delete);
        assert_eq!(dominant(&BTreeMap::new()), Kind::NoOp);
    }
}
