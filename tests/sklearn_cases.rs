//! scikit-learn's `GaussianMixture` test cases that apply to a crate with
//! full covariances and const-generic `D`, `K`, ported to gaussmix. Each
//! test names the case in `sklearn/mixture/tests/test_gaussian_mixture.py`
//! it follows and says where the port differs. (Facts carried over: what
//! each case checks. The code is ours.)

// The crate's math rule (clippy.toml) binds the library, not its tests.
#![allow(clippy::disallowed_methods)]

mod common;

use core::ops::ControlFlow;

use gaussmix::nalgebra::{matrix, vector, SMatrix, SVector};
use gaussmix::{fit, init, Error, FitOptions, FitReport, Full, Gmm, Real, Termination};

fn go<T: Real>(_: &gaussmix::Iteration<T>) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

fn fit_with<T: Real, const D: usize, const K: usize>(
    data: &[SVector<T, D>],
    start: Gmm<T, D, K>,
    options: FitOptions<T>,
) -> Result<FitReport<T, D, K>, Error> {
    fit(data, start, &options, go)
}

/// Random data from a 3-component 2-D mixture, like sklearn's `RandomData`.
fn rand_data(n: usize, seed: u64) -> Vec<SVector<f64, 2>> {
    common::sample(&common::three_clusters(), n, seed)
}

/// `test_monotonic_likelihood`: without regularisation, each EM step
/// (sklearn: `warm_start=True, max_iter=1`, refitted repeatedly) must not
/// lower the training log-likelihood. sklearn asserts `>=` exactly; we
/// allow a rounding tolerance of 1e-12 relative.
#[test]
fn monotonic_likelihood() {
    let data = rand_data(500, 21);
    let options = FitOptions::default()
        .with_max_iter(1)
        .with_reg_covar(0.0)
        .with_tol(1e-7);
    let mut model =
        init::random_points::<f64, 2, 3, Full, _, _>(&data, &mut common::rng(22)).unwrap();
    let mut previous = f64::NEG_INFINITY;
    let mut steps = 0;
    for _ in 0..600 {
        let report = fit_with(&data, model, options).unwrap();
        assert!(
            report.log_likelihood >= previous - 1e-12 * previous.abs(),
            "step {steps}: {} < {previous}",
            report.log_likelihood
        );
        previous = report.log_likelihood;
        model = report.model;
        steps += 1;
        if report.converged() {
            break;
        }
    }
    assert!(
        steps > 5,
        "converged after {steps} steps; the check saw too little"
    );
}

/// `test_regularisation`: data collapsed onto two points (sklearn: 10 rows
/// of ones, 10 of zeros) make every empirical covariance singular: the fit
/// fails without regularisation and succeeds with it. sklearn uses
/// `n_components = n_samples`; here K = 2, one component per point.
#[test]
fn regularisation_rescues_collapsed_data() {
    fn case<T: Real>() {
        let one = gaussmix::nalgebra::convert::<f64, T>(1.0);
        let data: Vec<SVector<T, 2>> = (0..20)
            .map(|i| {
                if i < 10 {
                    SVector::from([one; 2])
                } else {
                    SVector::zeros()
                }
            })
            .collect();
        let start = init::random_points::<T, 2, 2, Full, _, _>(&data, &mut common::rng(1)).unwrap();
        let no_reg = FitOptions::default().with_reg_covar(T::zero());
        assert!(matches!(
            fit_with(&data, start, no_reg),
            Err(Error::NotPositiveDefinite { .. })
        ));
        let report = fit_with(&data, start, FitOptions::default()).unwrap();
        let m = report.model;
        assert!(report.log_likelihood.is_finite());
        assert!(m
            .covariances()
            .iter()
            .all(|c| c.iter().all(|v| v.is_finite())));
        // One component on each point, each with half the weight.
        let half = gaussmix::nalgebra::convert::<f64, T>(0.5);
        assert!(m.weights().iter().all(|&w| (w - half).abs()
            < half * gaussmix::nalgebra::ComplexField::sqrt(T::default_epsilon())));
    }
    case::<f64>();
    case::<f32>();
}

/// `test_max_iter_zero`: `max_iter = 0` returns the initial parameters
/// unchanged.
#[test]
fn max_iter_zero_returns_initial_model() {
    let data = rand_data(200, 3);
    let start = init::random_points::<f64, 2, 3, Full, _, _>(&data, &mut common::rng(4)).unwrap();
    let report = fit_with(&data, start, FitOptions::default().with_max_iter(0)).unwrap();
    assert_eq!(report.model, start);
    assert_eq!(
        (report.iterations, report.termination),
        (0, Termination::MaxIterations)
    );
}

