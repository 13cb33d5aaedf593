//! Online (stepwise) EM: on a stationary stream it ends near the batch fit,
//! with a constant step it follows moving means, and no update leaves an
//! invalid model or a half-applied change behind.

#![allow(clippy::needless_range_loop)]
mod common;

use gaussmix::nalgebra::{matrix, vector, SVector};
use gaussmix::{
    init, Diag, Error, FitOptions, Full, Gmm, OnlineGmm, OnlineOptions, Spherical, StepSize, Tied,
};
use proptest::prelude::*;

/// Component `j` of `b` matched to component `k` of `a`: the nearest mean.
fn matching<const D: usize, const K: usize, C: gaussmix::CovarianceKind>(
    a: &Gmm<f64, D, K, C>,
    b: &Gmm<f64, D, K, C>,
) -> [usize; K] {
    let (ma, mb) = (a.means(), b.means());
    core::array::from_fn(|k| {
        (0..K)
            .min_by(|&i, &j| {
                (mb[i] - ma[k])
                    .norm()
                    .partial_cmp(&(mb[j] - ma[k]).norm())
                    .unwrap()
            })
            .unwrap()
    })
}

/// Largest differences (weights, means, covariance entries) between two
/// models after matching their components.
fn distance<const D: usize, const K: usize, C: gaussmix::CovarianceKind>(
    a: &Gmm<f64, D, K, C>,
    b: &Gmm<f64, D, K, C>,
) -> (f64, f64, f64) {
    let m = matching(a, b);
    let mut d = (0.0f64, 0.0f64, 0.0f64);
    for k in 0..K {
        let j = m[k];
        d.0 = d.0.max((a.weights()[k] - b.weights()[j]).abs());
        d.1 = d.1.max((a.means()[k] - b.means()[j]).amax());
        d.2 = d.2.max((a.covariances()[k] - b.covariances()[j]).amax());
    }
    d
}

#[test]
fn stationary_stream_ends_near_the_batch_fit() {
    // 10⁵ points from the seed's 3-cluster mixture, online from a start
    // drawn from the first points, against the batch fit of all of them.
    let data = common::sample(&common::three_clusters(), 100_000, 21);
    let start: Gmm<f64, 2, 3> = init::random_points(&data[..200], &mut common::rng(2)).unwrap();
    let batch = start.fit(&data, &FitOptions::default()).unwrap().model;
    // γₙ = 1/n: the statistics average every point (each under the model
    // of its time). Measured: 4.1e-4, 5.1e-3, 1.3e-2.
    let average = StepSize::Decaying {
        gamma0: 1.0,
        offset: 0.0,
        exponent: 1.0,
    };
    // The default γₙ = n^(−0.6) keeps forgetting: its estimate rests on
    // the last few thousand points. Measured: 1.3e-2, 7.7e-2, 0.17.
    let cases = [
        (average, [2e-3, 0.02, 0.04]),
        (StepSize::decaying(), [0.03, 0.15, 0.3]),
    ];
    for (step, tolerance) in cases {
        let options = OnlineOptions::default().with_step(step);
        let mut online = OnlineGmm::<f64, 2, 3, 200>::new(start, &options).unwrap();
        for x in &data {
            online.update(x).unwrap();
        }
        let d = distance(&batch, online.model());
        println!(
            "{step:?}: weights {:.2e}, means {:.2e}, covariances {:.2e}",
            d.0, d.1, d.2
        );
        assert!(
            d.0 < tolerance[0] && d.1 < tolerance[1] && d.2 < tolerance[2],
            "{d:?}"
        );
    }
}

