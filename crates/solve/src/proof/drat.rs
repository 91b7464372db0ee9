//! An independent DRAT proof checker: reads a DIMACS CNF and a textual DRAT proof
//! and checks, step by step (forward), that every added lemma is RUP (reverse unit
//! propagation) or RAT on its first literal, until the empty clause follows by unit
//! propagation.
//!
//! It shares no code with the encoder or any solver: its own parsers, its own
//! two-watched-literal propagation. The proof must add the empty clause itself, so
//! that a proof cut short anywhere is rejected. Deleting a clause that is the reason of a
//! root-level assignment is ignored (as drat-trim does by default); keeping a
//! clause can only make lemmas easier to derive from clauses that hold, so the
//! check stays sound. Costs follow the input: variables are numbered densely as
//! they appear, so a literal's magnitude or a header's counts allocate nothing.

use std::collections::HashMap;
use std::fmt;

/// Why a proof was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofError {
    /// Which file: `"cnf"` or `"proof"`.
    pub file: &'static str,
    /// The 1-based line where the problem is (0: the end of the file).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{} line {}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for ProofError {}

/// What an accepted proof contained.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Clauses in the CNF.
    pub clauses: usize,
    /// Lemmas added by the proof (each checked).
    pub lemmas: usize,
    /// Of those, lemmas that needed the RAT check.
    pub rat_lemmas: usize,
    /// Deletions carried out (ignored ones not counted).
    pub deletions: usize,
}

/// One parsed line of a clause file: its literals and whether it is a deletion.
struct Line {
    number: usize,
    delete: bool,
    literals: Vec<i64>,
}

/// The clauses of DIMACS or DRAT text, read lazily (one clause held at a time, so a
/// caller can stop between any two): a clause ends at `0` and may span lines; `c`
/// lines are comments, and a `p` line is allowed only in a CNF, before its clauses.
struct Clauses<'a> {
    file: &'static str,
    lines: std::iter::Enumerate<std::str::Lines<'a>>,
    /// The line being read: its number and its words not yet read.
    words: Option<(usize, std::str::SplitWhitespace<'a>)>,
    /// The clause being read, until its `0`.
    current: Option<Line>,
    header: bool,
    /// An error or the end was returned: nothing more.
    done: bool,
}

impl<'a> Clauses<'a> {
    fn new(text: &'a [u8], file: &'static str) -> Result<Clauses<'a>, ProofError> {
        let text = std::str::from_utf8(text).map_err(|e| ProofError {
            file,
            line: 0,
            message: format!("not UTF-8 text ({e}); only textual DRAT is read"),
        })?;
        Ok(Clauses {
            file,
            lines: text.lines().enumerate(),
            words: None,
            current: None,
            header: false,
            done: false,
        })
    }

    fn error(&mut self, line: usize, message: String) -> Option<Result<Line, ProofError>> {
        self.done = true;
        Some(Err(ProofError {
            file: self.file,
            line,
            message,
        }))
    }

    /// The next word of the clause being read, if its line has one left.
    fn word(&mut self) -> Option<(usize, &'a str)> {
        let (number, words) = self.words.as_mut()?;
        match words.next() {
            Some(word) => Some((*number, word)),
            None => {
                self.words = None;
                None
            }
        }
    }

    /// The end of the text: an open clause or a CNF without header is an error.
    fn end(&mut self) -> Option<Result<Line, ProofError>> {
        if let Some(open) = self.current.take() {
            return self.error(
                open.number,
                "the last clause has no terminating 0 (truncated?)".into(),
            );
        }
        if self.file == "cnf" && !self.header {
            return self.error(0, "no 'p cnf' header".into());
        }
        self.done = true;
        None
    }
}

