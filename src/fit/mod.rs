//! The EM loop: options, the batch fit, one step, and the per-iteration
//! callback.

use core::ops::ControlFlow;

use nalgebra::SVector;

mod options;
#[cfg(feature = "std")]
mod parallel;
mod report;
mod restarts;
mod resumable;

pub use options::FitOptions;
#[cfg(feature = "std")]
pub use parallel::{fit_parallel, SHARD};
pub use report::{EmStep, FitReport, FitSummary, Iteration, Termination};
pub use restarts::fit_restarts;
pub use resumable::{Phase, Position, Progress, ResumableFit};

use crate::covariance::CovarianceKind;
use crate::data::{total_weight, AsPoint};
use crate::error::Error;
use crate::estep::{Weights, BLOCK};
use crate::mixture::{finite_likelihood, Gmm};
use crate::mstep::{self, Frozen};
use crate::real::Real;
use crate::stats::SufficientStats;

/// The most recentred passes one M-step may make before giving up with
/// [`Error::MomentOverflow`]. Each pass shrinks the distance between the
/// shift and the new mean by a factor of about `(128 + N/128) ε`; a start
/// `10³⁰⁰` standard deviations away needs about 22 in `f64`.
const MAX_RECENTRED_PASSES: usize = 64;

/// Fits a mixture to `data` by Expectation–Maximization, starting from
/// `init`, calling `callback` after every pass.
///
/// Each iteration is one pass over the data: for each point the E-step
/// (responsibilities by log-sum-exp, see [`Gmm::responsibilities`]) feeds
/// [`SufficientStats`], and the M-step ([`SufficientStats::m_step`]) reads
/// only them. The same pass yields the log-likelihood of the model it ran
/// under, so the fit makes `iterations + 1` passes in all, the last one
/// scoring the returned model. An iteration in which a mean jumps by more
/// than about four standard deviations (typically the first few from a
/// rough start) makes more passes, recentred on the new means, until the
/// covariances keep full precision (see
/// [`SufficientStats::needs_recentring`]): one usually, more only from a
/// start astronomically far from the data. Nothing is allocated; memory is
/// `O(K·D²)` whatever `N` is, and each pass costs `O(N·K·D²)` (full, tied)
/// or `O(N·K·D)` (diagonal, spherical) plus `O(K·D³)`.
///
/// `callback` is called after every pass with the iteration number and the
/// log-likelihood (the seed's trace), the initial model's first; returning
/// [`ControlFlow::Break`] stops the fit with the model just scored.
/// [`Gmm::fit`] is this without a callback.
///
/// The fit stops when an iteration raises the mean log-likelihood `ℓ̄` by
/// less than [`FitOptions::tol`] and lowers it by no more than rounding,
/// `√ε (|ℓ̄| + 1)` ([`Termination::Converged`]), or after
/// [`FitOptions::max_iter`] iterations. A larger fall is never taken for
/// convergence: plain EM cannot fall, but regularised EM can (it does not
/// maximise the likelihood), so the fit counts the fall in
/// [`FitReport::decreases`] and goes on to the regularised fixed point.
///
/// # Errors
///
/// * [`Error::InvalidOption`] for a bad option;
/// * [`Error::TooFewPoints`] for fewer points than components (or none);
/// * [`Error::NonFiniteData`] naming the first point with a NaN or
///   infinity, or [`Error::ZeroDensity`] naming the first point whose
///   density underflows under every component, whichever comes first: the
///   first pass checks the points as it reads them, before any M-step;
/// * [`Error::DataOverflow`] if the data's spread (the
///   [scale](SufficientStats::scale) that `reg_covar` is relative to,
///   measured by each M-step when `reg_covar > 0`) overflows `T`. Data
///   that wide usually fail sooner, in the first pass: with
///   [`Error::ZeroDensity`], or [`Error::MomentOverflow`] below;
/// * [`Error::LikelihoodOverflow`] if the total log-likelihood of the
///   model to be returned overflows `T` (the callback may see `−∞` for a
///   start astronomically far from the data, and the fit goes on);
/// * [`Error::MomentOverflow`] if the moments of a pass cannot be
///   represented even after recentring;
/// * [`Error::NotPositiveDefinite`] if a component collapses onto a
///   subspace that `reg_covar` does not lift (with `reg_covar = 0`, a
///   component on fewer than `D + 1` points);
/// * [`Error::NonFiniteParameter`] naming a component whose new mean
///   overflows `T` (data and parameters near the limits of `T`).
///
/// # Example
///
/// ```
/// use core::ops::ControlFlow;
/// use gaussmix::{fit, FitOptions, Gmm};
/// use nalgebra::{matrix, vector};
///
/// let data = [[0.0, 0.1], [0.2, -0.1], [-0.1, 0.0], [5.0, 5.1], [5.2, 4.9], [4.9, 5.0]];
/// let init = Gmm::<f64, 2, 2>::new(
///     [0.5, 0.5],
///     [vector![1.0, 1.0], vector![4.0, 4.0]],
///     [matrix![1.0, 0.0; 0.0, 1.0]; 2],
/// )?;
/// let mut trace = [0.0; 8];
/// let report = fit(&data, init, &FitOptions::default(), |it| {
///     if let Some(slot) = trace.get_mut(it.iteration) {
///         *slot = it.log_likelihood;
///     }
///     ControlFlow::Continue(())
/// })?;
/// assert!(report.converged());
/// assert!((report.model.weights()[0] - 0.5).abs() < 1e-9);
/// assert!(trace[1] > trace[0]);
/// # Ok::<(), gaussmix::Error>(())
/// ```
pub fn fit<T, const D: usize, const K: usize, C, P, F>(
    data: &[P],
    init: Gmm<T, D, K, C>,
    options: &FitOptions<T>,
    callback: F,
) -> Result<FitReport<T, D, K, C>, Error>
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
    F: FnMut(&Iteration<T>) -> ControlFlow<()>,
{
    checked_run(data, (), init, options, callback, None)
}

