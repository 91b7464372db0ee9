//! The solution report: what `partrec solve` prints and `partrec check` reads.

use partrec_core::model::instance::TableEntry;
use partrec_core::model::partition::Partition;
use partrec_core::model::shown::shown_name;
use serde::{Deserialize, Serialize};

/// The verdict of a solve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Status {
    /// A consistent partition was found (and checked).
    Sat,
    /// A complete search proved that no consistent partition exists.
    Unsat,
    /// No verdict (a timeout, or a method that cannot prove anything).
    Unknown,
}

impl Status {
    /// The SAT-competition exit code: 10 sat, 20 unsat, 0 unknown.
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Sat => 10,
            Status::Unsat => 20,
            Status::Unknown => 0,
        }
    }
}

/// Sizes and timings of one solve.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stats {
    /// Samples in the file.
    pub samples: usize,
    /// Distinct samples after preprocessing.
    pub distinct_samples: usize,
    /// Distinct values.
    pub values: usize,
    /// Per group, tokens that occur in some sample (the rest are free).
    pub observed_tokens: Vec<usize>,
    /// CNF variables.
    pub variables: usize,
    /// CNF clauses (blocking clauses not included).
    pub clauses: usize,
    /// SAT solver calls.
    pub solver_calls: usize,
    /// Seconds spent deduplicating and ordering.
    pub preprocess_seconds: f64,
    /// Seconds spent in the local search tried before SAT.
    #[serde(default)]
    pub local_search_seconds: f64,
    /// Seconds spent on the statistical warm start ([`crate::warm`]), when it ran.
    #[serde(default)]
    pub warm_start_seconds: f64,
    /// Distinct samples the warm start's estimate disagreed with (0: it found a
    /// consistent partition), when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_start_mismatches: Option<usize>,
    /// Seconds spent building the CNF.
    pub encode_seconds: f64,
    /// Seconds spent finding the first solution (or proving there is none).
    pub solve_seconds: f64,
    /// Seconds spent on further solutions (uniqueness, counting).
    pub unique_seconds: f64,
    /// Seconds spent in the checker.
    pub check_seconds: f64,
    /// Seconds spent in class propagation ([`crate::propagate`]).
    #[serde(default)]
    pub propagate_seconds: f64,
    /// Per group, the observed tokens whose class propagation decided (no SAT needed for
    /// them), when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_tokens: Option<Vec<usize>>,
    /// Branches propagation's lookahead tried after it stalled (each assumes the class
    /// of one undecided token and propagates), when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookahead_branches: Option<usize>,
    /// The deadline struck before the search finished.
    pub timed_out: bool,
    /// Where the solve was when the deadline (or a stop) struck, when it did:
    /// `reading`, `preprocessing`, `propagating`, `warm start`, `local search`, `encoding`,
    /// `searching`, `deciding uniqueness`, `checking`, `certifying` or `identifying`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_in: Option<String>,
    /// The SAT backend that searched, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<partrec_sat::Backend>,
    /// Clauses the backend learnt from conflicts, where it reports them and was asked to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learned: Option<u64>,
    /// Why the answer is unsat without search, if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsat_reason: Option<String>,
    /// The search that produced the answer, once one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<crate::options::Strategy>,
    /// Tables the table search visited, when it ran: full tables enumerated, or, with
    /// fewer distinct samples than cells (tokens first), the partitions' observed tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tables: Option<u64>,
    /// Seconds spent certifying the answer ([`crate::proof::certify()`]), when asked.
    #[serde(default)]
    pub certify_seconds: f64,
    /// Seconds spent on `--identify` ([`crate::identify`]), when asked.
    #[serde(default)]
    pub identify_seconds: f64,
    /// The bytes this solve was estimated to hold at most, before it searched
    /// ([`crate::estimate_memory`]; not with `max_consistent`): compare with its real
    /// peak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_estimate: Option<u64>,
    /// The bytes the rest of the solve was estimated to hold at most once propagation
    /// had shrunk the instance (the prepared samples, the encodings, the answer): a
    /// server keeps only this much of its reservation from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_memory_estimate: Option<u64>,
}