impl Iterator for Clauses<'_> {
    type Item = Result<Line, ProofError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            while let Some((number, word)) = self.word() {
                if self.file == "cnf" && !self.header {
                    return self.error(0, "no 'p cnf' header".into());
                }
                let clause = self.current.get_or_insert_with(|| Line {
                    number,
                    delete: false,
                    literals: Vec::new(),
                });
                if word == "d" {
                    if self.file != "proof" || !clause.literals.is_empty() || clause.delete {
                        return self.error(number, "'d' must start a deletion in a proof".into());
                    }
                    clause.delete = true;
                    continue;
                }
                let Some(lit) = word
                    .parse::<i64>()
                    .ok()
                    .filter(|l| l.unsigned_abs() <= i32::MAX as u64)
                else {
                    let clipped: String = word.chars().take(40).collect();
                    let shown = format!("{clipped:?}");
                    return self.error(number, format!("{shown} is not a literal"));
                };
                if lit == 0 {
                    return self.current.take().map(Ok);
                }
                clause.literals.push(lit);
            }
            let Some((i, raw)) = self.lines.next() else {
                return self.end();
            };
            let number = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('c') {
                continue;
            }
            if line.starts_with('p') {
                if self.file != "cnf" || self.header || self.current.is_some() {
                    return self.error(
                        number,
                        "a 'p' line is only allowed once, before the clauses of a CNF".into(),
                    );
                }
                let words: Vec<&str> = line.split_whitespace().collect();
                if words.len() != 4
                    || words[1] != "cnf"
                    || words[2..].iter().any(|w| w.parse::<u64>().is_err())
                {
                    return self.error(
                        number,
                        format!("expected 'p cnf VARIABLES CLAUSES', found {line:?}"),
                    );
                }
                self.header = true;
                continue;
            }
            self.words = Some((number, line.split_whitespace()));
        }
    }
}

/// Literal code: `2 * var + negative`.
type L = u32;

fn neg(l: L) -> L {
    l ^ 1
}

/// The clause database with root-level unit propagation.
struct Db {
    /// Dense variable number of each DIMACS variable.
    vars: HashMap<u32, u32>,
    /// Literals of every clause ever added, and where each starts.
    lits: Vec<L>,
    start: Vec<usize>,
    len: Vec<u32>,
    deleted: Vec<bool>,
    /// Clauses by their sorted literals, for deletion.
    index: HashMap<Vec<L>, Vec<u32>>,
    /// Watch lists: clauses watching each literal (the literal's negation became true
    /// means they must be visited).
    watches: Vec<Vec<u32>>,
    /// Clauses containing each literal (deleted ones included), for RAT checks.
    occurs: Vec<Vec<u32>>,
    /// Value of each literal: 1 true, 0 unassigned.
    value: Vec<u8>,
    /// Reason clause of each variable assigned at the root (u32::MAX: none).
    reason: Vec<u32>,
    trail: Vec<L>,
    /// Trail entries already propagated.
    head: usize,
    /// Root-level propagation reached a conflict: the empty clause follows.
    refuted: bool,
}

impl Db {
    fn new() -> Db {
        Db {
            vars: HashMap::new(),
            lits: Vec::new(),
            start: Vec::new(),
            len: Vec::new(),
            deleted: Vec::new(),
            index: HashMap::new(),
            watches: Vec::new(),
            occurs: Vec::new(),
            value: Vec::new(),
            reason: Vec::new(),
            trail: Vec::new(),
            head: 0,
            refuted: false,
        }
    }

    fn lit(&mut self, dimacs: i64) -> L {
        let next = self.vars.len() as u32;
        let var = *self
            .vars
            .entry(dimacs.unsigned_abs() as u32)
            .or_insert(next);
        if var == next {
            self.watches.extend([Vec::new(), Vec::new()]);
            self.occurs.extend([Vec::new(), Vec::new()]);
            self.value.extend([0, 0]);
            self.reason.push(u32::MAX);
        }
        2 * var + u32::from(dimacs < 0)
    }

    fn is_true(&self, l: L) -> bool {
        self.value[l as usize] == 1
    }

