//! Full covariance: each component its own symmetric positive-definite
//! matrix, held with its Cholesky factor. [`Factor`] is also the one shared
//! matrix of [`Tied`](super::Tied), and [`Gaussian`] is one full component
//! on its own.

use nalgebra::{SMatrix, SVector};
use rand_core::Rng;

use super::{
    each_component, live_total, log_norm_from, lower_from_lanes, lower_lane, lower_lanes,
    CovarianceKind, Full, LaneLoops, Moments1, Shape, LANE_SECOND,
};
use crate::data::{checked, AsPoint};
use crate::error::Error;
use crate::linalg;
use crate::real::Real;
use crate::sample::standard_normal_vector;

/// A covariance `Σ` with what the E-step and the sampler need: its lower
/// Cholesky factor `L` (`Σ = L Lᵀ`), `L⁻¹/√2` (so `‖(L⁻¹/√2) d‖²` is half
/// the squared Mahalanobis distance: no division, inverse or determinant
/// per point) and the log-normaliser `−(D/2) ln 2π − Σᵢ ln Lᵢᵢ`.
///
/// Built only from a matrix that passed the pivot-floored Cholesky
/// ([`linalg::cholesky_lower`]), so it is positive definite to working
/// precision: every pivot above `(D + 1) ε` of its diagonal entry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Factor<T: Real, const D: usize> {
    covariance: SMatrix<T, D, D>,
    chol: SMatrix<T, D, D>,
    half_inv: SMatrix<T, D, D>,
    log_norm: T,
}

impl<T: Real, const D: usize> Factor<T, D> {
    /// Factorises a symmetric matrix (its lower triangle is read; it is
    /// stored as given). `None` unless positive definite with a finite
    /// inverse factor and log-normaliser.
    pub(crate) fn new(covariance: SMatrix<T, D, D>) -> Option<Self> {
        let mut out = Self::identity();
        Self::new_into(covariance, &mut out).then_some(out)
    }

    /// [`new`](Self::new) written into `out`: `false`, with `out`
    /// unchanged, where `new` gives `None`.
    // Not inlined: it is called from the regularisation retry loop, which
    // the optimiser would otherwise unroll with a Cholesky in every copy.
    #[inline(never)]
    pub(crate) fn new_into(covariance: SMatrix<T, D, D>, out: &mut Self) -> bool {
        let Some(chol) = linalg::cholesky_lower(&covariance) else {
            return false;
        };
        let Some(inv) = linalg::invert_lower(&chol) else {
            return false;
        };
        let mut log_det_half = T::zero();
        for i in 0..D {
            log_det_half += Real::ln(chol[(i, i)]);
        }
        let Some(log_norm) = log_norm_from(D, log_det_half) else {
            return false;
        };
        *out = Self {
            covariance,
            chol,
            half_inv: inv * T::lit(core::f64::consts::FRAC_1_SQRT_2),
            log_norm,
        };
        true
    }

    /// A user's covariance: finite, symmetric ([`linalg::is_symmetric`]) and
    /// positive definite, else the error naming `component`.
    pub(crate) fn validated(covariance: SMatrix<T, D, D>, component: usize) -> Result<Self, Error> {
        if !covariance.iter().all(|&v| v.is_finite()) {
            return Err(Error::NonFiniteParameter { component });
        }
        if !linalg::is_symmetric(&covariance) {
            return Err(Error::NotSymmetric { component });
        }
        Self::new(covariance).ok_or(Error::NotPositiveDefinite { component })
    }

    /// `covariance + λI` factorised into `out`, with `λ` chosen by
    /// [`linalg::lift`] from the absolute `reg` and returned (`None`, with
    /// `out` unchanged, if every attempt fails). `covariance` must be
    /// symmetric (both triangles are stored).
    pub(crate) fn lift_into(covariance: &SMatrix<T, D, D>, reg: T, out: &mut Self) -> Option<T> {
        let largest = linalg::largest_diagonal(covariance);
        linalg::lift(reg, largest, D, |lambda| {
            Self::new_into(covariance + SMatrix::<T, D, D>::identity() * lambda, out)
        })
    }

    /// `Σ`.
    pub(crate) fn covariance(&self) -> &SMatrix<T, D, D> {
        &self.covariance
    }

    /// `−(D/2) ln 2π − Σᵢ ln Lᵢᵢ`.
    #[inline]
    pub(crate) fn log_norm(&self) -> T {
        self.log_norm
    }

