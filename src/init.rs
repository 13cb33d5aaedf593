//! Starting models for a fit, drawn with the caller's RNG, for every
//! covariance kind.
//!
//! EM climbs to a local maximum of the likelihood, so where it starts
//! matters. Two seeding schemes are here; a model built by hand with
//! [`Gmm::new`] is the third way to start.
//!
//! * [`random_points`]: the seed notebook's scheme. `K` distinct data points
//!   chosen uniformly at random as means, the covariance of the whole data
//!   set for every component, uniform weights.
//! * [`kmeans_plus_plus`]: k-means++ seeding (Arthur & Vassilvitskii,
//!   2007) for the means, which spreads them out; weights and covariances
//!   from the points nearest each mean.
//!
//! The kind of the model is the caller's: annotate the result,
//! `let start: Gmm<f32, 2, 3, Diag> = init::random_points(&data, &mut rng)?;`,
//! and each kind keeps what it can represent of the covariance estimates
//! (the diagonal, its mean, or for tied covariance the count-weighted
//! average). Covariances are regularised by the default rule of
//! [`FitOptions::reg_covar`](crate::FitOptions::reg_covar), so data on a
//! line, a plane or a single repeated point still give a valid start.
//! Nothing is allocated; the RNG is used as documented in
//! [`sample`](crate::sample).

use nalgebra::{SMatrix, SVector};
use rand_core::Rng;

use crate::covariance::CovarianceKind;
use crate::data::{self, checked, AsPoint};
use crate::error::Error;
use crate::linalg;
use crate::mixture::Gmm;
use crate::real::Real;
use crate::sample::uniform_index;

/// The sample mean and covariance of `data`, by two passes (mean first,
/// then centred products, which is accurate in `f32`). The covariance is
/// normalised by `N − 1` (the unbiased estimate, numpy's `np.cov`). The
/// mean is summed as `Σ xᵢ/N`, which cannot overflow.
///
/// # Errors
///
/// [`Error::TooFewPoints`] for fewer than 2 points;
/// [`Error::NonFiniteData`] naming the first non-finite point;
/// [`Error::DataOverflow`] if the covariance overflows `T` (the sum of
/// the products of deviations may overflow where the covariance does not:
/// each deviation is then scaled by `1/(N − 1)` before it is multiplied
/// by the other, so a single squared deviation may overflow while the
/// covariance, which spreads it over `N − 1`, is finite).
pub fn data_covariance<T: Real, const D: usize, P: AsPoint<T, D>>(
    data: &[P],
) -> Result<(SVector<T, D>, SMatrix<T, D, D>), Error> {
    if data.len() < 2 {
        return Err(Error::TooFewPoints {
            points: data.len(),
            needed: 2,
        });
    }
    for (index, x) in data.iter().enumerate() {
        checked(x, index)?;
    }
    let (mean, scatter, n) = centred_scatter(data, T::one());
    let mut cov = scatter / (T::from_count(n) - T::one());
    if !cov.iter().all(|&v| v.is_finite()) {
        // The scatter overflowed where the covariance need not (very many
        // points far apart): every product divided by `N − 1` before it is
        // added (a cold path, so that every other input keeps its bits);
        // still infinite where the covariance itself overflows.
        cov = centred_scatter(data, T::one() / (T::from_count(n) - T::one())).1;
    }
    if cov.iter().all(|&v| v.is_finite()) {
        Ok((mean, cov))
    } else {
        Err(Error::DataOverflow)
    }
}

/// Mean and symmetric scatter matrix `Σ (x − x̄)(x − x̄)ᵀ` of `data`, each
/// product times `share` before it is added (`share = 1` changes no bit),
/// and the number of points. Out of line: [`data_covariance`] calls it
/// again where the plain sum overflows.
#[inline(never)]
fn centred_scatter<T: Real, const D: usize, P: AsPoint<T, D>>(
    data: &[P],
    share: T,
) -> (SVector<T, D>, SMatrix<T, D, D>, usize) {
    let n = data.len();
    let inv = T::one() / T::from_count(n.max(1));
    let mut mean = SVector::<T, D>::zeros();
    for x in data {
        mean += x.to_vector() * inv;
    }
    let mut scatter = SMatrix::<T, D, D>::zeros();
    for x in data {
        linalg::add_outer_lower(&mut scatter, &(x.to_vector() - mean), share);
    }
    linalg::mirror_lower(&mut scatter);
    (mean, scatter, n)
}

