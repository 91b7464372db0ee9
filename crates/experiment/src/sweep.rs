//! Experiments over sample count: for every point (N, ratio, trial) generate a
//! planted instance exactly as `partrec generate` would, solve it with each
//! method asked for (`sat`: the exact solver with the uniqueness check; `gd`: the
//! gradient method of [`partrec_baseline::learn`]), and record one row per (point, method).
//!
//! Points run in parallel on worker threads; each row is handed to the caller
//! as soon as it is done (so a file can be appended and nothing is lost in a
//! crash), and the final list is sorted by (N, ratio, trial, method), which
//! makes results identical whatever the number of jobs (timings aside).
//! Seeds are derived from (SEED, N, ratio, trial), so a shard, a resumed run
//! and a full run compute the same rows.

use partrec_baseline::learn::{learn, LearnOptions, LearnReport};
use partrec_core::check::compare_with_planted;
use partrec_core::error::{Error, Result};
use partrec_core::generate::{add_noise, check_zipf, generate, samples_for_ratio, GenerateParams};
use partrec_core::io::json::{plain_words, Described, Obj};
use partrec_core::model::instance::Instance;
use partrec_solve::solution::Solution;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// The parameters of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepConfig {
    /// Number of groups I.
    pub groups: usize,
    /// Tokens per group, one curve per value.
    pub tokens: Vec<u32>,
    /// Classes per group K.
    pub classes: u32,
    /// Values V.
    pub values: u32,
    /// Sample ratios: S = round(ratio * N ln N).
    pub ratios: Vec<f64>,
    /// Trials per (N, ratio).
    pub trials: u32,
    /// Master seed.
    pub seed: u64,
    /// Run only the points with index = i mod n, as `(i, n)`.
    pub shard: Option<(usize, usize)>,
    /// The methods run on every instance.
    pub methods: Vec<Method>,
    /// Each value flipped with this probability ([`add_noise`]); above 0 the exact
    /// method finds the partitions violating the fewest samples (`--max-consistent`).
    pub noise: f64,
    /// Token frequencies ([`GenerateParams::zipf`]): uniform when `None`, else by Zipf's
    /// law with this exponent.
    pub zipf: Option<f64>,
}

/// How a sweep solves an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// The exact solver with the uniqueness check (under the sweep's timeout, if any).
    Sat,
    /// The gradient method ([`partrec_baseline::learn`], default options, seeded by the point's seed):
    /// it recovers or not, and never proves uniqueness. It runs in process, without timeout.
    Gd,
}

impl Method {
    /// Whether the method can prove a partition unique (and so fill `unique`).
    pub fn proves_uniqueness(self) -> bool {
        self == Method::Sat
    }

    /// Whether the method named `name` in a row can prove uniqueness.
    pub fn named_proves_uniqueness(name: &str) -> bool {
        name.parse::<Method>().is_ok_and(Method::proves_uniqueness)
    }

    /// The name used in rows and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Method::Sat => "sat",
            Method::Gd => "gd",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Method, String> {
        match s {
            "sat" => Ok(Method::Sat),
            "gd" => Ok(Method::Gd),
            _ => Err(format!("unknown method {s:?}: expected sat or gd")),
        }
    }
}

/// One point of the sweep.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Tokens per group.
    pub n: u32,
    /// Sample ratio.
    pub ratio: f64,
    /// Trial number.
    pub trial: u32,
}

impl Described for Row {
    const EXPECTED: &'static str = "a sweep row object";
}

/// The most points (rows) one sweep may have.
pub const MAX_POINTS: u64 = 1 << 20;

/// One result row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Tokens per group N.
    pub n: u32,
    /// Sample ratio (S = round(ratio N ln N)).
    pub ratio: f64,
    /// Trial number.
    pub trial: u32,
    /// How the instance was solved.
    pub method: String,
    /// The instance's seed (as for `partrec generate --seed`).
    pub seed: u64,
    /// Groups I.
    pub groups: usize,
    /// Classes K.
    pub classes: u32,
    /// Values V.
    pub values: u32,
    /// Samples S.
    pub samples: usize,
    /// S / N.
    pub samples_per_token: f64,
    /// sat, unsat or unknown.
    pub status: String,
    /// Uniqueness verdict (empty when undecided).
    pub unique: Option<bool>,
    /// The partition found equals the planted one up to renaming (empty without a partition).
    pub recovered: Option<bool>,
    /// Fraction of tokens right under the best renaming (empty without a partition).
    pub accuracy: Option<f64>,
    /// Fraction of tokens that occur in some sample.
    pub observed_fraction: f64,
    /// CNF variables.
    pub variables: usize,
    /// CNF clauses.
    pub clauses: usize,
    /// Encoding seconds.
    pub encode_s: f64,
    /// Seconds to the first answer.
    pub solve_s: f64,
    /// Seconds for the uniqueness check.
    pub unique_s: f64,
    /// Wall-clock seconds for the whole solve (what the summary's times are).
    pub seconds: f64,
    /// The deadline struck.
    pub timed_out: bool,
    /// The probability each value was flipped with.
    #[serde(default)]
    pub noise: f64,
    /// Samples the exact method dropped (with noise; empty otherwise).
    #[serde(default)]
    pub dropped: Option<usize>,
    /// The Zipf exponent of the token frequencies; empty for uniform tokens.
    #[serde(default)]
    pub zipf: Option<f64>,
}

