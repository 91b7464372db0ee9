//! The `partrec` command line: parses arguments, calls the library, prints.

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use partrec::baseline::learn::{learn_with_progress, LearnOptions};
use partrec::check::{judge, Candidate};
use partrec::experiment::generate::{generate, samples_for_ratio, GenerateParams};
use partrec::experiment::plot::plot;
use partrec::experiment::summary::table as summary_table;
use partrec::experiment::sweep::{
    merge, read_rows, run as sweep_run, write_rows, Method, Row, RowWriter, SweepConfig,
};
use partrec::io::output::{check_output, write_text, write_with};
use partrec::model::instance::read_input;
use partrec::reduction::coloring::{proper_coloring, ColoringFile, ColoringReduction};
use partrec::reduction::decide::{chromatic, ColorAnswer, Via};
use partrec::reduction::graph::{read_col, Graph, Named};
use partrec::reduction::verify::verify_reduction;
use partrec::sat::{Backend, Control};
use partrec::serve::{run as serve_run, ServeConfig};
use partrec::solve::dimacs::write_dimacs;
use partrec::solve::SolveOptions;
use partrec::worker::{exit_when_orphaned, solve_in_child};
use partrec::{Error, Instance, Result};
use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const EXIT_CODES: &str = "\
Exit codes (the SAT-competition convention):
  10  sat: a consistent partition was found and checked
  20  unsat: a complete search proved there is none
   0  unknown (timeout), or success for commands without a verdict
   1  internal error (for `check`: the candidate is inconsistent)
   2  bad input or usage";

#[derive(Parser)]
#[command(name = "partrec", version, about = "Exact partition recovery from context: solve, count, check, generate", after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Generate a planted instance (the paper's random model).
    Generate(GenerateArgs),
    /// Find a consistent partition; optionally decide uniqueness or count partitions.
    #[command(after_help = EXIT_CODES)]
    Solve(SolveArgs),
    /// Judge a candidate solution with the independent checker (exit 0 consistent, 1 not, 2 bad input).
    Check {
        /// Instance file (`-` for standard input).
        instance: String,
        /// Solution file; only its `partition` (and optional `witness`) is read.
        solution: String,
    },
    /// Write the CNF encoding in DIMACS format, with comments mapping class variables.
    Encode {
        /// Instance file (`-` for standard input).
        instance: String,
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<String>,
    },
    /// Reduce graph k-colouring (a DIMACS .col file) to a partition-recovery instance.
    Reduce {
        /// Graph in DIMACS .col format (`-` for standard input).
        graph: String,
        /// Number of colours k.
        #[arg(long)]
        colors: u32,
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<String>,
    },
    /// Read the colouring off a solution of the reduced instance and check it is proper (exit 1 if not).
    Extract {
        /// The graph that was reduced.
        graph: String,
        /// A solution of the reduced instance (its `partition` is read).
        solution: String,
    },
    /// Turn a colouring ({"colors": [...]}) into a solution of the reduced instance.
    Lift {
        /// The graph.
        graph: String,
        /// The colouring file: `colors[i]` is the colour of vertex i+1.
        coloring: String,
        /// Number of colours k of the reduced instance.
        #[arg(long)]
        colors: u32,
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<String>,
    },
    /// Decide k-colourability (exit 10/20/0) or find the chromatic number, through the reduction by default.
    Color(ColorArgs),
    /// Solve a colouring directly and through the reduction and check that everything agrees (exit 0 verified, 1 disagreement, 3 undecided).
    VerifyReduction {
        /// The graph.
        graph: String,
        /// Number of colours k.
        #[arg(long)]
        colors: u32,
        /// Wall-clock limit in seconds for both solves together.
        #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
        timeout: Option<f64>,
    },
    /// Run a sample-count experiment: generate, solve with uniqueness, check, record (see also `sweep merge`).
    Sweep(SweepArgs),
    /// Learn token embeddings by gradient descent and cluster them (the paper's method; never proves anything).
    Learn(LearnArgs),
    /// Serve the solver over HTTP/JSON (/v1/solve, /v1/check, /v1/reduce/coloring, /v1/jobs, /metrics).
    Serve(ServeArgs),
    /// Write a named graph in DIMACS .col format.
    Graph {
        /// Which graph.
        #[command(subcommand)]
        kind: GraphKind,
        /// Output file (default: standard output).
        #[arg(short, long, global = true)]
        output: Option<String>,
    },
    /// Run one request of a supervising partrec (JSON on stdin, JSON lines on stdout).
    #[command(hide = true)]
    Worker,
}