/// [`fit`] of the model `model` holds, in place: on success `model` is the
/// fitted model, and the summary is [`FitReport`] without it.
///
/// The model is never copied: it can live in a `static` or in the caller's
/// frame, and the fit's own stack holds only the statistics of a pass and
/// the M-step's working values. [`fit`]'s stack is the same (on a
/// Cortex-M4F at D = 2, K = 3 in `f32` with full covariance, 652 bytes
/// against 660 for [`fit`]: `tests/embedded/figures.sh`, which
/// `.ci/embedded.sh` runs), but its caller holds two models, the start and
/// the report's, where with `fit_in_place` it holds one.
///
/// # Errors
///
/// As for [`fit`]. On an error `model` is a valid mixture (its cached
/// constants agree with its parameters, every parameter finite), but which
/// one is unspecified: the start, an iterate, or, after an error in the
/// M-step, the last iterate with some components already updated. Keep a
/// copy of the start if a failed fit must be retried from it.
pub fn fit_in_place<T, const D: usize, const K: usize, C, P, F>(
    data: &[P],
    model: &mut Gmm<T, D, K, C>,
    options: &FitOptions<T>,
    callback: F,
) -> Result<FitSummary<T>, Error>
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
    F: FnMut(&Iteration<T>) -> ControlFlow<()>,
{
    checked_run_in_place(data, (), model, options, callback, None)
}

/// [`fit`], also writing the responsibilities of every point under the
/// returned model into `responsibilities` (one `SVector<T, K>` per point,
/// in data order).
///
/// # Errors
///
/// As for [`fit`], plus [`Error::LengthMismatch`] if `responsibilities`
/// does not have exactly one slot per point. On an error the buffer's
/// contents are unspecified.
pub fn fit_with_responsibilities<T, const D: usize, const K: usize, C, P, F>(
    data: &[P],
    init: Gmm<T, D, K, C>,
    options: &FitOptions<T>,
    responsibilities: &mut [SVector<T, K>],
    callback: F,
) -> Result<FitReport<T, D, K, C>, Error>
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
    F: FnMut(&Iteration<T>) -> ControlFlow<()>,
{
    if responsibilities.len() != data.len() {
        return Err(Error::LengthMismatch {
            expected: data.len(),
            found: responsibilities.len(),
        });
    }
    checked_run(data, (), init, options, callback, Some(responsibilities))
}

