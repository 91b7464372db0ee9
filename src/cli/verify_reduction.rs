//! `partrec verify-reduction`: both colouring paths, checked against each other.

use crate::cli::color::decider;
use crate::cli::common::{after_help, own_exe, read_graph, timeout, BackendArg, OutputArg, Quiet};
use crate::cli::live;
use clap::Args;
use partrec::reduction::verify::verify_reduction;
use partrec::Result;

/// `partrec verify-reduction` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec verify-reduction instances/graphs/petersen.col --colors 3\n  partrec verify-reduction instances/graphs/petersen.col --colors 2 --timeout 10 -o table.txt",
    "Exit codes:\n   0  verified: both paths agree, the extracted and lifted answers check\n   1  a disagreement (the table says where), or an internal error\n   3  undecided within --timeout",
    shares_1
))]
pub struct VerifyArgs {
    /// The graph.
    graph: String,
    /// Number of colours k.
    #[arg(long)]
    colors: u32,
    /// Wall-clock limit in seconds for both solves together.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    timeout: Option<f64>,
    #[command(flatten)]
    backend: BackendArg,
    #[command(flatten)]
    out: OutputArg,
}

/// Solves both ways and writes the table; the verification is the exit code.
pub fn run(a: VerifyArgs, quiet: Quiet) -> Result<i32> {
    a.out.check(&[&a.graph])?;
    let timeout = timeout(a.timeout)?;
    let graph = read_graph(&a.graph)?;
    let exe = own_exe()?;
    let shown = quiet.live();
    let control = live::control(timeout, shown);
    let mut decide = decider(&graph, a.backend.get(), &control, &exe);
    let verification = live::watch(&control, shown, || {
        verify_reduction(&graph, a.colors, &mut |via| decide(a.colors, via))
    })?;
    a.out.write(verification.table().trim_end())?;
    Ok(verification.exit_code())
}
