//! How data points come in: borrowed, never copied into a buffer.

use nalgebra::{Point, SVector};

use crate::math::{self, Real};
use crate::Error;

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
    if v.iter().all(|&c| math::is_finite(c)) {
        Ok(v)
    } else {
        Err(Error::NonFiniteData { index })
    }
}

/// Checks a whole data set: at least `needed` points, all finite.
pub(crate) fn check_data<T: Real, const D: usize, P: AsPoint<T, D>>(
    data: &[P],
    needed: usize,
) -> Result<(), Error> {
    if data.len() < needed.max(1) {
        return Err(Error::TooFewPoints {
            points: data.len(),
            needed: needed.max(1),
        });
    }
    for (index, x) in data.iter().enumerate() {
        checked(x, index)?;
    }
    Ok(())
}
