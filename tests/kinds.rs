//! The covariance kinds `Full`, `Diag`, `Spherical` and `Tied` against each
//! other and against what they model: the same log-density as the full
//! model with the same covariances, scikit-learn's parameter counts,
//! sampling, the initialisers, fits, and the sufficient statistics.
//!
//! Most checks are one generic function over the kind (`common::Kind`
//! builds a model of any kind from full matrices), run for all four.

// The crate's math rule (clippy.toml) binds the library, not its tests.
#![allow(clippy::disallowed_methods)]

mod common;

use core::mem::size_of;
use core::ops::ControlFlow;

use common::Kind;
use gaussmix::nalgebra::{vector, SMatrix, SVector};
use gaussmix::sample::{standard_normal_pair, uniform};
use gaussmix::{
    em_step, fit, fit_in_place, init, Diag, Error, FitOptions, Full, Gmm, Real, Spherical,
    SufficientStats, Termination, Tied,
};

/// The two scalar types, with exact conversions for the tests.
trait Float: Real {
    /// `x` rounded to `Self`.
    fn of(x: f64) -> Self;
    /// `self` as `f64` (exact).
    fn wide(self) -> f64;
    /// Machine epsilon, as `f64`.
    const EPSILON: f64;
}

impl Float for f64 {
    fn of(x: f64) -> Self {
        x
    }
    fn wide(self) -> f64 {
        self
    }
    const EPSILON: f64 = f64::EPSILON;
}

impl Float for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
    fn wide(self) -> f64 {
        f64::from(self)
    }
    const EPSILON: f64 = f32::EPSILON as f64;
}

/// A seeded RNG, one stream per seed. (`common::rng(s)` maps `2k` and
/// `2k + 1` to the same stream: the PCG state's low bit is forced to 1.)
fn rng(seed: u64) -> common::Rng {
    common::rng(2 * seed + 1)
}

/// A standard normal variate.
fn normal(rng: &mut common::Rng) -> f64 {
    standard_normal_pair::<f64, _>(rng).0
}

/// A random mixture of kind `C`: weights in `[0.5, 1.5]` normalised, means
/// uniform in `[−spread, spread]^D`, and covariances `s (A Aᵀ/D + 0.3 I)`
/// with `A` standard normal and `s` in `[0.5, 2]` per component (correlated,
/// of different sizes), of which the kind keeps what it stores.
fn random_model<C: Kind, const D: usize, const K: usize>(
    seed: u64,
    spread: f64,
) -> Gmm<f64, D, K, C> {
    let mut rng = rng(seed);
    let raw: [f64; K] = core::array::from_fn(|_| 0.5 + uniform::<f64, _>(&mut rng));
    let total: f64 = raw.iter().sum();
    let weights = raw.map(|w| w / total);
    let means: [SVector<f64, D>; K] = core::array::from_fn(|_| {
        SVector::from_fn(|_, _| spread * (2.0 * uniform::<f64, _>(&mut rng) - 1.0))
    });
    let covariances: [SMatrix<f64, D, D>; K] = core::array::from_fn(|_| {
        let a = SMatrix::<f64, D, D>::from_fn(|_, _| normal(&mut rng));
        let s = 0.5 + 1.5 * uniform::<f64, _>(&mut rng);
        let c = (a * a.transpose() / D as f64 + SMatrix::identity() * 0.3) * s;
        // Exactly symmetric.
        (c + c.transpose()) * 0.5
    });
    C::from_full(weights, means, &covariances).unwrap()
}

/// The same model in `T` (parameters rounded once).
fn cast<T: Float, C: Kind, const D: usize, const K: usize>(
    m: &Gmm<f64, D, K, C>,
) -> Gmm<T, D, K, C> {
    let w = m.weights();
    C::from_full(
        core::array::from_fn(|k| T::of(w[k])),
        m.means().map(|v| v.map(T::of)),
        &m.covariances().map(|c| c.map(T::of)),
    )
    .unwrap()
}

/// The full-covariance model with the same weights, means and covariances
/// (`covariances()` of the kind model).
fn as_full<T: Float, C: Kind, const D: usize, const K: usize>(
    m: &Gmm<T, D, K, C>,
) -> Gmm<T, D, K, Full> {
    Gmm::<T, D, K, Full>::new(m.weights().into(), m.means(), m.covariances()).unwrap()
}

fn points<T: Float, const D: usize>(data: &[SVector<f64, D>]) -> Vec<SVector<T, D>> {
    data.iter().map(|x| x.map(T::of)).collect()
}

/// `n` points drawn from `model` (any kind).
fn draw<C: Kind, const D: usize, const K: usize>(
    model: &Gmm<f64, D, K, C>,
    n: usize,
    seed: u64,
) -> Vec<SVector<f64, D>> {
    let mut rng = rng(seed);
    (0..n).map(|_| model.sample(&mut rng)).collect()
}

/// Largest `|a − b| / max(1, |b|)` over two matrices' entries.
fn rel_diff<const R: usize, const S: usize>(a: &SMatrix<f64, R, S>, b: &SMatrix<f64, R, S>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs() / y.abs().max(1.0))
        .fold(0.0, f64::max)
}

/// For each of `truth`'s means, the index of the nearest of `fitted`'s
/// (asserting that this is a permutation).
fn matching<const D: usize, const K: usize>(
    truth: &[SVector<f64, D>; K],
    fitted: &[SVector<f64, D>; K],
) -> [usize; K] {
    let m = truth.map(|t| {
        (0..K)
            .min_by(|&a, &b| (fitted[a] - t).norm().total_cmp(&(fitted[b] - t).norm()))
            .unwrap()
    });
    let mut seen = [false; K];
    for &j in &m {
        assert!(!seen[j], "two true means matched to fitted mean {j}: {m:?}");
        seen[j] = true;
    }
    m
}

// ---------------------------------------------------------------------------
// Log-density: every kind equals the full model with the same covariances.
// ---------------------------------------------------------------------------

/// Largest deviations of one kind from its full-covariance twin: plain (as
/// `|Δ| / max(1, |full|)`, responsibilities absolute) and as a fraction of
/// the derived bound.
#[derive(Default, Debug)]
struct Deviations {
    log_prob: f64,
    responsibility: f64,
    log_likelihood: f64,
    worst_of_bound: f64,
}

