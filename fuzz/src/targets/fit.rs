//! `fit`: arbitrary data and options, of every covariance kind, from
//! `init::random_points`, `init::kmeans_plus_plus` (with and without its
//! buffer) or an arbitrary user model, through `fit`,
//! `fit_with_responsibilities`, `em_step` (and `Gmm::fit` with one
//! iteration), `SufficientStats` by hand over two shards, `fit_weighted`
//! with arbitrary sample weights (and `SufficientStats::accumulate_weighted`),
//! `fit` with frozen parameters (and `SufficientStats::m_step_frozen`),
//! `fit_restarts`, `ResumableFit` with an arbitrary budget, or `OnlineGmm`
//! with an arbitrary step size and refresh interval.
//!
//! Asserts: no panic; on `Ok` every model passes `check_model` (finite,
//! weights ≥ 0 summing to 1, covariances symmetric positive definite, the
//! kind's accessors consistent); the reported log-likelihood and its mean
//! are bit for bit the returned model's own and the last the callback saw;
//! `iterations ≤ max_iter` and consistent with the termination and the
//! trace (`Converged` only on a change below `tol` and above minus
//! rounding); `decreases` counts the trace's falls beyond rounding and is 0
//! for plain EM (`reg_covar = 0`, also weighted or with frozen parameters)
//! unless a covariance of the returned model is singular at `T`'s
//! resolution; `effective_reg_covar` is finite, ≥ 0, 0 without
//! regularisation, M-step or free covariances, else at least the smallest
//! normal number; responsibilities are distributions equal to
//! `model.responsibilities(x)`; `em_step` gives `Gmm::fit`'s first M-step;
//! on `Err`, the documented error for the input where the docs determine
//! it, and never `NotPositiveDefinite` (nor an overflow) for an *ordinary*
//! input ([`ordinary`]). Shards: `m_step` of statistics that
//! `needs_recentring()` is `Err(NeedsRecentring)` (and only those), and
//! recentred passes over the same points fix it. Weighted: the documented
//! weight errors in order (`LengthMismatch`, `InvalidSampleWeight` at the
//! first bad weight or where the running total overflows,
//! `ZeroTotalWeight`, `TooFewPoints` counting positive weights,
//! `NonFiniteData` of the first bad point of positive weight); scores are
//! `Σ wᵢ ln p(xᵢ)` (by `accumulate_weighted`) and their mean over `Σ wᵢ`,
//! bit for bit; all weights 1 give `fit`'s models bit for bit. Frozen: the
//! held weights, means and covariances are those of the start bit for bit
//! (in the fit and in `m_step_frozen`), the free ones those of the plain
//! M-step where they do not depend on the held ones. Restarts: the best of
//! the fits made by hand from the same RNG (highest log-likelihood, the
//! earliest on a tie), or the first error, with the same variates drawn.
//! Resumable: `fit`'s report bit for bit, or its error; at most one M-step
//! per call. Online: after every update that succeeds the model passes
//! `check_model` and the scores are finite; an update that fails leaves
//! the learner equal to what it was (also for a block); bad options are
//! `InvalidOption` naming them.
// `!(x > y)` is deliberate: unlike `x <= y` it is also true for NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use core::num::NonZeroUsize;
use core::ops::ControlFlow;

use arbitrary::Arbitrary;
use gaussmix::nalgebra::SVector;
use gaussmix::{
    em_step, fit, fit_restarts, fit_weighted, fit_with_responsibilities, init, Error, FitOptions,
    FitReport, Frozen, Gmm, Iteration, OnlineGmm, OnlineOptions, Progress, ResumableFit, StepSize,
    SufficientStats, Termination,
};
use serde::{Deserialize, Serialize};

use crate::case::{points, Kind, KindExt, Model, Typed, Vector};
use crate::check::{
    check_model, check_responsibilities, first_non_finite, largest_coordinate, sum_tolerance,
};
use crate::dispatch_shape;
use crate::num::{f, Num, Scalar, V};
use crate::rng::SplitMix;
use crate::spec::{DataSpec, ModelSpec, SampleWeightSpec, Shape, MAX_POINTS};

pub const NAME: &str = "fit";

/// The most EM iterations a case runs (`max_iter` is taken modulo one more).
pub const MAX_ITER: usize = 20;

/// The most fits `fit_restarts` makes in a case.
pub const MAX_RESTARTS: usize = 4;

// ---------------------------------------------------------------------------
// Input (the fuzzer's recipe) and case (the values)

#[derive(Arbitrary, Debug)]
pub struct Input {
    pub single: bool,
    pub shape: Shape,
    pub kind: Kind,
    pub data: DataSpec,
    pub start: StartSpec,
    pub seed: u64,
    pub max_iter: u8,
    pub tol: Option<Num>,
    pub reg_covar: Option<Num>,
    pub mode: ModeSpec,
    /// The callback breaks at this iteration.
    pub stop_at: Option<u8>,
}

#[derive(Arbitrary, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum StartSpec {
    RandomPoints,
    KMeansPlusPlus,
    KMeansPlusPlusWithBuffer { wrong_length: bool },
    User(ModelSpec),
}

/// What is run on the start (the recipe of [`Mode`]).
#[derive(Arbitrary, Debug)]
pub enum ModeSpec {
    Fit,
    WithResponsibilities {
        wrong_length: bool,
    },
    EmStep,
    Shards {
        split: u8,
    },
    Weighted {
        weights: SampleWeightSpec,
        frozen: Held,
    },
    Frozen(Held),
    /// `1 + restarts mod MAX_RESTARTS` restarts.
    Restarts {
        restarts: u8,
    },
    /// `ResumableFit` with `1 + budget` points per call.
    Resumable {
        budget: u8,
    },
    /// `OnlineGmm` with this step (constant or decaying) and refresh.
    Online {
        constant: bool,
        gamma: Num,
        exponent: Num,
        refresh: u8,
    },
}

/// What is run on the start.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields, bound = "")]
pub enum Mode<T: Scalar> {
    Fit,
    /// `fit_with_responsibilities`; a buffer one slot too long if
    /// `wrong_length`.
    WithResponsibilities {
        wrong_length: bool,
    },
    /// `em_step`, and `Gmm::fit` with `max_iter = 1` to compare.
    EmStep,
    /// `SufficientStats` over two shards (points `..split` one by one with
    /// `accumulate`, the rest with `accumulate_slice`), merged, then
    /// `m_step` with `reg_covar` as the absolute regularisation.
    Shards {
        split: u8,
    },
    /// `fit_weighted` with these sample weights (any values, any number of
    /// them) and `frozen` held; `SufficientStats::accumulate_weighted` with
    /// them on the start; `fit` beside it when every weight is 1.
    Weighted {
        weights: Vector<T>,
        frozen: Held,
    },
    /// `fit` with these parameters frozen (`FitOptions::frozen`), then
    /// `Shards { split: N / 2 }` with `m_step_frozen` (and `m_step` to
    /// compare).
    Frozen(Held),
    /// `fit_restarts` with `restarts` (≥ 1) fits, each start drawn by the
    /// case's start (a user model: the model first, then
    /// `init::random_points`), against the same fits by hand.
    Restarts {
        restarts: usize,
    },
    /// `ResumableFit` with `budget` (≥ 1) points per call, against `fit`.
    Resumable {
        budget: usize,
    },
    /// `OnlineGmm` (a warm-up of `ONLINE_WARM_UP` points) fed every point,
    /// then the data as one block, with `StepSize::Constant(gamma)` or
    /// `StepSize::Decaying { gamma0: gamma, offset: 0, exponent }`, and
    /// `refresh`; the fit's `reg_covar` and `max_iter` for the warm-up.
    Online {
        constant: bool,
        gamma: V<T>,
        exponent: V<T>,
        refresh: usize,
    },
}

/// The online learner's warm-up in the fuzz target (at least every `K` of
/// [`SHAPES`](crate::case::SHAPES)).
pub const ONLINE_WARM_UP: usize = 4;

/// Which parameters are held fixed (`gaussmix::Frozen`).
#[derive(Arbitrary, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Held {
    pub weights: bool,
    pub means: bool,
    pub covariances: bool,
}