impl Stats {
    /// Whether the search ran on propagation's quotient (the tokens whose class it
    /// decided merged into one per class) rather than on the instance: where
    /// propagation decided at least half of the `observed` tokens (`decided` of them).
    /// Where it decided fewer (the hard band) the quotient is barely smaller and CDCL
    /// was measured slower on it.
    pub fn searches_quotient(decided: usize, observed: usize) -> bool {
        decided > 0 && 2 * decided >= observed
    }

    /// The tokens merged into one per class before the search (see
    /// [`Stats::searches_quotient`]), if the search ran on the quotient.
    fn merged_tokens(&self) -> Option<usize> {
        let decided: usize = self.decided_tokens.as_ref()?.iter().sum();
        let observed: usize = self.observed_tokens.iter().sum();
        Stats::searches_quotient(decided, observed).then_some(decided)
    }

    /// The summary line's sizes: the samples, and the distinct ones searched (once
    /// known), saying when propagation's merging of tokens made samples alike.
    fn sizes(&self) -> String {
        let mut s = format!("{} samples", self.samples);
        if self.distinct_samples > 0 {
            s.push_str(&format!(", {} distinct", self.distinct_samples));
            if let Some(merged) = self.merged_tokens() {
                s.push_str(&format!(
                    " after merging the {merged} tokens whose class propagation decided"
                ));
            }
        }
        s
    }

    /// The summary line's search: the CNF searched, with the clauses learnt where
    /// counted, or the table search, or that no CNF was built.
    fn search(&self) -> String {
        if self.variables > 0 {
            let mut s = format!(
                "CNF of {} variables and {} clauses",
                self.variables, self.clauses
            );
            if let Some(learned) = self.learned {
                s.push_str(&format!(", {learned} learnt clauses"));
            }
            s
        } else if let Some(tables) = self.tables {
            format!("table search over {tables} tables")
        } else {
            "no CNF built".to_string()
        }
    }

    /// The summary line's time: the seconds, or the timeout and where it struck.
    fn time(&self) -> String {
        let seconds = self.seconds();
        if !self.timed_out {
            return format!("{seconds:.3} s");
        }
        match self.stopped_in.as_deref() {
            Some(phase) if phase.ends_with("ing") || phase.contains("ing ") => {
                format!("timed out after {seconds:.3} s while {phase}")
            }
            Some(phase) => format!("timed out after {seconds:.3} s in the {phase}"),
            None => format!("timed out after {seconds:.3} s"),
        }
    }

    /// Seconds spent in all stages together.
    pub fn seconds(&self) -> f64 {
        self.preprocess_seconds
            + self.propagate_seconds
            + self.local_search_seconds
            + self.warm_start_seconds
            + self.encode_seconds
            + self.solve_seconds
            + self.unique_seconds
            + self.check_seconds
            + self.certify_seconds
            + self.identify_seconds
    }
}

