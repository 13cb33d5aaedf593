//! `sample`: arbitrary valid models of every covariance kind (built from
//! arbitrary parameters, skipped when `Gmm::new` rejects them) and an RNG
//! seeded from the input, through `Gmm::sample`, `Gmm::sample_from`,
//! `Gmm::choose_component`, for full covariance `Gaussian::sample`, and the
//! variates of `gaussmix::sample`.
//!
//! Asserts: no panic; every coordinate of every draw finite;
//! `choose_component` is `< K` and never a component of weight 0;
//! `sample_from(k)` is `Some` exactly for `k < K` and draws `μₖ + Aₖ z` with
//! the same variates `Gmm::sample` uses after choosing `k`; uniforms lie in
//! `[0, 1)`; standard normals are finite and within the documented bound
//! (5.8 for `f32`, 8.6 for `f64`).

use arbitrary::Arbitrary;
use gaussmix::nalgebra::SVector;
use gaussmix::sample::{standard_normal_pair, standard_normal_vector, uniform};
use serde::{Deserialize, Serialize};

use crate::case::{Kind, KindExt, Model, Typed};
use crate::check::check_model;
use crate::dispatch_shape;
use crate::num::{f, Scalar};
use crate::rng::SplitMix;
use crate::spec::{ModelSpec, Shape};

pub const NAME: &str = "sample";

#[derive(Arbitrary, Debug)]
pub struct Input {
    pub single: bool,
    pub shape: Shape,
    pub kind: Kind,
    pub model: ModelSpec,
    pub seed: u64,
    pub draws: u8,
    /// Components for `sample_from` (taken modulo `K + 1`, so `K` too).
    pub picks: Vec<u8>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields, bound = "")]
pub struct Case<T: Scalar> {
    pub kind: Kind,
    pub dimension: usize,
    pub components: usize,
    /// `Gmm::new` on these (the variates are still checked if it rejects
    /// them).
    pub model: Model<T>,
    /// Seed of the SplitMix64 every draw comes from.
    pub seed: u64,
    /// Draws of `choose_component` + `sample` (+ `Gaussian::sample`).
    pub draws: usize,
    /// Arguments of `sample_from`, each at most `K`.
    pub picks: Vec<usize>,
}

pub type Doc = Typed<Case<f32>, Case<f64>>;

pub fn lower(input: &Input) -> Doc {
    dispatch_shape!(input.single, input.shape, lower_at(input))
}

fn lower_at<T: Scalar, const D: usize, const K: usize>(input: &Input) -> Case<T> {
    Case {
        kind: input.kind,
        dimension: D,
        components: K,
        model: input.model.model::<T, D, K>(input.kind),
        seed: input.seed,
        draws: usize::from(input.draws % 33),
        picks: input
            .picks
            .iter()
            .take(32)
            .map(|&p| usize::from(p) % (K + 1))
            .collect(),
    }
}

crate::target_entry!();

fn finite<T: Scalar, const D: usize>(x: &SVector<T, D>) -> bool {
    x.iter().all(|&c| f(c).is_finite())
}

fn run_typed<T: Scalar, const D: usize, const K: usize, C: KindExt>(case: &Case<T>) {
    let mut rng = SplitMix(case.seed);

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

    let Ok(model) = case.model.build::<D, K, C>() else {
        return;
    };
    check_model(&model);
    let components = C::gaussians(&model);
    for _ in 0..case.draws {
        // `sample` is `choose_component` then `sample_from` on the same
        // stream of variates.
        let state = rng.0;
        let k = model.choose_component(&mut rng);
        assert!(k < K);
        assert!(
            f(model.weights()[k]) > 0.0,
            "component {k} of weight 0 chosen"
        );
        let from = model.sample_from(k, &mut rng);
        let mut again = SplitMix(state);
        let x = model.sample(&mut again);
        assert_eq!(again.0, rng.0, "sample draws differently");
        assert_eq!(
            Some(x),
            from,
            "sample differs from choose_component + sample_from"
        );
        assert!(finite(&x), "sample {x:?}");
        if let Some(c) = &components {
            let y = c[k].sample(&mut rng);
            assert!(finite(&y), "component {k} sample {y:?}");
        }
    }
    for &k in &case.picks {
        match model.sample_from(k, &mut rng) {
            Some(x) => {
                assert!(k < K);
                assert!(finite(&x), "sample_from({k}) {x:?}");
            }
            None => assert!(k >= K),
        }
    }
}
