//! Sufficient statistics of an E pass: accumulated point by point or a
//! slice at a time, merged across shards, recentred when a mean jumps.

use nalgebra::SVector;

use crate::covariance::{CovarianceKind, Full, LaneLoops, Moments1, Shape, LANE_D, LANE_SECOND};
use crate::data::{self, checked, valid_weight, AsPoint};
use crate::error::Error;
use crate::estep::{self, Chunk, LogSum, Weights, BLOCK, CHUNK, LANES};
use crate::linalg;
use crate::mixture::Gmm;
use crate::real::Real;

/// What one E pass over some data leaves behind: everything the M-step
/// needs, in `O(K·D²)` memory (full covariance), `O(K·D + D²)` (tied) or
/// `O(K·D)` (diagonal, spherical), whatever the number of points.
///
/// For each component `k`, with `cₖ` its *shift* (the component's mean in
/// the model the statistics are accumulated against, unless
/// [`recentred`](Self::recentred)) and `rᵢₖ` the responsibilities:
///
/// ```text
/// Nₖ  = Σᵢ rᵢₖ                         soft count
/// S1ₖ = Σᵢ rᵢₖ (xᵢ − cₖ)               shifted first moment
/// S2ₖ = Σᵢ rᵢₖ (xᵢ − cₖ)(xᵢ − cₖ)ᵀ     shifted second moment
/// ```
///
/// (of `S2ₖ`, the diagonal for [`Diag`](crate::Diag), its trace for
/// [`Spherical`](crate::Spherical), the sum over components for
/// [`Tied`](crate::Tied)), plus the number of points and their total
/// log-likelihood under that model. Shifting by the current mean keeps the
/// one-pass covariance `S2ₖ/Nₖ − δδᵀ` (with `δ = S1ₖ/Nₖ`) accurate: near
/// convergence `δ` is tiny, so nothing large cancels. Far from convergence,
/// when a mean moves by several standard deviations in one step, the
/// subtraction would cancel most digits (in `f32`, all of them);
/// [`needs_recentring`](Self::needs_recentring) detects that,
/// [`m_step`](Self::m_step) refuses such statistics, and another pass into
/// [`recentred`](Self::recentred) statistics restores full accuracy.
/// [`fit`](crate::fit) does this itself.
///
/// Statistics accumulated against the same model over disjoint shards of
/// the data (other cores, DMA buffers, machines) [`merge`](Self::merge) by
/// summation into the statistics of one pass over all of them, up to
/// floating-point reordering. The model is recognised by a 64-bit
/// fingerprint of all its parameters, so statistics are never used with
/// another model, even one with the same means.
///
/// The order of the sums within a block of 128 points depends on the
/// target's class, never on its vector width: at `D ≤ 3` (full, diagonal
/// and tied covariance in `f32`, spherical in both), 64-bit targets add the block's
/// points in eight interleaved lanes summed at its end, 32-bit targets
/// point by point (see the README's "Speed on a host"); the same holds for
/// the log-likelihood in `f32`, at every `D`. So the same pass gives the
/// same bits on every 64-bit host, and on every 32-bit target, and the two
/// agree to rounding (a fit's iterations can then drift apart slightly).
///
/// `==` and `Debug` see every number stored. With full and tied
/// covariance that includes the upper triangle of each `S2ₖ` (tied: of
/// the pooled sum), which nothing reads (the M-step mirrors the lower
/// one): zeros where the statistics are added point by point in full
/// covariance and in lanes; where a host adds them in whole vectors (full
/// covariance component by component, tied covariance point by point),
/// the same sums rounded differently in the entries that share a vector
/// with the lower triangle, and zeros in the others. So statistics equal
/// on one machine may compare unequal against the same pass on another,
/// though every result computed from them is the same.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SufficientStats<T: Real, const D: usize, const K: usize, C: CovarianceKind = Full> {
    fingerprint: u64,
    shift: [SVector<T, D>; K],
    sums: Moments<T, D, K, C>,
}

/// The sums themselves, apart from what they are relative to.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Moments<T: Real, const D: usize, const K: usize, C: CovarianceKind> {
    counts: SVector<T, K>,
    first: [SVector<T, D>; K],
    second: C::Second<T, D, K>,
    points: usize,
    log_likelihood: T,
}

impl<T: Real, const D: usize, const K: usize, C: CovarianceKind> Moments<T, D, K, C> {
    fn zero() -> Self {
        Self {
            counts: SVector::zeros(),
            first: [SVector::zeros(); K],
            second: C::second_zero(),
            points: 0,
            log_likelihood: T::zero(),
        }
    }

    /// `self += other`; `None` (and `self` unchanged) if the point count
    /// overflows.
    #[inline]
    fn add(&mut self, other: &Self) -> Option<()> {
        self.add_with(other, other.log_likelihood)
    }

    /// `self += other` with `log_likelihood` in place of `other`'s (a
    /// closing block's, which its sums do not hold yet); `None` (and `self`
    /// unchanged) if the point count overflows.
    #[inline]
    fn add_with(&mut self, other: &Self, log_likelihood: T) -> Option<()> {
        let points = self.points.checked_add(other.points)?;
        self.counts += other.counts;
        for k in 0..K {
            self.first[k] += other.first[k];
        }
        C::second_add(&mut self.second, &other.second);
        self.points = points;
        self.log_likelihood += log_likelihood;
        Some(())
    }

    /// Adds one point `x`'s shares `r`, at its offsets from the shifts;
    /// `dense`: shares of 0 are added as zeros, not skipped (see
    /// [`pusher`]; only where the sums are not −0 and `x` and the shifts
    /// are within [`zeros_bound`]).
    // Always inlined: the statistics' share of the hot loop.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn push(
        &mut self,
        x: &SVector<T, D>,
        shift: &[SVector<T, D>; K],
        r: &SVector<T, K>,
        dense: bool,
    ) {
        // The offsets: with one lane (32-bit targets, soft or scalar
        // floating point) only for the components the point counts in;
        // with lanes (hosts) all at once, which the compiler vectorises
        // better (10 % faster at D = 8, K = 8 in f32). The same values.
        let all: [SVector<T, D>; K] = if LANES == 1 {
            [SVector::zeros(); K]
        } else {
            core::array::from_fn(|k| x - shift[k])
        };
        // Whether a component the point has no share in (a term below the
        // log-sum-exp cut-off, responsibility exactly 0) is skipped by a
        // branch or added as zeros. With one lane (32-bit targets) a branch
        // is cheap and the arithmetic is not: skipped. With lanes (hosts),
        // which components are cut off depends on the data: as the clusters
        // of an `f32` fit separate (`f32` cuts off at 50, `f64` at 200,
        // which hardly happens) the branch is mispredicted so often that
        // without it an `f32` iteration at D = 2, K = 3 takes 0.56 (full)
        // to 0.68 (tied) of the time (the program of `benches/peers/run.sh`
        // on its data, both builds in one run, `target-cpu=native`; every
        // kind has since moved to `LaneSums` at these sizes in `f32`,
        // online EM's points have not): added as zeros, at D ≤ 2 in `f32`. In `f64` the branch is
        // predicted, and at D ≥ 3 the branch-free loop is slower (the
        // compiler vectorises it across components, with gathers): skipped.
        let branch_free = LANES > 1 && D <= 2 && T::LSE_CUTOFF < T::lit(100.0);
        let dense = LANES > 1 && dense;
        for k in 0..K {
            let rk = r[k];
            // rk is +0 or positive (never −0: a cut-off share is +0, and
            // weights are positive), so `rk == 0` is a test of its bits.
            // With one lane, of all of them: an integer test, a call fewer
            // on soft-float cores and a compare fewer on the Cortex-M4F
            // (the optimiser turns the magnitude's test into a float
            // compare and a flags move). With lanes, of the magnitude's:
            // the all-bits test made the branch-free `f32` statistics at
            // D = 2, K = 3 take 1.25 times as long (`target-cpu=native`).
            debug_assert!(
                !(rk < T::zero()) && rk.bits() != (-T::zero()).bits(),
                "a share is +0, positive or NaN"
            );
            let zero = if LANES == 1 {
                rk.bits() == 0
            } else {
                rk.abs_bits() == 0
            };
            if zero && !branch_free && !dense {
                continue;
            }
            let (d, rk) = if LANES == 1 {
                (x - shift[k], rk)
            } else if zero && !dense {
                // A zero offset and a share of −0 make every term −0 (in
                // every kind: `d·r`, `(d·r)·d`, `r·(d·d)`, `r·d·d`), and
                // `x + (−0)` is `x`, bit for bit, for every `x` (−0
                // included, which sums scaled by online EM's forgetting can
                // be): the same as the skip. The offset itself may
                // overflow to ±∞, and 0·∞ would be NaN.
                (SVector::zeros(), -T::zero())
            } else {
                (all[k], rk)
            };
            self.counts[k] += rk;
            linalg::add_scaled(&mut self.first[k], &d, rk);
            C::second_push(&mut self.second, k, rk, &d);
        }
        self.points += 1;
    }

    /// Adds the points of a chunk (`share(k, l)` is point `l`'s share of
    /// component `k`, +0 for a point left out; the caller counts the
    /// points) one component at a time, so that a component's sums can stay
    /// in registers over the chunk. Every sum gets the terms [`push`]
    /// gives it, in the same order (the points in turn, a zero share
    /// skipped, or with `dense` added as zeros, as there): the same bits,
    /// only the interleaving of the components' sums differs.
    ///
    /// [`push`]: Self::push
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn push_chunk<P: AsPoint<T, D>>(
        &mut self,
        points: &[P],
        shift: &[SVector<T, D>; K],
        dense: bool,
        share: impl Fn(usize, usize) -> T,
    ) {
        for k in 0..K {
            let mut count = self.counts[k];
            let mut first = self.first[k];
            C::second_push_run(&mut self.second, k, points.len(), |l| {
                let rk = share(k, l);
                if !dense && rk.abs_bits() == 0 {
                    return None;
                }
                let d = points.get(l)?.to_vector() - shift[k];
                count += rk;
                linalg::add_scaled(&mut first, &d, rk);
                Some((rk, d))
            });
            self.counts[k] = count;
            self.first[k] = first;
        }
    }
}

