//! `partrec convert`: an instance from JSON to NumPy `.npz` or back, by extension.

use crate::cli::common::{after_help, describe, write_instance, JsonOutput, OutputArg, Quiet};
use clap::Args;
use partrec::io::npz;
use partrec::{Instance, Result};

/// `partrec convert` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec convert instances/planted-small.json small.npz\n  partrec convert small.npz small.json --pretty\n  python -c \"import numpy; print(numpy.load('small.npz')['x'].shape)\"",
    "Exit codes:\n   0  converted",
    bad_input: "including what .npz cannot hold (string or fractional labels, group or token names)"
))]
pub struct ConvertArgs {
    /// Instance to read: `.npz` by its extension (any case), JSON otherwise (`-` for standard input).
    input: String,
    /// Where to write: `.npz` by its extension, JSON otherwise (`-` for standard output).
    output: String,
    /// Indented JSON (JSON output only).
    #[arg(long)]
    pretty: bool,
}

/// Reads the instance, writes it in the other format and a summary line.
pub fn run(a: ConvertArgs, quiet: Quiet) -> Result<i32> {
    let out = JsonOutput {
        out: OutputArg {
            output: Some(a.output.clone()),
        },
        pretty: a.pretty,
    };
    partrec::io::output::check_output(Some(&a.output), &[&a.input], "OUTPUT")?;
    let instance = Instance::read(&a.input)?;
    write_instance(&out, &instance, &a.input)?;
    let dropped = if npz::is_npz(&a.output) {
        npz::dropped(&instance)
    } else {
        Vec::new()
    };
    let note = match dropped.as_slice() {
        [] => String::new(),
        d => format!(" (left out, .npz has no array for them: {})", d.join(", ")),
    };
    quiet.summary(
        &a.output,
        format_args!("from {}, {}{note}", a.input, describe(&instance)),
    );
    Ok(0)
}