/// `test_gaussian_mixture_single_component_stable`: one component on three
/// standard-normal points fits and samples without error.
#[test]
fn single_component_on_three_points() {
    let mut rng = common::rng(5);
    let data: Vec<SVector<f64, 2>> = (0..3)
        .map(|_| gaussmix::sample::standard_normal_vector::<f64, 2, _>(&mut rng))
        .collect();
    let start = init::random_points::<f64, 2, 1, Full, _, _>(&data, &mut rng).unwrap();
    let report = fit_with(&data, start, FitOptions::default()).unwrap();
    let x = report.model.sample(&mut rng);
    assert!(x.iter().all(|v| v.is_finite()));
    // Three points: the ML fit is their mean and (1/N) covariance.
    let mean = data.iter().sum::<SVector<f64, 2>>() / 3.0;
    assert!((report.model.means()[0] - mean).amax() < 1e-12);
}

/// `test_gaussian_mixture_n_parameters`: 5 features, 2 components, full
/// covariances: 41 free parameters.
#[test]
fn parameter_count() {
    assert_eq!(Gmm::<f64, 5, 2>::PARAMETER_COUNT, 41);
    assert_eq!(Gmm::<f32, 1, 1>::PARAMETER_COUNT, 2);
}

/// `test_bic_1d_1component`: in 1-D with one component (where sklearn's
/// covariance types all coincide), the BIC of the fit is that of the
/// maximum-likelihood normal: `−2 ln L + 2 ln N` with
/// `ln L = −N/2 (ln 2πσ̂² + 1)`, `σ̂²` the (1/N) sample variance.
#[test]
fn bic_of_one_dimensional_single_component() {
    let mut rng = common::rng(6);
    let data: Vec<SVector<f64, 1>> = (0..300)
        .map(|_| {
            gaussmix::sample::standard_normal_vector::<f64, 1, _>(&mut rng) * 2.0 + vector![1.0]
        })
        .collect();
    let start = Gmm::<f64, 1, 1>::new([1.0], [vector![0.0]], [matrix![1.0]]).unwrap();
    let report = fit_with(
        &data,
        start,
        FitOptions::default().with_reg_covar(0.0).with_tol(1e-12),
    )
    .unwrap();
    let n = data.len() as f64;
    let mean = data.iter().map(|x| x[0]).sum::<f64>() / n;
    let var = data.iter().map(|x| (x[0] - mean).powi(2)).sum::<f64>() / n;
    let ll = -n / 2.0 * ((2.0 * std::f64::consts::PI * var).ln() + 1.0);
    let bic = report.model.bic(&data).unwrap();
    assert!((bic - (-2.0 * ll + 2.0 * n.ln())).abs() < 1e-9 * bic.abs());
    let aic = report.model.aic(&data).unwrap();
    assert!((aic - (-2.0 * ll + 4.0)).abs() < 1e-9 * aic.abs());
}

/// `test_gaussian_mixture_predict_predict_proba`: `predict` is the argmax
/// of the responsibilities (`predict_proba`), and on well-separated data it
/// recovers the generating labels (sklearn: adjusted Rand index > 0.95;
/// here, agreement > 95% after matching components to true means).
#[test]
fn predict_is_argmax_and_recovers_labels() {
    let truth = common::three_clusters();
    let mut rng = common::rng(7);
    let mut labels = Vec::new();
    let mut data = Vec::new();
    for _ in 0..900 {
        let k = truth.choose_component(&mut rng);
        labels.push(k);
        data.push(truth.sample_from(k, &mut rng).unwrap());
    }
    let start = init::kmeans_plus_plus::<f64, 2, 3, Full, _, _>(&data, &mut rng).unwrap();
    let model = fit_with(&data, start, FitOptions::default()).unwrap().model;
    let to_true: Vec<usize> = model
        .means()
        .iter()
        .map(|m| {
            (0..3)
                .min_by(|&a, &b| {
                    (truth.means()[a] - m)
                        .norm()
                        .total_cmp(&(truth.means()[b] - m).norm())
                })
                .unwrap()
        })
        .collect();
    let mut agree = 0;
    for (x, &label) in data.iter().zip(&labels) {
        let r = model.responsibilities(x).unwrap();
        let argmax = (0..3).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap();
        let p = model.predict(x).unwrap();
        assert_eq!(p, argmax);
        agree += usize::from(to_true[p] == label);
    }
    assert!(
        agree as f64 > 0.95 * data.len() as f64,
        "{agree} of {}",
        data.len()
    );
}