impl Held {
    pub const NONE: Held = Held {
        weights: false,
        means: false,
        covariances: false,
    };

    pub fn frozen(self) -> Frozen {
        let mut f = Frozen::NONE;
        if self.weights {
            f = f.with_weights();
        }
        if self.means {
            f = f.with_means();
        }
        if self.covariances {
            f = f.with_covariances();
        }
        f
    }
}

/// The start of a fit.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "snake_case", deny_unknown_fields, bound = "")]
pub enum Start<T: Scalar> {
    RandomPoints,
    KmeansPlusPlus,
    /// `kmeans_plus_plus_with_buffer`, with a buffer one slot too long if
    /// `wrong_length` (then `kmeans_plus_plus`).
    KmeansPlusPlusWithBuffer {
        wrong_length: bool,
    },
    /// `Gmm::new` on these parameters (the case ends if it rejects them).
    Model(Model<T>),
}

/// What the fit target runs.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields, bound = "")]
pub struct Case<T: Scalar> {
    pub kind: Kind,
    /// `D`.
    pub dimension: usize,
    /// `K`.
    pub components: usize,
    pub data: Vec<Vector<T>>,
    pub start: Start<T>,
    /// Seed of the initialisers' SplitMix64.
    pub seed: u64,
    pub max_iter: usize,
    /// `None`: the default.
    pub tol: Option<V<T>>,
    /// `None`: the default.
    pub reg_covar: Option<V<T>>,
    pub mode: Mode<T>,
    /// The callback breaks at this iteration.
    pub stop_at: Option<usize>,
}

pub type Doc = Typed<Case<f32>, Case<f64>>;

pub fn lower(input: &Input) -> Doc {
    dispatch_shape!(input.single, input.shape, lower_at(input))
}

fn lower_at<T: Scalar, const D: usize, const K: usize>(input: &Input) -> Case<T> {
    let data = input.data.points::<T, D>(MAX_POINTS);
    let mode = match &input.mode {
        ModeSpec::Fit => Mode::Fit,
        ModeSpec::WithResponsibilities { wrong_length } => Mode::WithResponsibilities {
            wrong_length: *wrong_length,
        },
        ModeSpec::EmStep => Mode::EmStep,
        ModeSpec::Shards { split } => Mode::Shards { split: *split },
        ModeSpec::Weighted { weights, frozen } => Mode::Weighted {
            weights: weights
                .weights(&points::<T, D>(&data))
                .into_iter()
                .map(V)
                .collect(),
            frozen: *frozen,
        },
        ModeSpec::Frozen(held) => Mode::Frozen(*held),
        ModeSpec::Restarts { restarts } => Mode::Restarts {
            restarts: 1 + usize::from(*restarts) % MAX_RESTARTS,
        },
        ModeSpec::Resumable { budget } => Mode::Resumable {
            budget: 1 + usize::from(*budget),
        },
        ModeSpec::Online {
            constant,
            gamma,
            exponent,
            refresh,
        } => Mode::Online {
            constant: *constant,
            gamma: V(gamma.get()),
            exponent: V(exponent.get()),
            refresh: usize::from(*refresh),
        },
    };
    Case {
        kind: input.kind,
        dimension: D,
        components: K,
        data,
        start: match &input.start {
            StartSpec::RandomPoints => Start::RandomPoints,
            StartSpec::KMeansPlusPlus => Start::KmeansPlusPlus,
            StartSpec::KMeansPlusPlusWithBuffer { wrong_length } => {
                Start::KmeansPlusPlusWithBuffer {
                    wrong_length: *wrong_length,
                }
            }
            StartSpec::User(spec) => Start::Model(spec.model::<T, D, K>(input.kind)),
        },
        seed: input.seed,
        max_iter: usize::from(input.max_iter) % (MAX_ITER + 1),
        tol: input.tol.map(|t| V(t.get())),
        reg_covar: input.reg_covar.map(|r| V(r.get())),
        mode,
        stop_at: input.stop_at.map(usize::from),
    }
}

crate::target_entry!();

// ---------------------------------------------------------------------------
// Ordinary inputs

/// The points that count: all of them, or those of positive weight (a
/// weight of 0 leaves its point out).
pub fn counted<T: Scalar, const D: usize>(
    data: &[SVector<T, D>],
    weights: Option<&[T]>,
) -> Vec<SVector<T, D>> {
    match weights {
        None => data.to_vec(),
        Some(w) => data
            .iter()
            .zip(w)
            .filter(|(_, &w)| f(w) > 0.0)
            .map(|(x, _)| *x)
            .collect(),
    }
}

/// `FitOptions::reg_covar`'s unit for `data` (finite) with sample weights
/// (finite, ≥ 0, one per point; `None`: 1 each), computed in `f64`: the
/// mean over coordinates of the weighted population variance of the
/// points of positive weight; where that is at most `(ε·largest
/// |coordinate|)²` (ε of `T`: no spread `T` resolves), the largest squared
/// coordinate; 1 for all-zero data.
pub fn data_scale<T: Scalar, const D: usize>(data: &[SVector<T, D>], weights: Option<&[T]>) -> f64 {
    let weight = |i: usize| weights.map_or(1.0, |w| f(w[i]));
    let n: f64 = (0..data.len()).map(weight).sum();
    let mut total = 0.0;
    for i in 0..D {
        let mean = data
            .iter()
            .enumerate()
            .map(|(j, x)| weight(j) * f(x[i]))
            .sum::<f64>()
            / n;
        total += data
            .iter()
            .enumerate()
            .map(|(j, x)| weight(j) * (f(x[i]) - mean).powi(2))
            .sum::<f64>()
            / n;
    }
    let variance = total / D as f64;
    let largest = largest_coordinate(&counted(data, weights));
    if variance > (T::EPS64 * largest).powi(2) {
        variance
    } else if largest > 0.0 {
        largest * largest
    } else {
        1.0
    }
}

/// A value of ordinary magnitude: 0, or `|x|` in `[10⁻³, 10³]`.
pub fn ordinary_value(x: f64) -> bool {
    x == 0.0 || (1e-3..=1e3).contains(&x.abs())
}

/// Whether a fit's input is *ordinary*, where a regularised fit must never
/// end in `NotPositiveDefinite` (README, "Singular covariances"), nor in
/// `DataOverflow`, `MomentOverflow` or `NonFiniteParameter`:
///
/// 0. with sample weights: one per point, each 0 or within `[10⁻³, 10³]`;
///    the points of weight 0 are left out of what follows;
/// 1. at least `K` points, every coordinate of ordinary magnitude
///    ([`ordinary_value`]: 0 or within `[10⁻³, 10³]` in absolute value);
/// 2. the start is an initialiser's, or a user model whose mean
///    coordinates are of ordinary magnitude and whose variances (the
///    diagonal entries of every covariance) lie within `[10⁻⁴·s, 10⁴·s]`,
///    `s` the data's (weighted) scale ([`data_scale`]);
/// 3. `reg_covar ≥ 10⁻⁶` (relative to `s`, as `FitOptions` takes it).
pub fn ordinary<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    data: &[SVector<T, D>],
    weights: Option<&[T]>,
    start: &Gmm<T, D, K, C>,
    user_start: bool,
    reg_covar: T,
) -> bool {
    if let Some(w) = weights {
        if w.len() != data.len()
            || !w
                .iter()
                .all(|&w| f(w) == 0.0 || (1e-3..=1e3).contains(&f(w)))
        {
            return false;
        }
    }
    let points = counted(data, weights);
    if points.len() < K
        || !points
            .iter()
            .all(|x| x.iter().all(|&c| ordinary_value(f(c))))
    {
        return false;
    }
    if !(f(reg_covar) >= 1e-6 && f(reg_covar).is_finite()) {
        return false;
    }
    if user_start {
        let s = match weights {
            None => data_scale(data, None),
            Some(w) => {
                let w: Vec<T> = w.iter().copied().filter(|&w| f(w) > 0.0).collect();
                data_scale(&points, Some(&w))
            }
        };
        let means_ok = start
            .means()
            .iter()
            .all(|m| m.iter().all(|&c| ordinary_value(f(c))));
        let variances_ok = start
            .covariances()
            .iter()
            .all(|c| (0..D).all(|i| (1e-4 * s..=1e4 * s).contains(&f(c[(i, i)]))));
        if !(means_ok && variances_ok) {
            return false;
        }
    }
    true
}

