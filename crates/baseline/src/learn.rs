//! The paper's gradient method beside the exact solver: learn token embeddings
//! with a tensor-product model, then read each group's classes off the embeddings
//! by k-means++.
//!
//! Model. Group i has an embedding matrix E_i (N_i x D, D = 2 max K by default,
//! entries drawn from N(0, init^2) with a seeded generator). For a sample
//! x = (x_1..x_I) the features are p_r(x) = prod_i E_i[x_i, r], r < D, and
//! - with at most two values, yhat(x) = sum_r p_r(x) (for I = 2 this is the
//!   matrix factorisation E_1 E_2^T) and the target is -1 for the first value
//!   seen in the file and +1 for the other;
//! - with V > 2 values, yhat(x) = p(x) W with a shared value factor W (D x V)
//!   and a one-hot target in {-1, +1}^V: one-hot regression (a CP model with one
//!   more factor), not softmax, as in the lab's `gd_baseline.py`.
//!
//! Loss: mean over samples of |yhat - target|^2 / 2 plus lambda/2 times the sum
//! of squared parameters. The data term is a mean over samples but the parameters
//! grow with the tokens, so a fixed lambda overwhelms the data at large N (1e-4
//! collapses every embedding at N = 1e4); the default is therefore
//! lambda = [`L2_SCALE`] / N with N the most observed tokens in a group (1e-4 at
//! N = 100), as in the lab's large-N runs (see [`default_lambda`]). Training is full-batch Adam (betas 0.9, 0.999) for at
//! most `steps` steps, stopped early once the loss fell by less than `tol`
//! (relative) over the last `window` steps. Each group's rows are then scaled to
//! unit length and clustered into K_i classes by [`crate::kmeans`].
//!
//! The answer is honest: the partition goes through the independent checker,
//! and only a consistent one is reported `sat`; otherwise the status is `unknown`
//! and the clustering is reported as a `candidate`. The method can never prove
//! uniqueness or unsatisfiability.

use crate::kmeans::kmeans;
use partrec_core::check::{check, compare_with_planted, PlantedComparison, Verdict};
use partrec_core::error::{Error, Result};
use partrec_core::model::instance::{Instance, TableEntry};
use partrec_core::model::partition::{canonical, Partition};
use partrec_sat::Control;
use partrec_solve::observed_table;
use partrec_solve::preprocess::Prepared;
use partrec_solve::solution::Status;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Training and clustering parameters (the lab's defaults, with the L2 weight scaled
/// to the data).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LearnOptions {
    /// Embedding width D (default: 2 max K).
    pub dim: Option<usize>,
    /// Most Adam steps.
    pub steps: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// L2 weight lambda; `None` (the default) means [`default_lambda`] of the
    /// instance, [`L2_SCALE`] / N, with N the most observed tokens in a group.
    pub lambda: Option<f64>,
    /// Standard deviation of the initial entries.
    pub init: f64,
    /// Early stop when the loss fell by less than this fraction over `window` steps.
    pub tol: f64,
    /// The early-stopping window in steps.
    pub window: usize,
    /// k-means++ restarts per group.
    pub restarts: usize,
    /// Seed of the initial embeddings and of the clustering.
    pub seed: u64,
    /// Wall-clock limit on training: the model reached by then is clustered and checked.
    pub time_limit: Option<Duration>,
}

impl Default for LearnOptions {
    fn default() -> Self {
        LearnOptions {
            dim: None,
            steps: 4000,
            lr: 0.03,
            lambda: None,
            init: 0.1,
            tol: 1e-4,
            window: 200,
            restarts: 10,
            seed: 0,
            time_limit: None,
        }
    }
}

impl LearnOptions {
    /// Checks every rule on the options, naming the option that breaks one
    /// ([`Error::Param`]); [`learn_with_progress`] checks it first.
    pub fn validate(&self) -> Result<()> {
        if self.dim == Some(0) {
            return Err(Error::param("dim", "must be at least 1"));
        }
        if self.steps == 0 {
            return Err(Error::param("steps", "must be at least 1"));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(Error::param(
                "lr",
                format!("must be a number > 0, got {}", self.lr),
            ));
        }
        if let Some(lambda) = self.lambda.filter(|l| !(*l >= 0.0 && l.is_finite())) {
            return Err(Error::param(
                "lambda",
                format!("must be a number >= 0, got {lambda}"),
            ));
        }
        if !(1..=MAX_RESTARTS).contains(&self.restarts) {
            return Err(Error::param(
                "restarts",
                format!("must be from 1 to {MAX_RESTARTS}, got {}", self.restarts),
            ));
        }
        Ok(())
    }
}

