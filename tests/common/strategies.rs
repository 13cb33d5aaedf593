//! proptest strategies shared by the property tests: data sets with some
//! cluster structure at arbitrary scale, and arbitrary valid mixtures.

use gaussmix::nalgebra::{SMatrix, SVector};
use gaussmix::Gmm;
use proptest::prelude::*;

/// `n` points in `D` dimensions: up to four cluster centres anywhere in
/// `[-50, 50]^D`, each point a centre plus an offset of random spread
/// (0.05 to 5 per coordinate), so sets range from tight clusters to diffuse
/// clouds. Coordinates are `f64`; tests convert them for `f32`.
pub fn points<const D: usize>(
    n: core::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = Vec<[f64; D]>> {
    let centres = prop::collection::vec(prop::array::uniform::<_, D>(-50.0..50.0f64), 1..=4);
    let offsets = prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            prop::array::uniform::<_, D>(-1.0..1.0f64),
        ),
        n,
    );
    (centres, offsets, 0.05..5.0f64).prop_map(|(centres, offsets, spread)| {
        offsets
            .into_iter()
            .map(|(which, offset)| {
                let c = which.get(&centres);
                core::array::from_fn(|d| c[d] + spread * offset[d])
            })
            .collect()
    })
}

/// Raw parameters of a valid `K`-component mixture in `D` dimensions:
/// positive weights (normalised), means in `[-60, 60]^D`, covariances
/// `A Aᵀ + s I` with `A` entries in `[-3, 3]` and `s` in `[0.05, 10]`.
#[derive(Clone, Debug)]
pub struct Params<const D: usize, const K: usize> {
    pub weights: [f64; K],
    pub means: [[f64; D]; K],
    pub covariances: [SMatrix<f64, D, D>; K],
}

pub fn params<const D: usize, const K: usize>() -> impl Strategy<Value = Params<D, K>> {
    let weights = prop::array::uniform::<_, K>(0.05..1.0f64);
    let means = prop::array::uniform::<_, K>(prop::array::uniform::<_, D>(-60.0..60.0f64));
    let factors = prop::collection::vec(
        (prop::collection::vec(-3.0..3.0f64, D * D), 0.05..10.0f64),
        K,
    );
    (weights, means, factors).prop_map(|(w, means, factors)| {
        let total: f64 = w.iter().sum();
        let weights = w.map(|x| x / total);
        let covariances = core::array::from_fn(|k| {
            let (a, s) = &factors[k];
            let a = SMatrix::<f64, D, D>::from_column_slice(a);
            let c = a * a.transpose() + SMatrix::<f64, D, D>::identity() * *s;
            (c + c.transpose()) * 0.5
        });
        Params {
            weights,
            means,
            covariances,
        }
    })
}

impl<const D: usize, const K: usize> Params<D, K> {
    /// The mixture in scalar type `T`.
    pub fn model<T: gaussmix::Real>(&self) -> Gmm<T, D, K> {
        let c = |x: f64| gaussmix::nalgebra::convert::<f64, T>(x);
        Gmm::new(
            self.weights.map(c),
            self.means.map(|m| SVector::from(m.map(c))),
            self.covariances.map(|m| m.map(c)),
        )
        .expect("generated parameters are valid")
    }
}

/// Converts `f64` points to `T`.
pub fn convert<T: gaussmix::Real, const D: usize>(data: &[[f64; D]]) -> Vec<[T; D]> {
    data.iter()
        .map(|p| p.map(gaussmix::nalgebra::convert::<f64, T>))
        .collect()
}

/// Cases per property: `PROPTEST_CASES` if set (for long runs), else 48.
pub fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    ProptestConfig::with_cases(cases)
}