/// The magnitude up to which points and shifts may go for a pass to add
/// shares of 0 as zeros (see [`pusher`]): `√(M / D) / 4`, `M` the largest
/// finite value. The offset of one such vector from another is at most
/// `√(M / D) / 2` in each coordinate, its squares at most `M / (4D)` and
/// their sum at most `M / 4`: every term the statistics form from it is
/// finite, and times a share of 0 it is ±0.
#[inline]
fn zeros_bound<T: Real, const D: usize>() -> T {
    Real::sqrt(T::MAX_FINITE / T::from_count(D.max(1))) * T::lit(0.25)
}

/// Whether every coordinate of `v` is at most `bound` in magnitude (NaN
/// is not): one test for all, without a branch per coordinate.
#[inline]
fn within<T: Real, const D: usize>(v: &SVector<T, D>, bound: T) -> bool {
    v.iter().fold(true, |all, c| all & (c.abs() <= bound))
}

/// Lanes of the sums a host adds a block in at `D ≤ LANE_D` (see
/// [`in_lanes`]): as many as the kernel's; none on 32-bit targets.
const SUM_LANES: usize = if LANES > 1 { LANES } else { 0 };

/// A block's sums in lanes: lane `l` adds up the points at positions
/// `l`, `l + LANES`, `l + 2·LANES`, … of the block, in that order, and the
/// lanes are summed in order when the block closes. Each operation then
/// runs across the points of a chunk, as the E-step does, instead of one
/// point's terms being added to one scalar sum after another. Room for
/// `D ≤ LANE_D` only (at larger `D`, the sums of one point are themselves
/// vectors); empty on 32-bit targets.
// Aligned as the kernel's lanes are (see `estep::Aligned`): before, its
// place on the stack varied from build to build, and in the builds where
// 256-bit loads and stores straddled cache lines the `f32` fits of
// `benches/peers/run.sh` at D = 2, K = 3 (full and spherical covariance,
// `target-cpu=native`) were markedly slower. On the default x86-64 target
// 64 bytes changed nothing.
#[cfg_attr(
    all(target_pointer_width = "64", target_feature = "avx512f"),
    repr(align(64))
)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct LaneSums<T, const K: usize> {
    counts: [[T; SUM_LANES]; K],
    first: [[[T; SUM_LANES]; LANE_D]; K],
    second: [[[T; SUM_LANES]; LANE_SECOND]; K],
}

impl<T: Real, const K: usize> LaneSums<T, K> {
    fn zero() -> Self {
        Self {
            counts: [[T::zero(); SUM_LANES]; K],
            first: [[[T::zero(); SUM_LANES]; LANE_D]; K],
            second: [[[T::zero(); SUM_LANES]; LANE_SECOND]; K],
        }
    }

    /// Adds a chunk: `x` its points' coordinates and `shares` their
    /// shares (+0 for a lane without a point), lane by lane, at offsets
    /// from `shift`, with the kind's nesting of the loops.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn push<C: CovarianceKind, const D: usize>(
        &mut self,
        x: &[[T; SUM_LANES]; D],
        shift: &[SVector<T, D>; K],
        shares: &[[T; SUM_LANES]; K],
    ) {
        // A lane without a share adds 0 at offset 0 (its offset may have
        // overflowed to ±∞, and 0·∞ would be NaN); the sums start at +0,
        // so adding ±0 leaves them as they are.
        let offset = |x: T, c: T, r: T| if r > T::zero() { x - c } else { T::zero() };
        if C::lanes::<T, D>() == Some(LaneLoops::LanesOuter) {
            for l in 0..SUM_LANES {
                for k in 0..K {
                    let r = shares[k][l];
                    let d: [T; D] = core::array::from_fn(|i| offset(x[i][l], shift[k][i], r));
                    self.counts[k][l] += r;
                    for (s, d) in self.first[k].iter_mut().zip(&d) {
                        s[l] = T::madd(*d, r, s[l]);
                    }
                    C::second_lane(&mut self.second[k], l, r, &d);
                }
            }
            return;
        }
        for k in 0..K {
            let rk = &shares[k];
            let mut d = [[T::zero(); SUM_LANES]; D];
            for ((di, xi), c) in d.iter_mut().zip(x).zip(shift[k].iter()) {
                for ((v, x), r) in di.iter_mut().zip(xi).zip(rk) {
                    *v = offset(*x, *c, *r);
                }
            }
            for (s, r) in self.counts[k].iter_mut().zip(rk) {
                *s += *r;
            }
            for (s, di) in self.first[k].iter_mut().zip(&d) {
                for ((s, r), d) in s.iter_mut().zip(rk).zip(di) {
                    *s = T::madd(*d, *r, *s);
                }
            }
            C::second_lanes(&mut self.second[k], rk, &d);
        }
    }

    /// Adds the lanes, each summed in lane order, to `sums`.
    fn add_to<C: CovarianceKind, const D: usize>(&self, sums: &mut Moments<T, D, K, C>) {
        fn total<T: Real>(lanes: &[T]) -> T {
            lanes
                .split_first()
                .map_or(T::zero(), |(a, rest)| rest.iter().fold(*a, |s, v| s + *v))
        }
        for k in 0..K {
            sums.counts[k] += total(&self.counts[k]);
            for (s, lanes) in sums.first[k].iter_mut().zip(&self.first[k]) {
                *s += total(lanes);
            }
            let v = core::array::from_fn(|t| total(&self.second[k][t]));
            C::second_from_lanes(&mut sums.second, k, &v);
        }
    }
}

/// Whether a host adds a block's statistics in lanes ([`LaneSums`]) rather
/// than point by point: at `D ≤ LANE_D`, where the kind asks for it
/// ([`CovarianceKind::lanes`]; full, diagonal and tied covariance in `f32` only,
/// spherical in both). The choice must not depend on the target's
/// features: it decides the order of the sums, and so the bits of a fit.
/// So full covariance in `f64`, where a vector holds half as many lanes,
/// stays point by point: in lanes it was faster with `target-cpu=native`
/// but slower on the default x86-64 target.
fn in_lanes<T: Real, C: CovarianceKind, const D: usize>() -> bool {
    SUM_LANES > 0 && D <= LANE_D && C::lanes::<T, D>().is_some()
}

/// A block of an E pass whose points arrive in pieces (see
/// [`SufficientStats::add_piece`]): its sums and log-likelihood so far.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct OpenBlock<T: Real, const D: usize, const K: usize, C: CovarianceKind> {
    sums: Moments<T, D, K, C>,
    lanes: LaneSums<T, K>,
    log: LogSum<T>,
}

impl<T: Real, const D: usize, const K: usize, C: CovarianceKind> OpenBlock<T, D, K, C> {
    /// No points yet.
    pub(crate) fn new() -> Self {
        Self {
            sums: Moments::zero(),
            lanes: LaneSums::zero(),
            log: LogSum::new(),
        }
    }
}

/// The offset `δₖ` of component `k`'s points' weighted mean from its
/// shift, for the components whose statistics are taken about that mean:
/// the live ones, and where the second moments are pooled (tied
/// covariance) also a starved one its M-step can take
/// ([`Moments1::pooled_delta`]). The rule for [`SufficientStats`]'s
/// recentring and its scale; `None` for the others.
#[inline]
fn own_mean<T: Real, const D: usize, const K: usize, C: CovarianceKind>(
    m: &Moments1<'_, T, D, K>,
    k: usize,
) -> Option<SVector<T, D>> {
    let pooled = C::SHAPE == Shape::SharedMatrix;
    if pooled || m.live.get(k).copied().unwrap_or(false) {
        m.pooled_delta(k)
    } else {
        None
    }
}

/// Whether [`pusher`] adds a chunk one component at a time
/// ([`Moments::push_chunk`]): with lanes, where the kind asks for it
/// ([`CovarianceKind::runs`]). The sums are the same bits either way.
fn by_component<T: Real, C: CovarianceKind, const D: usize>() -> bool {
    LANES > 1 && C::runs::<T, D>()
}

/// What an E pass over a block (or a piece of one) reads and writes
/// besides the sums: its points, their weights and, when given, the slots
/// its responsibilities go to.
struct Pass<'a, T, const K: usize, P, W> {
    block: &'a [P],
    weights: W,
    out: Option<&'a mut [SVector<T, K>]>,
}

