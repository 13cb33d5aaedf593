//! Online (stepwise) EM: a mixture that learns from a stream, one point or
//! one small block per call, in fixed time and memory.

use core::ops::ControlFlow;

use nalgebra::SVector;

use crate::covariance::{CovarianceKind, Full};
use crate::data::{checked, AsPoint};
use crate::error::Error;
use crate::estep;
use crate::fit::{fit, FitOptions};
use crate::mixture::Gmm;
use crate::mstep;
use crate::real::Real;
use crate::stats::SufficientStats;

/// The step size `γₙ` with which the `n`-th update blends its point's
/// statistics into the running ones: `S ← (1 − γₙ) S + γₙ s(xₙ)`.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StepSize<T> {
    /// `γₙ = γ₀ (n + n₀)^(−α)` with `0 < γ₀ ≤ 1`, `n₀ ≥ 0` and
    /// `α ∈ (0.5, 1]`, capped at 1: the steps sum to infinity and their
    /// squares do not, the condition under which online EM converges to a
    /// stationary point of the likelihood for a stationary stream (Cappé &
    /// Moulines 2009). `α` near 0.5 forgets the start fastest, `α = 1`
    /// with `γ₀ = 1, n₀ = 0` makes the statistics the plain average of all
    /// points seen (Liang & Klein 2009 found `α ∈ [0.5, 0.7]` best in
    /// practice, with mini-batches). `n` counts updates, starting at the
    /// warm-up's point count.
    Decaying {
        /// `γ₀`, the scale of the steps.
        gamma0: T,
        /// `n₀`, an offset that slows the early decay.
        offset: T,
        /// `α`, the decay's exponent.
        exponent: T,
    },
    /// `γₙ = γ` for a fixed `γ ∈ (0, 1)`: an exponentially weighted
    /// average with a memory of about `1/γ` updates, for data that drift.
    /// The estimate then does not converge but follows: it lags a drifting
    /// mean by about `1/γ` updates' worth of its motion.
    Constant(T),
}

impl<T: Real> StepSize<T> {
    /// Cappé & Moulines' choice: `γ₀ = 1`, `n₀ = 0`, `α = 0.6`.
    #[must_use]
    pub fn decaying() -> Self {
        StepSize::Decaying {
            gamma0: T::one(),
            offset: T::zero(),
            exponent: T::lit(0.6),
        }
    }

    /// `γₙ` for update `n ≥ 1`.
    fn at(&self, n: u64) -> T {
        match *self {
            StepSize::Decaying {
                gamma0,
                offset,
                exponent,
            } => {
                // n + n₀ ≥ 1, so the exponent is ≤ 0.
                let t = T::from_count(usize::try_from(n).unwrap_or(usize::MAX)) + offset;
                let e = -exponent * Real::ln(t);
                let g = if e >= -T::LSE_CUTOFF {
                    gamma0 * Real::exp_nonpositive(e)
                } else {
                    tiny_step(gamma0, e)
                };
                Real::min(g, T::one())
            }
            StepSize::Constant(g) => g,
        }
    }

    fn validate(&self) -> Result<(), Error> {
        let ok = match *self {
            StepSize::Decaying {
                gamma0,
                offset,
                exponent,
            } => {
                gamma0 > T::zero()
                    && gamma0 <= T::one()
                    && offset >= T::zero()
                    && offset.is_finite()
                    && exponent > T::lit(0.5)
                    && exponent <= T::one()
                    // Not a schedule whose step at n = 1, its largest,
                    // already underflows to 0 (the first update's step,
                    // at n = W + 1, may still: the statistics then stay).
                    && self.at(1) > T::zero()
            }
            StepSize::Constant(g) => g > T::zero() && g < T::one(),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidOption { option: "step" })
        }
    }
}

