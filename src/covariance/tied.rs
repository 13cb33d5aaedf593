//! Tied covariance: one symmetric positive-definite matrix shared by every
//! component. Its M-step pools the scatter of all components about their
//! own new means, `Σ = (1/N) Σₖ (S2ₖ − Nₖ δₖ δₖᵀ)`, so the statistics keep a
//! single `D×D` second moment (each point's share about its own
//! component's shift, summed over components).

use nalgebra::{SMatrix, SVector};

use super::full::{scatter, Factor};
use super::{
    lower_from_lanes, lower_lane, CovarianceKind, LaneLoops, Moments1, Shape, Tied, LANE_SECOND,
};
use crate::error::Error;
use crate::linalg;
use crate::real::Real;

impl CovarianceKind for Tied {
    const NAME: &'static str = "tied";
    const SHAPE: Shape = Shape::SharedMatrix;
    type Params<T: Real, const D: usize, const K: usize> = Factor<T, D>;
    type Input<T: Real, const D: usize, const K: usize> = SMatrix<T, D, D>;
    type Second<T: Real, const D: usize, const K: usize> = SMatrix<T, D, D>;

    /// Errors name component 0: the one matrix all components share.
    fn validate<T: Real, const D: usize, const K: usize>(
        input: &SMatrix<T, D, D>,
    ) -> Result<Factor<T, D>, Error> {
        Factor::validated(*input, 0)
    }

    #[inline]
    fn log_norm<T: Real, const D: usize, const K: usize>(p: &Factor<T, D>, _k: usize) -> T {
        p.log_norm()
    }

    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn half_mahalanobis_sq<T: Real, const D: usize, const K: usize, const L: usize>(
        p: &Factor<T, D>,
        _k: usize,
        x: &[[T; L]; D],
        mean: &SVector<T, D>,
    ) -> [T; L] {
        p.half_mahalanobis_sq(x, mean)
    }

    fn covariance<T: Real, const D: usize, const K: usize>(
        p: &Factor<T, D>,
        _k: usize,
    ) -> SMatrix<T, D, D> {
        *p.covariance()
    }

    fn transform<T: Real, const D: usize, const K: usize>(
        p: &Factor<T, D>,
        _k: usize,
        z: &SVector<T, D>,
    ) -> SVector<T, D> {
        p.transform(z)
    }

    fn for_each_value<T: Real, const D: usize, const K: usize>(
        p: &Factor<T, D>,
        mut f: impl FnMut(T),
    ) {
        p.covariance().iter().for_each(|&v| f(v));
    }

    fn second_zero<T: Real, const D: usize, const K: usize>() -> SMatrix<T, D, D> {
        SMatrix::zeros()
    }

    fn second_scale<T: Real, const D: usize, const K: usize>(s: &mut SMatrix<T, D, D>, f: T) {
        *s *= f;
    }

    fn second_is_finite<T: Real, const D: usize, const K: usize>(s: &SMatrix<T, D, D>) -> bool {
        crate::real::all_finite(linalg::lower_entries(s))
    }

    #[cfg(test)]
    fn second_as_read<T: Real, const D: usize, const K: usize>(
        mut s: SMatrix<T, D, D>,
    ) -> SMatrix<T, D, D> {
        linalg::mirror_lower(&mut s);
        s
    }

    fn second_add<T: Real, const D: usize, const K: usize>(
        a: &mut SMatrix<T, D, D>,
        b: &SMatrix<T, D, D>,
    ) {
        *a += b;
    }

