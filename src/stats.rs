//! Sufficient statistics of one EM pass, and the M-step that reads them.

use nalgebra::{SMatrix, SVector};

use crate::gaussian::Gaussian;
use crate::math::{self, Real};
use crate::mixture::Gmm;
use crate::point::{self, AsPoint};
use crate::Error;

/// What one E pass over some data leaves behind: everything the M-step
/// needs, in `O(K·D²)` memory whatever the number of points.
///
/// For each component `k`, with `cₖ` the component's mean in the model the
/// statistics are accumulated against (the *shift*) and `rᵢₖ` the
/// responsibilities:
///
/// ```text
/// Nₖ  = Σᵢ rᵢₖ                         soft count
/// S1ₖ = Σᵢ rᵢₖ (xᵢ − cₖ)               shifted first moment
/// S2ₖ = Σᵢ rᵢₖ (xᵢ − cₖ)(xᵢ − cₖ)ᵀ     shifted second moment
/// ```
///
/// plus the number of points and their total log-likelihood under that
/// model. Shifting by the current mean keeps the one-pass covariance
/// `S2ₖ/Nₖ − δδᵀ` (with `δ = S1ₖ/Nₖ`) accurate: near convergence `δ` is
/// tiny, so nothing large cancels. Far from convergence, when a mean moves
/// by several standard deviations in one step, the subtraction would cancel
/// most digits (in `f32`, all of them); [`needs_recentring`](Self::needs_recentring)
/// detects that, and a second pass [`recentred`](Self::recentred) on the
/// new means restores full accuracy. [`fit`](crate::fit) does this itself.
///
/// Statistics accumulated against the same model over disjoint shards of
/// the data (other cores, DMA buffers, machines) [`merge`](Self::merge) by
/// summation into exactly the statistics of one pass over all of them, up to
/// floating-point reordering.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SufficientStats<T: Real, const D: usize, const K: usize> {
    // The means of the model accumulated against, to check the model passed
    // to `accumulate` and `m_step` is that one.
    means: [SVector<T, D>; K],
    shift: [SVector<T, D>; K],
    shift_is_mean: bool,
    sums: Moments<T, D, K>,
}

/// The sums themselves, apart from what they are relative to.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Moments<T: Real, const D: usize, const K: usize> {
    counts: SVector<T, K>,
    first: [SVector<T, D>; K],
    // Only the lower triangle is accumulated; the M-step mirrors it.
    second: [SMatrix<T, D, D>; K],
    points: usize,
    log_likelihood: T,
}

/// `N(mean, cov + λI)` with `λ ≥ reg > 0`. A requested regularisation is
/// never allowed to be a no-op below `T`'s resolution: `λ` is at least
/// `4(D+1)ε` times the largest variance (what the Cholesky test needs, see
/// `gaussian::cholesky_lower`), and if the factorisation still fails (the
/// rounding of a late pivot grows with small earlier ones, in `f32`), it is
/// raised tenfold, at most 12 times, before `NotPositiveDefinite`.
fn factor_lifted<T: Real, const D: usize>(
    mean: SVector<T, D>,
    cov: SMatrix<T, D, D>,
    reg: T,
    largest: T,
    component: usize,
) -> Result<Gaussian<T, D>, Error> {
    let floor = math::lit::<T>(4.0) * math::count::<T>(D + 1) * math::eps::<T>() * largest;
    let mut lift = if reg > floor { reg } else { floor };
    let mut result = Err(Error::NotPositiveDefinite { component });
    for _ in 0..12 {
        let lifted = cov + SMatrix::<T, D, D>::identity() * lift.min(math::max_finite());
        result = Gaussian::from_symmetric(mean, lifted, component);
        match result {
            Err(Error::NotPositiveDefinite { .. }) => lift *= math::lit::<T>(10.0),
            _ => break,
        }
    }
    result
}

impl<T: Real, const D: usize, const K: usize> Moments<T, D, K> {
    fn zero() -> Self {
        Self {
            counts: SVector::zeros(),
            first: [SVector::zeros(); K],
            second: [SMatrix::zeros(); K],
            points: 0,
            log_likelihood: T::zero(),
        }
    }

    fn add(&mut self, other: &Self) {
        self.counts += other.counts;
        for k in 0..K {
            self.first[k] += other.first[k];
            self.second[k] += other.second[k];
        }
        self.points += other.points;
        self.log_likelihood += other.log_likelihood;
    }
}

