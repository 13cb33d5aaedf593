//! The E-step kernel: one function that takes a block of points under a
//! model and yields, for each point, its responsibilities (and its offsets
//! from the component means), and for the block its log-likelihood.
//! Inference (`Gmm::log_prob`, `responsibilities`, `predict`,
//! `log_likelihood`) and the statistics of a fit both run through it, so
//! they compute the same numbers the same way.

use nalgebra::SVector;

use crate::covariance::CovarianceKind;
use crate::data::AsPoint;
use crate::error::Error;
use crate::linalg;
use crate::real::Real;

/// What the kernel reads of a model: its means, covariance parameters and
/// per-component constants `ln wₖ + ln`-normaliser (a view, so the kernel
/// sits below the model type and does not depend on it).
pub(crate) struct Kernel<'a, T: Real, const D: usize, const K: usize, C: CovarianceKind> {
    pub(crate) log_coeffs: &'a SVector<T, K>,
    pub(crate) means: &'a [SVector<T, D>; K],
    pub(crate) params: &'a C::Params<T, D, K>,
}

/// Points summed into a block of their own before the block is added to
/// running totals. Summing `N` terms one by one lets rounding error grow
/// like `N ε`; in blocks of `B` it grows like `(B + N/B) ε`: for
/// `N = 100 000` in `f32`, about 6e-3 relative at worst falls to 4e-5.
/// Measured on the seed's 3-cluster data at that size, the `f32` fit's
/// largest relative difference from the `f64` fit falls from 2.3e-5 to
/// 7.3e-7 on a 64-bit host (`tests/f32_accuracy.rs`). Log-likelihoods are
/// blocked the same way, one `ln` per block.
pub(crate) const BLOCK: usize = 128;

/// Lanes: on 64-bit targets (hosts with SIMD units) 8, the unit in which
/// the kernel takes points (each step of the kernel one operation on
/// independent points, which the compiler turns into vector instructions:
/// structure of arrays, the coordinates of a chunk copied into
/// `[[T; CHUNK]; D]` once) and the number of lanes a host adds sums in (the
/// statistics', see `stats::LaneSums`, and the `f32` log-likelihood's, see
/// [`LogSum`]: lane `j` the points `j`, `j + 8`, … of a block). On 32-bit
/// targets (microcontrollers without vector floating point) 1, where lanes
/// would only move values through memory that otherwise stay in registers.
/// A point's results do not depend on the lane count (each lane runs the
/// same operations in the same order); `tests` below checks it. The sums'
/// order does, so it is one constant for every 64-bit target, whatever its
/// vector width: hosts agree bit for bit.
#[cfg(target_pointer_width = "64")]
pub(crate) const LANES: usize = 8;

/// Lanes (see the 64-bit definition).
#[cfg(not(target_pointer_width = "64"))]
pub(crate) const LANES: usize = 1;

/// Points the kernel takes at once: 16 (two sets of [`LANES`]) where the
/// target has AVX-512 ([`linalg::wide_registers`]), whose 32 vector
/// registers hold a chunk's lanes without spilling them, else [`LANES`]. A
/// speed choice only: no result depends on it, since each point's values
/// do not and the sums take a chunk's points set of lanes by set of lanes,
/// in order (the points `0..8` of a chunk before `8..16`), exactly as two
/// chunks of eight.
/// `RUSTFLAGS="-C target-cpu=native" bash benches/compare_commits.sh
/// 25d0db2` (`ROUNDS=9`, paired medians) puts the full-covariance
/// `em_step` at 0.77 (`f64`) and 0.75 (`f32`) of the time with 8 at
/// D = 2, K = 3, 0.97 and 0.93 at D = 8, K = 8. On the default x86-64
/// target (16 vector registers of 16 bytes) a throw-away build with 16
/// took 1.15 times as long at D = 2, K = 3 in `f64` (the timing program of
/// `benches/compare`, both builds run alternately, medians of 2 rounds).
pub(crate) const CHUNK: usize = if LANES > 1 && linalg::wide_registers() {
    2 * LANES
} else {
    LANES
};

const _: () = assert!(CHUNK.is_multiple_of(LANES) && CHUNK >= LANES);

/// Whether the target is taken to have no floating-point hardware (32-bit
/// ARM with the soft-float ABI, such as the Cortex-M0 and M3, and 32-bit
/// RISC-V without the F extension), so that a float comparison is a
/// library call: the one-lane kernel then compares some floats as integers
/// where an FPU's own comparison is cheaper (as does
/// [`all_finite`](crate::real::all_finite)). Only the speed depends on it,
/// never a result.
pub(crate) const SOFT_FLOAT: bool = cfg!(any(
    all(target_arch = "arm", not(target_abi = "eabihf")),
    all(target_arch = "riscv32", not(target_feature = "f"))
));

/// A value aligned to 64 bytes where the target has AVX-512, so that the
/// kernel's 512-bit loads and stores of lanes never straddle two cache
/// lines. Without it the lanes' alignment followed the stack's address,
/// which Linux randomises per process, and so did the speed of a fit from
/// one run of a program to the next. Other targets keep natural
/// alignment: on the default x86-64 target (SSE2) 64 bytes made the `f32`
/// E-step at D = 2, K = 3 slower (`benches/compare_commits.sh`), and a
/// microcontroller's stack has no room for padding.
#[cfg_attr(
    all(target_pointer_width = "64", target_feature = "avx512f"),
    repr(align(64))
)]
pub(crate) struct Aligned<A>(pub(crate) A);

/// The responsibilities of up to `L` points after the E-step, as lanes:
/// `r[k][l]` is point `l`'s responsibility of component `k`; the first
/// [`len`](Self::len) lanes are points, the rest padding.
pub(crate) struct Chunk<T, const K: usize, const L: usize> {
    r: Aligned<[[T; L]; K]>,
    len: usize,
}