/// [`fit`] with a non-negative weight per point (scikit-learn's
/// `sample_weight`, which `GaussianMixture` lacks): each point counts as
/// that many copies of itself. An integer weight `w` gives the fit of the
/// data with the point repeated `w` times (to rounding, about 1e-15
/// relative); a weight of 0 leaves the point out (it is not even checked,
/// so a NaN point of weight 0 is allowed). The weights also weigh the
/// data's scale (the unit of `reg_covar`), the total log-likelihood
/// `Σᵢ wᵢ ln p(xᵢ)` and its mean, which divides by `Σᵢ wᵢ`. Only the
/// weights' ratios matter to the model (while the weighted sums stay in
/// `T`'s range: scale weights near its limits towards 1). Cost: as [`fit`]
/// plus one `ln` per point and pass.
///
/// # Errors
///
/// As for [`fit`] (counting the points of positive weight in
/// [`Error::TooFewPoints`]), plus:
///
/// * [`Error::LengthMismatch`] unless there is one weight per point;
/// * [`Error::InvalidSampleWeight`] naming the first weight that is
///   negative, NaN, infinite or subnormal, or where the weights' total
///   overflows;
/// * [`Error::ZeroTotalWeight`] if every weight is 0;
/// * [`Error::MomentOverflow`] if the weighted second moments overflow
///   (huge weights) and [`Error::DataOverflow`] if the weighted spread
///   does, [`Error::LikelihoodOverflow`] if the weighted log-likelihood
///   does (the callback may then have seen `±∞`).
///
/// # Example
///
/// ```
/// use core::ops::ControlFlow;
/// use gaussmix::{fit_weighted, FitOptions, Gmm};
/// use nalgebra::{matrix, vector};
///
/// // The last point counts three times, the third not at all.
/// let data = [[0.0, 0.1], [0.2, -0.1], [9.0, 9.0], [5.0, 5.1], [5.2, 4.9], [4.9, 5.0]];
/// let weights = [1.0, 1.0, 0.0, 1.0, 1.0, 3.0];
/// let start = Gmm::<f64, 2, 2>::new(
///     [0.5, 0.5],
///     [vector![1.0, 1.0], vector![4.0, 4.0]],
///     [matrix![1.0, 0.0; 0.0, 1.0]; 2],
/// )?;
/// let go = |_: &_| ControlFlow::Continue(());
/// let report = fit_weighted(&data, &weights, start, &FitOptions::default(), go)?;
/// assert!((report.model.weights()[1] - 5.0 / 7.0).abs() < 1e-6);
/// # Ok::<(), gaussmix::Error>(())
/// ```
pub fn fit_weighted<T, const D: usize, const K: usize, C, P, F>(
    data: &[P],
    weights: &[T],
    init: Gmm<T, D, K, C>,
    options: &FitOptions<T>,
    callback: F,
) -> Result<FitReport<T, D, K, C>, Error>
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
    F: FnMut(&Iteration<T>) -> ControlFlow<()>,
{
    checked_run(data, weights, init, options, callback, None)
}