/// Points summed into a block of their own before the block is added to the
/// running totals. Summing `N` terms one by one lets rounding error grow
/// like `N ε`; in blocks of `B` it grows like `(B + N/B) ε`: for
/// `N = 100 000` in `f32`, about 6e-3 relative at worst falls to 4e-5.
/// The cost is one addition of the statistics per block. Measured on the
/// seed's 3-cluster data at that size, the `f32` fit's largest relative
/// difference from the `f64` fit falls from 2.3e-5 to 6.2e-7
/// (`tests/f32_accuracy.rs`).
pub(crate) const BLOCK: usize = 128;

impl<T: Real, const D: usize, const K: usize> SufficientStats<T, D, K> {
    /// Empty statistics to be accumulated against `model`.
    pub fn new(model: &Gmm<T, D, K>) -> Self {
        let means = model.means();
        Self {
            means,
            shift: means,
            shift_is_mean: true,
            sums: Moments::zero(),
        }
    }

    /// Empty statistics for another pass under the same model as `self`,
    /// shifted by the means the M-step would produce from `self`: their
    /// M-step gives the same means, and covariances without the
    /// cancellation [`needs_recentring`](Self::needs_recentring) warns of.
    #[must_use]
    pub fn recentred(&self) -> Self {
        let mut shift = self.shift;
        let floor = math::eps::<T>() * self.sums.counts.sum();
        for (k, c) in shift.iter_mut().enumerate() {
            let n = self.sums.counts[k];
            if n > floor {
                *c += self.sums.first[k] / n;
            }
        }
        Self {
            means: self.means,
            shift,
            shift_is_mean: shift == self.means,
            sums: Moments::zero(),
        }
    }

    /// `true` if the one-pass covariance of some component would lose more
    /// than 4 bits to cancellation: some diagonal entry of `S2ₖ/Nₖ` exceeds
    /// 16 times its difference with `δᵢ²`, i.e. the mean moved by more than
    /// about four new standard deviations. The rounding error of that
    /// covariance entry is then more than about `32 ε` relative;
    /// [`recentred`](Self::recentred) statistics fix it.
    pub fn needs_recentring(&self) -> bool {
        let s = &self.sums;
        let floor = math::eps::<T>() * s.counts.sum();
        let sixteen = math::lit::<T>(16.0);
        (0..K).any(|k| {
            let n = s.counts[k];
            n > floor
                && (0..D).any(|i| {
                    let raw = s.second[k][(i, i)] / n;
                    let delta = s.first[k][i] / n;
                    !(sixteen * (raw - delta * delta) >= raw)
                })
        })
    }

    /// Runs the E-step for one point under `model` and adds its
    /// contribution; returns the point's log-likelihood `ln p(x)`.
    ///
    /// Cost: `K` log-densities (`O(D²)` each), at most `K − 1` `exp` and one
    /// `ln`, then `O(D²)` per component with a non-zero responsibility.
    ///
    /// # Errors
    ///
    /// * [`Error::MismatchedStatistics`] if `model` is not the model these
    ///   statistics were started with (its means differ);
    /// * [`Error::NonFiniteData`] / [`Error::ZeroDensity`] as for
    ///   [`Gmm::log_prob`]; the statistics are then left unchanged.
    pub fn accumulate<P: AsPoint<T, D>>(
        &mut self,
        model: &Gmm<T, D, K>,
        x: &P,
    ) -> Result<T, Error> {
        if !self.matches(model) {
            return Err(Error::MismatchedStatistics);
        }
        let x = point::checked(x, 0)?;
        self.accumulate_finite(model, &x)
            .map(|(lp, _)| lp)
            .ok_or(Error::ZeroDensity { index: 0 })
    }

    /// The E-step and accumulation for a finite point under `model` (the
    /// caller guarantees it is the one these statistics belong to). Returns
    /// the point's log-likelihood and responsibilities; `None` leaves `self`
    /// unchanged.
    #[inline]
    pub(crate) fn accumulate_finite(
        &mut self,
        model: &Gmm<T, D, K>,
        x: &SVector<T, D>,
    ) -> Option<(T, SVector<T, K>)> {
        // `push` changes nothing when it returns `None`.
        let (max, sum, r) = Self::push(&self.shift, self.shift_is_mean, &mut self.sums, model, x)?;
        let ln_sum = math::ln(sum);
        self.sums.log_likelihood += ln_sum;
        Some((max + ln_sum, r))
    }

