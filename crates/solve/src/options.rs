//! What a solve is asked to decide, and how: the options, the search strategies,
//! local search, and their defaults.

use crate::encode::Projection;
use crate::preprocess::{PrepareOptions, Prepared};
use partrec_core::error::{Error, Result};
use partrec_sat::{Backend, Tuning};

/// What to decide beyond finding one partition, and how to preprocess.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SolveOptions {
    /// Count consistent partitions up to this many: 1 only finds one, 2 decides uniqueness.
    pub limit: u64,
    /// Which preprocessing steps run (all by default).
    pub prepare: PrepareOptions,
    /// How the sample clauses are written (the smallest, by default).
    pub projection: Projection,
    /// Whether a local search is tried before SAT.
    pub local_search: LocalSearch,
    /// Whether the statistical warm start ([`crate::warm`]) runs before the local
    /// search and SAT (instances with three or more groups).
    #[serde(default = "on")]
    pub warm_start: bool,
    /// The SAT backend.
    pub backend: Backend,
    /// Whether class propagation ([`propagate`](crate::propagate::propagate)) runs before the search.
    #[serde(default = "on")]
    pub propagate: bool,
    /// Refuse to build an encoding estimated above this many clauses (after propagation,
    /// so it bounds what is actually built); `None`: no count limit, only the memory
    /// budget.
    #[serde(default)]
    pub max_clauses: Option<u64>,
    /// The memory budget of this solve in bytes (`None`: the process's,
    /// [`partrec_core::memory::budget`]): the encodings it would build (one per portfolio
    /// member) are estimated first and refused as [`Error::Budget`] when they exceed it.
    #[serde(default)]
    pub max_memory: Option<u64>,
    /// How the search runs (chosen from the instance by default).
    #[serde(default)]
    pub strategy: Strategy,
    /// The backend's parameter preset (the portfolio sets its members' own).
    #[serde(default)]
    pub tuning: Tuning,
    /// Certify the claim the answer makes (`unsat`, `unique`, a complete count) with
    /// a DRAT proof ([`crate::proof::certify()`]), in [`Solution::certificate`](crate::solution::Solution::certificate).
    #[serde(default)]
    pub certify: bool,
    /// On a sat answer, also compute what every consistent partition agrees on
    /// ([`identify`](crate::identify::identify)), in [`Solution::identified`](crate::solution::Solution::identified), [`Solution::pinned`](crate::solution::Solution::pinned),
    /// [`Solution::frame`](crate::solution::Solution::frame) and [`Solution::pinned_counts`](crate::solution::Solution::pinned_counts).
    #[serde(default)]
    pub identify: bool,
    /// Renames the formula by this seed before CDCL ([`partrec_sat::shuffle`]): the same
    /// answers by another search path. The portfolio's second member is always renamed,
    /// by this seed + 1 (1 without one).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Find a partition violating the fewest samples (by weight) instead of one
    /// violating none ([`maxsat`](crate::maxsat)); with `limit >= 2`, also whether it is the only
    /// optimal one.
    #[serde(default)]
    pub max_consistent: bool,
}

/// How the search runs after preprocessing and propagation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Strategy {
    /// Chosen from the instance: see [`Strategy::resolve`].
    #[default]
    Auto,
    /// Local search, then CDCL with blocking clauses.
    Cdcl,
    /// The table-first search ([`table`](crate::table)) on every core.
    Table,
    /// Two CDCL searches side by side, the first to decide stopping the other, both
    /// with CaDiCaL tuned for satisfiable formulas: the local search then CDCL, and
    /// CDCL from the start on the formula renamed by another seed.
    Portfolio,
}

impl Strategy {
    /// Every strategy, in `--strategy` order.
    pub const ALL: [Strategy; 4] = [
        Strategy::Auto,
        Strategy::Cdcl,
        Strategy::Table,
        Strategy::Portfolio,
    ];