/// [`pusher`]'s way in lanes ([`in_lanes`]): the chunk of `pass.block`
/// that starts at `i` into `lanes` (point `l` of the chunk in lane
/// `(l + turn) mod LANES`; `turn` ≠ 0 for a piece that starts inside a
/// set of lanes of its block), its count of points into `points`. A chunk
/// of several sets of [`LANES`] goes in set by set, each as a chunk of its
/// own: the same bits whatever the chunk's width.
#[allow(clippy::inline_always)]
#[inline(always)]
fn push_lanes<T, const D: usize, const K: usize, C, P, W>(
    lanes: &mut LaneSums<T, K>,
    points: &mut usize,
    shift: &[SVector<T, D>; K],
    pass: &mut Pass<'_, T, K, P, W>,
    i: usize,
    chunk: &Chunk<T, K, CHUNK>,
    turn: usize,
) where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
    W: Weights<T>,
{
    /// Set `set` of the chunk's lanes of `a`, point `l` of the set in lane
    /// `(l + turn) mod LANES`, as arrays of `SUM_LANES`, which on hosts is
    /// `LANES`.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn to_lanes<T: Real, const N: usize>(
        a: &[[T; CHUNK]; N],
        set: usize,
        turn: usize,
    ) -> [[T; SUM_LANES]; N] {
        let mut b = [[T::zero(); SUM_LANES]; N];
        for (b, a) in b.iter_mut().zip(a) {
            for (m, v) in b.iter_mut().enumerate() {
                let l = set * LANES + (m + LANES - turn % LANES) % LANES;
                *v = a.get(l).copied().unwrap_or(T::zero());
            }
        }
        b
    }
    let weights = pass.weights;
    let len = chunk.len();
    let mut r = *chunk.shares();
    if weights.all().is_none() && len == CHUNK {
        // Unweighted and whole: every lane a point, its shares as
        // they are.
        *points += CHUNK;
    } else {
        // A lane's weight: its point's, 1 unweighted, 0 for padding
        // and for a point of weight 0, which is left out. Its shares
        // may be NaN (it is not checked): replaced, not multiplied.
        let w: [T; CHUNK] = core::array::from_fn(|l| {
            if l < len {
                weights.at(i + l).unwrap_or(T::one())
            } else {
                T::zero()
            }
        });
        for rk in &mut r {
            for (r, w) in rk.iter_mut().zip(&w) {
                *r = if *w == T::zero() { T::zero() } else { *r * *w };
            }
        }
        *points += w.iter().filter(|w| **w != T::zero()).count();
    }
    if let Some(out) = pass.out.as_deref_mut() {
        for l in 0..len {
            if weights.at(i + l) == Some(T::zero()) {
                continue; // left out
            }
            if let Some(slot) = out.get_mut(i + l) {
                *slot = SVector::from_fn(|k, _| r[k][l]);
            }
        }
    }
    // The points' coordinates as lanes, read again from the block
    // (as point by point), so that the kernel's own lanes can stay
    // in registers; padding lanes 0.
    let mut x = [[T::zero(); CHUNK]; D];
    let part = pass.block.get(i..).unwrap_or(&[]);
    let part = part.get(..len).unwrap_or(part);
    if let Ok(whole) = <&[P; CHUNK]>::try_from(part) {
        // A whole chunk: a plain transposition, which the compiler
        // vectorises.
        for (l, p) in whole.iter().enumerate() {
            for (xi, p) in x.iter_mut().zip(p.to_vector().iter()) {
                xi[l] = *p;
            }
        }
    } else {
        for (l, p) in part.iter().enumerate() {
            for (xi, p) in x.iter_mut().zip(p.to_vector().iter()) {
                xi[l] = *p;
            }
        }
    }
    let x = &x;
    // The sets that hold points, in order (padding adds nothing).
    for set in 0..CHUNK / LANES {
        if set * LANES >= len {
            break;
        }
        // Two calls, so that the usual `turn` of 0 (every whole block) is
        // a constant in its own and the rotation folds away.
        if turn == 0 {
            lanes.push::<C, D>(&to_lanes(x, set, 0), shift, &to_lanes(&r, set, 0));
        } else {
            lanes.push::<C, D>(&to_lanes(x, set, turn), shift, &to_lanes(&r, set, turn));
        }
    }
}

/// The statistics' side of the E-step kernel's `visit`: for each point of
/// a chunk, its responsibilities (times its weight) and offsets from the
/// shifts go into `sums`, and to `pass.out` when given; in `lanes` (see
/// [`push_lanes`]), point by point, or component by component if
/// `by_component`. `pass.block` holds the points the kernel runs over, so
/// each is read again from the caller's slice, contiguous, rather than
/// from the chunk's lanes.
#[allow(clippy::inline_always)]
#[inline(always)]
fn pusher<'a, T, const D: usize, const K: usize, C, P, W>(
    sums: &'a mut Moments<T, D, K, C>,
    lanes: &'a mut LaneSums<T, K>,
    shift: &'a [SVector<T, D>; K],
    mut pass: Pass<'a, T, K, P, W>,
    by_component: bool,
    turn: usize,
) -> impl FnMut(usize, &Chunk<T, K, CHUNK>) + 'a
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
    W: Weights<T> + 'a,
{
    // `dense`: shares of 0 added as zeros instead of skipped, on hosts in
    // `f32`. As a fit's clusters separate, `f32`'s cut-off at 50 makes
    // many shares exactly 0 (in the D = 8, K = 8 benchmark, 2 % at the
    // start, 36 % from the second iteration on) in a pattern the branch
    // predictor cannot follow, and the mispredicted skips cost more than
    // the terms they skipped: `em_step` took 8.2 ns per point·component
    // from the fifth iteration against 5.3 at the start (full covariance,
    // `target-cpu=native`). A share of +0 adds ±0 to every sum, which
    // leaves it as it is: a pass's sums start at +0 and never become −0
    // (a sum is −0 only if both terms are), and +0 + (−0) is +0; so the
    // bits are those of the skip. That needs every term finite: shifts
    // (here, once per block) and points (per chunk, below) within
    // `zeros_bound`, tested without a branch per coordinate; beyond it a
    // chunk skips, as online EM's points always do (its sums can be −0).
    // `FROM_ITER=5 ROUNDS=5 bash benches/compare_commits.sh` against the
    // skip, D = 8, K = 8, `f32`, `target-cpu=native` / default target:
    // full 0.65 / 0.81 of the time, diag 0.75 / 0.88, spherical 0.96 /
    // 0.95, tied 0.89 / 0.99; from the start (`FROM_ITER=0`) 0.95–1.02.
    // Not in `f64`, whose cut-off at 200 leaves few shares of 0: there
    // the terms added took 1.02–1.22 times as long. Point by point only
    // where `D` fills whole vectors: at D = 6, K = 8 (diagonal,
    // `target-cpu=native`) the loop over components without its branch
    // took 1.25 times as long.
    let in_f32 = LANES > 1 && T::LSE_CUTOFF < T::lit(100.0);
    let bound = if in_f32 {
        zeros_bound::<T, D>()
    } else {
        T::zero()
    };
    let dense = in_f32 && shift.iter().fold(true, |all, s| all & within(s, bound));
    move |i, chunk| {
        if LANES > 1 && in_lanes::<T, C, D>() {
            push_lanes::<T, D, K, C, P, W>(
                lanes,
                &mut sums.points,
                shift,
                &mut pass,
                i,
                chunk,
                turn,
            );
            return;
        }
        let Pass {
            block,
            weights,
            out,
        } = &mut pass;
        let (block, weights) = (*block, *weights);
        // The chunk's points within the bound too (both ways below).
        let dense = dense
            && block
                .iter()
                .skip(i)
                .take(chunk.len())
                .fold(true, |all, p| all & within(&p.to_vector(), bound));
        // `LANES > 1` first, a constant: on one-lane targets the branch then
        // goes before inlining, and with it the cost the optimiser charged
        // its dead code. Without it `ResumableFit`'s bounded E pass on the
        // Cortex-M4F (`figures.sh`, `bounded2`) took 3 132 606 instructions
        // for a whole fit instead of 2 527 032.
        if LANES > 1 && by_component {
            let points = block.get(i..).unwrap_or(&[]);
            let points = points.get(..chunk.len()).unwrap_or(points);
            // Each point's weight once (all `None` unweighted); a point
            // of weight 0 is left out: not counted, its shares +0.
            let w: [Option<T>; CHUNK] = core::array::from_fn(|l| weights.at(i + l));
            let share = |k: usize, l: usize| match w.get(l).copied().flatten() {
                None => chunk.share(k, l),
                Some(w) if w == T::zero() => T::zero(),
                Some(w) => chunk.share(k, l) * w,
            };
            for l in 0..points.len() {
                if w.get(l).copied().flatten() == Some(T::zero()) {
                    continue;
                }
                sums.points += 1;
                if let Some(slot) = out.as_deref_mut().and_then(|o| o.get_mut(i + l)) {
                    *slot = SVector::from_fn(|k, _| share(k, l));
                }
            }
            sums.push_chunk(points, shift, dense, share);
            return;
        }
        // The chunk's points: with one lane a slice from i, since
        // `skip(i)` leaves a select between two pointers in the loop (1.3
        // instructions per point·component on the Cortex-M4F); with lanes
        // `skip(i)`, since the slice made the `f32` statistics at D = 2,
        // K = 3 take 1.23 times as long on the default x86-64 target.
        let (points, skip) = if LANES == 1 {
            (block.get(i..).unwrap_or(&[]), 0)
        } else {
            (block, i)
        };
        let dense = dense && D.is_multiple_of(linalg::vector_entries::<T>());
        for (l, p) in points.iter().skip(skip).take(chunk.len()).enumerate() {
            let mut r = chunk.responsibilities(l);
            if let Some(w) = weights.at(i + l) {
                if w == T::zero() {
                    continue; // left out
                }
                r *= w;
            }
            sums.push(&p.to_vector(), shift, &r, dense);
            if let Some(slot) = out.as_deref_mut().and_then(|o| o.get_mut(i + l)) {
                *slot = r;
            }
        }
    }
}

