//! `partrec generate`: a planted instance of the paper's random model.

use crate::cli::common::{after_help, describe, write_instance, JsonOutput, Quiet};
use clap::Args;
use partrec::generate::{add_noise, generate, samples_for_ratio, GenerateParams};
use partrec::{Error, Result};

/// `partrec generate` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec generate --tokens 300 --classes 3 --ratio 8 --seed 1 -o p.json\n  partrec generate --tokens 1000 --classes 3 --ratio 6 -o p.npz\n  partrec generate --groups 3 --tokens 20,30,40 --classes 2,3,4 --values 3 --samples 500\n  partrec generate --tokens 10000 --classes 3 --samples 100000 --zipf 1 -o z.npz",
    "Exit codes:\n   0  success"
))]
pub struct GenerateArgs {
    /// Number of groups I.
    #[arg(long, default_value_t = 2)]
    groups: usize,
    /// Tokens per group: one value for all groups, or one per group (comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    tokens: Vec<u32>,
    /// Classes per group: one value for all groups, or one per group.
    #[arg(long, value_delimiter = ',', required = true)]
    classes: Vec<u32>,
    /// Number of values V (labels 0..V-1).
    #[arg(long, default_value_t = 2)]
    values: u32,
    /// Number of samples S.
    #[arg(long, conflicts_with = "ratio", required_unless_present = "ratio")]
    samples: Option<usize>,
    /// Samples as a multiple of N ln N, N the largest group: S = round(C N ln N).
    #[arg(long, allow_negative_numbers = true)]
    ratio: Option<f64>,
    /// Flip each value to another one with probability P (recorded in `meta.flipped`;
    /// the planted truth is kept): noisy data for `solve --max-consistent`.
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    noise: Option<f64>,
    /// Token frequencies by Zipf's law: token r of every group (0 the most frequent)
    /// drawn with probability proportional to (r + 1)^-S, as words are (S near 1);
    /// uniform without it.
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    zipf: Option<f64>,
    /// Seed of the random generator.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    json: JsonOutput,
}

/// One value for every group, or one per group.
fn per_group(values: &[u32], groups: usize, name: &str) -> Result<Vec<u32>> {
    match values.len() {
        1 => Ok(vec![values[0]; groups]),
        n if n == groups => Ok(values.to_vec()),
        n => Err(Error::Usage(format!(
            "--{name} has {n} values; expected 1 or {groups} (one per group)"
        ))),
    }
}

/// Generates the instance, writes it and a summary line.
pub fn run(a: GenerateArgs, quiet: Quiet) -> Result<i32> {
    if a.groups == 0 {
        return Err(Error::Usage("--groups must be >= 1".into()));
    }
    let tokens = per_group(&a.tokens, a.groups, "tokens")?;
    let classes = per_group(&a.classes, a.groups, "classes")?;
    a.json.out.check(&[])?;
    let samples = match a.samples {
        Some(s) => s,
        None => samples_for_ratio(&tokens, a.ratio.unwrap_or(0.0))?,
    };
    let params = GenerateParams {
        tokens,
        classes,
        values: a.values,
        samples,
        seed: a.seed,
        zipf: a.zipf,
    };
    let mut instance = generate(&params, a.ratio)?;
    if let Some(noise) = a.noise {
        instance = add_noise(instance, noise, a.values, a.seed)?;
    }
    write_instance(&a.json, &instance, "generated instance")?;
    quiet.summary(
        a.json.out.path().unwrap_or("-"),
        format_args!(
            "planted, {}, {} values, seed {}",
            describe(&instance),
            a.values,
            a.seed
        ),
    );
    Ok(0)
}