/// Whether the weighted sums of squared deviations the data's scale is
/// computed from (`Σᵢ wᵢ (xᵢ − x₀)²` per coordinate, from the first point
/// of positive weight) may overflow `T`, though the variance itself need
/// not: `DataOverflow` is then an honest answer of the scale the M-step
/// measures from its statistics.
fn weighted_squares_overflow<T: Scalar, const D: usize>(
    data: &[SVector<T, D>],
    weights: &[T],
) -> bool {
    let counted: Vec<(SVector<T, D>, f64)> = data
        .iter()
        .zip(weights)
        .filter(|(_, &w)| f(w) > 0.0)
        .map(|(x, &w)| (*x, f(w)))
        .collect();
    let Some((origin, _)) = counted.first() else {
        return false;
    };
    (0..D).any(|i| {
        let squares: f64 = counted
            .iter()
            .map(|(x, w)| w * (f(x[i]) - f(origin[i])).powi(2))
            .sum();
        !(squares < T::MAX64 / 4.0)
    })
}

/// The errors a fit or EM step may end in on valid, finite data when the
/// input does not determine one; never, for an ordinary input, more than
/// `ZeroDensity` or `LikelihoodOverflow`. With sample weights, only points
/// of positive weight count.
fn check_run_error<T: Scalar, const D: usize, const K: usize>(
    what: &str,
    data: &[SVector<T, D>],
    weights: Option<&[T]>,
    e: Error,
    ordinary: bool,
) {
    let n = data.len();
    let points = counted(data, weights);
    let allowed = match e {
        Error::ZeroDensity { index } => {
            index < n && weights.is_none_or(|w| w.get(index).is_some_and(|&w| f(w) > 0.0))
        }
        Error::LikelihoodOverflow => true,
        Error::NotPositiveDefinite { component } | Error::NonFiniteParameter { component } => {
            component < K && !ordinary
        }
        Error::MomentOverflow => !ordinary,
        Error::DataOverflow => {
            !ordinary
                && (largest_coordinate(&points) >= T::MAX64.sqrt() / 64.0
                    || weights.is_some_and(|w| weighted_squares_overflow(data, w)))
        }
        _ => false,
    };
    assert!(
        allowed,
        "{what} on {} finite points{}: {e:?}",
        points.len(),
        if ordinary { " (an ordinary input)" } else { "" }
    );
}

/// Some covariance of `m` is ill-conditioned to working precision: its
/// smallest Cholesky pivot (in `f64`) is below `√ε` of its diagonal entry
/// (a condition number beyond about `1/√ε`: half the digits lost).
fn near_singular<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    m: &Gmm<T, D, K, C>,
) -> bool {
    let bound = T::EPS64.sqrt();
    m.covariances().iter().any(|c| {
        let c = c.map(f);
        let mut l = gaussmix::nalgebra::SMatrix::<f64, D, D>::zeros();
        for i in 0..D {
            for j in 0..=i {
                let s = c[(i, j)] - (0..j).map(|k| l[(i, k)] * l[(j, k)]).sum::<f64>();
                if i == j {
                    if !(s >= bound * c[(i, i)]) {
                        return true;
                    }
                    l[(i, i)] = s.sqrt();
                } else {
                    l[(i, j)] = s / l[(j, j)];
                }
            }
        }
        false
    })
}

/// Errors the initialisers document, checked exactly where the input
/// determines them.
fn check_init_error<T: Scalar, const D: usize, const K: usize>(data: &[SVector<T, D>], e: Error) {
    let needed = K.max(2);
    if data.len() < needed {
        assert_eq!(
            e,
            Error::TooFewPoints {
                points: data.len(),
                needed
            }
        );
    } else if let Some(index) = first_non_finite(data) {
        assert_eq!(e, Error::NonFiniteData { index });
    } else {
        // DataOverflow: documented for a spread beyond about √MAX. A start
        // that is not positive definite: seen only for data at the ends of
        // the range (every coordinate below about √MIN_POSITIVE, 1e-19 in
        // f32); allowed at both ends.
        let largest = largest_coordinate(data);
        let (max, min) = (T::MAX64, T::MIN_POSITIVE64);
        let huge = largest >= max.sqrt() / 64.0;
        let ok = match e {
            Error::DataOverflow => huge,
            Error::NotPositiveDefinite { component } => {
                component < K && (huge || largest <= min.sqrt() * 1e4)
            }
            _ => false,
        };
        assert!(
            ok,
            "initialiser on {} finite points (largest |coordinate| {largest:e}): {e:?}",
            data.len()
        );
    }
}

/// `effective_reg_covar` (of a fit report or an EM step): finite, ≥ 0; 0
/// when `reg_covar` is 0 or no M-step made the model; otherwise 0 or at
/// least the smallest normal number (the regularisation rule's floor).
fn check_effective_reg<T: Scalar>(lambda: T, reg_covar: T, from_m_step: bool) {
    let l = f(lambda);
    assert!(l.is_finite() && l >= 0.0, "effective_reg_covar {l:e}");
    if f(reg_covar) == 0.0 || !from_m_step {
        assert_eq!(
            l, 0.0,
            "effective_reg_covar {l:e} with reg_covar {reg_covar:?}, M-step: {from_m_step}"
        );
    } else {
        assert!(
            l == 0.0 || l >= T::MIN_POSITIVE64,
            "effective_reg_covar {l:e} below the smallest normal number"
        );
    }
}

// ---------------------------------------------------------------------------
// The target

fn run_typed<T: Scalar, const D: usize, const K: usize, C: KindExt>(case: &Case<T>) {
    let data = points::<T, D>(&case.data);
    let n = data.len();

    let held = match &case.mode {
        Mode::Weighted { frozen, .. } | Mode::Frozen(frozen) => *frozen,
        _ => Held::NONE,
    };
    let mut options = FitOptions::<T>::default()
        .with_max_iter(case.max_iter)
        .with_frozen(held.frozen());
    if let Some(tol) = case.tol {
        options = options.with_tol(tol.0);
    }
    if let Some(reg) = case.reg_covar {
        options = options.with_reg_covar(reg.0);
    }
    let bad_option = |x: T| !(f(x) >= 0.0 && f(x).is_finite());
    let option_error = if bad_option(options.tol) {
        Some(Error::InvalidOption { option: "tol" })
    } else if bad_option(options.reg_covar) {
        Some(Error::InvalidOption {
            option: "reg_covar",
        })
    } else {
        None
    };
    assert_eq!(options.validate().err(), option_error);

    if let Mode::Restarts { restarts } = case.mode {
        return restarts_mode::<T, D, K, C>(case, &data, &options, option_error, restarts);
    }

    let mut rng = SplitMix(case.seed);
    let start: Result<Gmm<T, D, K, C>, Error> = match &case.start {
        Start::RandomPoints => init::random_points(&data, &mut rng),
        Start::KmeansPlusPlus => init::kmeans_plus_plus(&data, &mut rng),
        Start::KmeansPlusPlusWithBuffer { wrong_length } => {
            let mut buffer = vec![T::zero(); n + usize::from(*wrong_length)];
            let got = init::kmeans_plus_plus_with_buffer(&data, &mut buffer, &mut rng);
            if *wrong_length {
                assert_eq!(
                    got,
                    Err(Error::LengthMismatch {
                        expected: n,
                        found: n + 1
                    })
                );
                init::kmeans_plus_plus(&data, &mut rng)
            } else {
                // The same RNG draws and the same model as without it.
                let mut other = SplitMix(case.seed);
                let plain = init::kmeans_plus_plus(&data, &mut other);
                assert_eq!(got, plain, "kmeans_plus_plus with and without a buffer");
                assert_eq!(
                    rng.0, other.0,
                    "kmeans_plus_plus draws differ with a buffer"
                );
                got
            }
        }
        Start::Model(m) => match m.build::<D, K, C>() {
            Ok(m) => Ok(m),
            // The construction target checks these errors.
            Err(_) => return,
        },
    };
    let user_start = matches!(case.start, Start::Model(_));
    let start = match start {
        Ok(m) => {
            check_start(&data, &m, user_start);
            m
        }
        Err(e) => return check_init_error::<T, D, K>(&data, e),
    };

    let weights: Option<Vec<T>> = match &case.mode {
        Mode::Weighted { weights, .. } => Some(weights.iter().map(|w| w.0).collect()),
        _ => None,
    };
    let ordinary = ordinary(
        &data,
        weights.as_deref(),
        &start,
        user_start,
        options.reg_covar,
    );

    match &case.mode {
        Mode::Fit | Mode::WithResponsibilities { .. } => {
            let _ = fit_mode(case, &data, None, start, &options, option_error, ordinary);
        }
        Mode::EmStep => em_step_mode(&data, &start, options.reg_covar, ordinary),
        Mode::Shards { split } => {
            shards_mode(&data, &start, options.reg_covar, *split, Frozen::NONE)
        }
        Mode::Weighted { .. } => {
            let weights = weights.as_deref().unwrap_or_default();
            weighted_mode(
                case,
                &data,
                weights,
                start,
                &options,
                option_error,
                ordinary,
            );
        }
        Mode::Frozen(held) => {
            let _ = fit_mode(case, &data, None, start, &options, option_error, ordinary);
            let split = u8::try_from(n / 2).unwrap_or(u8::MAX);
            shards_mode(&data, &start, options.reg_covar, split, held.frozen());
        }
        Mode::Restarts { .. } => unreachable!("handled above"),
        Mode::Resumable { budget } => resumable_mode(&data, start, &options, *budget),
        Mode::Online {
            constant,
            gamma,
            exponent,
            refresh,
        } => {
            let step = if *constant {
                StepSize::Constant(gamma.0)
            } else {
                StepSize::Decaying {
                    gamma0: gamma.0,
                    offset: T::zero(),
                    exponent: exponent.0,
                }
            };
            online_mode(&data, start, &options, step, *refresh);
        }
    }
}

