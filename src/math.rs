//! The scalar types gaussmix computes in, and the one place their math comes from.
//!
//! Every transcendental function the crate evaluates (`exp`, `ln`, `sqrt`,
//! `sin`, `cos`) goes through this module, which calls [`libm`] directly. The
//! same Rust code therefore computes bit-identical results on a host test
//! and on a Cortex-M, whatever features other crates in the build turn on.

use nalgebra::RealField;

/// A floating-point scalar gaussmix can fit and evaluate models in:
/// implemented for [`f32`] and [`f64`] only (the trait is sealed).
///
/// On a microcontroller with a single-precision FPU (Cortex-M4F, M7, M33)
/// `f32` is the natural choice; `f64` is the reference on hosts.
pub trait Real: RealField + Copy + sealed::Sealed {}

impl Real for f32 {}
impl Real for f64 {}

pub(crate) mod sealed {
    use rand_core::Rng;

    /// Private per-type constants and math; see the impls for the values.
    pub trait Sealed: Sized {
        /// Terms of a log-sum-exp more than this far below the largest are
        /// treated as exactly zero: `exp(-cutoff)` is far below the type's
        /// epsilon, so they cannot change a sum of terms that includes 1.
        const LSE_CUTOFF: Self;
        /// Machine epsilon.
        const EPS: Self;
        /// The largest finite value.
        const MAX: Self;
        /// Negative infinity.
        const NEG_INFINITY: Self;
        fn exp(self) -> Self;
        fn ln(self) -> Self;
        fn sqrt(self) -> Self;
        fn sin_cos(self) -> (Self, Self);
        fn finite(self) -> bool;
        fn lit(x: f64) -> Self;
        fn from_count(n: usize) -> Self;
        /// A uniform variate in `[0, 1)` with the full resolution of the
        /// mantissa: 24 random bits for `f32`, 53 for `f64`.
        fn uniform<R: Rng + ?Sized>(rng: &mut R) -> Self;
    }

    impl Sealed for f32 {
        // exp(-50) ≈ 1.9e-22, below f32::EPSILON (1.2e-7) by fifteen orders.
        const LSE_CUTOFF: f32 = 50.0;
        const EPS: f32 = f32::EPSILON;
        const MAX: f32 = f32::MAX;
        const NEG_INFINITY: f32 = f32::NEG_INFINITY;
        #[inline]
        fn exp(self) -> f32 {
            libm::expf(self)
        }
        #[inline]
        fn ln(self) -> f32 {
            libm::logf(self)
        }
        #[inline]
        fn sqrt(self) -> f32 {
            libm::sqrtf(self)
        }
        #[inline]
        fn sin_cos(self) -> (f32, f32) {
            libm::sincosf(self)
        }
        #[inline]
        fn finite(self) -> bool {
            self.is_finite()
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
        fn uniform<R: Rng + ?Sized>(rng: &mut R) -> f32 {
            // The top 24 bits, scaled by 2^-24: exactly representable, < 1.
            (rng.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
        }
    }

    impl Sealed for f64 {
        // exp(-200) ≈ 1.4e-87, below f64::EPSILON (2.2e-16) by seventy orders,
        // and far above the subnormal range (below exp(-708)).
        const LSE_CUTOFF: f64 = 200.0;
        const EPS: f64 = f64::EPSILON;
        const MAX: f64 = f64::MAX;
        const NEG_INFINITY: f64 = f64::NEG_INFINITY;
        #[inline]
        fn exp(self) -> f64 {
            libm::exp(self)
        }
        #[inline]
        fn ln(self) -> f64 {
            libm::log(self)
        }
        #[inline]
        fn sqrt(self) -> f64 {
            libm::sqrt(self)
        }
        #[inline]
        fn sin_cos(self) -> (f64, f64) {
            libm::sincos(self)
        }
        #[inline]
        fn finite(self) -> bool {
            self.is_finite()
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
        fn uniform<R: Rng + ?Sized>(rng: &mut R) -> f64 {
            // The top 53 bits, scaled by 2^-53: exactly representable, < 1.
            (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
        }
    }
}

use sealed::Sealed;

#[inline]
pub(crate) fn exp<T: Real>(x: T) -> T {
    Sealed::exp(x)
}

#[inline]
pub(crate) fn ln<T: Real>(x: T) -> T {
    Sealed::ln(x)
}

#[inline]
pub(crate) fn sqrt<T: Real>(x: T) -> T {
    Sealed::sqrt(x)
}

#[inline]
pub(crate) fn lit<T: Real>(x: f64) -> T {
    <T as Sealed>::lit(x)
}

#[inline]
pub(crate) fn count<T: Real>(n: usize) -> T {
    <T as Sealed>::from_count(n)
}

#[inline]
pub(crate) fn eps<T: Real>() -> T {
    <T as Sealed>::EPS
}

#[inline]
pub(crate) fn max_finite<T: Real>() -> T {
    <T as Sealed>::MAX
}

#[inline]
pub(crate) fn neg_infinity<T: Real>() -> T {
    <T as Sealed>::NEG_INFINITY
}

#[inline]
pub(crate) fn lse_cutoff<T: Real>() -> T {
    <T as Sealed>::LSE_CUTOFF
}

#[inline]
pub(crate) fn uniform<T: Real, R: rand_core::Rng + ?Sized>(rng: &mut R) -> T {
    <T as Sealed>::uniform(rng)
}

#[inline]
pub(crate) fn sin_cos<T: Real>(x: T) -> (T, T) {
    Sealed::sin_cos(x)
}

#[inline]
pub(crate) fn is_finite<T: Real>(x: T) -> bool {
    Sealed::finite(x)
}

/// `ln(2π)`.
#[inline]
pub(crate) fn ln_2pi<T: Real>() -> T {
    lit(1.837_877_066_409_345_5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_finite_rejects_nan_and_infinities() {
        assert!(is_finite(0.0f32) && is_finite(-f64::MAX) && is_finite(f32::MIN_POSITIVE));
        assert!(!is_finite(f32::NAN) && !is_finite(f64::INFINITY) && !is_finite(f64::NEG_INFINITY));
    }

    #[test]
    fn ln_2pi_is_correct() {
        // The constant is ln(2π) = 1.83787706640934548356… correctly rounded;
        // libm's log of the rounded 2π lands one ulp below it.
        let computed = libm::log(2.0 * core::f64::consts::PI);
        assert!((ln_2pi::<f64>() - computed).abs() <= f64::EPSILON);
        assert!(ln_2pi::<f64>() > computed);
        assert_eq!(ln_2pi::<f32>(), ln_2pi::<f64>() as f32);
    }
}