/// Compares `log_prob`, `responsibilities` and `log_likelihood` of the kind
/// model (`model64` rounded to `T`) with those of the `Full` model built
/// from its `covariances()`, in `T`, at `data`.
///
/// The bound. Both compute, per component, `tₖ = ln wₖ + ln-normaliser −
/// ½ Mahalanobis²` from the same (rounded) parameters, by different
/// arithmetic: a Cholesky factor and its inverse, or `1/(√2 σᵢ)`, or
/// `σ²`'s half-precision; `Σᵢ ln Lᵢᵢ` or `D ln σ`. Each of the parts — the
/// normaliser `(D/2) ln 2π + ½ ln det Σₖ`, the quadratic form `qₖ` (a sum
/// of `D` squares of scaled coordinates, the scale from a square root, a
/// division and a product), `ln wₖ` — comes out with a relative error of at
/// most `(D + 6) ε`, plus `ε` absolute per `ln σᵢ`. So the two models'
/// `tₖ` differ by at most `δₖ = 2 (D + 6) ε Sₖ`, with
/// `Sₖ = |ln wₖ| + (D/2) ln 2π + ½ |ln det Σₖ| + qₖ + D`. Through
/// log-sum-exp, to first order, `ln p` moves by `Σₖ rₖ δₖ` and `rₖ` by
/// `rₖ (δₖ + Σⱼ rⱼ δⱼ)`; log-sum-exp's own rounding (`K + 3` operations on
/// terms of size up to `|ln p| + ln K`) adds `2 (K + 3) ε (2 + |ln p|)` to
/// `ln p` and `2 (K + 3) ε` to `rₖ`. The total log-likelihood adds the
/// per-point bounds and twice the rounding of the blocked sum,
/// `(128 + N/128 + 2) ε Σᵢ |ln p(xᵢ)|`. `Sₖ`, `qₖ`, `rₖ` are evaluated in
/// `f64` on the `f64` full model. This is a worst-case bound: the measured
/// deviations (printed) are far below it.
fn compare_with_full<T: Float, C: Kind, const D: usize, const K: usize>(
    model64: &Gmm<f64, D, K, C>,
    data: &[SVector<f64, D>],
) -> Deviations {
    let eps = T::EPSILON;
    let model = cast::<T, C, D, K>(model64);
    let full = as_full(&model);
    let reference = as_full(model64);
    let components = reference.components();
    let ln_w = reference.weights().map(f64::ln);
    let half_d_ln_2pi = 0.5 * D as f64 * (2.0 * std::f64::consts::PI).ln();
    let norm: [f64; K] =
        core::array::from_fn(|k| components[k].log_density(components[k].mean()).unwrap());
    let mut dev = Deviations::default();
    let mut ll_bound = 0.0;
    let mut abs_sum = 0.0;
    let xs: Vec<SVector<T, D>> = points(data);
    for (x, x64) in xs.iter().zip(data) {
        let r = reference.responsibilities(x64).unwrap();
        let delta: [f64; K] = core::array::from_fn(|k| {
            let q = norm[k] - components[k].log_density(x64).unwrap();
            let half_ln_det = -norm[k] - half_d_ln_2pi;
            let s = ln_w[k].abs() + half_d_ln_2pi + half_ln_det.abs() + q + D as f64;
            2.0 * (D + 6) as f64 * eps * s
        });
        let mixed: f64 = (0..K).map(|k| r[k] * delta[k]).sum();
        let lse = 2.0 * (K + 3) as f64 * eps;

        let got = model.log_prob(x).unwrap().wide();
        let want = full.log_prob(x).unwrap().wide();
        let bound = mixed + lse * (2.0 + want.abs());
        let d = (got - want).abs();
        assert!(
            d <= bound,
            "{} {}: log_prob at {x64:?}: {got} vs full {want} (bound {bound:e})",
            C::NAME,
            core::any::type_name::<T>()
        );
        dev.log_prob = dev.log_prob.max(d / want.abs().max(1.0));
        dev.worst_of_bound = dev.worst_of_bound.max(d / bound);
        ll_bound += bound;
        abs_sum += want.abs();

        let got = model.responsibilities(x).unwrap();
        let want = full.responsibilities(x).unwrap();
        for k in 0..K {
            let bound = r[k] * (delta[k] + mixed) + lse;
            let d = (got[k].wide() - want[k].wide()).abs();
            assert!(
                d <= bound,
                "{} {}: responsibility {k} at {x64:?}: {:?} vs full {:?} (bound {bound:e})",
                C::NAME,
                core::any::type_name::<T>(),
                got[k],
                want[k]
            );
            dev.responsibility = dev.responsibility.max(d);
            dev.worst_of_bound = dev.worst_of_bound.max(d / bound);
        }
        assert_eq!(model.predict(x).unwrap(), full.predict(x).unwrap());
    }
    let n = data.len() as f64;
    let bound = ll_bound + 2.0 * (128.0 + n / 128.0 + 2.0) * eps * abs_sum;
    let got = model.log_likelihood(&xs).unwrap().wide();
    let want = full.log_likelihood(&xs).unwrap().wide();
    let d = (got - want).abs();
    assert!(
        d <= bound,
        "{} {}: log_likelihood {got} vs full {want} (bound {bound:e})",
        C::NAME,
        core::any::type_name::<T>()
    );
    dev.log_likelihood = d / want.abs().max(1.0);
    dev.worst_of_bound = dev.worst_of_bound.max(d / bound);
    dev
}

/// Points of `model` (400 draws) plus, per component, a point about four
/// standard deviations out in every coordinate (small responsibilities).
fn test_points<C: Kind, const D: usize, const K: usize>(
    model: &Gmm<f64, D, K, C>,
    seed: u64,
) -> Vec<SVector<f64, D>> {
    let mut rng = rng(seed);
    let mut data: Vec<_> = (0..400).map(|_| model.sample(&mut rng)).collect();
    for (mean, cov) in model.means().iter().zip(model.covariances()) {
        data.push(SVector::from_fn(|i, _| {
            let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
            mean[i] + sign * 4.0 * cov[(i, i)].sqrt()
        }));
    }
    data
}

