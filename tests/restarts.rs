//! Restarts (`fit_restarts`) and warm starts: the best of n fits is the
//! best of the fits one would make by hand from the same RNG, one restart
//! is a plain fit, and a fit resumed from a report continues it bit for bit.

mod common;

use core::num::NonZeroUsize;

use gaussmix::nalgebra::SVector;
use gaussmix::{
    fit_restarts, init, CovarianceKind, Diag, Error, FitOptions, FitReport, Full, Gmm, Spherical,
    Tied,
};

fn n(k: usize) -> NonZeroUsize {
    NonZeroUsize::new(k).unwrap()
}

fn data() -> Vec<SVector<f64, 2>> {
    common::sample(&common::three_clusters(), 400, 11)
}

/// The best of five by hand: the same starts, drawn in the same order.
fn by_hand<C: CovarianceKind>(data: &[SVector<f64, 2>], seed: u64) -> FitReport<f64, 2, 3, C> {
    let mut rng = common::rng(seed);
    let options = FitOptions::default();
    let mut best: Option<FitReport<f64, 2, 3, C>> = None;
    for _ in 0..5 {
        let start: Gmm<f64, 2, 3, C> = init::random_points(data, &mut rng).unwrap();
        let r = start.fit(data, &options).unwrap();
        if best
            .as_ref()
            .is_none_or(|b| r.log_likelihood > b.log_likelihood)
        {
            best = Some(r);
        }
    }
    best.unwrap()
}

fn best_of_five_is_the_best_by_hand<C: CovarianceKind>() {
    let data = data();
    let options = FitOptions::default();
    for seed in 0..6 {
        let mut rng = common::rng(seed);
        let got: FitReport<f64, 2, 3, C> =
            fit_restarts(&data, n(5), &mut rng, init::random_points, &options).unwrap();
        assert_eq!(got, by_hand::<C>(&data, seed), "{} seed {seed}", C::NAME);
        // Deterministic for a given RNG state.
        let again: FitReport<f64, 2, 3, C> = fit_restarts(
            &data,
            n(5),
            &mut common::rng(seed),
            init::random_points,
            &options,
        )
        .unwrap();
        assert_eq!(got, again);
    }
}

#[test]
fn restarts_keep_the_best_fit_for_every_kind() {
    best_of_five_is_the_best_by_hand::<Full>();
    best_of_five_is_the_best_by_hand::<Diag>();
    best_of_five_is_the_best_by_hand::<Spherical>();
    best_of_five_is_the_best_by_hand::<Tied>();
}

#[test]
fn restarts_find_a_better_optimum_than_some_single_start() {
    // Three tight clusters far apart: a start with two means in one cluster
    // stays in a local optimum, and most single starts have one. Over
    // seeds, the best of five beats some single start from the same RNG.
    let tight = Gmm::<f64, 2, 3>::new(
        [1.0 / 3.0; 3],
        [
            SVector::from([0.0, 0.0]),
            SVector::from([10.0, 0.0]),
            SVector::from([20.0, 0.0]),
        ],
        [gaussmix::nalgebra::SMatrix::<f64, 2, 2>::identity() * 0.09; 3],
    )
    .unwrap();
    let data = common::sample(&tight, 300, 4);
    let options = FitOptions::default();
    let mut improved = 0;
    for seed in 0..20 {
        let single: Gmm<f64, 2, 3> = init::random_points(&data, &mut common::rng(seed)).unwrap();
        let single = single.fit(&data, &options).unwrap();
        let best: FitReport<f64, 2, 3> = fit_restarts(
            &data,
            n(5),
            &mut common::rng(seed),
            init::random_points,
            &options,
        )
        .unwrap();
        assert!(best.log_likelihood >= single.log_likelihood);
        if best.log_likelihood > single.log_likelihood + 1.0 {
            improved += 1;
        }
    }
    assert!(improved > 0, "no seed where restarts helped");
}

#[test]
fn one_restart_is_a_plain_fit() {
    let data = data();
    let options = FitOptions::default().with_tol(1e-6);
    let mut rng = common::rng(3);
    let got: FitReport<f64, 2, 3> =
        fit_restarts(&data, n(1), &mut rng, init::kmeans_plus_plus, &options).unwrap();
    let mut rng2 = common::rng(3);
    let start: Gmm<f64, 2, 3> = init::kmeans_plus_plus(&data, &mut rng2).unwrap();
    assert_eq!(got, start.fit(&data, &options).unwrap());
    // Both RNGs were advanced alike.
    use gaussmix::rand_core::Rng;
    assert_eq!(rng.next_u64(), rng2.next_u64());
}

#[test]
fn the_first_error_is_returned() {
    let options = FitOptions::default();
    let two = [[0.0, 1.0], [1.0, 0.0]];
    let got: Result<FitReport<f64, 2, 3>, _> = fit_restarts(
        &two,
        n(4),
        &mut common::rng(1),
        init::random_points,
        &options,
    );
    assert_eq!(
        got,
        Err(Error::TooFewPoints {
            points: 2,
            needed: 3
        })
    );
    let data = data();
    let mut calls = 0;
    let got: Result<FitReport<f64, 2, 3>, _> = fit_restarts(
        &data,
        n(4),
        &mut common::rng(1),
        |d, r| {
            calls += 1;
            if calls == 2 {
                Err(Error::DataOverflow)
            } else {
                init::random_points(d, r)
            }
        },
        &options,
    );
    assert_eq!(got, Err(Error::DataOverflow));
    assert_eq!(calls, 2, "no start drawn after the error");
}

/// A fit of `a` iterations resumed for `b` more ends where one fit of
/// `a + b` does, bit for bit (at `tol = 0`, so neither stops early).
fn warm_start_continues<C: CovarianceKind>() {
    let data = data();
    let start: Gmm<f64, 2, 3, C> = init::random_points(&data, &mut common::rng(5)).unwrap();
    let options = |i| FitOptions::default().with_tol(0.0).with_max_iter(i);
    for (a, b) in [(1, 1), (2, 3), (0, 4)] {
        let first = start.fit(&data, &options(a)).unwrap();
        let resumed = first.model.fit(&data, &options(b)).unwrap();
        let whole = start.fit(&data, &options(a + b)).unwrap();
        assert_eq!(resumed.model, whole.model, "{} {a}+{b}", C::NAME);
        assert_eq!(
            resumed.log_likelihood.to_bits(),
            whole.log_likelihood.to_bits()
        );
    }
}

#[test]
fn warm_start_continues_bit_for_bit_for_every_kind() {
    warm_start_continues::<Full>();
    warm_start_continues::<Diag>();
    warm_start_continues::<Spherical>();
    warm_start_continues::<Tied>();
}