#[derive(Args)]
struct ColorArgs {
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
    #[arg(long, default_value = "reduction")]
    via: Via,
    /// Wall-clock limit in seconds; solves run in child processes killed at the deadline.
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    timeout: Option<f64>,
    /// Output file (default: standard output).
    #[arg(short, long)]
    output: Option<String>,
}

#[derive(Args)]
struct LearnArgs {
    /// Instance file (`-` for standard input).
    instance: String,
    /// Embedding width D (default: 2 x the largest K).
    #[arg(long)]
    dim: Option<usize>,
    /// Most full-batch Adam steps (training stops earlier on a loss plateau).
    #[arg(long, default_value_t = 4000)]
    steps: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 0.03, allow_negative_numbers = true)]
    lr: f64,
    /// L2 weight on all parameters.
    #[arg(long, default_value_t = 1e-4, allow_negative_numbers = true)]
    lambda: f64,
    /// k-means++ restarts per group.
    #[arg(long, default_value_t = 10)]
    restarts: usize,
    /// Seed of the initial embeddings and the clustering.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Wall-clock limit on training in seconds; the model reached by then is clustered and checked.
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    timeout: Option<f64>,
    /// Output file (default: standard output).
    #[arg(short, long)]
    output: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free one; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: std::net::SocketAddr,
    /// Solves running at once, each in its own child process (default: the number of cores).
    #[arg(long)]
    workers: Option<usize>,
    /// Solve requests waiting for a worker beyond those; more get 503 with Retry-After.
    #[arg(long, default_value_t = 64)]
    queue: usize,
    /// Largest request body in megabytes; larger ones get 413.
    #[arg(
        long,
        value_name = "MB",
        default_value_t = 16.0,
        allow_negative_numbers = true
    )]
    max_body_mb: f64,
    /// Longest (and default) time per solve request in seconds, queueing included; then `unknown`.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 60.0,
        allow_negative_numbers = true
    )]
    timeout: f64,
    /// Largest estimated CNF size in clauses; larger instances get 422.
    #[arg(long, default_value_t = 50_000_000)]
    max_clauses: u64,
    /// Seconds a finished job's result is kept when nobody fetches it.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 600.0,
        allow_negative_numbers = true
    )]
    job_ttl: f64,
    /// Most background jobs stored at once.
    #[arg(long, default_value_t = 1000)]
    max_jobs: usize,
    /// Seconds a request's head may take to arrive (also how long an idle connection
    /// stays open); then the connection is closed.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 10.0,
        allow_negative_numbers = true
    )]
    header_timeout: f64,
    /// Seconds a request's whole body may take to arrive; then 408 and the connection closes.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 10.0,
        allow_negative_numbers = true
    )]
    body_timeout: f64,
    /// Connections open at once; one more is answered 503 and closed.
    #[arg(long, default_value_t = 256)]
    max_connections: usize,
    /// Bodies parsed (and checks and reductions run) in the server at once; more wait
    /// up to --timeout, then get 503 (default: twice the number of cores).
    #[arg(long)]
    max_parsing: Option<usize>,
    /// Largest colouring reduction, in samples (vertices + edges), that /v1/reduce/coloring
    /// builds; larger graphs get 422 (default: the body limit in bytes / 32, so that a
    /// reply is about as large as the largest body at most).
    #[arg(long)]
    max_reduce_size: Option<u64>,
    /// Most tokens (over all groups) a solve request may declare, since its answer lists a
    /// class for each; more get 422 (default: the body limit in bytes / 4).
    #[arg(long)]
    max_answer_tokens: Option<u64>,
    /// No per-request log lines on standard error.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct SweepArgs {
    #[command(subcommand)]
    merge: Option<SweepCmd>,
    /// Number of groups I.
    #[arg(long, default_value_t = 2)]
    groups: usize,
    /// Tokens per group N; several values make one curve each.
    #[arg(long, value_delimiter = ',', required = true)]
    tokens: Vec<u32>,
    /// Classes per group K.
    #[arg(long, required = true)]
    classes: Option<u32>,
    /// Number of values V.
    #[arg(long, default_value_t = 2)]
    values: u32,
    /// Sample ratios C: S = round(C N ln N).
    #[arg(
        long,
        value_delimiter = ',',
        required = true,
        allow_negative_numbers = true
    )]
    ratios: Vec<f64>,
    /// Trials per (N, ratio).
    #[arg(long, default_value_t = 10)]
    trials: u32,
    /// Master seed; each point's seed is derived from (SEED, N, ratio, trial).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Methods run on every instance: sat (exact, with uniqueness), gd (the gradient method).
    #[arg(long, value_delimiter = ',', default_value = "sat")]
    method: Vec<Method>,
    /// Per-point wall-clock limit in seconds for `sat`; each solve runs in a child process
    /// killed at the deadline, and its row says `timed_out`.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 60.0,
        allow_negative_numbers = true
    )]
    timeout: f64,
    /// Worker threads (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Row file (.csv, or .jsonl for JSON lines); rows are appended as they finish.
    #[arg(long)]
    out: Option<PathBuf>,
    /// SVG file with the two panels.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Run every n-th point only, as i/n (0 <= i < n); combine shards with `sweep merge`.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Skip the points already in --out.
    #[arg(long, requires = "out")]
    resume: bool,
}