/// `γ₀ eᵉ` for an exponent `e` below the range of `exp_nonpositive`
/// (`[−cutoff, 0]`), which a decaying step reaches only for a huge offset
/// `n₀` (e down to −α ln MAX: −89 in `f32`, −710 in `f64`; `−∞` where
/// `n + n₀` overflows): the power in factors of `e^−cutoff` (at most three
/// in range), so that a tiny step stays tiny, or underflows to 0, instead
/// of wrapping around. Out of line and cold: the usual step never comes
/// here.
#[cold]
#[inline(never)]
fn tiny_step<T: Real>(gamma0: T, mut e: T) -> T {
    let mut g = gamma0;
    for _ in 0..4 {
        if e < -T::LSE_CUTOFF {
            g *= Real::exp_nonpositive(-T::LSE_CUTOFF);
            e += T::LSE_CUTOFF;
        }
    }
    if e < -T::LSE_CUTOFF {
        // `−∞` (or below even four factors): the step underflows.
        T::zero()
    } else {
        g * Real::exp_nonpositive(e)
    }
}

/// Options of an [`OnlineGmm`].
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(default)
)]
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct OnlineOptions<T: Real> {
    /// The step size schedule. Default: [`StepSize::decaying`].
    pub step: StepSize<T>,
    /// Parameters are refreshed (an M-step) every `refresh` updates; 1 (the
    /// default) refreshes after every update. A larger value saves the
    /// M-step's `O(K·D³)` on most updates; the statistics still take every
    /// point.
    pub refresh: usize,
    /// The warm-up's batch fit on the first `W` points (its `reg_covar`
    /// also regularises every later M-step, relative to the warm-up data's
    /// scale; its `frozen` parameters stay frozen online).
    pub fit: FitOptions<T>,
}

impl<T: Real> Default for OnlineOptions<T> {
    fn default() -> Self {
        Self {
            step: StepSize::decaying(),
            refresh: 1,
            fit: FitOptions::default(),
        }
    }
}

impl<T: Real> OnlineOptions<T> {
    /// Sets [`step`](Self::step).
    #[must_use]
    pub fn with_step(mut self, step: StepSize<T>) -> Self {
        self.step = step;
        self
    }

    /// Sets [`refresh`](Self::refresh).
    #[must_use]
    pub fn with_refresh(mut self, refresh: usize) -> Self {
        self.refresh = refresh;
        self
    }

    /// Sets [`fit`](Self::fit).
    #[must_use]
    pub fn with_fit(mut self, fit: FitOptions<T>) -> Self {
        self.fit = fit;
        self
    }

    /// Checks every option.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] naming `step` (out of the ranges of
    /// [`StepSize`]), `refresh` (0), or a field of [`FitOptions`].
    pub fn validate(&self) -> Result<(), Error> {
        self.step.validate()?;
        if self.refresh == 0 {
            return Err(Error::InvalidOption { option: "refresh" });
        }
        self.fit.validate()
    }
}

/// What one update did.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct OnlineUpdate<T: Real> {
    /// `Σ ln p(x)` of the update's points under the model *before* the
    /// update (for one point its [`Gmm::log_prob`]): a low value flags an
    /// outlier. During the warm-up, under the start model.
    pub log_likelihood: T,
    /// The step `γₙ` the update took; 0 while warming up.
    pub step: T,
    /// Whether the parameters changed (an M-step, or the end of the
    /// warm-up).
    pub refreshed: bool,
}

