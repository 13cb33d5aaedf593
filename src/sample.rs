//! Uniform and normal variates from a caller's random number generator.
//!
//! The RNG is borrowed per call (`&mut R` with `R: Rng + ?Sized`, so
//! `&mut dyn Rng` works too) and never stored. The derivation of every
//! variate from the RNG's bits is fixed and documented here, so a seeded RNG
//! reproduces the same samples on every target:
//!
//! * **uniform** in `[0, 1)`: for `f32`, the top 24 bits of one
//!   `next_u32()` times 2⁻²⁴; for `f64`, the top 53 bits of one `next_u64()`
//!   times 2⁻⁵³. Every value is exact, and the full mantissa is random.
//! * **standard normal**: the Box–Muller transform of two uniforms,
//!   `u₁ ← 1 − uniform` (in `(0, 1]`, so its logarithm is finite) and
//!   `u₂ ← uniform`: `√(−2 ln u₁) · (cos 2πu₂, sin 2πu₂)` is a pair of
//!   independent standard normals (the sine and cosine in `f32` computed in
//!   `f32`, by polynomials accurate to 0.8 ε over every value `u₂` takes). Box–Muller needs a fixed number of RNG
//!   calls (no rejection loop), so its time is bounded, which real-time
//!   callers need. The uniform's resolution bounds the tails: `|z|` never
//!   exceeds 5.8 for `f32` (probability of exceeding it under a true normal:
//!   8e-9) or 8.6 for `f64`.
//! * **a component** of a mixture: one uniform `u`, the first component whose
//!   cumulative weight exceeds `u` (components of weight 0 are never chosen).

use nalgebra::SVector;
use rand_core::Rng;

use crate::real::Real;

/// A uniform variate in `[0, 1)` (see the [module docs](self) for how).
#[inline]
pub fn uniform<T: Real, R: Rng + ?Sized>(rng: &mut R) -> T {
    T::uniform(rng)
}

/// Two independent standard normal variates by Box–Muller (see the
/// [module docs](self)).
#[inline]
pub fn standard_normal_pair<T: Real, R: Rng + ?Sized>(rng: &mut R) -> (T, T) {
    let u1 = T::one() - uniform::<T, R>(rng);
    let u2 = uniform::<T, R>(rng);
    let radius = Real::sqrt(T::lit(-2.0) * Real::ln(u1));
    let (s, c) = Real::sin_cos_turn(u2);
    (radius * c, radius * s)
}

/// `D` independent standard normal variates, drawn pairwise by Box–Muller
/// (`⌈D/2⌉` pairs; for odd `D` the last pair's second value is discarded).
pub fn standard_normal_vector<T: Real, const D: usize, R: Rng + ?Sized>(
    rng: &mut R,
) -> SVector<T, D> {
    let mut z = SVector::<T, D>::zeros();
    let mut i = 0;
    while i < D {
        let (a, b) = standard_normal_pair::<T, R>(rng);
        z[i] = a;
        if i + 1 < D {
            z[i + 1] = b;
        }
        i += 2;
    }
    z
}

/// An index in `0..n`, uniform by Lemire's multiply-and-reject: from one
/// `next_u32()` when `n < 2³²` (a retry happens with probability below
/// `n / 2³²`; 32-bit arithmetic, cheap on a microcontroller), else from one
/// `next_u64()`. `n` must be positive.
///
/// At most [`RETRIES`] retries: a generator that keeps returning values
/// the rejection step refuses (a stuck hardware generator returning 0, say)
/// would otherwise hold its caller forever. The last draw is then taken as
/// it is, which a working generator reaches with probability below
/// `(n / 2³²)^RETRIES`; below that, the index is exactly uniform.
pub(crate) fn uniform_index<R: Rng + ?Sized>(rng: &mut R, n: usize) -> usize {
    if let Ok(n) = u32::try_from(n) {
        let mut m = u64::from(rng.next_u32()) * u64::from(n);
        if (m as u32) < n {
            let threshold = n.wrapping_neg() % n;
            let mut retries = RETRIES;
            while (m as u32) < threshold && retries > 0 {
                m = u64::from(rng.next_u32()) * u64::from(n);
                retries -= 1;
            }
        }
        return (m >> 32) as usize;
    }
    let n = n as u64;
    let mut m = u128::from(rng.next_u64()) * u128::from(n);
    if (m as u64) < n {
        let threshold = n.wrapping_neg() % n;
        let mut retries = RETRIES;
        while (m as u64) < threshold && retries > 0 {
            m = u128::from(rng.next_u64()) * u128::from(n);
            retries -= 1;
        }
    }
    (m >> 64) as usize
}

