//! `partrec sweep`: a sample-count experiment, and `sweep merge` of its shards.

use crate::cli::common::{after_help, cores, own_exe, BackendArg, MethodChoice, Quiet};
use crate::cli::live;
use clap::{Args, Subcommand};
use partrec::experiment::plot::plot;
use partrec::experiment::resume::Start;
use partrec::experiment::summary::table as summary_table;
use partrec::experiment::sweep::{
    canonical, merge, run as sweep_run, write_rows, Method, Row, RowFile, RowWriter, SweepConfig,
};
use partrec::io::output::{check_output, write_text};
use partrec::sat::control::parse_seconds;
use partrec::sat::Control;
use partrec::solve::SolveOptions;
use partrec::{Error, Instance, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The most worker threads a sweep may ask for.
const MAX_JOBS: usize = 1024;

/// `partrec sweep` flags.
#[derive(Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = after_help!(
        "  partrec sweep --tokens 50,100 --classes 3 --ratios 1,2,4,8 --trials 5 -o rows.csv --plot rows.svg\n  partrec sweep --tokens 100 --classes 3 --ratios 2,4,8,16 --trials 3 --zipf 1 -o zipf.csv\n  partrec sweep --tokens 50 --classes 3 --ratios 1,2 --trials 4 --shard 0/2 -o shard-0.csv\n  partrec sweep --tokens 50 --classes 3 --ratios 1,2 --trials 4 --shard 1/2 -o shard-1.csv\n  partrec sweep merge shard-0.csv shard-1.csv -o all.csv",
        "Exit codes:\n   0  success (timeouts are rows like any other)"
    )
)]
pub struct SweepArgs {
    #[command(subcommand)]
    merge: Option<SweepCmd>,
    /// Number of groups I.
    #[arg(long, default_value_t = 2)]
    groups: usize,
    /// Tokens per group N; several values make one curve each.
    #[arg(long, value_delimiter = ',', required = true)]
    tokens: Vec<u32>,
    /// Classes per group K.
    #[arg(long, required = true)]
    classes: Option<u32>,
    /// Number of values V.
    #[arg(long, default_value_t = 2)]
    values: u32,
    /// Sample ratios C: S = round(C N ln N).
    #[arg(
        long,
        value_delimiter = ',',
        required = true,
        allow_negative_numbers = true
    )]
    ratios: Vec<f64>,
    /// Trials per (N, ratio).
    #[arg(long, default_value_t = 10)]
    trials: u32,
    /// Master seed; each point's seed is derived from (SEED, N, ratio, trial).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Flip each value with probability P (as `generate --noise`); the exact method
    /// then finds the partitions violating the fewest samples (`solve --max-consistent`)
    /// and rows record `noise` and the samples `dropped`.
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    noise: Option<f64>,
    /// Token frequencies by Zipf's law (as `generate --zipf`): token r of every group
    /// (0 the most frequent) drawn with probability proportional to (r + 1)^-S, as words
    /// are (S near 1); uniform without it. Rows record `zipf` (empty for uniform).
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    zipf: Option<f64>,
    /// Methods run on every instance: sat (exact, with uniqueness), gd (the gradient method).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "sat")]
    method: Vec<MethodChoice>,
    /// Per-point wall-clock limit in seconds for `sat`; a point past it is a row that
    /// says `timed_out`.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 60.0,
        allow_negative_numbers = true
    )]
    timeout: f64,
    #[command(flatten)]
    backend: BackendArg,
    /// Worker threads (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Row file (.csv, or .jsonl for JSON lines); rows are appended as they finish.
    #[arg(short, long, alias = "out", value_name = "FILE")]
    output: Option<PathBuf>,
    /// SVG file of the plots: P(recovered), median time, P(unique) and decided.
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Run every n-th point only, as i/n (0 <= i < n); combine shards with `sweep merge`.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Skip the points already in the row file (-o).
    #[arg(long, requires = "output")]
    resume: bool,
}

#[derive(Subcommand)]
enum SweepCmd {
    /// Combine row files (shards) into one, sorted, and print its summary.
    ///
    /// The combined file holds one row per point and method, and the summary describes
    /// exactly its rows. A row that cannot be true, or two different rows for one point,
    /// is refused before anything is written.
    Merge {
        /// Row files to combine.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The combined row file.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// SVG file of the plots: P(recovered), median time, P(unique) and decided.
        #[arg(long, value_name = "FILE")]
        plot: Option<PathBuf>,
    },
}