#[test]
fn constant_step_follows_moving_means() {
    // Two clusters whose means slide along x by v = 2e-4 per point, 10
    // units over the stream. With γ = 0.002 the statistics are an
    // exponentially weighted average over about 1/γ = 500 points, so the
    // estimate lags the truth by v(1 − γ)/γ ≈ 0.1; its noise (weight 0.5,
    // unit variance) is about √(γ/(2·0.5)) ≈ 0.045.
    let (v, gamma) = (2e-4, 0.002);
    let truth = |t: f64| [vector![-3.0 + v * t, 0.0], vector![3.0 + v * t, 0.0]];
    let mut rng = common::rng(8);
    let unit =
        Gmm::<f64, 2, 1>::new([1.0], [vector![0.0, 0.0]], [matrix![1.0, 0.0; 0.0, 1.0]]).unwrap();
    let start = Gmm::<f64, 2, 2>::new(
        [0.5, 0.5],
        [vector![-2.0, 0.0], vector![2.0, 0.0]],
        [matrix![1.0, 0.0; 0.0, 1.0]; 2],
    )
    .unwrap();
    let options = OnlineOptions::default().with_step(StepSize::Constant(gamma));
    let mut online = OnlineGmm::<f64, 2, 2, 50>::new(start, &options).unwrap();
    let lag = v * (1.0 - gamma) / gamma;
    let (mut worst, mut mean_error, mut checks) = (0.0f64, 0.0, 0.0);
    for i in 0..50_000 {
        let t = i as f64;
        let x = truth(t)[i % 2] + unit.sample(&mut rng);
        online.update(&x).unwrap();
        if i >= 5_000 && i % 500 == 0 {
            let means = online.model().means();
            for k in 0..2 {
                let error = means[k][0] - truth(t)[k][0];
                worst = worst.max((error + lag).abs());
                mean_error += error;
                checks += 1.0;
            }
        }
    }
    mean_error /= checks;
    println!("lag {lag:.3}: mean error {mean_error:.3}, worst off the lag {worst:.3}");
    // Behind by the lag on average, never more than 4 noise widths off it.
    assert!((mean_error + lag).abs() < 0.03, "{mean_error}");
    assert!(worst < 0.18, "{worst}");
}

/// Every model a learner holds is valid: finite parameters that
/// `Gmm::new` accepts, weights summing to 1.
fn assert_valid<const D: usize, const K: usize>(m: &Gmm<f64, D, K>) {
    let again = Gmm::<f64, D, K>::new(m.weights().into(), m.means(), m.covariances());
    assert!(again.is_ok(), "{m:?}");
    assert!((m.weights().sum() - 1.0).abs() < 1e-12);
}

#[test]
fn a_bad_point_is_an_error_and_changes_nothing() {
    let data = common::sample(&common::two_clusters(), 300, 3);
    let start = common::two_clusters();
    let mut online = OnlineGmm::<f64, 2, 2, 20>::new(start, &OnlineOptions::default()).unwrap();
    for (i, x) in data.iter().enumerate() {
        // Warming up and running alike.
        if i % 7 == 0 {
            let before = online;
            for bad in [
                vector![f64::NAN, 0.0],
                vector![0.0, f64::INFINITY],
                vector![f64::NEG_INFINITY, 1.0],
            ] {
                assert_eq!(online.update(&bad), Err(Error::NonFiniteData { index: 0 }));
                assert_eq!(online, before);
            }
            let block = [*x, vector![f64::NAN, 1.0]];
            assert_eq!(
                online.update_block(&block),
                Err(Error::NonFiniteData { index: 1 })
            );
            assert_eq!(online, before);
        }
        online.update(x).unwrap();
        assert_valid(online.model());
    }
    assert!(online.is_warm());
    assert_eq!(online.updates(), 300);
}

#[test]
fn a_point_whose_moments_overflow_is_refused_and_the_stream_goes_on() {
    // Between M-steps (refresh 10) a point far out but of finite density
    // would add an infinite second moment, which no forgetting removes:
    // every M-step after it would fail. It is refused, and nothing changes.
    let start = Gmm::<f32, 1, 2>::new(
        [0.5, 0.5],
        [vector![-50.0], vector![50.0]],
        [matrix![400.0]; 2],
    )
    .unwrap();
    let normal = |i: u16| {
        let side = if i.is_multiple_of(2) { -50.0 } else { 50.0 };
        [side + (f32::from(i) * 0.77).sin() * 30.0]
    };
    let options = OnlineOptions::default().with_refresh(10);
    let mut online = OnlineGmm::<f32, 1, 2, 8>::new(start, &options).unwrap();
    for i in 0..100 {
        online.update(&normal(i)).unwrap();
    }
    let far = [1.0e20_f32];
    assert!(online.model().log_prob(&far).unwrap().is_finite());
    let before = online;
    assert_eq!(online.update(&far), Err(Error::MomentOverflow));
    assert_eq!(online, before);
    // In a block of two each point has half the step: farther still.
    let farther = [3.0e20_f32];
    assert!(online.model().log_prob(&farther).unwrap().is_finite());
    assert_eq!(
        online.update_block(&[normal(100), farther]),
        Err(Error::MomentOverflow)
    );
    assert_eq!(online, before);
    let mut refreshed = 0;
    for i in 100..1100 {
        refreshed += usize::from(online.update(&normal(i)).unwrap().refreshed);
    }
    assert_eq!(refreshed, 100);
    let means = online.model().means();
    assert!((means[0][0] + 50.0).abs() < 10.0 && (means[1][0] - 50.0).abs() < 10.0);
}

