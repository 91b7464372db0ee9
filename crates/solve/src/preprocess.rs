//! Preprocessing between reading and encoding: drop duplicate samples, find
//! what the data proves before any search, and order each group's observed
//! tokens for the encoder.
//!
//! - Two samples with the same tokens and different values: the instance is
//!   inconsistent whatever the partition (a refutation).
//! - Two samples with different values that share every token but one, in
//!   group g, force those two group-g tokens into different classes
//!   (*must-differ* pairs, encoded as binary clauses). A clique of such tokens
//!   larger than K_g is a refutation; a clique is otherwise put first in the
//!   encoding order, where value precedence then fixes its classes outright.
//! - Tokens that occur in no sample are *free*: they constrain nothing, so they
//!   are left out of the encoding and put back by the solver (in any class).
//!
//! Everything here is implied by the samples, so the set of consistent
//! partitions (and their count) is unchanged.

use crate::clique::greedy_clique_until;
use partrec_core::model::compact::TokenMap;
use partrec_core::model::instance::{Group, Instance};
use partrec_sat::{Control, Ticker};

/// Which optional steps run (all on by default; switched off only to compare variants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PrepareOptions {
    /// Derive must-differ pairs and put a clique of them first in the order.
    pub must_differ: bool,
}

impl Default for PrepareOptions {
    fn default() -> Self {
        PrepareOptions { must_differ: true }
    }
}

/// At most this many must-differ pairs per token of a group: enough for cliques and
/// local structure, and negligible beside the sample clauses of large instances.
pub const MUST_DIFFER_PER_TOKEN: usize = 4;

/// Sample indices `0..n` sorted by (tokens outside group `skip`, label, index).
///
/// The tokens are packed into one mixed-radix `u128` key when the token counts allow
/// it (any realistic instance), which sorts several times faster than comparing slices.
fn sort_samples<'a>(
    n: usize,
    radix: &[u32],
    skip: Option<usize>,
    x: impl Fn(usize) -> &'a [u32],
    label: impl Fn(usize) -> u32,
) -> Vec<usize> {
    let kept = |h: &usize| Some(*h) != skip;
    let fits = (0..radix.len())
        .filter(kept)
        .try_fold(1u128, |acc, h| acc.checked_mul(u128::from(radix[h])))
        .is_some();
    if fits {
        let pack = |s: usize| {
            (0..radix.len()).filter(kept).fold(0u128, |acc, h| {
                acc * u128::from(radix[h]) + u128::from(x(s)[h])
            })
        };
        let mut keyed: Vec<(u128, u32, u32)> =
            (0..n).map(|s| (pack(s), label(s), s as u32)).collect();
        keyed.sort_unstable();
        keyed.into_iter().map(|(_, _, s)| s as usize).collect()
    } else {
        let outside = |s: usize| {
            x(s).iter()
                .enumerate()
                .filter(|(h, _)| kept(h))
                .map(|(_, &t)| t)
                .collect::<Vec<_>>()
        };
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by_cached_key(|&s| (outside(s), label(s), s));
        idx
    }
}

/// The samples as the encoder sees them, over the observed tokens only.
///
/// Tokens are numbered densely per group (see [`partrec_core::model::compact`]): `order`,
/// `position`, `must_differ` and [`Prepared::samples`] use these compact ids, and
/// [`Prepared::tokens`] maps them back to the declared ones.
#[derive(Clone, Debug)]
pub struct Prepared {
    arity: usize,
    tokens: Vec<u32>,
    labels: Vec<u32>,
    map: TokenMap,
    groups: Vec<Group>,
    /// Number of distinct values.
    pub values: usize,
    /// Per group, the observed tokens in encoding order: a must-differ clique first,
    /// then the rest, most frequent first, ties by id.
    pub order: Vec<Vec<u32>>,
    /// Per group, each observed token's position in `order`.
    pub position: Vec<Vec<u32>>,
    /// Per group, token pairs `(a, b)`, `a < b`, that must be in different classes.
    pub must_differ: Vec<Vec<(u32, u32)>>,
    /// Why the instance is inconsistent without any search, if it is.
    pub refutation: Option<String>,
}

impl Prepared {
    /// Preprocesses `instance` with all steps on.
    pub fn new(instance: &Instance) -> Prepared {
        Prepared::with_options(instance, PrepareOptions::default())
    }

    /// Preprocesses `instance` with the given steps.
    pub fn with_options(instance: &Instance, options: PrepareOptions) -> Prepared {
        Prepared::until(instance, options, &Control::new()).expect("no stop without a deadline")
    }

