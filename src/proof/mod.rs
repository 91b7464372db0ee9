//! Certificates for the answers a partition cannot witness: `unsat`, `unique` and
//! a complete count. Each is one claim "this CNF is unsatisfiable", with the CNF in
//! DIMACS and a DRAT proof of it.
//!
//! The CNF of a claim is re-derived from the instance alone: the encoding
//! ([`crate::solve::encode`]) of the preprocessed instance (no class propagation),
//! then one blocking clause per listed partition. [`certify`] builds it while a
//! proof-logging varisat enumerates every partition of the observed tokens;
//! [`verify`] rebuilds it byte for byte, checks each listed partition with the
//! consistency checker, recounts with the free tokens, and checks the proof with
//! [`drat`], which shares no code with the encoder or any solver.
//!
//! What a proof does not cover is named in [`Entry::rests_on`]: that the encoding
//! has exactly one model per consistent partition of the observed tokens (value
//! precedence is a symmetry-breaking lemma, not implied by the clauses), that
//! must-differ clauses are implied by the samples, and how free tokens are counted.

pub mod drat;

use crate::check::check;
use crate::error::{Error, Result};
use crate::model::instance::Instance;
use crate::model::partition::{canonical, classes_used, Partition};
use crate::model::solution::{Solution, Status};
use crate::sat::varisat::Varisat;
use crate::sat::{Backend, ClauseSink, Cnf, Control, Outcome, Solver};
use crate::solve::encode::{encode, Encoding, Projection};
use crate::solve::free_extensions;
use crate::solve::preprocess::Prepared;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

/// What a certificate proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimKind {
    /// No partition is consistent.
    Unsat,
    /// The listed partition is the only consistent one.
    Unique,
    /// The listed partitions (with the free tokens' placements) are all there are.
    CountComplete,
}

/// One entry of `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// What is claimed.
    pub claim: ClaimKind,
    /// The CNF file (DIMACS), relative to the certificate folder.
    pub cnf: String,
    /// The proof file, relative to the certificate folder.
    pub proof: String,
    /// The proof format: `drat` (textual).
    pub format: String,
    /// What the claim rests on besides the proof.
    pub rests_on: Vec<String>,
    /// The partitions whose blocking clauses end the CNF (canonical, every token).
    pub partitions: Vec<Partition>,
    /// Consistent partitions in all: the listed ones with every placement of tokens
    /// that occur in no sample.
    pub count: u64,
}

/// A claim with its files' contents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Certified {
    /// The manifest entry.
    #[serde(flatten)]
    pub entry: Entry,
    /// The CNF, DIMACS text.
    pub dimacs: String,
    /// The proof, textual DRAT.
    pub drat: String,
}

impl std::fmt::Display for ClaimKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ClaimKind::Unsat => "unsat",
            ClaimKind::Unique => "unique",
            ClaimKind::CountComplete => "count_complete",
        })
    }
}

/// The name of the manifest in a certificate folder.
pub const MANIFEST: &str = "manifest.json";

/// What a claim on `solution` would be, if it makes one.
pub fn claim_of(solution: &Solution) -> Option<ClaimKind> {
    match (solution.status, solution.count_complete, solution.count) {
        (Status::Unsat, _, _) => Some(ClaimKind::Unsat),
        (Status::Sat, Some(true), Some(1)) => Some(ClaimKind::Unique),
        (Status::Sat, Some(true), Some(_)) => Some(ClaimKind::CountComplete),
        _ => None,
    }
}

/// Adds every variable and clause of `cnf` to `solver`.
fn load(solver: &mut dyn Solver, cnf: &Cnf) {
    for _ in 0..cnf.variables() {
        solver.new_var();
    }
    for clause in cnf.clauses() {
        solver.add_clause(clause);
    }
}