fn density_case<C: Kind, const D: usize, const K: usize>(seed: u64) {
    // Overlapping components (means within ±2, variances about 1), so
    // responsibilities are mixed.
    let model = random_model::<C, D, K>(seed, 2.0);
    let data = test_points(&model, seed + 1);
    let d64 = compare_with_full::<f64, C, D, K>(&model, &data);
    let d32 = compare_with_full::<f32, C, D, K>(&model, &data);
    // f64: also within 1e-12 relative (responsibilities: absolute).
    assert!(
        d64.log_prob <= 1e-12 && d64.responsibility <= 1e-12 && d64.log_likelihood <= 1e-12,
        "{} D={D} K={K}: {d64:?}",
        C::NAME
    );
    println!(
        "{:>9} D={D} K={K}: kind vs full, largest |Δ|/max(1,|ref|): log_prob f64 {:.1e} f32 {:.1e}; \
         responsibilities (abs) f64 {:.1e} f32 {:.1e}; log_likelihood f64 {:.1e} f32 {:.1e}; \
         largest fraction of the derived bound f64 {:.3} f32 {:.3}",
        C::NAME,
        d64.log_prob,
        d32.log_prob,
        d64.responsibility,
        d32.responsibility,
        d64.log_likelihood,
        d32.log_likelihood,
        d64.worst_of_bound,
        d32.worst_of_bound,
    );
}

#[test]
fn every_kind_has_the_log_density_of_the_full_model_with_its_covariances() {
    density_case::<Full, 2, 3>(1);
    density_case::<Diag, 2, 3>(2);
    density_case::<Spherical, 2, 3>(3);
    density_case::<Tied, 2, 3>(4);
    density_case::<Full, 6, 4>(5);
    density_case::<Diag, 6, 4>(6);
    density_case::<Spherical, 6, 4>(7);
    density_case::<Tied, 6, 4>(8);
}

// ---------------------------------------------------------------------------
// Parameter counts and information criteria.
// ---------------------------------------------------------------------------

/// bic and aic of a kind model use `p` parameters.
fn criteria_use<C: Kind>(p: usize) {
    assert_eq!(Gmm::<f64, 5, 2, C>::PARAMETER_COUNT, p, "{}", C::NAME);
    assert_eq!(Gmm::<f32, 5, 2, C>::PARAMETER_COUNT, p, "{}", C::NAME);
    let model = random_model::<C, 5, 2>(40, 3.0);
    let data = draw(&model, 60, 41);
    let ll = model.log_likelihood(&data).unwrap();
    let n = data.len() as f64;
    let bic = model.bic(&data).unwrap();
    let aic = model.aic(&data).unwrap();
    let want_bic = -2.0 * ll + p as f64 * n.ln();
    let want_aic = -2.0 * ll + 2.0 * p as f64;
    assert!(
        (bic - want_bic).abs() <= 1e-12 * want_bic.abs(),
        "{}: bic {bic} vs {want_bic}",
        C::NAME
    );
    assert!(
        (aic - want_aic).abs() <= 1e-12 * want_aic.abs(),
        "{}: aic {aic} vs {want_aic}",
        C::NAME
    );
}

/// scikit-learn's `GaussianMixture._n_parameters` for K = 2, D = 5:
/// `K − 1 + K·D` = 11, plus the covariances' `K` (spherical), `K·D`
/// (diag), `D(D+1)/2` (tied), `K·D(D+1)/2` (full).
#[test]
fn parameter_counts_are_scikit_learns_and_bic_aic_use_them() {
    criteria_use::<Spherical>(13);
    criteria_use::<Diag>(21);
    criteria_use::<Tied>(26);
    criteria_use::<Full>(41);
    // D = 2, K = 3: 2 + 6 weights and means, then 3, 6, 3, 9.
    assert_eq!(Gmm::<f64, 2, 3, Spherical>::PARAMETER_COUNT, 11);
    assert_eq!(Gmm::<f64, 2, 3, Diag>::PARAMETER_COUNT, 14);
    assert_eq!(Gmm::<f64, 2, 3, Tied>::PARAMETER_COUNT, 11);
    assert_eq!(Gmm::<f64, 2, 3, Full>::PARAMETER_COUNT, 17);
    // One component in one dimension: every kind is one normal, 2 parameters.
    assert_eq!(Gmm::<f64, 1, 1, Spherical>::PARAMETER_COUNT, 2);
    assert_eq!(Gmm::<f64, 1, 1, Diag>::PARAMETER_COUNT, 2);
    assert_eq!(Gmm::<f64, 1, 1, Tied>::PARAMETER_COUNT, 2);
    assert_eq!(Gmm::<f64, 1, 1, Full>::PARAMETER_COUNT, 2);
}

// ---------------------------------------------------------------------------
// Sampling.
// ---------------------------------------------------------------------------

/// Standard errors allowed: a two-sided normal tail beyond 5 SE has
/// probability 5.7e-7, so the ~500 moment checks below would all pass for
/// almost any seed (about 3e-4 chance of one failing); the seeds are fixed.
const SE: f64 = 5.0;

/// Sample mean and (1/n) covariance of `xs`.
fn moments<const D: usize>(xs: &[SVector<f64, D>]) -> (SVector<f64, D>, SMatrix<f64, D, D>) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<SVector<f64, D>>() / n;
    let cov = xs
        .iter()
        .map(|x| (x - mean) * (x - mean).transpose())
        .sum::<SMatrix<f64, D, D>>()
        / n;
    (mean, cov)
}

/// Checks sample moments against `mean` and `cov`: each mean coordinate
/// within `SE·√(Σᵢᵢ/n)`, each covariance entry within `SE·seᵢⱼ`.
fn check_moments<const D: usize>(
    what: &str,
    xs: &[SVector<f64, D>],
    mean: &SVector<f64, D>,
    cov: &SMatrix<f64, D, D>,
    se_cov: &SMatrix<f64, D, D>,
) {
    let n = xs.len() as f64;
    let (m, c) = moments(xs);
    for i in 0..D {
        let se = (cov[(i, i)] / n).sqrt();
        assert!(
            (m[i] - mean[i]).abs() <= SE * se,
            "{what}: mean[{i}] {} vs {} (SE {se:e})",
            m[i],
            mean[i]
        );
        for j in 0..D {
            assert!(
                (c[(i, j)] - cov[(i, j)]).abs() <= SE * se_cov[(i, j)],
                "{what}: cov[({i}, {j})] {} vs {} (SE {:e})",
                c[(i, j)],
                cov[(i, j)],
                se_cov[(i, j)]
            );
        }
    }
}

