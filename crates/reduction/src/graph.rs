//! Undirected simple graphs (on petgraph): the DIMACS `.col` reader and writer,
//! and named graphs built in code (Mycielski, queen, complete, cycle,
//! Petersen, seeded random) for tests that must run without external files.
//!
//! Real `.col` files list edges twice, carry a wrong edge count on the `p`
//! line and contain self-loops; the reader deduplicates edges, ignores
//! self-loops with a warning and never trusts the header's edge count.

use partrec_core::error::{Error, InputKind, Location, Result};
use petgraph::graph::{NodeIndex, UnGraph};
use rand::{Rng, SeedableRng};
use std::collections::BTreeSet;
use std::fmt::Write;

/// A simple undirected graph with vertices `0..n` (vertex `v` is `v + 1` in `.col` files).
#[derive(Clone, Debug)]
pub struct Graph {
    inner: UnGraph<(), (), u32>,
}

impl Graph {
    /// A graph on `n` vertices with the given edges; self-loops are dropped and duplicates merged.
    pub fn new(n: usize, edges: impl IntoIterator<Item = (u32, u32)>) -> Graph {
        let set: BTreeSet<(u32, u32)> = edges
            .into_iter()
            .filter(|(u, v)| u != v)
            .map(|(u, v)| (u.min(v), u.max(v)))
            .collect();
        let mut inner = UnGraph::with_capacity(n, set.len());
        for _ in 0..n {
            inner.add_node(());
        }
        for (u, v) in set {
            assert!((v as usize) < n, "edge ({u}, {v}) outside 0..{n}");
            inner.add_edge(NodeIndex::new(u as usize), NodeIndex::new(v as usize), ());
        }
        Graph { inner }
    }

    /// [`Graph::new`] for edges from a caller that may give any integers. Refused,
    /// naming the edge: an endpoint outside `0..n`, and a self-loop (a vertex adjacent
    /// to itself has no proper colour, which [`Graph::new`]'s dropping would hide);
    /// and more than [`MAX_VERTICES`] vertices or [`MAX_EDGES`] edges, as in a file.
    pub fn try_new(n: usize, edges: &[(i64, i64)]) -> Result<Graph> {
        if n > MAX_VERTICES || edges.len() as u128 > MAX_EDGES {
            return Err(Error::Usage(format!(
                "a graph of {n} vertices and {} edges; partrec takes at most {MAX_VERTICES} vertices and {MAX_EDGES} edges",
                edges.len()
            )));
        }
        let mut checked = Vec::with_capacity(edges.len());
        for (e, &(u, v)) in edges.iter().enumerate() {
            let inside = |w: i64| u32::try_from(w).ok().filter(|&w| (w as usize) < n);
            match (inside(u), inside(v)) {
                (Some(a), Some(b)) if a == b => {
                    return Err(Error::Usage(format!(
                        "edge {e} ({u}, {v}) is a self-loop: no colouring of a vertex adjacent to itself is proper"
                    )))
                }
                (Some(a), Some(b)) => checked.push((a, b)),
                _ => {
                    return Err(Error::Usage(format!(
                        "edge {e} ({u}, {v}) has an endpoint outside the vertices 0..{n}"
                    )))
                }
            }
        }
        Ok(Graph::new(n, checked))
    }

    /// Number of vertices.
    pub fn vertices(&self) -> usize {
        self.inner.node_count()
    }

    /// Number of distinct edges.
    pub fn edge_count(&self) -> usize {
        self.inner.edge_count()
    }

    /// The edges as `(u, v)` with `u < v`, in increasing order.
    pub fn edges(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.inner.edge_indices().map(|e| {
            let (a, b) = self.inner.edge_endpoints(e).expect("edge exists");
            (a.index() as u32, b.index() as u32)
        })
    }

    /// The underlying petgraph graph.
    pub fn petgraph(&self) -> &UnGraph<(), (), u32> {
        &self.inner
    }

    /// Adjacency lists, sorted.
    pub fn neighbours(&self) -> Vec<Vec<u32>> {
        let mut adj = vec![Vec::new(); self.vertices()];
        for (u, v) in self.edges() {
            adj[u as usize].push(v);
            adj[v as usize].push(u);
        }
        adj.iter_mut().for_each(|a| a.sort_unstable());
        adj
    }