/// `ResumableFit` driven to the end with `budget` points per call gives
/// `fit`'s result bit for bit (report or error), with at most one M-step
/// per call, and the same result on every later call.
fn resumable_mode<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    data: &[SVector<T, D>],
    start: Gmm<T, D, K, C>,
    options: &FitOptions<T>,
    budget: usize,
) {
    let expected = fit(data, start, options, |_| ControlFlow::Continue(()));
    let mut resumable = match ResumableFit::new(start, options) {
        Ok(r) => r,
        Err(e) => return assert_eq!(Err(e), expected.map(|_| ())),
    };
    let mut iterations = 0;
    let got = loop {
        match resumable.advance(data, budget) {
            Ok(Progress::Working(at)) => {
                assert!(at.iterations <= iterations + 1, "two M-steps in one call");
                iterations = at.iterations;
            }
            Ok(Progress::Done(report)) => break Ok(report),
            Err(e) => break Err(e),
        }
    };
    assert_eq!(got, expected, "ResumableFit against fit");
    let again = resumable.advance(data, budget);
    assert_eq!(again, got.map(Progress::Done), "a finished fit's next call");
}

/// `OnlineGmm` fed every point, then the data as one block: a valid model
/// and finite scores after every success, the learner unchanged after
/// every failure, the documented option errors.
fn online_mode<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    data: &[SVector<T, D>],
    start: Gmm<T, D, K, C>,
    fit_options: &FitOptions<T>,
    step: StepSize<T>,
    refresh: usize,
) {
    let options = OnlineOptions::default()
        .with_step(step)
        .with_refresh(refresh)
        .with_fit(*fit_options);
    let step_ok = match step {
        StepSize::Constant(g) => f(g) > 0.0 && f(g) < 1.0,
        StepSize::Decaying {
            gamma0, exponent, ..
        } => f(gamma0) > 0.0 && f(gamma0) <= 1.0 && f(exponent) > 0.5 && f(exponent) <= 1.0,
    };
    let expected_error = if !step_ok {
        Some(Error::InvalidOption { option: "step" })
    } else if refresh == 0 {
        Some(Error::InvalidOption { option: "refresh" })
    } else {
        fit_options.validate().err()
    };
    let mut online = match OnlineGmm::<T, D, K, ONLINE_WARM_UP, C>::new(start, &options) {
        Ok(o) => {
            assert_eq!(expected_error, None);
            o
        }
        Err(e) => return assert_eq!(Some(e), expected_error),
    };
    let check = |online: &OnlineGmm<T, D, K, ONLINE_WARM_UP, C>| {
        check_model(online.model());
        if let Some(m) = online.mean_log_likelihood() {
            assert!(f(m).is_finite(), "mean log-likelihood {m:?}");
        }
    };
    for x in data {
        let before = online;
        match online.update(x) {
            Ok(u) => {
                assert!(f(u.log_likelihood).is_finite());
                check(&online);
            }
            Err(_) => assert_eq!(online, before, "a failed update changed the learner"),
        }
    }
    let before = online;
    match online.update_block(data) {
        Ok(_) => check(&online),
        Err(_) => assert_eq!(online, before, "a failed block changed the learner"),
    }
}

/// A start passes `check_model`; an initialiser's means are data points.
fn check_start<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    data: &[SVector<T, D>],
    m: &Gmm<T, D, K, C>,
    user_start: bool,
) {
    check_model(m);
    if !user_start {
        for mu in m.means() {
            assert!(
                data.contains(&mu),
                "initial mean {mu:?} is not a data point"
            );
        }
    }
}

/// Whether `got` is what a fit, a restart or an EM step may give for an
/// input whose first error is `want`: `want` itself, or, where `want`
/// names a non-finite point, `ZeroDensity` at an earlier point. The first
/// E pass checks each point as it reads it, in order, so a finite point
/// whose density underflows under the start comes first.
fn is_data_error(got: Error, want: Error) -> bool {
    got == want
        || matches!(
            (got, want),
            (Error::ZeroDensity { index: i }, Error::NonFiniteData { index: j }) if i < j
        )
}

/// The input error of a fit or EM step, as [`is_data_error`] judges it:
/// `TooFewPoints` for fewer than `K` points (or none), before it looks at
/// the model; else `NonFiniteData` naming the first bad point, which the
/// first E pass finds.
fn data_error<T: Scalar, const D: usize, const K: usize>(data: &[SVector<T, D>]) -> Option<Error> {
    let n = data.len();
    if n < K.max(1) {
        Some(Error::TooFewPoints {
            points: n,
            needed: K.max(1),
        })
    } else {
        first_non_finite(data).map(|index| Error::NonFiniteData { index })
    }
}

/// What `fit_weighted` must reject (after the options) before it looks at
/// the model, in the documented order: `LengthMismatch` unless one weight
/// per point; `InvalidSampleWeight` at the first weight that is negative,
/// NaN, infinite or subnormal or where the running total (summed in `T`,
/// in order) overflows; `ZeroTotalWeight`; `TooFewPoints` counting the points of
/// positive weight (`K` needed, at least 1); `NonFiniteData` naming the
/// first bad point of positive weight (found by the first E pass, see
/// [`is_data_error`]). Otherwise the total weight, as the fit sums it.
fn weighted_input_error<T: Scalar, const D: usize, const K: usize>(
    data: &[SVector<T, D>],
    weights: &[T],
) -> Result<T, Error> {
    if weights.len() != data.len() {
        return Err(Error::LengthMismatch {
            expected: data.len(),
            found: weights.len(),
        });
    }
    let mut total = T::zero();
    for (index, &w) in weights.iter().enumerate() {
        total += w;
        // A positive weight must be normal (subnormal weights are rejected).
        let subnormal = f(w) > 0.0 && f(w) < T::MIN_POSITIVE64;
        if !(f(w) >= 0.0 && f(total).is_finite()) || subnormal {
            return Err(Error::InvalidSampleWeight { index });
        }
    }
    if f(total) == 0.0 {
        return Err(Error::ZeroTotalWeight);
    }
    let points = weights.iter().filter(|&&w| f(w) > 0.0).count();
    let needed = K.max(1);
    if points < needed {
        return Err(Error::TooFewPoints { points, needed });
    }
    let bad = data
        .iter()
        .zip(weights)
        .position(|(x, &w)| f(w) > 0.0 && !x.iter().all(|&c| f(c).is_finite()));
    match bad {
        Some(index) => Err(Error::NonFiniteData { index }),
        None => Ok(total),
    }
}