#[derive(Subcommand)]
enum SweepCmd {
    /// Combine row files (shards) into one, sorted, and print the summary.
    Merge {
        /// Row files to combine.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The combined row file.
        #[arg(short, long)]
        output: PathBuf,
        /// SVG file with the two panels.
        #[arg(long)]
        plot: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum GraphKind {
    /// The Mycielski graph of DIMACS `myciel<K>` (chromatic number K + 1).
    Myciel {
        /// K >= 1.
        k: usize,
    },
    /// The ROWS x COLS queen graph.
    Queen {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// The complete graph K_N.
    Complete {
        /// Vertices.
        n: usize,
    },
    /// The cycle C_N.
    Cycle {
        /// Vertices (>= 3).
        n: usize,
    },
    /// The Petersen graph.
    Petersen,
    /// A seeded random graph G(N, P).
    Random {
        /// Vertices.
        n: usize,
        /// Edge probability.
        #[arg(allow_negative_numbers = true)]
        p: f64,
        /// Seed.
        #[arg(long)]
        seed: u64,
    },
}

#[derive(Args)]
struct GenerateArgs {
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
    /// Seed of the random generator.
    #[arg(long)]
    seed: u64,
    /// Output file (default: standard output).
    #[arg(short, long)]
    output: Option<String>,
}

#[derive(Args)]
struct SolveArgs {
    /// Instance file (`-` for standard input).
    instance: String,
    /// Decide whether the partition is unique up to renaming classes (same as --count 2).
    #[arg(long, conflicts_with = "count")]
    unique: bool,
    /// Count distinct consistent partitions up to LIMIT.
    #[arg(long, value_name = "LIMIT")]
    count: Option<u64>,
    /// Wall-clock limit in seconds; the solve runs in a child process killed at the deadline.
    #[arg(long, value_name = "SECS", allow_negative_numbers = true)]
    timeout: Option<f64>,
    /// Output file (default: standard output).
    #[arg(short, long)]
    output: Option<String>,
    /// Print each partial answer as a JSON line as soon as it is proven (used by --timeout).
    #[arg(long, hide = true)]
    progress_lines: bool,
    /// The SAT backend (varisat, which cannot be interrupted, runs in a child process under --timeout).
    #[arg(long, default_value = "cadical")]
    backend: Backend,
}

fn per_group(values: &[u32], groups: usize, name: &str) -> Result<Vec<u32>> {
    match values.len() {
        1 => Ok(vec![values[0]; groups]),
        n if n == groups => Ok(values.to_vec()),
        n => Err(Error::Usage(format!(
            "--{name} has {n} values; expected 1 or {groups} (one per group)"
        ))),
    }
}

fn run_generate(a: GenerateArgs) -> Result<i32> {
    if a.groups == 0 {
        return Err(Error::Usage("--groups must be >= 1".into()));
    }
    let tokens = per_group(&a.tokens, a.groups, "tokens")?;
    let classes = per_group(&a.classes, a.groups, "classes")?;
    if let Some(r) = a.ratio.filter(|r| !(r.is_finite() && *r >= 0.0)) {
        return Err(Error::Usage(format!(
            "--ratio must be a finite number >= 0, got {r}"
        )));
    }
    check_output(a.output.as_deref(), &[], "-o/--output")?;
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
    };
    let instance = generate(&params, a.ratio)?;
    write_text(a.output.as_deref(), &instance.to_json())?;
    Ok(0)
}

fn run_solve(a: SolveArgs) -> Result<i32> {
    if a.count == Some(0) {
        return Err(Error::Usage(
            "--count must be at least 1 (1 finds a partition, 2 decides uniqueness)".into(),
        ));
    }
    check_output(a.output.as_deref(), &[&a.instance], "-o/--output")?;
    let options = match (a.unique, a.count) {
        (true, _) => SolveOptions::unique(),
        (false, Some(n)) => SolveOptions::count(n),
        (false, None) => SolveOptions::find(),
    };
    let options = SolveOptions {
        backend: a.backend,
        ..options
    };
    let timeout = a
        .timeout
        .map(|secs| parse_timeout(secs, "--timeout"))
        .transpose()?;
    let instance = Instance::read(&a.instance)?;
    let progress_lines = a.progress_lines;
    let mut progress = |partial: &partrec::model::solution::Solution| {
        if progress_lines {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string(partial).expect("serializes")
            );
            let _ = out.flush();
        }
    };
    let exe = own_exe()?;
    let control = Control::with_timeout(timeout);
    let solution =
        partrec::worker::solve(&instance, &options, &control, Some(&exe), &mut progress)?;
    write_text(
        a.output.as_deref().filter(|_| !a.progress_lines),
        &serde_json::to_string(&solution).expect("serializes"),
    )?;
    if !a.progress_lines {
        eprintln!("partrec: {}: {}", a.instance, solution.summary());
    }
    Ok(solution.status.exit_code())
}

fn run_check(instance_path: &str, solution_path: &str) -> Result<i32> {
    let instance = Instance::read(instance_path)?;
    let candidate = Candidate::from_json(&read_input(solution_path)?, solution_path)?;
    let judgement = judge(&instance, &candidate, solution_path)?;
    write_text(
        None,
        &serde_json::to_string(&judgement).expect("serializes"),
    )?;
    eprintln!("partrec: {solution_path}: {}", judgement.summary(&instance));
    Ok(judgement.exit_code())
}

fn run_encode(instance_path: &str, output: Option<&str>) -> Result<i32> {
    check_output(output, &[instance_path], "-o/--output")?;
    let instance = Instance::read(instance_path)?;
    let mut buffer = Vec::new();
    let encoding = write_dimacs(&instance, &mut buffer)?;
    write_with(output, |w| w.write_all(&buffer))?;
    eprintln!(
        "partrec: {instance_path}: {} variables, {} clauses",
        encoding.variables, encoding.clauses
    );
    Ok(0)
}

/// Warnings held back until the command has succeeded: bad input is one line.
static WARNINGS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Reads a `.col` file; the reader's warnings are printed if the command succeeds.
fn read_graph(path: &str) -> Result<Graph> {
    let col = read_col(path)?;
    if let Ok(mut held) = WARNINGS.lock() {
        held.extend(col.warnings);
    }
    Ok(col.graph)
}

fn graph_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_stem()
        .map_or_else(|| path.to_string(), |s| s.to_string_lossy().into_owned())
}