/// The most draws [`uniform_index`] rejects before it takes one as it is:
/// 64, so that even at `n` just above `2³¹` (each draw refused with
/// probability near ½) a working generator gets there with probability
/// `2⁻⁶⁴`.
pub(crate) const RETRIES: u32 = 64;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `SplitMix64`: enough for unit tests of the variates.
    pub(crate) struct SplitMix(pub(crate) u64);
    impl rand_core::TryRng for SplitMix {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok((self.try_next_u64()? >> 32) as u32)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            Ok(z ^ (z >> 31))
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            for chunk in dst.chunks_mut(8) {
                let v = self.try_next_u64()?.to_le_bytes();
                chunk.copy_from_slice(&v[..chunk.len()]);
            }
            Ok(())
        }
    }

    /// A generator stuck at one value, counting its draws.
    struct Stuck {
        value: u64,
        draws: u32,
    }

    impl Stuck {
        fn at(value: u64) -> Self {
            Self { value, draws: 0 }
        }
    }

    impl rand_core::TryRng for Stuck {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            self.draws += 1;
            Ok(self.value as u32)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            self.draws += 1;
            Ok(self.value)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            dst.fill(self.value as u8);
            Ok(())
        }
    }

    #[test]
    fn uniform_extremes_are_exact() {
        assert_eq!(uniform::<f32, _>(&mut Stuck::at(0)), 0.0);
        assert_eq!(uniform::<f64, _>(&mut Stuck::at(0)), 0.0);
        assert_eq!(
            uniform::<f32, _>(&mut Stuck::at(u64::MAX)),
            1.0 - f32::EPSILON / 2.0
        );
        assert_eq!(
            uniform::<f64, _>(&mut Stuck::at(u64::MAX)),
            1.0 - f64::EPSILON / 2.0
        );
        // u1 = 1 − 0 = 1 gives radius 0, never ln(0).
        assert_eq!(
            standard_normal_pair::<f64, _>(&mut Stuck::at(0)),
            (0.0, 0.0)
        );
    }

    /// A generator stuck at 0 draws an index (the rejection step refuses
    /// every one of its draws for `n` not a power of two, and looped
    /// forever), after exactly `RETRIES + 1` draws.
    #[test]
    fn a_stuck_generator_still_gives_an_index() {
        for n in [3, 5, 600, (1 << 31) + 1] {
            let mut rng = Stuck::at(0);
            assert_eq!(uniform_index(&mut rng, n), 0);
            assert_eq!(rng.draws, RETRIES + 1, "n = {n}");
        }
        #[cfg(target_pointer_width = "64")]
        {
            let mut rng = Stuck::at(0);
            assert_eq!(uniform_index(&mut rng, (1 << 40) + 3), 0);
            assert_eq!(rng.draws, RETRIES + 1);
        }
        // A power of two is never refused.
        let mut rng = Stuck::at(0);
        assert_eq!(uniform_index(&mut rng, 8), 0);
        assert_eq!(rng.draws, 1);
    }

    #[test]
    fn normal_moments() {
        let mut rng = SplitMix(7);
        let n = 200_000;
        let (mut s1, mut s2, mut s4, mut cross) = (0.0, 0.0, 0.0, 0.0);
        for _ in 0..n / 2 {
            let (a, b): (f64, f64) = standard_normal_pair(&mut rng);
            s1 += a + b;
            s2 += a * a + b * b;
            s4 += a * a * a * a + b * b * b * b;
            cross += a * b;
        }
        let nf = f64::from(n);
        // Standard errors: mean 1/√n ≈ 0.0022, variance √(2/n) ≈ 0.0032,
        // fourth moment √(96/n) ≈ 0.022; bounds are about five of them.
        assert!((s1 / nf).abs() < 0.012, "mean {}", s1 / nf);
        assert!((s2 / nf - 1.0).abs() < 0.016, "variance {}", s2 / nf);
        assert!((s4 / nf - 3.0).abs() < 0.11, "kurtosis {}", s4 / nf);
        assert!((cross / (nf / 2.0)).abs() < 0.016, "pair correlation");
    }

    #[test]
    fn uniform_index_covers_range_evenly() {
        let mut rng = SplitMix(1);
        let mut hits = [0u32; 7];
        for _ in 0..70_000 {
            hits[uniform_index(&mut rng, 7)] += 1;
        }
        // Each count is Binomial(70000, 1/7): mean 10000, sd ≈ 93.
        assert!(
            hits.iter().all(|&h| (9_550..10_450).contains(&h)),
            "{hits:?}"
        );
    }
}
