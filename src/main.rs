//! The `partrec` command line: parses arguments, calls the library, prints.

use clap::{Args, Parser, Subcommand};
use partrec::check::{judge, Candidate};
use partrec::dimacs::write_dimacs;
use partrec::generate::{generate, samples_for_ratio, GenerateParams};
use partrec::instance::read_input;
use partrec::output::write_text;
use partrec::solve::{solve, SolveOptions};
use partrec::worker::{run_with_deadline, solution_from_outcome};
use partrec::{Error, Instance, Result};
use std::io::Write;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

const EXIT_CODES: &str = "\
Exit codes (the SAT-competition convention):
  10  sat: a consistent partition was found and checked
  20  unsat: a complete search proved there is none
   0  unknown (timeout), or success for commands without a verdict
   1  internal error (for `check`: the candidate is inconsistent)
   2  bad input or usage";

#[derive(Parser)]
#[command(name = "partrec", version, about = "Exact partition recovery from context: solve, count, check, generate", after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Generate a planted instance (the paper's random model).
    Generate(GenerateArgs),
    /// Find a consistent partition; optionally decide uniqueness or count partitions.
    #[command(after_help = EXIT_CODES)]
    Solve(SolveArgs),
    /// Judge a candidate solution with the independent checker (exit 0 consistent, 1 not, 2 bad input).
    Check {
        /// Instance file (`-` for standard input).
        instance: String,
        /// Solution file; only its `partition` (and optional `witness`) is read.
        solution: String,
    },
    /// Write the CNF encoding in DIMACS format, with comments mapping class variables.
    Encode {
        /// Instance file (`-` for standard input).
        instance: String,
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<String>,
    },
}

#[derive(Args)]
struct GenerateArgs {
    /// Number of groups I.
    #[arg(long, default_value_t = 2)]
    groups: usize,
    /// Tokens per group: one value for all groups, or one per group (comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    tokens: Vec<u32>,
    /// Classes per group: one value for all groups, or one per group.
    #[arg(long, value_delimiter = ',', required = true)]
    classes: Vec<u32>,
    /// Number of values V (labels 0..V-1).
    #[arg(long, default_value_t = 2)]
    values: u32,
    /// Number of samples S.
    #[arg(long, conflicts_with = "ratio", required_unless_present = "ratio")]
    samples: Option<usize>,
    /// Samples as a multiple of N ln N, N the largest group: S = round(C N ln N).
    #[arg(long)]
    ratio: Option<f64>,
    /// Seed of the random generator.
    #[arg(long)]
    seed: u64,
    /// Output file (default: standard output).
    #[arg(short, long)]
    output: Option<String>,
}

#[derive(Args)]
struct SolveArgs {
    /// Instance file (`-` for standard input).
    instance: String,
    /// Decide whether the partition is unique up to renaming classes (same as --count 2).
    #[arg(long, conflicts_with = "count")]
    unique: bool,
    /// Count distinct consistent partitions up to LIMIT.
    #[arg(long, value_name = "LIMIT")]
    count: Option<u64>,
    /// Wall-clock limit in seconds; the solve runs in a child process killed at the deadline.
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// Output file (default: standard output).
    #[arg(short, long)]
    output: Option<String>,
    /// Print each partial answer as a JSON line as soon as it is proven (used by --timeout).
    #[arg(long, hide = true)]
    progress_lines: bool,
}

fn per_group(values: &[u32], groups: usize, name: &str) -> Result<Vec<u32>> {
    match values.len() {
        1 => Ok(vec![values[0]; groups]),
        n if n == groups => Ok(values.to_vec()),
        n => Err(Error::Usage(format!(
            "--{name} has {n} values; expected 1 or {groups} (one per group)"
        ))),
    }
}

