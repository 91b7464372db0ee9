//! `partrec learn`: the paper's gradient method, answers through the checker.

use crate::cli::common::{after_help, timeout, JsonOutput, Quiet};
use crate::cli::live;
use clap::Args;
use partrec::baseline::learn::{learn_with_progress, LearnOptions};
use partrec::{Instance, Result};
use std::time::Instant;

/// `partrec learn` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec learn instances/planted-small.json\n  partrec learn instances/three-groups.json --dim 27 --seed 3 --timeout 10 --pretty",
    "Exit codes:\n  10  sat: the learned partition is consistent with every sample (checked)\n  20  unsat: preprocessing refuted the instance\n   0  unknown: the learned partition is not consistent (it is under `candidate`)"
))]
pub struct LearnArgs {
    /// Instance file (`-` for standard input).
    instance: String,
    /// Embedding width D (default: 2 x the largest K).
    #[arg(long)]
    dim: Option<usize>,
    /// Most full-batch Adam steps (training stops earlier on a loss plateau).
    #[arg(long, default_value_t = 4000)]
    steps: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 0.03, allow_negative_numbers = true)]
    lr: f64,
    /// L2 weight on all parameters [default: 1e-2 / N, N = the most observed tokens in a group].
    #[arg(long, allow_negative_numbers = true)]
    lambda: Option<f64>,
    /// k-means++ restarts per group.
    #[arg(long, default_value_t = 10)]
    restarts: usize,
    /// Seed of the initial embeddings and the clustering.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Wall-clock limit on training in seconds; the model reached by then is clustered and checked.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    timeout: Option<f64>,
    #[command(flatten)]
    json: JsonOutput,
}

/// Trains, clusters, checks; writes the report and a summary line.
pub fn run(a: LearnArgs, quiet: Quiet) -> Result<i32> {
    a.json.out.check(&[&a.instance])?;
    let time_limit = timeout(a.timeout)?;
    let options = LearnOptions {
        dim: a.dim,
        steps: a.steps,
        lr: a.lr,
        lambda: a.lambda,
        restarts: a.restarts,
        seed: a.seed,
        time_limit,
        ..LearnOptions::default()
    };
    options.validate()?;
    let instance = Instance::read(&a.instance)?;
    let bar = live::status(quiet.live());
    let start = Instant::now();
    let report = learn_with_progress(
        &instance,
        &options,
        &partrec::sat::Control::new(),
        &mut |step, loss| {
            bar.set_message(format!(
                "training: step {step}/{}, loss {loss:.3e}, {:.1} s",
                a.steps,
                start.elapsed().as_secs_f64()
            ));
        },
    )?;
    bar.finish_and_clear();
    a.json.write(&report)?;
    quiet.summary(&a.instance, report.summary());
    Ok(report.status.exit_code())
}
