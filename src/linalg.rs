//! Small dense linear algebra on fixed-size matrices, and the one home of
//! each numerical rule about covariance matrices: when a matrix counts as
//! symmetric, when as positive definite (the pivot-floored Cholesky), how a
//! covariance is lifted until it is, and how a second moment is accumulated
//! in its lower triangle and mirrored.

use nalgebra::{SMatrix, SVector};

use crate::real::Real;

/// Bytes of vector registers the target has, as far as the compiler
/// knows it from the target features: 32 × 64 with AVX-512, 16 × 32 with
/// AVX, 32 × 16 on `AArch64`, else 16 × 16 (SSE2, the default x86-64
/// target; for other targets a guess). Only speed depends on it, through
/// [`fits_registers`], [`wide_registers`] and [`lower_norm_sq`]'s choice
/// to store offsets.
const REGISTER_BYTES: usize = if cfg!(target_feature = "avx512f") {
    2048
} else if cfg!(any(target_feature = "avx", target_arch = "aarch64")) {
    512
} else {
    256
};

/// Whether the target has AVX-512's 32 registers of 64 bytes (see
/// [`REGISTER_BYTES`]).
pub(crate) const fn wide_registers() -> bool {
    REGISTER_BYTES >= 2048
}

/// Whether `entries` values of `T` take at most half the vector registers
/// (the rest stays for the work on them): sums that do can be kept in
/// registers over a chunk of points
/// ([`crate::covariance::CovarianceKind::runs`]).
pub(crate) const fn fits_registers<T>(entries: usize) -> bool {
    entries * core::mem::size_of::<T>() <= REGISTER_BYTES / 2
}

/// `true` if every `|aᵢⱼ − aⱼᵢ| ≤ √ε · √|aᵢᵢ| · √|aⱼⱼ|`: symmetric to the
/// rounding a computed covariance carries. (`√|aᵢᵢ| √|aⱼⱼ|`, not
/// `√|aᵢᵢ aⱼⱼ|`: the product can overflow or underflow where the result
/// does not.) NaN fails.
pub(crate) fn is_symmetric<T: Real, const D: usize>(a: &SMatrix<T, D, D>) -> bool {
    let tol = Real::sqrt(T::EPS);
    for j in 0..D {
        for i in j + 1..D {
            let scale = Real::sqrt(a[(i, i)].abs()) * Real::sqrt(a[(j, j)].abs());
            if !((a[(i, j)] - a[(j, i)]).abs() <= tol * scale) {
                return false;
            }
        }
    }
    true
}

/// Lower Cholesky factor of the symmetric matrix whose lower triangle is in
/// `a` (Cholesky–Banachiewicz order), or `None` if `a` is not numerically
/// positive definite.
///
/// A pivot (the Schur complement `aⱼⱼ − Σₖ Lⱼₖ²`) must exceed
/// `(D + 1) ε aⱼⱼ`, not merely 0: Cholesky's backward error is of that size,
/// so a smaller pivot may be rounding noise on a singular or indefinite
/// matrix that happens to come out positive. The test thus accepts only
/// matrices that are positive definite in exact arithmetic too, not just in
/// the rounding of one particular evaluation.
pub(crate) fn cholesky_lower<T: Real, const D: usize>(
    a: &SMatrix<T, D, D>,
) -> Option<SMatrix<T, D, D>> {
    let tol = T::from_count(D + 1) * T::EPS;
    let mut l = SMatrix::<T, D, D>::zeros();
    for i in 0..D {
        for j in 0..=i {
            let mut s = a[(i, j)];
            for k in 0..j {
                s -= l[(i, k)] * l[(j, k)];
            }
            if i == j {
                // `!(s > ·)` also rejects NaN.
                if !(s > tol * a[(i, i)]) || !(s > T::zero()) || !s.is_finite() {
                    return None;
                }
                l[(i, i)] = Real::sqrt_in_line(s);
            } else {
                l[(i, j)] = s / l[(j, j)];
            }
        }
    }
    Some(l)
}

