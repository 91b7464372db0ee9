//! Samples from a table: CSV or TSV with a header row, one sample per row, the
//! tokens of each group and the value in named columns (`partrec import`).
//!
//! Each group's distinct cells become its tokens, numbered in first-seen order, and
//! the instance keeps their names. Cells are compared exactly as written (after the
//! CSV quoting is undone): `Hund` and `hund` are two tokens, `1` and `1.0` two values.
//! Every problem is one line naming the file, the line and the column: a missing or
//! duplicated header name, a row with more or fewer fields than the header, an empty
//! cell, text that is not UTF-8, a weight that is not a whole number >= 1.
//!
//! ```
//! use partrec_core::io::table::{import, ImportOptions};
//!
//! let csv = "noun,context,article\nHund,nom.sg,der\nKatze,nom.sg,die\nHund,dat.sg,dem\n";
//! let options = ImportOptions::new(&["noun", "context"], "article");
//! let inst = import(csv.as_bytes(), "g.csv", &options)?;
//! assert_eq!(inst.num_samples(), 3);
//! assert_eq!(inst.token_name(0, 1), "Katze");
//! assert_eq!(inst.groups()[1].tokens, 2);
//! # Ok::<(), partrec_core::error::Error>(())
//! ```

use crate::error::{Error, InputKind, Location, Result};
use crate::model::instance::{Group, Instance};
use crate::model::label::Label;
use std::collections::HashMap;

/// What to read from the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// The column of each group's tokens, in group order.
    pub groups: Vec<String>,
    /// The column of the values.
    pub value: String,
    /// The column of the sample weights (whole numbers >= 1), if any.
    pub weight: Option<String>,
    /// The most classes per group: one number for every group, or one per group;
    /// empty: each group's number of distinct tokens (no bound).
    pub classes: Vec<u32>,
    /// The field separator; `None`: a tab when the header has one and no comma, else
    /// a comma.
    pub delimiter: Option<u8>,
}

impl ImportOptions {
    /// Groups from `groups`, values from `value`, no weights, no class bound, the
    /// separator guessed.
    pub fn new(groups: &[&str], value: &str) -> Self {
        ImportOptions {
            groups: groups.iter().map(|g| g.to_string()).collect(),
            value: value.to_string(),
            weight: None,
            classes: Vec::new(),
            delimiter: None,
        }
    }
}

/// An error at a line of the table (and a column, by name).
fn at(origin: &str, line: u64, message: impl std::fmt::Display) -> Error {
    Error::input_at(
        origin,
        InputKind::Invalid,
        Some(Location::Line {
            line: line as usize,
            column: None,
        }),
        format!("line {line}: {message}"),
    )
}

/// The separator of a table whose first line is `header`.
fn guess_delimiter(bytes: &[u8]) -> u8 {
    let header = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    if header.contains(&b'\t') && !header.contains(&b',') {
        b'\t'
    } else {
        b','
    }
}

/// A cell shown in a message: at most 40 characters, quoted.
fn shown(cell: &str) -> String {
    let cut: String = cell.chars().take(40).collect();
    let more = if cut.len() < cell.len() { "..." } else { "" };
    format!("{cut:?}{more}")
}

/// Reads the table `bytes` (from `origin`) into an instance.
pub fn import(bytes: &[u8], origin: &str, options: &ImportOptions) -> Result<Instance> {
    if options.groups.is_empty() {
        return Err(Error::param("group", "must name at least one column"));
    }
    if options.classes.contains(&0) {
        return Err(Error::param("classes", "must be at least 1"));
    }
    let delimiter = options.delimiter.unwrap_or_else(|| guess_delimiter(bytes));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let header = reader.headers().map_err(|e| csv_error(origin, e))?.clone();
    if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
        return Err(at(origin, 1, "no header row (expected column names)"));
    }
    let columns = Columns::find(&header, options, origin)?;
    let mut rows = Rows::new(columns.groups.len());
    let mut record = csv::StringRecord::new();
    while reader
        .read_record(&mut record)
        .map_err(|e| csv_error(origin, e))?
    {
        rows.add(&record, &header, &columns, origin)?;
    }
    let classes = class_bounds(options, &rows.names)?;
    rows.into_instance(classes, &columns, options, origin)
}

/// A reader's error as one line at its line of the table.
fn csv_error(origin: &str, e: csv::Error) -> Error {
    let line = e.position().map_or(1, |p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "{len} fields, but the header has {expected_len} (a ragged row, or a separator inside an unquoted cell)"
        ),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_string(),
        _ => e.to_string().replace(['\n', '\r'], " "),
    };
    at(origin, line, message)
}

/// The columns read, by index into the header.
struct Columns {
    /// Each group's, in group order.
    groups: Vec<usize>,
    /// The values'.
    value: usize,
    /// The weights', if any.
    weight: Option<usize>,
}

impl Columns {
    /// The columns `options` names, each found exactly once in `header` and given one
    /// role only.
    fn find(header: &csv::StringRecord, options: &ImportOptions, origin: &str) -> Result<Columns> {
        let groups: Vec<usize> = options
            .groups
            .iter()
            .map(|g| column(header, g, "group", origin))
            .collect::<Result<_>>()?;
        let value = column(header, &options.value, "value", origin)?;
        let weight = options
            .weight
            .as_deref()
            .map(|w| column(header, w, "weight", origin))
            .transpose()?;
        let mut used: Vec<usize> = groups
            .iter()
            .copied()
            .chain([value])
            .chain(weight)
            .collect();
        used.sort_unstable();
        if let Some(w) = used.windows(2).find(|w| w[0] == w[1]) {
            return Err(at(
                origin,
                1,
                format_args!(
                    "column {} is named twice among the group, value and weight columns (each is one role)",
                    shown(&header[w[0]])
                ),
            ));
        }
        Ok(Columns {
            groups,
            value,
            weight,
        })
    }
}

