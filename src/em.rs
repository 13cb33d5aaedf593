//! The EM loop: options, the fit, one step, and the per-iteration callback.

use core::ops::ControlFlow;

use nalgebra::SVector;

use crate::math::{self, Real};
use crate::mixture::{finite_likelihood, Gmm};
use crate::point::{check_data, AsPoint};
use crate::stats::{SufficientStats, BLOCK};
use crate::Error;

/// How a fit runs. Build with [`FitOptions::default`] and the `with_*`
/// methods:
///
/// ```
/// let options = gaussmix::FitOptions::<f32>::default()
///     .with_max_iter(50)
///     .with_tol(1e-4);
/// assert_eq!(options.max_iter, 50);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct FitOptions<T: Real> {
    /// The most EM iterations (M-steps) to run; 0 returns the initial model
    /// with its log-likelihood. Default 100.
    pub max_iter: usize,
    /// Convergence tolerance: the fit stops once an iteration raises the
    /// *mean* log-likelihood per point by less than `tol` (so `tol` does not
    /// scale with the number of points). Finite and ≥ 0. Default `1e-3`, as
    /// in scikit-learn.
    pub tol: T,
    /// Covariance regularisation, *relative to the data's scale*: the
    /// M-step adds `reg_covar · s` to the diagonal of every covariance,
    /// where `s` is the data's mean per-coordinate variance
    /// (`(1/D) Σ_d var(x_d)`; for data whose points are all identical,
    /// the largest squared coordinate). A component over points in a
    /// lower-dimensional subspace (a line, a plane, one repeated point)
    /// thus stays positive definite.
    /// Finite and ≥ 0; 0 gives the plain maximum-likelihood update.
    /// Default `1e-6`.
    ///
    /// Being relative, it means the same at every scale: data in
    /// kilometres or in millimetres get the same fit, and in `f32` it does
    /// not vanish below the rounding of large variances, as an absolute
    /// `1e-6` (scikit-learn's default) does once variances reach about
    /// `1e-6/ε ≈ 10`. For unit-variance data the two agree. The price:
    /// components whose variances are below `reg_covar` times the data's
    /// are widened, which at the default is near what `f32` resolves anyway.
    pub reg_covar: T,
}

impl<T: Real> Default for FitOptions<T> {
    fn default() -> Self {
        Self {
            max_iter: 100,
            tol: math::lit(1e-3),
            reg_covar: math::lit(1e-6),
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

    /// Checks every option.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] naming `tol` or `reg_covar` if it is
    /// negative, NaN or infinite.
    pub fn validate(&self) -> Result<(), Error> {
        if !(self.tol >= T::zero()) || !math::is_finite(self.tol) {
            return Err(Error::InvalidOption { option: "tol" });
        }
        if !(self.reg_covar >= T::zero()) || !math::is_finite(self.reg_covar) {
            return Err(Error::InvalidOption {
                option: "reg_covar",
            });
        }
        Ok(())
    }
}

/// What the callback of [`fit`] sees after each E pass: one entry of the
/// seed notebook's log-likelihood trace.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Iteration<T: Real> {
    /// M-steps done so far: 0 for the initial model, then 1, 2, …
    pub iteration: usize,
    /// Total log-likelihood `Σᵢ ln p(xᵢ)` of the current model.
    pub log_likelihood: T,
    /// `log_likelihood / N`.
    pub mean_log_likelihood: T,
}

/// Why a fit stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Termination {
    /// The last iteration raised the mean log-likelihood by less than `tol`.
    Converged,
    /// `max_iter` iterations ran without converging.
    MaxIterations,
    /// The callback returned [`ControlFlow::Break`].
    Stopped,
}

/// The outcome of [`fit`]: the model and how it was reached.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct FitReport<T: Real, const D: usize, const K: usize> {
    /// The fitted model.
    pub model: Gmm<T, D, K>,
    /// EM iterations (M-steps) run.
    pub iterations: usize,
    /// Why the fit stopped.
    pub termination: Termination,
    /// Total log-likelihood of the data under [`model`](Self::model).
    pub log_likelihood: T,
    /// Mean log-likelihood per point under [`model`](Self::model).
    pub mean_log_likelihood: T,
}

impl<T: Real, const D: usize, const K: usize> FitReport<T, D, K> {
    /// `true` if the fit met its tolerance.
    pub fn converged(&self) -> bool {
        self.termination == Termination::Converged
    }
}

