//! What the data determines when the partition is not unique: which tokens share a
//! class in every consistent partition, and which tokens have their class pinned
//! relative to every other observed token.
//!
//! A backbone over co-membership, decided with the solver under assumptions. Every
//! partition found refines the candidate blocks (tokens that were together in all
//! partitions so far). A candidate pair is confirmed by refuting "these two differ";
//! a found partition splits the block instead. Two blocks are never merged if
//! "these two are together" is refuted; a partition that merges them marks both
//! undetermined. Each query is one literal guarding a few clauses, retired after.
//! A first query blocks the partition found: if none other exists, that partition
//! is the answer and every observed token is determined, in two SAT calls.
//!
//! Tokens in no sample can take any class: with two or more classes each is a
//! block of its own and undetermined; `determined` compares observed tokens.

use crate::error::Result;
use crate::model::instance::Instance;
use crate::sat::{Backend, Control, Lit, Outcome, Solver, Var};
use crate::solve::encode::{encode, Encoding, Projection};
use crate::solve::preprocess::{PrepareOptions, Prepared};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// What every consistent partition agrees on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identified {
    /// Per group, a block id per token: two tokens share one exactly when they are in
    /// the same class in every consistent partition (ids numbered by first token).
    pub identified: Vec<Vec<u32>>,
    /// Per group and token: whether its co-membership with every other observed
    /// token is the same in every consistent partition.
    pub determined: Vec<Vec<bool>>,
    /// SAT calls made.
    pub solver_calls: usize,
}

/// The search state: the solver, the encoding and the partitions found so far.
struct Backbone<'a> {
    prep: &'a Prepared,
    solver: Box<dyn Solver>,
    encoding: Encoding,
    /// Per group and observed token, its class in each partition found.
    signature: Vec<Vec<Vec<u32>>>,
    calls: usize,
}

impl Backbone<'_> {
    fn vars(&self, g: usize, t: u32) -> &[Var] {
        self.encoding
            .class_vars(g, self.prep.position[g][t as usize] as usize)
    }

    /// Records the solver's model as a found partition, and returns it.
    fn record(&mut self) -> Vec<Vec<u32>> {
        let found = self.encoding.decode(self.solver.as_ref());
        for (g, row) in found.iter().enumerate() {
            for (t, &class) in row.iter().enumerate() {
                self.signature[g][t].push(class);
            }
        }
        found
    }

    /// Solves with the clauses `guarded` (each gets `-a` for a fresh `a`) in force;
    /// records a model. `None` if stopped.
    fn query(&mut self, guarded: &[Vec<Lit>]) -> Result<Option<bool>> {
        let a = self.solver.new_var();
        for clause in guarded {
            let mut c = clause.clone();
            c.push(a.negative());
            self.solver.add_clause(&c);
        }
        self.calls += 1;
        let outcome = self.solver.solve(&[a.positive()])?;
        // Read the model before retiring the query: a new clause discards it.
        if outcome == Outcome::Sat {
            self.record();
        }
        self.solver.add_clause(&[a.negative()]);
        Ok(match outcome {
            Outcome::Interrupted => None,
            Outcome::Sat => Some(true),
            Outcome::Unsat => Some(false),
        })
    }

    /// Clauses saying tokens `a` and `b` of group `g` are in different classes.
    fn differ(&self, g: usize, a: u32, b: u32) -> Vec<Vec<Lit>> {
        let (x, y) = (self.vars(g, a), self.vars(g, b));
        x.iter()
            .zip(y)
            .map(|(p, q)| vec![p.negative(), q.negative()])
            .collect()
    }

    /// Clauses saying tokens `a` and `b` of group `g` are in the same class.
    fn together(&self, g: usize, a: u32, b: u32) -> Vec<Vec<Lit>> {
        let (x, y) = (self.vars(g, a), self.vars(g, b));
        x.iter()
            .enumerate()
            .map(|(k, p)| match y.get(k) {
                Some(q) => vec![p.negative(), q.positive()],
                None => vec![p.negative()],
            })
            .collect()
    }

    /// Group `g`'s observed tokens grouped by signature, each block in token order.
    fn blocks(&self, g: usize) -> Vec<Vec<u32>> {
        let mut by: std::collections::BTreeMap<&[u32], Vec<u32>> = Default::default();
        for (t, sig) in self.signature[g].iter().enumerate() {
            by.entry(sig.as_slice()).or_default().push(t as u32);
        }
        let mut blocks: Vec<Vec<u32>> = by.into_values().collect();
        blocks.sort_by_key(|b| b[0]);
        blocks
    }
}

