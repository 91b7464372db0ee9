//! Typed errors of the library, and the exit code each maps to.
//!
//! Bad input (a malformed file, an impossible parameter, an unreadable path) is
//! the user's to fix and maps to exit code 2; an internal error (an answer that
//! failed its own check, a worker that died) maps to exit code 1.

use std::fmt;

/// Every error the library returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed or invalid input: `origin` names the file (or `-`), `message`
    /// names the field, sample, line or column and what was expected.
    #[error("{origin}: {message}")]
    Input {
        /// The file or stream the input came from.
        origin: String,
        /// What is wrong, naming the place.
        message: String,
    },
    /// A parameter given to a command or library call is out of its domain.
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
    /// A bug or a failed self-check: never a wrong answer, always this instead.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Builds an [`Error::Input`] from anything displayable.
    pub fn input(origin: impl fmt::Display, message: impl fmt::Display) -> Self {
        Error::Input {
            origin: origin.to_string(),
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

    /// The process exit code for this error: 2 for the user's input, 1 for internal errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input { .. } | Error::Usage(_) | Error::Io { .. } => 2,
            Error::Internal(_) => 1,
        }
    }
}

/// Shorthand for results with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_separate_user_errors_from_bugs() {
        assert_eq!(Error::input("f.json", "bad").exit_code(), 2);
        assert_eq!(Error::Usage("x".into()).exit_code(), 2);
        assert_eq!(Error::Internal("x".into()).exit_code(), 1);
        assert_eq!(
            Error::input("f.json", "line 3: bad").to_string(),
            "f.json: line 3: bad"
        );
    }
}