    /// `½ ‖L⁻¹ (x − μ)‖²` for `L` points held as lanes.
    // Always inlined into the E-step's loop over components (the hot loop).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn half_mahalanobis_sq<const L: usize>(
        &self,
        x: &[[T; L]; D],
        mean: &SVector<T, D>,
    ) -> [T; L] {
        linalg::lower_norm_sq(&self.half_inv, x, mean)
    }

    /// `L z`.
    pub(crate) fn transform(&self, z: &SVector<T, D>) -> SVector<T, D> {
        linalg::lower_mul(&self.chol, z)
    }

    fn for_each_value(&self, f: &mut impl FnMut(T)) {
        self.covariance.iter().for_each(|&v| f(v));
    }
}

/// The scatter `S2/N − δδᵀ` of one component (or, for tied covariance, the
/// pooled scatter), from its lower-triangle second moment: a symmetric
/// matrix. Shared by the full and tied M-steps.
pub(crate) fn scatter<T: Real, const D: usize>(
    second: &SMatrix<T, D, D>,
    count: T,
    deltas: impl Fn(&mut SMatrix<T, D, D>),
) -> SMatrix<T, D, D> {
    let inv = T::one() / count;
    let mut cov = second * inv;
    deltas(&mut cov);
    linalg::mirror_lower(&mut cov);
    cov
}

impl CovarianceKind for Full {
    const NAME: &'static str = "full";
    const SHAPE: Shape = Shape::MatrixPerComponent;
    type Params<T: Real, const D: usize, const K: usize> = [Factor<T, D>; K];
    type Input<T: Real, const D: usize, const K: usize> = [SMatrix<T, D, D>; K];
    type Second<T: Real, const D: usize, const K: usize> = [SMatrix<T, D, D>; K];

    fn validate<T: Real, const D: usize, const K: usize>(
        input: &[SMatrix<T, D, D>; K],
    ) -> Result<[Factor<T, D>; K], Error> {
        let mut out = [Factor::<T, D>::identity(); K];
        for (k, (slot, cov)) in out.iter_mut().zip(input.iter()).enumerate() {
            *slot = Factor::validated(*cov, k)?;
        }
        Ok(out)
    }

    #[inline]
    fn log_norm<T: Real, const D: usize, const K: usize>(p: &[Factor<T, D>; K], k: usize) -> T {
        p[k].log_norm()
    }

    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn half_mahalanobis_sq<T: Real, const D: usize, const K: usize, const L: usize>(
        p: &[Factor<T, D>; K],
        k: usize,
        x: &[[T; L]; D],
        mean: &SVector<T, D>,
    ) -> [T; L] {
        p[k].half_mahalanobis_sq(x, mean)
    }

    fn covariance<T: Real, const D: usize, const K: usize>(
        p: &[Factor<T, D>; K],
        k: usize,
    ) -> SMatrix<T, D, D> {
        *p[k].covariance()
    }

    fn transform<T: Real, const D: usize, const K: usize>(
        p: &[Factor<T, D>; K],
        k: usize,
        z: &SVector<T, D>,
    ) -> SVector<T, D> {
        p[k].transform(z)
    }

    fn for_each_value<T: Real, const D: usize, const K: usize>(
        p: &[Factor<T, D>; K],
        mut f: impl FnMut(T),
    ) {
        for c in p {
            c.for_each_value(&mut f);
        }
    }

    fn second_zero<T: Real, const D: usize, const K: usize>() -> [SMatrix<T, D, D>; K] {
        [SMatrix::zeros(); K]
    }

    fn second_scale<T: Real, const D: usize, const K: usize>(s: &mut [SMatrix<T, D, D>; K], f: T) {
        for m in s.iter_mut() {
            *m *= f;
        }
    }

    fn second_is_finite<T: Real, const D: usize, const K: usize>(
        s: &[SMatrix<T, D, D>; K],
    ) -> bool {
        crate::real::all_finite(s.iter().flat_map(linalg::lower_entries))
    }

    #[cfg(test)]
    fn second_as_read<T: Real, const D: usize, const K: usize>(
        mut s: [SMatrix<T, D, D>; K],
    ) -> [SMatrix<T, D, D>; K] {
        s.iter_mut().for_each(linalg::mirror_lower);
        s
    }

