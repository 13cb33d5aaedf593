//! Bad and awkward input, case by case, in `f32` and `f64`: each case
//! states its expected outcome, either a specific `Err` or a fit whose
//! parameters are all finite with positive-definite covariances (checked
//! by [`assert_valid`]). Nothing may panic and no model may hold a NaN.

// The crate's math rule (clippy.toml) binds the library, not its tests.
#![allow(clippy::disallowed_methods)]

mod common;

use core::ops::ControlFlow;

use gaussmix::nalgebra::{convert, Cholesky, SMatrix, SVector};
use gaussmix::{
    em_step, fit, fit_in_place, init, Error, FitOptions, FitReport, Full, Gmm, Real, Termination,
};

fn c<T: Real>(x: f64) -> T {
    convert::<f64, T>(x)
}

fn to64<T: Real>(x: T) -> f64 {
    gaussmix::nalgebra::try_convert::<T, f64>(x).expect("f32 and f64 convert to f64")
}

fn go<T: Real>(_: &gaussmix::Iteration<T>) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// Every parameter finite, weights non-negative summing to 1, covariances
/// symmetric positive definite, log-likelihood finite.
fn assert_valid<T: Real, const D: usize, const K: usize>(report: &FitReport<T, D, K>) {
    let m = &report.model;
    assert!(
        report.log_likelihood.is_finite(),
        "log-likelihood {:?}",
        report.log_likelihood
    );
    let sum = m.weights().iter().fold(T::zero(), |a, &w| a + w);
    assert!((sum - T::one()).abs() <= c::<T>(8.0 * K as f64) * T::default_epsilon());
    assert!(m.weights().iter().all(|&w| w >= T::zero() && w.is_finite()));
    for (k, (mean, cov)) in m.means().iter().zip(m.covariances().iter()).enumerate() {
        assert!(mean.iter().all(|v| v.is_finite()), "mean {k}");
        assert!(cov.iter().all(|v| v.is_finite()), "covariance {k}");
        assert_eq!(*cov, cov.transpose(), "covariance {k} not symmetric");
        assert!(
            Cholesky::new(*cov).is_some(),
            "covariance {k} not positive definite"
        );
    }
}

fn standard<T: Real, const D: usize, const K: usize>(spread: f64) -> Gmm<T, D, K> {
    let means = core::array::from_fn(|k| SVector::repeat(c::<T>(k as f64 * spread)));
    Gmm::new([c::<T>(1.0 / K as f64); K], means, [SMatrix::identity(); K]).unwrap()
}

fn points<T: Real, const D: usize>(n: usize, seed: u64) -> Vec<SVector<T, D>> {
    let mut rng = common::rng(seed);
    (0..n)
        .map(|_| gaussmix::sample::standard_normal_vector::<T, D, _>(&mut rng))
        .collect()
}

macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[test]
            fn f32() {
                super::$body::<f32>();
            }
            #[test]
            fn f64() {
                super::$body::<f64>();
            }
        }
    };
}

/// NaN or ±inf anywhere in the data: `NonFiniteData` naming the first bad
/// point, from the fit, both initialisers, and the whole-data inference.
fn non_finite_data<T: Real>() {
    for bad in [
        c::<T>(f64::NAN),
        c::<T>(f64::INFINITY),
        c::<T>(f64::NEG_INFINITY),
    ] {
        for (index, coord) in [(0, 0), (17, 1), (49, 0)] {
            let mut data = points::<T, 2>(50, 1);
            data[index][coord] = bad;
            let expect = Err(Error::NonFiniteData { index });
            let start = standard::<T, 2, 2>(1.0);
            assert_eq!(
                fit(&data, start, &FitOptions::default(), go).map(|_| ()),
                expect
            );
            assert_eq!(em_step(&data, &start, T::zero()).map(|_| ()), expect);
            let mut rng = common::rng(2);
            assert_eq!(
                init::random_points::<T, 2, 2, Full, _, _>(&data, &mut rng).map(|_| ()),
                expect
            );
            assert_eq!(
                init::kmeans_plus_plus::<T, 2, 2, Full, _, _>(&data, &mut rng).map(|_| ()),
                expect
            );
            assert_eq!(start.log_likelihood(&data).map(|_| ()), expect);
            assert_eq!(
                start.responsibilities(&data[index]),
                Err(Error::NonFiniteData { index: 0 })
            );
        }
    }
}
both!(nan_or_infinite_data, non_finite_data);