/// Inverse of a lower-triangular matrix with a positive diagonal, by forward
/// substitution on the columns of the identity. `None` if an entry overflows.
pub(crate) fn invert_lower<T: Real, const D: usize>(
    l: &SMatrix<T, D, D>,
) -> Option<SMatrix<T, D, D>> {
    let mut inv = SMatrix::<T, D, D>::zeros();
    for c in 0..D {
        inv[(c, c)] = T::one() / l[(c, c)];
        for i in c + 1..D {
            let mut s = T::zero();
            for k in c..i {
                s += l[(i, k)] * inv[(k, c)];
            }
            inv[(i, c)] = -s / l[(i, i)];
        }
    }
    inv.iter().all(|&v| v.is_finite()).then_some(inv)
}

/// `L x` for a lower-triangular `L` (only its lower triangle is read).
#[inline]
pub(crate) fn lower_mul<T: Real, const D: usize>(
    l: &SMatrix<T, D, D>,
    x: &SVector<T, D>,
) -> SVector<T, D> {
    let mut y = SVector::<T, D>::zeros();
    for i in 0..D {
        let mut s = T::zero();
        for j in 0..=i {
            s += l[(i, j)] * x[j];
        }
        y[i] = s;
    }
    y
}

/// `‖d‖²` of one point's offsets, in a fixed order that does not depend
/// on the target: four partial sums, coordinate `i` going to sum `i mod 4`
/// in turn, then `(s₀ + s₂) + (s₁ + s₃)`. The partial sums are
/// independent, so a vector unit adds two or four coordinates per
/// instruction and the chain of dependent additions is `⌈D/4⌉ + 1` long
/// instead of `D − 1` (at `D = 8` in `f64` on the default x86-64 target,
/// seven scalar additions and four shuffles become three vector additions,
/// one shuffle and one scalar addition). Up to `D = 2` it is the plain sum
/// `d₀² + d₁²` (sums start from −0, the exact identity of addition: see
/// [`lower_norm_sq`]).
#[allow(clippy::inline_always)]
#[inline(always)]
pub(crate) fn norm_sq<T: Real>(d: &[T]) -> T {
    // Up to two coordinates the four sums are the plain sum, bit for bit;
    // written out, so that code built for size has no loop for them.
    match d {
        [] => -T::zero(),
        [a] => *a * *a,
        [a, b] => *a * *a + *b * *b,
        _ => {
            let mut s = [-T::zero(); 4];
            for (i, &v) in d.iter().enumerate() {
                s[i % 4] += v * v;
            }
            (s[0] + s[2]) + (s[1] + s[3])
        }
    }
}

