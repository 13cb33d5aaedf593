//! `construction`: arbitrary parameters to `Gaussian::new`, `Gmm::new`,
//! `Gmm::from_components` and `FitOptions::validate`.
//!
//! Asserts: no panic; on `Ok` the stored values are exactly the inputs
//! (weights divided by their sum) and satisfy every invariant (finite,
//! weights ≥ 0 summing to 1, covariances symmetric and positive definite);
//! on `Err`, the documented variant for the input:
//!
//! * a NaN/inf mean or covariance entry → `NonFiniteParameter`;
//! * otherwise `|Σᵢⱼ − Σⱼᵢ| > √ε·√(Σᵢᵢ Σⱼⱼ)` (clearly, computed in `f64`)
//!   → `NotSymmetric`; clearly within it → never `NotSymmetric`;
//! * a symmetric covariance with a non-positive diagonal entry →
//!   `NotPositiveDefinite`; a well-conditioned positive-definite one
//!   (diagonal in `[1e-12, 1e12]`, every `f64` Cholesky pivot at least
//!   `10⁻³` of its diagonal entry) → `Ok`;
//! * `Gmm::new` reports the first bad component's error with its index,
//!   then a NaN/inf weight → `NonFiniteParameter { component: k }`, a
//!   negative weight → `InvalidWeights`, a sum clearly off 1 by more than
//!   `√ε` → `InvalidWeights`, clearly within → `Ok`;
//! * `FitOptions::validate` fails exactly for a negative, NaN or infinite
//!   `tol` (first) or `reg_covar`.
#![no_main]
// `!(x > y)` is deliberate: unlike `x <= y` it is also true for NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use arbitrary::Arbitrary;
use gaussmix::nalgebra::{SMatrix, SVector};
use gaussmix::{Error, FitOptions, Gaussian, Gmm};
use gaussmix_fuzz::{
    at_component, check_gaussian, check_model, dispatch, f, ComponentSpec, ModelSpec, Num, Scalar,
    Shape,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    single: bool,
    shape: Shape,
    gaussian: ComponentSpec,
    model: ModelSpec,
    tol: Num,
    reg_covar: Num,
}

fuzz_target!(|input: Input| {
    dispatch!(input.single, input.shape, run(&input));
});

/// What the input determines about `Gaussian::new`'s result.
#[derive(Debug, PartialEq)]
enum Expect {
    Err(Error),
    Ok,
    /// Ok or `NotPositiveDefinite`.
    OkOrNotPd,
    /// Too close to a tolerance to tell.
    Unknown,
}

fn expect_gaussian<T: Scalar, const D: usize>(
    mean: &SVector<T, D>,
    cov: &SMatrix<T, D, D>,
) -> Expect {
    let c = cov.map(f);
    if !mean.iter().all(|&v| f(v).is_finite()) || !c.iter().all(|v| v.is_finite()) {
        return Expect::Err(Error::NonFiniteParameter { component: 0 });
    }
    let tol = T::EPS64.sqrt();
    let mut borderline = false;
    for j in 0..D {
        for i in j + 1..D {
            let bound = tol * c[(i, i)].abs().sqrt() * c[(j, j)].abs().sqrt();
            let diff = (c[(i, j)] - c[(j, i)]).abs();
            if diff > 1.01 * bound {
                return Expect::Err(Error::NotSymmetric { component: 0 });
            }
            borderline |= diff >= 0.99 * bound;
        }
    }
    if borderline {
        return Expect::Unknown;
    }
    if (0..D).any(|i| !(c[(i, i)] > 0.0)) {
        return Expect::Err(Error::NotPositiveDefinite { component: 0 });
    }
    if well_conditioned(&c) {
        return Expect::Ok;
    }
    Expect::OkOrNotPd
}

/// Diagonal in `[1e-12, 1e12]` and every Cholesky pivot (of the lower
/// triangle, in `f64`) at least `10⁻³` of its diagonal entry.
fn well_conditioned<const D: usize>(c: &SMatrix<f64, D, D>) -> bool {
    if !(0..D).all(|i| (1e-12..=1e12).contains(&c[(i, i)])) {
        return false;
    }
    let mut l = SMatrix::<f64, D, D>::zeros();
    for i in 0..D {
        for j in 0..=i {
            let mut s = c[(i, j)];
            for k in 0..j {
                s -= l[(i, k)] * l[(j, k)];
            }
            if i == j {
                if !(s >= 1e-3 * c[(i, i)]) {
                    return false;
                }
                l[(i, i)] = s.sqrt();
            } else {
                l[(i, j)] = s / l[(j, j)];
            }
        }
    }
    true
}