    /// The graph without its isolated vertices, renumbered, and each kept vertex's
    /// number in `self`; `None` when no vertex is isolated. Isolated vertices take
    /// any colour, so colouring questions need only the rest: their cost then follows
    /// the edges, not a `.col` header's vertex count.
    pub fn without_isolated(&self) -> Option<(Graph, Vec<u32>)> {
        let n = self.vertices();
        let mut id = vec![u32::MAX; n];
        for (u, v) in self.edges() {
            id[u as usize] = 0;
            id[v as usize] = 0;
        }
        let mut kept = Vec::new();
        for (v, slot) in id.iter_mut().enumerate() {
            if *slot == 0 {
                *slot = kept.len() as u32;
                kept.push(v as u32);
            }
        }
        if kept.len() == n {
            return None;
        }
        let edges: Vec<(u32, u32)> = self
            .edges()
            .map(|(u, v)| (id[u as usize], id[v as usize]))
            .collect();
        Some((Graph::new(kept.len(), edges), kept))
    }

    /// The graph in DIMACS `.col` format.
    pub fn to_col(&self, comment: &str) -> String {
        let mut s = String::new();
        for line in comment.lines() {
            let _ = writeln!(s, "c {line}");
        }
        let _ = writeln!(s, "p edge {} {}", self.vertices(), self.edge_count());
        for (u, v) in self.edges() {
            let _ = writeln!(s, "e {} {}", u + 1, v + 1);
        }
        s
    }
}

/// The most vertices a graph may have (2^24, about 16.8 million): a `.col` header or
/// a named graph asking for more is refused before anything is allocated.
pub const MAX_VERTICES: usize = 1 << 24;

/// The most edges a named graph may have (2^26, about 67 million).
pub const MAX_EDGES: u128 = 1 << 26;

/// A graph that `partrec graph` writes, by name and size.
#[derive(Clone, Debug, PartialEq)]
pub enum Named {
    /// The Mycielski graph of DIMACS `myciel<K>` (K >= 1; chromatic number K + 1).
    Myciel(usize),
    /// The ROWS x COLS queen graph.
    Queen(usize, usize),
    /// The complete graph K_N (N >= 1).
    Complete(usize),
    /// The cycle C_N (N >= 3).
    Cycle(usize),
    /// The Petersen graph.
    Petersen,
    /// A seeded random graph G(N, P).
    Random(usize, f64, u64),
}

impl Named {
    /// Vertices and edges (for random graphs: the vertex pairs drawn), in exact arithmetic.
    fn size(&self) -> (u128, u128) {
        let pairs = |n: u128| n * n.saturating_sub(1) / 2;
        match *self {
            Named::Myciel(k) => {
                // n' = 2n + 1 and m' = 3m + n, from K2, for k - 1 steps (past 60 both are far beyond any limit).
                let (mut n, mut m) = (2u128, 1u128);
                for _ in 1..k.min(60) {
                    (n, m) = (2 * n + 1, 3 * m + n);
                }
                (n, m)
            }
            Named::Queen(r, c) => {
                let (r, c) = (r as u128, c as u128);
                (r * c, r * c * (r + c + 2 * r.min(c)))
            }
            Named::Complete(n) => (n as u128, pairs(n as u128)),
            Named::Cycle(n) => (n as u128, n as u128),
            Named::Petersen => (10, 15),
            Named::Random(n, _, _) => (n as u128, pairs(n as u128)),
        }
    }

    /// Builds the graph and its description, refusing sizes out of range or too large.
    pub fn build(&self) -> Result<(Graph, String)> {
        let out_of_range = match *self {
            Named::Myciel(k) => k < 1,
            Named::Queen(r, c) => r == 0 || c == 0,
            Named::Complete(n) => n < 1,
            Named::Cycle(n) => n < 3,
            Named::Petersen => false,
            Named::Random(n, p, _) => n < 1 || !(0.0..=1.0).contains(&p),
        };
        if out_of_range {
            return Err(Error::Usage(
                "graph size out of range (myciel K >= 1, queen R, C >= 1, complete N >= 1, cycle N >= 3, random N >= 1 and P in 0..1)".into(),
            ));
        }
        let (n, m) = self.size();
        if n > MAX_VERTICES as u128 || m > MAX_EDGES {
            return Err(Error::Usage(format!(
                "that graph has {n} vertices and {m} edges (or vertex pairs to draw); partrec makes at most {MAX_VERTICES} vertices and {MAX_EDGES} edges"
            )));
        }
        Ok(match *self {
            Named::Myciel(k) => (
                mycielski(k),
                format!("myciel{k}: Mycielski graph, chromatic number {}", k + 1),
            ),
            Named::Queen(r, c) => (queen(r, c), format!("queen{r}_{c}")),
            Named::Complete(n) => (complete(n), format!("K{n}: chromatic number {n}")),
            Named::Cycle(n) => (cycle(n), format!("C{n}: chromatic number {}", 2 + n % 2)),
            Named::Petersen => (petersen(), "Petersen graph: chromatic number 3".into()),
            Named::Random(n, p, seed) => (random(n, p, seed), format!("G({n}, {p}) seed {seed}")),
        })
    }
}

