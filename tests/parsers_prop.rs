//! Property tests of partrec's readers: the instance
//! reader (`Instance::from_json`, `from_json_with_options`), the solution reader and
//! judge (`check::Candidate::from_json`, `check::judge`), the DIMACS `.col` reader
//! (`graph::parse_col`) and the colouring-file reader (`reduce::ColoringFile`).
//!
//! They are fed random bytes, well-formed JSON of the wrong shape (arrays in place of
//! objects, wrong types, missing and unknown fields, nested garbage) and extreme
//! numbers. Properties: nothing panics; an error is exactly one line that starts with
//! the origin; every accepted instance round-trips through `to_json`; numbers are
//! read exactly or refused; declared sizes cost only what the data costs (checked in
//! child processes under a 2 GB address-space cap, so that an allocation driven by a
//! declared count fails a test instead of aborting this one).
//!
//! Every run is the same run: a fixed case count and a fixed ChaCha seed, whatever
//! `PROPTEST_RNG_SEED` or `PROPTEST_CASES` say, and no regression files are written.
//! The libFuzzer targets for the same readers are in `fuzz/` (see `.ci/fuzz-smoke`).

use partrec::check::{judge, Candidate};
use partrec::reduction::coloring::ColoringFile;
use partrec::reduction::graph::parse_col;
use partrec::Instance;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestCaseError, TestRunner};
use std::time::{Duration, Instant};

type TestResult = Result<(), TestCaseError>;

const INSTANCE: &str = "prop-instance.json";
const SOLUTION: &str = "prop-solution.json";
const COL: &str = "prop.col";
const COLORING: &str = "prop-coloring.json";

/// A fixed instance (with a planted partition) that solutions are judged against.
const FIXED: &str = r#"{"groups":[{"tokens":3,"classes":2},{"tokens":2,"classes":2,"token_names":["a","b"]}],
"samples":[{"x":[0,0],"y":0},{"x":[1,0],"y":0},{"x":[2,0],"y":1},{"x":[2,1],"y":"z"},{"x":[0,1],"y":0.5}],
"planted":{"partition":[[0,0,1],[0,1]],"table":[{"cell":[0,0],"y":0}]}}"#;

/// Deterministic: a fixed case count and seed; failures are not persisted.
fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x1111_2024),
        failure_persistence: None,
        max_shrink_iters: 512,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------
// Checks shared by the properties
// ---------------------------------------------------------------------------

/// A reader's error: bad input (exit 2), exactly one line, starting with `origin: `.
fn one_line_error(e: &partrec::Error, origin: &str, input: &[u8]) -> TestResult {
    let msg = e.to_string();
    prop_assert!(
        !msg.contains('\n') && !msg.contains('\r'),
        "error is not one line: {:?}\n  input: {:?}",
        msg,
        String::from_utf8_lossy(input)
    );
    prop_assert!(
        msg.starts_with(&format!("{origin}: ")),
        "error does not start with {:?}: {:?}\n  input: {:?}",
        origin,
        msg,
        String::from_utf8_lossy(input)
    );
    prop_assert_eq!(e.exit_code(), 2, "not bad input: {}", msg);
    Ok(())
}

/// An accepted instance round-trips: `to_json` reads back to the same text.
fn round_trips(inst: &Instance, input: &[u8]) -> TestResult {
    let text = inst.to_json();
    match Instance::from_json(text.as_bytes(), INSTANCE) {
        Ok(back) => prop_assert_eq!(
            back.to_json(),
            text,
            "to_json does not round-trip; input: {:?}",
            String::from_utf8_lossy(input)
        ),
        Err(e) => prop_assert!(
            false,
            "to_json output is refused: {}\n  input: {:?}",
            e,
            String::from_utf8_lossy(input)
        ),
    }
    Ok(())
}

fn fixed_instance() -> Instance {
    Instance::from_json(FIXED.as_bytes(), "fixed").expect("the fixed instance is valid")
}

/// Judges a parsed candidate: an error is one line naming the solution, a judgement
/// is self-consistent and its summary is one line.
fn judged(inst: &Instance, cand: &Candidate, input: &[u8]) -> TestResult {
    match judge(inst, cand, SOLUTION) {
        Ok(j) => {
            let v = &j.verdict;
            prop_assert_eq!(v.consistent, v.conflicting_samples == 0);
            prop_assert!(v.conflicts.len() <= v.conflicting_samples);
            if let Some(p) = &v.planted {
                prop_assert!((0.0..=1.0).contains(&p.accuracy));
            }
            let summary = j.summary(inst);
            prop_assert!(!summary.contains('\n'), "summary: {:?}", summary);
        }
        Err(e) => one_line_error(&e, SOLUTION, input)?,
    }
    Ok(())
}

/// Feeds `bytes` to every reader and checks the properties every reader must have.
fn feed_all(bytes: &[u8]) -> TestResult {
    match Instance::from_json(bytes, INSTANCE) {
        Ok(inst) => round_trips(&inst, bytes)?,
        Err(e) => one_line_error(&e, INSTANCE, bytes)?,
    }
    match Instance::from_json_with_options(bytes, INSTANCE) {
        Ok((inst, _)) => round_trips(&inst, bytes)?,
        Err(e) => one_line_error(&e, INSTANCE, bytes)?,
    }
    match Candidate::from_json(bytes, SOLUTION) {
        Ok(c) => judged(&fixed_instance(), &c, bytes)?,
        Err(e) => one_line_error(&e, SOLUTION, bytes)?,
    }
    feed_col(&String::from_utf8_lossy(bytes))?;
    match ColoringFile::from_json(bytes, COLORING) {
        Ok(f) => {
            let text = serde_json::to_string(&f).unwrap();
            let back = ColoringFile::from_json(text.as_bytes(), COLORING);
            prop_assert_eq!(back.map(|b| b.colors).ok(), Some(f.colors));
        }
        Err(e) => one_line_error(&e, COLORING, bytes)?,
    }
    Ok(())
}