fn run_reduce(graph_path: &str, colors: u32, output: Option<&str>) -> Result<i32> {
    check_output(output, &[graph_path], "-o/--output")?;
    let graph = read_graph(graph_path)?;
    ColoringReduction::useful_colors(&graph, colors)
        .map_err(|e| Error::Usage(format!("--colors: {e}")))?;
    let instance = ColoringReduction::new(&graph, colors)?.reduce(&graph_name(graph_path));
    write_text(output, &instance.to_json())?;
    Ok(0)
}

fn run_extract(graph_path: &str, solution_path: &str) -> Result<i32> {
    let graph = read_graph(graph_path)?;
    let candidate = Candidate::from_json(&read_input(solution_path)?, solution_path)?;
    let n = graph.vertices();
    let partition = candidate
        .partition
        .filter(|p| p.len() == 2 && p.iter().all(|row| row.len() == n))
        .ok_or_else(|| {
            Error::input(
                solution_path,
                format!("expected a `partition` of 2 groups with {n} tokens each"),
            )
        })?;
    let k = partition[1].iter().max().map_or(1, |&m| m + 1);
    let colors = partition[1].clone();
    write_text(None, &serde_json::json!({ "colors": colors }).to_string())?;
    match ColoringReduction::new(&graph, k)?.extract(&partition) {
        Ok(_) => {
            eprintln!("partrec: {solution_path}: a proper {k}-colouring of {graph_path}");
            Ok(0)
        }
        Err(m) => {
            eprintln!("partrec: {solution_path}: not a proper colouring of {graph_path}: {m}");
            Ok(1)
        }
    }
}