    fn is_false(&self, l: L) -> bool {
        self.value[neg(l) as usize] == 1
    }

    fn assign(&mut self, l: L, reason: u32) {
        self.value[l as usize] = 1;
        self.reason[(l / 2) as usize] = reason;
        self.trail.push(l);
    }

    fn clause(&self, c: u32) -> &[L] {
        let s = self.start[c as usize];
        &self.lits[s..s + self.len[c as usize] as usize]
    }

    /// Propagates the trail from `head`; `true` on a conflict.
    fn propagate(&mut self) -> bool {
        while self.head < self.trail.len() {
            let falsified = neg(self.trail[self.head]);
            self.head += 1;
            let mut list = std::mem::take(&mut self.watches[falsified as usize]);
            let mut keep = 0;
            let mut conflict = false;
            let mut i = 0;
            while i < list.len() {
                let c = list[i];
                i += 1;
                if self.deleted[c as usize] {
                    continue;
                }
                if conflict {
                    list[keep] = c;
                    keep += 1;
                    continue;
                }
                let s = self.start[c as usize];
                let n = self.len[c as usize] as usize;
                // Keep the falsified watch at position 1.
                if self.lits[s] == falsified {
                    self.lits.swap(s, s + 1);
                }
                let other = self.lits[s];
                if self.is_true(other) {
                    list[keep] = c;
                    keep += 1;
                    continue;
                }
                let replacement = (2..n).find(|&k| !self.is_false(self.lits[s + k]));
                if let Some(k) = replacement {
                    self.lits.swap(s + 1, s + k);
                    let w = self.lits[s + 1];
                    self.watches[w as usize].push(c);
                    continue;
                }
                list[keep] = c;
                keep += 1;
                if self.is_false(other) {
                    conflict = true;
                } else {
                    self.assign(other, c);
                }
            }
            list.truncate(keep);
            self.watches[falsified as usize] = list;
            if conflict {
                return true;
            }
        }
        false
    }

    /// Undoes assignments above trail length `mark`.
    fn backtrack(&mut self, mark: usize) {
        for &l in &self.trail[mark..] {
            self.value[l as usize] = 0;
            self.reason[(l / 2) as usize] = u32::MAX;
        }
        self.trail.truncate(mark);
        self.head = mark;
    }

    /// Whether assuming the negation of `lits` propagates to a conflict (RUP).
    fn rup(&mut self, lits: &[L]) -> bool {
        if self.refuted {
            return true;
        }
        let mark = self.trail.len();
        let mut conflict = false;
        for &l in lits {
            if self.is_true(l) {
                conflict = true;
                break;
            }
            if !self.is_false(l) {
                self.assign(neg(l), u32::MAX);
            }
        }
        conflict = conflict || self.propagate();
        self.backtrack(mark);
        conflict
    }

    /// Adds a clause (assumed to hold) and propagates at the root.
    fn add(&mut self, mut lits: Vec<L>) {
        lits.sort_unstable();
        lits.dedup();
        if lits.windows(2).any(|w| w[0] == neg(w[1])) {
            return; // a tautology constrains nothing
        }
        let c = self.len.len() as u32;
        self.index.entry(lits.clone()).or_default().push(c);
        // Watch non-false literals first.
        lits.sort_by_key(|&l| self.is_false(l));
        self.start.push(self.lits.len());
        self.len.push(lits.len() as u32);
        self.deleted.push(false);
        self.lits.extend_from_slice(&lits);
        for &l in &lits {
            self.occurs[l as usize].push(c);
        }
        if self.refuted {
            return;
        }
        match lits.len() {
            0 => self.refuted = true,
            1 => {
                if self.is_false(lits[0]) {
                    self.refuted = true;
                } else if !self.is_true(lits[0]) {
                    self.assign(lits[0], c);
                }
            }
            _ => {
                self.watches[lits[0] as usize].push(c);
                self.watches[lits[1] as usize].push(c);
                if self.is_false(lits[0]) {
                    self.refuted = true;
                } else if self.is_false(lits[1]) && !self.is_true(lits[0]) {
                    self.assign(lits[0], c);
                }
            }
        }
        if !self.refuted && self.propagate() {
            self.refuted = true;
        }
    }