impl<T: Real, const K: usize, const L: usize> Chunk<T, K, L> {
    /// How many lanes hold points (at most `L`, visibly to the optimiser,
    /// so `point(l)` for `l < len()` needs no bounds check).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len.min(L)
    }

    /// Point `l`'s responsibility of component `k` (0 out of range).
    #[inline]
    pub(crate) fn share(&self, k: usize, l: usize) -> T {
        self.r
            .0
            .get(k)
            .and_then(|r| r.get(l))
            .copied()
            .unwrap_or(T::zero())
    }

    /// The responsibilities of point `l`.
    #[inline]
    pub(crate) fn responsibilities(&self, l: usize) -> SVector<T, K> {
        SVector::from_fn(|k, _| self.r.0[k][l])
    }

    /// The responsibilities, as lanes.
    #[inline]
    pub(crate) fn shares(&self) -> &[[T; L]; K] {
        &self.r.0
    }
}

/// Sample weights as the kernel sees them: none (`()`, every point weight
/// 1, the unweighted code with nothing added) or one per point (`&[T]`),
/// resolved at compile time so the unweighted kernel pays nothing.
pub(crate) trait Weights<T>: Copy {
    /// Point `i`'s weight, `None` when unweighted (a missing entry is 0).
    fn at(self, i: usize) -> Option<T>;
    /// The weights of the points from `start` on, at most `len` of them.
    #[must_use]
    fn range(self, start: usize, len: usize) -> Self;
    /// Every weight, `None` when unweighted.
    fn all(&self) -> Option<&[T]>;
}

impl<T> Weights<T> for () {
    #[inline]
    fn at(self, _: usize) -> Option<T> {
        None
    }
    #[inline]
    fn range(self, _: usize, _: usize) -> Self {}
    #[inline]
    fn all(&self) -> Option<&[T]> {
        None
    }
}

impl<T: Real> Weights<T> for &[T] {
    #[inline]
    fn at(self, i: usize) -> Option<T> {
        Some(self.get(i).copied().unwrap_or(T::zero()))
    }
    #[inline]
    fn range(self, start: usize, len: usize) -> Self {
        let rest = self.get(start..).unwrap_or(&[]);
        rest.get(..len).unwrap_or(rest)
    }
    #[inline]
    fn all(&self) -> Option<&[T]> {
        Some(self)
    }
}

/// The E-step for the `L` points of `x`: writes their responsibilities to
/// `r` and returns per lane `(m, s)` with `ln p(x) = m + ln s`,
/// `s ∈ [1, K]`. A lane with `m = −∞` has a density that underflows under
/// every component (or a point that is not finite); its `r` is garbage.
///
/// Log-sum-exp with the largest term `m` factored out: that term's
/// exponential is exactly 1 (`exp_nonpositive(0) = 1`), and terms more
/// than 50 (`f32`) or 200 (`f64`) below it get responsibility 0 (their true
/// value is below `ε` by many orders, and computing it could produce a
/// slow subnormal). The others take the reduced-range `exp` of
/// [`Real::exp_nonpositive`]. With several lanes every step is branch-free
/// (the cut-off is a select on an argument clamped into range), so it
/// vectorises; with one lane the exps that are 1 or cut off are skipped by
/// a branch. The values are the same either way. The `ln s` is left to the caller, so a block can take one
/// `ln` for all its points.
// Always inlined: the lanes then stay in registers where they fit (an
// outlined copy, shared by the fit and inference, saves 340 bytes at
// opt-level "s" on a Cortex-M4F but costs 10 % more instructions).
#[allow(clippy::inline_always)]
#[inline(always)]
fn responsibilities<T: Real, const D: usize, const K: usize, C: CovarianceKind, const L: usize>(
    model: &Kernel<'_, T, D, K, C>,
    x: &[[T; L]; D],
    r: &mut [[T; L]; K],
) -> ([T; L], [T; L]) {
    let mut max = [T::NEG_INFINITY; L];
    for (k, (mean, rk)) in model.means.iter().zip(r.iter_mut()).enumerate() {
        let q = C::half_mahalanobis_sq(model.params, k, x, mean);
        let c = model.log_coeffs[k];
        for ((v, m), q) in rk.iter_mut().zip(max.iter_mut()).zip(q) {
            // q is +0, positive, +∞ or NaN (a NaN point, or ∞ · 0 after
            // an overflow): a NaN q means a density of 0 under component
            // k, as −∞ does. With one lane and a floating-point unit (the
            // fit's kernel on the Cortex-M4F; inference, `point`, on any
            // target with one) v = c − q is left NaN: no comparison below
            // takes it (`v > m` is false for NaN, and its |t| is above
            // the cut-off's), so its term is 0 and it is never the
            // maximum, exactly as for −∞; the test saves 5 instructions
            // per point·component there. Elsewhere v is made −∞ first:
            // without an FPU the maximum is taken as integers, where a NaN
            // would sort high (|q| orders as q: an integer comparison, a
            // call fewer), and with lanes the select costs nothing (left
            // out, an `f32` iteration at D = 8, K = 8 took 1.15 times as
            // long on the default x86-64 target).
            let finite = if L > 1 {
                q <= T::MAX_FINITE
            } else if SOFT_FLOAT {
                q.abs_bits() <= T::MAX_FINITE.abs_bits()
            } else {
                true // a NaN q is left to the comparisons, as above
            };
            *v = if finite { c - q } else { T::NEG_INFINITY };
            // On cores without floating-point hardware (see `SOFT_FLOAT`)
            // in integers: v and m are never NaN, and a +0 that replaces
            // a −0 maximum changes no result (m enters as `v − m`, ±0 for
            // the largest term either way, and as a term of a sum).
            let above = if L == 1 && SOFT_FLOAT {
                v.order_key() > m.order_key()
            } else {
                *v > *m
            };
            if above {
                *m = *v;
            }
        }
    }
    let cutoff = -T::LSE_CUTOFF;
    // From −0, so the first addition folds away (see
    // `linalg::lower_norm_sq`); every term is ≥ +0.
    let mut sum = [-T::zero(); L];
    for rk in r.iter_mut() {
        for ((v, s), m) in rk.iter_mut().zip(sum.iter_mut()).zip(max) {
            let t = *v - m;
            *v = if L == 1 {
                // One lane (32-bit targets): branches are cheap and an exp
                // is not, so the largest term's exp(0) = 1 and the terms
                // cut off are not computed. t is ±0, negative or NaN, so
                // `t > cutoff` is `|t| < |cutoff|` and `t == 0` is `|t| = 0`
                // in integers (NaN above all: cut off, as `!(t > cutoff)`).
                if t.abs_bits() >= cutoff.abs_bits() {
                    T::zero()
                } else if t.abs_bits() == 0 {
                    T::one()
                } else {
                    T::exp_nonpositive(t)
                }
            } else {
                // Lanes: the same values without a branch (a select).
                let e = T::exp_nonpositive(if t > cutoff { t } else { cutoff });
                if t > cutoff {
                    e
                } else {
                    T::zero()
                }
            };
            *s += *v;
        }
    }
    // s ∈ [1, K] in every lane with a finite m: the division is safe.
    let inv = sum.map(|s| T::one() / s);
    for rk in r.iter_mut() {
        for (v, i) in rk.iter_mut().zip(inv) {
            *v *= i;
        }
    }
    (max, sum)
}

