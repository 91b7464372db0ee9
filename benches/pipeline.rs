//! Every stage of the pipeline at growing sizes (I = 2, K = 3, V = 2, ratio 6,
//! N from 100 to 6400), so that growth with the number of samples S is
//! visible: generate, parse + validate, check, (up to N = 1600) encode and
//! solve with uniqueness (easy), and (up to N = 400) the gradient method; and
//! solve on a hard point (I = 3, ratio 3, below where it gets easy).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use partrec::baseline::learn::{learn, LearnOptions};
use partrec::check::check;
use partrec::generate::{generate, samples_for_ratio, GenerateParams};
use partrec::solve::encode::{encode, Projection};
use partrec::solve::preprocess::Prepared;
use partrec::solve::{solve, SolveOptions};
use partrec::Instance;
use std::time::Duration;

fn params(groups: usize, n: u32, ratio: f64, seed: u64) -> GenerateParams {
    let tokens = vec![n; groups];
    GenerateParams {
        samples: samples_for_ratio(&tokens, ratio).unwrap(),
        tokens,
        classes: vec![3; groups],
        values: 2,
        seed,
        zipf: None,
    }
}

fn stages(c: &mut Criterion) {
    for n in [100u32, 400, 1600, 6400] {
        let p = params(2, n, 6.0, 1);
        let instance = generate(&p, Some(6.0)).unwrap();
        let json = instance.to_json();
        let s = instance.num_samples() as u64;
        let planted = instance.planted.clone().unwrap().partition;
        let id = |stage: &str| BenchmarkId::new(stage, format!("N={n},S={s}"));
        let mut g = c.benchmark_group("pipeline");
        g.throughput(Throughput::Elements(s));
        g.bench_function(id("generate"), |b| {
            b.iter(|| generate(&p, Some(6.0)).unwrap())
        });
        g.bench_function(id("parse"), |b| {
            b.iter(|| Instance::from_json(json.as_bytes(), "bench").unwrap())
        });
        g.bench_function(id("check"), |b| {
            b.iter(|| check(&instance, &planted).unwrap())
        });
        if n > 1600 {
            // Encoding and solving at this size take seconds per iteration: see `partrec sweep`.
            g.finish();
            continue;
        }
        g.bench_function(id("encode"), |b| {
            b.iter(|| {
                let prep = Prepared::new(&instance);
                encode(
                    &prep,
                    Projection::Auto,
                    &mut partrec::sat::Cnf::new(),
                    &partrec::sat::Control::new(),
                )
                .unwrap()
            })
        });
        g.bench_function(id("solve_unique"), |b| {
            b.iter(|| solve(&instance, &SolveOptions::unique(), &mut |_| {}).unwrap())
        });
        if n <= 400 {
            // The gradient method: training (to its plateau) plus clustering.
            g.bench_function(id("learn"), |b| {
                b.iter(|| learn(&instance, &LearnOptions::default()).unwrap())
            });
        }
        g.finish();
    }
}

fn hard(c: &mut Criterion) {
    let mut g = c.benchmark_group("hard");
    for n in [30u32, 40] {
        let instance = generate(&params(3, n, 3.0, 2), Some(3.0)).unwrap();
        g.bench_function(BenchmarkId::new("solve_unique_I3_ratio3", n), |b| {
            b.iter(|| solve(&instance, &SolveOptions::unique(), &mut |_| {}).unwrap())
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_millis(200)).measurement_time(Duration::from_secs(2));
    targets = stages, hard
}
criterion_main!(benches);
