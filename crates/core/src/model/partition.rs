//! Partitions of each group's tokens into classes: canonical form, equality up
//! to renaming classes, and agreement with a planted partition.

use crate::model::matching::max_weight_matching;
use std::collections::HashMap;

/// The class of every token, one row per group.
pub type Partition = Vec<Vec<u32>>;

/// Renumbers one group's classes by first occurrence: token 0 is in class 0,
/// the next new class met is 1, and so on.
pub fn canonical_row(row: &[u32]) -> Vec<u32> {
    let mut names = std::collections::HashMap::new();
    row.iter()
        .map(|&c| {
            let next = names.len() as u32;
            *names.entry(c).or_insert(next)
        })
        .collect()
}

/// The canonical form of a partition: every group renumbered by [`canonical_row`].
/// Two partitions are equal up to renaming classes iff their canonical forms are equal.
pub fn canonical(partition: &[Vec<u32>]) -> Partition {
    partition.iter().map(|row| canonical_row(row)).collect()
}

/// True iff `a` and `b` are the same partition up to renaming classes within each group.
pub fn same_partition(a: &[Vec<u32>], b: &[Vec<u32>]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| canonical_row(x) == canonical_row(y))
}

/// The number of distinct classes used in each group.
pub fn classes_used(partition: &[Vec<u32>]) -> Vec<usize> {
    partition
        .iter()
        .map(|row| {
            let mut seen: Vec<u32> = row.clone();
            seen.sort_unstable();
            seen.dedup();
            seen.len()
        })
        .collect()
}

/// How many tokens of `row` agree with `truth` under the best one-to-one renaming
/// of `row`'s classes. Time follows the tokens, not the number of classes.
pub fn best_agreement(row: &[u32], truth: &[u32]) -> usize {
    let mut weight: HashMap<(u32, u32), i64> = HashMap::new();
    for (&a, &b) in row.iter().zip(truth) {
        *weight.entry((a, b)).or_insert(0) += 1;
    }
    let mut left: HashMap<u32, usize> = HashMap::new();
    let mut right: HashMap<u32, usize> = HashMap::new();
    let mut pairs: Vec<((u32, u32), i64)> = weight.into_iter().collect();
    pairs.sort_unstable();
    let edges: Vec<(usize, usize, i64)> = pairs
        .into_iter()
        .map(|((a, b), w)| {
            let l = left.len();
            let l = *left.entry(a).or_insert(l);
            let r = right.len();
            let r = *right.entry(b).or_insert(r);
            (l, r, w)
        })
        .collect();
    max_weight_matching(left.len(), right.len(), &edges) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_numbers_classes_by_first_occurrence() {
        assert_eq!(canonical_row(&[2, 2, 0, 1, 0]), vec![0, 0, 1, 2, 1]);
        assert_eq!(canonical(&[vec![1, 0], vec![3]]), vec![vec![0, 1], vec![0]]);
    }

    #[test]
    fn equality_is_up_to_renaming_within_each_group() {
        assert!(same_partition(&[vec![0, 1, 1]], &[vec![2, 0, 0]]));
        assert!(!same_partition(&[vec![0, 1, 1]], &[vec![0, 0, 1]]));
        assert!(!same_partition(&[vec![0]], &[vec![0], vec![0]]));
    }

    #[test]
    fn agreement_uses_the_best_renaming() {
        assert_eq!(best_agreement(&[1, 1, 0, 0], &[0, 0, 1, 1]), 4);
        assert_eq!(best_agreement(&[0, 0, 1, 1], &[0, 1, 1, 1]), 3);
        assert_eq!(best_agreement(&[1, 1, 0, 0], &[0, 1, 1, 1]), 3);
        // Classes far beyond the tokens cost nothing.
        assert_eq!(best_agreement(&[4_000_000_000, 7], &[3, 3_999_999_999]), 2);
        assert_eq!(best_agreement(&[5, 5, 9], &[1, 2, 3]), 2);
        assert_eq!(classes_used(&[vec![0, 2, 2], vec![1]]), vec![2, 1]);
    }
}
