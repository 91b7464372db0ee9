//! Maximum-weight bipartite matching (successive shortest paths with
//! potentials), used to score a partition against the planted one under the
//! best relabelling of classes.
//!
//! The graph is sparse: an edge per (class, planted class) pair that some token
//! has, so the cost follows the tokens, never the declared number of classes.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// One residual arc of the flow network.
struct Arc {
    to: usize,
    cap: bool,
    cost: i64,
}

/// The best total weight of a matching between `left` and `right` vertices using
/// `edges` `(l, r, weight)` with positive weights (vertices may stay unmatched).
///
/// Each connected component is matched on its own (a partition equal to the
/// planted one is all single edges), component by component.
pub fn max_weight_matching(left: usize, right: usize, edges: &[(usize, usize, i64)]) -> i64 {
    let mut parent: Vec<usize> = (0..left + right).collect();
    fn root(parent: &mut [usize], mut v: usize) -> usize {
        while parent[v] != v {
            parent[v] = parent[parent[v]];
            v = parent[v];
        }
        v
    }
    for &(l, r, _) in edges {
        let (a, b) = (root(&mut parent, l), root(&mut parent, left + r));
        parent[a] = b;
    }
    let mut by_component: std::collections::HashMap<usize, Vec<(usize, usize, i64)>> =
        std::collections::HashMap::new();
    for &e in edges {
        let c = root(&mut parent, e.0);
        by_component.entry(c).or_default().push(e);
    }
    by_component
        .into_values()
        .map(|mut es| {
            if let [(_, _, w)] = es[..] {
                return w;
            }
            // Local ids, in order of first appearance.
            let (mut ls, mut rs) = (
                std::collections::HashMap::new(),
                std::collections::HashMap::new(),
            );
            for e in &mut es {
                let l = ls.len();
                e.0 = *ls.entry(e.0).or_insert(l);
                let r = rs.len();
                e.1 = *rs.entry(e.1).or_insert(r);
            }
            component_matching(ls.len(), rs.len(), &es)
        })
        .sum()
}

/// [`max_weight_matching`] on one component, in O(M E log V) for a matching of size
/// M: a min-cost flow from a source through left, right, to a sink, one unit per
/// Dijkstra, stopped when the cheapest augmenting path no longer gains weight.
fn component_matching(left: usize, right: usize, edges: &[(usize, usize, i64)]) -> i64 {
    let (source, sink) = (0, left + right + 1);
    let (mut net, mut h) = Network::new(left, right, edges);
    let mut total = 0i64;
    loop {
        let (dist, via) = net.shortest_paths(source, &h);
        if dist[sink] >= INF {
            break;
        }
        for (hv, &d) in h.iter_mut().zip(&dist) {
            if d < INF {
                *hv += d;
            }
        }
        let path_cost = h[sink] - h[source];
        if path_cost >= 0 {
            break;
        }
        total -= path_cost;
        net.augment(&via, source, sink);
    }
    total
}

/// An unreachable vertex's distance.
const INF: i64 = i64::MAX / 4;

/// The residual flow network: arcs in pairs (an arc, then its reverse), and each
/// vertex's arcs out.
struct Network {
    arcs: Vec<Arc>,
    out: Vec<Vec<usize>>,
}

impl Network {
    /// The network of a component (vertex 0 the source, then left, right, the sink),
    /// each edge's cost its negated weight, and the initial potentials: shortest
    /// distances in this acyclic start network.
    fn new(left: usize, right: usize, edges: &[(usize, usize, i64)]) -> (Network, Vec<i64>) {
        let (source, sink) = (0, left + right + 1);
        let n = sink + 1;
        let mut net = Network {
            arcs: Vec::with_capacity(2 * (edges.len() + left + right)),
            out: vec![Vec::new(); n],
        };
        for l in 0..left {
            net.add(source, 1 + l, 0);
        }
        for r in 0..right {
            net.add(1 + left + r, sink, 0);
        }
        let mut h = vec![0i64; n];
        for &(l, r, w) in edges {
            net.add(1 + l, 1 + left + r, -w);
            h[1 + left + r] = h[1 + left + r].min(-w);
        }
        h[sink] = (0..right).map(|r| h[1 + left + r]).min().unwrap_or(0);
        (net, h)
    }

