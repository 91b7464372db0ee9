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
    let n = sink + 1;
    let mut arcs: Vec<Arc> = Vec::with_capacity(2 * (edges.len() + left + right));
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut add = |u: usize, v: usize, cost: i64| {
        out[u].push(arcs.len());
        arcs.push(Arc {
            to: v,
            cap: true,
            cost,
        });
        out[v].push(arcs.len());
        arcs.push(Arc {
            to: u,
            cap: false,
            cost: -cost,
        });
    };
    for l in 0..left {
        add(source, 1 + l, 0);
    }
    for r in 0..right {
        add(1 + left + r, sink, 0);
    }
    // Initial potentials: shortest distances in the acyclic start network.
    let inf = i64::MAX / 4;
    let mut h = vec![0i64; n];
    for r in 0..right {
        h[1 + left + r] = 0;
    }
    for &(l, r, w) in edges {
        add(1 + l, 1 + left + r, -w);
        h[1 + left + r] = h[1 + left + r].min(-w);
    }
    h[sink] = (0..right).map(|r| h[1 + left + r]).min().unwrap_or(0);
    let mut total = 0i64;
    loop {
        let mut dist = vec![inf; n];
        let mut via = vec![usize::MAX; n];
        let mut heap = BinaryHeap::new();
        dist[source] = 0;
        heap.push(Reverse((0i64, source)));
        while let Some(Reverse((d, u))) = heap.pop() {
            if d > dist[u] {
                continue;
            }
            for &a in &out[u] {
                let arc = &arcs[a];
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
        if dist[sink] >= inf {
            break;
        }
        for v in 0..n {
            if dist[v] < inf {
                h[v] += dist[v];
            }
        }
        let path_cost = h[sink] - h[source];
        if path_cost >= 0 {
            break;
        }
        total -= path_cost;
        let mut v = sink;
        while v != source {
            let a = via[v];
            arcs[a].cap = false;
            arcs[a ^ 1].cap = true;
            v = arcs[a ^ 1].to;
        }
    }
    total
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
