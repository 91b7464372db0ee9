//! `partrec verify-certificate`: check a `solve --certify` folder against an instance.

use crate::cli::common::{after_help, timeout, JsonOutput, Quiet};
use crate::cli::live;
use clap::Args;
use partrec::io::output::check_apart;
use partrec::{Instance, Result};

/// `partrec verify-certificate` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec solve instances/k4-3colors.json --certify cert\n  partrec verify-certificate instances/k4-3colors.json cert",
    "Exit codes:\n   0  verified: the claim's kind follows from its recounted partitions, its CNF is re-derived byte for byte, its proof checked\n   3  unknown: the time limit struck before the check ended (nothing verified)"
))]
pub struct VerifyCertificateArgs {
    /// Instance file (`-` for standard input).
    instance: String,
    /// The certificate folder (with manifest.json).
    dir: std::path::PathBuf,
    /// Wall-clock limit in seconds; past it the answer is `unknown` (exit 3).
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    timeout: Option<f64>,
    #[command(flatten)]
    json: JsonOutput,
}

/// What the command prints.
#[derive(serde::Serialize)]
struct Report {
    /// `verified` or `unknown`.
    status: &'static str,
    /// The verified claims (none for a manifest without a claim, or when unknown).
    claims: Vec<partrec::proof::Verified>,
}

/// Verifies the claim, prints what it was checked for and a summary line.
pub fn run(a: VerifyCertificateArgs, quiet: Quiet) -> Result<i32> {
    let limit = timeout(a.timeout)?;
    a.json.out.check(&[&a.instance])?;
    if let Some(out) = a.json.out.path().filter(|p| *p != "-") {
        let read = partrec::proof::inputs(&a.dir);
        let taken: Vec<_> = read
            .iter()
            .map(|f| (f.as_path(), format!("{} of the certificate", f.display())))
            .collect();
        check_apart(std::path::Path::new(out), "-o/--output", &taken)?;
    }
    let shown = quiet.live();
    let control = live::control(limit, shown);
    // Reading the instance and the certificate counts against the deadline too, and
    // the answer comes within a grace of it whatever step is running.
    let (path, dir, mine) = (a.instance.clone(), a.dir.clone(), control.clone());
    let verified = live::watch(&control, shown, || {
        control.within(live::GRACE, move || {
            let instance = Instance::read(&path)?;
            partrec::proof::verify(&instance, &dir, &mine)
        })
    })
    .transpose()?
    .flatten();
    let subject = a.dir.display().to_string();
    let Some(claims) = verified else {
        a.json.write(&Report {
            status: "unknown",
            claims: Vec::new(),
        })?;
        quiet.summary(
            &subject,
            "unknown: the time limit struck before the check ended; nothing is verified",
        );
        return Ok(3);
    };
    let said: Vec<String> = claims
        .iter()
        .map(|v| {
            format!(
                "{} ({} consistent partition(s), {} lemmas checked)",
                v.claim, v.count, v.lemmas
            )
        })
        .collect();
    let text = if said.is_empty() {
        "no claim to verify: the answer made none (a sat answer without a complete count)"
            .to_string()
    } else {
        format!("verified {}", said.join(", "))
    };
    a.json.write(&Report {
        status: "verified",
        claims,
    })?;
    quiet.summary(&subject, text);
    Ok(0)
}