/// The `.col` reader: one-line errors and warnings, and `to_col` read back is the same graph.
fn feed_col(text: &str) -> TestResult {
    match parse_col(text, COL) {
        Ok(file) => {
            for w in &file.warnings {
                prop_assert!(!w.contains('\n') && w.starts_with("prop.col: "), "{:?}", w);
            }
            let g = &file.graph;
            let out = g.to_col("round\ntrip");
            match parse_col(&out, COL) {
                Ok(back) => {
                    prop_assert!(back.warnings.is_empty(), "{:?}", back.warnings);
                    prop_assert_eq!(back.graph.vertices(), g.vertices());
                    prop_assert_eq!(back.graph.edge_count(), g.edge_count());
                    prop_assert!(back.graph.edges().eq(g.edges()));
                }
                Err(e) => prop_assert!(false, "to_col output is refused: {}", e),
            }
        }
        Err(e) => one_line_error(&e, COL, text.as_bytes())?,
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Exact values of JSON number texts
// ---------------------------------------------------------------------------

/// The exact value of a JSON number: `digits x 10^exp` (zero is empty digits).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Exact {
    neg: bool,
    digits: String,
    exp: i128,
}

impl Exact {
    /// The value as an unsigned integer, if it is one that fits.
    fn as_u64(&self) -> Option<u64> {
        if self.digits.is_empty() {
            return Some(0);
        }
        if self.neg || self.exp < 0 || self.digits.len() as i128 + self.exp > 20 {
            return None;
        }
        format!("{}{}", self.digits, "0".repeat(self.exp as usize))
            .parse()
            .ok()
    }
}

/// Parses `text` by the JSON number grammar; `None` when it is not a JSON number.
fn exact(text: &str) -> Option<Exact> {
    let b = text.as_bytes();
    let digits_from = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let neg = b.first() == Some(&b'-');
    let start = usize::from(neg);
    let mut i = digits_from(start);
    let int = &text[start..i];
    if int.is_empty() || (int.len() > 1 && int.starts_with('0')) {
        return None;
    }
    let mut frac = "";
    if b.get(i) == Some(&b'.') {
        let s = i + 1;
        i = digits_from(s);
        frac = &text[s..i];
        if frac.is_empty() {
            return None;
        }
    }
    let mut exp: i128 = 0;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let eneg = b.get(i) == Some(&b'-');
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let s = i;
        i = digits_from(s);
        if s == i {
            return None;
        }
        let v: i128 = text[s..i].parse().unwrap_or(i128::MAX / 4);
        exp = if eneg { -v } else { v };
    }
    if i != b.len() {
        return None;
    }
    let mut digits = format!("{int}{frac}");
    exp -= frac.len() as i128;
    let lead = digits.len() - digits.trim_start_matches('0').len();
    digits.drain(..lead);
    while digits.ends_with('0') {
        digits.pop();
        exp += 1;
    }
    if digits.is_empty() {
        return Some(Exact {
            neg: false,
            digits,
            exp: 0,
        });
    }
    Some(Exact { neg, digits, exp })
}

/// The identity a label must have: numbers by exact value, strings by text.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Key {
    Num(Exact),
    Text(String),
}

/// Adds one to a decimal integer text (no sign).
fn increment(digits: &str) -> String {
    let mut d: Vec<u8> = digits.bytes().collect();
    let mut i = d.len();
    loop {
        if i == 0 {
            d.insert(0, b'1');
            break;
        }
        i -= 1;
        if d[i] == b'9' {
            d[i] = b'0';
        } else {
            d[i] += 1;
            break;
        }
    }
    String::from_utf8(d).unwrap()
}

// ---------------------------------------------------------------------------
// A JSON document model that keeps number texts as written
// ---------------------------------------------------------------------------

/// Which reader's object a JSON object stands for (`Free`: `meta`, `options`, garbage).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Free,
    Instance,
    Group,
    Sample,
    Planted,
    TableEntry,
    Candidate,
    Coloring,
}

impl Kind {
    /// The reader's fields in declaration order, and whether each is required.
    fn fields(self) -> &'static [(&'static str, bool)] {
        match self {
            Kind::Free => &[],
            Kind::Instance => &[
                ("groups", true),
                ("samples", true),
                ("planted", false),
                ("meta", false),
                ("options", false),
            ],
            Kind::Group => &[
                ("tokens", true),
                ("classes", true),
                ("name", false),
                ("token_names", false),
            ],
            Kind::Sample => &[("x", true), ("y", true)],
            Kind::Planted => &[("partition", true), ("table", false)],
            Kind::TableEntry => &[("cell", true), ("y", true)],
            Kind::Candidate => &[("partition", false), ("witness", false)],
            Kind::Coloring => &[("colors", true)],
        }
    }
}

#[derive(Clone, Debug)]
enum J {
    Null,
    Bool(bool),
    /// A number, as written (possibly not valid JSON: `NaN`, `01`, ...).
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Kind, Vec<(&'static str, J)>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Key(&'static str),
    At(usize),
}

impl J {
    fn text(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }

    fn write(&self, out: &mut String) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Num(t) => out.push_str(t),
            J::Str(s) => out.push_str(&serde_json::to_string(s).unwrap()),
            J::Arr(items) => {
                out.push('[');
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    it.write(out);
                }
                out.push(']');
            }
            J::Obj(_, fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(k).unwrap());
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// Paths (child positions) of every node outside free objects.
    fn paths(&self) -> Vec<Vec<usize>> {
        fn walk(j: &J, here: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
            out.push(here.clone());
            let children: Vec<&J> = match j {
                J::Arr(items) => items.iter().collect(),
                J::Obj(kind, fields) if *kind != Kind::Free => {
                    fields.iter().map(|f| &f.1).collect()
                }
                _ => Vec::new(),
            };
            for (i, c) in children.into_iter().enumerate() {
                here.push(i);
                walk(c, here, out);
                here.pop();
            }
        }
        let mut out = Vec::new();
        walk(self, &mut Vec::new(), &mut out);
        out
    }

    fn at_mut(&mut self, path: &[usize]) -> &mut J {
        match path.split_first() {
            None => self,
            Some((&i, rest)) => match self {
                J::Arr(items) => items[i].at_mut(rest),
                J::Obj(_, fields) => fields[i].1.at_mut(rest),
                _ => unreachable!("a path leads through containers only"),
            },
        }
    }

    /// The path as keys and indices.
    fn steps(&self, path: &[usize]) -> Vec<Step> {
        let mut out = Vec::new();
        let mut node = self;
        for &i in path {
            node = match node {
                J::Arr(items) => {
                    out.push(Step::At(i));
                    &items[i]
                }
                J::Obj(_, fields) => {
                    out.push(Step::Key(fields[i].0));
                    &fields[i].1
                }
                _ => unreachable!(),
            };
        }
        out
    }

    fn field(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(_, fields) => fields.iter().find(|f| f.0 == key).map(|f| &f.1),
            _ => None,
        }
    }

    /// The reader's array form of a reader's object: its field values in
    /// declaration order, `null` for absent optional fields.
    fn array_form(&self) -> Option<J> {
        match self {
            J::Obj(kind, _) if *kind != Kind::Free => Some(J::Arr(
                kind.fields()
                    .iter()
                    .map(|(k, _)| self.field(k).cloned().unwrap_or(J::Null))
                    .collect(),
            )),
            _ => None,
        }
    }

    /// Every reader's object replaced by its array form, bottom-up.
    fn all_array_forms(&self) -> J {
        match self {
            J::Arr(items) => J::Arr(items.iter().map(J::all_array_forms).collect()),
            J::Obj(kind, fields) if *kind != Kind::Free => {
                let inner = J::Obj(
                    *kind,
                    fields
                        .iter()
                        .map(|(k, v)| (*k, v.all_array_forms()))
                        .collect(),
                );
                inner.array_form().unwrap()
            }
            other => other.clone(),
        }
    }
}

fn num(v: impl ToString) -> J {
    J::Num(v.to_string())
}