#[test]
fn a_failed_m_step_while_running_changes_nothing() {
    // reg_covar = 0, a constant step of 0.99 and points on the line x = y
    // after a warm-up with spread: the spread across the line is forgotten
    // until the covariance is singular at f64's resolution, and that
    // update's M-step fails. Its statistics were updated in place before
    // the M-step: they must be put back.
    let fit = FitOptions::default().with_reg_covar(0.0);
    let options = OnlineOptions::default()
        .with_fit(fit)
        .with_step(StepSize::Constant(0.99))
        .with_refresh(1);
    let start =
        Gmm::<f64, 2, 1>::new([1.0], [vector![0.0, 0.0]], [matrix![1.0, 0.0; 0.0, 1.0]]).unwrap();
    let mut online = OnlineGmm::<f64, 2, 1, 4>::new(start, &options).unwrap();
    for p in [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]] {
        online.update(&p).unwrap();
    }
    assert!(online.is_warm());
    let mut failed = None;
    for t in 1..60 {
        let before = online;
        let x = f64::from(t % 7) - 3.0;
        match online.update(&[x, x]) {
            Ok(_) => assert_valid(online.model()),
            Err(e) => {
                assert!(matches!(e, Error::NotPositiveDefinite { component: 0 }));
                assert_eq!(online, before);
                failed = Some(t);
                break;
            }
        }
    }
    assert!(failed.is_some(), "no M-step failed");
}

#[test]
fn a_block_whose_log_likelihood_overflows_is_refused() {
    // Each point's log-density is finite (about -5e37); ten of them are not.
    // During the warm-up, whose points enter the block's total one by one.
    let start = Gmm::<f32, 1, 1>::new([1.0], [vector![0.0]], [matrix![1e-30]]).unwrap();
    let mut online = OnlineGmm::<f32, 1, 1, 64>::new(start, &OnlineOptions::default()).unwrap();
    let far: Vec<[f32; 1]> = (0..10u8).map(|i| [1e4 + f32::from(i)]).collect();
    assert!(far
        .iter()
        .all(|p| online.model().log_prob(p).unwrap().is_finite()));
    let before = online;
    assert_eq!(online.update_block(&far), Err(Error::LikelihoodOverflow));
    assert_eq!(online, before);
}

#[test]
fn a_failed_m_step_changes_nothing() {
    // reg_covar = 0 and every point on a line: the warm-up's fit cannot
    // factorise a covariance; the point that would end the warm-up is
    // refused, and the learner keeps waiting.
    let options = OnlineOptions::default().with_fit(FitOptions::default().with_reg_covar(0.0));
    let start =
        Gmm::<f64, 2, 1>::new([1.0], [vector![0.0, 0.0]], [matrix![1.0, 0.0; 0.0, 1.0]]).unwrap();
    let mut online = OnlineGmm::<f64, 2, 1, 4>::new(start, &options).unwrap();
    for t in 0..3 {
        online.update(&[f64::from(t), f64::from(t)]).unwrap();
    }
    let before = online;
    assert!(matches!(
        online.update(&[3.0, 3.0]),
        Err(Error::NotPositiveDefinite { component: 0 })
    ));
    assert_eq!(online, before);
    assert!(!online.is_warm());
    online.update(&[3.0, -3.0]).unwrap();
    assert!(online.is_warm());
    // Running on: the points that follow keep the model valid.
    for t in 0..50 {
        online.update(&[f64::from(t), 0.0]).unwrap();
        assert_valid(online.model());
    }
}