/// N = 0, N = 1, N < K: `TooFewPoints`, except N = 1 with K = 1, which fits
/// (the point's covariance is the regularisation alone).
fn too_few_points<T: Real>() {
    let empty: [SVector<T, 2>; 0] = [];
    let start = standard::<T, 2, 3>(1.0);
    let o = FitOptions::default();
    assert_eq!(
        fit(&empty, start, &o, go).map(|_| ()),
        Err(Error::TooFewPoints {
            points: 0,
            needed: 3
        })
    );
    let two = points::<T, 2>(2, 3);
    assert_eq!(
        fit(&two, start, &o, go).map(|_| ()),
        Err(Error::TooFewPoints {
            points: 2,
            needed: 3
        })
    );
    assert_eq!(
        init::random_points::<T, 2, 3, Full, _, _>(&two, &mut common::rng(4)).map(|_| ()),
        Err(Error::TooFewPoints {
            points: 2,
            needed: 3
        })
    );
    let one = points::<T, 2>(1, 5);
    assert_eq!(
        init::random_points::<T, 2, 1, Full, _, _>(&one, &mut common::rng(4)).map(|_| ()),
        Err(Error::TooFewPoints {
            points: 1,
            needed: 2
        })
    );
    let report = fit(&one, standard::<T, 2, 1>(1.0), &o, go).unwrap();
    assert_valid(&report);
    assert_eq!(report.model.means()[0], one[0]);
    assert_eq!(
        fit(
            &one,
            standard::<T, 2, 1>(1.0),
            &o.with_reg_covar(T::zero()),
            go
        )
        .map(|_| ()),
        Err(Error::NotPositiveDefinite { component: 0 })
    );
}
both!(zero_one_or_fewer_points_than_components, too_few_points);

/// Degenerate geometry: all points identical; on a line in 2-D; on a plane
/// in 3-D; one constant coordinate. With the default (scale-relative)
/// regularisation: a valid fit. Without: `NotPositiveDefinite`, naming a
/// component.
fn degenerate_geometry<T: Real>() {
    let base = points::<T, 3>(60, 6);
    let same: Vec<SVector<T, 2>> = vec![SVector::from([c(3.0), c(-7.0)]); 40];
    let line: Vec<SVector<T, 2>> = base
        .iter()
        .map(|p| SVector::from([p[0], p[0] * c(2.0) + c(1.0)]))
        .collect();
    let plane: Vec<SVector<T, 3>> = base
        .iter()
        .map(|p| SVector::from([p[0], p[1], p[0] - p[1] * c(0.5)]))
        .collect();
    let constant: Vec<SVector<T, 3>> = base
        .iter()
        .map(|p| SVector::from([p[0], c(4.0), p[2]]))
        .collect();

    fn check<T: Real, const D: usize>(data: &[SVector<T, D>], what: &str) {
        let start = init::random_points::<T, D, 2, Full, _, _>(data, &mut common::rng(7))
            .unwrap_or_else(|e| panic!("{what}: init failed: {e}"));
        let report = fit(data, start, &FitOptions::default(), go)
            .unwrap_or_else(|e| panic!("{what}: fit failed: {e}"));
        assert_valid(&report);
        let plain = fit(
            data,
            start,
            &FitOptions::default().with_reg_covar(T::zero()),
            go,
        );
        assert!(
            matches!(plain, Err(Error::NotPositiveDefinite { component }) if component < 2),
            "{what}: {plain:?}"
        );
        // In place: the same error, and the model left is still a valid
        // mixture: `Gmm::new` accepts its parameters (all finite, weights
        // summing to 1, covariances positive definite) and gives the same
        // means, covariances and densities (the weights to rounding: `new`
        // normalises them).
        let mut model = start;
        let in_place = fit_in_place(
            data,
            &mut model,
            &FitOptions::default().with_reg_covar(T::zero()),
            go,
        );
        assert_eq!(in_place.map(|_| ()), plain.map(|_| ()), "{what}");
        let rebuilt =
            Gmm::<T, D, 2>::new(model.weights().into(), model.means(), model.covariances())
                .unwrap_or_else(|e| panic!("{what}: the model left is invalid: {e}"));
        assert_eq!(rebuilt.means(), model.means(), "{what}");
        assert_eq!(rebuilt.covariances(), model.covariances(), "{what}");
        let tol = c::<T>(64.0) * T::EPS;
        for x in data {
            let (a, b) = (rebuilt.log_prob(x).unwrap(), model.log_prob(x).unwrap());
            assert!(
                (a - b).abs() <= tol * (a.abs() + T::one()),
                "{what}: {a:?} {b:?}"
            );
        }
    }
    check(&same, "identical points");
    check(&line, "line in 2-D");
    check(&plane, "plane in 3-D");
    check(&constant, "constant coordinate");
}
both!(identical_line_plane_constant, degenerate_geometry);

