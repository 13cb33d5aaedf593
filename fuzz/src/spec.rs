//! The fuzzer's recipes (`#[derive(Arbitrary)]`): how raw bytes become
//! models and data sets that mostly get past validation, with raw variants
//! that make every value possible. Each target lowers them to a case
//! (`crate::case`) in one precision and shape before running it.

use arbitrary::Arbitrary;
use gaussmix::nalgebra::{SMatrix, SVector};
use gaussmix::Gmm;

use crate::case::{to_vector, Covariances, Kind, Model, Vector};
use crate::num::{f, Num, Scalar, V};
use crate::rng::SplitMix;

/// The most data points a target passes to gaussmix (keeps executions fast).
pub const MAX_POINTS: usize = 256;

/// The `(D, K)` pairs the targets are instantiated at (`case::SHAPES`).
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Shape {
    D1K1,
    D1K2,
    D2K2,
    D2K3,
    D3K2,
}

/// Mixture weights.
#[derive(Arbitrary, Clone, Debug)]
pub enum WeightSpec {
    /// Raw values: usually rejected, which is the point.
    Raw([Num; 3]),
    /// `aₖ / Σ a` (uniform if all are 0): valid, zeros included.
    Ratio([u8; 3]),
    /// `1/K`.
    Uniform,
}

/// A covariance recipe: a `D×D` matrix (for the diagonal kind its
/// diagonal, for the spherical kind its `(0, 0)` entry is used).
#[derive(Arbitrary, Clone, Debug)]
pub enum CovSpec {
    /// Row-major entries as given.
    Raw([Num; 9]),
    /// `L Lᵀ + ridge·I` for the lower-triangular `L` whose rows are
    /// `[0]`, `[1, 2]`, `[3, 4, 5]`: exactly symmetric, usually PD.
    Factor([Num; 6], Num),
    /// As `Factor`, then `delta` added above the diagonal only: symmetric
    /// or not depending on `delta`'s size.
    Skewed([Num; 6], Num, Num),
    /// A diagonal matrix.
    Diagonal([Num; 3]),
    /// `s·I`.
    Isotropic(Num),
}

impl CovSpec {
    /// The `D×D` matrix, computed in `T`.
    pub fn matrix<T: Scalar, const D: usize>(&self) -> SMatrix<T, D, D> {
        let lower = |l: &[Num; 6]| {
            let mut m = SMatrix::<T, D, D>::zeros();
            for i in 0..D {
                for j in 0..=i {
                    m[(i, j)] = l[i * (i + 1) / 2 + j].get();
                }
            }
            m
        };
        let product = |l: &[Num; 6], ridge: Num| {
            let l = lower(l);
            let mut c = SMatrix::<T, D, D>::zeros();
            for i in 0..D {
                for j in 0..D {
                    let mut s = T::zero();
                    for k in 0..=i.min(j) {
                        s += l[(i, k)] * l[(j, k)];
                    }
                    c[(i, j)] = s;
                }
                c[(i, i)] += ridge.get::<T>();
            }
            c
        };
        match self {
            CovSpec::Raw(v) => SMatrix::from_fn(|i, j| v[i * 3 + j].get()),
            CovSpec::Factor(l, ridge) => product(l, *ridge),
            CovSpec::Skewed(l, ridge, delta) => {
                let mut c = product(l, *ridge);
                for j in 0..D {
                    for i in 0..j {
                        c[(i, j)] += delta.get::<T>();
                    }
                }
                c
            }
            CovSpec::Diagonal(d) => {
                SMatrix::from_fn(|i, j| if i == j { d[i].get() } else { T::zero() })
            }
            CovSpec::Isotropic(s) => SMatrix::identity() * s.get::<T>(),
        }
    }
}

/// One component: a mean and a covariance recipe.
#[derive(Arbitrary, Clone, Debug)]
pub struct ComponentSpec {
    pub mean: [Num; 3],
    pub cov: CovSpec,
}

impl ComponentSpec {
    pub fn mean<T: Scalar, const D: usize>(&self) -> SVector<T, D> {
        SVector::from_fn(|i, _| self.mean[i].get())
    }
}

/// Parameters for `Gmm::new` (the first `D` coordinates and `K` components
/// are used).
#[derive(Arbitrary, Clone, Debug)]
pub struct ModelSpec {
    pub weights: WeightSpec,
    pub components: [ComponentSpec; 3],
}

impl ModelSpec {
    pub fn weights<T: Scalar, const K: usize>(&self) -> [T; K] {
        let uniform = [T::one() / T::of_f64(K as f64); K];
        match &self.weights {
            WeightSpec::Raw(w) => core::array::from_fn(|k| w[k].get()),
            WeightSpec::Ratio(a) => {
                let sum: u32 = a[..K].iter().map(|&x| u32::from(x)).sum();
                if sum == 0 {
                    uniform
                } else {
                    let sum = T::of_f64(f64::from(sum));
                    core::array::from_fn(|k| T::of_f64(f64::from(a[k])) / sum)
                }
            }
            WeightSpec::Uniform => uniform,
        }
    }

    pub fn means<T: Scalar, const D: usize, const K: usize>(&self) -> [SVector<T, D>; K] {
        core::array::from_fn(|k| self.components[k].mean())
    }

    pub fn matrices<T: Scalar, const D: usize, const K: usize>(&self) -> [SMatrix<T, D, D>; K] {
        core::array::from_fn(|k| self.components[k].cov.matrix())
    }

