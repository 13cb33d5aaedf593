//! One multivariate normal component: mean, covariance and the Cholesky
//! factors that make its density cheap.

use nalgebra::{SMatrix, SVector};
use rand_core::Rng;

use crate::math::{self, Real};
use crate::point::AsPoint;
use crate::sample::standard_normal_vector;
use crate::Error;

/// A `D`-dimensional normal distribution `N(μ, Σ)` with a full covariance.
///
/// Built only through [`Gaussian::new`], which validates its input, so every
/// value of this type has a finite mean and a symmetric covariance that is
/// positive definite to working precision: its Cholesky factorisation in
/// `T` has every pivot above `(D + 1) ε` of its diagonal entry, so it is
/// within the factorisation's backward error (about `2D(D+1) ε` of its
/// diagonal) of a positive-definite matrix. (Positive definiteness of the
/// stored numbers in exact arithmetic cannot be decided in `T`'s own
/// precision near singularity; the fuzz targets check this contract.) Alongside `Σ` it keeps the lower Cholesky factor `L`
/// (`Σ = L Lᵀ`), its inverse scaled by `1/√2` and the log-normaliser
/// `−(D/2) ln 2π − Σᵢ ln Lᵢᵢ`, so a log-density costs one triangular
/// matrix-vector product and no division, inverse or determinant (the
/// scaling folds the `½` into the factor):
///
/// ```text
/// ln N(x | μ, Σ) = −(D/2) ln 2π − Σᵢ ln Lᵢᵢ − ½ ‖L⁻¹ (x − μ)‖²
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gaussian<T: Real, const D: usize> {
    mean: SVector<T, D>,
    covariance: SMatrix<T, D, D>,
    chol: SMatrix<T, D, D>,
    // L⁻¹/√2, so that ‖(L⁻¹/√2) d‖² = ½‖L⁻¹ d‖².
    half_chol_inv: SMatrix<T, D, D>,
    log_norm: T,
}

impl<T: Real, const D: usize> Gaussian<T, D> {
    /// Validates a mean and a covariance and precomputes the factors.
    ///
    /// # Errors
    ///
    /// * [`Error::NonFiniteParameter`] if any entry is NaN or infinite;
    /// * [`Error::NotSymmetric`] if some `|Σᵢⱼ − Σⱼᵢ| > √ε · √(Σᵢᵢ Σⱼⱼ)`;
    /// * [`Error::NotPositiveDefinite`] if the Cholesky factorisation meets a
    ///   pivot that is not positive, or `L⁻¹` overflows.
    ///
    /// The component index in these errors is 0; [`Gmm::new`](crate::Gmm::new)
    /// reports the index of the offending component instead.
    ///
    /// # Example
    ///
    /// ```
    /// use gaussmix::Gaussian;
    /// use nalgebra::{matrix, vector};
    ///
    /// let g = Gaussian::new(vector![0.0, 0.0], matrix![1.0, 0.0; 0.0, 1.0])?;
    /// let p = g.log_density(&vector![0.0, 0.0])?;
    /// assert!((p + libm::log(2.0 * core::f64::consts::PI)).abs() < 1e-15);
    /// # Ok::<(), gaussmix::Error>(())
    /// ```
    pub fn new(mean: SVector<T, D>, covariance: SMatrix<T, D, D>) -> Result<Self, Error> {
        const { assert!(D > 0, "gaussmix: the dimension D must be at least 1") };
        Self::with_index(mean, covariance, 0)
    }

    /// [`Gaussian::new`] with `component` named in its errors.
    pub(crate) fn with_index(
        mean: SVector<T, D>,
        covariance: SMatrix<T, D, D>,
        component: usize,
    ) -> Result<Self, Error> {
        if !mean
            .iter()
            .chain(covariance.iter())
            .all(|&v| math::is_finite(v))
        {
            return Err(Error::NonFiniteParameter { component });
        }
        let tol = math::sqrt(math::eps::<T>());
        for j in 0..D {
            for i in j + 1..D {
                // √|Σᵢᵢ|·√|Σⱼⱼ|, not √|ΣᵢᵢΣⱼⱼ|: the product can overflow
                // or underflow where the result does not.
                let scale =
                    math::sqrt(covariance[(i, i)].abs()) * math::sqrt(covariance[(j, j)].abs());
                if (covariance[(i, j)] - covariance[(j, i)]).abs() > tol * scale {
                    return Err(Error::NotSymmetric { component });
                }
            }
        }
        Self::from_symmetric(mean, covariance, component)
    }

