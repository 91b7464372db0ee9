//! The typed protocol between a supervising partrec and its child (`partrec worker`).
//!
//! The parent writes one [`Request`] as a JSON document on the child's standard
//! input and closes it; the child answers with [`Response`] lines on standard output:
//! any number of [`Response::Progress`] lines (each an improved partial answer), then
//! exactly one final line, [`Response::Solved`], [`Response::Decided`] or
//! [`Response::Failed`]. Its exit code says only whether it answered (0) or failed (1);
//! everything else is in the lines. A child killed at the deadline leaves its last
//! progress line, which the parent keeps.
//!
//! ```
//! use partrec_worker::protocol::{child_main, Request, Response};
//! use partrec_solve::SolveOptions;
//! use partrec_core::model::instance::Instance;
//! use partrec_solve::solution::Status;
//!
//! let text = r#"{"groups": [{"tokens": 2, "classes": 2}], "samples": [{"x": [0], "y": 1}]}"#;
//! let instance = Instance::from_json(text.as_bytes(), "example")?;
//! let request = Request::solve(&instance, &SolveOptions::find());
//! let mut output = Vec::new();
//! let code = child_main(serde_json::to_vec(&request).unwrap().as_slice(), &mut output);
//! assert_eq!(code, 0);
//! let last = output.split(|&b| b == b'\n').filter(|l| !l.is_empty()).last().unwrap();
//! match serde_json::from_slice(last).unwrap() {
//!     Response::Solved(solution) => assert_eq!(solution.status, Status::Sat),
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), partrec_core::error::Error>(())
//! ```

use partrec_core::error::{Error, Location};
use partrec_core::model::instance::Instance;
use partrec_reduction::decide::{ColorAnswer, Via};
use partrec_reduction::graph::{parse_col, Graph};
use partrec_sat::{Backend, Control};
use partrec_solve::solution::Solution;
use partrec_solve::SolveOptions;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::io::{Read, Write};

/// The hidden subcommand that runs [`child_main`].
pub const COMMAND: &str = "worker";

/// What the parent asks of a child: one solve or one colouring decision, run to the end
/// (the parent enforces the deadline by killing the child).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
// One request per child process: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Request<'a> {
    /// Solve `instance` (in the instance file format) with `options`.
    Solve {
        /// The instance.
        #[serde(deserialize_with = "read_instance")]
        instance: Cow<'a, Instance>,
        /// What to decide, and the backend.
        options: SolveOptions,
    },
    /// Decide whether `graph` (DIMACS `.col` text) is `k`-colourable, by `via` on `backend`.
    Decide {
        /// The graph.
        #[serde(serialize_with = "write_col", deserialize_with = "read_col")]
        graph: Cow<'a, Graph>,
        /// The number of colours.
        k: u32,
        /// Through the reduction or the direct CNF.
        via: Via,
        /// The SAT backend.
        backend: Backend,
    },
}

impl<'a> Request<'a> {
    /// A solve request borrowing `instance`.
    pub fn solve(instance: &'a Instance, options: &SolveOptions) -> Self {
        Request::Solve {
            instance: Cow::Borrowed(instance),
            options: *options,
        }
    }

    /// A colouring request borrowing `graph`.
    pub fn decide(graph: &'a Graph, k: u32, via: Via, backend: Backend) -> Self {
        Request::Decide {
            graph: Cow::Borrowed(graph),
            k,
            via,
            backend,
        }
    }
}

/// One line of a child's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// An improved partial answer of a solve (sizes known, a partition found, ...).
    Progress(Solution),
    /// The final answer of a solve.
    Solved(Solution),
    /// The final answer of a colouring decision.
    Decided(ColorAnswer),
    /// No answer: why, on one line.
    Failed {
        /// Whose fault it is.
        kind: FailureKind,
        /// What went wrong, without the `partrec: ` prefix or an origin.
        message: String,
        /// Where in the input, for a refused input that says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<Location>,
    },
}

/// Why a child gave no answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The input was refused (too large, out of a domain): the caller's to fix.
    Input,
    /// Anything else: a failed self-check, an unreadable request.
    Internal,
}

impl Response {
    /// The [`Response::Failed`] line for a library error.
    pub fn failed(e: &Error) -> Response {
        let (kind, message, at) = match e {
            Error::Input { message, at, .. } => (FailureKind::Input, message.clone(), at.clone()),
            Error::Usage(message) => (FailureKind::Input, message.clone(), None),
            Error::Param { .. } | Error::Budget { .. } => (FailureKind::Input, e.to_string(), None),
            Error::Internal(message) => (FailureKind::Internal, message.clone(), None),
            Error::Io { .. } => (FailureKind::Internal, e.to_string(), None),
        };
        Response::Failed { kind, message, at }
    }
}

fn read_instance<'de, 'a, D: Deserializer<'de>>(d: D) -> Result<Cow<'a, Instance>, D::Error> {
    let raw = Box::<RawValue>::deserialize(d)?;
    Instance::from_json(raw.get().as_bytes(), "instance")
        .map(Cow::Owned)
        .map_err(serde::de::Error::custom)
}

fn write_col<S: Serializer>(graph: &Graph, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&graph.to_col(""))
}

