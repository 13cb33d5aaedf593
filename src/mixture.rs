//! The mixture model: validated parameters and allocation-free inference.

use nalgebra::{SMatrix, SVector};
use rand_core::Rng;

use crate::covariance::{CovarianceKind, Diag, Full, Gaussian, Spherical, Tied};
use crate::data::AsPoint;
use crate::error::Error;
use crate::estep::{self, Kernel};
use crate::real::Real;
use crate::sample::standard_normal_vector;

/// A mixture of `K` multivariate normals in `D` dimensions,
/// `p(x) = Σₖ wₖ N(x | μₖ, Σₖ)`, with scalar type `T` (`f32` or `f64`) and
/// covariance kind `C` ([`Full`] unless named: [`Diag`], [`Spherical`] or
/// [`Tied`], see [`covariance`](crate::covariance)).
///
/// A `Gmm` is built only by a validating constructor ([`Gmm::new`],
/// [`Gmm::from_components`]), by an initialiser in [`init`](crate::init) or
/// by a fit, and it has no method that changes it in place, so every value
/// holds finite parameters, weights that are non-negative and sum to 1,
/// positive-definite covariances, and the E-step's constants computed from
/// exactly those. It is `Copy` and lives entirely inline (no heap), so it
/// can sit in a `static` or on the stack. Its size for full covariance is
/// `size_of::<T>() · K · (3 + D + 3D²)` (weights and their logarithms; per
/// component the mean, the covariance, its Cholesky factor and that
/// factor's inverse, and the log-normaliser): 204 bytes for
/// `Gmm<f32, 2, 3>`.
///
/// `D = 0` or `K = 0` is rejected at compile time:
///
/// ```compile_fail,E0080
/// # use gaussmix::Gmm;
/// # use nalgebra::{SMatrix, SVector};
/// let m = Gmm::<f64, 2, 0>::new([], [], []); // error: K must be at least 1
/// ```
///
/// ```compile_fail,E0080
/// # use gaussmix::Gmm;
/// # use nalgebra::{SMatrix, SVector};
/// let m = Gmm::<f64, 0, 1>::new([1.0], [SVector::zeros()], [SMatrix::zeros()]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gmm<T: Real, const D: usize, const K: usize, C: CovarianceKind = Full> {
    weights: SVector<T, K>,
    // ln wₖ + ln-normaliser of component k: the constant part of each
    // E-step term (−∞ for a component of weight 0).
    log_coeffs: SVector<T, K>,
    means: [SVector<T, D>; K],
    covariance: C::Params<T, D, K>,
}

impl<T: Real, const D: usize, const K: usize, C: CovarianceKind> Gmm<T, D, K, C> {
    /// Number of free parameters as scikit-learn's
    /// `GaussianMixture._n_parameters` counts them, and [`Gmm::bic`] uses:
    /// `K − 1` weights, `K·D` mean coordinates and the covariances' (full:
    /// `K·D(D+1)/2`, diagonal: `K·D`, spherical: `K`, tied: `D(D+1)/2`).
    pub const PARAMETER_COUNT: usize = K - 1 + K * D + C::SHAPE.parameters(D, K);

