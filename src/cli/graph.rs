//! `partrec graph`: named graphs in DIMACS .col format.

use crate::cli::common::{after_help, OutputArg};
use clap::{Args, Subcommand};
use partrec::reduction::graph::Named;
use partrec::Result;

/// `partrec graph` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec graph myciel 4 -o m4.col\n  partrec graph random 50 0.1 --seed 3",
    "Exit codes:\n   0  success"
))]
pub struct GraphArgs {
    /// Which graph.
    #[command(subcommand)]
    kind: GraphKind,
    #[command(flatten)]
    out: OutputArg,
}

#[derive(Subcommand)]
enum GraphKind {
    /// The Mycielski graph of DIMACS `myciel<K>` (chromatic number K + 1).
    Myciel {
        /// K >= 1.
        k: usize,
    },
    /// The ROWS x COLS queen graph.
    Queen {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// The complete graph K_N.
    Complete {
        /// Vertices.
        n: usize,
    },
    /// The cycle C_N.
    Cycle {
        /// Vertices (>= 3).
        n: usize,
    },
    /// The Petersen graph.
    Petersen,
    /// A seeded random graph G(N, P).
    Random {
        /// Vertices.
        n: usize,
        /// Edge probability.
        #[arg(allow_negative_numbers = true)]
        p: f64,
        /// Seed of the random generator.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

/// Builds the graph and writes it.
pub fn run(a: GraphArgs) -> Result<i32> {
    let out = a.out;
    out.check(&[])?;
    let named = match a.kind {
        GraphKind::Myciel { k } => Named::Myciel(k),
        GraphKind::Queen { rows, cols } => Named::Queen(rows, cols),
        GraphKind::Complete { n } => Named::Complete(n),
        GraphKind::Cycle { n } => Named::Cycle(n),
        GraphKind::Petersen => Named::Petersen,
        GraphKind::Random { n, p, seed } => Named::Random(n, p, seed),
    };
    let (graph, name) = named.build()?;
    out.write(
        graph
            .to_col(&format!("{name}\nmade by partrec graph"))
            .trim_end(),
    )?;
    Ok(0)
}