impl<T: Real, const D: usize, const K: usize, C: CovarianceKind> SufficientStats<T, D, K, C> {
    /// Empty statistics to be accumulated against `model`.
    pub fn new(model: &Gmm<T, D, K, C>) -> Self {
        Self {
            fingerprint: model.fingerprint(),
            shift: model.means(),
            sums: Moments::zero(),
        }
    }

    /// Empty statistics for a pass that a fit or [`em_step`](crate::em_step)
    /// makes under its own `model` and hands only to its own M-step: they
    /// never meet [`check`](Self::check) or another model's statistics, so
    /// they skip the fingerprint (whose 64-bit products are several hundred
    /// bytes of code on a 32-bit core, inlined into each fit, and a few
    /// hundred instructions per pass). The parallel fit's shards, merged
    /// with each other, all start from copies of one of these, so their
    /// fingerprints agree.
    pub(crate) fn for_own_pass(model: &Gmm<T, D, K, C>) -> Self {
        Self {
            fingerprint: 0,
            shift: model.means(),
            sums: Moments::zero(),
        }
    }

    /// Empty statistics for another pass under the same model as `self`,
    /// shifted by the means the M-step would produce from `self` (a
    /// component that is not live, see [`m_step`](Self::m_step), keeps its
    /// shift, except in tied covariance, where it moves to its points'
    /// weighted mean, about which that M-step takes its share of the
    /// pooled covariance): their M-step gives the same
    /// means, and covariances without the cancellation
    /// [`needs_recentring`](Self::needs_recentring) warns of. A shift that
    /// overflows `T` is kept as it was.
    #[must_use]
    pub fn recentred(&self) -> Self {
        Self {
            fingerprint: self.fingerprint,
            shift: self.next_shifts(),
            sums: Moments::zero(),
        }
    }

    /// `self` replaced by its [`recentred`](Self::recentred) statistics,
    /// in place (no second value on the stack). Returns `false`, with
    /// `self` unchanged, if no shift would move.
    pub(crate) fn recentre(&mut self) -> bool {
        let shift = self.next_shifts();
        if shift == self.shift {
            return false;
        }
        self.shift = shift;
        self.sums = Moments::zero();
        true
    }

    /// The shifts of [`recentred`](Self::recentred) statistics: the means
    /// the M-step would produce for the live components, and where the
    /// second moments are pooled (tied covariance) for a starved one (a
    /// share, but not live) its points' weighted mean, about which the
    /// M-step takes its share of the pool. (The other kinds leave a
    /// starved component's statistics unread; moving its shift would only
    /// count as progress of a recentring that made none.)
    fn next_shifts(&self) -> [SVector<T, D>; K] {
        let mut shift = self.shift;
        let m = self.first_order();
        for (k, c) in shift.iter_mut().enumerate() {
            if let Some(delta) = own_mean::<T, D, K, C>(&m, k) {
                let next = *c + delta;
                if next.iter().all(|&v| v.is_finite()) {
                    *c = next;
                }
            }
        }
        shift
    }

    /// `true` if the one-pass covariance of some live component would lose
    /// more than 4 bits to cancellation, or its second moments overflowed:
    /// some diagonal entry `raw` of `S2ₖ/Nₖ` is not finite or exceeds 16
    /// times its difference with `δᵢ²`, i.e. the mean moved by more than
    /// about four new standard deviations. The rounding error of that
    /// covariance entry is then more than about `32 ε` relative;
    /// [`recentred`](Self::recentred) statistics fix it. An entry `raw` at
    /// most `(16 ε ‖cₖ‖∞)²`, below what `T` resolves at the shift's
    /// magnitude, is never flagged: no pass could measure it better.
    // Out of line: it runs once per pass, but inlined it put its code into
    // every caller (on a Cortex-M4F 584 bytes more flash at opt-level "s",
    // 300 fewer at opt-level 3) and its divisions into `em_step`'s frame,
    // which then saved all of d8–d15 (112 bytes more stack).
    #[inline(never)]
    pub fn needs_recentring(&self) -> bool {
        let m = self.first_order();
        C::needs_recentring(&self.sums.second, &m)
    }

    /// Runs the E-step for one point under `model` and adds its
    /// contribution; returns the point's log-likelihood `ln p(x)`.
    ///
    /// Cost: `K` log-densities, at most `K − 1` `exp` and one `ln`, then
    /// per component with a non-zero responsibility `O(D²)` (full, tied) or
    /// `O(D)` (diagonal, spherical). For many points,
    /// [`accumulate_slice`](Self::accumulate_slice) is faster and sums more
    /// accurately.
    ///
    /// # Errors
    ///
    /// * [`Error::MismatchedStatistics`] if `model` is not the model these
    ///   statistics were started with;
    /// * [`Error::NonFiniteData`] / [`Error::ZeroDensity`] as for
    ///   [`Gmm::log_prob`];
    /// * [`Error::CountOverflow`] after `usize::MAX` points.
    ///
    /// On an error the statistics are unchanged.
    pub fn accumulate<P: AsPoint<T, D>>(
        &mut self,
        model: &Gmm<T, D, K, C>,
        x: &P,
    ) -> Result<T, Error> {
        self.check(model)?;
        let x = checked(x, 0)?;
        if self.sums.points == usize::MAX {
            return Err(Error::CountOverflow);
        }
        // One point is one block; on an error `add_block` adds nothing.
        self.add_block(model, core::slice::from_ref(&x), (), 0, None)
    }

    /// Runs the E-step for every point of `data` under `model` and adds
    /// their contributions, in blocks of 128 points summed apart (the fast
    /// and accurate way: the same blocked sums [`fit`](crate::fit) makes);
    /// returns the total log-likelihood of `data`.
    ///
    /// Statistics of a data set split into shards at multiples of 128
    /// points, accumulated in order into one value, are bit-identical to
    /// those of one call on the whole set.
    ///
    /// # Errors
    ///
    /// As for [`accumulate`](Self::accumulate), naming a bad point by its
    /// index in `data`; [`Error::LikelihoodOverflow`] if the slice's total
    /// log-likelihood overflows. On an error the statistics are unchanged.
    pub fn accumulate_slice<P: AsPoint<T, D>>(
        &mut self,
        model: &Gmm<T, D, K, C>,
        data: &[P],
    ) -> Result<T, Error> {
        self.check(model)?;
        let mut scratch = *self;
        let mut total = T::zero();
        for (b, block) in data.chunks(BLOCK).enumerate() {
            total += scratch.add_block(model, block, (), b * BLOCK, None)?;
        }
        if !total.is_finite() {
            return Err(Error::LikelihoodOverflow);
        }
        *self = scratch;
        Ok(total)
    }

    /// [`accumulate_slice`](Self::accumulate_slice) with a non-negative
    /// weight per point: a point of weight `w` counts as `w` copies of it
    /// (its responsibilities times `w`; an integer weight equals that many
    /// copies to rounding), a point of weight 0 is left out (not even
    /// checked). Returns `Σᵢ wᵢ ln p(xᵢ)` (one `ln` per point).
    /// [`points`](Self::points) counts the points of positive weight.
    ///
    /// # Errors
    ///
    /// As for [`accumulate_slice`](Self::accumulate_slice), plus
    /// [`Error::LengthMismatch`] if `weights` does not have one entry per
    /// point and [`Error::InvalidSampleWeight`] naming the first weight
    /// that is negative, NaN, infinite or subnormal. On an error the
    /// statistics are unchanged.
    pub fn accumulate_weighted<P: AsPoint<T, D>>(
        &mut self,
        model: &Gmm<T, D, K, C>,
        data: &[P],
        weights: &[T],
    ) -> Result<T, Error> {
        self.check(model)?;
        if weights.len() != data.len() {
            return Err(Error::LengthMismatch {
                expected: data.len(),
                found: weights.len(),
            });
        }
        if let Some(index) = weights.iter().position(|&w| !valid_weight(w)) {
            return Err(Error::InvalidSampleWeight { index });
        }
        let mut scratch = *self;
        let mut total = T::zero();
        for (b, (block, w)) in data.chunks(BLOCK).zip(weights.chunks(BLOCK)).enumerate() {
            total += scratch.add_block(model, block, w, b * BLOCK, None)?;
        }
        if !total.is_finite() {
            return Err(Error::LikelihoodOverflow);
        }
        *self = scratch;
        Ok(total)
    }

    /// The E pass over one block of points under `model` (the caller has
    /// checked it is this statistics' model), summed apart and then added,
    /// writing each point's responsibilities to `out` when given. Returns
    /// the block's log-likelihood. On an error nothing is added (points
    /// before the bad one may have been written to `out`).
    pub(crate) fn add_block<P: AsPoint<T, D>, W: Weights<T>>(
        &mut self,
        model: &Gmm<T, D, K, C>,
        block: &[P],
        weights: W,
        first_index: usize,
        out: Option<&mut [SVector<T, K>]>,
    ) -> Result<T, Error> {
        let mut open = OpenBlock::new();
        let by = by_component::<T, C, D>();
        let visit = pusher(
            &mut open.sums,
            &mut open.lanes,
            &self.shift,
            Pass {
                block,
                weights,
                out,
            },
            by,
            0,
        );
        estep::block_piece(
            &model.kernel(),
            block,
            weights,
            first_index,
            &mut open.log,
            visit,
        )?;
        self.close_block(&mut open)
    }

