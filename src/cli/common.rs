//! What the commands share: output and backend flags, quiet mode, the enumerated
//! flags' values, held-back warnings, timeouts, the help tail, and one-line
//! descriptions.

use crate::cli::live;
use clap::Args;
use partrec::experiment::sweep::Method;
use partrec::reduction::decide::Via;
use partrec::reduction::graph::{read_col, Graph};
use partrec::sat::control::parse_seconds;
use partrec::sat::Backend;
use partrec::solve::Strategy;
use partrec::{Error, Result};
use serde::Serialize;
use std::sync::Mutex;
use std::time::Duration;

/// Where a result goes: `-o/--output FILE`, or standard output. The flag is global to
/// the command that has it, so a command with subcommands (`graph`) takes it after them.
#[derive(Args)]
pub struct OutputArg {
    /// Output file (default: standard output).
    #[arg(short, long, global = true, value_name = "FILE")]
    pub output: Option<String>,
}

impl OutputArg {
    /// The output path, if one was given.
    pub fn path(&self) -> Option<&str> {
        self.output.as_deref()
    }

    /// Refuses an output path that would overwrite one of `inputs` or cannot be written.
    pub fn check(&self, inputs: &[&str]) -> Result<()> {
        partrec::io::output::check_output(self.path(), inputs, "-o/--output")
    }

    /// Writes `text` and a newline there.
    pub fn write(&self, text: &str) -> Result<()> {
        partrec::io::output::write_text(self.path(), text)
    }
}

/// A JSON result: where it goes and whether it is indented.
#[derive(Args)]
pub struct JsonOutput {
    #[command(flatten)]
    pub out: OutputArg,
    /// Indented JSON (default: one line).
    #[arg(long)]
    pub pretty: bool,
}

impl JsonOutput {
    /// Writes `value` as JSON (indented under `--pretty`) and a newline.
    pub fn write(&self, value: &impl Serialize) -> Result<()> {
        let text = if self.pretty {
            serde_json::to_string_pretty(value)
        } else {
            serde_json::to_string(value)
        };
        self.out.write(&text.expect("results serialize"))
    }
}

/// Where an instance goes: `-o FILE.npz` writes NumPy `.npz` (see [`partrec::io::npz`]),
/// anything else JSON. `origin` names the instance in errors (a label `.npz` cannot hold).
pub fn write_instance(out: &JsonOutput, instance: &partrec::Instance, origin: &str) -> Result<()> {
    match out.out.path() {
        Some(path) if partrec::io::npz::is_npz(path) => {
            partrec::io::npz::write(instance, path, origin)
        }
        _ => out.write(instance),
    }
}

/// `-q/--quiet`, taken by every command (before or after its name): no summary line,
/// no live display and no per-request log lines on standard error.
#[derive(Args, Clone, Copy)]
pub struct Quiet {
    /// No summary line, live progress or per-request log lines on standard error
    /// (errors and warnings stay).
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

impl Quiet {
    /// Prints `partrec: SUBJECT: TEXT` on standard error unless quiet.
    pub fn summary(&self, subject: &str, text: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("partrec: {subject}: {text}");
        }
    }

    /// Whether a live display may be shown: not quiet, and standard error is a terminal.
    pub fn live(&self) -> bool {
        !self.quiet && live::terminal()
    }
}

/// The SAT backend, `--backend cadical|varisat`.
#[derive(Args)]
pub struct BackendArg {
    /// SAT solver: cadical (interruptible, the faster) or varisat (pure Rust; under
    /// --timeout it runs in a child process killed at the deadline).
    #[arg(long, value_enum, default_value_t = Backend::default().into())]
    backend: BackendChoice,
}

impl BackendArg {
    /// The backend chosen.
    pub fn get(&self) -> Backend {
        self.backend.into()
    }
}