fn sampling_case<T: Float, C: Kind, const D: usize, const K: usize>(seed: u64) {
    const N: usize = 20_000;
    let model64 = random_model::<C, D, K>(seed, 6.0);
    let model = cast::<T, C, D, K>(&model64);
    // The moments of the T model (its parameters rounded to T).
    let w = model.weights().map(T::wide);
    let means = model.means().map(|m| m.map(T::wide));
    let covs = model.covariances().map(|c| c.map(T::wide));
    let what = |s: &str| format!("{} {}: {s}", C::NAME, core::any::type_name::<T>());
    let mut rng = rng(seed + 100);

    // Each component: for normal data the sample covariance entry (i, j)
    // has variance (Σᵢᵢ Σⱼⱼ + Σᵢⱼ²)/n.
    for k in 0..K {
        let xs: Vec<SVector<f64, D>> = (0..N)
            .map(|_| model.sample_from(k, &mut rng).unwrap().map(T::wide))
            .collect();
        let c = &covs[k];
        let se = SMatrix::<f64, D, D>::from_fn(|i, j| {
            ((c[(i, i)] * c[(j, j)] + c[(i, j)] * c[(i, j)]) / N as f64).sqrt()
        });
        check_moments(&what(&format!("component {k}")), &xs, &means[k], c, &se);
    }
    assert!(model.sample_from(K, &mut rng).is_none());

    // The mixture: component frequencies (binomial SE), mean and
    // covariance Σₖ wₖ (Σₖ + μₖμₖᵀ) − μμᵀ, with the covariance's SE
    // estimated from the sample (the standard deviation of the centred
    // products over √n; the mixture is not normal).
    let mut counts = [0usize; K];
    for _ in 0..N {
        counts[model.choose_component(&mut rng)] += 1;
    }
    for k in 0..K {
        let f = counts[k] as f64 / N as f64;
        let se = (w[k] * (1.0 - w[k]) / N as f64).sqrt();
        assert!(
            (f - w[k]).abs() <= SE * se,
            "{}",
            what(&format!("frequency {k}: {f} vs {}", w[k]))
        );
    }
    let xs: Vec<SVector<f64, D>> = (0..N)
        .map(|_| model.sample(&mut rng).map(T::wide))
        .collect();
    let mean: SVector<f64, D> = (0..K).map(|k| means[k] * w[k]).sum();
    let cov: SMatrix<f64, D, D> = (0..K)
        .map(|k| (covs[k] + means[k] * means[k].transpose()) * w[k])
        .sum::<SMatrix<f64, D, D>>()
        - mean * mean.transpose();
    let (m, _) = moments(&xs);
    let se = SMatrix::<f64, D, D>::from_fn(|i, j| {
        let products: Vec<f64> = xs.iter().map(|x| (x[i] - m[i]) * (x[j] - m[j])).collect();
        let p_mean = products.iter().sum::<f64>() / N as f64;
        let var = products.iter().map(|p| (p - p_mean).powi(2)).sum::<f64>() / N as f64;
        (var / N as f64).sqrt()
    });
    check_moments(&what("mixture"), &xs, &mean, &cov, &se);
}

#[test]
fn samples_reproduce_every_kinds_means_and_covariances() {
    sampling_case::<f64, Full, 3, 3>(10);
    sampling_case::<f64, Diag, 3, 3>(11);
    sampling_case::<f64, Spherical, 3, 3>(12);
    sampling_case::<f64, Tied, 3, 3>(13);
    sampling_case::<f32, Full, 3, 3>(14);
    sampling_case::<f32, Diag, 3, 3>(15);
    sampling_case::<f32, Spherical, 3, 3>(16);
    sampling_case::<f32, Tied, 3, 3>(17);
}

// ---------------------------------------------------------------------------
// Initialisers.
// ---------------------------------------------------------------------------

/// What kind `C` keeps of `K` full estimates with `counts` points each:
/// the diagonals, their mean, or the count-weighted average.
fn as_kind<C: Kind, const D: usize, const K: usize>(
    estimates: &[SMatrix<f64, D, D>; K],
    counts: &[f64; K],
) -> [SMatrix<f64, D, D>; K] {
    match C::NAME {
        "full" => *estimates,
        "diag" => estimates.map(|c| SMatrix::from_diagonal(&c.diagonal())),
        "spherical" => estimates.map(|c| SMatrix::identity() * (c.trace() / D as f64)),
        "tied" => {
            let total: f64 = counts.iter().sum();
            let pooled = (0..K)
                .map(|k| estimates[k] * (counts[k] / total))
                .sum::<SMatrix<f64, D, D>>();
            [pooled; K]
        }
        other => panic!("unknown kind {other}"),
    }
}

