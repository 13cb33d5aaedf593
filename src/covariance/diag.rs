//! Diagonal covariance: each component its own variance per coordinate.
//! Statistics keep `Σᵢ rᵢₖ (xᵢ − cₖ)²` per coordinate (`O(K·D)`), and a
//! point costs `O(K·D)`.

use nalgebra::{SMatrix, SVector};

use super::{
    each_component, live_total, log_norm_from, CovarianceKind, Diag, LaneLoops, Moments1, Shape,
    LANE_SECOND,
};
use crate::error::Error;
use crate::linalg;
use crate::real::Real;

/// One component's variances `σᵢ²` with `1/(√2 σᵢ)` (so that
/// `Σᵢ (dᵢ/(√2 σᵢ))²` is half the squared Mahalanobis distance) and the
/// log-normaliser `−(D/2) ln 2π − Σᵢ ln σᵢ`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiagFactor<T: Real, const D: usize> {
    variances: SVector<T, D>,
    half_inv_sd: SVector<T, D>,
    log_norm: T,
}

impl<T: Real, const D: usize> DiagFactor<T, D> {
    /// `None` unless every variance is positive with a finite inverse and
    /// the log-normaliser is finite.
    fn new(variances: SVector<T, D>) -> Option<Self> {
        let mut half_inv_sd = SVector::<T, D>::zeros();
        let mut log_det_half = T::zero();
        for i in 0..D {
            let v = variances[i];
            if !(v > T::zero()) || !v.is_finite() {
                return None;
            }
            let sd = Real::sqrt(v);
            half_inv_sd[i] = T::one() / sd * T::lit(core::f64::consts::FRAC_1_SQRT_2);
            if !half_inv_sd[i].is_finite() {
                return None;
            }
            log_det_half += Real::ln(sd);
        }
        Some(Self {
            variances,
            half_inv_sd,
            log_norm: log_norm_from(D, log_det_half)?,
        })
    }

    /// `variances + λ` factorised into `out`, `λ` by [`linalg::lift`]
    /// (`None`, with `out` unchanged, if every attempt fails).
    // Always inlined into the M-step: outlined, it adds a frame of 88
    // bytes to the fit's peak stack (Cortex-M4F, D = 2, K = 3).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn lift_into(variances: &SVector<T, D>, reg: T, out: &mut Self) -> Option<T> {
        let largest = variances.iter().fold(T::zero(), |m, &v| Real::max(m, v));
        linalg::lift(reg, largest, D, |lambda| {
            Self::new(variances.map(|v| v + lambda))
                .map(|f| *out = f)
                .is_some()
        })
    }

    fn one() -> Self {
        Self {
            variances: SVector::repeat(T::one()),
            half_inv_sd: SVector::repeat(T::lit(core::f64::consts::FRAC_1_SQRT_2)),
            log_norm: -T::lit(0.5) * T::from_count(D) * T::LN_2PI,
        }
    }
}

impl CovarianceKind for Diag {
    const NAME: &'static str = "diag";
    const SHAPE: Shape = Shape::DiagonalPerComponent;
    type Params<T: Real, const D: usize, const K: usize> = [DiagFactor<T, D>; K];
    type Input<T: Real, const D: usize, const K: usize> = [SVector<T, D>; K];
    type Second<T: Real, const D: usize, const K: usize> = [SVector<T, D>; K];

    fn validate<T: Real, const D: usize, const K: usize>(
        input: &[SVector<T, D>; K],
    ) -> Result<[DiagFactor<T, D>; K], Error> {
        let mut out = [DiagFactor::one(); K];
        for (k, (slot, v)) in out.iter_mut().zip(input.iter()).enumerate() {
            if !v.iter().all(|&x| x.is_finite()) {
                return Err(Error::NonFiniteParameter { component: k });
            }
            *slot = DiagFactor::new(*v).ok_or(Error::NotPositiveDefinite { component: k })?;
        }
        Ok(out)
    }

    #[inline]
    fn log_norm<T: Real, const D: usize, const K: usize>(p: &[DiagFactor<T, D>; K], k: usize) -> T {
        p[k].log_norm
    }

    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn half_mahalanobis_sq<T: Real, const D: usize, const K: usize, const L: usize>(
        p: &[DiagFactor<T, D>; K],
        k: usize,
        x: &[[T; L]; D],
        mean: &SVector<T, D>,
    ) -> [T; L] {
        let h = &p[k].half_inv_sd;
        // From −0: see `linalg::lower_norm_sq`.
        let mut q = [-T::zero(); L];
        for i in 0..D {
            let (h, m) = (h[i], mean[i]);
            for (q, &x) in q.iter_mut().zip(x[i].iter()) {
                let z = h * (x - m);
                *q = T::madd(z, z, *q);
            }
        }
        q
    }

    fn covariance<T: Real, const D: usize, const K: usize>(
        p: &[DiagFactor<T, D>; K],
        k: usize,
    ) -> SMatrix<T, D, D> {
        SMatrix::from_diagonal(&p[k].variances)
    }

    fn transform<T: Real, const D: usize, const K: usize>(
        p: &[DiagFactor<T, D>; K],
        k: usize,
        z: &SVector<T, D>,
    ) -> SVector<T, D> {
        p[k].variances.zip_map(z, |v, z| Real::sqrt(v) * z)
    }

    fn for_each_value<T: Real, const D: usize, const K: usize>(
        p: &[DiagFactor<T, D>; K],
        mut f: impl FnMut(T),
    ) {
        for c in p {
            c.variances.iter().for_each(|&v| f(v));
        }
    }

    fn second_zero<T: Real, const D: usize, const K: usize>() -> [SVector<T, D>; K] {
        [SVector::zeros(); K]
    }

