//! The fit with bounded work per call: the EM loop of [`fit`](crate::fit)
//! as a state machine that a control loop or a scheduler advances a few
//! points at a time.

use crate::covariance::{CovarianceKind, Full};
use crate::data::AsPoint;
use crate::error::Error;
use crate::estep::BLOCK;
use crate::mixture::Gmm;
use crate::mstep;
use crate::real::Real;
use crate::stats::{OpenBlock, SufficientStats};

use super::{recentre, FitOptions, FitReport, Iteration, Tracker};

/// [`fit`](crate::fit) in slices of bounded work: each call to
/// [`advance`](Self::advance) processes at most `budget` points of an E
/// pass and at most one M-step, then returns where
/// the fit stands. Run to the end it returns the same [`FitReport`] as
/// [`fit`](crate::fit) on the same data, options and start, bit for bit:
/// the passes make the same operations in the same order, only spread over
/// calls (the E pass keeps the open block's partial sums between calls).
///
/// The work of one call is bounded by the budget, not by the data: with
/// `M` the budget, a call costs at most `M` points' E-step and statistics
/// (`O(M·K·D²)` for full and tied covariance, `O(M·K·D)` for diagonal and
/// spherical) plus one M-step (`O(K·D³)`, `O(K·D)` diagonal) plus
/// `O(K·D)` of bookkeeping. The README gives the worst case of one call
/// measured in instructions on a Cortex-M4F. Between calls the data may
/// not change (the same slice, or one with the same contents: the fit
/// cannot tell, and would mix two data sets); its length is checked.
///
/// The state holds the model being fitted ([`model`](Self::model), usable
/// for inference while the fit goes on), the statistics of the open pass
/// and the loop's bookkeeping: `O(K·D²)` memory, nothing allocated.
///
/// # Example
///
/// ```
/// use gaussmix::{fit, FitOptions, Gmm, Progress, ResumableFit};
/// use nalgebra::{matrix, vector};
///
/// let data: Vec<[f64; 2]> = (0..300)
///     .map(|i| {
///         let t = i as f64;
///         let c = if i % 3 == 0 { 5.0 } else { 0.0 };
///         [c + (t * 0.7).sin(), c + (t * 1.3).cos()]
///     })
///     .collect();
/// let start = Gmm::<f64, 2, 2>::new(
///     [0.5, 0.5],
///     [vector![1.0, 1.0], vector![4.0, 4.0]],
///     [matrix![1.0, 0.0; 0.0, 1.0]; 2],
/// )?;
/// let options = FitOptions::default();
/// let mut resumable = ResumableFit::new(start, &options)?;
/// let report = loop {
///     // At most 50 points and one M-step per call, e.g. once per tick.
///     match resumable.advance(&data, 50)? {
///         Progress::Working(_) => continue,
///         Progress::Done(report) => break report,
///     }
/// };
/// let at_once = fit(&data, start, &options, |_| core::ops::ControlFlow::Continue(()))?;
/// assert_eq!(report, at_once);
/// # Ok::<(), gaussmix::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResumableFit<T: Real, const D: usize, const K: usize, C: CovarianceKind = Full> {
    options: FitOptions<T>,
    model: Gmm<T, D, K, C>,
    /// The data's length, once the first call has seen it.
    len: Option<usize>,
    /// The next point of the current pass.
    next: usize,
    /// Total weight (the number of points), once the first call has seen
    /// the data.
    n: T,
    tracker: Tracker<T>,
    /// The trace entry of the last scoring pass.
    last: Option<Iteration<T>>,
    stage: Stage<T, D, K, C>,
}