impl Row {
    /// The row with its timings zeroed: what two runs of one sweep must agree on.
    pub fn untimed(self) -> Row {
        Row {
            encode_s: 0.0,
            solve_s: 0.0,
            unique_s: 0.0,
            seconds: 0.0,
            ..self
        }
    }

    /// The identity of a row: (N, ratio, trial, method).
    pub fn key(&self) -> Key {
        (
            self.n,
            self.ratio.to_bits(),
            self.trial,
            self.method.clone(),
        )
    }
}

/// The identity of a row ([`Row::key`]): (N, ratio bits, trial, method).
pub type Key = (u32, u64, u32, String);

/// The first of `values` that repeats an earlier one (the same `key`), as text.
fn repeated<T: std::fmt::Display>(values: &[T], key: impl Fn(&T) -> u64) -> Option<String> {
    let mut seen = HashSet::new();
    values
        .iter()
        .find(|v| !seen.insert(key(v)))
        .map(ToString::to_string)
}

/// How the tokens of an experiment are drawn, as messages say it.
fn token_draws(zipf: Option<f64>) -> String {
    zipf.map_or("uniform tokens".into(), |s| format!("zipf {s}"))
}

/// SplitMix64: a fixed, portable mixing function for deriving seeds.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of point (N, ratio, trial) under master seed `seed`.
pub fn point_seed(seed: u64, p: &Point) -> u64 {
    [u64::from(p.n), p.ratio.to_bits(), u64::from(p.trial)]
        .iter()
        .fold(splitmix(seed), |acc, &v| splitmix(acc ^ v))
}