/// `‖L (x − μ)‖²` for a lower-triangular `L`, for `L` points at once held
/// as lanes (`x[i][l]` is coordinate `i` of point `l`): the squared
/// Mahalanobis term of the E-step, with `L` a scaled inverse Cholesky
/// factor. Each lane is computed with the same operations in the same order
/// whatever `L` is, so a point's value does not depend on its neighbours.
/// Possibly `+∞` or NaN after an overflow, which callers treat as zero
/// density.
// Always inlined into the E-step's loop over components (the hot loop).
#[allow(clippy::inline_always)]
#[inline(always)]
pub(crate) fn lower_norm_sq<T: Real, const D: usize, const L: usize>(
    l: &SMatrix<T, D, D>,
    x: &[[T; L]; D],
    mean: &SVector<T, D>,
) -> [T; L] {
    // Row by row, each row's sum carried across its columns: the compiler
    // can then only vectorise across lanes. (Columns first, with the rows
    // as independent sums, were vectorised across rows with scatters in
    // some builds, 3.5 times slower at D = 8 with AVX-512.) The columns run
    // over the constant range 0..D and leave at the diagonal: with `0..=i`
    // as the range (a trip count that depends on the row), LLVM did not
    // unroll the loop at D = 8 and split the lanes of f32 into 128-bit
    // pieces with shuffles; this form unrolls into whole-lane vectors (with
    // the whole-chunk copy in `estep::lanes`, `em_step` at D = 8, K = 8 in
    // f32 takes 0.78 of the time it took before, `target-cpu=native`,
    // `RUSTFLAGS="-C target-cpu=native" bash benches/compare_commits.sh
    // 85e6371`).
    // The offsets dⱼ = xⱼ − μⱼ: computed once before the rows (D
    // subtractions per point instead of D(D+1)/2) where that was faster,
    // else in each row. The same operations in the same order either way.
    // Against recomputing, `bash benches/compare_commits.sh 4f067af`
    // (`ROUNDS=11`) put `em_step` at D = 8, K = 8 at 0.95 of the time in
    // `f64` on the default x86-64 target and 0.93 in `f32` with
    // `target-cpu=native`. In throw-away builds, stored offsets were slower
    // in `f32` on the default target (SSE2, 16 vector registers) and no
    // faster at D = 2, where the rows share one subtraction; with one lane
    // (32-bit targets) they made the Cortex-M4F's fit + inference larger at
    // opt-level "s" for no instruction fewer.
    // Sums start from −0, the exact identity of addition, so the compiler
    // drops each sum's first addition (from +0 it may not: +0 + −0 is +0);
    // the values are those of sums from +0, as every sum here is squared
    // or has a term ≥ +0.
    // Not fused with the feature `fma` (unlike the `exp` and the
    // statistics, see `Real::madd`): with the rows' sums fused, `em_step`
    // at D = 8, K = 8 in `f64` took 1.27 times as long with AVX2
    // (`RUSTFLAGS="-C target-feature=+avx2,+fma"`, a throw-away build
    // against the build without the feature, the timing program of
    // `benches/compare` run alternately, medians of 5 rounds), where
    // unfused it takes 0.82 (`NEW_FEATURES=fma bash
    // benches/compare_commits.sh`).
    let store = L > 1 && D > 2 && (size_of::<T>() == 8 || REGISTER_BYTES >= 512);
    let mut stored = [[T::zero(); L]; D];
    if store {
        for ((d, x), &m) in stored.iter_mut().zip(x.iter()).zip(mean.iter()) {
            for (d, &x) in d.iter_mut().zip(x.iter()) {
                *d = x - m;
            }
        }
    }
    let mut q = [-T::zero(); L];
    for i in 0..D {
        let mut z = [-T::zero(); L];
        for j in 0..D {
            if j > i {
                break;
            }
            let (a, m) = (l[(i, j)], mean[j]);
            if store {
                for (z, &d) in z.iter_mut().zip(stored[j].iter()) {
                    *z += a * d;
                }
            } else {
                for (z, &x) in z.iter_mut().zip(x[j].iter()) {
                    *z += a * (x - m);
                }
            }
        }
        for (q, &z) in q.iter_mut().zip(z.iter()) {
            *q += z * z;
        }
    }
    q
}

/// Adds `r · d` to `s` (a first moment), each entry by one [`Real::madd`].
#[allow(clippy::inline_always)]
#[inline(always)]
pub(crate) fn add_scaled<T: Real, const D: usize>(s: &mut SVector<T, D>, d: &SVector<T, D>, r: T) {
    for (s, d) in s.iter_mut().zip(d.iter()) {
        *s = T::madd(*d, r, *s);
    }
}

/// Adds `r · d dᵀ` to the lower triangle of `s` (second moments are kept
/// in the lower triangle only; [`mirror_lower`] completes them).
// Always inlined: it is the statistics' share of the hot loop.
#[allow(clippy::inline_always)]
#[inline(always)]
pub(crate) fn add_outer_lower<T: Real, const D: usize>(
    s: &mut SMatrix<T, D, D>,
    d: &SVector<T, D>,
    r: T,
) {
    add_outer_from(s, d, r, 1);
}

