//! `fit`: arbitrary data and options, from `init::random_points`,
//! `init::kmeans_plus_plus` or an arbitrary user model, through `fit`,
//! `fit_with_responsibilities`, `em_step` or `SufficientStats` by hand.
//!
//! Asserts: no panic; on `Ok` every parameter finite, weights ≥ 0 summing
//! to 1, covariances symmetric positive definite (nalgebra Cholesky in
//! `f64`), log-likelihood finite and equal to the model's own score,
//! `iterations ≤ max_iter` and consistent with the termination and the
//! callback's trace, responsibilities in `[0, 1]` summing to 1 and equal to
//! `model.responsibilities(x)`; on `Err`, the documented error for the
//! input where the docs determine it.
#![no_main]

use core::ops::ControlFlow;

use arbitrary::Arbitrary;
use gaussmix::nalgebra::SVector;
use gaussmix::{
    em_step, fit, fit_with_responsibilities, init, Error, FitOptions, Gmm, Iteration,
    SufficientStats, Termination,
};
use gaussmix_fuzz::{
    check_model, check_responsibilities, close, dispatch, f, first_non_finite, sum_tolerance,
    DataSpec, ModelSpec, Num, Scalar, Shape, SplitMix,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
#[allow(clippy::large_enum_variant)]
enum Start {
    RandomPoints,
    KMeansPlusPlus,
    User(ModelSpec),
}

#[derive(Arbitrary, Debug)]
enum Mode {
    Fit,
    /// `fit_with_responsibilities`; a buffer one slot too long if `wrong_len`.
    WithResponsibilities {
        wrong_len: bool,
    },
    EmStep,
    /// `SufficientStats` over two shards, merged, then `m_step`.
    Shards(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    single: bool,
    shape: Shape,
    data: DataSpec,
    start: Start,
    seed: u64,
    max_iter: u8,
    tol: Option<Num>,
    reg_covar: Option<Num>,
    mode: Mode,
    /// The callback breaks at this iteration.
    stop_at: Option<u8>,
}

fuzz_target!(|input: Input| {
    dispatch!(input.single, input.shape, run(&input));
});

/// Errors the initialisers document (`TooFewPoints`, `NonFiniteData`,
/// `NotPositiveDefinite`), checked exactly where the input determines them.
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
        // Documented: NotPositiveDefinite "only if the data's scale
        // overflows T (coordinates beyond about 1e19 in f32)". It also
        // happens when the scale underflows (every coordinate below about
        // √MIN_POSITIVE: 1e-19 in f32, 1e-154 in f64), which the docs do
        // not say; both ends are allowed here.
        let largest = data
            .iter()
            .flat_map(|x| x.iter().map(|&c| f(c).abs()))
            .fold(0.0, f64::max);
        let (max, min) = (T::MAX64, T::MIN_POSITIVE64);
        assert!(
            matches!(e, Error::NotPositiveDefinite { .. })
                && (largest >= max.sqrt() / 64.0 || largest <= min.sqrt() * 1e4),
            "initialiser on {} finite points (largest |coordinate| {largest:e}): {e:?}",
            data.len()
        );
    }
}