/// Every initialiser for kind `C` on `data` (as `T`): valid models, the
/// means and weights of the full-covariance start from the same RNG, and
/// its covariance estimates as the kind keeps them, within
/// `tol · max(1, |entry|)`. Each start adds its own regularisation `λ` to
/// its diagonal: in `f64` 1e-12 of the data's scale (so `tol` = 1e-10), in
/// `f32` the floor `4(D + 1) ε` of the largest variance, 1.4e-6 of it for
/// `D = 2` (so `tol` = 1e-5, with the data's variances within a factor 7
/// of each other). `kmeans_plus_plus_with_buffer` gives exactly
/// `kmeans_plus_plus`'s model and rejects a buffer of the wrong length.
fn initialisers<T: Float, C: Kind, const D: usize, const K: usize>(data64: &[SVector<f64, D>]) {
    let data: Vec<SVector<T, D>> = points(data64);
    let n = data.len();
    let tol = if T::EPSILON < 1e-10 { 1e-10 } else { 1e-5 };
    let widen = |m: [SMatrix<T, D, D>; K]| m.map(|c| c.map(T::wide));
    let is_point = |mu: &SVector<T, D>| data.contains(mu);
    for seed in 0..5 {
        let what = format!("{} {} seed {seed}", C::NAME, core::any::type_name::<T>());

        let start: Gmm<T, D, K, C> = init::random_points(&data, &mut rng(seed)).unwrap();
        let full: Gmm<T, D, K, Full> = init::random_points(&data, &mut rng(seed)).unwrap();
        assert_eq!(start.means(), full.means(), "{what}: random_points means");
        assert!(start.means().iter().all(is_point), "{what}");
        assert_eq!(
            start.weights(),
            full.weights(),
            "{what}: random_points weights"
        );
        let want = as_kind::<C, D, K>(&widen(full.covariances()), &[1.0; K]);
        for (k, (got, want)) in widen(start.covariances()).iter().zip(&want).enumerate() {
            assert!(
                rel_diff(got, want) <= tol,
                "{what}: random_points cov {k}: {got} vs {want}"
            );
        }

        let start: Gmm<T, D, K, C> = init::kmeans_plus_plus(&data, &mut rng(seed)).unwrap();
        let full: Gmm<T, D, K, Full> = init::kmeans_plus_plus(&data, &mut rng(seed)).unwrap();
        assert_eq!(start.means(), full.means(), "{what}: kmeans++ means");
        assert!(start.means().iter().all(is_point), "{what}");
        assert_eq!(start.weights(), full.weights(), "{what}: kmeans++ weights");
        // Weights are (nₖ + 1)/(N + K): the counts of the tied average.
        let w = full.weights();
        let counts: [f64; K] =
            core::array::from_fn(|k| (w[k].wide() * (n + K) as f64 - 1.0).round());
        assert_eq!(counts.iter().sum::<f64>(), n as f64, "{what}: counts");
        let want = as_kind::<C, D, K>(&widen(full.covariances()), &counts);
        for (k, (got, want)) in widen(start.covariances()).iter().zip(&want).enumerate() {
            assert!(
                rel_diff(got, want) <= tol,
                "{what}: kmeans++ cov {k}: {got} vs {want}"
            );
        }

        let mut buffer = vec![T::of(-1.0); n];
        let buffered: Gmm<T, D, K, C> =
            init::kmeans_plus_plus_with_buffer(&data, &mut buffer, &mut rng(seed)).unwrap();
        assert_eq!(buffered, start, "{what}: with_buffer vs kmeans_plus_plus");

        for wrong in [n - 1, n + 1, 0] {
            let mut buffer = vec![T::of(0.0); wrong];
            assert_eq!(
                init::kmeans_plus_plus_with_buffer::<T, D, K, C, _, _>(
                    &data,
                    &mut buffer,
                    &mut rng(seed)
                ),
                Err(Error::LengthMismatch {
                    expected: n,
                    found: wrong
                }),
                "{what}"
            );
        }
    }
}

#[test]
fn every_initialiser_works_for_every_kind() {
    let data = draw(&common::three_clusters(), 300, 20);
    initialisers::<f64, Full, 2, 3>(&data);
    initialisers::<f64, Diag, 2, 3>(&data);
    initialisers::<f64, Spherical, 2, 3>(&data);
    initialisers::<f64, Tied, 2, 3>(&data);
    initialisers::<f32, Full, 2, 3>(&data);
    initialisers::<f32, Diag, 2, 3>(&data);
    initialisers::<f32, Spherical, 2, 3>(&data);
    initialisers::<f32, Tied, 2, 3>(&data);
    let model = random_model::<Full, 5, 4>(21, 8.0);
    let data = draw(&model, 300, 22);
    initialisers::<f64, Full, 5, 4>(&data);
    initialisers::<f64, Diag, 5, 4>(&data);
    initialisers::<f64, Spherical, 5, 4>(&data);
    initialisers::<f64, Tied, 5, 4>(&data);
}

// ---------------------------------------------------------------------------
// Fits.
// ---------------------------------------------------------------------------

/// Fits kind `C` to `data` from `random_points` and `kmeans_plus_plus`
/// starts of four seeds each, with `options`: every fit converges, and its
/// log-likelihood never falls by more than rounding. Returns the best fit
/// (the most likely, as scikit-learn's `n_init` picks): a single start can
/// end in a local maximum (with some seeds, k-means++ puts two means in one
/// cluster and EM keeps them there).
fn best_fit<C: Kind, const D: usize, const K: usize>(
    data: &[SVector<f64, D>],
    options: &FitOptions<f64>,
) -> gaussmix::FitReport<f64, D, K, C> {
    let mut best: Option<gaussmix::FitReport<f64, D, K, C>> = None;
    for seed in 0..4 {
        let starts: [(&str, Gmm<f64, D, K, C>); 2] = [
            (
                "random_points",
                init::random_points(data, &mut rng(seed)).unwrap(),
            ),
            (
                "kmeans_plus_plus",
                init::kmeans_plus_plus(data, &mut rng(seed)).unwrap(),
            ),
        ];
        for (name, start) in starts {
            let what = format!("{} from {name} seed {seed}", C::NAME);
            let mut trace = Vec::new();
            let report = fit(data, start, options, |it| {
                trace.push(it.log_likelihood);
                ControlFlow::Continue(())
            })
            .unwrap_or_else(|e| panic!("{what}: {e:?}"));
            // The same fit in place: the same model and summary, bit for bit.
            let mut model = start;
            let summary = fit_in_place(data, &mut model, options, |_| ControlFlow::Continue(()))
                .unwrap_or_else(|e| panic!("{what} in place: {e:?}"));
            assert_eq!(model, report.model, "{what} in place");
            assert_eq!(
                (summary.iterations, summary.termination, summary.decreases),
                (report.iterations, report.termination, report.decreases),
                "{what} in place"
            );
            assert_eq!(
                [
                    summary.log_likelihood,
                    summary.mean_log_likelihood,
                    summary.effective_reg_covar
                ]
                .map(f64::to_bits),
                [
                    report.log_likelihood,
                    report.mean_log_likelihood,
                    report.effective_reg_covar
                ]
                .map(f64::to_bits),
                "{what} in place"
            );
            assert_eq!(summary.converged(), report.converged());
            assert_eq!(
                report.termination,
                Termination::Converged,
                "{what} after {} iterations",
                report.iterations
            );
            for w in trace.windows(2) {
                assert!(w[1] >= w[0] - 1e-9 * w[0].abs(), "{what}: {trace:?}");
            }
            if best
                .as_ref()
                .is_none_or(|b| report.log_likelihood > b.log_likelihood)
            {
                best = Some(report);
            }
        }
    }
    best.unwrap()
}

