//! `partrec import`: samples from a CSV or TSV table with a header, as an instance.

use crate::cli::common::{after_help, describe, write_instance, JsonOutput, Quiet};
use clap::Args;
use partrec::io::table::{import, ImportOptions};
use partrec::Result;

/// `partrec import` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec import instances/german/gender.csv --group noun --group context --value article --classes 3,7 -o german.json\n  partrec import instances/german/gender-noisy.csv --group noun --group context --value article --delimiter , -o noisy.json",
    "Exit codes:\n   0  imported",
    bad_input: "including a missing column, a ragged row, an empty cell or a bad weight"
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
    /// The field separator (default: guessed from the header).
    #[arg(long, value_enum)]
    delimiter: Option<Delimiter>,
    #[command(flatten)]
    json: JsonOutput,
}

/// A field separator of `--delimiter`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Delimiter {
    /// A comma.
    #[value(name = ",")]
    Comma,
    /// A semicolon.
    #[value(name = ";")]
    Semicolon,
    /// A tab (`tab`, or the character itself).
    #[value(name = "tab", alias = "\t")]
    Tab,
}

impl Delimiter {
    /// The separator's byte.
    fn byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Semicolon => b';',
            Delimiter::Tab => b'\t',
        }
    }
}

/// Reads the table, writes the instance and a summary line.
pub fn run(a: ImportArgs, quiet: Quiet) -> Result<i32> {
    a.json.out.check(&[&a.file])?;
    let delimiter = a.delimiter.map(Delimiter::byte);
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
    quiet.summary(&a.file, describe(&instance));
    Ok(0)
}