fn obj(kind: Kind, fields: Vec<(&'static str, J)>) -> J {
    J::Obj(kind, fields)
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// Number texts at the edges: zero, signs, 2^32, 2^64, 1e30, 1e308, underflow,
/// huge exponents, and NaN-ish text that is not JSON at all.
const EXTREME: &[&str] = &[
    "0",
    "-0",
    "0.0",
    "-0.0",
    "1",
    "-1",
    "2.0",
    "0.5",
    "1e0",
    "1E+2",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "-4294967296",
    "4294967295.0",
    "4.294967295e9",
    "9007199254740993",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "18446744073709551617",
    "340282366920938463463374607431768211456",
    "99999999999999999999999999999999999999999999999999",
    "1e19",
    "1e30",
    "1e38",
    "1e308",
    "1.7976931348623157e308",
    "1e309",
    "-1e309",
    "1e400",
    "1e-400",
    "4.9e-324",
    "2.4703282292062328e-324",
    "1e999999999",
    "1e-999999999",
    "1e99999999999999999999",
    "0.1",
    "0.10000000000000001",
    "3.0000000000000000001",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "1e",
    "1e+",
    "01",
    "+1",
    ".5",
    "1.",
    "-",
    "--1",
    "0x10",
    "1_000",
    "\u{ff11}",
];

fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(EXTREME).prop_map(str::to_string),
        1 => any::<i64>().prop_map(|v| v.to_string()),
        1 => any::<u64>().prop_map(|v| v.to_string()),
        1 => "-?[1-9][0-9]{18,40}",
        1 => "-?[0-9]\\.[0-9]{10,25}",
        1 => "-?[1-9](\\.[0-9]{1,5})?[eE][+-]?[0-9]{1,4}",
        1 => "[1-9][eE][+-]?[0-9]{10,25}",
    ]
}

fn string_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,8}",
        prop::sample::select(&["", "a\nb", "\r", "\u{feff}", "\u{0}", "é", "groups"][..])
            .prop_map(str::to_string),
    ]
}

fn key() -> impl Strategy<Value = &'static str> {
    prop::sample::select(
        &[
            "",
            "groups",
            "samples",
            "tokens",
            "classes",
            "x",
            "y",
            "partition",
            "witness",
            "colors",
            "planted",
            "table",
            "cell",
            "meta",
            "options",
            "name",
            "token_names",
            "zzz",
            "a\nb",
            "\r",
            "\u{feff}",
            "é",
        ][..],
    )
}

/// Any JSON-shaped document: nested arrays and objects of any leaves.
fn garbage() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        number_text().prop_map(J::Num),
        string_text().prop_map(J::Str),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Arr),
            prop::collection::vec((key(), inner), 0..4).prop_map(|f| J::Obj(Kind::Free, f)),
        ]
    })
}

/// Free-form JSON that any reader can hold (for `meta`): finite, ordinary numbers.
fn meta_json() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(num),
        prop::sample::select(&["0.5", "-1e10", "1e300", "18446744073709551615"][..]).prop_map(num),
        string_text().prop_map(J::Str),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(J::Arr),
            prop::collection::vec((key(), inner), 0..3).prop_map(|f| J::Obj(Kind::Free, f)),
        ]
    })
}

fn small_label() -> impl Strategy<Value = J> {
    prop_oneof![
        (0u64..4).prop_map(num),
        "[a-c]{1,2}".prop_map(J::Str),
        prop::sample::select(&["1.5", "-2.0", "1e2", "100", "0.25"][..]).prop_map(num),
    ]
}

type GroupSpec = (u32, u32, bool, bool);

/// A valid instance document: 1-3 groups of 1-5 tokens and 1-3 classes, 0-6 samples,
/// optional names, planted partition and table, and meta.
fn valid_instance() -> impl Strategy<Value = J> {
    prop::collection::vec((1u32..=5, 1u32..=3, any::<bool>(), any::<bool>()), 1..=3)
        .prop_flat_map(|groups: Vec<GroupSpec>| {
            let x: Vec<_> = groups.iter().map(|g| 0..g.0).collect();
            let samples = prop::collection::vec((x, small_label()), 0..=6);
            let partition: Vec<_> = groups
                .iter()
                .map(|g| prop::collection::vec(0..g.1, g.0 as usize))
                .collect();
            let cell: Vec<_> = groups.iter().map(|g| 0..g.1).collect();
            let table = prop::option::of(prop::collection::vec((cell, small_label()), 0..=3));
            let planted = prop::option::of((partition, table));
            let meta = prop::option::of(meta_json());
            (Just(groups), samples, planted, meta)
        })
        .prop_map(|(groups, samples, planted, meta)| {
            let groups = groups
                .iter()
                .enumerate()
                .map(|(g, &(tokens, classes, named, token_names))| {
                    let mut f = vec![("tokens", num(tokens)), ("classes", num(classes))];
                    if named {
                        f.push(("name", J::Str(format!("g{g}"))));
                    }
                    if token_names {
                        let names = (0..tokens).map(|t| J::Str(format!("t{t}"))).collect();
                        f.push(("token_names", J::Arr(names)));
                    }
                    obj(Kind::Group, f)
                })
                .collect();
            let samples = samples
                .into_iter()
                .map(|(x, y)| {
                    let x = J::Arr(x.into_iter().map(num).collect());
                    obj(Kind::Sample, vec![("x", x), ("y", y)])
                })
                .collect();
            let mut f = vec![("groups", J::Arr(groups)), ("samples", J::Arr(samples))];
            if let Some((partition, table)) = planted {
                let rows = partition
                    .into_iter()
                    .map(|row| J::Arr(row.into_iter().map(num).collect()))
                    .collect();
                let mut p = vec![("partition", J::Arr(rows))];
                if let Some(table) = table {
                    let entries = table
                        .into_iter()
                        .map(|(cell, y)| {
                            let cell = J::Arr(cell.into_iter().map(num).collect());
                            obj(Kind::TableEntry, vec![("cell", cell), ("y", y)])
                        })
                        .collect();
                    p.push(("table", J::Arr(entries)));
                }
                f.push(("planted", obj(Kind::Planted, p)));
            }
            if let Some(meta) = meta {
                f.push(("meta", meta));
            }
            obj(Kind::Instance, f)
        })
}

/// A candidate (solution file) whose rows hold small or extreme numbers.
fn candidate() -> impl Strategy<Value = J> {
    let entry = prop_oneof![4 => (0u32..3).prop_map(num), 1 => number_text().prop_map(J::Num)];
    let row = prop::collection::vec(entry, 0..4).prop_map(J::Arr);
    let partition = prop::collection::vec(row, 0..3).prop_map(J::Arr);
    (
        prop::option::of(partition.clone()),
        prop::option::of(partition),
        any::<bool>(),
    )
        .prop_map(|(p, w, status)| {
            let mut f = Vec::new();
            if status {
                f.push(("status", J::Str("sat".into())));
            }
            if let Some(p) = p {
                f.push(("partition", p));
            }
            if let Some(w) = w {
                f.push(("witness", w));
            }
            obj(Kind::Candidate, f)
        })
}

fn coloring() -> impl Strategy<Value = J> {
    let entry = prop_oneof![4 => (0u32..4).prop_map(num), 1 => number_text().prop_map(J::Num)];
    prop::collection::vec(entry, 0..12)
        .prop_map(|c| obj(Kind::Coloring, vec![("colors", J::Arr(c))]))
}

// ---------------------------------------------------------------------------
// What an accepted instance must say about the numbers it was given
// ---------------------------------------------------------------------------