impl SweepConfig {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.noise) || (self.noise > 0.0 && self.values < 2) {
            return Err(Error::param(
                "noise",
                format!(
                    "must be a probability from 0 to 1 (with at least 2 values), got {}",
                    self.noise
                ),
            ));
        }
        if let Some(s) = self.zipf {
            check_zipf(s)?;
        }
        let at_least_one = [
            ("groups", self.groups == 0),
            ("tokens", self.tokens.is_empty()),
            ("ratios", self.ratios.is_empty()),
            ("trials", self.trials == 0),
            ("method", self.methods.is_empty()),
        ];
        if let Some((name, _)) = at_least_one.iter().find(|(_, missing)| *missing) {
            return Err(Error::param(name, "needs at least one value (>= 1)"));
        }
        if self.ratios.iter().any(|r| !(r.is_finite() && *r >= 0.0)) {
            return Err(Error::param("ratios", "must be finite numbers >= 0"));
        }
        // A value given twice would run its points twice: one row per point is kept.
        let twice = [
            ("tokens", repeated(&self.tokens, |&n| u64::from(n))),
            ("ratios", repeated(&self.ratios, |&r| (r + 0.0).to_bits())),
            ("method", repeated(&self.methods, |&m| m as u64)),
        ];
        if let Some((name, Some(value))) = twice.iter().find(|(_, v)| v.is_some()) {
            return Err(Error::param(name, format!("lists {value} twice")));
        }
        let points = (self.tokens.len() as u64)
            .saturating_mul(self.ratios.len() as u64)
            .saturating_mul(u64::from(self.trials))
            .saturating_mul(self.methods.len() as u64);
        if points > MAX_POINTS {
            return Err(Error::Usage(format!(
                "the sweep would have {points} points (tokens x ratios x trials x methods); at most {MAX_POINTS} are run"
            )));
        }
        if let Some((i, n)) = self.shard {
            if n == 0 || i >= n {
                return Err(Error::param("shard", "i/n needs 0 <= i < n"));
            }
        }
        // Fail on impossible parameters now, not in a worker.
        for &n in &self.tokens {
            generate(&self.params(n, 0, 1), None)?;
            for &ratio in &self.ratios {
                samples_for_ratio(&vec![n; self.groups], ratio)?;
            }
        }
        Ok(())
    }

    fn params(&self, n: u32, samples: usize, seed: u64) -> GenerateParams {
        GenerateParams {
            tokens: vec![n; self.groups],
            classes: vec![self.classes; self.groups],
            values: self.values,
            samples,
            seed,
            zipf: self.zipf,
        }
    }

    /// Checks that the rows of `file` (an earlier run's, to resume) come from this very
    /// experiment: the same noise, token draws (zipf), groups, classes and values, and
    /// each row's seed is the one this master seed gives its point. Resuming anything
    /// else would mix rows.
    pub fn check_resumable(&self, file: &RowFile) -> Result<()> {
        for (line, r) in &file.rows {
            let point = Point {
                n: r.n,
                ratio: r.ratio,
                trial: r.trial,
            };
            let differs = if r.noise != self.noise {
                Some(format!("noise {} (this sweep: {})", r.noise, self.noise))
            } else if r.zipf != self.zipf {
                Some(format!(
                    "{} (this sweep: {})",
                    token_draws(r.zipf),
                    token_draws(self.zipf)
                ))
            } else if (r.groups, r.classes, r.values) != (self.groups, self.classes, self.values) {
                Some(format!(
                    "groups {}, classes {}, values {} (this sweep: {}, {}, {})",
                    r.groups, r.classes, r.values, self.groups, self.classes, self.values
                ))
            } else if r.seed != point_seed(self.seed, &point) {
                Some("its seed is not this sweep's seed for its point (another --seed)".into())
            } else {
                None
            };
            if let Some(d) = differs {
                return Err(Error::input(
                    &file.origin,
                    format!("line {line}: a row from another experiment: {d}; resume with the same parameters, or write to a new file"),
                ));
            }
        }
        Ok(())
    }

    /// The points of this sweep (this shard's), in order.
    pub fn points(&self) -> Vec<Point> {
        let mut all = Vec::new();
        for &n in &self.tokens {
            for &ratio in &self.ratios {
                for trial in 0..self.trials {
                    all.push(Point { n, ratio, trial });
                }
            }
        }
        match self.shard {
            Some((i, n)) => all
                .into_iter()
                .enumerate()
                .filter(|(k, _)| k % n == i)
                .map(|(_, p)| p)
                .collect(),
            None => all,
        }
    }

    /// The planted instance of a point, exactly as `partrec generate` makes it.
    pub fn instance(&self, p: &Point) -> Result<Instance> {
        let tokens = vec![p.n; self.groups];
        let samples = samples_for_ratio(&tokens, p.ratio)?;
        let seed = point_seed(self.seed, p);
        let instance = generate(&self.params(p.n, samples, seed), Some(p.ratio))?;
        match self.noise > 0.0 {
            true => add_noise(instance, self.noise, self.values, seed),
            false => Ok(instance),
        }
    }

    /// The columns every method fills alike; the rest are zero or empty.
    fn base_row(&self, p: &Point, method: Method, instance: &Instance) -> Row {
        let mut seen = std::collections::HashSet::new();
        for s in 0..instance.num_samples() {
            seen.extend(instance.x(s).iter().enumerate());
        }
        Row {
            n: p.n,
            ratio: p.ratio,
            trial: p.trial,
            method: method.to_string(),
            seed: point_seed(self.seed, p),
            groups: self.groups,
            classes: self.classes,
            values: self.values,
            samples: instance.num_samples(),
            samples_per_token: instance.num_samples() as f64 / f64::from(p.n),
            status: String::new(),
            unique: None,
            recovered: None,
            accuracy: None,
            observed_fraction: seen.len() as f64 / (self.groups as f64 * f64::from(p.n)),
            variables: 0,
            clauses: 0,
            encode_s: 0.0,
            solve_s: 0.0,
            unique_s: 0.0,
            seconds: 0.0,
            timed_out: false,
            noise: self.noise,
            dropped: None,
            zipf: self.zipf,
        }
    }

    /// Makes the `sat` row of a point from its solution.
    pub fn row(&self, p: &Point, instance: &Instance, solution: &Solution) -> Row {
        let planted = solution
            .partition
            .as_ref()
            .and_then(|part| compare_with_planted(instance, part));
        let st = &solution.stats;
        Row {
            status: format!("{:?}", solution.status).to_lowercase(),
            unique: solution.unique,
            recovered: planted.as_ref().map(|c| c.equals_planted),
            accuracy: planted.as_ref().map(|c| c.accuracy),
            variables: st.variables,
            clauses: st.clauses,
            encode_s: st.encode_seconds,
            solve_s: st.solve_seconds,
            unique_s: st.unique_seconds,
            seconds: st.seconds(),
            timed_out: st.timed_out,
            dropped: solution.max_consistent.as_ref().map(|m| m.dropped.len()),
            ..self.base_row(p, Method::Sat, instance)
        }
    }

    /// Makes the `gd` row of a point from what was learned: `recovered` and `accuracy`
    /// judge the learned partition (consistent or not), `solve_s` is the training time.
    pub fn learn_row(&self, p: &Point, instance: &Instance, report: &LearnReport) -> Row {
        Row {
            status: format!("{:?}", report.status).to_lowercase(),
            recovered: report.planted.as_ref().map(|c| c.equals_planted),
            accuracy: report.planted.as_ref().map(|c| c.accuracy),
            solve_s: report.training.train_seconds,
            seconds: report.training.seconds,
            ..self.base_row(p, Method::Gd, instance)
        }
    }

    /// Runs `method` on the instance of point `p`.
    fn method_row(
        &self,
        p: &Point,
        method: Method,
        instance: &Instance,
        solver: &Solver,
    ) -> Result<Row> {
        match method {
            Method::Sat => Ok(self.row(p, instance, &solver(instance)?)),
            Method::Gd => {
                let options = LearnOptions {
                    seed: point_seed(self.seed, p),
                    ..LearnOptions::default()
                };
                Ok(self.learn_row(p, instance, &learn(instance, &options)?))
            }
        }
    }
}

