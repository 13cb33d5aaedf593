//! Spherical covariance: each component one variance `σₖ²` for every
//! coordinate, the mean of the per-coordinate variances. Statistics keep
//! `Σᵢ rᵢₖ ‖xᵢ − cₖ‖²` per component (`O(K)`), and a point costs `O(K·D)`.

use nalgebra::{SMatrix, SVector};

use super::{
    each_component, live_total, log_norm_from, CovarianceKind, LaneLoops, Moments1, Shape,
    Spherical, LANE_SECOND,
};
use crate::error::Error;
use crate::linalg;
use crate::real::Real;

/// One component's variance `σ²` with `1/(√2 σ)` (as the diagonal kind
/// keeps it, so the same variances are accepted) and the log-normaliser
/// `−(D/2) ln 2π − D ln σ`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SphericalFactor<T: Real> {
    variance: T,
    half_inv_sd: T,
    log_norm: T,
}

impl<T: Real> SphericalFactor<T> {
    fn new(variance: T, dimension: usize) -> Option<Self> {
        if !(variance > T::zero()) || !variance.is_finite() {
            return None;
        }
        let sd = Real::sqrt(variance);
        let half_inv_sd = T::one() / sd * T::lit(core::f64::consts::FRAC_1_SQRT_2);
        if !half_inv_sd.is_finite() {
            return None;
        }
        Some(Self {
            variance,
            half_inv_sd,
            log_norm: log_norm_from(dimension, T::from_count(dimension) * Real::ln(sd))?,
        })
    }

    /// `variance + λ` factorised into `out`, `λ` by [`linalg::lift`]
    /// (`None`, with `out` unchanged, if every attempt fails).
    fn lift_into(variance: T, dimension: usize, reg: T, out: &mut Self) -> Option<T> {
        linalg::lift(reg, variance, dimension, |lambda| {
            Self::new(variance + lambda, dimension)
                .map(|f| *out = f)
                .is_some()
        })
    }

    fn one(dimension: usize) -> Self {
        Self {
            variance: T::one(),
            half_inv_sd: T::lit(core::f64::consts::FRAC_1_SQRT_2),
            log_norm: -T::lit(0.5) * T::from_count(dimension) * T::LN_2PI,
        }
    }
}

impl CovarianceKind for Spherical {
    const NAME: &'static str = "spherical";
    const SHAPE: Shape = Shape::ScalarPerComponent;
    type Params<T: Real, const D: usize, const K: usize> = [SphericalFactor<T>; K];
    type Input<T: Real, const D: usize, const K: usize> = [T; K];
    type Second<T: Real, const D: usize, const K: usize> = SVector<T, K>;

    fn validate<T: Real, const D: usize, const K: usize>(
        input: &[T; K],
    ) -> Result<[SphericalFactor<T>; K], Error> {
        let mut out = [SphericalFactor::one(D); K];
        for (k, (slot, &v)) in out.iter_mut().zip(input.iter()).enumerate() {
            if !v.is_finite() {
                return Err(Error::NonFiniteParameter { component: k });
            }
            *slot =
                SphericalFactor::new(v, D).ok_or(Error::NotPositiveDefinite { component: k })?;
        }
        Ok(out)
    }

    #[inline]
    fn log_norm<T: Real, const D: usize, const K: usize>(
        p: &[SphericalFactor<T>; K],
        k: usize,
    ) -> T {
        p[k].log_norm
    }

    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn half_mahalanobis_sq<T: Real, const D: usize, const K: usize, const L: usize>(
        p: &[SphericalFactor<T>; K],
        k: usize,
        x: &[[T; L]; D],
        mean: &SVector<T, D>,
    ) -> [T; L] {
        // From −0: see `linalg::lower_norm_sq`.
        let mut q = [-T::zero(); L];
        for (x, &m) in x.iter().zip(mean.iter()) {
            for (q, &x) in q.iter_mut().zip(x.iter()) {
                let d = x - m;
                *q = T::madd(d, d, *q);
            }
        }
        // (‖d‖² h) h, not ‖d‖² h²: h² may overflow where the product does not.
        let h = p[k].half_inv_sd;
        q.map(|q| q * h * h)
    }

    fn covariance<T: Real, const D: usize, const K: usize>(
        p: &[SphericalFactor<T>; K],
        k: usize,
    ) -> SMatrix<T, D, D> {
        SMatrix::identity() * p[k].variance
    }

    fn transform<T: Real, const D: usize, const K: usize>(
        p: &[SphericalFactor<T>; K],
        k: usize,
        z: &SVector<T, D>,
    ) -> SVector<T, D> {
        z * Real::sqrt(p[k].variance)
    }

    fn for_each_value<T: Real, const D: usize, const K: usize>(
        p: &[SphericalFactor<T>; K],
        mut f: impl FnMut(T),
    ) {
        for c in p {
            f(c.variance);
        }
    }

