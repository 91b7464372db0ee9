//! `partrec encode`: the CNF in DIMACS format.

use crate::cli::common::{after_help, OutputArg, Quiet};
use clap::Args;
use partrec::io::output::write_with;
use partrec::solve::dimacs::write_dimacs;
use partrec::{Instance, Result};

/// `partrec encode` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec encode instances/planted-small.json -o planted-small.cnf",
    "Exit codes:\n   0  success"
))]
pub struct EncodeArgs {
    /// Instance file (`-` for standard input).
    instance: String,
    #[command(flatten)]
    out: OutputArg,
}

/// Writes the encoding and a summary line.
pub fn run(a: EncodeArgs, quiet: Quiet) -> Result<i32> {
    a.out.check(&[&a.instance])?;
    let instance = Instance::read(&a.instance)?;
    let mut buffer = Vec::new();
    let encoding = write_dimacs(&instance, &mut buffer)?;
    write_with(a.out.path(), |w| w.write_all(&buffer))?;
    quiet.summary(
        &a.instance,
        format_args!(
            "{} variables, {} clauses",
            encoding.variables, encoding.clauses
        ),
    );
    Ok(0)
}