    /// The parameters of a model of `kind`, in `T`.
    pub fn model<T: Scalar, const D: usize, const K: usize>(&self, kind: Kind) -> Model<T> {
        Model {
            weights: self.weights::<T, K>().iter().map(|&w| V(w)).collect(),
            means: self.means::<T, D, K>().iter().map(to_vector).collect(),
            covariances: Covariances::from_matrices(kind, &self.matrices::<T, D, K>()),
        }
    }
}

/// A data set.
#[derive(Arbitrary, Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum DataSpec {
    /// Points as given.
    Points(Vec<[Num; 3]>),
    /// `i / 4` coordinates: duplicates, lines, grids, exactly.
    Grid(Vec<[i8; 3]>),
    /// `n` points drawn from a 3-component full-covariance model (none if
    /// it is invalid), then some of them overwritten.
    Sampled {
        model: ModelSpec,
        seed: u64,
        n: u8,
        replace: Vec<(u8, [Num; 3])>,
    },
}

impl DataSpec {
    /// At most `cap` points, in `T`.
    pub fn points<T: Scalar, const D: usize>(&self, cap: usize) -> Vec<Vector<T>> {
        let vector = |p: &[Num; 3]| SVector::<T, D>::from_fn(|i, _| p[i].get());
        let points: Vec<SVector<T, D>> = match self {
            DataSpec::Points(p) => p.iter().take(cap).map(vector).collect(),
            DataSpec::Grid(p) => p
                .iter()
                .take(cap)
                .map(|p| SVector::from_fn(|i, _| T::of_f64(f64::from(p[i]) / 4.0)))
                .collect(),
            DataSpec::Sampled {
                model,
                seed,
                n,
                replace,
            } => {
                let Ok(gmm) = Gmm::<T, D, 3>::new(model.weights(), model.means(), model.matrices())
                else {
                    return Vec::new();
                };
                let mut rng = SplitMix(*seed);
                let n = usize::from(*n).min(cap);
                let mut data: Vec<_> = (0..n).map(|_| gmm.sample(&mut rng)).collect();
                if !data.is_empty() {
                    for (i, p) in replace.iter().take(16) {
                        let len = data.len();
                        data[usize::from(*i) % len] = vector(p);
                    }
                }
                data
            }
        };
        points.iter().map(to_vector).collect()
    }
}

/// Sample weights for `fit_weighted` and `SufficientStats::accumulate_weighted`:
/// a base value per point, some entries overwritten with arbitrary values,
/// and a length that is usually the number of points.
#[derive(Arbitrary, Clone, Debug)]
pub struct SampleWeightSpec {
    pub base: BaseWeights,
    /// Up to 8 entries `(i mod len, value)` overwritten (in `T`).
    pub replace: Vec<(u8, Num)>,
    /// The number of weights for `N` points: `0` → `N − 1` (`N + 1` when
    /// `N` is 0), `1` → `N + 1`, `2` → none, anything else `N`.
    pub length: u8,
}

/// The weights before [`SampleWeightSpec::replace`], cycled over the points
/// (an empty list gives 1 each).
#[derive(Arbitrary, Clone, Debug)]
pub enum BaseWeights {
    /// 1 each: the unweighted fit, which the target compares.
    Ones,
    /// `b mod 4`: copies of the point (0, 1, 2 or 3), zeros included.
    Counts(Vec<u8>),
    /// As `Counts`, and 0 for every point that is not finite (a point of
    /// weight 0 is left out, not even checked).
    SkipNonFinite(Vec<u8>),
    /// `(b mod 4) · s` for any `s`: tiny, subnormal, huge (the total
    /// overflows), negative, NaN (also `0 · ∞`).
    Scaled(Vec<u8>, Num),
    /// Any values.
    Raw(Vec<Num>),
}

impl SampleWeightSpec {
    /// The weights for `data`, in `T`.
    pub fn weights<T: Scalar, const D: usize>(&self, data: &[SVector<T, D>]) -> Vec<T> {
        let n = data.len();
        let len = match self.length {
            0 if n == 0 => 1,
            0 => n - 1,
            1 => n + 1,
            2 => 0,
            _ => n,
        };
        let count = |b: &[u8], i: usize| -> Option<T> {
            (!b.is_empty()).then(|| T::of_f64(f64::from(b[i % b.len()] % 4)))
        };
        let mut w: Vec<T> = (0..len)
            .map(|i| {
                let base = match &self.base {
                    BaseWeights::Ones => None,
                    BaseWeights::Counts(b) => count(b, i),
                    BaseWeights::SkipNonFinite(b) => {
                        let finite = data
                            .get(i)
                            .is_none_or(|x| x.iter().all(|&c| f(c).is_finite()));
                        if finite {
                            count(b, i)
                        } else {
                            Some(T::zero())
                        }
                    }
                    BaseWeights::Scaled(b, s) => count(b, i).map(|c| c * s.get::<T>()),
                    BaseWeights::Raw(v) => (!v.is_empty()).then(|| v[i % v.len()].get()),
                };
                base.unwrap_or_else(T::one)
            })
            .collect();
        if !w.is_empty() {
            for (i, v) in self.replace.iter().take(8) {
                let len = w.len();
                w[usize::from(*i) % len] = v.get();
            }
        }
        w
    }
}