/// What every start takes from the whole data set, at least `k` points
/// (and 2): the absolute regularisation, the default relative
/// [`FitOptions::reg_covar`](crate::FitOptions::reg_covar) times the data's
/// scale (its mean per-coordinate variance `tr(Σ)·(N − 1)/(N·D)`, through
/// the same rule as [`SufficientStats::scale`](crate::SufficientStats::scale)),
/// and the data covariance `Σ` ([`data_covariance`]).
///
/// # Errors
///
/// [`Error::TooFewPoints`], then those of [`data_covariance`], and
/// [`Error::DataOverflow`] if the scale overflows.
fn whole_data<T: Real, const D: usize, P: AsPoint<T, D>>(
    data: &[P],
    k: usize,
) -> Result<(T, SMatrix<T, D, D>), Error> {
    let needed = k.max(2);
    if data.len() < needed {
        return Err(Error::TooFewPoints {
            points: data.len(),
            needed,
        });
    }
    let (mean, cov) = data_covariance(data)?;
    let n = T::from_count(data.len());
    let variance = linalg::mean_diagonal(&cov, (n - T::one()) / n);
    let largest = mean.iter().fold(T::zero(), |l, v| Real::max(l, v.abs()));
    let scale = data::scale_from(variance, largest)?;
    Ok((linalg::absolute_reg(T::DEFAULT_REG_COVAR, scale), cov))
}

