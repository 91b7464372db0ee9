//! Aggregating sweep rows: per (method, N, ratio) the fraction of trials decided
//! before the deadline and the number that timed out, the probability that the partition is proven unique, the
//! probability that it is recovered, the mean accuracy and time quantiles (a
//! timeout counts as the time it ran, the limit, so the hardness peak shows); and the
//! smallest ratio where a probability reaches a level.

use crate::sweep::{Method, Row};
use std::collections::BTreeMap;

/// The aggregate of the trials at one (method, N, ratio).
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// Method.
    pub method: String,
    /// Tokens per group.
    pub n: u32,
    /// Sample ratio.
    pub ratio: f64,
    /// Mean S / (N ln N): the x axis that makes different N comparable.
    pub x: f64,
    /// Trials.
    pub trials: usize,
    /// Fraction of trials that ended before the deadline.
    pub p_decided: f64,
    /// Fraction of trials proven unique.
    pub p_unique: f64,
    /// Fraction of trials whose partition equals the planted one.
    pub p_recovered: f64,
    /// Mean accuracy over the trials that produced a partition (NaN if none did).
    pub mean_accuracy: f64,
    /// Median seconds, a timeout counting as the seconds it ran (the time limit).
    pub median_s: f64,
    /// Whether the median trial timed out (the median is then a lower bound).
    pub median_censored: bool,
    /// 90th-percentile seconds, counted the same way.
    pub p90_s: f64,
    /// Whether the 90th-percentile trial timed out.
    pub p90_censored: bool,
    /// Trials that timed out.
    pub timeouts: usize,
}