/// Where the state machine is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Stage<T: Real, const D: usize, const K: usize, C: CovarianceKind> {
    /// An E pass under the model; `recentred` is 0 for the pass that
    /// scores it, else the number of the recentred pass.
    Pass {
        stats: SufficientStats<T, D, K, C>,
        open: OpenBlock<T, D, K, C>,
        recentred: usize,
    },
    /// A pass is complete and the M-step (or another recentred pass) is
    /// next.
    MStep {
        stats: SufficientStats<T, D, K, C>,
        recentred: usize,
    },
    /// The fit has ended.
    Done(FitReport<T, D, K, C>),
    /// The fit failed; every later call with a valid budget and the same
    /// data returns this error.
    Failed(Error),
}

/// What [`ResumableFit::advance`] reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Progress<T: Real, const D: usize, const K: usize, C: CovarianceKind = Full> {
    /// The fit goes on: call [`advance`](ResumableFit::advance) again.
    Working(Position<T>),
    /// The fit has ended; every later call with a valid budget and the
    /// same data returns the same report (a budget of 0 or data of another
    /// length are still refused first, see
    /// [`advance`](ResumableFit::advance)).
    Done(FitReport<T, D, K, C>),
}

/// Where a [`ResumableFit`] stands after a call.
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Position<T: Real> {
    /// What the fit is doing.
    pub phase: Phase,
    /// M-steps done so far.
    pub iterations: usize,
    /// Points of the current phase's pass done (of the data's length).
    pub point: usize,
    /// The trace entry of the last model scored (what the callback of
    /// [`fit`](crate::fit) sees), `None` before the first.
    pub last: Option<Iteration<T>>,
}

/// The phase of a [`ResumableFit`].
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// An E pass scoring the current model and gathering its statistics
    /// (the first one also checks the points).
    Scoring,
    /// A recentred E pass before the M-step (see
    /// [`SufficientStats::needs_recentring`]).
    Recentring,
    /// The statistics are complete; the M-step is the next call's first
    /// work.
    MStep,
}

impl<T: Real, const D: usize, const K: usize, C: CovarianceKind> ResumableFit<T, D, K, C> {
    /// A fit of `init` with `options`, not started: the first call to
    /// [`advance`](Self::advance) checks the number of points and starts
    /// the first E pass.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] for a bad option.
    pub fn new(init: Gmm<T, D, K, C>, options: &FitOptions<T>) -> Result<Self, Error> {
        options.validate()?;
        Ok(Self {
            options: *options,
            model: init,
            len: None,
            next: 0,
            n: T::one(),
            tracker: Tracker::new(),
            last: None,
            stage: Stage::Pass {
                stats: SufficientStats::for_own_pass(&init),
                open: OpenBlock::new(),
                recentred: 0,
            },
        })
    }

    /// The model as it stands: the start, then the result of each M-step.
    /// After an M-step that failed ([`advance`](Self::advance) returned its
    /// error), as after an error of [`fit_in_place`](crate::fit_in_place):
    /// a valid mixture (its cached constants agree with its parameters,
    /// every parameter finite), usable for inference, but possibly the last
    /// iterate with some of that step's parameters already in place, which
    /// is no iterate of the fit.
    pub fn model(&self) -> &Gmm<T, D, K, C> {
        &self.model
    }

    /// Advances the fit over `data` by at most `budget` points and at most
    /// one M-step. The first call fixes the data's length; later calls
    /// must pass the same data.
    ///
    /// # Errors
    ///
    /// * [`Error::InvalidOption`] (`"budget"`) for a budget of 0, and
    ///   [`Error::LengthMismatch`] for data of another length than the
    ///   first call's: the state is unchanged;
    /// * any error of [`fit`](crate::fit), when the fit reaches it: the fit
    ///   has failed, and every later call returns the same error.
    pub fn advance<P: AsPoint<T, D>>(
        &mut self,
        data: &[P],
        budget: usize,
    ) -> Result<Progress<T, D, K, C>, Error> {
        if budget == 0 {
            return Err(Error::InvalidOption { option: "budget" });
        }
        match self.len {
            Some(len) if len != data.len() => {
                return Err(Error::LengthMismatch {
                    expected: len,
                    found: data.len(),
                })
            }
            _ => {}
        }
        match self.work(data, budget) {
            Ok(progress) => Ok(progress),
            Err(e) => {
                self.stage = Stage::Failed(e);
                Err(e)
            }
        }
    }

