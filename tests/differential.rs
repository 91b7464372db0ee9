//! Differential tests: the solver, on every SAT backend, against exhaustive
//! enumeration on thousands of seeded tiny instances (YES and NO), for
//! sat/unsat, counts, uniqueness, witnesses, and the checker's verdict on every
//! answer; and the backends against each other on larger planted instances.

mod common;

use common::brute::{consistent_partitions, least_violations};
use common::tiny_instance;
use partrec::check::check;
use partrec::model::partition::canonical;
use partrec::sat::Backend;
use partrec::solve::encode::Projection;
use partrec::solve::preprocess::PrepareOptions;
use partrec::solve::preprocess::Prepared;
use partrec::solve::solution::Status;
use partrec::solve::{solve, table, LocalSearch, SolveOptions, Strategy};

/// Counting stops here so that instances with many partitions stay quick.
const COUNT_CAP: u64 = 300;

/// Every preprocessing and encoding variant the solver can run with, on every backend.
fn variants() -> Vec<SolveOptions> {
    let mut out = Vec::new();
    for (must_differ, backend, propagate) in [true, false]
        .into_iter()
        .flat_map(|m| Backend::ALL.map(|b| (m, b)))
        .flat_map(|(m, b)| [(m, b, true), (m, b, false)])
    {
        // The pairwise writing takes the last group's projection's place in half the
        // variants.
        let last = if propagate {
            Projection::Group(2)
        } else {
            Projection::Pairs
        };
        for projection in [
            Projection::Auto,
            Projection::Off,
            Projection::Group(0),
            last,
        ] {
            out.push(SolveOptions {
                prepare: PrepareOptions { must_differ },
                projection,
                backend,
                propagate,
                // Half the variants search a renamed formula.
                seed: (!must_differ).then_some(7),
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
        let sol = solve(&inst, &options, &mut |_| {}).unwrap();
        let ctx = format!("{options:?} seed {seed}: {}", inst.to_json());
        if all.is_empty() {
            no += 1;
        } else {
            yes += 1;
        }
        assert_counted(&inst, &all, &sol, COUNT_CAP, &ctx);
    }
    // The generator must exercise both sides.
    eprintln!("yes {yes}, no {no}");
    assert!(yes > 1000 && no > 300, "yes {yes}, no {no}");
}

/// Asserts that `sol`, a count up to `limit` (1: find one), agrees with `all`, every
/// consistent partition of `inst`: status, count, completeness, uniqueness, a checked
/// canonical answer among them and a checked witness.
fn assert_counted(
    inst: &partrec::Instance,
    all: &[Vec<Vec<u32>>],
    sol: &partrec::Solution,
    limit: u64,
    ctx: &str,
) {
    let truth = all.len() as u64;
    let counting = limit >= 2;
    assert_eq!(sol.count, counting.then_some(truth.min(limit)), "{ctx}");
    assert_eq!(
        sol.count_complete,
        counting.then_some(truth < limit),
        "{ctx}"
    );
    if truth == 0 {
        assert_eq!(sol.status, Status::Unsat, "{ctx}");
        assert_eq!((&sol.partition, &sol.unique), (&None, &None), "{ctx}");
        return;
    }
    assert_eq!(sol.status, Status::Sat, "{ctx}");
    let p = sol.partition.as_ref().unwrap();
    assert!(check(inst, p).unwrap().consistent, "{ctx}");
    assert!(
        all.contains(p),
        "the answer is canonical and among the brute-force ones: {ctx}"
    );
    assert_eq!(sol.unique, counting.then_some(truth == 1), "{ctx}");
    if let Some(w) = &sol.witness {
        assert!(check(inst, w).unwrap().consistent, "{ctx}");
        assert_ne!(canonical(w), *p, "{ctx}");
    } else {
        assert!(
            !counting || truth == 1,
            "a non-unique answer carries a witness: {ctx}"
        );
    }
}

/// A seeded tiny instance with three groups of 2 to 4 tokens, 2 or 3 classes (3 in at
/// most two groups, so that the table search ends quickly), two values and 4 to 16
/// samples; half planted.
fn tiny_three_groups(seed: u64) -> partrec::Instance {
    use partrec::{Group, Instance};
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let wide = rng.random_range(0..3usize);
    let groups: Vec<Group> = (0..3)
        .map(|g| {
            Group::new(
                rng.random_range(2..=4),
                if g == wide {
                    2
                } else {
                    rng.random_range(2..=3)
                },
            )
        })
        .collect();
    let classes = common::random_classes(&mut rng, &groups);
    let planted = rng.random_bool(0.5);
    let count = rng.random_range(4..=16);
    let samples = common::random_samples(&mut rng, &groups, &classes, 2, count, planted);
    Instance::new(groups, samples).expect("valid by construction")
}

#[test]
fn the_portfolio_agrees_with_brute_force() {
    let (mut yes, mut no, mut many) = (0, 0, 0);
    for seed in 0..600 {
        // Odd seeds: the three-group generator; even: the general one.
        let inst = if seed % 2 == 1 {
            tiny_three_groups(seed)
        } else {
            tiny_instance(seed)
        };
        let all = consistent_partitions(&inst);
        match all.len() {
            0 => no += 1,
            1 => yes += 1,
            _ => many += 1,
        }
        for limit in [2, COUNT_CAP] {
            let options = SolveOptions {
                strategy: Strategy::Portfolio,
                ..SolveOptions::count(limit)
            };
            let sol = solve(&inst, &options, &mut |_| {}).unwrap();
            let ctx = format!("portfolio limit {limit} seed {seed}: {}", inst.to_json());
            assert_counted(&inst, &all, &sol, limit, &ctx);
        }
    }
    eprintln!("unique {yes}, unsat {no}, several {many}");
    assert!(
        yes > 30 && no > 30 && many > 30,
        "unique {yes}, unsat {no}, several {many}"
    );
}

/// A seeded tiny instance with `arity` groups of 2 to 4 tokens, 2 or 3 classes, two
/// values and 4 to 20 samples; half planted.
fn tiny_groups(seed: u64, arity: usize) -> partrec::Instance {
    use partrec::{Group, Instance};
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let groups: Vec<Group> = (0..arity)
        .map(|_| Group::new(rng.random_range(2..=4), rng.random_range(2..=3)))
        .collect();
    let classes = common::random_classes(&mut rng, &groups);
    let planted = rng.random_bool(0.5);
    let count = rng.random_range(4..=20);
    let samples = common::random_samples(&mut rng, &groups, &classes, 2, count, planted);
    Instance::new(groups, samples).expect("valid by construction")
}

/// The search for three and four groups (the statistical warm start, whose partition
/// is the first answer when it is consistent, then the local search and CDCL) on both
/// backends, finding one, deciding uniqueness and counting, against brute force.
#[test]
fn the_warm_started_search_agrees_with_brute_force_on_three_and_four_groups() {
    for backend in Backend::ALL {
        let (mut yes, mut no, mut warm) = (0, 0, 0);
        for seed in 0..400 {
            let inst = tiny_groups(seed, 3 + (seed % 2) as usize);
            let all = consistent_partitions(&inst);
            if all.is_empty() {
                no += 1;
            } else {
                yes += 1;
            }
            for limit in [1, 2, COUNT_CAP] {
                let options = SolveOptions {
                    backend,
                    strategy: Strategy::Cdcl,
                    ..SolveOptions::count(limit)
                };
                let sol = solve(&inst, &options, &mut |_| {}).unwrap();
                if sol.stats.warm_start_mismatches == Some(0) {
                    warm += 1;
                }
                let ctx = format!("{backend} limit {limit} seed {seed}: {}", inst.to_json());
                assert_counted(&inst, &all, &sol, limit, &ctx);
            }
        }
        eprintln!("{backend}: yes {yes}, no {no}, first partition from the warm start {warm}");
        // Both sides, and the warm start's partition as the first answer, are exercised.
        assert!(
            yes > 100 && no > 50 && warm > 100,
            "{backend}: yes {yes}, no {no}, warm {warm}"
        );
    }
}

/// Limits from finding one partition to counts beyond any tiny instance's.
const LIMITS: [u64; 7] = [1, 2, 3, 7, 50, COUNT_CAP, 1 << 40];

/// The table search against the default strategy and brute force on tiny instances
/// of every kind (one to three groups, up to 9 classes, free tokens, YES and NO),
/// with every limit in [`LIMITS`]: status, count, completeness, uniqueness and
/// whether there is a witness are the default's, and right.
#[test]
fn the_table_search_answers_as_the_default_and_brute_force() {
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for seed in 0..900 {
        let inst = match seed % 3 {
            0 => tiny_instance(seed),
            1 => tiny_three_groups(seed),
            _ => wide_instance(seed),
        };
        let table = |limit| SolveOptions {
            strategy: Strategy::Table,
            ..SolveOptions::count(limit)
        };
        let prep = Prepared::new(&inst);
        if table::table_space(&prep).is_none() {
            continue; // refused (exit 2): see tests/cli.rs
        }
        let all = consistent_partitions(&inst);
        *seen
            .entry(match all.len() {
                0 => "unsat",
                1 => "unique",
                _ => "several",
            })
            .or_default() += 1;
        // As the search sizes its table: tokens first with fewer samples than cells.
        let cells: u32 = prep.groups().iter().map(|g| g.classes.max(1)).product();
        let order = if (prep.len() as u32) < cells {
            "tokens first"
        } else {
            "tables first"
        };
        *seen.entry(order).or_default() += 1;
        if prep
            .groups()
            .iter()
            .zip(inst.groups())
            .any(|(p, g)| p.tokens < g.tokens)
        {
            *seen.entry("free tokens").or_default() += 1;
        }
        for limit in LIMITS {
            let sol = solve(&inst, &table(limit), &mut |_| {}).unwrap();
            let default = solve(&inst, &SolveOptions::count(limit), &mut |_| {}).unwrap();
            let ctx = format!("limit {limit} seed {seed}: {}", inst.to_json());
            let answer = |s: &partrec::Solution| {
                (
                    s.status,
                    s.count,
                    s.count_complete,
                    s.unique,
                    s.witness.is_some(),
                )
            };
            assert_eq!(answer(&sol), answer(&default), "{ctx}");
            assert_counted(&inst, &all, &sol, limit, &ctx);
            if sol.stats.strategy == Some(Strategy::Table) {
                *seen.entry("searched").or_default() += 1;
            }
        }
    }
    eprintln!("{seen:?}");
    for (kind, least) in [
        ("unsat", 100),
        ("unique", 50),
        ("several", 300),
        ("free tokens", 150),
        ("tokens first", 150),
        ("tables first", 150),
        ("searched", 2500),
    ] {
        assert!(
            seen.get(kind).is_some_and(|&n| n >= least),
            "{kind}: {seen:?}"
        );
    }
}

#[test]
fn uniqueness_mode_agrees_with_brute_force() {
    for (seed, backend) in (5000..6500).flat_map(|s| Backend::ALL.map(|b| (s, b))) {
        let inst = tiny_instance(seed);
        let truth = consistent_partitions(&inst).len();
        let options = SolveOptions {
            local_search: LocalSearch::Work(20_000),
            backend,
            ..SolveOptions::unique()
        };
        let sol = solve(&inst, &options, &mut |_| {}).unwrap();
        let ctx = format!("{backend} seed {seed}: {}", inst.to_json());
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
    for (seed, backend) in (0..300).flat_map(|s| Backend::ALL.map(|b| (s, b))) {
        let inst = wide_instance(seed);
        let truth = consistent_partitions(&inst).len() as u64;
        let options = SolveOptions {
            backend,
            ..SolveOptions::count(COUNT_CAP)
        };
        let sol = solve(&inst, &options, &mut |_| {}).unwrap();
        let ctx = format!("{backend} seed {seed}: {}", inst.to_json());
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
    assert!(yes > 200 && no > 40, "yes {yes}, no {no}");
}

/// Zipfian planted instances (token frequencies proportional to rank^-1.2), tiny
/// enough for brute force, some with a value flipped: counts, completeness and
/// uniqueness agree with exhaustive enumeration on both backends.
#[test]
fn zipfian_instances_agree_with_brute_force_on_both_backends() {
    use partrec::generate::{generate, GenerateParams};
    let (mut unsat, mut unique, mut several) = (0, 0, 0);
    for seed in 0..600u64 {
        let groups = 1 + (seed % 2) as usize;
        let p = GenerateParams {
            tokens: (0..groups)
                .map(|g| 4 + ((seed + g as u64) % 2) as u32)
                .collect(),
            classes: (0..groups)
                .map(|g| 2 + ((seed / 2 + g as u64) % 2) as u32)
                .collect(),
            values: 2,
            samples: 3 + (seed % 9) as usize,
            seed,
            zipf: Some(1.2),
        };
        let Ok(mut inst) = generate(&p, None) else {
            continue;
        };
        if seed % 5 == 4 {
            let mut samples: Vec<(Vec<u32>, partrec::Label)> = (0..inst.num_samples())
                .map(|s| (inst.x(s).to_vec(), inst.y(s).clone()))
                .collect();
            samples[0].1 =
                partrec::Label::from(u64::from(inst.y(0) == &partrec::Label::from(0u64)));
            inst = partrec::Instance::new(inst.groups().to_vec(), samples).unwrap();
        }
        let all = consistent_partitions(&inst);
        for backend in Backend::ALL {
            let options = SolveOptions {
                backend,
                ..SolveOptions::count(1000)
            };
            let sol = solve(&inst, &options, &mut |_| {}).unwrap();
            let ctx = format!("seed {seed} {backend:?}: {}", inst.to_json());
            if all.is_empty() {
                assert_eq!(sol.status, Status::Unsat, "{ctx}");
                continue;
            }
            assert_eq!(sol.status, Status::Sat, "{ctx}");
            assert_eq!(sol.count, Some(all.len() as u64), "{ctx}");
            assert_eq!(sol.count_complete, Some(true), "{ctx}");
            assert_eq!(sol.unique, Some(all.len() == 1), "{ctx}");
        }
        match all.len() {
            0 => unsat += 1,
            1 => unique += 1,
            _ => several += 1,
        }
    }
    assert!(
        unsat > 30 && unique > 30 && several > 200,
        "{unsat} {unique} {several}"
    );
}

/// The backends agree on planted instances too large for brute force: two and three
/// groups, below, at and above the identifiability threshold (so sat and unique,
/// sat and not unique), and with a corrupted sample (often unsat).
#[test]
fn the_backends_agree_on_random_planted_instances() {
    use partrec::generate::{generate, samples_for_ratio, GenerateParams};
    use partrec::Label;
    let (mut unsat, mut unique, mut several) = (0, 0, 0);
    for seed in 0..60u64 {
        let groups = 2 + (seed % 2) as usize;
        let n = 10 + (seed % 7) as u32;
        let ratio = [0.5, 1.25, 2.5, 5.0][(seed / 2 % 4) as usize];
        let p = GenerateParams {
            tokens: vec![n; groups],
            classes: vec![2 + (seed % 2) as u32; groups],
            values: 2,
            samples: samples_for_ratio(&vec![n; groups], ratio).unwrap(),
            seed,
            // A third of them Zipfian, as real data is.
            zipf: (seed % 3 == 2).then_some(1.0),
        };
        let Ok(mut inst) = generate(&p, None) else {
            continue;
        };
        if seed % 4 == 3 {
            // Flip one sample's value: a planted instance made (usually) inconsistent.
            let mut samples: Vec<(Vec<u32>, Label)> = (0..inst.num_samples())
                .map(|s| (inst.x(s).to_vec(), inst.y(s).clone()))
                .collect();
            if let Some(first) = samples.first_mut() {
                let flipped = if first.1 == Label::from(0u64) {
                    1u64
                } else {
                    0
                };
                first.1 = Label::from(flipped);
            }
            inst = partrec::Instance::new(inst.groups().to_vec(), samples).unwrap();
        }
        let answers: Vec<_> = Backend::ALL
            .into_iter()
            .map(|backend| {
                let options = SolveOptions {
                    backend,
                    ..SolveOptions::count(5)
                };
                solve(&inst, &options, &mut |_| {}).unwrap()
            })
            .collect();
        let ctx = format!("seed {seed}: {}", inst.to_json());
        for a in &answers[1..] {
            assert_eq!(a.status, answers[0].status, "{ctx}");
            assert_eq!(a.count, answers[0].count, "{ctx}");
            assert_eq!(a.count_complete, answers[0].count_complete, "{ctx}");
            assert_eq!(a.unique, answers[0].unique, "{ctx}");
        }
        for a in &answers {
            if let Some(p) = &a.partition {
                assert!(check(&inst, p).unwrap().consistent, "{ctx}");
            }
        }
        match (answers[0].status, answers[0].unique) {
            (Status::Unsat, _) => unsat += 1,
            (_, Some(true)) => unique += 1,
            _ => several += 1,
        }
    }
    eprintln!("unsat {unsat}, unique {unique}, several {several}");
    assert!(
        unsat >= 5 && unique >= 5 && several >= 5,
        "unsat {unsat}, unique {unique}, several {several}"
    );
}

/// The heart of the propagation path's proof, tested directly: every merge it makes
/// holds in every consistent partition (tokens put in one class are together in all
/// of them, tokens in different classes apart), a refutation only when brute force
/// finds no partition, and its quotient has exactly as many partitions as the
/// instance. Over tiny instances (YES and NO), two, three and many classes.
#[test]
fn propagation_merges_only_what_every_partition_agrees_on() {
    use partrec::model::compact::TokenMap;
    use partrec::sat::Control;
    use partrec::solve::propagate::{propagate, Propagated};
    let (mut refuted, mut reduced, mut decided_some) = (0, 0, 0);
    for seed in 0..3000u64 {
        let inst = if seed % 3 == 2 {
            wide_instance(seed)
        } else {
            tiny_instance(seed)
        };
        let all = consistent_partitions(&inst);
        let mut x: Vec<u32> = (0..inst.num_samples())
            .flat_map(|s| inst.x(s).iter().copied())
            .collect();
        let map = TokenMap::compact_in_place(&mut x, inst.groups());
        let groups = map.groups(inst.groups());
        let ctx = format!("seed {seed}: {}", inst.to_json());
        match propagate(&x, inst.label_ids(), &groups, &Control::new()) {
            Propagated::Refuted(reason) => {
                refuted += 1;
                assert!(all.is_empty(), "refuted ({reason}) but consistent: {ctx}");
            }
            Propagated::Skipped => {}
            Propagated::Reduced(q) => {
                reduced += 1;
                decided_some += usize::from(q.decided.iter().any(|&d| d > 1));
                for p in &all {
                    // Restricted to the observed tokens (compact ids).
                    let observed = map.restrict(p);
                    for (g, tokens) in q.token.iter().enumerate() {
                        for a in 0..tokens.len() {
                            for b in a + 1..tokens.len() {
                                let merged = tokens[a] == tokens[b];
                                let together = observed[g][a] == observed[g][b];
                                assert!(
                                    !merged || together,
                                    "tokens {a} and {b} of group {g} merged, apart in {p:?}: {ctx}"
                                );
                            }
                        }
                    }
                }
                let quotient_count = consistent_partitions(&q.instance).len();
                let observed_count = {
                    let mut seen: Vec<Vec<Vec<u32>>> =
                        all.iter().map(|p| canonical(&map.restrict(p))).collect();
                    seen.sort();
                    seen.dedup();
                    seen.len()
                };
                assert_eq!(quotient_count, observed_count, "{ctx}");
            }
        }
    }
    eprintln!("refuted {refuted}, reduced {reduced}, some tokens merged {decided_some}");
    assert!(
        refuted > 50 && decided_some > 300,
        "refuted {refuted}, merged {decided_some}"
    );
}

/// The instance with only the samples `keep`.
fn restricted(instance: &partrec::Instance, keep: &[usize]) -> partrec::Instance {
    partrec::Instance::new(
        instance.groups().to_vec(),
        keep.iter()
            .map(|&i| (instance.x(i).to_vec(), instance.y(i))),
    )
    .unwrap()
}

#[test]
fn identify_agrees_with_brute_force_on_every_pair_of_every_group() {
    let (mut several, mut unique) = (0, 0);
    for seed in 0..3000 {
        let inst = tiny_instance(seed);
        let all = consistent_partitions(&inst);
        let options = SolveOptions {
            identify: true,
            ..SolveOptions::find()
        };
        let sol = solve(&inst, &options, &mut |_| {}).unwrap();
        if all.is_empty() {
            assert!(sol.identified.is_none(), "seed {seed}");
            continue;
        }
        if all.len() == 1 {
            unique += 1;
        } else {
            several += 1;
        }
        let (ids, pinned) = (sol.identified.unwrap(), sol.pinned.unwrap());
        for (g, group) in inst.groups().iter().enumerate() {
            let n = group.tokens as usize;
            let observed: Vec<bool> = (0..n as u32)
                .map(|t| (0..inst.num_samples()).any(|s| inst.x(s)[g] == t))
                .collect();
            let together = |t: usize, u: usize| -> Vec<bool> {
                all.iter().map(|p| p[g][t] == p[g][u]).collect()
            };
            for t in 0..n {
                for u in 0..n {
                    let always = together(t, u).iter().all(|&b| b);
                    assert_eq!(ids[g][t] == ids[g][u], always, "seed {seed} g {g} {t} {u}");
                }
            }
            // The frame by its definition: identified blocks of observed tokens, the
            // largest first (ties: the smallest token), each joining when no consistent
            // partition puts it in one class with a block already in, up to
            // min(K, observed) blocks; pinned = in the frame (all, with one class).
            let mut blocks: Vec<Vec<usize>> = Vec::new();
            for t in (0..n).filter(|&t| observed[t]) {
                match blocks
                    .iter_mut()
                    .find(|b| together(b[0], t).iter().all(|&x| x))
                {
                    Some(b) => b.push(t),
                    None => blocks.push(vec![t]),
                }
            }
            blocks.sort_by_key(|b| (std::cmp::Reverse(b.len()), b[0]));
            let room = (group.classes as usize).min(observed.iter().filter(|&&o| o).count());
            let mut frame: Vec<Vec<usize>> = Vec::new();
            for b in blocks {
                if frame.len() >= room {
                    break;
                }
                if frame
                    .iter()
                    .all(|f| together(b[0], f[0]).iter().all(|&x| !x))
                {
                    frame.push(b);
                }
            }
            for (t, &got) in pinned[g].iter().enumerate() {
                let want = group.classes == 1 || frame.iter().any(|f| f.contains(&t));
                assert_eq!(got, want, "seed {seed} g {g} token {t}");
            }
            let counts = sol.pinned_counts.as_ref().unwrap()[g];
            let free = (0..n).filter(|&t| observed[t] && !pinned[g][t]).count();
            assert_eq!(counts.free as usize, free, "seed {seed} g {g}");
        }
        if all.len() == 1 {
            // Unique: the blocks are the partition itself.
            assert_eq!(canonical(&ids), canonical(&all[0]), "seed {seed}");
        }
    }
    assert!(several > 500 && unique > 100, "{several} {unique}");
}

#[test]
fn explanations_are_unsat_and_minimal_by_brute_force() {
    use partrec::sat::Control;
    use partrec::solve::explain::{explain, Explained};
    let mut explained = 0;
    for seed in 0..3000 {
        let inst = tiny_instance(seed);
        let all = consistent_partitions(&inst);
        match explain(&inst, &Control::new()).unwrap() {
            Explained::Consistent(p) => {
                assert!(!all.is_empty(), "seed {seed}");
                assert!(check(&inst, &p).unwrap().consistent, "seed {seed}");
            }
            Explained::Inconsistent(why) => {
                explained += 1;
                assert!(all.is_empty(), "seed {seed}");
                let keep: Vec<usize> = why.samples.iter().map(|s| s.index).collect();
                assert!(consistent_partitions(&restricted(&inst, &keep)).is_empty());
                for skip in 0..keep.len() {
                    let mut rest = keep.clone();
                    rest.remove(skip);
                    assert!(
                        !consistent_partitions(&restricted(&inst, &rest)).is_empty(),
                        "seed {seed}: sample {} is not needed",
                        keep[skip]
                    );
                }
            }
            Explained::Unknown => panic!("seed {seed}: no deadline, yet unknown"),
        }
    }
    assert!(explained > 300, "{explained}");
}

#[test]
fn explanations_of_planted_instances_with_flipped_labels_are_minimal_by_the_solver() {
    use partrec::sat::Control;
    use partrec::solve::explain::{explain, Explained};
    use partrec::{Label, Status};
    for seed in 0..8 {
        let params = partrec::generate::GenerateParams {
            tokens: vec![30, 30],
            classes: vec![3, 3],
            values: 2,
            samples: 600,
            seed,
            zipf: None,
        };
        let inst = partrec::generate::generate(&params, None).unwrap();
        // Flip every 67th label (about nine).
        let samples = (0..inst.num_samples()).map(|s| {
            let (zero, one) = (Label::from(0u64), Label::from(1u64));
            let y = match inst.y(s) {
                y if s % 67 != 5 => y.clone(),
                y if *y == zero => one,
                _ => zero,
            };
            (inst.x(s).to_vec(), y)
        });
        let flipped = partrec::Instance::new(inst.groups().to_vec(), samples).unwrap();
        let Explained::Inconsistent(why) = explain(&flipped, &Control::new()).unwrap() else {
            panic!("seed {seed}: flipped labels left the instance consistent");
        };
        let keep: Vec<usize> = why.samples.iter().map(|s| s.index).collect();
        let find = SolveOptions::find();
        let whole = solve(&restricted(&flipped, &keep), &find, &mut |_| {}).unwrap();
        assert_eq!(whole.status, Status::Unsat, "seed {seed}");
        for skip in 0..keep.len() {
            let mut rest = keep.clone();
            rest.remove(skip);
            let sol = solve(&restricted(&flipped, &rest), &find, &mut |_| {}).unwrap();
            assert_eq!(sol.status, Status::Sat, "seed {seed}");
        }
    }
}

#[test]
fn max_consistent_finds_the_least_violations_by_brute_force() {
    use rand::Rng;
    // Odd seeds weighted from 1 to 3, even ones not.
    let (noisy, not_unique) = max_consistent_agrees_with_brute_force(0..1500, |seed, rng| {
        (seed % 2 == 1).then(|| rng.random_range(1..=3))
    });
    assert!(
        noisy > 200 && not_unique > 300,
        "{noisy} noisy, {not_unique} not unique"
    );
}

#[test]
fn max_consistent_is_exact_with_weights_from_1_to_2_to_the_40() {
    use rand::Rng;
    // Weights this far apart make every level of the stratification its own, and a
    // known partition soon hardens the heavy samples.
    const WEIGHTS: [u64; 4] = [1, 1000, 1_000_000, 1 << 40];
    let (noisy, not_unique) = max_consistent_agrees_with_brute_force(1500..3000, |_, rng| {
        Some(WEIGHTS[rng.random_range(0..WEIGHTS.len())])
    });
    assert!(
        noisy > 250 && not_unique > 800,
        "{noisy} noisy, {not_unique} not unique"
    );
}

/// Solves the tiny instance of every seed in `seeds` with `--max-consistent --unique`
/// (`weight` draws each sample's weight, or `None` to leave the instance unweighted),
/// alternating the backends, and checks the cost, bound, dropped samples, partition, uniqueness and
/// witness against brute force. Returns how many instances had no consistent
/// partition and how many had more than one optimal one.
fn max_consistent_agrees_with_brute_force(
    seeds: std::ops::Range<u64>,
    weight: impl Fn(u64, &mut rand_chacha::ChaCha8Rng) -> Option<u64>,
) -> (usize, usize) {
    use rand::SeedableRng;
    let (mut noisy, mut not_unique) = (0, 0);
    for seed in seeds {
        let mut instance = tiny_instance(seed);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let weights: Option<Vec<u64>> = (0..instance.num_samples())
            .map(|_| weight(seed, &mut rng))
            .collect();
        if let Some(weights) = weights {
            instance = instance.with_weights(weights).unwrap();
        }
        let (least, optimal) = least_violations(&instance);
        let backend = [Backend::Cadical, Backend::Varisat][seed as usize % 2];
        let options = SolveOptions {
            max_consistent: true,
            backend,
            ..SolveOptions::unique()
        };
        let sol = solve(&instance, &options, &mut |_| {}).unwrap();
        let report = sol.max_consistent.as_ref().unwrap();
        assert_eq!(sol.status, Status::Sat, "seed {seed}");
        assert!(report.optimal, "seed {seed}");
        assert_eq!(
            (report.cost, report.lower_bound),
            (least, least),
            "seed {seed}"
        );
        let dropped: u64 = report.dropped.iter().map(|&s| instance.weight(s)).sum();
        assert_eq!(dropped, least, "seed {seed}");
        let partition = sol.partition.clone().unwrap();
        assert!(
            optimal.contains(&partition),
            "seed {seed}: not an optimal partition"
        );
        let kept: Vec<usize> = (0..instance.num_samples())
            .filter(|s| !report.dropped.contains(s))
            .collect();
        assert!(
            check(&restricted(&instance, &kept), &partition)
                .unwrap()
                .consistent
        );
        assert_eq!(sol.unique, Some(optimal.len() == 1), "seed {seed}");
        if let Some(w) = &sol.witness {
            assert!(optimal.contains(w) && *w != partition, "seed {seed}");
        }
        noisy += usize::from(least > 0);
        not_unique += usize::from(optimal.len() > 1);
    }
    (noisy, not_unique)
}

/// Generated instances of 10 samples (two and three groups, 3 classes, 4 to 10 tokens
/// per group: many cells no sample reaches, and free tokens): through the command
/// line, `--strategy table` counts as the default does, to the end where it ends.
/// The deadline only keeps a regression from hanging the suite: a search that misses
/// it answers an incomplete count, which differs.
#[test]
fn the_table_strategy_counts_generated_instances_as_the_default() {
    let dir = common::scratch("table-generated");
    for (groups, tokens, seed) in [
        (2, 4, 1),
        (2, 10, 2),
        (3, 4, 1),
        (3, 4, 3),
        (3, 5, 4),
        (3, 10, 1),
    ] {
        let path = dir.join(format!("g{groups}-t{tokens}-s{seed}.json"));
        let path = path.to_str().unwrap();
        let (groups, tokens, seed) = (groups.to_string(), tokens.to_string(), seed.to_string());
        let generated = common::run(&[
            "generate",
            "-q",
            "--groups",
            &groups,
            "--tokens",
            &tokens,
            "--classes",
            "3",
            "--samples",
            "10",
            "--seed",
            &seed,
            "-o",
            path,
        ]);
        assert!(generated.status.success(), "{generated:?}");
        let answer = |strategy: &[&str]| {
            let args = [
                &["solve", "-q", path, "--count", "100000", "--timeout", "60"],
                strategy,
            ];
            let out = common::run(&args.concat());
            let sol: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let field = |f: &str| sol[f].clone();
            (
                [
                    field("status"),
                    field("count"),
                    field("count_complete"),
                    field("unique"),
                ],
                sol["witness"].is_array(),
            )
        };
        assert_eq!(answer(&["--strategy", "table"]), answer(&[]), "{path}");
    }
}
