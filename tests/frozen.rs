//! Frozen parameters (`FitOptions::frozen`, `SufficientStats::m_step_frozen`):
//! held values do not move by a bit, the free ones are the maximising
//! values given them (checked against a direct computation from the
//! responsibilities), and the likelihood never falls at `reg_covar = 0`.

mod common;

use std::ops::ControlFlow;

use gaussmix::nalgebra::{SMatrix, SVector};
use gaussmix::{
    fit, init, CovarianceKind, Diag, FitOptions, Frozen, Full, Gmm, Spherical, SufficientStats,
    Tied,
};

fn data() -> Vec<SVector<f64, 2>> {
    common::sample(&common::three_clusters(), 300, 31)
}

/// Every non-empty choice of frozen parameters.
fn choices() -> Vec<Frozen> {
    let mut out = Vec::new();
    for bits in 1..8 {
        let mut f = Frozen::NONE;
        if bits & 1 != 0 {
            f = f.with_weights();
        }
        if bits & 2 != 0 {
            f = f.with_means();
        }
        if bits & 4 != 0 {
            f = f.with_covariances();
        }
        out.push(f);
    }
    out
}

fn bits<const R: usize, const C: usize>(m: &SMatrix<f64, R, C>) -> Vec<u64> {
    m.iter().map(|v| v.to_bits()).collect()
}

fn held_values_do_not_move<C: CovarianceKind>() {
    let data = data();
    let start: Gmm<f64, 2, 3, C> = init::random_points(&data, &mut common::rng(8)).unwrap();
    for frozen in choices() {
        let options = FitOptions::default()
            .with_tol(0.0)
            .with_max_iter(15)
            .with_reg_covar(0.0)
            .with_frozen(frozen);
        let mut trace = Vec::new();
        let report = fit(&data, start, &options, |it| {
            trace.push(it.log_likelihood);
            ControlFlow::Continue(())
        })
        .unwrap();
        let (a, b) = (&report.model, &start);
        let what = format!("{} {frozen:?}", C::NAME);
        assert_eq!(
            bits(&SMatrix::from(a.weights())) == bits(&SMatrix::from(b.weights())),
            frozen.weights,
            "weights, {what}"
        );
        for k in 0..3 {
            assert_eq!(
                bits(&a.means()[k]) == bits(&b.means()[k]),
                frozen.means,
                "mean {k}, {what}"
            );
            assert_eq!(
                bits(&a.covariances()[k]) == bits(&b.covariances()[k]),
                frozen.covariances,
                "covariance {k}, {what}"
            );
        }
        for pair in trace.windows(2) {
            assert!(
                pair[1] >= pair[0] - 1e-9 * pair[0].abs(),
                "{what}: {pair:?}"
            );
        }
        assert!(trace.len() == 16, "{what}");
    }
}

#[test]
fn held_values_do_not_move_and_the_likelihood_never_falls() {
    held_values_do_not_move::<Full>();
    held_values_do_not_move::<Diag>();
    held_values_do_not_move::<Spherical>();
    held_values_do_not_move::<Tied>();
}

/// One M-step with frozen means from `model`, against the scatter about
/// the frozen means computed directly from the responsibilities.
#[test]
fn frozen_means_give_the_scatter_about_them() {
    let data = data();
    // A model whose means are off the clusters' centres, so the weighted
    // means and the frozen ones differ.
    let truth = common::three_clusters();
    let model = Gmm::<f64, 2, 3>::new(
        truth.weights().into(),
        truth.means().map(|m| m + SVector::from([0.7, -0.4])),
        truth.covariances(),
    )
    .unwrap();
    let mut stats = SufficientStats::new(&model);
    stats.accumulate_slice(&model, &data).unwrap();
    let next = stats
        .m_step_frozen(&model, 0.0, Frozen::NONE.with_means())
        .unwrap();
    let mut counts = [0.0; 3];
    let mut scatter = [SMatrix::<f64, 2, 2>::zeros(); 3];
    for x in &data {
        let r = model.responsibilities(x).unwrap();
        for k in 0..3 {
            let d = x - model.means()[k];
            counts[k] += r[k];
            scatter[k] += d * d.transpose() * r[k];
        }
    }
    let total: f64 = counts.iter().sum();
    for k in 0..3 {
        let want = scatter[k] / counts[k];
        let got = next.covariances()[k];
        assert!(
            (got - want).norm() <= 1e-12 * want.norm(),
            "{k}: {got} vs {want}"
        );
        assert!((next.weights()[k] - counts[k] / total).abs() <= 1e-12);
        assert_eq!(next.means()[k], model.means()[k]);
    }
    // The other kinds take their part of the same scatter.
    let diag = Gmm::<f64, 2, 3, Diag>::new(
        model.weights().into(),
        model.means(),
        model.covariances().map(|c| c.diagonal()),
    )
    .unwrap();
    let mut s = SufficientStats::new(&diag);
    s.accumulate_slice(&diag, &data).unwrap();
    let next = s
        .m_step_frozen(&diag, 0.0, Frozen::NONE.with_means())
        .unwrap();
    let mut scatter = [SMatrix::<f64, 2, 2>::zeros(); 3];
    let mut counts = [0.0; 3];
    for x in &data {
        let r = diag.responsibilities(x).unwrap();
        for k in 0..3 {
            let d = x - diag.means()[k];
            counts[k] += r[k];
            scatter[k] += d * d.transpose() * r[k];
        }
    }
    for k in 0..3 {
        let want = (scatter[k] / counts[k]).diagonal();
        let got = next.covariances()[k].diagonal();
        assert!((got - want).norm() <= 1e-12 * want.norm(), "diag {k}");
    }
}