/// One entry of the callback's trace.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Seen<T> {
    iteration: usize,
    log_likelihood: T,
    mean: T,
}

/// `fit`, `fit_with_responsibilities` (the case's mode) or, with sample
/// weights, `fit_weighted`, with every check; returns the result.
fn fit_mode<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    case: &Case<T>,
    data: &[SVector<T, D>],
    weights: Option<&[T]>,
    start: Gmm<T, D, K, C>,
    options: &FitOptions<T>,
    option_error: Option<Error>,
    ordinary: bool,
) -> Result<FitReport<T, D, K, C>, Error> {
    let n = data.len();
    // The weighted input's own error, else the total weight the means are
    // taken over.
    let weighted = weights.map(|w| weighted_input_error::<T, D, K>(data, w));
    let total = match weighted {
        Some(Ok(total)) => total,
        _ => T::of_f64(n as f64),
    };
    // Weights whose total is within 10⁴ of `MAX`: `Σ wᵢ ln p(xᵢ)` may then
    // overflow to +∞ (a positive log-density, at most about `745·D` even
    // for subnormal variances, times a huge weight) or to NaN (+∞ − ∞).
    // Never otherwise.
    let huge = weights.is_some() && f(total) >= T::MAX64 / 1e4;
    let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
    let mut trace: Vec<Seen<T>> = Vec::new();
    let stop_at = case.stop_at;
    let callback = |it: &Iteration<T>| {
        assert_eq!(it.iteration, trace.len(), "iterations out of order");
        // −∞ is allowed in the trace (a start astronomically far from the
        // data), never NaN or +∞ (but for huge weights, above).
        let ll = f(it.log_likelihood);
        assert!(
            ll.is_finite() || ll == f64::NEG_INFINITY || (huge && !(ll < f64::INFINITY)),
            "iteration {}: log-likelihood {:?} (total weight {:?})",
            it.iteration,
            it.log_likelihood,
            total
        );
        assert!(
            same(f(it.mean_log_likelihood), f(it.log_likelihood / total)),
            "mean log-likelihood {:?} of {:?} over {total:?}",
            it.mean_log_likelihood,
            it.log_likelihood
        );
        trace.push(Seen {
            iteration: it.iteration,
            log_likelihood: it.log_likelihood,
            mean: it.mean_log_likelihood,
        });
        if stop_at == Some(it.iteration) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let mut buffer = Vec::new();
    let (result, length_error) = match (&case.mode, weights) {
        (Mode::WithResponsibilities { wrong_length }, _) => {
            let len = n + usize::from(*wrong_length);
            buffer = vec![SVector::<T, K>::zeros(); len];
            let e = wrong_length.then_some(Error::LengthMismatch {
                expected: n,
                found: len,
            });
            (
                fit_with_responsibilities(data, start, options, &mut buffer, callback),
                e,
            )
        }
        (_, Some(w)) => (fit_weighted(data, w, start, options, callback), None),
        (_, None) => (fit(data, start, options, callback), None),
    };
    let expected_error = length_error.or(option_error).or_else(|| match weighted {
        Some(w) => w.err(),
        None => data_error::<T, D, K>(data),
    });

    let what = if weights.is_some() {
        "fit_weighted"
    } else {
        "fit"
    };
    let report = match result {
        Err(e) => {
            match expected_error {
                Some(want) => assert!(is_data_error(e, want), "{what}: {e:?}, not {want:?}"),
                None => check_run_error::<T, D, K>(what, data, weights, e, ordinary),
            }
            return result;
        }
        Ok(report) => report,
    };
    assert_eq!(expected_error, None, "{what} succeeded on invalid input");
    check_model(&report.model);
    let (ll, mean) = (report.log_likelihood, report.mean_log_likelihood);
    assert!(f(ll).is_finite(), "log-likelihood {ll:?}");
    assert!(f(mean).is_finite(), "mean log-likelihood {mean:?}");
    // The reported scores are the returned model's, bit for bit (the model
    // sums exactly as the fit does): with weights `Σ wᵢ ln p(xᵢ)` as
    // `accumulate_weighted` sums it, over the total weight.
    match weights {
        None => {
            assert_eq!(report.model.log_likelihood(data), Ok(ll));
            assert_eq!(report.model.mean_log_likelihood(data), Ok(mean));
        }
        Some(w) => {
            let mut stats = SufficientStats::new(&report.model);
            assert_eq!(
                stats.accumulate_weighted(&report.model, data, w),
                Ok(ll),
                "the weighted log-likelihood of the returned model"
            );
            assert_eq!(f(mean), f(ll / total), "the weighted mean log-likelihood");
        }
    }

    let it = report.iterations;
    assert!(it <= options.max_iter);
    assert_eq!(trace.len(), it + 1, "the callback saw iterations 0..={it}");
    // The report holds the last model scored.
    let last = trace[it];
    assert_eq!(
        (last.log_likelihood, last.mean),
        (ll, mean),
        "the report's scores are not those of the last iteration"
    );
    // Falls of the mean log-likelihood `ℓ̄` beyond rounding, `√ε (|ℓ̄| + 1)`
    // (computed here in f64: only clear cases count either way).
    let mut falls = (0, 0); // (certainly, possibly)
    let mut last_change = None;
    for w in trace.windows(2) {
        let (before, after) = (f(w[0].mean), f(w[1].mean));
        let change = after - before;
        let noise = T::EPS64.sqrt() * (before.abs() + 1.0);
        falls.0 += usize::from(change <= -noise * (1.0 + 1e-5));
        falls.1 += usize::from(change <= -noise * (1.0 - 1e-5));
        last_change = Some((w[1].mean - w[0].mean, noise));
    }
    assert!(report.decreases <= it);
    assert!(
        (falls.0..=falls.1).contains(&report.decreases),
        "decreases = {}, the trace falls {}..={} times beyond rounding: {trace:?}",
        report.decreases,
        falls.0,
        falls.1
    );
    // (A fall from an overflowed score, with huge weights, is no fall of
    // the likelihood.)
    let overflowed = trace.iter().any(|s| !f(s.log_likelihood).is_finite());
    if f(options.reg_covar) == 0.0 && report.decreases > 0 && !(huge && overflowed) {
        // Documented (FitReport::decreases): plain EM falls only where a
        // covariance is singular or ill-conditioned to working precision
        // (the log-likelihood is then rounding noise amplified by the
        // conditioning). Holding parameters fixed keeps it a (generalised)
        // EM step, weights make it EM on copies.
        assert!(
            near_singular(&report.model),
            "plain EM ({what}, frozen {:?}) fell {} times: {trace:?}",
            options.frozen,
            report.decreases
        );
    }
    match report.termination {
        Termination::MaxIterations => assert_eq!(it, options.max_iter),
        Termination::Stopped => assert_eq!(stop_at, Some(it)),
        Termination::Converged => {
            let (change, noise) = last_change.expect("Converged after no iteration");
            // Documented: `tol = 0` runs `max_iter` iterations.
            assert!(f(options.tol) > 0.0, "converged with tol = 0");
            // Computed as the fit computes it.
            assert!(change < options.tol, "converged on a change of {change:?}");
            assert!(
                f(change) > -noise * (1.0 + 1e-5),
                "converged on a fall of {change:?} (rounding {noise:e})"
            );
        }
        other => panic!("unknown termination {other:?}"),
    }
    check_effective_reg(report.effective_reg_covar, options.reg_covar, it > 0);

    // Frozen parameters: bit for bit the start's; frozen covariances are
    // not regularised; with everything frozen every pass scores the start.
    let frozen = options.frozen;
    check_held(what, &start, &report.model, frozen);
    if frozen.covariances {
        assert_eq!(
            f(report.effective_reg_covar),
            0.0,
            "frozen covariances regularised"
        );
    }
    if frozen.weights && frozen.means && frozen.covariances {
        assert_eq!(report.decreases, 0);
        for s in &trace {
            assert_eq!(
                s.log_likelihood.bits64(),
                trace[0].log_likelihood.bits64(),
                "everything frozen, yet the log-likelihood moved: {trace:?}"
            );
        }
    }

    if matches!(case.mode, Mode::WithResponsibilities { .. }) {
        for (x, r) in data.iter().zip(buffer.iter()) {
            check_responsibilities(r);
            assert_eq!(report.model.responsibilities(x), Ok(*r));
        }
    }
    Ok(report)
}

/// The parameters `frozen` names are bit for bit those of `start`
/// (`weights()`, `means()`, `covariances()`); with all of them frozen the
/// model is the start.
fn check_held<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    what: &str,
    start: &Gmm<T, D, K, C>,
    model: &Gmm<T, D, K, C>,
    frozen: Frozen,
) {
    fn bits<T: Scalar>(v: &[T]) -> Vec<u64> {
        v.iter().map(|&x| x.bits64()).collect()
    }
    if frozen.weights {
        assert_eq!(
            bits(model.weights().as_slice()),
            bits(start.weights().as_slice()),
            "{what}: frozen weights moved: {:?} → {:?}",
            start.weights().as_slice(),
            model.weights().as_slice()
        );
    }
    for k in 0..K {
        if frozen.means {
            let (a, b) = (start.means()[k], model.means()[k]);
            assert_eq!(
                bits(b.as_slice()),
                bits(a.as_slice()),
                "{what}: frozen mean {k} moved: {a:?} → {b:?}"
            );
        }
        if frozen.covariances {
            let (a, b) = (start.covariances()[k], model.covariances()[k]);
            assert_eq!(
                bits(b.as_slice()),
                bits(a.as_slice()),
                "{what}: frozen covariance {k} moved: {a:?} → {b:?}"
            );
        }
    }
    if frozen.weights && frozen.means && frozen.covariances {
        assert_eq!(
            model, start,
            "{what}: everything frozen, yet the model moved"
        );
    }
}