/// Every number in an integer slot was read as exactly its value, and samples share a
/// label exactly when their values are equal (numbers by exact value, strings by text).
fn read_exactly(inst: &Instance, doc: &J, text: &str) -> TestResult {
    for path in doc.paths() {
        let mut node = doc;
        for &i in &path {
            node = match node {
                J::Arr(items) => &items[i],
                J::Obj(_, fields) => &fields[i].1,
                _ => unreachable!(),
            };
        }
        let J::Num(written) = node else { continue };
        let want = exact(written).and_then(|e| e.as_u64());
        use Step::{At, Key};
        let got: Option<u64> = match doc.steps(&path).as_slice() {
            [Key("groups"), At(g), Key("tokens")] => Some(inst.groups()[*g].tokens.into()),
            [Key("groups"), At(g), Key("classes")] => Some(inst.groups()[*g].classes.into()),
            [Key("samples"), At(s), Key("x"), At(g)] => Some(inst.x(*s)[*g].into()),
            [Key("planted"), Key("partition"), At(g), At(t)] => {
                Some(inst.planted.as_ref().unwrap().partition[*g][*t].into())
            }
            [Key("planted"), Key("table"), At(e), Key("cell"), At(g)] => {
                Some(inst.planted.as_ref().unwrap().table.as_ref().unwrap()[*e].cell[*g].into())
            }
            _ => continue,
        };
        prop_assert_eq!(
            got,
            want,
            "{:?} was read as {:?}\n  input: {}",
            written,
            got,
            text
        );
    }
    let keys: Option<Vec<Key>> = match doc.field("samples") {
        Some(J::Arr(samples)) => samples
            .iter()
            .map(|s| match s.field("y") {
                Some(J::Num(t)) => exact(t).map(Key::Num),
                Some(J::Str(t)) => Some(Key::Text(t.clone())),
                _ => None,
            })
            .collect(),
        _ => None,
    };
    if let Some(keys) = keys {
        prop_assert_eq!(keys.len(), inst.num_samples());
        for (a, ka) in keys.iter().enumerate() {
            for (b, kb) in keys.iter().enumerate().skip(a + 1) {
                prop_assert_eq!(
                    inst.label_id(a) == inst.label_id(b),
                    ka == kb,
                    "samples {} and {}: y = {} and y = {} are {} labels\n  input: {}",
                    a,
                    b,
                    inst.y(a),
                    inst.y(b),
                    if inst.label_id(a) == inst.label_id(b) {
                        "the same"
                    } else {
                        "different"
                    },
                    text
                );
            }
        }
    }
    Ok(())
}

fn any_invalid_number(doc: &J) -> bool {
    match doc {
        J::Num(t) => exact(t).is_none(),
        J::Arr(items) => items.iter().any(any_invalid_number),
        J::Obj(_, fields) => fields.iter().any(|f| any_invalid_number(&f.1)),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// (a) random bytes, (b) wrong shapes, (c) extreme numbers
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(4096))]

    /// (a) Any bytes: no reader panics, every error is one line naming the origin.
    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        feed_all(&bytes)?;
    }

    /// (a) Byte soup made of JSON's own characters, which gets further into the parsers.
    #[test]
    fn json_character_soup(text in "[\\[\\]{}\",:0-9a-z. \\-eE]{0,80}") {
        feed_all(text.as_bytes())?;
    }

    /// (b) Nested garbage of any shape.
    #[test]
    fn nested_garbage(doc in garbage()) {
        feed_all(doc.text().as_bytes())?;
    }
}

