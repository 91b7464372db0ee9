//! Differential tests: the SAT solver against exhaustive enumeration on
//! thousands of seeded tiny instances (YES and NO), for sat/unsat, counts,
//! uniqueness, witnesses, and the checker's verdict on every answer.

mod common;

use common::brute::consistent_partitions;
use common::tiny_instance;
use partrec::check::check;
use partrec::model::partition::canonical;
use partrec::model::solution::Status;
use partrec::solve::encode::Projection;
use partrec::solve::preprocess::PrepareOptions;
use partrec::solve::{solve, LocalSearch, SolveOptions};

/// Counting stops here so that instances with many partitions stay quick.
const COUNT_CAP: u64 = 300;

/// Every preprocessing and encoding variant the solver can run with.
fn variants() -> Vec<SolveOptions> {
    let mut out = Vec::new();
    for must_differ in [true, false] {
        for projection in [
            Projection::Auto,
            Projection::Off,
            Projection::Group(0),
            Projection::Group(2),
        ] {
            out.push(SolveOptions {
                prepare: PrepareOptions { must_differ },
                projection,
                ..SolveOptions::count(COUNT_CAP)
            });
        }
    }
    out
}

#[test]
fn every_variant_agrees_with_brute_force_on_3000_tiny_instances() {
    for options in variants() {
        agrees_with_brute_force(options);
    }
}

fn agrees_with_brute_force(options: SolveOptions) {
    let (mut yes, mut no) = (0, 0);
    for seed in 0..3000 {
        let inst = tiny_instance(seed);
        let all = consistent_partitions(&inst);
        let truth = all.len() as u64;
        let sol = solve(&inst, &options, &mut |_| {}).unwrap();
        let ctx = format!("{options:?} seed {seed}: {}", inst.to_json());
        if truth == 0 {
            no += 1;
            assert_eq!(sol.status, Status::Unsat, "{ctx}");
            assert_eq!(sol.count, Some(0), "{ctx}");
            continue;
        }
        yes += 1;
        assert_eq!(sol.status, Status::Sat, "{ctx}");
        let p = sol.partition.as_ref().unwrap();
        assert!(check(&inst, p).unwrap().consistent, "{ctx}");
        assert!(
            all.contains(p),
            "the answer is canonical and among the brute-force ones: {ctx}"
        );
        assert_eq!(sol.count, Some(truth.min(COUNT_CAP)), "{ctx}");
        assert_eq!(sol.count_complete, Some(truth < COUNT_CAP), "{ctx}");
        assert_eq!(sol.unique, Some(truth == 1), "{ctx}");
        if let Some(w) = &sol.witness {
            assert!(check(&inst, w).unwrap().consistent, "{ctx}");
            assert_ne!(canonical(w), *p, "{ctx}");
        } else {
            assert_eq!(truth, 1, "a non-unique answer carries a witness: {ctx}");
        }
    }
    // The generator must exercise both sides.
    eprintln!("yes {yes}, no {no}");
    assert!(yes > 1000 && no > 300, "yes {yes}, no {no}");
}

#[test]
fn uniqueness_mode_agrees_with_brute_force() {
    for seed in 5000..6500 {
        let inst = tiny_instance(seed);
        let truth = consistent_partitions(&inst).len();
        let options = SolveOptions {
            local_search: LocalSearch::Work(20_000),
            ..SolveOptions::unique()
        };
        let sol = solve(&inst, &options, &mut |_| {}).unwrap();
        let ctx = format!("seed {seed}: {}", inst.to_json());
        match truth {
            0 => assert_eq!((sol.status, sol.unique), (Status::Unsat, None), "{ctx}"),
            1 => assert_eq!((sol.status, sol.unique), (Status::Sat, Some(true)), "{ctx}"),
            _ => {
                assert_eq!(
                    (sol.status, sol.unique),
                    (Status::Sat, Some(false)),
                    "{ctx}"
                );
                assert!(
                    check(&inst, sol.witness.as_ref().unwrap())
                        .unwrap()
                        .consistent
                );
            }
        }
    }
}

/// Instances with many classes (the ladder at-most-one) and unobserved tokens (the
/// compact numbering and the closed-form count of free placements).
fn wide_instance(seed: u64) -> partrec::Instance {
    use partrec::{Group, Instance, Label};
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut groups = vec![Group::new(rng.random_range(6..=7), rng.random_range(5..=9))];
    if rng.random_bool(0.5) {
        groups.push(Group::new(rng.random_range(1..=3), rng.random_range(1..=3)));
    }
    let values = rng.random_range(2..=3u64);
    let samples: Vec<(Vec<u32>, Label)> = (0..rng.random_range(0..=12))
        .map(|_| {
            let x = groups
                .iter()
                .map(|g| rng.random_range(0..g.tokens))
                .collect();
            (x, Label::from(rng.random_range(0..values)))
        })
        .collect();
    Instance::new(groups, samples).unwrap()
}

#[test]
fn many_classes_and_free_tokens_agree_with_brute_force() {
    let (mut yes, mut no, mut unique) = (0, 0, 0);
    for seed in 0..300 {
        let inst = wide_instance(seed);
        let truth = consistent_partitions(&inst).len() as u64;
        let sol = solve(&inst, &SolveOptions::count(COUNT_CAP), &mut |_| {}).unwrap();
        let ctx = format!("seed {seed}: {}", inst.to_json());
        if truth == 0 {
            no += 1;
            assert_eq!(sol.status, Status::Unsat, "{ctx}");
            continue;
        }
        yes += 1;
        unique += usize::from(truth == 1);
        assert!(
            check(&inst, sol.partition.as_ref().unwrap())
                .unwrap()
                .consistent,
            "{ctx}"
        );
        assert_eq!(sol.count, Some(truth.min(COUNT_CAP)), "{ctx}");
        assert_eq!(sol.unique, Some(truth == 1), "{ctx}");
    }
    eprintln!("yes {yes}, no {no}, unique {unique}");
    assert!(yes > 100 && no > 20, "yes {yes}, no {no}");
}