/// The E-step over a block of points (at most [`BLOCK`] for the documented
/// accuracy), [`CHUNK`] points at a time: calls `visit(i, chunk)` for each
/// chunk in order, `i` the index in `points` of its first point, and
/// returns the block's log-likelihood `Σᵢ ln p(xᵢ)`.
///
/// With `weights` (one per point), a point of weight 0 is left out (not
/// checked, its lanes ignored by the caller too) and the others add
/// `wᵢ ln p(xᵢ)`, with one `ln` each.
///
/// A point's log-likelihood is `mᵢ + ln sᵢ` with `sᵢ ∈ [1, K]`; the block
/// adds up the `mᵢ` and multiplies the `sᵢ` in the lanes of [`LogSum`]
/// (in `f32` on hosts eight, point i in lane i mod 8; elsewhere one, the
/// points in turn), taking an `ln` of a product when it passes 2⁶⁴ and at
/// the block's end, instead of one `ln` per point. The product's rounding
/// (`ε` per factor) matches what summing the logarithms would cost.
///
/// # Errors
///
/// At the first point whose density underflows under every component:
/// [`Error::NonFiniteData`] if it has a NaN or infinite coordinate, else
/// [`Error::ZeroDensity`], naming it as `first_index + i`. The chunks before
/// its own have been visited. (A non-finite point always ends here: its
/// squared Mahalanobis terms are NaN or infinite, so no separate check is
/// needed.)
// Always inlined: `visit` is the statistics' update, which must fuse with
// the E-step into one loop.
#[allow(clippy::inline_always)]
#[inline(always)]
pub(crate) fn block<T, const D: usize, const K: usize, C, P, W, F>(
    model: &Kernel<'_, T, D, K, C>,
    points: &[P],
    weights: W,
    first_index: usize,
    visit: F,
) -> Result<T, Error>
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
    W: Weights<T>,
    F: FnMut(usize, &Chunk<T, K, CHUNK>),
{
    let mut log = LogSum::new();
    block_piece(model, points, weights, first_index, &mut log, visit)?;
    Ok(log.total())
}

/// [`block`] for a block that arrives in pieces: adds the pieces' terms to
/// `log`, the block's log-likelihood so far. Feeding a block's points in
/// any number of consecutive pieces gives the same `log` bit for bit as
/// feeding them at once (each point's terms are added in order; only the
/// chunking into lanes differs, which changes no result). On an error
/// `log` holds part of the piece.
#[allow(clippy::inline_always)]
#[inline(always)]
pub(crate) fn block_piece<T, const D: usize, const K: usize, C, P, W, F>(
    model: &Kernel<'_, T, D, K, C>,
    points: &[P],
    weights: W,
    first_index: usize,
    log: &mut LogSum<T>,
    visit: F,
) -> Result<(), Error>
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
    W: Weights<T>,
    F: FnMut(usize, &Chunk<T, K, CHUNK>),
{
    lanes::<T, D, K, C, P, W, F, CHUNK>(model, points, weights, first_index, log, true, visit)
}

/// 2⁶⁴, where a running product of the `sᵢ ∈ [1, K]` is folded into its
/// sum by an `ln`: far from overflow in `f32` even after one more factor.
#[inline]
fn flush<T: Real>() -> T {
    T::lit(18_446_744_073_709_551_616.0)
}

/// A block's log-likelihood while its points come in, in lanes: where a
/// chunk's terms go across the lanes ([`across`]: `f32` on hosts), lane
/// `j` of [`LANES`] holds the points at positions `j`, `j + LANES`,
/// `j + 2·LANES`, … of the block, in that order; elsewhere (`f64`, and
/// 32-bit targets, which have one lane) lane 0 holds every point in turn.
/// A lane has the sum of its points' `mᵢ` (or weighted terms) and the
/// running product of their `sᵢ`, whose `ln` goes into the sum when it
/// passes 2⁶⁴; [`total`](Self::total) adds the lanes in order. Across the
/// lanes each step of a chunk runs on its eight points at once, as the
/// E-step does, instead of through one sum and one product whose latency
/// every point waits for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LogSum<T> {
    sum: [T; LANES],
    product: [T; LANES],
}