    fn second_add<T: Real, const D: usize, const K: usize>(
        a: &mut [SMatrix<T, D, D>; K],
        b: &[SMatrix<T, D, D>; K],
    ) {
        for (a, b) in a.iter_mut().zip(b.iter()) {
            *a += b;
        }
    }

    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn second_push<T: Real, const D: usize, const K: usize>(
        s: &mut [SMatrix<T, D, D>; K],
        k: usize,
        r: T,
        d: &SVector<T, D>,
    ) {
        linalg::add_outer_lower(&mut s[k], d, r);
    }

    /// In `f32`, components outer (lanes outer was slower at D = 2). Not
    /// in `f64` (see `stats::in_lanes`).
    #[inline]
    fn lanes<T: Real, const D: usize>() -> Option<LaneLoops> {
        (size_of::<T>() == 4).then_some(LaneLoops::ComponentsOuter)
    }

    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn second_lane<T: Real, const D: usize, const L: usize>(
        s: &mut [[T; L]; LANE_SECOND],
        l: usize,
        r: T,
        d: &[T; D],
    ) {
        lower_lane(s, l, r, d);
    }

    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn second_lanes<T: Real, const D: usize, const L: usize>(
        s: &mut [[T; L]; LANE_SECOND],
        r: &[T; L],
        d: &[[T; L]; D],
    ) {
        lower_lanes(s, r, d);
    }

    fn second_from_lanes<T: Real, const D: usize, const K: usize>(
        s: &mut [SMatrix<T, D, D>; K],
        k: usize,
        v: &[T; LANE_SECOND],
    ) {
        if let Some(s) = s.get_mut(k) {
            lower_from_lanes(s, v);
        }
    }

    /// From `D = 4` (smaller `D` have too little work per component to
    /// pay for the loop over components). `benches/compare_commits.sh
    /// f3ec785` gives the effect of sums held in registers at `D = 8, K =
    /// 8` (see the README); where they do not fit, see
    /// [`second_push_run`](Self::second_push_run).
    #[inline]
    fn runs<T: Real, const D: usize>() -> bool {
        D >= 4
    }