/// `i/n` of `--shard`.
fn parse_shard(text: &str) -> Result<(usize, usize)> {
    text.split_once('/')
        .and_then(|(i, n)| Some((i.parse().ok()?, n.parse().ok()?)))
        .ok_or_else(|| Error::Usage(format!("--shard must look like i/n, got {text:?}")))
}

/// Writes the rows (sorted, one per point and method: [`canonical`]) and the plot, and
/// prints the summary table of exactly the rows written.
fn finish(rows: Vec<Row>, out: Option<&Path>, plot_path: Option<&Path>) -> Result<i32> {
    let rows = canonical(rows);
    if let Some(out) = out {
        write_rows(out, &rows)?;
    }
    if let Some(p) = plot_path {
        plot(&rows, p)?;
    }
    write_text(None, summary_table(&rows).trim_end())?;
    Ok(0)
}

/// Merges row files into one.
fn run_merge(files: &[PathBuf], output: &Path, plot: Option<&Path>) -> Result<i32> {
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let inputs: Vec<&str> = names.iter().map(String::as_str).collect();
    check_output(output.to_str(), &inputs, "-o/--output")?;
    let mut taken = inputs.clone();
    taken.extend(output.to_str());
    check_output(plot.and_then(Path::to_str), &taken, "--plot")?;
    let mut read = Vec::new();
    for f in files {
        if !f.exists() {
            return Err(Error::input(f.display(), "no such row file"));
        }
        read.push(RowFile::read(f)?);
    }
    finish(merge(&read)?, Some(output), plot)
}

/// Runs the sweep (or merges shards), then prints the summary.
pub fn run(a: SweepArgs, quiet: Quiet) -> Result<i32> {
    if let Some(SweepCmd::Merge {
        files,
        output,
        plot,
    }) = &a.merge
    {
        return run_merge(files, output, plot.as_deref());
    }
    if a.jobs.is_some_and(|j| !(1..=MAX_JOBS).contains(&j)) {
        return Err(Error::Usage(format!("--jobs must be from 1 to {MAX_JOBS}")));
    }
    let out_name = a.output.as_deref().and_then(Path::to_str);
    check_output(out_name, &[], "-o/--output")?;
    check_output(
        a.plot.as_deref().and_then(Path::to_str),
        out_name.as_slice(),
        "--plot",
    )?;
    let config = SweepConfig {
        groups: a.groups,
        tokens: a.tokens,
        classes: a.classes.expect("required"),
        values: a.values,
        ratios: a.ratios,
        trials: a.trials,
        seed: a.seed,
        shard: a.shard.as_deref().map(parse_shard).transpose()?,
        methods: a.method.into_iter().map(Method::from).collect(),
        noise: a.noise.unwrap_or(0.0),
        zipf: a.zipf,
    };
    config.validate()?;
    let timeout: Duration = parse_seconds(a.timeout, "timeout")?;
    let Start { mut rows, done } = Start::prepare(&config, a.output.as_deref(), a.resume)?;
    let exe = own_exe()?;
    let options = SolveOptions {
        backend: a.backend.get(),
        max_consistent: config.noise > 0.0,
        ..SolveOptions::unique()
    };
    let solver = |inst: &Instance| {
        let control = Control::with_timeout(Some(timeout));
        partrec::worker::solve(inst, &options, &control, Some(&exe), &mut |_| {})
    };
    // No more threads than points to run.
    let jobs = a
        .jobs
        .unwrap_or_else(cores)
        .min(config.points().len().max(1));
    let mut writer = a.output.as_deref().map(RowWriter::append).transpose()?;
    let bar = live::bar(config.points().len() * config.methods.len(), quiet.live());
    bar.set_position(done.len() as u64);
    let mut timeouts = rows.iter().filter(|r| r.timed_out).count();
    let new_rows = sweep_run(&config, &done, jobs, &solver, &mut |row| {
        timeouts += usize::from(row.timed_out);
        bar.inc(1);
        bar.set_message(format!("{timeouts} timeouts"));
        writer.as_mut().map_or(Ok(()), |w| w.write(row))
    })?;
    bar.finish_and_clear();
    rows.extend(new_rows);
    finish(rows, a.output.as_deref(), a.plot.as_deref())
}