/// A way to solve one instance exactly (in process, or in a child under a deadline).
pub type Solver<'a> = dyn Fn(&Instance) -> Result<Solution> + Sync + 'a;

/// Runs every point not in `done` on `jobs` threads, calling `on_row` with each row as it
/// finishes, and returns the new rows sorted.
pub fn run(
    config: &SweepConfig,
    done: &HashSet<Key>,
    jobs: usize,
    solver: &Solver,
    on_row: &mut dyn FnMut(&Row) -> Result<()>,
) -> Result<Vec<Row>> {
    let todo: Vec<(Point, Vec<Method>)> = config
        .points()
        .into_iter()
        .map(|p| {
            let methods = config
                .methods
                .iter()
                .copied()
                .filter(|m| !done.contains(&(p.n, p.ratio.to_bits(), p.trial, m.to_string())))
                .collect::<Vec<_>>();
            (p, methods)
        })
        .filter(|(_, methods)| !methods.is_empty())
        .collect();
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<Result<Row>>();
    let mut rows = Vec::with_capacity(todo.len());
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..jobs.max(1) {
            let tx = tx.clone();
            let (todo, next) = (&todo, &next);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((p, methods)) = todo.get(i) else {
                    break;
                };
                let instance = match config.instance(p) {
                    Ok(instance) => instance,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                for &method in methods {
                    let row = config.method_row(p, method, &instance, solver);
                    if tx.send(row).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        for row in rx {
            let row = row?;
            on_row(&row)?;
            rows.push(row);
        }
        Ok(())
    })?;
    sort_rows(&mut rows);
    Ok(rows)
}

/// Sorts rows by (N, ratio, trial, method).
pub fn sort_rows(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        (a.n, a.ratio, a.trial, &a.method)
            .partial_cmp(&(b.n, b.ratio, b.trial, &b.method))
            .expect("ratios are finite")
    });
}

/// The columns of the CSV format, in order.
pub const CSV_COLUMNS: [&str; 25] = [
    "n",
    "ratio",
    "trial",
    "method",
    "seed",
    "groups",
    "classes",
    "values",
    "samples",
    "samples_per_token",
    "status",
    "unique",
    "recovered",
    "accuracy",
    "observed_fraction",
    "variables",
    "clauses",
    "encode_s",
    "solve_s",
    "unique_s",
    "seconds",
    "timed_out",
    "noise",
    "dropped",
    "zipf",
];

/// The headers of older row files, as counts of leading [`CSV_COLUMNS`]: before `noise`
/// and `dropped` (read as noise 0), and before `zipf` (read as uniform tokens).
const OLDER_COLUMNS: [usize; 2] = [CSV_COLUMNS.len() - 3, CSV_COLUMNS.len() - 1];

