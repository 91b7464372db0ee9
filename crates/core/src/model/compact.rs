//! Observed tokens only: the map between a group's declared token ids and the
//! dense ids `0..n` of the tokens that occur in some sample.
//!
//! A group may declare far more tokens (and classes) than its samples use:
//! unobserved tokens constrain nothing and can sit in any class. Everything
//! between reading and reporting (preprocessing, encoding, local search,
//! training) therefore works on the observed tokens alone, with at most
//! `min(K, n)` classes, so its cost follows the data and never a declared
//! count. Only the final answer, which lists a class for every declared token,
//! is as large as the declaration; [`check_listable`] refuses such answers up
//! front when they would be too large to write.
//!
//! Compact ids keep the order of the declared ids, so sorting and tie-breaking
//! by id give the same results in both numberings.

use crate::error::{Error, InputKind, Location, Result};
use crate::model::group::Group;
use crate::model::partition::Partition;

/// The most tokens, over all groups, that an answer listing a class per token
/// may have (2^26, about 67 million: a few hundred megabytes of JSON).
pub const MAX_LISTED_TOKENS: u64 = 1 << 26;

/// Groups whose answer would list more tokens than a limit allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooManyTokens {
    /// The largest group, which the message names.
    pub group: usize,
    /// Its declared tokens.
    pub tokens: u32,
    /// Declared tokens over all groups.
    pub total: u64,
    /// The limit.
    pub max: u64,
}

impl std::fmt::Display for TooManyTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "groups[{}].tokens = {}: an answer lists a class for every declared token, {} in all, and at most {} are written; declare only the tokens you have",
            self.group, self.tokens, self.total, self.max
        )
    }
}

/// Refuses groups whose answers would list more than `max` tokens in all.
pub fn check_listable(groups: &[Group], max: u64) -> std::result::Result<(), TooManyTokens> {
    let total: u64 = groups.iter().map(|g| u64::from(g.tokens)).sum();
    if total <= max {
        return Ok(());
    }
    let (group, big) = groups
        .iter()
        .enumerate()
        .max_by_key(|(_, g)| g.tokens)
        .expect("a non-empty total has a group");
    Err(TooManyTokens {
        group,
        tokens: big.tokens,
        total,
        max,
    })
}

/// Per group, the observed tokens in increasing order (compact id -> declared id).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenMap {
    observed: Vec<Vec<u32>>,
}

impl TokenMap {
    /// Builds the map from flat sample tokens (`arity` per sample, declared ids below
    /// `declared[g].tokens`) and rewrites them in place to compact ids.
    ///
    /// Time and memory follow the samples: a dense lookup table is used only when the
    /// group's declared size is within a small multiple of the sample count.
    pub fn compact_in_place(tokens: &mut [u32], declared: &[Group]) -> TokenMap {
        let arity = declared.len();
        let samples = tokens.len() / arity.max(1);
        let observed = (0..arity)
            .map(|g| {
                let column = || tokens.iter().skip(g).step_by(arity).copied();
                let n = declared[g].tokens as usize;
                if n <= 2 * samples + 4096 {
                    let mut seen = vec![false; n];
                    column().for_each(|t| seen[t as usize] = true);
                    (0..n as u32).filter(|&t| seen[t as usize]).collect()
                } else {
                    let mut list: Vec<u32> = column().collect();
                    list.sort_unstable();
                    list.dedup();
                    list
                }
            })
            .collect::<Vec<Vec<u32>>>();
        let map = TokenMap { observed };
        for (g, (group, list)) in declared.iter().zip(&map.observed).enumerate() {
            let n = group.tokens as usize;
            if list.len() == n {
                continue; // every token observed: compact ids are declared ids
            }
            if n <= 2 * samples + 4096 {
                let mut id = vec![u32::MAX; n];
                for (c, &t) in list.iter().enumerate() {
                    id[t as usize] = c as u32;
                }
                for t in tokens.iter_mut().skip(g).step_by(arity) {
                    *t = id[*t as usize];
                }
            } else {
                for t in tokens.iter_mut().skip(g).step_by(arity) {
                    *t = list.binary_search(t).expect("an observed token") as u32;
                }
            }
        }
        map
    }

    /// Number of observed tokens of group `g`.
    pub fn observed(&self, g: usize) -> usize {
        self.observed[g].len()
    }

    /// The declared id of compact token `t` of group `g`.
    pub fn original(&self, g: usize, t: u32) -> u32 {
        self.observed[g][t as usize]
    }

