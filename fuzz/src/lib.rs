//! Shared input types and invariant checks for the gaussmix fuzz targets.
//!
//! Every float a target feeds to gaussmix comes from a [`Num`], whose raw
//! variants carry *any* `f64` or `f32` bit pattern (NaN with any payload,
//! ±inf, subnormals, ±0, huge, tiny), next to "nice" variants (small
//! multiples of 1/64, one value per binade, a table of edge values) so the
//! fuzzer also gets past validation into the EM loop. Models are built from
//! a [`ModelSpec`], whose covariance recipes include `L Lᵀ` products (almost
//! always positive definite) as well as raw matrices.
//!
//! The checks ([`check_model`], [`check_gaussian`], [`check_responsibilities`])
//! are the crate's documented invariants, computed in `f64` independently of
//! the crate's own code.

use core::convert::Infallible;
use core::fmt::Debug;

use arbitrary::Arbitrary;
use gaussmix::nalgebra::{Cholesky, SMatrix, SVector};
use gaussmix::{Error, Gaussian, Gmm, Real};

/// The most data points a target passes to gaussmix (keeps executions fast).
pub const MAX_POINTS: usize = 256;

// ---------------------------------------------------------------------------
// Scalars

/// One float from the fuzzer.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Num {
    /// Any `f64` bit pattern (rounded, possibly to ±inf or ±0, in `f32`).
    F64(f64),
    /// Any `f32` bit pattern (exact in `f64` too).
    F32(f32),
    /// `i / 64`: small, exactly representable values in `±512`.
    Small(i16),
    /// `m / 1024 · 2^(e·s)` with `s = 1` for `f32`, 8 for `f64`: every binade
    /// of the type, subnormals and overflow to ±inf included.
    Scaled(i16, i8),
    /// An edge value of the type, from [`Scalar::special`].
    Special(u8),
}

impl Num {
    /// The value in `T`.
    pub fn get<T: Scalar>(self) -> T {
        match self {
            Num::F64(x) => T::of_f64(x),
            Num::F32(x) => T::of_f32(x),
            Num::Small(i) => T::of_f64(f64::from(i) / 64.0),
            Num::Scaled(m, e) => {
                T::of_f64(f64::from(m) / 1024.0 * 2f64.powi(i32::from(e) * T::SCALE_STEP))
            }
            Num::Special(i) => T::special(i),
        }
    }
}

/// `f32` or `f64`, with what the targets need on top of [`Real`].
pub trait Scalar: Real + Into<f64> + Debug + PartialOrd {
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// Machine epsilon, in `f64`.
    const EPS64: f64;
    /// The smallest positive subnormal, in `f64`.
    const TINY: f64;
    /// The smallest positive normal value, in `f64`.
    const MIN_POSITIVE64: f64;
    /// The largest finite value, in `f64`.
    const MAX64: f64;
    /// Exponent step of [`Num::Scaled`].
    const SCALE_STEP: i32;
    /// Documented bound on a standard normal variate's magnitude
    /// (`gaussmix::sample` module docs).
    const NORMAL_BOUND: f64;
    /// `x` rounded to the type.
    fn of_f64(x: f64) -> Self;
    /// `x` converted to the type.
    fn of_f32(x: f32) -> Self;
    /// An edge value: ±0, ±1, ½, 2, ±MIN_POSITIVE, ±smallest subnormal,
    /// ±MAX, ±inf, NaN (two payloads), ε, 1 ± ε, √MAX, 1/√MAX, 10⁻³, 10³, 10⁻⁶.
    fn special(i: u8) -> Self;
}

