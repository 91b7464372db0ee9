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
use crate::solve::preprocess::{PrepareOptions, Prepared};
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

impl ClaimKind {
    /// The one claim a complete count of `count` consistent partitions makes: none is
    /// `unsat`, one `unique`, more a `count_complete`. A claim's kind follows from its
    /// count, so a certificate cannot name another.
    pub fn of_count(count: u64) -> ClaimKind {
        match count {
            0 => ClaimKind::Unsat,
            1 => ClaimKind::Unique,
            _ => ClaimKind::CountComplete,
        }
    }
}

/// What a claim on `solution` would be, if it makes one.
pub fn claim_of(solution: &Solution) -> Option<ClaimKind> {
    match (solution.status, solution.count_complete, solution.count) {
        (Status::Unsat, _, _) => Some(ClaimKind::Unsat),
        (Status::Sat, Some(true), Some(n)) if n >= 1 => Some(ClaimKind::of_count(n)),
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
    let Some(prep) = Prepared::until(instance, PrepareOptions::default(), control) else {
        return Ok(None);
    };
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
    /// Consistent partitions in all, recounted from the listed partitions and the
    /// instance's free tokens (0 for `unsat`, 1 for `unique`).
    pub count: u64,
    /// Clauses in its CNF.
    pub clauses: usize,
    /// Lemmas the proof added, each checked.
    pub lemmas: usize,
    /// What it rests on besides the proof.
    pub rests_on: Vec<String>,
}

/// Every file a certificate folder may hold: the manifest and each claim kind's CNF
/// and proof, for commands that must not write over them or read them as outputs.
pub fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let kinds = [
        ClaimKind::Unsat,
        ClaimKind::Unique,
        ClaimKind::CountComplete,
    ];
    std::iter::once(dir.join(MANIFEST))
        .chain(
            kinds
                .iter()
                .flat_map(|k| [dir.join(format!("{k}.cnf")), dir.join(format!("{k}.drat"))]),
        )
        .collect()
}

/// The files [`verify`] reads from `dir`: the manifest, and the CNF and proof each of
/// its entries names (only the manifest when it cannot be read as a list of claims).
pub fn inputs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![dir.join(MANIFEST)];
    let listed = std::fs::read(dir.join(MANIFEST))
        .ok()
        .and_then(|text| serde_json::from_slice::<Vec<Entry>>(&text).ok())
        .unwrap_or_default();
    for entry in listed {
        out.extend([dir.join(entry.cnf), dir.join(entry.proof)]);
    }
    out
}

/// Reads a regular file of the certificate folder by a plain name: one path component
/// (no folder, no `..`, no control characters), not a symbolic link, a device or a
/// pipe. Names with folders are refused because a folder could be a link out of `dir`.
fn read_in(dir: &Path, name: &str) -> Result<Vec<u8>> {
    let shown: String = format!("{name:?}").chars().take(80).collect();
    let mut parts = Path::new(name).components();
    let plain = !name.chars().any(char::is_control)
        && matches!(parts.next(), Some(std::path::Component::Normal(_)))
        && parts.next().is_none();
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
    // The bytes, and as much again for what the checker builds from them.
    crate::memory::afford(meta.len().saturating_mul(2), || {
        format!("{} ({} bytes)", path.display(), meta.len())
    })?;
    std::fs::read(&path).map_err(|e| Error::io(path.display(), e))
}

/// Checks the certificate in `dir` against `instance` with [`verify_claim`]'s checks;
/// the first failure is an input error naming the file. A certificate holds at most
/// one claim, whose CNF, proof and manifest are three different files. `Ok(None)` if
/// `control` stopped the check first: nothing is verified then.
pub fn verify(instance: &Instance, dir: &Path, control: &Control) -> Result<Option<Vec<Verified>>> {
    let manifest = read_in(dir, MANIFEST)?;
    let entries: Vec<Entry> = serde_json::from_slice(&manifest)
        .map_err(|e| crate::io::json::parse_error(MANIFEST, "list of claims", &e))?;
    let entry = match entries.as_slice() {
        [] => return Ok(Some(Vec::new())),
        [one] => one,
        more => {
            return Err(Error::input(
                MANIFEST,
                format!(
                    "lists {} claims; a certificate holds one (an instance has one answer)",
                    more.len()
                ),
            ))
        }
    };
    if entry.cnf == entry.proof || [&entry.cnf, &entry.proof].contains(&&MANIFEST.to_string()) {
        return Err(Error::input(
            MANIFEST,
            "the CNF, the proof and the manifest must be three different files",
        ));
    }
    let cnf = read_in(dir, &entry.cnf)?;
    let proof = read_in(dir, &entry.proof)?;
    let Some(encoded) = Encoded::new(instance, control)? else {
        return Ok(None);
    };
    Ok(check_claim(instance, &encoded, entry, &cnf, &proof, control)?.map(|v| vec![v]))
}

/// Checks one claim against `instance`, re-deriving everything it rests on:
/// - each listed partition is consistent (the checker) and distinct on the observed
///   tokens, and with the free tokens' placements they count exactly `entry.count`;
/// - the claim is the one that count makes ([`ClaimKind::of_count`]);
/// - every must-differ pair of the encoding is implied by two samples (found anew
///   from the samples, without the preprocessing that derived it);
/// - the CNF is the one re-derived from the instance and the listed partitions,
///   byte for byte, and `rests_on` is the list recomputed;
/// - the DRAT proof refutes the CNF ([`drat::check`]).
pub fn verify_claim(
    instance: &Instance,
    entry: &Entry,
    cnf_bytes: &[u8],
    proof: &[u8],
) -> Result<Verified> {
    let never = Control::new();
    let encoded = Encoded::new(instance, &never)?;
    encoded
        .and_then(|e| check_claim(instance, &e, entry, cnf_bytes, proof, &never).transpose())
        .unwrap_or_else(|| Err(Error::Internal("a check without a deadline stopped".into())))
}

