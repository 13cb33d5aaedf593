//! Starting models for a fit, drawn with the caller's RNG.
//!
//! EM climbs to a local maximum of the likelihood, so where it starts
//! matters. Two seeding schemes are here; a model built by hand with
//! [`Gmm::new`] is the third way to start.
//!
//! * [`random_points`]: the seed notebook's scheme. `K` distinct data points
//!   chosen uniformly at random as means, the covariance of the whole data
//!   set for every component, uniform weights.
//! * [`kmeans_plus_plus`]: k-means++ seeding (Arthur & Vassilialvitskii,
//!   2007) for the means, which spreads them out; weights and covariances
//!   from the points nearest each mean.
//!
//! Both take `O(N·D²)` (`random_points`) or `O(N·K·D)` (`kmeans_plus_plus`)
//! time, allocate nothing and use the RNG as documented in
//! [`sample`](crate::sample).

use nalgebra::{SMatrix, SVector};
use rand_core::Rng;

use crate::gaussian::Gaussian;
use crate::math::{self, Real};
use crate::mixture::Gmm;
use crate::point::{check_data, AsPoint};
use crate::sample::uniform_index;
use crate::Error;

/// The sample mean and covariance of `data`, by two passes (mean first,
/// then centred products, which is accurate in `f32`). The covariance is
/// normalised by `N − 1` (the unbiased estimate, numpy's `np.cov`).
///
/// # Errors
///
/// [`Error::TooFewPoints`] for fewer than 2 points;
/// [`Error::NonFiniteData`] naming the first non-finite point.
pub fn data_covariance<T: Real, const D: usize, P: AsPoint<T, D>>(
    data: &[P],
) -> Result<(SVector<T, D>, SMatrix<T, D, D>), Error> {
    check_data(data, 2)?;
    let (mean, scatter, n) = centred_scatter(data, |_| true);
    let cov = scatter / (math::count::<T>(n) - T::one());
    Ok((mean, cov))
}

/// Mean and lower-triangle-mirrored scatter matrix `Σ (x − x̄)(x − x̄)ᵀ` of
/// the points of `data` that `keep` accepts, and their number.
fn centred_scatter<T: Real, const D: usize, P: AsPoint<T, D>>(
    data: &[P],
    keep: impl Fn(&SVector<T, D>) -> bool,
) -> (SVector<T, D>, SMatrix<T, D, D>, usize) {
    let mut sum = SVector::<T, D>::zeros();
    let mut n = 0usize;
    for x in data {
        let x = x.to_vector();
        if keep(&x) {
            sum += x;
            n += 1;
        }
    }
    let mean = if n > 0 {
        sum / math::count::<T>(n)
    } else {
        sum
    };
    let mut scatter = SMatrix::<T, D, D>::zeros();
    for x in data {
        let x = x.to_vector();
        if keep(&x) {
            let d = x - mean;
            for j in 0..D {
                for i in j..D {
                    scatter[(i, j)] += d[i] * d[j];
                }
            }
        }
    }
    for j in 0..D {
        for i in j + 1..D {
            scatter[(j, i)] = scatter[(i, j)];
        }
    }
    (mean, scatter, n)
}