fn run_lift(
    graph_path: &str,
    coloring_path: &str,
    colors: u32,
    output: Option<&str>,
) -> Result<i32> {
    check_output(output, &[graph_path, coloring_path], "-o/--output")?;
    let graph = read_graph(graph_path)?;
    let coloring = ColoringFile::from_json(&read_input(coloring_path)?, coloring_path)?;
    let reduction = ColoringReduction::new(&graph, colors)?;
    let solution = reduction
        .lift_solution(&coloring.colors)
        .map_err(|m| Error::input(coloring_path, m))?;
    if let Err(m) = proper_coloring(&graph, &coloring.colors, colors) {
        eprintln!("partrec: warning: {coloring_path} is not a proper colouring ({m}); `partrec check` will reject the lifted solution");
    }
    write_text(
        output,
        &serde_json::to_string(&solution).expect("serializes"),
    )?;
    Ok(0)
}

/// Decides colourability in process, or in child processes under one overall deadline.
fn decider(
    graph: &Graph,
    timeout: Option<f64>,
) -> Result<impl FnMut(u32, Via) -> Result<ColorAnswer> + '_> {
    let deadline = timeout
        .map(|t| parse_timeout(t, "--timeout"))
        .transpose()?
        .map(|d| Instant::now() + d);
    let exe = own_exe()?;
    let control = Control::with_deadline(deadline);
    Ok(move |k: u32, via: Via| {
        partrec::worker::decide(graph, k, via, Backend::default(), &control, Some(&exe))
    })
}

fn run_color(a: ColorArgs) -> Result<i32> {
    check_output(a.output.as_deref(), &[&a.graph], "-o/--output")?;
    let graph = read_graph(&a.graph)?;
    let mut decide = decider(&graph, a.timeout)?;
    let (text, code, summary) = match a.colors {
        Some(k) => {
            let answer = decide(k, a.via)?;
            let summary = match answer.colorable {
                Some(true) => format!("{k}-colourable"),
                Some(false) => format!("not {k}-colourable"),
                None => format!("{k}-colourability undecided (timeout)"),
            };
            (serde_json::to_string(&answer), answer.exit_code(), summary)
        }
        None => {
            let result = chromatic(&graph, a.via, &mut |k| decide(k, a.via))?;
            let summary = match result.chromatic {
                Some(chi) => format!("chromatic number {chi}"),
                None => format!(
                    "chromatic number between {} and {} (timeout)",
                    result.lower, result.upper
                ),
            };
            (serde_json::to_string(&result), 0, summary)
        }
    };
    write_text(a.output.as_deref(), &text.expect("serializes"))?;
    eprintln!("partrec: {}: {summary} (via {})", a.graph, a.via);
    Ok(code)
}