/// [`fit`], [`fit_weighted`] and [`fit_with_responsibilities`]: the fit in
/// place of `init`, which the report then holds.
///
/// In place of `init` itself, not of a local copy (`let mut model = init`):
/// a model passed by value arrives as a pointer to the caller's copy, which
/// this function owns, so the fit runs there and its own stack holds no
/// model. The copy cost 200 bytes of the fit's peak stack on a Cortex-M4F
/// (D = 2, K = 3, `f32`, full covariance: 860 → 660 B, the firmware's
/// `stack` binary).
fn checked_run<T, const D: usize, const K: usize, C, P, W, F>(
    data: &[P],
    weights: W,
    mut init: Gmm<T, D, K, C>,
    options: &FitOptions<T>,
    callback: F,
    responsibilities: Option<&mut [SVector<T, K>]>,
) -> Result<FitReport<T, D, K, C>, Error>
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
    W: Weights<T>,
    F: FnMut(&Iteration<T>) -> ControlFlow<()>,
{
    let summary = checked_run_in_place(
        data,
        weights,
        &mut init,
        options,
        callback,
        responsibilities,
    )?;
    Ok(summary.with_model(init))
}

/// Every fit of this module after its own checks: the options, then the
/// weights and the number of points ([`total_weight`]), then the loop with
/// `weights` on every pass (the first of which checks the points).
fn checked_run_in_place<T, const D: usize, const K: usize, C, P, W, F>(
    data: &[P],
    weights: W,
    model: &mut Gmm<T, D, K, C>,
    options: &FitOptions<T>,
    callback: F,
    responsibilities: Option<&mut [SVector<T, K>]>,
) -> Result<FitSummary<T>, Error>
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
    W: Weights<T>,
    F: FnMut(&Iteration<T>) -> ControlFlow<()>,
{
    options.validate()?;
    let total = total_weight(data.len(), weights.all(), K)?;
    run(
        model,
        options,
        total,
        callback,
        |m, s, out| e_pass(data, weights, m, s, out),
        responsibilities,
    )
}

/// One EM iteration: an E pass over `data` under `model`, then the M-step
/// (after recentred passes if needed, as in [`fit`]). Returns the new model
/// and the total log-likelihood of the *old* one. `reg_covar` is relative
/// to the data's scale, as [`FitOptions::reg_covar`]. [`fit`] with
/// `max_iter = 1` does the same plus the loop's bookkeeping; this is the
/// building block for callers that drive the loop themselves.
///
/// # Errors
///
/// As for [`fit`].
pub fn em_step<T, const D: usize, const K: usize, C, P>(
    data: &[P],
    model: &Gmm<T, D, K, C>,
    reg_covar: T,
) -> Result<EmStep<T, D, K, C>, Error>
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
{
    FitOptions::default().with_reg_covar(reg_covar).validate()?;
    total_weight::<T>(data.len(), None, K)?;
    let mut pass =
        |m: &Gmm<T, D, K, C>, s: &mut SufficientStats<T, D, K, C>| e_pass(data, (), m, s, None);
    let mut stats = SufficientStats::for_own_pass(model);
    pass(model, &mut stats)?;
    let log_likelihood = finite_likelihood(stats.log_likelihood())?;
    let mut next = *model;
    let effective_reg_covar = m_step(&mut pass, &mut next, &mut stats, reg_covar, Frozen::NONE)?;
    let model = next;
    Ok(EmStep {
        model,
        log_likelihood,
        effective_reg_covar,
    })
}

/// The M-step, after recentred passes while the statistics' one-pass
/// covariances would be inaccurate (see
/// [`SufficientStats::needs_recentring`]). A recentred pass recomputes the
/// same responsibilities under the same model, so only the rounding of the
/// covariances changes. `stats` (accumulated under `model`) may be replaced
/// by a recentred pass, which `pass` makes (it accumulates the whole data
/// into empty statistics); then the M-step, regularised by `reg_covar`
/// times the final statistics' [scale](SufficientStats::scale), overwrites
/// `model` and returns the regularisation it added.
fn m_step<T, const D: usize, const K: usize, C, E>(
    pass: &mut E,
    model: &mut Gmm<T, D, K, C>,
    stats: &mut SufficientStats<T, D, K, C>,
    reg_covar: T,
    frozen: Frozen,
) -> Result<T, Error>
where
    T: Real,
    C: CovarianceKind,
    E: FnMut(&Gmm<T, D, K, C>, &mut SufficientStats<T, D, K, C>) -> Result<(), Error>,
{
    let mut passes = 0;
    while stats.needs_recentring() {
        recentre(stats, passes)?;
        pass(model, stats)?;
        passes += 1;
    }
    let reg = stats.absolute_reg(reg_covar)?;
    // Settled: the loop above left statistics that need no recentring.
    mstep::m_step(stats, model, reg, frozen, true)
}

