//! Covariance kinds: how a mixture's covariances are parameterised.
//!
//! The kind is the fourth type parameter of [`Gmm`](crate::Gmm), a
//! zero-sized marker, as in scikit-learn's `covariance_type`:
//!
//! | kind | each component's covariance | stored per model | free parameters |
//! |---|---|---|---|
//! | [`Full`] (default) | any symmetric positive-definite `Σₖ` | `K` matrices | `K·D(D+1)/2` |
//! | [`Diag`] | `diag(σₖ₁², …, σₖ_D²)` | `K` vectors | `K·D` |
//! | [`Spherical`] | `σₖ² I` | `K` scalars | `K` |
//! | [`Tied`] | one `Σ` shared by all | one matrix | `D(D+1)/2` |
//!
//! A kind decides what the model stores, what [`Gmm::new`](crate::Gmm::new)
//! takes, the squared Mahalanobis term of the E-step, the second moments the
//! statistics keep (`O(K·D²)` for full, `O(K·D)` for diagonal, `O(K)` for
//! spherical, `O(D²)` for tied) and the covariance M-step (tied pools the
//! scatter of all components). Everything else (weights, means,
//! log-sum-exp, the fit loop) is shared. The trait is sealed: these four are
//! all there are, and each lives in a file of its own in this folder.

use core::fmt::Debug;
use core::hash::Hash;

use nalgebra::{SMatrix, SVector};

use crate::error::Error;
use crate::real::Real;

mod diag;
mod full;
mod spherical;
mod tied;

pub use full::Gaussian;

/// Full covariance: each component has its own symmetric positive-definite
/// matrix. [`Gmm::new`](crate::Gmm::new) takes `[SMatrix<T, D, D>; K]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Full;

/// Diagonal covariance: each component has its own variance per
/// coordinate (axis-aligned ellipsoids). [`Gmm::new`](crate::Gmm::new)
/// takes the variances as `[SVector<T, D>; K]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Diag;

/// Spherical covariance: each component has one variance for all
/// coordinates, `σₖ² I`. [`Gmm::new`](crate::Gmm::new) takes `[T; K]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Spherical;

/// Tied covariance: all components share one symmetric positive-definite
/// matrix. [`Gmm::new`](crate::Gmm::new) takes one `SMatrix<T, D, D>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tied;

/// The largest dimension whose statistics hosts add in lanes (see
/// `stats`): a component's sums, one per lane, are then at most
/// `1 + LANE_D + LANE_SECOND` vectors.
pub(crate) const LANE_D: usize = 3;

/// Second-moment sums per component in lanes: the lower triangle at
/// [`LANE_D`].
pub(crate) const LANE_SECOND: usize = LANE_D * (LANE_D + 1) / 2;

/// How the loops that add a chunk's statistics in lanes nest (see
/// [`CovarianceKind::lanes`]). Each lane's sums get the same terms in the
/// same order either way, so the bits are the same; which one LLVM turns
/// into better vector code depends on the kind (measured with
/// `target-cpu=native` on an AVX-512 host; see the kinds' `lanes`).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaneLoops {
    /// For each component, each step across the lanes.
    ComponentsOuter,
    /// For each lane, its steps over the components.
    LanesOuter,
}

/// [`lower_lane`] for every lane at once (`r[l]`, `d[i][l]` lane `l`'s):
/// each lane's terms by the same operations, as operations across lanes.
#[allow(clippy::inline_always)]
#[inline(always)]
fn lower_lanes<T: Real, const D: usize, const L: usize>(
    s: &mut [[T; L]; LANE_SECOND],
    r: &[T; L],
    d: &[[T; L]; D],
) {
    let mut t = 0;
    for (i, di) in d.iter().enumerate() {
        let mut rd = *di;
        for (v, r) in rd.iter_mut().zip(r) {
            *v *= *r;
        }
        for dj in d.iter().take(i + 1) {
            if let Some(s) = s.get_mut(t) {
                for ((s, rd), dj) in s.iter_mut().zip(&rd).zip(dj) {
                    *s = T::madd(*rd, *dj, *s);
                }
            }
            t += 1;
        }
    }
}

