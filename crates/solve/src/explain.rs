//! Why data is inconsistent: a minimal set of samples that no partition satisfies,
//! every proper subset of which some partition does (a minimal unsatisfiable subset).
//!
//! The encoding guards each distinct sample's clauses with a selector variable
//! ([`encode_with_selectors`]); one solve under all selectors gives a first core
//! (the failed assumptions), which is shrunk by deletion: drop one sample, and if
//! the rest is still unsatisfiable keep only its new core, else the sample is
//! necessary. Before it is reported the set is checked again by the ordinary
//! pipeline: unsat as a whole, and sat (with a checked partition) without any one
//! of its samples.

use crate::driver::solve_with;
use crate::encode::encode_with_selectors;
use crate::options::SolveOptions;
use crate::preprocess::{PrepareOptions, Prepared};
use crate::solution::Status;
use partrec_core::error::{Error, Result};
use partrec_core::model::instance::Instance;
use partrec_core::model::label::Label;
use partrec_core::model::partition::{canonical, Partition};
use partrec_sat::{Backend, Control, Lit, Outcome};
use serde::Serialize;
use std::ops::ControlFlow;

/// One sample of an explanation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sample {
    /// Its index in the instance.
    pub index: usize,
    /// Its tokens.
    pub x: Vec<u32>,
    /// Its value.
    pub y: Label,
    /// Its tokens' names, when the instance names them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<String>>,
}

/// What sort of reason an explanation is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Reason {
    /// Two samples with the same tokens and different values.
    SameTokens,
    /// Tokens of one group that pairs of samples force into different classes, more
    /// of them than the group has classes.
    TooManyDifferent {
        /// The group.
        group: usize,
        /// The tokens.
        tokens: Vec<u32>,
        /// The group's class bound.
        classes: u32,
    },
    /// Found by search: no simpler pattern.
    Search,
}

/// A minimal inconsistent set of samples.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// Always `unsat`.
    pub status: Status,
    /// The samples, by index.
    pub samples: Vec<Sample>,
    /// Its pattern.
    pub reason: Reason,
    /// The reason in words, one line.
    pub text: String,
    /// SAT calls spent shrinking.
    pub solver_calls: usize,
}

/// What [`explain`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum Explained {
    /// The instance is consistent: this partition (checked) fits every sample.
    Consistent(Partition),
    /// It is not, for this reason.
    Inconsistent(Explanation),
    /// `control` stopped the search first.
    Unknown,
}

/// Explains why `instance` is inconsistent, or shows it is not.
///
/// ```
/// use partrec_solve::explain::{explain, Explained};
/// use partrec_sat::Control;
/// use partrec_core::model::instance::Instance;
///
/// // One class for three tokens, and two of them with different values.
/// let text = r#"{"groups": [{"tokens": 3, "classes": 1}],
///                "samples": [{"x": [0], "y": 0}, {"x": [1], "y": 0}, {"x": [2], "y": 1}]}"#;
/// let instance = Instance::from_json(text.as_bytes(), "example")?;
/// let Explained::Inconsistent(why) = explain(&instance, &Control::new())? else { panic!() };
/// assert_eq!(why.samples.len(), 2);
/// assert_eq!(why.samples[1].index, 2);
/// # Ok::<(), partrec_core::error::Error>(())
/// ```
pub fn explain(instance: &Instance, control: &Control) -> Result<Explained> {
    partrec_core::model::compact::listable(instance.groups())?;
    let Some(prep) = Prepared::until(instance, PrepareOptions { must_differ: false }, control)
    else {
        return Ok(Explained::Unknown);
    };
    let (mut indices, solver_calls) = if prep.refutation.is_some() {
        (same_tokens(instance, &prep)?, 0)
    } else {
        match search_core(instance, &prep, control)? {
            ControlFlow::Continue(found) => found,
            ControlFlow::Break(answer) => return Ok(answer),
        }
    };
    indices.sort_unstable();
    match minimal(instance, &indices, control)? {
        None => Ok(Explained::Unknown),
        Some(()) => Ok(Explained::Inconsistent(explanation(
            instance,
            &indices,
            solver_calls,
        ))),
    }
}