/// Fits a mixture to `data` by Expectation–Maximization, starting from
/// `init`.
///
/// Each iteration is one pass over the data: for each point the E-step
/// (responsibilities by log-sum-exp, see [`Gmm::responsibilities`]) feeds
/// [`SufficientStats`], and the M-step ([`SufficientStats::m_step`]) reads
/// only them. The same pass yields the log-likelihood of the model it ran
/// under, so the fit makes `iterations + 1` passes in all, the last one
/// scoring the returned model. An iteration in which a mean jumps by more
/// than about four standard deviations (typically the first few from a
/// rough start) makes one more pass, recentred on the new means, so the
/// covariances keep full precision (see
/// [`SufficientStats::needs_recentring`]); near convergence this never
/// happens. Nothing is allocated; memory is `O(K·D²)` whatever `N` is, and
/// each pass costs `O(N·K·D²)` plus `O(K·D³)`.
///
/// `callback` is called after every pass with the iteration number and the
/// log-likelihood (the seed's trace), the initial model's first; returning
/// [`ControlFlow::Break`] stops the fit with the model just scored.
/// The fit stops when an iteration raises the mean log-likelihood by less
/// than [`FitOptions::tol`] (a decrease, possible only through rounding or
/// regularisation, also stops it), or after [`FitOptions::max_iter`]
/// iterations.
///
/// # Errors
///
/// * [`Error::InvalidOption`] for a bad option;
/// * [`Error::TooFewPoints`] for fewer points than components (or none);
/// * [`Error::NonFiniteData`] naming the first point with a NaN or infinity;
/// * [`Error::ZeroDensity`] if a point's density underflows under every
///   component;
/// * [`Error::NotPositiveDefinite`] if a component collapses onto a
///   subspace that `reg_covar` does not lift.
/// * [`Error::LikelihoodOverflow`] if the data's total log-likelihood
///   overflows `T`;
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
pub fn fit<T, const D: usize, const K: usize, P, F>(
    data: &[P],
    init: Gmm<T, D, K>,
    options: &FitOptions<T>,
    callback: F,
) -> Result<FitReport<T, D, K>, Error>
where
    T: Real,
    P: AsPoint<T, D>,
    F: FnMut(&Iteration<T>) -> ControlFlow<()>,
{
    run(data, init, options, None, callback)
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
pub fn fit_with_responsibilities<T, const D: usize, const K: usize, P, F>(
    data: &[P],
    init: Gmm<T, D, K>,
    options: &FitOptions<T>,
    responsibilities: &mut [SVector<T, K>],
    callback: F,
) -> Result<FitReport<T, D, K>, Error>
where
    T: Real,
    P: AsPoint<T, D>,
    F: FnMut(&Iteration<T>) -> ControlFlow<()>,
{
    if responsibilities.len() != data.len() {
        return Err(Error::LengthMismatch {
            expected: data.len(),
            found: responsibilities.len(),
        });
    }
    run(data, init, options, Some(responsibilities), callback)
}

/// One EM iteration: an E pass over `data` under `model`, then the M-step.
/// Returns the new model and the total log-likelihood of the *old* one.
/// `reg_covar` is relative to the data's scale, as
/// [`FitOptions::reg_covar`]. [`fit`] with `max_iter = 1` does the same
/// plus the loop's bookkeeping; this is the building block for callers that
/// drive the loop themselves.
///
/// # Errors
///
/// As for [`fit`].
pub fn em_step<T: Real, const D: usize, const K: usize, P: AsPoint<T, D>>(
    data: &[P],
    model: &Gmm<T, D, K>,
    reg_covar: T,
) -> Result<(Gmm<T, D, K>, T), Error> {
    FitOptions::default().with_reg_covar(reg_covar).validate()?;
    let reg = (reg_covar * check_data(data, K)?).min(math::max_finite());
    let mut stats = SufficientStats::new(model);
    e_pass(data, model, &mut stats, None)?;
    let log_likelihood = finite_likelihood(stats.log_likelihood())?;
    let mut next = *model;
    m_step(data, &mut next, &mut stats, reg)?;
    Ok((next, log_likelihood))
}

/// The M-step, after a second pass on recentred statistics if the first
/// pass's one-pass covariances would be inaccurate (see
/// [`SufficientStats::needs_recentring`]). The second pass recomputes the
/// same responsibilities under the same model, so only the rounding of the
/// covariances changes.
///
/// Works in place: `stats` (accumulated under `model`) may be replaced by
/// the recentred pass, and `model` is overwritten by the new parameters.
fn m_step<T: Real, const D: usize, const K: usize, P: AsPoint<T, D>>(
    data: &[P],
    model: &mut Gmm<T, D, K>,
    stats: &mut SufficientStats<T, D, K>,
    reg: T,
) -> Result<(), Error> {
    if stats.needs_recentring() {
        *stats = stats.recentred();
        e_pass(data, model, stats, None)?;
    }
    stats.m_step_in_place(model, reg)
}

fn run<T, const D: usize, const K: usize, P, F>(
    data: &[P],
    init: Gmm<T, D, K>,
    options: &FitOptions<T>,
    mut responsibilities: Option<&mut [SVector<T, K>]>,
    mut callback: F,
) -> Result<FitReport<T, D, K>, Error>
where
    T: Real,
    P: AsPoint<T, D>,
    F: FnMut(&Iteration<T>) -> ControlFlow<()>,
{
    options.validate()?;
    let reg = (options.reg_covar * check_data(data, K)?).min(math::max_finite());
    let n = math::count::<T>(data.len());
    let mut model = init;
    let mut previous: Option<T> = None;
    let mut iterations = 0;
    loop {
        let mut stats = SufficientStats::new(&model);
        e_pass(data, &model, &mut stats, responsibilities.as_deref_mut())?;
        let log_likelihood = finite_likelihood(stats.log_likelihood())?;
        let mean_log_likelihood = log_likelihood / n;
        let report = |termination| FitReport {
            model,
            iterations,
            termination,
            log_likelihood,
            mean_log_likelihood,
        };
        let it = Iteration {
            iteration: iterations,
            log_likelihood,
            mean_log_likelihood,
        };
        if callback(&it).is_break() {
            return Ok(report(Termination::Stopped));
        }
        if previous.is_some_and(|p| mean_log_likelihood - p < options.tol) {
            return Ok(report(Termination::Converged));
        }
        if iterations >= options.max_iter {
            return Ok(report(Termination::MaxIterations));
        }
        m_step(data, &mut model, &mut stats, reg)?;
        previous = Some(mean_log_likelihood);
        iterations += 1;
    }
}

/// One pass over data already checked to be finite, accumulating into
/// `stats` (empty, started for `model`) block by block (see
/// [`BLOCK`](crate::stats::BLOCK)), and optionally writing each point's
/// responsibilities.
fn e_pass<T: Real, const D: usize, const K: usize, P: AsPoint<T, D>>(
    data: &[P],
    model: &Gmm<T, D, K>,
    stats: &mut SufficientStats<T, D, K>,
    responsibilities: Option<&mut [SVector<T, K>]>,
) -> Result<(), Error> {
    let zero_density = |block: usize, i: usize| Error::ZeroDensity {
        index: block * BLOCK + i,
    };
    match responsibilities {
        None => {
            for (b, block) in data.chunks(BLOCK).enumerate() {
                stats
                    .accumulate_block(model, block, None)
                    .map_err(|i| zero_density(b, i))?;
            }
        }
        Some(out) => {
            for (b, (block, slots)) in data.chunks(BLOCK).zip(out.chunks_mut(BLOCK)).enumerate() {
                stats
                    .accumulate_block(model, block, Some(slots))
                    .map_err(|i| zero_density(b, i))?;
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
            m = em_step(&DATA, &m, 1e-6).unwrap().0;
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
        let o = FitOptions::default();
        assert_eq!(
            fit(&DATA, start(), &o.with_tol(-1.0), go),
            Err(Error::InvalidOption { option: "tol" })
        );
        assert_eq!(
            fit(&DATA, start(), &o.with_tol(f64::NAN), go),
            Err(Error::InvalidOption { option: "tol" })
        );
        assert_eq!(
            fit(&DATA, start(), &o.with_reg_covar(f64::INFINITY), go),
            Err(Error::InvalidOption {
                option: "reg_covar"
            })
        );
        assert_eq!(
            fit(&DATA[..1], start(), &o, go),
            Err(Error::TooFewPoints {
                points: 1,
                needed: 2
            })
        );
        let mut bad = DATA;
        bad[5] = [f64::NEG_INFINITY];
        assert_eq!(
            fit(&bad, start(), &o, go),
            Err(Error::NonFiniteData { index: 5 })
        );
    }
}