    /// Factorises a covariance already known to be symmetric (only its lower
    /// triangle is read); a non-finite covariance fails the factorisation.
    // Not inlined: it is called from the regularisation retry loops, which
    // the optimiser would otherwise unroll with a Cholesky in every copy
    // (648 B less flash for fit + sampling at opt-level 3 on a Cortex-M4F);
    // it runs K times per iteration, so the call costs nothing measurable.
    #[inline(never)]
    pub(crate) fn from_symmetric(
        mean: SVector<T, D>,
        covariance: SMatrix<T, D, D>,
        component: usize,
    ) -> Result<Self, Error> {
        if !mean.iter().all(|&v| math::is_finite(v)) {
            return Err(Error::NonFiniteParameter { component });
        }
        let not_pd = Error::NotPositiveDefinite { component };
        let chol = cholesky_lower(&covariance).ok_or(not_pd)?;
        let half_chol_inv =
            invert_lower(&chol).ok_or(not_pd)? * math::lit::<T>(core::f64::consts::FRAC_1_SQRT_2);
        let mut log_det_half = T::zero();
        for i in 0..D {
            log_det_half += math::ln(chol[(i, i)]);
        }
        let log_norm =
            -math::lit::<T>(0.5) * math::count::<T>(D) * math::ln_2pi::<T>() - log_det_half;
        if !math::is_finite(log_norm) {
            return Err(not_pd);
        }
        Ok(Self {
            mean,
            covariance,
            chol,
            half_chol_inv,
            log_norm,
        })
    }

    /// The standard normal `N(0, I)`; also fills arrays before they are
    /// overwritten.
    pub(crate) fn standard() -> Self {
        let identity = SMatrix::<T, D, D>::identity();
        Self {
            mean: SVector::zeros(),
            covariance: identity,
            chol: identity,
            half_chol_inv: identity * math::lit::<T>(core::f64::consts::FRAC_1_SQRT_2),
            log_norm: -math::lit::<T>(0.5) * math::count::<T>(D) * math::ln_2pi::<T>(),
        }
    }

    /// The mean `μ`.
    pub fn mean(&self) -> &SVector<T, D> {
        &self.mean
    }

    /// The covariance `Σ`, exactly as given or as computed by the M-step.
    pub fn covariance(&self) -> &SMatrix<T, D, D> {
        &self.covariance
    }

    /// The lower-triangular Cholesky factor `L` with `Σ = L Lᵀ`.
    pub fn cholesky(&self) -> &SMatrix<T, D, D> {
        &self.chol
    }

    /// `ln N(x | μ, Σ)`, the log of the density at `x`.
    ///
    /// Returns `−∞` when the squared Mahalanobis distance overflows `T`
    /// (the density underflows to zero); never NaN.
    ///
    /// # Errors
    ///
    /// [`Error::NonFiniteData`] if `x` has a NaN or infinite coordinate.
    pub fn log_density<P: AsPoint<T, D>>(&self, x: &P) -> Result<T, Error> {
        let x = crate::point::checked(x, 0)?;
        Ok(self.log_density_of_offset(&(x - self.mean)))
    }

    /// `ln N(μ + d | μ, Σ)` for an offset `d = x − μ`. `−∞` if `‖L⁻¹ d‖²` is
    /// not finite.
    #[inline]
    pub(crate) fn log_density_of_offset(&self, d: &SVector<T, D>) -> T {
        let q = self.half_mahalanobis_sq(d);
        if q <= math::max_finite() {
            self.log_norm - q
        } else {
            math::neg_infinity()
        }
    }

