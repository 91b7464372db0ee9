//! `partrec reduce`: graph k-colouring as a partition-recovery instance.

use crate::cli::common::{after_help, describe, read_graph, JsonOutput, Quiet};
use clap::Args;
use partrec::reduction::coloring::ColoringReduction;
use partrec::{Error, Result};

/// `partrec reduce` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec graph petersen -o petersen.col\n  partrec reduce petersen.col --colors 3 -o petersen-3.json",
    "Exit codes:\n   0  success"
))]
pub struct ReduceArgs {
    /// Graph in DIMACS .col format (`-` for standard input).
    graph: String,
    /// Number of colours k.
    #[arg(long)]
    colors: u32,
    #[command(flatten)]
    json: JsonOutput,
}

/// The name a reduced instance records for its graph: the file name without extension.
fn graph_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_stem()
        .map_or_else(|| path.to_string(), |s| s.to_string_lossy().into_owned())
}

/// Reduces, writes the instance and a summary line.
pub fn run(a: ReduceArgs, quiet: Quiet) -> Result<i32> {
    a.json.out.check(&[&a.graph])?;
    let graph = read_graph(&a.graph)?;
    ColoringReduction::useful_colors(&graph, a.colors)
        .map_err(|e| Error::Usage(format!("--colors: {e}")))?;
    let instance = ColoringReduction::new(&graph, a.colors)?.reduce(&graph_name(&a.graph));
    a.json.write(&instance)?;
    quiet.summary(
        &a.graph,
        format_args!(
            "{}-colouring of {} vertices and {} edges as {}",
            a.colors,
            graph.vertices(),
            graph.edge_count(),
            describe(&instance)
        ),
    );
    Ok(0)
}