/// Data scaled by 1e±30 (f64) or 1e±15 (f32): the fit is scale-equivariant
/// (regularisation is relative to the data's scale), so weights are
/// unchanged, means scale by s and covariances by s², to rounding.
fn scaled_data<T: Real>() {
    let exp = if T::default_epsilon() > c(1e-10) {
        15
    } else {
        30
    };
    let data = common::sample(&common::three_clusters(), 600, 8);
    let start64 = init::random_points::<f64, 2, 3, Full, _, _>(&data, &mut common::rng(9)).unwrap();
    let options = FitOptions::default().with_max_iter(20);
    let fit_at = |s: f64| {
        let d: Vec<SVector<T, 2>> = data.iter().map(|x| x.map(|v| c::<T>(v * s))).collect();
        let start = Gmm::<T, 2, 3>::new(
            start64.weights().map(|w| c::<T>(w)).into(),
            start64.means().map(|m| m.map(|v| c::<T>(v * s))),
            start64.covariances().map(|m| m.map(|v| c::<T>(v * s * s))),
        )
        .unwrap();
        let r = fit(&d, start, &options, go).unwrap();
        assert_valid(&r);
        r.model
    };
    let unit = fit_at(1.0);
    let tol = if exp == 15 { 1e-3 } else { 1e-9 };
    for s in [10f64.powi(exp), 10f64.powi(-exp)] {
        let m = fit_at(s);
        for k in 0..3 {
            let rel = |a: T, b: T, scale: f64| {
                let (a, b) = (to64(a), to64(b));
                (a / scale - b).abs() / b.abs().max(1.0)
            };
            assert!(
                rel(m.weights()[k], unit.weights()[k], 1.0) < tol,
                "scale {s:e}: weight {k}"
            );
            for i in 0..2 {
                assert!(
                    rel(m.means()[k][i], unit.means()[k][i], s) < tol,
                    "scale {s:e}: mean {k}"
                );
                for j in 0..2 {
                    let (a, b) = (m.covariances()[k][(i, j)], unit.covariances()[k][(i, j)]);
                    assert!(rel(a, b, s * s) < tol, "scale {s:e}: covariance {k}");
                }
            }
        }
    }
}
both!(data_scaled_far_from_one, scaled_data);

