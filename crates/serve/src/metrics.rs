//! The service's counters, rendered in the Prometheus text exposition format (`/metrics`).
//!
//! Requests are counted by method, route and status, and by client (the name of the
//! token a request was authenticated with; `""` for none: no token file, `/v1/health`,
//! or a refused request), route and status; solve durations go into a
//! histogram and solves are counted by outcome and by backend; the queue depth, running solves and
//! stored jobs are gauges read at scrape time.

use partrec_sat::Backend;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds (seconds) of the solve-duration histogram buckets.
pub const BUCKETS: [f64; 10] = [0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0];

#[derive(Debug, Default)]
struct Counters {
    requests: BTreeMap<(String, String, u16), u64>,
    /// By client name (from the token file only, so the label set stays bounded), route
    /// and status.
    clients: BTreeMap<(String, String, u16), u64>,
    solves: BTreeMap<String, u64>,
    backends: BTreeMap<&'static str, u64>,
    buckets: [u64; BUCKETS.len()],
    duration_sum: f64,
    duration_count: u64,
}

/// The counters.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<Counters>,
}

/// Gauges sampled when the metrics are rendered.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gauges {
    /// Admitted solves waiting for a worker.
    pub queued: usize,
    /// Solves running.
    pub running: usize,
    /// Jobs stored.
    pub jobs: usize,
    /// Bytes of the memory budget reserved by running solves.
    pub memory_reserved: u64,
    /// The memory budget in bytes (`--max-memory`).
    pub memory_budget: u64,
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts one answered request, from `client` (a token's name, `""` for none).
    pub fn request(&self, method: &str, route: &str, status: u16, client: &str) {
        let mut c = self.lock();
        *c.requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        *c.clients
            .entry((client.to_string(), route.to_string(), status))
            .or_default() += 1;
    }

    /// Records one finished solve: its outcome (`sat`, `unsat`, `unknown`, `error`), its
    /// backend and duration.
    pub fn solve(&self, outcome: &str, backend: Backend, seconds: f64) {
        let mut c = self.lock();
        *c.solves.entry(outcome.to_string()).or_default() += 1;
        *c.backends.entry(backend.name()).or_default() += 1;
        for (bound, count) in BUCKETS.iter().zip(c.buckets.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        c.duration_sum += seconds;
        c.duration_count += 1;
    }

    /// The Prometheus text format of all counters and `gauges`.
    pub fn render(&self, gauges: Gauges) -> String {
        let c = self.lock();
        let mut out = String::new();
        let family = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        family(
            &mut out,
            "partrec_http_requests_total",
            "counter",
            "HTTP requests answered, by method, route and status.",
        );
        for ((method, route, status), n) in &c.requests {
            let _ = writeln!(
                out,
                "partrec_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        family(
            &mut out,
            "partrec_client_requests_total",
            "counter",
            "HTTP requests answered, by client (the token's name; empty for none), route and status.",
        );
        for ((client, route, status), n) in &c.clients {
            let _ = writeln!(
                out,
                "partrec_client_requests_total{{client=\"{client}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        family(
            &mut out,
            "partrec_solves_total",
            "counter",
            "Solves finished, by outcome.",
        );
        for (outcome, n) in &c.solves {
            let _ = writeln!(out, "partrec_solves_total{{outcome=\"{outcome}\"}} {n}");
        }
        family(
            &mut out,
            "partrec_backend_solves_total",
            "counter",
            "Solves finished, by SAT backend.",
        );
        for (backend, n) in &c.backends {
            let _ = writeln!(
                out,
                "partrec_backend_solves_total{{backend=\"{backend}\"}} {n}"
            );
        }
        family(
            &mut out,
            "partrec_solve_duration_seconds",
            "histogram",
            "Wall-clock seconds per solve, queueing excluded.",
        );
        for (bound, n) in BUCKETS.iter().zip(&c.buckets) {
            let _ = writeln!(
                out,
                "partrec_solve_duration_seconds_bucket{{le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "partrec_solve_duration_seconds_bucket{{le=\"+Inf\"}} {}\npartrec_solve_duration_seconds_sum {}\npartrec_solve_duration_seconds_count {}",
            c.duration_count, c.duration_sum, c.duration_count
        );
        for (name, help, value) in [
            (
                "partrec_queue_depth",
                "Admitted solves waiting for a worker.",
                gauges.queued as u64,
            ),
            (
                "partrec_running_solves",
                "Solves running.",
                gauges.running as u64,
            ),
            (
                "partrec_jobs_stored",
                "Background jobs stored.",
                gauges.jobs as u64,
            ),
            (
                "partrec_memory_reserved_bytes",
                "Bytes of the memory budget reserved by running solves (their estimates).",
                gauges.memory_reserved,
            ),
            (
                "partrec_memory_budget_bytes",
                "The memory budget running solves share (--max-memory).",
                gauges.memory_budget,
            ),
        ] {
            family(&mut out, name, "gauge", help);
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histogram_and_gauges() {
        let m = Metrics::default();
        m.request("POST", "/v1/solve", 200, "alice");
        m.request("POST", "/v1/solve", 200, "bob");
        m.request("POST", "/v1/solve", 400, "alice");
        m.request("GET", "/v1/health", 200, "");
        m.solve("sat", Backend::Cadical, 0.02);
        m.solve("unknown", Backend::Varisat, 2.0);
        let text = m.render(Gauges {
            queued: 3,
            running: 1,
            jobs: 0,
            memory_reserved: 2048,
            memory_budget: 4096,
        });
        for line in [
            "partrec_http_requests_total{method=\"POST\",route=\"/v1/solve\",status=\"200\"} 2",
            "partrec_http_requests_total{method=\"POST\",route=\"/v1/solve\",status=\"400\"} 1",
            "partrec_client_requests_total{client=\"alice\",route=\"/v1/solve\",status=\"200\"} 1",
            "partrec_client_requests_total{client=\"alice\",route=\"/v1/solve\",status=\"400\"} 1",
            "partrec_client_requests_total{client=\"bob\",route=\"/v1/solve\",status=\"200\"} 1",
            "partrec_client_requests_total{client=\"\",route=\"/v1/health\",status=\"200\"} 1",
            "partrec_solves_total{outcome=\"sat\"} 1",
            "partrec_backend_solves_total{backend=\"varisat\"} 1",
            "partrec_solve_duration_seconds_bucket{le=\"0.01\"} 0",
            "partrec_solve_duration_seconds_bucket{le=\"0.05\"} 1",
            "partrec_solve_duration_seconds_bucket{le=\"5\"} 2",
            "partrec_solve_duration_seconds_bucket{le=\"+Inf\"} 2",
            "partrec_solve_duration_seconds_count 2",
            "partrec_queue_depth 3",
            "partrec_running_solves 1",
            "partrec_memory_reserved_bytes 2048",
            "partrec_memory_budget_bytes 4096",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        // Every sample line follows the # TYPE line of its own family.
        let mut family = String::new();
        for l in text.lines() {
            if let Some(rest) = l.strip_prefix("# TYPE ") {
                family = rest.split(' ').next().unwrap().to_string();
            } else if !l.starts_with('#') {
                let name = l.split(['{', ' ']).next().unwrap();
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .fold(name, |n, s| n.strip_suffix(s).unwrap_or(n));
                assert!(family == name || family == base, "{l} under {family}");
            }
        }
    }
}