    fn second_zero<T: Real, const D: usize, const K: usize>() -> SVector<T, K> {
        SVector::zeros()
    }

    fn second_scale<T: Real, const D: usize, const K: usize>(s: &mut SVector<T, K>, f: T) {
        *s *= f;
    }

    fn second_is_finite<T: Real, const D: usize, const K: usize>(s: &SVector<T, K>) -> bool {
        crate::real::all_finite(s.iter().copied())
    }

    fn second_add<T: Real, const D: usize, const K: usize>(
        a: &mut SVector<T, K>,
        b: &SVector<T, K>,
    ) {
        *a += b;
    }

    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn second_push<T: Real, const D: usize, const K: usize>(
        s: &mut SVector<T, K>,
        k: usize,
        r: T,
        d: &SVector<T, D>,
    ) {
        s[k] = T::madd(r, linalg::norm_sq(d.as_slice()), s[k]);
    }

    /// From `D = 4`, as [`Full`](super::Full). With `linalg::norm_sq`'s
    /// order for the norm (a serial chain of additions before), `KIND=spherical
    /// CASES="d8_k8_f64 d8_k8_f32" bash benches/compare_commits.sh ce87d6b`
    /// (`ROUNDS=11`, an Intel Xeon) put `em_step` at 0.93 (`f64`) and 0.89
    /// (`f32`) of the time point by point on the default x86-64 target,
    /// 0.86 and 0.77 with `RUSTFLAGS="-C target-feature=+avx2,+fma"`, and
    /// 0.85 and 0.69 with `-C target-cpu=native` (AVX-512).
    #[inline]
    fn runs<T: Real, const D: usize>() -> bool {
        D >= 4
    }

    /// In `f32` and `f64`, lanes outer: with components outer, LLVM
    /// vectorised the loop over components, with gathers, and a `D = 3` fit
    /// took over twice as long as point by point.
    #[inline]
    fn lanes<T: Real, const D: usize>() -> Option<LaneLoops> {
        Some(LaneLoops::LanesOuter)
    }

    /// `r ‖d‖²` in entry 0, the norm in `linalg::norm_sq`'s order (as
    /// `second_push`).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn second_lane<T: Real, const D: usize, const L: usize>(
        s: &mut [[T; L]; LANE_SECOND],
        l: usize,
        r: T,
        d: &[T; D],
    ) {
        if let Some(s) = s.first_mut().and_then(|s| s.get_mut(l)) {
            *s = T::madd(r, linalg::norm_sq(d), *s);
        }
    }

    fn second_from_lanes<T: Real, const D: usize, const K: usize>(
        s: &mut SVector<T, K>,
        k: usize,
        v: &[T; LANE_SECOND],
    ) {
        if let (Some(s), Some(v)) = (s.get_mut(k), v.first()) {
            *s += *v;
        }
    }

    fn second_trace<T: Real, const D: usize, const K: usize>(
        s: &SVector<T, K>,
        live: &[bool; K],
        f: T,
    ) -> T {
        live_total(s.iter().map(|&v| v * f), live)
    }

    fn needs_recentring<T: Real, const D: usize, const K: usize>(
        s: &SVector<T, K>,
        m: &Moments1<'_, T, D, K>,
    ) -> bool {
        (0..K).any(|k| {
            m.live[k] && {
                let delta = m.first[k] / m.counts[k];
                super::cancels(s[k] / m.counts[k], delta.norm_squared(), m.resolution[k])
            }
        })
    }

    fn m_step<T: Real, const D: usize, const K: usize>(
        s: &SVector<T, K>,
        m: &Moments1<'_, T, D, K>,
        reg: T,
        params: &mut [SphericalFactor<T>; K],
    ) -> Result<T, Error> {
        each_component(params, &m.live, |k, slot| {
            let delta = m.delta(k);
            let mut sum = s[k] * (T::one() / m.counts[k]) - delta.dot(&delta);
            if let Some(x) = m.excess(k) {
                sum += x.dot(&x);
            }
            let variance = sum / T::from_count(D);
            SphericalFactor::lift_into(variance, D, reg, slot)
        })
    }

    /// The mean of each estimate's diagonal.
    fn input_from_matrices<T: Real, const D: usize, const K: usize>(
        covariances: &[SMatrix<T, D, D>; K],
    ) -> [T; K] {
        covariances.map(|c| c.get((0, 0)).copied().unwrap_or(T::zero()))
    }

    fn from_estimates<T: Real, const D: usize, const K: usize>(
        covariances: &[SMatrix<T, D, D>; K],
        _counts: &[T; K],
        reg: T,
    ) -> Result<[SphericalFactor<T>; K], Error> {
        let mut params = [SphericalFactor::one(D); K];
        each_component(&mut params, &[true; K], |k, slot| {
            let variance = linalg::mean_diagonal(&covariances[k], T::one());
            SphericalFactor::lift_into(variance, D, reg, slot)
        })?;
        Ok(params)
    }
}