/// [`CovarianceKind::second_lane`]'s lower triangle of `r d dᵀ` (full,
/// tied): `(r dᵢ) dⱼ`, as `linalg::add_outer_lower`.
#[allow(clippy::inline_always)]
#[inline(always)]
fn lower_lane<T: Real, const D: usize, const L: usize>(
    s: &mut [[T; L]; LANE_SECOND],
    l: usize,
    r: T,
    d: &[T; D],
) {
    let mut t = 0;
    for (i, di) in d.iter().enumerate() {
        let rd = *di * r;
        for dj in d.iter().take(i + 1) {
            if let Some(s) = s.get_mut(t).and_then(|s| s.get_mut(l)) {
                *s = T::madd(rd, *dj, *s);
            }
            t += 1;
        }
    }
}

/// [`CovarianceKind::second_from_lanes`] for a lower triangle: entry
/// `i(i+1)/2 + j` of `v` added to `s[(i, j)]`.
fn lower_from_lanes<T: Real, const D: usize>(s: &mut SMatrix<T, D, D>, v: &[T; LANE_SECOND]) {
    let mut t = 0;
    for i in 0..D {
        for j in 0..=i {
            if let Some(v) = v.get(t) {
                s[(i, j)] += *v;
            }
            t += 1;
        }
    }
}

/// The sum of the `terms` whose component `live` marks: the
/// [`CovarianceKind::second_trace`] of the kinds with a sum per component.
fn live_total<T: Real>(terms: impl Iterator<Item = T>, live: &[bool]) -> T {
    terms
        .zip(live)
        .filter(|(_, &l)| l)
        .fold(T::zero(), |t, (v, _)| t + v)
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Full {}
    impl Sealed for super::Diag {}
    impl Sealed for super::Spherical {}
    impl Sealed for super::Tied {}
}

/// How many numbers a kind's covariances have, as a function of `D` and `K`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[doc(hidden)]
pub enum Shape {
    /// `K` symmetric matrices.
    MatrixPerComponent,
    /// `K` diagonals.
    DiagonalPerComponent,
    /// `K` scalars.
    ScalarPerComponent,
    /// One symmetric matrix.
    SharedMatrix,
}

impl Shape {
    /// Free parameters of the covariances, as scikit-learn's
    /// `GaussianMixture._n_parameters` counts them.
    #[must_use]
    pub const fn parameters(self, d: usize, k: usize) -> usize {
        match self {
            Shape::MatrixPerComponent => k * d * (d + 1) / 2,
            Shape::DiagonalPerComponent => k * d,
            Shape::ScalarPerComponent => k,
            Shape::SharedMatrix => d * (d + 1) / 2,
        }
    }
}

