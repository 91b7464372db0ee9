//! What a certificate claims, and the manifest entry that names its files.

use partrec_core::model::partition::Partition;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What a certificate proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entry {
    /// What is claimed.
    #[cfg_attr(feature = "openapi", schema(inline))]
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
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<Vec<u32>>>))]
    pub partitions: Vec<Partition>,
    /// Consistent partitions in all: the listed ones with every placement of tokens
    /// that occur in no sample.
    pub count: u64,
}

/// A claim with its files' contents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Certified {
    /// The manifest entry.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(schema_with = Entry::flattened))]
    pub entry: Entry,
    /// The CNF, DIMACS text.
    pub dimacs: String,
    /// The proof, textual DRAT.
    pub drat: String,
}

impl Entry {
    /// The schema of an entry flattened into a larger object: its fields, with the
    /// others' allowed beside them (a manifest entry alone allows none). It refers to
    /// no other schema (its claim is inline).
    #[cfg(feature = "openapi")]
    fn flattened() -> utoipa::openapi::schema::Schema {
        use utoipa::openapi::{schema::Schema, RefOr};
        match <Entry as utoipa::PartialSchema>::schema() {
            RefOr::T(Schema::Object(mut object)) => {
                object.additional_properties = None;
                Schema::Object(object)
            }
            _ => unreachable!("a struct's schema is an object"),
        }
    }
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