fn check_gaussian_result<T: Scalar, const D: usize>(
    mean: &SVector<T, D>,
    cov: &SMatrix<T, D, D>,
    got: &Result<Gaussian<T, D>, Error>,
) {
    let expect = expect_gaussian(mean, cov);
    match got {
        Ok(g) => {
            assert!(
                matches!(expect, Expect::Ok | Expect::OkOrNotPd | Expect::Unknown),
                "Gaussian::new accepted {mean:?} {cov:?}, expected {expect:?}"
            );
            assert_eq!(g.mean(), mean);
            assert_eq!(g.covariance(), cov, "the covariance is stored as given");
            check_gaussian(g, 0);
        }
        Err(e) => match expect {
            Expect::Err(want) => assert_eq!(*e, want, "Gaussian::new({mean:?}, {cov:?})"),
            Expect::Ok => panic!("Gaussian::new rejected a well-conditioned SPD {cov:?}: {e:?}"),
            Expect::OkOrNotPd => assert_eq!(
                *e,
                Error::NotPositiveDefinite { component: 0 },
                "Gaussian::new({mean:?}, {cov:?})"
            ),
            Expect::Unknown => assert!(
                matches!(
                    e,
                    Error::NotSymmetric { component: 0 }
                        | Error::NotPositiveDefinite { component: 0 }
                ),
                "Gaussian::new({mean:?}, {cov:?}): {e:?}"
            ),
        },
    }
}

/// What the weights determine, all components being valid: `Some(Ok)`,
/// `Some(Err)`, or `None` too close to the tolerance to tell.
fn expect_weights<T: Scalar, const K: usize>(w: &[T; K]) -> Option<Result<(), Error>> {
    for (k, &v) in w.iter().enumerate() {
        if !f(v).is_finite() {
            return Some(Err(Error::NonFiniteParameter { component: k }));
        }
        if f(v) < 0.0 {
            return Some(Err(Error::InvalidWeights));
        }
    }
    let sum: f64 = w.iter().map(|&v| f(v)).sum();
    let off = (sum - 1.0).abs();
    let bound = T::EPS64.sqrt();
    let rounding = 2.0 * K as f64 * T::EPS64 * sum.max(1.0);
    if off > bound + rounding {
        Some(Err(Error::InvalidWeights))
    } else if off < bound - rounding {
        Some(Ok(()))
    } else {
        None
    }
}

fn run<T: Scalar, const D: usize, const K: usize>(input: &Input) {
    // One Gaussian.
    let mean = input.gaussian.mean::<T, D>();
    let cov = input.gaussian.cov.matrix::<T, D>();
    check_gaussian_result(&mean, &cov, &Gaussian::new(mean, cov));

    // A mixture.
    let (weights, means, covs) = input.model.params::<T, D, K>();
    let components: [Result<Gaussian<T, D>, Error>; K] = core::array::from_fn(|k| {
        let g = Gaussian::new(means[k], covs[k]);
        check_gaussian_result(&means[k], &covs[k], &g);
        g
    });
    let got = Gmm::new(weights, means, covs);
    let first_bad = components
        .iter()
        .enumerate()
        .find_map(|(k, g)| g.as_ref().err().map(|&e| at_component(e, k)));
    if let Some(e) = first_bad {
        assert_eq!(got, Err(e), "Gmm::new names the first bad component");
    } else {
        let valid = components.map(Result::unwrap);
        let expect = expect_weights(&weights);
        match &got {
            Ok(m) => {
                assert!(
                    matches!(expect, Some(Ok(())) | None),
                    "Gmm::new accepted weights {weights:?}, expected {expect:?}"
                );
                check_model(m);
                assert_eq!(m.components(), &valid);
                let sum: f64 = weights.iter().map(|&v| f(v)).sum();
                for (&w, &stored) in weights.iter().zip(m.weights().iter()) {
                    let want = f(w) / sum;
                    assert!((f(stored) - want).abs() <= 4.0 * T::EPS64 * want + T::TINY);
                }
            }
            Err(e) => {
                if let Some(want) = expect {
                    assert_eq!(Err(*e), want, "Gmm::new weights {weights:?}");
                } else {
                    assert_eq!(*e, Error::InvalidWeights);
                }
            }
        }
        assert_eq!(Gmm::from_components(weights, valid), got);
    }

    // Fit options.
    let tol = input.tol.get::<T>();
    let reg = input.reg_covar.get::<T>();
    let bad = |x: T| !(f(x) >= 0.0 && f(x).is_finite());
    let want = if bad(tol) {
        Err(Error::InvalidOption { option: "tol" })
    } else if bad(reg) {
        Err(Error::InvalidOption {
            option: "reg_covar",
        })
    } else {
        Ok(())
    };
    let options = FitOptions::<T>::default().with_tol(tol).with_reg_covar(reg);
    assert_eq!(options.validate(), want);
}