    fn second_scale<T: Real, const D: usize, const K: usize>(s: &mut [SVector<T, D>; K], f: T) {
        for v in s.iter_mut() {
            *v *= f;
        }
    }

    fn second_is_finite<T: Real, const D: usize, const K: usize>(s: &[SVector<T, D>; K]) -> bool {
        crate::real::all_finite(s.iter().flat_map(|v| v.iter()).copied())
    }

    fn second_add<T: Real, const D: usize, const K: usize>(
        a: &mut [SVector<T, D>; K],
        b: &[SVector<T, D>; K],
    ) {
        for (a, b) in a.iter_mut().zip(b.iter()) {
            *a += b;
        }
    }

    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn second_push<T: Real, const D: usize, const K: usize>(
        s: &mut [SVector<T, D>; K],
        k: usize,
        r: T,
        d: &SVector<T, D>,
    ) {
        let s = &mut s[k];
        for i in 0..D {
            s[i] = T::madd(r * d[i], d[i], s[i]);
        }
    }

    /// From `D = 4`, as [`Full`](super::Full), but not with AVX-512,
    /// where a throw-away build that did so was slower at `D = 8, K = 8`.
    /// `KIND=diag CASES="d8_k8_f64 d8_k8_f32" bash
    /// benches/compare_commits.sh ce87d6b` (`ROUNDS=11`, an Intel Xeon) put
    /// `em_step` at 0.93 (`f64`) and 0.82 (`f32`) of the time point by
    /// point on the default x86-64 target, and at 0.84 and 0.86 with
    /// `RUSTFLAGS="-C target-feature=+avx2,+fma"`.
    #[inline]
    fn runs<T: Real, const D: usize>() -> bool {
        D >= 4 && !linalg::wide_registers()
    }

    /// In `f32`, components outer. `KIND=diag ROUNDS=9 CASES="d2_k3_f32
    /// d2_k3_f64" bash benches/compare_commits.sh 91d7a1f` (an Intel Xeon)
    /// put `em_step` at D = 2, K = 3 in `f32` at 0.77 of the time point
    /// by point on the default x86-64 target, 0.69 with
    /// `RUSTFLAGS="-C target-feature=+avx2,+fma"` and 0.87 with
    /// `target-cpu=native`. Not in `f64`, where the same build took 1.10
    /// and 1.26 times as long on the default target and with
    /// `target-cpu=native` (0.88 with AVX2): the choice sets the order of
    /// the sums, so it may depend on the type but not on the target.
    #[inline]
    fn lanes<T: Real, const D: usize>() -> Option<LaneLoops> {
        (size_of::<T>() == 4).then_some(LaneLoops::ComponentsOuter)
    }

    /// `(r dᵢ) dᵢ` in entry `i`.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn second_lane<T: Real, const D: usize, const L: usize>(
        s: &mut [[T; L]; LANE_SECOND],
        l: usize,
        r: T,
        d: &[T; D],
    ) {
        for (s, d) in s.iter_mut().zip(d) {
            if let Some(s) = s.get_mut(l) {
                *s = T::madd(r * *d, *d, *s);
            }
        }
    }

    fn second_from_lanes<T: Real, const D: usize, const K: usize>(
        s: &mut [SVector<T, D>; K],
        k: usize,
        v: &[T; LANE_SECOND],
    ) {
        if let Some(s) = s.get_mut(k) {
            for (s, v) in s.iter_mut().zip(v) {
                *s += *v;
            }
        }
    }

    fn second_trace<T: Real, const D: usize, const K: usize>(
        s: &[SVector<T, D>; K],
        live: &[bool; K],
        f: T,
    ) -> T {
        live_total(
            s.iter()
                .map(|v| v.iter().fold(T::zero(), |t, &x| t + x * f)),
            live,
        )
    }

    fn needs_recentring<T: Real, const D: usize, const K: usize>(
        s: &[SVector<T, D>; K],
        m: &Moments1<'_, T, D, K>,
    ) -> bool {
        (0..K).any(|k| {
            m.live[k]
                && (0..D).any(|i| {
                    let delta = m.first[k][i] / m.counts[k];
                    super::cancels(s[k][i] / m.counts[k], delta * delta, m.resolution[k])
                })
        })
    }

    fn m_step<T: Real, const D: usize, const K: usize>(
        s: &[SVector<T, D>; K],
        m: &Moments1<'_, T, D, K>,
        reg: T,
        params: &mut [DiagFactor<T, D>; K],
    ) -> Result<T, Error> {
        each_component(params, &m.live, |k, slot| {
            let inv = T::one() / m.counts[k];
            let delta = m.delta(k);
            let mut v = s[k].zip_map(&delta, |s2, d| s2 * inv - d * d);
            if let Some(x) = m.excess(k) {
                v += x.component_mul(&x);
            }
            DiagFactor::lift_into(&v, reg, slot)
        })
    }

    /// The diagonals of the estimates.
    fn input_from_matrices<T: Real, const D: usize, const K: usize>(
        covariances: &[SMatrix<T, D, D>; K],
    ) -> [SVector<T, D>; K] {
        covariances.map(|c| c.diagonal())
    }

    fn from_estimates<T: Real, const D: usize, const K: usize>(
        covariances: &[SMatrix<T, D, D>; K],
        _counts: &[T; K],
        reg: T,
    ) -> Result<[DiagFactor<T, D>; K], Error> {
        let mut params = [DiagFactor::one(); K];
        each_component(&mut params, &[true; K], |k, slot| {
            DiagFactor::lift_into(&covariances[k].diagonal(), reg, slot)
        })?;
        Ok(params)
    }
}
