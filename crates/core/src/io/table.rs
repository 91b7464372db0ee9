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
    let csv_error = |e: csv::Error| {
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
    };
    let header = reader.headers().map_err(csv_error)?.clone();
    if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
        return Err(at(origin, 1, "no header row (expected column names)"));
    }
    let column = |name: &str, flag: &str| -> Result<usize> {
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
    };
    let group_cols: Vec<usize> = options
        .groups
        .iter()
        .map(|g| column(g, "group"))
        .collect::<Result<_>>()?;
    let value_col = column(&options.value, "value")?;
    let weight_col = options
        .weight
        .as_deref()
        .map(|w| column(w, "weight"))
        .transpose()?;
    let mut used: Vec<usize> = group_cols
        .iter()
        .copied()
        .chain([value_col])
        .chain(weight_col)
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
    let arity = group_cols.len();
    let mut ids: Vec<HashMap<String, u32>> = vec![HashMap::new(); arity];
    let mut names: Vec<Vec<String>> = vec![Vec::new(); arity];
    let mut values: HashMap<String, u32> = HashMap::new();
    let mut labels: Vec<Label> = Vec::new();
    let mut tokens: Vec<u32> = Vec::new();
    let mut label_ids: Vec<u32> = Vec::new();
    let mut weights: Vec<u64> = Vec::new();
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_error)? {
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
        for (g, &c) in group_cols.iter().enumerate() {
            let name = cell(c, "a token")?;
            let id = match ids[g].get(name) {
                Some(&id) => id,
                None => {
                    let id = names[g].len() as u32;
                    ids[g].insert(name.to_string(), id);
                    names[g].push(name.to_string());
                    id
                }
            };
            tokens.push(id);
        }
        let value = cell(value_col, "the value")?;
        let id = match values.get(value) {
            Some(&id) => id,
            None => {
                let id = labels.len() as u32;
                values.insert(value.to_string(), id);
                labels.push(Label::Text(value.to_string()));
                id
            }
        };
        label_ids.push(id);
        if let Some(c) = weight_col {
            let text = cell(c, "the weight")?;
            let w = text
                .parse::<u64>()
                .ok()
                .filter(|&w| w >= 1)
                .ok_or_else(|| {
                    at(
                        origin,
                        line,
                        format_args!(
                            "weight {} is not a whole number from 1 to {}",
                            shown(text),
                            u64::MAX
                        ),
                    )
                })?;
            weights.push(w);
        }
    }
    let classes: Vec<u32> = match options.classes.len() {
        0 => names.iter().map(|n| (n.len() as u32).max(1)).collect(),
        1 => vec![options.classes[0]; arity],
        n if n == arity => options.classes.clone(),
        n => {
            return Err(Error::param(
                "classes",
                format!("has {n} values; expected 1 or {arity} (one per group column)"),
            ))
        }
    };
    let groups: Vec<Group> = names
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
    let instance = Instance::from_flat(groups, tokens, label_ids, labels, None)
        .and_then(|i| match weight_col {
            Some(_) => i.with_weights(weights),
            None => Ok(i),
        })
        .map_err(|m| m.into_error(origin, "invalid instance: "))?;
    Ok(instance)
}