fn run_verify(graph_path: &str, colors: u32, timeout: Option<f64>) -> Result<i32> {
    let graph = read_graph(graph_path)?;
    let mut decide = decider(&graph, timeout)?;
    let verification = verify_reduction(&graph, colors, &mut |via| decide(colors, via))?;
    write_text(None, verification.table().trim_end())?;
    Ok(verification.exit_code())
}

fn run_graph(kind: GraphKind, output: Option<&str>) -> Result<i32> {
    check_output(output, &[], "-o/--output")?;
    let named = match kind {
        GraphKind::Myciel { k } => Named::Myciel(k),
        GraphKind::Queen { rows, cols } => Named::Queen(rows, cols),
        GraphKind::Complete { n } => Named::Complete(n),
        GraphKind::Cycle { n } => Named::Cycle(n),
        GraphKind::Petersen => Named::Petersen,
        GraphKind::Random { n, p, seed } => Named::Random(n, p, seed),
    };
    let (graph, name) = named.build()?;
    write_text(
        output,
        graph
            .to_col(&format!("{name}\nmade by partrec graph"))
            .trim_end(),
    )?;
    Ok(0)
}

fn parse_shard(text: &str) -> Result<(usize, usize)> {
    text.split_once('/')
        .and_then(|(i, n)| Some((i.parse().ok()?, n.parse().ok()?)))
        .ok_or_else(|| Error::Usage(format!("--shard must look like i/n, got {text:?}")))
}

/// Progress goes to a terminal only, and not under NO_COLOR.
fn progress_visible() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// A one-line live status on standard error (hidden off a terminal).
fn live_status() -> ProgressBar {
    if !progress_visible() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

fn progress_bar(len: usize) -> ProgressBar {
    let visible = progress_visible();
    let target = if visible {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len as u64), target);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} points, ETA {eta} {msg}")
            .expect("a valid template"),
    );
    bar
}

fn finish_sweep(rows: &[Row], out: Option<&Path>, plot_path: Option<&Path>) -> Result<i32> {
    if let Some(out) = out {
        write_rows(out, rows)?;
    }
    if let Some(p) = plot_path {
        plot(rows, p)?;
    }
    write_text(None, summary_table(rows).trim_end())?;
    Ok(0)
}

fn run_sweep(a: SweepArgs) -> Result<i32> {
    if let Some(SweepCmd::Merge {
        files,
        output,
        plot,
    }) = a.merge
    {
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        let inputs: Vec<&str> = names.iter().map(String::as_str).collect();
        check_output(output.to_str(), &inputs, "-o/--output")?;
        let mut taken = inputs.clone();
        taken.extend(output.to_str());
        check_output(plot.as_deref().and_then(Path::to_str), &taken, "--plot")?;
        let mut read = Vec::new();
        for (f, name) in files.iter().zip(names) {
            if !f.exists() {
                return Err(Error::input(f.display(), "no such row file"));
            }
            read.push((name, read_rows(f)?));
        }
        let rows = merge(&read)?;
        return finish_sweep(&rows, Some(&output), plot.as_deref());
    }
    if a.jobs.is_some_and(|j| !(1..=MAX_JOBS).contains(&j)) {
        return Err(Error::Usage(format!("--jobs must be from 1 to {MAX_JOBS}")));
    }
    let out_name = a.out.as_deref().and_then(Path::to_str);
    check_output(out_name, &[], "--out")?;
    check_output(
        a.plot.as_deref().and_then(Path::to_str),
        out_name.as_slice(),
        "--plot",
    )?;
    let config = SweepConfig {
        groups: a.groups,
        tokens: a.tokens,
        classes: a.classes.expect("required"),
        values: a.values,
        ratios: a.ratios,
        trials: a.trials,
        seed: a.seed,
        shard: a.shard.as_deref().map(parse_shard).transpose()?,
        methods: a.method,
    };
    config.validate()?;
    let timeout = parse_timeout(a.timeout, "--timeout")?;
    let mut rows = match (&a.out, a.resume) {
        (Some(out), true) => {
            let rows = read_rows(out)?;
            config.check_resumable(&rows, &out.display().to_string())?;
            rows
        }
        (Some(out), false) => {
            if out.exists() {
                std::fs::remove_file(out).map_err(|e| Error::io(out.display(), e))?;
            }
            Vec::new()
        }
        (None, _) => Vec::new(),
    };
    let done: HashSet<_> = rows.iter().map(Row::key).collect();
    let exe = own_exe()?;
    let solver = |inst: &Instance| {
        solve_in_child(
            &exe,
            inst,
            &SolveOptions::unique(),
            timeout,
            &Control::new(),
        )
    };
    // No more threads than points to run.
    let jobs = a
        .jobs
        .unwrap_or_else(cores)
        .min(config.points().len().max(1));
    let mut writer = a.out.as_deref().map(RowWriter::append).transpose()?;
    let bar = progress_bar(config.points().len() * config.methods.len());
    bar.set_position(done.len() as u64);
    let mut timeouts = rows.iter().filter(|r| r.timed_out).count();
    let new_rows = sweep_run(&config, &done, jobs, &solver, &mut |row| {
        timeouts += usize::from(row.timed_out);
        bar.inc(1);
        bar.set_message(format!("{timeouts} timeouts"));
        writer.as_mut().map_or(Ok(()), |w| w.write(row))
    })?;
    bar.finish_and_clear();
    rows.extend(new_rows);
    finish_sweep(&rows, a.out.as_deref(), a.plot.as_deref())
}

