//! `partrec check`: judge a candidate solution with the independent checker.

use crate::cli::common::{after_help, JsonOutput, Quiet};
use clap::Args;
use partrec::check::{judge, Candidate};
use partrec::io::input::read_input;
use partrec::{Instance, Result};

/// `partrec check` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec solve instances/planted-small.json -o answer.json\n  partrec check instances/planted-small.json answer.json",
    "Exit codes:\n   0  consistent: every sample agrees with the partition (and the witness)\n   1  inconsistent (the report lists the conflicts), or an internal error",
    shares_1
))]
pub struct CheckArgs {
    /// Instance file (`-` for standard input).
    instance: String,
    /// Solution file; only its `partition` (and optional `witness`) is read.
    solution: String,
    #[command(flatten)]
    json: JsonOutput,
}

/// Judges the candidate, prints the report and a summary line.
pub fn run(a: CheckArgs, quiet: Quiet) -> Result<i32> {
    a.json.out.check(&[&a.instance, &a.solution])?;
    let instance = Instance::read(&a.instance)?;
    let candidate = Candidate::from_json(&read_input(&a.solution)?, &a.solution)?;
    let judgement = judge(&instance, &candidate, &a.solution)?;
    a.json.write(&judgement)?;
    quiet.summary(&a.solution, judgement.summary(&instance));
    Ok(judgement.exit_code())
}
