//! The seed notebook's two experiments, end to end: data drawn with the
//! crate's own sampler from a known 2- and 3-component mixture, fitted from
//! the notebook's initialisation (`init::random_points`), must recover the
//! generating weights, means and covariances.
//!
//! Tolerances are about four standard errors of the estimates at these
//! sample sizes (stated per test), so a correct fit passes with a wide
//! margin while a wrong M-step, sampler or initialisation does not. The RNG
//! is seeded, so each test is deterministic.

mod common;

use core::ops::ControlFlow;

use gaussmix::nalgebra::{SMatrix, SVector};
use gaussmix::{fit, init, FitOptions, Full, Gmm, Real};

/// A fitted model in `f64`, components in the truth's order, and its trace.
struct Matched<const K: usize> {
    weights: [f64; K],
    means: [SVector<f64, 2>; K],
    covariances: [SMatrix<f64, 2, 2>; K],
    trace: Vec<f64>,
}

/// Fits `data` from the notebook's initialisation and returns the model with
/// its components reordered to match `truth` (each fitted component is
/// paired with the nearest true mean; the pairing must be one-to-one).
fn fit_and_match<T: Real, const K: usize>(
    truth: &Gmm<f64, 2, K>,
    data: &[SVector<T, 2>],
    seed: u64,
) -> Matched<K> {
    let to64 = |x: T| gaussmix::nalgebra::try_convert::<T, f64>(x).unwrap();
    let start = init::random_points::<T, 2, K, Full, _, _>(data, &mut common::rng(seed)).unwrap();
    let mut trace = Vec::new();
    let options = FitOptions::default().with_tol(gaussmix::nalgebra::convert(1e-7));
    let report = fit(data, start, &options, |it| {
        trace.push(to64(it.log_likelihood));
        ControlFlow::Continue(())
    })
    .unwrap();
    assert!(
        report.converged(),
        "{:?} after {} iterations",
        report.termination,
        report.iterations
    );
    let model = report.model;
    let means = model.means().map(|m| m.map(to64));
    let mut order = [usize::MAX; K];
    for (k, t) in truth.means().iter().enumerate() {
        let nearest = (0..K)
            .min_by(|&a, &b| (means[a] - t).norm().total_cmp(&(means[b] - t).norm()))
            .unwrap();
        assert!(
            !order.contains(&nearest),
            "two true components matched fitted {nearest}"
        );
        order[k] = nearest;
    }
    Matched {
        weights: order.map(|j| to64(model.weights()[j])),
        means: order.map(|j| means[j]),
        covariances: order.map(|j| model.covariances()[j].map(to64)),
        trace,
    }
}

fn check<T: Real, const K: usize>(
    truth: &Gmm<f64, 2, K>,
    n: usize,
    seeds: (u64, u64),
    tol: (f64, f64, f64),
) {
    let data: Vec<SVector<T, 2>> = common::sample(truth, n, seeds.0)
        .iter()
        .map(|x| x.map(gaussmix::nalgebra::convert::<f64, T>))
        .collect();
    let Matched {
        weights,
        means,
        covariances: covs,
        trace,
    } = fit_and_match::<T, K>(truth, &data, seeds.1);
    for k in 0..K {
        let (w, m, c) = (truth.weights()[k], truth.means()[k], truth.covariances()[k]);
        assert!(
            (weights[k] - w).abs() < tol.0,
            "weight {k}: {} vs {w}",
            weights[k]
        );
        assert!(
            (means[k] - m).amax() < tol.1,
            "mean {k}: {} vs {m}",
            means[k]
        );
        assert!(
            (covs[k] - c).amax() < tol.2,
            "covariance {k}: {} vs {c}",
            covs[k]
        );
    }
    // The notebook's trace rises (up to rounding) from start to end.
    assert!(
        trace.windows(2).all(|w| w[1] >= w[0] - 1e-6 * w[0].abs()),
        "{trace:?}"
    );
    assert!(trace.len() >= 3 && trace[trace.len() - 1] > trace[0]);
}

// Two clusters, N = 1000 (500 a component). Standard errors: weight
// √(¼/1000) ≈ 0.016; mean ≤ √(1.5/500) ≈ 0.055; covariance entry
// ≤ 1.5 √(2/500) ≈ 0.095. Tolerances: 0.06, 0.22, 0.4.
#[test]
fn two_clusters_f64() {
    check::<f64, 2>(&common::two_clusters(), 1000, (1, 2), (0.06, 0.22, 0.4));
}

#[test]
fn two_clusters_f32() {
    check::<f32, 2>(&common::two_clusters(), 1000, (1, 2), (0.06, 0.22, 0.4));
}

// Three clusters, N = 1500 (300, 750, 450 a component). Standard errors:
// weight ≤ √(0.25/1500) ≈ 0.013; mean ≤ √(1.6/300) ≈ 0.073; covariance
// entry ≤ 1.6 √(2/300) ≈ 0.13. Tolerances: 0.05, 0.3, 0.5.
#[test]
fn three_clusters_f64() {
    check::<f64, 3>(&common::three_clusters(), 1500, (3, 4), (0.05, 0.3, 0.5));
}

#[test]
fn three_clusters_f32() {
    check::<f32, 3>(&common::three_clusters(), 1500, (3, 4), (0.05, 0.3, 0.5));
}

/// The sampler alone: sample moments of each component's draws match its
/// parameters (so the experiments above test the fit, not a sampler that
/// happens to agree with it).
#[test]
fn sampler_matches_component_moments() {
    let truth = common::three_clusters();
    let mut rng = common::rng(99);
    let n = 20_000;
    for (k, c) in truth.components().iter().enumerate() {
        let draws: Vec<_> = (0..n)
            .map(|_| truth.sample_from(k, &mut rng).unwrap())
            .collect();
        let mean = draws.iter().sum::<SVector<f64, 2>>() / n as f64;
        let cov = draws
            .iter()
            .map(|x| (x - mean) * (x - mean).transpose())
            .sum::<SMatrix<f64, 2, 2>>()
            / (n - 1) as f64;
        // Standard errors at n = 20 000: mean ≤ 0.009, covariance ≤ 0.016.
        assert!((mean - c.mean()).amax() < 0.04, "component {k} mean {mean}");
        assert!(
            (cov - c.covariance()).amax() < 0.07,
            "component {k} covariance {cov}"
        );
    }
    // Component frequencies follow the weights: sd √(w(1−w)/n) ≤ 0.0036.
    let mut hits = [0usize; 3];
    for _ in 0..n {
        hits[truth.choose_component(&mut rng)] += 1;
    }
    for (k, &h) in hits.iter().enumerate() {
        let f = h as f64 / n as f64;
        assert!(
            (f - truth.weights()[k]).abs() < 0.015,
            "component {k} frequency {f}"
        );
    }
}