/// The seed notebook's initialisation: `K` random data points as the means,
/// the data covariance ([`data_covariance`]) as every covariance, and
/// weights `1/K`.
///
/// * The points are `K` distinct indices drawn uniformly without
///   replacement (Floyd's algorithm, then shuffled), `2K − 1` RNG draws of
///   one `u32` each (for fewer than 2³² points). If two of them hold the
///   same coordinates (repeated data), the later one is replaced by the
///   next point, cyclically from a random index (one more draw), whose
///   coordinates differ from all chosen
///   so far; only data with fewer than `K` distinct points give repeated
///   means.
/// * `1e-6 · s` (at least `4(D+1)ε` times the largest variance, which
///   matters only in `f32`; raised tenfold, up to 12 times, while the
///   result is not positive definite to working precision, which happens
///   only for nearly singular `f32` data) is added to the covariance's
///   diagonal (`s` the data's
///   scale, as for [`FitOptions::reg_covar`](crate::FitOptions::reg_covar)),
///   so data on a line, a plane or a single repeated point still give a
///   valid start. Otherwise it is the seed's covariance to 6 digits.
///
/// # Errors
///
/// * [`Error::TooFewPoints`] if there are fewer than `max(K, 2)` points;
/// * [`Error::NonFiniteData`] naming the first non-finite point;
/// * [`Error::NotPositiveDefinite`] only if the data's scale overflows `T`
///   (coordinates beyond about `1e19` in `f32`).
///
/// # Example
///
/// ```
/// # struct Lcg(u64);
/// # impl rand_core::TryRng for Lcg {
/// #     type Error = core::convert::Infallible;
/// #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok((self.try_next_u64()? >> 32) as u32) }
/// #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
/// #         self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
/// #         Ok(self.0)
/// #     }
/// #     fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Self::Error> { unimplemented!() }
/// # }
/// let data = [[0.0f32, 1.0], [1.0, 0.0], [5.0, 5.0], [6.0, 5.5]];
/// let init = gaussmix::init::random_points::<f32, 2, 2, _, _>(&data, &mut Lcg(1))?;
/// assert_eq!(init.weights()[0], 0.5);
/// # Ok::<(), gaussmix::Error>(())
/// ```
pub fn random_points<T, const D: usize, const K: usize, P, R>(
    data: &[P],
    rng: &mut R,
) -> Result<Gmm<T, D, K>, Error>
where
    T: Real,
    P: AsPoint<T, D>,
    R: Rng + ?Sized,
{
    let cov = regularised_covariance(data, K)?;
    let indices = distinct_indices::<K, R>(rng, data.len());
    let mut means = [SVector::<T, D>::zeros(); K];
    for k in 0..K {
        let x = pick(data, indices[k]);
        means[k] = if means[..k].contains(&x) {
            let start = uniform_index(rng, data.len());
            let fresh = (0..data.len())
                .map(|j| pick(data, (start + j) % data.len()))
                .find(|y| !means[..k].contains(y));
            fresh.unwrap_or(x)
        } else {
            x
        };
    }
    let mut components = [Gaussian::standard(); K];
    for (k, (c, mean)) in components.iter_mut().zip(means).enumerate() {
        *c = Gaussian::from_symmetric(mean, cov, k)?;
    }
    let w = T::one() / math::count::<T>(K);
    Gmm::from_components([w; K], components)
}

/// The data covariance plus `1e-6 · s · I` (`s`: the data's scale), after
/// checking the data hold at least `max(K, 2)` finite points.
fn regularised_covariance<T: Real, const D: usize, P: AsPoint<T, D>>(
    data: &[P],
    k: usize,
) -> Result<SMatrix<T, D, D>, Error> {
    let scale = check_data(data, k.max(2))?;
    let (_, cov) = data_covariance(data)?;
    // At least 4(D+1)ε of the largest variance: the Cholesky factorisation
    // rejects pivots below (D+1)ε of their diagonal entry, and in f32
    // 1e-6 of the mean variance can be less than that.
    let largest = (0..D).fold(
        T::zero(),
        |m, i| if cov[(i, i)] > m { cov[(i, i)] } else { m },
    );
    let floor = math::lit::<T>(4.0) * math::count::<T>(D + 1) * math::eps::<T>() * largest;
    let reg = math::lit::<T>(1e-6) * scale;
    let mut reg = if reg > floor { reg } else { floor };
    // Near-singular data (a line, a plane) in f32 can need more: the
    // rounding of a late pivot grows with the earlier small ones. Raise the
    // lift tenfold until the factorisation succeeds (at most 12 times).
    for _ in 0..12 {
        let lifted = cov + SMatrix::<T, D, D>::identity() * reg.min(math::max_finite());
        if crate::gaussian::cholesky_lower(&lifted).is_some() {
            return Ok(lifted);
        }
        reg *= math::lit::<T>(10.0);
    }
    Err(Error::NotPositiveDefinite { component: 0 })
}

/// `K` distinct indices in `0..n` (`n ≥ K`), a uniformly random subset in
/// uniformly random order: Floyd's sampling, then a Fisher–Yates shuffle.
fn distinct_indices<const K: usize, R: Rng + ?Sized>(rng: &mut R, n: usize) -> [usize; K] {
    let mut chosen = [0usize; K];
    for (slot, j) in (n - K..n).enumerate() {
        let t = uniform_index(rng, j + 1);
        chosen[slot] = if chosen[..slot].contains(&t) { j } else { t };
    }
    for i in (1..K).rev() {
        // `.min(i)` is a no-op (the index is ≤ i) that spares a bounds check.
        chosen.swap(i, uniform_index(rng, i + 1).min(i));
    }
    chosen
}