/// The answer to one instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Solution {
    /// sat, unsat or unknown.
    pub status: Status,
    /// A consistent partition in canonical form (when sat).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Vec<u32>>>))]
    pub partition: Option<Partition>,
    /// The observed cells of `partition` and their values (when sat).
    pub table: Option<Vec<TableEntry>>,
    /// Whether `partition` is the only consistent one up to renaming (null if not asked or not decided).
    pub unique: Option<bool>,
    /// Consistent partitions found, up to the limit asked for (null if not asked).
    pub count: Option<u64>,
    /// True when `count` is the exact total, false when it is a lower bound.
    pub count_complete: Option<bool>,
    /// A second consistent partition, when `unique` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Vec<u32>>>))]
    pub witness: Option<Partition>,
    /// Sizes and timings.
    pub stats: Stats,
    /// The proof of the claim the answer makes (`unsat`, `unique`, a complete count),
    /// when certification was asked for ([`crate::proof`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<crate::proof::claim::Certified>,
    /// With `--identify`: per group, a block id per token, shared exactly by tokens in
    /// the same class in every consistent partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identified: Option<Vec<Vec<u32>>>,
    /// With `--identify`: per group and token, whether it is pinned: its identified
    /// block is in the group's frame (blocks that no consistent partition puts in one
    /// class, the largest first, as many as the group has classes), so it is in the
    /// class of the same frame block in every consistent partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<Vec<Vec<bool>>>,
    /// With `--identify`: per group, the frame's blocks (token ids), the largest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<Vec<Vec<Vec<u32>>>>,
    /// With `--identify`: per group, how many tokens are pinned, free and unobserved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_counts: Option<Vec<PinnedCounts>>,
    /// When the instance names its tokens: per group, each class of `partition` as the
    /// list of its tokens' names (classes in order, tokens in id order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<Vec<Vec<String>>>>,
    /// When the instance names its tokens and `identified` is given: per group, each
    /// identified block as the list of its tokens' names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identified_names: Option<Vec<Vec<Vec<String>>>>,
    /// When the instance names its tokens and `frame` is given: per group, each frame
    /// block as the list of its tokens' names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_names: Option<Vec<Vec<Vec<String>>>>,
    /// With `--max-consistent`: what the partition drops and whether that is optimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_consistent: Option<MaxReport>,
}

/// A group's tokens by what the data says of them (`solve --identify`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PinnedCounts {
    /// Tokens whose block is in the frame.
    pub pinned: u64,
    /// Observed tokens that are not pinned.
    pub free: u64,
    /// Tokens in no sample (free, unless the group has one class: then pinned).
    pub unobserved: u64,
}

/// The outcome of a maximum-consistency search (`solve --max-consistent`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MaxReport {
    /// Total weight of the samples the partition violates (1 per sample unweighted).
    pub cost: u64,
    /// A proven lower bound on the least cost of any partition.
    pub lower_bound: u64,
    /// Whether `cost` is proven least (`cost == lower_bound`).
    pub optimal: bool,
    /// Indices of the violated samples: drop them and the partition is consistent.
    pub dropped: Vec<usize>,
    /// Unsatisfiable cores found on the way.
    pub cores: usize,
}

/// Per group, each class of `partition` as the names of its tokens (ids where the
/// instance has no names), classes numbered as in `partition`.
pub fn class_names(
    instance: &partrec_core::model::instance::Instance,
    partition: &[Vec<u32>],
) -> Vec<Vec<Vec<String>>> {
    partition
        .iter()
        .enumerate()
        .map(|(g, row)| {
            let classes = row.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
            let mut out = vec![Vec::new(); classes];
            for (t, &c) in row.iter().enumerate() {
                out[c as usize].push(instance.token_name(g, t as u32));
            }
            out
        })
        .collect()
}

/// Names shown in a summary line at most (more: see the JSON).
const SHOWN_NAMES: usize = 200;

/// Characters of class lists shown in a summary line at most (more: see the JSON).
const SHOWN_CHARS: usize = 4000;

impl Solution {
    /// Marks this answer's claims unproven, as a stop before they were settled (or
    /// certified) leaves them: unsat becomes unknown, a complete count a lower bound,
    /// uniqueness undecided; the answer is marked timed out.
    pub fn withdraw_claims(&mut self) {
        if self.status == Status::Unsat {
            self.status = Status::Unknown;
            self.stats.unsat_reason = None;
        }
        if self.count_complete == Some(true) {
            self.count_complete = Some(false);
        }
        if self.unique == Some(true) {
            self.unique = None;
        }
        self.stats.timed_out = true;
    }

    /// An empty answer with the given status.
    pub fn new(status: Status) -> Self {
        Solution {
            status,
            partition: None,
            table: None,
            unique: None,
            count: None,
            count_complete: None,
            witness: None,
            stats: Stats::default(),
            certificate: None,
            identified: None,
            pinned: None,
            frame: None,
            pinned_counts: None,
            frame_names: None,
            names: None,
            identified_names: None,
            max_consistent: None,
        }
    }