    /// The E pass over a block of finite points (at most [`BLOCK`] for the
    /// documented accuracy), summed apart and then added to `self`, writing
    /// each point's responsibilities to `out` when given. On a point whose
    /// density underflows everywhere, returns its index in `block` and
    /// leaves `self` unchanged.
    ///
    /// A point's log-likelihood is `mᵢ + ln sᵢ` with `sᵢ ∈ [1, K]` (see
    /// [`Gmm::e_step_point`]); the block adds up the `mᵢ` and multiplies the
    /// `sᵢ`, taking one `ln` of the product when it passes 2⁶⁴ and at the
    /// block's end, instead of one `ln` per point. The product's rounding
    /// (`ε` per factor) matches what summing the logarithms would cost.
    pub(crate) fn accumulate_block<P: AsPoint<T, D>>(
        &mut self,
        model: &Gmm<T, D, K>,
        block: &[P],
        mut out: Option<&mut [SVector<T, K>]>,
    ) -> Result<(), usize> {
        // 2⁶⁴: far from overflow in f32 even after one more factor ≤ K.
        let flush = math::lit::<T>(18_446_744_073_709_551_616.0);
        let mut sums = Moments::zero();
        let mut product = T::one();
        for (i, x) in block.iter().enumerate() {
            let (_, sum, r) = Self::push(
                &self.shift,
                self.shift_is_mean,
                &mut sums,
                model,
                &x.to_vector(),
            )
            .ok_or(i)?;
            product *= sum;
            if product > flush {
                sums.log_likelihood += math::ln(product);
                product = T::one();
            }
            if let Some(slot) = out.as_deref_mut().and_then(|o| o.get_mut(i)) {
                *slot = r;
            }
        }
        sums.log_likelihood += math::ln(product);
        self.sums.add(&sums);
        Ok(())
    }

    /// One point's E-step under `model`, added to `sums` with `shift`;
    /// of its log-likelihood `m + ln s` only `m` is added. Returns
    /// `(m, s, r)`.
    #[inline]
    fn push(
        shift: &[SVector<T, D>; K],
        shift_is_mean: bool,
        sums: &mut Moments<T, D, K>,
        model: &Gmm<T, D, K>,
        x: &SVector<T, D>,
    ) -> Option<(T, T, SVector<T, K>)> {
        let mut offsets = [SVector::<T, D>::zeros(); K];
        let (max, sum, r) = model.e_step_point(x, &mut offsets)?;
        for k in 0..K {
            let rk = r[k];
            if rk == T::zero() {
                continue;
            }
            // Usually cₖ = μₖ and the density's offset x − μₖ is reused.
            let d = if shift_is_mean {
                offsets[k]
            } else {
                x - shift[k]
            };
            let rd = d * rk;
            sums.counts[k] += rk;
            sums.first[k] += rd;
            let s = &mut sums.second[k];
            for j in 0..D {
                for i in j..D {
                    s[(i, j)] += rd[i] * d[j];
                }
            }
        }
        sums.points += 1;
        sums.log_likelihood += max;
        Some((max, sum, r))
    }

    fn matches(&self, model: &Gmm<T, D, K>) -> bool {
        self.means
            .iter()
            .zip(model.components().iter())
            .all(|(s, c)| s == c.mean())
    }

    /// Adds statistics accumulated against the same model over other data.
    ///
    /// # Errors
    ///
    /// [`Error::MismatchedStatistics`] if `other` was accumulated against a
    /// model with other means, or with another shift; `self` is then
    /// unchanged.
    pub fn merge(&mut self, other: &Self) -> Result<(), Error> {
        if self.shift != other.shift || self.means != other.means {
            return Err(Error::MismatchedStatistics);
        }
        self.sums.add(&other.sums);
        Ok(())
    }

    /// Number of points accumulated.
    pub fn points(&self) -> usize {
        self.sums.points
    }

    /// Total log-likelihood of the accumulated points under the model.
    /// Each point's term is finite, but their sum can overflow to `−∞` for
    /// points astronomically unlikely under the model; [`fit`](crate::fit)
    /// and [`em_step`](crate::em_step) report that as
    /// [`Error::LikelihoodOverflow`].
    pub fn log_likelihood(&self) -> T {
        self.sums.log_likelihood
    }

    /// Soft counts `Nₖ = Σᵢ rᵢₖ`.
    pub fn counts(&self) -> &SVector<T, K> {
        &self.sums.counts
    }

