//! The `partrec` command line: one file per command, each translating its flags into
//! library calls and the answer into output, a summary line and an exit code.
//!
//! The same flag means the same thing on every command: `-o/--output FILE` where the
//! result goes (standard output by default), `--pretty` indented JSON, `-q/--quiet`
//! no summary line and no live display, `--timeout SECONDS` a wall-clock limit,
//! `--seed` (default 0) the random seed, `--backend cadical|varisat` the SAT solver.

mod check;
mod color;
mod common;
mod convert;
mod encode;
mod explain;
mod extract;
mod generate;
mod graph;
mod import;
mod learn;
mod lift;
mod live;
mod reduce;
mod serve;
mod solve;
mod sweep;
mod verify_certificate;
mod verify_reduction;

use clap::{Parser, Subcommand};
use partrec::Result;

pub use common::warnings;

/// The command line.
#[derive(Parser)]
#[command(
    name = "partrec",
    version,
    about = "Exact partition recovery from context: solve, count, check, generate",
    after_help = "Examples:\n  partrec solve instances/planted-small.json --unique\n  partrec generate --tokens 100 --classes 3 --ratio 6 -o p.json\n\nExit codes (the SAT-competition convention):\n  10  sat: a consistent partition was found and checked\n  20  unsat: a complete search proved there is none\n   0  unknown (timeout), or success for commands without a verdict\n   1  internal error (for `check`: the candidate is inconsistent)\n   2  bad input or usage\n(each command's --help lists its own)"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Cmd,
    /// Memory budget, e.g. 4G or 512MiB (default: three quarters of the machine's
    /// memory, or half of an address-space limit): inputs and encodings estimated to
    /// need more are refused before they are built.
    #[arg(long, global = true, value_name = "SIZE")]
    max_memory: Option<String>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Generate a planted instance (the paper's random model).
    Generate(generate::GenerateArgs),
    /// Find a consistent partition; optionally decide uniqueness or count partitions.
    Solve(solve::SolveArgs),
    /// Judge a candidate solution with the independent checker (exit 0 consistent, 1 not, 2 bad input).
    Check(check::CheckArgs),
    /// Convert an instance between JSON and NumPy .npz (by extension).
    Convert(convert::ConvertArgs),
    /// Make an instance from a CSV or TSV table (named tokens, optional weights).
    Import(import::ImportArgs),
    /// Write the CNF encoding in DIMACS format, with comments mapping class variables.
    Encode(encode::EncodeArgs),
    /// Reduce graph k-colouring (a DIMACS .col file) to a partition-recovery instance.
    Reduce(reduce::ReduceArgs),
    /// Read the colouring off a solution of the reduced instance and check it is proper (exit 1 if not).
    Extract(extract::ExtractArgs),
    /// Turn a colouring ({"colors": [...]}) into a solution of the reduced instance.
    Lift(lift::LiftArgs),
    /// Decide k-colourability (exit 10/20/0) or find the chromatic number, through the reduction by default.
    Color(color::ColorArgs),
    /// Solve a colouring directly and through the reduction and check that everything agrees (exit 0 verified, 1 disagreement, 3 undecided).
    VerifyReduction(verify_reduction::VerifyArgs),
    /// Explain inconsistent data: a minimal set of samples that cannot all hold (exit 20), or show it is consistent (exit 10).
    Explain(explain::ExplainArgs),
    /// Check a `solve --certify` folder: each claim's CNF re-derived from the instance, each proof checked (exit 0 verified, 2 not, 3 unknown).
    VerifyCertificate(verify_certificate::VerifyCertificateArgs),
    /// Run a sample-count experiment: generate, solve with uniqueness, check, record (see also `sweep merge`).
    Sweep(sweep::SweepArgs),
    /// Learn token embeddings by gradient descent and cluster them (the paper's method; never proves anything).
    Learn(learn::LearnArgs),
    /// Serve the solver over HTTP/JSON (/v1/solve, /v1/check, /v1/reduce/coloring, /v1/jobs, /metrics).
    Serve(serve::ServeArgs),
    /// Write a named graph in DIMACS .col format.
    Graph(graph::GraphArgs),
    /// The child side of the typed worker protocol (see `partrec::worker::protocol`):
    /// one request on standard input, answer lines on standard output.
    #[command(hide = true)]
    Worker,
}

/// Runs the command; its exit code, or the error to report.
pub fn run(cli: Cli) -> Result<i32> {
    if let Some(size) = &cli.max_memory {
        partrec::memory::set_budget(partrec::memory::parse_size(size, "max_memory")?);
    }
    match cli.command {
        Cmd::Generate(a) => generate::run(a),
        Cmd::Solve(a) => solve::run(a),
        Cmd::Check(a) => check::run(a),
        Cmd::Convert(a) => convert::run(a),
        Cmd::Import(a) => import::run(a),
        Cmd::Encode(a) => encode::run(a),
        Cmd::Reduce(a) => reduce::run(a),
        Cmd::Extract(a) => extract::run(a),
        Cmd::Lift(a) => lift::run(a),
        Cmd::Color(a) => color::run(a),
        Cmd::VerifyReduction(a) => verify_reduction::run(a),
        Cmd::VerifyCertificate(a) => verify_certificate::run(a),
        Cmd::Explain(a) => explain::run(a),
        Cmd::Sweep(a) => sweep::run(a),
        Cmd::Learn(a) => learn::run(a),
        Cmd::Serve(a) => serve::run(a),
        Cmd::Graph(a) => graph::run(a),
        Cmd::Worker => Ok(partrec::worker::child_main(
            std::io::stdin().lock(),
            std::io::stdout().lock(),
        )),
    }
}

/// Parses the command line; a usage error is one line naming what is wrong (exit 2),
/// and `--help` or `--version` print as usual (exit 0).
pub fn parse() -> std::result::Result<Cli, i32> {
    Cli::try_parse().map_err(|e| {
        use clap::error::ErrorKind;
        if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
            let _ = e.print();
            return 0;
        }
        if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            // clap would print the whole help; one line says what is missing.
            let text = e.render().to_string();
            let usage = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("Usage: "))
                .unwrap_or("partrec <COMMAND>")
                .to_string();
            eprintln!("partrec: a subcommand is missing: usage: {usage} (see --help)");
            return 2;
        }
        // The message and its indented details, up to the first blank line.
        let text = e.render().to_string();
        let words: Vec<&str> = text
            .lines()
            .skip_while(|l| l.trim().is_empty())
            .take_while(|l| !l.trim().is_empty())
            .map(str::trim)
            .collect();
        let line = plain_numbers(&words.join(" "));
        let line = line.trim_start_matches("error: ");
        eprintln!("partrec: {line} (see --help)");
        2
    })
}

/// clap's number errors in words: the parser's own phrases name Rust's integer types'
/// limits ("number too large to fit in target type").
fn plain_numbers(line: &str) -> String {
    line.replace(
        "number too large to fit in target type",
        "a whole number too large for this flag",
    )
    .replace(
        "number too small to fit in target type",
        "a whole number too small for this flag",
    )
    .replace("invalid digit found in string", "not a whole number")
    .replace("cannot parse integer from empty string", "no number given")
}