    /// The component's sums as a local over the run: its lower triangle,
    /// or, at `D` a multiple of 8 where the whole matrix fits the registers
    /// as well, the lower triangle in whole vectors
    /// ([`linalg::add_outer_blocks`]). Where the triangle does not fit the
    /// registers ([`linalg::fits_registers`]), the sums stay in memory and
    /// the run's points are added two at a time, in whole vectors too
    /// ([`linalg::add_outer_blocks_pair`]): each sum is loaded and stored
    /// once per pair instead of once per point. Either way the lower
    /// triangle has the bits of [`second_push`](Self::second_push)'s; the
    /// upper entries added to, never read, hold the same sums rounded
    /// differently.
    ///
    /// Pairs: `bash benches/compare_commits.sh 8278e09` (`ROUNDS=9`, the
    /// default x86-64 target, where the triangle of `D = 8` fits in neither
    /// type) put `em_step` at `D = 8, K = 8` at 0.96 of the time point by
    /// point in `f64` and 0.95 in `f32`; four at a time, in a throw-away
    /// build, was slower (the four points copied aside cost more than the
    /// loads saved). Whole vectors instead of the triangle's ragged
    /// columns, `CASES="d8_k8_f64 d8_k8_f32" bash
    /// benches/compare_commits.sh a742fc1` (paired medians of `em_step`
    /// at `D = 8, K = 8`, `f64` / `f32`, on a noisy machine): 0.96 / 0.85
    /// on the default target (`ROUNDS=15`), 0.84 / 0.97 with
    /// `-C target-feature=+avx2,+fma` (`ROUNDS=11`), 0.98 / 0.99 with
    /// `target-cpu=native` (`ROUNDS=15`; 0.90 / 0.76 in a run of 9).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn second_push_run<T: Real, const D: usize, const K: usize>(
        s: &mut [SMatrix<T, D, D>; K],
        k: usize,
        n: usize,
        mut next: impl FnMut(usize) -> Option<(T, SVector<T, D>)>,
    ) {
        if !linalg::fits_registers::<T>(D * (D + 1) / 2) {
            let Some(sums) = s.get_mut(k) else { return };
            let mut held: Option<(T, SVector<T, D>)> = None;
            for l in 0..n {
                if let Some((r, d)) = next(l) {
                    if let Some((ra, da)) = held.take() {
                        linalg::add_outer_blocks_pair(sums, &da, ra, &d, r);
                    } else {
                        held = Some((r, d));
                    }
                }
            }
            if let Some((r, d)) = held {
                linalg::add_outer_blocks(sums, &d, r);
            }
            return;
        }
        // (The whole matrix's room: what the vectors need at most.)
        let in_vectors = D.is_multiple_of(8) && linalg::fits_registers::<T>(D * D);
        let mut sums = s[k];
        for l in 0..n {
            if let Some((r, d)) = next(l) {
                if in_vectors {
                    linalg::add_outer_blocks(&mut sums, &d, r);
                } else {
                    linalg::add_outer_lower(&mut sums, &d, r);
                }
            }
        }
        s[k] = sums;
    }

    fn second_trace<T: Real, const D: usize, const K: usize>(
        s: &[SMatrix<T, D, D>; K],
        live: &[bool; K],
        f: T,
    ) -> T {
        live_total(
            s.iter()
                .map(|m| (0..D).fold(T::zero(), |t, i| t + m[(i, i)] * f)),
            live,
        )
    }

    fn needs_recentring<T: Real, const D: usize, const K: usize>(
        s: &[SMatrix<T, D, D>; K],
        m: &Moments1<'_, T, D, K>,
    ) -> bool {
        (0..K).any(|k| {
            m.live[k]
                && (0..D).any(|i| {
                    let delta = m.first[k][i] / m.counts[k];
                    super::cancels(s[k][(i, i)] / m.counts[k], delta * delta, m.resolution[k])
                })
        })
    }

    fn m_step<T: Real, const D: usize, const K: usize>(
        s: &[SMatrix<T, D, D>; K],
        m: &Moments1<'_, T, D, K>,
        reg: T,
        params: &mut [Factor<T, D>; K],
    ) -> Result<T, Error> {
        each_component(params, &m.live, |k, slot| {
            let delta = m.delta(k);
            let cov = scatter(&s[k], m.counts[k], |c| {
                linalg::add_outer_lower(c, &delta, -T::one());
                if let Some(x) = m.excess(k) {
                    linalg::add_outer_lower(c, &x, T::one());
                }
            });
            Factor::lift_into(&cov, reg, slot)
        })
    }

    fn input_from_matrices<T: Real, const D: usize, const K: usize>(
        covariances: &[SMatrix<T, D, D>; K],
    ) -> [SMatrix<T, D, D>; K] {
        *covariances
    }

    fn from_estimates<T: Real, const D: usize, const K: usize>(
        covariances: &[SMatrix<T, D, D>; K],
        _counts: &[T; K],
        reg: T,
    ) -> Result<[Factor<T, D>; K], Error> {
        let mut params = [Factor::identity(); K];
        each_component(&mut params, &[true; K], |k, slot| {
            Factor::lift_into(&covariances[k], reg, slot)
        })?;
        Ok(params)
    }
}

impl<T: Real, const D: usize> Factor<T, D> {
    /// The identity, to fill arrays before they are overwritten.
    pub(crate) fn identity() -> Self {
        let identity = SMatrix::<T, D, D>::identity();
        Self {
            covariance: identity,
            chol: identity,
            half_inv: identity * T::lit(core::f64::consts::FRAC_1_SQRT_2),
            log_norm: -T::lit(0.5) * T::from_count(D) * T::LN_2PI,
        }
    }
}

/// A `D`-dimensional normal distribution `N(μ, Σ)` with a full covariance:
/// one component of a full-covariance [`Gmm`](crate::Gmm), or a
/// distribution of its own.
///
/// Built only through [`Gaussian::new`], which validates its input, so every
/// value of this type has a finite mean and a symmetric covariance that is
/// positive definite to working precision: its Cholesky factorisation in
/// `T` has every pivot above `(D + 1) ε` of its diagonal entry, so it is
/// within the factorisation's backward error (about `2D(D+1) ε` of its
/// diagonal) of a positive-definite matrix. Alongside `Σ` it keeps the lower
/// Cholesky factor `L` (`Σ = L Lᵀ`), its inverse scaled by `1/√2` and the
/// log-normaliser, so a log-density costs one triangular matrix-vector
/// product and no division, inverse or determinant:
///
/// ```text
/// ln N(x | μ, Σ) = −(D/2) ln 2π − Σᵢ ln Lᵢᵢ − ½ ‖L⁻¹ (x − μ)‖²
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gaussian<T: Real, const D: usize> {
    mean: SVector<T, D>,
    factor: Factor<T, D>,
}

