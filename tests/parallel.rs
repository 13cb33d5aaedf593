//! The multi-core fit (feature `std`): bit-identical whatever the number of
//! threads, and the same fit as one thread makes in one pass, to rounding.
//!
//!     cargo test --features std --test parallel
#![cfg(feature = "std")]

mod common;

use core::num::NonZeroUsize;
use core::ops::ControlFlow;

use gaussmix::nalgebra::SVector;
use gaussmix::{fit, fit_parallel, init, Diag, Error, FitOptions, Full, Gmm, SHARD};

fn go<T>(_: &T) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

fn threads(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

#[test]
fn one_two_and_three_threads_give_the_same_bits() {
    // Three full shards and a ragged fourth.
    let data: Vec<SVector<f64, 2>> =
        common::sample(&common::three_clusters(), 3 * SHARD + 1000, 31);
    let start: Gmm<f64, 2, 3> = init::kmeans_plus_plus(&data, &mut common::rng(33)).unwrap();
    let options = FitOptions::default().with_tol(1e-9);
    let one = fit_parallel(&data, start, &options, threads(1), go).unwrap();
    assert!(one.iterations > 3);
    for n in [2, 3, 8] {
        assert_eq!(
            fit_parallel(&data, start, &options, threads(n), go).unwrap(),
            one,
            "{n} threads"
        );
    }
    // The sequential fit sums in another order: the same fit to rounding.
    let seq = fit(&data, start, &options, go).unwrap();
    assert_eq!(seq.iterations, one.iterations);
    for k in 0..3 {
        assert!((seq.model.means()[k] - one.model.means()[k]).amax() < 1e-10);
        assert!((seq.model.covariances()[k] - one.model.covariances()[k]).amax() < 1e-10);
        assert!((seq.model.weights()[k] - one.model.weights()[k]).abs() < 1e-12);
    }
    // Another kind, in f32.
    let data32: Vec<SVector<f32, 2>> = data.iter().map(|x| x.map(|v| v as f32)).collect();
    let start: Gmm<f32, 2, 3, Diag> = init::random_points(&data32, &mut common::rng(35)).unwrap();
    let options = FitOptions::default();
    let a = fit_parallel(&data32, start, &options, threads(1), go).unwrap();
    let b = fit_parallel(&data32, start, &options, threads(3), go).unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_bad_point_is_named_by_its_index_in_the_data() {
    let mut data: Vec<SVector<f64, 1>> = (0..2 * SHARD + 7)
        .map(|i| SVector::from([f64::from(u32::try_from(i % 100).unwrap()) * 0.01]))
        .collect();
    // Far beyond every component's reach: zero density, in the second shard.
    let bad = SHARD + 5;
    data[bad] = SVector::from([1e150]);
    let start =
        Gmm::<f64, 1, 1, Full>::new([1.0], [SVector::from([0.5])], [SVector::from([1e-100])])
            .unwrap();
    for n in [1, 2, 3] {
        assert_eq!(
            fit_parallel(&data, start, &FitOptions::default(), threads(n), go),
            Err(Error::ZeroDensity { index: bad })
        );
    }
}