    /// [`advance`](Self::advance) after its argument checks.
    fn work<P: AsPoint<T, D>>(
        &mut self,
        data: &[P],
        budget: usize,
    ) -> Result<Progress<T, D, K, C>, Error> {
        let len = data.len();
        if self.len.is_none() {
            let needed = K.max(1);
            if len < needed {
                return Err(Error::TooFewPoints {
                    points: len,
                    needed,
                });
            }
            self.len = Some(len);
            self.n = T::from_count(len);
        }
        let mut left = budget;
        let mut stepped = false;
        loop {
            match &mut self.stage {
                Stage::Failed(e) => return Err(*e),
                Stage::Done(report) => return Ok(Progress::Done(*report)),
                Stage::Pass {
                    stats,
                    open,
                    recentred,
                } => {
                    // Up to the end of the open block, the budget or the data.
                    let block_end = (self.next / BLOCK + 1).saturating_mul(BLOCK);
                    let end = len.min(block_end).min(self.next.saturating_add(left));
                    let piece = data.get(self.next..end).unwrap_or(&[]);
                    stats.add_piece(&self.model, piece, (), self.next, None, open)?;
                    left -= end - self.next;
                    self.next = end;
                    if end == block_end || end == len {
                        stats.close_block(open)?;
                    }
                    if end == len {
                        let (stats, recentred) = (*stats, *recentred);
                        if recentred == 0 {
                            let it =
                                self.tracker
                                    .score(stats.log_likelihood(), self.n, &self.options);
                            self.last = Some(it);
                            if let Some(end) = self.tracker.termination(&self.options) {
                                let report = self.tracker.summary(&it, end)?.with_model(self.model);
                                self.stage = Stage::Done(report);
                                return Ok(Progress::Done(report));
                            }
                        }
                        self.stage = Stage::MStep { stats, recentred };
                    }
                }
                Stage::MStep { stats, recentred } => {
                    if stats.needs_recentring() {
                        // As `fit`'s M-step: another pass, recentred.
                        recentre(stats, *recentred)?;
                        let recentred = *recentred + 1;
                        self.stage = Stage::Pass {
                            stats: *stats,
                            open: OpenBlock::new(),
                            recentred,
                        };
                        self.next = 0;
                    } else if stepped {
                        break;
                    } else {
                        let stats = *stats;
                        let reg = stats.absolute_reg(self.options.reg_covar)?;
                        // Settled: `needs_recentring` was just false.
                        let added =
                            mstep::m_step(&stats, &mut self.model, reg, self.options.frozen, true)?;
                        stepped = true;
                        if let Some(it) = &self.last {
                            self.tracker.stepped(it.mean_log_likelihood, added);
                        }
                        self.start_pass();
                    }
                }
            }
            if left == 0 {
                break;
            }
        }
        Ok(Progress::Working(self.position()))
    }

    /// Starts the E pass that scores the current model.
    fn start_pass(&mut self) {
        self.stage = Stage::Pass {
            stats: SufficientStats::for_own_pass(&self.model),
            open: OpenBlock::new(),
            recentred: 0,
        };
        self.next = 0;
    }

    /// Where the fit stands (while it is working).
    fn position(&self) -> Position<T> {
        let phase = match &self.stage {
            Stage::Pass { recentred: 0, .. } => Phase::Scoring,
            Stage::Pass { .. } => Phase::Recentring,
            Stage::MStep { .. } | Stage::Done(_) | Stage::Failed(_) => Phase::MStep,
        };
        Position {
            phase,
            iterations: self.tracker.iterations(),
            point: self.next,
            last: self.last,
        }
    }
}