/// Offers a library enum as a flag's values: a clap [`clap::ValueEnum`] with the same
/// variants (named as clap names them, in kebab case; a unit test checks that they
/// are the library's names), converted both ways, so that a variant added to the
/// library does not compile here until the command line offers it too.
macro_rules! choice {
    ($(#[$doc:meta])* $name:ident => $lib:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
        pub enum $name {
            $(
                #[allow(missing_docs)]
                $variant
            ),+
        }

        impl From<$name> for $lib {
            fn from(choice: $name) -> $lib {
                match choice {
                    $($name::$variant => $lib::$variant),+
                }
            }
        }

        impl From<$lib> for $name {
            fn from(value: $lib) -> $name {
                match value {
                    $($lib::$variant => $name::$variant),+
                }
            }
        }
    };
}

choice!(
    /// `--backend`: [`Backend`].
    BackendChoice => Backend { Cadical, Varisat }
);
choice!(
    /// `solve --strategy`: [`Strategy`].
    StrategyChoice => Strategy { Auto, Cdcl, Table, Portfolio }
);
choice!(
    /// `color --via`: [`Via`].
    ViaChoice => Via { Reduction, Direct }
);
choice!(
    /// `sweep --method`: [`Method`].
    MethodChoice => Method { Sat, Gd }
);

/// Formats a command's `--help` tail: its examples, then its exit codes, with the
/// shared ones (1 internal error, 2 bad input) added; `shares_1` for a command whose
/// own codes already say what 1 means beside an internal error.
/// `bad_input: "..."` names what else counts as bad input for the command.
macro_rules! after_help {
    ($examples:expr, $codes:expr) => {
        after_help!(@ $examples, $codes, "   1  internal error\n", "")
    };
    ($examples:expr, $codes:expr, shares_1) => {
        after_help!(@ $examples, $codes, "", "")
    };
    ($examples:expr, $codes:expr, bad_input: $bad:expr) => {
        after_help!(@ $examples, $codes, "   1  internal error\n", concat!(", ", $bad))
    };
    (@ $examples:expr, $codes:expr, $one:expr, $bad:expr) => {
        concat!(
            "Examples:\n",
            $examples,
            "\n\n",
            $codes,
            "\n",
            $one,
            "   2  bad input or usage",
            $bad,
            " (one line on stderr naming the file, field or flag)"
        )
    };
}
pub(crate) use after_help;

/// Warnings held back until the command has succeeded: bad input is one line.
static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The warnings held back so far (printed by `main` after success).
pub fn warnings() -> Vec<String> {
    WARNINGS.lock().map(|w| w.clone()).unwrap_or_default()
}

/// Reads a `.col` file; the reader's warnings are printed if the command succeeds.
pub fn read_graph(path: &str) -> Result<Graph> {
    let col = read_col(path)?;
    if let Ok(mut held) = WARNINGS.lock() {
        held.extend(col.warnings);
    }
    Ok(col.graph)
}

/// This executable, which runs solves as supervised child processes.
pub fn own_exe() -> Result<partrec::worker::Exe> {
    std::env::current_exe()
        .map(partrec::worker::Exe::from)
        .map_err(|e| Error::Internal(format!("cannot find own executable: {e}")))
}

/// The number of cores (1 if unknown): the default number of workers.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// An optional `--timeout`.
pub fn timeout(secs: Option<f64>) -> Result<Option<Duration>> {
    secs.map(|t| parse_seconds(t, "timeout")).transpose()
}

/// A one-line description of an instance for summary lines: groups, tokens,
/// classes and samples.
pub fn describe(instance: &partrec::Instance) -> String {
    let list = |f: fn(&partrec::Group) -> u32| {
        let v: Vec<String> = instance.groups().iter().map(|g| f(g).to_string()).collect();
        v.join(",")
    };
    format!(
        "{} groups, tokens {}, classes {}, {} samples",
        instance.arity(),
        list(|g| g.tokens),
        list(|g| g.classes),
        instance.num_samples()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    /// Each choice's values are the library's names for its variants, both ways.
    fn same_names<C, L>()
    where
        C: ValueEnum + Copy + PartialEq + std::fmt::Debug + From<L>,
        L: std::fmt::Display + From<C>,
    {
        for &choice in C::value_variants() {
            let value = choice.to_possible_value().expect("a visible value");
            let library = L::from(choice);
            assert_eq!(value.get_name(), library.to_string(), "{choice:?}");
            assert_eq!(C::from(library), choice);
        }
    }

    #[test]
    fn choices_are_named_as_the_library_names_them() {
        same_names::<BackendChoice, Backend>();
        same_names::<StrategyChoice, Strategy>();
        same_names::<ViaChoice, Via>();
        same_names::<MethodChoice, Method>();
        assert_eq!(BackendChoice::value_variants().len(), Backend::ALL.len());
        assert_eq!(StrategyChoice::value_variants().len(), Strategy::ALL.len());
    }
}