/// Replaces `stats` (which need recentring) by empty statistics for
/// recentred pass number `passes + 1`.
///
/// # Errors
///
/// [`Error::MomentOverflow`] (`stats` unchanged) if the shift makes no
/// progress (a shift that would overflow is kept) or
/// [`MAX_RECENTRED_PASSES`] passes were made: the moments cannot be
/// represented.
pub(crate) fn recentre<T: Real, const D: usize, const K: usize, C: CovarianceKind>(
    stats: &mut SufficientStats<T, D, K, C>,
    passes: usize,
) -> Result<(), Error> {
    if passes == MAX_RECENTRED_PASSES || !stats.recentre() {
        return Err(Error::MomentOverflow);
    }
    Ok(())
}

impl<T: Real, const D: usize, const K: usize, C: CovarianceKind> Gmm<T, D, K, C> {
    /// Fits this model to `data` by EM with `options`: [`fit`] without a
    /// callback.
    ///
    /// # Errors
    ///
    /// As for [`fit`].
    ///
    /// # Example
    ///
    /// ```
    /// use gaussmix::{FitOptions, Gmm};
    /// use nalgebra::{matrix, vector};
    ///
    /// let data = [[0.0, 0.1], [0.2, -0.1], [-0.1, 0.0], [5.0, 5.1], [5.2, 4.9], [4.9, 5.0]];
    /// let start = Gmm::<f64, 2, 2>::new(
    ///     [0.5, 0.5],
    ///     [vector![1.0, 1.0], vector![4.0, 4.0]],
    ///     [matrix![1.0, 0.0; 0.0, 1.0]; 2],
    /// )?;
    /// let report = start.fit(&data, &FitOptions::default())?;
    /// assert!(report.converged());
    /// # Ok::<(), gaussmix::Error>(())
    /// ```
    pub fn fit<P: AsPoint<T, D>>(
        self,
        data: &[P],
        options: &FitOptions<T>,
    ) -> Result<FitReport<T, D, K, C>, Error> {
        fit(
            data,
            self,
            options,
            |_| core::ops::ControlFlow::Continue(()),
        )
    }
}

/// The EM loop over data of total weight `n` (the number of points when
/// they are not weighted), whose E passes `pass` makes, writing
/// responsibilities when asked.
pub(crate) fn run<T, const D: usize, const K: usize, C, F, E>(
    model: &mut Gmm<T, D, K, C>,
    options: &FitOptions<T>,
    n: T,
    mut callback: F,
    mut pass: E,
    mut responsibilities: Option<&mut [SVector<T, K>]>,
) -> Result<FitSummary<T>, Error>
where
    T: Real,
    C: CovarianceKind,
    F: FnMut(&Iteration<T>) -> ControlFlow<()>,
    E: FnMut(
        &Gmm<T, D, K, C>,
        &mut SufficientStats<T, D, K, C>,
        Option<&mut [SVector<T, K>]>,
    ) -> Result<(), Error>,
{
    let mut tracker = Tracker::new();
    loop {
        let mut stats = SufficientStats::for_own_pass(model);
        pass(model, &mut stats, responsibilities.as_deref_mut())?;
        let mean = match tracker.judge(stats.log_likelihood(), n, options, &mut callback) {
            ControlFlow::Continue(mean) => mean,
            ControlFlow::Break(end) => return end,
        };
        let reg_added = m_step(
            &mut |m, s| pass(m, s, None),
            model,
            &mut stats,
            options.reg_covar,
            options.frozen,
        )?;
        tracker.stepped(mean, reg_added);
    }
}