/// The best fit of kind `C` to the seed's 3-cluster data finds the three
/// clusters: means within 0.3 (4 standard errors of the smallest cluster's
/// mean at N = 1500) and weights within 0.04 (3 SE) of the truth.
fn fit_three_clusters<C: Kind>(data: &[SVector<f64, 2>]) -> gaussmix::FitReport<f64, 2, 3, C> {
    let truth = common::three_clusters();
    let report = best_fit::<C, 2, 3>(data, &FitOptions::default());
    let fitted = report.model.means();
    let m = matching(&truth.means(), &fitted);
    for k in 0..3 {
        assert!(
            (fitted[m[k]] - truth.means()[k]).amax() < 0.3,
            "{}: mean {k} {} vs {}",
            C::NAME,
            fitted[m[k]],
            truth.means()[k]
        );
        assert!(
            (report.model.weights()[m[k]] - truth.weights()[k]).abs() < 0.04,
            "{}: weight {k}",
            C::NAME
        );
    }
    report
}

#[test]
fn every_kind_fits_the_three_cluster_data() {
    let data = draw(&common::three_clusters(), 1500, 30);
    let full = fit_three_clusters::<Full>(&data);
    let diag = fit_three_clusters::<Diag>(&data);
    let spherical = fit_three_clusters::<Spherical>(&data);
    let tied = fit_three_clusters::<Tied>(&data);
    let ll = [
        full.log_likelihood,
        diag.log_likelihood,
        spherical.log_likelihood,
        tied.log_likelihood,
    ];
    let bic = [
        full.model.bic(&data).unwrap(),
        diag.model.bic(&data).unwrap(),
        spherical.model.bic(&data).unwrap(),
        tied.model.bic(&data).unwrap(),
    ];
    println!("three clusters, log-likelihood full/diag/spherical/tied: {ll:?}; bic: {bic:?}");
    // Nested models at the same clustering: full ⊃ diag ⊃ spherical and
    // full ⊃ tied. The data's clusters are correlated, so the gaps are
    // tens of units, far beyond the fits' tolerance (1e-3 per point).
    assert!(ll[0] > ll[1] && ll[1] > ll[2] && ll[0] > ll[3], "{ll:?}");
    // And the truth (full, correlated, unequal covariances) has the best BIC.
    assert!(
        bic[0] < bic[1] && bic[0] < bic[2] && bic[0] < bic[3],
        "{bic:?}"
    );
}

/// Points drawn from `truth` with their components: exactly the points of
/// `draw` (`sample` is `choose_component`, then `sample_from`).
fn labelled<C: Kind, const D: usize, const K: usize>(
    truth: &Gmm<f64, D, K, C>,
    n: usize,
    seed: u64,
) -> (Vec<SVector<f64, D>>, Vec<usize>) {
    let mut rng = rng(seed);
    (0..n)
        .map(|_| {
            let k = truth.choose_component(&mut rng);
            (truth.sample_from(k, &mut rng).unwrap(), k)
        })
        .unzip()
}

/// `Σₖ Σᵢ wᵢₖ (xᵢ − mₖ)(xᵢ − mₖ)ᵀ / N` with `mₖ` the `wᵢₖ`-weighted means:
/// the pooled within-cluster scatter for weights `w` (responsibilities or
/// 0/1 labels). Two passes in `f64`.
fn pooled_scatter<const D: usize, const K: usize>(
    data: &[SVector<f64, D>],
    weight: impl Fn(usize) -> SVector<f64, K>,
) -> SMatrix<f64, D, D> {
    let w: Vec<SVector<f64, K>> = (0..data.len()).map(weight).collect();
    let means: [SVector<f64, D>; K] = core::array::from_fn(|k| {
        let nk: f64 = w.iter().map(|w| w[k]).sum();
        data.iter()
            .zip(&w)
            .map(|(x, w)| x * w[k])
            .sum::<SVector<f64, D>>()
            / nk
    });
    let mut s = SMatrix::<f64, D, D>::zeros();
    for (x, w) in data.iter().zip(&w) {
        for k in 0..K {
            s += (x - means[k]) * (x - means[k]).transpose() * w[k];
        }
    }
    s / data.len() as f64
}

/// The tied fit's shared covariance is the pooled within-cluster scatter:
/// exactly (the M-step) under its own responsibilities, at the fixed point
/// the fit converged to, and close to that of the true clusters.
#[test]
fn tied_fit_shares_the_pooled_within_cluster_scatter() {
    let truth = common::three_clusters();
    let (data, labels) = labelled(&truth, 1500, 30);
    assert_eq!(data, draw(&truth, 1500, 30));
    let options = FitOptions::default().with_tol(1e-12).with_max_iter(500);
    let model = best_fit::<Tied, 2, 3>(&data, &options).model;
    let shared = model.covariance();
    assert!(model.covariances().iter().all(|c| *c == shared));

    // The M-step: the next model's covariance is the pooled scatter under
    // this model's responsibilities about the new means.
    let soft = pooled_scatter(&data, |i| model.responsibilities(&data[i]).unwrap());
    let next = em_step(&data, &model, 0.0).unwrap().model;
    let step = rel_diff(&next.covariance(), &soft);
    // At the fixed point the fit's own covariance is that too, to the
    // fit's convergence: a change below tol = 1e-12 in the mean
    // log-likelihood, which is quadratic in the parameters near its
    // maximum, leaves them within about √1e-12 = 1e-6.
    let fixed = rel_diff(&shared, &soft);
    // The true clusters (0/1 labels) overlap only in the tails (5 to 6
    // standard deviations apart), so their pooled scatter differs from the
    // soft one only by the few points between clusters: measured 1e-3.
    let hard = pooled_scatter(&data, |i| {
        SVector::<f64, 3>::from_fn(|k, _| f64::from(u8::from(labels[i] == k)))
    });
    let labels_dev = rel_diff(&shared, &hard);
    println!(
        "tied: |em_step cov − pooled soft scatter| {step:.1e}, |fit cov − it| {fixed:.1e}, \
         |fit cov − true clusters' pooled scatter| {labels_dev:.1e}"
    );
    assert!(step <= 1e-12, "{} vs {soft}", next.covariance());
    assert!(fixed <= 1e-6, "{shared} vs {soft}");
    assert!(labels_dev <= 1e-2, "{shared} vs {hard}");
}

