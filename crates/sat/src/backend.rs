//! The available backends: their names, what each can do, and the presets and
//! proof formats they may offer. Creating one is in [`crate::open`].

use crate::sink::Footprint;
use std::fmt;
use std::str::FromStr;

/// The available backends.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Backend {
    /// CaDiCaL 1.9.5 (the `cadical` crate, bundled C++): interruptible, the faster one.
    #[default]
    Cadical,
    /// varisat, pure Rust: cannot be interrupted, so deadlines run it in a child process.
    Varisat,
}

impl Backend {
    /// Every backend, in the order of `--backend`'s help.
    pub const ALL: [Backend; 2] = [Backend::Cadical, Backend::Varisat];

    /// What its solvers hold per clause, literal and variable.
    pub fn footprint(self) -> Footprint {
        match self {
            Backend::Cadical => Footprint::CADICAL,
            Backend::Varisat => Footprint::VARISAT,
        }
    }

    /// Whether a running search can be stopped in-process.
    pub fn interruptible(self) -> bool {
        match self {
            Backend::Cadical => true,
            Backend::Varisat => false,
        }
    }

    /// Whether its solvers can trace proofs in `format` ([`Solver::trace_proof`](crate::solver::Solver::trace_proof)).
    /// varisat writes DRAT; the CaDiCaL binding exposes no proof output.
    pub fn traces(self, format: ProofFormat) -> bool {
        match (self, format) {
            (Backend::Varisat, ProofFormat::Drat) => true,
            (Backend::Cadical, ProofFormat::Drat) => false,
        }
    }

    /// Its name, as in `--backend`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Cadical => "cadical",
            Backend::Varisat => "varisat",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Backend::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| format!("unknown backend {s:?} (expected cadical or varisat)"))
    }
}

/// A preset of the backend's search parameters: CaDiCaL's `--sat` and `--unsat`
/// configurations (varisat has none and ignores it).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Tuning {
    /// The backend's defaults.
    #[default]
    Default,
    /// Tuned for satisfiable formulas. In the hard band, where deciding is mostly
    /// finding a second partition, one CDCL search with it decided 11 of 20 instances
    /// within 30 s, the default 6 (see the hard band in docs/performance.md).
    Sat,
    /// Tuned for unsatisfiable formulas.
    Unsat,
}

impl Tuning {
    /// CaDiCaL's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Tuning::Default => "default",
            Tuning::Sat => "sat",
            Tuning::Unsat => "unsat",
        }
    }
}

/// A proof format a backend may trace ([`Solver::trace_proof`](crate::solver::Solver::trace_proof)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofFormat {
    /// Textual DRAT: each derived clause as a line, deletions prefixed by `d`.
    Drat,
}

impl ProofFormat {
    /// Its usual name, as in a certificate's manifest.
    pub fn name(self) -> &'static str {
        match self {
            ProofFormat::Drat => "drat",
        }
    }
}
