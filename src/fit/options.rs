//! How a fit runs: configuration, apart from the model and the results.

use crate::error::Error;
use crate::mstep::Frozen;
use crate::real::Real;

/// How a fit runs. Build with [`FitOptions::default`] and the `with_*`
/// methods:
///
/// ```
/// let options = gaussmix::FitOptions::<f32>::default()
///     .with_max_iter(50)
///     .with_tol(1e-4);
/// assert_eq!(options.max_iter, 50);
/// ```
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default)
)]
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct FitOptions<T: Real> {
    /// The most EM iterations (M-steps) to run; 0 returns the initial model
    /// with its log-likelihood. Default 100.
    pub max_iter: usize,
    /// Convergence tolerance on the *mean* log-likelihood per point (so it
    /// does not scale with the number of points): the fit stops once an
    /// iteration changes it by less than `tol` in either direction (see
    /// [`Termination`](crate::Termination)); `0` runs `max_iter` iterations.
    /// Finite and ≥ 0. Default `1e-3`, as in scikit-learn.
    pub tol: T,
    /// Covariance regularisation, *relative to the data's scale*: the
    /// M-step adds `λ = reg_covar · s` to the diagonal of every covariance
    /// (variance), where `s` is the data's mean per-coordinate variance
    /// (`(1/D) Σ_d var(x_d)`; for data whose points are all identical, the
    /// largest squared coordinate). Each M-step measures `s` from the
    /// statistics it reads ([`SufficientStats::scale`](crate::SufficientStats::scale)),
    /// so no pass over the data is spent on it. Finite and ≥ 0; 0 gives the
    /// plain maximum-likelihood update.
    ///
    /// `λ` is at least `T`'s smallest normal number. A covariance that does
    /// not factorise with it (singular, or lost to rounding) gets at least
    /// `4(D+1)ε` times its largest variance, what `T` resolves, and ten
    /// times the request; then tenfold twice more, so at most
    /// `10³ · max(λ, 4(D+1)ε · largest variance)`. The report gives the
    /// `λ` of the last M-step
    /// ([`FitReport::effective_reg_covar`](crate::FitReport::effective_reg_covar)).
    ///
    /// **Default `1e-12`**, for a reason on each side. It must not distort
    /// real clusters: a cluster whose spread is `10⁻⁴` of the data's has a
    /// variance `10⁻⁸` of `s`, so the default widens it by 0.01 %
    /// (scikit-learn's absolute `1e-6` is `10⁻⁶ s` for unit-variance data,
    /// which would widen it by 100 %). And it must keep degenerate data
    /// (points on a line, a plane, one repeated point) positive definite:
    /// the resolution floor does that for a thin component with any spread
    /// at all, and `10⁻¹² s` for a component on one repeated point, where
    /// the floor is 0. Being relative, it means the same at every scale
    /// (data in kilometres or millimetres get the same fit). In `f32`,
    /// `10⁻¹² s` is below the rounding of ordinary variances, so it acts
    /// only where a covariance would otherwise not factorise.
    pub reg_covar: T,
    /// Parameters held fixed: none by default. Frozen values do not move by
    /// a bit; the others are estimated given them (with frozen means, the
    /// covariances are scatters about them), so the likelihood still never
    /// falls at `reg_covar = 0`. Frozen covariances are not regularised.
    pub frozen: Frozen,
}

impl<T: Real> Default for FitOptions<T> {
    fn default() -> Self {
        Self {
            max_iter: 100,
            tol: T::lit(1e-3),
            reg_covar: T::DEFAULT_REG_COVAR,
            frozen: Frozen::NONE,
        }
    }
}

impl<T: Real> FitOptions<T> {
    /// Sets [`max_iter`](Self::max_iter).
    #[must_use]
    pub fn with_max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Sets [`tol`](Self::tol).
    #[must_use]
    pub fn with_tol(mut self, tol: T) -> Self {
        self.tol = tol;
        self
    }

    /// Sets [`reg_covar`](Self::reg_covar).
    #[must_use]
    pub fn with_reg_covar(mut self, reg_covar: T) -> Self {
        self.reg_covar = reg_covar;
        self
    }

    /// Sets [`frozen`](Self::frozen).
    ///
    /// ```
    /// use gaussmix::{FitOptions, Frozen};
    /// let options = FitOptions::<f64>::default().with_frozen(Frozen::NONE.with_means());
    /// assert!(options.frozen.means);
    /// ```
    #[must_use]
    pub fn with_frozen(mut self, frozen: Frozen) -> Self {
        self.frozen = frozen;
        self
    }

    /// Checks every option.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] naming `tol` or `reg_covar` if it is
    /// negative, NaN or infinite.
    pub fn validate(&self) -> Result<(), Error> {
        if !(self.tol >= T::zero()) || !self.tol.is_finite() {
            return Err(Error::InvalidOption { option: "tol" });
        }
        if !(self.reg_covar >= T::zero()) || !self.reg_covar.is_finite() {
            return Err(Error::InvalidOption {
                option: "reg_covar",
            });
        }
        Ok(())
    }
}
