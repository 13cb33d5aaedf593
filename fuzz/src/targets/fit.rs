//! `fit`: arbitrary data and options, of every covariance kind, from
//! `init::random_points`, `init::kmeans_plus_plus` (with and without its
//! buffer) or an arbitrary user model, through `fit`,
//! `fit_with_responsibilities`, `em_step` (and `Gmm::fit` with one
//! iteration) or `SufficientStats` by hand over two shards.
//!
//! Asserts: no panic; on `Ok` every model passes `check_model` (finite,
//! weights ≥ 0 summing to 1, covariances symmetric positive definite, the
//! kind's accessors consistent); the reported log-likelihood and its mean
//! are bit for bit the returned model's own and the last the callback saw;
//! `iterations ≤ max_iter` and consistent with the termination and the
//! trace (`Converged` only on a change below `tol` and above minus
//! rounding); `decreases` counts the trace's falls beyond rounding and is 0
//! for plain EM (`reg_covar = 0`) unless a covariance of the returned model
//! is singular at `T`'s resolution; `effective_reg_covar` is finite, ≥ 0, 0
//! without regularisation or M-step, else at least the smallest normal
//! number; responsibilities are distributions equal to
//! `model.responsibilities(x)`; `em_step` gives `Gmm::fit`'s first M-step;
//! on `Err`, the documented error for the input where the docs determine
//! it, and never `NotPositiveDefinite` (nor an overflow) for an *ordinary*
//! input ([`ordinary`]). Shards: `m_step` of statistics that
//! `needs_recentring()` is `Err(NeedsRecentring)` (and only those), and
//! recentred passes over the same points fix it.

use core::ops::ControlFlow;

use arbitrary::Arbitrary;
use gaussmix::nalgebra::SVector;
use gaussmix::{
    em_step, fit, fit_with_responsibilities, init, Error, FitOptions, Gmm, Iteration,
    SufficientStats, Termination,
};
use serde::{Deserialize, Serialize};

use crate::case::{points, Kind, KindExt, Model, Typed, Vector};
use crate::check::{
    check_model, check_responsibilities, first_non_finite, largest_coordinate, sum_tolerance,
};
use crate::num::{f, Num, Scalar, V};
use crate::rng::SplitMix;
use crate::spec::{DataSpec, ModelSpec, Shape, MAX_POINTS};
use crate::{dispatch, dispatch_shape};

pub const NAME: &str = "fit";

/// The most EM iterations a case runs (`max_iter` is taken modulo one more).
pub const MAX_ITER: usize = 20;

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
    pub mode: Mode,
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

/// What is run on the start.
#[derive(Arbitrary, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Mode {
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
    pub mode: Mode,
    /// The callback breaks at this iteration.
    pub stop_at: Option<usize>,
}

pub type Doc = Typed<Case<f32>, Case<f64>>;

pub fn lower(input: &Input) -> Doc {
    dispatch_shape!(input.single, input.shape, lower_at(input))
}

fn lower_at<T: Scalar, const D: usize, const K: usize>(input: &Input) -> Case<T> {
    Case {
        kind: input.kind,
        dimension: D,
        components: K,
        data: input.data.points::<T, D>(MAX_POINTS),
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
        mode: input.mode,
        stop_at: input.stop_at.map(usize::from),
    }
}

/// The fuzz target: lower, optionally dump (`GAUSSMIX_FUZZ_JSON`), run.
pub fn fuzz(input: &Input) {
    let doc = lower(input);
    crate::regression::dump(NAME, &doc);
    run(&doc);
}

pub fn run(doc: &Doc) {
    match doc {
        Typed::F32(c) => run_case(c),
        Typed::F64(c) => run_case(c),
    }
}

fn run_case<T: Scalar>(c: &Case<T>) {
    dispatch!(T, c.dimension, c.components, c.kind, run_typed(c));
}

// ---------------------------------------------------------------------------
// Ordinary inputs