    /// A one-line human summary.
    pub fn summary(&self) -> String {
        let mut s = format!("{:?}", self.status).to_lowercase();
        match self.unique {
            Some(true) => s.push_str(", unique"),
            Some(false) => s.push_str(", not unique"),
            None => {}
        }
        if let (Some(n), Some(complete)) = (self.count, self.count_complete) {
            match (complete, n) {
                (true, 1) => s.push_str(", 1 consistent partition"),
                (true, n) => s.push_str(&format!(", {n} consistent partitions")),
                (false, 0) => {}
                (false, n) => s.push_str(&format!(", at least {n} consistent partitions")),
            }
        }
        let st = &self.stats;
        if st.samples == 0 && st.timed_out {
            s.push_str("; the deadline struck before any answer");
        } else {
            s.push_str(&format!("; {}; {}; {}", st.sizes(), st.search(), st.time()));
        }
        if let Some(m) = &self.max_consistent {
            s.push_str(&format!(
                "; drops {} samples (cost {}{}, lower bound {})",
                m.dropped.len(),
                m.cost,
                if m.optimal {
                    ", optimal"
                } else {
                    ", not proven optimal"
                },
                m.lower_bound
            ));
        }
        if let Some(names) = &self.names {
            let total: usize = names.iter().flatten().map(Vec::len).sum();
            if total <= SHOWN_NAMES {
                let groups: Vec<String> = names
                    .iter()
                    .enumerate()
                    .map(|(g, classes)| {
                        let list: Vec<String> = classes
                            .iter()
                            .map(|c| {
                                let names: Vec<String> = c.iter().map(|n| shown_name(n)).collect();
                                format!("{{{}}}", names.join(", "))
                            })
                            .collect();
                        format!("group {g}: {}", list.join(" "))
                    })
                    .collect();
                let text = groups.join("; ");
                if text.len() <= SHOWN_CHARS {
                    s.push_str(&format!("; classes: {text}"));
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> Stats {
        Stats {
            samples: 816,
            distinct_samples: 9,
            observed_tokens: vec![30, 30],
            decided_tokens: Some(vec![30, 30]),
            variables: 24,
            clauses: 84,
            solve_seconds: 0.25,
            ..Stats::default()
        }
    }

    #[test]
    fn the_summary_says_what_each_count_counts() {
        let mut s = Solution::new(Status::Sat);
        s.unique = Some(true);
        (s.count, s.count_complete) = (Some(1), Some(true));
        s.stats = stats();
        assert_eq!(
            s.summary(),
            "sat, unique, 1 consistent partition; 816 samples, 9 distinct after merging the \
             60 tokens whose class propagation decided; CNF of 24 variables and 84 clauses; 0.250 s"
        );
        // Propagation deciding fewer than half the tokens: the instance is searched.
        s.stats.decided_tokens = Some(vec![10, 19]);
        assert!(
            s.summary().contains("816 samples, 9 distinct; CNF"),
            "{}",
            s.summary()
        );
        s.stats.decided_tokens = None;
        assert!(
            s.summary().contains("816 samples, 9 distinct; CNF"),
            "{}",
            s.summary()
        );
    }

    #[test]
    fn a_timeout_summary_says_where_it_struck_and_what_was_searched() {
        let mut s = Solution::new(Status::Unknown);
        (s.count, s.count_complete) = (Some(0), Some(false));
        s.stats = Stats {
            decided_tokens: Some(vec![2, 1]),
            learned: Some(42922),
            timed_out: true,
            stopped_in: Some("searching".into()),
            ..stats()
        };
        assert_eq!(
            s.summary(),
            "unknown; 816 samples, 9 distinct; CNF of 24 variables and 84 clauses, 42922 \
             learnt clauses; timed out after 0.250 s while searching"
        );
        s.stats.variables = 0;
        s.stats.stopped_in = Some("local search".into());
        assert!(
            s.summary()
                .ends_with("no CNF built; timed out after 0.250 s in the local search"),
            "{}",
            s.summary()
        );
        (s.count, s.count_complete) = (Some(3), Some(false));
        assert!(s
            .summary()
            .starts_with("unknown, at least 3 consistent partitions; "));
    }
}
