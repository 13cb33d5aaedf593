//! Sample weights (`fit_weighted`, `SufficientStats::accumulate_weighted`):
//! an integer weight is that many copies of the point, a zero weight leaves
//! the point out, and bad weights are errors naming the point.

mod common;

use gaussmix::nalgebra::SVector;
use gaussmix::{
    fit, fit_weighted, init, CovarianceKind, Diag, Error, FitOptions, FitReport, Full, Gmm,
    Spherical, SufficientStats, Tied,
};
use std::ops::ControlFlow;

fn go<T>(_: &T) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

fn data() -> Vec<SVector<f64, 2>> {
    common::sample(&common::three_clusters(), 300, 21)
}

/// Weights 0 to 3 in a fixed pattern.
fn weights(n: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * 7 + 3) % 4) as f64).collect()
}

fn options() -> FitOptions<f64> {
    FitOptions::default().with_tol(0.0).with_max_iter(8)
}

/// Largest relative difference between two models' parameters.
fn distance<C: CovarianceKind>(a: &Gmm<f64, 2, 3, C>, b: &Gmm<f64, 2, 3, C>) -> f64 {
    let mut worst = 0.0f64;
    for k in 0..3 {
        worst = worst.max((a.weights()[k] - b.weights()[k]).abs() / b.weights()[k]);
        worst = worst.max((a.means()[k] - b.means()[k]).norm() / b.means()[k].norm());
        let (ca, cb) = (a.covariances()[k], b.covariances()[k]);
        worst = worst.max((ca - cb).norm() / cb.norm());
    }
    worst
}

fn integer_weights_are_copies<C: CovarianceKind>() {
    let data = data();
    let w = weights(data.len());
    let start: Gmm<f64, 2, 3, C> = init::random_points(&data, &mut common::rng(2)).unwrap();
    let weighted = fit_weighted(&data, &w, start, &options(), go).unwrap();
    let copies: Vec<SVector<f64, 2>> = data
        .iter()
        .zip(&w)
        .flat_map(|(x, &w)| std::iter::repeat_n(*x, w as usize))
        .collect();
    let plain = fit(&copies, start, &options(), go).unwrap();
    let d = distance(&weighted.model, &plain.model);
    assert!(d < 1e-12, "{}: {d:e}", C::NAME);
    let ll = (weighted.log_likelihood - plain.log_likelihood).abs();
    assert!(ll < 1e-12 * plain.log_likelihood.abs(), "{}", C::NAME);
    let mean = (weighted.mean_log_likelihood - plain.mean_log_likelihood).abs();
    assert!(
        mean < 1e-12 * plain.mean_log_likelihood.abs(),
        "{}",
        C::NAME
    );
    assert_eq!(weighted.iterations, plain.iterations);
}

#[test]
fn integer_weights_equal_copies_for_every_kind() {
    integer_weights_are_copies::<Full>();
    integer_weights_are_copies::<Diag>();
    integer_weights_are_copies::<Spherical>();
    integer_weights_are_copies::<Tied>();
}

#[test]
fn zero_weights_leave_points_out() {
    let data = data();
    let w = weights(data.len());
    let start: Gmm<f64, 2, 3> = init::random_points(&data, &mut common::rng(3)).unwrap();
    let all = fit_weighted(&data, &w, start, &options(), go).unwrap();
    let (kept, kept_w): (Vec<_>, Vec<_>) = data
        .iter()
        .zip(&w)
        .filter(|(_, &w)| w > 0.0)
        .map(|(x, &w)| (*x, w))
        .unzip();
    let without = fit_weighted(&kept, &kept_w, start, &options(), go).unwrap();
    assert!(distance(&all.model, &without.model) < 1e-12);
    // Appended at the end, zero-weight points (even a NaN one, or one no
    // component can explain) change nothing, bit for bit.
    let mut more = data.clone();
    let mut more_w = w.clone();
    more.extend([SVector::from([f64::NAN, 0.0]), SVector::from([1e300, 0.0])]);
    more_w.extend([0.0, 0.0]);
    let padded = fit_weighted(&more, &more_w, start, &options(), go).unwrap();
    assert_eq!(padded, all);
}

#[test]
fn unit_weights_agree_with_the_plain_fit() {
    let data = data();
    let start: Gmm<f64, 2, 3> = init::random_points(&data, &mut common::rng(4)).unwrap();
    let ones = vec![1.0; data.len()];
    let weighted = fit_weighted(&data, &ones, start, &options(), go).unwrap();
    let plain = fit(&data, start, &options(), go).unwrap();
    assert!(distance(&weighted.model, &plain.model) < 1e-12);
}

