//! What the data determines when the partition is not unique: which tokens share a
//! class in every consistent partition (`identified`), and which tokens are *pinned*.
//!
//! # Identified blocks, in few solver calls
//! A backbone over co-membership, in the manner of CadiBack (Biere, Froleyks and Wang,
//! 2023): every partition found refines the candidate blocks (tokens together in all
//! partitions so far), and candidates are confirmed in chunks, not one by one.
//! - *Flips* (model rotation): for each partition found, every token still in a block
//!   is tried in each other class with the rest of the partition kept; the samples
//!   of the token alone say whether that is consistent (a cell another sample fills
//!   with another value forbids it). Each flip that is consistent is a partition
//!   found without the solver, and splits the token from its block.
//! - *Chunks*: one query asks for a partition that splits at least one of the
//!   remaining (representative, member) pairs; "none" confirms them all at once, a
//!   partition refines the blocks (and is flipped in turn).
//!
//! So a unique instance takes two calls, and one whose undecided tokens can each
//! move alone takes a handful.
//!
//! # Pinned tokens
//! Classes have no names, so "the same class in every consistent partition" needs a
//! frame of reference. The *frame* of a group is built from its identified blocks,
//! the largest first (ties: the smallest token): a block joins the frame when no
//! consistent partition puts it in one class with a block already in the frame, until
//! the frame has as many blocks as the group has classes. Frame blocks are in
//! distinct classes in every consistent partition, so they name those classes; a
//! token is *pinned* when its block is in the frame: it is in the class of the same
//! frame block in every consistent partition. Every other token is *free*: its
//! block is not always with one frame block (else it would be identified with it),
//! so its class relative to the frame varies. Tokens in no sample are free too
//! (counted apart as unobserved) unless the group has one class. When the partition
//! is unique every observed token is pinned; one free token leaves the others pinned.
//! A block that merges with a frame block in a partition already found is free
//! without a query; the others take one query each, so the frame costs about as many
//! calls as the group has classes.

use crate::encode::{encode, Encoding, Projection};
use crate::preprocess::{PrepareOptions, Prepared};
use crate::propagate::{propagate, Propagated, Quotient};
use crate::solution::PinnedCounts;
use partrec_core::error::Result;
use partrec_core::model::compact::TokenMap;
use partrec_core::model::instance::Instance;
use partrec_sat::{Backend, Control, Lit, Outcome, Solver, Var};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What every consistent partition agrees on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identified {
    /// Per group, a block id per token: two tokens share one exactly when they are in
    /// the same class in every consistent partition (ids numbered by first token).
    pub identified: Vec<Vec<u32>>,
    /// Per group and token: whether it is pinned (its block is in the group's frame;
    /// see the module documentation).
    pub pinned: Vec<Vec<bool>>,
    /// Per group, the frame: its blocks (token ids), the largest first.
    pub frame: Vec<Vec<Vec<u32>>>,
    /// Per group, how many tokens are pinned, free (observed) and unobserved-free.
    pub counts: Vec<PinnedCounts>,
    /// SAT calls made.
    pub solver_calls: usize,
}

/// The most candidate pairs one chunk query asks about.
const CHUNK: usize = 1 << 16;

/// The search state: the solver, the encoding, the blocks and the evidence.
struct Backbone<'a> {
    prep: &'a Prepared,
    solver: Box<dyn Solver>,
    encoding: Encoding,
    /// Per group and token, its block (tokens together in every partition found).
    block: Vec<Vec<u32>>,
    /// Per group, the next fresh block id.
    next_block: Vec<u32>,
    /// Partitions found by the solver, and flips of them: (group, token, class) on
    /// partition `partitions[i]`.
    partitions: Vec<Vec<Vec<u32>>>,
    flips: Vec<(usize, usize, u32, usize)>,
    /// Per group and token, the distinct samples it is in.
    samples_of: Vec<Vec<Vec<u32>>>,
    /// Per group, the classes a token may take.
    classes: Vec<u32>,
    /// "Tokens (a, b) of group g differ", one variable each, made on first use.
    differ_vars: HashMap<(usize, u32, u32), Var>,
    calls: usize,
}