fn run_learn(a: LearnArgs) -> Result<i32> {
    check_output(a.output.as_deref(), &[&a.instance], "-o/--output")?;
    if a.dim == Some(0) {
        return Err(Error::Usage("--dim must be at least 1".into()));
    }
    let time_limit = a
        .timeout
        .map(|t| parse_timeout(t, "--timeout"))
        .transpose()?;
    let instance = Instance::read(&a.instance)?;
    let options = LearnOptions {
        dim: a.dim,
        steps: a.steps,
        lr: a.lr,
        lambda: a.lambda,
        restarts: a.restarts,
        seed: a.seed,
        time_limit,
        ..LearnOptions::default()
    };
    let bar = live_status();
    let start = Instant::now();
    let report = learn_with_progress(&instance, &options, &mut |step, loss| {
        bar.set_message(format!(
            "training: step {step}/{}, loss {loss:.3e}, {:.1} s",
            a.steps,
            start.elapsed().as_secs_f64()
        ));
    })?;
    bar.finish_and_clear();
    write_text(
        a.output.as_deref(),
        &serde_json::to_string(&report).expect("serializes"),
    )?;
    eprintln!("partrec: {}: {}", a.instance, report.summary());
    Ok(report.status.exit_code())
}

fn run_serve(a: ServeArgs) -> Result<i32> {
    if !(a.max_body_mb > 0.0 && a.max_body_mb <= MAX_BODY_MB) {
        return Err(Error::Usage(format!(
            "--max-body-mb must be a number from 0 (exclusive) to {MAX_BODY_MB}, got {}",
            a.max_body_mb
        )));
    }
    let max_body_bytes = (a.max_body_mb * 1024.0 * 1024.0) as usize;
    let config = ServeConfig {
        addr: a.addr,
        workers: a.workers.unwrap_or_else(cores),
        queue: a.queue,
        max_body_bytes,
        timeout: parse_timeout(a.timeout, "--timeout")?,
        max_clauses: a.max_clauses,
        job_ttl: parse_timeout(a.job_ttl, "--job-ttl")?,
        max_jobs: a.max_jobs,
        quiet: a.quiet,
        exe: own_exe()?,
        backend: Backend::default(),
        header_timeout: parse_timeout(a.header_timeout, "--header-timeout")?,
        body_timeout: parse_timeout(a.body_timeout, "--body-timeout")?,
        max_connections: a.max_connections,
        max_parsing: a
            .max_parsing
            .unwrap_or_else(partrec::serve::default_max_parsing),
        max_reduce_size: a
            .max_reduce_size
            .unwrap_or_else(|| partrec::serve::default_max_reduce_size(max_body_bytes)),
        max_answer_tokens: a
            .max_answer_tokens
            .unwrap_or_else(|| partrec::serve::default_max_answer_tokens(max_body_bytes)),
    };
    serve_run(config)?;
    Ok(0)
}