/// The two samples of `instance` behind preprocessing's refutation: two distinct
/// samples with the same tokens.
fn same_tokens(instance: &Instance, prep: &Prepared) -> Result<Vec<usize>> {
    // Two distinct samples with the same tokens: adjacent in the sorted order.
    let xs: Vec<&[u32]> = prep.samples().map(|(x, _)| x).collect();
    let same = (1..xs.len())
        .find(|&s| xs[s - 1] == xs[s])
        .ok_or_else(|| Error::Internal("a refutation without its two samples".into()))?;
    let origin = origins(instance, prep)?;
    Ok(vec![origin[same - 1], origin[same]])
}

/// A core of samples of `instance` by search (the failed assumptions of one solve
/// under every selector, shrunk by deletion), with the solver calls spent; or the
/// answer when the samples are consistent or `control` stopped the search.
fn search_core(
    instance: &Instance,
    prep: &Prepared,
    control: &Control,
) -> Result<ControlFlow<Explained, (Vec<usize>, usize)>> {
    let mut solver_calls = 0;
    let mut solver = Backend::Cadical.solver();
    solver.set_control(control);
    let Some((encoding, selectors)) = encode_with_selectors(prep, solver.as_mut(), control)? else {
        return Ok(ControlFlow::Break(Explained::Unknown));
    };
    let mut current: Vec<usize> = (0..prep.len()).collect();
    let lits =
        |set: &[usize]| -> Vec<Lit> { set.iter().map(|&s| selectors[s].positive()).collect() };
    solver_calls += 1;
    match solver.solve(&lits(&current))? {
        Outcome::Interrupted => return Ok(ControlFlow::Break(Explained::Unknown)),
        Outcome::Sat => {
            let compact = encoding.decode(solver.as_ref());
            let full = canonical(&prep.tokens().expand(&compact, instance.groups()));
            return checked_consistent(instance, full)
                .map(|p| ControlFlow::Break(Explained::Consistent(p)));
        }
        Outcome::Unsat => {}
    }
    current.retain(|&s| solver.failed(selectors[s].positive()));
    let mut k = 0;
    while k < current.len() {
        let without: Vec<usize> = current
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != k)
            .map(|(_, &s)| s)
            .collect();
        solver_calls += 1;
        match solver.solve(&lits(&without))? {
            Outcome::Interrupted => return Ok(ControlFlow::Break(Explained::Unknown)),
            Outcome::Sat => k += 1,
            Outcome::Unsat => {
                current = without
                    .into_iter()
                    .filter(|&s| solver.failed(selectors[s].positive()))
                    .collect();
            }
        }
    }
    let origin = origins(instance, prep)?;
    let core = current.into_iter().map(|s| origin[s]).collect();
    Ok(ControlFlow::Continue((core, solver_calls)))
}

/// The explanation of the minimal inconsistent samples `indices` (sorted), found
/// with `solver_calls` SAT calls.
fn explanation(instance: &Instance, indices: &[usize], solver_calls: usize) -> Explanation {
    let samples: Vec<Sample> = indices
        .iter()
        .map(|&i| Sample {
            index: i,
            x: instance.x(i).to_vec(),
            y: instance.y(i).clone(),
            names: instance
                .named()
                .then(|| partrec_core::check::sample_names(instance, i)),
        })
        .collect();
    let reason = classify(instance, &samples);
    let text = describe(&reason, &samples);
    Explanation {
        status: Status::Unsat,
        samples,
        reason,
        text,
        solver_calls,
    }
}

/// For each distinct sample of `prep`, the first sample of `instance` with its tokens
/// and value (kept here, not in preprocessing, which every solve runs).
fn origins(instance: &Instance, prep: &Prepared) -> Result<Vec<usize>> {
    let mut first = std::collections::HashMap::new();
    for s in (0..instance.num_samples()).rev() {
        first.insert((instance.x(s), instance.label_id(s)), s);
    }
    prep.samples()
        .map(|(x, label)| {
            let declared: Vec<u32> = x
                .iter()
                .enumerate()
                .map(|(g, &t)| prep.tokens().original(g, t))
                .collect();
            first
                .get(&(declared.as_slice(), label))
                .copied()
                .ok_or_else(|| Error::Internal("a distinct sample with no origin".into()))
        })
        .collect()
}

