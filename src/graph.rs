//! The graph layer: a petgraph DAG whose edges mean "happens after".
//!
//! Generic over the node key so the same code orders configuration objects (variables,
//! locals, resources, outputs) and resource instances during apply. It knows nothing of
//! AWS, HCL or state.

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Display;

#[derive(Clone, Debug)]
pub struct Dag<K: Ord + Clone> {
    g: DiGraph<K, ()>,
    idx: BTreeMap<K, NodeIndex>,
    /// Every edge, for constant-time de-duplication (petgraph's `find_edge` scans a
    /// node's edges, which is quadratic for a node that thousands depend on).
    edges: HashSet<(NodeIndex, NodeIndex)>,
}

impl<K: Ord + Clone> Default for Dag<K> {
    fn default() -> Self {
        Dag {
            g: DiGraph::new(),
            idx: BTreeMap::new(),
            edges: HashSet::new(),
        }
    }
}

impl<K: Ord + Clone + Display> Dag<K> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_node(&mut self, k: K) -> NodeIndex {
        if let Some(i) = self.idx.get(&k) {
            return *i;
        }
        let i = self.g.add_node(k.clone());
        self.idx.insert(k, i);
        i
    }

    pub fn contains(&self, k: &K) -> bool {
        self.idx.contains_key(k)
    }

    /// `node` happens after `dependency`.
    pub fn add_dependency(&mut self, node: &K, dependency: &K) {
        let a = self.add_node(dependency.clone());
        let b = self.add_node(node.clone());
        if self.edges.insert((a, b)) {
            self.g.add_edge(a, b, ());
        }
    }

    pub fn nodes(&self) -> impl Iterator<Item = &K> {
        self.idx.keys()
    }

    pub fn len(&self) -> usize {
        self.idx.len()
    }

    pub fn is_empty(&self) -> bool {
        self.idx.is_empty()
    }

    pub fn edge_count(&self) -> usize {
        self.g.edge_count()
    }

    /// Direct dependencies of `k` (what must happen before it).
    pub fn dependencies(&self, k: &K) -> Vec<K> {
        self.neighbors(k, Direction::Incoming)
    }

    /// Direct dependents of `k` (what waits for it).
    pub fn dependents(&self, k: &K) -> Vec<K> {
        self.neighbors(k, Direction::Outgoing)
    }

    fn neighbors(&self, k: &K, dir: Direction) -> Vec<K> {
        let Some(i) = self.idx.get(k) else {
            return vec![];
        };
        let mut v: Vec<K> = self
            .g
            .neighbors_directed(*i, dir)
            .map(|n| self.g[n].clone())
            .collect();
        v.sort();
        v
    }

    /// Every node reachable through dependencies of `k` (not including `k`).
    pub fn all_dependencies(&self, k: &K) -> Vec<K> {
        let mut seen = std::collections::BTreeSet::new();
        let mut stack = self.dependencies(k);
        while let Some(n) = stack.pop() {
            if seen.insert(n.clone()) {
                stack.extend(self.dependencies(&n));
            }
        }
        seen.into_iter().collect()
    }

    /// Every node that transitively waits for `k`.
    pub fn all_dependents(&self, k: &K) -> Vec<K> {
        let mut seen = std::collections::BTreeSet::new();
        let mut stack = self.dependents(k);
        while let Some(n) = stack.pop() {
            if seen.insert(n.clone()) {
                stack.extend(self.dependents(&n));
            }
        }
        seen.into_iter().collect()
    }

    /// The cycles, each as its members in a stable order. Empty when the graph is a DAG.
    pub fn cycles(&self) -> Vec<Vec<K>> {
        let mut out = vec![];
        for scc in tarjan_scc(&self.g) {
            let self_loop = scc.len() == 1 && self.g.find_edge(scc[0], scc[0]).is_some();
            if scc.len() > 1 || self_loop {
                let mut members: Vec<K> = scc.into_iter().map(|i| self.g[i].clone()).collect();
                members.sort();
                out.push(members);
            }
        }
        out.sort();
        out
    }

    /// Nodes with every dependency first; ties broken by key order so output is stable.
    pub fn topo_order(&self) -> Result<Vec<K>, Vec<Vec<K>>> {
        let cycles = self.cycles();
        if !cycles.is_empty() {
            return Err(cycles);
        }
        let mut indegree: BTreeMap<K, usize> = self
            .idx
            .iter()
            .map(|(k, i)| {
                (
                    k.clone(),
                    self.g.neighbors_directed(*i, Direction::Incoming).count(),
                )
            })
            .collect();
        let mut ready: std::collections::BTreeSet<K> = indegree
            .iter()
            .filter(|(_, d)| **d == 0)
            .map(|(k, _)| k.clone())
            .collect();
        let mut out = vec![];
        while let Some(k) = ready.pop_first() {
            for d in self.dependents(&k) {
                if let Some(n) = indegree.get_mut(&d) {
                    *n -= 1;
                    if *n == 0 {
                        ready.insert(d);
                    }
                }
            }
            out.push(k);
        }
        Ok(out)
    }

    /// Graphviz DOT, edges drawn from a node to what it depends on (as `terraform graph`).
    pub fn to_dot(&self, name: &str) -> String {
        let mut s = format!("digraph \"{name}\" {{\n  rankdir = \"RL\";\n  node [shape = box];\n");
        for k in self.idx.keys() {
            s.push_str(&format!("  \"{}\";\n", esc(&k.to_string())));
        }
        for k in self.idx.keys() {
            for d in self.dependencies(k) {
                s.push_str(&format!(
                    "  \"{}\" -> \"{}\";\n",
                    esc(&k.to_string()),
                    esc(&d.to_string())
                ));
            }
        }
        s.push_str("}\n");
        s
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topo_order_puts_dependencies_first() {
        let mut g: Dag<String> = Dag::new();
        g.add_dependency(&"rule".into(), &"lambda".into());
        g.add_dependency(&"lambda".into(), &"role".into());
        g.add_dependency(&"rule".into(), &"topic".into());
        let order = g.topo_order().unwrap();
        let pos = |k: &str| order.iter().position(|x| x == k).unwrap();
        assert!(pos("role") < pos("lambda"));
        assert!(pos("lambda") < pos("rule"));
        assert!(pos("topic") < pos("rule"));
        assert_eq!(
            g.all_dependencies(&"rule".into()),
            vec!["lambda", "role", "topic"]
        );
        assert_eq!(g.all_dependents(&"role".into()), vec!["lambda", "rule"]);
    }

    #[test]
    fn cycles_are_reported_with_all_members() {
        let mut g: Dag<String> = Dag::new();
        g.add_dependency(&"a".into(), &"b".into());
        g.add_dependency(&"b".into(), &"c".into());
        g.add_dependency(&"c".into(), &"a".into());
        g.add_dependency(&"d".into(), &"a".into());
        assert_eq!(
            g.topo_order().unwrap_err(),
            vec![vec!["a".to_string(), "b".into(), "c".into()]]
        );
    }

    #[test]
    fn self_reference_is_a_cycle() {
        let mut g: Dag<String> = Dag::new();
        g.add_dependency(&"a".into(), &"a".into());
        assert_eq!(g.cycles().len(), 1);
    }

    #[test]
    fn dot_lists_edges() {
        let mut g: Dag<String> = Dag::new();
        g.add_dependency(&"x".into(), &"y".into());
        assert!(g.to_dot("stack").contains("\"x\" -> \"y\""));
    }
}