/// k-means++ seeding: the first mean is a uniformly random data point; each
/// next one is a data point drawn with probability proportional to its
/// squared distance to the nearest mean chosen so far (uniformly if all
/// distances are 0). Each point is then assigned to its nearest mean (the
/// lowest index on a tie) and, for each component:
///
/// * weight `(nₖ + 1) / (N + K)` (`nₖ` points assigned; the `+1` keeps a
///   component that won no point, from duplicated data, alive for EM);
/// * covariance of its assigned points (normalised by `nₖ − 1`), or the
///   regularised data covariance of [`random_points`] when it has at most
///   `D` points or that covariance is singular.
///
/// Uses `K` uniform variates. Time `O(N·K·D)` for the seeding plus
/// `O(N·K·D + N·D²)` for the assignment; no allocation (distances are
/// recomputed rather than stored).
///
/// # Errors
///
/// As for [`random_points`].
pub fn kmeans_plus_plus<T, const D: usize, const K: usize, P, R>(
    data: &[P],
    rng: &mut R,
) -> Result<Gmm<T, D, K>, Error>
where
    T: Real,
    P: AsPoint<T, D>,
    R: Rng + ?Sized,
{
    let data_cov = regularised_covariance(data, K)?;
    let fallback = Gaussian::from_symmetric(SVector::zeros(), data_cov, 0)?;

    let mut means = [SVector::<T, D>::zeros(); K];
    means[0] = pick(data, uniform_index(rng, data.len()));
    for c in 1..K {
        let chosen = &means[..c];
        let mut total = T::zero();
        for x in data {
            total += nearest(chosen, &x.to_vector()).1;
        }
        let next = if total > T::zero() && math::is_finite(total) {
            // The first point at which the running sum exceeds u·total.
            let target = crate::sample::uniform::<T, R>(rng) * total;
            let mut running = T::zero();
            let mut index = data.len() - 1;
            for (i, x) in data.iter().enumerate() {
                let d2 = nearest(chosen, &x.to_vector()).1;
                running += d2;
                if running > target && d2 > T::zero() {
                    index = i;
                    break;
                }
            }
            index
        } else {
            uniform_index(rng, data.len())
        };
        means[c] = pick(data, next);
    }

    let mut counts = [0usize; K];
    for x in data {
        counts[nearest(&means, &x.to_vector()).0] += 1;
    }
    let mut components = [fallback; K];
    for (k, c) in components.iter_mut().enumerate() {
        let own = if counts[k] > D {
            let (_, scatter, n) = centred_scatter(data, |x| nearest(&means, x).0 == k);
            let cov = scatter / (math::count::<T>(n) - T::one());
            Gaussian::from_symmetric(means[k], cov, k).ok()
        } else {
            None
        };
        *c = match own {
            Some(g) => g,
            None => Gaussian::from_symmetric(means[k], data_cov, k)?,
        };
    }
    let denominator = math::count::<T>(data.len() + K);
    let weights = counts.map(|n| math::count::<T>(n + 1) / denominator);
    Gmm::from_components(weights, components)
}

fn pick<T: Real, const D: usize, P: AsPoint<T, D>>(data: &[P], i: usize) -> SVector<T, D> {
    data.get(i).map_or_else(SVector::zeros, AsPoint::to_vector)
}

