//! Properties of the E-step and of EM that must hold for arbitrary data and
//! arbitrary starting models, for every covariance kind, at several
//! `(D, K)`, in `f32` and `f64`. Data and starts come from
//! [`strategies::case`]: scales from 1e-6 to 1e6 (`f64`) or 1e-3 to 1e3
//! (`f32`), round, elongated and thin clusters, overlapping clusters, thin
//! and nearly collinear starting components, far starts, and up to 260
//! points, more than two summation blocks of 128.
//!
//! * Responsibilities lie in `[0, 1]`, sum to 1, and `predict` is their
//!   argmax.
//! * Plain EM (`reg_covar = 0`) never lowers the log-likelihood, up to a
//!   tolerance derived below; a `NotPositiveDefinite` ends a run only where
//!   the maximum-likelihood covariance really is singular at `T`'s
//!   resolution (fewer than `D + 1` points of weight, or a condition number
//!   beyond what `T` resolves); every step leaves valid parameters.
//! * A regularised fit (`reg_covar > 0`) keeps the promises of its docs:
//!   it never fails with `NotPositiveDefinite`; it reports `Converged` only
//!   after a change in `(−√ε (|ℓ̄| + 1), tol)`; it counts every larger fall
//!   in `decreases`; the lift it reports is at least the request and at most
//!   10³ times the larger of the request and the resolution floor.
//!
//! Case counts are small so CI stays fast; `PROPTEST_CASES=1000 cargo test
//! --release --test properties` runs a long sweep.

// The crate's math rule (clippy.toml) binds the library, not its tests.
#![allow(clippy::disallowed_methods)]

mod common;

use core::ops::ControlFlow;

