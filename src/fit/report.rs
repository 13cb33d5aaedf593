//! What a fit and an EM step give back, and what the callback sees.

use crate::covariance::{CovarianceKind, Full};
use crate::mixture::Gmm;
use crate::real::Real;

/// What the callback of [`fit`](crate::fit) sees after each E pass: one
/// entry of the seed notebook's log-likelihood trace.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Iteration<T: Real> {
    /// M-steps done so far: 0 for the initial model, then 1, 2, …
    pub iteration: usize,
    /// Total log-likelihood `Σᵢ ln p(xᵢ)` of the current model; `−∞` if it
    /// overflows `T` (only for a start astronomically far from the data),
    /// and with [`fit_weighted`](crate::fit_weighted) and weights near
    /// `T`'s largest value possibly `+∞` or NaN (the fit then ends in
    /// [`Error::LikelihoodOverflow`](crate::Error::LikelihoodOverflow)).
    pub log_likelihood: T,
    /// `log_likelihood / N`.
    pub mean_log_likelihood: T,
}

/// Why a fit stopped.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Termination {
    /// The last iteration raised the mean log-likelihood `ℓ̄` by less than
    /// `tol`, and lowered it by no more than rounding (`√ε (|ℓ̄| + 1)`).
    Converged,
    /// `max_iter` iterations ran without converging.
    MaxIterations,
    /// The callback returned [`ControlFlow::Break`](core::ops::ControlFlow::Break).
    Stopped,
}

/// The outcome of [`fit`](crate::fit): the model and how it was reached.
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(
        serialize = "T: serde::Serialize",
        deserialize = "T: serde::Deserialize<'de>"
    ))
)]
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct FitReport<T: Real, const D: usize, const K: usize, C: CovarianceKind = Full> {
    /// The fitted model.
    pub model: Gmm<T, D, K, C>,
    /// EM iterations (M-steps) run.
    pub iterations: usize,
    /// Why the fit stopped.
    pub termination: Termination,
    /// Total log-likelihood of the data under [`model`](Self::model).
    pub log_likelihood: T,
    /// Mean log-likelihood per point under [`model`](Self::model).
    pub mean_log_likelihood: T,
    /// The regularisation the M-step that produced `model` added to a
    /// covariance's diagonal (the largest over components; absolute, in
    /// squared data units): [`FitOptions::reg_covar`](crate::FitOptions::reg_covar)
    /// times the data's scale, or more where the resolution floor or a
    /// failed factorisation raised it. 0 if no M-step ran.
    pub effective_reg_covar: T,
    /// Iterations that lowered the mean log-likelihood `ℓ̄` by more than
    /// rounding (`√ε (|ℓ̄| + 1)`). 0 for plain EM (`reg_covar = 0`) unless a
    /// covariance is singular at `T`'s resolution (positive definite only to
    /// rounding: its likelihood is then rounding noise); regularised EM
    /// maximises a penalised objective, not the likelihood, and can lower
    /// it, typically from a start that fits tighter than the regularisation
    /// allows.
    pub decreases: usize,
}

impl<T: Real, const D: usize, const K: usize, C: CovarianceKind> FitReport<T, D, K, C> {
    /// `true` if the fit met its tolerance.
    pub fn converged(&self) -> bool {
        self.termination == Termination::Converged
    }
}

/// The outcome of a fit in place: [`FitReport`] without the model.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct FitSummary<T: Real> {
    /// EM iterations (M-steps) run.
    pub iterations: usize,
    /// Why the fit stopped.
    pub termination: Termination,
    /// Total log-likelihood of the data under the fitted model.
    pub log_likelihood: T,
    /// Mean log-likelihood per point under the fitted model.
    pub mean_log_likelihood: T,
    /// As [`FitReport::effective_reg_covar`].
    pub effective_reg_covar: T,
    /// As [`FitReport::decreases`].
    pub decreases: usize,
}

impl<T: Real> FitSummary<T> {
    /// `true` if the fit met its tolerance.
    pub fn converged(&self) -> bool {
        self.termination == Termination::Converged
    }

    /// The report of the fit that ended with `model`.
    pub(crate) fn with_model<const D: usize, const K: usize, C: CovarianceKind>(
        self,
        model: Gmm<T, D, K, C>,
    ) -> FitReport<T, D, K, C> {
        FitReport {
            model,
            iterations: self.iterations,
            termination: self.termination,
            log_likelihood: self.log_likelihood,
            mean_log_likelihood: self.mean_log_likelihood,
            effective_reg_covar: self.effective_reg_covar,
            decreases: self.decreases,
        }
    }
}

/// The outcome of one [`em_step`](crate::em_step).
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(
        serialize = "T: serde::Serialize",
        deserialize = "T: serde::Deserialize<'de>"
    ))
)]
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct EmStep<T: Real, const D: usize, const K: usize, C: CovarianceKind = Full> {
    /// The model after the M-step.
    pub model: Gmm<T, D, K, C>,
    /// Total log-likelihood of the data under the model the step started
    /// from (the E pass's by-product).
    pub log_likelihood: T,
    /// The regularisation the M-step added, as
    /// [`FitReport::effective_reg_covar`].
    pub effective_reg_covar: T,
}