    /// Builds a mixture from weights, means and covariances, validating all.
    /// The covariances are given as the kind stores them: for [`Full`]
    /// `[SMatrix<T, D, D>; K]`, for [`Diag`] the variances
    /// `[SVector<T, D>; K]`, for [`Spherical`] `[T; K]`, for [`Tied`] one
    /// `SMatrix<T, D, D>`.
    ///
    /// Weights that sum to 1 within `K·ε` (the rounding of `K` weights
    /// that are each correctly rounded: a model's own, so a model rebuilt
    /// from its parameters has them bit for bit) are kept as given; others
    /// are divided by their sum, so the model's weights sum to 1 to
    /// rounding even when the given ones are off by more.
    ///
    /// # Errors
    ///
    /// * [`Error::NonFiniteParameter`] for a NaN or infinite value (a bad
    ///   weight is reported at its own index);
    /// * [`Error::InvalidWeights`] for a negative weight or weights whose sum
    ///   differs from 1 by more than `√ε`;
    /// * [`Error::NotSymmetric`] / [`Error::NotPositiveDefinite`] for a bad
    ///   covariance, naming the component (0 for the tied one); see
    ///   [`Gaussian::new`]. A variance must be positive.
    ///
    /// # Example
    ///
    /// ```
    /// use gaussmix::{Diag, Gmm};
    /// use nalgebra::{matrix, vector};
    ///
    /// let gmm = Gmm::<f32, 2, 2>::new(
    ///     [0.3, 0.7],
    ///     [vector![0.0, 0.0], vector![5.0, 5.0]],
    ///     [matrix![1.0, 0.0; 0.0, 1.0], matrix![2.0, 0.5; 0.5, 1.0]],
    /// )?;
    /// assert_eq!(gmm.predict(&[4.5, 5.5])?, 1);
    ///
    /// let diag = Gmm::<f32, 2, 2, Diag>::new(
    ///     [0.3, 0.7],
    ///     [vector![0.0, 0.0], vector![5.0, 5.0]],
    ///     [vector![1.0, 1.0], vector![2.0, 1.0]],
    /// )?;
    /// assert_eq!(diag.predict(&[4.5, 5.5])?, 1);
    /// # Ok::<(), gaussmix::Error>(())
    /// ```
    pub fn new(
        weights: [T; K],
        means: [SVector<T, D>; K],
        covariances: C::Input<T, D, K>,
    ) -> Result<Self, Error> {
        const { assert!(D > 0 && K > 0, "gaussmix: D and K must be at least 1") };
        for (k, m) in means.iter().enumerate() {
            if !m.iter().all(|&v| v.is_finite()) {
                return Err(Error::NonFiniteParameter { component: k });
            }
        }
        let covariance = C::validate(&covariances)?;
        Self::from_parts(weights, means, covariance)
    }

    /// Validates and normalises the weights, then assembles the model.
    pub(crate) fn from_parts(
        weights: [T; K],
        means: [SVector<T, D>; K],
        covariance: C::Params<T, D, K>,
    ) -> Result<Self, Error> {
        let mut sum = T::zero();
        for (k, &w) in weights.iter().enumerate() {
            if !w.is_finite() {
                return Err(Error::NonFiniteParameter { component: k });
            }
            if w < T::zero() {
                return Err(Error::InvalidWeights);
            }
            sum += w;
        }
        let off = (sum - T::one()).abs();
        if !(off <= Real::sqrt(T::EPS)) {
            return Err(Error::InvalidWeights);
        }
        // Weights that sum to 1 up to their own rounding (`K` roundings
        // of `ε/2` and the sum's) are kept: dividing by such a sum is not
        // idempotent, so a model's own weights (the M-step's `Nₖ/N`) would
        // change in their last bits every time they went through here.
        let rounding = T::lit(K as f64) * T::EPS;
        let weights = SVector::from(weights);
        let weights = if off <= rounding {
            weights
        } else {
            weights / sum
        };
        Ok(Self::from_trusted(weights, means, covariance))
    }

    /// Assembles a model from parameters already known to be valid (the
    /// M-step's), computing the E-step's constants: the only way a model's
    /// parameters come together.
    pub(crate) fn from_trusted(
        weights: SVector<T, K>,
        means: [SVector<T, D>; K],
        covariance: C::Params<T, D, K>,
    ) -> Self {
        let mut model = Self {
            weights,
            log_coeffs: SVector::zeros(),
            means,
            covariance,
        };
        model.refresh();
        model
    }

    /// Changes the parameters in place through `change` (the M-step's), then
    /// recomputes the E-step's constants from them, whatever `change`
    /// returned: the only way a model is changed after it is built.
    pub(crate) fn update<R>(
        &mut self,
        change: impl FnOnce(
            &mut SVector<T, K>,
            &mut [SVector<T, D>; K],
            &mut C::Params<T, D, K>,
        ) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let result = change(&mut self.weights, &mut self.means, &mut self.covariance);
        self.refresh();
        result
    }

    /// Recomputes `ln wₖ + ln`-normaliser from the parameters.
    fn refresh(&mut self) {
        // An index loop, not nalgebra's iterators: at opt-level "s" the
        // optimiser then still sees k < K and drops the bounds checks of
        // `C::log_norm`.
        for k in 0..K {
            let w = self.weights[k];
            // ln 0 = −∞: a component of weight 0 never takes responsibility.
            self.log_coeffs[k] = if w > T::zero() {
                Real::ln(w) + C::log_norm(&self.covariance, k)
            } else {
                T::NEG_INFINITY
            };
        }
    }