/// The EM loop's bookkeeping between passes, apart from the passes
/// themselves (shared by [`fit`] and [`ResumableFit`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Tracker<T: Real> {
    /// The mean log-likelihood before the last M-step.
    previous: Option<T>,
    iterations: usize,
    decreases: usize,
    effective_reg_covar: T,
    /// Whether the last scored pass converged.
    converged: bool,
}

impl<T: Real> Tracker<T> {
    pub(crate) fn new() -> Self {
        Self {
            previous: None,
            iterations: 0,
            decreases: 0,
            effective_reg_covar: T::zero(),
            converged: false,
        }
    }

    /// M-steps done so far.
    pub(crate) fn iterations(&self) -> usize {
        self.iterations
    }

    /// Takes the total log-likelihood of a pass under the current model
    /// (data of total weight `n`): the trace entry, with the convergence
    /// test against the previous one done.
    pub(crate) fn score(
        &mut self,
        log_likelihood: T,
        n: T,
        options: &FitOptions<T>,
    ) -> Iteration<T> {
        // −∞ if the sum overflows (a start astronomically far from the
        // data): allowed in the trace, never in a report.
        let mean_log_likelihood = log_likelihood / n;
        self.converged = false;
        if let Some(p) = self.previous {
            let change = mean_log_likelihood - p;
            // A fall within `√ε (|ℓ̄| + 1)` of the mean log-likelihood `ℓ̄`
            // is rounding (each point's term and the blocked sum carry
            // `O(ε)` of it; at a fixed point the change is noise of either
            // sign). A larger one is real: regularised EM does not maximise
            // the likelihood and may lower it on its way to its own fixed
            // point, so the fit counts it and goes on.
            let noise = Real::sqrt(T::EPS) * (p.abs() + T::one());
            if change <= -noise {
                self.decreases += 1;
            } else {
                // `tol = 0` asks for `max_iter` iterations.
                self.converged = options.tol > T::zero() && change < options.tol;
            }
        }
        Iteration {
            iteration: self.iterations,
            log_likelihood,
            mean_log_likelihood,
        }
    }

    /// The EM loop's work between a pass and the M-step: scores the pass
    /// ([`score`](Self::score)), shows `callback` its trace entry and
    /// decides whether the fit ends there (`Break` with its summary); else
    /// `Continue` with the pass's mean log-likelihood, for
    /// [`stepped`](Self::stepped) after the M-step.
    ///
    /// Out of line: inlined into the loop, its values (the trace entry, the
    /// tracker's state, their constants) were held across the loop's calls
    /// in callee-saved floating-point registers, which the loop's frame
    /// saved on top of the E pass's and the M-step's.
    #[inline(never)]
    pub(crate) fn judge<F: FnMut(&Iteration<T>) -> ControlFlow<()>>(
        &mut self,
        log_likelihood: T,
        n: T,
        options: &FitOptions<T>,
        callback: &mut F,
    ) -> ControlFlow<Result<FitSummary<T>, Error>, T> {
        let it = self.score(log_likelihood, n, options);
        if callback(&it).is_break() {
            return ControlFlow::Break(self.summary(&it, Termination::Stopped));
        }
        if let Some(end) = self.termination(options) {
            return ControlFlow::Break(self.summary(&it, end));
        }
        ControlFlow::Continue(it.mean_log_likelihood)
    }

    /// Why the fit ends after the last scored pass, if it does.
    pub(crate) fn termination(&self, options: &FitOptions<T>) -> Option<Termination> {
        if self.converged {
            Some(Termination::Converged)
        } else if self.iterations >= options.max_iter {
            Some(Termination::MaxIterations)
        } else {
            None
        }
    }