/// Adds `r · d dᵀ` to column `j` of `s` from row `j − j mod w` down, for
/// every `j`: with `w = 1` the lower triangle ([`add_outer_lower`]), with
/// a vector's entries whole vectors ([`add_outer_blocks`]). Each entry
/// `(i, j)` gets `(r dᵢ) dⱼ` by one [`Real::madd`], whatever `w`.
#[allow(clippy::inline_always)]
#[inline(always)]
fn add_outer_from<T: Real, const D: usize>(
    s: &mut SMatrix<T, D, D>,
    d: &SVector<T, D>,
    r: T,
    w: usize,
) {
    let rd = d * r;
    let wide = wide_registers() && WIDE * core::mem::size_of::<T>() == 64;
    if wide && w >= D && WIDE > D && (D * D).is_multiple_of(WIDE) {
        // Whole columns, several to a register (D = 8 in `f32` with
        // AVX-512: two columns of eight to a register of sixteen). Written
        // column by column, the compiler built each register's two
        // operands from two columns' halves, with five to six shuffles
        // each; in groups of the register's sixteen entries in storage
        // order, entry `n` (row `n mod D`, column `n / D`) gets
        // `rd[n mod D] · d[n / D]`: one permutation of `d` per register
        // and `rd` copied to both halves once (`em_step` at D = 8, K = 8
        // in `f32`, `target-cpu=native`: 0.75 of the time, tied
        // covariance 0.84, `benches/compare_commits.sh` at `60ee026`). The
        // same terms, so the same bits.
        for (g, group) in s.as_mut_slice().chunks_exact_mut(WIDE).enumerate() {
            let a: [T; WIDE] = core::array::from_fn(|t| rd[(g * WIDE + t) % D]);
            let b: [T; WIDE] = core::array::from_fn(|t| d[(g * WIDE + t) / D]);
            for ((s, a), b) in group.iter_mut().zip(a).zip(b) {
                *s = T::madd(a, b, *s);
            }
        }
        return;
    }
    for j in 0..D {
        for i in j - j % w..D {
            s[(i, j)] = T::madd(rd[i], d[j], s[(i, j)]);
        }
    }
}

/// The entries of [`add_outer_from`]'s register-sized groups: an AVX-512
/// register's `f32`s.
const WIDE: usize = 16;

/// Bytes of the vectors the compiler uses for floating-point arithmetic,
/// as far as it knows them from the target features: 32 with AVX (also
/// with AVX-512, where `target-cpu=native` prefers 256-bit vectors), 16
/// with SSE2 (the default x86-64 target) or on `AArch64`, 0 for a target
/// taken to have no vector unit (a microcontroller's FPU is scalar).
const VECTOR_BYTES: usize = if cfg!(target_feature = "avx") {
    32
} else if cfg!(any(target_feature = "sse2", target_arch = "aarch64")) {
    16
} else {
    0
};

/// Entries of `T` in a vector ([`VECTOR_BYTES`]): 4 `f64` or 8 `f32`
/// with AVX, 2 or 4 with SSE2, 1 without a vector unit.
pub(crate) const fn vector_entries<T>() -> usize {
    let n = VECTOR_BYTES / core::mem::size_of::<T>();
    if n > 1 {
        n
    } else {
        1
    }
}

/// Adds `r · d dᵀ` to the lower triangle of `s` bit for bit as
/// [`add_outer_lower`] adds it, and to the upper triangle's entries that
/// share a vector with it: column `j` from row `j − j mod W` down, `W`
/// the target's [`vector_entries`], so that every column is whole vectors
/// where the triangle's ragged columns take shuffles or scalar tails. The
/// upper entries it adds to hold `(r dᵢ) dⱼ`, rounded differently from
/// their mirror images and never read; the others are left as they are.
/// Without a vector unit (`W = 1`) it is [`add_outer_lower`].
#[allow(clippy::inline_always)]
#[inline(always)]
pub(crate) fn add_outer_blocks<T: Real, const D: usize>(
    s: &mut SMatrix<T, D, D>,
    d: &SVector<T, D>,
    r: T,
) {
    add_outer_from(s, d, r, vector_entries::<T>());
}