/// What the training did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Training {
    /// Embedding width D.
    pub dim: usize,
    /// The L2 weight lambda used (the one given, or [`default_lambda`]).
    #[serde(default)]
    pub lambda: f64,
    /// Adam steps taken.
    pub steps: usize,
    /// The loss after the last step.
    pub final_loss: f64,
    /// True when the loss plateaued before `steps`.
    pub stopped_early: bool,
    /// True when the time limit stopped the training.
    #[serde(default)]
    pub timed_out: bool,
    /// Fraction of samples whose value the trained model predicts wrongly.
    pub train_error: f64,
    /// Seconds spent training.
    pub train_seconds: f64,
    /// Seconds spent clustering.
    pub cluster_seconds: f64,
    /// Seconds in all (training, clustering, checking).
    pub seconds: f64,
}

/// The answer of `partrec learn`.
#[derive(Clone, Debug, Serialize)]
pub struct LearnReport {
    /// `sat` when the checker accepts the learned partition, `unsat` when preprocessing
    /// refutes the instance (then nothing is trained), else `unknown`.
    pub status: Status,
    /// Why the instance is inconsistent, when preprocessing proves it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsat_reason: Option<String>,
    /// The learned partition in canonical form, when it is consistent.
    pub partition: Option<Partition>,
    /// Its observed cells and their values, when it is consistent.
    pub table: Option<Vec<TableEntry>>,
    /// The learned partition when it is not consistent (nothing is claimed for it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate: Option<Partition>,
    /// Samples that contradict an earlier one under the learned partition.
    pub conflicting_samples: usize,
    /// Training statistics.
    pub training: Training,
    /// Recovery and accuracy against the planted partition, when the instance has one.
    pub planted: Option<PlantedComparison>,
    /// When the instance names its tokens: the learned partition's classes as names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<Vec<Vec<String>>>>,
}

impl LearnReport {
    /// The learned partition, consistent or not (none when nothing was trained).
    pub fn learned(&self) -> Option<&Partition> {
        self.partition.as_ref().or(self.candidate.as_ref())
    }

    /// A one-line human summary.
    pub fn summary(&self) -> String {
        let t = &self.training;
        let mut s = match self.status {
            Status::Sat => "sat (the learned partition is consistent)".to_string(),
            Status::Unsat => {
                return format!(
                    "unsat without training: {}",
                    self.unsat_reason.as_deref().unwrap_or("refuted")
                )
            }
            Status::Unknown => format!(
                "unknown (the learned partition has {} conflicting samples; see `candidate`)",
                self.conflicting_samples
            ),
        };
        s.push_str(&format!(
            "; {} steps{}, loss {:.3e}, train error {:.4}, {:.3} s",
            t.steps,
            if t.timed_out {
                " (time limit)"
            } else if t.stopped_early {
                " (plateau)"
            } else {
                ""
            },
            t.final_loss,
            t.train_error,
            t.seconds
        ));
        if let Some(p) = &self.planted {
            s.push_str("; ");
            s.push_str(&p.summary());
        }
        s
    }
}

/// The training data: token ids and value ids, flat.
#[derive(Clone, Debug)]
pub struct Data {
    arity: usize,
    tokens: Vec<u32>,
    labels: Vec<u32>,
    /// 1 with up to two values (one -1/+1 target), else V (one-hot targets).
    outputs: usize,
}

impl Data {
    /// The data of `instance`.
    pub fn new(instance: &Instance) -> Data {
        let values = instance.values().len();
        let samples = instance.num_samples();
        let mut tokens = Vec::with_capacity(samples * instance.arity());
        for s in 0..samples {
            tokens.extend_from_slice(instance.x(s));
        }
        Data {
            arity: instance.arity(),
            tokens,
            labels: (0..samples).map(|s| instance.label_id(s)).collect(),
            outputs: if values <= 2 { 1 } else { values },
        }
    }

    fn len(&self) -> usize {
        self.labels.len()
    }

