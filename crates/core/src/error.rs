//! Typed errors of the library, and the exit code each maps to.
//!
//! Bad input (a malformed file, an impossible parameter, an unreadable path) is
//! the user's to fix and maps to exit code 2; an internal error (an answer that
//! failed its own check, a worker that died) maps to exit code 1.

use std::fmt;

/// Every error the library returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed or invalid input: `origin` names the file (or `-`, or `body`; empty
    /// when the library cannot know it), `message` says what is wrong and where, in the
    /// user's terms.
    #[error("{}", with_origin(origin, message))]
    Input {
        /// The file or stream the input came from.
        origin: String,
        /// What is wrong, naming the place.
        message: String,
        /// What sort of problem it is.
        kind: InputKind,
        /// Where in the input, when known.
        at: Option<Location>,
    },
    /// A parameter of a library call is out of its domain. `name` is the parameter's
    /// name in the library (`colors`, `tokens`); a command line shows it as its flag.
    #[error("{name} {message}")]
    Param {
        /// The parameter.
        name: &'static str,
        /// What is wrong with it, as a predicate (`must be >= 1`).
        message: String,
    },
    /// A request that cannot be carried out as asked (not one parameter's fault).
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path that failed.
        path: String,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// What the input asks for would need more memory than the budget allows
    /// ([`crate::memory`]); a front end says how to raise it.
    #[error("{what} would need about {} of memory, more than the budget of {}", crate::units::show(*need), crate::units::show(*budget))]
    Budget {
        /// What needs it: "the encoding (31,000,000 clauses)", "x (1e8 x 2 tokens)".
        what: String,
        /// The bytes it would need, estimated before anything is allocated.
        need: u64,
        /// The budget in bytes.
        budget: u64,
    },
    /// A bug or a failed self-check: never a wrong answer, always this instead.
    #[error("internal error: {0}")]
    Internal(String),
}

/// `origin: message`, or the message alone for an unknown origin.
fn with_origin(origin: &str, message: &str) -> String {
    if origin.is_empty() {
        message.to_string()
    } else {
        format!("{origin}: {message}")
    }
}

/// The sort of an input problem, for callers that map errors (the HTTP service
/// answers [`InputKind::TooLarge`] with 413/422 and the others with 400).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// Not text in the expected syntax at all (not JSON, empty, a BOM, bad `.col` line).
    Syntax,
    /// Well-formed, but not the expected document: a field missing, unknown or of
    /// the wrong type.
    Shape,
    /// A value out of its domain or inconsistent with another.
    Invalid,
    /// Within the format, but beyond a stated limit.
    TooLarge,
}

/// Where an input problem is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// A JSON path: `samples[3].x[1]`, `groups[0].tokens`, `partition`.
    Path(String),
    /// A line (and column, if known), counted from 1.
    Line {
        /// The line.
        line: usize,
        /// The column, if known.
        column: Option<usize>,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Path(p) => f.write_str(p),
            Location::Line {
                line,
                column: Some(c),
            } => write!(f, "line {line} column {c}"),
            Location::Line { line, column: None } => write!(f, "line {line}"),
        }
    }
}

impl Error {
    /// An [`Error::Input`] of kind [`InputKind::Invalid`] with no location.
    pub fn input(origin: impl fmt::Display, message: impl fmt::Display) -> Self {
        Self::input_at(origin, InputKind::Invalid, None, message)
    }

    /// An [`Error::Input`] of `kind` at `at`.
    pub fn input_at(
        origin: impl fmt::Display,
        kind: InputKind,
        at: Option<Location>,
        message: impl fmt::Display,
    ) -> Self {
        Error::Input {
            origin: origin.to_string(),
            message: clip(message.to_string()),
            kind,
            at,
        }
    }

    /// An [`Error::Param`]: `name` `message` (`colors`, `must be >= 1`).
    pub fn param(name: &'static str, message: impl fmt::Display) -> Self {
        Error::Param {
            name,
            message: message.to_string(),
        }
    }