fn run_generate(a: GenerateArgs) -> Result<i32> {
    if a.groups == 0 {
        return Err(Error::Usage("--groups must be >= 1".into()));
    }
    let tokens = per_group(&a.tokens, a.groups, "tokens")?;
    let classes = per_group(&a.classes, a.groups, "classes")?;
    if let Some(r) = a.ratio.filter(|r| !(r.is_finite() && *r >= 0.0)) {
        return Err(Error::Usage(format!(
            "--ratio must be a finite number >= 0, got {r}"
        )));
    }
    let samples = a
        .samples
        .unwrap_or_else(|| samples_for_ratio(&tokens, a.ratio.unwrap_or(0.0)));
    let params = GenerateParams {
        tokens,
        classes,
        values: a.values,
        samples,
        seed: a.seed,
    };
    let instance = generate(&params, a.ratio)?;
    write_text(a.output.as_deref(), &instance.to_json())?;
    Ok(0)
}

fn run_solve(a: SolveArgs) -> Result<i32> {
    let options = match (a.unique, a.count) {
        (true, _) => SolveOptions::unique(),
        (false, Some(n)) => SolveOptions::count(n),
        (false, None) => SolveOptions::find(),
    };
    let solution = match a.timeout {
        Some(secs) => {
            if !(secs.is_finite() && secs > 0.0) {
                return Err(Error::Usage(format!(
                    "--timeout must be a number of seconds > 0, got {secs}"
                )));
            }
            let exe = std::env::current_exe()
                .map_err(|e| Error::Internal(format!("cannot find own executable: {e}")))?;
            let mut cmd = Command::new(exe);
            cmd.args([
                "solve",
                &a.instance,
                "--count",
                &options.limit.to_string(),
                "--progress-lines",
            ]);
            cmd.stdin(Stdio::inherit()).stderr(Stdio::inherit());
            match solution_from_outcome(run_with_deadline(cmd, Duration::from_secs_f64(secs))?) {
                Ok(mut sol) => {
                    if options.limit < 2 {
                        (sol.count, sol.count_complete) = (None, None);
                    }
                    sol
                }
                Err(code) => return Ok(code),
            }
        }
        None => {
            let instance = Instance::read(&a.instance)?;
            let progress_lines = a.progress_lines;
            let mut progress = |partial: &partrec::solution::Solution| {
                if progress_lines {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(
                        out,
                        "{}",
                        serde_json::to_string(partial).expect("serializes")
                    );
                    let _ = out.flush();
                }
            };
            solve(&instance, &options, &mut progress)?
        }
    };
    write_text(
        a.output.as_deref().filter(|_| !a.progress_lines),
        &serde_json::to_string(&solution).expect("serializes"),
    )?;
    if !a.progress_lines {
        eprintln!("partrec: {}: {}", a.instance, solution.summary());
    }
    Ok(solution.status.exit_code())
}

fn run_check(instance_path: &str, solution_path: &str) -> Result<i32> {
    let instance = Instance::read(instance_path)?;
    let candidate = Candidate::from_json(&read_input(solution_path)?, solution_path)?;
    let judgement = judge(&instance, &candidate, solution_path)?;
    write_text(
        None,
        &serde_json::to_string(&judgement).expect("serializes"),
    )?;
    eprintln!("partrec: {solution_path}: {}", judgement.summary(&instance));
    Ok(judgement.exit_code())
}

fn run_encode(instance_path: &str, output: Option<&str>) -> Result<i32> {
    let instance = Instance::read(instance_path)?;
    let mut buffer = Vec::new();
    let encoding = write_dimacs(&instance, &mut buffer)?;
    write_text(output, String::from_utf8_lossy(&buffer).trim_end())?;
    eprintln!(
        "partrec: {instance_path}: {} variables, {} clauses",
        encoding.variables, encoding.clauses
    );
    Ok(0)
}

fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Cmd::Generate(a) => run_generate(a),
        Cmd::Solve(a) => run_solve(a),
        Cmd::Check { instance, solution } => run_check(&instance, &solution),
        Cmd::Encode { instance, output } => run_encode(&instance, output.as_deref()),
    }
}

fn main() -> ExitCode {
    let code = match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("partrec: {e}");
            e.exit_code()
        }
    };
    ExitCode::from(code as u8)
}