    /// Target `v` of sample `s`: -1 for the first value and +1 for the other (two
    /// values), or +1 for the sample's value and -1 elsewhere (one-hot).
    fn target(&self, s: usize, v: usize) -> f64 {
        let hit = if self.outputs == 1 {
            self.labels[s] != 0
        } else {
            self.labels[s] as usize == v
        };
        if hit {
            1.0
        } else {
            -1.0
        }
    }
}

/// The parameters: one block per group (N_i x D, row-major), then W (D x V) if one-hot.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Embedding width D.
    pub dim: usize,
    /// The blocks.
    pub blocks: Vec<Vec<f64>>,
}

/// A standard normal number (Box-Muller), from a seeded generator.
fn normal(rng: &mut impl Rng) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

impl Model {
    /// Small random parameters for `instance` and `data`.
    pub fn new(
        instance: &Instance,
        data: &Data,
        dim: usize,
        init: f64,
        rng: &mut impl Rng,
    ) -> Model {
        let mut blocks: Vec<Vec<f64>> = instance
            .groups()
            .iter()
            .map(|g| {
                (0..g.tokens as usize * dim)
                    .map(|_| init * normal(rng))
                    .collect()
            })
            .collect();
        if data.outputs > 1 {
            blocks.push(
                (0..dim * data.outputs)
                    .map(|_| init * normal(rng))
                    .collect(),
            );
        }
        Model { dim, blocks }
    }

    /// Prefix products of the rows of sample tokens `x`: block i of `prefix` (D numbers
    /// each, I + 1 blocks) is prod_{i' < i} E_i'[x_i', .]; the last block is the features p.
    fn prefixes(&self, x: &[u32], prefix: &mut [f64]) {
        let d = self.dim;
        prefix[..d].fill(1.0);
        for (i, &t) in x.iter().enumerate() {
            let row = &self.blocks[i][t as usize * d..][..d];
            let (before, after) = prefix.split_at_mut((i + 1) * d);
            for ((a, b), e) in after[..d].iter_mut().zip(&before[i * d..]).zip(row) {
                *a = b * e;
            }
        }
    }

    /// The outputs for features `p`: their sum, or p W for one-hot values.
    fn outputs(&self, p: &[f64], out: &mut [f64]) {
        if out.len() == 1 {
            out[0] = p.iter().sum();
        } else {
            let w = self.blocks.last().expect("W is the last block");
            let outputs = out.len();
            for (v, o) in out.iter_mut().enumerate() {
                *o = p
                    .iter()
                    .zip(w[v..].iter().step_by(outputs))
                    .map(|(pr, wr)| pr * wr)
                    .sum();
            }
        }
    }

    /// The loss, and its gradient written into `grad` (same shape as the blocks).
    pub fn loss_and_gradient(&self, data: &Data, lambda: f64, grad: &mut [Vec<f64>]) -> f64 {
        let d = self.dim;
        let (arity, outputs) = (data.arity, data.outputs);
        let samples = data.len().max(1) as f64;
        for (g, b) in grad.iter_mut().zip(&self.blocks) {
            for (gi, bi) in g.iter_mut().zip(b) {
                *gi = lambda * bi;
            }
        }
        let mut out = vec![0.0; outputs];
        let mut gp = vec![0.0; d];
        let mut prefix = vec![0.0; (arity + 1) * d];
        let mut suffix = vec![0.0; d];
        let mut squared = 0.0;
        for s in 0..data.len() {
            let x = &data.tokens[s * arity..(s + 1) * arity];
            self.prefixes(x, &mut prefix);
            let p = &prefix[arity * d..];
            self.outputs(p, &mut out);
            // gp = d loss / d p for this sample.
            if outputs == 1 {
                let r = out[0] - data.target(s, 0);
                squared += r * r;
                gp.fill(r / samples);
            } else {
                let w = &self.blocks[arity];
                gp.fill(0.0);
                let gw = &mut grad[arity];
                for v in 0..outputs {
                    let r = out[v] - data.target(s, v);
                    squared += r * r;
                    let rs = r / samples;
                    for k in 0..d {
                        gp[k] += rs * w[k * outputs + v];
                        gw[k * outputs + v] += rs * p[k];
                    }
                }
            }
            // d p_r / d E_j[x_j, r] = prod_{i != j} E_i[x_i, r] = prefix_j[r] * suffix_j[r].
            suffix.fill(1.0);
            for j in (0..arity).rev() {
                let t = x[j] as usize * d;
                let g = &mut grad[j][t..t + d];
                for (((g, gpr), pr), sr) in g
                    .iter_mut()
                    .zip(&gp)
                    .zip(&prefix[j * d..(j + 1) * d])
                    .zip(&suffix)
                {
                    *g += gpr * pr * sr;
                }
                for (sr, e) in suffix.iter_mut().zip(&self.blocks[j][t..t + d]) {
                    *sr *= e;
                }
            }
        }
        let norm: f64 = self.blocks.iter().flatten().map(|b| b * b).sum();
        0.5 * squared / samples + 0.5 * lambda * norm
    }