    /// `½ ‖L⁻¹ d‖²`, possibly `+∞` (or NaN after an overflow), which callers
    /// must treat as zero density.
    // Always inlined into the E-step's loop over components (the hot loop).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn half_mahalanobis_sq(&self, d: &SVector<T, D>) -> T {
        let p = &self.half_chol_inv;
        let mut q = T::zero();
        for i in 0..D {
            let mut z = T::zero();
            for j in 0..=i {
                z += p[(i, j)] * d[j];
            }
            q += z * z;
        }
        q
    }

    /// `−(D/2) ln 2π − Σᵢ ln Lᵢᵢ`.
    pub(crate) fn log_norm(&self) -> T {
        self.log_norm
    }

    /// Draws one point `μ + L z`, where `z` holds `D` independent standard
    /// normal variates from [`standard_normal_vector`](crate::sample::standard_normal_vector).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SVector<T, D> {
        let z = standard_normal_vector::<T, D, R>(rng);
        let mut x = self.mean;
        for i in 0..D {
            let mut s = T::zero();
            for j in 0..=i {
                s += self.chol[(i, j)] * z[j];
            }
            x[i] += s;
        }
        x
    }
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
    let tol = math::count::<T>(D + 1) * math::eps::<T>();
    let mut l = SMatrix::<T, D, D>::zeros();
    for i in 0..D {
        for j in 0..=i {
            let mut s = a[(i, j)];
            for k in 0..j {
                s -= l[(i, k)] * l[(j, k)];
            }
            if i == j {
                // `!(s > ·)` also rejects NaN.
                if !(s > tol * a[(i, i)]) || !(s > T::zero()) || !math::is_finite(s) {
                    return None;
                }
                l[(i, i)] = math::sqrt(s);
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
    inv.iter().all(|&v| math::is_finite(v)).then_some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{matrix, vector};

    const LN_2PI: f64 = 1.837_877_066_409_345_5;

    #[test]
    fn log_density_1d_matches_closed_form() {
        // ln N(x | m, s²) = −½ ln 2π − ln s − (x − m)² / (2 s²)
        for &(m, s, x) in &[
            (0.0, 1.0, 0.0),
            (1.5, 0.3, 2.0),
            (-4.0, 7.0, 30.0),
            (2.0, 1e-3, 2.01),
        ] {
            let g = Gaussian::new(vector![m], matrix![s * s]).unwrap();
            let want = -0.5 * LN_2PI - libm::log(s) - (x - m) * (x - m) / (2.0 * s * s);
            let got = g.log_density(&[x]).unwrap();
            assert!(
                (got - want).abs() <= 1e-13 * want.abs().max(1.0),
                "{got} vs {want}"
            );
        }
    }

    #[test]
    fn log_density_2d_matches_closed_form() {
        // Bivariate normal with standard deviations sx, sy and correlation rho:
        // ln p = −ln 2π − ln(sx sy √(1−ρ²)) − Q / (2(1−ρ²)),
        // Q = u² − 2ρuv + v², u = (x−mx)/sx, v = (y−my)/sy.
        let (mx, my, sx, sy, rho) = (1.0, -2.0, 2.0, 0.5, 0.6);
        let c = rho * sx * sy;
        let g = Gaussian::new(vector![mx, my], matrix![sx * sx, c; c, sy * sy]).unwrap();
        for &(x, y) in &[(1.0, -2.0), (3.0, -1.0), (-5.0, 4.0), (1.2, -2.9)] {
            let (u, v) = ((x - mx) / sx, (y - my) / sy);
            let q = u * u - 2.0 * rho * u * v + v * v;
            let one_m = 1.0 - rho * rho;
            let want = -LN_2PI - libm::log(sx * sy * libm::sqrt(one_m)) - q / (2.0 * one_m);
            let got = g.log_density(&vector![x, y]).unwrap();
            assert!(
                (got - want).abs() <= 1e-13 * want.abs().max(1.0),
                "{got} vs {want}"
            );
        }
    }

    #[test]
    fn log_density_2d_f32_matches_f64() {
        let g32 = Gaussian::new(vector![1.0f32, -2.0], matrix![4.0f32, 0.6; 0.6, 0.25]).unwrap();
        let g64 = Gaussian::new(vector![1.0f64, -2.0], matrix![4.0f64, 0.6; 0.6, 0.25]).unwrap();
        let a = f64::from(g32.log_density(&[3.0f32, -1.0]).unwrap());
        let b = g64.log_density(&[3.0f64, -1.0]).unwrap();
        assert!((a - b).abs() < 1e-5 * b.abs(), "{a} vs {b}");
    }

    #[test]
    fn factors_reproduce_the_covariance() {
        let cov = matrix![4.0, 1.0, 0.5; 1.0, 3.0, -0.2; 0.5, -0.2, 2.0];
        let g = Gaussian::new(vector![0.0, 0.0, 0.0], cov).unwrap();
        let l = g.cholesky();
        assert!((l * l.transpose() - cov).abs().max() < 1e-14);
        assert!(
            (l * g.half_chol_inv * core::f64::consts::SQRT_2 - SMatrix::<f64, 3, 3>::identity())
                .abs()
                .max()
                < 1e-14
        );
        assert_eq!(l[(0, 1)], 0.0);
    }

    #[test]
    fn rejects_invalid_covariances() {
        let m = vector![0.0, 0.0];
        assert_eq!(
            Gaussian::new(m, matrix![1.0, 0.5; 0.4, 1.0]),
            Err(Error::NotSymmetric { component: 0 })
        );
        assert_eq!(
            Gaussian::new(m, matrix![1.0, 2.0; 2.0, 1.0]),
            Err(Error::NotPositiveDefinite { component: 0 })
        );
        assert_eq!(
            Gaussian::new(m, matrix![1.0, 1.0; 1.0, 1.0]),
            Err(Error::NotPositiveDefinite { component: 0 })
        );
        assert_eq!(
            Gaussian::new(m, matrix![f64::NAN, 0.0; 0.0, 1.0]),
            Err(Error::NonFiniteParameter { component: 0 })
        );
        assert_eq!(
            Gaussian::new(vector![f64::INFINITY, 0.0], matrix![1.0, 0.0; 0.0, 1.0]),
            Err(Error::NonFiniteParameter { component: 0 })
        );
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
    fn far_point_has_minus_infinite_log_density_not_nan() {
        let g = Gaussian::new(vector![0.0f32], matrix![1e-30f32]).unwrap();
        let p = g.log_density(&[1e30f32]).unwrap();
        assert_eq!(p, f32::NEG_INFINITY);
        assert_eq!(
            g.log_density(&[f32::NAN]),
            Err(Error::NonFiniteData { index: 0 })
        );
    }
}