    /// [`add_block`](Self::add_block) for a block that arrives in pieces:
    /// runs the E pass over `piece`, the next points of the block (with
    /// their weights, writing responsibilities to `out` when given), into
    /// `open`; [`close_block`](Self::close_block) adds the block once its
    /// last piece is in. A block fed in any number of pieces adds the same
    /// bits as in one. On an error `open` is unchanged.
    pub(crate) fn add_piece<P: AsPoint<T, D>, W: Weights<T>>(
        &self,
        model: &Gmm<T, D, K, C>,
        piece: &[P],
        weights: W,
        first_index: usize,
        out: Option<&mut [SVector<T, K>]>,
        open: &mut OpenBlock<T, D, K, C>,
    ) -> Result<(), Error> {
        // Locals while the piece runs, so the sums can stay in registers.
        let mut local = *open;
        let by = by_component::<T, C, D>();
        let turn = first_index % LANES;
        let visit = pusher(
            &mut local.sums,
            &mut local.lanes,
            &self.shift,
            Pass {
                block: piece,
                weights,
                out,
            },
            by,
            turn,
        );
        estep::block_piece(
            &model.kernel(),
            piece,
            weights,
            first_index,
            &mut local.log,
            visit,
        )?;
        *open = local;
        Ok(())
    }

    /// Adds the block whose pieces `open` holds, and empties it. Returns the
    /// block's log-likelihood.
    ///
    /// # Errors
    ///
    /// [`Error::CountOverflow`] past `usize::MAX` points (`self` and `open`
    /// unchanged).
    pub(crate) fn close_block(&mut self, open: &mut OpenBlock<T, D, K, C>) -> Result<T, Error> {
        let ll = open.log.total();
        if in_lanes::<T, C, D>() {
            // The lanes folded into a copy, so that on an error `open` is
            // as it was.
            let mut sums = open.sums;
            open.lanes.add_to(&mut sums);
            self.sums.add_with(&sums, ll)
        } else {
            // No copy: on a microcontroller it would sit in the E pass's
            // frame.
            self.sums.add_with(&open.sums, ll)
        }
        .ok_or(Error::CountOverflow)?;
        *open = OpenBlock::new();
        Ok(ll)
    }

    /// Online EM's forgetting: every sum (and the log-likelihood) times
    /// `keep`, `1 − γ` for a step `γ`.
    pub(crate) fn forget(&mut self, keep: T) {
        let s = &mut self.sums;
        s.counts *= keep;
        for f in &mut s.first {
            *f *= keep;
        }
        C::second_scale(&mut s.second, keep);
        s.log_likelihood *= keep;
    }

    /// Whether every sum (counts, moments, log-likelihood) is finite.
    pub(crate) fn is_finite(&self) -> bool {
        let s = &self.sums;
        let first = s.first.iter().flat_map(|f| f.iter()).copied();
        crate::real::all_finite(s.counts.iter().copied().chain(first))
            && s.log_likelihood.is_finite()
            && C::second_is_finite(&s.second)
    }

    /// Adds point `x` with responsibilities `r` and log-likelihood term
    /// `ll` as they are (online EM scales both by its step). The point
    /// count saturates.
    pub(crate) fn push_point(&mut self, x: &SVector<T, D>, r: &SVector<T, K>, ll: T) {
        self.sums.points = self.sums.points.min(usize::MAX - 1);
        self.sums.push(x, &self.shift, r, false);
        self.sums.log_likelihood += ll;
    }

    /// Online EM's recentring, as it cannot make another pass: the same
    /// sums seen from the shifts of [`recentred`](Self::recentred)
    /// statistics, the means the M-step is about to give. With `δ = S1ₖ/Nₖ`
    /// and `Δ` the move of the shift, `S1ₖ ← Nₖ(δ − Δ)` and
    /// `S2ₖ ← S2ₖ − Nₖδδᵀ + Nₖ(δ − Δ)(δ − Δ)ᵀ` (exact in real arithmetic;
    /// `δ − Δ` is 0 up to rounding), so statistics that outlive their model
    /// stay accurate however far the means travel. A component with a zero
    /// count has zero sums, which any shift keeps. (The statistics stay
    /// those of the model they were started with, for the fingerprint:
    /// online EM never checks it.)
    pub(crate) fn recentre_in_place(&mut self) {
        let target = self.next_shifts();
        let s = &mut self.sums;
        for k in 0..K {
            let n = s.counts[k];
            if n > T::zero() {
                let delta = s.first[k] / n;
                let moved = delta - (target[k] - self.shift[k]);
                C::second_push(&mut s.second, k, -n, &delta);
                C::second_push(&mut s.second, k, n, &moved);
                s.first[k] = moved * n;
            }
            self.shift[k] = target[k];
        }
    }

    /// [`Error::MismatchedStatistics`] unless `model` is the model these
    /// statistics were started with.
    pub(crate) fn check(&self, model: &Gmm<T, D, K, C>) -> Result<(), Error> {
        if model.fingerprint() == self.fingerprint {
            Ok(())
        } else {
            Err(Error::MismatchedStatistics)
        }
    }

    /// Adds statistics accumulated against the same model, with the same
    /// shifts, over other data.
    ///
    /// # Errors
    ///
    /// [`Error::MismatchedStatistics`] if `other` was accumulated against
    /// another model or with other shifts; [`Error::CountOverflow`] if the
    /// point counts add up past `usize::MAX`. On an error `self` is
    /// unchanged.
    pub fn merge(&mut self, other: &Self) -> Result<(), Error> {
        if self.fingerprint != other.fingerprint || self.shift != other.shift {
            return Err(Error::MismatchedStatistics);
        }
        self.sums.add(&other.sums).ok_or(Error::CountOverflow)
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

    /// The scale of the data accumulated: the mean over coordinates of
    /// their (weighted) variance, `s = (1/D) Σ_d var(x_d)`, the unit of
    /// [`FitOptions::reg_covar`](crate::FitOptions::reg_covar). Every fit
    /// regularises its M-step with `reg_covar · s` from the statistics that
    /// M-step reads, so a caller of [`m_step`](Self::m_step) can do the same.
    ///
    /// The responsibilities of each point sum to 1, so the data's scatter
    /// about their mean `μ` is the sum over components of each one's
    /// scatter about `μ`: `Σᵢ rᵢₖ ‖xᵢ − μ‖² = tr S2ₖ + 2 (cₖ − μ)·S1ₖ +
    /// Nₖ ‖cₖ − μ‖²` about its shift `cₖ`, with `μ = Σₖ (S1ₖ + Nₖ cₖ) / N`.
    /// Only the live components count (a soft count above `ε N`, as in the
    /// M-step), except in tied covariance, which pools every component's
    /// second moments: there every component with a share counts, so that
    /// a starved one's points are taken about `μ`, not about its own
    /// shift, which may be far from them.
    /// The one-pass terms cancel at most as much as
    /// [`needs_recentring`](Self::needs_recentring) allows, so statistics
    /// ready for the M-step give the scale to a few units of rounding; it
    /// equals the data's variance to rounding, not bit for bit, and a fit's
    /// successive M-steps may see it differ in the last bits. Below what `T` resolves at the data's magnitude (all
    /// points identical, or a spread lost to rounding) the scale is the
    /// largest squared coordinate of `μ` instead, and 1 if that is 0.
    ///
    /// # Errors
    ///
    /// [`Error::TooFewPoints`] if nothing was accumulated,
    /// [`Error::MomentOverflow`] if the soft counts' total overflows `T`,
    /// [`Error::DataOverflow`] if the variance does (the scatter, summed
    /// over the points, may overflow where the variance does not: its
    /// terms are then divided by `N·D` before they are added).
    pub fn scale(&self) -> Result<T, Error> {
        let m = self.first_order();
        let mut n = T::zero();
        for k in 0..K {
            if m.live[k] {
                n += m.counts[k];
            }
        }
        // Checked after the loop, where it makes the code built for size
        // (`tests/embedded`, opt-level "s") smaller than before it.
        if self.sums.points == 0 {
            return Err(Error::TooFewPoints {
                points: 0,
                needed: 1,
            });
        }
        if !(n > T::zero() && n.is_finite()) {
            // The counts' total overflowed (weights near `T`'s limit), so
            // no component is live.
            return Err(Error::MomentOverflow);
        }
        let mut mean = self.first_sum(&m, T::one()) / n;
        if !mean.iter().all(|&v| v.is_finite()) {
            // `Σₖ (S1ₖ + Nₖ cₖ)` overflowed where the mean need not: sample
            // weights near `T`'s limit. The same terms as fractions of `n`
            // (a cold path, so that every other input keeps its bits).
            mean = self.first_sum(&m, T::one() / n);
        }
        // Rounding may leave a zero scatter slightly negative.
        let clamp = |v: T| if v < T::zero() { T::zero() } else { v };
        let scatter = self.scatter(&m, &mean, T::one());
        let variance = if scatter.abs_bits() > T::MAX_FINITE.abs_bits() {
            // Infinite or NaN: the sum over all the points and coordinates
            // overflowed where their variance need not (very many points
            // far apart), or a moment did. The same terms as fractions of
            // `n·D` (a cold path, so that every other input keeps its
            // bits); overflowed moments stay infinite or NaN, for
            // `scale_from` to report.
            clamp(self.scatter(&m, &mean, T::one() / n / T::from_count(D)))
        } else {
            clamp(scatter) / n / T::from_count(D)
        };
        let largest = mean.iter().fold(T::zero(), |l, v| Real::max(l, v.abs()));
        data::scale_from(variance, largest)
    }

    /// [`scale`](Self::scale)'s sum of the live components' points,
    /// `Σₖ (S1ₖ + Nₖ cₖ)`, every term times `f` before the terms are added
    /// (`f = 1` changes no bit). Out of line: it is called again, with
    /// `1/N`, where the plain sum overflows.
    #[inline(never)]
    fn first_sum(&self, m: &Moments1<'_, T, D, K>, f: T) -> SVector<T, D> {
        let mut sum = SVector::<T, D>::zeros();
        for k in 0..K {
            if m.live[k] {
                sum += m.first[k] * f + self.shift[k] * (m.counts[k] * f);
            }
        }
        sum
    }

    /// [`scale`](Self::scale)'s scatter about `mean`, every term times `f`
    /// before the terms are added (`f = 1` changes no bit). Out of line: it
    /// is called again, with `1/N`, where the plain sum overflows.
    #[inline(never)]
    fn scatter(&self, m: &Moments1<'_, T, D, K>, mean: &SVector<T, D>, f: T) -> T {
        let mut scatter = C::second_trace(&self.sums.second, &m.live, f);
        for k in 0..K {
            if own_mean::<T, D, K, C>(m, k).is_some() {
                let a = self.shift[k] - mean;
                scatter += T::lit(2.0) * a.dot(&(m.first[k] * f)) + (m.counts[k] * f) * a.dot(&a);
            }
        }
        scatter
    }

    /// The absolute regularisation of a request `relative` to the data's
    /// [`scale`](Self::scale), which is only measured when `relative > 0`.
    ///
    /// # Errors
    ///
    /// As for [`scale`](Self::scale).
    pub(crate) fn absolute_reg(&self, relative: T) -> Result<T, Error> {
        if relative > T::zero() {
            Ok(linalg::absolute_reg(relative, self.scale()?))
        } else {
            Ok(T::zero())
        }
    }

    /// Counts, first moments and which components are live: a soft count
    /// above `ε · Σⱼ Nⱼ`.
    pub(crate) fn first_order(&self) -> Moments1<'_, T, D, K> {
        let s = &self.sums;
        let total = s.counts.sum();
        let floor = T::EPS * total;
        Moments1 {
            counts: &s.counts,
            first: &s.first,
            live: core::array::from_fn(|k| s.counts[k] > floor),
            total,
            resolution: core::array::from_fn(|k| {
                let size = self.shift[k]
                    .iter()
                    .fold(T::zero(), |m, v| Real::max(m, v.abs()));
                let r = T::lit(16.0) * T::EPS * size;
                r * r
            }),
            shift: &self.shift,
            frozen_means: None,
        }
    }

