//! Numerical soundness: far starts, regularisation that neither distorts nor
//! silently grows, and an honest termination. Each test names the finding
//! of the issue "Numerical soundness" it answers; "ordinary data" are the
//! 20 points 0, 0.05, …, 0.95 in one dimension.

// The crate's math rule (clippy.toml) binds the library, not its tests.
#![allow(clippy::disallowed_methods)]

mod common;

use core::ops::ControlFlow;
use gaussmix::nalgebra::{convert, vector, SMatrix, SVector};
use gaussmix::{
    em_step, fit_weighted, init, Diag, Error, FitOptions, FitReport, Full, Gmm, Real, Spherical,
    SufficientStats, Tied,
};

fn c<T: Real>(x: f64) -> T {
    convert::<f64, T>(x)
}

fn to64<T: Real>(x: T) -> f64 {
    gaussmix::nalgebra::try_convert::<T, f64>(x).expect("f32 and f64 convert to f64")
}

fn ordinary<T: Real>() -> Vec<[T; 1]> {
    (0..20).map(|i| [c::<T>(f64::from(i) * 0.05)]).collect()
}

fn one<T: Real>(mean: f64, variance: f64) -> Gmm<T, 1, 1> {
    Gmm::new(
        [T::one()],
        [vector![c::<T>(mean)]],
        [SMatrix::from([[c::<T>(variance)]])],
    )
    .unwrap()
}

/// Relative distance of two models' parameters, in `f64`.
fn distance<T: Real, const D: usize, const K: usize, C: gaussmix::CovarianceKind>(
    a: &Gmm<T, D, K, C>,
    b: &Gmm<T, D, K, C>,
) -> f64 {
    let mut worst = 0.0f64;
    let mut see = |x: T, y: T, scale: f64| {
        worst = worst.max((to64(x) - to64(y)).abs() / scale.max(1e-300));
    };
    for k in 0..K {
        see(a.weights()[k], b.weights()[k], 1.0);
        let cov = b.covariances()[k];
        let sd = (0..D).map(|i| to64(cov[(i, i)])).fold(0.0, f64::max).sqrt();
        for i in 0..D {
            see(a.means()[k][i], b.means()[k][i], sd);
            for j in 0..D {
                see(a.covariances()[k][(i, j)], cov[(i, j)], sd * sd);
            }
        }
    }
    worst
}

/// Finding 1, K = 1: from a mean far from the data (f64: 1e8, 1e12, 1e30
/// and 0.3·√MAX; f32: 1e4, 1e8, 1e15), with a variance of 1 or 10³, every
/// regularisation converges to the fixed point a near start reaches (the
/// data's mean and variance, lifted as the option says): the statistics are
/// recentred until they are accurate, never `NotPositiveDefinite`.
fn far_start_one_component<T: Real>(offsets: &[f64], tol: f64) {
    let data = ordinary::<T>();
    for reg in [0.0, 1e-12, 1e-6, 1e-2] {
        let options = FitOptions::default().with_reg_covar(c::<T>(reg));
        let near = one::<T>(0.5, 1.0).fit(&data, &options).unwrap();
        assert!(near.converged());
        for &offset in offsets {
            for variance in [1.0, 1e3] {
                let start = one::<T>(offset, variance);
                let far = start
                    .fit(&data, &options)
                    .unwrap_or_else(|e| panic!("start {offset:e}, var {variance}, reg {reg}: {e}"));
                assert!(far.converged(), "{offset:e}: {:?}", far.termination);
                let d = distance(&far.model, &near.model);
                assert!(
                    d < tol,
                    "start {offset:e}, var {variance}, reg {reg}: {d:e}"
                );
            }
        }
    }
}

#[test]
fn far_start_one_component_f64() {
    let sqrt_max = f64::MAX.sqrt();
    far_start_one_component::<f64>(&[1e8, -1e12, 1e30, 0.3 * sqrt_max], 1e-9);
}

#[test]
fn far_start_one_component_f32() {
    far_start_one_component::<f32>(&[1e4, -1e8, 1e15], 1e-4);
}