/// Index of the nearest of `means` to `x` (lowest on a tie) and the squared
/// Euclidean distance to it.
fn nearest<T: Real, const D: usize>(means: &[SVector<T, D>], x: &SVector<T, D>) -> (usize, T) {
    let mut best = (0, math::max_finite::<T>());
    for (k, m) in means.iter().enumerate() {
        let d2 = (x - m).norm_squared();
        if d2 < best.1 {
            best = (k, d2);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::tests::SplitMix;

    const DATA: [[f64; 2]; 7] = [
        [0.0, 1.0],
        [1.0, 0.5],
        [2.0, 2.5],
        [0.5, -1.0],
        [9.5, 9.0],
        [10.0, 11.0],
        [11.0, 9.5],
    ];

    #[test]
    fn data_covariance_is_the_unbiased_estimate() {
        let (mean, cov) = data_covariance(&DATA).unwrap();
        let n = DATA.len() as f64;
        let mx = DATA.iter().map(|p| p[0]).sum::<f64>() / n;
        let my = DATA.iter().map(|p| p[1]).sum::<f64>() / n;
        let sxy = DATA.iter().map(|p| (p[0] - mx) * (p[1] - my)).sum::<f64>() / (n - 1.0);
        let sxx = DATA.iter().map(|p| (p[0] - mx) * (p[0] - mx)).sum::<f64>() / (n - 1.0);
        assert!((mean[0] - mx).abs() < 1e-14 && (mean[1] - my).abs() < 1e-14);
        assert!((cov[(0, 1)] - sxy).abs() < 1e-13 && (cov[(1, 0)] - sxy).abs() < 1e-13);
        assert!((cov[(0, 0)] - sxx).abs() < 1e-13);
        assert_eq!(
            data_covariance(&DATA[..1]),
            Err(Error::TooFewPoints {
                points: 1,
                needed: 2
            })
        );
    }

    #[test]
    fn random_points_are_distinct_data_points_with_the_data_covariance() {
        let (_, cov) = data_covariance(&DATA).unwrap();
        let scale = crate::point::check_data::<f64, 2, _>(&DATA, 1).unwrap();
        let cov = cov + SMatrix::<f64, 2, 2>::identity() * (1e-6 * scale);
        for seed in 0..200 {
            let m = random_points::<f64, 2, 3, _, _>(&DATA, &mut SplitMix(seed)).unwrap();
            let means = m.means();
            for (k, mu) in means.iter().enumerate() {
                assert!(DATA.iter().any(|p| SVector::from(*p) == *mu));
                assert!(
                    means[..k].iter().all(|other| other != mu),
                    "seed {seed}: repeated index"
                );
                assert_eq!(*m.components()[k].covariance(), cov);
            }
            assert_eq!(m.weights(), &SVector::from([1.0 / 3.0; 3]));
        }
        // Every K-subset is reachable: over many seeds all 7 points are used
        // as a first mean.
        let mut used = [false; 7];
        for seed in 0..500 {
            let m = random_points::<f64, 2, 3, _, _>(&DATA, &mut SplitMix(seed)).unwrap();
            let first = m.means()[0];
            used[DATA
                .iter()
                .position(|p| SVector::from(*p) == first)
                .unwrap()] = true;
        }
        assert!(used.iter().all(|&u| u));
    }

    #[test]
    fn random_points_errors() {
        assert_eq!(
            random_points::<f64, 2, 3, _, _>(&DATA[..2], &mut SplitMix(1)),
            Err(Error::TooFewPoints {
                points: 2,
                needed: 3
            })
        );
        let mut bad = DATA;
        bad[3][1] = f64::NAN;
        assert_eq!(
            random_points::<f64, 2, 3, _, _>(&bad, &mut SplitMix(1)),
            Err(Error::NonFiniteData { index: 3 })
        );
    }

    #[test]
    fn degenerate_data_still_give_a_valid_start() {
        // On a line, and all identical: the data covariance is singular,
        // the regularised one is not.
        let line = [[0.0, 0.0], [1.0, 2.0], [2.0, 4.0], [3.0, 6.0]];
        let m = random_points::<f64, 2, 2, _, _>(&line, &mut SplitMix(1)).unwrap();
        assert!(m.components().iter().all(|c| c.cholesky()[(1, 1)] > 0.0));
        let same = [[2.0f32, -1.0]; 5];
        let m = random_points::<f32, 2, 2, _, _>(&same, &mut SplitMix(1)).unwrap();
        assert_eq!(m.covariances()[0], SMatrix::<f32, 2, 2>::identity() * 4e-6);
        assert!(kmeans_plus_plus::<f32, 2, 2, _, _>(&same, &mut SplitMix(1)).is_ok());
    }

    #[test]
    fn repeated_points_do_not_give_repeated_means() {
        // Seven copies of one point and two others: K = 3 means must be the
        // three distinct values whatever indices are drawn.
        let mut data = [[1.0, 1.0]; 9];
        data[3] = [0.0, 5.0];
        data[7] = [4.0, 0.0];
        for seed in 0..100 {
            let m = random_points::<f64, 2, 3, _, _>(&data, &mut SplitMix(seed)).unwrap();
            let means = m.means();
            assert!(means[0] != means[1] && means[1] != means[2] && means[0] != means[2]);
        }
        // Fewer distinct points than components: repeated means, still valid.
        let two = [[1.0, 1.0], [1.0, 1.0], [2.0, 2.0], [1.0, 1.0]];
        assert!(random_points::<f64, 2, 3, _, _>(&two, &mut SplitMix(4)).is_ok());
    }

    #[test]
    fn kmeans_plus_plus_spreads_the_means() {
        // Two far-apart groups: k-means++ must put one mean in each, for
        // almost every seed (the second draw lands in the far group with
        // probability > 0.99).
        let mut split = 0;
        for seed in 0..100 {
            let m = kmeans_plus_plus::<f64, 2, 2, _, _>(&DATA, &mut SplitMix(seed)).unwrap();
            let means = m.means();
            assert!(means
                .iter()
                .all(|mu| DATA.iter().any(|p| SVector::from(*p) == *mu)));
            assert!((m.weights().sum() - 1.0).abs() < 1e-15);
            if (means[0][0] < 5.0) != (means[1][0] < 5.0) {
                split += 1;
                // Each group has 3 or 4 points: weights (n + 1)/(N + K).
                let w = m.weights();
                assert!((w[0] - 4.0 / 9.0).abs() < 1e-15 || (w[0] - 5.0 / 9.0).abs() < 1e-15);
            }
        }
        assert!(split >= 97, "{split} of 100 seeds split the groups");
    }
}