/// `fit_weighted` with the case's weights, after
/// `SufficientStats::accumulate_weighted` with them on the start; with all
/// weights 1, against `fit`.
fn weighted_mode<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    case: &Case<T>,
    data: &[SVector<T, D>],
    weights: &[T],
    start: Gmm<T, D, K, C>,
    options: &FitOptions<T>,
    option_error: Option<Error>,
    ordinary: bool,
) {
    accumulate_weighted_check(data, weights, &start);
    let weighted = fit_mode(
        case,
        data,
        Some(weights),
        start,
        options,
        option_error,
        ordinary,
    );
    // (No points: `ZeroTotalWeight` for the weights, vacuously all 0,
    // against `fit`'s `TooFewPoints`.)
    if data.is_empty() || weights.len() != data.len() || !weights.iter().all(|&w| f(w) == 1.0) {
        return;
    }
    // Unit weights: the same scale, total, responsibilities and statistics
    // (`x · 1 = x`), so the same M-steps bit for bit; only the scores are
    // summed differently (one `ln` per point instead of per block), which
    // can flip a convergence test near `tol` or an overflow at the edge.
    let stop_at = case.stop_at;
    let plain = fit(data, start, options, |it| {
        if stop_at == Some(it.iteration) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    match (&weighted, &plain) {
        (Ok(a), Ok(b)) if a.iterations == b.iterations => {
            assert_eq!(a.model, b.model, "unit weights: another model than fit's");
            assert_eq!(a.effective_reg_covar, b.effective_reg_covar);
            let bound = sum_tolerance(&b.model, data);
            assert!(
                (f(a.log_likelihood) - f(b.log_likelihood)).abs() <= bound,
                "unit weights: log-likelihood {:?}, fit's {:?} (bound {bound:e})",
                a.log_likelihood,
                b.log_likelihood
            );
        }
        (Ok(a), Ok(b)) => {
            // Only a convergence decision can part them: the one that
            // stopped first converged.
            let first = if a.iterations < b.iterations { a } else { b };
            assert_eq!(
                first.termination,
                Termination::Converged,
                "unit weights: {} iterations, fit's {}",
                a.iterations,
                b.iterations
            );
        }
        (Err(a), Err(b)) => {
            if option_error.is_some() || data_error::<T, D, K>(data).is_some() {
                assert_eq!(a, b, "unit weights: another input error than fit's");
            }
        }
        (Ok(r), Err(e)) | (Err(e), Ok(r)) => assert!(
            *e == Error::LikelihoodOverflow || r.termination == Termination::Converged,
            "unit weights: fit_weighted {:?}, fit {:?}",
            weighted.as_ref().map(|r| r.termination),
            plain.as_ref().map(|r| r.termination)
        ),
    }
}

/// `SufficientStats::accumulate_weighted` on the start: the documented
/// errors in order (`LengthMismatch`; `InvalidSampleWeight` at the first
/// weight that is negative, NaN, infinite or subnormal; the first point of positive
/// weight that `log_prob` rejects, with its index; `LikelihoodOverflow`
/// only for a sum near `T`'s largest value), leaving the statistics
/// unchanged; else `Σ wᵢ ln p(xᵢ)` within summation rounding, the points
/// of positive weight counted, the soft counts summing to the total weight.
fn accumulate_weighted_check<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    data: &[SVector<T, D>],
    weights: &[T],
    start: &Gmm<T, D, K, C>,
) {
    let mut stats = SufficientStats::new(start);
    let before = format!("{stats:?}");
    let got = stats.accumulate_weighted(start, data, weights);
    let at = |e: Error, index: usize| match e {
        Error::NonFiniteData { .. } => Error::NonFiniteData { index },
        Error::ZeroDensity { .. } => Error::ZeroDensity { index },
        other => other,
    };
    let want = if weights.len() != data.len() {
        Some(Error::LengthMismatch {
            expected: data.len(),
            found: weights.len(),
        })
    } else if let Some(index) = weights.iter().position(|&w| {
        !(f(w) >= 0.0 && f(w).is_finite()) || (f(w) > 0.0 && f(w) < T::MIN_POSITIVE64)
    }) {
        Some(Error::InvalidSampleWeight { index })
    } else {
        data.iter()
            .zip(weights)
            .enumerate()
            .filter(|(_, (_, &w))| f(w) > 0.0)
            .find_map(|(i, (x, _))| start.log_prob(x).err().map(|e| at(e, i)))
    };
    let total = match (got, want) {
        (Err(e), Some(want)) => {
            assert_eq!(e, want, "accumulate_weighted");
            None
        }
        (Err(Error::LikelihoodOverflow), None) => {
            let magnitude: f64 = data
                .iter()
                .zip(weights)
                .filter(|(_, &w)| f(w) > 0.0)
                .map(|(x, &w)| f(w) * start.log_prob(x).map_or(0.0, |v| f(v).abs()))
                .sum();
            assert!(
                magnitude >= T::MAX64 / 2.0,
                "accumulate_weighted: LikelihoodOverflow on a sum of magnitude {magnitude:e}"
            );
            None
        }
        (got, want) => {
            assert_eq!(want, None, "accumulate_weighted gave {got:?}");
            Some(got.unwrap_or_else(|e| panic!("accumulate_weighted: {e:?}")))
        }
    };
    let Some(total) = total else {
        assert_eq!(
            format!("{stats:?}"),
            before,
            "a rejected accumulate_weighted changed the statistics"
        );
        return;
    };
    assert!(f(total).is_finite());
    assert_eq!(stats.log_likelihood().bits64(), total.bits64());
    let positive = weights.iter().filter(|&&w| f(w) > 0.0).count();
    assert_eq!(stats.points(), positive, "points of positive weight");
    // Σ wᵢ ln p(xᵢ), each term rounded in T, summed in blocks.
    let mut sum = 0.0;
    let mut magnitude = 0.0;
    for (x, &w) in data.iter().zip(weights) {
        if f(w) > 0.0 {
            let lp = f(start.log_prob(x).expect("checked above"));
            sum += f(w) * lp;
            magnitude += f(w) * (lp.abs() + (K as f64).ln() + 1.0);
        }
    }
    // Relative rounding of each product and sum, and absolute rounding
    // (half the smallest subnormal each) where they underflow.
    let n = data.len() as f64;
    let bound = (n + 256.0) * T::EPS64 * magnitude + 2.0 * (n + 1.0) * T::TINY;
    assert!(
        (f(total) - sum).abs() <= bound,
        "accumulate_weighted: {total:?}, Σ wᵢ ln p(xᵢ) = {sum:e} (bound {bound:e})"
    );
    // Soft counts: each point's responsibilities (summing to 1 within Kε)
    // times its weight, each product rounded (or flushed below the
    // smallest subnormal), summed recursively.
    let weight: f64 = weights.iter().map(|&w| f(w)).sum();
    if weight < T::MAX64 / 4.0 {
        let counts: f64 = stats.counts().iter().map(|&c| f(c)).sum();
        let n = positive as f64;
        let bound = (4.0 * K as f64 + n) * T::EPS64 * weight + 2.0 * n * K as f64 * T::TINY;
        assert!(
            (counts - weight).abs() <= bound,
            "weighted counts sum to {counts:e}, the weights to {weight:e}"
        );
    }
}

/// `fit_restarts` against the same fits made by hand: starts drawn one
/// after the other from the same RNG, each fitted with `Gmm::fit`; the best
/// is the highest final log-likelihood, the earliest on a tie; the first
/// error (of an initialisation or a fit) ends it. The initialiser is the
/// case's start: `random_points`, `kmeans_plus_plus`, the buffered one
/// (with its buffer, of the wrong length if the case says so), or for a
/// user model that model first, then `random_points`.
fn restarts_mode<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    case: &Case<T>,
    data: &[SVector<T, D>],
    options: &FitOptions<T>,
    option_error: Option<Error>,
    restarts: usize,
) {
    let n = data.len();
    let restarts = NonZeroUsize::new(restarts).expect("malformed case: 0 restarts");
    let user = match &case.start {
        Start::Model(m) => match m.build::<D, K, C>() {
            Ok(m) => Some(m),
            Err(_) => return,
        },
        _ => None,
    };
    let initialiser = || {
        let wrong_length = matches!(
            case.start,
            Start::KmeansPlusPlusWithBuffer { wrong_length: true }
        );
        let mut buffer = vec![T::zero(); n + usize::from(wrong_length)];
        let mut calls = 0usize;
        move |d: &[SVector<T, D>], rng: &mut SplitMix| -> Result<Gmm<T, D, K, C>, Error> {
            calls += 1;
            match (&case.start, user) {
                (Start::RandomPoints, _) => init::random_points(d, rng),
                (Start::KmeansPlusPlus, _) => init::kmeans_plus_plus(d, rng),
                (Start::KmeansPlusPlusWithBuffer { .. }, _) => {
                    init::kmeans_plus_plus_with_buffer(d, &mut buffer, rng)
                }
                (Start::Model(_), Some(m)) if calls == 1 => Ok(m),
                (Start::Model(_), _) => init::random_points(d, rng),
            }
        }
    };

    // By hand.
    let mut rng = SplitMix(case.seed);
    let mut draw = initialiser();
    let mut reports: Vec<FitReport<T, D, K, C>> = Vec::new();
    let mut error = None;
    for i in 0..restarts.get() {
        let start = match draw(data, &mut rng) {
            Ok(s) => s,
            Err(e) => {
                match case.start {
                    Start::KmeansPlusPlusWithBuffer { wrong_length: true } => assert_eq!(
                        e,
                        Error::LengthMismatch {
                            expected: n,
                            found: n + 1
                        }
                    ),
                    _ => check_init_error::<T, D, K>(data, e),
                }
                error = Some(e);
                break;
            }
        };
        let user_start = user.is_some() && i == 0;
        check_start(data, &start, user_start);
        match start.fit(data, options) {
            Ok(r) => reports.push(r),
            Err(e) => {
                match option_error.or_else(|| data_error::<T, D, K>(data)) {
                    Some(want) => {
                        assert!(is_data_error(e, want), "restart {i}: {e:?}, not {want:?}");
                    }
                    None => {
                        let ordinary = ordinary(data, None, &start, user_start, options.reg_covar);
                        check_run_error::<T, D, K>("restart", data, None, e, ordinary);
                    }
                }
                error = Some(e);
                break;
            }
        }
    }

    let mut other = SplitMix(case.seed);
    let got = fit_restarts(data, restarts, &mut other, initialiser(), options);
    assert_eq!(
        other.0, rng.0,
        "fit_restarts drew other variates than the starts by hand"
    );
    match (got, error) {
        (Err(e), Some(want)) => assert_eq!(e, want, "fit_restarts: not the first error"),
        (Ok(best), None) => {
            assert_eq!(reports.len(), restarts.get());
            let top = reports
                .iter()
                .map(|r| r.log_likelihood)
                .fold(reports[0].log_likelihood, |a, b| if b > a { b } else { a });
            let want = reports
                .iter()
                .find(|r| r.log_likelihood == top)
                .expect("a report has the top score");
            assert_eq!(
                &best,
                want,
                "fit_restarts: not the earliest best of {:?}",
                reports.iter().map(|r| r.log_likelihood).collect::<Vec<_>>()
            );
            check_model(&best.model);
            assert!(best.iterations <= options.max_iter);
            assert_eq!(best.model.log_likelihood(data), Ok(best.log_likelihood));
            assert_eq!(
                best.model.mean_log_likelihood(data),
                Ok(best.mean_log_likelihood)
            );
        }
        (got, want) => panic!(
            "fit_restarts gave {:?}, by hand {want:?}",
            got.map(|r| r.log_likelihood)
        ),
    }
}