/// Finding 1, K = 3, on the seed's three clusters, all three means moved by
/// the same far offset. The far step is the fragile one: its moments are
/// taken about means far from the data. So the first M-step is recomputed
/// here independently (responsibilities from the model, then two-pass
/// weighted means and covariances in `f64`), and the fit from that "near
/// start" must reach the same fixed point as the fit from the far start.
/// (Far components explain none of the data to within `e⁻²⁰⁰`: the nearest
/// takes every point and the others are emptied, the documented policy;
/// where rounding makes the far means equal, they share the data.) From
/// 0.3·√MAX with 300 points the initial log-likelihood overflows `f64`; the
/// fit goes on (the trace starts at −∞).
fn far_start_three_components<T: Real>(offsets: &[f64], tol: f64) {
    let data: Vec<SVector<T, 2>> = common::sample(&common::three_clusters(), 300, 21)
        .iter()
        .map(|x| x.map(c::<T>))
        .collect();
    let near_means = [vector![1.0, 6.0], vector![8.0, 4.0], vector![15.0, 5.0]];
    let options = FitOptions::default();
    for &offset in offsets {
        let start = Gmm::<T, 2, 3>::new(
            [c(0.3), c(0.4), c(0.3)],
            near_means.map(|m| m.map(|v| c::<T>(v + offset))),
            [SMatrix::identity(); 3],
        )
        .unwrap();
        let far = start
            .fit(&data, &options)
            .unwrap_or_else(|e| panic!("offset {offset:e}: {e}"));
        assert!(far.converged(), "{offset:e}: {:?}", far.termination);
        let first = exact_first_step(&data, &start);
        let near = first.fit(&data, &options).unwrap();
        let d = distance(&far.model, &near.model);
        assert!(d < tol, "offset {offset:e}: {d:e}");
        for k in (0..3).filter(|&k| far.model.weights()[k] == T::zero()) {
            assert_eq!(far.model.means()[k], start.means()[k]);
        }
    }
}

/// The first EM step from `start`, computed apart from the crate's
/// statistics: two-pass weighted moments in `f64`, the default
/// regularisation of the data's scale, emptied components kept.
fn exact_first_step<T: Real, const K: usize>(
    data: &[SVector<T, 2>],
    start: &Gmm<T, 2, K>,
) -> Gmm<T, 2, K> {
    let x: Vec<SVector<f64, 2>> = data.iter().map(|p| p.map(to64)).collect();
    let r: Vec<SVector<f64, K>> = data
        .iter()
        .map(|p| start.responsibilities(p).unwrap().map(to64))
        .collect();
    let n = x.len() as f64;
    let centre = x.iter().sum::<SVector<f64, 2>>() / n;
    let scale = x.iter().map(|p| (p - centre).norm_squared()).sum::<f64>() / n / 2.0;
    let mut weights = [T::zero(); K];
    let mut means = start.means();
    let mut covs = start.covariances();
    for k in 0..K {
        let nk: f64 = r.iter().map(|r| r[k]).sum();
        weights[k] = c(nk / n);
        if nk <= f64::from(f32::EPSILON) * n {
            continue;
        }
        let mean = x
            .iter()
            .zip(&r)
            .map(|(p, r)| p * r[k])
            .sum::<SVector<f64, 2>>()
            / nk;
        let cov = x
            .iter()
            .zip(&r)
            .map(|(p, r)| (p - mean) * (p - mean).transpose() * r[k])
            .sum::<SMatrix<f64, 2, 2>>()
            / nk
            + SMatrix::identity() * (1e-12 * scale);
        means[k] = mean.map(c::<T>);
        covs[k] = cov.map(c::<T>);
    }
    let total = weights.iter().fold(T::zero(), |a, &w| a + w);
    Gmm::new(weights.map(|w| w / total), means, covs).unwrap()
}

#[test]
fn far_start_three_components_f64() {
    far_start_three_components::<f64>(&[1e8, 1e12, -1e30, 0.3 * f64::MAX.sqrt()], 1e-9);
}