/// A proof buffer shared with the solver that writes into it.
#[derive(Clone, Default)]
struct Buffer(Rc<RefCell<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The certificate's base: the preprocessed instance and its encoding into `sink`.
fn base(
    instance: &Instance,
    sink: &mut dyn ClauseSink,
    control: &Control,
) -> Result<Option<(Prepared, Encoding)>> {
    let prep = Prepared::new(instance);
    Ok(encode(&prep, Projection::Auto, sink, control)?.map(|e| (prep, e)))
}

/// `a + b` when both are exact counts and the sum fits below `u64::MAX` (which
/// [`free_extensions`] uses for "this many or more").
fn exact_sum(a: u64, b: u64) -> Option<u64> {
    a.checked_add(b).filter(|&s| s < u64::MAX && b < u64::MAX)
}

/// What a claim rests on besides its proof.
fn rests_on(instance: &Instance, prep: &Prepared, claim: ClaimKind) -> Vec<String> {
    let mut out = vec![
        "encoding: each consistent partition of the observed tokens is a model".to_string(),
        "symmetry breaking: value precedence (exactly one model per partition)".to_string(),
    ];
    if prep.must_differ.iter().any(|p| !p.is_empty()) {
        out.push("must-differ clauses: implied by pairs of samples".into());
    }
    if claim != ClaimKind::Unsat {
        out.push("blocking clauses: each excludes exactly its listed partition".into());
        let free = (0..instance.arity()).any(|g| prep.tokens().free(g, instance.groups()) > 0);
        if free {
            out.push("free tokens: placements counted in closed form".into());
        }
    }
    out
}

/// Certifies the claim `solution` makes about `instance` (none: `Ok(None)`).
/// For a complete count, CaDiCaL enumerates every partition of the observed tokens
/// on the encoding, blocking each, until the formula is unsatisfiable (for `unique`
/// the answer's partition is blocked, for `unsat` nothing); the partitions must
/// account for exactly `solution.count` (else an internal error: the search and the
/// certificate disagree). Then a proof-logging varisat refutes the encoding plus
/// the blocking clauses from scratch; if it finds a model instead, a partition was
/// missed, an internal error. `Ok(None)` if `control` stopped the
/// enumeration; varisat's refutation cannot be interrupted, so callers with a
/// deadline run this in a child process ([`crate::worker`]).
pub fn certify(
    instance: &Instance,
    solution: &Solution,
    control: &Control,
) -> Result<Option<Certified>> {
    let Some(claim) = claim_of(solution) else {
        return Ok(None);
    };
    let expected = solution.count.unwrap_or(0);
    let mut cnf = Cnf::new();
    let Some((prep, encoding)) = base(instance, &mut cnf, control)? else {
        return Ok(None);
    };
    let admit = |compact: &[Vec<u32>]| -> Result<(Partition, u64)> {
        let full = canonical(&prep.tokens().expand(compact, instance.groups()));
        let verdict = check(instance, &full).map_err(|m| {
            Error::Internal(format!("a certified partition has the wrong shape: {m}"))
        })?;
        if !verdict.consistent {
            return Err(Error::Internal(
                "a partition to certify is inconsistent".into(),
            ));
        }
        let ways = free_extensions(instance, prep.tokens(), &classes_used(compact), u64::MAX);
        Ok((full, ways))
    };
    let mut partitions = Vec::new();
    let mut count = 0u64;
    match (claim, &solution.partition) {
        (ClaimKind::Unsat, _) => {}
        // The answer's partition is the one to block: no search needed.
        (ClaimKind::Unique, Some(found)) => {
            let compact = prep.tokens().restrict(found);
            let (full, ways) = admit(&compact)?;
            count = ways;
            partitions.push(full);
            cnf.add_clause(&encoding.blocking_clause(&compact));
        }
        // Enumerate the partitions with an interruptible backend, blocking each.
        _ => {
            let mut search = Backend::Cadical.solver();
            search.set_control(control);
            load(search.as_mut(), &cnf);
            loop {
                match search.solve(&[])? {
                    Outcome::Interrupted => return Ok(None),
                    Outcome::Unsat => break,
                    Outcome::Sat => {}
                }
                let compact = encoding.decode(search.as_ref());
                let (full, ways) = admit(&compact)?;
                count = exact_sum(count, ways)
                    .ok_or_else(|| Error::Internal("a certified count reached 2^64 - 1".into()))?;
                partitions.push(full);
                if count > expected {
                    break;
                }
                let clause = encoding.blocking_clause(&compact);
                cnf.add_clause(&clause);
                search.add_clause(&clause);
            }
        }
    }
    if count != expected {
        return Err(Error::Internal(format!(
            "the certifying search counts {count} partitions where the solve counted {expected}"
        )));
    }
    // Refute the final formula from scratch with a proof-logging varisat (which
    // cannot log clauses added between solves).
    let buffer = Buffer::default();
    let mut prover = Varisat::proving(buffer.clone());
    load(&mut prover, &cnf);
    if prover.solve(&[])? != Outcome::Unsat {
        return Err(Error::Internal(
            "the certificate's formula is satisfiable: a partition was missed".into(),
        ));
    }
    prover.finish_proof()?;
    drop(prover);
    let mut dimacs = Vec::new();
    cnf.write_dimacs(&mut dimacs)
        .map_err(|e| Error::io("certificate", e))?;
    let mut drat = String::from_utf8(buffer.0.take())
        .map_err(|_| Error::Internal("varisat wrote a proof that is not text".into()))?;
    // varisat leaves the empty clause out when loading the clauses already propagates
    // to a conflict; it follows by unit propagation then, and checkers ask for it.
    if !drat.lines().any(|l| l.trim() == "0") {
        drat.push_str("0\n");
    }
    let stem = claim.to_string();
    Ok(Some(Certified {
        entry: Entry {
            claim,
            cnf: format!("{stem}.cnf"),
            proof: format!("{stem}.drat"),
            format: "drat".into(),
            rests_on: rests_on(instance, &prep, claim),
            partitions,
            count,
        },
        dimacs: String::from_utf8(dimacs).map_err(|_| Error::Internal("DIMACS not text".into()))?,
        drat,
    }))
}

/// Writes a certificate folder: each claim's CNF and proof, then `manifest.json`
/// (an array of [`Entry`]), every file atomically. The folder is created if missing.
pub fn write(dir: &Path, claims: &[Certified]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), e))?;
    for c in claims {
        crate::io::output::write_file(&dir.join(&c.entry.cnf), |w| {
            w.write_all(c.dimacs.as_bytes())
        })?;
        crate::io::output::write_file(&dir.join(&c.entry.proof), |w| {
            w.write_all(c.drat.as_bytes())
        })?;
    }
    let entries: Vec<&Entry> = claims.iter().map(|c| &c.entry).collect();
    let text = serde_json::to_string_pretty(&entries)
        .map_err(|e| Error::Internal(format!("manifest: {e}")))?;
    crate::io::output::write_file(&dir.join(MANIFEST), |w| writeln!(w, "{text}"))
}