    /// [`Prepared::with_options`] that looks at `control` between its steps and inside
    /// its loops; `None` if it said stop.
    pub fn until(
        instance: &Instance,
        options: PrepareOptions,
        control: &Control,
    ) -> Option<Prepared> {
        let arity = instance.arity();
        let mut compact: Vec<u32> = (0..instance.num_samples())
            .flat_map(|s| instance.x(s).iter().copied())
            .collect();
        let map = TokenMap::compact_in_place(&mut compact, instance.groups());
        let groups = map.groups(instance.groups());
        let x = |s: usize| &compact[s * arity..(s + 1) * arity];
        let radix: Vec<u32> = groups.iter().map(|g| g.tokens).collect();
        let idx = sort_samples(instance.num_samples(), &radix, None, x, |s| {
            instance.label_id(s)
        });
        let mut tokens = Vec::new();
        let mut labels = Vec::new();
        let mut refutation = None;
        let mut prev: Option<usize> = None;
        let mut ticker = Ticker::new(control);
        for &s in &idx {
            if ticker.tick(1) {
                return None;
            }
            if let Some(p) = prev {
                if x(p) == x(s) {
                    if instance.label_id(p) == instance.label_id(s) {
                        continue;
                    }
                    if refutation.is_none() {
                        refutation = Some(format!(
                            "samples {} and {} have the same tokens and different values",
                            p.min(s),
                            p.max(s)
                        ));
                    }
                }
            }
            tokens.extend_from_slice(x(s));
            labels.push(instance.label_id(s));
            prev = Some(s);
        }
        drop(compact);
        let mut prep = Prepared {
            arity,
            tokens,
            labels,
            map,
            groups,
            values: instance.values().len(),
            order: Vec::new(),
            position: Vec::new(),
            must_differ: vec![Vec::new(); arity],
            refutation,
        };
        if options.must_differ && prep.refutation.is_none() {
            for g in 0..arity {
                prep.must_differ[g] = prep.find_must_differ(g, &radix, control)?;
            }
        }
        prep.order_tokens(instance.groups(), control)?;
        Some(prep)
    }

    /// The groups over the observed tokens: `n` tokens (the observed ones) and at most
    /// `min(K, n)` classes.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// The map between compact and declared token ids.
    pub fn tokens(&self) -> &TokenMap {
        &self.map
    }

