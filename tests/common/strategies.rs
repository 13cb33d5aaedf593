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

/// One property case: data and a starting mixture at a common scale `s`
/// (`10^u`, `u` uniform in the range asked for), so that data and start
/// span scales from tiny to huge together.
///
/// * Data: one to four clusters with centres in `[-50, 50]^D`, two of them
///   coinciding a quarter of the time (overlapping components), each point a
///   centre plus `A u` with `u ∈ [-1, 1]^D` and `A` lower triangular, its
///   diagonal log-uniform in `spread · [10⁻², 1]` (`spread` in `[0.05, 5]`):
///   round, elongated and thin clusters.
/// * Start: positive weights; means in `[-60, 60]^D`, an eighth of the time
///   all moved by `±10³` (far starts); covariances `A Aᵀ + t I` with `A`
///   entries in `[-3, 3]` and `t` log-uniform in `[10⁻⁴, 10]`, so thin and
///   nearly collinear components occur.
#[derive(Clone, Debug)]
pub struct Case<const D: usize, const K: usize> {
    pub data: Vec<[f64; D]>,
    pub params: Params<D, K>,
    pub scale: f64,
}

pub fn case<const D: usize, const K: usize>(
    n: core::ops::RangeInclusive<usize>,
    exponents: core::ops::Range<f64>,
) -> impl Strategy<Value = Case<D, K>> {
    let cluster = (
        prop::array::uniform::<_, D>(-50.0..50.0f64),
        prop::collection::vec(-1.0..1.0f64, D * D),
        prop::collection::vec(-2.0..0.0f64, D),
    );
    let clusters = prop::collection::vec(cluster, 1..=4);
    let offsets = prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            prop::array::uniform::<_, D>(-1.0..1.0f64),
        ),
        n,
    );
    let start = (
        prop::array::uniform::<_, K>(0.05..1.0f64),
        prop::array::uniform::<_, K>(prop::array::uniform::<_, D>(-60.0..60.0f64)),
        prop::collection::vec(
            (prop::collection::vec(-3.0..3.0f64, D * D), -4.0..1.0f64),
            K,
        ),
        prop_oneof![7 => Just(0.0), 1 => Just(1e3), 1 => Just(-1e3)],
    );
    (
        clusters,
        any::<bool>(),
        offsets,
        0.05..5.0f64,
        start,
        exponents,
    )
        .prop_map(
            |(mut clusters, overlap, offsets, spread, start, exponent)| {
                let s = 10f64.powf(exponent);
                if overlap && clusters.len() > 1 {
                    clusters[1].0 = clusters[0].0;
                }
                let shapes: Vec<([f64; D], SMatrix<f64, D, D>)> = clusters
                    .iter()
                    .map(|(centre, shear, thin)| {
                        let mut a = SMatrix::<f64, D, D>::from_column_slice(shear) * spread;
                        for i in 0..D {
                            a[(i, i)] = spread * 10f64.powf(thin[i]);
                            for j in i + 1..D {
                                a[(i, j)] = 0.0;
                            }
                        }
                        (*centre, a)
                    })
                    .collect();
                let data = offsets
                    .into_iter()
                    .map(|(which, u)| {
                        let (centre, a) = which.get(&shapes);
                        let d = a * SVector::from(u);
                        core::array::from_fn(|i| (centre[i] + d[i]) * s)
                    })
                    .collect();
                let (w, means, factors, far) = start;
                let total: f64 = w.iter().sum();
                let covariances = core::array::from_fn(|k| {
                    let (a, t) = &factors[k];
                    let a = SMatrix::<f64, D, D>::from_column_slice(a);
                    let c = a * a.transpose() + SMatrix::<f64, D, D>::identity() * 10f64.powf(*t);
                    (c + c.transpose()) * (0.5 * s * s)
                });
                Case {
                    data,
                    params: Params {
                        weights: w.map(|x| x / total),
                        means: means.map(|m| m.map(|v| (v + far) * s)),
                        covariances,
                    },
                    scale: s,
                }
            },
        )
}