/// Nearest-rank quantile of sorted values.
fn quantile<T: Copy>(sorted: &[T], q: f64) -> T {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Groups rows by (method, N, ratio), in order.
pub fn aggregate(rows: &[Row]) -> Vec<Cell> {
    let mut groups: BTreeMap<(String, u32, u64), Vec<&Row>> = BTreeMap::new();
    for r in rows {
        groups
            .entry((r.method.clone(), r.n, r.ratio.to_bits()))
            .or_default()
            .push(r);
    }
    let mut cells: Vec<Cell> = groups
        .into_values()
        .map(|rs| {
            let t = rs.len() as f64;
            let frac = |f: &dyn Fn(&Row) -> bool| rs.iter().filter(|r| f(r)).count() as f64 / t;
            // (seconds, timed out): a timeout sorts after a finished run of equal time.
            let mut times: Vec<(f64, bool)> = rs.iter().map(|r| (r.seconds, r.timed_out)).collect();
            times.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let (median_s, median_censored) = quantile(&times, 0.5);
            let (p90_s, p90_censored) = quantile(&times, 0.9);
            let n = f64::from(rs[0].n);
            Cell {
                method: rs[0].method.clone(),
                n: rs[0].n,
                ratio: rs[0].ratio,
                x: rs.iter().map(|r| r.samples as f64).sum::<f64>()
                    / t
                    / (n * n.ln().max(f64::MIN_POSITIVE)),
                trials: rs.len(),
                p_decided: frac(&|r| !r.timed_out),
                p_unique: frac(&|r| r.unique == Some(true)),
                p_recovered: frac(&|r| r.recovered == Some(true)),
                mean_accuracy: {
                    let acc: Vec<f64> = rs.iter().filter_map(|r| r.accuracy).collect();
                    acc.iter().sum::<f64>() / acc.len() as f64
                },
                median_s,
                median_censored,
                p90_s,
                p90_censored,
                timeouts: rs.iter().filter(|r| r.timed_out).count(),
            }
        })
        .collect();
    cells.sort_by(|a, b| {
        (&a.method, a.n, a.ratio)
            .partial_cmp(&(&b.method, b.n, b.ratio))
            .expect("finite")
    });
    cells
}

/// The smallest swept ratio at which `metric >= level` for (method, N), if any.
pub fn threshold(
    cells: &[Cell],
    method: &str,
    n: u32,
    metric: fn(&Cell) -> f64,
    level: f64,
) -> Option<f64> {
    cells
        .iter()
        .filter(|c| c.method == method && c.n == n && metric(c) >= level)
        .map(|c| c.ratio)
        .reduce(f64::min)
}

/// `P(unique)` of a cell.
pub fn p_unique(c: &Cell) -> f64 {
    c.p_unique
}

/// `P(recovered)` of a cell.
pub fn p_recovered(c: &Cell) -> f64 {
    c.p_recovered
}

/// Seconds, as `>= s` when the trial timed out (its time is a lower bound).
fn seconds(s: f64, censored: bool) -> String {
    if censored {
        format!(">= {s:.1}")
    } else {
        format!("{s:.3}")
    }
}

/// A probability with two decimals, or `-` where the method cannot establish it.
fn probability(p: f64, applies: bool) -> String {
    if applies {
        format!("{p:.2}")
    } else {
        "-".into()
    }
}

/// The summary as a markdown table, followed by the thresholds per (method, N).
/// `decided` is the fraction of trials that ended before the deadline, `timeouts`
/// the number that did not. P(unique) is `-` for methods that cannot prove uniqueness.
pub fn table(rows: &[Row]) -> String {
    let cells = aggregate(rows);
    let mut s = String::from(
        "| method | N | ratio | S/(N ln N) | trials | decided | timeouts | P(unique) | P(recovered) | mean accuracy | median s | p90 s |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for c in &cells {
        let proves = Method::named_proves_uniqueness(&c.method);
        s.push_str(&format!(
            "| {} | {} | {} | {:.2} | {} | {:.2} | {} | {} | {:.2} | {} | {} | {} |\n",
            c.method,
            c.n,
            c.ratio,
            c.x,
            c.trials,
            c.p_decided,
            c.timeouts,
            probability(c.p_unique, proves),
            c.p_recovered,
            if c.mean_accuracy.is_finite() {
                format!("{:.2}", c.mean_accuracy)
            } else {
                "no partition".into()
            },
            seconds(c.median_s, c.median_censored),
            seconds(c.p90_s, c.p90_censored),
        ));
    }
    let mut keys: Vec<(String, u32)> = cells.iter().map(|c| (c.method.clone(), c.n)).collect();
    keys.dedup();
    s.push_str(
        "\n| method | N | smallest ratio with P(unique) >= 0.5 | P(unique) >= 0.9 | P(recovered) >= 0.9 |\n|---|---|---|---|---|\n",
    );
    for (method, n) in keys {
        let t = |metric: fn(&Cell) -> f64, level| {
            threshold(&cells, &method, n, metric, level)
                .map_or("none swept".to_string(), |r| r.to_string())
        };
        let (u5, u9) = if Method::named_proves_uniqueness(&method) {
            (t(p_unique, 0.5), t(p_unique, 0.9))
        } else {
            ("-".into(), "-".into())
        };
        s.push_str(&format!(
            "| {method} | {n} | {u5} | {u9} | {} |\n",
            t(p_recovered, 0.9)
        ));
    }
    s
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `sat` row of trial 0 at (N, ratio).
    pub(crate) fn row(
        n: u32,
        ratio: f64,
        unique: Option<bool>,
        seconds: f64,
        timed_out: bool,
    ) -> Row {
        Row {
            n,
            ratio,
            trial: 0,
            method: "sat".into(),
            seed: 0,
            groups: 2,
            classes: 3,
            values: 2,
            samples: (ratio * f64::from(n) * f64::from(n).ln()).round() as usize,
            samples_per_token: 0.0,
            status: if timed_out { "unknown" } else { "sat" }.into(),
            unique,
            recovered: unique,
            accuracy: None,
            observed_fraction: 1.0,
            variables: 0,
            clauses: 0,
            encode_s: 0.0,
            solve_s: 0.0,
            unique_s: 0.0,
            seconds,
            timed_out,
            noise: 0.0,
            dropped: None,
            zipf: None,
        }
    }

    #[test]
    fn aggregates_probabilities_quantiles_and_thresholds() {
        let rows = vec![
            row(100, 1.0, Some(false), 0.1, false),
            row(100, 1.0, None, 5.0, true),
            row(100, 4.0, Some(true), 0.2, false),
            row(100, 4.0, Some(false), 0.4, false),
            row(100, 8.0, Some(true), 0.3, false),
            row(100, 8.0, Some(true), 0.5, false),
        ];
        let cells = aggregate(&rows);
        assert_eq!(cells.len(), 3);
        assert_eq!((cells[0].p_unique, cells[0].timeouts), (0.0, 1));
        assert_eq!((cells[0].p_decided, cells[1].p_decided), (0.5, 1.0));
        assert_eq!((cells[0].median_s, cells[0].median_censored), (0.1, false));
        assert_eq!(
            (cells[0].p90_s, cells[0].p90_censored),
            (5.0, true),
            "a timeout counts as the time it ran, marked as a lower bound"
        );
        assert_eq!(cells[1].p_unique, 0.5);
        assert!((cells[2].x - 8.0).abs() < 0.01);
        assert_eq!(threshold(&cells, "sat", 100, p_unique, 0.5), Some(4.0));
        assert_eq!(threshold(&cells, "sat", 100, p_unique, 0.9), Some(8.0));
        assert_eq!(threshold(&cells, "sat", 100, p_recovered, 0.9), Some(8.0));
        assert_eq!(threshold(&cells, "sat", 200, p_unique, 0.5), None);
        let t = table(&rows);
        assert!(
            t.contains(
                "| sat | 100 | 1 | 1.00 | 2 | 0.50 | 1 | 0.00 | 0.00 | no partition | 0.100 | >= 5.0 |"
            ),
            "{t}"
        );
        assert!(t.contains("| sat | 100 | 4 | 8 | 8 |"), "{t}");
        // A method that cannot prove uniqueness shows `-` there, and its accuracy.
        let gd: Vec<Row> = rows
            .iter()
            .map(|r| Row {
                method: "gd".into(),
                unique: None,
                accuracy: Some(0.5),
                ..r.clone()
            })
            .collect();
        let t = table(&gd);
        assert!(
            t.contains("| gd | 100 | 1 | 1.00 | 2 | 0.50 | 1 | - | 0.00 | 0.50 |"),
            "{t}"
        );
        assert!(t.contains("| gd | 100 | - | - | 8 |"), "{t}");
    }
}
