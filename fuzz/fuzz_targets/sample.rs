//! `sample`: arbitrary valid models (built from arbitrary parameters,
//! skipped when `Gmm::new` rejects them) and an RNG seeded from the input,
//! through `Gmm::sample`, `Gmm::sample_from`, `Gmm::choose_component`,
//! `Gaussian::sample` and the variates of `gaussmix::sample`.
//!
//! Asserts: no panic; every coordinate of every draw finite;
//! `choose_component` is `< K` and never a component of weight 0;
//! `sample_from(k)` is `Some` exactly for `k < K`; uniforms lie in `[0, 1)`;
//! standard normals are finite and within the documented bound (5.8 for
//! `f32`, 8.6 for `f64`).
#![no_main]

use arbitrary::Arbitrary;
use gaussmix::nalgebra::SVector;
use gaussmix::sample::{standard_normal_pair, standard_normal_vector, uniform};
use gaussmix::Gmm;
use gaussmix_fuzz::{check_model, dispatch, f, ModelSpec, Scalar, Shape, SplitMix};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    single: bool,
    shape: Shape,
    model: ModelSpec,
    seed: u64,
    draws: u8,
    /// Components for `sample_from` (taken modulo `K + 1`, so `K` too).
    picks: Vec<u8>,
}

fuzz_target!(|input: Input| {
    dispatch!(input.single, input.shape, run(&input));
});

fn finite<T: Scalar, const D: usize>(x: &SVector<T, D>) -> bool {
    x.iter().all(|&c| f(c).is_finite())
}

fn run<T: Scalar, const D: usize, const K: usize>(input: &Input) {
    let mut rng = SplitMix(input.seed);

    // The variates, whatever the model.
    let u = f(uniform::<T, _>(&mut rng));
    assert!((0.0..1.0).contains(&u), "uniform {u:e}");
    let (a, b) = standard_normal_pair::<T, _>(&mut rng);
    for z in [f(a), f(b)] {
        assert!(z.is_finite() && z.abs() <= T::NORMAL_BOUND, "normal {z:e}");
    }
    let z = standard_normal_vector::<T, D, _>(&mut rng);
    assert!(
        z.iter().all(|&c| f(c).abs() <= T::NORMAL_BOUND),
        "normals {z:?}"
    );

    let Ok(model): Result<Gmm<T, D, K>, _> = input.model.build() else {
        return;
    };
    check_model(&model);
    for _ in 0..input.draws % 33 {
        let k = model.choose_component(&mut rng);
        assert!(k < K);
        assert!(
            f(model.weights()[k]) > 0.0,
            "component {k} of weight 0 chosen"
        );
        let x = model.sample(&mut rng);
        assert!(finite(&x), "sample {x:?}");
        let y = model.components()[k].sample(&mut rng);
        assert!(finite(&y), "component {k} sample {y:?}");
    }
    for &pick in input.picks.iter().take(32) {
        let k = usize::from(pick) % (K + 1);
        match model.sample_from(k, &mut rng) {
            Some(x) => {
                assert!(k < K);
                assert!(finite(&x), "sample_from({k}) {x:?}");
            }
            None => assert_eq!(k, K),
        }
    }
}