use common::strategies::{self, Case};
use common::Kind;
use gaussmix::nalgebra::{Cholesky, SMatrix, SVector};
use gaussmix::{
    em_step, fit, Diag, Error, FitOptions, Full, Gmm, Real, Spherical, Termination, Tied,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// Points summed apart before they reach the totals (`estep::BLOCK`).
const BLOCK: f64 = 128.0;

fn eps<T: Real>() -> f64 {
    f64_of(T::default_epsilon())
}

fn f64_of<T: Real>(x: T) -> f64 {
    gaussmix::nalgebra::try_convert::<T, f64>(x).expect("f32 and f64 convert to f64")
}

fn of<T: Real>(x: f64) -> T {
    gaussmix::nalgebra::convert::<f64, T>(x)
}

fn fail(what: impl core::fmt::Display) -> TestCaseError {
    TestCaseError::fail(what.to_string())
}

/// The case's start in `T`, as kind `C` stores it; `None` if rounding to
/// `T` made it invalid (a thin `f32` covariance), which the case skips.
fn start<T: Real, C: Kind, const D: usize, const K: usize>(
    case: &Case<D, K>,
) -> Option<Gmm<T, D, K, C>> {
    let p = &case.params;
    C::from_full(
        p.weights.map(of::<T>),
        p.means.map(|m| SVector::from(m.map(of::<T>))),
        &p.covariances.map(|c| c.map(of::<T>)),
    )
    .ok()
}

/// A model's parameters widened exactly to `f64`, the weights divided by
/// their sum (which differs from 1 by the `T` rounding of the M-step's
/// `Nₖ/N`: moving constrained-optimal weights onto the constraint costs
/// only second order).
fn widen<T: Real, C: Kind, const D: usize, const K: usize>(
    m: &Gmm<T, D, K, C>,
) -> Result<Gmm<f64, D, K, C>, TestCaseError> {
    let w = m.weights().map(f64_of);
    C::from_full(
        (w / w.sum()).into(),
        m.means().map(|v| v.map(f64_of)),
        &m.covariances().map(|c| c.map(f64_of)),
    )
    .map_err(|e| fail(format!("widened model invalid: {e}")))
}

fn responsibilities_are_a_distribution<T: Real, C: Kind, const D: usize, const K: usize>(
    case: &Case<D, K>,
) -> Result<(), TestCaseError> {
    let Some(model) = start::<T, C, D, K>(case) else {
        return Ok(());
    };
    // Each rₖ = eₖ · (1/s) carries at most two roundings; their sum, K more.
    let tol = 4.0 * (K as f64 + 1.0) * eps::<T>();
    for x in strategies::convert::<T, D>(&case.data) {
        let r = match model.responsibilities(&x) {
            Ok(r) => r,
            // Only a point astronomically far from every component.
            Err(Error::ZeroDensity { .. }) => continue,
            Err(e) => return Err(fail(e)),
        };
        let mut sum = 0.0;
        let mut best = 0;
        for k in 0..K {
            let v = f64_of(r[k]);
            prop_assert!((0.0..=1.0).contains(&v), "r[{k}] = {v}");
            sum += v;
            if r[k] > r[best] {
                best = k;
            }
        }
        prop_assert!((sum - 1.0).abs() <= tol, "sum of responsibilities {sum}");
        prop_assert_eq!(model.predict(&x).unwrap(), best);
    }
    Ok(())
}

/// What the log-likelihood of a model is, evaluated in `f64` from its
/// exactly widened parameters, and the size of its terms.
struct Scored {
    ll: f64,
    magnitude: f64,
    largest: f64,
    kappa: f64,
}

fn score<C: Kind, const D: usize, const K: usize>(
    m: &Gmm<f64, D, K, C>,
    data: &[[f64; D]],
) -> Result<Scored, TestCaseError> {
    let ll = m.log_likelihood(data).map_err(fail)?;
    let (mut magnitude, mut largest) = (0.0, 0.0f64);
    for x in data {
        let l = m.log_prob(x).map_err(fail)?.abs() + 1.0;
        magnitude += l;
        largest = largest.max(l);
    }
    // ‖Σ‖_F ‖Σ⁻¹‖_F ≥ the 2-norm condition number; finite for any valid model.
    let kappa = m
        .covariances()
        .iter()
        .map(|c| c.norm() * Cholesky::new(*c).map_or(f64::MAX, |ch| ch.inverse().norm()))
        .fold(1.0, f64::max);
    Ok(Scored {
        ll,
        magnitude,
        largest,
        kappa,
    })
}

/// The allowed fall of the `f64` log-likelihood from `a` (before an EM
/// step in `T`) to `b` (after it).
///
/// * Evaluating each side in `f64`: each point's term carries
///   `(D² + K) ε₆₄ (|ℓᵢ| + 1)`, the blocked sum `(B + N/B) ε₆₄ Σᵢ |ℓᵢ|`.
/// * The step itself: EM's new parameters maximise `Q(· | θ)`, so a
///   perturbation `δ` of them (relative, in units of the thinnest
///   direction) lowers `Q`, hence the likelihood, only at second order:
///   about `N D δ²`. The `T` arithmetic perturbs them by
///   `δ ≤ ε_T ((64 + B + N/B + D² + K) κ + 4 max |ℓᵢ|)`: rounding of the
///   sums (blocked), of the one-pass covariance (at most 4 bits lost, then
///   amplified by the condition number `κ`), and of responsibilities whose
///   log terms are as large as `|ℓᵢ|` (far starts).
///
/// A wrong M-step costs first order: far more.
fn tolerance<T: Real, const D: usize, const K: usize>(n: f64, a: &Scored, b: &Scored) -> f64 {
    let d = D as f64;
    let evaluation = 2.0
        * (BLOCK + n / BLOCK + d * d + K as f64)
        * f64::EPSILON
        * (a.magnitude.max(b.magnitude));
    let delta = eps::<T>()
        * ((64.0 + BLOCK + n / BLOCK + d * d + K as f64) * a.kappa.max(b.kappa)
            + 4.0 * a.largest.max(b.largest));
    evaluation + n * d * delta * delta
}

/// A `NotPositiveDefinite` from the plain M-step under `model` is honest if
/// the component's maximum-likelihood covariance (the pool, for tied) is
/// singular at `T`'s resolution: fewer than `D + 1` points carry a
/// responsibility above 10⁻³, or its condition number exceeds
/// `1/(64 (D+1) ε_T)` (where the pivot test of the Cholesky factorisation,
/// `(D+1) ε` relative, can meet rounding noise).
fn singular_at_resolution<T: Real, C: Kind, const D: usize, const K: usize>(
    model: &Gmm<f64, D, K, C>,
    data: &[[f64; D]],
    component: usize,
) -> bool {
    let pooled = C::NAME == "tied";
    let r: Vec<SVector<f64, K>> = data
        .iter()
        .map(|x| model.responsibilities(x).unwrap_or(SVector::zeros()))
        .collect();
    let ks: Vec<usize> = if pooled {
        (0..K).collect()
    } else {
        vec![component]
    };
    let mut scatter = SMatrix::<f64, D, D>::zeros();
    let mut weight = 0.0;
    for &k in &ks {
        let supported = r.iter().filter(|r| r[k] > 1e-3).count();
        if supported < D + 1 {
            return true;
        }
        let nk: f64 = r.iter().map(|r| r[k]).sum();
        let mean = data
            .iter()
            .zip(&r)
            .map(|(x, r)| SVector::from(*x) * r[k])
            .sum::<SVector<f64, D>>()
            / nk;
        for (x, r) in data.iter().zip(&r) {
            let d = SVector::from(*x) - mean;
            scatter += d * d.transpose() * r[k];
        }
        weight += nk;
    }
    ill_conditioned::<T, D>(&(scatter / weight))
}

/// `true` if `s` is not positive definite in `f64` or its condition number
/// exceeds `1/(64 (D+1) ε_T)`. (`‖S‖_F ‖S⁻¹‖_F` bounds the condition number
/// from above, by at most a factor `D`, which only makes this more lenient.)
fn ill_conditioned<T: Real, const D: usize>(s: &SMatrix<f64, D, D>) -> bool {
    let kappa = Cholesky::new(*s).map_or(f64::INFINITY, |ch| s.norm() * ch.inverse().norm());
    kappa >= 1.0 / (64.0 * (D as f64 + 1.0) * eps::<T>())
}

/// Valid parameters: weights non-negative summing to 1, covariances
/// symmetric positive definite, everything finite.
fn valid<T: Real, C: Kind, const D: usize, const K: usize>(
    m: &Gmm<T, D, K, C>,
) -> Result<(), TestCaseError> {
    let w_sum: f64 = m.weights().iter().map(|&w| f64_of(w)).sum();
    prop_assert!(
        (w_sum - 1.0).abs() <= 4.0 * K as f64 * eps::<T>(),
        "weights sum to {w_sum}"
    );
    prop_assert!(m.weights().iter().all(|&w| w >= T::zero()));
    for (k, c) in m.covariances().iter().enumerate() {
        prop_assert_eq!(*c, c.transpose(), "covariance {} not symmetric", k);
        prop_assert!(
            Cholesky::new(*c).is_some(),
            "covariance {} not positive definite",
            k
        );
    }
    Ok(())
}

/// Up to 12 plain EM steps (`reg_covar = 0`), each checked.
fn em_is_monotone<T: Real, C: Kind, const D: usize, const K: usize>(
    case: &Case<D, K>,
) -> Result<(), TestCaseError> {
    let Some(mut model) = start::<T, C, D, K>(case) else {
        return Ok(());
    };
    let data = strategies::convert::<T, D>(&case.data);
    let data64: Vec<[f64; D]> = data.iter().map(|x| x.map(f64_of)).collect();
    let n = data.len() as f64;
    let mut before = score(&widen(&model)?, &data64)?;
    for iteration in 0..12 {
        let step = match em_step(&data, &model, T::zero()) {
            Ok(step) => step,
            Err(Error::NotPositiveDefinite { component }) => {
                prop_assert!(
                    singular_at_resolution::<T, C, D, K>(&widen(&model)?, &data64, component),
                    "iteration {}: component {} not positive definite, though its points span {} dimensions",
                    iteration,
                    component,
                    D
                );
                break;
            }
            Err(e) => return Err(fail(format!("iteration {iteration}: {e}"))),
        };
        valid(&step.model)?;
        // Positive definite to `T`'s working precision need not be so in
        // exact arithmetic when a component is singular at that precision;
        // its likelihood is then undefined, and the run ends.
        let Ok(wide) = widen(&step.model) else {
            prop_assert!(
                step.model
                    .covariances()
                    .iter()
                    .any(|c| ill_conditioned::<T, D>(&c.map(f64_of))),
                "iteration {}: a well-conditioned covariance is not positive definite in f64",
                iteration
            );
            break;
        };
        let after = score(&wide, &data64)?;
        let tol = tolerance::<T, D, K>(n, &before, &after);
        prop_assert!(tol.is_finite());
        prop_assert!(
            after.ll >= before.ll - tol,
            "iteration {}: log-likelihood fell from {} to {} (tolerance {})",
            iteration,
            before.ll,
            after.ll,
            tol
        );
        model = step.model;
        before = after;
    }
    Ok(())
}

/// A regularised fit keeps the promises of its docs.
fn regularised_fit_keeps_its_promises<T: Real, C: Kind, const D: usize, const K: usize>(
    case: &Case<D, K>,
    reg_exponent: f64,
) -> Result<(), TestCaseError> {
    let Some(model) = start::<T, C, D, K>(case) else {
        return Ok(());
    };
    let data = strategies::convert::<T, D>(&case.data);
    let reg = 10f64.powf(reg_exponent);
    let options = FitOptions::default()
        .with_reg_covar(of::<T>(reg))
        .with_max_iter(30);
    let mut trace: Vec<T> = Vec::new();
    let report = fit(&data, model, &options, |it| {
        trace.push(it.mean_log_likelihood);
        ControlFlow::Continue(())
    })
    .map_err(fail)?;
    valid(&report.model)?;
    prop_assert_eq!(report.mean_log_likelihood, *trace.last().unwrap());
    // The fit's own rounding threshold, recomputed in T.
    let root_eps = T::default_epsilon().sqrt();
    let mut falls = 0;
    for w in trace.windows(2) {
        if w[1] - w[0] <= -(root_eps * (w[0].abs() + T::one())) {
            falls += 1;
        }
    }
    prop_assert_eq!(report.decreases, falls);
    if report.termination == Termination::Converged {
        let (a, b) = (trace[trace.len() - 2], trace[trace.len() - 1]);
        prop_assert!(b - a > -(root_eps * (a.abs() + T::one())) && b - a < options.tol);
    }
    if report.iterations > 0 {
        let n = data.len() as f64;
        let x: Vec<SVector<f64, D>> = data.iter().map(|p| SVector::from(p.map(f64_of))).collect();
        let centre = x.iter().sum::<SVector<f64, D>>() / n;
        let scale = x.iter().map(|p| (p - centre).norm_squared()).sum::<f64>() / n / D as f64;
        let lambda = f64_of(report.effective_reg_covar);
        let largest = report
            .model
            .covariances()
            .iter()
            .map(|c| (0..D).map(|i| f64_of(c[(i, i)])).fold(0.0, f64::max))
            .fold(0.0, f64::max);
        let floor = 4.0 * (D as f64 + 1.0) * eps::<T>() * largest;
        let request = (reg * scale).max(f64::from(f32::MIN_POSITIVE).min(reg * scale));
        prop_assert!(lambda >= request * (1.0 - 1e-3), "λ {lambda} < {request}");
        prop_assert!(
            lambda <= 1e3 * request.max(floor) * (1.0 + 1e-3),
            "λ {lambda} above 10³ · max({request}, {floor})"
        );
    }
    Ok(())
}

macro_rules! properties {
    ($name:ident, $d:literal, $k:literal, $n:expr) => {
        mod $name {
            use super::*;

            macro_rules! each_kind {
                ($kind:ident, $c:ty) => {
                    mod $kind {
                        use super::*;
                        proptest! {
                            #![proptest_config(strategies::config())]

                            #[test]
                            fn responsibilities_f64(case in strategies::case::<$d, $k>(1..=40, -6.0..6.0)) {
                                responsibilities_are_a_distribution::<f64, $c, $d, $k>(&case)?;
                            }

                            #[test]
                            fn responsibilities_f32(case in strategies::case::<$d, $k>(1..=40, -3.0..3.0)) {
                                responsibilities_are_a_distribution::<f32, $c, $d, $k>(&case)?;
                            }

                            #[test]
                            fn monotone_f64(case in strategies::case::<$d, $k>($n, -6.0..6.0)) {
                                em_is_monotone::<f64, $c, $d, $k>(&case)?;
                            }

                            #[test]
                            fn monotone_f32(case in strategies::case::<$d, $k>($n, -3.0..3.0)) {
                                em_is_monotone::<f32, $c, $d, $k>(&case)?;
                            }

                            #[test]
                            fn regularised_f64(case in strategies::case::<$d, $k>($n, -6.0..6.0), reg in -8.0..-2.0f64) {
                                regularised_fit_keeps_its_promises::<f64, $c, $d, $k>(&case, reg)?;
                            }

                            #[test]
                            fn regularised_f32(case in strategies::case::<$d, $k>($n, -3.0..3.0), reg in -6.0..-2.0f64) {
                                regularised_fit_keeps_its_promises::<f32, $c, $d, $k>(&case, reg)?;
                            }
                        }
                    }
                };
            }

            each_kind!(full, Full);
            each_kind!(diag, Diag);
            each_kind!(spherical, Spherical);
            each_kind!(tied, Tied);
        }
    };
}

properties!(d1_k1, 1, 1, 5..=60);
properties!(d1_k3, 1, 3, 10..=260);
properties!(d2_k2, 2, 2, 12..=140);
properties!(d2_k3, 2, 3, 20..=260);
properties!(d3_k4, 3, 4, 30..=140);
properties!(d5_k2, 5, 2, 30..=260);