impl<T: Real> LogSum<T> {
    /// No points yet.
    #[inline]
    pub(crate) fn new() -> Self {
        Self {
            sum: [T::zero(); LANES],
            product: [T::one(); LANES],
        }
    }

    /// Lanes `sum` and `product` whose position `l` is lane
    /// `(l + shift) mod LANES`, put back in lane order.
    #[inline]
    fn unrotated(sum: &[T; LANES], product: &[T; LANES], shift: usize) -> Self {
        if shift == 0 {
            return Self {
                sum: *sum,
                product: *product,
            };
        }
        let back = LANES - shift % LANES;
        Self {
            sum: rotate(sum, back, T::zero()),
            product: rotate(product, back, T::one()),
        }
    }

    /// The log-likelihood of the points so far: the lanes' sums in order,
    /// then their products multiplied in order, with an `ln` whenever the
    /// product reaches 2⁶⁴ and at the end. (Where every point is in lane
    /// 0: `sum + ln product`.) A lane's product is at most 2⁶⁴ (it is
    /// folded when it passes that), so the running product, below 2⁶⁴
    /// before each factor, stays below 2¹²⁸, finite in `f32`; folding only
    /// above 2⁶⁴, two lanes of exactly 2⁶⁴ (sᵢ = K = 16 in every point,
    /// identical components) made `+∞`.
    #[inline]
    pub(crate) fn total(&self) -> T {
        if !across::<T>() {
            // Every point in lane 0.
            return self.sum[0] + Real::ln(self.product[0]);
        }
        let mut total = self.sum[0];
        for s in self.sum.iter().skip(1) {
            total += *s;
        }
        let mut product = T::one();
        for p in &self.product {
            product *= *p;
            if product.abs_bits() >= flush::<T>().abs_bits() {
                total += Real::ln(product);
                product = T::one();
            }
        }
        total + Real::ln(product)
    }
}

/// `a` rotated so that position `l` holds `a[(l + by) mod LANES]` (`empty`
/// where there is none, which never happens).
#[inline]
fn rotate<T: Copy>(a: &[T; LANES], by: usize, empty: T) -> [T; LANES] {
    core::array::from_fn(|l| a.get((l + by) % LANES).copied().unwrap_or(empty))
}

/// The E-step for one point: its log-density `ln p(x)` and
/// responsibilities, computed exactly as [`block`] computes them.
///
/// # Errors
///
/// As for [`block`], naming index 0.
pub(crate) fn point<T, const D: usize, const K: usize, C, P>(
    model: &Kernel<'_, T, D, K, C>,
    x: &P,
) -> Result<(T, SVector<T, K>), Error>
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
{
    let mut out = SVector::zeros();
    let mut log = LogSum::new();
    let x = core::slice::from_ref(x);
    lanes::<T, D, K, C, P, (), _, 1>(model, x, (), 0, &mut log, false, |_, c| {
        out = c.responsibilities(0);
    })?;
    Ok((log.total(), out))
}

/// Whether a chunk's log-likelihood terms are added across the lanes
/// ([`add_across`], each point to its own lane of [`LogSum`]) rather than
/// point by point to lane 0: with lanes, in `f32`. `bash
/// benches/compare_commits.sh a254e8d` (`ROUNDS=7`) put `em_step` at
/// D = 2, K = 3 in `f32` at 0.63 of the time on the default x86-64 target
/// (1.00 with `target-cpu=native`, 1.02 at D = 8, K = 8); in `f64`, whose
/// lanes take twice the vector registers, a throw-away build with lanes
/// was slower at D = 2, K = 3 on both targets. The choice depends on the
/// type alone, never on the target's features: it sets the order of the
/// sums.
#[inline]
const fn across<T>() -> bool {
    LANES > 1 && size_of::<T>() == 4
}

/// The chunk's `(m, s)` of its first `len` lanes (all unweighted, none
/// with a zero density) added to the log-likelihood's lanes, each step
/// across the lanes: padding adds 0 and multiplies by 1. A chunk of
/// several sets of [`LANES`] adds them in turn, each as a chunk of its own
/// (a product is folded after each factor that takes it past 2⁶⁴).
#[allow(clippy::inline_always)]
#[inline(always)]
fn add_across<T: Real, const L: usize>(
    sum: &mut [T; LANES],
    product: &mut [T; LANES],
    max: &[T; L],
    s: &[T; L],
    len: usize,
) {
    let flush = flush::<T>();
    for (h, (max, s)) in max
        .chunks_exact(LANES)
        .zip(s.chunks_exact(LANES))
        .enumerate()
    {
        for (l, ((sum, product), (m, s))) in sum
            .iter_mut()
            .zip(product.iter_mut())
            .zip(max.iter().zip(s))
            .enumerate()
        {
            let point = h * LANES + l < len;
            *sum += if point { *m } else { T::zero() };
            *product *= if point { *s } else { T::one() };
        }
        // Both positive: `product > flush` in integers.
        if product.iter().any(|p| p.abs_bits() > flush.abs_bits()) {
            for (sum, product) in sum.iter_mut().zip(product.iter_mut()) {
                if product.abs_bits() > flush.abs_bits() {
                    *sum += Real::ln(*product);
                    *product = T::one();
                }
            }
        }
    }
}

/// The error for the first of `part`'s points (the first at index
/// `first`) whose `max` is −∞ (the caller found one).
#[cold]
#[inline(never)]
fn zero_density<T: Real, const D: usize, const L: usize, P: AsPoint<T, D>>(
    max: &[T; L],
    part: &[P],
    first: usize,
) -> Error {
    let bad = max
        .iter()
        .zip(part)
        .enumerate()
        .find(|(_, (m, _))| m.bits() == T::NEG_INFINITY.bits());
    bad.map_or(Error::NonFiniteData { index: first }, |(l, (_, p))| {
        point_error(p, first + l)
    })
}

