//! A large clique, found greedily under a work budget: a lower bound on the classes a
//! group needs (its tokens that pairwise must differ), and on a graph's colours.

/// How many start vertices [`greedy_clique`] tries (those of highest degree).
pub const CLIQUE_STARTS: usize = 2000;

/// A large clique in the graph given by sorted adjacency lists, found greedily from
/// up to [`CLIQUE_STARTS`] start vertices of highest degree: from each start, its
/// neighbours are added in order of how many other neighbours of the start they see.
/// Its work is bounded by [`clique_budget`] steps, whatever the degrees.
pub fn greedy_clique(adj: &[Vec<u32>]) -> Vec<u32> {
    greedy_clique_until(adj, &|| false)
}

/// The work [`greedy_clique`] may do on a graph with these adjacency lists: a small
/// multiple of its size (vertices plus adjacency entries), and at least 2^24 steps.
pub fn clique_budget(adj: &[Vec<u32>]) -> u64 {
    let size = adj.len() as u64 + adj.iter().map(|a| a.len() as u64).sum::<u64>();
    size.saturating_mul(8).max(1 << 24)
}

/// [`greedy_clique`] that asks `stop` before each start vertex and returns the best
/// clique found so far once it says yes (or once the budget is spent): a clique
/// whatever the cut, only perhaps a smaller one.
pub fn greedy_clique_until(adj: &[Vec<u32>], stop: &dyn Fn() -> bool) -> Vec<u32> {
    let n = adj.len();
    let mut budget = clique_budget(adj);
    let mut starts: Vec<usize> = (0..n).collect();
    starts.sort_by_key(|&v| (std::cmp::Reverse(adj[v].len()), v));
    starts.truncate(CLIQUE_STARTS);
    let mut mark = vec![usize::MAX; n];
    let mut best: Vec<u32> = Vec::new();
    for &start in &starts {
        if budget == 0 || stop() {
            break;
        }
        let cand = &adj[start];
        if cand.len() < best.len() {
            continue;
        }
        cand.iter().for_each(|&u| mark[u as usize] = start);
        budget = budget.saturating_sub(cand.len() as u64);
        // Score neighbours while the budget lasts; the rest keep score 0.
        let mut scored: Vec<(usize, u32)> = cand
            .iter()
            .map(|&u| {
                let around = &adj[u as usize];
                if budget < around.len() as u64 {
                    return (0, u);
                }
                budget -= around.len() as u64;
                let seen = around
                    .iter()
                    .filter(|&&w| mark[w as usize] == start)
                    .count();
                (seen, u)
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut clique = vec![start as u32];
        for &(_, u) in &scored {
            if budget < clique.len() as u64 {
                break;
            }
            budget -= clique.len() as u64;
            if clique
                .iter()
                .all(|&w| adj[u as usize].binary_search(&w).is_ok())
            {
                clique.push(u);
            }
        }
        if clique.len() > best.len() {
            best = clique;
        }
    }
    best
}
