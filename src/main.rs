//! The `partrec` command line: parse, dispatch to one command (see `cli/`), and
//! turn the outcome into an exit code (an error is one line on standard error).

mod cli;

use partrec::worker::exit_when_orphaned;
use partrec::Error;
use std::process::ExitCode;

fn main() -> ExitCode {
    // A solve started by another partrec (under a deadline) never outlives it.
    exit_when_orphaned();
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(code) => return ExitCode::from(code as u8),
    };
    let code = match cli::run(cli) {
        Ok(code) => {
            for w in cli::warnings() {
                eprintln!("partrec: warning: {w}");
            }
            code
        }
        Err(e) => {
            eprintln!("partrec: {}", as_flags(&e));
            e.exit_code()
        }
    };
    ExitCode::from(code as u8)
}

/// The error in the command line's terms: a library parameter becomes its flag.
fn as_flags(e: &Error) -> String {
    match e {
        Error::Param { name, message } => format!("{} {message}", flag(name)),
        Error::Budget { .. } => format!("{e} (--max-memory sets it)"),
        other => other.to_string(),
    }
}

/// The command-line flag of a library option: its name with dashes, except where the
/// flag takes the value in other units.
fn flag(name: &str) -> String {
    match name {
        "max_body_bytes" => "--max-body-mb".into(),
        _ => format!("--{}", name.replace('_', "-")),
    }
}
