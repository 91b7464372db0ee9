//! Preprocessing between reading and encoding: drop duplicate samples, find a
//! token tuple seen with two values (the instance is then inconsistent, no
//! search needed), and order each group's observed tokens for the encoder.
//!
//! Tokens that occur in no sample are *free*: they constrain nothing, so they
//! are left out of the encoding and put back by the solver (in any class).

/// The samples as the encoder sees them.
#[derive(Clone, Debug)]
pub struct Prepared {
    arity: usize,
    tokens: Vec<u32>,
    labels: Vec<u32>,
    /// Number of distinct values.
    pub values: usize,
    /// Per group, the observed tokens in encoding order: most frequent first, ties by id.
    pub order: Vec<Vec<u32>>,
    /// Per group, each token's position in `order`, or `None` for a free token.
    pub position: Vec<Vec<Option<u32>>>,
    /// Two sample indices (in the file) with the same tokens and different values, if any.
    pub contradiction: Option<[usize; 2]>,
}

impl Prepared {
    /// Deduplicates and orders the samples of `instance`.
    pub fn new(instance: &crate::Instance) -> Prepared {
        let arity = instance.arity();
        let mut idx: Vec<usize> = (0..instance.num_samples()).collect();
        idx.sort_unstable_by(|&a, &b| {
            instance
                .x(a)
                .cmp(instance.x(b))
                .then(instance.label_id(a).cmp(&instance.label_id(b)))
                .then(a.cmp(&b))
        });
        let mut tokens = Vec::new();
        let mut labels = Vec::new();
        let mut contradiction = None;
        let mut prev: Option<usize> = None;
        for &s in &idx {
            if let Some(p) = prev {
                if instance.x(p) == instance.x(s) {
                    if instance.label_id(p) != instance.label_id(s) && contradiction.is_none() {
                        contradiction = Some([p.min(s), p.max(s)]);
                    }
                    if instance.label_id(p) == instance.label_id(s) {
                        continue;
                    }
                }
            }
            tokens.extend_from_slice(instance.x(s));
            labels.push(instance.label_id(s));
            prev = Some(s);
        }
        let mut frequency: Vec<Vec<u32>> = instance
            .groups()
            .iter()
            .map(|g| vec![0; g.tokens as usize])
            .collect();
        for x in tokens.chunks_exact(arity.max(1)) {
            for (g, &t) in x.iter().enumerate() {
                frequency[g][t as usize] += 1;
            }
        }
        let mut order = Vec::with_capacity(arity);
        let mut position = Vec::with_capacity(arity);
        for freq in &frequency {
            let mut seen: Vec<u32> = (0..freq.len() as u32)
                .filter(|&t| freq[t as usize] > 0)
                .collect();
            seen.sort_by_key(|&t| (std::cmp::Reverse(freq[t as usize]), t));
            let mut pos = vec![None; freq.len()];
            for (p, &t) in seen.iter().enumerate() {
                pos[t as usize] = Some(p as u32);
            }
            order.push(seen);
            position.push(pos);
        }
        Prepared {
            arity,
            tokens,
            labels,
            values: instance.values().len(),
            order,
            position,
            contradiction,
        }
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

    /// The free tokens (in no sample) of group `g`.
    pub fn free_tokens(&self, g: usize) -> impl Iterator<Item = u32> + '_ {
        self.position[g]
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_none())
            .map(|(t, _)| t as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Instance;

    fn prepare(samples: &str) -> Prepared {
        let text = format!(
            r#"{{"groups": [{{"tokens": 4, "classes": 2}}, {{"tokens": 3, "classes": 2}}], "samples": {samples}}}"#
        );
        Prepared::new(&Instance::from_json(text.as_bytes(), "t").unwrap())
    }

    #[test]
    fn removes_duplicates_and_orders_by_frequency() {
        let p = prepare(
            r#"[{"x": [1, 0], "y": 0}, {"x": [1, 0], "y": 0.0}, {"x": [2, 0], "y": 1}, {"x": [1, 2], "y": 1}]"#,
        );
        assert_eq!(p.len(), 3);
        assert_eq!(p.contradiction, None);
        assert_eq!(p.order, vec![vec![1, 2], vec![0, 2]]);
        assert_eq!(p.free_tokens(0).collect::<Vec<_>>(), vec![0, 3]);
        assert_eq!(p.free_tokens(1).collect::<Vec<_>>(), vec![1]);
        assert_eq!(p.position[0][2], Some(1));
    }

    #[test]
    fn finds_the_same_tokens_with_two_values() {
        let p =
            prepare(r#"[{"x": [1, 0], "y": 0}, {"x": [3, 1], "y": 0}, {"x": [1, 0], "y": "a"}]"#);
        assert_eq!(p.contradiction, Some([0, 2]));
    }
}