    /// Must-differ pairs of group `g` (at most [`MUST_DIFFER_PER_TOKEN`] per token):
    /// samples that agree outside g and differ in value. Within a run of samples that
    /// agree outside g (sorted by value), pairs are taken between runs of equal values,
    /// so the work follows the samples and the pairs made, never the run's square;
    /// `None` if `control` said stop.
    fn find_must_differ(
        &self,
        g: usize,
        radix: &[u32],
        control: &Control,
    ) -> Option<Vec<(u32, u32)>> {
        let x = |s: usize| &self.tokens[s * self.arity..(s + 1) * self.arity];
        let others = |s: usize| {
            x(s).iter()
                .enumerate()
                .filter(move |&(h, _)| h != g)
                .map(|(_, &t)| t)
        };
        let idx = sort_samples(self.len(), radix, Some(g), x, |s| self.labels[s]);
        let cap = MUST_DIFFER_PER_TOKEN * radix[g] as usize;
        let mut pairs = Vec::new();
        let mut start = 0;
        let mut ticker = Ticker::new(control);
        while start < idx.len() && pairs.len() < cap {
            let mut end = start + 1;
            while end < idx.len() && others(idx[end]).eq(others(idx[start])) {
                end += 1;
            }
            let run = &idx[start..end];
            // The run's stretches of equal value; each sample pairs with those after its own.
            let mut cuts = vec![0];
            cuts.extend((1..run.len()).filter(|&i| self.labels[run[i]] != self.labels[run[i - 1]]));
            'run: for (i, &a) in run.iter().enumerate() {
                let after = cuts.partition_point(|&c| c <= i);
                let Some(&next) = cuts.get(after) else {
                    break;
                };
                for &b in &run[next..] {
                    if ticker.tick(1) {
                        return None;
                    }
                    let (ta, tb) = (x(a)[g], x(b)[g]);
                    pairs.push((ta.min(tb), ta.max(tb)));
                    if pairs.len() >= cap {
                        break 'run;
                    }
                }
            }
            if ticker.tick(run.len() as u64) {
                return None;
            }
            start = end;
        }
        pairs.sort_unstable();
        pairs.dedup();
        Some(pairs)
    }

    /// Orders each group's observed tokens; a must-differ clique larger than K is a
    /// refutation. `None` if `control` said stop.
    fn order_tokens(&mut self, declared: &[Group], control: &Control) -> Option<()> {
        for (g, group) in declared.iter().enumerate() {
            let n = self.map.observed(g);
            let mut frequency = vec![0u32; n];
            for x in self.tokens.chunks_exact(self.arity) {
                frequency[x[g] as usize] += 1;
            }
            let mut adj = vec![Vec::new(); n];
            for &(a, b) in &self.must_differ[g] {
                adj[a as usize].push(b);
                adj[b as usize].push(a);
            }
            adj.iter_mut().for_each(|a| a.sort_unstable());
            let clique = greedy_clique_until(&adj, &|| control.should_stop());
            if control.should_stop() {
                return None;
            }
            if clique.len() > group.classes as usize && self.refutation.is_none() {
                let named: Vec<u32> = clique.iter().map(|&t| self.map.original(g, t)).collect();
                self.refutation = Some(format!(
                    "group {g}: tokens {named:?} must pairwise be in different classes, but there are only {} classes",
                    group.classes
                ));
            }
            // A lone vertex is no clique: then the order is by frequency alone.
            let first: Vec<u32> = if clique.len() > 1 { clique } else { Vec::new() };
            let mut in_first = vec![false; n];
            first.iter().for_each(|&t| in_first[t as usize] = true);
            let mut rest: Vec<u32> = (0..n as u32).filter(|&t| !in_first[t as usize]).collect();
            rest.sort_by_key(|&t| (std::cmp::Reverse(frequency[t as usize]), t));
            let order: Vec<u32> = first.into_iter().chain(rest).collect();
            let mut pos = vec![0; n];
            for (p, &t) in order.iter().enumerate() {
                pos[t as usize] = p as u32;
            }
            self.order.push(order);
            self.position.push(pos);
        }
        Some(())
    }

    /// Number of distinct samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The distinct samples as `(tokens, value id)`.
    pub fn samples(&self) -> impl Iterator<Item = (&[u32], u32)> + '_ {
        self.tokens
            .chunks_exact(self.arity.max(1))
            .zip(self.labels.iter().copied())
    }

    /// The value id of distinct sample `s`.
    pub fn label(&self, s: usize) -> u32 {
        self.labels[s]
    }

    /// Number of free tokens (in no sample) of group `g` among the `declared` ones.
    pub fn free_count(&self, g: usize, declared: &[Group]) -> u64 {
        self.map.free(g, declared)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepare(samples: &str) -> Prepared {
        let text = format!(
            r#"{{"groups": [{{"tokens": 4, "classes": 2}}, {{"tokens": 3, "classes": 2}}], "samples": {samples}}}"#
        );
        Prepared::new(&Instance::from_json(text.as_bytes(), "t").unwrap())
    }

    /// The encoding order in declared token ids.
    fn declared_order(p: &Prepared) -> Vec<Vec<u32>> {
        (0..p.order.len())
            .map(|g| {
                p.order[g]
                    .iter()
                    .map(|&t| p.tokens().original(g, t))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn removes_duplicates_and_orders_by_frequency() {
        let p = prepare(
            r#"[{"x": [1, 0], "y": 0}, {"x": [1, 0], "y": 0.0}, {"x": [2, 0], "y": 0}, {"x": [1, 2], "y": 0}]"#,
        );
        assert_eq!(p.len(), 3);
        assert_eq!(p.refutation, None);
        assert_eq!(declared_order(&p), vec![vec![1, 2], vec![0, 2]]);
        let declared = [Group::new(4, 2), Group::new(3, 2)];
        assert_eq!(p.free_count(0, &declared), 2);
        assert_eq!(p.free_count(1, &declared), 1);
        // Declared token 2 of group 0 is compact token 1, second in the order.
        assert_eq!(p.tokens().original(0, 1), 2);
        assert_eq!(p.position[0][1], 1);
        assert_eq!(p.groups(), &[Group::new(2, 2), Group::new(2, 2)]);
    }

    #[test]
    fn finds_the_same_tokens_with_two_values() {
        let p =
            prepare(r#"[{"x": [1, 0], "y": 0}, {"x": [3, 1], "y": 0}, {"x": [1, 0], "y": "a"}]"#);
        assert_eq!(
            p.refutation.as_deref(),
            Some("samples 0 and 2 have the same tokens and different values")
        );
    }

    #[test]
    fn finds_must_differ_pairs_and_puts_the_clique_first() {
        // Group 0 tokens 2 and 3 share group-1 token 0 with different values.
        let p = prepare(
            r#"[{"x": [2, 0], "y": 0}, {"x": [3, 0], "y": 1}, {"x": [1, 1], "y": 0}, {"x": [1, 1], "y": 0}, {"x": [1, 2], "y": 0}]"#,
        );
        // Group 0 observes tokens 1, 2, 3: compact ids 0, 1, 2.
        assert_eq!(p.must_differ[0], vec![(1, 2)]);
        assert!(p.must_differ[1].is_empty());
        assert_eq!(&declared_order(&p)[0][..2], &[2, 3]);
    }

    #[test]
    fn a_clique_larger_than_k_is_a_refutation() {
        // Tokens 0, 1, 2 of group 0 pairwise differ (all beside group-1 token 0): 3 > 2 classes.
        let p = prepare(r#"[{"x": [0, 0], "y": 0}, {"x": [1, 0], "y": 1}, {"x": [2, 0], "y": 2}]"#);
        assert!(p.refutation.unwrap().contains("only 2 classes"));
        let off = Prepared::with_options(
            &Instance::from_json(br#"{"groups": [{"tokens": 3, "classes": 2}, {"tokens": 1, "classes": 1}], "samples": [{"x": [0, 0], "y": 0}, {"x": [1, 0], "y": 1}]}"#, "t").unwrap(),
            PrepareOptions { must_differ: false },
        );
        assert!(off.must_differ.iter().all(Vec::is_empty));
    }
}
