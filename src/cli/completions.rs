//! `partrec completions` and `partrec man`: the shell completion scripts (by
//! `clap_complete`) and the manual page (by `clap_mangen`), both generated from the
//! command line's own definition, so they always name the flags that exist.

use crate::cli::common::{after_help, OutputArg};
use clap::Args;
use clap_complete::Shell;
use partrec::{Error, Result};

/// `partrec completions` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec completions bash -o partrec.bash\n  partrec completions zsh -o _partrec\n  partrec completions fish -o partrec.fish",
    "Exit codes:\n   0  success"
))]
pub struct CompletionsArgs {
    /// The shell to complete in.
    shell: Shell,
    #[command(flatten)]
    out: OutputArg,
}

/// `partrec man` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec man -o partrec.1\n  partrec man | man -l -",
    "Exit codes:\n   0  success"
))]
pub struct ManArgs {
    #[command(flatten)]
    out: OutputArg,
}

/// Writes the completion script for the shell of `a`, for the command line `cmd`.
pub fn completions(a: CompletionsArgs, mut cmd: clap::Command) -> Result<i32> {
    a.out.check(&[])?;
    let mut script = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "partrec", &mut script);
    a.out.write(utf8(script)?.trim_end())?;
    Ok(0)
}

/// Writes the manual page of `cmd`: its own page, then a section for each command
/// (and each command's subcommands) with its synopsis, description, options and
/// examples.
pub fn man(a: ManArgs, mut cmd: clap::Command) -> Result<i32> {
    a.out.check(&[])?;
    cmd.build();
    let mut page = Vec::new();
    render(&mut page, |w| clap_mangen::Man::new(cmd.clone()).render(w))?;
    for sub in cmd.get_subcommands() {
        commands(&mut page, sub)?;
    }
    a.out.write(&title_first(&utf8(page)?))?;
    Ok(0)
}

/// The roff writer's definition of the apostrophe, which it puts before each piece it
/// renders: once (at the top of the page) is enough.
const APOSTROPHE: [&str; 2] = [".ie \\n(.g .ds Aq \\(aq", ".el .ds Aq '"];

/// The page with its `.TH` title first, as `man` and `file` expect: the roff writer
/// puts its definition of the apostrophe (`.ie`/`.el`) before it.
fn title_first(page: &str) -> String {
    let lines: Vec<&str> = page.trim_end().lines().collect();
    match lines.iter().position(|l| l.starts_with(".TH ")) {
        Some(t) => {
            let mut ordered = vec![lines[t]];
            ordered.extend(&lines[..t]);
            ordered.extend(&lines[t + 1..]);
            ordered.join("\n")
        }
        None => lines.join("\n"),
    }
}

/// Appends the section of command `cmd` and those of its subcommands, each titled by
/// its whole name (`PARTREC GRAPH RANDOM`), clap_mangen's sections within it as
/// subsections.
fn commands(page: &mut Vec<u8>, cmd: &clap::Command) -> Result<()> {
    // clap's own `help` command is in the page's list of commands already.
    if cmd.is_hide_set() || cmd.get_name() == "help" {
        return Ok(());
    }
    let name = cmd.get_bin_name().unwrap_or_else(|| cmd.get_name());
    page.extend(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
    let man = clap_mangen::Man::new(cmd.clone());
    let mut section = Vec::new();
    render(&mut section, |w| {
        man.render_synopsis_section(w)?;
        man.render_description_section(w)?;
        if cmd.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(w)?;
        }
        if cmd.has_subcommands() {
            man.render_subcommands_section(w)?;
        }
        if cmd.get_after_help().is_some() {
            man.render_extra_section(w)?;
        }
        Ok(())
    })?;
    for line in utf8(section)?.lines() {
        if APOSTROPHE.contains(&line) {
            continue;
        }
        let line = match line.strip_prefix(".SH ") {
            Some(title) => format!(".SS {title}"),
            None => line.to_string(),
        };
        page.extend(line.as_bytes());
        page.push(b'\n');
    }
    for sub in cmd.get_subcommands() {
        commands(page, sub)?;
    }
    Ok(())
}

/// Runs a renderer writing into `out`.
fn render(
    out: &mut Vec<u8>,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<()> {
    write(out).map_err(|e| Error::Internal(format!("cannot render: {e}")))
}

/// Generated text as a string.
fn utf8(bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| Error::Internal(format!("generated text: {e}")))
}