    /// The shifts `cₖ`.
    pub(crate) fn shift(&self) -> &[SVector<T, D>; K] {
        &self.shift
    }

    /// The kind's second moments.
    pub(crate) fn second(&self) -> &C::Second<T, D, K> {
        &self.sums.second
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::covariance::{Diag, Spherical, Tied};
    use nalgebra::{matrix, vector, SMatrix};

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

    /// The statistics of a slice against the sums written out: for each
    /// point its responsibilities (from the same kernel, so the same bits)
    /// and, for each component it has a share in, the same additions in
    /// the same order. The data (one block) lie near and between three
    /// well-separated f32 clusters, so that many shares are exactly 0 (cut
    /// off) and many are not: whether the statistics skip those components
    /// (one lane, and hosts at D ≥ 3) or add zeros (hosts at D ≤ 2), no bit
    /// may differ from skipping them.
    /// A block's sums in the documented order, by hand, and how many
    /// shares were cut off: with lanes (hosts), point `i` of the block in
    /// lane `i mod LANES` and component `k`'s lanes summed in lane order,
    /// the components in turn (each part holds one component of one lane);
    /// with one lane, point by point (all in one part). A point of weight
    /// 0 is left out.
    fn by_hand<T: Real, C: CovarianceKind, const D: usize>(
        model: &Gmm<T, D, 3, C>,
        block: &[[T; D]],
        weights: &[T],
    ) -> (Moments<T, D, 3, C>, usize) {
        let shift = model.means();
        let lanes = if in_lanes::<T, C, D>() { LANES } else { 1 };
        let mut part = std::vec![[Moments::<T, D, 3, C>::zero(); 3]; lanes];
        let mut cut = 0;
        for (i, (x, &w)) in block.iter().zip(weights).enumerate() {
            if w == T::zero() {
                continue;
            }
            let x = SVector::from(*x);
            let r = model.responsibilities(&x).unwrap() * w;
            for k in 0..3 {
                if r[k] == T::zero() {
                    cut += 1;
                    continue;
                }
                let d = x - shift[k];
                let p = &mut part[i % lanes][if lanes == 1 { 0 } else { k }];
                p.counts[k] += r[k];
                linalg::add_scaled(&mut p.first[k], &d, r[k]);
                C::second_push(&mut p.second, k, r[k], &d);
            }
        }
        let mut sums = Moments::zero();
        if lanes == 1 {
            sums.add(&part[0][0]).unwrap();
        }
        for k in (0..3).filter(|_| lanes > 1) {
            let mut component = part[0][k];
            for p in &part[1..] {
                component.add(&p[k]).unwrap();
            }
            sums.add(&component).unwrap();
        }
        (sums, cut)
    }

    /// `m` as it is read: the second moments' unread upper entries
    /// replaced by their mirror images ([`CovarianceKind::second_as_read`]),
    /// for comparing the sums of two paths (lanes, point by point) that
    /// leave different values there.
    fn as_read<T: Real, C: CovarianceKind, const D: usize, const K: usize>(
        m: &Moments<T, D, K, C>,
    ) -> Moments<T, D, K, C> {
        Moments {
            second: C::second_as_read(m.second),
            ..*m
        }
    }

    fn zero_shares_add_nothing<C: CovarianceKind>(model: &Gmm<f32, 2, 3, C>) {
        let data: [[f32; 2]; 120] = core::array::from_fn(|i| {
            let t = i as f32;
            [
                (t * 0.7).sin() * 3.0 + (i % 3) as f32 * 9.0,
                (t * 1.9).cos() * 2.0,
            ]
        });
        let mut stats = SufficientStats::new(model);
        stats.accumulate_slice(model, &data).unwrap();
        let (block, cut) = by_hand(model, &data, &[1.0; 120]);
        assert!(cut > 60 && cut < 240, "{cut} of 360 shares cut off");
        let mut reference = Moments::zero();
        reference.add(&block).unwrap();
        // (The log-likelihood and the count of points are not shares.)
        reference.points = stats.sums.points;
        reference.log_likelihood = stats.sums.log_likelihood;
        // Equal values and, through `Debug` (which prints `-0.0` and
        // every digit of the shortest round trip), equal bits. (With the
        // offsets finite, adding a share of 0 at the real offset would
        // pass too: point by point, `an_overflowing_offset_with_no_share_
        // adds_nothing` and `a_zero_share_keeps_a_negative_zero_sum` catch
        // that; in lanes, the NaN points of weight 0 in
        // `lanes_add_in_the_documented_order_in_any_kind`.)
        let (got, reference) = (as_read(&stats.sums), as_read(&reference));
        assert_eq!(got, reference);
        assert_eq!(std::format!("{got:?}"), std::format!("{reference:?}"));
    }

    #[test]
    fn cut_off_components_add_nothing_in_any_kind() {
        let weights = [0.3, 0.3, 0.4];
        let means = [vector![0.0, 0.0], vector![9.0, 0.5], vector![18.0, -0.5]];
        let full = [matrix![1.0, 0.3; 0.3, 0.8]; 3];
        zero_shares_add_nothing(&Gmm::<f32, 2, 3, Full>::new(weights, means, full).unwrap());
        let diag = [vector![1.0, 0.8]; 3];
        zero_shares_add_nothing(&Gmm::<f32, 2, 3, Diag>::new(weights, means, diag).unwrap());
        let spherical = Gmm::<f32, 2, 3, Spherical>::new(weights, means, [0.9; 3]).unwrap();
        zero_shares_add_nothing(&spherical);
        zero_shares_add_nothing(&Gmm::<f32, 2, 3, Tied>::new(weights, means, full[0]).unwrap());
    }

    /// A weighted E pass over two blocks at `D = 3` (the second partial)
    /// adds each sum's terms in the documented order, bit for bit: with
    /// lanes (hosts), point `i` of a block in lane `i mod LANES`, each
    /// component's lanes summed in lane order, then the components in
    /// turn; with one lane, point by point. Points of weight 0 (NaN ones
    /// among them) are left out but keep their lane positions, padding
    /// adds nothing, and the same data fed in pieces that start inside a
    /// chunk gives the same bits.
    fn lanes_in_documented_order<T: Real, C: CovarianceKind>(model: &Gmm<T, 3, 3, C>) {
        let n = BLOCK + 37;
        let data: std::vec::Vec<[T; 3]> = (0..n)
            .map(|i| {
                let t = i as f64;
                if i % 11 == 4 {
                    [f64::NAN, 0.0, 1.0].map(T::lit) // weight 0 below
                } else {
                    [
                        (t * 0.7).sin() * 3.0 + (i % 3) as f64 * 6.0,
                        (t * 1.9).cos() * 2.0,
                        (t * 0.3).sin() + 0.25,
                    ]
                    .map(T::lit)
                }
            })
            .collect();
        let weights: std::vec::Vec<T> = (0..n)
            .map(|i| {
                T::lit(if i % 11 == 4 {
                    0.0
                } else {
                    0.5 + (i % 5) as f64 * 0.375
                })
            })
            .collect();
        let mut stats = SufficientStats::new(model);
        stats.accumulate_weighted(model, &data, &weights).unwrap();

        let mut reference = Moments::<T, 3, 3, C>::zero();
        for (block, w) in data.chunks(BLOCK).zip(weights.chunks(BLOCK)) {
            reference.add(&by_hand(model, block, w).0).unwrap();
        }
        reference.points = weights.iter().filter(|w| **w > T::zero()).count();
        reference.log_likelihood = stats.sums.log_likelihood;
        assert_eq!(
            std::format!("{:?}", as_read(&stats.sums)),
            std::format!("{:?}", as_read(&reference))
        );

        // In pieces of 1 to 12 points, each block closed at its end.
        let mut pieces = SufficientStats::new(model);
        let mut open = OpenBlock::new();
        let (mut at, mut step) = (0, 0);
        while at < n {
            step = step % 12 + 1;
            let end = n.min(at + step).min((at / BLOCK + 1) * BLOCK);
            let w = &weights[at..end];
            pieces
                .add_piece(model, &data[at..end], w, at, None, &mut open)
                .unwrap();
            at = end;
            if at % BLOCK == 0 || at == n {
                pieces.close_block(&mut open).unwrap();
            }
        }
        assert_eq!(
            std::format!("{:?}", pieces.sums),
            std::format!("{:?}", stats.sums)
        );
    }

    #[test]
    fn lanes_add_in_the_documented_order_in_any_kind() {
        fn each_kind<T: Real>() {
            let weights = [0.3, 0.3, 0.4].map(T::lit);
            let means = [
                vector![0.0, 0.0, 0.0],
                vector![6.0, 0.5, 0.0],
                vector![12.0, -0.5, 0.5],
            ]
            .map(|m| m.map(T::lit));
            let full = matrix![1.0, 0.3, 0.0; 0.3, 0.8, 0.1; 0.0, 0.1, 0.5].map(T::lit);
            let model = Gmm::<T, 3, 3, Full>::new(weights, means, [full; 3]).unwrap();
            lanes_in_documented_order(&model);
            let diag = [vector![1.0, 0.8, 0.5].map(T::lit); 3];
            let model = Gmm::<T, 3, 3, Diag>::new(weights, means, diag).unwrap();
            lanes_in_documented_order(&model);
            let spherical = [T::lit(0.9); 3];
            let model = Gmm::<T, 3, 3, Spherical>::new(weights, means, spherical).unwrap();
            lanes_in_documented_order(&model);
            lanes_in_documented_order(&Gmm::<T, 3, 3, Tied>::new(weights, means, full).unwrap());
        }
        each_kind::<f32>();
        each_kind::<f64>();
    }

    /// Each kind's term for one lane is [`CovarianceKind::second_push`]'s,
    /// bit for bit, and `second_from_lanes` puts it where `second_push`
    /// does; the other lanes stay 0.
    fn lane_terms_are_second_push<C: CovarianceKind>() {
        let offsets = [[0.3, -1.7, 2.9], [-0.0, 1e-3, 7.5], [123.456, -0.1, 0.7]];
        for (d, r) in offsets.iter().zip([0.37, 1.0, 2.5e-3]) {
            let mut lanes = [[0.0_f64; 4]; LANE_SECOND];
            C::second_lane(&mut lanes, 2, r, d);
            assert!(lanes
                .iter()
                .all(|s| s[0] == 0.0 && s[1] == 0.0 && s[3] == 0.0));
            let v = core::array::from_fn(|t| lanes[t][2]);
            let mut from_lanes = C::second_zero::<f64, 3, 2>();
            C::second_from_lanes(&mut from_lanes, 1, &v);
            let mut pushed = C::second_zero::<f64, 3, 2>();
            C::second_push(&mut pushed, 1, r, &SVector::from(*d));
            let (from_lanes, pushed) = (C::second_as_read(from_lanes), C::second_as_read(pushed));
            assert_eq!(std::format!("{from_lanes:?}"), std::format!("{pushed:?}"));
        }
    }

    #[test]
    fn a_lane_adds_what_a_point_adds_in_any_kind() {
        lane_terms_are_second_push::<Full>();
        lane_terms_are_second_push::<Diag>();
        lane_terms_are_second_push::<Spherical>();
        lane_terms_are_second_push::<Tied>();
    }

    /// The sums and the responsibilities written out of an E pass over
    /// `data` (blocks of [`BLOCK`], with `weights`), added point by point
    /// or component by component. The sums start at +0, as a block's do;
    /// every slot of `out` starts NaN, so a slot written for a point left
    /// out would show.
    #[allow(clippy::type_complexity)]
    fn pass<C: CovarianceKind, const D: usize>(
        model: &Gmm<f32, D, 4, C>,
        data: &[[f32; D]],
        weights: &[f32],
        by_component: bool,
    ) -> (Moments<f32, D, 4, C>, std::vec::Vec<SVector<f32, 4>>) {
        let shift = model.means();
        let mut sums = Moments::<f32, D, 4, C>::zero();
        let mut out = std::vec![SVector::repeat(f32::NAN); data.len()];
        for (b, block) in data.chunks(BLOCK).enumerate() {
            let w = weights.range(b * BLOCK, block.len());
            let slots = &mut out[b * BLOCK..];
            let mut lanes = LaneSums::zero();
            let visit = pusher(
                &mut sums,
                &mut lanes,
                &shift,
                Pass {
                    block,
                    weights: w,
                    out: Some(slots),
                },
                by_component,
                0,
            );
            estep::block(&model.kernel(), block, w, b * BLOCK, visit).unwrap();
        }
        (sums, out)
    }

    /// Component by component (as hosts add full covariance from D = 4)
    /// and point by point give the same bits: counts, first moments,
    /// points, responsibilities, and the second moments that `bits` picks
    /// out (all but the upper triangle of full covariance, which is never
    /// read); and the bits of the sums with every share of 0 skipped
    /// ([`Moments::push`] not `dense`), which the pass adds as zeros on
    /// hosts (`dense`: every point and shift is within half the range, so
    /// every offset is finite). Three well-separated `f32` clusters in `D`
    /// dimensions and a fourth component at 10³⁰, in which no point has a
    /// share (its sums stay +0; an offset from it squared overflows); 150
    /// points (two blocks, a partial chunk), some of weight 0 and some
    /// fractional: shares cut off to 0 and shared ones both occur.
    fn by_component_is_point_by_point<C: CovarianceKind, const D: usize>(
        model: &Gmm<f32, D, 4, C>,
        bits: impl Fn(&C::Second<f32, D, 4>) -> std::vec::Vec<u32>,
    ) {
        let data: std::vec::Vec<[f32; D]> = (0..150)
            .map(|i| {
                let t = i as f32;
                core::array::from_fn(|j| {
                    let jt = (j + 1) as f32;
                    if j == 0 {
                        (t * 0.7).sin() * 6.0 + (i % 3) as f32 * 12.0
                    } else {
                        (t * 0.7 * jt).sin() * 2.0
                    }
                })
            })
            .collect();
        let weights: std::vec::Vec<f32> = (0..150)
            .map(|i| [1.0, 0.0, 0.25, 2.5, 1.0][i % 5])
            .collect();
        let (a, ra) = pass(model, &data, &weights, false);
        let (b, rb) = pass(model, &data, &weights, true);
        let mut skipped = Moments::<f32, D, 4, C>::zero();
        for (x, &w) in data.iter().zip(&weights).filter(|(_, &w)| w != 0.0) {
            let x = SVector::from(*x);
            let r = model.responsibilities(&x).unwrap() * w;
            skipped.push(&x, &model.means(), &r, false);
        }
        assert_eq!(a.points, 120);
        assert_eq!(a.points, b.points);
        let f = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<std::vec::Vec<_>>();
        for c in [&b, &skipped] {
            assert_eq!(f(a.counts.as_slice()), f(c.counts.as_slice()));
            for k in 0..4 {
                assert_eq!(f(a.first[k].as_slice()), f(c.first[k].as_slice()));
            }
            assert_eq!(bits(&a.second), bits(&c.second));
        }
        for (x, y) in ra.iter().zip(rb.iter()) {
            assert_eq!(f(x.as_slice()), f(y.as_slice()));
        }
        // The far component's sums are still +0; the left-out points'
        // slots still NaN.
        assert_eq!(a.counts[3].to_bits(), 0);
        assert!(a.first[3].iter().all(|v| v.to_bits() == 0));
        let left_out = ra.iter().zip(&weights).filter(|(_, &w)| w == 0.0);
        assert!(left_out.clone().count() == 30 && left_out.clone().all(|(r, _)| r[0].is_nan()));
        let kept = || {
            ra.iter()
                .zip(&weights)
                .filter(|(_, &w)| w != 0.0)
                .map(|(r, _)| r)
        };
        let cut = kept()
            .flat_map(|r| r.iter().take(3))
            .filter(|&&r| r == 0.0)
            .count();
        let shared = kept()
            .filter(|r| r.iter().filter(|&&v| v > 1e-3).count() >= 2)
            .count();
        assert!(
            cut > 30 && shared > 10 && kept().all(|r| r[3] == 0.0),
            "{cut} shares cut, {shared} points shared"
        );
    }

    #[test]
    fn components_in_turn_add_the_bits_of_points_in_turn() {
        fn lower<const D: usize>(s: &[SMatrix<f32, D, D>; 4]) -> std::vec::Vec<u32> {
            s.iter()
                .flat_map(|m| (0..D).flat_map(move |j| (j..D).map(move |i| m[(i, j)].to_bits())))
                .collect()
        }
        fn all<const D: usize, const N: usize>(s: &[SVector<f32, N>]) -> std::vec::Vec<u32> {
            s.iter()
                .flat_map(|v| v.iter().map(|x| x.to_bits()))
                .collect()
        }
        fn means<const D: usize>() -> [SVector<f32, D>; 4] {
            core::array::from_fn(|k| {
                let x0 = if k == 3 { 1e30 } else { k as f32 * 12.0 };
                SVector::from_fn(|j, _| if j == 0 { x0 } else { 0.1 })
            })
        }
        fn cov<const D: usize>() -> SMatrix<f32, D, D> {
            SMatrix::from_fn(|i, j| if i == j { 2.0 } else { 0.3 })
        }
        let weights = [0.3, 0.3, 0.3, 0.1];
        // Full at D = 4 and 8. (Whether D = 8 adds the triangle of whole
        // vectors or the lower triangle depends on the target's registers;
        // the first's lower triangle is `linalg::add_outer_blocks`'s, which
        // `linalg::tests` checks against the triangle bit for bit.)
        let full4 = Gmm::<f32, 4, 4, Full>::new(weights, means(), [cov(); 4]).unwrap();
        by_component_is_point_by_point(&full4, lower);
        let full8 = Gmm::<f32, 8, 4, Full>::new(weights, means(), [cov(); 4]).unwrap();
        by_component_is_point_by_point(&full8, lower);
        // The other per-component kinds through the trait's own run.
        let diag = Gmm::<f32, 4, 4, Diag>::new(weights, means(), [SVector::repeat(2.0); 4]);
        by_component_is_point_by_point(&diag.unwrap(), |s| all::<4, 4>(s));
        let spherical = Gmm::<f32, 4, 4, Spherical>::new(weights, means(), [2.0; 4]).unwrap();
        by_component_is_point_by_point(&spherical, |s| all::<4, 4>(core::slice::from_ref(s)));
    }

    /// Online EM checks its sums before each M-step: only the sums read
    /// count, so a full or tied upper entry (never read; in whole vectors
    /// a differently rounded sum) cannot fail the check, and any lower one
    /// can.
    #[test]
    fn only_the_sums_read_must_be_finite() {
        let mut s = SMatrix::<f64, 3, 3>::zeros();
        s[(0, 2)] = f64::INFINITY;
        s[(1, 2)] = f64::NAN;
        assert!(Tied::second_is_finite::<f64, 3, 2>(&s));
        assert!(Full::second_is_finite::<f64, 3, 2>(&[s, s]));
        for (i, j) in [(0, 0), (2, 0), (2, 1), (2, 2)] {
            let mut bad = s;
            bad[(i, j)] = f64::NAN;
            assert!(!Tied::second_is_finite::<f64, 3, 2>(&bad));
            assert!(!Full::second_is_finite::<f64, 3, 2>(&[s, bad]));
        }
    }

    #[test]
    fn a_zero_share_keeps_a_negative_zero_sum() {
        // Online EM scales its sums (forgetting), so a sum can be −0; a
        // component with no share in a point must leave it −0 (adding +0
        // would make it +0).
        let model = Gmm::<f32, 2, 3, Full>::new(
            [0.3, 0.3, 0.4],
            [vector![0.0, 0.0], vector![100.0, 0.0], vector![200.0, 0.0]],
            [matrix![1.0, 0.0; 0.0, 1.0]; 3],
        )
        .unwrap();
        let x = vector![0.5f32, 0.25];
        let r = model.responsibilities(&x).unwrap();
        assert_eq!((r[1], r[2]), (0.0, 0.0));
        let mut m = Moments::<f32, 2, 3, Full>::zero();
        m.counts[1] = -0.0;
        m.first[1] = vector![-0.0, -0.0];
        m.second[2] = matrix![-0.0, -0.0; -0.0, -0.0];
        m.push(&x, &model.means(), &r, false);
        let neg = (-0.0f32).to_bits();
        assert_eq!(m.counts[1].to_bits(), neg);
        assert!(m.first[1].iter().all(|v| v.to_bits() == neg));
        assert!(m.second[2].iter().all(|v| v.to_bits() == neg));
        assert!(m.counts[0] > 0.99);
    }

    #[test]
    fn an_overflowing_offset_with_no_share_adds_nothing() {
        // The point at 3e38 is ∞ away from the component at −3e38 (its
        // offset overflows) and has no share in it: adding that share as
        // 0·∞ would make the sums NaN.
        let model = Gmm::<f32, 2, 3, Full>::new(
            [0.3, 0.3, 0.4],
            [vector![-3e38, 0.0], vector![3e38, 0.0], vector![0.0, 0.0]],
            [matrix![1.0, 0.0; 0.0, 1.0]; 3],
        )
        .unwrap();
        let data = [[3e38f32, 0.0], [0.0, 0.5], [3e38, 0.25]];
        let mut stats = SufficientStats::new(&model);
        stats.accumulate_slice(&model, &data).unwrap();
        assert_eq!(stats.counts(), &vector![0.0, 2.0, 1.0]);
        assert_eq!(stats.sums.first[1], vector![0.0, 0.25]);
        assert!(stats.sums.second.iter().flatten().all(|v| v.is_finite()));
    }

    /// As [`an_overflowing_offset_with_no_share_adds_nothing`] where hosts
    /// add a point's shares one by one (D = 3) and a chunk's component by
    /// component (D = 4), in every kind: a point or shift beyond half the
    /// range makes the pass skip shares of 0 instead of adding them.
    #[test]
    fn overflowing_offsets_with_no_share_add_nothing_in_any_kind() {
        fn check<C: CovarianceKind, const D: usize>(model: &Gmm<f32, D, 3, C>) {
            let at = |x0: f32, x1: f32| SVector::<f32, D>::from_fn(|i, _| [x0, x1][i.min(1)]);
            let data = [at(3e38, 0.0), at(0.0, 0.5), at(3e38, 0.25)];
            let mut stats = SufficientStats::new(model);
            stats.accumulate_slice(model, &data).unwrap();
            assert_eq!(stats.counts(), &vector![0.0, 2.0, 1.0]);
            assert!(stats.is_finite());
        }
        fn kinds<const D: usize>() {
            let mean = |x0: f32| SVector::<f32, D>::from_fn(|i, _| if i == 0 { x0 } else { 0.0 });
            let (w, m) = ([0.3, 0.3, 0.4], [mean(-3e38), mean(3e38), mean(0.0)]);
            let one = SMatrix::<f32, D, D>::identity();
            check(&Gmm::<f32, D, 3, Full>::new(w, m, [one; 3]).unwrap());
            check(&Gmm::<f32, D, 3, Diag>::new(w, m, [SVector::repeat(1.0); 3]).unwrap());
            check(&Gmm::<f32, D, 3, Spherical>::new(w, m, [1.0; 3]).unwrap());
            check(&Gmm::<f32, D, 3, Tied>::new(w, m, one).unwrap());
        }
        kinds::<3>();
        kinds::<4>();
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
        // The first pass's one-pass covariance would cancel: refused.
        assert_eq!(stats.m_step(&model, 0.0), Err(Error::NeedsRecentring));
        let next = again.m_step(&model, 0.0).unwrap();
        assert!((next.means()[0] - mean).amax() < 1e-13);
        assert!((next.covariances()[0] - cov).amax() < 1e-12);
        assert_eq!(next.weights()[0], 1.0);
        let reg = again.m_step(&model, 0.5).unwrap();
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

    /// Found by the `fit` fuzz target: with weights near `f32`'s limit on
    /// points at `−26`, `Σₖ (S1ₖ + Nₖ cₖ)` overflows although the data and
    /// their mean are ordinary, and `scale` reported `DataOverflow`. It
    /// must give the weighted variance (to rounding) in every kind.
    #[test]
    fn scale_survives_weights_near_the_limit() {
        fn check<C: CovarianceKind>(model: Gmm<f32, 2, 2, C>) {
            let data = [[-26.25f32, -27.25], [-26.25, -26.25]];
            let weights = [4.5e37f32, 1.0e37];
            let mut stats = SufficientStats::new(&model);
            // The log-likelihood's weighted sum may overflow; the moments
            // may not.
            let _ = stats.accumulate_weighted(&model, &data, &weights);
            assert_eq!(stats.points(), 2);
            let scale = stats.scale().unwrap();
            // The mean over coordinates of the weighted variance: only y
            // varies, by 1, so w₀w₁/(w₀ + w₁)² / D.
            let (w0, w1) = (f64::from(weights[0]), f64::from(weights[1]));
            let expected = w0 * w1 / ((w0 + w1) * (w0 + w1)) / 2.0;
            assert!(
                (f64::from(scale) - expected).abs() <= 1e-5 * expected,
                "{scale} vs {expected}"
            );
        }
        let means = [
            SVector::from([-26.25, -27.25]),
            SVector::from([-26.25, -26.25]),
        ];
        let cov = SMatrix::<f32, 2, 2>::from([[0.1, 0.0], [0.0, 0.5]]);
        check(Gmm::<f32, 2, 2, Full>::new([0.5, 0.5], means, [cov; 2]).unwrap());
        check(Gmm::<f32, 2, 2, Diag>::new([0.5, 0.5], means, [cov.diagonal(); 2]).unwrap());
        check(Gmm::<f32, 2, 2, Spherical>::new([0.5, 0.5], means, [0.3; 2]).unwrap());
        check(Gmm::<f32, 2, 2, Tied>::new([0.5, 0.5], means, cov).unwrap());
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
