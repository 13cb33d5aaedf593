//! The crate's documented invariants, checked in `f64` independently of
//! gaussmix's own code.

use gaussmix::nalgebra::{Cholesky, SMatrix, SVector};
use gaussmix::{Error, Gaussian, Gmm};

use crate::case::{single, Covariances, KindExt, Model};
use crate::num::{f, Scalar};

/// Tolerance on `|Σ wₖ − 1|` for a stored model: each weight is one
/// rounded division, so `K·ε/2` plus slack.
pub fn weight_tolerance<T: Scalar>(k: usize) -> f64 {
    2.0 * k as f64 * T::EPS64
}

/// Every documented invariant of a model, of any kind:
///
/// * weights finite, `≥ 0`, summing to 1 within `2Kε`; means finite;
/// * every covariance (`covariances()`) finite, symmetric within the
///   documented `√ε·√(Σᵢᵢ Σⱼⱼ)` and positive definite by nalgebra's
///   Cholesky in `f64` ([`check_covariance`]);
/// * the kind's own accessor agrees with `covariances()` exactly (diagonal
///   matrices of `variances()`, `σₖ² I`, the one tied matrix `K` times);
///   for full covariance every component passes [`check_gaussian`];
/// * each component alone is accepted by `Gmm::new` and its log-density at
///   its mean is finite; the model's parameters are accepted by `Gmm::new`
///   and give the same means and covariances (weights within rounding).
pub fn check_model<T: Scalar, const D: usize, const K: usize, C: KindExt>(m: &Gmm<T, D, K, C>) {
    let weights = m.weights();
    let mut sum = 0.0;
    for (k, &w) in weights.iter().enumerate() {
        let w = f(w);
        assert!(w.is_finite() && w >= 0.0, "weight {k} is {w:e}");
        sum += w;
    }
    assert!(
        (sum - 1.0).abs() <= weight_tolerance::<T>(K),
        "weights {:?} sum to 1 + {:e}",
        weights.as_slice(),
        sum - 1.0
    );
    let means = m.means();
    for (k, mu) in means.iter().enumerate() {
        assert!(
            mu.iter().all(|&v| f(v).is_finite()),
            "component {k}: mean {mu:?}"
        );
    }
    let covs = m.covariances();
    for (k, c) in covs.iter().enumerate() {
        check_covariance(c, k);
    }
    // The kind's accessor against the full matrices.
    let params = C::parameters(m);
    assert_eq!(params.kind(), C::KIND);
    for (k, c) in covs.iter().enumerate() {
        let want: SMatrix<T, D, D> = match &params {
            Covariances::Full(p) => crate::case::matrix(&p[k], "covariance"),
            Covariances::Diag(p) => {
                SMatrix::from_diagonal(&crate::case::vector::<T, D>(&p[k], "variances"))
            }
            Covariances::Spherical(p) => SMatrix::identity() * p[k].0,
            Covariances::Tied(p) => crate::case::matrix(p, "tied covariance"),
        };
        assert!(
            same_bits(c, &want),
            "component {k}: covariances() gives {c:?}, the {:?} accessor {want:?}",
            C::KIND
        );
    }
    if let Some(components) = C::gaussians(m) {
        for (k, g) in components.iter().enumerate() {
            assert_eq!(g.mean(), &means[k]);
            check_gaussian(g, k);
        }
    }
    // Each component alone, and the whole parameter set, pass `Gmm::new`.
    for (k, mu) in means.iter().enumerate() {
        let one = single(m, k)
            .unwrap_or_else(|e| panic!("component {k} of a valid model: Gmm::new says {e:?}"));
        let at_mean = one.log_prob(mu).map(f);
        assert!(
            at_mean.is_ok_and(f64::is_finite),
            "component {k}: log-density at the mean {at_mean:?}"
        );
    }
    let again = Model::of(m)
        .build::<D, K, C>()
        .unwrap_or_else(|e| panic!("a valid model's parameters: Gmm::new says {e:?}"));
    assert_eq!(again.means(), means);
    assert!(again
        .covariances()
        .iter()
        .zip(covs.iter())
        .all(|(a, b)| same_bits(a, b)));
    for (a, b) in again.weights().iter().zip(weights.iter()) {
        assert!((f(*a) - f(*b)).abs() <= weight_tolerance::<T>(K) * f(*b).max(T::TINY));
    }
}

/// Entry by entry the same value (`-0.0 == 0.0`; no NaN in a valid model).
fn same_bits<T: Scalar, const D: usize>(a: &SMatrix<T, D, D>, b: &SMatrix<T, D, D>) -> bool {
    a.iter().zip(b.iter()).all(|(x, y)| f(*x) == f(*y))
}

/// One covariance of a model: finite; symmetric within the documented
/// `√ε·√(Σᵢᵢ Σⱼⱼ)`; positive definite by nalgebra's Cholesky in `f64`, to
/// working precision by default ([`pd_slack`]). Near the ends of the `f64`
/// range the test runs on the correlation matrix
/// `diag(Σ)^(−½) Σ diag(Σ)^(−½)`, positive definite exactly when `Σ` is, so
/// that nothing overflows or underflows.
pub fn check_covariance<T: Scalar, const D: usize>(c: &SMatrix<T, D, D>, k: usize) {
    let cov = c.map(f);
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
                diff <= 1.01 * bound + T::TINY,
                "component {k}: covariance not symmetric: |Σ{i}{j} − Σ{j}{i}| = {diff:e} > {bound:e} (Σ = {cov:?})"
            );
        }
    }
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
}

/// A full-covariance component's invariants beyond [`check_covariance`]:
/// finite mean; the stored Cholesky factor lower triangular, finite, with a
/// positive diagonal and `L Lᵀ ≈ Σ` within the factorisation's backward
/// error; the log-density at the mean (the log-normaliser) finite.
pub fn check_gaussian<T: Scalar, const D: usize>(g: &Gaussian<T, D>, k: usize) {
    let mean = g.mean().map(f);
    let cov = g.covariance().map(f);
    let l = g.cholesky().map(f);
    assert!(
        mean.iter().all(|v| v.is_finite()),
        "component {k}: mean {mean:?}"
    );
    check_covariance(g.covariance(), k);
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
pub fn sum_tolerance<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    model: &Gmm<T, D, K, C>,
    data: &[SVector<T, D>],
) -> f64 {
    let magnitude: f64 = data
        .iter()
        .map(|x| model.log_prob(x).map_or(0.0, |v| f(v).abs()) + (K as f64).ln() + 1.0)
        .sum();
    (data.len() as f64 + 256.0) * T::EPS64 * magnitude
}

/// Index of the first point with a NaN or infinite coordinate.
pub fn first_non_finite<T: Scalar, const D: usize>(data: &[SVector<T, D>]) -> Option<usize> {
    data.iter()
        .position(|x| !x.iter().all(|&c| f(c).is_finite()))
}

/// The largest `|coordinate|` of finite data, in `f64`.
pub fn largest_coordinate<T: Scalar, const D: usize>(data: &[SVector<T, D>]) -> f64 {
    data.iter()
        .flat_map(|x| x.iter().map(|&c| f(c).abs()))
        .fold(0.0, f64::max)
}