    /// Fraction of samples whose value the model predicts wrongly (sign, or largest output).
    pub fn train_error(&self, data: &Data) -> f64 {
        let arity = data.arity;
        let mut prefix = vec![0.0; (arity + 1) * self.dim];
        let mut out = vec![0.0; data.outputs];
        let wrong = (0..data.len())
            .filter(|&s| {
                self.prefixes(&data.tokens[s * arity..(s + 1) * arity], &mut prefix);
                self.outputs(&prefix[arity * self.dim..], &mut out);
                let predicted = if data.outputs == 1 {
                    u32::from(out[0] > 0.0)
                } else {
                    out.iter()
                        .enumerate()
                        .max_by(|a, b| a.1.total_cmp(b.1))
                        .map_or(0, |(v, _)| v as u32)
                };
                predicted != data.labels[s]
            })
            .count();
        wrong as f64 / data.len().max(1) as f64
    }
}

/// A trained model, its data, and how the training went.
#[derive(Clone, Debug)]
pub struct Trained {
    /// The parameters after the last step.
    pub model: Model,
    /// The data it was trained on.
    pub data: Data,
    /// Adam steps taken.
    pub steps: usize,
    /// The loss at the last step.
    pub final_loss: f64,
    /// True when the loss plateaued before the step limit.
    pub stopped_early: bool,
    /// True when the time limit stopped the training.
    pub timed_out: bool,
}

/// The most parameters a model may have (embeddings plus the value factor): with
/// Adam's two moments and the gradient, four copies of 2^24 numbers take 512 MB.
pub const MAX_PARAMETERS: u64 = 1 << 24;

/// The widest embedding: the paper's width is about 2 K, and K^3 = 27 already matches
/// the exact solver at I = 3; each step costs samples x groups x width.
pub const MAX_DIM: usize = 4096;

/// The embedding width for `instance`: `dim`, or 2 max K by default (K at most the
/// observed tokens), refused when the model would exceed [`MAX_PARAMETERS`].
fn embedding_width(instance: &Instance, dim: Option<usize>) -> Result<usize> {
    // The instance is compact: its classes are already at most its tokens.
    let max_k = instance
        .groups()
        .iter()
        .map(|g| g.classes)
        .max()
        .unwrap_or(1) as usize;
    let dim = dim.unwrap_or(2 * max_k);
    if !(1..=MAX_DIM).contains(&dim) {
        return Err(Error::Usage(format!(
            "the embedding width must be from 1 to {MAX_DIM}, got {dim}"
        )));
    }
    let values = instance.values().len();
    let outputs = if values <= 2 { 0 } else { values as u64 };
    let rows: u64 = instance.groups().iter().map(|g| u64::from(g.tokens)).sum();
    let parameters = (rows + outputs).saturating_mul(dim as u64);
    if parameters > MAX_PARAMETERS {
        return Err(Error::Usage(format!(
            "the model would have {parameters} parameters ((observed tokens + values) x width {dim}); the limit is {MAX_PARAMETERS}: use a smaller embedding width"
        )));
    }
    Ok(dim)
}

/// The numerator of the default L2 weight: lambda = `L2_SCALE` / N.
pub const L2_SCALE: f64 = 1e-2;

/// The default L2 weight for `instance`: [`L2_SCALE`] / N, with N the most observed
/// tokens in a group (at least 1).
///
/// Each embedding row gets about S / N_i of the S samples, each weighing 1 / S in the
/// mean loss, so the data's pull on a row scales as 1 / N_i while the penalty's is
/// lambda times the row. A weight proportional to 1 / N keeps their balance as N
/// grows; the largest group, whose rows are pulled least, sets it.
pub fn default_lambda(instance: &Instance) -> f64 {
    let tokens = instance
        .groups()
        .iter()
        .map(|g| g.tokens)
        .max()
        .unwrap_or(1)
        .max(1);
    L2_SCALE / f64::from(tokens)
}