proptest! {
    #![proptest_config(config(2048))]

    /// The generator's instances are valid: accepted, read exactly, round-tripped, and
    /// a candidate made of the planted partition (when there is one) is judged.
    #[test]
    fn valid_instances_are_accepted(doc in valid_instance()) {
        let text = doc.text();
        let inst = Instance::from_json(text.as_bytes(), INSTANCE);
        prop_assert!(inst.is_ok(), "{}\n  input: {}", inst.unwrap_err(), text);
        let inst = inst.unwrap();
        read_exactly(&inst, &doc, &text)?;
        round_trips(&inst, text.as_bytes())?;
        if let Some(p) = doc.field("planted").and_then(|p| p.field("partition")) {
            let sol = format!("{{\"partition\":{}}}", p.text());
            let cand = Candidate::from_json(sol.as_bytes(), SOLUTION);
            prop_assert!(cand.is_ok(), "{}", sol);
            let j = judge(&inst, &cand.unwrap(), SOLUTION);
            prop_assert!(j.is_ok(), "{:?}", j.err());
            let planted = j.unwrap().verdict.planted.unwrap();
            prop_assert!(planted.equals_planted && planted.accuracy == 1.0);
        }
    }

    /// (b) Any node of a valid instance replaced by anything (wrong types, nested
    /// garbage): no panic, one-line errors, and what is accepted is read exactly.
    #[test]
    fn wrong_types_anywhere(doc in valid_instance(), at in any::<Index>(), with in garbage()) {
        let mut doc = doc;
        let paths = doc.paths();
        let path = paths[at.index(paths.len())].clone();
        *doc.at_mut(&path) = with;
        let text = doc.text();
        feed_all(text.as_bytes())?;
        if let Ok(inst) = Instance::from_json(text.as_bytes(), INSTANCE) {
            read_exactly(&inst, &doc, &text)?;
        }
    }

    /// (b) An array in place of any of the reader's objects (the instance, a group,
    /// a sample, `planted`, a table entry) is rejected, with a one-line error.
    #[test]
    fn arrays_in_place_of_objects_are_rejected(doc in valid_instance(), at in any::<Index>()) {
        let mut doc = doc;
        let objects: Vec<Vec<usize>> = doc
            .paths()
            .into_iter()
            .filter(|p| {
                let mut d = doc.clone();
                d.at_mut(p).array_form().is_some()
            })
            .collect();
        let path = objects[at.index(objects.len())].clone();
        let array = doc.at_mut(&path).array_form().unwrap();
        *doc.at_mut(&path) = array;
        let text = doc.text();
        match Instance::from_json(text.as_bytes(), INSTANCE) {
            Ok(_) => prop_assert!(false, "an array in place of an object is accepted: {}", text),
            Err(e) => one_line_error(&e, INSTANCE, text.as_bytes())?,
        }
    }

    /// (b) Every object of a valid instance in its array form at once (the issue's
    /// `[[{"tokens":3,"classes":2}],[[[0],1]],null,null,null]` is one of these) is rejected.
    #[test]
    fn instances_in_array_form_are_rejected(doc in valid_instance()) {
        let text = doc.all_array_forms().text();
        match Instance::from_json(text.as_bytes(), INSTANCE) {
            Ok(_) => prop_assert!(false, "an instance in array form is accepted: {}", text),
            Err(e) => one_line_error(&e, INSTANCE, text.as_bytes())?,
        }
    }

    /// (b) A missing required field is rejected, and the message names it.
    #[test]
    fn missing_fields_are_rejected(doc in valid_instance(), at in any::<Index>(), which in any::<Index>()) {
        let mut doc = doc;
        let objects: Vec<Vec<usize>> = doc
            .paths()
            .into_iter()
            .filter(|p| matches!(doc.clone().at_mut(p), J::Obj(k, _) if *k != Kind::Free))
            .collect();
        let path = objects[at.index(objects.len())].clone();
        let J::Obj(kind, fields) = doc.at_mut(&path) else { unreachable!() };
        let required: Vec<&str> = kind.fields().iter().filter(|f| f.1).map(|f| f.0).collect();
        let gone = required[which.index(required.len())];
        fields.retain(|f| f.0 != gone);
        let text = doc.text();
        match Instance::from_json(text.as_bytes(), INSTANCE) {
            Ok(_) => prop_assert!(false, "missing `{}` is accepted: {}", gone, text),
            Err(e) => {
                one_line_error(&e, INSTANCE, text.as_bytes())?;
                prop_assert!(e.to_string().contains(gone), "{} does not name `{}`", e, gone);
            }
        }
    }

    /// (b) An unknown field in any of the instance's objects is rejected by name
    /// (the README: "unknown fields are rejected by name").
    #[test]
    fn unknown_fields_are_rejected(doc in valid_instance(), at in any::<Index>()) {
        let mut doc = doc;
        let objects: Vec<Vec<usize>> = doc
            .paths()
            .into_iter()
            .filter(|p| matches!(doc.clone().at_mut(p), J::Obj(k, _) if *k != Kind::Free))
            .collect();
        let path = objects[at.index(objects.len())].clone();
        let J::Obj(_, fields) = doc.at_mut(&path) else { unreachable!() };
        fields.push(("zzz_unknown", num(1)));
        let text = doc.text();
        match Instance::from_json(text.as_bytes(), INSTANCE) {
            Ok(_) => prop_assert!(false, "unknown field accepted at {:?}: {}", doc.steps(&path), text),
            Err(e) => {
                one_line_error(&e, INSTANCE, text.as_bytes())?;
                prop_assert!(e.to_string().contains("zzz_unknown"), "{}", e);
            }
        }
    }

    /// Error messages speak of the file format, never of the program's type names.
    #[test]
    fn errors_name_no_internal_types(doc in valid_instance(), at in any::<Index>(), with in garbage()) {
        let mut doc = doc;
        let paths = doc.paths();
        let path = paths[at.index(paths.len())].clone();
        *doc.at_mut(&path) = with;
        let text = doc.text();
        let errors = [
            Instance::from_json(text.as_bytes(), INSTANCE).err(),
            Candidate::from_json(text.as_bytes(), SOLUTION).err(),
            ColoringFile::from_json(text.as_bytes(), COLORING).err(),
        ];
        for e in errors.into_iter().flatten() {
            let msg = e.to_string();
            for internal in ["Raw", "struct ", "Candidate", "TableEntry", "ColoringFile", "Label"] {
                prop_assert!(!msg.contains(internal), "{:?} names {:?}\n  input: {}", msg, internal, text);
            }
        }
    }

    /// (c) An extreme number in any numeric place of a valid instance: no panic, and
    /// if accepted it was read exactly; a text that is no JSON number is refused.
    #[test]
    fn extreme_numbers_are_exact_or_refused(doc in valid_instance(), at in any::<Index>(), n in number_text()) {
        let mut doc = doc;
        let numbers: Vec<Vec<usize>> = doc
            .paths()
            .into_iter()
            .filter(|p| matches!(doc.clone().at_mut(p), J::Num(_)))
            .collect();
        prop_assume!(!numbers.is_empty());
        let path = numbers[at.index(numbers.len())].clone();
        *doc.at_mut(&path) = J::Num(n.clone());
        let text = doc.text();
        feed_all(text.as_bytes())?;
        match Instance::from_json(text.as_bytes(), INSTANCE) {
            Ok(inst) => {
                prop_assert!(exact(&n).is_some(), "{:?} is no JSON number, yet accepted: {}", n, text);
                read_exactly(&inst, &doc, &text)?;
            }
            Err(e) => one_line_error(&e, INSTANCE, text.as_bytes())?,
        }
    }

    /// (c) Integer labels compare exactly, at any size: two samples with the same x and
    /// y = n and y = m are one label iff n = m (or the file is refused).
    #[test]
    fn integer_labels_compare_exactly(
        d in "[1-9][0-9]{0,40}",
        neg in any::<bool>(),
        how in 0u8..5,
        other in "[1-9][0-9]{0,40}",
    ) {
        let sign = if neg { "-" } else { "" };
        let a = format!("{sign}{d}");
        let b = match how {
            0 => format!("{sign}{}", increment(&d)),
            1 => format!("{sign}{d}.0"),
            2 => format!("{sign}{}.{}e{}", &d[..1], if d.len() > 1 { &d[1..] } else { "0" }, d.len() - 1),
            3 => format!("{sign}{other}"),
            _ => a.clone(),
        };
        labels_compare_exactly(&a, &b)?;
    }

    /// (c) Non-integral labels compare exactly too: values that differ beyond f64
    /// precision (0.1 and 0.10000000000000001, 1e-400 and 0) are different labels, or refused.
    #[test]
    fn decimal_labels_compare_exactly(
        int in "-?[0-9]",
        frac in "[0-9]{1,8}",
        tail in "[0-9]{0,12}[1-9]",
        how in 0u8..4,
    ) {
        let a = format!("{int}.{frac}");
        let b = match how {
            0 => format!("{a}{}{tail}", "0".repeat(17usize.saturating_sub(frac.len()))),
            1 => format!("{a}000"),
            2 => format!("{a}e-400"),
            _ => format!("{int}{frac}e-{}", frac.len()),
        };
        labels_compare_exactly(&a, &b)?;
    }

    /// (a)+(c) `.col` text of comment, `p` and `e` lines with extreme numbers and
    /// garbage: no panic, one-line errors and warnings, `N` read exactly, and
    /// `to_col` reads back to the same graph.
    #[test]
    fn col_lines(lines in prop::collection::vec(col_line(), 0..12)) {
        let text = lines.join("\n");
        feed_col(&text)?;
        if let Ok(file) = parse_col(&text, COL) {
            let header = text.lines().find_map(|l| {
                let t = l.trim_start();
                let mut w = t.split_whitespace();
                (!t.starts_with('c') && w.next() == Some("p")).then(|| w.nth(1)).flatten()
            });
            let n = header.and_then(col_int);
            prop_assert_eq!(Some(file.graph.vertices() as u128), n, "N misread: {:?}", text);
        }
    }

    /// (b)+(c) Solution files with wrong shapes and extreme numbers, judged against a
    /// fixed instance: no panic, one-line errors, numbers read exactly.
    #[test]
    fn solutions(doc in candidate()) {
        let text = doc.text();
        feed_all(text.as_bytes())?;
        if let Ok(c) = Candidate::from_json(text.as_bytes(), SOLUTION) {
            prop_assert!(!any_invalid_number(&doc), "invalid number accepted: {}", text);
            for (key, got) in [("partition", &c.partition), ("witness", &c.witness)] {
                if let (Some(J::Arr(rows)), Some(p)) = (doc.field(key), got) {
                    for (row, got) in rows.iter().zip(p) {
                        let J::Arr(row) = row else { continue };
                        let want: Vec<Option<u64>> = row
                            .iter()
                            .map(|n| match n { J::Num(t) => exact(t).and_then(|e| e.as_u64()), _ => None })
                            .collect();
                        let got: Vec<Option<u64>> = got.iter().map(|&v| Some(v.into())).collect();
                        prop_assert_eq!(got, want, "{}", text);
                    }
                }
            }
        }
    }

    /// A random (possibly ill-fitting) partition judged against a valid instance.
    #[test]
    fn judge_random_partitions(doc in valid_instance(), rows in prop::collection::vec(prop::collection::vec(0u32..4, 0..6), 0..4)) {
        let text = doc.text();
        let inst = Instance::from_json(text.as_bytes(), INSTANCE).unwrap();
        let sol = serde_json::json!({"partition": rows, "witness": rows}).to_string();
        let cand = Candidate::from_json(sol.as_bytes(), SOLUTION).unwrap();
        judged(&inst, &cand, sol.as_bytes())?;
    }

    /// (b)+(c) Colouring files with wrong shapes and extreme numbers.
    #[test]
    fn colorings(doc in coloring()) {
        let text = doc.text();
        feed_all(text.as_bytes())?;
        if let Ok(f) = ColoringFile::from_json(text.as_bytes(), COLORING) {
            let Some(J::Arr(want)) = doc.field("colors") else { unreachable!() };
            let want: Vec<Option<u64>> = want
                .iter()
                .map(|n| match n { J::Num(t) => exact(t).and_then(|e| e.as_u64()), _ => None })
                .collect();
            let got: Vec<Option<u64>> = f.colors.iter().map(|&v| Some(v.into())).collect();
            prop_assert_eq!(got, want, "{}", text);
        }
    }
}