#[test]
fn options_are_checked() {
    let start = common::two_clusters();
    let bad =
        |step| OnlineGmm::<f64, 2, 2, 8>::new(start, &OnlineOptions::default().with_step(step));
    for step in [
        StepSize::Constant(0.0),
        StepSize::Constant(1.0),
        StepSize::Constant(f64::NAN),
        StepSize::Decaying {
            gamma0: 1.0,
            offset: 0.0,
            exponent: 0.5,
        },
        StepSize::Decaying {
            gamma0: 1.5,
            offset: 0.0,
            exponent: 0.7,
        },
        StepSize::Decaying {
            gamma0: 1.0,
            offset: -1.0,
            exponent: 0.7,
        },
    ] {
        assert_eq!(bad(step), Err(Error::InvalidOption { option: "step" }));
    }
    assert_eq!(
        OnlineGmm::<f64, 2, 2, 8>::new(start, &OnlineOptions::default().with_refresh(0)),
        Err(Error::InvalidOption { option: "refresh" })
    );
    assert_eq!(
        OnlineGmm::<f64, 2, 2, 1>::new(start, &OnlineOptions::default()),
        Err(Error::InvalidOption { option: "W" })
    );
}

#[test]
fn a_block_of_one_is_one_update_and_refresh_batches_m_steps() {
    let data = common::sample(&common::two_clusters(), 500, 13);
    let start = common::two_clusters();
    for refresh in [1, 10] {
        let options = OnlineOptions::default().with_refresh(refresh);
        let mut a = OnlineGmm::<f64, 2, 2, 32>::new(start, &options).unwrap();
        let mut b = a;
        let mut m_steps = 0;
        for x in &data {
            let u = a.update(x).unwrap();
            assert_eq!(b.update_block(core::slice::from_ref(x)), Ok(u));
            m_steps += usize::from(u.refreshed && a.updates() > 32);
        }
        assert_eq!(a, b);
        // One M-step per `refresh` updates after the warm-up's.
        assert_eq!(m_steps, (500 - 32) / refresh);
    }
}

/// The learner for every kind: the same stream, valid models throughout,
/// means near the truth.
fn every_kind<C: common::Kind>() {
    let data = common::sample(&common::three_clusters(), 20_000, 17);
    let truth = common::three_clusters();
    let start: Gmm<f64, 2, 3, C> = init::random_points(&data[..100], &mut common::rng(4)).unwrap();
    let mut online = OnlineGmm::<f64, 2, 3, 100, C>::new(start, &OnlineOptions::default()).unwrap();
    for block in data.chunks(4) {
        online.update_block(block).unwrap();
    }
    let means = online.model().means();
    for m in truth.means() {
        assert!(means.iter().any(|e| (e - m).amax() < 0.3), "{means:?}");
    }
}

#[test]
fn every_kind_learns_in_blocks() {
    every_kind::<Full>();
    every_kind::<Diag>();
    every_kind::<Spherical>();
    every_kind::<Tied>();
}

proptest! {
    #![proptest_config(common::strategies::config())]

    /// Arbitrary streams (clusters, duplicates, outliers far out) with
    /// arbitrary steps: every update either succeeds with a valid model or
    /// fails leaving the state as it was.
    #[test]
    fn the_model_is_always_valid(
        points in proptest::collection::vec(
            prop_oneof![
                4 => (-5.0..5.0f64, -5.0..5.0f64).prop_map(|(a, b)| vector![a, b]),
                1 => Just(vector![1.0, 1.0]),
                1 => (-1e6..1e6f64, -1e6..1e6f64).prop_map(|(a, b)| vector![a, b]),
            ],
            1..300,
        ),
        gamma in 0.001..0.999f64,
        exponent in 0.51..1.0f64,
        constant in any::<bool>(),
        reg in prop_oneof![Just(0.0), Just(1e-6)],
    ) {
        let step = if constant {
            StepSize::Constant(gamma)
        } else {
            StepSize::Decaying { gamma0: gamma, offset: 0.0, exponent }
        };
        let options = OnlineOptions::default()
            .with_step(step)
            .with_fit(FitOptions::default().with_reg_covar(reg));
        let mut online = OnlineGmm::<f64, 2, 2, 8>::new(common::two_clusters(), &options).unwrap();
        for x in &points {
            let before = online;
            match online.update(x) {
                Ok(u) => {
                    assert_valid(online.model());
                    prop_assert!(u.log_likelihood.is_finite());
                    if let Some(m) = online.mean_log_likelihood() {
                        prop_assert!(m.is_finite());
                    }
                }
                Err(_) => prop_assert_eq!(online, before),
            }
        }
    }
}