/// With frozen covariances the means are the weighted means, the weights
/// the soft counts' shares, and the covariances are not regularised.
#[test]
fn frozen_covariances_leave_means_and_weights_free() {
    let data = data();
    let model = common::three_clusters();
    let mut stats = SufficientStats::new(&model);
    stats.accumulate_slice(&model, &data).unwrap();
    let next = stats
        .m_step_frozen(&model, 1e-3, Frozen::NONE.with_covariances())
        .unwrap();
    let mut counts = [0.0; 3];
    let mut sums = [SVector::<f64, 2>::zeros(); 3];
    for x in &data {
        let r = model.responsibilities(x).unwrap();
        for k in 0..3 {
            counts[k] += r[k];
            sums[k] += x * r[k];
        }
    }
    for k in 0..3 {
        let want = sums[k] / counts[k];
        assert!((next.means()[k] - want).norm() <= 1e-12 * want.norm());
        assert_eq!(next.covariances()[k], model.covariances()[k]);
    }
}

/// Frozen means so far from the data that the scatter about them overflows
/// `f64` (wide enough covariances keep every density finite, so the E-step
/// succeeds): the M-step's error names the overflow, not a covariance that
/// fails to factorise (which it named before). Not for spherical
/// covariance, whose E-step squares the distance before it scales it, so
/// that there the E-step fails first (`ZeroDensity`, as documented for
/// data near `T`'s limits).
#[test]
fn frozen_means_whose_scatter_overflows_are_a_moment_overflow() {
    fn check<C: common::Kind>() {
        let data = data();
        let wide = SMatrix::<f64, 2, 2>::identity() * 1e300;
        for far in [1e155, 1e200, 1e300] {
            let means = [SVector::from([far, far]), SVector::from([-far, 0.0])];
            let start = C::from_full([0.5, 0.5], means, &[wide; 2]).unwrap();
            let options = FitOptions::default().with_frozen(Frozen::NONE.with_means());
            let result = fit(&data, start, &options, |_| ControlFlow::Continue(()));
            assert_eq!(
                result.map(|r| r.iterations).err(),
                Some(gaussmix::Error::MomentOverflow),
                "{}: means at {far:e}",
                C::NAME
            );
        }
    }
    check::<Full>();
    check::<Diag>();
    check::<Tied>();
}

/// A frozen mean whose offset from the data squares to a finite value in
/// every coordinate, though their sum over the coordinates overflows: the
/// diagonal covariance about it is finite (here 1.44e308 per coordinate),
/// no overflow. (The overflow test summed the coordinates first and
/// refused it.)
#[test]
fn a_frozen_mean_whose_squared_offset_fits_per_coordinate_is_no_overflow() {
    let data: Vec<SVector<f64, 2>> = (0..20)
        .map(|i| SVector::from([f64::from(i) * 0.01, -f64::from(i) * 0.02]))
        .collect();
    let far = 1.2e154;
    let start = Gmm::<f64, 2, 1, Diag>::new(
        [1.0],
        [SVector::from([far, far])],
        [SVector::from([1e308, 1e308])],
    )
    .unwrap();
    let options = FitOptions::default()
        .with_frozen(Frozen::NONE.with_means())
        .with_max_iter(3);
    let report = fit(&data, start, &options, |_| ControlFlow::Continue(())).unwrap();
    for v in report.model.variances()[0].iter() {
        assert!((v / (far * far) - 1.0).abs() < 1e-12, "{v:e}");
    }
}
