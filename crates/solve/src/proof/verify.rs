//! Checking a certificate folder against an instance: each claim's CNF rebuilt byte
//! for byte, its partitions checked, its count redone, its proof checked by
//! [`crate::proof::drat`].

use crate::count::free_extensions;
use crate::encode::Encoding;
use crate::preprocess::Prepared;
use crate::proof::certify::{base, exact_sum, rests_on};
use crate::proof::claim::{ClaimKind, Entry, MANIFEST};
use crate::proof::drat;
use partrec_core::check::check;
use partrec_core::error::{Error, Result};
use partrec_core::model::instance::Instance;
use partrec_core::model::partition::{canonical, classes_used};
use partrec_sat::{ClauseSink, Cnf, Control};
use serde::Serialize;
use std::path::Path;

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
pub(crate) fn read_in(dir: &Path, name: &str) -> Result<Vec<u8>> {
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
    partrec_core::memory::afford(meta.len().saturating_mul(2), || {
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
        .map_err(|e| partrec_core::io::json::parse_error(MANIFEST, "list of claims", &e))?;
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
pub(crate) struct Encoded {
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
pub(crate) fn check_claim(
    instance: &Instance,
    encoded: &Encoded,
    entry: &Entry,
    cnf_bytes: &[u8],
    proof: &[u8],
    control: &Control,
) -> Result<Option<Verified>> {
    let prep = &encoded.prep;
    if entry.format != "drat" {
        return Err(bad(
            MANIFEST,
            format!("format {:?}: only \"drat\" is checked", entry.format),
        ));
    }
    let (cnf, count) = block_listed(instance, encoded, entry)?;
    check_count(entry, count)?;
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
    let checked = check_proof(entry, cnf_bytes, proof, control)?;
    Ok(checked.map(|checked| Verified {
        claim: entry.claim,
        count,
        clauses: checked.clauses,
        lemmas: checked.lemmas,
        rests_on: rests,
    }))
}

/// An input error in `file` of the certificate.
fn bad(file: &str, message: String) -> Error {
    Error::input(file.to_string(), message)
}

/// The encoding's CNF with the blocking clause of each listed partition, and how many
/// consistent partitions they make with the free tokens' placements; each listed
/// partition must be consistent and distinct on the observed tokens.
fn block_listed(instance: &Instance, encoded: &Encoded, entry: &Entry) -> Result<(Cnf, u64)> {
    let Encoded { prep, encoding, .. } = encoded;
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
    Ok((cnf, count))
}

/// Refuses an entry whose claim or count is not the one its partitions make (`count`).
fn check_count(entry: &Entry, count: u64) -> Result<()> {
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
    Ok(())
}

/// Checks that the entry's proof refutes its CNF ([`drat::check_until`]); a failure
/// names the file and line. `Ok(None)` if `control` stopped the check.
fn check_proof(
    entry: &Entry,
    cnf_bytes: &[u8],
    proof: &[u8],
    control: &Control,
) -> Result<Option<drat::Checked>> {
    drat::check_until(cnf_bytes, proof, &|| control.should_stop()).map_err(|e| {
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
    })
}

/// How often (in samples) [`must_differ_implied`] looks at its control.
pub(crate) const POLL_SAMPLES: usize = 1 << 12;

/// Whether every must-differ pair of `prep` is implied by two samples of `instance`
/// that agree outside the pair's group and differ in value, found anew from the
/// samples (not by the preprocessing that derived the pairs). A pair without such
/// samples would make the certificate's CNF claim too much: an internal error.
/// `Ok(false)` if `control` stopped the search.
pub(crate) fn must_differ_implied(
    instance: &Instance,
    prep: &Prepared,
    control: &Control,
) -> Result<bool> {
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