    /// The M-step: the parameters that maximise the expected complete-data
    /// log-likelihood given these statistics.
    ///
    /// ```text
    /// wₖ = Nₖ / Σⱼ Nⱼ
    /// μₖ = cₖ + δₖ,                 δₖ = S1ₖ / Nₖ
    /// Σₖ = S2ₖ / Nₖ − δₖ δₖᵀ + reg · I
    /// ```
    ///
    /// `reg` is absolute here; [`fit`](crate::fit) passes
    /// [`FitOptions::reg_covar`](crate::FitOptions::reg_covar) times the
    /// data's scale.
    ///
    /// A component whose soft count is at most `ε · Σⱼ Nⱼ` (it explains less
    /// than rounding error of the data) cannot be estimated: it keeps its
    /// mean and covariance from `model` and gets weight `Nₖ / Σⱼ Nⱼ`, usually
    /// 0. This is still a valid (generalised) EM step, so the
    /// log-likelihood does not decrease, and it never produces NaN.
    ///
    /// # Errors
    ///
    /// * [`Error::MismatchedStatistics`] if `model` is not the model these
    ///   statistics were accumulated against;
    /// * [`Error::TooFewPoints`] if nothing was accumulated;
    /// * [`Error::NotPositiveDefinite`] naming a component whose new
    ///   covariance is singular (its points span fewer than `D` dimensions)
    ///   and `reg` is too small to fix it;
    /// * [`Error::InvalidOption`] naming `reg_covar` if `reg` is negative or
    ///   not finite;
    /// * [`Error::NonFiniteParameter`] naming a component whose new mean
    ///   overflows `T`.
    pub fn m_step(&self, model: &Gmm<T, D, K>, reg: T) -> Result<Gmm<T, D, K>, Error> {
        let mut next = *model;
        self.m_step_in_place(&mut next, reg)?;
        Ok(next)
    }

