//! How data points come in (borrowed, never copied into a buffer), the
//! check of sample weights, and the rule that makes a variance the data's
//! scale.

use nalgebra::{Point, SVector};

use crate::error::Error;
use crate::real::Real;

/// A data point of `D` coordinates that gaussmix can read in place.
///
/// Implemented for nalgebra's [`SVector<T, D>`] and [`Point<T, D>`] and for
/// plain arrays `[T; D]`, so data can stay in whatever layout the caller
/// already has (`&[[f32; 2]]` from a DMA buffer, `&[SVector<f64, 3>]` from
/// host code). Each point is read into registers once per pass.
pub trait AsPoint<T: Real, const D: usize> {
    /// The coordinates as a column vector.
    fn to_vector(&self) -> SVector<T, D>;
}

impl<T: Real, const D: usize> AsPoint<T, D> for SVector<T, D> {
    #[inline]
    fn to_vector(&self) -> SVector<T, D> {
        *self
    }
}

impl<T: Real, const D: usize> AsPoint<T, D> for [T; D] {
    #[inline]
    fn to_vector(&self) -> SVector<T, D> {
        SVector::from(*self)
    }
}

impl<T: Real, const D: usize> AsPoint<T, D> for Point<T, D> {
    #[inline]
    fn to_vector(&self) -> SVector<T, D> {
        self.coords
    }
}

/// `x` as a vector, or [`Error::NonFiniteData`] naming `index`.
#[inline]
pub(crate) fn checked<T: Real, const D: usize, P: AsPoint<T, D>>(
    x: &P,
    index: usize,
) -> Result<SVector<T, D>, Error> {
    let v = x.to_vector();
    if v.iter().all(|&c| c.is_finite()) {
        Ok(v)
    } else {
        Err(Error::NonFiniteData { index })
    }
}

/// The scale of data whose mean per-coordinate variance is `variance` and
/// whose largest coordinate is `largest` in magnitude: the variance, unless
/// it is below what `T` resolves at that magnitude (all points identical,
/// or a spread lost to rounding); then the largest squared coordinate, and
/// 1 if that is 0 too, so a regularisation derived from it is never 0.
///
/// # Errors
///
/// [`Error::DataOverflow`] if `variance` is not finite (the sums of
/// squared deviations overflowed) or the scale overflows `T`.
pub(crate) fn scale_from<T: Real>(variance: T, largest: T) -> Result<T, Error> {
    let resolution = T::EPS * largest;
    let scale = if variance > resolution * resolution {
        variance
    } else if largest > T::zero() {
        largest * largest
    } else {
        T::one()
    };
    if variance.is_finite() && scale.is_finite() {
        Ok(scale)
    } else {
        Err(Error::DataOverflow)
    }
}

/// A sample weight gaussmix accepts: 0, or finite and at least `T`'s
/// smallest normal number (a subnormal weight would make the weighted sums
/// lose their precision, and only the weights' ratios matter, so a data set
/// of tiny weights can be scaled up).
#[inline]
pub(crate) fn valid_weight<T: Real>(w: T) -> bool {
    w == T::zero() || (w >= T::MIN_NORMAL && w.is_finite())
}

/// Checks the sample weights of `len` points, if there are any (finite,
/// non-negative, a finite total that is not 0, one per point, at least
/// `needed` of them positive), and returns their total: without weights,
/// `len`, which must be at least `needed`. The points themselves are
/// checked by the fit's first pass (a non-finite point of positive weight
/// is [`Error::NonFiniteData`]; one of weight 0 is left out unseen).
///
/// # Errors
///
/// [`Error::TooFewPoints`] (counting the points of positive weight),
/// [`Error::LengthMismatch`], [`Error::InvalidSampleWeight`] naming the
/// first bad weight (or where the total overflows) and
/// [`Error::ZeroTotalWeight`].
pub(crate) fn total_weight<T: Real>(
    len: usize,
    weights: Option<&[T]>,
    needed: usize,
) -> Result<T, Error> {
    let needed = needed.max(1);
    let Some(weights) = weights else {
        if len < needed {
            return Err(Error::TooFewPoints {
                points: len,
                needed,
            });
        }
        return Ok(T::from_count(len));
    };
    if weights.len() != len {
        return Err(Error::LengthMismatch {
            expected: len,
            found: weights.len(),
        });
    }
    let mut total = T::zero();
    let mut points = 0usize;
    for (index, &w) in weights.iter().enumerate() {
        total += w;
        if !valid_weight(w) || !total.is_finite() {
            return Err(Error::InvalidSampleWeight { index });
        }
        points += usize::from(w > T::zero());
    }
    if total == T::zero() {
        return Err(Error::ZeroTotalWeight);
    }
    if points < needed {
        return Err(Error::TooFewPoints { points, needed });
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_is_the_variance_with_fallbacks() {
        assert_eq!(scale_from(2.5, 4.0), Ok(2.5));
        // A spread below what `T` resolves at the data's size: the size.
        assert_eq!(scale_from(1e-40f64, 4.0), Ok(16.0));
        assert_eq!(scale_from(0.0f32, 4.0), Ok(16.0));
        assert_eq!(scale_from(0.0f32, 0.0), Ok(1.0));
        assert_eq!(scale_from(f32::INFINITY, 1.0), Err(Error::DataOverflow));
        assert_eq!(scale_from(f32::NAN, 1.0), Err(Error::DataOverflow));
        assert_eq!(scale_from(0.0f32, 3e38), Err(Error::DataOverflow));
    }

    #[test]
    fn weights_are_checked_and_totalled() {
        assert_eq!(total_weight::<f64>(3, None, 2), Ok(3.0));
        assert_eq!(
            total_weight::<f64>(1, None, 2),
            Err(Error::TooFewPoints {
                points: 1,
                needed: 2
            })
        );
        assert_eq!(total_weight(3, Some(&[1.0, 0.0, 2.5]), 2), Ok(3.5));
        assert_eq!(
            total_weight(3, Some(&[1.0, 0.0, 2.5]), 3),
            Err(Error::TooFewPoints {
                points: 2,
                needed: 3
            })
        );
        assert_eq!(
            total_weight(2, Some(&[1.0, 0.0, 2.5]), 1),
            Err(Error::LengthMismatch {
                expected: 2,
                found: 3
            })
        );
        assert_eq!(
            total_weight(2, Some(&[1.0, -1.0]), 1),
            Err(Error::InvalidSampleWeight { index: 1 })
        );
        assert_eq!(
            total_weight(2, Some(&[f32::MAX, f32::MAX]), 1),
            Err(Error::InvalidSampleWeight { index: 1 })
        );
        assert_eq!(
            total_weight(2, Some(&[0.0, 0.0]), 1),
            Err(Error::ZeroTotalWeight)
        );
    }
}
