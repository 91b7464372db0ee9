//! Counting partitions of every declared token from those of the observed ones: a
//! free token (in no sample) can sit in any class.

use partrec_core::model::compact::TokenMap;
use partrec_core::model::instance::Instance;
use partrec_core::model::partition::{canonical, canonical_row, Partition};

/// Free tokens beyond this many change no capped count: see [`free_placements`].
pub(crate) const SATURATING_FREE: u64 = 128;

/// Number of ways to place `free` unconstrained tokens into a group whose other
/// tokens use `used` classes, with at most `max` classes in all, counted as
/// distinct partitions and capped at `cap`.
///
/// The recurrence `ways_f(m) = m ways_{f-1}(m) + ways_{f-1}(m+1)` (stay in one of
/// the m classes, or open class m+1 if m < max) only reads classes up to
/// `used + f`, so the table spans `used..=min(max, used + f)`. Its time does not
/// follow `free` or `max` beyond 128 (`SATURATING_FREE`): the counts never decrease
/// with f, and with `max >= 2` they exceed 2^(f-2) >= any u64 cap once f >= 66,
/// while with `max = 1` every count is 1. So after that many steps the answer is
/// the one for all `free` tokens.
pub fn free_placements(free: u64, used: usize, max: usize, cap: u64) -> u64 {
    let used = used.min(max);
    let steps = free.min(SATURATING_FREE) as usize;
    let top = max.min(used + steps);
    // ways[i] = placements of the remaining tokens when used + i classes are in use.
    let mut ways = vec![1u64; top - used + 1];
    for _ in 0..steps {
        for i in 0..ways.len() {
            let m = used + i;
            let stay = (m as u64).saturating_mul(ways[i]);
            let open = if m < max {
                // Beyond the table the (wrong) value only reaches index 0 after more
                // steps than remain, so reading 1 there is harmless.
                ways.get(i + 1).copied().unwrap_or(1)
            } else {
                0
            };
            ways[i] = stay.saturating_add(open).min(cap);
        }
    }
    ways[0]
}

/// Number of full partitions that extend one partition of the observed tokens (using
/// `used[g]` classes in group g), capped at `cap`.
pub fn free_extensions(instance: &Instance, map: &TokenMap, used: &[usize], cap: u64) -> u64 {
    let groups = instance.groups();
    groups.iter().enumerate().fold(1u64, |acc, (g, group)| {
        let free = map.free(g, groups);
        let ways = free_placements(free, used[g], group.classes as usize, cap);
        acc.saturating_mul(ways).min(cap)
    })
}

/// A second partition that differs from `partition` only in where one free token sits.
///
/// Moving one free token suffices: with two or more placements in some group, the
/// first free token of that group can go to another class (a used one, or a new one).
pub(crate) fn free_token_witness(
    instance: &Instance,
    map: &TokenMap,
    partition: &[Vec<u32>],
) -> Option<Partition> {
    for (g, group) in instance.groups().iter().enumerate() {
        let Some(t) = map.first_free(g, instance.groups()) else {
            continue;
        };
        let base = canonical_row(&partition[g]);
        let open = (base.iter().max().map_or(0, |&m| m + 1)).min(group.classes - 1);
        for class in 0..=open {
            let mut row = partition[g].clone();
            row[t as usize] = class;
            if canonical_row(&row) != base {
                let mut witness = partition.to_vec();
                witness[g] = row;
                return Some(canonical(&witness));
            }
        }
    }
    None
}
