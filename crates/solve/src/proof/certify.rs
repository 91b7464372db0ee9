//! Certifying an answer: enumerating the partitions it rests on, and the DRAT
//! refutation of the formula that blocks them all; writing the certificate folder.

use crate::count::free_extensions;
use crate::encode::{encode, Encoding, Projection};
use crate::preprocess::{PrepareOptions, Prepared};
use crate::proof::claim::{files, Certified, ClaimKind, Entry, MANIFEST};
use crate::solution::{Solution, Status};
use partrec_core::check::check;
use partrec_core::error::{Error, Result};
use partrec_core::io::output::same_file;
use partrec_core::model::instance::Instance;
use partrec_core::model::partition::{canonical, classes_used, Partition};
use partrec_sat::{Backend, ClauseSink, Cnf, Control, Outcome, ProofBuffer, ProofFormat, Solver};
use std::path::Path;

/// What a claim on `solution` would be, if it makes one.
pub fn claim_of(solution: &Solution) -> Option<ClaimKind> {
    match (solution.status, solution.count_complete, solution.count) {
        (Status::Unsat, _, _) => Some(ClaimKind::Unsat),
        (Status::Sat, Some(true), Some(n)) if n >= 1 => Some(ClaimKind::of_count(n)),
        _ => None,
    }
}

/// The backend whose DRAT trace a certificate carries: the first that traces DRAT.
pub(crate) fn proving_backend() -> Backend {
    Backend::ALL
        .into_iter()
        .find(|b| b.traces(ProofFormat::Drat))
        .expect("varisat traces DRAT proofs")
}

/// Adds every variable and clause of `cnf` to `solver`.
pub(crate) fn load(solver: &mut dyn Solver, cnf: &Cnf) {
    for _ in 0..cnf.variables() {
        solver.new_var();
    }
    for clause in cnf.clauses() {
        solver.add_clause(clause);
    }
}