fn em_step_mode<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    data: &[SVector<T, D>],
    start: &Gmm<T, D, K, C>,
    reg_covar: T,
    ordinary: bool,
) {
    let n = data.len();
    let step = match em_step(data, start, reg_covar) {
        Ok(step) => step,
        Err(e) => {
            if !(f(reg_covar) >= 0.0 && f(reg_covar).is_finite()) {
                assert_eq!(
                    e,
                    Error::InvalidOption {
                        option: "reg_covar"
                    }
                );
            } else if let Some(want) = data_error::<T, D, K>(data) {
                assert!(is_data_error(e, want), "em_step: {e:?}, not {want:?}");
            } else {
                check_run_error::<T, D, K>("em_step", data, None, e, ordinary);
            }
            return;
        }
    };
    assert!(n >= K && first_non_finite(data).is_none());
    check_model(&step.model);
    let ll = step.log_likelihood;
    assert!(f(ll).is_finite(), "log-likelihood {ll:?}");
    // The log-likelihood of the model it started from, bit for bit.
    assert_eq!(start.log_likelihood(data), Ok(ll));
    check_effective_reg(step.effective_reg_covar, reg_covar, true);

    // `Gmm::fit` with one iteration makes the same M-step and returns its
    // model.
    let options = FitOptions::default()
        .with_max_iter(1)
        .with_tol(T::zero())
        .with_reg_covar(reg_covar);
    match start.fit(data, &options) {
        Ok(r) => {
            assert_eq!(r.iterations, 1);
            assert!(matches!(
                r.termination,
                Termination::MaxIterations | Termination::Converged
            ));
            assert_eq!(r.model, step.model, "fit(max_iter = 1) and em_step differ");
            assert_eq!(r.effective_reg_covar, step.effective_reg_covar);
        }
        // Scoring the new model can still fail.
        Err(e) => assert!(
            matches!(e, Error::ZeroDensity { .. } | Error::LikelihoodOverflow),
            "em_step succeeded, fit(max_iter = 1) failed: {e:?}"
        ),
    }
}