    /// The groups as the compact numbering sees them: `n` observed tokens and at most
    /// `min(K, n)` classes (at least one, also for a group without samples).
    pub fn groups(&self, declared: &[Group]) -> Vec<Group> {
        declared
            .iter()
            .zip(&self.observed)
            .map(|(g, o)| {
                let n = o.len() as u32;
                Group::new(n, g.classes.min(n.max(1)))
            })
            .collect()
    }

    /// Number of unobserved (free) tokens of group `g` among `declared` ones.
    pub fn free(&self, g: usize, declared: &[Group]) -> u64 {
        u64::from(declared[g].tokens) - self.observed[g].len() as u64
    }

    /// The smallest unobserved token of group `g`, if any.
    pub fn first_free(&self, g: usize, declared: &[Group]) -> Option<u32> {
        let o = &self.observed[g];
        let t = o
            .iter()
            .enumerate()
            .find(|&(i, &t)| t != i as u32)
            .map_or(o.len() as u32, |(i, _)| i as u32);
        (t < declared[g].tokens).then_some(t)
    }

    /// A compact partition (one class per observed token) as a full one over the
    /// declared tokens; unobserved tokens are put in class 0.
    ///
    /// The caller has checked the declared size with [`check_listable`].
    pub fn expand(&self, compact: &[Vec<u32>], declared: &[Group]) -> Partition {
        compact
            .iter()
            .zip(&self.observed)
            .zip(declared)
            .map(|((row, list), group)| {
                if list.len() == group.tokens as usize {
                    return row.clone();
                }
                let mut full = vec![0; group.tokens as usize];
                for (&c, &t) in row.iter().zip(list) {
                    full[t as usize] = c;
                }
                full
            })
            .collect()
    }

    /// A full partition restricted to the observed tokens, in compact ids.
    pub fn restrict(&self, full: &[Vec<u32>]) -> Partition {
        full.iter()
            .zip(&self.observed)
            .map(|(row, list)| list.iter().map(|&t| row[t as usize]).collect())
            .collect()
    }
}

/// An error for an answer too large to list, as bad input.
pub fn listable(groups: &[Group]) -> Result<()> {
    check_listable(groups, MAX_LISTED_TOKENS).map_err(|e| {
        Error::input_at(
            "",
            InputKind::TooLarge,
            Some(Location::Path(format!("groups[{}].tokens", e.group))),
            e,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacts_sparse_and_dense_groups_alike() {
        // Group 0 declares 10 tokens (dense table), group 1 four billion (sorted list).
        let declared = vec![Group::new(10, 3), Group::new(u32::MAX, 2)];
        let mut tokens = vec![7, 4_000_000_000, 2, 5, 7, 5];
        let map = TokenMap::compact_in_place(&mut tokens, &declared);
        assert_eq!(tokens, vec![1, 1, 0, 0, 1, 0]);
        assert_eq!(map.observed(0), 2);
        assert_eq!(map.original(1, 1), 4_000_000_000);
        assert_eq!(
            map.groups(&declared),
            vec![Group::new(2, 2), Group::new(2, 2)]
        );
        assert_eq!(map.free(1, &declared), u64::from(u32::MAX) - 2);
        assert_eq!(map.first_free(0, &declared), Some(0));
        assert_eq!(map.first_free(1, &declared), Some(0));
        let full = map.expand(&[vec![1, 2], vec![0, 1]], &declared[..1]);
        assert_eq!(full, vec![vec![0, 0, 1, 0, 0, 0, 0, 2, 0, 0]]);
        assert_eq!(map.restrict(&full), vec![vec![1, 2]]);
    }

    #[test]
    fn first_free_skips_a_prefix_of_observed_tokens() {
        let declared = vec![Group::new(4, 2)];
        let mut tokens = vec![0, 1, 3];
        let map = TokenMap::compact_in_place(&mut tokens, &declared);
        assert_eq!(map.first_free(0, &declared), Some(2));
        let mut all = vec![0, 1, 2, 3];
        let map = TokenMap::compact_in_place(&mut all, &declared);
        assert_eq!(map.first_free(0, &declared), None);
        assert_eq!(all, vec![0, 1, 2, 3]);
    }

    #[test]
    fn large_answers_are_refused_with_the_limit() {
        assert!(check_listable(&[Group::new(1000, 2)], MAX_LISTED_TOKENS).is_ok());
        let e = check_listable(
            &[Group::new(3, 2), Group::new(u32::MAX, 2)],
            MAX_LISTED_TOKENS,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("groups[1].tokens = 4294967295"), "{e}");
        assert!(e.contains(&MAX_LISTED_TOKENS.to_string()), "{e}");
    }
}