impl<'a> Backbone<'a> {
    /// The search state before any partition is found: every observed token in one
    /// block per group.
    fn new(prep: &'a Prepared, solver: Box<dyn Solver>, encoding: Encoding) -> Backbone<'a> {
        let arity = prep.groups().len();
        let observed: Vec<usize> = (0..arity).map(|g| prep.tokens().observed(g)).collect();
        let mut samples_of: Vec<Vec<Vec<u32>>> =
            observed.iter().map(|&n| vec![Vec::new(); n]).collect();
        for (s, (x, _)) in prep.samples().enumerate() {
            for (g, &t) in x.iter().enumerate() {
                samples_of[g][t as usize].push(s as u32);
            }
        }
        let classes: Vec<u32> = (0..arity)
            .map(|g| {
                (0..observed[g])
                    .map(|p| encoding.class_vars(g, p).len() as u32)
                    .max()
                    .unwrap_or(1)
            })
            .collect();
        Backbone {
            prep,
            solver,
            encoding,
            block: observed.iter().map(|&n| vec![0; n]).collect(),
            next_block: vec![1; arity],
            partitions: Vec::new(),
            flips: Vec::new(),
            samples_of,
            classes,
            differ_vars: HashMap::new(),
            calls: 0,
        }
    }

    /// The class variables of token `t` of group `g`.
    fn vars(&self, g: usize, t: u32) -> &[Var] {
        self.encoding
            .class_vars(g, self.prep.position[g][t as usize] as usize)
    }

    /// Solves under `assumptions`; records a model. `None` if stopped.
    fn solve(&mut self, assumptions: &[Lit]) -> Result<Option<bool>> {
        self.calls += 1;
        Ok(match self.solver.solve(assumptions)? {
            Outcome::Interrupted => None,
            Outcome::Unsat => Some(false),
            Outcome::Sat => {
                let found = self.encoding.decode(self.solver.as_ref());
                self.found(found);
                Some(true)
            }
        })
    }

    /// Asks for a model of `clause` (guarded by a fresh literal, retired after).
    fn query(&mut self, clause: &[Lit]) -> Result<Option<bool>> {
        let a = self.solver.new_var();
        let mut guarded = clause.to_vec();
        guarded.push(a.negative());
        self.solver.add_clause(&guarded);
        let answer = self.solve(&[a.positive()])?;
        self.solver.add_clause(&[a.negative()]);
        Ok(answer)
    }

    /// Refines the blocks by a partition found, then by its consistent flips.
    fn found(&mut self, partition: Vec<Vec<u32>>) {
        for (g, row) in partition.iter().enumerate() {
            let mut split: HashMap<(u32, u32), u32> = HashMap::new();
            let mut next = self.next_block[g];
            for (t, &class) in row.iter().enumerate() {
                let old = self.block[g][t];
                // The first token of an old block with this class keeps its id.
                let id = *split.entry((old, class)).or_insert_with(|| {
                    next += 1;
                    next - 1
                });
                self.block[g][t] = id;
            }
            self.next_block[g] = next;
        }
        let index = self.partitions.len();
        self.partitions.push(partition);
        self.flip(index);
    }

    /// Tries every token still sharing its block in every other class of partition
    /// `index`, the rest kept: each consistent move is recorded and splits the token
    /// from its block.
    fn flip(&mut self, index: usize) {
        let partition = &self.partitions[index];
        let arity = partition.len();
        let mut cells: HashMap<Vec<u32>, u32> = HashMap::new();
        let mut cell = vec![0u32; arity];
        for (x, v) in self.prep.samples() {
            for (g, &t) in x.iter().enumerate() {
                cell[g] = partition[g][t as usize];
            }
            cells.insert(cell.clone(), v);
        }
        let samples: Vec<(&[u32], u32)> = self.prep.samples().collect();
        let mut moves = Vec::new();
        for g in 0..arity {
            let mut size: HashMap<u32, u32> = HashMap::new();
            for &b in &self.block[g] {
                *size.entry(b).or_default() += 1;
            }
            for t in 0..partition[g].len() {
                if size[&self.block[g][t]] < 2 {
                    continue;
                }
                let own = partition[g][t];
                let movable = (0..self.classes[g]).filter(|&c| c != own).find(|&c| {
                    self.samples_of[g][t].iter().all(|&s| {
                        let (x, v) = samples[s as usize];
                        for (h, &u) in x.iter().enumerate() {
                            cell[h] = if h == g { c } else { partition[h][u as usize] };
                        }
                        cells.get(&cell).is_none_or(|&w| w == v)
                    })
                });
                if let Some(c) = movable {
                    moves.push((g, t, c, index));
                }
            }
        }
        for &(g, t, _, _) in &moves {
            self.block[g][t] = self.next_block[g];
            self.next_block[g] += 1;
        }
        self.flips.extend(moves);
    }

    /// The variable "tokens `a` and `b` of group `g` differ", with its clauses.
    fn differ(&mut self, g: usize, a: u32, b: u32) -> Var {
        if let Some(&d) = self.differ_vars.get(&(g, a, b)) {
            return d;
        }
        let d = self.solver.new_var();
        let (x, y): (Vec<Var>, Vec<Var>) = (self.vars(g, a).to_vec(), self.vars(g, b).to_vec());
        for (p, q) in x.iter().zip(&y) {
            self.solver
                .add_clause(&[d.negative(), p.negative(), q.negative()]);
        }
        self.differ_vars.insert((g, a, b), d);
        d
    }

    /// Clauses "token `a` is in the class of token `b`" (group `g`), each with `-t`.
    fn together(&mut self, g: usize, a: u32, b: u32, t: Var) {
        let (x, y): (Vec<Var>, Vec<Var>) = (self.vars(g, a).to_vec(), self.vars(g, b).to_vec());
        for (k, p) in x.iter().enumerate() {
            match y.get(k) {
                Some(q) => self
                    .solver
                    .add_clause(&[t.negative(), p.negative(), q.positive()]),
                None => self.solver.add_clause(&[t.negative(), p.negative()]),
            }
        }
    }

    /// Group `g`'s blocks, each in token order, the blocks by first token.
    fn blocks(&self, g: usize) -> Vec<Vec<u32>> {
        let mut by: HashMap<u32, Vec<u32>> = HashMap::new();
        for (t, &b) in self.block[g].iter().enumerate() {
            by.entry(b).or_default().push(t as u32);
        }
        let mut blocks: Vec<Vec<u32>> = by.into_values().collect();
        blocks.sort_by_key(|b| b[0]);
        blocks
    }

    /// Whether a partition found (or a flip of one) puts tokens `a` and `b` of group
    /// `g` in one class.
    fn seen_together(&self, g: usize, a: usize, b: usize) -> bool {
        self.partitions.iter().any(|p| p[g][a] == p[g][b])
            || self.flips.iter().any(|&(h, t, c, i)| {
                let p = &self.partitions[i][g];
                h == g
                    && ((t == a && t != b && p[b] == c)
                        || (t == b && t != a && p[a] == c)
                        || (t != a && t != b && p[a] == p[b]))
            })
    }

    /// Confirms the blocks: chunks of (representative, member) pairs, each query
    /// asking for a partition that splits one of them. Pairs confirmed are joined
    /// (union-find), so later chunks ask only about what is still open. `false` if
    /// stopped.
    fn confirm_blocks(&mut self, control: &Control) -> Result<bool> {
        let mut joined: Vec<Vec<u32>> = self
            .block
            .iter()
            .map(|row| (0..row.len() as u32).collect())
            .collect();
        loop {
            if control.should_stop() {
                return Ok(false);
            }
            let mut pairs = Vec::new();
            for (g, parent) in joined.iter_mut().enumerate() {
                for block in self.blocks(g) {
                    let root = find(parent, block[0]);
                    pairs.extend(
                        block[1..]
                            .iter()
                            .filter(|&&u| find(parent, u) != root)
                            .map(|&u| (g, block[0], u)),
                    );
                }
            }
            if pairs.is_empty() {
                return Ok(true);
            }
            pairs.truncate(CHUNK);
            let clause: Vec<Lit> = pairs
                .iter()
                .map(|&(g, r, u)| self.differ(g, r, u).positive())
                .collect();
            match self.query(&clause)? {
                None => return Ok(false),
                Some(true) => {} // the blocks were refined
                Some(false) => {
                    for (g, r, u) in pairs {
                        let d = self.differ(g, r, u);
                        self.solver.add_clause(&[d.negative()]);
                        let (x, y) = (find(&mut joined[g], r), find(&mut joined[g], u));
                        joined[g][y as usize] = x;
                    }
                }
            }
        }
    }

    /// Group `g`'s blocks, the largest first, counted in the instance's tokens
    /// (`stand`: the token of `prep` each declared token stands for); ties to the
    /// smallest token.
    fn largest_first(&self, g: usize, stand: &[Option<u32>]) -> Vec<Vec<u32>> {
        let observed = self.block[g].len();
        let (mut size, mut first) = (vec![0usize; observed], vec![u32::MAX; observed]);
        for (t, c) in stand.iter().enumerate() {
            if let Some(c) = *c {
                size[c as usize] += 1;
                first[c as usize] = first[c as usize].min(t as u32);
            }
        }
        let mut blocks = self.blocks(g);
        let weight = |block: &[u32]| -> (usize, u32) {
            let members = block.iter().map(|&c| size[c as usize]).sum();
            (
                members,
                block.iter().map(|&c| first[c as usize]).min().unwrap_or(0),
            )
        };
        blocks.sort_by_cached_key(|block| {
            let (members, first) = weight(block);
            (std::cmp::Reverse(members), first)
        });
        blocks
    }

    /// The frame of group `g` (see the module documentation), from its confirmed
    /// blocks; `None` if stopped.
    fn frame(
        &mut self,
        g: usize,
        stand: &[Option<u32>],
        control: &Control,
    ) -> Result<Option<Vec<Vec<u32>>>> {
        let mut frame: Vec<Vec<u32>> = Vec::new();
        for block in self.largest_first(g, stand) {
            if frame.len() as u32 >= self.classes[g] {
                break;
            }
            if control.should_stop() {
                return Ok(None);
            }
            let r = block[0];
            let merges = frame
                .iter()
                .any(|f| self.seen_together(g, r as usize, f[0] as usize));
            if merges {
                continue;
            }
            let mut clause = Vec::with_capacity(frame.len());
            for f in &frame {
                let t = self.solver.new_var();
                self.together(g, r, f[0], t);
                clause.push(t.positive());
            }
            let joins = clause.is_empty()
                || match self.query(&clause)? {
                    None => return Ok(None),
                    Some(sat) => !sat,
                };
            if joins {
                frame.push(block);
            }
        }
        Ok(Some(frame))
    }
}

/// Computes what every consistent partition of `instance` agrees on; `Ok(None)` if
/// the instance has no consistent partition or `control` stopped the search.
///
/// Class propagation runs first: the tokens it decides are settled without the
/// solver, and the backbone runs on the rest.
pub fn identify(instance: &Instance, control: &Control) -> Result<Option<Identified>> {
    partrec_core::model::compact::listable(instance.groups())?;
    let mut compact = instance.flat_tokens().to_vec();
    let map = TokenMap::compact_in_place(&mut compact, instance.groups());
    let groups = map.groups(instance.groups());
    match propagate(&compact, instance.label_ids(), &groups, control) {
        Propagated::Refuted(_) => Ok(None),
        Propagated::Reduced(q) => {
            drop(compact);
            identify_reduced(instance, Some((&q, &map)), control)
        }
        Propagated::Skipped => identify_reduced(instance, None, control),
    }
}

/// [`identify`] after propagation. With `reduced` (the instance's observed tokens
/// compacted by `map`, and propagation's [`Quotient`] of them), the backbone runs on
/// the quotient: tokens propagation decided are settled without the solver, each
/// merged into its class's token.
pub fn identify_reduced(
    instance: &Instance,
    reduced: Option<(&Quotient, &TokenMap)>,
    control: &Control,
) -> Result<Option<Identified>> {
    partrec_core::model::compact::listable(instance.groups())?;
    let searched = reduced.map_or(instance, |(q, _)| &q.instance);
    let Some(prep) = Prepared::until(searched, PrepareOptions::default(), control) else {
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
    let mut b = Backbone::new(&prep, solver, encoding);
    if b.solve(&[])? != Some(true) {
        return Ok(None);
    }
    if !b.confirm_blocks(control)? {
        return Ok(None);
    }
    let stand = standing(instance, &prep, reduced);
    let mut frames = Vec::with_capacity(instance.arity());
    for (g, stand) in stand.iter().enumerate() {
        let Some(frame) = b.frame(g, stand, control)? else {
            return Ok(None);
        };
        frames.push(frame);
    }
    let calls = b.calls;
    Ok(Some(expand(instance, stand, &b, &frames, calls)))
}

/// Per group, per declared token of the instance: the token of `prep` (a compact id of
/// the searched instance) it stands for, or `None` when it is in no sample.
fn standing(
    instance: &Instance,
    prep: &Prepared,
    reduced: Option<(&Quotient, &TokenMap)>,
) -> Vec<Vec<Option<u32>>> {
    let searched = reduced.map_or(instance, |(q, _)| &q.instance);
    let tokens = prep.tokens();
    (0..instance.arity())
        .map(|g| {
            let mut in_prep = vec![None; searched.groups()[g].tokens as usize];
            for c in 0..tokens.observed(g) as u32 {
                in_prep[tokens.original(g, c) as usize] = Some(c);
            }
            let Some((q, map)) = reduced else {
                return in_prep;
            };
            let mut row = vec![None; instance.groups()[g].tokens as usize];
            for c in 0..map.observed(g) as u32 {
                row[map.original(g, c) as usize] = in_prep[q.token[g][c as usize] as usize];
            }
            row
        })
        .collect()
}

/// The root of `t` in union-find `parent`, compressing the path.
fn find(parent: &mut [u32], t: u32) -> u32 {
    let mut root = t;
    while parent[root as usize] != root {
        root = parent[root as usize];
    }
    let mut t = t;
    while parent[t as usize] != root {
        let next = parent[t as usize];
        parent[t as usize] = root;
        t = next;
    }
    root
}

/// The answer over every declared token: observed tokens by their blocks, tokens in
/// no sample alone (or all together when the group has one class).
fn expand(
    instance: &Instance,
    mut stand: Vec<Vec<Option<u32>>>,
    b: &Backbone,
    frames: &[Vec<Vec<u32>>],
    solver_calls: usize,
) -> Identified {
    let mut identified = Vec::new();
    let mut pinned = Vec::new();
    let mut frame_out = Vec::new();
    let mut counts = Vec::new();
    for (g, group) in instance.groups().iter().enumerate() {
        let mut full_pinned = in_frame(&stand[g], &frames[g]);
        let blocks_out = frame_tokens(&stand[g], &frames[g]);
        // The token each stands for becomes its block, in place.
        let mut full_block = std::mem::take(&mut stand[g]);
        for c in &mut full_block {
            *c = c.map(|c| b.block[g][c as usize]);
        }
        let (row, count) = number_blocks(&full_block, group.classes == 1, &mut full_pinned);
        identified.push(row);
        pinned.push(full_pinned);
        frame_out.push(blocks_out);
        counts.push(count);
    }
    Identified {
        identified,
        pinned,
        frame: frame_out,
        counts,
        solver_calls,
    }
}

/// Per declared token of a group (`stand`: the token of `prep` each stands for),
/// whether it stands for a token of a block of `frame`.
fn in_frame(stand: &[Option<u32>], frame: &[Vec<u32>]) -> Vec<bool> {
    let members: std::collections::HashSet<u32> = frame
        .iter()
        .flat_map(|block| block.iter().copied())
        .collect();
    stand
        .iter()
        .map(|c| c.is_some_and(|c| members.contains(&c)))
        .collect()
}

/// The blocks of `frame` in the instance's tokens (`stand` as for [`in_frame`]), each
/// in increasing order.
fn frame_tokens(stand: &[Option<u32>], frame: &[Vec<u32>]) -> Vec<Vec<u32>> {
    let mut frame_of: HashMap<u32, usize> = HashMap::new();
    for (i, block) in frame.iter().enumerate() {
        frame_of.extend(block.iter().map(|&c| (c, i)));
    }
    let mut blocks_out = vec![Vec::new(); frame.len()];
    for (t, c) in stand.iter().enumerate() {
        if let Some(&i) = c.as_ref().and_then(|c| frame_of.get(c)) {
            blocks_out[i].push(t as u32);
        }
    }
    blocks_out
}

/// A group's block ids, numbered by first token (`block`: each declared token's
/// block, `None` when in no sample, which then gets a fresh id), and its counts of
/// pinned, free and unobserved tokens. With `one_class`, every token is in one block
/// and pinned (`pinned` is set so).
fn number_blocks(
    block: &[Option<u32>],
    one_class: bool,
    pinned: &mut [bool],
) -> (Vec<u32>, PinnedCounts) {
    let mut ids: HashMap<u32, u32> = HashMap::new();
    let mut next = 0u32;
    let mut row = Vec::with_capacity(block.len());
    let mut count = PinnedCounts::default();
    for (t, block) in block.iter().enumerate() {
        let key = match block {
            // One class: every token is in it, observed or not.
            _ if one_class => Some(u32::MAX),
            Some(k) => Some(*k),
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
            pinned[t] = true;
        }
        match (block.is_some(), pinned[t]) {
            (false, _) => count.unobserved += 1,
            (true, true) => count.pinned += 1,
            (true, false) => count.free += 1,
        }
    }
    if one_class {
        count.pinned += count.unobserved;
        count.unobserved = 0;
    }
    (row, count)
}
