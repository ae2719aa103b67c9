//! The HTML view: one self-contained page (inline CSS, script and SVG; nothing fetched)
//! with the summary by type and action, the resource graph laid out here, filters and
//! search, the instances grouped by module and resource (rows made only when a group is
//! opened, so 5,000 instances stay light) and, on a click, an instance's attribute diff.
//! Sensitive values were replaced in the [`Model`] before they reach this file.

use super::layout::{escape, model_svg};
use super::{Kind, Model};
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;

const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// JSON safe inside a `<script>` element: no `<` at all (`</script>`, `<!--`).
fn script_json(v: &serde_json::Value) -> String {
    v.to_string().replace('<', "\\u003c")
}

/// The instances as the page's script reads them: compact arrays, not objects, so a
/// large plan stays small.
fn data(m: &Model) -> serde_json::Value {
    let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
    let index = |k: Kind| Kind::ALL.iter().position(|x| *x == k).unwrap_or(0);
    let items: Vec<serde_json::Value> = m
        .items
        .iter()
        .map(|it| {
            let rows: Vec<serde_json::Value> = it
                .rows
                .iter()
                .map(|r| json!([r.name, r.before, r.after]))
                .collect();
            json!([
                it.address,
                it.module,
                it.group,
                it.rtype,
                index(it.kind),
                it.notes,
                rows
            ])
        })
        .collect();
    json!({
        "kinds": kinds,
        "symbols": Kind::ALL.iter().map(|k| k.symbol()).collect::<Vec<_>>(),
        "items": items,
    })
}

fn summary(m: &Model) -> String {
    let by_type = m.by_type();
    let mut totals: BTreeMap<Kind, usize> = BTreeMap::new();
    let mut s = String::from("<table id=\"summary\"><thead><tr><th>type</th>");
    for k in Kind::ALL {
        let _ = write!(s, "<th class=\"k-{0}\">{0}</th>", k.name());
    }
    s.push_str("<th>total</th></tr></thead><tbody>");
    for (t, counts) in &by_type {
        let _ = write!(s, "<tr data-type=\"{0}\"><td>{0}</td>", escape(t));
        for k in Kind::ALL {
            let n = counts.get(&k).copied().unwrap_or(0);
            *totals.entry(k).or_default() += n;
            let shown = if n == 0 { String::new() } else { n.to_string() };
            let _ = write!(s, "<td data-kind=\"{}\">{shown}</td>", k.name());
        }
        let _ = write!(s, "<td>{}</td></tr>", counts.values().sum::<usize>());
    }
    s.push_str("</tbody><tfoot><tr id=\"totals\"><td>all</td>");
    for k in Kind::ALL {
        let _ = write!(
            s,
            "<td data-kind=\"{}\">{}</td>",
            k.name(),
            totals.get(&k).copied().unwrap_or(0)
        );
    }
    let _ = write!(s, "<td>{}</td></tr></tfoot></table>", m.items.len());
    s
}

fn filters(m: &Model) -> String {
    let mut counts: BTreeMap<Kind, usize> = BTreeMap::new();
    for it in &m.items {
        *counts.entry(it.kind).or_default() += 1;
    }
    let mut s = String::from("<div id=\"filters\">");
    for k in Kind::ALL {
        let n = counts.get(&k).copied().unwrap_or(0);
        let _ = write!(
            s,
            "<label class=\"chip k-{0}\"><input type=\"checkbox\" data-kind=\"{0}\" checked> {1} {0} <b>{n}</b></label>",
            k.name(),
            escape(k.symbol()),
        );
    }
    s.push_str("<input id=\"search\" type=\"search\" placeholder=\"search addresses, e.g. aws_iot_thing or node-1\" autocomplete=\"off\"><span id=\"focus\"></span></div>");
    s
}

fn outputs(m: &Model) -> String {
    if m.outputs.is_empty() {
        return String::new();
    }
    let mut s = String::from("<h2>Outputs</h2><table id=\"outputs\"><tbody>");
    for o in &m.outputs {
        let cell = |v: &Option<String>| escape(v.as_deref().unwrap_or("null"));
        if o.changed() {
            let _ = write!(
                s,
                "<tr class=\"chg\"><td>{}</td><td class=\"before\">{}</td><td>→</td><td class=\"after\">{}</td></tr>",
                escape(&o.name),
                cell(&o.before),
                cell(&o.after)
            );
        } else {
            let _ = write!(
                s,
                "<tr><td>{}</td><td colspan=\"3\">{}</td></tr>",
                escape(&o.name),
                cell(&o.after)
            );
        }
    }
    s.push_str("</tbody></table>");
    s
}

/// The whole page.
pub fn page(m: &Model) -> String {
    let title = escape(&m.title);
    let mut s = String::with_capacity(64 * 1024 + m.items.len() * 400);
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{CSS}</style></head><body>\
         <header><h1>{title}</h1><span class=\"gen\">thingform {}</span></header><main>\
         <section id=\"left\"><h2>Summary by type and action</h2>{}\
         <h2>Resource graph <small>(click a resource to list its instances)</small> \
         <button id=\"fit\">fit to width</button></h2><div id=\"graph\">{}</div>{}</section>\
         <section id=\"right\"><h2>Instances <small id=\"shown\"></small></h2>{}<div id=\"list\"></div>\
         <div id=\"detail\" hidden></div></section></main>\
         <script type=\"application/json\" id=\"data\">{}</script><script>{JS}</script></body></html>\n",
        env!("CARGO_PKG_VERSION"),
        summary(m),
        model_svg(m),
        outputs(m),
        filters(m),
        script_json(&data(m)),
    );
    s
}

#[cfg(test)]
mod tests {
    use super::super::{Item, Row};
    use super::*;

    #[test]
    fn the_page_is_self_contained_and_escapes_what_it_embeds() {
        let m = Model {
            title: "plan </script>".into(),
            items: vec![Item {
                address: "aws_sns_topic.t".into(),
                module: String::new(),
                group: "aws_sns_topic.t".into(),
                rtype: "aws_sns_topic".into(),
                kind: Kind::Create,
                notes: vec![],
                rows: vec![Row {
                    name: "name".into(),
                    before: None,
                    after: Some("\"</script><b>x\"".into()),
                }],
            }],
            ..Default::default()
        };
        let p = page(&m);
        assert_eq!(
            p.matches("</script>").count(),
            2,
            "only the two real script ends"
        );
        for remote in ["http://", "https://", "src=\"", "href=\""] {
            let at = p.find(remote).map(|i| &p[i.saturating_sub(60)..i + 40]);
            // The only URL is the SVG namespace, which is never fetched.
            assert!(
                at.is_none() || at.is_some_and(|a| a.contains("www.w3.org/2000/svg")),
                "{remote}: {at:?}"
            );
        }
        assert!(p.contains("<tr id=\"totals\"><td>all</td><td data-kind=\"create\">1</td>"));
    }
}
