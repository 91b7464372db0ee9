//! Memory a solve will need, estimated before anything large is built, and the
//! refusals when it exceeds the budget.

use crate::encode;
use crate::options::{SolveOptions, Strategy};
use crate::preprocess::Prepared;
use partrec_core::error::Result;
use partrec_core::model::instance::Instance;

/// What preprocessing holds for `samples` samples of `arity` tokens beside the instance.
pub(crate) fn prepare_bytes(samples: usize, arity: usize) -> u64 {
    (samples as u64)
        .saturating_mul(PREPARE_BYTES_PER_TOKEN * arity as u64 + PREPARE_BYTES_PER_SAMPLE)
}

/// What preprocessing holds per sample beside the instance: compact token copies,
/// sort keys and indices (bytes per token of a sample, and per sample).
pub(crate) const PREPARE_BYTES_PER_TOKEN: u64 = 16;
/// See [`PREPARE_BYTES_PER_TOKEN`].
pub(crate) const PREPARE_BYTES_PER_SAMPLE: u64 = 48;

/// Bytes an answer takes per declared token (it lists a class for each), measured at
/// peak on 20 million declared tokens: 6 for a partition, 16 with a witness, 24 with
/// identify, 30 with both (the answer, its copies for progress and its JSON text).
pub(crate) const ANSWER_BYTES_PER_TOKEN: u64 = 8;
/// See [`ANSWER_BYTES_PER_TOKEN`]: more with a witness (uniqueness or counting).
pub(crate) const WITNESS_BYTES_PER_TOKEN: u64 = 12;
/// See [`ANSWER_BYTES_PER_TOKEN`]: more with identify.
pub(crate) const IDENTIFY_BYTES_PER_TOKEN: u64 = 20;

/// Refuses an answer whose per-token lists would not fit the memory budget: an
/// instance may declare far more tokens than it observes, and the answer lists each.
pub(crate) fn afford_answer(instance: &Instance, options: &SolveOptions) -> Result<()> {
    let budget = options
        .max_memory
        .unwrap_or_else(partrec_core::memory::budget);
    partrec_core::memory::afford_within(answer_bytes(instance, options), budget, || {
        format!(
            "an answer listing {} declared tokens",
            declared_tokens(instance)
        )
    })
}

/// Tokens the instance declares, over all groups.
fn declared_tokens(instance: &Instance) -> u64 {
    instance.groups().iter().map(|g| u64::from(g.tokens)).sum()
}

/// The bytes of an answer that lists a class for every declared token.
fn answer_bytes(instance: &Instance, options: &SolveOptions) -> u64 {
    let per_token = ANSWER_BYTES_PER_TOKEN
        + WITNESS_BYTES_PER_TOKEN * u64::from(options.limit > 1)
        + IDENTIFY_BYTES_PER_TOKEN * u64::from(options.identify);
    declared_tokens(instance).saturating_mul(per_token)
}

/// Refuses a search whose encodings, each of `size` (see [`encode::estimate`]), would
/// not fit the memory budget (one per portfolio member, the renamed member's held-back
/// clauses too), before any is built.
pub(crate) fn afford_search(
    size: encode::Size,
    options: &SolveOptions,
    strategy: Strategy,
) -> Result<()> {
    let budget = options
        .max_memory
        .unwrap_or_else(partrec_core::memory::budget);
    partrec_core::memory::afford_within(search_bytes(size, options, strategy), budget, || {
        if strategy == Strategy::Portfolio {
            format!("two encodings (about {} clauses each)", size.clauses)
        } else {
            format!("the encoding (about {} clauses)", size.clauses)
        }
    })
}

/// The bytes the encodings of a search with `strategy` hold, each of `size`: one per
/// portfolio member, plus the held-back clauses of a renamed formula.
pub(crate) fn search_bytes(size: encode::Size, options: &SolveOptions, strategy: Strategy) -> u64 {
    use partrec_sat::Footprint;
    let solver = options.backend.footprint();
    let renamed = solver.plus(Footprint::CNF);
    let footprint = match (strategy, options.seed) {
        (Strategy::Table, _) => Footprint::CNF,
        (Strategy::Portfolio, _) => solver.plus(renamed),
        (_, Some(_)) => renamed,
        _ => solver,
    };
    size.bytes(footprint)
}