/// [`add_outer_blocks`] for two points in turn, `a` then `b`: the same
/// bits, each sum loaded and stored once for both.
#[allow(clippy::inline_always)]
#[inline(always)]
pub(crate) fn add_outer_blocks_pair<T: Real, const D: usize>(
    s: &mut SMatrix<T, D, D>,
    da: &SVector<T, D>,
    ra: T,
    db: &SVector<T, D>,
    rb: T,
) {
    let rda = da * ra;
    let rdb = db * rb;
    for j in 0..D {
        for i in j - j % vector_entries::<T>()..D {
            s[(i, j)] = T::madd(rdb[i], db[j], T::madd(rda[i], da[j], s[(i, j)]));
        }
    }
}

/// The lower triangle of `s`, column by column. (Entry `n` of the
/// column-major storage is row `n mod D` of column `n / D`: no index to
/// check, so no panic path survives at any opt-level.)
pub(crate) fn lower_entries<T: Real, const D: usize>(
    s: &SMatrix<T, D, D>,
) -> impl Iterator<Item = T> + '_ {
    s.iter()
        .enumerate()
        .filter_map(|(n, &v)| (n % D >= n / D).then_some(v))
}

/// Copies the lower triangle of `s` onto its upper triangle.
pub(crate) fn mirror_lower<T: Real, const D: usize>(s: &mut SMatrix<T, D, D>) {
    for j in 0..D {
        for i in j + 1..D {
            s[(j, i)] = s[(i, j)];
        }
    }
}

/// The mean of `a`'s diagonal times `f`, `tr(a)·f/D`: finite wherever the
/// mean is, also when the trace is not (every entry above `MAX/D`, say),
/// where each entry is then scaled before it is added (a cold path, so
/// every other input keeps the bits of the plain expression).
pub(crate) fn mean_diagonal<T: Real, const D: usize>(a: &SMatrix<T, D, D>, f: T) -> T {
    let d = T::from_count(D);
    let mean = a.trace() * f / d;
    if mean.is_finite() {
        mean
    } else {
        mean_diagonal_scaled(a, f / d)
    }
}

/// `Σ aᵢᵢ·f`, each entry scaled before it is added ([`mean_diagonal`]'s
/// fallback).
#[cold]
#[inline(never)]
fn mean_diagonal_scaled<T: Real, const D: usize>(a: &SMatrix<T, D, D>, f: T) -> T {
    (0..D).fold(T::zero(), |s, i| s + a[(i, i)] * f)
}

/// The largest diagonal entry of `a`, or 0 if none is positive.
pub(crate) fn largest_diagonal<T: Real, const D: usize>(a: &SMatrix<T, D, D>) -> T {
    (0..D).fold(T::zero(), |m, i| Real::max(m, a[(i, i)]))
}

/// The absolute regularisation for a relative request `relative` on data of
/// scale `scale`: their product, but never 0 (nor subnormal) unless
/// `relative` is 0, and never infinite. A request that underflows is a
/// request all the same.
pub(crate) fn absolute_reg<T: Real>(relative: T, scale: T) -> T {
    if relative > T::zero() {
        Real::min(Real::max(relative * scale, T::MIN_NORMAL), T::MAX_FINITE)
    } else {
        T::zero()
    }
}

/// How many times [`lift`] may raise the regularisation after its first
/// attempt (to the resolution floor, then tenfold twice).
pub(crate) const LIFT_RAISES: usize = 3;