#[test]
fn a_drift_in_f32_keeps_its_covariance() {
    // One component travelling 10⁴ standard deviations in f32: the
    // statistics move their shift with the mean, so the variance stays
    // accurate (without it, S2/N − δ² would cancel every digit).
    let start = Gmm::<f32, 1, 1>::new([1.0], [SVector::from([0.0])], [matrix![1.0]]).unwrap();
    let options = OnlineOptions::default().with_step(StepSize::Constant(0.01));
    let mut online = OnlineGmm::<f32, 1, 1, 16>::new(start, &options).unwrap();
    let mut rng = common::rng(3);
    let unit = Gmm::<f32, 1, 1>::new([1.0], [SVector::from([0.0])], [matrix![1.0]]).unwrap();
    for i in 0..100_000 {
        let x = unit.sample(&mut rng)[0] + 0.1 * i as f32;
        online.update(&[x]).unwrap();
    }
    let var = online.model().covariances()[0][(0, 0)];
    // The window's points spread along the path too: with ages a of
    // weights γ(1 − γ)^a, var(a) = (1 − γ)/γ², so the variance is
    // 1 + 0.1² · 9 900 = 100 (in f64 arithmetic; measured in f32).
    println!("variance {var}");
    assert!((var - 100.0).abs() < 10.0, "{var}");
}

/// A decaying step with an offset near `T`'s largest value: every step is
/// `γ₀ (n + n₀)^−α` (to rounding, down into the subnormal range), the
/// updates succeed and the model stays valid. The step's power left the
/// range of the exponential it used (`exp_nonpositive`, `[−cutoff, 0]`),
/// whose result then wrapped around: steps of 0 from `n₀ = 1e308` on and
/// of `−∞` at `n₀ = MAX` (every update then failed, or, with debug
/// assertions, panicked). A schedule whose every step underflows to 0 is
/// refused.
#[test]
fn a_huge_step_offset_gives_tiny_steps() {
    fn check<T: gaussmix::Real>(offsets: &[f64], exponent: f64, min_positive: f64) {
        let c = |x: f64| gaussmix::nalgebra::convert::<f64, T>(x);
        let to64 = |x: T| gaussmix::nalgebra::try_convert::<T, f64>(x).unwrap();
        let start = Gmm::<T, 1, 1>::new([c(1.0)], [vector![c(0.0)]], [matrix![c(1.0)]]).unwrap();
        for &offset in offsets {
            let step = StepSize::Decaying {
                gamma0: T::one(),
                offset: c(offset),
                exponent: c(exponent),
            };
            let options = OnlineOptions::default().with_step(step);
            let mut online = OnlineGmm::<T, 1, 1, 4>::new(start, &options).unwrap();
            for x in [0.0, 1.0, 2.0, 3.0] {
                online.update(&[c(x)]).unwrap();
            }
            for n in 5..9 {
                let update = online
                    .update(&[c(1.5)])
                    .unwrap_or_else(|e| panic!("n₀ = {offset:e}, α = {exponent}: {e:?}"));
                let expected = (f64::from(n) + to64(c(offset))).powf(-exponent).min(1.0);
                let got = to64(update.step);
                assert!(
                    (got - expected).abs() <= 1e-5 * expected + 4.0 * min_positive,
                    "n₀ = {offset:e}, α = {exponent}, n = {n}: {got:e} against {expected:e}"
                );
                assert!(online.model().log_prob(&[c(1.0)]).unwrap().is_finite());
            }
        }
        // γ₀ so small that the first step already underflows to 0.
        let vanishing = StepSize::Decaying {
            gamma0: c(min_positive * 1e10),
            offset: c(1e20),
            exponent: T::one(),
        };
        assert_eq!(
            OnlineGmm::<T, 1, 1, 4>::new(start, &OnlineOptions::default().with_step(vanishing)),
            Err(Error::InvalidOption { option: "step" })
        );
    }
    for exponent in [0.6, 1.0] {
        check::<f32>(
            &[0.0, 1e6, 1e30, 1e36, f64::from(f32::MAX)],
            exponent,
            1.4e-45,
        );
        check::<f64>(
            &[0.0, 1e6, 1e100, 1e300, 1e308, f64::MAX],
            exponent,
            4.9e-324,
        );
    }
}

