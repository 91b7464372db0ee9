//! `partrec import`: samples from a CSV or TSV table with a header, as an instance.

use crate::cli::common::{after_help, describe, write_instance, JsonOutput, Quiet};
use clap::Args;
use partrec::io::table::{import, ImportOptions};
use partrec::{Error, Result};

/// `partrec import` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec import instances/german/gender.csv --group noun --group context --value article --classes 3,7 -o german.json\n  partrec import samples.tsv --group word --group context --value y --weight count -o s.json",
    "Exit codes:\n   0  imported (bad input, 2, includes a missing column, a ragged row, an empty cell, a bad weight)"
))]
pub struct ImportArgs {
    /// The table: CSV, or TSV (a header with tabs and no comma), with a header row.
    file: String,
    /// A column of one group's tokens (repeat for each group, in order).
    #[arg(long = "group", value_name = "COL", required = true)]
    groups: Vec<String>,
    /// The column of the values.
    #[arg(long, value_name = "COL")]
    value: String,
    /// A column of sample weights (whole numbers >= 1).
    #[arg(long, value_name = "COL")]
    weight: Option<String>,
    /// The most classes per group: one number for all, or one per --group (default:
    /// each group's number of distinct tokens, no bound).
    #[arg(long, value_delimiter = ',', value_name = "K[,K..]")]
    classes: Vec<u32>,
    /// The field separator: `,` or `tab` (default: guessed from the header).
    #[arg(long, value_name = "SEP")]
    delimiter: Option<String>,
    #[command(flatten)]
    json: JsonOutput,
    #[command(flatten)]
    quiet: Quiet,
}

/// Reads the table, writes the instance and a summary line.
pub fn run(a: ImportArgs) -> Result<i32> {
    a.json.out.check(&[&a.file])?;
    let delimiter = match a.delimiter.as_deref() {
        None => None,
        Some(",") => Some(b','),
        Some("tab" | "\t") => Some(b'\t'),
        Some(";") => Some(b';'),
        Some(other) => {
            return Err(Error::Usage(format!(
                "--delimiter {other:?}: expected `,`, `;` or `tab`"
            )))
        }
    };
    let options = ImportOptions {
        groups: a.groups,
        value: a.value,
        weight: a.weight,
        classes: a.classes,
        delimiter,
    };
    let bytes = partrec::io::input::read_input(&a.file)?;
    let instance = import(&bytes, &a.file, &options)?;
    write_instance(&a.json, &instance, &a.file)?;
    a.quiet.summary(&a.file, describe(&instance));
    Ok(0)
}