    /// Builds an [`Error::Io`] for `path`.
    pub fn io(path: impl fmt::Display, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_string(),
            source,
        }
    }

    /// The error with `origin` named where the library could not know it: an input error
    /// without a file (the instance's sizes, checked after reading) gets this one.
    pub fn in_file(self, origin: &str) -> Self {
        match self {
            Error::Input {
                origin: o,
                message,
                kind,
                at,
            } if o.is_empty() => Error::Input {
                origin: origin.to_string(),
                message,
                kind,
                at,
            },
            other => other,
        }
    }

    /// The process exit code for this error: 2 for the user's input, 1 for internal errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input { .. }
            | Error::Param { .. }
            | Error::Usage(_)
            | Error::Io { .. }
            | Error::Budget { .. } => 2,
            Error::Internal(_) => 1,
        }
    }
}

/// A validation failure inside a document: the JSON path and the message (which
/// starts with the path, so it reads alone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// The JSON path at fault.
    pub path: String,
    /// The whole message.
    pub message: String,
}

impl Invalid {
    /// `path` followed by `rest` (which starts with its own separator: ` must be`, ` = 3: `).
    pub fn at(path: impl Into<String>, rest: impl fmt::Display) -> Self {
        let path = path.into();
        Invalid {
            message: format!("{path}{rest}"),
            path,
        }
    }

    /// The [`Error::Input`] for this failure in `origin`, its message after `prefix`.
    pub fn into_error(self, origin: &str, prefix: &str) -> Error {
        Error::input_at(
            origin,
            InputKind::Invalid,
            Some(Location::Path(self.path)),
            format!("{prefix}{}", self.message),
        )
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Shorthand for results with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Characters of an input error's message kept at most: a message quoting a huge bad
/// value (a string of megabytes, an unknown field's name) is cut in the middle.
const MESSAGE_CHARS: usize = 400;

/// `message` cut to about [`MESSAGE_CHARS`] characters, keeping its position suffix
/// (` at line L column C`).
fn clip(message: String) -> String {
    if message.chars().count() <= MESSAGE_CHARS {
        return message;
    }
    let tail = message
        .rfind(" at line ")
        .map(|i| &message[i..])
        .filter(|t| t.len() < 60)
        .unwrap_or("");
    let head: String = message.chars().take(MESSAGE_CHARS - 60).collect();
    format!("{head}... (cut){tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_separate_user_errors_from_bugs() {
        assert_eq!(Error::input("f.json", "bad").exit_code(), 2);
        assert_eq!(Error::Usage("x".into()).exit_code(), 2);
        assert_eq!(Error::param("colors", "must be >= 1").exit_code(), 2);
        assert_eq!(
            Error::param("colors", "must be >= 1").to_string(),
            "colors must be >= 1"
        );
        let e =
            Invalid::at("groups[0].tokens", " must be >= 1").into_error("f", "invalid instance: ");
        assert_eq!(
            e.to_string(),
            "f: invalid instance: groups[0].tokens must be >= 1"
        );
        assert!(
            matches!(e, Error::Input { at: Some(Location::Path(p)), .. } if p == "groups[0].tokens")
        );
        assert_eq!(Error::Internal("x".into()).exit_code(), 1);
        assert_eq!(
            Error::input("f.json", "line 3: bad").to_string(),
            "f.json: line 3: bad"
        );
    }

    #[test]
    fn a_huge_message_is_cut_and_keeps_its_position() {
        let long = format!(
            "invalid type: string \"{}\" at line 1 column 9",
            "x".repeat(100_000)
        );
        let e = Error::input("a.json", long).to_string();
        assert!(
            e.len() < 500 && e.ends_with("at line 1 column 9"),
            "{}",
            e.len()
        );
        assert_eq!(clip("short".into()), "short");
    }
}