macro_rules! scalar {
    ($t:ident, $scale:expr, $bound:expr) => {
        impl Scalar for $t {
            const NAME: &'static str = stringify!($t);
            const EPS64: f64 = $t::EPSILON as f64;
            const TINY: f64 = $t::from_bits(1) as f64;
            const MIN_POSITIVE64: f64 = $t::MIN_POSITIVE as f64;
            const MAX64: f64 = $t::MAX as f64;
            const SCALE_STEP: i32 = $scale;
            const NORMAL_BOUND: f64 = $bound;
            fn of_f64(x: f64) -> Self {
                x as $t
            }
            fn of_f32(x: f32) -> Self {
                x as $t
            }
            fn special(i: u8) -> Self {
                let table: [$t; 26] = [
                    0.0,
                    -0.0,
                    1.0,
                    -1.0,
                    0.5,
                    2.0,
                    $t::MIN_POSITIVE,
                    -$t::MIN_POSITIVE,
                    $t::from_bits(1),
                    -$t::from_bits(1),
                    $t::MAX,
                    -$t::MAX,
                    $t::INFINITY,
                    $t::NEG_INFINITY,
                    $t::NAN,
                    $t::from_bits($t::NAN.to_bits() | 1).copysign(-1.0),
                    $t::EPSILON,
                    1.0 + $t::EPSILON,
                    1.0 - $t::EPSILON / 2.0,
                    $t::MAX.sqrt(),
                    1.0 / $t::MAX.sqrt(),
                    1e-3,
                    1e3,
                    1e-6,
                    $t::MAX / 2.0,
                    $t::MIN_POSITIVE * 4.0,
                ];
                table[usize::from(i) % table.len()]
            }
        }
    };
}
scalar!(f32, 1, 5.8);
scalar!(f64, 8, 8.6);

/// `x` in `f64`.
pub fn f<T: Scalar>(x: T) -> f64 {
    x.into()
}

// ---------------------------------------------------------------------------
// Shapes

/// The `(D, K)` pairs the targets are instantiated at.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Shape {
    D1K1,
    D1K2,
    D2K2,
    D2K3,
    D3K2,
}

/// Calls `$func::<T, D, K>($($arg),*)` for the input's precision and shape.
#[macro_export]
macro_rules! dispatch {
    ($single:expr, $shape:expr, $func:ident ( $($arg:expr),* )) => {{
        use $crate::Shape::*;
        match ($single, $shape) {
            (false, D1K1) => $func::<f64, 1, 1>($($arg),*),
            (false, D1K2) => $func::<f64, 1, 2>($($arg),*),
            (false, D2K2) => $func::<f64, 2, 2>($($arg),*),
            (false, D2K3) => $func::<f64, 2, 3>($($arg),*),
            (false, D3K2) => $func::<f64, 3, 2>($($arg),*),
            (true, D1K1) => $func::<f32, 1, 1>($($arg),*),
            (true, D1K2) => $func::<f32, 1, 2>($($arg),*),
            (true, D2K2) => $func::<f32, 2, 2>($($arg),*),
            (true, D2K3) => $func::<f32, 2, 3>($($arg),*),
            (true, D3K2) => $func::<f32, 3, 2>($($arg),*),
        }
    }};
}

// ---------------------------------------------------------------------------
// Models

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

/// A covariance recipe.
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
    /// The `D×D` matrix.
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

/// What `Gmm::new` takes.
pub type Params<T, const D: usize, const K: usize> =
    ([T; K], [SVector<T, D>; K], [SMatrix<T, D, D>; K]);

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

    pub fn params<T: Scalar, const D: usize, const K: usize>(&self) -> Params<T, D, K> {
        (
            self.weights(),
            core::array::from_fn(|k| self.components[k].mean()),
            core::array::from_fn(|k| self.components[k].cov.matrix()),
        )
    }

    pub fn build<T: Scalar, const D: usize, const K: usize>(&self) -> Result<Gmm<T, D, K>, Error> {
        let (w, m, c) = self.params::<T, D, K>();
        Gmm::new(w, m, c)
    }
}

// ---------------------------------------------------------------------------
// Data