    /// The lower triangle in whole vectors ([`linalg::add_outer_blocks`]):
    /// its bits are `add_outer_lower`'s, and the upper entries added to are
    /// never read. `KIND=tied CASES="d2_k3_f64 d8_k8_f64 d8_k8_f32" bash
    /// benches/compare_commits.sh b64f813` (`ROUNDS=11`, paired medians of
    /// `em_step` against the triangle) put it at 1.01 / 0.97 / 0.92 of the
    /// time on the default x86-64 target and 0.94 / 0.97 / 0.84 with
    /// `target-cpu=native` (`f32` at `D ≤ 3` adds in lanes instead).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn second_push<T: Real, const D: usize, const K: usize>(
        s: &mut SMatrix<T, D, D>,
        _k: usize,
        r: T,
        d: &SVector<T, D>,
    ) {
        linalg::add_outer_blocks(s, d, r);
    }

    /// In `f32`, lanes outer (components outer was slower at D = 2, 3).
    /// Not in `f64`: in lanes an `f64` fit at D = 2 was slower with
    /// `target-cpu=native`.
    #[inline]
    fn lanes<T: Real, const D: usize>() -> Option<LaneLoops> {
        (size_of::<T>() == 4).then_some(LaneLoops::LanesOuter)
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

    /// Into the pooled sum: components in turn.
    fn second_from_lanes<T: Real, const D: usize, const K: usize>(
        s: &mut SMatrix<T, D, D>,
        _k: usize,
        v: &[T; LANE_SECOND],
    ) {
        lower_from_lanes(s, v);
    }

    // `runs` stays `false`: a run of one component's points would add them
    // to the pooled sum in another order than point by point.

    /// The pooled trace: every component's share is in it.
    fn second_trace<T: Real, const D: usize, const K: usize>(
        s: &SMatrix<T, D, D>,
        _live: &[bool; K],
        f: T,
    ) -> T {
        (0..D).fold(T::zero(), |t, i| t + s[(i, i)] * f)
    }

    /// On the pooled diagonal: `raw = Σₖ S2ₖ,ᵢᵢ / N` against
    /// `Σₖ Nₖ δₖᵢ² / N` over the components the M-step takes about their own
    /// points' mean (`Moments1::pooled_delta`: the live ones and the starved
    /// ones it can), at the live components' resolution.
    fn needs_recentring<T: Real, const D: usize, const K: usize>(
        s: &SMatrix<T, D, D>,
        m: &Moments1<'_, T, D, K>,
    ) -> bool {
        let mut resolution = T::zero();
        for k in 0..K {
            if m.live[k] {
                resolution = Real::max(resolution, m.resolution[k]);
            }
        }
        (0..D).any(|i| {
            let mut subtracted = T::zero();
            for k in 0..K {
                if m.live[k] {
                    let delta = m.first[k][i] / m.counts[k];
                    subtracted += m.counts[k] * delta * delta;
                } else if let Some(delta) = m.pooled_delta(k) {
                    subtracted += m.counts[k] * delta[i] * delta[i];
                }
            }
            super::cancels(s[(i, i)] / m.total, subtracted / m.total, resolution)
        })
    }

    /// Starved components' shares are left out of the pool: their weight is
    /// at most `ε` of the total, and their means are not re-estimated. The
    /// pooled sum holds their points' scatter about their shift, which is
    /// their own old mean, possibly far from those points: it is taken
    /// about the points' weighted mean instead (`Nₖ δₖδₖᵀ` subtracted, as for
    /// a live component), which leaves a share of at most `ε` of the data's
    /// scatter. (Kept about the far shift, it made one step's covariance up
    /// to 63 % too large.)
    fn m_step<T: Real, const D: usize, const K: usize>(
        s: &SMatrix<T, D, D>,
        m: &Moments1<'_, T, D, K>,
        reg: T,
        params: &mut Factor<T, D>,
    ) -> Result<T, Error> {
        let cov = scatter(s, m.total, |c| {
            let inv = T::one() / m.total;
            for k in 0..K {
                if let Some(delta) = m.pooled_delta(k) {
                    linalg::add_outer_lower(c, &delta, -(m.counts[k] * inv));
                    if let Some(x) = m.excess(k).filter(|_| m.live[k]) {
                        linalg::add_outer_lower(c, &x, m.counts[k] * inv);
                    }
                }
            }
        });
        Factor::lift_into(&cov, reg, params).ok_or(Error::NotPositiveDefinite { component: 0 })
    }

    /// The count-weighted average of the estimates.
    fn input_from_matrices<T: Real, const D: usize, const K: usize>(
        covariances: &[SMatrix<T, D, D>; K],
    ) -> SMatrix<T, D, D> {
        covariances.first().copied().unwrap_or_else(SMatrix::zeros)
    }

    fn from_estimates<T: Real, const D: usize, const K: usize>(
        covariances: &[SMatrix<T, D, D>; K],
        counts: &[T; K],
        reg: T,
    ) -> Result<Factor<T, D>, Error> {
        let total = counts.iter().fold(T::zero(), |a, &c| a + c);
        let mut pooled = SMatrix::<T, D, D>::zeros();
        for (cov, &n) in covariances.iter().zip(counts.iter()) {
            pooled += cov * (n / total);
        }
        let mut factor = Factor::identity();
        Factor::lift_into(&pooled, reg, &mut factor)
            .map(|_| factor)
            .ok_or(Error::NotPositiveDefinite { component: 0 })
    }
}
