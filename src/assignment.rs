//! Maximum-weight perfect assignment (the Hungarian method), used to score a
//! partition against the planted one under the best relabelling of classes.

/// Returns `(best total weight, assignment)` for a square weight matrix, where
/// `assignment[row]` is the column given to `row`. Runs in O(n^3).
pub fn max_weight_assignment(weights: &[Vec<i64>]) -> (i64, Vec<usize>) {
    let n = weights.len();
    // Shortest augmenting paths with potentials on cost = -weight (1-based, 0 is a sentinel).
    let inf = i64::MAX / 4;
    let mut u = vec![0i64; n + 1];
    let mut v = vec![0i64; n + 1];
    let mut matched_row = vec![0usize; n + 1];
    let mut way = vec![0usize; n + 1];
    for row in 1..=n {
        matched_row[0] = row;
        let mut col0 = 0;
        let mut min_to = vec![inf; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[col0] = true;
            let r = matched_row[col0];
            let mut delta = inf;
            let mut col1 = 0;
            for col in 1..=n {
                if !used[col] {
                    let cur = -weights[r - 1][col - 1] - u[r] - v[col];
                    if cur < min_to[col] {
                        min_to[col] = cur;
                        way[col] = col0;
                    }
                    if min_to[col] < delta {
                        delta = min_to[col];
                        col1 = col;
                    }
                }
            }
            for col in 0..=n {
                if used[col] {
                    u[matched_row[col]] += delta;
                    v[col] -= delta;
                } else {
                    min_to[col] -= delta;
                }
            }
            col0 = col1;
            if matched_row[col0] == 0 {
                break;
            }
        }
        loop {
            let prev = way[col0];
            matched_row[col0] = matched_row[prev];
            col0 = prev;
            if col0 == 0 {
                break;
            }
        }
    }
    let mut assignment = vec![0; n];
    for col in 1..=n {
        if matched_row[col] > 0 {
            assignment[matched_row[col] - 1] = col - 1;
        }
    }
    let total = (0..n).map(|r| weights[r][assignment[r]]).sum();
    (total, assignment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn brute(w: &[Vec<i64>]) -> i64 {
        fn go(w: &[Vec<i64>], row: usize, used: &mut Vec<bool>) -> i64 {
            if row == w.len() {
                return 0;
            }
            let mut best = i64::MIN;
            for c in 0..w.len() {
                if !used[c] {
                    used[c] = true;
                    best = best.max(w[row][c] + go(w, row + 1, used));
                    used[c] = false;
                }
            }
            best
        }
        go(w, 0, &mut vec![false; w.len()])
    }

    #[test]
    fn matches_brute_force_on_random_matrices() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for _ in 0..300 {
            let n = rng.random_range(1..=6);
            let w: Vec<Vec<i64>> = (0..n)
                .map(|_| (0..n).map(|_| rng.random_range(0..20)).collect())
                .collect();
            let (total, assign) = max_weight_assignment(&w);
            assert_eq!(total, brute(&w));
            let mut cols = assign.clone();
            cols.sort();
            assert_eq!(cols, (0..n).collect::<Vec<_>>(), "a permutation");
        }
    }
}
