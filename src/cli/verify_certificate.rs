//! `partrec verify-certificate`: check a `solve --certify` folder against an instance.

use super::{after_help, JsonOutput, Quiet};
use clap::Args;
use partrec::{Instance, Result};

/// `partrec verify-certificate` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec solve instances/k4-3colors.json --certify cert\n  partrec verify-certificate instances/k4-3colors.json cert",
    "Exit codes:\n   0  every claim verified: its CNF re-derived byte for byte, its partitions consistent, its proof checked"
))]
pub struct VerifyCertificateArgs {
    /// Instance file (`-` for standard input).
    instance: String,
    /// The certificate folder (with manifest.json).
    dir: std::path::PathBuf,
    #[command(flatten)]
    json: JsonOutput,
    #[command(flatten)]
    quiet: Quiet,
}

/// Verifies every claim, prints what each was checked for and a summary line.
pub fn run(a: VerifyCertificateArgs) -> Result<i32> {
    a.json.out.check(&[&a.instance])?;
    let instance = Instance::read(&a.instance)?;
    let verified = partrec::proof::verify(&instance, &a.dir)?;
    a.json.write(&verified)?;
    let claims: Vec<String> = verified
        .iter()
        .map(|v| format!("{} ({} lemmas checked)", v.claim, v.lemmas))
        .collect();
    let text = if claims.is_empty() {
        "no claim to verify: the answer made none (a sat answer without a complete count)"
            .to_string()
    } else {
        format!("verified {} claim(s): {}", claims.len(), claims.join(", "))
    };
    a.quiet.summary(&a.dir.display().to_string(), text);
    Ok(0)
}