    /// The mixture weights `w`, non-negative and summing to 1.
    pub fn weights(&self) -> SVector<T, K> {
        self.weights
    }

    /// The component means `μₖ`.
    pub fn means(&self) -> [SVector<T, D>; K] {
        self.means
    }

    /// The component covariances `Σₖ` as full matrices (diagonal, `σₖ² I`,
    /// or the shared matrix repeated, for the other kinds).
    pub fn covariances(&self) -> [SMatrix<T, D, D>; K] {
        core::array::from_fn(|k| C::covariance(&self.covariance, k))
    }

    /// What the E-step kernel reads.
    #[inline]
    pub(crate) fn kernel(&self) -> Kernel<'_, T, D, K, C> {
        Kernel {
            log_coeffs: &self.log_coeffs,
            means: &self.means,
            params: &self.covariance,
        }
    }

    /// A 64-bit fingerprint of every parameter: statistics use it to
    /// recognise the model they were accumulated against. Each value's bits
    /// are xored in and the state is mixed by `SplitMix64`'s finaliser (two
    /// multiply–xorshift rounds, which carry every input bit into every
    /// output bit), so a change anywhere, the sign bit included, changes the
    /// fingerprint; two different models share one with probability about
    /// 2⁻⁶⁴.
    pub(crate) fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0x243f_6a88_85a3_08d3;
        let mut eat = |v: T| {
            let mut z = h ^ v.bits();
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            h = z ^ (z >> 31);
        };
        self.weights.iter().for_each(|&w| eat(w));
        self.means
            .iter()
            .for_each(|m| m.iter().for_each(|&v| eat(v)));
        C::for_each_value(&self.covariance, &mut eat);
        h
    }

    /// `ln p(x)`, the log-density of the mixture at `x` (the anomaly score:
    /// low means unlikely), by log-sum-exp over `ln wₖ + ln N(x | μₖ, Σₖ)`.
    ///
    /// # Errors
    ///
    /// [`Error::NonFiniteData`] if `x` has a NaN or infinite coordinate;
    /// [`Error::ZeroDensity`] if `x` is so far from every component that all
    /// densities underflow.
    pub fn log_prob<P: AsPoint<T, D>>(&self, x: &P) -> Result<T, Error> {
        Ok(estep::point(&self.kernel(), x)?.0)
    }

    /// The responsibilities `rₖ = wₖ N(x | μₖ, Σₖ) / p(x)`: the posterior
    /// probability that `x` came from each component (soft classification).
    /// Every entry lies in `[0, 1]` and they sum to 1 within `K·ε`. An entry
    /// is exactly 0 when its component's weighted density `wₖ N(x | μₖ, Σₖ)`
    /// is below `e⁻⁵⁰` (`f32`) or `e⁻²⁰⁰` (`f64`) times the largest
    /// component's (so its true value is below that too; with `K ≥ 3` a
    /// true value just below it may still be non-zero).
    ///
    /// # Errors
    ///
    /// As for [`Gmm::log_prob`].
    pub fn responsibilities<P: AsPoint<T, D>>(&self, x: &P) -> Result<SVector<T, K>, Error> {
        Ok(estep::point(&self.kernel(), x)?.1)
    }

    /// The most responsible component for `x` (hard classification, the
    /// argmax of [`Gmm::responsibilities`]; the lowest index on a tie).
    ///
    /// # Errors
    ///
    /// As for [`Gmm::log_prob`].
    pub fn predict<P: AsPoint<T, D>>(&self, x: &P) -> Result<usize, Error> {
        let r = self.responsibilities(x)?;
        let mut best = 0;
        for k in 1..K {
            if r[k] > r[best] {
                best = k;
            }
        }
        Ok(best)
    }

    /// Total log-likelihood `Σᵢ ln p(xᵢ)` of a data set, summed exactly as
    /// [`fit`](crate::fit()) sums it (in blocks of points, an `ln` only when a
    /// running product of the points' terms grows large and at the end of
    /// each block), so the two agree bit for bit.
    ///
    /// # Errors
    ///
    /// [`Error::TooFewPoints`] for empty data;
    /// [`Error::LikelihoodOverflow`] if the total overflows `T`; otherwise
    /// as for [`Gmm::log_prob`], with the index of the first bad point.
    pub fn log_likelihood<P: AsPoint<T, D>>(&self, data: &[P]) -> Result<T, Error> {
        if data.is_empty() {
            return Err(Error::TooFewPoints {
                points: 0,
                needed: 1,
            });
        }
        let mut total = T::zero();
        for (b, block) in data.chunks(estep::BLOCK).enumerate() {
            total += estep::block(&self.kernel(), block, (), b * estep::BLOCK, |_, _| {})?;
        }
        finite_likelihood(total)
    }

    /// Mean log-likelihood per point, `(1/N) Σᵢ ln p(xᵢ)` (scikit-learn's
    /// `score`), the quantity whose change [`fit`](crate::fit()) compares with its
    /// tolerance.
    ///
    /// # Errors
    ///
    /// As for [`Gmm::log_likelihood`].
    pub fn mean_log_likelihood<P: AsPoint<T, D>>(&self, data: &[P]) -> Result<T, Error> {
        Ok(self.log_likelihood(data)? / T::from_count(data.len()))
    }

    /// Bayesian information criterion `−2 ln L + p ln N`, with `p` =
    /// [`Gmm::PARAMETER_COUNT`] and `N` the number of points. Lower is better.
    ///
    /// # Errors
    ///
    /// As for [`Gmm::log_likelihood`].
    pub fn bic<P: AsPoint<T, D>>(&self, data: &[P]) -> Result<T, Error> {
        let ll = self.log_likelihood(data)?;
        let n = T::from_count(data.len());
        finite_likelihood(T::lit(-2.0) * ll + T::from_count(Self::PARAMETER_COUNT) * Real::ln(n))
    }

    /// Akaike information criterion `−2 ln L + 2p`, with `p` =
    /// [`Gmm::PARAMETER_COUNT`]. Lower is better.
    ///
    /// # Errors
    ///
    /// As for [`Gmm::log_likelihood`].
    pub fn aic<P: AsPoint<T, D>>(&self, data: &[P]) -> Result<T, Error> {
        let ll = self.log_likelihood(data)?;
        finite_likelihood(T::lit(-2.0) * ll + T::lit(2.0) * T::from_count(Self::PARAMETER_COUNT))
    }

    /// Draws a component index with probability equal to its weight, from
    /// one uniform variate (see [`sample`](crate::sample)).
    pub fn choose_component<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let u = T::uniform(rng);
        let mut cumulative = T::zero();
        let mut last_positive = 0;
        for (k, &w) in self.weights.iter().enumerate() {
            if w > T::zero() {
                cumulative += w;
                last_positive = k;
                if u < cumulative {
                    return k;
                }
            }
        }
        // Rounding left the cumulative sum just below u (< 1).
        last_positive
    }

    /// Draws one point from the mixture: a component by weight, then
    /// `μₖ + Aₖ z` with `z` standard normal
    /// ([`standard_normal_vector`]) and `Aₖ Aₖᵀ = Σₖ` (the Cholesky factor;
    /// the standard deviations for diagonal and spherical kinds).
    ///
    /// # Example
    ///
    /// ```
    /// # use gaussmix::Gmm;
    /// # use nalgebra::{matrix, vector};
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
    /// let gmm = Gmm::<f64, 2, 1>::new([1.0], [vector![1.0, 2.0]], [matrix![1.0, 0.0; 0.0, 1.0]])?;
    /// let mut rng = Lcg(42);
    /// let x = gmm.sample(&mut rng);
    /// assert!((x - vector![1.0, 2.0]).norm() < 20.0);
    /// # Ok::<(), gaussmix::Error>(())
    /// ```
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SVector<T, D> {
        // `choose_component` returns an index below K; `min` keeps the
        // proof local instead of leaving a bounds check to the optimiser.
        let k = self.choose_component(rng).min(K - 1);
        self.draw(k, rng)
    }

    /// Draws one point from component `k`, or `None` if `k ≥ K`.
    pub fn sample_from<R: Rng + ?Sized>(&self, k: usize, rng: &mut R) -> Option<SVector<T, D>> {
        (k < K).then(|| self.draw(k, rng))
    }

    fn draw<R: Rng + ?Sized>(&self, k: usize, rng: &mut R) -> SVector<T, D> {
        let z = standard_normal_vector::<T, D, R>(rng);
        self.means[k] + C::transform(&self.covariance, k, &z)
    }
}