/// The error for point `p`, at `index`, whose density under every
/// component is zero: [`Error::NonFiniteData`] if a coordinate is NaN or
/// infinite, else [`Error::ZeroDensity`].
// Always inlined: on the Cortex-M4F a call here, on the per-point path's
// error branch, changed the loop's registers (68 instructions per
// point·component instead of 60).
#[allow(clippy::inline_always)]
#[inline(always)]
fn point_error<T: Real, const D: usize, P: AsPoint<T, D>>(p: &P, index: usize) -> Error {
    if p.to_vector().iter().all(|&v| v.is_finite()) {
        Error::ZeroDensity { index }
    } else {
        Error::NonFiniteData { index }
    }
}

/// The chunk `part` (at most `L` points) as lanes: `x[i][l]` is coordinate
/// `i` of point `l`; lanes past its end repeat its first point (finite
/// work, ignored). `None` for an empty chunk (chunks never are).
#[allow(clippy::inline_always)]
#[inline(always)]
fn transposed<T: Real, const D: usize, const L: usize, P: AsPoint<T, D>>(
    part: &[P],
) -> Option<Aligned<[[T; L]; D]>> {
    let first = part.first()?.to_vector();
    let mut lanes = Aligned([[T::zero(); L]; D]);
    let x = &mut lanes.0;
    if let Ok(full) = <&[P; L]>::try_from(part) {
        // A whole chunk (all but the last): no padding to choose, so the
        // copy is a plain transposition the compiler vectorises. At D ≤ 2
        // on hosts coordinate by coordinate: point by point, LLVM read the
        // chunk's coordinates one by one, took each point's offsets from
        // the means in scalar subtractions and built the lanes from them
        // with a masked broadcast per lane; coordinate by coordinate it
        // loads whole vectors and separates the coordinates with shuffles.
        // `em_step` at D = 2, K = 3 in `f32` with `target-cpu=native`
        // (AVX-512, sixteen lanes) took 0.81 of the time (full covariance;
        // diag 0.82, tied 0.85, spherical 0.94; `RUSTFLAGS="-C
        // target-cpu=native" bash benches/compare_commits.sh`, `ROUNDS=5`,
        // against `60ee026`), the same in `f64`, on the default target and
        // with AVX2; at D = 8 it took 1.08–1.11 times as long (both
        // targets), so larger D copy point by point. The same values.
        if L > 1 && D <= 2 {
            for (i, xi) in x.iter_mut().enumerate() {
                *xi = core::array::from_fn(|l| full[l].to_vector()[i]);
            }
        } else {
            for (l, p) in full.iter().enumerate() {
                for (xi, pi) in x.iter_mut().zip(p.to_vector().iter()) {
                    xi[l] = *pi;
                }
            }
        }
    } else {
        for l in 0..L {
            let p = part.get(l).map_or(first, AsPoint::to_vector);
            for (xi, pi) in x.iter_mut().zip(p.iter()) {
                xi[l] = *pi;
            }
        }
    }
    Some(lanes)
}

