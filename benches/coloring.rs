//! Colouring through the reduction against the direct colouring CNF, at k = chi
//! (a colouring to find) and k = chi - 1 (a refutation), on graphs built in code
//! and, where ../shared/dimacs exists, on DIMACS benchmark graphs.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use partrec::reduction::decide::{decide, Via};
use partrec::reduction::graph::{mycielski, queen, read_col, Graph};
use partrec::sat::{Backend, Control};
use std::time::Duration;

fn graphs() -> Vec<(String, Graph, u32)> {
    let mut list = vec![
        ("myciel4".to_string(), mycielski(4), 5),
        ("queen6_6".to_string(), queen(6, 6), 7),
    ];
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/dimacs");
    for (name, chi) in [
        ("myciel5", 6),
        ("DSJC125.1", 5),
        ("le450_5a", 5),
        ("games120", 9),
    ] {
        match read_col(&format!("{dir}/{name}.col")) {
            Ok(col) => list.push((name.to_string(), col.graph, chi)),
            Err(_) => eprintln!("skipped {name}: {dir} not found"),
        }
    }
    list
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("color");
    for (name, graph, chi) in graphs() {
        for k in [chi, chi - 1] {
            for via in [Via::Reduction, Via::Direct] {
                let id = BenchmarkId::new(format!("{name}/k{k}"), via);
                group.bench_function(id, |b| {
                    b.iter(|| decide(&graph, k, via, Backend::default(), &Control::new()).unwrap())
                });
            }
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_millis(200)).measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
