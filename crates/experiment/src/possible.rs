//! Which sweep rows are possible: every field in its domain, and the fields
//! consistent with one another as a sweep fills them ([`crate::sweep`]).
//! Row files are checked row by row as they are read, so `sweep merge` and
//! `sweep --resume` refuse an impossible row before anything is written.

use crate::sweep::{Method, Row};
use partrec_core::generate::{check_zipf, samples_for_ratio};
use partrec_core::model::compact::MAX_LISTED_TOKENS;
use partrec_solve::solution::Status;

impl Row {
    /// Checks that the row could be true; the error says what cannot be, in one line.
    pub fn check(&self) -> Result<(), String> {
        let method: Method = self.method.parse()?;
        let status = match self.status.as_str() {
            "sat" => Status::Sat,
            "unsat" => Status::Unsat,
            "unknown" => Status::Unknown,
            other => return Err(format!("status {other:?} is not sat, unsat or unknown")),
        };
        self.check_experiment()?;
        self.check_measures(method)?;
        match method {
            Method::Sat => self.check_exact(status),
            Method::Gd => self.check_gradient(status),
        }
    }

    /// The parameters of the planted model: what `generate` accepts.
    fn check_experiment(&self) -> Result<(), String> {
        let (n, groups, classes, values) = (self.n, self.groups, self.classes, self.values);
        if n == 0 || groups == 0 || values == 0 || classes == 0 || classes > n {
            return Err(format!(
                "N {n}, groups {groups}, classes {classes}, values {values}: a planted instance has at least one group, value and class, and at most N classes"
            ));
        }
        let tokens = (groups as u64).saturating_mul(u64::from(n));
        if tokens > MAX_LISTED_TOKENS {
            return Err(format!(
                "groups {groups} x N {n} = {tokens} tokens: more than a sweep generates ({MAX_LISTED_TOKENS})"
            ));
        }
        let noise = self.noise;
        if !(0.0..=1.0).contains(&noise) {
            return Err(format!("noise {noise} is not a probability from 0 to 1"));
        }
        if noise > 0.0 && values < 2 {
            return Err(format!(
                "noise {noise} with 1 value: there is no other value to flip to"
            ));
        }
        if let Some(s) = self.zipf {
            check_zipf(s).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Sizes, fractions and times: each what the sweep computes from the instance.
    fn check_measures(&self, method: Method) -> Result<(), String> {
        let samples = self.samples;
        let expected = samples_for_ratio(&[self.n], self.ratio).map_err(|e| e.to_string())?;
        if samples != expected {
            return Err(format!(
                "samples {samples} is not round(ratio N ln N) = {expected} for N {} and ratio {}",
                self.n, self.ratio
            ));
        }
        let per_token = samples as f64 / f64::from(self.n);
        if self.samples_per_token != per_token {
            return Err(format!(
                "samples_per_token {} is not samples / N = {per_token}",
                self.samples_per_token
            ));
        }
        let times = [
            ("encode_s", self.encode_s),
            ("solve_s", self.solve_s),
            ("unique_s", self.unique_s),
            ("seconds", self.seconds),
        ];
        if let Some((name, s)) = times.iter().find(|(_, s)| !(s.is_finite() && *s >= 0.0)) {
            return Err(format!("{name} {s} is not a time (a finite number >= 0)"));
        }
        // Checked above: groups x N is at most MAX_LISTED_TOKENS.
        let tokens = self.groups * self.n as usize;
        let observed = share_of_tokens("observed_fraction", self.observed_fraction, tokens)?;
        // Each sample observes one token of every group.
        let (least, most) = match samples {
            0 => (0, 0),
            s => (self.groups, self.groups * s.min(self.n as usize)),
        };
        if !(least..=most).contains(&observed) {
            return Err(format!(
                "observed_fraction {} is {observed} of the {tokens} tokens, but {samples} samples observe from {least} to {most}",
                self.observed_fraction
            ));
        }
        if let Some(a) = self.accuracy {
            share_of_tokens("accuracy", a, tokens)?;
        }
        match (self.recovered, self.accuracy) {
            (Some(r), Some(a)) if r != (a == 1.0) => {
                return Err(format!(
                    "recovered {r} with accuracy {a}: a partition is the planted one exactly when it gets every token right (accuracy 1)"
                ))
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(
                    "recovered and accuracy are set or empty together (both compare the partition found with the planted one)"
                        .into(),
                )
            }
            _ => {}
        }
        if let Some(d) = self.dropped {
            if d > samples {
                return Err(format!("dropped {d} samples of {samples}"));
            }
            if method != Method::Sat || self.noise == 0.0 {
                return Err(format!(
                    "dropped {d} with method {method} and noise {}: only the exact method on noisy samples drops any",
                    self.noise
                ));
            }
        }
        Ok(())
    }

    /// The exact method: `unsat` and `unique` only from a complete search, every
    /// search that finished decides both, and a partition found is judged.
    fn check_exact(&self, status: Status) -> Result<(), String> {
        let found = self.recovered.is_some();
        let unique = self.unique.map_or("empty".to_string(), |u| u.to_string());
        if self.unique.is_some() && status != Status::Sat {
            return Err(format!(
                "unique {unique} with status {}: uniqueness is decided only about a partition found (status sat)",
                self.status
            ));
        }
        if self.unique == Some(true) && self.timed_out {
            return Err(
                "unique true with timed_out true: uniqueness is claimed only by a search that finished"
                    .into(),
            );
        }
        self.check_not_unsat(status)?;
        if status == Status::Unsat {
            return Err(
                "status unsat from the exact method with noise: the search for the fewest violated samples always has an answer"
                    .into(),
            );
        }
        if !self.timed_out && (status != Status::Sat || self.unique.is_none()) {
            return Err(format!(
                "timed_out false with status {} and unique {unique}: a search that finished finds a partition and decides its uniqueness",
                self.status
            ));
        }
        if status == Status::Sat && !found {
            return Err(
                "status sat with recovered empty: a partition found is compared with the planted one"
                    .into(),
            );
        }
        if self.noise == 0.0 {
            if status == Status::Unknown && found {
                return Err(
                    "status unknown with a partition (recovered set): without noise a partition found is consistent, so the status is sat"
                        .into(),
                );
            }
            if self.unique == Some(true) && self.recovered != Some(true) {
                return Err(
                    "unique true but recovered false: without noise the planted partition is consistent, so the only consistent one is it"
                        .into(),
                );
            }
        } else if self.dropped.is_some() != found {
            return Err(format!(
                "dropped {} and recovered {}: with noise, the samples a partition violates are counted exactly when one was found",
                self.dropped.map_or("empty".to_string(), |d| d.to_string()),
                self.recovered.map_or("empty".to_string(), |r| r.to_string()),
            ));
        }
        Ok(())
    }

    /// The gradient method: no deadline, no CNF, no uniqueness; the partition it learns
    /// is always judged, and it learns none only when the samples contradict each other.
    fn check_gradient(&self, status: Status) -> Result<(), String> {
        if self.timed_out {
            return Err("method gd with timed_out true: gd runs without a deadline".into());
        }
        if let Some(u) = self.unique {
            return Err(format!(
                "method gd with unique {u}: gd never decides uniqueness"
            ));
        }
        if (self.variables, self.clauses) != (0, 0) || self.encode_s != 0.0 || self.unique_s != 0.0
        {
            return Err(format!(
                "method gd with {} variables, {} clauses, encode_s {} and unique_s {}: gd builds no CNF (all 0)",
                self.variables, self.clauses, self.encode_s, self.unique_s
            ));
        }
        self.check_not_unsat(status)?;
        if (status == Status::Unsat) == self.recovered.is_some() {
            return Err(format!(
                "method gd with status {} and recovered {}: gd judges every partition it learns, and learns none only when the samples contradict each other (unsat)",
                self.status,
                self.recovered.map_or("empty".to_string(), |r| r.to_string())
            ));
        }
        Ok(())
    }

    /// Without noise the planted partition is consistent: no method answers `unsat`.
    fn check_not_unsat(&self, status: Status) -> Result<(), String> {
        if status == Status::Unsat && self.noise == 0.0 {
            return Err(
                "status unsat without noise: the planted partition is consistent with every sample"
                    .into(),
            );
        }
        Ok(())
    }
}

/// The count `share` is a fraction of: the sweep writes k / tokens for a whole k from
/// 0 to `tokens`, so `share` must be exactly that.
fn share_of_tokens(name: &str, share: f64, tokens: usize) -> Result<usize, String> {
    let t = tokens as f64;
    let k = (share * t).round();
    if (0.0..=t).contains(&k) && k / t == share {
        Ok(k as usize)
    } else {
        Err(format!(
            "{name} {share} is not a fraction k / {tokens} of the groups x N tokens (k from 0 to {tokens})"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A possible row: N = 10, 2 groups, 2 classes, ratio 1 (23 samples), exact method,
    /// finished, sat, not unique, partition judged.
    fn row() -> Row {
        Row {
            n: 10,
            ratio: 1.0,
            trial: 0,
            method: "sat".into(),
            seed: 7,
            groups: 2,
            classes: 2,
            values: 2,
            samples: 23,
            samples_per_token: 2.3,
            status: "sat".into(),
            unique: Some(false),
            recovered: Some(false),
            accuracy: Some(0.6),
            observed_fraction: 0.95,
            variables: 57,
            clauses: 186,
            encode_s: 0.0001,
            solve_s: 0.0001,
            unique_s: 0.0,
            seconds: 0.009,
            timed_out: false,
            noise: 0.0,
            dropped: None,
            zipf: None,
        }
    }

    /// The gradient method's row of the same point.
    fn gd() -> Row {
        Row {
            method: "gd".into(),
            unique: None,
            variables: 0,
            clauses: 0,
            encode_s: 0.0,
            unique_s: 0.0,
            ..row()
        }
    }

    /// A noisy exact row: a partition found, its violated samples counted.
    fn noisy() -> Row {
        Row {
            noise: 0.1,
            dropped: Some(2),
            ..row()
        }
    }

    /// A row edited by `change`.
    fn edited(base: fn() -> Row, change: fn(&mut Row)) -> Row {
        let mut r = base();
        change(&mut r);
        r
    }

    /// A row to check: a possible one, and a change to it.
    type Edit = (fn() -> Row, fn(&mut Row));

    /// An impossible row (an [`Edit`]) and words its refusal must say.
    type Refused = (fn() -> Row, fn(&mut Row), &'static str);

    /// Rows a sweep writes.
    const POSSIBLE: &[Edit] = &[
        (row, |_| {}),
        (noisy, |_| {}),
        (gd, |_| {}),
        // Stopped before a partition, or after one but before uniqueness.
        (row, |r| {
            (r.status, r.unique, r.recovered, r.accuracy, r.timed_out) =
                ("unknown".into(), None, None, None, true)
        }),
        (row, |r| (r.unique, r.timed_out) = (None, true)),
        (row, |r| {
            (r.unique, r.recovered, r.accuracy) = (Some(true), Some(true), Some(1.0))
        }),
        (row, |r| {
            (r.ratio, r.samples, r.samples_per_token, r.observed_fraction) = (0.0, 0, 0.0, 0.0)
        }),
        // With noise, a search stopped keeps the best partition seen, or has none.
        (noisy, |r| {
            (r.status, r.unique, r.timed_out) = ("unknown".into(), None, true)
        }),
        (noisy, |r| {
            (
                r.status,
                r.unique,
                r.recovered,
                r.accuracy,
                r.dropped,
                r.timed_out,
            ) = ("unknown".into(), None, None, None, None, true)
        }),
        (gd, |r| r.status = "unknown".into()),
        (gd, |r| {
            (r.status, r.recovered, r.accuracy, r.noise) = ("unsat".into(), None, None, 0.2)
        }),
        (row, |r| r.zipf = Some(1.0)),
        (noisy, |r| r.zipf = Some(0.0)),
    ];

    #[test]
    fn rows_a_sweep_writes_are_possible() {
        for (base, change) in POSSIBLE {
            let r = edited(*base, *change);
            assert_eq!(r.check(), Ok(()), "{r:?}");
        }
    }

    /// Impossible rows.
    const IMPOSSIBLE: &[Refused] = &[
        (row, |r| r.method = "nn".into(), "unknown method \"nn\""),
        (row, |r| r.status = "maybe".into(), "status \"maybe\""),
        (row, |r| r.n = 0, "N 0"),
        (row, |r| r.groups = 0, "groups 0"),
        (row, |r| r.classes = 0, "classes 0"),
        (row, |r| r.classes = 11, "classes 11"),
        (row, |r| r.values = 0, "values 0"),
        (row, |r| r.groups = 1 << 40, "tokens: more than a sweep"),
        (noisy, |r| r.noise = 1.5, "noise 1.5 is not a probability"),
        (noisy, |r| r.noise = -0.1, "noise -0.1 is not a probability"),
        (noisy, |r| r.noise = f64::NAN, "noise NaN"),
        (noisy, |r| (r.values, r.classes) = (1, 1), "no other value"),
        (
            row,
            |r| r.zipf = Some(8.5),
            "zipf must be an exponent from 0 to 8, got 8.5",
        ),
        (row, |r| r.zipf = Some(-1.0), "zipf must be an exponent"),
        (row, |r| r.zipf = Some(f64::NAN), "got NaN"),
        (
            row,
            |r| r.ratio = -1.0,
            "ratio must be a finite number >= 0",
        ),
        (row, |r| r.ratio = f64::INFINITY, "ratio must be a finite"),
        (
            row,
            |r| r.samples = 24,
            "samples 24 is not round(ratio N ln N) = 23",
        ),
        (row, |r| r.samples_per_token = 2.4, "samples_per_token 2.4"),
        (row, |r| r.seconds = -1.0, "seconds -1 is not a time"),
        (row, |r| r.seconds = f64::NAN, "seconds NaN is not a time"),
        (row, |r| r.encode_s = f64::INFINITY, "encode_s inf"),
        (row, |r| r.solve_s = -0.5, "solve_s -0.5"),
        (row, |r| r.unique_s = f64::NAN, "unique_s NaN"),
        (
            row,
            |r| r.observed_fraction = 1.5,
            "observed_fraction 1.5 is not a fraction",
        ),
        (
            row,
            |r| r.observed_fraction = 0.123,
            "observed_fraction 0.123 is not a fraction",
        ),
        (
            row,
            |r| r.observed_fraction = 0.0,
            "but 23 samples observe from 2 to 20",
        ),
        (
            row,
            |r| (r.ratio, r.samples, r.samples_per_token) = (0.0, 0, 0.0),
            "but 0 samples observe from 0 to 0",
        ),
        (
            row,
            |r| r.accuracy = Some(7.5),
            "accuracy 7.5 is not a fraction",
        ),
        (
            row,
            |r| r.accuracy = Some(-0.05),
            "accuracy -0.05 is not a fraction",
        ),
        (
            row,
            |r| r.accuracy = Some(0.61),
            "accuracy 0.61 is not a fraction",
        ),
        (
            row,
            |r| r.accuracy = Some(1.0),
            "recovered false with accuracy 1",
        ),
        (
            row,
            |r| r.recovered = Some(true),
            "recovered true with accuracy 0.6",
        ),
        (row, |r| r.accuracy = None, "set or empty together"),
        (row, |r| r.recovered = None, "set or empty together"),
        (noisy, |r| r.dropped = Some(24), "dropped 24 samples of 23"),
        (
            row,
            |r| r.dropped = Some(1),
            "dropped 1 with method sat and noise 0",
        ),
        (
            gd,
            |r| (r.dropped, r.noise) = (Some(1), 0.1),
            "dropped 1 with method gd",
        ),
        (
            row,
            |r| (r.status, r.unique) = ("unsat".into(), Some(true)),
            "unique true with status unsat",
        ),
        (
            row,
            |r| (r.status, r.timed_out) = ("unknown".into(), true),
            "unique false with status unknown",
        ),
        (
            row,
            |r| {
                (r.unique, r.recovered, r.accuracy, r.timed_out) =
                    (Some(true), Some(true), Some(1.0), true)
            },
            "unique true with timed_out true",
        ),
        (
            row,
            |r| (r.status, r.unique, r.recovered, r.accuracy) = ("unsat".into(), None, None, None),
            "status unsat without noise",
        ),
        (
            noisy,
            |r| {
                (r.status, r.unique, r.recovered, r.accuracy, r.dropped) =
                    ("unsat".into(), None, None, None, None)
            },
            "status unsat from the exact method with noise",
        ),
        (
            row,
            |r| r.unique = None,
            "timed_out false with status sat and unique empty",
        ),
        (
            row,
            |r| {
                (r.status, r.unique, r.recovered, r.accuracy) = ("unknown".into(), None, None, None)
            },
            "timed_out false with status unknown",
        ),
        (
            row,
            |r| (r.unique, r.recovered, r.accuracy, r.timed_out) = (None, None, None, true),
            "status sat with recovered empty",
        ),
        (
            row,
            |r| (r.status, r.unique, r.timed_out) = ("unknown".into(), None, true),
            "status unknown with a partition",
        ),
        (
            row,
            |r| r.unique = Some(true),
            "unique true but recovered false",
        ),
        (
            noisy,
            |r| r.dropped = None,
            "dropped empty and recovered false",
        ),
        (gd, |r| r.timed_out = true, "gd runs without a deadline"),
        (
            gd,
            |r| r.unique = Some(false),
            "gd never decides uniqueness",
        ),
        (gd, |r| r.clauses = 3, "gd builds no CNF"),
        (gd, |r| r.unique_s = 0.5, "gd builds no CNF"),
        (
            gd,
            |r| (r.status, r.recovered, r.accuracy) = ("unsat".into(), None, None),
            "status unsat without noise",
        ),
        (
            gd,
            |r| (r.status, r.noise) = ("unsat".into(), 0.1),
            "gd with status unsat and recovered false",
        ),
        (
            gd,
            |r| (r.recovered, r.accuracy) = (None, None),
            "gd with status sat and recovered empty",
        ),
    ];

    #[test]
    fn impossible_rows_are_refused_saying_why() {
        for (base, change, why) in IMPOSSIBLE {
            let r = edited(*base, *change);
            let e = r.check().expect_err(why);
            assert!(e.contains(why), "{why:?} not in {e:?}");
            assert!(!e.contains('\n'), "{e:?}");
        }
    }
}
