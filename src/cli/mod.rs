//! The `partrec` command line: one file per command, each translating its flags into
//! library calls and the answer into output, a summary line and an exit code.
//!
//! The same flag means the same thing on every command: `-o/--output FILE` where the
//! result goes (standard output by default), `--pretty` indented JSON, `-q/--quiet`
//! (every command) no summary line and no live display, `--timeout SECONDS` a
//! wall-clock limit, `--seed` (default 0) the seed of random generation,
//! `--backend cadical|varisat` the SAT solver. A flag whose values are listed shows
//! them in `--help` (see [`command`]).

mod check;
mod color;
mod common;
mod completions;
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

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use common::Quiet;
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
    /// need more are refused before they are built; for `serve`, the budget its running
    /// solves share.
    #[arg(long, global = true, value_name = "SIZE")]
    max_memory: Option<String>,
    #[command(flatten)]
    quiet: Quiet,
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
    /// Print a shell completion script (bash, zsh, fish, powershell or elvish).
    Completions(completions::CompletionsArgs),
    /// Print the manual page of partrec and all its commands (roff, for `man -l -`).
    Man(completions::ManArgs),
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
    let q = cli.quiet;
    match cli.command {
        Cmd::Generate(a) => generate::run(a, q),
        Cmd::Solve(a) => solve::run(a, q),
        Cmd::Check(a) => check::run(a, q),
        Cmd::Convert(a) => convert::run(a, q),
        Cmd::Import(a) => import::run(a, q),
        Cmd::Encode(a) => encode::run(a, q),
        Cmd::Reduce(a) => reduce::run(a, q),
        Cmd::Extract(a) => extract::run(a, q),
        Cmd::Lift(a) => lift::run(a),
        Cmd::Color(a) => color::run(a, q),
        Cmd::VerifyReduction(a) => verify_reduction::run(a, q),
        Cmd::VerifyCertificate(a) => verify_certificate::run(a, q),
        Cmd::Explain(a) => explain::run(a, q),
        Cmd::Sweep(a) => sweep::run(a, q),
        Cmd::Learn(a) => learn::run(a, q),
        Cmd::Serve(a) => serve::run(a, q),
        Cmd::Graph(a) => graph::run(a),
        Cmd::Completions(a) => completions::completions(a, command()),
        Cmd::Man(a) => completions::man(a, command()),
        Cmd::Worker => Ok(partrec::worker::child_main(
            std::io::stdin().lock(),
            std::io::stdout().lock(),
        )),
    }
}

/// The command line's definition, with each flag whose values are listed (an enum,
/// [`clap::ValueEnum`]) showing them as its placeholder, `--via <reduction|direct>`,
/// instead of `<VIA>`; for parsing, `--help`, completions and the manual alike.
pub fn command() -> clap::Command {
    fn name_values(cmd: clap::Command) -> clap::Command {
        let cmd = cmd.mut_args(|arg| {
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect();
            if values.is_empty() || !arg.get_action().takes_values() {
                arg
            } else {
                arg.value_name(values.join("|")).hide_possible_values(true)
            }
        });
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        names
            .iter()
            .fold(cmd, |cmd, name| cmd.mut_subcommand(name, name_values))
    }
    name_values(Cli::command())
}

/// Parses the command line; a usage error is one line naming what is wrong, with
/// clap's suggestion if it has one, and the `--help` to read (exit 2); `--help` or
/// `--version` print as usual (exit 0).
pub fn parse() -> std::result::Result<Cli, i32> {
    command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches))
        .map_err(|e| {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return 0;
            }
            eprintln!("partrec: {}", one_line(&e));
            2
        })
}

/// A usage error in one line: clap's message and its indented details, up to the
/// first blank line (clap would print the whole help where a subcommand is missing),
/// then clap's suggestion, if any, and where to read more.
fn one_line(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let text = e.render().to_string();
    let usage = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Usage: "))
        .unwrap_or("partrec <COMMAND>");
    let message = if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        format!("a subcommand is missing: usage: {usage}")
    } else {
        let words: Vec<&str> = text
            .lines()
            .skip_while(|l| l.trim().is_empty())
            .take_while(|l| !l.trim().is_empty())
            .map(str::trim)
            .collect();
        let line = plain_numbers(&words.join(" "));
        line.trim_start_matches("error: ").to_string()
    };
    let suggested = [
        ContextKind::SuggestedSubcommand,
        ContextKind::SuggestedArg,
        ContextKind::SuggestedValue,
    ]
    .iter()
    .find_map(|&kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(vec![s.clone()]),
        Some(ContextValue::Strings(v)) if !v.is_empty() => Some(v.clone()),
        _ => None,
    });
    let tip = match suggested {
        Some(names) => {
            let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
            format!("; did you mean {}?", quoted.join(" or "))
        }
        None => String::new(),
    };
    format!(
        "{message}{tip} (see {} --help)",
        command_named(std::env::args_os().map(|a| a.to_string_lossy().into_owned()))
    )
}

/// The command a command line names, `partrec graph random`: its words that name a
/// subcommand of the command before them.
fn command_named(args: impl Iterator<Item = String>) -> String {
    let mut cmd = command();
    let mut path = vec!["partrec".to_string()];
    for arg in args.skip(1) {
        let Some(sub) = cmd.find_subcommand(&arg).cloned() else {
            continue;
        };
        path.push(sub.get_name().to_string());
        cmd = sub;
    }
    path.join(" ")
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