/// A Gaussian mixture fitted online by stepwise EM (Cappé & Moulines 2009;
/// Liang & Klein 2009): each update runs the E-step for its points under
/// the current model, blends their sufficient statistics into running ones
/// with a step `γₙ` ([`StepSize`]), and every
/// [`refresh`](OnlineOptions::refresh) updates runs the M-step on them.
/// Memory is fixed (`O(K·D²)` plus the warm-up buffer), nothing is
/// allocated, and each update costs the same whatever has been seen:
/// `O(K·D²)` for full and tied covariance, `O(K·D)` for diagonal and
/// spherical (E-step, forgetting and adding), plus `O(K·D³)` (`O(K·D)`) for
/// an M-step. The README gives the Cortex-M4F instruction count of one
/// update.
///
/// **Warm-up.** The first `W` points (a const generic, `W ≥ K`) are
/// gathered in a buffer; the `W`-th runs a batch [`fit`] on them from the
/// start model, and the statistics start as those points' average. The
/// buffer bounds how many points the first M-step rests on; its memory is
/// reused afterwards. (Online EM from a cold start is fragile: a single
/// point's statistics make a degenerate first M-step.)
///
/// **Never an invalid model.** An update that fails (a NaN or infinite
/// point, a point of zero density under every component, a point whose
/// moments would overflow the running statistics, an M-step that cannot
/// factorise a covariance) returns the error and leaves the whole state as
/// it was. A component whose running count falls below `ε` of the
/// total keeps its parameters with weight near 0, as in [`fit`].
///
/// Accuracy: the statistics are kept centred on the current means (each
/// M-step moves their shift along), so a mean may travel any distance over
/// the stream without the covariances losing precision.
///
/// # Example
///
/// ```
/// use gaussmix::{Gmm, OnlineGmm, OnlineOptions};
/// use nalgebra::{matrix, vector};
///
/// let start = Gmm::<f64, 2, 2>::new(
///     [0.5, 0.5],
///     [vector![-1.0, 0.0], vector![1.0, 0.0]],
///     [matrix![1.0, 0.0; 0.0, 1.0]; 2],
/// )?;
/// // A warm-up of 32 points, then stepwise EM.
/// let mut online = OnlineGmm::<f64, 2, 2, 32>::new(start, &OnlineOptions::default())?;
/// for i in 0..2000 {
///     let t = i as f64;
///     let c = if i % 2 == 0 { -3.0 } else { 3.0 };
///     online.update(&[c + (t * 0.37).sin(), (t * 1.71).cos()])?;
/// }
/// let means = online.model().means();
/// assert!((means[0][0] + 3.0).abs() < 0.1 && (means[1][0] - 3.0).abs() < 0.1);
/// # Ok::<(), gaussmix::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OnlineGmm<
    T: Real,
    const D: usize,
    const K: usize,
    const W: usize,
    C: CovarianceKind = Full,