#[test]
fn far_start_three_components_f32() {
    far_start_three_components::<f32>(&[1e4, 1e8, -1e15], 1e-4);
}

/// Finding 1's K = 2 case as reported: 200 ordinary 2-D points, means
/// (1e30, 1e30) and (−1e30, 2), default options. It used to end in
/// `NotPositiveDefinite { component: 1 }`.
#[test]
fn far_start_reported_case() {
    let data: Vec<[f64; 2]> = (0..200)
        .map(|i| [f64::from(i % 20) * 0.05, f64::from(i / 20) * 0.1])
        .collect();
    let start = Gmm::<f64, 2, 2>::new(
        [0.5, 0.5],
        [vector![1e30, 1e30], vector![-1e30, 2.0]],
        [SMatrix::identity(); 2],
    )
    .unwrap();
    let report = start.fit(&data, &FitOptions::default()).unwrap();
    assert!(report.converged());
    assert_eq!(report.model.weights()[0], 0.0);
    assert!((report.model.means()[1] - vector![0.475, 0.45]).amax() < 1e-12);
}

/// Finding 2: two clusters 10 apart whose spread is 1e-4 of the data's.
/// From the maximum-likelihood fit, a fit with the default options moves
/// their variances by less than 1 % (here: 0.01 %). The rule's other side:
/// the default still keeps degenerate f32 data positive definite.
#[test]
fn default_regularisation_keeps_tight_clusters() {
    let mut rng = common::rng(5);
    let spread = 5e-4; // the data's spread is about 5
    let data: Vec<[f64; 1]> = (0..400)
        .map(|i| {
            let z: f64 = gaussmix::sample::standard_normal_pair(&mut rng).0;
            [if i % 2 == 0 { -5.0 } else { 5.0 } + spread * z]
        })
        .collect();
    let start = Gmm::<f64, 1, 2>::new(
        [0.5, 0.5],
        [vector![-4.0], vector![4.0]],
        [SMatrix::from([[1.0]]); 2],
    )
    .unwrap();
    let exact = FitOptions::default().with_reg_covar(0.0).with_tol(1e-12);
    let ml = start.fit(&data, &exact).unwrap().model;
    let fitted = ml.fit(&data, &FitOptions::default()).unwrap();
    for k in 0..2 {
        let (a, b) = (
            fitted.model.covariances()[k][(0, 0)],
            ml.covariances()[k][(0, 0)],
        );
        assert!((b / (spread * spread) - 1.0).abs() < 0.2, "ML variance {b}");
        assert!(((a - b) / b).abs() < 1e-2, "variance {b} became {a}");
        assert!(((a - b) / b).abs() < 2e-4, "variance {b} became {a}");
    }
    // The other side, in f32: one repeated point, a line, a plane.
    let point = vec![[3.0f32, -4.0, 0.5]; 12];
    let line: Vec<[f32; 3]> = (0..12)
        .map(|i| [i as f32, 2.0 * i as f32, -(i as f32)])
        .collect();
    let plane: Vec<[f32; 3]> = (0..24)
        .map(|i| [(i % 5) as f32, (i / 5) as f32, (i % 5 + i / 5) as f32])
        .collect();
    for (data, what) in [(&point, "point"), (&line, "line"), (&plane, "plane")] {
        let start: Gmm<f32, 3, 2> = init::random_points(data, &mut common::rng(3)).unwrap();
        let report = start
            .fit(data, &FitOptions::default())
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        for cov in report.model.covariances() {
            assert!(
                gaussmix::nalgebra::Cholesky::new(cov.map(f64::from)).is_some(),
                "{what}: {cov}"
            );
        }
        assert!(report.effective_reg_covar > 0.0, "{what}");
    }
}