/// `test_score` / `test_score_samples`: the score (mean log-likelihood) is
/// the mean of the per-point scores, and more EM iterations do not lower
/// it.
#[test]
fn score_is_mean_of_point_scores() {
    let data = rand_data(400, 8);
    let start = init::random_points::<f64, 2, 3, Full, _, _>(&data, &mut common::rng(9)).unwrap();
    let one = fit_with(&data, start, FitOptions::default().with_max_iter(1))
        .unwrap()
        .model;
    let many = fit_with(&data, start, FitOptions::default()).unwrap().model;
    let mean: f64 = data.iter().map(|x| many.log_prob(x).unwrap()).sum::<f64>() / data.len() as f64;
    let score = many.mean_log_likelihood(&data).unwrap();
    assert!((score - mean).abs() < 1e-12 * mean.abs());
    assert!(score > one.mean_log_likelihood(&data).unwrap());
}

/// `test_sample`: samples drawn from a model reproduce its weights, means
/// and covariances (sklearn checks sample means and covariances per
/// component against the model's, to a tolerance; we use about five
/// standard errors at n = 30 000).
#[test]
fn samples_match_the_model() {
    let model = common::three_clusters();
    let mut rng = common::rng(10);
    let n = 30_000;
    let mut per = [(
        0usize,
        SVector::<f64, 2>::zeros(),
        SMatrix::<f64, 2, 2>::zeros(),
    ); 3];
    for _ in 0..n {
        let k = model.choose_component(&mut rng);
        let x = model.sample_from(k, &mut rng).unwrap();
        per[k].0 += 1;
        per[k].1 += x;
        per[k].2 += x * x.transpose();
    }
    for (k, (count, sum, sq)) in per.iter().enumerate() {
        let c = *count as f64;
        let mean = sum / c;
        let cov = sq / c - mean * mean.transpose();
        assert!((c / n as f64 - model.weights()[k]).abs() < 0.015);
        // Standard errors: mean ≤ √(1.6/6000) ≈ 0.016, covariance ≤ 0.03.
        assert!(
            (mean - model.means()[k]).amax() < 0.08,
            "component {k}: {mean}"
        );
        assert!(
            (cov - model.covariances()[k]).amax() < 0.15,
            "component {k}: {cov}"
        );
    }
    // And the mixture sampler as a whole: overall mean = Σ wₖ μₖ.
    let all: SVector<f64, 2> = (0..n)
        .map(|_| model.sample(&mut rng))
        .sum::<SVector<f64, 2>>()
        / n as f64;
    let want: SVector<f64, 2> = (0..3).map(|k| model.means()[k] * model.weights()[k]).sum();
    assert!((all - want).amax() < 0.1, "{all} vs {want}");
}

/// `test_init_means_not_duplicated` and `test_means_for_all_inits`: every
/// initialiser gives distinct means, inside the data's bounding box.
#[test]
fn initial_means_distinct_and_inside_bounding_box() {
    let data = rand_data(300, 11);
    let lo = data
        .iter()
        .fold(SVector::<f64, 2>::repeat(f64::INFINITY), |a, x| a.inf(x));
    let hi = data
        .iter()
        .fold(SVector::<f64, 2>::repeat(f64::NEG_INFINITY), |a, x| {
            a.sup(x)
        });
    for seed in 0..50 {
        let mut rng = common::rng(seed);
        let inits = [
            init::random_points::<f64, 2, 3, Full, _, _>(&data, &mut rng).unwrap(),
            init::kmeans_plus_plus::<f64, 2, 3, Full, _, _>(&data, &mut rng).unwrap(),
        ];
        for m in inits {
            let means = m.means();
            for (k, mu) in means.iter().enumerate() {
                assert!(mu
                    .iter()
                    .zip(lo.iter().zip(hi.iter()))
                    .all(|(v, (l, h))| l <= v && v <= h));
                assert!(
                    means[..k].iter().all(|o| o != mu),
                    "seed {seed}: duplicated mean"
                );
            }
        }
    }
}

/// `test_warm_start`: a fit of 1 iteration warm-started by another of 1
/// equals a fit of 2 iterations (sklearn compares `warm_start=True` runs
/// with a cold one of the summed `max_iter`).
#[test]
fn warm_start_one_plus_one_equals_two() {
    let data = rand_data(300, 12);
    let start = init::random_points::<f64, 2, 3, Full, _, _>(&data, &mut common::rng(13)).unwrap();
    let one = FitOptions::default().with_max_iter(1).with_tol(0.0);
    let a = fit_with(&data, start, one).unwrap();
    let b = fit_with(&data, a.model, one).unwrap();
    let c = fit_with(&data, start, one.with_max_iter(2)).unwrap();
    assert_eq!((a.iterations, b.iterations, c.iterations), (1, 1, 2));
    assert_eq!(b.model, c.model);
    assert_eq!(b.log_likelihood, c.log_likelihood);
}