    /// [`Self::m_step`] overwriting `model` (one model less on the stack,
    /// which is what a fit on a microcontroller wants). On an error `model`
    /// may be partly updated.
    pub(crate) fn m_step_in_place(&self, model: &mut Gmm<T, D, K>, reg: T) -> Result<(), Error> {
        if !(reg >= T::zero()) || !math::is_finite(reg) {
            return Err(Error::InvalidOption {
                option: "reg_covar",
            });
        }
        if !self.matches(model) {
            return Err(Error::MismatchedStatistics);
        }
        let s = &self.sums;
        let total: T = s.counts.sum();
        if s.points == 0 || !(total > T::zero()) {
            return Err(Error::TooFewPoints {
                points: 0,
                needed: 1,
            });
        }
        let floor = math::eps::<T>() * total;
        for (k, slot) in model.components_mut().iter_mut().enumerate() {
            let n = s.counts[k];
            if n <= floor {
                continue;
            }
            let inv = T::one() / n;
            let delta = s.first[k] * inv;
            let mut cov = SMatrix::<T, D, D>::zeros();
            let mut largest = T::zero();
            for j in 0..D {
                for i in j..D {
                    let v = s.second[k][(i, j)] * inv - delta[i] * delta[j];
                    cov[(i, j)] = v;
                    cov[(j, i)] = v;
                }
                if cov[(j, j)] > largest {
                    largest = cov[(j, j)];
                }
            }
            let mean = self.shift[k] + delta;
            *slot = if reg > T::zero() {
                factor_lifted(mean, cov, reg, largest, k)?
            } else {
                Gaussian::from_symmetric(mean, cov, k)?
            };
        }
        model.set_weights(s.counts / total);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{matrix, vector};

    const DATA: [[f64; 2]; 6] = [
        [0.0, 1.0],
        [1.0, 0.5],
        [2.0, 2.5],
        [0.5, -1.0],
        [1.5, 1.0],
        [3.0, 0.0],
    ];

    fn one_component() -> Gmm<f64, 2, 1> {
        Gmm::new([1.0], [vector![10.0, -5.0]], [matrix![4.0, 0.0; 0.0, 4.0]]).unwrap()
    }

    #[test]
    fn one_component_m_step_is_sample_mean_and_covariance() {
        // With K = 1 every responsibility is 1: the M-step must give the
        // sample mean and the (1/N) sample covariance, from a shift far
        // from the data (10, −5), which exercises the recentring logic.
        let model = one_component();
        let mut stats = SufficientStats::new(&model);
        for x in &DATA {
            stats.accumulate(&model, x).unwrap();
        }
        assert!(stats.needs_recentring());
        let mut again = stats.recentred();
        for x in &DATA {
            again.accumulate(&model, x).unwrap();
        }
        assert!(!again.needs_recentring());
        let n = DATA.len() as f64;
        let mean = DATA
            .iter()
            .map(|&p| SVector::from(p))
            .sum::<SVector<f64, 2>>()
            / n;
        let cov = DATA
            .iter()
            .map(|&p| (SVector::from(p) - mean) * (SVector::from(p) - mean).transpose())
            .sum::<SMatrix<f64, 2, 2>>()
            / n;
        for s in [stats, again] {
            let next = s.m_step(&model, 0.0).unwrap();
            assert!((next.means()[0] - mean).amax() < 1e-13);
            assert!((next.covariances()[0] - cov).amax() < 1e-12);
            assert_eq!(next.weights()[0], 1.0);
        }
        let reg = stats.m_step(&model, 0.5).unwrap();
        assert!((reg.covariances()[0] - cov - SMatrix::identity() * 0.5).amax() < 1e-12);
    }

    #[test]
    fn merged_shards_equal_one_pass() {
        let model = Gmm::<f64, 2, 2>::new(
            [0.5, 0.5],
            [vector![0.0, 0.0], vector![2.0, 1.0]],
            [matrix![1.0, 0.0; 0.0, 1.0]; 2],
        )
        .unwrap();
        let mut whole = SufficientStats::new(&model);
        let (mut a, mut b) = (SufficientStats::new(&model), SufficientStats::new(&model));
        for (i, x) in DATA.iter().enumerate() {
            whole.accumulate(&model, x).unwrap();
            if i < 2 {
                a.accumulate(&model, x)
            } else {
                b.accumulate(&model, x)
            }
            .unwrap();
        }
        a.merge(&b).unwrap();
        assert_eq!(a.points(), 6);
        assert!((a.log_likelihood() - whole.log_likelihood()).abs() < 1e-12);
        assert!((a.counts() - whole.counts()).amax() < 1e-14);
        let (ma, mw) = (
            a.m_step(&model, 0.0).unwrap(),
            whole.m_step(&model, 0.0).unwrap(),
        );
        for k in 0..2 {
            assert!((ma.means()[k] - mw.means()[k]).amax() < 1e-13);
            assert!((ma.covariances()[k] - mw.covariances()[k]).amax() < 1e-13);
        }
    }

    #[test]
    fn statistics_refuse_another_model() {
        let model = one_component();
        let other = Gmm::new([1.0], [vector![0.0, 0.0]], [matrix![1.0, 0.0; 0.0, 1.0]]).unwrap();
        let mut s = SufficientStats::new(&model);
        assert_eq!(
            s.accumulate(&other, &DATA[0]),
            Err(Error::MismatchedStatistics)
        );
        s.accumulate(&model, &DATA[0]).unwrap();
        assert_eq!(s.m_step(&other, 0.0), Err(Error::MismatchedStatistics));
        assert_eq!(
            s.merge(&SufficientStats::new(&other)),
            Err(Error::MismatchedStatistics)
        );
        assert_eq!(
            SufficientStats::new(&model).m_step(&model, 0.0),
            Err(Error::TooFewPoints {
                points: 0,
                needed: 1
            })
        );
        assert_eq!(
            s.m_step(&model, -1.0),
            Err(Error::InvalidOption {
                option: "reg_covar"
            })
        );
    }

    #[test]
    fn starved_component_keeps_its_parameters_with_zero_weight() {
        // Component 1 sits 1000 standard deviations from every point: its
        // responsibilities are exactly 0, so it cannot be re-estimated.
        let model = Gmm::<f64, 2, 2>::new(
            [0.5, 0.5],
            [vector![1.0, 1.0], vector![1000.0, 1000.0]],
            [matrix![1.0, 0.0; 0.0, 1.0]; 2],
        )
        .unwrap();
        let mut s = SufficientStats::new(&model);
        for x in &DATA {
            s.accumulate(&model, x).unwrap();
        }
        let next = s.m_step(&model, 0.0).unwrap();
        assert_eq!(next.weights()[1], 0.0);
        assert_eq!(next.components()[1], model.components()[1]);
        assert_eq!(next.weights()[0], 1.0);
    }

    #[test]
    fn collapsed_component_is_reported() {
        // Points on a line: the ML covariance is singular.
        let line = [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]];
        let model = one_component();
        let mut s = SufficientStats::new(&model);
        for x in &line {
            s.accumulate(&model, x).unwrap();
        }
        let s = {
            let mut r = s.recentred();
            for x in &line {
                r.accumulate(&model, x).unwrap();
            }
            r
        };
        assert_eq!(
            s.m_step(&model, 0.0),
            Err(Error::NotPositiveDefinite { component: 0 })
        );
        assert!(s.m_step(&model, 1e-6).is_ok());
    }
}