impl<T: Real, const D: usize> Gaussian<T, D> {
    /// Validates a mean and a covariance and precomputes the factors.
    ///
    /// # Errors
    ///
    /// * [`Error::NonFiniteParameter`] if any entry is NaN or infinite;
    /// * [`Error::NotSymmetric`] if some `|Σᵢⱼ − Σⱼᵢ| > √ε · √(Σᵢᵢ Σⱼⱼ)`;
    /// * [`Error::NotPositiveDefinite`] if the Cholesky factorisation meets a
    ///   pivot that is not positive, or `L⁻¹` overflows.
    ///
    /// The component index in these errors is 0; [`Gmm::new`](crate::Gmm::new)
    /// reports the index of the offending component instead.
    ///
    /// # Example
    ///
    /// ```
    /// use gaussmix::Gaussian;
    /// use nalgebra::{matrix, vector};
    ///
    /// let g = Gaussian::new(vector![0.0, 0.0], matrix![1.0, 0.0; 0.0, 1.0])?;
    /// let p = g.log_density(&vector![0.0, 0.0])?;
    /// assert!((p + libm::log(2.0 * core::f64::consts::PI)).abs() < 1e-15);
    /// # Ok::<(), gaussmix::Error>(())
    /// ```
    pub fn new(mean: SVector<T, D>, covariance: SMatrix<T, D, D>) -> Result<Self, Error> {
        const { assert!(D > 0, "gaussmix: the dimension D must be at least 1") };
        if !mean.iter().all(|&v| v.is_finite()) {
            return Err(Error::NonFiniteParameter { component: 0 });
        }
        Ok(Self {
            mean,
            factor: Factor::validated(covariance, 0)?,
        })
    }

    /// A component of a model: its mean and factor, both already valid.
    pub(crate) fn from_parts(mean: SVector<T, D>, factor: Factor<T, D>) -> Self {
        Self { mean, factor }
    }

    /// The covariance with its factors.
    pub(crate) fn factor(&self) -> Factor<T, D> {
        self.factor
    }

    /// The mean `μ`.
    pub fn mean(&self) -> &SVector<T, D> {
        &self.mean
    }

    /// The covariance `Σ`, exactly as given or as computed by the M-step.
    pub fn covariance(&self) -> &SMatrix<T, D, D> {
        self.factor.covariance()
    }

    /// The lower-triangular Cholesky factor `L` with `Σ = L Lᵀ`.
    pub fn cholesky(&self) -> &SMatrix<T, D, D> {
        &self.factor.chol
    }

    /// `ln N(x | μ, Σ)`, the log of the density at `x`; always finite.
    ///
    /// # Errors
    ///
    /// [`Error::NonFiniteData`] if `x` has a NaN or infinite coordinate;
    /// [`Error::ZeroDensity`] if the squared Mahalanobis distance, or the
    /// log-density, overflows `T` (the density underflows to zero).
    pub fn log_density<P: AsPoint<T, D>>(&self, x: &P) -> Result<T, Error> {
        let x = checked(x, 0)?;
        let [q] = self
            .factor
            .half_mahalanobis_sq(&core::array::from_fn(|i| [x[i]]), &self.mean);
        let l = self.factor.log_norm() - q;
        if l.is_finite() {
            Ok(l)
        } else {
            Err(Error::ZeroDensity { index: 0 })
        }
    }