/// f32 data with variances ≥ 1e4 collapsing onto a line: an absolute 1e-6
/// on the diagonal is below the rounding of 1e4 in f32 and would leave the
/// covariance singular; the lift's resolution floor keeps it valid.
#[test]
fn f32_large_variance_collapse_stays_regularised() {
    let base = points::<f32, 1>(200, 10);
    let data: Vec<SVector<f32, 2>> = base
        .iter()
        .map(|p| SVector::from([p[0] * 300.0, p[0] * 600.0 - 50.0]))
        .collect();
    let start = init::random_points::<f32, 2, 2, Full, _, _>(&data, &mut common::rng(11)).unwrap();
    let report = fit(&data, start, &FitOptions::default(), go).unwrap();
    assert_valid(&report);
    // The default request (1e-12 of the data's scale, s ≈ 2.25e5 here) is
    // lost in the f32 rounding of entries near 1e5 (≈ 0.01), as an absolute
    // 1e-6 would be; the factorisation then fails and the lift rises to the
    // resolution floor, 4(D+1)ε ≈ 1.4e-6 of the largest variance, which
    // exceeds 0.5e-6 of s.
    let n = data.len() as f64;
    let mean = data
        .iter()
        .map(|x| x.map(f64::from))
        .sum::<SVector<f64, 2>>()
        / n;
    let s = data
        .iter()
        .map(|x| (x.map(f64::from) - mean).norm_squared())
        .sum::<f64>()
        / n
        / 2.0;
    for cov in report.model.covariances() {
        let cov = cov.map(f64::from);
        let (tr, det) = (cov.trace(), cov.determinant());
        let smallest = tr / 2.0 - ((tr / 2.0).powi(2) - det).max(0.0).sqrt();
        assert!(
            smallest > 0.5e-6 * s,
            "smallest variance {smallest}, scale {s}"
        );
    }
}

/// A component whose responsibility collapses to zero mid-fit (started far
/// from all data with a tiny weight): it keeps its parameters with weight
/// 0 (documented policy), the fit completes and the other components fit
/// the data.
fn emptied_component<T: Real>() {
    let data: Vec<SVector<T, 2>> = common::sample(&common::two_clusters(), 400, 12)
        .iter()
        .map(|x| x.map(c::<T>))
        .collect();
    let far = SVector::from([c::<T>(1.0e3), c::<T>(1.0e3)]);
    let start = Gmm::new(
        [c(0.495), c(0.495), c(0.01)],
        [
            SVector::from([c(1.0), c(1.0)]),
            SVector::from([c(4.0), c(4.0)]),
            far,
        ],
        [SMatrix::identity(); 3],
    )
    .unwrap();
    let report = fit(&data, start, &FitOptions::default(), go).unwrap();
    assert_valid(&report);
    let m = report.model;
    assert_eq!(m.weights()[2], T::zero());
    assert_eq!(m.components()[2], start.components()[2]);
    assert!(m.responsibilities(&data[0]).unwrap()[2] == T::zero());
}
both!(component_emptied_mid_fit, emptied_component);

/// Duplicated initial means (user-given): a valid fit; the two identical
/// components stay identical (EM cannot break the symmetry) and share the
/// weight.
fn duplicated_means<T: Real>() {
    let data: Vec<SVector<T, 2>> = common::sample(&common::two_clusters(), 300, 13)
        .iter()
        .map(|x| x.map(c::<T>))
        .collect();
    let m0 = SVector::from([c::<T>(2.0), c::<T>(2.0)]);
    let start = Gmm::new([c(0.5), c(0.5)], [m0, m0], [SMatrix::identity(); 2]).unwrap();
    let report = fit(&data, start, &FitOptions::default(), go).unwrap();
    assert_valid(&report);
    assert_eq!(report.model.components()[0], report.model.components()[1]);
    assert_eq!(report.model.weights()[0], report.model.weights()[1]);
}
both!(duplicated_initial_means, duplicated_means);

