//! `partrec color`: decide k-colourability or find the chromatic number.

use crate::cli::common::{
    after_help, own_exe, read_graph, timeout, BackendArg, JsonOutput, Quiet, ViaChoice,
};
use crate::cli::live;
use clap::Args;
use partrec::reduction::decide::{chromatic, Chromatic, ColorAnswer, Via};
use partrec::reduction::graph::Graph;
use partrec::sat::{Backend, Control};
use partrec::Result;

/// `partrec color` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec color instances/graphs/petersen.col --colors 3\n  partrec color instances/graphs/petersen.col --chromatic --via direct --timeout 10",
    "Exit codes:\n  10  --colors K: colourable (a proper colouring was found and checked)\n  20  --colors K: not colourable (a complete search)\n   0  --colors K: undecided (timeout); --chromatic: always (read `chromatic`)"
))]
pub struct ColorArgs {
    /// The graph in DIMACS .col format (`-` for standard input).
    graph: String,
    /// Decide whether the graph is colourable with this many colours.
    #[arg(
        long,
        required_unless_present = "chromatic",
        conflicts_with = "chromatic"
    )]
    colors: Option<u32>,
    /// Find the chromatic number (clique lower bound, then solve downward from DSATUR).
    #[arg(long)]
    chromatic: bool,
    /// How to decide: through the reduction to partition recovery, or the direct colouring CNF.
    #[arg(long, value_enum, default_value_t = ViaChoice::Reduction)]
    via: ViaChoice,
    /// Wall-clock limit in seconds for all the questions together.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    timeout: Option<f64>,
    #[command(flatten)]
    backend: BackendArg,
    #[command(flatten)]
    json: JsonOutput,
}

/// Asks colouring questions of `graph` under one shared `control` (so one deadline
/// covers them all), in process or, for a backend that cannot be interrupted, in
/// child processes running `exe`.
pub fn decider<'a>(
    graph: &'a Graph,
    backend: Backend,
    control: &'a Control,
    exe: &'a partrec::worker::Exe,
) -> impl FnMut(u32, Via) -> Result<ColorAnswer> + 'a {
    move |k, via| partrec::worker::decide(graph, k, via, backend, control, Some(exe))
}

/// What `color` found out.
enum Answer {
    /// The answer to `--colors K`.
    Decided(ColorAnswer),
    /// The bounds of `--chromatic`.
    Chromatic(Chromatic),
}

/// Answers the question, writes the answer and a summary line.
pub fn run(a: ColorArgs, quiet: Quiet) -> Result<i32> {
    a.json.out.check(&[&a.graph])?;
    let timeout = timeout(a.timeout)?;
    let graph = read_graph(&a.graph)?;
    let exe = own_exe()?;
    let shown = quiet.live();
    let control = live::control(timeout, shown);
    let via = Via::from(a.via);
    let mut decide = decider(&graph, a.backend.get(), &control, &exe);
    let answer = live::watch(&control, shown, || match a.colors {
        Some(k) => decide(k, via).map(Answer::Decided),
        None => chromatic(&graph, via, &mut |k| decide(k, via)).map(Answer::Chromatic),
    })?;
    let (code, summary) = match &answer {
        Answer::Decided(answer) => {
            a.json.write(answer)?;
            let k = answer.k;
            let summary = match answer.colorable {
                Some(true) => format!("{k}-colourable"),
                Some(false) => format!("not {k}-colourable"),
                None => format!("{k}-colourability undecided (timeout)"),
            };
            (answer.exit_code(), summary)
        }
        Answer::Chromatic(result) => {
            a.json.write(result)?;
            let summary = match result.chromatic {
                Some(chi) => format!("chromatic number {chi}"),
                None => format!(
                    "chromatic number between {} and {} (timeout)",
                    result.lower, result.upper
                ),
            };
            (0, summary)
        }
    };
    quiet.summary(&a.graph, format_args!("{summary} (via {via})"));
    Ok(code)
}