impl<T: Real, const D: usize, const K: usize> Gmm<T, D, K, Full> {
    /// Builds a full-covariance mixture from weights and already validated
    /// components.
    ///
    /// # Errors
    ///
    /// [`Error::NonFiniteParameter`] or [`Error::InvalidWeights`] as for
    /// [`Gmm::new`].
    pub fn from_components(
        weights: [T; K],
        components: [Gaussian<T, D>; K],
    ) -> Result<Self, Error> {
        const { assert!(D > 0 && K > 0, "gaussmix: D and K must be at least 1") };
        Self::from_parts(
            weights,
            components.map(|c| *c.mean()),
            components.map(|c| c.factor()),
        )
    }

    /// The components, in order.
    pub fn components(&self) -> [Gaussian<T, D>; K] {
        core::array::from_fn(|k| Gaussian::from_parts(self.means[k], self.covariance[k]))
    }

    /// Component `k`, or `None` if `k ≥ K`.
    pub fn component(&self, k: usize) -> Option<Gaussian<T, D>> {
        (k < K).then(|| Gaussian::from_parts(self.means[k], self.covariance[k]))
    }
}

impl<T: Real, const D: usize, const K: usize> Gmm<T, D, K, Diag> {
    /// The per-coordinate variances of each component.
    pub fn variances(&self) -> [SVector<T, D>; K] {
        core::array::from_fn(|k| Diag::covariance::<T, D, K>(&self.covariance, k).diagonal())
    }
}