/// Invalid user parameters: each gets its documented error.
fn invalid_parameters<T: Real>() {
    let means = [SVector::<T, 2>::zeros(), SVector::from([c(1.0), c(1.0)])];
    let id = SMatrix::<T, 2, 2>::identity();
    let new =
        |w: [f64; 2], covs: [SMatrix<T, 2, 2>; 2]| Gmm::<T, 2, 2>::new(w.map(c::<T>), means, covs);
    assert_eq!(new([-0.5, 1.5], [id; 2]), Err(Error::InvalidWeights));
    assert_eq!(new([0.5, 0.6], [id; 2]), Err(Error::InvalidWeights));
    assert_eq!(new([0.2, 0.2], [id; 2]), Err(Error::InvalidWeights));
    let mut skew = id;
    skew[(0, 1)] = c(0.5);
    assert_eq!(
        new([0.5, 0.5], [id, skew]),
        Err(Error::NotSymmetric { component: 1 })
    );
    let indefinite = SMatrix::<T, 2, 2>::from_row_slice(&[c(1.0), c(3.0), c(3.0), c(1.0)]);
    assert_eq!(
        new([0.5, 0.5], [indefinite, id]),
        Err(Error::NotPositiveDefinite { component: 0 })
    );
    assert_eq!(
        new([0.5, 0.5], [id, -id]),
        Err(Error::NotPositiveDefinite { component: 1 })
    );
    let mut nan = id;
    nan[(1, 1)] = c::<T>(f64::NAN);
    assert_eq!(
        new([0.5, 0.5], [id, nan]),
        Err(Error::NonFiniteParameter { component: 1 })
    );
    assert_eq!(
        Gmm::<T, 2, 2>::new(
            [c(0.5), c(0.5)],
            [means[0], SVector::repeat(c::<T>(f64::NAN))],
            [id; 2]
        ),
        Err(Error::NonFiniteParameter { component: 1 })
    );
}
both!(invalid_user_parameters, invalid_parameters);

/// Out-of-range options: `tol` and `reg_covar` negative, NaN or infinite
/// are `InvalidOption`; every `max_iter` is valid (0 returns the start,
/// `usize::MAX` still stops on convergence).
fn bad_options<T: Real>() {
    let data = points::<T, 2>(50, 14);
    let start = standard::<T, 2, 2>(1.0);
    let o = FitOptions::<T>::default();
    for bad in [c::<T>(-1e-3), c::<T>(f64::NAN), c(f64::INFINITY)] {
        assert_eq!(
            fit(&data, start, &o.with_tol(bad), go).map(|_| ()),
            Err(Error::InvalidOption { option: "tol" })
        );
        assert_eq!(
            fit(&data, start, &o.with_reg_covar(bad), go).map(|_| ()),
            Err(Error::InvalidOption {
                option: "reg_covar"
            })
        );
        assert_eq!(
            em_step(&data, &start, bad).map(|_| ()),
            Err(Error::InvalidOption {
                option: "reg_covar"
            })
        );
    }
    let r = fit(&data, start, &o.with_max_iter(usize::MAX), go).unwrap();
    assert!(r.converged());
    assert_valid(&r);
}
both!(out_of_range_options, bad_options);

/// A callback that stops at iteration 0: the start comes back, scored.
fn stop_at_zero<T: Real>() {
    let data = points::<T, 2>(50, 15);
    let start = standard::<T, 2, 2>(1.0);
    let r = fit(&data, start, &FitOptions::default(), |_| {
        ControlFlow::Break(())
    })
    .unwrap();
    assert_eq!((r.iterations, r.termination), (0, Termination::Stopped));
    assert_eq!(r.model, start);
    // The fit sums log-likelihoods by blocks, `log_likelihood` point by
    // point: equal up to the rounding of 50 terms.
    let direct = start.log_likelihood(&data).unwrap();
    assert!(
        (r.log_likelihood - direct).abs() <= c::<T>(50.0) * T::default_epsilon() * direct.abs()
    );
}
both!(callback_stops_at_iteration_zero, stop_at_zero);