/// Trains a model on `instance` with embedding width `dim` and L2 weight `lambda`,
/// calling `progress` with the step and loss every [`PROGRESS_EVERY`] steps; stops
/// early (as at the time limit) when `control` says stop.
pub fn train(
    instance: &Instance,
    options: &LearnOptions,
    dim: usize,
    lambda: f64,
    control: &Control,
    progress: &mut dyn FnMut(usize, f64),
) -> Trained {
    let data = Data::new(instance);
    let deadline = options.time_limit.map(|d| Instant::now() + d);
    let mut timed_out = false;
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut model = Model::new(instance, &data, dim, options.init, &mut rng);
    let mut grad: Vec<Vec<f64>> = model.blocks.iter().map(|b| vec![0.0; b.len()]).collect();
    let mut m = grad.clone();
    let mut v = grad.clone();
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
    // The losses of the last `window + 1` steps: enough for the plateau test.
    let mut history: std::collections::VecDeque<f64> =
        std::collections::VecDeque::with_capacity(options.window.min(1 << 20) + 1);
    let mut stopped_early = false;
    let mut steps = 0;
    while steps < options.steps {
        if deadline.is_some_and(|d| Instant::now() >= d) || control.should_stop() {
            timed_out = true;
            break;
        }
        steps += 1;
        let loss = model.loss_and_gradient(&data, lambda, &mut grad);
        history.push_back(loss);
        if history.len() > options.window + 1 {
            history.pop_front();
        }
        if steps % PROGRESS_EVERY == 0 {
            progress(steps, loss);
        }
        // b^t underflows to 0 long before t leaves the i32 range.
        let t = i32::try_from(steps).unwrap_or(i32::MAX);
        let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
        for (((block, g), mb), vb) in model.blocks.iter_mut().zip(&grad).zip(&mut m).zip(&mut v) {
            for (((w, &gi), mi), vi) in block
                .iter_mut()
                .zip(g)
                .zip(mb.iter_mut())
                .zip(vb.iter_mut())
            {
                *mi = b1 * *mi + (1.0 - b1) * gi;
                *vi = b2 * *vi + (1.0 - b2) * gi * gi;
                *w -= options.lr * (*mi / c1) / ((*vi / c2).sqrt() + eps);
            }
        }
        if steps > options.window {
            let before = history[0];
            if before - loss < options.tol * before.abs() {
                stopped_early = true;
                break;
            }
        }
    }
    Trained {
        model,
        data,
        steps,
        final_loss: history.back().copied().unwrap_or(f64::NAN),
        stopped_early,
        timed_out,
    }
}

/// The most k-means++ restarts per group.
pub const MAX_RESTARTS: usize = 1000;

/// How often (in steps) [`train`] reports progress.
pub const PROGRESS_EVERY: usize = 50;

/// Each group's classes read off the model: rows scaled to unit length, then k-means++.
pub fn cluster(instance: &Instance, model: &Model, restarts: usize, seed: u64) -> Partition {
    let d = model.dim;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6b6d_6561_6e73);
    let partition: Partition = instance
        .groups()
        .iter()
        .zip(&model.blocks)
        .map(|(group, block)| {
            let mut rows = block.clone();
            for row in rows.chunks_exact_mut(d) {
                let norm = row.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
                row.iter_mut().for_each(|x| *x /= norm);
            }
            kmeans(&rows, d, group.classes as usize, restarts, &mut rng)
        })
        .collect();
    canonical(&partition)
}

/// Trains, clusters, checks: the whole of `partrec learn`.
pub fn learn(instance: &Instance, options: &LearnOptions) -> Result<LearnReport> {
    learn_with_progress(instance, options, &Control::new(), &mut |_, _| {})
}