    /// Deletes one copy of a clause; `false` if none exists or it was kept because it
    /// is the reason of a root assignment.
    fn delete(&mut self, mut lits: Vec<L>) -> Option<bool> {
        lits.sort_unstable();
        lits.dedup();
        if lits.windows(2).any(|w| w[0] == neg(w[1])) {
            return Some(false); // tautologies were never stored
        }
        let c = *self.index.get(&lits)?.last()?;
        let reason = self
            .clause(c)
            .iter()
            .any(|&l| self.is_true(l) && self.reason[(l / 2) as usize] == c);
        if reason {
            return Some(false);
        }
        let ids = self.index.get_mut(&lits)?;
        ids.pop();
        if ids.is_empty() {
            self.index.remove(&lits);
        }
        self.deleted[c as usize] = true;
        Some(true)
    }

    /// Clause ids containing literal `l` that are not deleted (deleted ones are
    /// dropped from the list as they are met).
    fn containing(&mut self, l: L) -> Vec<u32> {
        let deleted = &self.deleted;
        self.occurs[l as usize].retain(|&c| !deleted[c as usize]);
        self.occurs[l as usize].clone()
    }
}

/// Checks `proof` (textual DRAT) against `cnf` (DIMACS): accepted only if every lemma
/// is RUP or RAT and the empty clause is derived.
pub fn check(cnf: &[u8], proof: &[u8]) -> Result<Checked, ProofError> {
    check_until(cnf, proof, &|| false).map(|done| done.expect("never stopped"))
}

/// How often (in clauses or RAT candidates) [`check_until`] asks whether to stop.
const POLL: usize = 1 << 10;

/// [`check`] that asks `stop` every thousand or so clauses, lemmas and RAT candidates
/// and returns `Ok(None)` (nothing accepted) once it says yes. Forward checking is
/// quadratic at worst: a RAT lemma is checked against every clause with its pivot's
/// negation, so a proof made of many RAT lemmas on one literal costs their product.
pub fn check_until(
    cnf: &[u8],
    proof: &[u8],
    stop: &dyn Fn() -> bool,
) -> Result<Option<Checked>, ProofError> {
    let mut ticks = 0usize;
    let mut tick = || {
        ticks += 1;
        ticks.is_multiple_of(POLL) && stop()
    };
    let formula = Clauses::new(cnf, "cnf")?;
    let steps = Clauses::new(proof, "proof")?;
    let mut db = Db::new();
    let mut checked = Checked::default();
    for clause in formula {
        let clause = clause?;
        if tick() {
            return Ok(None);
        }
        let lits = clause.literals.iter().map(|&l| db.lit(l)).collect();
        db.add(lits);
        checked.clauses += 1;
    }
    let mut empty = false;
    for step in steps {
        let step = step?;
        if tick() {
            return Ok(None);
        }
        if db.refuted {
            // Every lemma follows now; only look for the empty clause.
            empty |= !step.delete && step.literals.is_empty();
            checked.lemmas += usize::from(!step.delete);
            continue;
        }
        empty |= !step.delete && step.literals.is_empty();
        let lits: Vec<L> = step.literals.iter().map(|&l| db.lit(l)).collect();
        if step.delete {
            match db.delete(lits) {
                Some(true) => checked.deletions += 1,
                Some(false) => {}
                None => {
                    return Err(ProofError {
                        file: "proof",
                        line: step.number,
                        message: "deletes a clause that is not in the database".into(),
                    })
                }
            }
            continue;
        }
        checked.lemmas += 1;
        if !db.rup(&lits) {
            let Some(holds) = rat(&mut db, &lits, stop) else {
                return Ok(None);
            };
            if !holds {
                return Err(ProofError {
                    file: "proof",
                    line: step.number,
                    message: format!(
                        "lemma {:?} is neither RUP nor RAT on its first literal",
                        step.literals
                    ),
                });
            }
            checked.rat_lemmas += 1;
        }
        db.add(lits);
    }
    if !db.refuted || !empty {
        return Err(ProofError {
            file: "proof",
            line: 0,
            message: "the proof ends without deriving the empty clause (truncated?)".into(),
        });
    }
    Ok(Some(checked))
}