/// A component whose weight has decayed to almost nothing, far from the
/// data, takes the whole share of one new point near the other component:
/// the M-step's in-place recentring moves its shift across the whole gap,
/// and what is left of its spread is that move's rounding. That is no
/// `NeedsRecentring` (which `update` returned, undocumented, in a few
/// cases of every kind: the fix it names, another pass over the data, is
/// impossible online); the regularisation decides the spread, as for a
/// component collapsed onto one point.
#[test]
fn a_faded_component_that_takes_a_point_needs_no_second_pass() {
    fn run<C: gaussmix::CovarianceKind>(start: Gmm<f64, 1, 2, C>) {
        let mut rng = common::Rng::new(7);
        let mut normal = || gaussmix::sample::standard_normal_pair::<f64, _>(&mut rng).0;
        for reg in [1e-12, 1e-6] {
            let options = OnlineOptions::default()
                .with_step(StepSize::Constant(0.5))
                .with_fit(FitOptions::default().with_reg_covar(reg));
            for i in 0..200 {
                let x = 0.05 + f64::from(i) * 0.0123;
                let mut online = OnlineGmm::<f64, 1, 2, 8, C>::new(start, &options).unwrap();
                for j in 0..8 {
                    let z = normal();
                    let p = if j % 2 == 0 {
                        0.1 * z
                    } else {
                        100.0 + 10.0 * z
                    };
                    online.update(&[p]).unwrap();
                }
                for _ in 0..120 {
                    let z = normal();
                    online.update(&[0.1 * z]).unwrap();
                }
                match online.update(&[x]) {
                    Ok(_) | Err(Error::NotPositiveDefinite { .. }) => {}
                    Err(e) => panic!("{} reg {reg:e}, x = {x}: {e:?}", C::NAME),
                }
            }
        }
    }
    let means = [vector![0.0], vector![100.0]];
    run::<Full>(Gmm::new([0.5, 0.5], means, [matrix![1.0], matrix![100.0]]).unwrap());
    run::<Diag>(Gmm::new([0.5, 0.5], means, [vector![1.0], vector![100.0]]).unwrap());
    run::<Spherical>(Gmm::new([0.5, 0.5], means, [1.0, 100.0]).unwrap());
    run::<Tied>(Gmm::new([0.5, 0.5], means, matrix![100.0]).unwrap());
}

/// Tied covariance online: a component that stops getting points decays
/// with a constant step until its count is a few subnormal units; the
/// stream goes on (from about update 835 in `f32` every M-step failed with
/// `NotPositiveDefinite`, its share's offset `∞ · 0`, and the model froze).
#[test]
fn a_tied_component_that_fades_to_a_subnormal_count_does_not_stop_the_stream() {
    let start =
        Gmm::<f32, 1, 2, Tied>::new([0.5, 0.5], [vector![0.0], vector![100.0]], matrix![25.0])
            .unwrap();
    let options = OnlineOptions::default().with_step(StepSize::Constant(0.1));
    let mut online = OnlineGmm::<f32, 1, 2, 8, Tied>::new(start, &options).unwrap();
    let mut rng = common::rng(3);
    let mut normal = || gaussmix::sample::standard_normal_pair::<f32, _>(&mut rng).0;
    for j in 0..8 {
        let z = normal();
        online
            .update(&[if j % 2 == 0 { z } else { 100.0 + z }])
            .unwrap();
    }
    for i in 0..3000 {
        let z = normal();
        online
            .update(&[z])
            .unwrap_or_else(|e| panic!("update {i}: {e:?}"));
    }
    assert!(online.model().weights()[1] < 1e-30);
}