/// The certificate's base: the preprocessed instance and its encoding into `sink`.
pub(crate) fn base(
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
pub(crate) fn exact_sum(a: u64, b: u64) -> Option<u64> {
    a.checked_add(b).filter(|&s| s < u64::MAX && b < u64::MAX)
}

/// What a claim rests on besides its proof.
pub(crate) fn rests_on(instance: &Instance, prep: &Prepared, claim: ClaimKind) -> Vec<String> {
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
/// deadline run this in a child process (`partrec_worker`).
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
    let (partitions, count) = match (claim, &solution.partition) {
        (ClaimKind::Unsat, _) => (Vec::new(), 0),
        // The answer's partition is the one to block: no search needed.
        (ClaimKind::Unique, Some(found)) => {
            let compact = prep.tokens().restrict(found);
            let (full, ways) = admit(instance, &prep, &compact)?;
            cnf.add_clause(&encoding.blocking_clause(&compact));
            (vec![full], ways)
        }
        _ => match enumerate(instance, &prep, &encoding, expected, &mut cnf, control)? {
            Some(found) => found,
            None => return Ok(None),
        },
    };
    if count != expected {
        return Err(Error::Internal(format!(
            "the certifying search counts {count} partitions where the solve counted {expected}"
        )));
    }
    let proof = refute(&cnf)?;
    let mut dimacs = Vec::new();
    cnf.write_dimacs(&mut dimacs)
        .map_err(|e| Error::io("certificate", e))?;
    let drat = drat_text(proof)?;
    let stem = claim.to_string();
    Ok(Some(Certified {
        entry: Entry {
            claim,
            cnf: format!("{stem}.cnf"),
            proof: format!("{stem}.drat"),
            format: ProofFormat::Drat.name().into(),
            rests_on: rests_on(instance, &prep, claim),
            partitions,
            count,
        },
        dimacs: String::from_utf8(dimacs).map_err(|_| Error::Internal("DIMACS not text".into()))?,
        drat,
    }))
}

/// A partition of the observed tokens (`compact`) in full, checked consistent, and
/// the number of ways its free tokens can be placed.
fn admit(instance: &Instance, prep: &Prepared, compact: &[Vec<u32>]) -> Result<(Partition, u64)> {
    let full = canonical(&prep.tokens().expand(compact, instance.groups()));
    let verdict = check(instance, &full)
        .map_err(|m| Error::Internal(format!("a certified partition has the wrong shape: {m}")))?;
    if !verdict.consistent {
        return Err(Error::Internal(
            "a partition to certify is inconsistent".into(),
        ));
    }
    let ways = free_extensions(instance, prep.tokens(), &classes_used(compact), u64::MAX);
    Ok((full, ways))
}

/// Enumerates the partitions of the observed tokens with an interruptible backend,
/// blocking each in `cnf`, until none is left or they count more than `expected`:
/// the partitions in full and their count. `None` if `control` stopped the search.
fn enumerate(
    instance: &Instance,
    prep: &Prepared,
    encoding: &Encoding,
    expected: u64,
    cnf: &mut Cnf,
    control: &Control,
) -> Result<Option<(Vec<Partition>, u64)>> {
    let mut partitions = Vec::new();
    let mut count = 0u64;
    let mut search = Backend::Cadical.solver();
    search.set_control(control);
    load(search.as_mut(), cnf);
    loop {
        match search.solve(&[])? {
            Outcome::Interrupted => return Ok(None),
            Outcome::Unsat => break,
            Outcome::Sat => {}
        }
        let compact = encoding.decode(search.as_ref());
        let (full, ways) = admit(instance, prep, &compact)?;
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
    Ok(Some((partitions, count)))
}

/// The DRAT proof, as written, that `cnf` is unsatisfiable: refuted from scratch
/// with a backend that traces DRAT (a trace cannot hold clauses added between
/// solves). A model instead is an internal error: a partition was missed.
fn refute(cnf: &Cnf) -> Result<Vec<u8>> {
    let buffer = ProofBuffer::default();
    let mut prover = proving_backend().solver();
    prover.trace_proof(Box::new(buffer.clone()), ProofFormat::Drat)?;
    load(prover.as_mut(), cnf);
    if prover.solve(&[])? != Outcome::Unsat {
        return Err(Error::Internal(
            "the certificate's formula is satisfiable: a partition was missed".into(),
        ));
    }
    prover.close_proof()?;
    drop(prover);
    Ok(buffer.take())
}

/// The text of a DRAT proof `refute` wrote, ending in the empty clause.
fn drat_text(proof: Vec<u8>) -> Result<String> {
    let mut drat = String::from_utf8(proof)
        .map_err(|_| Error::Internal("varisat wrote a proof that is not text".into()))?;
    // varisat leaves the empty clause out when loading the clauses already propagates
    // to a conflict; it follows by unit propagation then, and checkers ask for it.
    if !drat.lines().any(|l| l.trim() == "0") {
        drat.push_str("0\n");
    }
    Ok(drat)
}

/// Refuses a certificate folder before anything is solved or written: an empty path,
/// a path that exists and is not a folder, a file of the certificate that is a
/// folder, or one that would overwrite a path of `keep` (the inputs and the other
/// outputs, each with what it is for the message: "the input a.json"). The errors
/// name the option `certify`.
pub fn check_folder(dir: &Path, keep: &[(&Path, String)]) -> Result<()> {
    let refuse = |message: String| Err(Error::param("certify", message));
    if dir.as_os_str().is_empty() {
        return refuse("must not be empty (give a folder)".into());
    }
    if dir.exists() && !dir.is_dir() {
        return refuse(format!("{}: exists and is not a folder", dir.display()));
    }
    for file in files(dir) {
        if file.is_dir() {
            return refuse(format!(
                "{}: {} is a folder, where the certificate writes a file",
                dir.display(),
                file.display()
            ));
        }
        if let Some((_, what)) = keep.iter().find(|(path, _)| same_file(&file, path)) {
            return refuse(format!(
                "{}: is {what}; write the output to another file",
                file.display()
            ));
        }
    }
    Ok(())
}

/// Writes a certificate folder: each claim's CNF and proof, then `manifest.json`
/// (an array of [`Entry`]), every file atomically. The folder is created if missing.
pub fn write(dir: &Path, claims: &[Certified]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), e))?;
    for c in claims {
        partrec_core::io::output::write_file(&dir.join(&c.entry.cnf), |w| {
            w.write_all(c.dimacs.as_bytes())
        })?;
        partrec_core::io::output::write_file(&dir.join(&c.entry.proof), |w| {
            w.write_all(c.drat.as_bytes())
        })?;
    }
    let entries: Vec<&Entry> = claims.iter().map(|c| &c.entry).collect();
    let text = serde_json::to_string_pretty(&entries)
        .map_err(|e| Error::Internal(format!("manifest: {e}")))?;
    partrec_core::io::output::write_file(&dir.join(MANIFEST), |w| writeln!(w, "{text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_folder_is_checked_before_anything_is_written() {
        let dir = std::env::temp_dir().join(format!("partrec-certify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let message = |dir: &Path, keep: &[(&Path, String)]| match check_folder(dir, keep) {
            Err(Error::Param {
                name: "certify",
                message,
            }) => message,
            other => panic!("{other:?}"),
        };
        assert!(check_folder(&dir.join("new"), &[]).is_ok());
        assert!(message(Path::new(""), &[]).contains("must not be empty"));
        let file = dir.join("a-file");
        std::fs::write(&file, "x").unwrap();
        assert!(message(&file, &[]).contains("exists and is not a folder"));
        let input = dir.join("unsat.cnf");
        std::fs::write(&input, "p cnf 0 0").unwrap();
        let keep = [(input.as_path(), "the input".to_string())];
        assert!(message(&dir, &keep).contains("is the input"));
        std::fs::remove_file(&input).unwrap();
        std::fs::create_dir(dir.join("manifest.json")).unwrap();
        assert!(message(&dir, &[]).contains("is a folder"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