    /// Its name, as in `--strategy`.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Auto => "auto",
            Strategy::Cdcl => "cdcl",
            Strategy::Table => "table",
            Strategy::Portfolio => "portfolio",
        }
    }

    /// The strategy that runs on `prep` with `backend`. `Auto` becomes
    /// [`Strategy::Portfolio`] on instances with three or more groups and at most
    /// [`AUTO_SAMPLES`] distinct samples when the backend can be interrupted (the
    /// loser must stop), else [`Strategy::Cdcl`] (the driver also falls back to CDCL
    /// when two encodings would not fit the memory budget). In the hard band one
    /// CDCL configuration often decides within seconds where the other stalls; with
    /// thousands of tokens per group, where the warm start finds the partition, the
    /// two members race to prove it unique. With two groups CDCL decides the
    /// manual's sweeps in seconds, and large instances would pay for two encodings.
    pub fn resolve(self, prep: &Prepared, backend: Backend) -> Strategy {
        match self {
            Strategy::Auto
                if prep.groups().len() >= 3
                    && prep.len() <= AUTO_SAMPLES
                    && backend.interruptible() =>
            {
                Strategy::Portfolio
            }
            Strategy::Auto => Strategy::Cdcl,
            s => s,
        }
    }
}

/// `Auto` runs the portfolio only with at most this many distinct samples.
pub const AUTO_SAMPLES: usize = 2_000_000;

/// The default of switches that are on unless asked otherwise.
pub(crate) fn on() -> bool {
    true
}

/// The local search tried before SAT (see [`crate::local_search`]). It can only find
/// partitions, never refute, so on an instance without one its budget is lost time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalSearch {
    /// Budget [`LOCAL_SEARCH_WORK`], on instances with at least three groups and
    /// [`LOCAL_SEARCH_MIN_TOKENS`] observed tokens, where it affords
    /// [`LOCAL_SEARCH_MIN_STEPS`] steps. Measured: with two groups the projected CDCL
    /// encoding decides every point of the manual's sweep in seconds, and the local
    /// search is the weaker method there (10 s where SAT needs milliseconds at
    /// ratio 1); with three groups CDCL times out just above the identifiability
    /// threshold, where the local search finds partitions in a fraction of a second.
    /// Smaller instances are instant for SAT, and on large ones a step is expensive.
    Auto,
    /// Never.
    Off,
    /// Always, with this budget in sample updates.
    Work(u64),
}

/// The automatic local-search budget in sample updates (about 3 s on this machine).
pub const LOCAL_SEARCH_WORK: u64 = 100_000_000;

/// Fewer observed tokens than this: no automatic local search.
pub const LOCAL_SEARCH_MIN_TOKENS: usize = 64;

/// The automatic local search runs only if its budget allows this many steps.
pub const LOCAL_SEARCH_MIN_STEPS: u64 = 100;

impl LocalSearch {
    /// The budget for `prep`, or `None` when the search does not run.
    pub(crate) fn budget(self, prep: &Prepared) -> Option<u64> {
        let groups = prep.groups();
        match self {
            LocalSearch::Off => None,
            LocalSearch::Work(w) => Some(w),
            LocalSearch::Auto => {
                let tokens: usize = prep.order.iter().map(Vec::len).sum();
                let per_step = 2
                    * prep.len() as u64
                    * groups.iter().map(|g| u64::from(g.classes)).sum::<u64>();
                let affordable =
                    per_step.saturating_mul(LOCAL_SEARCH_MIN_STEPS) <= LOCAL_SEARCH_WORK;
                (groups.len() >= 3 && tokens >= LOCAL_SEARCH_MIN_TOKENS && affordable)
                    .then_some(LOCAL_SEARCH_WORK)
            }
        }
    }
}