/// [`block`] with `L` lanes. `reread`: a pass over many points, where
/// with one lane the covariance parameters are read from the model at each
/// point (see below); `point`, with one point, leaves them to the
/// optimiser.
#[allow(clippy::inline_always, clippy::too_many_arguments)]
#[inline(always)]
fn lanes<T, const D: usize, const K: usize, C, P, W, F, const L: usize>(
    model: &Kernel<'_, T, D, K, C>,
    points: &[P],
    weights: W,
    first_index: usize,
    log: &mut LogSum<T>,
    reread: bool,
    mut visit: F,
) -> Result<(), Error>
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
    W: Weights<T>,
    F: FnMut(usize, &Chunk<T, K, L>),
{
    let flush = flush::<T>();
    // The log-likelihood's lanes as locals while the block runs, so they
    // stay in registers. Where a chunk's terms go across the lanes
    // ([`across`]), point i of the piece goes to lane
    // `(first_index + i) mod LANES` (`first_index` counts from a block's
    // start, a multiple of `LANES`, or from a point of the block's); with
    // chunks of whole sets of lanes (the kernel's, not `point`'s one lane)
    // they are rotated so that position l is the lane of the chunk's point
    // l, as a piece can start inside a set of lanes of its block, and the
    // chunk's point l goes to position l mod LANES. Elsewhere every point
    // goes to lane 0: the points in turn, one sum and one product.
    let spread = across::<T>();
    let whole_lanes = L.is_multiple_of(LANES);
    let shift = if spread && whole_lanes {
        first_index % LANES
    } else {
        0
    };
    let (mut sum, mut product) = if shift == 0 {
        (log.sum, log.product)
    } else {
        (
            rotate(&log.sum, shift, T::zero()),
            rotate(&log.product, shift, T::one()),
        )
    };
    // Lane 0 as scalars where every point goes there.
    let (mut sum0, mut product0) = (sum[0], product[0]);
    for (c, part) in points.chunks(L).enumerate() {
        // With one lane (32-bit targets) the covariance parameters are read
        // from the model at each point: through `black_box`, the optimiser
        // cannot hoist them out of the loop, where it has no registers to
        // hold them and kept copies in the pass's frame instead (on a
        // Cortex-M4F, D = 2, K = 3, `f32`, full covariance: the E pass's
        // frame 232 B with them, 200 B without; 58.2 → 59.4 instructions per
        // point·component). Hosts keep the hoisted values in their vector
        // registers.
        let model = &Kernel::<T, D, K, C> {
            log_coeffs: model.log_coeffs,
            means: model.means,
            params: if L == 1 && reread {
                core::hint::black_box(model.params)
            } else {
                model.params
            },
        };
        let Some(lanes) = transposed(part) else {
            continue; // chunks are never empty
        };
        let x = &lanes.0;
        let mut r = Aligned([[T::zero(); L]; K]);
        let (max, s) = responsibilities(model, x, &mut r.0);
        // m is finite or −∞ (never NaN): `!(m > −∞)` as an integer test (a
        // call fewer on soft-float cores).
        let bad = |m: &T| m.bits() == T::NEG_INFINITY.bits();
        if spread && whole_lanes && weights.all().is_none() {
            // Unweighted with lanes: a point whose density is zero (the
            // padding repeats the chunk's first point) ends the pass.
            if max.iter().fold(false, |any, m| any | bad(m)) {
                *log = LogSum::unrotated(&sum, &product, shift);
                return Err(zero_density(&max, part, first_index + c * L));
            }
            add_across(&mut sum, &mut product, &max, &s, part.len());
        } else {
            for (l, ((m, s), p)) in max.iter().zip(s.iter()).zip(part).enumerate() {
                let w = weights.at(c * L + l);
                if w == Some(T::zero()) {
                    continue; // left out
                }
                if m.bits() == T::NEG_INFINITY.bits() {
                    let index = first_index + c * L + l;
                    if !spread {
                        (sum[0], product[0]) = (sum0, product0);
                    }
                    *log = LogSum::unrotated(&sum, &product, shift);
                    return Err(point_error(p, index));
                }
                let lane = if whole_lanes {
                    l % LANES
                } else {
                    (first_index + c * L + l) % LANES
                };
                let (sum, product) = if spread {
                    (&mut sum[lane % LANES], &mut product[lane % LANES])
                } else {
                    (&mut sum0, &mut product0)
                };
                if let Some(w) = w {
                    // Weighted: one `ln` per point.
                    *sum += w * (*m + Real::ln(*s));
                    continue;
                }
                *sum += *m;
                let mut p = *product * *s;
                // Both positive: `p > flush` in integers.
                if p.abs_bits() > flush.abs_bits() {
                    *sum += Real::ln(p);
                    p = T::one();
                }
                *product = p;
            }
        }
        visit(c * L, &Chunk { r, len: part.len() });
    }
    if !spread {
        (sum[0], product[0]) = (sum0, product0);
    }
    *log = LogSum::unrotated(&sum, &product, shift);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::covariance::{Diag, Full, Spherical, Tied};
    use crate::mixture::Gmm;
    use nalgebra::{matrix, vector, SMatrix};

    /// 37 points (not a multiple of 8: the last chunk is padded) spread so
    /// that every branch of the kernel is taken: ties, terms cut off, near
    /// and far points.
    fn points() -> [[f64; 2]; 37] {
        core::array::from_fn(|i| {
            let t = i as f64;
            [
                (t * 0.37).sin() * 9.0 + t * t * 0.05,
                (t * 1.3).cos() * 4.0 - 2.0,
            ]
        })
    }

    /// Runs the kernel with 1 and with 8 lanes, and with 8 lanes on the
    /// points in uneven pieces; every bit must agree.
    fn same_bits<C: CovarianceKind>(model: &Gmm<f64, 2, 3, C>) {
        let data = points();
        let kernel = model.kernel();
        let mut one = [[0.0; 3]; 37];
        let mut eight = [[0.0; 3]; 37];
        let mut pieces = [[0.0; 3]; 37];
        let mut log1 = LogSum::new();
        lanes::<f64, 2, 3, C, _, (), _, 1>(&kernel, &data, (), 0, &mut log1, true, |i, c| {
            for l in 0..c.len() {
                one[i + l] = c.responsibilities(l).into();
            }
        })
        .unwrap();
        let mut log8 = LogSum::new();
        lanes::<f64, 2, 3, C, _, (), _, 8>(&kernel, &data, (), 0, &mut log8, true, |i, c| {
            for l in 0..c.len() {
                eight[i + l] = c.responsibilities(l).into();
            }
        })
        .unwrap();
        let mut logp = LogSum::new();
        let mut start = 0;
        for len in [5, 1, 11, 20] {
            let piece = &data[start..start + len];
            block_piece(&kernel, piece, (), start, &mut logp, |i, c| {
                for l in 0..c.len() {
                    pieces[start + i + l] = c.responsibilities(l).into();
                }
            })
            .unwrap();
            start += len;
        }
        assert_eq!(start, data.len());
        assert_eq!(log1.total().to_bits(), log8.total().to_bits());
        assert_eq!(log1, logp);
        for ((a, b), c) in one.iter().zip(eight.iter()).zip(pieces.iter()) {
            assert_eq!(a.map(f64::to_bits), b.map(f64::to_bits));
            assert_eq!(a.map(f64::to_bits), c.map(f64::to_bits));
        }
        // Some responsibility is cut to 0, some point is shared.
        assert!(one.iter().any(|r| r.contains(&0.0)));
        assert!(one
            .iter()
            .any(|r| r.iter().filter(|&&v| v > 1e-3 && v < 0.999).count() >= 2));
    }

    #[test]
    fn results_do_not_depend_on_the_lane_count() {
        let means = [vector![0.0, 0.0], vector![3.0, -1.0], vector![-6.0, 2.0]];
        let weights = [0.5, 0.3, 0.2];
        let full: [SMatrix<f64, 2, 2>; 3] = [
            matrix![1.0, 0.3; 0.3, 2.0],
            matrix![0.5, -0.1; -0.1, 0.4],
            matrix![4.0, 0.0; 0.0, 0.01],
        ];
        same_bits(&Gmm::<f64, 2, 3, Full>::new(weights, means, full).unwrap());
        let diag = [vector![1.0, 2.0], vector![0.5, 0.4], vector![4.0, 0.01]];
        same_bits(&Gmm::<f64, 2, 3, Diag>::new(weights, means, diag).unwrap());
        same_bits(&Gmm::<f64, 2, 3, Spherical>::new(weights, means, [1.0, 0.2, 3.0]).unwrap());
        same_bits(&Gmm::<f64, 2, 3, Tied>::new(weights, means, full[0]).unwrap());
    }

    // The block's log-likelihood with L lanes, every point given wholly
    // to component 1.
    fn all_to_the_other<T: Real, const L: usize>(
        kernel: &Kernel<'_, T, 2, 2, Full>,
        data: &[[T; 2]],
    ) -> T {
        let mut log = LogSum::new();
        lanes::<T, 2, 2, Full, _, (), _, L>(kernel, data, (), 0, &mut log, true, |_, c| {
            for l in 0..c.len() {
                assert_eq!(c.responsibilities(l), vector![T::zero(), T::one()]);
            }
        })
        .unwrap();
        log.total()
    }

    /// A component under which a finite point's squared distance is NaN
    /// (its offset overflows to ∞, and the factor's zero entry makes
    /// `0 · ∞`) has density 0 there, as one whose distance is `+∞`: the
    /// other component takes the whole point, in `T` = f32 and f64, with
    /// one lane and with eight.
    fn nan_distance_is_zero_density<T: Real>() {
        let big = T::MAX_FINITE * T::lit(0.75);
        let identity = SMatrix::<T, 2, 2>::identity();
        let model = Gmm::<T, 2, 2, Full>::new(
            [T::lit(0.5); 2],
            [vector![-big, T::zero()], vector![big, T::zero()]],
            [identity; 2],
        )
        .unwrap();
        let kernel = model.kernel();
        let x = [big, T::lit(0.5)];
        let q = Full::half_mahalanobis_sq(kernel.params, 0, &[[x[0]], [x[1]]], &kernel.means[0]);
        assert!(q[0].to_f64().is_nan(), "the case this test is for");
        // ln p(x) = ln ½ + ln N((0, ½); 0, I) = ln ½ − ln 2π − ⅛.
        let expected = T::lit(0.5f64.ln() - core::f64::consts::TAU.ln() - 0.125);
        let data = [x; 9];
        for log in [
            all_to_the_other::<T, 1>(&kernel, &data),
            all_to_the_other::<T, 8>(&kernel, &data),
        ] {
            let per_point = log / T::lit(9.0);
            assert!(
                (per_point - expected).abs() <= T::lit(16.0) * T::EPS,
                "{per_point:?}"
            );
        }
    }

    #[test]
    fn a_nan_distance_is_a_density_of_zero() {
        nan_distance_is_zero_density::<f32>();
        nan_distance_is_zero_density::<f64>();
    }

    /// A log-likelihood's total written out here rather than through
    /// `LogSum::total`: the sums in the lanes' `order`, then the products
    /// in that order, an `ln` whenever the running product reaches 2⁶⁴.
    fn total_of<T: Real>(sum: &[T; LANES], product: &[T; LANES], order: &[usize]) -> T {
        let mut total = T::zero();
        for (n, &j) in order.iter().enumerate() {
            total = if n == 0 { sum[j] } else { total + sum[j] };
        }
        let mut running = T::one();
        for &j in order {
            running *= product[j];
            if running.to_f64() >= 18_446_744_073_709_551_616.0 {
                total += Real::ln(running);
                running = T::one();
            }
        }
        total + Real::ln(running)
    }

    /// The block's log-likelihood in `T` against the documented order,
    /// computed here from each point's `(m, s)` alone: with lanes in
    /// `f32` ([`across`]) lane j the points j, j + LANES, …, elsewhere
    /// every point in lane 0; a lane's product folded into its sum by
    /// `ln` when it passes 2⁶⁴; the lanes' sums in order, then their
    /// products in order. Returns the number of folds.
    fn documented_order<T: Real>() -> usize {
        // Three overlapping components, so every sᵢ is well above 1 and
        // products pass 2⁶⁴ within 1 000 points.
        let means = [vector![0.0, 0.0], vector![0.5, -0.2], vector![-0.4, 0.3]];
        let model = Gmm::<T, 2, 3, Spherical>::new(
            [0.4, 0.3, 0.3].map(T::lit),
            means.map(|m| m.map(T::lit)),
            [1.0, 1.5, 0.8].map(T::lit),
        )
        .unwrap();
        let kernel = model.kernel();
        // Each lane's points at their own distance, so that the lanes'
        // sums differ in size and adding them in another order rounds
        // differently.
        let data: std::vec::Vec<[T; 2]> = (0..1000)
            .map(|i| {
                let t = f64::from(i);
                let spread = 1.0 + f64::from(i % 8) * 0.9;
                [(t * 0.37).sin() * spread, (t * 1.3).cos()].map(T::lit)
            })
            .collect();
        let weights: std::vec::Vec<T> = (0..1000)
            .map(|i| T::lit([1.0, 0.0, 0.25, 2.5][i % 4]))
            .collect();
        // Each point's (m, s) alone, from the one-lane kernel.
        let terms: std::vec::Vec<(T, T)> = data
            .iter()
            .map(|x| {
                let mut log = LogSum::new();
                lanes::<T, 2, 3, Spherical, _, (), _, 1>(
                    &kernel,
                    &[*x],
                    (),
                    0,
                    &mut log,
                    true,
                    |_, _| {},
                )
                .unwrap();
                (log.sum[0], log.product[0])
            })
            .collect();
        let lanes_used = if across::<T>() { LANES } else { 1 };
        let lanes_of = |weighted: bool| {
            let mut sum = [T::zero(); LANES];
            let mut product = [T::one(); LANES];
            let mut folds = 0;
            for (i, ((m, s), w)) in terms.iter().zip(&weights).enumerate() {
                let j = i % lanes_used;
                if weighted {
                    if *w != T::zero() {
                        sum[j] += *w * (*m + Real::ln(*s));
                    }
                    continue;
                }
                sum[j] += *m;
                product[j] *= *s;
                if product[j].to_f64() > 18_446_744_073_709_551_616.0 {
                    sum[j] += Real::ln(product[j]);
                    product[j] = T::one();
                    folds += 1;
                }
            }
            (sum, product, folds)
        };
        let forward: std::vec::Vec<usize> = (0..lanes_used).collect();
        let (sum, product, folds) = lanes_of(false);
        let expected = total_of(&sum, &product, &forward);
        let mut log = LogSum::new();
        block_piece(&kernel, &data, (), 0, &mut log, |_, _| {}).unwrap();
        assert_eq!(log.sum.map(T::bits), sum.map(T::bits));
        assert_eq!(log.product.map(T::bits), product.map(T::bits));
        assert_eq!(log.total().bits(), expected.bits());
        let got = block(&kernel, &data, (), 0, |_, _| {}).unwrap();
        assert_eq!(got.bits(), expected.bits());
        let (wsum, wproduct, _) = lanes_of(true);
        let got = block(&kernel, &data, weights.as_slice(), 0, |_, _| {}).unwrap();
        assert_eq!(got.bits(), total_of(&wsum, &wproduct, &forward).bits());
        // In pieces that start inside chunks: the same lanes.
        let mut pieces = LogSum::new();
        let mut start = 0;
        for len in [3, 9, 100, 1, 887] {
            let piece = &data[start..start + len];
            block_piece(&kernel, piece, (), start, &mut pieces, |_, _| {}).unwrap();
            start += len;
        }
        assert_eq!(pieces, log);
        if across::<T>() {
            // The test tells the orders apart: the lanes added in reverse,
            // or every point in lane 0, would give other bits.
            let reverse: std::vec::Vec<usize> = (0..LANES).rev().collect();
            assert_ne!(total_of(&sum, &product, &reverse).bits(), expected.bits());
            let mut one = LogSum::<T>::new();
            for (m, s) in &terms {
                one.sum[0] += *m;
                one.product[0] *= *s;
                if one.product[0].to_f64() > 18_446_744_073_709_551_616.0 {
                    one.sum[0] += Real::ln(one.product[0]);
                    one.product[0] = T::one();
                }
            }
            assert_ne!(
                total_of(&one.sum, &one.product, &[0]).bits(),
                expected.bits()
            );
        }
        folds
    }

    #[test]
    fn the_log_likelihood_adds_its_lanes_in_the_documented_order() {
        let folds = documented_order::<f32>();
        assert!(folds >= LANES, "{folds} folds: the case this test is for");
        assert!(documented_order::<f64>() >= 1);
    }

    #[test]
    fn lanes_whose_products_reach_two_to_the_64_stay_finite() {
        // 16 identical components: every sᵢ is exactly 16, so each of the
        // eight lanes of a 128-point block ends at 16¹⁶ = 2⁶⁴ exactly.
        let model = Gmm::<f32, 2, 16, Spherical>::new(
            [1.0 / 16.0; 16],
            [vector![0.5, -0.25]; 16],
            [1.5; 16],
        )
        .unwrap();
        let data: std::vec::Vec<[f32; 2]> = (0..128)
            .map(|i| {
                let t = i as f32;
                [(t * 0.37).sin(), (t * 1.3).cos()]
            })
            .collect();
        let got = block(&model.kernel(), &data, (), 0, |_, _| {}).unwrap();
        let expected: f64 = data
            .iter()
            .map(|x| f64::from(model.log_prob(x).unwrap()))
            .sum();
        assert!(got.is_finite(), "{got}");
        assert!(
            (f64::from(got) - expected).abs() <= 1e-5 * expected.abs(),
            "{got} {expected}"
        );
    }

    /// In `T` (f32 takes the path across lanes, f64 the one point by
    /// point), a NaN point and a point too far for any density, in every
    /// position of a chunk, the last one padded.
    fn errors_name_the_point<T: Real>() {
        let means = [vector![0.0, 0.0], vector![3.0, -1.0], vector![-6.0, 2.0]];
        let model = Gmm::<T, 2, 3, Spherical>::new(
            [0.5, 0.3, 0.2].map(T::lit),
            means.map(|m| m.map(T::lit)),
            [T::one(); 3],
        )
        .unwrap();
        for bad in [0, 5, 8, 13, 36] {
            let mut data = points().map(|p| p.map(T::lit));
            data[bad][1] = T::lit(f64::NAN);
            let got = block(&model.kernel(), &data, (), 100, |i, _| {
                assert!(i + CHUNK <= bad);
            });
            assert_eq!(got, Err(Error::NonFiniteData { index: 100 + bad }));
            data[bad] = [T::MAX_FINITE, T::zero()];
            let got = block(&model.kernel(), &data, (), 100, |_, _| {});
            assert_eq!(got, Err(Error::ZeroDensity { index: 100 + bad }));
            // A later bad point does not hide the first.
            if bad < 36 {
                data[36] = [T::lit(f64::NAN), T::zero()];
                let got = block(&model.kernel(), &data, (), 100, |_, _| {});
                assert_eq!(got, Err(Error::ZeroDensity { index: 100 + bad }));
            }
        }
    }

    #[test]
    fn errors_name_the_point_in_any_lane() {
        errors_name_the_point::<f32>();
        errors_name_the_point::<f64>();
    }
}
