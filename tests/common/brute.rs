//! Exhaustive enumeration for tiny instances: the reference that the solver
//! is tested against. It shares nothing with the encoder or the checker: it
//! lists every partition (restricted growth strings, at most K_i blocks per
//! group) and tests every pair of samples directly.

use partrec::model::instance::Instance;
use partrec::model::partition::Partition;

/// Every partition of `n` items into at most `k` blocks, as restricted growth
/// strings (item 0 in block 0; each item at most one above the largest before it).
pub fn set_partitions(n: usize, k: usize) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    let mut row = vec![0u32; n];
    fn go(i: usize, max: u32, k: usize, row: &mut Vec<u32>, out: &mut Vec<Vec<u32>>) {
        if i == row.len() {
            out.push(row.clone());
            return;
        }
        let limit = if i == 0 {
            0
        } else {
            (max + 1).min(k as u32 - 1)
        };
        for c in 0..=limit {
            row[i] = c;
            go(i + 1, max.max(c), k, row, out);
        }
    }
    if k > 0 {
        go(0, 0, k, &mut row, &mut out);
    }
    out
}

/// True iff no two samples share a class tuple under `partition` and differ in value.
pub fn consistent(instance: &Instance, partition: &[Vec<u32>]) -> bool {
    let cell = |s: usize| -> Vec<u32> {
        instance
            .x(s)
            .iter()
            .enumerate()
            .map(|(g, &t)| partition[g][t as usize])
            .collect()
    };
    let n = instance.num_samples();
    (0..n).all(|a| (a + 1..n).all(|b| instance.y(a) == instance.y(b) || cell(a) != cell(b)))
}

/// All consistent partitions (canonical), in enumeration order.
pub fn consistent_partitions(instance: &Instance) -> Vec<Partition> {
    let rows: Vec<Vec<Vec<u32>>> = instance
        .groups()
        .iter()
        .map(|g| set_partitions(g.tokens as usize, g.classes as usize))
        .collect();
    let mut out = Vec::new();
    let mut pick = vec![0usize; rows.len()];
    loop {
        let partition: Partition = pick.iter().zip(&rows).map(|(&i, r)| r[i].clone()).collect();
        if consistent(instance, &partition) {
            out.push(partition);
        }
        let mut g = rows.len();
        loop {
            if g == 0 {
                return out;
            }
            g -= 1;
            pick[g] += 1;
            if pick[g] < rows[g].len() {
                break;
            }
            pick[g] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerates_restricted_set_partitions() {
        // Bell numbers, and Stirling sums for at most k blocks.
        assert_eq!(set_partitions(4, 4).len(), 15);
        assert_eq!(set_partitions(5, 5).len(), 52);
        assert_eq!(set_partitions(4, 2).len(), 8);
        assert_eq!(set_partitions(3, 1), vec![vec![0, 0, 0]]);
        assert_eq!(set_partitions(1, 3), vec![vec![0]]);
    }
}