/// Row files: CSV (by default) or JSON lines (a `.jsonl` name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated, with a header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// The format a file name asks for.
    pub fn of(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl") => Format::Jsonl,
            _ => Format::Csv,
        }
    }

    /// One row as a line (no newline).
    pub fn line(self, row: &Row) -> String {
        match self {
            Format::Jsonl => serde_json::to_string(row).expect("rows serialize"),
            Format::Csv => {
                let v = serde_json::to_value(row).expect("rows serialize");
                CSV_COLUMNS
                    .iter()
                    .map(|c| match &v[*c] {
                        serde_json::Value::Null => String::new(),
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            }
        }
    }

    /// A whole row file: the CSV header, then one line per row.
    pub fn text(self, rows: &[Row]) -> String {
        let mut text = String::new();
        if self == Format::Csv {
            text.push_str(&CSV_COLUMNS.join(","));
            text.push('\n');
        }
        for r in rows {
            text.push_str(&self.line(r));
            text.push('\n');
        }
        text
    }

    /// Parses a row file's text, refusing a row that is not possible ([`Row::check`]);
    /// `origin` names it in errors.
    pub fn parse(self, text: &str, origin: &str) -> Result<RowFile> {
        let mut rows = Vec::new();
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let mut columns: &[&str] = &CSV_COLUMNS;
        if self == Format::Csv {
            match lines.next() {
                None => return Ok(RowFile::new(origin, rows)),
                Some((_, header)) => {
                    let count = std::iter::once(CSV_COLUMNS.len())
                        .chain(OLDER_COLUMNS)
                        .find(|&k| header == CSV_COLUMNS[..k].join(","))
                        .ok_or_else(|| {
                            Error::input(
                                origin,
                                format!("line 1: expected the header {}", CSV_COLUMNS.join(",")),
                            )
                        })?;
                    columns = &CSV_COLUMNS[..count];
                }
            }
        }
        for (i, line) in lines {
            let value = match self {
                Format::Jsonl => serde_json::from_str(line).map_err(|e| e.to_string()),
                Format::Csv => csv_value(line, columns),
            };
            let row = value
                .and_then(|v| {
                    serde_json::from_value::<Obj<Row>>(v)
                        .map(|o| o.0)
                        .map_err(|e| e.to_string())
                })
                .map_err(|e| {
                    let e = plain_words(&e);
                    Error::input(origin, format!("line {}: not a sweep row: {e}", i + 1))
                })?;
            row.check().map_err(|e| {
                Error::input(origin, format!("line {}: impossible sweep row: {e}", i + 1))
            })?;
            rows.push((i + 1, row));
        }
        Ok(RowFile::new(origin, rows))
    }
}

/// A CSV line as a JSON object, typed by column.
fn csv_value(line: &str, columns: &[&str]) -> std::result::Result<serde_json::Value, String> {
    let cells: Vec<&str> = line.split(',').collect();
    if cells.len() != columns.len() {
        return Err(format!(
            "{} fields, expected {}",
            cells.len(),
            columns.len()
        ));
    }
    let mut map = serde_json::Map::new();
    for (c, cell) in columns.iter().zip(cells) {
        let v = if cell.is_empty() {
            serde_json::Value::Null
        } else if matches!(*c, "method" | "status") {
            serde_json::Value::String(cell.to_string())
        } else {
            serde_json::from_str(cell)
                .map_err(|_| format!("column {c}: {cell:?} is not a value"))?
        };
        map.insert(c.to_string(), v);
    }
    Ok(serde_json::Value::Object(map))
}

/// The rows of one row file, each with the line it was read from.
#[derive(Clone, Debug, PartialEq)]
pub struct RowFile {
    /// The file's name, as messages give it.
    pub origin: String,
    /// (line number from 1, row), in file order.
    pub rows: Vec<(usize, Row)>,
}

impl RowFile {
    fn new(origin: &str, rows: Vec<(usize, Row)>) -> RowFile {
        RowFile {
            origin: origin.to_string(),
            rows,
        }
    }

    /// Reads a row file (format by its name); a missing file has no rows.
    pub fn read(path: &Path) -> Result<RowFile> {
        let origin = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Format::of(path).parse(&text, &origin),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(RowFile::new(&origin, Vec::new()))
            }
            Err(e) => Err(Error::io(path.display(), e)),
        }
    }
}

/// The rows of a row file ([`RowFile::read`]) without their line numbers.
pub fn read_rows(path: &Path) -> Result<Vec<Row>> {
    Ok(RowFile::read(path)?
        .rows
        .into_iter()
        .map(|(_, r)| r)
        .collect())
}

/// Appends rows to a file as they come, writing the CSV header first if the file is new.
pub struct RowWriter {
    file: std::fs::File,
    format: Format,
    path: String,
}

impl RowWriter {
    /// Opens `path` for appending.
    pub fn append(path: &Path) -> Result<RowWriter> {
        let format = Format::of(path);
        let io = |e| Error::io(path.display(), e);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        if format == Format::Csv && file.metadata().map_err(io)?.len() == 0 {
            writeln!(file, "{}", CSV_COLUMNS.join(",")).map_err(io)?;
        }
        Ok(RowWriter {
            file,
            format,
            path: path.display().to_string(),
        })
    }

    /// Appends one row and flushes it.
    pub fn write(&mut self, row: &Row) -> Result<()> {
        writeln!(self.file, "{}", self.format.line(row))
            .and_then(|_| self.file.flush())
            .map_err(|e| Error::io(&self.path, e))
    }
}