/// The index of the one column of `header` called `name` (given with `--{flag}`).
fn column(header: &csv::StringRecord, name: &str, flag: &str, origin: &str) -> Result<usize> {
    let found: Vec<usize> = (0..header.len()).filter(|&c| &header[c] == name).collect();
    match found.as_slice() {
        [c] => Ok(*c),
        [] => Err(at(
            origin,
            1,
            format_args!(
                "no column {} (--{flag}); the header has {}",
                shown(name),
                header
                    .iter()
                    .take(20)
                    .map(shown)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        _ => Err(at(
            origin,
            1,
            format_args!(
                "{} names {} columns (--{flag} needs one)",
                shown(name),
                found.len()
            ),
        )),
    }
}

/// The id of `name` in `ids`, new names numbered in first-seen order; `new` is called
/// with each new name.
fn intern(ids: &mut HashMap<String, u32>, name: &str, new: impl FnOnce(&str)) -> u32 {
    if let Some(&id) = ids.get(name) {
        return id;
    }
    let id = ids.len() as u32;
    ids.insert(name.to_string(), id);
    new(name);
    id
}

/// The samples read so far, flat, with the tokens and values they name.
struct Rows {
    /// Each group's token ids, by name.
    ids: Vec<HashMap<String, u32>>,
    /// Each group's token names, by id.
    names: Vec<Vec<String>>,
    /// The value ids, by text.
    values: HashMap<String, u32>,
    /// The values, by id.
    labels: Vec<Label>,
    /// Every sample's token ids, row by row.
    tokens: Vec<u32>,
    /// Every sample's value id.
    label_ids: Vec<u32>,
    /// Every sample's weight, when there is a weight column.
    weights: Vec<u64>,
}

impl Rows {
    /// Nothing read yet, for `arity` groups.
    fn new(arity: usize) -> Rows {
        Rows {
            ids: vec![HashMap::new(); arity],
            names: vec![Vec::new(); arity],
            values: HashMap::new(),
            labels: Vec::new(),
            tokens: Vec::new(),
            label_ids: Vec::new(),
            weights: Vec::new(),
        }
    }

    /// Adds the sample of `record`: its tokens, its value, its weight.
    fn add(
        &mut self,
        record: &csv::StringRecord,
        header: &csv::StringRecord,
        columns: &Columns,
        origin: &str,
    ) -> Result<()> {
        let line = record.position().map_or(0, |p| p.line());
        let cell = |c: usize, what: &str| -> Result<&str> {
            let text = &record[c];
            if text.is_empty() {
                return Err(at(
                    origin,
                    line,
                    format_args!("column {} ({what}) is empty", shown(&header[c])),
                ));
            }
            Ok(text)
        };
        for (g, &c) in columns.groups.iter().enumerate() {
            let name = cell(c, "a token")?;
            let names = &mut self.names[g];
            let id = intern(&mut self.ids[g], name, |n| names.push(n.to_string()));
            self.tokens.push(id);
        }
        let value = cell(columns.value, "the value")?;
        let labels = &mut self.labels;
        let id = intern(&mut self.values, value, |v| {
            labels.push(Label::Text(v.to_string()))
        });
        self.label_ids.push(id);
        if let Some(c) = columns.weight {
            let w = weight(cell(c, "the weight")?, origin, line)?;
            self.weights.push(w);
        }
        Ok(())
    }

    /// The instance of the samples read, with at most `classes` classes per group.
    fn into_instance(
        self,
        classes: Vec<u32>,
        columns: &Columns,
        options: &ImportOptions,
        origin: &str,
    ) -> Result<Instance> {
        let groups: Vec<Group> = self
            .names
            .into_iter()
            .zip(&classes)
            .zip(&options.groups)
            .map(|((names, &k), column)| Group {
                tokens: (names.len() as u32).max(1),
                classes: k,
                name: Some(column.clone()),
                token_names: (!names.is_empty()).then_some(names),
            })
            .collect();
        Instance::from_flat(groups, self.tokens, self.label_ids, self.labels, None)
            .and_then(|i| match columns.weight {
                Some(_) => i.with_weights(self.weights),
                None => Ok(i),
            })
            .map_err(|m| m.into_error(origin, "invalid instance: "))
    }
}

/// The weight in the cell `text` at `line`: a whole number >= 1.
fn weight(text: &str, origin: &str, line: u64) -> Result<u64> {
    text.parse::<u64>().ok().filter(|&w| w >= 1).ok_or_else(|| {
        at(
            origin,
            line,
            format_args!(
                "weight {} is not a whole number from 1 to {}",
                shown(text),
                u64::MAX
            ),
        )
    })
}

/// The most classes of each group: `options.classes` for every group or one per group,
/// else each group's number of distinct tokens (`names`).
fn class_bounds(options: &ImportOptions, names: &[Vec<String>]) -> Result<Vec<u32>> {
    let arity = names.len();
    match options.classes.len() {
        0 => Ok(names.iter().map(|n| (n.len() as u32).max(1)).collect()),
        1 => Ok(vec![options.classes[0]; arity]),
        n if n == arity => Ok(options.classes.clone()),
        n => Err(Error::param(
            "classes",
            format!("has {n} values; expected 1 or {arity} (one per group column)"),
        )),
    }
}