#[test]
fn bad_weights_are_errors_naming_the_point() {
    let data = data();
    let start: Gmm<f64, 2, 3> = init::random_points(&data, &mut common::rng(5)).unwrap();
    for bad in [
        -1.0,
        f64::NAN,
        f64::INFINITY,
        -0.5e-300,
        1e-310,
        f64::MIN_POSITIVE / 2.0,
    ] {
        let mut w = weights(data.len());
        w[17] = bad;
        let got = fit_weighted(&data, &w, start, &options(), go);
        assert_eq!(got, Err(Error::InvalidSampleWeight { index: 17 }), "{bad}");
    }
    // A total that overflows is named where it does.
    let mut w = vec![1.0; data.len()];
    w[5] = f64::MAX;
    w[9] = f64::MAX;
    let got = fit_weighted(&data, &w, start, &options(), go);
    assert_eq!(got, Err(Error::InvalidSampleWeight { index: 9 }));
    let zeros = vec![0.0; data.len()];
    let got = fit_weighted(&data, &zeros, start, &options(), go);
    assert_eq!(got, Err(Error::ZeroTotalWeight));
    let short = vec![1.0; data.len() - 1];
    let got = fit_weighted(&data, &short, start, &options(), go);
    assert_eq!(
        got,
        Err(Error::LengthMismatch {
            expected: data.len(),
            found: data.len() - 1
        })
    );
    // Fewer weighted points than components.
    let mut two = vec![0.0; data.len()];
    two[0] = 1.0;
    two[1] = 2.0;
    let got: Result<FitReport<f64, 2, 3>, _> = fit_weighted(&data, &two, start, &options(), go);
    assert_eq!(
        got,
        Err(Error::TooFewPoints {
            points: 2,
            needed: 3
        })
    );
    // A non-finite point with a positive weight is still an error.
    let mut bad = data.clone();
    bad[40] = SVector::from([f64::NAN, 1.0]);
    let got = fit_weighted(&bad, &vec![1.0; bad.len()], start, &options(), go);
    assert_eq!(got, Err(Error::NonFiniteData { index: 40 }));
}

#[test]
fn weighted_statistics_equal_copies() {
    let data = data();
    let w = weights(data.len());
    let model = common::three_clusters();
    let mut weighted = SufficientStats::new(&model);
    let ll = weighted.accumulate_weighted(&model, &data, &w).unwrap();
    let copies: Vec<SVector<f64, 2>> = data
        .iter()
        .zip(&w)
        .flat_map(|(x, &w)| std::iter::repeat_n(*x, w as usize))
        .collect();
    let mut plain = SufficientStats::new(&model);
    let ll2 = plain.accumulate_slice(&model, &copies).unwrap();
    assert!((ll - ll2).abs() < 1e-12 * ll2.abs());
    for k in 0..3 {
        let (a, b) = (weighted.counts()[k], plain.counts()[k]);
        assert!((a - b).abs() < 1e-12 * b, "{a} {b}");
    }
    let a = weighted.m_step(&model, 0.0).unwrap();
    let b = plain.m_step(&model, 0.0).unwrap();
    assert!(distance(&a, &b) < 1e-12);
    // Errors leave the statistics unchanged.
    let before = weighted;
    let mut w2 = w.clone();
    w2[3] = -1.0;
    assert_eq!(
        weighted.accumulate_weighted(&model, &data, &w2),
        Err(Error::InvalidSampleWeight { index: 3 })
    );
    assert_eq!(weighted, before);
}

#[test]
fn weighted_likelihood_never_falls_without_regularisation() {
    let data = data();
    let w: Vec<f64> = (0..data.len())
        .map(|i| 0.25 + (i % 5) as f64 * 0.7)
        .collect();
    let start: Gmm<f64, 2, 3, Diag> = init::random_points(&data, &mut common::rng(6)).unwrap();
    let mut trace = Vec::new();
    let options = FitOptions::default()
        .with_tol(0.0)
        .with_max_iter(30)
        .with_reg_covar(0.0);
    fit_weighted(&data, &w, start, &options, |it| {
        trace.push(it.log_likelihood);
        ControlFlow::Continue(())
    })
    .unwrap();
    for pair in trace.windows(2) {
        assert!(pair[1] >= pair[0] - 1e-9 * pair[0].abs(), "{pair:?}");
    }
}

/// Statistics whose soft counts overflow `T` (each sample weight valid, two
/// of them near `f64::MAX`): the M-step is a `MomentOverflow`, not a model
/// with a NaN weight (one count infinite: `∞/∞`) or with every weight 0
/// (each count finite, their total not), whether the counts were added by
/// one `accumulate_weighted` or by `merge`.
#[test]
fn an_m_step_from_counts_that_overflow_is_refused() {
    use gaussmix::nalgebra::{matrix, vector};
    use gaussmix::{Error, Gmm, SufficientStats};
    let model = Gmm::<f64, 1, 2>::new(
        [0.5, 0.5],
        [vector![0.0], vector![100.0]],
        [matrix![1.0], matrix![1.0]],
    )
    .unwrap();
    let big = 1e308;
    // (One point per call: the weighted log-likelihood of two such points
    // in one call overflows, which that call refuses.)
    let add = |points: [f64; 2]| {
        let mut stats = SufficientStats::new(&model);
        for x in points {
            stats.accumulate_weighted(&model, &[[x]], &[big]).unwrap();
        }
        stats
    };
    // Both points in component 0: its count overflows, component 1's is 0.
    let one = add([0.0, 0.0]);
    // One point in each: both counts finite, their total not.
    let each = add([0.0, 100.0]);
    // The same through `merge` of statistics that are each fine.
    let mut merged = SufficientStats::new(&model);
    merged
        .accumulate_weighted(&model, &[[0.0]], &[big])
        .unwrap();
    let mut other = SufficientStats::new(&model);
    other
        .accumulate_weighted(&model, &[[100.0]], &[big])
        .unwrap();
    merged.merge(&other).unwrap();
    for (name, stats) in [("one", &one), ("each", &each), ("merged", &merged)] {
        for reg in [0.0, 1e-6] {
            assert_eq!(
                stats.m_step(&model, reg).err(),
                Some(Error::MomentOverflow),
                "{name}, reg {reg}"
            );
        }
    }
}
