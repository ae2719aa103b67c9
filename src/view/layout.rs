//! The resource graph as SVG, laid out in Rust by `layout-rs` (Sugiyama-style layers,
//! crossing reduction): no Graphviz needed. Used by `graph -format svg` and by the HTML
//! view, whose nodes carry `data-group` so the page's script can select them.

use super::{Kind, Model, dominant};
use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::render::get_shape_size;
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

/// One box of the picture.
pub struct Node {
    /// What the page's script selects it by (`data-group`).
    pub id: String,
    pub label: String,
    /// Colours the box; None: plain.
    pub kind: Option<Kind>,
}

/// Escapes text for an XML attribute or text node.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Lays out `nodes` with `edges` (from, to: an arrow from the first to the second) and
/// draws them as an SVG document (without the XML declaration, so it can be inlined).
pub fn svg(nodes: &[Node], edges: &[(usize, usize)]) -> String {
    if nodes.is_empty() {
        return r#"<svg xmlns="http://www.w3.org/2000/svg" width="300" height="40"><text x="10" y="25" font-family="sans-serif" font-size="14">(no resources)</text></svg>"#.to_string();
    }
    // Ranks as columns (left to right), so a wide stack grows downwards and scrolls; as
    // layout-rs's own DOT builder does, boxes are created with the flipped orientation.
    let mut vg = VisualGraph::new(Orientation::LeftToRight);
    let dir = Orientation::TopToBottom;
    let handles: Vec<_> = nodes
        .iter()
        .map(|n| {
            let shape = ShapeKind::new_box(&n.label);
            let size = get_shape_size(dir, &shape, 14, false);
            let fill = n.kind.map(Kind::fill).unwrap_or("#ffffff");
            let look = StyleAttr::new(Color::fast("#555555"), 1, Some(Color::fast(fill)), 6, 14);
            let class = match n.kind {
                Some(k) => format!("node k-{}", k.name()),
                None => "node".to_string(),
            };
            let props = format!("class=\"{class}\" data-group=\"{}\"", escape(&n.id));
            vg.add_node(Element::create_with_properties(
                shape,
                look,
                dir,
                Point::new(size.x, size.y),
                props,
            ))
        })
        .collect();
    let look = StyleAttr::new(Color::fast("#777777"), 1, None, 0, 12);
    for &(from, to) in edges {
        if from == to || from >= handles.len() || to >= handles.len() {
            continue;
        }
        let arrow = Arrow::new(
            LineEndKind::None,
            LineEndKind::Arrow,
            LineStyleKind::Normal,
            "",
            &look,
            &None,
            &None,
        );
        vg.add_edge(arrow, handles[from], handles[to]);
    }
    let mut w = SVGWriter::new();
    // Crossing reduction is quadratic; past a few hundred boxes the plain layering is kept.
    vg.do_it(false, nodes.len() > 150, false, &mut w);
    let out = w.finalize();
    // Inline-able: no XML declaration; a readable font.
    let out = match out.find("<svg") {
        Some(at) => out[at..].to_string(),
        None => out,
    };
    out.replace("font-family: Times, serif;", "font-family: sans-serif;")
}

/// The model's resource graph: one box per resource (module keys dropped), coloured by
/// its most consequential action and labelled with its instance counts; an arrow from a
/// resource to each resource that depends on it (what happens first is on the left).
pub fn model_svg(m: &Model) -> String {
    let groups = m.groups();
    let index: std::collections::BTreeMap<&str, usize> =
        groups.keys().enumerate().map(|(i, g)| (*g, i)).collect();
    let nodes: Vec<Node> = groups
        .iter()
        .map(|(g, counts)| {
            let total: usize = counts.values().sum();
            let detail = counts
                .iter()
                .filter(|(k, _)| **k != Kind::NoOp || counts.len() > 1)
                .map(|(k, n)| format!("{}{n}", k.symbol()))
                .collect::<Vec<_>>()
                .join(" ");
            let label = if total > 1 {
                format!("{g}\n×{total}  {detail}")
            } else {
                g.to_string()
            };
            Node {
                id: g.to_string(),
                label: label.trim_end().to_string(),
                kind: Some(dominant(counts)),
            }
        })
        .collect();
    let edges: Vec<(usize, usize)> = m
        .edges
        .iter()
        .filter_map(|(from, dep)| Some((*index.get(dep.as_str())?, *index.get(from.as_str())?)))
        .collect();
    svg(&nodes, &edges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_and_edges_are_drawn_with_their_ids() {
        let nodes = vec![
            Node {
                id: "aws_iot_thing_type.t".into(),
                label: "aws_iot_thing_type.t".into(),
                kind: Some(Kind::Create),
            },
            Node {
                id: "aws_iot_thing.node".into(),
                label: "aws_iot_thing.node\n×3".into(),
                kind: None,
            },
        ];
        let s = svg(&nodes, &[(0, 1)]);
        assert!(s.starts_with("<svg"), "{s}");
        assert_eq!(s.matches("data-group=").count(), 2, "{s}");
        assert!(s.contains(r#"class="node k-create" data-group="aws_iot_thing_type.t""#));
        assert!(s.contains("<path"), "an edge is drawn: {s}");
        assert!(svg(&[], &[]).contains("no resources"));
    }
}
