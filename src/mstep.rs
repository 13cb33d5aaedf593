//! The M-step: new parameters from sufficient statistics.
//!
//! ```text
//! wₖ = Nₖ / Σⱼ Nⱼ
//! μₖ = cₖ + δₖ,                 δₖ = S1ₖ / Nₖ
//! Σₖ = S2ₖ / Nₖ − δₖ δₖᵀ + λ I    (per kind: its diagonal, the mean of
//!                                 its diagonal, or pooled over k)
//! ```
//!
//! **Regularisation.** `λ` comes from one rule (`linalg::lift`): the
//! absolute `reg` asked for (at least `T`'s smallest normal number); if the
//! covariance then fails to factorise, at least `4(D+1)ε` times its largest
//! variance (below that a lift is lost to rounding) and ten times `reg`,
//! then tenfold twice more: `λ ≤ 10³ · max(reg, 4(D+1)ε · largest
//! variance)`, else [`Error::NotPositiveDefinite`]. The `λ` added is
//! returned, and a fit
//! reports the largest of the last M-step in
//! [`FitReport::effective_reg_covar`](crate::FitReport::effective_reg_covar).
//! `reg = 0` adds nothing: the plain maximum-likelihood update, which fails
//! with [`Error::NotPositiveDefinite`] for a component on fewer than
//! `D + 1` points.
//!
//! **A component that explains nothing.** A component whose soft count is
//! at most `ε · Σⱼ Nⱼ` (less than the rounding of the data's total) cannot
//! be estimated: it keeps its mean and covariance and gets weight
//! `Nₖ / Σⱼ Nⱼ`, usually 0. This is still a valid (generalised) EM step, so
//! the log-likelihood does not decrease; it needs no RNG and no error path,
//! and leaves the decision to re-seed it to the caller, who sees the zero
//! weight. (Re-seeding inside the fit would break monotonicity and
//! reproducibility.) For tied covariance its share is left out of the pool
//! (to rounding: its points' scatter about their own weighted mean, at most
//! `ε` of the data's, stays in).
//!
//! **Frozen parameters** ([`Frozen`]). Held weights, means or covariances
//! are kept bit for bit, and the free ones take their maximising values
//! given them, so the step is still a (generalised) EM step and the
//! likelihood does not decrease at `reg = 0`. With frozen means `μₖ` the
//! covariance is the scatter about them, not about the new weighted mean:
//! `S2ₖ/Nₖ − δₖδₖᵀ + (δₖ − eₖ)(δₖ − eₖ)ᵀ` with `eₖ = μₖ − cₖ` (the second
//! term is what the frozen mean is off the data's weighted mean).

use crate::covariance::{CovarianceKind, Moments1};
use crate::error::Error;
use crate::mixture::Gmm;
use crate::real::Real;
use crate::stats::SufficientStats;

/// Which parameters an M-step (and so a fit, through
/// [`FitOptions::frozen`](crate::FitOptions::frozen)) holds fixed: none by
/// default. Frozen values do not move by a bit; the others are estimated
/// given them (see the [M-step](crate::SufficientStats::m_step_frozen)).
///
/// ```
/// let hold = gaussmix::Frozen::NONE.with_means().with_covariances();
/// assert!(hold.means && hold.covariances && !hold.weights);
/// ```
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Frozen {
    /// The mixture weights stay as they are.
    pub weights: bool,
    /// The means stay as they are; covariances are then scatters about them.
    pub means: bool,
    /// The covariances stay as they are.
    pub covariances: bool,
}

impl Frozen {
    /// Nothing frozen: the plain M-step.
    pub const NONE: Self = Self {
        weights: false,
        means: false,
        covariances: false,
    };

    /// Also hold the weights.
    #[must_use]
    pub const fn with_weights(mut self) -> Self {
        self.weights = true;
        self
    }

    /// Also hold the means.
    #[must_use]
    pub const fn with_means(mut self) -> Self {
        self.means = true;
        self
    }

    /// Also hold the covariances.
    #[must_use]
    pub const fn with_covariances(mut self) -> Self {
        self.covariances = true;
        self
    }
}

impl<T: Real, const D: usize, const K: usize, C: CovarianceKind> SufficientStats<T, D, K, C> {
    /// The M-step: the parameters that maximise the expected complete-data
    /// log-likelihood given these statistics (the formulas, the regularisation and the policy for a component
    /// that explains none of the data are in the
    /// [crate documentation](crate#numerics)).
    ///
    /// `reg` is the absolute regularisation added to the covariances'
    /// diagonals (raised to `T`'s resolution and, while the factorisation
    /// fails, tenfold at most three times); [`fit`](crate::fit) passes
    /// [`FitOptions::reg_covar`](crate::FitOptions::reg_covar) times these
    /// statistics' [`scale`](Self::scale). `0` gives the plain
    /// maximum-likelihood update.
    ///
    /// # Errors
    ///
    /// * [`Error::MismatchedStatistics`] if `model` is not the model these
    ///   statistics were accumulated against;
    /// * [`Error::NeedsRecentring`] if [`needs_recentring`](Self::needs_recentring);
    /// * [`Error::TooFewPoints`] if nothing was accumulated;
    /// * [`Error::InvalidOption`] naming `reg_covar` if `reg` is negative or
    ///   not finite;
    /// * [`Error::NotPositiveDefinite`] naming a component whose new
    ///   covariance is singular (its points span fewer than `D` dimensions)
    ///   and `reg` is too small to fix it;
    /// * [`Error::NonFiniteParameter`] naming a component whose new mean
    ///   overflows `T`;
    /// * [`Error::MomentOverflow`] if the soft counts' total overflows `T`
    ///   (sample weights near its limit).
    pub fn m_step(&self, model: &Gmm<T, D, K, C>, reg: T) -> Result<Gmm<T, D, K, C>, Error> {
        self.m_step_frozen(model, reg, Frozen::NONE)
    }

