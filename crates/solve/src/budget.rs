//! Memory a solve will need, estimated before anything large is built, and the
//! refusals when it exceeds the budget.

use crate::encode;
use crate::options::{SolveOptions, Strategy};
use crate::preprocess::Prepared;
use partrec_core::error::Result;
use partrec_core::model::instance::Instance;

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

/// Refuses a search whose encodings would not fit the memory budget (one per portfolio
/// member, the renamed member's held-back clauses too), before any is built.
pub(crate) fn afford_search(
    prep: &Prepared,
    options: &SolveOptions,
    strategy: Strategy,
) -> Result<()> {
    let size = encode::estimate(prep, options.projection, false);
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
    let (samples, arity) = (instance.num_samples() as u64, instance.arity() as u64);
    let preprocessing =
        samples.saturating_mul(PREPARE_BYTES_PER_TOKEN * arity + PREPARE_BYTES_PER_SAMPLE);
    let size = encode::Shape::bound(instance).size(options.projection, false);
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
/// instance is prepared (`prep`, searched with `strategy`): the prepared samples, the
/// encodings, and the answer of `instance`. Never more than [`estimate_memory`]'s
/// bound for the whole solve, which also covers preprocessing before propagation; a
/// solve records it in
/// [`Stats::search_memory_estimate`](crate::solution::Stats::search_memory_estimate).
pub(crate) fn search_memory(
    instance: &Instance,
    prep: &Prepared,
    options: &SolveOptions,
    strategy: Strategy,
) -> u64 {
    let arity = instance.arity() as u64;
    let prepared = (prep.len() as u64)
        .saturating_mul(PREPARE_BYTES_PER_TOKEN * arity + PREPARE_BYTES_PER_SAMPLE);
    let size = encode::estimate(prep, options.projection, false);
    prepared
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