impl SolveOptions {
    /// Find one consistent partition.
    pub fn find() -> Self {
        Self::count(1)
    }
    /// Find one and decide whether it is the only one.
    pub fn unique() -> Self {
        Self::count(2)
    }
    /// The options deciding what a front end asks with `unique` and `count`: one
    /// partition (neither), uniqueness (`unique`, which is `count` 2), or a count up to
    /// `count`. The other fields are the defaults; check the whole with
    /// [`SolveOptions::validate`].
    ///
    /// ```
    /// use partrec_solve::SolveOptions;
    ///
    /// assert_eq!(SolveOptions::deciding(true, None)?.limit, 2);
    /// assert_eq!(SolveOptions::deciding(false, Some(10))?.limit, 10);
    /// let e = SolveOptions::deciding(false, Some(0)).unwrap_err();
    /// assert_eq!(e.to_string(), "count must be at least 1 (1 finds a partition, 2 decides uniqueness)");
    /// # Ok::<(), partrec_core::error::Error>(())
    /// ```
    pub fn deciding(unique: bool, count: Option<u64>) -> Result<Self> {
        match (unique, count) {
            (true, Some(_)) => Err(Error::param(
                "count",
                "cannot be given with unique (which is count 2): give one",
            )),
            (false, Some(n)) => {
                let options = SolveOptions {
                    limit: n,
                    ..Self::find()
                };
                options.validate()?;
                Ok(options)
            }
            (true, None) => Ok(Self::unique()),
            (false, None) => Ok(Self::find()),
        }
    }

    /// Checks every rule the options must follow, and names the option that breaks
    /// one ([`Error::Param`]); every front end reports it in its own spelling (a flag,
    /// a request field, a keyword argument). The solve entry points check it first.
    pub fn validate(&self) -> Result<()> {
        if self.limit == 0 {
            return Err(Error::param(
                "count",
                "must be at least 1 (1 finds a partition, 2 decides uniqueness)",
            ));
        }
        if self.max_consistent && self.limit > 2 {
            return Err(Error::param(
                "max_consistent",
                "decides uniqueness (unique) but does not count further",
            ));
        }
        if self.max_consistent && (self.certify || self.identify) {
            return Err(Error::param(
                "max_consistent",
                "is neither certified nor identified: certificates and identify speak of partitions consistent with every sample",
            ));
        }
        if self.strategy == Strategy::Portfolio && !self.backend.interruptible() {
            return Err(Error::param(
                "strategy",
                format!(
                    "portfolio needs a backend that can be interrupted (cadical), not {}",
                    self.backend
                ),
            ));
        }
        Ok(())
    }

    /// Count consistent partitions up to `limit` (at least 1).
    pub fn count(limit: u64) -> Self {
        SolveOptions {
            limit: limit.max(1),
            prepare: PrepareOptions::default(),
            projection: Projection::Auto,
            local_search: LocalSearch::Auto,
            warm_start: true,
            backend: Backend::default(),
            propagate: true,
            max_clauses: None,
            max_memory: None,
            strategy: Strategy::Auto,
            tuning: Tuning::Default,
            seed: None,
            certify: false,
            identify: false,
            max_consistent: false,
        }
    }
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Strategy::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| {
                format!("unknown strategy {s:?} (expected auto, cdcl, table or portfolio)")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(options: SolveOptions) -> &'static str {
        match options.validate() {
            Err(Error::Param { name, .. }) => name,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_rule_names_its_option() {
        assert!(SolveOptions::unique().validate().is_ok());
        assert_eq!(
            refused(SolveOptions {
                limit: 0,
                ..SolveOptions::find()
            }),
            "count"
        );
        let max = SolveOptions {
            max_consistent: true,
            ..SolveOptions::find()
        };
        assert!(max.validate().is_ok());
        assert_eq!(refused(SolveOptions { limit: 3, ..max }), "max_consistent");
        assert_eq!(
            refused(SolveOptions {
                certify: true,
                ..max
            }),
            "max_consistent"
        );
        assert_eq!(
            refused(SolveOptions {
                identify: true,
                ..max
            }),
            "max_consistent"
        );
        let portfolio = SolveOptions {
            strategy: Strategy::Portfolio,
            ..SolveOptions::find()
        };
        assert!(portfolio.validate().is_ok());
        let varisat = SolveOptions {
            backend: Backend::Varisat,
            ..portfolio
        };
        assert_eq!(refused(varisat), "strategy");
        match SolveOptions::deciding(true, Some(2)) {
            Err(Error::Param { name: "count", .. }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(SolveOptions::deciding(false, None).unwrap().limit, 1);
    }
}