/// A covariance kind: [`Full`], [`Diag`], [`Spherical`] or [`Tied`]
/// (sealed). Its items other than [`NAME`](Self::NAME) and
/// [`SHAPE`](Self::SHAPE) are the crate's internals and hidden from the
/// documentation; use the kinds through [`Gmm`](crate::Gmm).
pub trait CovarianceKind:
    sealed::Sealed + Copy + Debug + Default + PartialEq + Eq + Hash + Send + Sync + 'static
{
    /// The kind's name in scikit-learn's `covariance_type`.
    const NAME: &'static str;
    /// How many numbers the covariances have.
    #[doc(hidden)]
    const SHAPE: Shape;

    /// The covariances as the model stores them, with the factors and
    /// log-normalisers the E-step needs.
    #[doc(hidden)]
    type Params<T: Real, const D: usize, const K: usize>: Copy + Debug + PartialEq + Send + Sync;
    /// What [`Gmm::new`](crate::Gmm::new) takes.
    #[doc(hidden)]
    type Input<T: Real, const D: usize, const K: usize>: Copy;
    /// The second moments the statistics keep.
    #[doc(hidden)]
    type Second<T: Real, const D: usize, const K: usize>: Copy + Debug + PartialEq + Send + Sync;

    /// Validates user-given covariances: finite, symmetric, positive
    /// definite, naming the component in errors.
    #[doc(hidden)]
    fn validate<T: Real, const D: usize, const K: usize>(
        input: &Self::Input<T, D, K>,
    ) -> Result<Self::Params<T, D, K>, Error>;

    /// `−(D/2) ln 2π − ½ ln det Σₖ`.
    #[doc(hidden)]
    fn log_norm<T: Real, const D: usize, const K: usize>(p: &Self::Params<T, D, K>, k: usize) -> T;

    /// `½ (x − μ)ᵀ Σₖ⁻¹ (x − μ)` for `L` points at once held as lanes
    /// (`x[i][l]`: coordinate `i` of point `l`); `+∞` or NaN on overflow
    /// (callers treat both as zero density). A lane's value does not depend
    /// on `L` or on the other lanes.
    #[doc(hidden)]
    fn half_mahalanobis_sq<T: Real, const D: usize, const K: usize, const L: usize>(
        p: &Self::Params<T, D, K>,
        k: usize,
        x: &[[T; L]; D],
        mean: &SVector<T, D>,
    ) -> [T; L];

    /// `Σₖ` as a full matrix.
    #[doc(hidden)]
    fn covariance<T: Real, const D: usize, const K: usize>(
        p: &Self::Params<T, D, K>,
        k: usize,
    ) -> SMatrix<T, D, D>;

    /// `Aₖ z` for a factor `Aₖ Aₖᵀ = Σₖ` (the lower Cholesky factor for
    /// full and tied covariances): the sampling transform.
    #[doc(hidden)]
    fn transform<T: Real, const D: usize, const K: usize>(
        p: &Self::Params<T, D, K>,
        k: usize,
        z: &SVector<T, D>,
    ) -> SVector<T, D>;

    /// Calls `f` with every number that defines the covariances (for
    /// fingerprints).
    #[doc(hidden)]
    fn for_each_value<T: Real, const D: usize, const K: usize>(
        p: &Self::Params<T, D, K>,
        f: impl FnMut(T),
    );

    /// Second moments of nothing.
    #[doc(hidden)]
    fn second_zero<T: Real, const D: usize, const K: usize>() -> Self::Second<T, D, K>;

    /// `a += b`.
    #[doc(hidden)]
    fn second_add<T: Real, const D: usize, const K: usize>(
        a: &mut Self::Second<T, D, K>,
        b: &Self::Second<T, D, K>,
    );

    /// `s *= f` (online EM's forgetting of old points).
    #[doc(hidden)]
    fn second_scale<T: Real, const D: usize, const K: usize>(s: &mut Self::Second<T, D, K>, f: T);

    /// Whether every second-moment sum that is read is finite (full and
    /// tied covariance: the lower triangles; their upper entries are never
    /// read).
    #[doc(hidden)]
    fn second_is_finite<T: Real, const D: usize, const K: usize>(s: &Self::Second<T, D, K>)
        -> bool;

    /// The sums as they are read: full and tied covariance's lower
    /// triangles mirrored onto the upper ones, which hold zeros or, where
    /// the sums are added in whole vectors, differently rounded sums.
    /// For tests that compare two ways of adding the same points.
    #[cfg(test)]
    fn second_as_read<T: Real, const D: usize, const K: usize>(
        s: Self::Second<T, D, K>,
    ) -> Self::Second<T, D, K> {
        s
    }

    /// Adds component `k`'s share `r` of a point at offset `d` from its
    /// shift: `r d dᵀ` (or the part of it the kind keeps).
    #[doc(hidden)]
    fn second_push<T: Real, const D: usize, const K: usize>(
        s: &mut Self::Second<T, D, K>,
        k: usize,
        r: T,
        d: &SVector<T, D>,
    );

    /// Whether the statistics, on targets with lanes, add a chunk's points
    /// one component at a time through
    /// [`second_push_run`](Self::second_push_run) (so that a component's
    /// sums can stay in registers over the chunk) rather than point by
    /// point. It must be `false` for [`Tied`], whose pooled sum takes the
    /// components of each point in turn.
    #[doc(hidden)]
    #[must_use]
    fn runs<T: Real, const D: usize>() -> bool {
        false
    }

    /// Adds to component `k`'s second moments the points `next(l)` gives
    /// for `l` in `0..n` in turn: `Some((r, d))` for a share `r` at offset
    /// `d`, `None` for a point without a share. The same sums as
    /// [`second_push`](Self::second_push) for each, in the same order.
    /// `next` is called exactly once for each `l`, in order (callers sum
    /// the counts and first moments in it).
    #[doc(hidden)]
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn second_push_run<T: Real, const D: usize, const K: usize>(
        s: &mut Self::Second<T, D, K>,
        k: usize,
        n: usize,
        mut next: impl FnMut(usize) -> Option<(T, SVector<T, D>)>,
    ) {
        for l in 0..n {
            if let Some((r, d)) = next(l) {
                Self::second_push(s, k, r, &d);
            }
        }
    }

    /// Whether hosts add the statistics in lanes at this `D ≤ LANE_D`
    /// (see `stats::LaneSums`), with which nesting of the loops; `None`:
    /// point by point.
    #[doc(hidden)]
    fn lanes<T: Real, const D: usize>() -> Option<LaneLoops>;

    /// Adds one component's share `r` of a point at offset `d` (0 if `r`
    /// is) to lane `l` of its second-moment sums in lanes `s`: the lower
    /// triangle of `r d dᵀ` (entry `i(i+1)/2 + j` for `j ≤ i`; full,
    /// tied), its diagonal (diag) or its trace (spherical), as
    /// [`second_push`](Self::second_push) computes them. Used where
    /// `D ≤ LANE_D`.
    #[doc(hidden)]
    fn second_lane<T: Real, const D: usize, const L: usize>(
        s: &mut [[T; L]; LANE_SECOND],
        l: usize,
        r: T,
        d: &[T; D],
    );

    /// [`second_lane`](Self::second_lane) for every lane at once: `r[l]`
    /// and `d[i][l]` are lane `l`'s share and offsets. The same terms in
    /// each lane; a kind whose terms are the same operations in every lane
    /// gives them as operations across the lanes, which the compiler
    /// vectorises (the default goes lane by lane).
    #[doc(hidden)]
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn second_lanes<T: Real, const D: usize, const L: usize>(
        s: &mut [[T; L]; LANE_SECOND],
        r: &[T; L],
        d: &[[T; L]; D],
    ) {
        for (l, r) in r.iter().enumerate() {
            let dl: [T; D] = core::array::from_fn(|i| d[i][l]);
            Self::second_lane(s, l, *r, &dl);
        }
    }

    /// Adds component `k`'s [`second_lane`](Self::second_lane) sums,
    /// each already summed over its lanes (`v`, in that layout), to `s`.
    #[doc(hidden)]
    fn second_from_lanes<T: Real, const D: usize, const K: usize>(
        s: &mut Self::Second<T, D, K>,
        k: usize,
        v: &[T; LANE_SECOND],
    );

    /// The trace of the second moments of the components `live` marks,
    /// `Σₖ tr S2ₖ` (tied: of the pooled sum, which holds every component's
    /// share), each diagonal entry times `f` before it is added (`f = 1`
    /// changes no bit; `1/N` keeps a sum that would overflow in range): the
    /// scatter about the shifts that
    /// [`SufficientStats::scale`](crate::SufficientStats::scale) turns into
    /// the data's variance.
    #[doc(hidden)]
    fn second_trace<T: Real, const D: usize, const K: usize>(
        s: &Self::Second<T, D, K>,
        live: &[bool; K],
        f: T,
    ) -> T;

    /// `true` if a one-pass variance of a live component would lose more
    /// than 4 bits to cancellation, or its moments are not finite: for
    /// some diagonal entry, `raw = S2ᵢᵢ/N` is not finite or
    /// `16 (raw − δᵢ²) < raw` (see
    /// [`SufficientStats::needs_recentring`](crate::SufficientStats::needs_recentring)).
    #[doc(hidden)]
    fn needs_recentring<T: Real, const D: usize, const K: usize>(
        s: &Self::Second<T, D, K>,
        m: &Moments1<'_, T, D, K>,
    ) -> bool;

    /// The covariance M-step, in place: new parameters from the statistics
    /// of live components (the others keep theirs), regularised by
    /// [`lift`](crate::linalg::lift) with the absolute `reg`. Returns the
    /// largest `λ` added. On an error `params` may be partly updated.
    #[doc(hidden)]
    fn m_step<T: Real, const D: usize, const K: usize>(
        s: &Self::Second<T, D, K>,
        m: &Moments1<'_, T, D, K>,
        reg: T,
        params: &mut Self::Params<T, D, K>,
    ) -> Result<T, Error>;

    /// What [`Gmm::new`](crate::Gmm::new) takes, from `K` full matrices of
    /// which the kind keeps its part: all of them (full), their diagonals
    /// (diag), their `[0][0]` entries (spherical), the first (tied).
    /// Nothing is checked here; `Gmm::new` validates.
    #[doc(hidden)]
    fn input_from_matrices<T: Real, const D: usize, const K: usize>(
        covariances: &[SMatrix<T, D, D>; K],
    ) -> Self::Input<T, D, K>;

    /// Parameters from `K` full covariance estimates with their point
    /// counts (the initialisers'): a kind keeps what it can represent
    /// (diagonals, their mean, or the count-weighted average), lifted by
    /// [`lift`](crate::linalg::lift) with the absolute `reg`.
    #[doc(hidden)]
    fn from_estimates<T: Real, const D: usize, const K: usize>(
        covariances: &[SMatrix<T, D, D>; K],
        counts: &[T; K],
        reg: T,
    ) -> Result<Self::Params<T, D, K>, Error>;
}

