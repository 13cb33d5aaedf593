//! Restarts: the best of several fits, each from a start drawn with the
//! caller's RNG.

use core::num::NonZeroUsize;

use rand_core::Rng;

use super::{FitOptions, FitReport};
use crate::covariance::CovarianceKind;
use crate::data::AsPoint;
use crate::error::Error;
use crate::mixture::Gmm;
use crate::real::Real;

/// Fits `restarts` times, each from a start that `init` draws from `data`
/// with `rng` (an initialiser of [`init`](crate::init), or any function
/// of that shape), and returns the report whose final log-likelihood is
/// the highest (the earliest on a tie), as scikit-learn's `n_init` does.
///
/// The starts are drawn one after the other, each just before its fit, so
/// the result depends only on `rng`'s state: the same state gives the same
/// report. With one restart it is exactly `init(data, rng)` followed by
/// [`Gmm::fit`]. Nothing is allocated: two reports are held at a time, the
/// best so far and the latest. Time: `restarts` initialisations and fits.
///
/// # Errors
///
/// The first error of an initialisation or a fit, in order; the starts
/// after it are not drawn. (Every fit runs on the same data with the same
/// options, so a data or option error is found by the first.)
///
/// # Example
///
/// ```
/// # struct Lcg(u64);
/// # impl rand_core::TryRng for Lcg {
/// #     type Error = core::convert::Infallible;
/// #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok((self.try_next_u64()? >> 32) as u32) }
/// #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
/// #         self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
/// #         Ok(self.0)
/// #     }
/// #     fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Self::Error> { unimplemented!() }
/// # }
/// use core::num::NonZeroUsize;
/// use gaussmix::{fit_restarts, init, FitOptions, FitReport};
///
/// let data = [[0.0, 0.1], [0.2, -0.1], [-0.1, 0.0], [5.0, 5.1], [5.2, 4.9], [4.9, 5.0]];
/// let five = NonZeroUsize::new(5).unwrap();
/// let best: FitReport<f64, 2, 2> =
///     fit_restarts(&data, five, &mut Lcg(7), init::random_points, &FitOptions::default())?;
/// assert!(best.converged());
/// # Ok::<(), gaussmix::Error>(())
/// ```
pub fn fit_restarts<T, const D: usize, const K: usize, C, P, R, I>(
    data: &[P],
    restarts: NonZeroUsize,
    rng: &mut R,
    mut init: I,
    options: &FitOptions<T>,
) -> Result<FitReport<T, D, K, C>, Error>
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
    R: Rng + ?Sized,
    I: FnMut(&[P], &mut R) -> Result<Gmm<T, D, K, C>, Error>,
{
    let mut best = init(data, rng)?.fit(data, options)?;
    for _ in 1..restarts.get() {
        let report = init(data, rng)?.fit(data, options)?;
        if report.log_likelihood > best.log_likelihood {
            best = report;
        }
    }
    Ok(best)
}
