//! `partrec explain`: a minimal set of samples that cannot all hold.

use crate::cli::common::{after_help, timeout, JsonOutput, Quiet};
use crate::cli::live;
use clap::Args;
use partrec::solve::explain::{explain, Explained};
use partrec::{Instance, Result, Status};

/// `partrec explain` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec explain instances/k4-3colors.json --pretty",
    "Exit codes:\n  20  inconsistent: the minimal set of samples is printed (and the reason on stderr)\n  10  consistent: nothing to explain (a checked partition is printed)\n   0  unknown (timeout)"
))]
pub struct ExplainArgs {
    /// Instance file (`-` for standard input).
    instance: String,
    /// Wall-clock limit in seconds.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    timeout: Option<f64>,
    #[command(flatten)]
    json: JsonOutput,
}

/// Explains, prints the samples as JSON and the reason on standard error.
pub fn run(a: ExplainArgs, quiet: Quiet) -> Result<i32> {
    a.json.out.check(&[&a.instance])?;
    let timeout = timeout(a.timeout)?;
    // The deadline counts from here: reading the instance is part of the time, and an
    // explanation over its time by more than a moment answers unknown.
    let control = live::control(timeout, false);
    let (path, mine) = (a.instance.clone(), control.clone());
    let answer = control.within(live::GRACE, move || {
        let instance = Instance::read(&path)?;
        explain(&instance, &mine).map_err(|e| e.in_file(&path))
    });
    match answer.unwrap_or(Ok(Explained::Unknown))? {
        Explained::Inconsistent(why) => {
            a.json.write(&why)?;
            quiet.summary(&a.instance, format_args!("inconsistent: {}", why.text));
            Ok(Status::Unsat.exit_code())
        }
        Explained::Consistent(partition) => {
            a.json
                .write(&serde_json::json!({"status": "sat", "partition": partition}))?;
            quiet.summary(&a.instance, "consistent: nothing to explain");
            Ok(Status::Sat.exit_code())
        }
        Explained::Unknown => {
            a.json.write(&serde_json::json!({"status": "unknown"}))?;
            quiet.summary(&a.instance, "unknown: stopped by the timeout");
            Ok(Status::Unknown.exit_code())
        }
    }
}
