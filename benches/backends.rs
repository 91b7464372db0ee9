//! The SAT backends side by side, in one run on one machine:
//! - the easy regime, I = 2, K = 3, V = 2, N = 25,600, ratio 6: loading the
//!   encoding into the backend, the first SAT call, and the uniqueness call
//!   (the second, after the blocking clause), each measured on its own;
//! - the hard band, I = 3, K = 3, V = 2, N = 50, ratios 3 and 4: a whole
//!   `solve --unique` without the local search (so that only the backend differs),
//!   with class propagation on and off;
//!   At ratio 2 one such solve takes about a minute on CaDiCaL (criterion's warm-up
//!   estimate), too long for a bench; `partrec solve --timeout` measures it;
//! - the colouring questions on the shipped graphs (Petersen k = 2, 3; myciel4
//!   k = 4, 5), direct and through the reduction.
//!
//! Run: `cargo bench --bench backends`; the table of ratios in docs/performance.md comes from it.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use partrec::generate::{generate, samples_for_ratio, GenerateParams};
use partrec::reduction::decide::{decide, Via};
use partrec::reduction::graph::{mycielski, petersen};
use partrec::sat::{Backend, Control, Outcome, Solver};
use partrec::solve::encode::{encode, Encoding, Projection};
use partrec::solve::preprocess::Prepared;
use partrec::solve::{solve, LocalSearch, SolveOptions, Strategy};
use partrec::Instance;
use std::time::Duration;

fn planted(groups: usize, n: u32, ratio: f64, seed: u64) -> Instance {
    let tokens = vec![n; groups];
    let p = GenerateParams {
        samples: samples_for_ratio(&tokens, ratio).unwrap(),
        tokens,
        classes: vec![3; groups],
        values: 2,
        seed,
        zipf: None,
    };
    generate(&p, Some(ratio)).unwrap()
}

/// A solver of `backend` with the encoding of `prep` loaded.
fn loaded(backend: Backend, prep: &Prepared) -> (Box<dyn Solver>, Encoding) {
    let mut solver = backend.solver();
    let control = Control::new();
    let encoding = encode(prep, Projection::Auto, solver.as_mut(), &control)
        .unwrap()
        .unwrap();
    (solver, encoding)
}

fn easy(c: &mut Criterion) {
    let instance = planted(2, 25_600, 6.0, 1);
    let prep = Prepared::new(&instance);
    let mut g = c.benchmark_group("backends/easy I=2 N=25600 c=6");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for backend in Backend::ALL {
        g.bench_function(BenchmarkId::new("load", backend), |b| {
            b.iter(|| loaded(backend, &prep))
        });
        g.bench_function(BenchmarkId::new("solve", backend), |b| {
            b.iter_batched(
                || loaded(backend, &prep),
                |(mut solver, _)| assert_eq!(solver.solve(&[]).unwrap(), Outcome::Sat),
                BatchSize::PerIteration,
            )
        });
        g.bench_function(BenchmarkId::new("unique", backend), |b| {
            b.iter_batched(
                || {
                    let (mut solver, encoding) = loaded(backend, &prep);
                    assert_eq!(solver.solve(&[]).unwrap(), Outcome::Sat);
                    let found = encoding.decode(solver.as_ref());
                    solver.add_clause(&encoding.blocking_clause(&found));
                    solver
                },
                |mut solver| assert_eq!(solver.solve(&[]).unwrap(), Outcome::Unsat),
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

fn hard(c: &mut Criterion) {
    let mut g = c.benchmark_group("backends/hard I=3 N=50");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for ratio in [3.0, 4.0] {
        let instance = planted(3, 50, ratio, 1);
        for backend in Backend::ALL {
            for propagate in [true, false] {
                // One CDCL search: the backends compared alone, not the portfolio.
                let options = SolveOptions {
                    local_search: LocalSearch::Off,
                    backend,
                    propagate,
                    strategy: Strategy::Cdcl,
                    ..SolveOptions::unique()
                };
                let name = format!(
                    "c={ratio}{}",
                    if propagate { "" } else { " no propagation" }
                );
                g.bench_function(BenchmarkId::new(name, backend), |b| {
                    b.iter(|| solve(&instance, &options, &mut |_| {}).unwrap())
                });
            }
        }
    }
    g.finish();
}

fn coloring(c: &mut Criterion) {
    let mut g = c.benchmark_group("backends/coloring");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    let graphs = [
        ("petersen", petersen(), [2, 3]),
        ("myciel4", mycielski(4), [4, 5]),
    ];
    for (name, graph, ks) in &graphs {
        for k in ks {
            for via in [Via::Direct, Via::Reduction] {
                for backend in Backend::ALL {
                    let id = BenchmarkId::new(format!("{name} k={k} {via}"), backend);
                    g.bench_function(id, |b| {
                        b.iter(|| decide(graph, *k, via, backend, &Control::new()).unwrap())
                    });
                }
            }
        }
    }
    g.finish();
}

criterion_group!(benches, easy, hard, coloring);
criterion_main!(benches);