/// What [`verify`] found for one claim.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verified {
    /// The claim.
    pub claim: ClaimKind,
    /// Clauses in its CNF.
    pub clauses: usize,
    /// Lemmas the proof added, each checked.
    pub lemmas: usize,
    /// What it rests on besides the proof.
    pub rests_on: Vec<String>,
}

/// Reads a regular file of the certificate folder: a plain relative name (no `..`,
/// no control characters), not a symbolic link, a device or a pipe.
fn read_in(dir: &Path, name: &str) -> Result<Vec<u8>> {
    let shown: String = format!("{name:?}").chars().take(80).collect();
    let plain = !name.is_empty()
        && !name.chars().any(char::is_control)
        && Path::new(name)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !plain {
        return Err(Error::input(
            MANIFEST,
            format!("{shown} is not a file name inside the certificate folder"),
        ));
    }
    let path = dir.join(name);
    let meta = std::fs::symlink_metadata(&path).map_err(|e| Error::io(path.display(), e))?;
    if !meta.file_type().is_file() {
        return Err(Error::input(
            MANIFEST,
            format!("{shown} is not a regular file inside the certificate folder"),
        ));
    }
    std::fs::read(&path).map_err(|e| Error::io(path.display(), e))
}

/// Checks every claim of the certificate in `dir` against `instance` with
/// [`verify_claim`]; the first failure is an input error naming the file.
pub fn verify(instance: &Instance, dir: &Path) -> Result<Vec<Verified>> {
    let manifest = read_in(dir, MANIFEST)?;
    let entries: Vec<Entry> = serde_json::from_slice(&manifest)
        .map_err(|e| Error::input(MANIFEST, format!("not a list of claims: {e}")))?;
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    // One encoding of the instance serves every claim.
    let encoded = Encoded::new(instance)?;
    entries
        .into_iter()
        .map(|entry| {
            let cnf = read_in(dir, &entry.cnf)?;
            let proof = read_in(dir, &entry.proof)?;
            check_claim(instance, &encoded, &entry, &cnf, &proof)
        })
        .collect()
}