    /// [`m_step`](Self::m_step) holding the parameters `frozen` names
    /// fixed (bit for bit) and estimating the others given them (see the
    /// [crate documentation](crate#numerics) and [`Frozen`]).
    ///
    /// # Errors
    ///
    /// As for [`m_step`](Self::m_step), and [`Error::MomentOverflow`] if
    /// the means are frozen and a component's scatter about its frozen mean
    /// overflows `T` (its points are too far from it).
    pub fn m_step_frozen(
        &self,
        model: &Gmm<T, D, K, C>,
        reg: T,
        frozen: Frozen,
    ) -> Result<Gmm<T, D, K, C>, Error> {
        self.check(model)?;
        // Soft counts (or their total) past `T`'s range, from sample
        // weights near its limit or merged statistics: the weights `Nₖ/N`
        // would be NaN or all 0. (Every count is at most the total.) Only
        // statistics accumulated by hand get here: a fit's own passes check
        // their weights' total first, and online EM its sums.
        if !(self.counts().sum() <= T::MAX_FINITE) {
            return Err(Error::MomentOverflow);
        }
        let mut next = *model;
        m_step(self, &mut next, reg, frozen, false)?;
        Ok(next)
    }
}

/// The M-step from `stats`, accumulated under `model` (the caller has
/// checked that), regularised by the absolute `reg`, overwriting `model`
/// (one model less on the stack, which a fit on a microcontroller wants);
/// returns the largest `λ` added to a covariance's diagonal. The checks come
/// first; an error after them (an overflowing mean, a covariance the lift
/// cannot rescue) leaves `model` partly updated, but valid: every parameter
/// finite (a mean or factor is stored only once it has passed its check),
/// the cached constants right.
///
/// `settled`: the caller has settled the test for cancellation
/// ([`SufficientStats::needs_recentring`]), which is then skipped here:
/// a fit (and [`ResumableFit`](crate::ResumableFit)) makes recentred
/// passes until the test fails, just before its M-step (the test again
/// here put a second copy of it into the fit's M-step: fit + inference on
/// a Cortex-M4F took 428 bytes more at opt-level 3 and 28 more at `"s"`,
/// `bash tests/embedded/figures.sh`); online EM, which has no second
/// pass, recentres its statistics in place on the means this step gives.
/// Their offsets from those means are then rounding residue, and a
/// covariance that still cancels is a spread below the rounding of that
/// move, which no pass of online EM could measure better: the lift's
/// regularisation decides it, as for a component that collapsed onto one
/// point. `false` ([`SufficientStats::m_step`]): tested here.
///
/// # Errors
///
/// See [`SufficientStats::m_step`].
pub(crate) fn m_step<T: Real, const D: usize, const K: usize, C: CovarianceKind>(
    stats: &SufficientStats<T, D, K, C>,
    model: &mut Gmm<T, D, K, C>,
    reg: T,
    frozen: Frozen,
    settled: bool,
) -> Result<T, Error> {
    if !(reg >= T::zero()) || !reg.is_finite() {
        return Err(Error::InvalidOption {
            option: "reg_covar",
        });
    }
    let m = stats.first_order();
    if stats.points() == 0 || !(m.total > T::zero()) {
        return Err(Error::TooFewPoints {
            points: 0,
            needed: 1,
        });
    }
    // `needs_recentring` on the moments at hand (not another copy of
    // them on the stack).
    if !settled && C::needs_recentring(stats.second(), &m) {
        return Err(Error::NeedsRecentring);
    }
    if frozen.means {
        // A frozen mean so far from its points that the scatter about it
        // overflows: an overflow, not a covariance that fails to factorise.
        // Entry by entry, as the covariances keep them (a sum over the
        // coordinates may overflow where every entry does not).
        let m = Moments1 {
            frozen_means: Some(model.kernel().means),
            ..m
        };
        let overflows = |k: usize| {
            m.excess(k)
                .is_some_and(|x| !x.iter().all(|v| (*v * *v).is_finite()))
        };
        if (0..K).any(|k| m.live[k] && overflows(k)) {
            return Err(Error::MomentOverflow);
        }
    }
    model.update(|weights, means, params| {
        if !frozen.means {
            for (k, mean) in means.iter_mut().enumerate() {
                if m.live[k] {
                    // Checked before it is stored: a model left by an
                    // error (`fit_in_place` leaves the caller's) holds no
                    // infinite mean.
                    let next = stats.shift()[k] + m.delta(k);
                    if !next.iter().all(|&v| v.is_finite()) {
                        return Err(Error::NonFiniteParameter { component: k });
                    }
                    *mean = next;
                }
            }
        }
        let lambda = if frozen.covariances {
            T::zero()
        } else {
            // Frozen means are the model's, which the closure has left as
            // they were.
            let m = Moments1 {
                frozen_means: frozen.means.then_some(&*means),
                ..m
            };
            C::m_step(stats.second(), &m, reg, params)?
        };
        if !frozen.weights {
            *weights = m.counts / m.total;
        }
        Ok(lambda)
    })
}
