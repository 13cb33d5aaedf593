//! How data points come in (borrowed, never copied into a buffer), and the
//! one pass that validates a data set and measures its scale.

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
/// variance, `s = (1/D) Σ_d var(x_d)`, the unit of
/// [`FitOptions::reg_covar`](crate::FitOptions::reg_covar).
///
/// The variance is computed in the same pass, shifted by the first point
/// (accurate unless the data sit far from the origin compared with their
/// spread, where a rough scale is all that is needed). When it is below
/// what `T` resolves at the data's magnitude (all points identical, or a
/// spread lost to rounding) the scale is the largest squared coordinate
/// instead, and 1 if the data are all zero, so a regularisation derived
/// from it is never 0.
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
    Ok(scan_weighted(data, None, needed)?.0)
}

/// A sample weight gaussmix accepts: 0, or finite and at least `T`'s
/// smallest normal number (a subnormal weight would make the weighted sums
/// lose their precision, and only the weights' ratios matter, so a data set
/// of tiny weights can be scaled up).
#[inline]
pub(crate) fn valid_weight<T: Real>(w: T) -> bool {
    w == T::zero() || (w >= T::MIN_NORMAL && w.is_finite())
}

/// [`scan`] with sample weights: the weights are checked first (finite,
/// non-negative, a finite total that is not 0, one per point); a point of
/// weight 0 is left out (not even checked), the others count with their
/// weight in the scale, as that many copies would. Returns the scale and
/// the total weight. Without weights every point has weight 1, and the
/// arithmetic is [`scan`]'s exactly (`x · 1 = x`).
///
/// # Errors
///
/// As for [`scan`], counting the points of positive weight, plus
/// [`Error::LengthMismatch`], [`Error::InvalidSampleWeight`] naming the
/// first bad weight (or where the total overflows) and
/// [`Error::ZeroTotalWeight`].
pub(crate) fn scan_weighted<T: Real, const D: usize, P: AsPoint<T, D>>(
    data: &[P],
    weights: Option<&[T]>,
    needed: usize,
) -> Result<(T, T), Error> {
    let needed = needed.max(1);
    let mut total = T::zero();
    let mut points = 0usize;
    if let Some(weights) = weights {
        if weights.len() != data.len() {
            return Err(Error::LengthMismatch {
                expected: data.len(),
                found: weights.len(),
            });
        }
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
    } else {
        total = T::from_count(data.len());
        points = data.len();
    }
    if points < needed {
        return Err(Error::TooFewPoints { points, needed });
    }
    let weight = |i: usize| weights.and_then(|w| w.get(i)).copied().unwrap_or(T::one());
    let mut scan = Scan::new();
    for (index, x) in data.iter().enumerate() {
        let w = weight(index);
        if w != T::zero() {
            scan.push(x, w, index)?;
        }
    }
    Ok((scan.finish(total)?, total))
}

/// The scale pass of [`scan_weighted`] a point at a time, so it can stop
/// and resume anywhere (the bounded-work fit): the same arithmetic in the
/// same order whatever the pieces.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Scan<T: Real, const D: usize> {
    /// The first point that counts, origin of the shifted sums.
    origin: Option<SVector<T, D>>,
    sum: SVector<T, D>,
    sum_sq: SVector<T, D>,
    largest: T,
}

impl<T: Real, const D: usize> Scan<T, D> {
    /// No points yet.
    pub(crate) fn new() -> Self {
        Self {
            origin: None,
            sum: SVector::zeros(),
            sum_sq: SVector::zeros(),
            largest: T::zero(),
        }
    }

    /// Adds point `index`, `x`, of weight `w > 0`.
    ///
    /// # Errors
    ///
    /// [`Error::NonFiniteData`] naming `index` (nothing added).
    #[inline]
    pub(crate) fn push<P: AsPoint<T, D>>(
        &mut self,
        x: &P,
        w: T,
        index: usize,
    ) -> Result<(), Error> {
        let x = checked(x, index)?;
        let origin = *self.origin.get_or_insert(x);
        let d = x - origin;
        self.sum += d * w;
        self.sum_sq += d.component_mul(&d) * w;
        for &c in x.iter() {
            self.largest = Real::max(self.largest, c.abs());
        }
        Ok(())
    }

    /// The scale of the points pushed, of total weight `n`.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroTotalWeight`] if no point was pushed,
    /// [`Error::DataOverflow`] if the scale overflows.
    pub(crate) fn finish(&self, n: T) -> Result<T, Error> {
        if self.origin.is_none() {
            return Err(Error::ZeroTotalWeight);
        }
        let (sum, sum_sq, largest) = (&self.sum, &self.sum_sq, self.largest);
        let mut variance_sum = T::zero();
        for i in 0..D {
            variance_sum += Real::max(sum_sq[i] - sum[i] * (sum[i] / n), T::zero()) / n;
        }
        let variance = variance_sum / T::from_count(D);
        // A spread below ε of the coordinates' size (subnormal, or lost to
        // rounding) is no scale: fall back to the coordinates' size.
        let resolution = T::EPS * largest;
        let scale = if variance > resolution * resolution {
            variance
        } else if largest > T::zero() {
            largest * largest
        } else {
            T::one()
        };
        if scale.is_finite() && sum_sq.iter().all(|&v| v.is_finite()) {
            Ok(scale)
        } else {
            Err(Error::DataOverflow)
        }
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