/// The largest request body a server may accept, in megabytes: the limits derived
/// from it (reductions, answers, stored jobs) must stay within one machine's memory.
const MAX_BODY_MB: f64 = 256.0;

/// The most worker threads a sweep may ask for.
const MAX_JOBS: usize = 1024;

/// This executable, which runs solves as supervised child processes.
fn own_exe() -> Result<PathBuf> {
    std::env::current_exe().map_err(|e| Error::Internal(format!("cannot find own executable: {e}")))
}

/// The number of cores (1 if unknown): the default number of workers.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The longest time limit accepted (about 31 years): deadlines beyond it would overflow.
const MAX_SECONDS: f64 = 1e9;

fn parse_timeout(secs: f64, flag: &str) -> Result<Duration> {
    if secs > 0.0 && secs <= MAX_SECONDS {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(Error::Usage(format!(
            "{flag} must be a number of seconds from 0 (exclusive) to {MAX_SECONDS:e}, got {secs}"
        )))
    }
}

fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Cmd::Generate(a) => run_generate(a),
        Cmd::Solve(a) => run_solve(a),
        Cmd::Check { instance, solution } => run_check(&instance, &solution),
        Cmd::Encode { instance, output } => run_encode(&instance, output.as_deref()),
        Cmd::Reduce {
            graph,
            colors,
            output,
        } => run_reduce(&graph, colors, output.as_deref()),
        Cmd::Extract { graph, solution } => run_extract(&graph, &solution),
        Cmd::Lift {
            graph,
            coloring,
            colors,
            output,
        } => run_lift(&graph, &coloring, colors, output.as_deref()),
        Cmd::Color(a) => run_color(a),
        Cmd::VerifyReduction {
            graph,
            colors,
            timeout,
        } => run_verify(&graph, colors, timeout),
        Cmd::Graph { kind, output } => run_graph(kind, output.as_deref()),
        Cmd::Sweep(a) => run_sweep(a),
        Cmd::Serve(a) => run_serve(a),
        Cmd::Learn(a) => run_learn(a),
        Cmd::Worker => Ok(partrec::worker::child_main(
            std::io::stdin(),
            std::io::stdout(),
        )),
    }
}

/// Parses the command line; a usage error is one line naming what is wrong (exit 2),
/// and `--help` or `--version` print as usual (exit 0).
fn parse_cli() -> std::result::Result<Cli, i32> {
    Cli::try_parse().map_err(|e| {
        use clap::error::ErrorKind;
        if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
            let _ = e.print();
            return 0;
        }
        if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            // clap would print the whole help; one line says what is missing.
            let text = e.render().to_string();
            let usage = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("Usage: "))
                .unwrap_or("partrec <COMMAND>")
                .to_string();
            eprintln!("partrec: a subcommand is missing: usage: {usage} (see --help)");
            return 2;
        }
        // The message and its indented details, up to the first blank line.
        let text = e.render().to_string();
        let words: Vec<&str> = text
            .lines()
            .skip_while(|l| l.trim().is_empty())
            .take_while(|l| !l.trim().is_empty())
            .map(str::trim)
            .collect();
        let line = words.join(" ");
        let line = line.trim_start_matches("error: ");
        eprintln!("partrec: {line} (see --help)");
        2
    })
}

fn main() -> ExitCode {
    // A solve started by another partrec (under a deadline) never outlives it.
    exit_when_orphaned();
    let cli = match parse_cli() {
        Ok(cli) => cli,
        Err(code) => return ExitCode::from(code as u8),
    };
    let code = match run(cli) {
        Ok(code) => {
            for w in WARNINGS.lock().map(|w| w.clone()).unwrap_or_default() {
                eprintln!("partrec: warning: {w}");
            }
            code
        }
        Err(e) => {
            eprintln!("partrec: {e}");
            e.exit_code()
        }
    };
    ExitCode::from(code as u8)
}