impl<T: Real, const D: usize, const K: usize> Gmm<T, D, K, Spherical> {
    /// The variance `σₖ²` of each component.
    pub fn variances(&self) -> [T; K] {
        core::array::from_fn(|k| Spherical::covariance::<T, D, K>(&self.covariance, k)[(0, 0)])
    }
}

impl<T: Real, const D: usize, const K: usize> Gmm<T, D, K, Tied> {
    /// The covariance all components share.
    pub fn covariance(&self) -> SMatrix<T, D, D> {
        *self.covariance.covariance()
    }
}

/// `Ok(x)` if `x` is finite, else [`Error::LikelihoodOverflow`].
pub(crate) fn finite_likelihood<T: Real>(x: T) -> Result<T, Error> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(Error::LikelihoodOverflow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{matrix, vector};

    fn two() -> Gmm<f64, 2, 2> {
        Gmm::new(
            [0.25, 0.75],
            [vector![0.0, 0.0], vector![3.0, 1.0]],
            [matrix![1.0, 0.2; 0.2, 0.5], matrix![2.0, -0.3; -0.3, 1.0]],
        )
        .unwrap()
    }

    #[test]
    fn log_prob_is_log_of_weighted_density_sum() {
        let m = two();
        let x = vector![1.0, 0.5];
        let direct: f64 = (0..2)
            .map(|k| m.weights()[k] * libm::exp(m.components()[k].log_density(&x).unwrap()))
            .sum();
        assert!((m.log_prob(&x).unwrap() - libm::log(direct)).abs() < 1e-14);
    }

    #[test]
    fn responsibilities_follow_bayes_rule() {
        let m = two();
        let x = [1.0, 0.5];
        let joint =
            [0, 1].map(|k| m.weights()[k] * libm::exp(m.components()[k].log_density(&x).unwrap()));
        let r = m.responsibilities(&x).unwrap();
        for k in 0..2 {
            assert!((r[k] - joint[k] / (joint[0] + joint[1])).abs() < 1e-15);
        }
        assert_eq!(m.predict(&x).unwrap(), usize::from(r[1] > r[0]));
    }

    #[test]
    fn negligible_component_gets_exactly_zero() {
        let m = Gmm::<f32, 1, 2>::new(
            [0.5, 0.5],
            [vector![0.0], vector![100.0]],
            [matrix![1.0]; 2],
        )
        .unwrap();
        // ln N(0 | 100, 1) − ln N(0 | 0, 1) = −5000, far below the cutoff.
        assert_eq!(m.responsibilities(&[0.0]).unwrap(), vector![1.0, 0.0]);
        let l = m.log_prob(&[0.0]).unwrap();
        assert!(
            (l - (libm::logf(0.5) - 0.5 * libm::logf(2.0 * core::f32::consts::PI))).abs() < 1e-6
        );
    }

    #[test]
    fn weights_validated_and_renormalised() {
        let means = [vector![0.0], vector![1.0]];
        let covs = [matrix![1.0]; 2];
        assert_eq!(
            Gmm::<f64, 1, 2>::new([0.6, 0.6], means, covs),
            Err(Error::InvalidWeights)
        );
        assert_eq!(
            Gmm::<f64, 1, 2>::new([1.1, -0.1], means, covs),
            Err(Error::InvalidWeights)
        );
        assert_eq!(
            Gmm::<f64, 1, 2>::new([f64::NAN, 1.0], means, covs),
            Err(Error::NonFiniteParameter { component: 0 })
        );
        assert_eq!(
            Gmm::<f64, 1, 2>::new([0.5, 0.5], means, [matrix![1.0], matrix![-1.0]]),
            Err(Error::NotPositiveDefinite { component: 1 })
        );
        let m = Gmm::<f64, 1, 2>::new([0.3, 0.7 + 1e-12], means, covs).unwrap();
        assert!((m.weights().sum() - 1.0).abs() <= f64::EPSILON);
        // Weights off by their own rounding are kept bit for bit: these
        // sum to 1 − 2⁻⁵³, and divided by that sum they would change.
        let w = [0.6, 0.3, 0.1];
        let sum = w.iter().sum::<f64>();
        assert_eq!(sum, 1.0 - f64::EPSILON / 2.0);
        assert_ne!(w.map(|v| v / sum), w);
        let means3 = [vector![0.0], vector![1.0], vector![2.0]];
        let kept = Gmm::<f64, 1, 3>::new(w, means3, [matrix![1.0]; 3]).unwrap();
        assert_eq!(kept.weights(), vector![0.6, 0.3, 0.1]);
        // A zero weight is allowed; that component never takes responsibility.
        let z = Gmm::<f64, 1, 2>::new([0.0, 1.0], means, covs).unwrap();
        assert_eq!(z.responsibilities(&[0.0]).unwrap(), vector![0.0, 1.0]);
        let mut rng = crate::sample::tests::SplitMix(3);
        assert!((0..1000).all(|_| z.choose_component(&mut rng) == 1));
    }

    #[test]
    fn size_is_as_documented() {
        fn documented<T, const D: usize, const K: usize>() -> usize {
            core::mem::size_of::<T>() * K * (3 + D + 3 * D * D)
        }
        assert_eq!(core::mem::size_of::<Gmm<f32, 2, 3>>(), 204);
        assert_eq!(
            core::mem::size_of::<Gmm<f32, 2, 3>>(),
            documented::<f32, 2, 3>()
        );
        assert_eq!(
            core::mem::size_of::<Gmm<f64, 4, 4>>(),
            documented::<f64, 4, 4>()
        );
        assert_eq!(
            core::mem::size_of::<Gmm<f32, 1, 1>>(),
            documented::<f32, 1, 1>()
        );
    }

    #[test]
    fn information_criteria() {
        assert_eq!(Gmm::<f64, 2, 3>::PARAMETER_COUNT, 2 + 6 + 9);
        assert_eq!(Gmm::<f64, 1, 1>::PARAMETER_COUNT, 2);
        let m = two();
        let data = [[0.1, 0.2], [2.5, 1.1], [3.3, 0.7], [-0.4, 0.1]];
        let ll = m.log_likelihood(&data).unwrap();
        let p = 11.0;
        assert!((m.bic(&data).unwrap() - (-2.0 * ll + p * libm::log(4.0))).abs() < 1e-12);
        assert!((m.aic(&data).unwrap() - (-2.0 * ll + 2.0 * p)).abs() < 1e-12);
        assert!((m.mean_log_likelihood(&data).unwrap() - ll / 4.0).abs() < 1e-15);
        let empty: [[f64; 2]; 0] = [];
        assert_eq!(
            m.log_likelihood(&empty),
            Err(Error::TooFewPoints {
                points: 0,
                needed: 1
            })
        );
        assert_eq!(
            m.log_likelihood(&[[0.0, 0.0], [f64::NAN, 0.0]]),
            Err(Error::NonFiniteData { index: 1 })
        );
    }

    #[test]
    fn far_point_is_an_error_not_a_nan() {
        let m = Gmm::<f32, 1, 1>::new([1.0], [vector![0.0]], [matrix![1e-30]]).unwrap();
        assert_eq!(
            m.responsibilities(&[1e30]),
            Err(Error::ZeroDensity { index: 0 })
        );
        assert_eq!(
            m.log_prob(&[f32::INFINITY]),
            Err(Error::NonFiniteData { index: 0 })
        );
    }
}