> {
    options: OnlineOptions<T>,
    model: Gmm<T, D, K, C>,
    /// Updates so far, the warm-up's points included.
    updates: u64,
    /// Updates since the last M-step.
    since_refresh: usize,
    /// The absolute regularisation, from the warm-up data's scale.
    reg: T,
    stage: Stage<T, D, K, W, C>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Stage<T: Real, const D: usize, const K: usize, const W: usize, C: CovarianceKind> {
    /// Gathering the warm-up points.
    WarmUp {
        points: [SVector<T, D>; W],
        len: usize,
    },
    /// Stepwise EM, with the running statistics (against the current
    /// model, shifted by its means).
    Running(SufficientStats<T, D, K, C>),
}

impl<T: Real, const D: usize, const K: usize, const W: usize, C: CovarianceKind>
    OnlineGmm<T, D, K, W, C>
{
    /// A learner starting from `start`, gathering `W` points before its
    /// first M-step.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] for a bad option, or (`"W"`) if `W < K`
    /// or `W = 0`.
    pub fn new(start: Gmm<T, D, K, C>, options: &OnlineOptions<T>) -> Result<Self, Error> {
        options.validate()?;
        if W < K.max(1) {
            return Err(Error::InvalidOption { option: "W" });
        }
        Ok(Self {
            options: *options,
            model: start,
            updates: 0,
            since_refresh: 0,
            reg: T::zero(),
            stage: Stage::WarmUp {
                points: [SVector::zeros(); W],
                len: 0,
            },
        })
    }

    /// The current model (the start model during the warm-up).
    pub fn model(&self) -> &Gmm<T, D, K, C> {
        &self.model
    }

    /// Points taken so far (each [`update_block`](Self::update_block)
    /// after the warm-up counts once).
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// `true` once the warm-up is over.
    pub fn is_warm(&self) -> bool {
        matches!(self.stage, Stage::Running(_))
    }

    /// The running average of `ln p(x)` over recent points (weighted by the
    /// same steps as the statistics), each under the model of its time:
    /// the baseline against which [`OnlineUpdate::log_likelihood`] flags an
    /// outlier. `None` during the warm-up.
    pub fn mean_log_likelihood(&self) -> Option<T> {
        match &self.stage {
            Stage::WarmUp { .. } => None,
            Stage::Running(stats) => Some(stats.log_likelihood() / stats.counts().sum()),
        }
    }

    /// Learns from one point.
    ///
    /// # Errors
    ///
    /// [`Error::NonFiniteData`] (index 0) for a point with a NaN or
    /// infinite coordinate, [`Error::ZeroDensity`] for one whose density
    /// underflows under every component, [`Error::MomentOverflow`] for one
    /// whose moments would overflow the running statistics (a point so far
    /// from a mean that its share of the squared offset does not fit `T`:
    /// kept, it would stay infinite whatever is forgotten), or an error of
    /// the warm-up's [`fit`] or of an M-step ([`Error::NotPositiveDefinite`]
    /// …). On an error the state is unchanged.
    pub fn update<P: AsPoint<T, D>>(&mut self, x: &P) -> Result<OnlineUpdate<T>, Error> {
        let x = checked(x, 0)?;
        match &mut self.stage {
            Stage::WarmUp { points, len } => {
                let log_likelihood = self.model.log_prob(&x)?;
                let slot = points.get_mut(*len).ok_or(Error::CountOverflow)?;
                let old = core::mem::replace(slot, x);
                *len += 1;
                let refreshed = *len == W;
                if refreshed {
                    if let Err(e) = self.warm_up() {
                        // Take the point out again: nothing changed.
                        if let Stage::WarmUp { points, len } = &mut self.stage {
                            *len -= 1;
                            if let Some(slot) = points.get_mut(*len) {
                                *slot = old;
                            }
                        }
                        return Err(e);
                    }
                }
                self.updates += 1;
                Ok(OnlineUpdate {
                    log_likelihood,
                    step: T::zero(),
                    refreshed,
                })
            }
            Stage::Running(stats) => {
                let (log_likelihood, r) = estep::point(&self.model.kernel(), &x)?;
                let step = self.options.step.at(self.updates + 1);
                let refresh = self.since_refresh + 1 >= self.options.refresh;
                // The statistics as they were, put back if the point's
                // moments overflow the running ones (which no forgetting
                // would bring back) or the M-step fails.
                let before = *stats;
                stats.forget(T::one() - step);
                stats.push_point(&x, &(r * step), log_likelihood * step);
                let next = if stats.is_finite() {
                    if refresh {
                        m_step(&self.model, self.reg, &self.options, stats).map(Some)
                    } else {
                        Ok(None)
                    }
                } else {
                    Err(Error::MomentOverflow)
                };
                match next {
                    Ok(Some(model)) => {
                        self.model = model;
                        self.since_refresh = 0;
                    }
                    Ok(None) => self.since_refresh += 1,
                    Err(e) => {
                        *stats = before;
                        return Err(e);
                    }
                }
                self.updates += 1;
                Ok(OnlineUpdate {
                    log_likelihood,
                    step,
                    refreshed: refresh,
                })
            }
        }
    }

    /// Learns from a small block of points at once (a mini-batch, Liang &
    /// Klein 2009): after the warm-up, one step `γₙ` blends the block's
    /// average statistics in, `S ← (1 − γₙ) S + γₙ/B Σᵢ s(xᵢ)`, and counts
    /// as one update. Points that arrive during the warm-up fill its
    /// buffer one by one; the rest of the block is then one update.
    ///
    /// # Errors
    ///
    /// As for [`update`](Self::update), naming a bad point by its index in
    /// `points`, and [`Error::LikelihoodOverflow`] if the block's total
    /// log-likelihood overflows `T` though each point's is finite. On an
    /// error the state is unchanged (the block is applied to a copy of it).
    pub fn update_block<P: AsPoint<T, D>>(
        &mut self,
        points: &[P],
    ) -> Result<OnlineUpdate<T>, Error> {
        let mut next = *self;
        let mut total = OnlineUpdate {
            log_likelihood: T::zero(),
            step: T::zero(),
            refreshed: false,
        };
        let mut rest = points;
        let mut index = 0;
        while let (false, Some((x, tail))) = (next.is_warm(), rest.split_first()) {
            let u = next.update(x).map_err(|e| e.at(index))?;
            total.log_likelihood += u.log_likelihood;
            total.refreshed |= u.refreshed;
            rest = tail;
            index += 1;
        }
        if let (Stage::Running(stats), false) = (&mut next.stage, rest.is_empty()) {
            let step = next.options.step.at(next.updates + 1);
            let share = step / T::from_count(rest.len());
            stats.forget(T::one() - step);
            for (i, p) in rest.iter().enumerate() {
                let x = checked(p, index + i)?;
                let (ll, r) =
                    estep::point(&next.model.kernel(), &x).map_err(|e| e.at(index + i))?;
                stats.push_point(&x, &(r * share), ll * share);
                total.log_likelihood += ll;
            }
            if !stats.is_finite() {
                return Err(Error::MomentOverflow);
            }
            next.updates += 1;
            total.step = step;
            if next.since_refresh + 1 >= next.options.refresh {
                // `next` is the copy a failure leaves behind.
                next.model = m_step(&next.model, next.reg, &next.options, stats)?;
                next.since_refresh = 0;
                total.refreshed = true;
            } else {
                next.since_refresh += 1;
            }
        }
        if !total.log_likelihood.is_finite() {
            // Every point's own term is finite; their sum overflowed.
            return Err(Error::LikelihoodOverflow);
        }
        *self = next;
        Ok(total)
    }

    /// The end of the warm-up: the batch fit of the gathered points, and
    /// their average statistics under its model. On an error nothing
    /// changes.
    fn warm_up(&mut self) -> Result<(), Error> {
        let Stage::WarmUp { points, .. } = &self.stage else {
            return Ok(());
        };
        let options = &self.options.fit;
        let go = |_: &_| ControlFlow::Continue(());
        let model = fit(points, self.model, options, go)?.model;
        let mut stats = SufficientStats::new(&model);
        stats.accumulate_slice(&model, points)?;
        // The scale of the warm-up points, as the fit's M-steps measure it.
        let reg = stats.absolute_reg(options.reg_covar)?;
        stats.forget(T::one() / T::from_count(W));
        self.reg = reg;
        self.model = model;
        self.stage = Stage::Running(stats);
        self.since_refresh = 0;
        Ok(())
    }
}

/// The M-step from `model` on running statistics `stats`, centred first on
/// the means it is about to give (there is no second pass to recentre with
/// online), so its one-pass covariances cancel nothing and the next points
/// are pushed relative to the new means. On an error `stats` is unusable
/// (the caller's copy).
fn m_step<T: Real, const D: usize, const K: usize, C: CovarianceKind>(
    model: &Gmm<T, D, K, C>,
    reg: T,
    options: &OnlineOptions<T>,
    stats: &mut SufficientStats<T, D, K, C>,
) -> Result<Gmm<T, D, K, C>, Error> {
    stats.recentre_in_place();
    let mut next = *model;
    mstep::m_step(stats, &mut next, reg, options.fit.frozen, true)?;
    Ok(next)
}