fn run<T: Scalar, const D: usize, const K: usize>(input: &Input) {
    let data = input.data.points::<T, D>();
    let mut rng = SplitMix(input.seed);
    let start = match &input.start {
        Start::RandomPoints => init::random_points::<T, D, K, Full, _, _>(&data, &mut rng),
        Start::KMeansPlusPlus => init::kmeans_plus_plus::<T, D, K, Full, _, _>(&data, &mut rng),
        Start::User(spec) => match spec.build::<T, D, K>() {
            Ok(m) => Ok(m),
            // The construction target checks these errors.
            Err(_) => return,
        },
    };
    let start = match start {
        Ok(m) => {
            check_model(&m);
            if !matches!(input.start, Start::User(_)) {
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

    let mut options = FitOptions::<T>::default().with_max_iter(usize::from(input.max_iter % 21));
    if let Some(tol) = input.tol {
        options = options.with_tol(tol.get());
    }
    if let Some(reg) = input.reg_covar {
        options = options.with_reg_covar(reg.get());
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

    match input.mode {
        Mode::Fit | Mode::WithResponsibilities { .. } => {
            fit_mode::<T, D, K>(input, &data, start, &options, option_error)
        }
        Mode::EmStep => em_step_mode(&data, &start, options.reg_covar),
        Mode::Shards(split) => shards_mode(&data, &start, options.reg_covar, split),
    }
}

fn fit_mode<T: Scalar, const D: usize, const K: usize>(
    input: &Input,
    data: &[SVector<T, D>],
    start: Gmm<T, D, K>,
    options: &FitOptions<T>,
    option_error: Option<Error>,
) {
    let n = data.len();
    let mut trace: Vec<(usize, T)> = Vec::new();
    let stop_at = input.stop_at.map(usize::from);
    let callback = |it: &Iteration<T>| {
        assert_eq!(it.iteration, trace.len(), "iterations out of order");
        assert!(
            f(it.log_likelihood).is_finite(),
            "iteration {}: log-likelihood {:?}",
            it.iteration,
            it.log_likelihood
        );
        assert!(close(
            f(it.mean_log_likelihood),
            f(it.log_likelihood) / n as f64,
            2.0 * T::EPS64
        ));
        trace.push((it.iteration, it.log_likelihood));
        if stop_at == Some(it.iteration) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let mut buffer = Vec::new();
    let (result, length_error) = match input.mode {
        Mode::WithResponsibilities { wrong_len } => {
            let len = n + usize::from(wrong_len);
            buffer = vec![SVector::<T, K>::zeros(); len];
            let e = wrong_len.then_some(Error::LengthMismatch {
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
    let expected_error = length_error.or(option_error).or_else(|| {
        if n < K {
            Some(Error::TooFewPoints {
                points: n,
                needed: K.max(1),
            })
        } else {
            first_non_finite(data).map(|index| Error::NonFiniteData { index })
        }
    });

    match result {
        Err(e) => {
            if let Some(want) = expected_error {
                assert_eq!(e, want);
            } else {
                // A regularised fit can still meet a covariance that is not
                // positive definite to working precision (fuzzing found
                // such starts with reg_covar up to 144; not yet understood,
                // see fuzz/README.md): a documented error, so only its kind
                // is checked below.
                assert!(
                    matches!(
                        e,
                        Error::ZeroDensity { .. }
                            | Error::NotPositiveDefinite { .. }
                            | Error::LikelihoodOverflow
                            | Error::NonFiniteParameter { .. }
                    ),
                    "fit on {n} finite points: undocumented {e:?}"
                );
                if let Error::ZeroDensity { index } = e {
                    assert!(index < n);
                }
            }
        }
        Ok(report) => {
            assert_eq!(expected_error, None, "fit succeeded on invalid input");
            check_model(&report.model);
            let ll = report.log_likelihood;
            assert!(f(ll).is_finite(), "log-likelihood {ll:?}");
            assert!(f(report.mean_log_likelihood).is_finite());
            assert!(close(
                f(report.mean_log_likelihood),
                f(ll) / n as f64,
                2.0 * T::EPS64
            ));
            assert!(report.iterations <= options.max_iter);
            match report.termination {
                Termination::MaxIterations => assert_eq!(report.iterations, options.max_iter),
                Termination::Stopped => assert_eq!(stop_at, Some(report.iterations)),
                Termination::Converged => assert!(report.iterations >= 1),
            }
            assert_eq!(trace.last(), Some(&(report.iterations, ll)));
            assert_eq!(trace.len(), report.iterations + 1);
            // The reported score is the returned model's (up to the order
            // of summation).
            let direct = report.model.log_likelihood(data);
            let bound = sum_tolerance(&report.model, data);
            assert!(
                direct.is_ok_and(|d| (f(d) - f(ll)).abs() <= bound),
                "fit reports log-likelihood {ll:?}, the model scores {direct:?}"
            );
            if matches!(input.mode, Mode::WithResponsibilities { .. }) {
                for (x, r) in data.iter().zip(buffer.iter()) {
                    check_responsibilities(r);
                    assert_eq!(report.model.responsibilities(x), Ok(*r));
                }
            }
        }
    }
}

fn em_step_mode<T: Scalar, const D: usize, const K: usize>(
    data: &[SVector<T, D>],
    start: &Gmm<T, D, K>,
    reg_covar: T,
) {
    let n = data.len();
    match em_step(data, start, reg_covar) {
        Ok((model, ll)) => {
            assert!(n >= K && first_non_finite(data).is_none());
            check_model(&model);
            assert!(f(ll).is_finite(), "log-likelihood {ll:?}");
            let direct = start.log_likelihood(data);
            let bound = sum_tolerance(start, data);
            assert!(
                direct.is_ok_and(|d| (f(d) - f(ll)).abs() <= bound),
                "em_step reports log-likelihood {ll:?}, the model scores {direct:?}"
            );
        }
        Err(e) => {
            if !(f(reg_covar) >= 0.0 && f(reg_covar).is_finite()) {
                assert_eq!(
                    e,
                    Error::InvalidOption {
                        option: "reg_covar"
                    }
                );
            } else if n < K {
                assert_eq!(
                    e,
                    Error::TooFewPoints {
                        points: n,
                        needed: K.max(1)
                    }
                );
            } else if let Some(index) = first_non_finite(data) {
                assert_eq!(e, Error::NonFiniteData { index });
            } else {
                assert!(
                    matches!(
                        e,
                        Error::ZeroDensity { .. }
                            | Error::NotPositiveDefinite { .. }
                            | Error::LikelihoodOverflow
                            | Error::NonFiniteParameter { .. }
                    ),
                    "em_step on {n} finite points: undocumented {e:?}"
                );
            }
        }
    }
}

fn shards_mode<T: Scalar, const D: usize, const K: usize>(
    data: &[SVector<T, D>],
    start: &Gmm<T, D, K>,
    reg_covar: T,
    split: u8,
) {
    let split = usize::from(split).min(data.len());
    let mut shards = [SufficientStats::new(start), SufficientStats::new(start)];
    let mut accepted = 0;
    for (i, x) in data.iter().enumerate() {
        let stats = &mut shards[usize::from(i >= split)];
        let before = *stats;
        match stats.accumulate(start, x) {
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
                    format!("{stats:?}"),
                    format!("{before:?}"),
                    "a rejected point changed the statistics"
                );
            }
        }
    }
    let [mut a, b] = shards;
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
    match a.m_step(start, reg_covar) {
        Ok(model) => {
            assert!(accepted > 0);
            check_model(&model);
        }
        Err(e) => {
            if !(f(reg_covar) >= 0.0 && f(reg_covar).is_finite()) {
                assert_eq!(
                    e,
                    Error::InvalidOption {
                        option: "reg_covar"
                    }
                );
            } else if accepted == 0 {
                assert_eq!(
                    e,
                    Error::TooFewPoints {
                        points: 0,
                        needed: 1
                    }
                );
            } else {
                assert!(
                    matches!(
                        e,
                        Error::NotPositiveDefinite { .. } | Error::NonFiniteParameter { .. }
                    ),
                    "m_step: undocumented {e:?}"
                );
            }
        }
    }
}