/// Checks a partition the explanation's search claims consistent.
fn checked_consistent(instance: &Instance, partition: Partition) -> Result<Partition> {
    let verdict = partrec_core::check::check(instance, &partition)
        .map_err(|m| Error::Internal(format!("a partition of the wrong shape: {m}")))?;
    if !verdict.consistent {
        return Err(Error::Internal(
            "the explanation's search returned an inconsistent partition".into(),
        ));
    }
    Ok(partition)
}

/// The instance restricted to the samples `keep` (indices).
fn restricted(instance: &Instance, keep: &[usize]) -> Result<Instance> {
    Instance::new(
        instance.groups().to_vec(),
        keep.iter()
            .map(|&i| (instance.x(i).to_vec(), instance.y(i))),
    )
}

/// Confirms with the ordinary pipeline that `indices` is inconsistent and each subset
/// missing one sample is consistent (every partition found is checked there);
/// `None` if `control` stopped it, an internal error if the set is not minimal.
fn minimal(instance: &Instance, indices: &[usize], control: &Control) -> Result<Option<()>> {
    let options = SolveOptions::find();
    let all = solve_with(
        &restricted(instance, indices)?,
        &options,
        control,
        &mut |_| {},
    )?;
    match all.status {
        Status::Unknown => return Ok(None),
        Status::Sat => {
            return Err(Error::Internal(
                "the explanation's samples are consistent".into(),
            ))
        }
        Status::Unsat => {}
    }
    for skip in 0..indices.len() {
        let rest: Vec<usize> = indices
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != skip)
            .map(|(_, &s)| s)
            .collect();
        let sol = solve_with(
            &restricted(instance, &rest)?,
            &options,
            control,
            &mut |_| {},
        )?;
        match sol.status {
            Status::Unknown => return Ok(None),
            Status::Unsat => {
                return Err(Error::Internal(format!(
                    "the explanation is not minimal: sample {} is not needed",
                    indices[skip]
                )))
            }
            Status::Sat => {}
        }
    }
    Ok(Some(()))
}

/// Recognises the simple patterns: two samples with the same tokens, or more tokens
/// forced apart in one group than it has classes.
fn classify(instance: &Instance, samples: &[Sample]) -> Reason {
    if samples.len() == 2 && samples[0].x == samples[1].x {
        return Reason::SameTokens;
    }
    for (g, group) in instance.groups().iter().enumerate() {
        // Pairs that agree outside g, differ in g and in value: their g tokens differ.
        let mut edges = std::collections::BTreeSet::new();
        let mut covered = vec![false; samples.len()];
        for a in 0..samples.len() {
            for b in a + 1..samples.len() {
                let (sa, sb) = (&samples[a], &samples[b]);
                let apart = sa.y != sb.y
                    && sa.x[g] != sb.x[g]
                    && (0..sa.x.len()).all(|h| h == g || sa.x[h] == sb.x[h]);
                if apart {
                    edges.insert((sa.x[g].min(sb.x[g]), sa.x[g].max(sb.x[g])));
                    covered[a] = true;
                    covered[b] = true;
                }
            }
        }
        let mut tokens: Vec<u32> = edges.iter().flat_map(|&(a, b)| [a, b]).collect();
        tokens.sort_unstable();
        tokens.dedup();
        let m = tokens.len();
        if covered.iter().all(|&c| c)
            && m as u64 > u64::from(group.classes)
            && edges.len() == m * (m - 1) / 2
        {
            return Reason::TooManyDifferent {
                group: g,
                tokens,
                classes: group.classes,
            };
        }
    }
    Reason::Search
}

/// One line for the reason.
fn describe(reason: &Reason, samples: &[Sample]) -> String {
    let list = samples
        .iter()
        .map(|s| s.index.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    match reason {
        Reason::SameTokens => format!(
            "samples {list} have the same tokens {:?} and different values",
            samples[0].x
        ),
        Reason::TooManyDifferent {
            group,
            tokens,
            classes,
        } => format!(
            "group {group}: tokens {tokens:?} must all be in different classes (samples {list} \
             tell each pair apart where everything else agrees), but there are at most {classes}"
        ),
        Reason::Search => format!(
            "no partition fits samples {list} together, and dropping any one of them makes \
             the rest consistent"
        ),
    }
}