/// The rows of several files as one experiment: sorted, one row per (N, ratio, trial,
/// method) (the first read). Refused, naming the file and line, when they cannot be
/// one experiment: different groups, classes, values, noise or token draws (zipf), or
/// two different rows for one point and method (timings aside).
pub fn merge(files: &[RowFile]) -> Result<Vec<Row>> {
    let mut first: Option<(&str, usize, &Row)> = None;
    let mut by_key: HashMap<Key, (&str, usize, Row)> = HashMap::new();
    let mut rows = Vec::new();
    let experiment = |r: &Row| (r.groups, r.classes, r.values, r.noise, r.zipf);
    let describe = |r: &Row| {
        format!(
            "groups {}, classes {}, values {}, noise {}, {}",
            r.groups,
            r.classes,
            r.values,
            r.noise,
            token_draws(r.zipf)
        )
    };
    for file in files {
        let origin = file.origin.as_str();
        for (line, r) in &file.rows {
            let (o, l, f) = *first.get_or_insert((origin, *line, r));
            if experiment(r) != experiment(f) {
                return Err(Error::input(
                    origin,
                    format!(
                        "line {line}: {} cannot be merged with {o} line {l}'s {}: another experiment",
                        describe(r),
                        describe(f)
                    ),
                ));
            }
            let untimed = r.clone().untimed();
            match by_key.get(&r.key()) {
                Some((o, l, prev)) if *prev != untimed => {
                    return Err(Error::input(
                        origin,
                        format!(
                            "line {line}: the row for N={}, ratio {}, trial {}, method {} differs from {o} line {l}'s: another experiment (another --seed?)",
                            r.n, r.ratio, r.trial, r.method
                        ),
                    ))
                }
                Some(_) => {}
                None => {
                    by_key.insert(r.key(), (origin, *line, untimed));
                    rows.push(r.clone());
                }
            }
        }
    }
    sort_rows(&mut rows);
    Ok(rows)
}

/// Rows as a row file holds them: sorted, one per (N, ratio, trial, method) (the first).
pub fn canonical(mut rows: Vec<Row>) -> Vec<Row> {
    sort_rows(&mut rows);
    let mut seen = HashSet::new();
    rows.retain(|r| seen.insert(r.key()));
    rows
}

