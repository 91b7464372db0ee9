//! Incremental totalizers (Bailleux and Boufkhad's unary counter, built only as far
//! as it is read, as RC2's): the outputs count true inputs, never weights, and each
//! bound asked for adds only the clauses of the outputs it needs.

use partrec_sat::{ClauseSink, Lit};

/// One node of a [`Totalizer`]: `out[j]` is implied by "at least j + 1 of the node's
/// inputs are true", built for the j asked for so far.
struct Node {
    size: usize,
    children: Option<(usize, usize)>,
    out: Vec<Lit>,
}

/// A unary counter over some literals: output `j` is implied by "at least j + 1
/// inputs are true" (only that direction: a model may set an output without its
/// inputs, never the reverse).
pub(super) struct Totalizer {
    /// The tree, children before parents: the root is the last node.
    nodes: Vec<Node>,
}

impl Totalizer {
    /// The tree over `inputs`, without outputs yet (see [`Totalizer::grow`]).
    pub(super) fn new(inputs: &[Lit]) -> Totalizer {
        let mut t = Totalizer { nodes: Vec::new() };
        t.build(inputs);
        t
    }

    fn build(&mut self, inputs: &[Lit]) -> usize {
        let node = if inputs.len() <= 1 {
            Node {
                size: inputs.len(),
                children: None,
                out: inputs.to_vec(),
            }
        } else {
            let (left, right) = inputs.split_at(inputs.len() / 2);
            let children = (self.build(left), self.build(right));
            Node {
                size: inputs.len(),
                children: Some(children),
                out: Vec::new(),
            }
        };
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn root(&self) -> &Node {
        &self.nodes[self.nodes.len() - 1]
    }

    /// The number of inputs.
    pub(super) fn size(&self) -> usize {
        self.root().size
    }

    /// Output `j` ("at least j + 1 inputs true"); it must have been grown.
    pub(super) fn output(&self, j: usize) -> Lit {
        self.root().out[j]
    }

    /// Builds the outputs below `count` (every output if there are fewer inputs).
    pub(super) fn grow(&mut self, sink: &mut dyn ClauseSink, count: usize) {
        self.grow_node(self.nodes.len() - 1, count, sink);
    }

    fn grow_node(&mut self, n: usize, count: usize, sink: &mut dyn ClauseSink) {
        let Some((l, r)) = self.nodes[n].children else {
            return;
        };
        let want = count.min(self.nodes[n].size);
        let have = self.nodes[n].out.len();
        if want <= have {
            return;
        }
        // A child's outputs below `want` are all a sum up to `want` can use.
        self.grow_node(l, want, sink);
        self.grow_node(r, want, sink);
        for _ in have..want {
            let v = sink.new_var().positive();
            self.nodes[n].out.push(v);
        }
        let (a, b, out) = (&self.nodes[l].out, &self.nodes[r].out, &self.nodes[n].out);
        // i true on the left and j on the right imply output i + j - 1: only the new
        // outputs, have < i + j <= want.
        for i in 0..=a.len() {
            for j in (have + 1).saturating_sub(i)..=b.len().min(want - i) {
                let mut clause = Vec::with_capacity(3);
                if i > 0 {
                    clause.push(!a[i - 1]);
                }
                if j > 0 {
                    clause.push(!b[j - 1]);
                }
                clause.push(out[i + j - 1]);
                sink.add_clause(&clause);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use partrec_sat::{Backend, Outcome, Var};

    /// Every output grown, on every assignment of the inputs: forced true exactly
    /// when at least its count of inputs is true, whether grown at once or in steps.
    #[test]
    fn outputs_count_the_true_inputs_grown_at_once_or_in_steps() {
        for backend in Backend::ALL {
            for n in 1..=6usize {
                for steps in [vec![n], vec![1, 2, n], vec![2, 1, 4, 3, 7]] {
                    let mut s = backend.solver();
                    let inputs: Vec<Var> = (0..n).map(|_| s.new_var()).collect();
                    let lits: Vec<Lit> = inputs.iter().map(|v| v.positive()).collect();
                    let mut t = Totalizer::new(&lits);
                    assert_eq!(t.size(), n);
                    let mut built = 0;
                    for &count in &steps {
                        t.grow(s.as_mut(), count);
                        built = built.max(count.min(n));
                    }
                    for mask in 0u32..1 << n {
                        let fixed: Vec<Lit> = inputs
                            .iter()
                            .enumerate()
                            .map(|(i, v)| v.lit(mask >> i & 1 == 1))
                            .collect();
                        let ones = mask.count_ones() as usize;
                        for j in 0..built {
                            let mut assumed = fixed.clone();
                            assumed.push(!t.output(j));
                            let expected = if ones > j {
                                Outcome::Unsat
                            } else {
                                Outcome::Sat
                            };
                            assert_eq!(
                                s.solve(&assumed).unwrap(),
                                expected,
                                "{backend} n {n} steps {steps:?} mask {mask:b} output {j}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Reading the first outputs of a large totalizer costs clauses in proportion to
    /// the bound, not to the square of its inputs.
    #[test]
    fn a_low_bound_builds_few_clauses() {
        let mut cnf = partrec_sat::Cnf::new();
        let inputs: Vec<Lit> = (0..1000).map(|_| cnf.new_var().positive()).collect();
        let mut t = Totalizer::new(&inputs);
        t.grow(&mut cnf, 2);
        let low = cnf.len();
        assert!(
            low <= 5 * 999,
            "{low} clauses for two outputs of 1000 inputs"
        );
        t.grow(&mut cnf, 1000);
        assert!(cnf.len() > 50 * low, "{} clauses in all", cnf.len());
    }
}