/// Whether `lemma` is RAT on its first literal `p`: for every clause `D` with `-p`,
/// `lemma OR (D - {-p})` is RUP. `None` if `stop` said yes first.
fn rat(db: &mut Db, lemma: &[L], stop: &dyn Fn() -> bool) -> Option<bool> {
    let Some(&p) = lemma.first() else {
        return Some(false);
    };
    for (i, d) in db.containing(neg(p)).into_iter().enumerate() {
        if i % POLL == POLL - 1 && stop() {
            return None;
        }
        let mut resolvent = lemma.to_vec();
        resolvent.extend(db.clause(d).iter().copied().filter(|&l| l != neg(p)));
        if !db.rup(&resolvent) {
            return Some(false);
        }
    }
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// All four clauses over two variables: unsat; `1` then the empty clause is a
    /// RUP proof.
    const FOUR: &str = "p cnf 2 4\n1 2 0\n1 -2 0\n-1 2 0\n-1 -2 0\n";

    #[test]
    fn a_rup_proof_is_accepted_and_its_truncation_is_not() {
        let ok = check(FOUR.as_bytes(), b"1 0\n0\n").unwrap();
        assert_eq!((ok.clauses, ok.lemmas, ok.rat_lemmas), (4, 2, 0));
        let e = check(FOUR.as_bytes(), b"1 0\n").unwrap_err();
        assert!(
            e.message.contains("without deriving the empty clause"),
            "{e}"
        );
        let e = check(FOUR.as_bytes(), b"1 0\n-2").unwrap_err();
        assert!(e.message.contains("no terminating 0"), "{e}");
    }

    #[test]
    fn a_clause_dropped_from_the_cnf_breaks_the_proof() {
        let three = "p cnf 2 3\n1 2 0\n1 -2 0\n-1 2 0\n";
        let e = check(three.as_bytes(), b"1 0\n0\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("neither RUP nor RAT"), "{e}");
    }

    #[test]
    fn a_non_rup_lemma_is_rejected_and_a_rat_one_accepted() {
        let cnf = "p cnf 3 2\n1 2 0\n-1 -2 0\n";
        let e = check(cnf.as_bytes(), b"1 0\n").unwrap_err();
        assert!(e.message.contains("neither RUP nor RAT"), "{e}");
        // 3 is in no clause: `3` is RAT on it (nothing to resolve with), not RUP.
        let ok = check(FOUR.as_bytes(), b"3 0\n1 0\n0\n").unwrap();
        assert_eq!((ok.lemmas, ok.rat_lemmas), (3, 1));
    }

    #[test]
    fn deletions_are_applied_and_unknown_ones_rejected() {
        // Deleting `1 -2` before deriving `1` makes `1` underivable.
        let e = check(FOUR.as_bytes(), b"d 1 -2 0\n1 0\n").unwrap_err();
        assert!(e.message.contains("neither RUP"), "{e}");
        let e = check(FOUR.as_bytes(), b"d 1 3 0\n").unwrap_err();
        assert!(e.message.contains("not in the database"), "{e}");
        // A tautology in the CNF may be deleted (it was never stored).
        let taut = format!("{FOUR}1 -1 0\n").replace("p cnf 2 4", "p cnf 2 5");
        assert!(check(taut.as_bytes(), b"d -1 1 0\n1 0\n0\n").is_ok());
        // Literal order does not matter for deletion.
        let five = format!("{FOUR}1 -2 0\n").replace("p cnf 2 4", "p cnf 2 5");
        let ok = check(five.as_bytes(), b"d -2 1 0\n1 0\n0\n").unwrap();
        assert_eq!(ok.deletions, 1);
    }

    #[test]
    fn a_cnf_refuted_by_propagation_needs_only_the_empty_clause() {
        let cnf = "p cnf 1 2\n1 0\n-1 0\n";
        assert!(check(cnf.as_bytes(), b"").is_err());
        assert!(check(cnf.as_bytes(), b"0\n").is_ok());
        assert!(check(cnf.as_bytes(), b"1 0\nd 1 0\n0\n").is_ok());
    }

    #[test]
    fn malformed_files_are_one_clear_error_and_cost_nothing() {
        for (cnf, proof, says) in [
            ("1 2 0\n", "0\n", "no 'p cnf' header"),
            ("p cnf 1\n1 0\n", "0\n", "expected 'p cnf"),
            ("p cnf 2 1\n1 x 0\n", "0\n", "not a literal"),
            ("p cnf 2 1\n1 0\n", "p cnf 1 1\n", "only allowed once"),
            ("p cnf 2 1\n1 0\n", "1 d 0\n", "'d' must start"),
            ("p cnf 2 1\n1 0\n", "99999999999 0\n", "not a literal"),
        ] {
            let e = check(cnf.as_bytes(), proof.as_bytes()).unwrap_err();
            assert!(e.to_string().contains(says), "{cnf:?} {proof:?}: {e}");
        }
        // A huge bad word is named by its first 40 characters only.
        let long = format!("p cnf 1 1\n1 0\n{} 0\n", "\u{1}".repeat(1 << 20));
        let e = check(long.as_bytes(), b"0\n").unwrap_err().to_string();
        assert!(e.len() < 400 && e.contains("not a literal"), "{}", e.len());
        // A huge declared count and a huge variable allocate nothing.
        let cnf = "p cnf 4000000000 4000000000\n2147483647 0\n-2147483647 0\n";
        assert!(check(cnf.as_bytes(), b"0\n").is_ok());
        assert!(check(b"p cnf 1 1\n\xff 0\n", b"").is_err());
    }

    /// Pigeonhole 3 into 2 with a resolution proof found by hand would be long; instead
    /// check that random unsat formulas' proofs from varisat are accepted.
    #[test]
    fn varisat_proofs_of_random_unsat_formulas_are_accepted() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut refuted = 0;
        for _ in 0..60 {
            let vars = rng.random_range(4..12i32);
            let n = vars as usize * 6;
            let mut text = format!("p cnf {vars} {n}\n");
            let mut solver = varisat::Solver::new();
            let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            solver.write_proof(Shared(buffer.clone()), varisat::ProofFormat::Drat);
            for _ in 0..n {
                let clause: Vec<i32> = (0..3)
                    .map(|_| {
                        let v = rng.random_range(1..=vars);
                        if rng.random() {
                            v
                        } else {
                            -v
                        }
                    })
                    .collect();
                for l in &clause {
                    text.push_str(&format!("{l} "));
                }
                text.push_str("0\n");
                let lits: Vec<varisat::Lit> = clause
                    .iter()
                    .map(|&l| varisat::Lit::from_dimacs(l as isize))
                    .collect();
                varisat::ExtendFormula::add_clause(&mut solver, &lits);
            }
            let sat = solver.solve().unwrap();
            solver.close_proof().unwrap();
            drop(solver);
            let proof = buffer.lock().unwrap().clone();
            let verdict = check(text.as_bytes(), &proof);
            assert_eq!(verdict.is_ok(), !sat, "{text}");
            refuted += usize::from(!sat);
        }
        assert!(refuted >= 10, "{refuted}");
    }

    /// A writer into a shared buffer.
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