    /// Adds an arc from `u` to `v` of `cost` with capacity, and its empty reverse.
    fn add(&mut self, u: usize, v: usize, cost: i64) {
        self.out[u].push(self.arcs.len());
        self.arcs.push(Arc {
            to: v,
            cap: true,
            cost,
        });
        self.out[v].push(self.arcs.len());
        self.arcs.push(Arc {
            to: u,
            cap: false,
            cost: -cost,
        });
    }

    /// Dijkstra from `source` on the arcs with capacity, by costs reduced with the
    /// potentials `h`: each vertex's distance ([`INF`] if unreachable) and the arc it
    /// is reached by.
    fn shortest_paths(&self, source: usize, h: &[i64]) -> (Vec<i64>, Vec<usize>) {
        let n = self.out.len();
        let mut dist = vec![INF; n];
        let mut via = vec![usize::MAX; n];
        let mut heap = BinaryHeap::new();
        dist[source] = 0;
        heap.push(Reverse((0i64, source)));
        while let Some(Reverse((d, u))) = heap.pop() {
            if d > dist[u] {
                continue;
            }
            for &a in &self.out[u] {
                let arc = &self.arcs[a];
                if !arc.cap {
                    continue;
                }
                let nd = d + arc.cost + h[u] - h[arc.to];
                if nd < dist[arc.to] {
                    dist[arc.to] = nd;
                    via[arc.to] = a;
                    heap.push(Reverse((nd, arc.to)));
                }
            }
        }
        (dist, via)
    }

    /// Pushes one unit along the path to `sink` that `via` records back to `source`.
    fn augment(&mut self, via: &[usize], source: usize, sink: usize) {
        let mut v = sink;
        while v != source {
            let a = via[v];
            self.arcs[a].cap = false;
            self.arcs[a ^ 1].cap = true;
            v = self.arcs[a ^ 1].to;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The best matching by trying every assignment of rows to distinct columns or none.
    fn brute(w: &[Vec<i64>]) -> i64 {
        fn go(w: &[Vec<i64>], row: usize, used: &mut Vec<bool>) -> i64 {
            if row == w.len() {
                return 0;
            }
            let mut best = go(w, row + 1, used);
            for c in 0..used.len() {
                if !used[c] && w[row][c] > 0 {
                    used[c] = true;
                    best = best.max(w[row][c] + go(w, row + 1, used));
                    used[c] = false;
                }
            }
            best
        }
        let cols = w.first().map_or(0, Vec::len);
        go(w, 0, &mut vec![false; cols])
    }

    #[test]
    fn matches_brute_force_on_random_sparse_matrices() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for _ in 0..500 {
            let (n, m) = (rng.random_range(0..=6), rng.random_range(1..=6));
            let w: Vec<Vec<i64>> = (0..n)
                .map(|_| {
                    (0..m)
                        .map(|_| {
                            if rng.random_bool(0.5) {
                                rng.random_range(1..20)
                            } else {
                                0
                            }
                        })
                        .collect()
                })
                .collect();
            let edges: Vec<(usize, usize, i64)> = (0..n)
                .flat_map(|l| (0..m).map(move |r| (l, r)))
                .filter(|&(l, r)| w[l][r] > 0)
                .map(|(l, r)| (l, r, w[l][r]))
                .collect();
            assert_eq!(max_weight_matching(n, m, &edges), brute(&w), "{w:?}");
        }
    }

    #[test]
    fn components_are_matched_apart() {
        // Many single edges (an equal partition) and one path of 2000 classes a side.
        let single: Vec<(usize, usize, i64)> = (0..100_000).map(|i| (i, i, 3)).collect();
        assert_eq!(max_weight_matching(100_000, 100_000, &single), 300_000);
        let k = 2_000;
        let edges: Vec<(usize, usize, i64)> = (0..k)
            .flat_map(|i| [(i, i, 2), (i + 1, i, 1)])
            .filter(|&(l, _, _)| l < k)
            .collect();
        assert_eq!(max_weight_matching(k, k, &edges), 2 * k as i64);
    }
}
