//! Properties of the E-step and of EM that must hold for arbitrary data and
//! arbitrary starting models, at several `(D, K)`, in `f32` and `f64`:
//!
//! * responsibilities lie in `[0, 1]` and sum to 1, and `predict` is their
//!   argmax;
//! * the log-likelihood never decreases from one EM iteration to the next
//!   (with `reg_covar = 0`, so the objective EM maximises is exactly the
//!   log-likelihood), up to a rounding tolerance derived below;
//! * after every iteration the weights sum to 1 and every covariance is
//!   symmetric positive definite.
//!
//! Case counts are small so CI stays fast; `PROPTEST_CASES=2000 cargo test
//! --release --test properties` runs a long sweep.

mod common;

use common::strategies::{self, Params};
use gaussmix::nalgebra::Cholesky;
use gaussmix::{em_step, Error, Gmm, Real};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

fn eps<T: Real>() -> f64 {
    f64_of(T::default_epsilon())
}

fn f64_of<T: Real>(x: T) -> f64 {
    gaussmix::nalgebra::try_convert::<T, f64>(x).expect("f32 and f64 convert to f64")
}

fn responsibilities_are_a_distribution<T: Real, const D: usize, const K: usize>(
    data: &[[f64; D]],
    params: &Params<D, K>,
) -> Result<(), TestCaseError> {
    let model: Gmm<T, D, K> = params.model();
    // Each rₖ = eₖ · (1/s) carries at most two roundings; their sum, K more.
    let tol = 4.0 * (K as f64 + 1.0) * eps::<T>();
    for x in strategies::convert::<T, D>(data) {
        let r = model
            .responsibilities(&x)
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
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

/// Runs up to 12 EM iterations with `reg_covar = 0` and checks each.
///
/// Tolerance for "never decreases": the total log-likelihood `Σᵢ ℓᵢ` is a
/// sum of `N` terms, each computed from `O(D²)` products and one
/// log-sum-exp over `K` terms, so each carries an error of at most about
/// `(D² + K) ε (|ℓᵢ| + 1)` and recursive summation adds at most
/// `N ε Σᵢ |ℓᵢ|`. Both sides of the comparison carry such an error:
/// `2 (N + D² + K) ε Σᵢ (|ℓᵢ| + 1)`. The model itself is the exact
/// M-step's only up to rounding; that term (below) grows with the
/// covariances' condition number and matters only for `f32` with thin,
/// elongated components. A real decrease from a wrong M-step is orders of
/// magnitude larger.
fn em_is_monotone<T: Real, const D: usize, const K: usize>(
    data: &[[f64; D]],
    params: &Params<D, K>,
) -> Result<(), TestCaseError> {
    let data = strategies::convert::<T, D>(data);
    let n = data.len() as f64;
    let mut model: Gmm<T, D, K> = params.model();
    let mut previous: Option<f64> = None;
    for iteration in 0..12 {
        let (next, ll) = match em_step(&data, &model, T::zero()) {
            Ok(step) => (step.model, step.log_likelihood),
            // A component collapsing onto fewer than D + 1 points makes its
            // maximum-likelihood covariance singular; EM legitimately ends
            // there without regularisation. Everything up to here was checked.
            Err(Error::NotPositiveDefinite { .. }) => break,
            Err(e) => return Err(TestCaseError::fail(format!("iteration {iteration}: {e}"))),
        };
        let ll = f64_of(ll);
        let magnitude: f64 = data
            .iter()
            .map(|x| f64_of(model.log_prob(x).unwrap()).abs() + 1.0)
            .sum();
        // Rounding of the previous M-step's covariances, amplified by their
        // condition number κ (a covariance stored to relative accuracy
        // `c ε` is known only to `c κ ε` in its thinnest direction; the
        // M-step keeps `c` ≤ 32, see `needs_recentring`), moves the
        // log-likelihood of N points by up to about `N D · 32 κ ε`.
        let kappa = model
            .covariances()
            .iter()
            .map(|c| {
                // ‖Σ‖_F ‖Σ⁻¹‖_F, an upper bound on the 2-norm condition number.
                let c = c.map(f64_of);
                c.norm() * Cholesky::new(c).map_or(f64::INFINITY, |ch| ch.inverse().norm())
            })
            .fold(1.0, f64::max);
        let tol = 2.0 * (n + (D * D + K) as f64) * eps::<T>() * magnitude
            + n * D as f64 * 32.0 * kappa * eps::<T>();
        if let Some(p) = previous {
            prop_assert!(
                ll >= p - tol,
                "iteration {}: log-likelihood fell from {} to {} (tolerance {})",
                iteration,
                p,
                ll,
                tol
            );
        }
        previous = Some(ll);

        let w_sum: f64 = next.weights().iter().map(|&w| f64_of(w)).sum();
        prop_assert!(
            (w_sum - 1.0).abs() <= 4.0 * K as f64 * eps::<T>(),
            "weights sum to {w_sum}"
        );
        prop_assert!(next.weights().iter().all(|&w| w >= T::zero()));
        for (k, c) in next.covariances().iter().enumerate() {
            prop_assert_eq!(*c, c.transpose(), "covariance {} not symmetric", k);
            prop_assert!(
                Cholesky::new(*c).is_some(),
                "covariance {} not positive definite",
                k
            );
        }
        model = next;
    }
    Ok(())
}

macro_rules! properties {
    ($name:ident, $d:literal, $k:literal, $n:expr) => {
        mod $name {
            use super::*;
            proptest! {
                #![proptest_config(strategies::config())]

                #[test]
                fn responsibilities_f64(data in strategies::points::<$d>(1..=40), p in strategies::params::<$d, $k>()) {
                    responsibilities_are_a_distribution::<f64, $d, $k>(&data, &p)?;
                }

                #[test]
                fn responsibilities_f32(data in strategies::points::<$d>(1..=40), p in strategies::params::<$d, $k>()) {
                    responsibilities_are_a_distribution::<f32, $d, $k>(&data, &p)?;
                }

                #[test]
                fn monotone_f64(data in strategies::points::<$d>($n), p in strategies::params::<$d, $k>()) {
                    em_is_monotone::<f64, $d, $k>(&data, &p)?;
                }

                #[test]
                fn monotone_f32(data in strategies::points::<$d>($n), p in strategies::params::<$d, $k>()) {
                    em_is_monotone::<f32, $d, $k>(&data, &p)?;
                }
            }
        }
    };
}

properties!(d1_k1, 1, 1, 5..=60);
properties!(d1_k3, 1, 3, 10..=60);
properties!(d2_k2, 2, 2, 12..=80);
properties!(d2_k3, 2, 3, 20..=80);
properties!(d3_k4, 3, 4, 30..=100);
properties!(d5_k2, 5, 2, 30..=100);
