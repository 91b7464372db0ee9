//! k-means clustering with k-means++ seeding and restarts (Arthur and Vassilvitskii, 2007),
//! used to read classes off token coordinates: the warm start's spectral ones
//! ([`crate::warm`]) and the gradient baseline's learned embeddings.

use rand::Rng;

/// Squared Euclidean distance.
fn distance2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Index of the center nearest to `point`, and the squared distance to it.
fn nearest(point: &[f64], centers: &[f64], dim: usize) -> (usize, f64) {
    centers
        .chunks_exact(dim)
        .map(|c| distance2(point, c))
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("at least one center")
}

/// Most Lloyd iterations per restart.
pub const MAX_ITERATIONS: usize = 100;

/// Clusters the `points` (row-major, `dim` numbers each) into at most `k` clusters:
/// `restarts` runs of k-means++ seeding and Lloyd iterations, the run with the least
/// inertia (sum of squared distances to the centers) kept. Returns the cluster of every
/// point, in `0..k`. Deterministic for a given `rng` state.
pub fn kmeans(
    points: &[f64],
    dim: usize,
    k: usize,
    restarts: usize,
    rng: &mut impl Rng,
) -> Vec<u32> {
    kmeans_until(points, dim, k, restarts, rng, &mut || false).expect("never stopped")
}

/// [`kmeans`] that calls `stop` before every Lloyd iteration and gives up (`None`)
/// when it says so.
pub fn kmeans_until(
    points: &[f64],
    dim: usize,
    k: usize,
    restarts: usize,
    rng: &mut impl Rng,
    stop: &mut dyn FnMut() -> bool,
) -> Option<Vec<u32>> {
    let n = points.len() / dim.max(1);
    if n == 0 || dim == 0 {
        return Some(vec![0; n]);
    }
    let k = k.clamp(1, n);
    let point = |i: usize| &points[i * dim..(i + 1) * dim];
    let mut best: Option<(f64, Vec<u32>)> = None;
    for _ in 0..restarts.max(1) {
        // k-means++ seeding: each next center is drawn with probability proportional
        // to the squared distance to the nearest center chosen so far.
        let mut centers = Vec::with_capacity(k * dim);
        centers.extend_from_slice(point(rng.random_range(0..n)));
        let mut d2: Vec<f64> = (0..n).map(|i| distance2(point(i), &centers)).collect();
        for _ in 1..k {
            let total: f64 = d2.iter().sum();
            let chosen = if total > 0.0 {
                let mut target = rng.random::<f64>() * total;
                d2.iter()
                    .position(|&d| {
                        target -= d;
                        target < 0.0
                    })
                    .unwrap_or(n - 1)
            } else {
                rng.random_range(0..n)
            };
            let start = centers.len();
            centers.extend_from_slice(point(chosen));
            for (i, d) in d2.iter_mut().enumerate() {
                *d = d.min(distance2(point(i), &centers[start..]));
            }
        }
        // Lloyd iterations until no point changes cluster.
        let mut labels = vec![u32::MAX; n];
        for _ in 0..MAX_ITERATIONS {
            if stop() {
                return None;
            }
            let mut changed = false;
            for (i, label) in labels.iter_mut().enumerate() {
                let c = nearest(point(i), &centers, dim).0 as u32;
                changed |= *label != c;
                *label = c;
            }
            if !changed {
                break;
            }
            let mut sums = vec![0.0; k * dim];
            let mut counts = vec![0usize; k];
            for (i, &c) in labels.iter().enumerate() {
                counts[c as usize] += 1;
                for (s, x) in sums[c as usize * dim..][..dim].iter_mut().zip(point(i)) {
                    *s += x;
                }
            }
            for (c, &count) in counts.iter().enumerate() {
                // An empty cluster keeps its center.
                if count > 0 {
                    for (center, s) in centers[c * dim..][..dim]
                        .iter_mut()
                        .zip(&sums[c * dim..][..dim])
                    {
                        *center = s / count as f64;
                    }
                }
            }
        }
        let inertia: f64 = (0..n).map(|i| nearest(point(i), &centers, dim).1).sum();
        if best.as_ref().is_none_or(|(b, _)| inertia < *b) {
            best = Some((inertia, labels));
        }
    }
    best.map(|(_, labels)| labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use partrec_core::model::partition::same_partition;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn separates_well_separated_blobs() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let centers = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]];
        let mut points = Vec::new();
        let mut truth = Vec::new();
        for i in 0..60 {
            let c = i % 3;
            points.push(centers[c][0] + rng.random::<f64>() - 0.5);
            points.push(centers[c][1] + rng.random::<f64>() - 0.5);
            truth.push(c as u32);
        }
        let labels = kmeans(&points, 2, 3, 5, &mut rng);
        assert!(same_partition(&[labels], &[truth]));
    }

    #[test]
    fn handles_fewer_points_than_clusters_and_duplicates() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(kmeans(&[1.0, 1.0], 2, 3, 2, &mut rng), vec![0]);
        let labels = kmeans(&[1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 2, 2, 2, &mut rng);
        assert_eq!(labels.len(), 3);
        assert!(labels.iter().all(|&c| c < 2));
    }

    #[test]
    fn is_deterministic_for_a_seed() {
        let points: Vec<f64> = (0..40).map(|i| ((i * 37) % 11) as f64).collect();
        let run = |seed| kmeans(&points, 2, 4, 3, &mut ChaCha8Rng::seed_from_u64(seed));
        assert_eq!(run(9), run(9));
    }
}