/// The first-order statistics the covariance M-step reads beside the
/// kind's second moments: soft counts `Nₖ`, shifted first moments
/// `S1ₖ = Σᵢ rᵢₖ (xᵢ − cₖ)`, and which components are live (a soft count
/// above `ε Σⱼ Nⱼ`; the others cannot be re-estimated).
#[derive(Clone, Copy, Debug, PartialEq)]
#[doc(hidden)]
pub struct Moments1<'a, T: Real, const D: usize, const K: usize> {
    pub(crate) counts: &'a SVector<T, K>,
    pub(crate) first: &'a [SVector<T, D>; K],
    pub(crate) live: [bool; K],
    pub(crate) total: T,
    /// Per component `(16 ε ‖cₖ‖∞)²`: variances below it are rounding noise
    /// of coordinates near the shift `cₖ`, so their cancellation is no loss.
    pub(crate) resolution: [T; K],
    /// The shifts `cₖ` the moments are taken about.
    pub(crate) shift: &'a [SVector<T, D>; K],
    /// The means `μₖ` where the fit keeps them frozen (else `None`): the
    /// covariance about `μₖ` is the scatter about the weighted mean plus
    /// the outer product of [`excess`](Self::excess).
    pub(crate) frozen_means: Option<&'a [SVector<T, D>; K]>,
}