/// Finding 3: from the maximum-likelihood fit of tight clusters, a fit with
/// `reg_covar = 1e-4` lowers the likelihood (1136 → 546 as reported). That
/// fall is not convergence: the report counts it and the fit goes on to the
/// regularised fixed point (each variance the ML one plus about `λ`).
#[test]
fn a_fall_is_counted_not_taken_for_convergence() {
    let data: Vec<[f64; 1]> = (0..400)
        .map(
            |i| [if i % 2 == 0 { -5.0 } else { 5.0 } + 0.01 * ((i * 37 % 101) as f64 / 50.0 - 1.0)],
        )
        .collect();
    let start = Gmm::<f64, 1, 2>::new(
        [0.5, 0.5],
        [vector![-4.0], vector![4.0]],
        [SMatrix::from([[1.0]]); 2],
    )
    .unwrap();
    let ml = start
        .fit(
            &data,
            &FitOptions::default().with_reg_covar(0.0).with_tol(1e-12),
        )
        .unwrap();
    assert_eq!(ml.decreases, 0);
    let mut trace = Vec::new();
    let options = FitOptions::default().with_reg_covar(1e-4).with_tol(1e-9);
    let report = gaussmix::fit(&data, ml.model, &options, |it| {
        trace.push(it.log_likelihood);
        core::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert!(trace[1] < trace[0] - 100.0, "{trace:?}");
    assert!(report.decreases >= 1);
    assert!(report.converged());
    assert!(report.iterations >= 2);
    let lambda = report.effective_reg_covar;
    let scale = data.iter().map(|x| x[0] * x[0]).sum::<f64>() / 400.0
        - (data.iter().map(|x| x[0]).sum::<f64>() / 400.0).powi(2);
    assert!((lambda / (1e-4 * scale) - 1.0).abs() < 1e-12, "{lambda}");
    for k in 0..2 {
        let (a, b) = (
            report.model.covariances()[k][(0, 0)],
            ml.model.covariances()[k][(0, 0)],
        );
        assert!(
            ((a - b) / lambda - 1.0).abs() < 1e-3,
            "{a} vs {b} + {lambda}"
        );
    }
}

/// Finding 4: `data_covariance` of data whose spread overflows `T` is an
/// error, never an infinite covariance inside `Ok`.
#[test]
fn data_covariance_never_returns_non_finite() {
    assert_eq!(
        init::data_covariance(&[[-1e20f32], [1e20]]),
        Err(Error::DataOverflow)
    );
    // Near the limit but representable: finite.
    let (m, cov) = init::data_covariance(&[[-1e18f32], [1e18]]).unwrap();
    assert!(m[0].is_finite() && cov[(0, 0)].is_finite());
    assert_eq!(
        init::data_covariance(&[[3e38f32], [3e38]]),
        Ok((SVector::from([3e38]), SMatrix::zeros()))
    );
    let start: Result<Gmm<f32, 1, 1>, _> =
        init::random_points(&[[-1e20f32], [1e20]], &mut common::rng(1));
    assert_eq!(start, Err(Error::DataOverflow));
    // No spread at 3e38: the start's scale, the squared size, overflows.
    let start: Result<Gmm<f32, 1, 1>, _> =
        init::random_points(&[[3e38f32], [3e38]], &mut common::rng(1));
    assert_eq!(start, Err(Error::DataOverflow));
}

/// Finding 5: the lift is bounded, stated, reported, and never vanishes.
/// Points on a line need the resolution floor; the report says how much
/// was added, and it is at most 10³ times the larger of the request and
/// the floor.
#[test]
fn the_lift_is_bounded_and_reported() {
    let line: Vec<[f64; 2]> = (0..30)
        .map(|i| [f64::from(i), 2.0 * f64::from(i)])
        .collect();
    let start: Gmm<f64, 2, 1> = init::random_points(&line, &mut common::rng(1)).unwrap();
    let scale = 0.5 * (1.0 + 4.0) * (30.0 * 30.0 - 1.0) / 12.0; // mean variance
    for reg in [1e-30, 1e-12, 1e-3] {
        let r = start
            .fit(&line, &FitOptions::default().with_reg_covar(reg))
            .unwrap();
        let largest = r.model.covariances()[0][(1, 1)];
        let floor = 4.0 * 3.0 * f64::EPSILON * largest;
        assert!(r.effective_reg_covar >= reg * scale * (1.0 - 1e-12));
        assert!(
            r.effective_reg_covar <= 1e3 * (reg * scale).max(floor),
            "{reg}"
        );
    }
    // reg_covar · scale underflows f32 (data at 1e-30, one repeated point):
    // the lift is still positive, the smallest normal number.
    let tiny = vec![[1e-30f32]; 5];
    let r = one::<f32>(0.0, 1.0)
        .fit(&tiny, &FitOptions::default())
        .unwrap();
    assert_eq!(r.effective_reg_covar, f32::MIN_POSITIVE);
    assert!(r.model.covariances()[0][(0, 0)] > 0.0);
}

/// Finding 6: `SufficientStats` refuses what it cannot do right.
#[test]
fn statistics_refuse_what_they_cannot_do_right() {
    let data = ordinary::<f64>();
    let model = one::<f64>(1e6, 1.0);
    let mut s = SufficientStats::new(&model);
    s.accumulate_slice(&model, &data).unwrap();
    assert!(s.needs_recentring());
    assert_eq!(s.m_step(&model, 0.0), Err(Error::NeedsRecentring));
    let mut again = s.recentred();
    again.accumulate_slice(&model, &data).unwrap();
    assert!(!again.needs_recentring());
    assert!(again.m_step(&model, 0.0).is_ok());
    // Same means, another covariance: another model.
    let other = one::<f64>(1e6, 2.0);
    assert_eq!(s.m_step(&other, 0.0), Err(Error::MismatchedStatistics));
    assert_eq!(
        s.merge(&SufficientStats::new(&other)),
        Err(Error::MismatchedStatistics)
    );
    assert_eq!(
        s.accumulate(&other, &[0.0]),
        Err(Error::MismatchedStatistics)
    );
    // Second moments that overflow count as needing recentring.
    let far = one::<f64>(1e200, 1e300);
    let mut s = SufficientStats::new(&far);
    s.accumulate_slice(&far, &data).unwrap();
    assert!(s.needs_recentring());
}

/// `em_step` and `fit` of every kind agree after the far start is
/// recentred (the kinds share the recentring loop).
#[test]
fn every_kind_recentres_far_starts() {
    let data: Vec<SVector<f64, 2>> = common::sample(&common::two_clusters(), 200, 4);
    let o = 1e12;
    fn check<C: gaussmix::CovarianceKind>(start: Gmm<f64, 2, 1, C>, data: &[SVector<f64, 2>]) {
        let r = start.fit(data, &FitOptions::default()).unwrap();
        assert!(r.converged(), "{}", C::NAME);
        let step = em_step(data, &start, 1e-12).unwrap();
        let again = step.model.fit(data, &FitOptions::default()).unwrap();
        assert!(
            (r.model.means()[0] - again.model.means()[0]).amax() < 1e-9,
            "{}",
            C::NAME
        );
    }
    let m = [vector![o, -o]];
    check(
        Gmm::<f64, 2, 1, Full>::new([1.0], m, [SMatrix::identity()]).unwrap(),
        &data,
    );
    check(
        Gmm::<f64, 2, 1, Diag>::new([1.0], m, [vector![1.0, 1.0]]).unwrap(),
        &data,
    );
    check(
        Gmm::<f64, 2, 1, Spherical>::new([1.0], m, [1.0]).unwrap(),
        &data,
    );
    check(
        Gmm::<f64, 2, 1, Tied>::new([1.0], m, SMatrix::identity()).unwrap(),
        &data,
    );
}

/// The report is never non-finite inside `Ok`.
#[allow(dead_code)]
fn finite_report<T: Real, const D: usize, const K: usize>(r: &FitReport<T, D, K>) -> bool {
    r.log_likelihood.is_finite() && r.effective_reg_covar.is_finite()
}

/// Fuzz findings after core v2. The statistics' fingerprint used to miss
/// changes confined to sign bits (two of them cancelled): the correlation
/// `0.5` against `−0.5` with the same mean and weight.
#[test]
fn statistics_see_a_flipped_sign() {
    let a = Gmm::<f64, 2, 1>::new(
        [1.0],
        [vector![0.0, 0.0]],
        [SMatrix::from([[1.0, 0.5], [0.5, 1.0]])],
    )
    .unwrap();
    let b = Gmm::<f64, 2, 1>::new(
        [1.0],
        [vector![0.0, 0.0]],
        [SMatrix::from([[1.0, -0.5], [-0.5, 1.0]])],
    )
    .unwrap();
    let mut s = SufficientStats::new(&a);
    assert_eq!(
        s.accumulate(&b, &[0.1, 0.2]),
        Err(Error::MismatchedStatistics)
    );
    s.accumulate(&a, &[0.1, 0.2]).unwrap();
    assert_eq!(s.m_step(&b, 0.0), Err(Error::MismatchedStatistics));
}

/// A spherical variance is accepted wherever the diagonal kind accepts the
/// same `σ² I` (it used to overflow its stored `1/(2σ²)` first).
#[test]
fn spherical_accepts_what_diag_accepts() {
    for v in [1e-300, 1e-307, f64::MIN_POSITIVE] {
        let diag = Gmm::<f64, 2, 1, Diag>::new([1.0], [vector![0.0, 0.0]], [vector![v, v]]);
        let sph = Gmm::<f64, 2, 1, Spherical>::new([1.0], [vector![0.0, 0.0]], [v]);
        assert_eq!(diag.is_ok(), sph.is_ok(), "{v:e}");
        if let (Ok(d), Ok(s)) = (diag, sph) {
            let x = [v.sqrt(), 0.0];
            assert_eq!(d.log_prob(&x).is_ok(), s.log_prob(&x).is_ok());
        }
    }
}

/// The mean per-coordinate variance of `data` weighted by `w`, two-pass.
fn variance_of(data: &[SVector<f64, 2>], w: &[f64]) -> f64 {
    let n: f64 = w.iter().sum();
    let mean = data
        .iter()
        .zip(w)
        .map(|(x, w)| x * *w)
        .sum::<SVector<f64, 2>>()
        / n;
    let scatter: f64 = data
        .iter()
        .zip(w)
        .map(|(x, w)| (x - mean).norm_squared() * w)
        .sum();
    scatter / n / 2.0
}

/// The scale `reg_covar` is relative to, as every fit measures it from the
/// statistics its M-step reads: the data's mean per-coordinate variance
/// whatever the model they were accumulated under (a far one leaves large
/// first moments about its means to cancel), for every kind, weighted or
/// not.
fn measures_the_data_scale<C: gaussmix::CovarianceKind>() {
    let offset = vector![1e3, -2e3];
    let data: Vec<SVector<f64, 2>> = common::sample(&common::three_clusters(), 700, 3)
        .iter()
        .map(|x| x + offset)
        .collect();
    let ones = vec![1.0; data.len()];
    let w: Vec<f64> = (0..data.len()).map(|i| (i % 5) as f64 * 0.5).collect();
    let fitted: Gmm<f64, 2, 3, C> = init::random_points(&data, &mut common::rng(4)).unwrap();
    // Means picked from the data moved by (40, −60): far from their points.
    let moved: Vec<SVector<f64, 2>> = data.iter().map(|x| x + vector![40.0, -60.0]).collect();
    let far: Gmm<f64, 2, 3, C> = init::random_points(&moved, &mut common::rng(4)).unwrap();
    for model in [fitted, far] {
        let mut plain = SufficientStats::new(&model);
        plain.accumulate_slice(&model, &data).unwrap();
        let expected = variance_of(&data, &ones);
        let got = plain.scale().unwrap();
        assert!((got / expected - 1.0).abs() < 1e-11, "{got} vs {expected}");
        let mut weighted = SufficientStats::new(&model);
        weighted.accumulate_weighted(&model, &data, &w).unwrap();
        let expected = variance_of(&data, &w);
        let got = weighted.scale().unwrap();
        assert!((got / expected - 1.0).abs() < 1e-11, "{got} vs {expected}");
    }
}

#[test]
fn statistics_measure_the_data_scale() {
    measures_the_data_scale::<Full>();
    measures_the_data_scale::<Diag>();
    measures_the_data_scale::<Spherical>();
    measures_the_data_scale::<Tied>();
    // No spread: the mean's largest squared coordinate, or 1 at 0.
    let model = one::<f64>(3.0, 1.0);
    let mut same = SufficientStats::new(&model);
    same.accumulate_slice(&model, &[[-4.0]; 5]).unwrap();
    assert_eq!(same.scale(), Ok(16.0));
    let mut zeros = SufficientStats::new(&model);
    zeros.accumulate_slice(&model, &[[0.0]; 5]).unwrap();
    assert_eq!(zeros.scale(), Ok(1.0));
    assert_eq!(
        SufficientStats::new(&model).scale(),
        Err(Error::TooFewPoints {
            points: 0,
            needed: 1
        })
    );
}

/// A spread that overflows `T` (a variance beyond `T`'s largest value) is
/// an error of the fit, and so is a non-finite point, found by the first
/// pass (there is no separate scan).
#[test]
fn fits_report_an_overflowing_spread_and_bad_points() {
    let data = [[-2e19f32], [-2.1e19], [2e19], [2.1e19]];
    let start = Gmm::<f32, 1, 2>::new(
        [0.5, 0.5],
        [vector![-2e19], vector![2e19]],
        [SMatrix::from_element(1e36); 2],
    )
    .unwrap();
    let options = FitOptions::default();
    assert_eq!(start.fit(&data, &options), Err(Error::DataOverflow));
    assert_eq!(em_step(&data, &start, 1e-6), Err(Error::DataOverflow));
    // Without regularisation the spread is not measured.
    assert!(start.fit(&data, &options.with_reg_covar(0.0)).is_ok());
    // Weights whose total is finite but whose soft counts add up past
    // `f32::MAX`: moments that cannot be represented.
    let near = Gmm::<f32, 1, 2>::new(
        [0.5, 0.5],
        [vector![0.0], vector![3e-3]],
        [SMatrix::from_element(1e-6); 2],
    )
    .unwrap();
    let weights = [f32::MAX / 4.0; 4];
    let tight = [[0.0f32], [1e-3], [2e-3], [3e-3]];
    assert_eq!(
        fit_weighted(&tight, &weights, near, &options, |_| ControlFlow::Continue(
            ()
        )),
        Err(Error::MomentOverflow)
    );
    let mut bad = ordinary::<f64>();
    bad[7] = [f64::NAN];
    let model = one::<f64>(0.5, 0.1);
    assert_eq!(
        em_step(&bad, &model, 1e-6),
        Err(Error::NonFiniteData { index: 7 })
    );
}

/// Many points far apart: the sum of their squared deviations overflows
/// `T` although their variance, and every squared deviation, does not.
/// Neither the data covariance nor the scale of the regularisation may
/// then fail (they did, with `DataOverflow`, once `N` passed a few
/// hundred at this scale in `f32`), in any kind.
#[test]
fn many_points_far_apart_keep_their_covariance_and_scale() {
    let s = 3e17_f32;
    let n = 2000;
    let data: Vec<[f32; 2]> = (0..n)
        .map(|i| {
            let t = i as f32;
            let shift = if i % 2 == 0 { 3.0 } else { 0.0 };
            [s * ((t * 0.7).sin() + shift), s * (t * 1.3).cos()]
        })
        .collect();
    // The covariance against f64, where nothing overflows.
    let (mean, cov) = init::data_covariance(&data).unwrap();
    let wide: Vec<[f64; 2]> = data
        .iter()
        .map(|p| [f64::from(p[0]), f64::from(p[1])])
        .collect();
    let (mean64, cov64) = init::data_covariance(&wide).unwrap();
    for i in 0..2 {
        assert!((f64::from(mean[i]) - mean64[i]).abs() <= 1e-5 * mean64.abs().max());
        for j in 0..2 {
            let err = (f64::from(cov[(i, j)]) - cov64[(i, j)]).abs();
            assert!(err <= 1e-4 * cov64.abs().max(), "({i}, {j}): {err:e}");
        }
    }
    let sum_of_squares: f64 = wide.iter().map(|p| (p[0] - mean64[0]).powi(2)).sum();
    assert!(sum_of_squares > f64::from(f32::MAX), "the test's premise");
    // The scale (the mean per-coordinate variance, population) that every
    // kind's statistics must give, and a default fit, which measures it.
    let expected = 0.5 * (cov64[(0, 0)] + cov64[(1, 1)]) * f64::from(n - 1) / f64::from(n);
    fn check<C: common::Kind>(data: &[[f32; 2]], s: f32, expected: f64) {
        let wide = SMatrix::<f32, 2, 2>::identity() * (s * s);
        let means = [vector![0.0, 0.0], vector![3.0 * s, 0.0]];
        let start = C::from_full([0.5, 0.5], means, &[wide; 2]).unwrap();
        let mut stats = SufficientStats::new(&start);
        stats.accumulate_slice(&start, data).unwrap();
        let scale = stats.scale().unwrap();
        let error = (f64::from(scale) / expected - 1.0).abs();
        assert!(error < 1e-3, "{}: {scale:e} vs {expected:e}", C::NAME);
        let report = start.fit(data, &FitOptions::default()).unwrap();
        let fitted = report.model.means();
        assert!(
            (fitted[0][0] / s).abs() < 0.2 && (fitted[1][0] / s - 3.0).abs() < 0.2,
            "{}: {fitted:?}",
            C::NAME
        );
    }
    check::<Full>(&data, s, expected);
    check::<Diag>(&data, s, expected);
    check::<Spherical>(&data, s, expected);
    check::<Tied>(&data, s, expected);
}

/// Data whose per-coordinate variances are each finite but above `MAX/D`,
/// so that their sum, the covariance's trace, overflows `T` where their
/// mean (the data's scale) does not. Every start of every kind must then
/// exist (they failed with `DataOverflow`), with the spherical kind's
/// variance the mean of the data covariance's diagonal.
#[test]
fn starts_exist_where_only_the_trace_of_the_data_covariance_overflows() {
    let a = 1.3e19_f32;
    let data = [
        [a, a],
        [-a, -a],
        [a, -a],
        [-a, a],
        [0.9 * a, a],
        [-a, -0.9 * a],
    ];
    let (_, cov) = init::data_covariance(&data).unwrap();
    assert!(
        !(cov[(0, 0)] + cov[(1, 1)]).is_finite(),
        "the test's premise"
    );
    let wide: Vec<[f64; 2]> = data
        .iter()
        .map(|p| [f64::from(p[0]), f64::from(p[1])])
        .collect();
    let (_, cov64) = init::data_covariance(&wide).unwrap();
    fn starts<C: common::Kind>(data: &[[f32; 2]]) -> Gmm<f32, 2, 2, C> {
        let mut rng = rand_pcg::Pcg32::new(5, 7);
        let start: Gmm<f32, 2, 2, C> = init::random_points(data, &mut rng)
            .unwrap_or_else(|e| panic!("{}: random_points: {e:?}", C::NAME));
        init::kmeans_plus_plus::<f32, 2, 2, C, _, _>(data, &mut rng)
            .unwrap_or_else(|e| panic!("{}: kmeans_plus_plus: {e:?}", C::NAME));
        start
    }
    starts::<Full>(&data);
    starts::<Diag>(&data);
    starts::<Tied>(&data);
    let expected = 0.5 * (cov64[(0, 0)] + cov64[(1, 1)]);
    for v in starts::<Spherical>(&data).variances() {
        let error = (f64::from(v) / expected - 1.0).abs();
        assert!(error < 1e-5, "{v:e} against {expected:e}");
    }
}