/// Two samples with the same x and labels `a` and `b`: one label iff equal by value.
fn labels_compare_exactly(a: &str, b: &str) -> TestResult {
    let text = format!(
        r#"{{"groups":[{{"tokens":1,"classes":1}}],"samples":[{{"x":[0],"y":{a}}},{{"x":[0],"y":{b}}}]}}"#
    );
    match Instance::from_json(text.as_bytes(), INSTANCE) {
        Ok(inst) => {
            let equal = exact(a).unwrap() == exact(b).unwrap();
            prop_assert_eq!(
                inst.values().len(),
                if equal { 1 } else { 2 },
                "y = {} and y = {} are {} values, but read as {} distinct label(s)",
                a,
                b,
                if equal { "equal" } else { "different" },
                inst.values().len()
            );
            round_trips(&inst, text.as_bytes())?;
        }
        Err(e) => one_line_error(&e, INSTANCE, text.as_bytes())?,
    }
    Ok(())
}

/// The `.col` reader's whole numbers: optional `+`, decimal digits.
fn col_int(w: &str) -> Option<u128> {
    let d = w.strip_prefix('+').unwrap_or(w);
    if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(d.parse().unwrap_or(u128::MAX))
}

/// A vertex count this process may build in memory: large declared counts are the
/// child processes' job (`declared_sizes_cost_what_the_data_costs`).
fn small_enough(w: &str) -> bool {
    let big = |v: u128| (100_001..=u128::from(u32::MAX)).contains(&v);
    !col_int(w).is_some_and(big)
        && !exact(w)
            .and_then(|e| e.as_u64())
            .is_some_and(|v| big(v.into()))
}

fn col_line() -> impl Strategy<Value = String> {
    let count = prop_oneof![
        3 => (0u32..12).prop_map(|v| v.to_string()),
        1 => number_text().prop_filter("a small vertex count", |w| small_enough(w)),
        1 => Just("+3".to_string()),
        1 => Just("007".to_string()),
    ];
    let ws = prop::sample::select(&[" ", "  ", "\t", " \r"][..]);
    prop_oneof![
        1 => "c[ -~]{0,10}",
        1 => Just(String::new()),
        2 => (prop::sample::select(&["edge", "col", "edges", "EDGE", "x", ""][..]), count.clone(), count.clone(), ws.clone())
            .prop_map(|(k, n, m, w)| format!("p{w}{k}{w}{n}{w}{m}")),
        4 => (count.clone(), count, ws).prop_map(|(u, v, w)| format!("e{w}{u}{w}{v}")),
        1 => "[ -~\t\r]{0,12}",
    ]
}

// ---------------------------------------------------------------------------
// The issue's own examples, as plain tests
// ---------------------------------------------------------------------------

/// Arrays in place of objects are rejected, by every JSON reader.
#[test]
fn issue_array_forms_are_rejected() {
    let instances = [
        r#"[[{"tokens":3,"classes":2}],[[[0],1]],null,null,null]"#,
        r#"{"groups":[[3,2]],"samples":[]}"#,
        r#"{"groups":[{"tokens":3,"classes":2}],"samples":[[[0],1]]}"#,
        r#"{"groups":[{"tokens":1,"classes":1}],"samples":[],"planted":[[[0]]]}"#,
        r#"{"groups":[{"tokens":1,"classes":1}],"samples":[],"planted":{"partition":[[0]],"table":[[[0],1]]}}"#,
    ];
    let mut accepted = Vec::new();
    for text in instances {
        match Instance::from_json(text.as_bytes(), INSTANCE) {
            Ok(_) => accepted.push(format!("instance {text}")),
            Err(e) => one_line_error(&e, INSTANCE, text.as_bytes()).unwrap(),
        }
    }
    let solution = r#"[[[0,0,1],[0,1]],null]"#;
    if Candidate::from_json(solution.as_bytes(), SOLUTION).is_ok() {
        accepted.push(format!("solution {solution}"));
    }
    let coloring = r#"[[0,1,0]]"#;
    if ColoringFile::from_json(coloring.as_bytes(), COLORING).is_ok() {
        accepted.push(format!("colouring {coloring}"));
    }
    assert!(
        accepted.is_empty(),
        "accepted:\n  {}",
        accepted.join("\n  ")
    );
}

/// y = 2^64 and y = 2^64 + 1 are different values.
#[test]
fn issue_labels_above_2_pow_64_compare_exactly() {
    let text = r#"{"groups":[{"tokens":1,"classes":1}],"samples":[{"x":[0],"y":18446744073709551616},{"x":[0],"y":18446744073709551617}]}"#;
    if let Ok(inst) = Instance::from_json(text.as_bytes(), INSTANCE) {
        assert_eq!(
            inst.values().len(),
            2,
            "18446744073709551616 and 18446744073709551617 read as one label"
        );
    }
}