/// A graph read from a `.col` file, with the warnings the reader raised.
#[derive(Clone, Debug)]
pub struct ColFile {
    /// The graph.
    pub graph: Graph,
    /// Warnings (self-loops ignored, header edge count off), one line each.
    pub warnings: Vec<String>,
}

/// Parses DIMACS `.col` text; `origin` names the file in errors and warnings.
pub fn parse_col(text: &str, origin: &str) -> Result<ColFile> {
    if text.starts_with('\u{feff}') {
        return Err(Error::input_at(
            origin,
            InputKind::Syntax,
            None,
            "starts with a UTF-8 byte order mark (BOM, bytes EF BB BF); save it as UTF-8 without a BOM",
        ));
    }
    let mut header: Option<(usize, usize)> = None;
    let mut edges = Vec::new();
    let mut loops = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('c') {
            continue;
        }
        let mut words = trimmed.split_whitespace();
        let read = match words.next() {
            Some("p") => p_line(words, header.is_some()).map(|h| header = Some(h)),
            Some("e") => e_line(words, header).map(|(u, v)| {
                if u == v {
                    loops.push(lineno);
                } else {
                    edges.push((u as u32 - 1, v as u32 - 1));
                }
            }),
            _ => Err("expected a `c`, `p` or `e` line".into()),
        };
        read.map_err(|what| {
            Error::input_at(
                origin,
                InputKind::Syntax,
                Some(Location::Line {
                    line: lineno,
                    column: None,
                }),
                format!("line {lineno}: {what}: {:?}", line.trim()),
            )
        })?;
    }
    let (n, m) = header
        .ok_or_else(|| Error::input_at(origin, InputKind::Shape, None, "no `p edge N M` line"))?;
    let mut warnings = Vec::new();
    if !loops.is_empty() {
        warnings.push(format!(
            "{origin}: ignored {} self-loop(s), first at line {}",
            loops.len(),
            loops[0]
        ));
    }
    let graph = Graph::new(n, edges);
    if graph.edge_count() != m {
        warnings.push(format!(
            "{origin}: the p line says {m} edges; the file has {} distinct edges",
            graph.edge_count()
        ));
    }
    Ok(ColFile { graph, warnings })
}

/// The vertex and edge counts of a `p edge N M` line (its `words` after the `p`), or
/// what is wrong with it; `seen`: a `p` line came before.
fn p_line<'a>(
    mut words: impl Iterator<Item = &'a str>,
    seen: bool,
) -> std::result::Result<(usize, usize), String> {
    if seen {
        return Err("a second `p` line".into());
    }
    let kind = words.next();
    if !matches!(kind, Some("edge") | Some("col") | Some("edges")) {
        return Err("expected `p edge N M`".into());
    }
    let n = words.next().and_then(|w| w.parse::<usize>().ok());
    let m = words.next().and_then(|w| w.parse::<usize>().ok());
    match (n, m, words.next()) {
        (Some(n), Some(_), None) if n > MAX_VERTICES => Err(format!(
            "{n} vertices; partrec reads graphs of at most {MAX_VERTICES} vertices"
        )),
        (Some(n), Some(m), None) => Ok((n, m)),
        _ => Err("expected `p edge N M` with whole numbers N and M".into()),
    }
}

/// The two vertices (numbered from 1, within the `header`'s count) of an `e U V` line
/// (its `words` after the `e`), or what is wrong with it.
fn e_line<'a>(
    mut words: impl Iterator<Item = &'a str>,
    header: Option<(usize, usize)>,
) -> std::result::Result<(usize, usize), String> {
    let (n, _) = header.ok_or("an edge before the `p edge N M` line")?;
    let u = words.next().and_then(|w| w.parse::<usize>().ok());
    let v = words.next().and_then(|w| w.parse::<usize>().ok());
    match (u, v, words.next()) {
        (Some(u), Some(v), None) if (1..=n).contains(&u) && (1..=n).contains(&v) => Ok((u, v)),
        (Some(_), Some(_), None) => Err(format!("expected vertices in 1..{n}")),
        _ => Err("expected `e U V` with two vertex numbers".into()),
    }
}

