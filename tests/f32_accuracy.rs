//! `f32` fits are as good as `f64` fits on a realistic data set: the seed's
//! 3-cluster mixture with N = 100 000 points, fitted in both precisions from
//! the same start with the default options, agree to 1e-6 relative in every
//! parameter (measured: 7.3e-7 on a 64-bit host; README, "Blocked sums").
//!
//! What makes this hold is how the sums over 100 000 points are kept from
//! drifting: each E pass sums points in blocks of 128 before adding the
//! block to the totals (`stats::BLOCK`), so the rounding error of a sum
//! grows like `(128 + N/128) ε ≈ 900 ε ≈ 5e-5` at worst instead of
//! `N ε ≈ 6e-3`, for one extra addition of the statistics per block; and
//! second moments are taken about the current means, recentred when a mean
//! jumps, so the covariance does not cancel.

mod common;

use core::ops::ControlFlow;

use gaussmix::nalgebra::{SMatrix, SVector};
use gaussmix::{em_step, fit, init, FitOptions, Full, Gmm};

const N: usize = 100_000;

#[test]
fn f32_fit_matches_f64_fit() {
    let truth = common::three_clusters();
    let data64 = common::sample(&truth, N, 11);
    let data32: Vec<SVector<f32, 2>> = data64.iter().map(|x| x.map(|v| v as f32)).collect();

    let start64 =
        init::random_points::<f64, 2, 3, Full, _, _>(&data64, &mut common::rng(12)).unwrap();
    let start32 = Gmm::<f32, 2, 3>::new(
        start64.weights().map(|w| w as f32).into(),
        start64.means().map(|m| m.map(|v| v as f32)),
        start64.covariances().map(|c| c.map(|v| v as f32)),
    )
    .unwrap();

    // f64 runs to a tight tolerance; f32 then runs the same number of
    // iterations (its own mean log-likelihood, about −4 with an ulp of
    // 5e-7, cannot resolve the last improvements, so `fit` in f32 stops a
    // few iterations earlier, by design).
    let f64_fit = fit(
        &data64,
        start64,
        &FitOptions::default().with_tol(1e-12).with_max_iter(1000),
        |_| ControlFlow::Continue(()),
    )
    .unwrap();
    assert!(f64_fit.converged());
    let mut f32_model = start32;
    for _ in 0..f64_fit.iterations {
        f32_model = em_step(&data32, &f32_model, FitOptions::<f32>::default().reg_covar)
            .unwrap()
            .model;
    }
    let f32_mean_ll = f32_model.mean_log_likelihood(&data32).unwrap();

    let (a, b) = (f32_model, f64_fit.model);
    let mut worst = 0.0f64;
    let mut check = |what: &str, k: usize, got: f64, want: f64| {
        let rel = (got - want).abs() / want.abs();
        worst = worst.max(rel);
        assert!(
            rel < 1e-4,
            "{what} of component {k}: f32 {got} vs f64 {want} ({rel:e} relative)"
        );
    };
    for k in 0..3 {
        check("weight", k, f64::from(a.weights()[k]), b.weights()[k]);
        // Vectors and matrices relative to their norm: an off-diagonal
        // covariance near 0 has no meaningful entrywise relative error.
        let m32: SVector<f64, 2> = a.means()[k].map(f64::from);
        check(
            "mean",
            k,
            (m32 - b.means()[k]).norm() + b.means()[k].norm(),
            b.means()[k].norm(),
        );
        let c32: SMatrix<f64, 2, 2> = a.covariances()[k].map(f64::from);
        let c64 = b.covariances()[k];
        check("covariance", k, (c32 - c64).norm() + c64.norm(), c64.norm());
    }
    // The README's figure is 7.3e-7 (deterministic: the same arithmetic on
    // every 64-bit host, which adds these statistics in lanes; 32-bit
    // targets, which add them point by point, round differently). Without
    // blocked sums it is 2.3e-5, so this fails if blocking is lost.
    assert!(worst < 1e-6, "f32 vs f64: {worst:e}");
    let ll = (f64::from(f32_mean_ll) - f64_fit.mean_log_likelihood).abs();
    assert!(
        ll < 1e-4 * f64_fit.mean_log_likelihood.abs(),
        "mean log-likelihood differs by {ll}"
    );
    println!(
        "largest relative difference f32 vs f64: {worst:e} after {} iterations",
        f64_fit.iterations
    );
}
