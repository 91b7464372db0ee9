//! `partrec lift`: a colouring as a solution of the reduced instance.

use crate::cli::common::{after_help, read_graph, JsonOutput};
use clap::Args;
use partrec::io::input::read_input;
use partrec::reduction::coloring::{proper_coloring, ColoringFile, ColoringReduction};
use partrec::{Error, Result};

/// `partrec lift` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec solve instances/petersen-3colors.json -o sol.json\n  partrec extract instances/graphs/petersen.col sol.json -o colouring.json\n  partrec lift instances/graphs/petersen.col colouring.json --colors 3 -o lifted.json",
    "Exit codes:\n   0  success (a colouring that is not proper is lifted with a warning)"
))]
pub struct LiftArgs {
    /// The graph.
    graph: String,
    /// The colouring file: `colors[i]` is the colour of vertex i+1.
    coloring: String,
    /// Number of colours k of the reduced instance.
    #[arg(long)]
    colors: u32,
    #[command(flatten)]
    json: JsonOutput,
}

/// Lifts the colouring and writes the solution.
pub fn run(a: LiftArgs) -> Result<i32> {
    a.json.out.check(&[&a.graph, &a.coloring])?;
    let graph = read_graph(&a.graph)?;
    let coloring = ColoringFile::from_json(&read_input(&a.coloring)?, &a.coloring)?;
    let reduction = ColoringReduction::new(&graph, a.colors)?;
    let solution = reduction
        .lift_solution(&coloring.colors)
        .map_err(|m| Error::input(&a.coloring, m))?;
    if let Err(m) = proper_coloring(&graph, &coloring.colors, a.colors) {
        eprintln!(
            "partrec: warning: {} is not a proper colouring ({m}); `partrec check` will reject the lifted solution",
            a.coloring
        );
    }
    a.json.write(&solution)?;
    Ok(0)
}