/// A data set.
#[derive(Arbitrary, Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum DataSpec {
    /// Points as given.
    Points(Vec<[Num; 3]>),
    /// `i / 4` coordinates: duplicates, lines, grids, exactly.
    Grid(Vec<[i8; 3]>),
    /// `n` points drawn from a 3-component model (none if it is invalid),
    /// then some of them overwritten.
    Sampled {
        model: ModelSpec,
        seed: u64,
        n: u8,
        replace: Vec<(u8, [Num; 3])>,
    },
}

impl DataSpec {
    pub fn points<T: Scalar, const D: usize>(&self) -> Vec<SVector<T, D>> {
        let vector = |p: &[Num; 3]| SVector::<T, D>::from_fn(|i, _| p[i].get());
        match self {
            DataSpec::Points(p) => p.iter().take(MAX_POINTS).map(vector).collect(),
            DataSpec::Grid(p) => p
                .iter()
                .take(MAX_POINTS)
                .map(|p| SVector::from_fn(|i, _| T::of_f64(f64::from(p[i]) / 4.0)))
                .collect(),
            DataSpec::Sampled {
                model,
                seed,
                n,
                replace,
            } => {
                let Ok(gmm) = model.build::<T, D, 3>() else {
                    return Vec::new();
                };
                let mut rng = SplitMix(*seed);
                let mut data: Vec<_> = (0..*n).map(|_| gmm.sample(&mut rng)).collect();
                if !data.is_empty() {
                    for (i, p) in replace.iter().take(16) {
                        let len = data.len();
                        data[usize::from(*i) % len] = vector(p);
                    }
                }
                data
            }
        }
    }
}

/// Index of the first point with a NaN or infinite coordinate.
pub fn first_non_finite<T: Scalar, const D: usize>(data: &[SVector<T, D>]) -> Option<usize> {
    data.iter()
        .position(|x| !x.iter().all(|&c| f(c).is_finite()))
}

// ---------------------------------------------------------------------------
// RNG

/// SplitMix64: small, deterministic, seeded from the input.
pub struct SplitMix(pub u64);