/// A diag fit of axis-aligned clusters recovers their variances: to the
/// per-cluster maximum-likelihood estimates of the true clusters (the
/// clusters are 7 standard deviations apart or more, so responsibilities
/// are 0 or 1 to 1e-10) and to the true variances within 5 SE
/// (`v √(2/nₖ)`).
#[test]
fn diag_fit_recovers_axis_aligned_variances() {
    let variances = [
        vector![0.5, 2.0, 1.0],
        vector![1.5, 0.3, 0.8],
        vector![1.0, 1.0, 3.0],
    ];
    let truth = Gmm::<f64, 3, 3, Diag>::new(
        [0.3, 0.3, 0.4],
        [
            vector![0.0, 0.0, 0.0],
            vector![12.0, 0.0, 0.0],
            vector![0.0, 12.0, 12.0],
        ],
        variances,
    )
    .unwrap();
    let (data, labels) = labelled(&truth, 3000, 50);
    let start: Gmm<f64, 3, 3, Diag> = init::kmeans_plus_plus(&data, &mut rng(51)).unwrap();
    let report = start
        .fit(
            &data,
            &FitOptions::default().with_tol(1e-10).with_reg_covar(0.0),
        )
        .unwrap();
    assert!(report.converged());
    let fitted = report.model;
    let m = matching(&truth.means(), &fitted.means());
    let mut worst_ml: f64 = 0.0;
    for k in 0..3 {
        let members: Vec<SVector<f64, 3>> = data
            .iter()
            .zip(&labels)
            .filter(|&(_, &l)| l == k)
            .map(|(x, _)| *x)
            .collect();
        let nk = members.len() as f64;
        let (mean, cov) = moments(&members);
        let got = fitted.variances()[m[k]];
        worst_ml = worst_ml.max(rel_diff(&got, &cov.diagonal()));
        worst_ml = worst_ml.max(rel_diff(&fitted.means()[m[k]], &mean));
        for i in 0..3 {
            let v = variances[k][i];
            assert!(
                (got[i] - v).abs() <= 5.0 * v * (2.0 / nk).sqrt(),
                "component {k} variance {i}: {} vs {v}",
                got[i]
            );
        }
        assert!((fitted.weights()[m[k]] - nk / 3000.0).abs() <= 1e-9);
    }
    println!("diag fit vs the true clusters' ML estimates: {worst_ml:.1e} relative");
    assert!(worst_ml <= 1e-8);
}

// ---------------------------------------------------------------------------
// Sufficient statistics.
// ---------------------------------------------------------------------------

/// The statistics of the four kinds differ only in their second moments,
/// `C::Second`: `K` D×D matrices (full), `K` diagonals (diag), `K` scalars
/// (spherical), one D×D matrix (tied). For `f32`, `D = K = 8` these are
/// 2048, 256, 32 and 256 bytes, all multiples of the struct's alignment
/// (8, from its `u64` and `usize` fields), so rustc's layout pads every
/// kind alike and the sizes differ by exactly the arrays' difference. The
/// rest is `O(K·D)` (means, shifts, first moments: `3·K·D` floats, plus
/// `K` counts and a few scalars), so the diag and spherical statistics stay
/// below `5·K·D` floats while the full ones hold over `K·D²`.
#[test]
fn diag_and_spherical_statistics_are_o_k_d() {
    const D: usize = 8;
    const K: usize = 8;
    const F: usize = size_of::<f32>();
    let full = size_of::<SufficientStats<f32, D, K, Full>>();
    let diag = size_of::<SufficientStats<f32, D, K, Diag>>();
    let spherical = size_of::<SufficientStats<f32, D, K, Spherical>>();
    let tied = size_of::<SufficientStats<f32, D, K, Tied>>();
    println!("SufficientStats<f32, 8, 8, _> bytes: full {full}, diag {diag}, spherical {spherical}, tied {tied}");
    assert_eq!(full - diag, F * K * (D * D - D));
    assert_eq!(diag - spherical, F * K * (D - 1));
    assert_eq!(full - tied, F * (K - 1) * D * D);
    assert!(diag < 5 * F * K * D && spherical < diag);
    assert!(full > F * K * D * D && 2 * diag < full);
}

/// For kind `C`: statistics of a data set merged from shards equal one
/// pass; and statistics refuse a model with the same means (and weights)
/// but other covariances.
fn statistics_case<C: Kind>(data: &[SVector<f64, 2>]) {
    let what = C::NAME;
    let model: Gmm<f64, 2, 3, C> = init::kmeans_plus_plus(data, &mut rng(61)).unwrap();
    let mut whole = SufficientStats::new(&model);
    let ll = whole.accumulate_slice(&model, data).unwrap();
    assert_eq!(whole.points(), data.len());
    assert!(!whole.needs_recentring(), "{what}");

    // Shards at multiples of 128 accumulated into one value: bit-identical.
    let mut one = SufficientStats::new(&model);
    for shard in data.chunks(256) {
        one.accumulate_slice(&model, shard).unwrap();
    }
    assert_eq!(one, whole, "{what}: 256-point shards into one value");

    // Shards accumulated apart (a slice, point by point, a slice), merged:
    // the same sums in another order.
    let cuts = [0, 137, 600, data.len()];
    let mut shards: Vec<SufficientStats<f64, 2, 3, C>> = Vec::new();
    for (i, w) in cuts.windows(2).enumerate() {
        let mut s = SufficientStats::new(&model);
        if i == 1 {
            for x in &data[w[0]..w[1]] {
                s.accumulate(&model, x).unwrap();
            }
        } else {
            s.accumulate_slice(&model, &data[w[0]..w[1]]).unwrap();
        }
        shards.push(s);
    }
    let mut merged = shards[0];
    for s in &shards[1..] {
        merged.merge(s).unwrap();
    }
    assert_eq!(merged.points(), whole.points());
    assert!(
        (merged.log_likelihood() - ll).abs() <= 1e-12 * ll.abs(),
        "{what}"
    );
    assert!(rel_diff(merged.counts(), whole.counts()) <= 1e-12, "{what}");
    let a = merged.m_step(&model, 0.0).unwrap();
    let b = whole.m_step(&model, 0.0).unwrap();
    assert!(rel_diff(&a.weights(), &b.weights()) <= 1e-12, "{what}");
    for k in 0..3 {
        assert!(rel_diff(&a.means()[k], &b.means()[k]) <= 1e-12, "{what}");
        assert!(
            rel_diff(&a.covariances()[k], &b.covariances()[k]) <= 1e-12,
            "{what}"
        );
    }
    // One pass is em_step's pass: the same M-step, bit for bit.
    assert_eq!(
        em_step(data, &model, 0.0).unwrap().model,
        b,
        "{what}: em_step"
    );

    // Same weights and means; covariances off by one ulp in one entry
    // (every kind stores [0][0] of component 0's matrix), or scaled.
    let w: [f64; 3] = model.weights().into();
    let mut covs = model.covariances();
    covs[0][(0, 0)] = covs[0][(0, 0)].next_up();
    let ulp = C::from_full(w, model.means(), &covs).unwrap();
    let scaled = C::from_full(w, model.means(), &model.covariances().map(|c| c * 1.5)).unwrap();
    for other in [ulp, scaled] {
        assert_ne!(other, model);
        assert_eq!(other.means(), model.means());
        let mut s = SufficientStats::new(&model);
        s.accumulate(&model, &data[0]).unwrap();
        let before = s;
        assert_eq!(
            s.accumulate(&other, &data[1]),
            Err(Error::MismatchedStatistics),
            "{what}"
        );
        assert_eq!(
            s.accumulate_slice(&other, data),
            Err(Error::MismatchedStatistics),
            "{what}"
        );
        assert_eq!(
            s.m_step(&other, 0.0),
            Err(Error::MismatchedStatistics),
            "{what}"
        );
        assert_eq!(
            s.merge(&SufficientStats::new(&other)),
            Err(Error::MismatchedStatistics),
            "{what}"
        );
        assert_eq!(s, before, "{what}: statistics changed by a refused call");
        let mut theirs = SufficientStats::new(&other);
        theirs.accumulate(&other, &data[1]).unwrap();
        assert_eq!(
            theirs.merge(&before),
            Err(Error::MismatchedStatistics),
            "{what}"
        );
    }
}