impl<T: Real, const D: usize, const K: usize> Moments1<'_, T, D, K> {
    /// `δₖ = S1ₖ / Nₖ`, the step from the shift to the new mean (as
    /// `S1ₖ · (1/Nₖ)`: for a live component `Nₖ` is a normal number).
    #[inline]
    pub(crate) fn delta(&self, k: usize) -> SVector<T, D> {
        self.first[k] * (T::one() / self.counts[k])
    }

    /// The offset `δₖ` of component `k`'s points' weighted mean from its
    /// shift, where its share of pooled second moments (tied covariance) is
    /// taken about that mean: every live component, and a starved one (a
    /// share below `ε N`) whose count is a normal number and whose `δₖ` is
    /// finite. `None` for the others: no share, a subnormal count (whose
    /// reciprocal may overflow) or an offset past `T`'s range, all shares
    /// too small to matter.
    #[inline]
    pub(crate) fn pooled_delta(&self, k: usize) -> Option<SVector<T, D>> {
        // `get`, not indexing: out of line (opt-level "s") the index is not
        // known to be in range, and a bounds check would be a panic path.
        let (&live, &count, first) = (self.live.get(k)?, self.counts.get(k)?, self.first.get(k)?);
        let delta = *first * (T::one() / count);
        if live {
            return Some(delta);
        }
        if !(count >= T::MIN_NORMAL) {
            return None;
        }
        delta.iter().all(|&v| v.is_finite()).then_some(delta)
    }

    /// With frozen means, component `k`'s `δₖ − (μₖ − cₖ)`: how far its
    /// frozen mean is from its points' weighted mean, which the covariance
    /// must add back. Computed where it is used rather than stored: an
    /// array of them cost the M-step's frame (the deepest of a fit's on a
    /// microcontroller) `K·D` values.
    #[inline]
    pub(crate) fn excess(&self, k: usize) -> Option<SVector<T, D>> {
        // `get`, not indexing: see `pooled_delta`.
        let (mean, shift) = (self.frozen_means?.get(k)?, self.shift.get(k)?);
        Some(self.delta(k) - (mean - shift))
    }
}