impl gaussmix::rand_core::TryRng for SplitMix {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Ok(z ^ (z >> 31))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Checks

/// Tolerance on `|Σ wₖ − 1|` for a stored model: each weight is one
/// rounded division, so `K·ε/2` plus slack.
pub fn weight_tolerance<T: Scalar>(k: usize) -> f64 {
    2.0 * k as f64 * T::EPS64
}

/// Every documented invariant of a model: weights finite, `≥ 0`, summing
/// to 1; every component valid ([`check_gaussian`]).
pub fn check_model<T: Scalar, const D: usize, const K: usize>(m: &Gmm<T, D, K>) {
    let mut sum = 0.0;
    for (k, &w) in m.weights().iter().enumerate() {
        let w = f(w);
        assert!(w.is_finite() && w >= 0.0, "weight {k} is {w:e}");
        sum += w;
    }
    assert!(
        (sum - 1.0).abs() <= weight_tolerance::<T>(K),
        "weights {:?} sum to 1 + {:e}",
        m.weights().as_slice(),
        sum - 1.0
    );
    for (k, c) in m.components().iter().enumerate() {
        check_gaussian(c, k);
    }
    assert!(m.component(K).is_none());
}

/// A component's invariants: finite mean and covariance; covariance
/// symmetric within the documented `√ε·√(Σᵢᵢ Σⱼⱼ)`; positive definite by
/// nalgebra's Cholesky in `f64`; the stored factor lower triangular, finite,
/// with a positive diagonal and `L Lᵀ ≈ Σ`; the log-density at the mean
/// (the log-normaliser) finite.
pub fn check_gaussian<T: Scalar, const D: usize>(g: &Gaussian<T, D>, k: usize) {
    let mean = g.mean().map(f);
    let cov = g.covariance().map(f);
    let l = g.cholesky().map(f);
    assert!(
        mean.iter().all(|v| v.is_finite()),
        "component {k}: mean {mean:?}"
    );
    assert!(
        cov.iter().all(|v| v.is_finite()),
        "component {k}: covariance {cov:?}"
    );
    let tol = T::EPS64.sqrt();
    for j in 0..D {
        for i in j + 1..D {
            let bound = tol * cov[(i, i)].abs().sqrt() * cov[(j, j)].abs().sqrt();
            let diff = (cov[(i, j)] - cov[(j, i)]).abs();
            assert!(
                diff <= 1.01 * bound,
                "component {k}: covariance not symmetric: |Σ{i}{j} − Σ{j}{i}| = {diff:e} > {bound:e} (Σ = {cov:?})"
            );
        }
    }
    // Positive definite in f64: Σ itself (the default), or Σ plus the
    // diagonal slack that covers the Cholesky factorisation's backward
    // error in `T` (GAUSSMIX_FUZZ_PD=rounding, see README).
    // Near the ends of the f64 range the test runs on the correlation
    // matrix diag(Σ)^(−½) Σ diag(Σ)^(−½), positive definite exactly when Σ
    // is, so that nothing overflows or underflows.
    let slack = pd_slack::<T>(D);
    assert!(
        (0..D).all(|i| cov[(i, i)] > 0.0),
        "component {k}: covariance with a non-positive diagonal: {cov:?}"
    );
    let extreme = cov.iter().any(|v| v.abs() > 1e300) || (0..D).any(|i| cov[(i, i)] < 1e-290);
    let root = cov.map_diagonal(f64::sqrt);
    let shifted = SMatrix::<f64, D, D>::from_fn(|i, j| {
        let v = if extreme {
            cov[(i, j)] / root[i] / root[j]
        } else {
            cov[(i, j)]
        };
        if i == j {
            v + slack * v
        } else {
            v
        }
    });
    let chol = Cholesky::new(shifted).map(|c| c.unpack());
    assert!(
        chol.is_some_and(|c| (0..D).all(|i| c[(i, i)] > 0.0 && c[(i, i)].is_finite())),
        "component {k}: covariance not positive definite in f64{}: {cov:?}",
        if slack > 0.0 {
            " (with rounding slack)"
        } else {
            ""
        }
    );
    for i in 0..D {
        assert!(
            l[(i, i)] > 0.0 && l[(i, i)].is_finite(),
            "component {k}: L = {l:?}"
        );
        for j in 0..D {
            assert!(l[(i, j)].is_finite(), "component {k}: L = {l:?}");
            if j > i {
                assert_eq!(l[(i, j)], 0.0, "component {k}: L not lower: {l:?}");
            }
        }
    }
    // Backward error of a Cholesky factorisation (Higham, Thm 10.3):
    // |L Lᵀ − Σ| ≤ γ_{D+1} |L||Lᵀ|, plus underflow slack. Computed on L/s
    // and Σ/s² (s the largest |Lᵢⱼ|) so nothing overflows near MAX.
    let s = l.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let ls = l / s;
    for j in 0..D {
        for i in j..D {
            let llt: f64 = (0..=j).map(|p| ls[(i, p)] * ls[(j, p)]).sum();
            let abs: f64 = (0..=j).map(|p| (ls[(i, p)] * ls[(j, p)]).abs()).sum();
            let want = cov[(i, j)] / s / s;
            // Underflow: an entry of L flushed to a subnormal or 0 is off by
            // up to TINY, i.e. TINY/s here, times an entry ≤ 1; an entry of
            // Σ near the subnormal range is off by TINY/s².
            let slack = 2.0 * (D as f64 + 1.0) * T::EPS64 * abs
                + 8.0 * D as f64 * (T::TINY / s).max(T::TINY / s / s).max(f64::from_bits(1));
            assert!(
                (llt - want).abs() <= slack,
                "component {k}: L Lᵀ differs from Σ at ({i},{j}): {:e} vs {:e} (L = {l:?})",
                llt * s * s,
                cov[(i, j)]
            );
        }
    }
    let at_mean = g.log_density(g.mean()).map(f);
    assert!(
        at_mean.is_ok_and(f64::is_finite),
        "component {k}: log-density at the mean {at_mean:?}"
    );
}

/// The relative diagonal slack of the positive-definiteness check, matching
/// the crate's contract (positive definite to working precision, see
/// `gaussmix::Gaussian`): by default `2·D·(D+1)·ε` of `T`, which covers the
/// backward error of a Cholesky factorisation in `T` (`|ΔΣᵢⱼ| ≤
/// γ_{D+1}·√(Σᵢᵢ Σⱼⱼ)`, so `Σ + D·γ_{D+1}·diag(Σ) ⪰ Σ + ΔΣ = L Lᵀ`): a
/// covariance singular only by rounding in `T` then passes. With the
/// environment variable `GAUSSMIX_FUZZ_PD=strict`, 0: `Σ` itself must be
/// positive definite in exact arithmetic, as nalgebra's `f64` Cholesky sees
/// it (which `f32` covariances near singularity can fail).
pub fn pd_slack<T: Scalar>(d: usize) -> f64 {
    static ROUNDING: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let rounding =
        *ROUNDING.get_or_init(|| !std::env::var("GAUSSMIX_FUZZ_PD").is_ok_and(|v| v == "strict"));
    if rounding {
        2.0 * (d * (d + 1)) as f64 * T::EPS64
    } else {
        0.0
    }
}

/// Responsibilities in `[0, 1]` summing to 1 within the documented `K·ε`.
pub fn check_responsibilities<T: Scalar, const K: usize>(r: &SVector<T, K>) {
    let mut sum = 0.0;
    for &v in r.iter() {
        let v = f(v);
        assert!(
            (0.0..=1.0).contains(&v),
            "responsibility {v:e} in {:?}",
            r.as_slice()
        );
        sum += v;
    }
    assert!(
        (sum - 1.0).abs() <= K as f64 * T::EPS64 + K as f64 * f64::EPSILON,
        "responsibilities {:?} sum to 1 + {:e}",
        r.as_slice(),
        sum - 1.0
    );
}

/// The index of the largest entry, the lowest on a tie.
pub fn argmax<T: Scalar, const K: usize>(r: &SVector<T, K>) -> usize {
    let mut best = 0;
    for k in 1..K {
        if r[k] > r[best] {
            best = k;
        }
    }
    best
}

/// `e` with its component index replaced by `k` (what `Gmm::new` reports
/// for an error `Gaussian::new` reports as component 0).
pub fn at_component(e: Error, k: usize) -> Error {
    match e {
        Error::NonFiniteParameter { .. } => Error::NonFiniteParameter { component: k },
        Error::NotSymmetric { .. } => Error::NotSymmetric { component: k },
        Error::NotPositiveDefinite { .. } => Error::NotPositiveDefinite { component: k },
        other => other,
    }
}

/// `|a − b| ≤ rel·max(|a|, |b|)` (or both the same infinity).
pub fn close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a - b).abs() <= rel * a.abs().max(b.abs())
}

/// How far two summations of the points' log-likelihoods under `model`
/// (in different orders or blocks, with a `ln` per point or per block) may
/// differ: `(N + 256)·ε·Σᵢ (|ln p(xᵢ)| + ln K)`, a bound on recursive and
/// blocked summation both, plus rounding of the logarithms.
pub fn sum_tolerance<T: Scalar, const D: usize, const K: usize>(
    model: &Gmm<T, D, K>,
    data: &[SVector<T, D>],
) -> f64 {
    let magnitude: f64 = data
        .iter()
        .map(|x| model.log_prob(x).map_or(0.0, |v| f(v).abs()) + (K as f64).ln() + 1.0)
        .sum();
    (data.len() as f64 + 256.0) * T::EPS64 * magnitude
}