/// A UTF-8 byte order mark is named as such (or skipped).
#[test]
fn issue_a_byte_order_mark_is_named() {
    let mut text = b"\xEF\xBB\xBF".to_vec();
    text.extend_from_slice(br#"{"groups":[{"tokens":1,"classes":1}],"samples":[]}"#);
    if let Err(e) = Instance::from_json(&text, INSTANCE) {
        let msg = e.to_string();
        assert!(
            msg.contains("BOM") || msg.to_lowercase().contains("byte order mark"),
            "{msg}"
        );
    }
}

/// Deep nesting is refused by the JSON reader's recursion limit, not by a stack overflow.
#[test]
fn deep_nesting_is_refused_without_overflow() {
    for open in ["[", "{\"a\":", "{\"groups\":"] {
        let text = open.repeat(100_000);
        feed_all(text.as_bytes()).unwrap();
    }
    let mut text = br#"{"groups":[{"tokens":1,"classes":1}],"samples":[],"meta":"#.to_vec();
    text.extend(std::iter::repeat_n(b'[', 100_000));
    feed_all(&text).unwrap();
}

// ---------------------------------------------------------------------------
// Declared sizes cost what the data costs (child processes under a memory cap)
// ---------------------------------------------------------------------------

/// The environment variable that makes this test binary run one capped case.
const CHILD_CASE: &str = "PARTREC_PROP_DECLARED_CASE";
/// The address-space cap of a child, in KiB (2 GiB).
const CAP_KIB: u64 = 2 * 1024 * 1024;
/// What one case may take, on a slow machine, when it costs only what its data costs.
const CASE_SECONDS: u64 = 10;

/// Inputs whose declared counts (tokens, classes, vertices) are huge and whose data
/// is tiny. Each runs the reader and its cheap follow-ups in a child process.
const DECLARED: &[(&str, &str)] = &[
    (
        "instance tokens 4294967295",
        r#"{"groups":[{"tokens":4294967295,"classes":2}],"samples":[{"x":[0],"y":1}]}"#,
    ),
    (
        "instance classes 4294967295",
        r#"{"groups":[{"tokens":3,"classes":4294967295}],"samples":[{"x":[2],"y":1},{"x":[1],"y":0}]}"#,
    ),
    (
        "instance tokens and classes 1000000",
        r#"{"groups":[{"tokens":1000000,"classes":1000000}],"samples":[{"x":[0],"y":1}]}"#,
    ),
    (
        "instance three groups of 4294967295 tokens",
        r#"{"groups":[{"tokens":4294967295,"classes":3},{"tokens":4294967295,"classes":3},{"tokens":4294967295,"classes":3}],"samples":[{"x":[0,1,2],"y":1},{"x":[4294967294,1,2],"y":0}]}"#,
    ),
    (
        "planted, classes 4294967295",
        r#"{"groups":[{"tokens":1,"classes":4294967295}],"samples":[{"x":[0],"y":1}],"planted":{"partition":[[0]]}}"#,
    ),
    (
        "planted, classes 2000",
        r#"{"groups":[{"tokens":1,"classes":2000}],"samples":[{"x":[0],"y":1}],"planted":{"partition":[[1999]]}}"#,
    ),
    ("col p edge 4294967295 1", "p edge 4294967295 1\ne 1 2\n"),
    ("col p edge 3000000 1", "p edge 3000000 1\n"),
];

/// Runs case `name` in this process (a child): read, preprocess, judge the planted
/// partition, write back.
fn run_declared_case(name: &str) {
    if name == "random declared sizes" {
        return random_declared_sizes();
    }
    let (_, input) = DECLARED
        .iter()
        .find(|c| c.0 == name)
        .unwrap_or_else(|| panic!("no case {name:?}"));
    // Refusing a huge declared count (with a one-line error) is fine; accepting it
    // must be cheap.
    if name.starts_with("col") {
        match parse_col(input, COL) {
            Ok(file) => {
                let back = parse_col(&file.graph.to_col("x"), COL).expect("to_col reads back");
                assert_eq!(back.graph.edge_count(), file.graph.edge_count());
            }
            Err(e) => one_line_error(&e, COL, input.as_bytes()).unwrap(),
        }
        return;
    }
    match Instance::from_json(input.as_bytes(), INSTANCE) {
        Ok(inst) => exercise_instance(&inst),
        Err(e) => one_line_error(&e, INSTANCE, input.as_bytes()).unwrap(),
    }
}

fn exercise_instance(inst: &Instance) {
    let _ = partrec::solve::preprocess::Prepared::new(inst);
    let _ = Instance::from_json(inst.to_json().as_bytes(), INSTANCE).expect("round trip");
    if let Some(p) = &inst.planted {
        let v = partrec::check::check(inst, &p.partition).expect("planted has its shape");
        assert!(v.planted.unwrap().equals_planted);
        let sol = serde_json::json!({ "partition": p.partition }).to_string();
        let cand = Candidate::from_json(sol.as_bytes(), SOLUTION).unwrap();
        judge(inst, &cand, SOLUTION).expect("judged");
    }
}

/// Random huge declared sizes (log-uniform up to 2^32 - 1) over a few samples.
fn random_declared_sizes() {
    let size = (0u32..=32).prop_flat_map(|bits| {
        let hi = if bits == 32 {
            u32::MAX
        } else {
            (1u32 << bits).max(1)
        };
        1..=hi
    });
    let groups = prop::collection::vec((size.clone(), size), 1..=3);
    let case = groups.prop_flat_map(|groups| {
        let x: Vec<_> = groups.iter().map(|g| 0..g.0.min(50)).collect();
        let samples = prop::collection::vec((x, 0u32..3), 0..8);
        let planted = any::<bool>();
        (Just(groups), samples, planted)
    });
    let mut runner = TestRunner::new(config(48));
    runner
        .run(&case, |(groups, samples, planted)| {
            let mut doc = serde_json::json!({
                "groups": groups.iter().map(|&(t, k)| serde_json::json!({"tokens": t, "classes": k})).collect::<Vec<_>>(),
                "samples": samples.iter().map(|(x, y)| serde_json::json!({"x": x, "y": y})).collect::<Vec<_>>(),
            });
            // A planted partition costs its data (one class per token): only for small groups.
            if planted && groups.iter().all(|g| g.0 <= 64) {
                doc["planted"] = serde_json::json!({
                    "partition": groups.iter().map(|&(t, k)| (0..t).map(|i| i % k).collect::<Vec<_>>()).collect::<Vec<_>>()
                });
            }
            let text = doc.to_string();
            eprintln!("case {text}");
            match Instance::from_json(text.as_bytes(), INSTANCE) {
                Ok(inst) => exercise_instance(&inst),
                Err(e) => one_line_error(&e, INSTANCE, text.as_bytes())?,
            }
            Ok(())
        })
        .unwrap();
}

/// Huge declared counts over tiny data: each case runs in a child process of this
/// test binary under `ulimit -v` 2 GiB and a time limit, so an allocation or a loop
/// driven by a declared count fails this test (naming the case) instead of aborting
/// the whole run.
#[test]
fn declared_sizes_cost_what_the_data_costs() {
    if let Ok(name) = std::env::var(CHILD_CASE) {
        return run_declared_case(&name);
    }
    let exe = std::env::current_exe().unwrap();
    let names = DECLARED
        .iter()
        .map(|c| c.0)
        .chain(["random declared sizes"]);
    let mut failures = Vec::new();
    for name in names {
        let started = Instant::now();
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -v {CAP_KIB} && exec \"$0\" \"$@\""))
            .arg(&exe)
            .args([
                "--exact",
                "declared_sizes_cost_what_the_data_costs",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_CASE, name)
            .env("RUST_BACKTRACE", "0")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
            s
        });
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if started.elapsed() > Duration::from_secs(CASE_SECONDS) {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let seconds = started.elapsed().as_secs_f64();
        let err = reader.join().unwrap();
        let last: Vec<&str> = err
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with("note:"))
            .collect();
        let last = last[last.len().saturating_sub(3)..].join(" | ");
        match status {
            Some(s) if s.success() => {}
            Some(s) => failures.push(format!("{name}: {s} after {seconds:.1} s: {last}")),
            None => failures.push(format!(
                "{name}: still running after {CASE_SECONDS} s (killed): {last}"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} declared-size cases failed under a {} MiB cap:\n  {}",
        failures.len(),
        DECLARED.len() + 1,
        CAP_KIB / 1024,
        failures.join("\n  ")
    );
}

/// An integer label of any width an `.npz` file holds: small, negative, at the ends
/// of 64 bits (mixed signs stay within `i64`).
fn integer_label() -> impl Strategy<Value = i128> {
    prop_oneof![
        4 => 0i128..4,
        1 => -300i128..300,
        1 => prop::sample::select(&[i64::MIN as i128, i64::MAX as i128, -1, 1 << 40][..]),
    ]
}