/// Computes what every consistent partition of `instance` agrees on; `Ok(None)` if
/// the instance has no consistent partition or `control` stopped the search.
pub fn identify(instance: &Instance, control: &Control) -> Result<Option<Identified>> {
    crate::model::compact::listable(instance.groups())?;
    let Some(prep) = Prepared::until(instance, PrepareOptions::default(), control) else {
        return Ok(None);
    };
    if prep.refutation.is_some() {
        return Ok(None);
    }
    let mut solver = Backend::Cadical.solver();
    solver.set_control(control);
    let Some(encoding) = encode(&prep, Projection::Auto, solver.as_mut(), control)? else {
        return Ok(None);
    };
    let arity = instance.arity();
    let mut b = Backbone {
        prep: &prep,
        solver,
        encoding,
        signature: (0..arity)
            .map(|g| vec![Vec::new(); prep.groups()[g].tokens as usize])
            .collect(),
        calls: 1,
    };
    let first = match b.solver.solve(&[])? {
        Outcome::Sat => b.record(),
        _ => return Ok(None),
    };
    // One query first: if no other partition exists, every pair is decided at once.
    let blocking = vec![b.encoding.blocking_clause(&first)];
    let unique = match b.query(&blocking)? {
        None => return Ok(None),
        Some(other) => !other,
    };
    let mut confirmed: HashSet<(usize, u32, u32)> = HashSet::new();
    let mut determined_observed = Vec::with_capacity(arity);
    let mut block_of = Vec::with_capacity(arity);
    for g in 0..arity {
        // Blocks: confirm every member against its block's first token (nothing to
        // confirm when the partition is unique).
        loop {
            if unique {
                break;
            }
            if control.should_stop() {
                return Ok(None);
            }
            let next = b.blocks(g).into_iter().find_map(|block| {
                let rep = block[0];
                block
                    .into_iter()
                    .skip(1)
                    .find(|&u| !confirmed.contains(&(g, rep, u)))
                    .map(|u| (rep, u))
            });
            let Some((rep, u)) = next else { break };
            let clauses = b.differ(g, rep, u);
            match b.query(&clauses)? {
                None => return Ok(None),
                Some(true) => {} // split: the signatures now differ
                Some(false) => {
                    confirmed.insert((g, rep, u));
                }
            }
        }
        // Determined: blocks that no consistent partition merges with another.
        let blocks = b.blocks(g);
        let mut merged = vec![false; blocks.len()];
        for i in (0..blocks.len()).filter(|_| !unique) {
            if control.should_stop() {
                return Ok(None);
            }
            for j in i + 1..blocks.len() {
                if merged[i] && merged[j] {
                    continue;
                }
                let (ri, rj) = (blocks[i][0] as usize, blocks[j][0] as usize);
                let seen_together = {
                    let (si, sj) = (&b.signature[g][ri], &b.signature[g][rj]);
                    si.iter().zip(sj).any(|(p, q)| p == q)
                };
                let together = seen_together || {
                    let clauses = b.together(g, ri as u32, rj as u32);
                    match b.query(&clauses)? {
                        None => return Ok(None),
                        Some(t) => t,
                    }
                };
                if together {
                    merged[i] = true;
                    merged[j] = true;
                }
            }
        }
        let mut which = vec![0usize; b.signature[g].len()];
        let mut fixed = vec![false; b.signature[g].len()];
        for (i, block) in blocks.iter().enumerate() {
            for &t in block {
                which[t as usize] = i;
                fixed[t as usize] = !merged[i];
            }
        }
        block_of.push(which);
        determined_observed.push(fixed);
    }
    let calls = b.calls;
    Ok(Some(expand(
        instance,
        &prep,
        &block_of,
        &determined_observed,
        calls,
    )))
}

/// The answer over every declared token: observed tokens by their blocks, tokens in
/// no sample alone (or all together when the group has one class).
fn expand(
    instance: &Instance,
    prep: &Prepared,
    block_of: &[Vec<usize>],
    determined: &[Vec<bool>],
    solver_calls: usize,
) -> Identified {
    let mut identified = Vec::new();
    let mut pinned = Vec::new();
    for (g, group) in instance.groups().iter().enumerate() {
        let n = group.tokens as usize;
        let observed = prep.tokens().observed(g);
        let mut full_block: Vec<Option<usize>> = vec![None; n];
        let mut full_fixed = vec![false; n];
        for c in 0..observed {
            let t = prep.tokens().original(g, c as u32) as usize;
            full_block[t] = Some(block_of[g][c]);
            full_fixed[t] = determined[g][c];
        }
        let one_class = group.classes == 1;
        // Number blocks by first token; free tokens get fresh ids.
        let mut ids: std::collections::HashMap<usize, u32> = Default::default();
        let mut next = 0u32;
        let mut row = Vec::with_capacity(n);
        for (t, block) in full_block.iter().enumerate() {
            let key = match block {
                Some(b) => Some(*b),
                // One class: every token is in it, observed or not.
                None if one_class => Some(0),
                None => None,
            };
            let id = match key {
                Some(k) => *ids.entry(k).or_insert_with(|| {
                    next += 1;
                    next - 1
                }),
                None => {
                    next += 1;
                    next - 1
                }
            };
            row.push(id);
            if one_class {
                full_fixed[t] = true;
            }
        }
        identified.push(row);
        pinned.push(full_fixed);
    }
    Identified {
        identified,
        determined: pinned,
        solver_calls,
    }
}