/// `true` if `raw` (a second moment divided by its count) is not finite,
/// or is above `resolution` and loses more than 4 bits when `delta_sq` is
/// subtracted: the one rule of [`CovarianceKind::needs_recentring`].
#[inline]
pub(crate) fn cancels<T: Real>(raw: T, delta_sq: T, resolution: T) -> bool {
    !raw.is_finite() || (raw > resolution && !(T::lit(16.0) * (raw - delta_sq) >= raw))
}

/// Runs `estimate(k, &mut params[k])` for every component `k` with
/// `live[k]` (the others keep theirs): the per-component M-step (and start)
/// of the full, diagonal and spherical kinds. An estimate writes its
/// component in place (no factor is returned by value through the frames
/// of the M-step, which a fit on a microcontroller feels in its stack) and
/// returns the `λ` it added, or `None`, leaving the component as it was.
/// Returns the largest `λ`, or [`Error::NotPositiveDefinite`] naming the
/// first component `estimate` fails for (`params` then partly updated).
pub(crate) fn each_component<T: Real, F, const K: usize>(
    params: &mut [F; K],
    live: &[bool; K],
    mut estimate: impl FnMut(usize, &mut F) -> Option<T>,
) -> Result<T, Error> {
    let mut applied = T::zero();
    for (k, slot) in params.iter_mut().enumerate() {
        if live[k] {
            let lambda = estimate(k, slot).ok_or(Error::NotPositiveDefinite { component: k })?;
            applied = Real::max(applied, lambda);
        }
    }
    Ok(applied)
}

/// `−(D/2) ln 2π − log_det_half`, or `None` if not finite.
#[inline]
pub(crate) fn log_norm_from<T: Real>(dimension: usize, log_det_half: T) -> Option<T> {
    let v = -T::lit(0.5) * T::from_count(dimension) * T::LN_2PI - log_det_half;
    v.is_finite().then_some(v)
}