/// The instance's certificate base, built once per verification.
struct Encoded {
    cnf: Cnf,
    prep: Prepared,
    encoding: Encoding,
}

impl Encoded {
    /// `None` if `control` stopped the encoding.
    fn new(instance: &Instance, control: &Control) -> Result<Option<Encoded>> {
        let mut cnf = Cnf::new();
        Ok(
            base(instance, &mut cnf, control)?.map(|(prep, encoding)| Encoded {
                cnf,
                prep,
                encoding,
            }),
        )
    }
}

/// [`verify_claim`] on an instance already encoded; `Ok(None)` if `control` stopped it.
fn check_claim(
    instance: &Instance,
    encoded: &Encoded,
    entry: &Entry,
    cnf_bytes: &[u8],
    proof: &[u8],
    control: &Control,
) -> Result<Option<Verified>> {
    let Encoded { prep, encoding, .. } = encoded;
    let bad = |file: &str, message: String| Error::input(file.to_string(), message);
    if entry.format != "drat" {
        return Err(bad(
            MANIFEST,
            format!("format {:?}: only \"drat\" is checked", entry.format),
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
    let kind = ClaimKind::of_count(count);
    if entry.claim != kind {
        return Err(bad(
            MANIFEST,
            format!(
                "claims {}, but its partitions, with every placement of the tokens in no \
                 sample, make {count} consistent partition(s): a {kind} claim",
                entry.claim
            ),
        ));
    }
    if count != entry.count {
        return Err(bad(
            MANIFEST,
            format!("the listed partitions count {count}, not {}", entry.count),
        ));
    }
    if !must_differ_implied(instance, prep, control)? {
        return Ok(None);
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
    let checked = drat::check_until(cnf_bytes, proof, &|| control.should_stop()).map_err(|e| {
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
    Ok(checked.map(|checked| Verified {
        claim: entry.claim,
        count,
        clauses: checked.clauses,
        lemmas: checked.lemmas,
        rests_on: rests,
    }))
}

/// How often (in samples) [`must_differ_implied`] looks at its control.
const POLL_SAMPLES: usize = 1 << 12;

/// Whether every must-differ pair of `prep` is implied by two samples of `instance`
/// that agree outside the pair's group and differ in value, found anew from the
/// samples (not by the preprocessing that derived the pairs). A pair without such
/// samples would make the certificate's CNF claim too much: an internal error.
/// `Ok(false)` if `control` stopped the search.
fn must_differ_implied(instance: &Instance, prep: &Prepared, control: &Control) -> Result<bool> {
    use std::collections::HashMap;
    const NONE: u32 = u32::MAX;
    for (g, pairs) in prep.must_differ.iter().enumerate() {
        if pairs.is_empty() {
            continue;
        }
        // The tokens outside g of each sample, as an id; per (id, token of g), up to two
        // distinct values seen; per token of g, the ids it occurs with.
        let mut rests: HashMap<Vec<u32>, u32> = HashMap::new();
        let mut values: HashMap<(u32, u32), [u32; 2]> = HashMap::new();
        let mut with: HashMap<u32, Vec<u32>> = HashMap::new();
        for s in 0..instance.num_samples() {
            if s % POLL_SAMPLES == 0 && control.should_stop() {
                return Ok(false);
            }
            let x = instance.x(s);
            let rest: Vec<u32> = x
                .iter()
                .enumerate()
                .filter(|&(h, _)| h != g)
                .map(|(_, &t)| t)
                .collect();
            let next = rests.len() as u32;
            let id = *rests.entry(rest).or_insert(next);
            let seen = values.entry((id, x[g])).or_insert_with(|| {
                with.entry(x[g]).or_default().push(id);
                [NONE; 2]
            });
            let y = instance.label_id(s);
            if seen[0] == NONE {
                seen[0] = y;
            } else if seen[0] != y && seen[1] == NONE {
                seen[1] = y;
            }
        }
        let differ = |a: &[u32; 2], b: &[u32; 2]| {
            a.iter()
                .filter(|&&l| l != NONE)
                .any(|&l| b.iter().any(|&m| m != NONE && m != l))
        };
        for (i, &(a, b)) in pairs.iter().enumerate() {
            if i % POLL_SAMPLES == 0 && control.should_stop() {
                return Ok(false);
            }
            let (a, b) = (prep.tokens().original(g, a), prep.tokens().original(g, b));
            let (ids_a, ids_b) = (
                with.get(&a).map_or(&[][..], Vec::as_slice),
                with.get(&b).map_or(&[][..], Vec::as_slice),
            );
            let ids = if ids_a.len() <= ids_b.len() {
                ids_a
            } else {
                ids_b
            };
            let implied =
                ids.iter()
                    .any(|&id| match (values.get(&(id, a)), values.get(&(id, b))) {
                        (Some(va), Some(vb)) => differ(va, vb),
                        _ => false,
                    });
            if !implied {
                return Err(Error::Internal(format!(
                    "preprocessing made tokens {a} and {b} of group {g} differ, but no two \
                     samples imply it"
                )));
            }
        }
    }
    Ok(true)
}