/// [`learn`], calling `progress` with the step and the loss as training goes; when
/// `control` says stop, training ends there (as at the time limit) and the model
/// reached is clustered and checked.
///
/// An instance that preprocessing refutes (two samples with the same tokens and
/// different values, or more tokens that must differ than classes) is answered
/// `unsat` at once, without training. Training and clustering see the observed
/// tokens only; unobserved tokens are put in class 0.
pub fn learn_with_progress(
    instance: &Instance,
    options: &LearnOptions,
    control: &Control,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<LearnReport> {
    options.validate()?;
    partrec_core::model::compact::listable(instance.groups())?;
    let start = Instant::now();
    if let Some(reason) = Prepared::new(instance).refutation {
        return Ok(refuted(reason, start));
    }
    let (compact, map) = instance.compact();
    let dim = embedding_width(&compact, options.dim)?;
    let lambda = options.lambda.unwrap_or_else(|| default_lambda(&compact));
    let Trained {
        model,
        data,
        steps,
        final_loss,
        stopped_early,
        timed_out,
    } = train(&compact, options, dim, lambda, control, progress);
    let train_seconds = start.elapsed().as_secs_f64();
    let t = Instant::now();
    // Stopped (deadline, Ctrl-C): one k-means run, not every restart asked for.
    let restarts = if control.should_stop() {
        1
    } else {
        options.restarts
    };
    let clusters = cluster(&compact, &model, restarts, options.seed);
    let learned = canonical(&map.expand(&clusters, instance.groups()));
    let cluster_seconds = t.elapsed().as_secs_f64();
    let verdict = check(instance, &learned)
        .map_err(|m| Error::Internal(format!("the learned partition has the wrong shape: {m}")))?;
    let training = Training {
        dim: model.dim,
        lambda,
        steps,
        final_loss,
        stopped_early,
        timed_out,
        train_error: model.train_error(&data),
        train_seconds,
        cluster_seconds,
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok(report(instance, learned, &verdict, training))
}

/// The answer for an instance preprocessing refuted (for `reason`) before any training
/// (started at `start`).
fn refuted(reason: String, start: Instant) -> LearnReport {
    LearnReport {
        status: Status::Unsat,
        unsat_reason: Some(reason),
        partition: None,
        table: None,
        candidate: None,
        conflicting_samples: 0,
        training: Training {
            seconds: start.elapsed().as_secs_f64(),
            ..Training::default()
        },
        planted: None,
        names: None,
    }
}

/// The answer for the `learned` partition, judged by the checker (`verdict`): `sat`
/// with its table when it is consistent, else `unknown` with it as a candidate.
fn report(
    instance: &Instance,
    learned: Partition,
    verdict: &Verdict,
    training: Training,
) -> LearnReport {
    let planted = compare_with_planted(instance, &learned);
    let names = instance
        .named()
        .then(|| partrec_solve::solution::class_names(instance, &learned));
    if verdict.consistent {
        LearnReport {
            status: Status::Sat,
            unsat_reason: None,
            table: Some(observed_table(instance, &learned)),
            partition: Some(learned),
            candidate: None,
            conflicting_samples: 0,
            training,
            planted,
            names,
        }
    } else {
        LearnReport {
            status: Status::Unknown,
            unsat_reason: None,
            partition: None,
            table: None,
            candidate: Some(learned),
            conflicting_samples: verdict.conflicting_samples,
            training,
            planted,
            names,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use partrec_core::generate::{generate, GenerateParams};

    #[test]
    fn options_are_refused_by_name() {
        let name = |options: LearnOptions| match options.validate() {
            Err(Error::Param { name, .. }) => name,
            other => panic!("{other:?}"),
        };
        let ok = LearnOptions::default();
        assert!(ok.validate().is_ok());
        assert_eq!(name(LearnOptions { dim: Some(0), ..ok }), "dim");
        assert_eq!(name(LearnOptions { steps: 0, ..ok }), "steps");
        assert_eq!(name(LearnOptions { lr: f64::NAN, ..ok }), "lr");
        assert_eq!(
            name(LearnOptions {
                lambda: Some(-1.0),
                ..ok
            }),
            "lambda"
        );
        assert_eq!(name(LearnOptions { restarts: 0, ..ok }), "restarts");
    }

    fn planted(
        tokens: Vec<u32>,
        classes: Vec<u32>,
        values: u32,
        samples: usize,
        seed: u64,
    ) -> Instance {
        generate(
            &GenerateParams {
                tokens,
                classes,
                values,
                samples,
                seed,
                zipf: None,
            },
            None,
        )
        .unwrap()
    }

    /// The analytic gradient against central finite differences, coordinate by coordinate.
    fn gradient_matches_finite_differences(instance: &Instance) {
        let data = Data::new(instance);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let model = Model::new(instance, &data, 4, 0.5, &mut rng);
        let lambda = 0.01;
        let mut grad: Vec<Vec<f64>> = model.blocks.iter().map(|b| vec![0.0; b.len()]).collect();
        model.loss_and_gradient(&data, lambda, &mut grad);
        let mut scratch: Vec<Vec<f64>> = grad.clone();
        let h = 1e-6;
        let mut checked = 0;
        for (b, block_grad) in grad.iter().enumerate() {
            for (i, &analytic) in block_grad.iter().enumerate() {
                let mut plus = model.clone();
                plus.blocks[b][i] += h;
                let mut minus = model.clone();
                minus.blocks[b][i] -= h;
                let numeric = (plus.loss_and_gradient(&data, lambda, &mut scratch)
                    - minus.loss_and_gradient(&data, lambda, &mut scratch))
                    / (2.0 * h);
                assert!(
                    (numeric - analytic).abs() <= 1e-6 * (1.0 + analytic.abs()),
                    "block {b} entry {i}: analytic {analytic}, numeric {numeric}"
                );
                checked += 1;
            }
        }
        assert!(checked > 20);
    }

    #[test]
    fn gradient_is_right_for_two_groups_two_values() {
        gradient_matches_finite_differences(&planted(vec![6, 5], vec![2, 3], 2, 40, 1));
    }

    #[test]
    fn gradient_is_right_for_three_groups() {
        gradient_matches_finite_differences(&planted(vec![5, 4, 6], vec![2, 2, 3], 2, 50, 2));
    }

    #[test]
    fn gradient_is_right_for_one_hot_values() {
        gradient_matches_finite_differences(&planted(vec![5, 6], vec![3, 2], 4, 60, 3));
    }

    #[test]
    fn recovers_an_easy_planted_partition_and_is_deterministic() {
        let instance = planted(vec![40, 40], vec![3, 3], 2, 1500, 7);
        let options = LearnOptions {
            seed: 1,
            ..LearnOptions::default()
        };
        let report = learn(&instance, &options).unwrap();
        assert_eq!(report.status, Status::Sat, "{}", report.summary());
        assert!(
            report.planted.as_ref().unwrap().equals_planted,
            "{}",
            report.summary()
        );
        let again = learn(&instance, &options).unwrap();
        assert_eq!(again.partition, report.partition);
        assert_eq!(again.training.final_loss, report.training.final_loss);
    }

    #[test]
    fn the_default_l2_weight_is_scaled_by_the_largest_observed_group() {
        // 1,000 tokens declared in group 0, of which 4 are observed; group 1 has 3.
        let samples: Vec<_> = (0..4u32)
            .map(|t| {
                (
                    vec![t, t % 3],
                    partrec_core::model::label::Label::from(u64::from(t % 2)),
                )
            })
            .collect();
        let instance = Instance::new(
            vec![
                partrec_core::model::instance::Group::new(1000, 2),
                partrec_core::model::instance::Group::new(3, 2),
            ],
            samples,
        )
        .unwrap();
        let options = LearnOptions {
            steps: 2,
            ..LearnOptions::default()
        };
        let report = learn(&instance, &options).unwrap();
        assert_eq!(report.training.lambda, L2_SCALE / 4.0);
        let given = LearnOptions {
            lambda: Some(0.25),
            ..options
        };
        assert_eq!(learn(&instance, &given).unwrap().training.lambda, 0.25);
        let bad = LearnOptions {
            lambda: Some(-1.0),
            ..options
        };
        assert!(learn(&instance, &bad).is_err());
    }

    #[test]
    fn an_inconsistent_clustering_is_only_a_candidate() {
        // Too few steps to learn anything: whatever comes out must not be called sat
        // unless the checker accepts it.
        let instance = planted(vec![30, 30], vec![3, 3], 2, 400, 4);
        let report = learn(
            &instance,
            &LearnOptions {
                steps: 1,
                ..LearnOptions::default()
            },
        )
        .unwrap();
        let consistent = check(&instance, report.learned().unwrap())
            .unwrap()
            .consistent;
        assert_eq!(report.status == Status::Sat, consistent);
        assert_eq!(report.candidate.is_some(), !consistent);
        assert!(!consistent, "one step should not solve this instance");
    }
}