/// Checks one claim against `instance`: the CNF is the one re-derived from the
/// instance and the listed partitions, byte for byte; each listed partition is
/// consistent (the checker) and distinct on the observed tokens; the count follows
/// from them; and the DRAT proof refutes the CNF ([`drat::check`]).
pub fn verify_claim(
    instance: &Instance,
    entry: &Entry,
    cnf_bytes: &[u8],
    proof: &[u8],
) -> Result<Verified> {
    check_claim(instance, &Encoded::new(instance)?, entry, cnf_bytes, proof)
}

/// The instance's certificate base, built once per verification.
struct Encoded {
    cnf: Cnf,
    prep: Prepared,
    encoding: Encoding,
}

impl Encoded {
    fn new(instance: &Instance) -> Result<Encoded> {
        let mut cnf = Cnf::new();
        let Some((prep, encoding)) = base(instance, &mut cnf, &Control::new())? else {
            return Err(Error::Internal(
                "an encoding without a deadline stopped".into(),
            ));
        };
        Ok(Encoded {
            cnf,
            prep,
            encoding,
        })
    }
}

/// [`verify_claim`] on an instance already encoded.
fn check_claim(
    instance: &Instance,
    encoded: &Encoded,
    entry: &Entry,
    cnf_bytes: &[u8],
    proof: &[u8],
) -> Result<Verified> {
    let Encoded { prep, encoding, .. } = encoded;
    let bad = |file: &str, message: String| Error::input(file.to_string(), message);
    if entry.format != "drat" {
        return Err(bad(
            MANIFEST,
            format!("format {:?}: only \"drat\" is checked", entry.format),
        ));
    }
    let listed = entry.partitions.len();
    let fits = match entry.claim {
        ClaimKind::Unsat => listed == 0,
        ClaimKind::Unique => listed == 1,
        ClaimKind::CountComplete => listed >= 1,
    };
    if !fits {
        return Err(bad(
            MANIFEST,
            format!("a {:?} claim cannot list {listed} partitions", entry.claim),
        ));
    }
    let mut cnf = encoded.cnf.clone();
    let mut count = 0u64;
    let mut seen = std::collections::HashSet::new();
    for p in &entry.partitions {
        let verdict =
            check(instance, p).map_err(|m| bad(MANIFEST, format!("a listed partition: {m}")))?;
        let compact = prep.tokens().restrict(p);
        if !verdict.consistent || !seen.insert(canonical(&compact)) {
            return Err(bad(
                MANIFEST,
                "a listed partition is inconsistent, or listed twice on the observed tokens".into(),
            ));
        }
        let ways = free_extensions(instance, prep.tokens(), &classes_used(&compact), u64::MAX);
        count = exact_sum(count, ways).ok_or_else(|| {
            bad(
                MANIFEST,
                "the listed partitions count 2^64 - 1 or more: too many to certify".into(),
            )
        })?;
        cnf.add_clause(&encoding.blocking_clause(&compact));
    }
    if count != entry.count {
        return Err(bad(
            MANIFEST,
            format!("the listed partitions count {count}, not {}", entry.count),
        ));
    }
    let mut expected = Vec::new();
    cnf.write_dimacs(&mut expected)
        .map_err(|e| Error::io("certificate", e))?;
    if cnf_bytes != expected.as_slice() {
        return Err(bad(
            &entry.cnf,
            "is not the CNF of this instance and the listed partitions".into(),
        ));
    }
    let checked = drat::check(cnf_bytes, proof).map_err(|e| {
        let file = if e.file == "cnf" {
            &entry.cnf
        } else {
            &entry.proof
        };
        let at = if e.line == 0 {
            String::new()
        } else {
            format!("line {}: ", e.line)
        };
        bad(file, format!("{at}{}", e.message))
    })?;
    let rests = rests_on(instance, prep, entry.claim);
    if entry.rests_on != rests {
        return Err(bad(
            MANIFEST,
            format!(
                "rests_on does not list what the claim rests on: {}",
                rests.join("; ")
            ),
        ));
    }
    Ok(Verified {
        claim: entry.claim,
        clauses: checked.clauses,
        lemmas: checked.lemmas,
        rests_on: rests,
    })
}
