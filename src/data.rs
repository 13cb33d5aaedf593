//! How data points come in (borrowed, never copied into a buffer), the
//! check of sample weights, and the data's scale: the rule, and the one
//! pass that validates a data set and measures it for the initialisers.

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

/// Checks a whole data set (at least `needed` points, all finite) and
/// returns its scale: the mean over coordinates of the per-coordinate
/// variance, `s = (1/D) Σ_d var(x_d)`, the unit in which the initialisers
/// regularise their starting covariances. (A fit measures the same scale
/// from its own statistics: [`SufficientStats::scale`](crate::SufficientStats::scale).)
///
/// The variance is computed in the same pass, shifted by the first point
/// (accurate unless the data sit far from the origin compared with their
/// spread, where a rough scale is all that is needed), then passed through
/// [`scale_from`].
///
/// # Errors
///
/// [`Error::TooFewPoints`], [`Error::NonFiniteData`] naming the first bad
/// point, or [`Error::DataOverflow`] if the scale (a sum of squared
/// deviations) overflows `T`.
pub(crate) fn scan<T: Real, const D: usize, P: AsPoint<T, D>>(
    data: &[P],
    needed: usize,
) -> Result<T, Error> {
    let needed = needed.max(1);
    if data.len() < needed {
        return Err(Error::TooFewPoints {
            points: data.len(),
            needed,
        });
    }
    let mut scan = Scan::new();
    for (index, x) in data.iter().enumerate() {
        scan.push(x, index)?;
    }
    scan.finish(T::from_count(data.len()))
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

/// The sums of [`scan`]'s one pass.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Scan<T: Real, const D: usize> {
    /// The first point, origin of the shifted sums.
    origin: Option<SVector<T, D>>,
    sum: SVector<T, D>,
    sum_sq: SVector<T, D>,
    largest: T,
}

impl<T: Real, const D: usize> Scan<T, D> {
    /// No points yet.
    fn new() -> Self {
        Self {
            origin: None,
            sum: SVector::zeros(),
            sum_sq: SVector::zeros(),
            largest: T::zero(),
        }
    }

    /// Adds point `index`, `x`.
    ///
    /// # Errors
    ///
    /// [`Error::NonFiniteData`] naming `index` (nothing added).
    #[inline]
    fn push<P: AsPoint<T, D>>(&mut self, x: &P, index: usize) -> Result<(), Error> {
        let x = checked(x, index)?;
        let origin = *self.origin.get_or_insert(x);
        let d = x - origin;
        self.sum += d;
        self.sum_sq += d.component_mul(&d);
        for &c in x.iter() {
            self.largest = Real::max(self.largest, c.abs());
        }
        Ok(())
    }

    /// The scale of the `n` points pushed.
    ///
    /// # Errors
    ///
    /// [`Error::DataOverflow`] if the scale overflows.
    fn finish(&self, n: T) -> Result<T, Error> {
        let (sum, sum_sq) = (&self.sum, &self.sum_sq);
        if !sum_sq.iter().all(|&v| v.is_finite()) {
            return Err(Error::DataOverflow);
        }
        let mut variance_sum = T::zero();
        for i in 0..D {
            variance_sum += Real::max(sum_sq[i] - sum[i] * (sum[i] / n), T::zero()) / n;
        }
        scale_from(variance_sum / T::from_count(D), self.largest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_is_mean_variance_with_fallbacks() {
        // Variances 1 and 4 (population): mean 2.5.
        let data = [[0.0, 0.0], [2.0, 4.0], [0.0, 4.0], [2.0, 0.0]];
        assert!((scan::<f64, 2, _>(&data, 1).unwrap() - 2.5).abs() < 1e-15);
        let same = [[3.0f32, -4.0]; 5];
        assert_eq!(scan::<f32, 2, _>(&same, 2).unwrap(), 16.0);
        assert_eq!(scan::<f32, 2, _>(&[[0.0f32; 2]; 3], 1).unwrap(), 1.0);
        let huge = [[3e38f32, 0.0], [-3e38, 0.0]];
        assert_eq!(scan::<f32, 2, _>(&huge, 1), Err(Error::DataOverflow));
        let far_apart = [[-1e20f32], [1e20]];
        assert_eq!(scan::<f32, 1, _>(&far_apart, 1), Err(Error::DataOverflow));
        assert_eq!(
            scan::<f32, 2, _>(&same, 6),
            Err(Error::TooFewPoints {
                points: 5,
                needed: 6
            })
        );
        assert_eq!(
            scan::<f64, 2, _>(&[[0.0, 0.0], [1.0, f64::NAN]], 1),
            Err(Error::NonFiniteData { index: 1 })
        );
    }
}