    /// Draws one point `μ + L z`, where `z` holds `D` independent standard
    /// normal variates from [`standard_normal_vector`](crate::sample::standard_normal_vector).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SVector<T, D> {
        self.mean
            + self
                .factor
                .transform(&standard_normal_vector::<T, D, R>(rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{matrix, vector};

    const LN_2PI: f64 = 1.837_877_066_409_345_5;

    #[test]
    fn log_density_1d_matches_closed_form() {
        // ln N(x | m, s²) = −½ ln 2π − ln s − (x − m)² / (2 s²)
        for &(m, s, x) in &[
            (0.0, 1.0, 0.0),
            (1.5, 0.3, 2.0),
            (-4.0, 7.0, 30.0),
            (2.0, 1e-3, 2.01),
        ] {
            let g = Gaussian::new(vector![m], matrix![s * s]).unwrap();
            let want = -0.5 * LN_2PI - libm::log(s) - (x - m) * (x - m) / (2.0 * s * s);
            let got = g.log_density(&[x]).unwrap();
            assert!(
                (got - want).abs() <= 1e-13 * want.abs().max(1.0),
                "{got} vs {want}"
            );
        }
    }

    #[test]
    fn log_density_2d_matches_closed_form() {
        // Bivariate normal with standard deviations sx, sy and correlation rho:
        // ln p = −ln 2π − ln(sx sy √(1−ρ²)) − Q / (2(1−ρ²)),
        // Q = u² − 2ρuv + v², u = (x−mx)/sx, v = (y−my)/sy.
        let (mx, my, sx, sy, rho) = (1.0, -2.0, 2.0, 0.5, 0.6);
        let c = rho * sx * sy;
        let g = Gaussian::new(vector![mx, my], matrix![sx * sx, c; c, sy * sy]).unwrap();
        for &(x, y) in &[(1.0, -2.0), (3.0, -1.0), (-5.0, 4.0), (1.2, -2.9)] {
            let (u, v) = ((x - mx) / sx, (y - my) / sy);
            let q = u * u - 2.0 * rho * u * v + v * v;
            let one_m = 1.0 - rho * rho;
            let want = -LN_2PI - libm::log(sx * sy * libm::sqrt(one_m)) - q / (2.0 * one_m);
            let got = g.log_density(&vector![x, y]).unwrap();
            assert!(
                (got - want).abs() <= 1e-13 * want.abs().max(1.0),
                "{got} vs {want}"
            );
        }
    }

    #[test]
    fn log_density_2d_f32_matches_f64() {
        let g32 = Gaussian::new(vector![1.0f32, -2.0], matrix![4.0f32, 0.6; 0.6, 0.25]).unwrap();
        let g64 = Gaussian::new(vector![1.0f64, -2.0], matrix![4.0f64, 0.6; 0.6, 0.25]).unwrap();
        let a = f64::from(g32.log_density(&[3.0f32, -1.0]).unwrap());
        let b = g64.log_density(&[3.0f64, -1.0]).unwrap();
        assert!((a - b).abs() < 1e-5 * b.abs(), "{a} vs {b}");
    }

    #[test]
    fn factors_reproduce_the_covariance() {
        let cov = matrix![4.0, 1.0, 0.5; 1.0, 3.0, -0.2; 0.5, -0.2, 2.0];
        let g = Gaussian::new(vector![0.0, 0.0, 0.0], cov).unwrap();
        let l = g.cholesky();
        assert!((l * l.transpose() - cov).abs().max() < 1e-14);
        assert!(
            (l * g.factor.half_inv * core::f64::consts::SQRT_2 - SMatrix::<f64, 3, 3>::identity())
                .abs()
                .max()
                < 1e-14
        );
        assert_eq!(l[(0, 1)], 0.0);
    }

    #[test]
    fn rejects_invalid_covariances() {
        let m = vector![0.0, 0.0];
        assert_eq!(
            Gaussian::new(m, matrix![1.0, 0.5; 0.4, 1.0]),
            Err(Error::NotSymmetric { component: 0 })
        );
        assert_eq!(
            Gaussian::new(m, matrix![1.0, 2.0; 2.0, 1.0]),
            Err(Error::NotPositiveDefinite { component: 0 })
        );
        assert_eq!(
            Gaussian::new(m, matrix![1.0, 1.0; 1.0, 1.0]),
            Err(Error::NotPositiveDefinite { component: 0 })
        );
        assert_eq!(
            Gaussian::new(m, matrix![f64::NAN, 0.0; 0.0, 1.0]),
            Err(Error::NonFiniteParameter { component: 0 })
        );
        assert_eq!(
            Gaussian::new(vector![f64::INFINITY, 0.0], matrix![1.0, 0.0; 0.0, 1.0]),
            Err(Error::NonFiniteParameter { component: 0 })
        );
    }

    #[test]
    fn far_point_has_zero_density_not_nan() {
        let g = Gaussian::new(vector![0.0f32], matrix![1e-30f32]).unwrap();
        assert_eq!(
            g.log_density(&[1e30f32]),
            Err(Error::ZeroDensity { index: 0 })
        );
        assert_eq!(
            g.log_density(&[f32::NAN]),
            Err(Error::NonFiniteData { index: 0 })
        );
    }
}
