//! `partrec extract`: the colouring read off a solution of a reduced instance.

use crate::cli::common::{after_help, read_graph, JsonOutput, Quiet};
use clap::Args;
use partrec::check::Candidate;
use partrec::io::input::read_input;
use partrec::reduction::coloring::read_coloring;
use partrec::Result;

/// `partrec extract` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec solve instances/petersen-3colors.json -o sol.json\n  partrec extract instances/graphs/petersen.col sol.json -o colouring.json",
    "Exit codes:\n   0  the colouring is proper\n   1  it is not (the solution is not consistent), or an internal error",
    shares_1
))]
pub struct ExtractArgs {
    /// The graph that was reduced.
    graph: String,
    /// A solution of the reduced instance (its `partition` is read).
    solution: String,
    #[command(flatten)]
    json: JsonOutput,
}

/// The colouring file `{"colors": [...]}`.
#[derive(serde::Serialize)]
struct ColoringOut<'a> {
    colors: &'a [u32],
}

/// Writes the colouring and says whether it is proper.
pub fn run(a: ExtractArgs, quiet: Quiet) -> Result<i32> {
    a.json.out.check(&[&a.graph, &a.solution])?;
    let graph = read_graph(&a.graph)?;
    let candidate = Candidate::from_json(&read_input(&a.solution)?, &a.solution)?;
    let read = read_coloring(&graph, candidate.partition.as_deref(), &a.solution)?;
    a.json.write(&ColoringOut {
        colors: &read.colors,
    })?;
    match read.proper {
        Ok(()) => {
            quiet.summary(
                &a.solution,
                format_args!("a proper {}-colouring of {}", read.k, a.graph),
            );
            Ok(0)
        }
        Err(m) => {
            quiet.summary(
                &a.solution,
                format_args!("not a proper colouring of {}: {m}", a.graph),
            );
            Ok(1)
        }
    }
}
