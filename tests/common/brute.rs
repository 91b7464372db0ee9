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

/// The least total weight of samples that any partition and any table must violate,
/// and every partition (canonical) reaching it. Every partition is tried; for each,
/// the least over all tables is taken cell by cell (a table's cost is a sum over the
/// class tuples, each choosing its value freely): for every observed class tuple,
/// every value 0..V is tried and the cheapest kept.
pub fn least_violations(instance: &Instance) -> (u64, Vec<Partition>) {
    let rows: Vec<Vec<Vec<u32>>> = instance
        .groups()
        .iter()
        .map(|g| set_partitions(g.tokens as usize, g.classes as usize))
        .collect();
    let values = instance.values().len();
    let mut best = (u64::MAX, Vec::new());
    let mut pick = vec![0usize; rows.len()];
    loop {
        let partition: Partition = pick.iter().zip(&rows).map(|(&i, r)| r[i].clone()).collect();
        let mut cells: std::collections::BTreeMap<Vec<u32>, Vec<u64>> = Default::default();
        for s in 0..instance.num_samples() {
            let cell: Vec<u32> = instance
                .x(s)
                .iter()
                .enumerate()
                .map(|(g, &t)| partition[g][t as usize])
                .collect();
            cells.entry(cell).or_insert_with(|| vec![0; values])[instance.label_id(s) as usize] +=
                instance.weight(s);
        }
        let least: u64 = cells
            .values()
            .map(|w| {
                let total: u64 = w.iter().sum();
                (0..values).map(|v| total - w[v]).min().unwrap_or(0)
            })
            .sum();
        if least < best.0 {
            best = (least, vec![partition]);
        } else if least == best.0 {
            best.1.push(partition);
        }
        let mut g = 0;
        loop {
            if g == pick.len() {
                return best;
            }
            pick[g] += 1;
            if pick[g] < rows[g].len() {
                break;
            }
            pick[g] = 0;
            g += 1;
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
