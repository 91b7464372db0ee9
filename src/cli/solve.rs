//! `partrec solve`: find a consistent partition, decide uniqueness, count.

use crate::cli::common::{
    after_help, own_exe, timeout, BackendArg, JsonOutput, Quiet, StrategyChoice,
};
use crate::cli::live;
use clap::Args;
use partrec::io::output::check_apart;
use partrec::solve::SolveOptions;
use partrec::{Instance, Result};
use std::path::Path;

/// `partrec solve` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec solve instances/planted-small.json --unique\n  partrec solve instances/not-unique.json --count 10 --timeout 5 --pretty -o answer.json\n  partrec solve instances/k4-3colors.json --certify cert && partrec verify-certificate instances/k4-3colors.json cert",
    "Exit codes (the SAT-competition convention):\n  10  sat: a consistent partition was found and checked\n  20  unsat: a complete search proved there is none\n   0  unknown (timeout)"
))]
pub struct SolveArgs {
    /// Instance file (`-` for standard input).
    instance: String,
    /// Decide whether the partition is unique up to renaming classes (same as --count 2).
    #[arg(long, conflicts_with = "count")]
    unique: bool,
    /// Count distinct consistent partitions up to LIMIT.
    #[arg(long, value_name = "LIMIT")]
    count: Option<u64>,
    /// Wall-clock limit in seconds; what was proven by then is kept, the rest is unknown.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    timeout: Option<f64>,
    #[command(flatten)]
    backend: BackendArg,
    /// Search strategy, for experiments: auto (chosen from the instance), cdcl (local
    /// search, then SAT), table (table-first search on every core) or portfolio (two
    /// CDCL searches on differently renamed formulas, side by side).
    #[arg(long, value_enum, default_value_t = StrategyChoice::Auto)]
    strategy: StrategyChoice,
    /// Seed of the search, for experiments: the formula is renamed by it before CDCL
    /// (the portfolio's second search uses SEED + 1) and the warm start's clustering
    /// starts from it (default 0); the same answers by another search path. Not random
    /// data: `generate --seed` is that.
    #[arg(long = "search-seed", alias = "seed", value_name = "SEED")]
    search_seed: Option<u64>,
    /// Skip the statistical warm start (three or more groups: classes estimated from
    /// the samples' statistics before the search), for experiments.
    #[arg(long)]
    no_warm_start: bool,
    /// Certify the answer's claim (unsat, unique, a complete count) into DIR: the CNF
    /// refuted, a DRAT proof and manifest.json (checked by `partrec verify-certificate`).
    #[arg(long, value_name = "DIR")]
    certify: Option<std::path::PathBuf>,
    /// On a sat answer, also report what every consistent partition agrees on:
    /// `identified` (a block id per token, shared by tokens in one class in every
    /// consistent partition), `pinned` per token with `pinned_counts` per group (pinned,
    /// free, unobserved), and `frame`: the blocks that name the classes (a pinned
    /// token is in the class of the same frame block in every consistent partition).
    #[arg(long)]
    identify: bool,
    /// For noisy samples: a partition violating the fewest samples (by their weights
    /// `"w"`, 1 each by default), with the samples to drop (`max_consistent.dropped`),
    /// the least cost and whether it is proven optimal; with --unique, whether the
    /// optimal partition is the only one.
    #[arg(long, conflicts_with_all = ["certify", "identify"])]
    max_consistent: bool,
    #[command(flatten)]
    json: JsonOutput,
}

/// Solves, prints the answer and a summary line; the verdict is the exit code.
pub fn run(a: SolveArgs, quiet: Quiet) -> Result<i32> {
    let options = SolveOptions {
        backend: a.backend.get(),
        strategy: a.strategy.into(),
        seed: a.search_seed,
        warm_start: !a.no_warm_start,
        certify: a.certify.is_some(),
        identify: a.identify,
        max_consistent: a.max_consistent,
        ..SolveOptions::deciding(a.unique, a.count)?
    };
    options.validate()?;
    a.json.out.check(&[&a.instance])?;
    if let Some(dir) = &a.certify {
        check_certify_folder(dir, &a.instance, a.json.out.path())?;
    }
    let timeout = timeout(a.timeout)?;
    // Only a deadline needs a child process (for a backend that cannot be interrupted).
    let exe = timeout.map(|_| own_exe()).transpose()?;
    let shown = quiet.live();
    // The deadline counts from here: reading the instance is part of the time.
    let control = live::control(timeout, shown);
    let path = a.instance.clone();
    let mut solution = live::bounded(&control, shown, options.limit, move |control, progress| {
        let instance = Instance::read(&path)?;
        partrec::worker::solve(&instance, &options, control, exe.as_ref(), progress)
            .map_err(|e| e.in_file(&path))
    })?;
    let certified = match &a.certify {
        Some(dir) => {
            let claims: Vec<_> = solution.certificate.take().into_iter().collect();
            partrec::proof::write(dir, &claims)?;
            let what: Vec<String> = claims
                .iter()
                .map(|c| format!("{} in {} and {}", c.entry.claim, c.entry.cnf, c.entry.proof))
                .collect();
            Some((dir, what))
        }
        None => None,
    };
    a.json.write(&solution)?;
    quiet.summary(&a.instance, solution.summary());
    if let Some((dir, what)) = certified {
        let text = if what.is_empty() {
            "no claim to certify (manifest.json lists none)".to_string()
        } else {
            format!("certified {}", what.join(", "))
        };
        quiet.summary(&dir.display().to_string(), text);
    }
    Ok(solution.status.exit_code())
}

/// Refuses a `--certify` folder the library refuses (see
/// [`partrec::proof::check_folder`]: the instance is kept apart), and one whose files
/// `-o` would write over, before anything is solved or written.
fn check_certify_folder(dir: &Path, instance: &str, output: Option<&str>) -> Result<()> {
    let input = format!("the input {instance}");
    let keep: Vec<(&Path, String)> = match instance {
        "-" => Vec::new(),
        _ => vec![(Path::new(instance), input)],
    };
    partrec::proof::check_folder(dir, &keep)?;
    if let Some(out) = output.filter(|o| *o != "-") {
        let files = partrec::proof::files(dir);
        let written: Vec<_> = files
            .iter()
            .map(|f| {
                (
                    f.as_path(),
                    format!("{}, which --certify writes", f.display()),
                )
            })
            .collect();
        check_apart(Path::new(out), "-o/--output", &written)?;
    }
    Ok(())
}