/// Reads a `.col` file (`-` for standard input).
pub fn read_col(path: &str) -> Result<ColFile> {
    let bytes = partrec_core::io::input::read_input(path)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::input_at(path, InputKind::Syntax, None, "not a text file"))?;
    parse_col(&text, path)
}

pub use partrec_solve::clique::{clique_budget, greedy_clique, greedy_clique_until, CLIQUE_STARTS};

/// The complete graph K_n.
pub fn complete(n: usize) -> Graph {
    let n32 = n as u32;
    Graph::new(n, (0..n32).flat_map(|u| (u + 1..n32).map(move |v| (u, v))))
}

/// The cycle C_n (n >= 3).
pub fn cycle(n: usize) -> Graph {
    let n32 = n as u32;
    Graph::new(n, (0..n32).map(|u| (u, (u + 1) % n32)))
}

/// The Petersen graph (chromatic number 3).
pub fn petersen() -> Graph {
    let outer = (0..5).map(|i| (i, (i + 1) % 5));
    let spokes = (0..5).map(|i| (i, i + 5));
    let inner = (0..5).map(|i| (i + 5, (i + 2) % 5 + 5));
    Graph::new(10, outer.chain(spokes).chain(inner))
}

/// The Mycielski graph of the DIMACS file `myciel<k>`: K_2 after k - 1 Mycielski steps,
/// with chromatic number k + 1 and no triangle (k = 3 is the Groetzsch graph, 11 vertices).
pub fn mycielski(k: usize) -> Graph {
    let mut n = 2usize;
    let mut edges: Vec<(u32, u32)> = vec![(0, 1)];
    for _ in 1..k {
        let mut next = edges.clone();
        for &(u, v) in &edges {
            next.push((u, v + n as u32));
            next.push((v, u + n as u32));
        }
        for i in 0..n {
            next.push(((n + i) as u32, (2 * n) as u32));
        }
        edges = next;
        n = 2 * n + 1;
    }
    Graph::new(n, edges)
}

/// The `rows` x `cols` queen graph: squares attack along rows, columns and diagonals.
pub fn queen(rows: usize, cols: usize) -> Graph {
    let id = |r: usize, c: usize| (r * cols + c) as u32;
    let mut edges = Vec::new();
    for r1 in 0..rows {
        for c1 in 0..cols {
            for r2 in 0..rows {
                for c2 in 0..cols {
                    let attack = r1 == r2 || c1 == c2 || r1.abs_diff(r2) == c1.abs_diff(c2);
                    if (r1, c1) < (r2, c2) && attack {
                        edges.push((id(r1, c1), id(r2, c2)));
                    }
                }
            }
        }
    }
    Graph::new(rows * cols, edges)
}