/// `FitOptions::reg_covar`'s unit for `data` (finite), computed in `f64`:
/// the mean over coordinates of the population variance; where that is at
/// most `(ε·largest |coordinate|)²` (ε of `T`: no spread `T` resolves), the
/// largest squared coordinate; 1 for all-zero data.
pub fn data_scale<T: Scalar, const D: usize>(data: &[SVector<T, D>]) -> f64 {
    let n = data.len() as f64;
    let mut total = 0.0;
    for i in 0..D {
        let mean = data.iter().map(|x| f(x[i])).sum::<f64>() / n;
        total += data.iter().map(|x| (f(x[i]) - mean).powi(2)).sum::<f64>() / n;
    }
    let variance = total / D as f64;
    let largest = largest_coordinate(data);
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
/// 1. at least `K` points, every coordinate of ordinary magnitude
///    ([`ordinary_value`]: 0 or within `[10⁻³, 10³]` in absolute value);
/// 2. the start is an initialiser's, or a user model whose mean
///    coordinates are of ordinary magnitude and whose variances (the
///    diagonal entries of every covariance) lie within `[10⁻⁴·s, 10⁴·s]`,
///    `s` the data's scale ([`data_scale`]);
/// 3. `reg_covar ≥ 10⁻⁶` (relative to `s`, as `FitOptions` takes it).
pub fn ordinary<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    data: &[SVector<T, D>],
    start: &Gmm<T, D, K, C>,
    user_start: bool,
    reg_covar: T,
) -> bool {
    if data.len() < K || !data.iter().all(|x| x.iter().all(|&c| ordinary_value(f(c)))) {
        return false;
    }
    if !(f(reg_covar) >= 1e-6 && f(reg_covar).is_finite()) {
        return false;
    }
    if user_start {
        let s = data_scale(data);
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

/// The errors a fit or EM step may end in on valid, finite data when the
/// input does not determine one; never, for an ordinary input, more than
/// `ZeroDensity` or `LikelihoodOverflow`.
fn check_run_error<T: Scalar, const D: usize, const K: usize>(
    what: &str,
    data: &[SVector<T, D>],
    e: Error,
    ordinary: bool,
) {
    let n = data.len();
    let allowed = match e {
        Error::ZeroDensity { index } => index < n,
        Error::LikelihoodOverflow => true,
        Error::NotPositiveDefinite { component } | Error::NonFiniteParameter { component } => {
            component < K && !ordinary
        }
        Error::MomentOverflow => !ordinary,
        Error::DataOverflow => !ordinary && largest_coordinate(data) >= T::MAX64.sqrt() / 64.0,
        _ => false,
    };
    assert!(
        allowed,
        "{what} on {n} finite points{}: {e:?}",
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
            check_model(&m);
            if !user_start {
                // Initial means are data points.
                for mu in m.means() {
                    assert!(
                        data.contains(&mu),
                        "initial mean {mu:?} is not a data point"
                    );
                }
            }
            m
        }
        Err(e) => return check_init_error::<T, D, K>(&data, e),
    };

    let mut options = FitOptions::<T>::default().with_max_iter(case.max_iter);
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
    let ordinary = ordinary(&data, &start, user_start, options.reg_covar);

    match case.mode {
        Mode::Fit | Mode::WithResponsibilities { .. } => {
            fit_mode(case, &data, start, &options, option_error, ordinary)
        }
        Mode::EmStep => em_step_mode(&data, &start, options.reg_covar, ordinary),
        Mode::Shards { split } => shards_mode(&data, &start, options.reg_covar, split),
    }
}

/// The error a fit or EM step must give before it looks at the model:
/// `TooFewPoints` for fewer than `K` points (or none), `NonFiniteData`
/// naming the first bad point.
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

/// One entry of the callback's trace.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Seen<T> {
    iteration: usize,
    log_likelihood: T,
    mean: T,
}

fn fit_mode<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    case: &Case<T>,
    data: &[SVector<T, D>],
    start: Gmm<T, D, K, C>,
    options: &FitOptions<T>,
    option_error: Option<Error>,
    ordinary: bool,
) {
    let n = data.len();
    let mut trace: Vec<Seen<T>> = Vec::new();
    let stop_at = case.stop_at;
    let callback = |it: &Iteration<T>| {
        assert_eq!(it.iteration, trace.len(), "iterations out of order");
        // −∞ is allowed in the trace (a start astronomically far from the
        // data), never NaN or +∞.
        assert!(
            f(it.log_likelihood).is_finite() || f(it.log_likelihood) == f64::NEG_INFINITY,
            "iteration {}: log-likelihood {:?}",
            it.iteration,
            it.log_likelihood
        );
        assert_eq!(
            f(it.mean_log_likelihood),
            f(it.log_likelihood / T::of_f64(n as f64)),
            "mean log-likelihood"
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
    let (result, length_error) = match case.mode {
        Mode::WithResponsibilities { wrong_length } => {
            let len = n + usize::from(wrong_length);
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
        _ => (fit(data, start, options, callback), None),
    };
    let expected_error = length_error
        .or(option_error)
        .or_else(|| data_error::<T, D, K>(data));

    let report = match result {
        Err(e) => {
            match expected_error {
                Some(want) => assert_eq!(e, want),
                None => check_run_error::<T, D, K>("fit", data, e, ordinary),
            }
            return;
        }
        Ok(report) => report,
    };
    assert_eq!(expected_error, None, "fit succeeded on invalid input");
    check_model(&report.model);
    let (ll, mean) = (report.log_likelihood, report.mean_log_likelihood);
    assert!(f(ll).is_finite(), "log-likelihood {ll:?}");
    assert!(f(mean).is_finite(), "mean log-likelihood {mean:?}");
    // The reported scores are the returned model's, bit for bit (the model
    // sums exactly as the fit does).
    assert_eq!(report.model.log_likelihood(data), Ok(ll));
    assert_eq!(report.model.mean_log_likelihood(data), Ok(mean));

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
    if f(options.reg_covar) == 0.0 && report.decreases > 0 {
        // Documented (FitReport::decreases): plain EM falls only where a
        // covariance is singular or ill-conditioned to working precision
        // (the log-likelihood is then rounding noise amplified by the
        // conditioning).
        assert!(
            near_singular(&report.model),
            "plain EM fell {} times: {trace:?}",
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

    if matches!(case.mode, Mode::WithResponsibilities { .. }) {
        for (x, r) in data.iter().zip(buffer.iter()) {
            check_responsibilities(r);
            assert_eq!(report.model.responsibilities(x), Ok(*r));
        }
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
                assert_eq!(e, want);
            } else {
                check_run_error::<T, D, K>("em_step", data, e, ordinary);
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

fn shards_mode<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    data: &[SVector<T, D>],
    start: &Gmm<T, D, K, C>,
    reg: T,
    split: u8,
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
    let result = a.m_step(start, reg);
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
        result = stats.m_step(start, reg);
        if stats.needs_recentring() {
            assert_eq!(result, Err(Error::NeedsRecentring));
        } else {
            assert_ne!(result, Err(Error::NeedsRecentring));
        }
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