/// Writes rows, in the order given, to `path`, replacing it atomically.
pub fn write_rows(path: &Path, rows: &[Row]) -> Result<()> {
    let text = Format::of(path).text(rows);
    partrec_core::io::output::write_file(path, |w| w.write_all(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use partrec_solve::{solve, SolveOptions};

    fn config() -> SweepConfig {
        SweepConfig {
            groups: 2,
            tokens: vec![20, 30],
            classes: 2,
            values: 2,
            ratios: vec![1.0, 6.0],
            trials: 3,
            seed: 5,
            shard: None,
            methods: vec![Method::Sat],
            noise: 0.0,
            zipf: None,
        }
    }

    fn in_process(inst: &Instance) -> Result<Solution> {
        solve(inst, &SolveOptions::unique(), &mut |_| {})
    }

    #[test]
    fn seeds_depend_on_every_coordinate() {
        let p = Point {
            n: 100,
            ratio: 2.0,
            trial: 0,
        };
        let s = point_seed(1, &p);
        assert_eq!(s, point_seed(1, &p));
        assert_ne!(s, point_seed(2, &p));
        assert_ne!(s, point_seed(1, &Point { n: 101, ..p }));
        assert_ne!(s, point_seed(1, &Point { ratio: 2.5, ..p }));
        assert_ne!(s, point_seed(1, &Point { trial: 1, ..p }));
    }

    #[test]
    fn shards_partition_the_points() {
        let c = config();
        let all = c.points();
        assert_eq!(all.len(), 12);
        let mut union: Vec<Point> = (0..3)
            .flat_map(|i| {
                SweepConfig {
                    shard: Some((i, 3)),
                    ..c.clone()
                }
                .points()
            })
            .collect();
        union.sort_by(|a, b| {
            (a.n, a.ratio, a.trial)
                .partial_cmp(&(b.n, b.ratio, b.trial))
                .unwrap()
        });
        assert_eq!(union, all);
    }

    #[test]
    fn rows_are_the_same_for_any_number_of_jobs_and_round_trip_through_files() {
        let c = config();
        let strip = |rows: Vec<Row>| -> Vec<Row> { rows.into_iter().map(Row::untimed).collect() };
        let one = run(&c, &HashSet::new(), 1, &in_process, &mut |_| Ok(())).unwrap();
        let two = run(&c, &HashSet::new(), 2, &in_process, &mut |_| Ok(())).unwrap();
        assert_eq!(strip(one.clone()), strip(two));
        assert!(one
            .iter()
            .all(|r| r.status == "sat" && r.accuracy.is_some()));
        round_trips("test", &one);
        let done: HashSet<_> = one.iter().take(5).map(Row::key).collect();
        let rest = run(&c, &done, 2, &in_process, &mut |_| Ok(())).unwrap();
        assert_eq!(rest.len(), one.len() - 5);
    }

    /// Writes `rows` as CSV and as JSON lines (in a scratch folder named by `tag`) and
    /// checks that both read back equal.
    fn round_trips(tag: &str, rows: &[Row]) {
        let dir = std::env::temp_dir().join(format!("partrec-sweep-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["rows.csv", "rows.jsonl"] {
            let path = dir.join(name);
            write_rows(&path, rows).unwrap();
            assert_eq!(read_rows(&path).unwrap(), rows, "{name}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_files_name_the_line() {
        let e = Format::Csv
            .parse("n,ratio\n", "r.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("r.csv: line 1: expected the header"), "{e}");
        let text = format!("{}\n1,2\n", CSV_COLUMNS.join(","));
        let e = Format::Csv.parse(&text, "r.csv").unwrap_err().to_string();
        assert!(e.contains("line 2: not a sweep row: 2 fields"), "{e}");
        // An impossible row is refused at its line, in either format.
        let mut rows = small_rows();
        rows[1].status = "maybe".into();
        for (format, line) in [(Format::Csv, 3), (Format::Jsonl, 2)] {
            let e = format
                .parse(&format.text(&rows), "r")
                .unwrap_err()
                .to_string();
            let want = format!("r: line {line}: impossible sweep row: status \"maybe\"");
            assert!(e.starts_with(&want), "{e}");
        }
    }

    /// The small sweep of [`small_rows`] (N = 20, ratio 1, two trials, both methods).
    fn small() -> SweepConfig {
        SweepConfig {
            tokens: vec![20],
            ratios: vec![1.0],
            trials: 2,
            methods: vec![Method::Sat, Method::Gd],
            ..config()
        }
    }

    /// The rows of a sweep, in process and on one thread.
    fn rows_of(c: &SweepConfig) -> Vec<Row> {
        run(c, &HashSet::new(), 1, &in_process, &mut |_| Ok(())).unwrap()
    }

    /// The rows of a small sweep: N = 20, ratio 1, two trials, both methods.
    fn small_rows() -> Vec<Row> {
        rows_of(&small())
    }

    /// The small sweep with Zipfian tokens (exponent 1).
    fn zipfian() -> SweepConfig {
        SweepConfig {
            zipf: Some(1.0),
            ..small()
        }
    }

    /// A CSV row file as an older version wrote it: without its last `k` columns.
    fn older(rows: &[Row], k: usize) -> String {
        Format::Csv
            .text(rows)
            .lines()
            .map(|l| l.rsplitn(k + 1, ',').last().unwrap().to_string() + "\n")
            .collect()
    }

    /// The rows of a CSV text.
    fn parsed(text: &str, origin: &str) -> Vec<Row> {
        let file = Format::Csv.parse(text, origin).unwrap();
        file.rows.into_iter().map(|(_, r)| r).collect()
    }

    #[test]
    fn rows_of_a_sweep_are_possible_and_old_files_still_read() {
        let rows = small_rows();
        assert_eq!(rows.len(), 4);
        for r in &rows {
            assert_eq!(r.check(), Ok(()), "{r:?}");
        }
        // The header before noise and dropped: those read as 0 and empty.
        let old = older(&rows, 3);
        assert!(old.starts_with(&(CSV_COLUMNS[..OLDER_COLUMNS[0]].join(",") + "\n")));
        assert_eq!(parsed(&old, "old.csv"), rows);
        // The header before zipf: uniform tokens.
        let old = older(&rows, 1);
        assert!(old.starts_with(&(CSV_COLUMNS[..OLDER_COLUMNS[1]].join(",") + "\n")));
        assert_eq!(parsed(&old, "old.csv"), rows);
        // Any other prefix of the header is refused.
        let e = Format::Csv
            .parse(&older(&rows, 2), "odd.csv")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("odd.csv: line 1: expected the header"), "{e}");
    }

    #[test]
    fn zipf_rows_record_it_and_round_trip_and_older_files_read_as_uniform() {
        let c = zipfian();
        let rows = rows_of(&c);
        assert_eq!(rows.len(), 4);
        for r in &rows {
            assert_eq!(r.zipf, Some(1.0));
            assert_eq!(r.check(), Ok(()), "{r:?}");
        }
        let meta = c.instance(&c.points()[0]).unwrap().meta.unwrap();
        assert!(meta.get().contains("\"zipf\":1.0"), "{}", meta.get());
        round_trips("zipf", &rows);
        // Uniform rows have the cell empty; a file without the column reads as uniform.
        let text = Format::Csv.text(&small_rows());
        assert!(text.lines().skip(1).all(|l| l.ends_with(',')), "{text}");
        let old = parsed(&older(&rows, 1), "old.csv");
        assert!(old.iter().all(|r| r.zipf.is_none()), "{old:?}");
        let file = Format::Csv.parse(&older(&rows, 1), "old.csv").unwrap();
        assert!(small().check_resumable(&file).is_ok());
        assert!(c.check_resumable(&file).is_err());
    }

    #[test]
    fn a_bad_zipf_is_refused_by_the_config_naming_zipf() {
        for s in [-1.0, 8.5, f64::NAN, f64::INFINITY] {
            let c = SweepConfig {
                zipf: Some(s),
                ..config()
            };
            match c.validate() {
                Err(Error::Param { name, message }) => {
                    assert_eq!(name, "zipf");
                    assert!(
                        message.contains("must be an exponent from 0 to 8"),
                        "{message}"
                    );
                }
                other => panic!("zipf {s}: {other:?}"),
            }
        }
        for s in [0.0, 1.0, 8.0] {
            let c = SweepConfig {
                zipf: Some(s),
                ..config()
            };
            assert!(c.validate().is_ok(), "zipf {s}");
        }
    }

    #[test]
    fn resume_refuses_rows_of_another_zipf() {
        let file = |rows: &[Row]| Format::Csv.parse(&Format::Csv.text(rows), "r.csv").unwrap();
        let (uniform, zipf) = (file(&small_rows()), file(&rows_of(&zipfian())));
        assert!(small().check_resumable(&uniform).is_ok());
        assert!(zipfian().check_resumable(&zipf).is_ok());
        let e = small().check_resumable(&zipf).unwrap_err().to_string();
        assert!(
            e.starts_with(
                "r.csv: line 2: a row from another experiment: zipf 1 (this sweep: uniform tokens)"
            ),
            "{e}"
        );
        let e = zipfian().check_resumable(&uniform).unwrap_err().to_string();
        assert!(e.contains("uniform tokens (this sweep: zipf 1)"), "{e}");
        let steeper = SweepConfig {
            zipf: Some(2.0),
            ..small()
        };
        let e = steeper.check_resumable(&zipf).unwrap_err().to_string();
        assert!(e.contains("zipf 1 (this sweep: zipf 2)"), "{e}");
    }

    #[test]
    fn merge_keeps_one_row_per_point_and_names_the_line_of_a_conflict() {
        let rows = small_rows();
        let file =
            |name: &str, rows: &[Row]| Format::Csv.parse(&Format::Csv.text(rows), name).unwrap();
        let a = file("a.csv", &rows);
        assert_eq!(
            merge(&[a.clone(), a.clone()]).unwrap(),
            rows,
            "a copy adds nothing"
        );
        // Overlapping files: the first file's timings are kept.
        let slower: Vec<Row> = rows
            .iter()
            .map(|r| Row {
                seconds: r.seconds + 1.0,
                ..r.clone()
            })
            .collect();
        let b = file("b.csv", &slower[1..]);
        assert_eq!(merge(&[a.clone(), b.clone()]).unwrap(), rows);
        assert_eq!(merge(&[b, a.clone()]).unwrap()[1..], slower[1..]);
        let mut twice = rows.clone();
        twice.extend(slower.iter().rev().cloned());
        assert_eq!(canonical(twice), rows);
        // Two different rows for one point: refused, naming both lines.
        let mut other = rows.clone();
        other[2].seed += 1;
        let e = merge(&[a.clone(), file("b.csv", &other)])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("b.csv: line 4: the row for N=20, ratio 1, trial 1, method gd differs from a.csv line 4's"),
            "{e}"
        );
        let mut conflict = rows.clone();
        conflict.push(other[2].clone());
        let e = merge(&[file("c.csv", &conflict)]).unwrap_err().to_string();
        assert!(e.starts_with("c.csv: line 6: the row for N=20, ratio 1, trial 1, method gd differs from c.csv line 4's"), "{e}");
        // Another noise level is another experiment.
        let noisy = vec![Row {
            noise: 0.1,
            dropped: Some(0),
            ..rows[1].clone()
        }];
        let e = merge(&[a.clone(), file("d.csv", &noisy)])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("d.csv: line 2: groups 2, classes 2, values 2, noise 0.1, uniform tokens cannot be merged with a.csv line 2's groups 2, classes 2, values 2, noise 0, uniform tokens: another experiment"),
            "{e}"
        );
        // So is another token distribution, whichever file comes first.
        let zipf_rows = rows_of(&zipfian());
        let z = file("z.csv", &zipf_rows);
        assert_eq!(merge(&[z.clone(), z.clone()]).unwrap(), zipf_rows);
        let e = merge(&[a.clone(), z.clone()]).unwrap_err().to_string();
        assert!(
            e.starts_with("z.csv: line 2: groups 2, classes 2, values 2, noise 0, zipf 1 cannot be merged with a.csv line 2's groups 2, classes 2, values 2, noise 0, uniform tokens: another experiment"),
            "{e}"
        );
        let e = merge(&[z, a]).unwrap_err().to_string();
        assert!(
            e.starts_with("a.csv: line 2: groups 2, classes 2, values 2, noise 0, uniform tokens cannot be merged with z.csv line 2's"),
            "{e}"
        );
    }

    #[test]
    fn a_value_given_twice_is_refused() {
        for (c, want) in [
            (
                SweepConfig {
                    tokens: vec![20, 30, 20],
                    ..config()
                },
                "tokens lists 20 twice",
            ),
            (
                SweepConfig {
                    ratios: vec![0.0, -0.0],
                    ..config()
                },
                "ratios lists -0 twice",
            ),
            (
                SweepConfig {
                    methods: vec![Method::Gd, Method::Gd],
                    ..config()
                },
                "method lists gd twice",
            ),
        ] {
            assert_eq!(c.validate().unwrap_err().to_string(), want);
        }
    }
}
