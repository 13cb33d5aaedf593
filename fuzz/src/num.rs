//! Scalars: the fuzzer's float recipes ([`Num`]), the two precisions
//! ([`Scalar`]), and the exact text form of a value in a stored case ([`V`]).

use core::fmt::Debug;

use arbitrary::Arbitrary;
use gaussmix::Real;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One float from the fuzzer.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Num {
    /// Any `f64` bit pattern (rounded, possibly to ±inf or ±0, in `f32`).
    F64(f64),
    /// Any `f32` bit pattern (exact in `f64` too).
    F32(f32),
    /// `i / 64`: small, exactly representable values in `±512`.
    Small(i16),
    /// `m / 1024 · 2^(e·s)` with `s = 1` for `f32`, 8 for `f64`: every binade
    /// of the type, subnormals and overflow to ±inf included.
    Scaled(i16, i8),
    /// An edge value of the type, from [`Scalar::special`].
    Special(u8),
}

impl Num {
    /// The value in `T`.
    pub fn get<T: Scalar>(self) -> T {
        match self {
            Num::F64(x) => T::of_f64(x),
            Num::F32(x) => T::of_f32(x),
            Num::Small(i) => T::of_f64(f64::from(i) / 64.0),
            Num::Scaled(m, e) => {
                T::of_f64(f64::from(m) / 1024.0 * 2f64.powi(i32::from(e) * T::SCALE_STEP))
            }
            Num::Special(i) => T::special(i),
        }
    }
}

/// `f32` or `f64`, with what the targets need on top of [`Real`].
pub trait Scalar: Real + Into<f64> + Debug + PartialOrd + Send + Sync + 'static {
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// Machine epsilon, in `f64`.
    const EPS64: f64;
    /// The smallest positive subnormal, in `f64`.
    const TINY: f64;
    /// The smallest positive normal value, in `f64`.
    const MIN_POSITIVE64: f64;
    /// The largest finite value, in `f64`.
    const MAX64: f64;
    /// Exponent step of [`Num::Scaled`].
    const SCALE_STEP: i32;
    /// Documented bound on a standard normal variate's magnitude
    /// (`gaussmix::sample` module docs).
    const NORMAL_BOUND: f64;
    /// `x` rounded to the type.
    fn of_f64(x: f64) -> Self;
    /// `x` converted to the type.
    fn of_f32(x: f32) -> Self;
    /// An edge value: ±0, ±1, ½, 2, ±MIN_POSITIVE, ±smallest subnormal,
    /// ±MAX, ±inf, NaN (two payloads), ε, 1 ± ε, √MAX, 1/√MAX, 10⁻³, 10³, 10⁻⁶.
    fn special(i: u8) -> Self;
    /// The sign and top exponent bits of the type's bit pattern.
    const TOP_BITS: u64;
    /// The bit pattern.
    fn bits64(self) -> u64;
    /// The exact text form (see [`V`]).
    fn to_text(self) -> String;
    /// Parses [`Scalar::to_text`]'s form (or any decimal, rounded to the type).
    fn from_text(s: &str) -> Option<Self>;
}

macro_rules! scalar {
    ($t:ident, $bits:ident, $scale:expr, $bound:expr) => {
        impl Scalar for $t {
            const NAME: &'static str = stringify!($t);
            const EPS64: f64 = $t::EPSILON as f64;
            const TINY: f64 = $t::from_bits(1) as f64;
            const MIN_POSITIVE64: f64 = $t::MIN_POSITIVE as f64;
            const MAX64: f64 = $t::MAX as f64;
            const SCALE_STEP: i32 = $scale;
            const NORMAL_BOUND: f64 = $bound;
            fn of_f64(x: f64) -> Self {
                x as $t
            }
            fn of_f32(x: f32) -> Self {
                x as $t
            }
            fn special(i: u8) -> Self {
                let table: [$t; 26] = [
                    0.0,
                    -0.0,
                    1.0,
                    -1.0,
                    0.5,
                    2.0,
                    $t::MIN_POSITIVE,
                    -$t::MIN_POSITIVE,
                    $t::from_bits(1),
                    -$t::from_bits(1),
                    $t::MAX,
                    -$t::MAX,
                    $t::INFINITY,
                    $t::NEG_INFINITY,
                    $t::NAN,
                    $t::from_bits($t::NAN.to_bits() | 1).copysign(-1.0),
                    $t::EPSILON,
                    1.0 + $t::EPSILON,
                    1.0 - $t::EPSILON / 2.0,
                    $t::MAX.sqrt(),
                    1.0 / $t::MAX.sqrt(),
                    1e-3,
                    1e3,
                    1e-6,
                    $t::MAX / 2.0,
                    $t::MIN_POSITIVE * 4.0,
                ];
                table[usize::from(i) % table.len()]
            }
            const TOP_BITS: u64 = 3 << ($bits::BITS - 2);
            fn bits64(self) -> u64 {
                u64::from(self.to_bits())
            }
            fn to_text(self) -> String {
                if self.is_nan() {
                    if self.to_bits() == $t::NAN.to_bits() {
                        "NaN".to_string()
                    } else {
                        format!("NaN:{:#x}", self.to_bits())
                    }
                } else {
                    // Rust prints the shortest decimal that parses back to
                    // the same value ("0.1", "1e-45", "-0.0", "inf").
                    format!("{self:?}")
                }
            }
            fn from_text(s: &str) -> Option<Self> {
                match s.strip_prefix("NaN:0x") {
                    Some(hex) => {
                        let v = $t::from_bits($bits::from_str_radix(hex, 16).ok()?);
                        v.is_nan().then_some(v)
                    }
                    None => s.parse().ok(),
                }
            }
        }
    };
}
scalar!(f32, u32, 1, 5.8);
scalar!(f64, u64, 8, 8.6);

/// `x` in `f64`.
pub fn f<T: Scalar>(x: T) -> f64 {
    x.into()
}

/// A value of a stored case, written in JSON as a string that gives it
/// exactly in its case's precision: the shortest decimal that parses back
/// to it (`"0.1"`, `"-0.0"`, `"1e-45"`, `"inf"`, `"-inf"`), `"NaN"` for the
/// type's default NaN, or `"NaN:0x…"` with the bits of any other NaN.
/// (A JSON number could not hold NaN or ±inf, and would be parsed in `f64`
/// first, which is not exact for `f32`.)
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct V<T>(pub T);

impl<T: Scalar> Serialize for V<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_text())
    }
}

impl<'de, T: Scalar> Deserialize<'de> for V<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        T::from_text(&s)
            .map(V)
            .ok_or_else(|| serde::de::Error::custom(format!("not an {} value: {s:?}", T::NAME)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_every_kind_of_value() {
        let odd_nan = f32::from_bits(0xffc0_0001);
        for v in [
            0.1f32,
            -0.0,
            1e-45,
            f32::MAX,
            f32::INFINITY,
            -f32::INFINITY,
            f32::NAN,
            odd_nan,
        ] {
            let t = v.to_text();
            assert_eq!(f32::from_text(&t).unwrap().to_bits(), v.to_bits(), "{t}");
        }
        for v in [0.1f64, -0.0, 5e-324, f64::MAX, f64::NEG_INFINITY, -f64::NAN] {
            let t = v.to_text();
            assert_eq!(f64::from_text(&t).unwrap().to_bits(), v.to_bits(), "{t}");
        }
        assert_eq!(0.1f32.to_text(), "0.1");
        assert!(f32::from_text("NaN:0x1").is_none(), "not a NaN");
    }
}