#[test]
fn statistics_merge_and_refuse_other_models_for_every_kind() {
    let data = draw(&common::three_clusters(), 1000, 60);
    statistics_case::<Full>(&data);
    statistics_case::<Diag>(&data);
    statistics_case::<Spherical>(&data);
    statistics_case::<Tied>(&data);
}

/// Tied covariance with a component so far from the data that its soft
/// count is below `ε N` (starved: not live, its mean kept): its share is
/// left out of the pool, also when its scatter about its own, far shift is
/// large. One `em_step` (no regularisation) against the pooled covariance
/// computed directly from the responsibilities, and the statistics' scale
/// against the data's variance. Before, that scatter stayed in the pooled
/// sum: at `s = 1e7` the step's covariance was 63 % too large, and the
/// scale as well.
#[test]
fn a_starved_tied_component_stays_out_of_the_pool() {
    let mut rng = common::rng(5);
    let data: Vec<SVector<f64, 2>> = (0..1000)
        .map(|_| {
            let (a, _) = standard_normal_pair::<f64, _>(&mut rng);
            let (b, _) = standard_normal_pair::<f64, _>(&mut rng);
            vector![a, b]
        })
        .collect();
    let n = data.len() as f64;
    let mean = data.iter().sum::<SVector<f64, 2>>() / n;
    let variance = data.iter().map(|x| (x - mean).norm_squared()).sum::<f64>() / n / 2.0;
    for s in [1e3, 1e5, 1e7, 1e9] {
        let start = Gmm::<f64, 2, 2, Tied>::new(
            [0.5, 0.5],
            [vector![0.0, 0.0], vector![8.6 * s, 0.0]],
            SMatrix::identity() * (s * s),
        )
        .unwrap();
        // The premise: the far component is starved, yet has a share.
        let r: Vec<SVector<f64, 2>> = data
            .iter()
            .map(|x| start.responsibilities(x).unwrap())
            .collect();
        let far: f64 = r.iter().map(|r| r[1]).sum();
        assert!(far > 0.0 && far <= f64::EPSILON * n, "s = {s:e}: {far:e}");
        // The live component's scatter about its new mean, over all N.
        let count: f64 = r.iter().map(|r| r[0]).sum();
        let centre = data
            .iter()
            .zip(&r)
            .map(|(x, r)| x * r[0])
            .sum::<SVector<f64, 2>>()
            / count;
        let pooled = data
            .iter()
            .zip(&r)
            .map(|(x, r)| (x - centre) * (x - centre).transpose() * r[0])
            .sum::<SMatrix<f64, 2, 2>>()
            / n;
        let step = em_step(&data, &start, 0.0).unwrap();
        let cov = step.model.covariances()[0];
        let error = (cov - pooled).abs().max() / pooled.abs().max();
        assert!(error < 1e-12, "s = {s:e}: {cov} against {pooled}");
        // The scale from statistics ready for the M-step, as a fit takes
        // it (at s = 1e9 the first pass needs recentring).
        let mut stats = SufficientStats::new(&start);
        stats.accumulate_slice(&start, &data).unwrap();
        if stats.needs_recentring() {
            let mut again = stats.recentred();
            again.accumulate_slice(&start, &data).unwrap();
            assert!(!again.needs_recentring(), "s = {s:e}");
            stats = again;
        }
        let scale = stats.scale().unwrap();
        assert!(
            (scale / variance - 1.0).abs() < 1e-12,
            "s = {s:e}: scale {scale:e} against {variance:e}"
        );
    }
}

/// A starved tied component whose soft count is subnormal (below `1/MAX`,
/// where the reciprocal the M-step multiplies by overflows): its share,
/// far too small to matter, is left out, and the fit succeeds. Taken about
/// its own mean like a larger starved share, its offset was `∞ · 0` and
/// the pooled covariance NaN (`NotPositiveDefinite`). A valid sample weight
/// of 1e-305 on one point puts that component's count at about 4e-316.
#[test]
fn a_starved_tied_component_with_a_subnormal_count_is_left_out() {
    let mut rng = common::rng(11);
    let mut data: Vec<SVector<f64, 1>> = (0..100)
        .map(|_| vector![standard_normal_pair::<f64, _>(&mut rng).0])
        .collect();
    data.push(vector![14.2]);
    let mut weights = vec![1.0; 100];
    weights.push(1e-305);
    let start = Gmm::<f64, 1, 2, Tied>::new(
        [0.5, 0.5],
        [vector![0.0], vector![30.0]],
        SMatrix::identity(),
    )
    .unwrap();
    let options = FitOptions::default().with_max_iter(5);
    let report = gaussmix::fit_weighted(&data, &weights, start, &options, |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    let variance = report.model.covariances()[0][(0, 0)];
    assert!(
        variance.is_finite() && variance > 0.5 && variance < 2.0,
        "{variance}"
    );
}