fn read_col<'de, 'a, D: Deserializer<'de>>(d: D) -> Result<Cow<'a, Graph>, D::Error> {
    let text = String::deserialize(d)?;
    parse_col(&text, "graph")
        .map(|col| Cow::Owned(col.graph))
        .map_err(serde::de::Error::custom)
}

/// The child's side: reads one [`Request`] from `input`, runs it without a deadline,
/// writes [`Response`] lines to `output` (flushed one by one), and returns the exit
/// code: 0 with a final answer, 1 after [`Response::Failed`].
pub fn child_main(mut input: impl Read, mut output: impl Write) -> i32 {
    partrec_core::memory::confine_from_env();
    let mut send = |response: &Response| {
        let line = serde_json::to_string(response).expect("a response serializes");
        // A parent that went away cannot read the answer; the orphan watch ends us.
        let _ = writeln!(output, "{line}").and_then(|()| output.flush());
    };
    let mut text = Vec::new();
    let request = input
        .read_to_end(&mut text)
        .map_err(|e| format!("cannot read the request: {e}"))
        .and_then(|_| {
            serde_json::from_slice::<Request<'static>>(&text)
                .map_err(|e| format!("not a valid worker request: {e}"))
        });
    let answer = match request {
        Err(message) => Err(Error::Internal(message)),
        Ok(Request::Solve { instance, options }) => {
            // The parent's budget holds here too.
            if let Some(bytes) = options.max_memory {
                partrec_core::memory::set_budget(bytes);
            }
            let mut progress = |partial: &Solution| send(&Response::Progress(partial.clone()));
            partrec_solve::solve_with(&instance, &options, &Control::new(), &mut progress)
                .map(Response::Solved)
        }
        Ok(Request::Decide {
            graph,
            k,
            via,
            backend,
        }) => partrec_reduction::decide::decide(&graph, k, via, backend, &Control::new())
            .map(Response::Decided),
    };
    let response = answer.unwrap_or_else(|e| Response::failed(&e));
    send(&response);
    i32::from(matches!(response, Response::Failed { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use partrec_solve::solution::Status;

    fn lines(output: &[u8]) -> Vec<Response> {
        String::from_utf8_lossy(output)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn a_request_round_trips_through_json() {
        let instance = Instance::from_json(
            br#"{"groups": [{"tokens": 2, "classes": 2}], "samples": [{"x": [1], "y": "a"}]}"#,
            "t",
        )
        .unwrap();
        let mut options = SolveOptions::unique();
        options.backend = Backend::Varisat;
        let text = serde_json::to_string(&Request::solve(&instance, &options)).unwrap();
        match serde_json::from_str::<Request>(&text).unwrap() {
            Request::Solve {
                instance: read,
                options: got,
            } => {
                assert_eq!(read.to_json(), instance.to_json());
                assert_eq!(got, options);
            }
            other => panic!("{other:?}"),
        }
        let graph = Graph::new(3, [(0, 1), (1, 2)]);
        let text =
            serde_json::to_string(&Request::decide(&graph, 2, Via::Direct, Backend::Varisat))
                .unwrap();
        assert!(text.starts_with(r#"{"decide":{"graph":"#), "{text}");
        match serde_json::from_str::<Request>(&text).unwrap() {
            Request::Decide { graph: read, k, .. } => {
                assert_eq!((read.vertices(), read.edge_count(), k), (3, 2, 2));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_solve_streams_progress_then_its_answer() {
        let instance = Instance::from_json(
            br#"{"groups": [{"tokens": 3, "classes": 2}], "samples": [{"x": [0], "y": 0}, {"x": [1], "y": 1}]}"#,
            "t",
        )
        .unwrap();
        let request = serde_json::to_vec(&Request::solve(&instance, &SolveOptions::unique()));
        let mut output = Vec::new();
        assert_eq!(child_main(request.unwrap().as_slice(), &mut output), 0);
        let lines = lines(&output);
        assert!(matches!(lines[0], Response::Progress(_)), "{lines:?}");
        match lines.last() {
            Some(Response::Solved(sol)) => assert_eq!(sol.status, Status::Sat),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_bad_request_or_a_refused_input_is_one_failed_line() {
        let mut output = Vec::new();
        assert_eq!(child_main(&b"{\"solve\": 3}"[..], &mut output), 1);
        match &lines(&output)[..] {
            [Response::Failed { kind, message, .. }] => {
                assert_eq!(*kind, FailureKind::Internal);
                assert!(
                    message.starts_with("not a valid worker request"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        // More tokens than an answer can list: the solver refuses the instance.
        let huge = br#"{"solve": {"instance": {"groups": [{"tokens": 4294967295, "classes": 2}], "samples": [{"x": [0], "y": 1}]}, "options": {"limit": 1, "prepare": {"must_differ": true}, "projection": "auto", "local_search": "auto", "backend": "varisat"}}}"#;
        let mut output = Vec::new();
        assert_eq!(child_main(&huge[..], &mut output), 1);
        match &lines(&output)[..] {
            [Response::Failed { kind, message, .. }] => {
                assert_eq!(*kind, FailureKind::Input, "{message}");
                assert!(message.contains("groups[0].tokens"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