/// Inputs the fuzzers found (fuzz/regressions), each with its fixed outcome.
#[test]
fn fuzz_findings() {
    use gaussmix::nalgebra::{matrix, vector};
    use gaussmix::Gaussian;
    // Symmetry test whose scale overflowed (accepted an asymmetric matrix)
    // or underflowed (rejected a symmetric one).
    assert_eq!(
        Gaussian::new(vector![0.0, 0.0], matrix![1e200, 5e199; -5e199, 1e200]),
        Err(Error::NotSymmetric { component: 0 })
    );
    assert_eq!(
        Gaussian::new(vector![0.0f32, 0.0], matrix![1e20f32, 5e19; -5e19, 1e20]),
        Err(Error::NotSymmetric { component: 0 })
    );
    let tiny = matrix![1e-170, 5e-171; f64::from_bits(5e-171f64.to_bits() + 1), 1e-170];
    assert!(Gaussian::new(vector![0.0, 0.0], tiny).is_ok());
    // Initialisers on ordinary f32 data: two points in 3-D, and a spread
    // that is subnormal rather than zero.
    let two = [[-24.75f32, -24.0, -2.5], [0.0, 0.0, 0.0]];
    assert!(init::random_points::<f32, 3, 2, Full, _, _>(&two, &mut common::rng(1)).is_ok());
    assert!(init::kmeans_plus_plus::<f32, 3, 2, Full, _, _>(&two, &mut common::rng(1)).is_ok());
    let sub = [[0.5f32, -3.8e-21], [0.5, 0.0]];
    assert!(init::random_points::<f32, 2, 2, Full, _, _>(&sub, &mut common::rng(1)).is_ok());
    let sub64 = [[0.5f64, -1e-160], [0.5, 0.0]];
    assert!(init::random_points::<f64, 2, 2, Full, _, _>(&sub64, &mut common::rng(1)).is_ok());
    // A huge but valid reg_covar: the product with the scale saturates.
    let data = [[0.0, 0.0], [4.0, 1.0], [8.0, 0.0]];
    let start = standard::<f64, 2, 1>(1.0);
    let r = fit(
        &data,
        start,
        &FitOptions::default().with_reg_covar(1e308),
        go,
    )
    .unwrap();
    assert_valid(&r);
    // Log-likelihoods that overflow the scalar: an error, not Ok(-inf).
    let far = Gmm::<f64, 1, 1>::new([1.0], [vector![1.2e154]], [matrix![1.0]]).unwrap();
    let zeros = [[0.0]; 3];
    assert_eq!(far.log_likelihood(&zeros), Err(Error::LikelihoodOverflow));
    assert_eq!(
        fit(&zeros, far, &FitOptions::default().with_max_iter(0), go).map(|_| ()),
        Err(Error::LikelihoodOverflow)
    );
    assert_eq!(far.bic(&zeros[..2]), Err(Error::LikelihoodOverflow));
    assert_eq!(far.aic(&zeros[..2]), Err(Error::LikelihoodOverflow));
}

/// A generator stuck at one value (a failed hardware RNG): every start
/// still returns, a valid model of distinct means, with any `K` and data
/// lengths that are not powers of two (where each random index refused
/// every draw of 0, and the starts never returned).
#[test]
fn starts_from_a_stuck_generator_return() {
    struct Stuck(u64);
    impl rand_core::TryRng for Stuck {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(self.0 as u32)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(self.0)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            dst.fill(self.0 as u8);
            Ok(())
        }
    }
    fn starts<C: common::Kind>(data: &[[f64; 2]]) {
        for stuck in [0, 1 << 63, u64::MAX] {
            let random: Gmm<f64, 2, 3, C> = init::random_points(data, &mut Stuck(stuck)).unwrap();
            let plus: Gmm<f64, 2, 3, C> = init::kmeans_plus_plus(data, &mut Stuck(stuck)).unwrap();
            for model in [random, plus] {
                let m = model.means();
                assert!(
                    m[0] != m[1] && m[1] != m[2] && m[0] != m[2],
                    "{}: {m:?}",
                    C::NAME
                );
            }
        }
    }
    for n in [3, 5, 50] {
        let data: Vec<[f64; 2]> = (0..n)
            .map(|i| [f64::from(i), f64::from(i * i % 7)])
            .collect();
        starts::<gaussmix::Full>(&data);
        starts::<gaussmix::Diag>(&data);
        starts::<gaussmix::Spherical>(&data);
        starts::<gaussmix::Tied>(&data);
    }
}