    /// The summary of a fit ending with the model that `it` scored.
    ///
    /// # Errors
    ///
    /// [`Error::LikelihoodOverflow`] if the log-likelihood is not finite.
    pub(crate) fn summary(
        &self,
        it: &Iteration<T>,
        termination: Termination,
    ) -> Result<FitSummary<T>, Error> {
        Ok(FitSummary {
            iterations: self.iterations,
            termination,
            log_likelihood: finite_likelihood(it.log_likelihood)?,
            mean_log_likelihood: it.mean_log_likelihood,
            effective_reg_covar: self.effective_reg_covar,
            decreases: self.decreases,
        })
    }

    /// After the M-step that followed the pass of mean log-likelihood
    /// `mean_log_likelihood`, adding `reg_added` to the covariances.
    pub(crate) fn stepped(&mut self, mean_log_likelihood: T, reg_added: T) {
        self.previous = Some(mean_log_likelihood);
        self.effective_reg_covar = reg_added;
        self.iterations += 1;
    }
}

/// One pass over `data` (checked for size by the caller), accumulating
/// into `stats` (empty, started for `model`) block by block, and optionally
/// writing each point's responsibilities.
fn e_pass<T, const D: usize, const K: usize, C, P, W>(
    data: &[P],
    weights: W,
    model: &Gmm<T, D, K, C>,
    stats: &mut SufficientStats<T, D, K, C>,
    responsibilities: Option<&mut [SVector<T, K>]>,
) -> Result<(), Error>
where
    T: Real,
    C: CovarianceKind,
    P: AsPoint<T, D>,
    W: Weights<T>,
{
    // Each block adds to `stats` through `black_box`, so the optimiser
    // cannot keep the running totals in registers and spill slots across
    // the block loop (it did: 27 words of the E pass's frame on a
    // Cortex-M4F, a second copy of sums that already sit in the caller's
    // frame). They are read and written once per block instead, which
    // also frees registers for the point loop. No value changes: the
    // same additions in the same order. On the Cortex-M4F (D = 2, K = 3,
    // `f32`, full covariance; the firmware's `stack` and `insn` binaries)
    // the fit's peak stack fell from 660 to 624 B and its iterations from
    // 59.54 to 58.08 instructions per point·component; on hosts
    // `benches/compare_commits.sh` measured no change.
    match responsibilities {
        None => {
            for (b, block) in data.chunks(BLOCK).enumerate() {
                let w = weights.range(b * BLOCK, BLOCK);
                let stats = core::hint::black_box(&mut *stats);
                stats.add_block(model, block, w, b * BLOCK, None)?;
            }
        }
        Some(out) => {
            for (b, (block, slots)) in data.chunks(BLOCK).zip(out.chunks_mut(BLOCK)).enumerate() {
                let w = weights.range(b * BLOCK, BLOCK);
                let stats = core::hint::black_box(&mut *stats);
                stats.add_block(model, block, w, b * BLOCK, Some(slots))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{matrix, vector};

    const DATA: [[f64; 1]; 8] = [[0.0], [0.3], [-0.2], [0.1], [5.0], [5.4], [4.8], [5.1]];

    fn start() -> Gmm<f64, 1, 2> {
        Gmm::new([0.5, 0.5], [vector![1.0], vector![4.0]], [matrix![2.0]; 2]).unwrap()
    }

    fn go(_: &Iteration<f64>) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    #[test]
    fn zero_iterations_return_the_initial_model_scored() {
        let r = fit(&DATA, start(), &FitOptions::default().with_max_iter(0), go).unwrap();
        assert_eq!(r.model, start());
        assert_eq!(r.iterations, 0);
        assert_eq!(r.termination, Termination::MaxIterations);
        let direct = start().log_likelihood(&DATA).unwrap();
        assert!((r.log_likelihood - direct).abs() < 1e-14 * direct.abs());
    }

    #[test]
    fn callback_sees_the_trace_and_can_stop() {
        let mut seen = [f64::NAN; 4];
        let r = fit(&DATA, start(), &FitOptions::default(), |it| {
            seen[it.iteration] = it.log_likelihood;
            assert_eq!(it.mean_log_likelihood, it.log_likelihood / 8.0);
            if it.iteration == 3 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        assert_eq!((r.iterations, r.termination), (3, Termination::Stopped));
        assert_eq!(r.log_likelihood, seen[3]);
        assert!(seen.windows(2).all(|w| w[1] > w[0]));
        let at_zero = fit(&DATA, start(), &FitOptions::default(), |_| {
            ControlFlow::Break(())
        })
        .unwrap();
        assert_eq!((at_zero.model, at_zero.iterations), (start(), 0));
    }

    #[test]
    fn fit_matches_repeated_em_steps_and_converges() {
        let r = fit(&DATA, start(), &FitOptions::default().with_tol(1e-10), go).unwrap();
        assert!(r.converged());
        let mut m = start();
        for _ in 0..r.iterations {
            m = em_step(&DATA, &m, 1e-12).unwrap().model;
        }
        assert_eq!(m, r.model);
        assert!((r.model.means()[0][0] - 0.05).abs() < 1e-9);
        assert!((r.model.means()[1][0] - 5.075).abs() < 1e-9);
        // Warm start: two more iterations continue where it stopped.
        let a = fit(&DATA, start(), &FitOptions::default().with_max_iter(1), go).unwrap();
        let b = fit(&DATA, a.model, &FitOptions::default().with_max_iter(1), go).unwrap();
        let c = fit(&DATA, start(), &FitOptions::default().with_max_iter(2), go).unwrap();
        assert_eq!(b.model, c.model);
    }

    #[test]
    fn responsibilities_buffer_is_filled_for_the_returned_model() {
        let mut out = [SVector::<f64, 2>::zeros(); 8];
        let r = fit_with_responsibilities(&DATA, start(), &FitOptions::default(), &mut out, go)
            .unwrap();
        for (x, o) in DATA.iter().zip(out.iter()) {
            assert_eq!(*o, r.model.responsibilities(x).unwrap());
        }
        let mut short = [SVector::<f64, 2>::zeros(); 7];
        assert_eq!(
            fit_with_responsibilities(&DATA, start(), &FitOptions::default(), &mut short, go),
            Err(Error::LengthMismatch {
                expected: 8,
                found: 7
            })
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        // `fit` and `fit_in_place` give the same error, and these all come
        // before the first M-step (a non-finite point from the first pass):
        // the model in place is untouched.
        let refused = |data: &[[f64; 1]], o: FitOptions<f64>, e: Error| {
            assert_eq!(fit(data, start(), &o, go), Err(e));
            let mut model = start();
            assert_eq!(fit_in_place(data, &mut model, &o, go), Err(e));
            assert_eq!(model, start());
        };
        let o = FitOptions::default();
        let tol = Error::InvalidOption { option: "tol" };
        refused(&DATA, o.with_tol(-1.0), tol);
        refused(&DATA, o.with_tol(f64::NAN), tol);
        let reg_covar = Error::InvalidOption {
            option: "reg_covar",
        };
        refused(&DATA, o.with_reg_covar(f64::INFINITY), reg_covar);
        let too_few = Error::TooFewPoints {
            points: 1,
            needed: 2,
        };
        refused(&DATA[..1], o, too_few);
        let mut bad = DATA;
        bad[5] = [f64::NEG_INFINITY];
        refused(&bad, o, Error::NonFiniteData { index: 5 });
    }

    #[test]
    fn fit_in_place_stops_where_the_callback_says() {
        let mut model = start();
        let stop = |it: &Iteration<f64>| {
            if it.iteration == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let summary = fit_in_place(&DATA, &mut model, &FitOptions::default(), stop).unwrap();
        assert_eq!(summary.termination, Termination::Stopped);
        assert_eq!(summary.iterations, 2);
        let two = fit(&DATA, start(), &FitOptions::default().with_max_iter(2), go).unwrap();
        assert_eq!(model, two.model);
        assert_eq!(summary.log_likelihood, two.log_likelihood);
    }
}