/// The seed notebook's initialisation: `K` random data points as the means,
/// the data covariance ([`data_covariance`]) as every covariance (as the
/// kind represents it), and weights `1/K`.
///
/// * The points are `K` distinct indices drawn uniformly without
///   replacement (Floyd's algorithm, then shuffled), `2K − 1` RNG draws of
///   one `u32` each (for fewer than 2³² points). If two of them hold the
///   same coordinates (repeated data), the later one is replaced by the
///   next point, cyclically from a random index (one more draw), whose
///   coordinates differ from all chosen so far; only data with fewer than
///   `K` distinct points give repeated means.
/// * The covariance is regularised by the default rule of
///   [`FitOptions::reg_covar`](crate::FitOptions::reg_covar): `10⁻¹²` of
///   the data's scale, raised to `T`'s resolution and beyond (at most
///   10³ times) only if the covariance does not factorise. Otherwise it is
///   the seed's covariance to 12 digits.
///
/// Time `O(N·D²)`.
///
/// # Errors
///
/// * [`Error::TooFewPoints`] if there are fewer than `max(K, 2)` points;
/// * [`Error::NonFiniteData`] naming the first non-finite point;
/// * [`Error::DataOverflow`] if the data's spread overflows `T`.
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
/// use gaussmix::{init, Gmm, Spherical};
///
/// let data = [[0.0f32, 1.0], [1.0, 0.0], [5.0, 5.0], [6.0, 5.5]];
/// let start: Gmm<f32, 2, 2> = init::random_points(&data, &mut Lcg(1))?;
/// assert_eq!(start.weights()[0], 0.5);
/// let round: Gmm<f32, 2, 2, Spherical> = init::random_points(&data, &mut Lcg(1))?;
/// assert_eq!(round.means(), start.means());
/// # Ok::<(), gaussmix::Error>(())
/// ```
pub fn random_points<T, const D: usize, const K: usize, C, P, R>(
    data: &[P],
    rng: &mut R,
) -> Result<Gmm<T, D, K, C>, Error>
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
    R: Rng + ?Sized,
{
    let (reg, cov) = whole_data(data, K)?;
    let covariance = C::from_estimates(&[cov; K], &[T::one(); K], reg)?;
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
    let w = T::one() / T::from_count(K);
    Gmm::from_parts([w; K], means, covariance)
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
///   data covariance of [`random_points`] when it has at most `D` points,
///   kept as the kind represents it and regularised as there.
///
/// Uses `K` uniform variates. Without memory for the distances, each of the
/// `K − 1` rounds recomputes every point's distance to the means chosen so
/// far: time `O(N·K²·D)` for the seeding, then `O(N·K·D + N·D²)` for the
/// assignment. [`kmeans_plus_plus_with_buffer`] keeps the distances in a
/// caller's buffer and seeds in `O(N·K·D)`, with the same result.
///
/// # Errors
///
/// As for [`random_points`].
pub fn kmeans_plus_plus<T, const D: usize, const K: usize, C, P, R>(
    data: &[P],
    rng: &mut R,
) -> Result<Gmm<T, D, K, C>, Error>
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
    R: Rng + ?Sized,
{
    kmeans_pp(data, None, rng)
}

/// [`kmeans_plus_plus`] in `O(N·K·D + N·D²)` time: `distances` (one slot
/// per point, contents ignored and overwritten) holds each point's squared
/// distance to the nearest mean chosen so far, so each round costs one pass
/// of `O(N·D)`. Draws the same RNG variates and returns the same model.
///
/// # Errors
///
/// As for [`random_points`], plus [`Error::LengthMismatch`] if
/// `distances.len() != data.len()`.
pub fn kmeans_plus_plus_with_buffer<T, const D: usize, const K: usize, C, P, R>(
    data: &[P],
    distances: &mut [T],
    rng: &mut R,
) -> Result<Gmm<T, D, K, C>, Error>
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
    R: Rng + ?Sized,
{
    if distances.len() != data.len() {
        return Err(Error::LengthMismatch {
            expected: data.len(),
            found: distances.len(),
        });
    }
    kmeans_pp(data, Some(distances), rng)
}

fn kmeans_pp<T, const D: usize, const K: usize, C, P, R>(
    data: &[P],
    mut cache: Option<&mut [T]>,
    rng: &mut R,
) -> Result<Gmm<T, D, K, C>, Error>
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
    R: Rng + ?Sized,
{
    let (reg, data_cov) = whole_data(data, K)?;

    let mut means = [SVector::<T, D>::zeros(); K];
    means[0] = pick(data, uniform_index(rng, data.len()));
    for c in 1..K {
        let chosen = &means[..c];
        // The squared distance of point i to its nearest chosen mean: from
        // the cache, updated with the newest mean, or recomputed.
        let mut total = T::zero();
        if let Some(cache) = cache.as_deref_mut() {
            let newest = &means[c - 1];
            for (slot, x) in cache.iter_mut().zip(data) {
                let d2 = (x.to_vector() - newest).norm_squared();
                *slot = if c == 1 { d2 } else { Real::min(*slot, d2) };
                total += *slot;
            }
        } else {
            for x in data {
                total += nearest(chosen, &x.to_vector()).1;
            }
        }
        let distance = |i: usize, x: &P| match cache.as_deref() {
            Some(cache) => cache.get(i).copied().unwrap_or(T::zero()),
            None => nearest(chosen, &x.to_vector()).1,
        };
        let next = if total > T::zero() && total.is_finite() {
            // The first point at which the running sum exceeds u·total.
            let target = T::uniform(rng) * total;
            let mut running = T::zero();
            let mut index = data.len() - 1;
            for (i, x) in data.iter().enumerate() {
                let d2 = distance(i, x);
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

    // Assignment: counts and means of the nearest points, then scatters.
    let mut counts = [0usize; K];
    let mut sums = [SVector::<T, D>::zeros(); K];
    for x in data {
        let x = x.to_vector();
        // `.min(K - 1)` is a no-op (the index is < K) that spares a
        // bounds check the optimiser keeps (at "s", and at 3 on M0/M3).
        let k = nearest(&means, &x).0.min(K - 1);
        counts[k] += 1;
        sums[k] += x;
    }
    let centres: [SVector<T, D>; K] =
        core::array::from_fn(|k| sums[k] / T::from_count(counts[k].max(1)));
    let mut scatters = [SMatrix::<T, D, D>::zeros(); K];
    for x in data {
        let x = x.to_vector();
        // `.min(K - 1)` is a no-op (the index is < K) that spares a
        // bounds check the optimiser keeps (at "s", and at 3 on M0/M3).
        let k = nearest(&means, &x).0.min(K - 1);
        linalg::add_outer_lower(&mut scatters[k], &(x - centres[k]), T::one());
    }
    let mut estimates = [data_cov; K];
    for (k, e) in estimates.iter_mut().enumerate() {
        if counts[k] > D {
            let mut s = scatters[k] / (T::from_count(counts[k]) - T::one());
            linalg::mirror_lower(&mut s);
            // Singular (the points span fewer than D dimensions) or not
            // finite: the data covariance instead.
            if linalg::cholesky_lower(&s).is_some() {
                *e = s;
            }
        }
    }
    let covariance = C::from_estimates(&estimates, &counts.map(T::from_count), reg)?;
    let denominator = T::from_count(data.len() + K);
    let weights = counts.map(|n| T::from_count(n + 1) / denominator);
    Gmm::from_parts(weights, means, covariance)
}

fn pick<T: Real, const D: usize, P: AsPoint<T, D>>(data: &[P], i: usize) -> SVector<T, D> {
    data.get(i).map_or_else(SVector::zeros, AsPoint::to_vector)
}

/// Index of the nearest of `means` to `x` (lowest on a tie) and the squared
/// Euclidean distance to it.
/// The distance may be `+∞` (coordinates near `√MAX` apart), exactly as
/// the buffered seeding stores it.
fn nearest<T: Real, const D: usize>(means: &[SVector<T, D>], x: &SVector<T, D>) -> (usize, T) {
    let mut best = (0, T::zero());
    for (k, m) in means.iter().enumerate() {
        let d2 = (x - m).norm_squared();
        if k == 0 || d2 < best.1 {
            best = (k, d2);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::covariance::Full;
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
        // The mean per-coordinate variance (population).
        let scale = cov.trace() * (DATA.len() - 1) as f64 / DATA.len() as f64 / 2.0;
        let cov = cov + SMatrix::<f64, 2, 2>::identity() * (1e-12 * scale);
        for seed in 0..200 {
            let m = random_points::<f64, 2, 3, Full, _, _>(&DATA, &mut SplitMix(seed)).unwrap();
            let means = m.means();
            for (k, mu) in means.iter().enumerate() {
                assert!(DATA.iter().any(|p| SVector::from(*p) == *mu));
                assert!(
                    means[..k].iter().all(|other| other != mu),
                    "seed {seed}: repeated index"
                );
                assert_eq!(*m.components()[k].covariance(), cov);
            }
            assert_eq!(m.weights(), SVector::from([1.0 / 3.0; 3]));
        }
        // Every K-subset is reachable: over many seeds all 7 points are used
        // as a first mean.
        let mut used = [false; 7];
        for seed in 0..500 {
            let m = random_points::<f64, 2, 3, Full, _, _>(&DATA, &mut SplitMix(seed)).unwrap();
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
            random_points::<f64, 2, 3, Full, _, _>(&DATA[..2], &mut SplitMix(1)),
            Err(Error::TooFewPoints {
                points: 2,
                needed: 3
            })
        );
        let mut bad = DATA;
        bad[3][1] = f64::NAN;
        assert_eq!(
            random_points::<f64, 2, 3, Full, _, _>(&bad, &mut SplitMix(1)),
            Err(Error::NonFiniteData { index: 3 })
        );
    }

    #[test]
    fn degenerate_data_still_give_a_valid_start() {
        // On a line, and all identical: the data covariance is singular,
        // the regularised one is not.
        let line = [[0.0, 0.0], [1.0, 2.0], [2.0, 4.0], [3.0, 6.0]];
        let m = random_points::<f64, 2, 2, Full, _, _>(&line, &mut SplitMix(1)).unwrap();
        assert!(m.components().iter().all(|c| c.cholesky()[(1, 1)] > 0.0));
        let same = [[2.0f32, -1.0]; 5];
        let m = random_points::<f32, 2, 2, Full, _, _>(&same, &mut SplitMix(1)).unwrap();
        assert_eq!(m.covariances()[0], SMatrix::<f32, 2, 2>::identity() * 4e-12);
        assert!(kmeans_plus_plus::<f32, 2, 2, Full, _, _>(&same, &mut SplitMix(1)).is_ok());
    }

    #[test]
    fn repeated_points_do_not_give_repeated_means() {
        // Seven copies of one point and two others: K = 3 means must be the
        // three distinct values whatever indices are drawn.
        let mut data = [[1.0, 1.0]; 9];
        data[3] = [0.0, 5.0];
        data[7] = [4.0, 0.0];
        for seed in 0..100 {
            let m = random_points::<f64, 2, 3, Full, _, _>(&data, &mut SplitMix(seed)).unwrap();
            let means = m.means();
            assert!(means[0] != means[1] && means[1] != means[2] && means[0] != means[2]);
        }
        // Fewer distinct points than components: repeated means, still valid.
        let two = [[1.0, 1.0], [1.0, 1.0], [2.0, 2.0], [1.0, 1.0]];
        assert!(random_points::<f64, 2, 3, Full, _, _>(&two, &mut SplitMix(4)).is_ok());
    }

    #[test]
    fn kmeans_plus_plus_spreads_the_means() {
        // Two far-apart groups: k-means++ must put one mean in each, for
        // almost every seed (the second draw lands in the far group with
        // probability > 0.99).
        let mut split = 0;
        for seed in 0..100 {
            let m = kmeans_plus_plus::<f64, 2, 2, Full, _, _>(&DATA, &mut SplitMix(seed)).unwrap();
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

    #[test]
    fn buffered_kmeans_plus_plus_agrees_when_distances_overflow() {
        // Found by fuzzing: the squared distance of these f32 points
        // overflows; both seedings must see +inf alike.
        let data = [[159.984_38f32, 1.844_674_3e19], [1.844_674_3e19, 0.001]];
        for seed in 0..20 {
            let plain: Gmm<f32, 2, 2, crate::covariance::Tied> =
                kmeans_plus_plus(&data, &mut SplitMix(seed)).unwrap();
            let mut buffer = [0.0f32; 2];
            let buffered: Gmm<f32, 2, 2, crate::covariance::Tied> =
                kmeans_plus_plus_with_buffer(&data, &mut buffer, &mut SplitMix(seed)).unwrap();
            assert_eq!(plain, buffered, "seed {seed}");
        }
    }
}