/// A seeded Erdos-Renyi graph G(n, p).
pub fn random(n: usize, p: f64, seed: u64) -> Graph {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut edges = Vec::new();
    for u in 0..n as u32 {
        for v in u + 1..n as u32 {
            if rng.random_bool(p.clamp(0.0, 1.0)) {
                edges.push((u, v));
            }
        }
    }
    Graph::new(n, edges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn try_new_refuses_outside_endpoints_self_loops_and_huge_graphs() {
        let g = Graph::try_new(3, &[(0, 1), (2, 1), (1, 0)]).unwrap();
        assert_eq!((g.vertices(), g.edge_count()), (3, 2));
        let msg = |r: Result<Graph>| r.err().unwrap().to_string();
        assert!(
            msg(Graph::try_new(3, &[(0, 3)])).starts_with("edge 0 (0, 3) has an endpoint outside")
        );
        assert!(msg(Graph::try_new(3, &[(0, 1), (-1, 2)])).starts_with("edge 1 (-1, 2)"));
        assert!(msg(Graph::try_new(3, &[(2, 2)])).contains("is a self-loop"));
        assert!(msg(Graph::try_new(MAX_VERTICES + 1, &[])).contains("at most"));
    }

    #[test]
    fn reads_real_file_quirks() {
        let text = "c a comment\nc another\np edge 5 9\ne 1 2\ne 2 1\ne 2 3\n\ne 3 3\ne 4 5\n";
        let col = parse_col(text, "g.col").unwrap();
        assert_eq!(col.graph.vertices(), 5);
        assert_eq!(
            col.graph.edges().collect::<Vec<_>>(),
            vec![(0, 1), (1, 2), (3, 4)]
        );
        assert_eq!(col.warnings.len(), 2);
        assert!(col.warnings[0].contains("self-loop") && col.warnings[0].contains("line 8"));
        assert!(col.warnings[1].contains("says 9 edges"));
        assert!(parse_col("p col 2 1\ne 1 2\n", "g").is_ok());
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let cases = [
            ("e 1 2\n", "line 1: an edge before"),
            ("p edge 3 1\ne 1 4\n", "line 2: expected vertices in 1..3"),
            ("p edge 3 1\ne 1\n", "line 2: expected `e U V`"),
            ("p edge 3 1\ne 1 x\n", "line 2: expected `e U V`"),
            ("p edge x 1\n", "line 1: expected `p edge N M`"),
            ("p graph 3 1\n", "line 1: expected `p edge N M`"),
            ("p edge 3 1\np edge 3 1\n", "line 2: a second `p` line"),
            (
                "p edge 3 1\nq 1 2\n",
                "line 2: expected a `c`, `p` or `e` line",
            ),
            ("c only comments\n", "no `p edge N M` line"),
            ("p edge 3 1\ne 0 1\n", "line 2: expected vertices in 1..3"),
        ];
        for (text, want) in cases {
            let e = parse_col(text, "g.col").unwrap_err().to_string();
            assert!(
                e.starts_with("g.col: ") && e.contains(want),
                "{text:?}: {e}"
            );
        }
    }

    #[test]
    fn named_graphs_have_the_known_sizes() {
        assert_eq!(
            (mycielski(3).vertices(), mycielski(3).edge_count()),
            (11, 20)
        );
        assert_eq!(
            (mycielski(4).vertices(), mycielski(4).edge_count()),
            (23, 71)
        );
        assert_eq!(
            (mycielski(5).vertices(), mycielski(5).edge_count()),
            (47, 236)
        );
        assert_eq!(
            (queen(5, 5).vertices(), queen(5, 5).edge_count()),
            (25, 160)
        );
        assert_eq!(queen(6, 6).edge_count(), 290);
        assert_eq!(queen(8, 8).edge_count(), 728);
        assert_eq!(petersen().edge_count(), 15);
        assert_eq!(complete(5).edge_count(), 10);
        assert_eq!(cycle(5).edge_count(), 5);
    }

    #[test]
    fn greedy_clique_is_a_clique() {
        for g in [
            petersen(),
            mycielski(4),
            queen(5, 5),
            cycle(7),
            complete(6),
            random(40, 0.5, 1),
        ] {
            let adj = g.neighbours();
            let q = greedy_clique(&adj);
            for (i, &a) in q.iter().enumerate() {
                for &b in &q[i + 1..] {
                    assert!(adj[a as usize].contains(&b));
                }
            }
        }
        assert_eq!(greedy_clique(&queen(5, 5).neighbours()).len(), 5);
        assert_eq!(greedy_clique(&complete(6).neighbours()).len(), 6);
        assert_eq!(
            greedy_clique(&mycielski(4).neighbours()).len(),
            2,
            "triangle-free"
        );
        assert!(greedy_clique(&[]).is_empty());
    }

    #[test]
    fn greedy_clique_stays_a_clique_when_stopped_or_out_of_budget() {
        // Complete bipartite K(1500, 1500): every start scores 1,500 neighbours of
        // degree 1,500, far beyond the budget after a few starts; the answer is an edge.
        let side = 1500u32;
        let adj: Vec<Vec<u32>> = (0..2 * side)
            .map(|v| {
                let other = if v < side { side..2 * side } else { 0..side };
                other.collect()
            })
            .collect();
        let q = greedy_clique(&adj);
        assert_eq!(q.len(), 2);
        assert!(adj[q[0] as usize].binary_search(&q[1]).is_ok());
        assert!(clique_budget(&adj) < (side as u64).pow(3));
        // Stopped before the first start: no clique yet.
        assert!(greedy_clique_until(&adj, &|| true).is_empty());
        assert_eq!(
            greedy_clique_until(&complete(6).neighbours(), &|| false).len(),
            6
        );
    }

    #[test]
    fn col_round_trip() {
        let g = petersen();
        let back = parse_col(&g.to_col("petersen\nchi 3"), "p").unwrap();
        assert!(back.warnings.is_empty());
        assert_eq!(
            back.graph.edges().collect::<Vec<_>>(),
            g.edges().collect::<Vec<_>>()
        );
    }
}