/// An upper bound on the memory a solve of `instance` with `options` holds, from one
/// pass over its samples and before anything is built: preprocessing, the encodings
/// of the search (as for a portfolio whenever one may run), without the shrinking
/// class propagation may bring, and the answer's per-token lists. For callers that
/// place solves by their size (a server admitting solves while their estimates fit
/// its budget, and confining large ones to a child process); a solve records it in
/// [`Stats::memory_estimate`](crate::solution::Stats::memory_estimate).
pub fn estimate_memory(instance: &Instance, options: &SolveOptions) -> u64 {
    estimate_with(instance, options, encode::Shape::bound(instance))
}

/// [`estimate_memory`] with the instance's `shape` bound already made (see
/// [`encode::Shape::bound_observed`]).
pub(crate) fn estimate_with(
    instance: &Instance,
    options: &SolveOptions,
    shape: encode::Shape,
) -> u64 {
    let arity = instance.arity();
    let preprocessing = prepare_bytes(instance.num_samples(), arity);
    let size = shape.size(options.projection, false);
    let strategy = match options.strategy {
        Strategy::Auto if arity >= 3 && options.backend.interruptible() => Strategy::Portfolio,
        Strategy::Auto => Strategy::Cdcl,
        s => s,
    };
    preprocessing
        .saturating_add(search_peak(size, options, strategy))
        .saturating_add(answer_bytes(instance, options))
}

/// What the rest of a solve holds at most once propagation is done and the searched
/// instance is prepared (`prep`, its encodings each of `size`, searched with
/// `strategy`): the prepared samples, the encodings, and the answer of `instance`. A
/// solve records it in
/// [`Stats::search_memory_estimate`](crate::solution::Stats::search_memory_estimate).
pub(crate) fn search_memory(
    instance: &Instance,
    prep: &Prepared,
    size: encode::Size,
    options: &SolveOptions,
    strategy: Strategy,
) -> u64 {
    prepare_bytes(prep.len(), instance.arity())
        .saturating_add(search_peak(size, options, strategy))
        .saturating_add(answer_bytes(instance, options))
}

/// The peak of a search's encodings of `size`: their footprint with the margin.
fn search_peak(size: encode::Size, options: &SolveOptions, strategy: Strategy) -> u64 {
    search_bytes(size, options, strategy) / 2 * SEARCH_PEAK_MARGIN
}

/// The encodings' peak over their footprint, in halves: with few samples per token,
/// propagation decides little, the search learns many clauses, and the peak measured
/// (`benches/memory.sh`: 1.47 GB for an encoding of 10 million clauses estimated at
/// 1.1 GB) exceeds the footprint by up to 1.3 times.
const SEARCH_PEAK_MARGIN: u64 = 3;

#[cfg(test)]
mod tests {
    use super::*;
    use partrec_core::model::instance::Instance;

    #[test]
    fn a_solve_records_the_estimate_a_server_makes_before_it() {
        let text = r#"{"groups": [{"tokens": 5, "classes": 2}, {"tokens": 4, "classes": 3}],
                       "samples": [{"x": [0, 0], "y": "a"}, {"x": [1, 3], "y": "b"},
                                   {"x": [4, 1], "y": "a"}, {"x": [0, 3], "y": "c"}]}"#;
        let instance = Instance::from_json(text.as_bytes(), "t").unwrap();
        for options in [SolveOptions::find(), SolveOptions::unique()] {
            let solution = crate::solve(&instance, &options, &mut |_| {}).unwrap();
            let before = estimate_memory(&instance, &options);
            assert!(before > 0);
            assert_eq!(solution.stats.memory_estimate, Some(before));
        }
    }
}