/// The regularisation rule, in one place: factorises `a + λI` by `factor`
/// (which writes its result where the caller wants it and returns whether
/// it succeeded) and returns the `λ` that was added.
///
/// * `reg = 0` asks for no regularisation: one attempt with `λ = 0`.
/// * Otherwise the first attempt adds `λ₀ = reg`, but at least `T`'s
///   smallest normal number (so it cannot underflow to 0). If that
///   factorisation fails, the second adds at least `4(D+1)ε` times
///   `largest`, the largest variance of `a` (what the pivot test of
///   [`cholesky_lower`] needs to see a lifted rank-deficient matrix as
///   positive definite: a requested regularisation is then never a no-op
///   below `T`'s resolution), and at least `10 λ₀`; then `λ` is raised
///   tenfold, [`LIFT_RAISES`] attempts after the first in all (rounding in
///   a late pivot can exceed the floor when earlier pivots are small, seen
///   in `f32`). So `λ ≤ 10³ · max(reg, 4(D+1)ε · largest)`.
///
/// A matrix that factorises with `λ₀` keeps it: a well-conditioned
/// covariance is not widened by the floor.
///
/// `None` if every attempt fails.
// Always inlined into the M-step: outlined, its frame adds 40 bytes to
// the fit's peak stack (Cortex-M4F, D = 2, K = 3, full covariance).
#[allow(clippy::inline_always)]
#[inline(always)]
pub(crate) fn lift<T: Real, F>(reg: T, largest: T, dimension: usize, mut factor: F) -> Option<T>
where
    F: FnMut(T) -> bool,
{
    if reg == T::zero() {
        return factor(T::zero()).then_some(T::zero());
    }
    let floor = T::lit(4.0) * T::from_count(dimension + 1) * T::EPS * largest;
    let mut lambda = Real::min(Real::max(reg, T::MIN_NORMAL), T::MAX_FINITE);
    for attempt in 0..=LIFT_RAISES {
        if factor(lambda) {
            return Some(lambda);
        }
        let raised = lambda * T::lit(10.0);
        lambda = Real::min(
            if attempt == 0 {
                Real::max(raised, floor)
            } else {
                raised
            },
            T::MAX_FINITE,
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::matrix;

    /// `norm_sq` adds in its documented order: coordinate `i` into partial
    /// sum `i mod 4` (from −0), then `(s₀ + s₂) + (s₁ + s₃)`, bit for bit,
    /// on 400 pseudo-random vectors of every length from 0 to 12 in `f32`
    /// and `f64`. The same vectors tell that order from the sequential sum
    /// and from the other ways to combine the four sums, so a change of
    /// order fails here.
    #[test]
    fn norm_sq_adds_in_the_documented_order() {
        fn check<T: Real>(from: impl Fn(f64) -> T) {
            // The four partial sums, combined as documented and as the
            // other pairings would.
            let partial = |d: &[T]| {
                let mut s = [-T::zero(); 4];
                for (i, &v) in d.iter().enumerate() {
                    s[i % 4] += v * v;
                }
                s
            };
            let documented = |d: &[T]| {
                let s = partial(d);
                (s[0] + s[2]) + (s[1] + s[3])
            };
            let others = |d: &[T]| {
                let s = partial(d);
                [
                    d.iter().fold(-T::zero(), |a, &v| a + v * v),
                    (s[0] + s[1]) + (s[2] + s[3]),
                    (s[0] + s[3]) + (s[1] + s[2]),
                ]
            };
            let mut state = 0x9e37_79b9_7f4a_7c15_u64;
            let mut told = [false; 3];
            for n in 0..400 {
                let d: std::vec::Vec<T> = (0..n % 13)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        from(((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 4.0)
                    })
                    .collect();
                let q = norm_sq(&d);
                assert_eq!(q.bits(), documented(&d).bits(), "{n}");
                for (t, other) in told.iter_mut().zip(others(&d)) {
                    *t |= other.bits() != q.bits();
                }
            }
            assert_eq!(told, [true; 3]);
            assert_eq!(norm_sq::<T>(&[]).bits(), (-T::zero()).bits());
            assert_eq!(norm_sq(&[-T::zero()]).bits(), T::zero().bits());
        }
        check(|x| x as f32);
        check(|x| x);
    }

    #[test]
    fn rounding_noise_pivot_is_not_positive_definite() {
        // Found by fuzzing: singular in exact arithmetic (eigenvalues
        // −1.5e-6, 42.6, 650), yet an f32 Cholesky may end on a tiny
        // positive pivot. It must be rejected, in f32 and in f64.
        let a = [
            72.25,
            -126.791_664_123_535_16,
            -83.9375,
            -126.791_664_123_535_16,
            490.854_156_494_140_6,
            239.968_75,
            -83.9375,
            239.968_75,
            129.515_625,
        ];
        let m32 = SMatrix::<f32, 3, 3>::from_row_slice(&a.map(|v| v as f32));
        let m64 = SMatrix::<f64, 3, 3>::from_row_slice(&a);
        assert!(cholesky_lower(&m32).is_none());
        assert!(cholesky_lower(&m64).is_none());
        // Lifting the thin direction by 1e-5 of the scale makes it valid.
        let lifted = m32 + SMatrix::<f32, 3, 3>::identity() * 5e-3;
        assert!(cholesky_lower(&lifted).is_some());
    }

    #[test]
    fn outer_product_and_mirror_give_the_full_matrix() {
        let d = nalgebra::vector![1.0, -2.0, 0.5];
        let mut s = SMatrix::<f64, 3, 3>::zeros();
        add_outer_lower(&mut s, &d, 2.0);
        assert_eq!(s[(0, 1)], 0.0);
        mirror_lower(&mut s);
        assert_eq!(s, d * d.transpose() * 2.0);
    }

    /// Three points at D = 8, their shares and a start that is not zero.
    #[allow(clippy::type_complexity)]
    fn outer_case<T: Real>() -> ([SVector<T, 8>; 3], [T; 3], SMatrix<T, 8, 8>) {
        let points = [
            nalgebra::vector![1.1, -2.3, 0.7, 3.9, -0.01, 5.5, 1e-3, -7.25],
            nalgebra::vector![-0.3, 4.1, 1e-3, -7.25, 2.2, 0.9, 0.37, 1.9],
            nalgebra::vector![2.9, 0.11, -5.3, 0.6, 1.7, -0.05, 3.3, 0.21],
        ]
        .map(|d| d.map(T::lit));
        let shares = [0.3, 1.7, 0.013].map(T::lit);
        let start = SMatrix::from_fn(|i, j| T::lit(0.1 * (i as f64) - 0.37 * (j as f64)));
        (points, shares, start)
    }

    /// `add_outer_blocks` (or, with `pair`, `add_outer_blocks_pair`)
    /// against `add_outer_lower` at D = 8 in `T`, three points from a
    /// start that is not zero: the lower triangle bit for bit; above it,
    /// the entries that share a vector with the triangle hold the sums
    /// rounded differently, the others are untouched. Values whose
    /// products and sums round, in both orders of the factors.
    fn outer_blocks_match_the_triangle<T: Real>(pair: bool) {
        let (points, shares, start) = outer_case::<T>();
        let (mut lower, mut blocks) = (start, start);
        for (d, r) in points.iter().zip(shares) {
            add_outer_lower(&mut lower, d, r);
        }
        if pair {
            add_outer_blocks_pair(&mut blocks, &points[0], shares[0], &points[1], shares[1]);
            add_outer_blocks(&mut blocks, &points[2], shares[2]);
        } else {
            for (d, r) in points.iter().zip(shares) {
                add_outer_blocks(&mut blocks, d, r);
            }
        }
        let w = vector_entries::<T>();
        let mut rounded_apart = false;
        for j in 0..8 {
            for i in 0..8 {
                let (b, l) = (blocks[(i, j)], lower[(i, j)]);
                if i >= j {
                    assert_eq!(b.abs_bits(), l.abs_bits(), "({i}, {j})");
                    assert_eq!(b.is_sign_negative(), l.is_sign_negative());
                } else if i >= j - j % w {
                    // The same terms as the mirror entry's, on another start.
                    let sum = b - start[(i, j)];
                    let mirror = blocks[(j, i)] - start[(j, i)];
                    assert!(((sum - mirror) / mirror).abs() < T::lit(1e-5), "({i}, {j})");
                    rounded_apart |= sum != mirror;
                } else {
                    assert_eq!(b, start[(i, j)], "({i}, {j}) is left as it was");
                }
            }
        }
        // With vectors, some upper entries are computed, not copied.
        assert!(rounded_apart || w == 1);
    }

    #[test]
    fn the_outer_product_in_blocks_has_the_lower_triangle_s_bits() {
        // (Full covariance's runs add it, and only its lower triangle is
        // read.) On x86-64, 2 or 4 `f64` and 4 or 8 `f32` a vector.
        #[cfg(target_arch = "x86_64")]
        assert!(vector_entries::<f64>() >= 2 && vector_entries::<f32>() >= 4);
        for pair in [false, true] {
            outer_blocks_match_the_triangle::<f64>(pair);
            outer_blocks_match_the_triangle::<f32>(pair);
        }
    }

    #[test]
    fn the_order_of_two_points_shows_in_the_bits() {
        // So the pair above, checked against one point after the other, is
        // checked for its order too: the other order gives other bits.
        fn check<T: Real>() {
            let ([a, b, _], [ra, rb, _], start) = outer_case::<T>();
            let (mut one, mut swapped) = (start, start);
            add_outer_lower(&mut one, &a, ra);
            add_outer_lower(&mut one, &b, rb);
            add_outer_lower(&mut swapped, &b, rb);
            add_outer_lower(&mut swapped, &a, ra);
            let differ = (0..8).any(|j| (j..8).any(|i| one[(i, j)] != swapped[(i, j)]));
            assert!(differ);
        }
        check::<f64>();
        check::<f32>();
    }

    #[test]
    fn lift_is_bounded_and_reports_what_it_added() {
        let line = matrix![1.0f32, 1.0; 1.0, 1.0];
        let try_factor = |l: f32| cholesky_lower(&(line + SMatrix::identity() * l)).is_some();
        // No regularisation: the singular matrix fails.
        assert!(lift(0.0, 1.0, 2, try_factor).is_none());
        // A requested 1e-30 is raised to the resolution floor 12 ε.
        let l = lift(1e-30, 1.0, 2, try_factor).unwrap();
        assert_eq!(l, 4.0 * 3.0 * f32::EPSILON);
        // An underflowing request still lifts by the smallest normal.
        let l = lift(1e-45, 0.0, 2, |l: f32| l > 0.0).unwrap();
        assert_eq!(l, f32::MIN_POSITIVE);
        // At most LIFT_RAISES tenfold raises, then None.
        let mut seen = std::vec::Vec::new();
        assert!(lift(1.0f64, 0.0, 2, |l| {
            seen.push(l);
            false
        })
        .is_none());
        assert_eq!(seen, [1.0, 10.0, 100.0, 1000.0]);
        // A matrix that factorises at once keeps the requested λ.
        let l = lift(1e-30f32, 1.0, 2, |_| true).unwrap();
        assert_eq!(l, 1e-30);
    }

    #[test]
    fn symmetry_is_relative_to_the_diagonal() {
        assert!(is_symmetric(&matrix![1.0, 0.5; 0.5 + 1e-12, 1.0]));
        assert!(!is_symmetric(&matrix![1.0, 0.5; 0.4, 1.0]));
        assert!(!is_symmetric(&matrix![1.0, f64::NAN; 0.0, 1.0]));
        assert!(is_symmetric(&matrix![1e300, 1e300; 1e300, 1e300]));
    }
}