/// `SufficientStats` over two shards, merged, then `m_step_frozen` with
/// `frozen` (`m_step` when nothing is frozen).
fn shards_mode<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    data: &[SVector<T, D>],
    start: &Gmm<T, D, K, C>,
    reg: T,
    split: u8,
    frozen: Frozen,
) {
    let split = usize::from(split).min(data.len());
    let (head, tail) = data.split_at(split);
    let mut a = SufficientStats::new(start);
    let mut b = SufficientStats::new(start);
    let mut accepted = 0;
    // Shard a: point by point.
    for x in head {
        let before = a;
        match a.accumulate(start, x) {
            Ok(lp) => {
                accepted += 1;
                assert!(f(lp).is_finite());
                assert_eq!(start.log_prob(x), Ok(lp));
            }
            Err(e) => {
                assert_eq!(start.log_prob(x), Err(e));
                // Compared as text: statistics that already overflowed hold
                // NaN, which is unequal to itself.
                assert_eq!(
                    format!("{a:?}"),
                    format!("{before:?}"),
                    "a rejected point changed the statistics"
                );
            }
        }
    }
    // Shard b: one slice, all or nothing, scored as `log_likelihood` scores.
    let before = b;
    match b.accumulate_slice(start, tail) {
        Ok(total) => {
            accepted += tail.len();
            assert!(f(total).is_finite());
            if tail.is_empty() {
                assert_eq!(f(total), 0.0);
            } else {
                assert_eq!(start.log_likelihood(tail), Ok(total));
            }
        }
        Err(e) => {
            assert_eq!(start.log_likelihood(tail), Err(e));
            assert_eq!(
                format!("{b:?}"),
                format!("{before:?}"),
                "a rejected slice changed the statistics"
            );
        }
    }
    a.merge(&b).unwrap();
    assert_eq!(a.points(), accepted);
    let counts = a.counts();
    let total: f64 = counts.iter().map(|&c| f(c)).sum();
    for &c in counts.iter() {
        assert!(f(c) >= 0.0 && f(c) <= accepted as f64 * (1.0 + 4.0 * T::EPS64));
    }
    // Each row of responsibilities sums to 1 within about Kε; each count is
    // a recursive sum of `accepted` terms, which adds up to `accepted·ε`
    // relative error on top.
    let n = accepted as f64;
    assert!(
        (total - n).abs() <= (4.0 * K as f64 + n) * T::EPS64 * n + 1e-300,
        "counts sum to {total}, {accepted} points"
    );
    // A sum of finite per-point log-likelihoods, which may overflow to −∞
    // (documented on `SufficientStats::log_likelihood`), never NaN or +∞.
    let ll = f(a.log_likelihood());
    assert!(
        ll.is_finite() || ll == f64::NEG_INFINITY,
        "log-likelihood {:?}",
        a.log_likelihood()
    );
    // The points the statistics hold: those of shard a accepted one by one,
    // and shard b's if its slice was accepted.
    let held: Vec<SVector<T, D>> = head
        .iter()
        .filter(|x| start.log_prob(*x).is_ok())
        .chain(if b.points() > 0 { tail } else { &[] })
        .copied()
        .collect();
    assert_eq!(held.len(), accepted);
    if ll.is_finite() && accepted > 0 {
        if let Ok(whole) = start.log_likelihood(&held) {
            let bound = sum_tolerance(start, &held);
            assert!(
                (f(whole) - ll).abs() <= bound,
                "statistics' log-likelihood {ll:e}, the model's {whole:?}"
            );
        }
    }

    let valid_reg = f(reg) >= 0.0 && f(reg).is_finite();
    let result = a.m_step_frozen(start, reg, frozen);
    if !valid_reg {
        assert_eq!(
            result,
            Err(Error::InvalidOption {
                option: "reg_covar"
            })
        );
        return;
    }
    if accepted == 0 {
        assert_eq!(
            result,
            Err(Error::TooFewPoints {
                points: 0,
                needed: 1
            })
        );
        return;
    }
    // Refused exactly when the statistics need recentring.
    if a.needs_recentring() {
        assert_eq!(result, Err(Error::NeedsRecentring));
    } else {
        assert_ne!(result, Err(Error::NeedsRecentring));
    }
    // Recentred passes over the same points, as `fit` makes them, until
    // the statistics are accurate or the shifts stop moving.
    let mut stats = a;
    let mut result = result;
    let mut shifts = format!("{:?}", SufficientStats::new(start));
    for _ in 0..64 {
        if result != Err(Error::NeedsRecentring) {
            break;
        }
        let mut next = stats.recentred();
        let moved = format!("{next:?}");
        if moved == shifts {
            break;
        }
        shifts = moved;
        for x in &held {
            next.accumulate(start, x).unwrap();
        }
        stats = next;
        result = stats.m_step_frozen(start, reg, frozen);
        if stats.needs_recentring() {
            assert_eq!(result, Err(Error::NeedsRecentring));
        } else {
            assert_ne!(result, Err(Error::NeedsRecentring));
        }
    }
    if frozen != Frozen::NONE {
        m_step_frozen_check(&stats, start, reg, frozen, &result);
    }
    match result {
        Ok(model) => {
            check_model(&model);
            // Statistics serve only the model they were accumulated against.
            if model != *start {
                let other = stats.m_step(&model, reg);
                let mut s = stats;
                let point = data.first().map(|x| s.accumulate(&model, x));
                let refused = Error::MismatchedStatistics;
                assert!(
                    other == Err(refused) && point.is_none_or(|p| p == Err(refused)),
                    "statistics of one model used with another: m_step {:?}, \
                     accumulate {point:?}",
                    other.map(|m| Model::of(&m))
                );
            }
        }
        Err(Error::MomentOverflow) => {
            // Documented for frozen means whose scatter overflows: some
            // frozen mean is then farther than √MAX from some point (the
            // weighted mean of a component's points is no farther from it
            // than the farthest of them).
            let far = start.means().iter().any(|mu| {
                data.iter().any(|x| {
                    let d2: f64 = (0..D).map(|i| (f(x[i]) - f(mu[i])).powi(2)).sum();
                    d2 > 0.5 * T::MAX64
                })
            });
            assert!(
                frozen.means && far,
                "m_step: MomentOverflow without a frozen mean √MAX from the data"
            );
        }
        Err(e) => assert!(
            matches!(
                e,
                Error::NotPositiveDefinite { .. }
                    | Error::NonFiniteParameter { .. }
                    | Error::NeedsRecentring
            ),
            "m_step: undocumented {e:?}"
        ),
    }
}

/// `m_step_frozen`'s result against `m_step`'s from the same statistics:
/// the held parameters are the start's bit for bit; the free ones that do
/// not depend on the held ones are the plain M-step's bit for bit (weights
/// are `Nₖ / Σ Nⱼ` whatever is held; means `cₖ + δₖ`; covariances too when
/// the means are free), and with only the weights held the rest, errors
/// included, is the plain M-step's.
fn m_step_frozen_check<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    stats: &SufficientStats<T, D, K, C>,
    start: &Gmm<T, D, K, C>,
    reg: T,
    frozen: Frozen,
    result: &Result<Gmm<T, D, K, C>, Error>,
) {
    let plain = stats.m_step(start, reg);
    let only_weights = frozen == Frozen::NONE.with_weights();
    if only_weights {
        assert_eq!(
            result.as_ref().map(|m| (m.means(), m.covariances())),
            plain.as_ref().map(|m| (m.means(), m.covariances())),
            "m_step_frozen (weights) and m_step differ"
        );
    }
    let Ok(model) = result else {
        return;
    };
    check_held("m_step_frozen", start, model, frozen);
    let Ok(plain) = plain else {
        return;
    };
    if !frozen.weights {
        assert_eq!(model.weights(), plain.weights(), "free weights differ");
    }
    if !frozen.means {
        assert_eq!(model.means(), plain.means(), "free means differ");
        if !frozen.covariances {
            assert_eq!(
                model.covariances(),
                plain.covariances(),
                "free covariances differ"
            );
        }
    }
}