/// A valid instance with integer labels: 1-3 groups of 1-300 tokens and 1-3 classes,
/// 0-12 samples, an optional planted partition; as JSON text.
fn integer_instance() -> impl Strategy<Value = String> {
    prop::collection::vec((1u32..=300, 1u32..=3), 1..=3)
        .prop_flat_map(|groups| {
            let x: Vec<_> = groups.iter().map(|g| 0..g.0).collect();
            let samples = prop::collection::vec((x, integer_label()), 0..=12);
            let partition: Vec<_> = groups
                .iter()
                .map(|g| prop::collection::vec(0..g.1, g.0 as usize))
                .collect();
            (Just(groups), samples, prop::option::of(partition))
        })
        .prop_map(|(groups, samples, planted)| {
            let groups: Vec<_> = groups
                .iter()
                .map(|&(n, k)| serde_json::json!({"tokens": n, "classes": k}))
                .collect();
            let samples: Vec<_> = samples
                .into_iter()
                .map(|(x, y)| {
                    let y: serde_json::Number = y.to_string().parse().unwrap();
                    serde_json::json!({"x": x, "y": y})
                })
                .collect();
            let mut doc = serde_json::json!({"groups": groups, "samples": samples});
            if let Some(p) = planted {
                doc["planted"] = serde_json::json!({"partition": p});
            }
            doc.to_string()
        })
}

proptest! {
    #![proptest_config(config(512))]

    /// JSON -> .npz -> JSON gives the same text for integer-labelled instances, and
    /// any one corrupted byte of the archive is read exactly or refused in one line.
    #[test]
    fn npz_round_trips(text in integer_instance(), at in any::<Index>(), byte in any::<u8>()) {
        let inst = Instance::from_json(text.as_bytes(), INSTANCE).unwrap();
        let bytes = partrec::io::npz::to_bytes(&inst, INSTANCE);
        prop_assert!(bytes.is_ok(), "{}\n  input: {}", bytes.unwrap_err(), text);
        let mut bytes = bytes.unwrap();
        let back = partrec::io::npz::from_reader(std::io::Cursor::new(&bytes), "prop.npz");
        prop_assert!(back.is_ok(), "{}\n  input: {}", back.unwrap_err(), text);
        prop_assert_eq!(back.unwrap().to_json(), inst.to_json());
        let i = at.index(bytes.len());
        bytes[i] = byte;
        if let Err(e) = partrec::io::npz::from_reader(std::io::Cursor::new(&bytes), "prop.npz") {
            one_line_error(&e, "prop.npz", &bytes)?;
        }
    }
}

// ---------------------------------------------------------------------------
// The DRAT proof checker's readers (`proof::drat::check`)
// ---------------------------------------------------------------------------

/// Clause text from a few literal tokens: digits, signs, `d`, `0`, `p cnf` lines,
/// comments, stray bytes and huge numbers, in random order and line breaks.
fn clause_text() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        (-6i64..=6).prop_map(|l| l.to_string().into_bytes()),
        Just(b"0".to_vec()),
        Just(b"d".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"c comment\n".to_vec()),
        Just(b"p cnf 3 4\n".to_vec()),
        Just(b"p cnf 99999999999 1\n".to_vec()),
        Just(b"2147483647".to_vec()),
        Just(b"-2147483648".to_vec()),
        Just(b"99999999999999999999".to_vec()),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    proptest::collection::vec(token, 0..40).prop_map(|tokens| tokens.join(&b' '))
}

proptest! {
    #![proptest_config(config(2000))]

    /// Any CNF and proof text: the checker answers (accepts or says where it stops)
    /// without panicking; a rejection names the file.
    #[test]
    fn the_drat_checker_never_panics(cnf in clause_text(), proof in clause_text()) {
        let mut with_header = b"p cnf 6 0\n".to_vec();
        with_header.extend_from_slice(&cnf);
        for text in [&cnf, &with_header] {
            if let Err(e) = partrec::proof::drat::check(text, &proof) {
                prop_assert!(e.file == "cnf" || e.file == "proof");
                prop_assert!(!e.to_string().contains('\n'), "{}", e);
            }
        }
    }

    /// Soundness on small formulas: whenever a random proof is accepted, the CNF has
    /// no satisfying assignment (checked by enumerating all 2^6).
    #[test]
    fn an_accepted_proof_refutes_a_formula_that_is_unsat(
        // Short clauses, so that many formulas are unsat and many proofs pass.
        clauses in proptest::collection::vec(proptest::collection::vec(-6i64..=6, 1..3), 1..20),
        lemmas in proptest::collection::vec(proptest::collection::vec(-6i64..=6, 0..3), 0..10),
    ) {
        let clauses: Vec<Vec<i64>> =
            clauses.into_iter().map(|c| c.into_iter().filter(|&l| l != 0).collect()).collect();
        let mut cnf = format!("p cnf 6 {}\n", clauses.len());
        for c in &clauses {
            for l in c {
                cnf.push_str(&format!("{l} "));
            }
            cnf.push_str("0\n");
        }
        let mut proof = String::new();
        for c in &lemmas {
            for l in c.iter().filter(|&&l| l != 0) {
                proof.push_str(&format!("{l} "));
            }
            proof.push_str("0\n");
        }
        if partrec::proof::drat::check(cnf.as_bytes(), proof.as_bytes()).is_ok() {
            let satisfiable = (0u32..64).any(|m| {
                clauses.iter().all(|c| {
                    c.iter().any(|&l| (m >> (l.unsigned_abs() - 1) & 1 == 1) == (l > 0))
                })
            });
            prop_assert!(!satisfiable, "accepted a proof of a satisfiable formula:\n{}\n{}", cnf, proof);
        }
    }
}

// ---------------------------------------------------------------------------
// CSV/TSV tables (`partrec import`)
// ---------------------------------------------------------------------------

/// Imports `bytes` with groups `a`, `b` and values `y`: an instance, or bad input in
/// one line naming the file; never a panic.
fn feed_table(bytes: &[u8]) -> TestResult {
    use partrec::io::table::{import, ImportOptions};
    let options = ImportOptions::new(&["a", "b"], "y");
    match import(bytes, "prop.csv", &options) {
        Ok(inst) => {
            prop_assert_eq!(inst.arity(), 2);
            prop_assert_eq!(inst.named(), inst.num_samples() > 0);
            round_trips(&inst, bytes)
        }
        Err(e) => one_line_error(&e, "prop.csv", bytes),
    }
}

proptest! {
    #![proptest_config(config(2048))]

    /// Arbitrary bytes after a valid header.
    #[test]
    fn tables_of_random_bytes(body in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut bytes = b"a,b,y\n".to_vec();
        bytes.extend(body);
        feed_table(&bytes)?;
    }

    /// Tables of CSV-ish characters: quotes, separators, line breaks, empty cells.
    #[test]
    fn tables_of_csv_characters(text in "[ab y,\"\t\n\r;x0-9]{0,120}") {
        feed_table(text.as_bytes())?;
    }

    /// Well-formed tables: every row read, cells exactly as written (after quoting).
    #[test]
    fn well_formed_tables_keep_every_cell(rows in prop::collection::vec(
        ("[a-z,\" ]{1,6}", "[a-z]{1,3}", "[0-9xy]{1,2}"), 0..20)) {
        use partrec::io::table::{import, ImportOptions};
        let quote = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
        let mut text = String::from("a,b,y\n");
        for (a, b, y) in &rows {
            text.push_str(&format!("{},{},{}\n", quote(a), b, y));
        }
        let inst = import(text.as_bytes(), "t.csv", &ImportOptions::new(&["a", "b"], "y"))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(inst.num_samples(), rows.len());
        for (s, (a, b, y)) in rows.iter().enumerate() {
            prop_assert_eq!(&inst.token_name(0, inst.x(s)[0]), a);
            prop_assert_eq!(&inst.token_name(1, inst.x(s)[1]), b);
            prop_assert_eq!(inst.y(s).to_string(), format!("{y:?}"));
        }
    }
}
