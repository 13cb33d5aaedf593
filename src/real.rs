//! The scalar types gaussmix computes in, and the one place their math
//! comes from.
//!
//! [`Real`] is implemented for `f32` and `f64` only. Every constant and every
//! function of a scalar that gaussmix needs beyond `+ − × ÷` is an item of
//! this trait, implemented here per type by calling [`libm`] (or, for the
//! E-step's `exp` and the `f32` sine/cosine, by our own polynomials). Call
//! sites write `Real::ln(x)`, `Real::max(a, b)`, `T::EPS`: there is no layer
//! in between. The names deliberately shadow nalgebra's (`ComplexField::ln`,
//! `RealField::max`, …), so a method call such as `x.ln()` on a generic `T`
//! is ambiguous and does not compile: nothing can bypass this module by
//! accident. Every operation therefore gives the same bits on a host and
//! on a Cortex-M, whatever features other crates turn on; results differ
//! only where the order of operations does (the statistics' sums at
//! `D ≤ 3`, see `SufficientStats`, and the `f32` log-likelihood of a block,
//! see `estep::LogSum`).

use nalgebra::RealField;
use rand_core::Rng;

/// Whether every value is finite, with no branch per value. With a
/// floating-point unit: `v · 0` is ±0 for a finite `v` and NaN for an
/// infinite or NaN one, and a sum of such terms is ±0 only if every term
/// is (it cannot overflow). Without one (see `estep::SOFT_FLOAT`), where
/// each of those operations is a library call: the magnitudes' bits
/// against `MAX`'s, in integers. Online EM checks its statistics after
/// every update this way.
pub(crate) fn all_finite<T: Real>(values: impl Iterator<Item = T>) -> bool {
    if crate::estep::SOFT_FLOAT {
        let max = T::MAX_FINITE.abs_bits();
        values.fold(true, |ok, v| ok & (v.abs_bits() <= max))
    } else {
        values.fold(T::zero(), |t, v| t + v * T::zero()) == T::zero()
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point scalar gaussmix can fit and evaluate models in:
/// implemented for [`f32`] and [`f64`] only (the trait is sealed).
///
/// On a microcontroller with a single-precision FPU (Cortex-M4F, M7, M33)
/// `f32` is the natural choice; `f64` is the reference on hosts. The
/// trait's own items are the crate's private math backend and are hidden
/// from the documentation.
pub trait Real: RealField + Copy + sealed::Sealed {
    /// Machine epsilon.
    #[doc(hidden)]
    const EPS: Self;
    /// The largest finite value.
    #[doc(hidden)]
    const MAX_FINITE: Self;
    /// The smallest positive normal value.
    #[doc(hidden)]
    const MIN_NORMAL: Self;
    /// Negative infinity.
    #[doc(hidden)]
    const NEG_INFINITY: Self;
    /// Terms of a log-sum-exp more than this far below the largest are
    /// treated as exactly zero: `exp(−cutoff)` is far below the type's
    /// epsilon, so they cannot change a sum of terms that includes 1.
    /// 50 for `f32` (`e⁻⁵⁰ ≈ 1.9e-22`), 200 for `f64` (`e⁻²⁰⁰ ≈ 1.4e-87`,
    /// far above the subnormal range).
    #[doc(hidden)]
    const LSE_CUTOFF: Self;
    /// `ln(2π)`, correctly rounded.
    #[doc(hidden)]
    const LN_2PI: Self;
    /// The default [`FitOptions::reg_covar`](crate::FitOptions::reg_covar).
    #[doc(hidden)]
    const DEFAULT_REG_COVAR: Self;

    /// `x` (an `f64` literal) rounded to `Self`.
    #[doc(hidden)]
    fn lit(x: f64) -> Self;
    /// `n` rounded to `Self`.
    #[doc(hidden)]
    fn from_count(n: usize) -> Self;
    /// `self` widened to `f64` (exact).
    #[doc(hidden)]
    fn to_f64(self) -> f64;
    /// The IEEE bits of `self`, widened to 64 bits (for fingerprints).
    #[doc(hidden)]
    fn bits(self) -> u64;
    /// The IEEE bits of `|self|` (the sign bit cleared), widened to 64
    /// bits: for values of one sign these order as the magnitudes, NaN
    /// above infinity, so a comparison of them is an integer comparison
    /// (on a core without a floating-point unit, a float comparison is a
    /// library call).
    #[doc(hidden)]
    fn abs_bits(self) -> u64;
    /// The IEEE bits mapped to an unsigned integer that orders as the
    /// values do (negative values' bits inverted, positive values' sign
    /// bit set), for values that are not NaN; −0 sorts just below +0.
    #[doc(hidden)]
    fn order_key(self) -> u64;
    /// `true` unless NaN or ±∞.
    #[doc(hidden)]
    fn is_finite(self) -> bool;
    /// The larger of two values; `a` if they are unordered. By comparison:
    /// ARMv7E-M has no `fmaxf` instruction, and libm's would be a call.
    #[doc(hidden)]
    #[inline]
    fn max(a: Self, b: Self) -> Self {
        if b > a {
            b
        } else {
            a
        }
    }
    /// The smaller of two values; `a` if they are unordered.
    #[doc(hidden)]
    #[inline]
    fn min(a: Self, b: Self) -> Self {
        if b < a {
            b
        } else {
            a
        }
    }
    /// Natural logarithm (libm).
    #[doc(hidden)]
    fn ln(x: Self) -> Self;
    /// Square root, correctly rounded: libm's, or for `f32` on cores
    /// without floating-point hardware [`sqrt_f32`] (the same bits, less
    /// flash).
    #[doc(hidden)]
    fn sqrt(x: Self) -> Self;
    /// [`sqrt`](Self::sqrt) with no call where the call is a library's:
    /// on ARM cores with a floating-point unit (Cortex-M4F, M7), whose
    /// libm `sqrtf` is software, [`sqrt_newton`] in line; elsewhere
    /// [`sqrt`](Self::sqrt). The same bits (both are correctly rounded).
    /// For the Cholesky factorisation, the deepest frame of a fit's
    /// M-step: with a call in it, the floats it holds across the call sat
    /// in callee-saved registers it had to save (a fit's peak stack on a
    /// Cortex-M4F, D = 2, K = 3, `f32`: 616 B with libm's, 560 B in line).
    /// Not everywhere: in line at every call site, sampling took 888 B more
    /// flash at opt-level `"s"`.
    #[doc(hidden)]
    fn sqrt_in_line(x: Self) -> Self;
    /// `eˣ` for `x ∈ [−LSE_CUTOFF, 0]`, the only range the E-step's
    /// log-sum-exp evaluates (terms below `−LSE_CUTOFF` are treated as 0 and
    /// never reach here).
    ///
    /// Method: `k = round(x/ln 2)` by adding and subtracting `1.5·2^p`
    /// (`p` the mantissa bits), `r = x − k ln 2` with `ln 2` split in two
    /// (Cody–Waite) so `r` is exact to rounding, `eʳ` by a polynomial (for
    /// `f32` of degree 6, fitted for least maximum relative error, 1.9e-9;
    /// for `f64` of degree 11, interpolating at Chebyshev points, 8.5e-18)
    /// evaluated in a short dependency chain, and `2ᵏ` built from the bits
    /// of the rounded `k`: no branch, no conversion between float and
    /// integer, no table, no division, so it vectorises across lanes.
    /// Relative error over the whole range, on a grid of 2 000 001 points:
    /// at most 0.80 ε for `f32` and 1.0 ε for `f64` (against libm; tested
    /// below), with the feature `fma` (0.79 ε and 1.0 ε) and without.
    #[doc(hidden)]
    fn exp_nonpositive(x: Self) -> Self;
    /// `a · b + c` as the E-pass computes it (the `exp`'s reduction and
    /// polynomial, the diagonal and spherical Mahalanobis terms, every
    /// statistic's multiply-add): with the feature `fma` fused, rounded
    /// once (`std`'s `mul_add`: one instruction on a target with FMA, a
    /// library call elsewhere); without it a multiplication and an
    /// addition, each rounded, the bits of `a * b + c`.
    #[doc(hidden)]
    fn madd(a: Self, b: Self, c: Self) -> Self;
    /// `(sin 2πu, cos 2πu)` for `u ∈ [0, 1)`, the angle of Box–Muller.
    ///
    /// `f64`: libm's `sincos(2πu)`. `f32`: its own, because libm's `sincosf`
    /// computes in `f64`, which a single-precision FPU (Cortex-M4F) emulates
    /// in software: `4u` splits exactly into a quadrant and a fraction `f`;
    /// for `f ≤ ½` the Taylor polynomials of `sin` and `cos` at
    /// `(π/2)f ≤ π/4` (degree 9 and 8), otherwise the complementary angle;
    /// then the quadrant's signs and swap. Largest error, over all 2²⁴
    /// values `u` can take: 9.3e-8 (0.8 ε) absolute.
    #[doc(hidden)]
    fn sin_cos_turn(u: Self) -> (Self, Self);
    /// A uniform variate in `[0, 1)` with the full resolution of the
    /// mantissa: the top 24 bits of one `next_u32()` times 2⁻²⁴ for `f32`,
    /// the top 53 bits of one `next_u64()` times 2⁻⁵³ for `f64`.
    #[doc(hidden)]
    fn uniform<R: Rng + ?Sized>(rng: &mut R) -> Self;
}

impl Real for f32 {
    const EPS: f32 = f32::EPSILON;
    const MAX_FINITE: f32 = f32::MAX;
    const MIN_NORMAL: f32 = f32::MIN_POSITIVE;
    const NEG_INFINITY: f32 = f32::NEG_INFINITY;
    const LSE_CUTOFF: f32 = 50.0;
    const LN_2PI: f32 = 1.837_877_066_409_345_5_f64 as f32;
    const DEFAULT_REG_COVAR: f32 = 1e-12;

    #[inline]
    fn madd(a: f32, b: f32, c: f32) -> f32 {
        #[cfg(feature = "fma")]
        let v = f32::mul_add(a, b, c);
        #[cfg(not(feature = "fma"))]
        let v = a * b + c;
        v
    }
    #[inline]
    fn lit(x: f64) -> f32 {
        x as f32
    }
    #[inline]
    fn from_count(n: usize) -> f32 {
        n as f32
    }
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline]
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
    #[inline]
    fn abs_bits(self) -> u64 {
        u64::from(self.to_bits() & 0x7fff_ffff)
    }
    #[inline]
    fn order_key(self) -> u64 {
        let b = self.to_bits();
        u64::from(if b >> 31 == 1 { !b } else { b | 0x8000_0000 })
    }
    #[inline]
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
    #[inline]
    fn ln(x: f32) -> f32 {
        libm::logf(x)
    }
    /// libm's `sqrtf`, or [`sqrt_f32`] on cores without floating-point
    /// hardware (see [`SOFT_FLOAT`](crate::estep::SOFT_FLOAT)): both are
    /// correctly rounded, so the bits are the same.
    #[inline]
    fn sqrt(x: f32) -> f32 {
        if crate::estep::SOFT_FLOAT {
            sqrt_f32(x)
        } else {
            libm::sqrtf(x)
        }
    }
    #[inline]
    fn sqrt_in_line(x: f32) -> f32 {
        if cfg!(target_arch = "arm") && !crate::estep::SOFT_FLOAT {
            sqrt_newton(x)
        } else {
            Real::sqrt(x)
        }
    }
    #[inline]
    fn exp_nonpositive(x: f32) -> f32 {
        // ln 2 split so that k · LN2_HI is exact for |k| < 2^8.
        // 0.693145751953125 = 0x3f317200: 16 significant bits.
        const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
        const LN2_LO: f32 = 1.428_606_8e-6;
        // k = round(x / ln 2) ∈ [−73, 0] without a float-to-integer
        // conversion (which does not vectorise): adding 1.5·2²³ rounds
        // to an integer and leaves 2²² + k in the low mantissa bits.
        const SHIFTER: f32 = 12_582_912.0;
        let y = Self::madd(x, core::f32::consts::LOG2_E, SHIFTER);
        let kf = y - SHIFTER;
        let r = Self::madd(-kf, LN2_LO, Self::madd(-kf, LN2_HI, x));
        // eʳ for |r| ≤ ln2/2 by a degree-6 polynomial fitted for least
        // maximum relative error (approximation error 1.9e-9 = ε/60;
        // one multiply-add less than the Taylor polynomial needs).
        // Evaluated as 1 + (r + r²(u + r² v)): a shorter dependency chain
        // than Horner's, with the terms that set the rounding added last.
        let r2 = r * r;
        let u = Self::madd(0.166_664_2, r, 0.499_999_9);
        let v = Self::madd(
            0.001_383_684_1,
            r2,
            Self::madd(0.008_374_816, r, 0.041_668_225),
        );
        // The last two steps unfused: fused too (feature `fma`), the worst
        // error on the test's grid was 0.82 ε, above the bound above.
        let p = 1.0 + (r + r2 * Self::madd(r2, v, u));
        // 2^k as bits: k + 127 ∈ [54, 127], a normal exponent; the
        // subtraction (of y's bits for k = 0, less 127) wraps back into range.
        p * f32::from_bits(y.to_bits().wrapping_sub(SHIFTER.to_bits() - 127) << 23)
    }
    fn sin_cos_turn(u: f32) -> (f32, f32) {
        // Quadrant and position in it: exact, as u has at most 24 bits.
        let v = 4.0 * u;
        #[allow(clippy::cast_sign_loss)] // v ∈ [0, 4): q ∈ 0..=3
        let q = v as u32;
        let f = v - q as f32; // [0, 1)
                              // sin and cos of (π/2)·g for g ∈ [0, ½] (angles up to π/4), by
                              // Taylor polynomials of degree 9 and 8: truncation ≤ 2e-9.
        let sc = |g: f32| {
            let t = g * core::f32::consts::FRAC_PI_2;
            let t2 = t * t;
            let s = t
                * (1.0
                    + t2 * (-1.0 / 6.0
                        + t2 * (1.0 / 120.0 + t2 * (-1.0 / 5040.0 + t2 * (1.0 / 362_880.0)))));
            let c =
                1.0 + t2 * (-0.5 + t2 * (1.0 / 24.0 + t2 * (-1.0 / 720.0 + t2 * (1.0 / 40_320.0))));
            (s, c)
        };
        // sin((π/2)f), cos((π/2)f), folding f > ½ onto 1 − f (exact).
        let (s, c) = if f <= 0.5 {
            sc(f)
        } else {
            let (s, c) = sc(1.0 - f);
            (c, s)
        };
        match q {
            0 => (s, c),
            1 => (c, -s),
            2 => (-s, -c),
            _ => (-c, s),
        }
    }
    #[inline]
    fn uniform<R: Rng + ?Sized>(rng: &mut R) -> f32 {
        // The top 24 bits, scaled by 2^-24: exactly representable, < 1.
        (rng.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
    }
}

impl Real for f64 {
    const EPS: f64 = f64::EPSILON;
    const MAX_FINITE: f64 = f64::MAX;
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    const NEG_INFINITY: f64 = f64::NEG_INFINITY;
    const LSE_CUTOFF: f64 = 200.0;
    const LN_2PI: f64 = 1.837_877_066_409_345_5;
    const DEFAULT_REG_COVAR: f64 = 1e-12;

    #[inline]
    fn madd(a: f64, b: f64, c: f64) -> f64 {
        #[cfg(feature = "fma")]
        let v = f64::mul_add(a, b, c);
        #[cfg(not(feature = "fma"))]
        let v = a * b + c;
        v
    }
    #[inline]
    fn lit(x: f64) -> f64 {
        x
    }
    #[inline]
    fn from_count(n: usize) -> f64 {
        n as f64
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline]
    fn bits(self) -> u64 {
        self.to_bits()
    }
    #[inline]
    fn abs_bits(self) -> u64 {
        self.to_bits() & 0x7fff_ffff_ffff_ffff
    }
    #[inline]
    fn order_key(self) -> u64 {
        let b = self.to_bits();
        if b >> 63 == 1 {
            !b
        } else {
            b | 0x8000_0000_0000_0000
        }
    }
    #[inline]
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
    #[inline]
    fn ln(x: f64) -> f64 {
        libm::log(x)
    }
    #[inline]
    fn sqrt(x: f64) -> f64 {
        libm::sqrt(x)
    }
    #[inline]
    fn sqrt_in_line(x: f64) -> f64 {
        libm::sqrt(x)
    }
    #[inline]
    fn exp_nonpositive(x: f64) -> f64 {
        // ln 2 split so that k · LN2_HI is exact for |k| < 2^20.
        // fdlibm's split: 6.93147180369123816490e-01 (32 significant
        // bits) and 1.90821492927058770002e-10.
        const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
        const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
        // k = round(x / ln 2) ∈ [−289, 0] without a float-to-integer
        // conversion (which does not vectorise): adding 1.5·2⁵² rounds
        // to an integer and leaves 2⁵¹ + k in the low mantissa bits.
        const SHIFTER: f64 = 6_755_399_441_055_744.0;
        // eʳ for |r| ≤ ln2/2 by a polynomial of degree 11, as
        // 1 + (r + r²(c₂ + r q(r))): the terms that set the rounding exact
        // and added last, c₂ ≈ ½ and q (degree 8) chosen so that the
        // polynomial equals eʳ at the 11 Chebyshev points of the interval
        // (`tests/exp_minimax.py`, in 60-digit arithmetic). Relative error
        // before rounding 8.5e-18 = 0.04 ε; the Taylor polynomial of degree
        // 13 it replaces (4e-18) took four more operations per exp. q by
        // Estrin's scheme (pairs of terms, then pairs of pairs with r² and
        // r⁴): a dependency chain about half as long as Horner's.
        const C2: f64 = 0.500_000_000_000_000_6;
        const Q: [f64; 9] = [
            0.166_666_666_666_666_7,
            0.041_666_666_666_573_066,
            0.008_333_333_333_326_136,
            0.001_388_888_893_251_478,
            0.000_198_412_698_748_206_27,
            2.480_150_431_378_554e-5,
            2.755_725_540_020_642_2e-6,
            2.762_637_106_569_635_4e-7,
            2.510_521_700_472_074_5e-8,
        ];
        let y = Self::madd(x, core::f64::consts::LOG2_E, SHIFTER);
        let kf = y - SHIFTER;
        let r = Self::madd(-kf, LN2_LO, Self::madd(-kf, LN2_HI, x));
        let r2 = r * r;
        let r4 = r2 * r2;
        let a0 = Self::madd(Q[1], r, Q[0]);
        let a1 = Self::madd(Q[3], r, Q[2]);
        let a2 = Self::madd(Q[5], r, Q[4]);
        let a3 = Self::madd(Q[7], r, Q[6]);
        let b0 = Self::madd(a1, r2, a0);
        let b1 = Self::madd(a3, r2, a2);
        let q = Self::madd(r4, Self::madd(Q[8], r4, b1), b0);
        let p = 1.0 + Self::madd(r2, Self::madd(r, q, C2), r);
        // 2^k as bits: k + 1023 ∈ [734, 1023], a normal exponent; the
        // subtraction (of y's bits for k = 0, less 1023) wraps back into
        // range.
        p * f64::from_bits(y.to_bits().wrapping_sub(SHIFTER.to_bits() - 1023) << 52)
    }
    #[inline]
    fn sin_cos_turn(u: f64) -> (f64, f64) {
        libm::sincos(core::f64::consts::TAU * u)
    }
    #[inline]
    fn uniform<R: Rng + ?Sized>(rng: &mut R) -> f64 {
        // The top 53 bits, scaled by 2^-53: exactly representable, < 1.
        (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// `√x` correctly rounded (to nearest, as IEEE 754 requires of a square
/// root), digit by digit in 32-bit integers, for cores without
/// floating-point hardware: libm's `sqrtf` computes in integers there too,
/// from a 256-byte table, in 480 bytes of flash on a Cortex-M0 against
/// about 180 here, and takes more instructions. `√(−0) = −0`,
/// `√+∞ = +∞`; NaN for a NaN or any other negative `x`. The root's bits
/// come from [`root_by_digits`].
///
/// Out of line: inlined, its loop is unrolled at every call site at
/// opt-level 3.
#[inline(never)]
pub(crate) fn sqrt_f32(x: f32) -> f32 {
    sqrt_with(x, root_by_digits)
}

/// [`sqrt_f32`]'s value with a floating-point unit's division: the root's
/// bits from [`root_by_newton`], in line (see [`Real::sqrt_in_line`]).
#[cfg_attr(not(target_arch = "arm"), allow(dead_code))]
#[inline]
pub(crate) fn sqrt_newton(x: f32) -> f32 {
    sqrt_with(x, root_by_newton)
}

/// `√x` with `root(y)`, the rounded significand of `√(y · 2⁻²⁴)` in units
/// of 2⁻²³, for `y ∈ [2²⁴, 2²⁶)` with at most 24 significant bits.
///
/// Method: `x = y · 4ᵉ` with `y ∈ [1, 4)`, so `√x = √y · 2ᵉ` with
/// `√y ∈ [1, 2)`: the exponent halves, and the root's significand depends
/// on `y` alone.
#[allow(clippy::inline_always)]
#[inline(always)]
fn sqrt_with(x: f32, root: impl Fn(u32) -> u32) -> f32 {
    let bits = x.to_bits();
    if bits == 0 || bits >= 0x7f80_0000 {
        // ±0 and +∞ are their own roots; NaN stays NaN; a negative x
        // (sign bit set, not −0) has none.
        return if bits <= 0x7f80_0000 || bits == 0x8000_0000 {
            x
        } else {
            f32::NAN
        };
    }
    // x = m · 2^(e − 23), m's leading bit at bit 23 (subnormals
    // normalised; x > 0 here, so m ≠ 0).
    let (m, e) = if bits >> 23 == 0 {
        let (mut m, mut e) = (bits, -126_i32);
        while m < 0x0080_0000 {
            m <<= 1;
            e -= 1;
        }
        (m, e)
    } else {
        (
            (bits & 0x007f_ffff) | 0x0080_0000,
            (bits >> 23).cast_signed() - 127,
        )
    };
    // y = m · 2⁻²³, doubled for an odd e, in units of 2⁻²⁴.
    let odd = e & 1;
    let q = root(m << (1 + odd));
    // q ∈ [2²³, 2²⁴]: a carry into bit 24 moves the exponent up by itself,
    // as the significand is added to it.
    let half = (e - odd) / 2; // ⌊e / 2⌋
    f32::from_bits(((half + 126).cast_unsigned() << 23).wrapping_add(q))
}

/// The root's 25 bits (the result's 24 and one more), one a step, largest
/// first, by the schoolbook recurrence: with `Q` the root so far and
/// `R = y − Q²`, the bit `b` is taken where `2Q·b + b² ≤ R`; `twice` and
/// `rest` hold `2Q` and `R`, each scaled by 2 a step further so that the
/// test is one comparison and `b` one bit. A square root is never exactly
/// halfway between two floats, so the 25th bit alone decides the rounding:
/// up if it is 1.
#[allow(clippy::inline_always)]
#[inline(always)]
fn root_by_digits(y: u32) -> u32 {
    let (mut rest, mut root, mut twice, mut bit) = (y, 0_u32, 0_u32, 1_u32 << 24);
    while bit != 0 {
        let t = twice + bit;
        if t <= rest {
            rest -= t;
            twice = t + bit;
            root += bit;
        }
        rest <<= 1;
        bit >>= 1;
    }
    (root >> 1) + (root & 1)
}

/// Three Newton steps `g ← (g + v/g)/2` for `√v`, `v = y · 2⁻²⁴ ∈ [1, 4)`
/// (exact in `f32`), from the estimate that halves `v`'s exponent and
/// significand bits together (within 6.1 %, so within 2·10⁻¹² before
/// rounding after three steps); then the nearest significand `q` exactly,
/// in integers: `q` rounds `√N`, `N = y · 2²²`, if and only if
/// `(2q − 1)² < 4N < (2q + 1)²` (never equal: an odd square is not a
/// multiple of 4). The steps' rounding leaves `q` at most one off, so one
/// test each way corrects it. Checked against `f64`'s root on every
/// significand (`tests`), which is every `y` there is.
#[allow(clippy::inline_always)]
#[inline(always)]
fn root_by_newton(y: u32) -> u32 {
    #[allow(clippy::cast_precision_loss)] // at most 24 significant bits
    let v = y as f32 * (1.0 / 16_777_216.0);
    let mut g = f32::from_bits((v.to_bits() >> 1) + 0x1fc0_0000);
    for _ in 0..2 {
        g = 0.5 * (g + v / g);
    }
    // The third step's halving with the scaling by 2²³ (both exact):
    // g ∈ [1, 2] give or take an ulp, so g · 2²³ is an integer.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let mut q = ((g + v / g) * 4_194_304.0) as u32;
    let four_n = u64::from(y) << 24;
    // 2q ± 1 < 2²⁶: one 32 × 32 → 64-bit product each.
    let square = |t: u32| u64::from(t) * u64::from(t);
    if square(2 * q + 1) < four_n {
        q += 1;
    } else if square(2 * q - 1) > four_n {
        q -= 1;
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_finite_finds_any_non_finite_value() {
        fn check<T: Real>() {
            let finite = [
                T::MAX_FINITE,
                -T::MAX_FINITE,
                T::MIN_NORMAL,
                -T::zero(),
                T::one(),
            ];
            assert!(all_finite(finite.iter().copied()));
            assert!(all_finite(core::iter::empty::<T>()));
            for bad in [T::NEG_INFINITY, -T::NEG_INFINITY, T::zero() / T::zero()] {
                for at in 0..=finite.len() {
                    let mut values = finite.to_vec();
                    values.insert(at, bad);
                    assert!(!all_finite(values.into_iter()), "{bad:?} at {at}");
                }
            }
        }
        check::<f32>();
        check::<f64>();
    }

    #[test]
    fn is_finite_rejects_nan_and_infinities() {
        assert!(
            Real::is_finite(0.0f32)
                && Real::is_finite(-f64::MAX)
                && Real::is_finite(f32::MIN_POSITIVE)
        );
        assert!(
            !Real::is_finite(f32::NAN)
                && !Real::is_finite(f64::INFINITY)
                && !Real::is_finite(f64::NEG_INFINITY)
        );
    }

    /// Relative error in units of ε, against libm (itself within 1 ulp).
    fn ulps(got: f64, want: f64, eps: f64) -> f64 {
        (got - want).abs() / (want.abs() * eps)
    }

    /// `values` in increasing order: their keys must order alike, and
    /// NaN (either sign) be above every magnitude.
    fn keys_order<T: Real + core::fmt::Display>(values: &[T], nan: T) {
        for (i, &a) in values.iter().enumerate() {
            for (j, &b) in values.iter().enumerate() {
                assert_eq!(a.order_key() < b.order_key(), i < j, "{a} {b}");
                assert_eq!(a.abs_bits() < b.abs_bits(), a.abs() < b.abs(), "{a} {b}");
            }
            assert!(nan.abs_bits() > a.abs_bits());
            assert!((-nan).abs_bits() > a.abs_bits());
            assert_eq!(a.abs_bits() == 0, a == T::zero());
        }
    }

    /// `abs_bits` orders magnitudes whatever the signs, NaN above
    /// infinity; `order_key` orders values (−0 just below +0): the integer
    /// comparisons the one-lane kernel makes in place of float comparisons
    /// (of negative log-ratios against the cut-off, among others).
    #[test]
    fn integer_keys_order_as_the_values() {
        keys_order(
            &[
                f32::NEG_INFINITY,
                -f32::MAX,
                -1.5,
                -f32::MIN_POSITIVE,
                -1e-45,
                -0.0,
                0.0,
                1e-45,
                f32::MIN_POSITIVE,
                1.0,
                1.5,
                f32::MAX,
                f32::INFINITY,
            ],
            f32::NAN,
        );
        keys_order(
            &[
                f64::NEG_INFINITY,
                -f64::MAX,
                -1.5,
                -5e-324,
                -0.0,
                0.0,
                5e-324,
                1.0,
                f64::MAX,
                f64::INFINITY,
            ],
            f64::NAN,
        );
    }

    /// `(1 + 2⁻ᵖ)(1 − 2⁻ᵖ) − 1 = −2⁻²ᵖ` exactly; the product rounds to 1
    /// where `2p` exceeds the mantissa, so unfused the result is 0.
    #[test]
    fn madd_is_fused_exactly_with_the_feature_fma() {
        let a = 1.0 + 2f64.powi(-30);
        let b = 1.0 - 2f64.powi(-30);
        let f = <f64 as Real>::madd(a, b, -1.0);
        let a32 = 1.0 + 2f32.powi(-13);
        let b32 = 1.0 - 2f32.powi(-13);
        let f32 = <f32 as Real>::madd(a32, b32, -1.0);
        if cfg!(feature = "fma") {
            assert_eq!(f, -(2f64.powi(-60)));
            assert_eq!(f32, -(2f32.powi(-26)));
        } else {
            assert_eq!(f.to_bits(), (a * b - 1.0).to_bits());
            assert_eq!(f, 0.0);
            assert_eq!(f32, 0.0);
        }
    }

    #[test]
    fn exp_nonpositive_matches_libm_f32() {
        let mut worst = 0.0f64;
        for i in 0..=2_000_000 {
            let x = -50.0f32 * (i as f32 / 2_000_000.0);
            let e = ulps(
                f64::from(Real::exp_nonpositive(x)),
                libm::exp(f64::from(x)),
                f64::from(f32::EPSILON),
            );
            worst = worst.max(e);
        }
        std::println!("f32 worst error {worst} ulp");
        assert!(worst <= 0.8, "worst error {worst} ulp");
        assert_eq!(Real::exp_nonpositive(0.0f32), 1.0);
    }

    #[test]
    fn exp_nonpositive_matches_libm_f64() {
        let mut worst = 0.0f64;
        for i in 0..=2_000_000 {
            let x = -200.0 * (f64::from(i) / 2_000_000.0);
            // libm's exp is itself within 1 ulp of the true value.
            worst = worst.max(ulps(Real::exp_nonpositive(x), libm::exp(x), f64::EPSILON));
        }
        std::println!("f64 worst error {worst} ulp");
        assert!(worst <= 1.0, "worst error {worst} ulp");
        assert_eq!(Real::exp_nonpositive(0.0f64), 1.0);
        assert_eq!(Real::exp_nonpositive(-200.0f64), libm::exp(-200.0));
    }

    #[test]
    fn sin_cos_turn_f32_is_accurate_for_every_uniform() {
        // Every value the f32 uniform can produce: k · 2⁻²⁴.
        let mut worst = 0.0f64;
        for k in 0..1u32 << 24 {
            let u = k as f32 / (1u32 << 24) as f32;
            let (s, c) = Real::sin_cos_turn(u);
            let (ws, wc) = libm::sincos(core::f64::consts::TAU * f64::from(u));
            worst = worst
                .max((f64::from(s) - ws).abs())
                .max((f64::from(c) - wc).abs());
        }
        std::println!("sin_cos_turn f32: worst absolute error {worst:e}");
        assert!(worst <= 1.2e-7, "worst absolute error {worst:e}");
        assert_eq!(Real::sin_cos_turn(0.0f32), (0.0, 1.0));
        assert_eq!(Real::sin_cos_turn(0.25f32), (1.0, 0.0));
        assert_eq!(Real::sin_cos_turn(0.5f32), (0.0, -1.0));
    }

    /// Both roots, [`sqrt_f32`] (digit by digit) and [`sqrt_newton`]
    /// (Newton's steps), are correctly rounded: against `f64`'s square
    /// root rounded to `f32` (53 ≥ 2·24 + 2 bits, so the double rounding is
    /// exact), on every exponent with the significands' edges and a stride
    /// through them (subnormals included), on exact squares and their
    /// neighbours, and bit for bit with libm's `sqrtf`; and the special
    /// values.
    #[test]
    fn sqrt_f32_is_correctly_rounded() {
        for (name, root) in [
            ("digits", sqrt_f32 as fn(f32) -> f32),
            ("newton", sqrt_newton),
        ] {
            let check = |bits: u32| {
                let x = f32::from_bits(bits);
                let got = root(x);
                let want = f64::from(x).sqrt() as f32;
                assert_eq!(got.to_bits(), want.to_bits(), "{name}: √{x:e} ({bits:#x})");
                assert_eq!(got.to_bits(), libm::sqrtf(x).to_bits(), "{name}: {x:e}");
            };
            for exponent in 0..255_u32 {
                let edges = [1, 2, 3, (1 << 23) - 2, (1 << 23) - 1];
                for m in (0..1 << 23).step_by(997).chain(edges) {
                    check(exponent << 23 | m);
                }
            }
            // Squares of 24-bit integers (exact roots) and their neighbours.
            for n in (1_u32..1 << 24).step_by(4093).chain([(1 << 24) - 1]) {
                let sq = (f64::from(n) * f64::from(n)) as f32;
                for b in [sq.to_bits() - 1, sq.to_bits(), sq.to_bits() + 1] {
                    check(b);
                }
            }
            assert_eq!(root(0.0).to_bits(), 0, "{name}");
            assert_eq!(root(-0.0).to_bits(), (-0.0f32).to_bits(), "{name}");
            assert_eq!(root(f32::INFINITY), f32::INFINITY, "{name}");
            for bad in [
                -1.0,
                -f32::MIN_POSITIVE,
                -1e-45,
                f32::NEG_INFINITY,
                f32::NAN,
            ] {
                assert!(root(bad).is_nan(), "{name}: {bad}");
            }
            assert_eq!(root(4.0), 2.0, "{name}");
            assert_eq!(root(f32::MAX), 1.844_674_3e19, "{name}");
        }
    }

    /// Every significand, both exponent parities, every subnormal, for
    /// both roots: for a normal `x` the root's bits depend only on the
    /// significand and the exponent's parity (the exponent itself only
    /// adds `⌊e/2⌋` to the result's, which the strided test above checks
    /// at every exponent), so 1.0 ≤ x < 4.0 and the subnormals are every
    /// case there is.
    #[test]
    fn sqrt_f32_is_correctly_rounded_on_every_significand() {
        let subnormals = 1..0x0080_0000_u32;
        let one_to_four = 0x3f80_0000..0x4080_0000_u32;
        for bits in subnormals.chain(one_to_four) {
            let x = f32::from_bits(bits);
            let want = (f64::from(x).sqrt() as f32).to_bits();
            assert_eq!(sqrt_f32(x).to_bits(), want, "digits: {x:e} ({bits:#x})");
            assert_eq!(sqrt_newton(x).to_bits(), want, "newton: {x:e} ({bits:#x})");
        }
    }

    #[test]
    fn ln_2pi_is_correct() {
        // The constant is ln(2π) = 1.83787706640934548356… correctly rounded;
        // libm's log of the rounded 2π lands one ulp below it.
        let computed = libm::log(2.0 * core::f64::consts::PI);
        assert!((<f64 as Real>::LN_2PI - computed).abs() <= f64::EPSILON);
        assert!(<f64 as Real>::LN_2PI > computed);
        assert_eq!(<f32 as Real>::LN_2PI, <f64 as Real>::LN_2PI as f32);
    }
}
