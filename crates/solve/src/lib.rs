//! The solve driver: prepare, encode into varisat, solve, decode, check, and
//! keep solving with blocking clauses to decide uniqueness or count partitions.
//!
//! The user's manual for this part is `docs/solving.md` in the repository.
//!
//! Counting works on the observed tokens (each partition of them has exactly
//! one model, see [`crate::encode`](mod@crate::encode)); free tokens are accounted for exactly by
//! [`free_extensions`]. Every partition reported (the answer and the witness)
//! has passed [`partrec_core::check::check`]; a failure there is an internal error,
//! never output. `unsat` is reported only when the solver finished its search
//! (or two samples with the same tokens disagree, which is a proof by itself).
//!
//! ```
//! use partrec_core::model::instance::Instance;
//! use partrec_solve::solution::Status;
//! use partrec_solve::{solve, SolveOptions};
//!
//! // Token 1 of group 0 is told apart by its values; the answer is unique.
//! let text = r#"{"groups": [{"tokens": 2, "classes": 2}, {"tokens": 2, "classes": 1}],
//!                "samples": [{"x": [0, 0], "y": "a"}, {"x": [1, 1], "y": "b"},
//!                            {"x": [0, 1], "y": "a"}]}"#;
//! let instance = Instance::from_json(text.as_bytes(), "example")?;
//! let solution = solve(&instance, &SolveOptions::unique(), &mut |_| {})?;
//! assert_eq!(solution.status, Status::Sat);
//! assert_eq!(solution.unique, Some(true));
//! # Ok::<(), partrec_core::error::Error>(())
//! ```

pub mod budget;
pub mod clique;
pub mod count;
pub mod decode;
pub mod dimacs;
pub mod driver;
pub mod encode;
pub mod explain;
pub mod identify;
pub mod kmeans;
pub mod local_search;
pub mod maxsat;
pub mod options;
pub mod portfolio;
pub mod preprocess;
pub mod proof;
pub mod propagate;
pub mod solution;
pub mod table;
pub mod warm;

pub use budget::estimate_memory;
pub use count::{free_extensions, free_placements};
pub use decode::observed_table;
pub use driver::{solve, solve_with};
pub use options::{
    LocalSearch, SolveOptions, Strategy, AUTO_SAMPLES, LOCAL_SEARCH_MIN_STEPS,
    LOCAL_SEARCH_MIN_TOKENS, LOCAL_SEARCH_WORK,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solution::Status;
    use partrec_core::check::check;
    use partrec_core::model::instance::Instance;

    #[test]
    fn free_placements_counts_restricted_set_partitions() {
        // 2 free tokens, nothing else, at most 2 classes: {ab}, {a}{b}.
        assert_eq!(free_placements(2, 0, 2, 100), 2);
        // 3 free tokens, at most 3 classes: Bell(3) = 5.
        assert_eq!(free_placements(3, 0, 3, 100), 5);
        // 1 free token beside 2 used classes of at most 3: join either or open a third.
        assert_eq!(free_placements(1, 2, 3, 100), 3);
        // Nothing free: exactly one way.
        assert_eq!(free_placements(0, 2, 3, 100), 1);
        // Capped.
        assert_eq!(free_placements(20, 0, 5, 7), 7);
    }

    /// The recurrence over every class count and every free token, as first written.
    fn naive_placements(free: usize, used: usize, max: usize, cap: u64) -> u64 {
        let mut ways = vec![1u64; max + 1];
        for _ in 0..free {
            ways = (0..=max)
                .map(|m| {
                    let stay = (m as u64).saturating_mul(ways[m]);
                    let open = if m < max { ways[m + 1] } else { 0 };
                    stay.saturating_add(open).min(cap)
                })
                .collect();
        }
        ways[used.min(max)]
    }

    #[test]
    fn free_placements_agree_with_the_full_recurrence() {
        for cap in [1, 2, 5, 1000, u64::MAX] {
            for max in 1..=7 {
                for used in 0..=max {
                    for free in [0, 1, 2, 3, 5, 8, 70, 129, 300] {
                        assert_eq!(
                            free_placements(free as u64, used, max, cap),
                            naive_placements(free, used, max, cap),
                            "free {free} used {used} max {max} cap {cap}"
                        );
                    }
                }
            }
        }
        // Declared sizes far beyond the data cost nothing.
        assert_eq!(
            free_placements(u64::from(u32::MAX), 1, u32::MAX as usize, 2),
            2
        );
        assert_eq!(free_placements(u64::from(u32::MAX), 1, 1, u64::MAX), 1);
    }

    fn instance(text: &str) -> Instance {
        Instance::from_json(text.as_bytes(), "t").unwrap()
    }

    #[test]
    fn finds_counts_and_checks() {
        // Group 1 token 2 is free; group 0 is forced into two classes.
        let inst = instance(
            r#"{"groups": [{"tokens": 2, "classes": 2}, {"tokens": 3, "classes": 2}],
                "samples": [{"x": [0, 0], "y": 0}, {"x": [1, 0], "y": 1}, {"x": [0, 1], "y": 0}]}"#,
        );
        let sol = solve(&inst, &SolveOptions::count(100), &mut |_| {}).unwrap();
        assert_eq!(sol.status, Status::Sat);
        // Group 1: tokens 0,1 together or apart (2), token 2 anywhere: {012},{01}{2} | {02}{1},{0}{12}: 4.
        assert_eq!(sol.count, Some(4));
        assert_eq!(sol.count_complete, Some(true));
        assert_eq!(sol.unique, Some(false));
        let w = sol.witness.unwrap();
        assert!(check(&inst, &w).unwrap().consistent);
        assert_ne!(w, sol.partition.unwrap());
    }

    #[test]
    fn contradiction_is_unsat_without_search() {
        let inst = instance(
            r#"{"groups": [{"tokens": 2, "classes": 2}], "samples": [{"x": [1], "y": 0}, {"x": [1], "y": "0"}]}"#,
        );
        let sol = solve(&inst, &SolveOptions::unique(), &mut |_| {}).unwrap();
        assert_eq!(sol.status, Status::Unsat);
        assert_eq!(sol.stats.solver_calls, 0);
        assert!(sol.stats.unsat_reason.unwrap().contains("samples 0 and 1"));
    }

    #[test]
    fn too_few_classes_is_unsat_by_search() {
        // Three tokens that pairwise must differ, two classes.
        let inst = instance(
            r#"{"groups": [{"tokens": 3, "classes": 2}, {"tokens": 3, "classes": 3}],
                "samples": [{"x": [0, 0], "y": 0}, {"x": [1, 0], "y": 1}, {"x": [1, 1], "y": 0},
                            {"x": [2, 1], "y": 1}, {"x": [2, 2], "y": 0}, {"x": [0, 2], "y": 1}]}"#,
        );
        let sol = solve(&inst, &SolveOptions::unique(), &mut |_| {}).unwrap();
        assert_eq!(sol.status, Status::Unsat);
        assert_eq!(sol.count, Some(0));
    }
}
