//! `construction`: arbitrary parameters to `Gaussian::new`, `Gmm::new` of
//! every covariance kind, `Gmm::from_components` (full) and
//! `FitOptions::validate`.
//!
//! Asserts: no panic; on `Ok` the stored values are exactly the inputs
//! (weights divided by their sum, or kept when they sum to 1 within `K·ε`:
//! within `4ε` of `w/Σw` either way), read back through every accessor
//! (`means`, `covariances`, `components`, `variances`, `covariance`), and
//! satisfy every invariant; on `Err`, the documented variant for the input:
//!
//! * `Gmm::new` checks every mean first: the first NaN/inf one →
//!   `NonFiniteParameter { component: k }`;
//! * then the covariances in order, naming the first bad one (the tied
//!   matrix as component 0). A full matrix (full, tied, and
//!   `Gaussian::new`): a NaN/inf entry → `NonFiniteParameter`; otherwise
//!   `|Σᵢⱼ − Σⱼᵢ| > √ε·√(Σᵢᵢ Σⱼⱼ)` (clearly, computed in `f64`: by 1 %
//!   and the smallest subnormal of `T`) → `NotSymmetric`, clearly within →
//!   never `NotSymmetric`; a non-positive
//!   diagonal entry → `NotPositiveDefinite`; a well-conditioned
//!   positive-definite matrix (diagonal in `[1e-12, 1e12]`, every `f64`
//!   Cholesky pivot at least `10⁻³` of its diagonal entry) → `Ok`. A
//!   variance (diagonal, spherical): NaN/inf → `NonFiniteParameter`, not
//!   positive → `NotPositiveDefinite`, positive → `Ok`;
//! * then the weights: NaN/inf → `NonFiniteParameter { component: k }`, a
//!   negative weight → `InvalidWeights`, a sum clearly more than `√ε` off 1
//!   → `InvalidWeights`, clearly within → `Ok`;
//! * `from_components` agrees with `new`; `FitOptions::validate` fails
//!   exactly for a negative, NaN or infinite `tol` (first) or `reg_covar`.
// `!(x > y)` is deliberate: unlike `x <= y` it is also true for NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use arbitrary::Arbitrary;
use gaussmix::nalgebra::{SMatrix, SVector};
use gaussmix::{Error, FitOptions, Gaussian, Gmm};
use serde::{Deserialize, Serialize};

use crate::case::{
    matrix, to_matrix, to_vector, vector, Covariances, Kind, KindExt, Matrix, Model, Typed, Vector,
};
use crate::check::{at_component, check_gaussian, check_model};
use crate::dispatch_shape;
use crate::num::{f, Num, Scalar, V};
use crate::spec::{ComponentSpec, ModelSpec, Shape};

pub const NAME: &str = "construction";

#[derive(Arbitrary, Debug)]
pub struct Input {
    pub single: bool,
    pub shape: Shape,
    pub kind: Kind,
    pub gaussian: ComponentSpec,
    pub model: ModelSpec,
    pub tol: Num,
    pub reg_covar: Num,
}

/// The arguments of `Gaussian::new`.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields, bound = "")]
pub struct GaussianCase<T: Scalar> {
    pub mean: Vector<T>,
    pub covariance: Matrix<T>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields, bound = "")]
pub struct Case<T: Scalar> {
    pub kind: Kind,
    pub dimension: usize,
    pub components: usize,
    pub gaussian: GaussianCase<T>,
    pub model: Model<T>,
    pub tol: V<T>,
    pub reg_covar: V<T>,
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
        gaussian: GaussianCase {
            mean: to_vector(&input.gaussian.mean::<T, D>()),
            covariance: to_matrix(&input.gaussian.cov.matrix::<T, D>()),
        },
        model: input.model.model::<T, D, K>(input.kind),
        tol: V(input.tol.get()),
        reg_covar: V(input.reg_covar.get()),
    }
}

crate::target_entry!();

/// What the input determines about a result.
#[derive(Debug, PartialEq)]
enum Expect {
    Err(Error),
    Ok,
    /// Ok or `NotPositiveDefinite`.
    OkOrNotPd,
    /// Too close to a tolerance to tell: `NotSymmetric` or
    /// `NotPositiveDefinite` or `Ok`.
    Unknown,
}

/// `Gaussian::new`'s covariance check, for component 0.
fn expect_matrix<T: Scalar, const D: usize>(cov: &SMatrix<T, D, D>) -> Expect {
    let c = cov.map(f);
    if !c.iter().all(|v| v.is_finite()) {
        return Expect::Err(Error::NonFiniteParameter { component: 0 });
    }
    let tol = T::EPS64.sqrt();
    let mut borderline = false;
    for j in 0..D {
        for i in j + 1..D {
            let bound = tol * c[(i, i)].abs().sqrt() * c[(j, j)].abs().sqrt();
            let diff = (c[(i, j)] - c[(j, i)]).abs();
            // gaussmix computes the bound in T, where below the normal
            // range it rounds to a multiple of the smallest subnormal.
            if diff > 1.01 * bound + T::TINY {
                return Expect::Err(Error::NotSymmetric { component: 0 });
            }
            borderline |= diff >= 0.99 * bound - T::TINY;
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

/// A variance of the diagonal or spherical kind: documented, "a variance
/// must be positive" (and finite).
fn expect_variance<T: Scalar>(v: T) -> Expect {
    let v = f(v);
    if !v.is_finite() {
        Expect::Err(Error::NonFiniteParameter { component: 0 })
    } else if !(v > 0.0) {
        Expect::Err(Error::NotPositiveDefinite { component: 0 })
    } else {
        Expect::Ok
    }
}

/// The spherical kind accepts a variance exactly where the diagonal kind
/// does (a finding, fixed: it used to reject variances whose `1/(2σ²)`
/// overflows `T`).
fn expect_spherical<T: Scalar>(v: T) -> Expect {
    expect_variance(v)
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

/// `got` (an `Ok` or the error of component 0) is what `expect` allows.
fn allowed(expect: &Expect, got: Result<(), Error>) -> bool {
    let not_pd = Error::NotPositiveDefinite { component: 0 };
    match (expect, got) {
        (Expect::Err(want), Err(e)) => e == *want,
        (Expect::Err(_), Ok(())) => false,
        (Expect::Ok, got) => got.is_ok(),
        (Expect::OkOrNotPd, got) => got.is_ok() || got == Err(not_pd),
        (Expect::Unknown, got) => {
            got.is_ok() || got == Err(not_pd) || got == Err(Error::NotSymmetric { component: 0 })
        }
    }
}

fn check_gaussian_result<T: Scalar, const D: usize>(
    mean: &SVector<T, D>,
    cov: &SMatrix<T, D, D>,
    got: &Result<Gaussian<T, D>, Error>,
) {
    let expect = if mean.iter().all(|&v| f(v).is_finite()) {
        expect_matrix(cov)
    } else {
        Expect::Err(Error::NonFiniteParameter { component: 0 })
    };
    assert!(
        allowed(&expect, got.as_ref().map(|_| ()).map_err(|e| *e)),
        "Gaussian::new({mean:?}, {cov:?}) = {got:?}, expected {expect:?}"
    );
    if let Ok(g) = got {
        assert_eq!(g.mean(), mean);
        assert_eq!(g.covariance(), cov, "the covariance is stored as given");
        check_gaussian(g, 0);
    }
}

/// What the weights determine, all else being valid: `Some(Ok)`,
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

fn run_typed<T: Scalar, const D: usize, const K: usize, C: KindExt>(case: &Case<T>) {
    // One Gaussian.
    let mean = vector::<T, D>(&case.gaussian.mean, "mean");
    let cov = matrix::<T, D>(&case.gaussian.covariance, "covariance");
    check_gaussian_result(&mean, &cov, &Gaussian::new(mean, cov));

    // A mixture of kind C.
    let weights = case.model.weights::<K>();
    let means = case.model.means::<D, K>();
    let got = case.model.build::<D, K, C>();

    // Expected: the first non-finite mean, else the first bad covariance
    // (component order), else what the weights say.
    let bad_mean = means
        .iter()
        .position(|m| !m.iter().all(|&v| f(v).is_finite()));
    let expectations: Vec<Expect> = match &case.model.covariances {
        Covariances::Full(c) => c
            .iter()
            .enumerate()
            .map(|(k, m)| {
                let m = matrix::<T, D>(m, "covariance");
                // Gaussian::new on each component, checked too.
                check_gaussian_result(&means[k], &m, &Gaussian::new(means[k], m));
                expect_matrix(&m)
            })
            .collect(),
        Covariances::Tied(m) => vec![expect_matrix(&matrix::<T, D>(m, "tied covariance"))],
        Covariances::Diag(c) => c
            .iter()
            .map(|v| {
                let v = vector::<T, D>(v, "variances");
                let each: Vec<Expect> = v.iter().map(|&x| expect_variance(x)).collect();
                // Any NaN/inf is reported first, then any non-positive one.
                if v.iter().any(|&x| !f(x).is_finite()) {
                    Expect::Err(Error::NonFiniteParameter { component: 0 })
                } else if let Some(e) = each.iter().find(|e| matches!(e, Expect::Err(_))) {
                    Expect::Err(match e {
                        Expect::Err(e) => *e,
                        _ => unreachable!(),
                    })
                } else if each.contains(&Expect::OkOrNotPd) {
                    Expect::OkOrNotPd
                } else {
                    Expect::Ok
                }
            })
            .collect(),
        Covariances::Spherical(c) => c.iter().map(|v| expect_spherical(v.0)).collect(),
    };
    let definite = expectations.iter().enumerate().find_map(|(k, e)| match e {
        Expect::Err(e) => Some((k, at_component(*e, k))),
        _ => None,
    });
    // An error of an uncertain component before the first definite one.
    let uncertain =
        match got {
            Err(
                Error::NotPositiveDefinite { component: j } | Error::NotSymmetric { component: j },
            ) if bad_mean.is_none() && definite.is_none_or(|(k, _)| j < k) => Some(j),
            _ => None,
        };
    if let Some(k) = bad_mean {
        assert_eq!(
            got,
            Err(Error::NonFiniteParameter { component: k }),
            "means first"
        );
    } else if let Some(j) = uncertain {
        let e = got.as_ref().err().map(|e| at_component(*e, 0));
        assert!(
            allowed(&expectations[j], Err(e.unwrap())),
            "Gmm::new rejected covariance {j} ({:?}) with {got:?}",
            expectations[j]
        );
    } else if let Some((k, want)) = definite {
        assert_eq!(
            got.as_ref().err(),
            Some(&want),
            "Gmm::new: covariance {k} is bad"
        );
    } else {
        // Every covariance accepted: the weights decide.
        let expect = expect_weights(&weights);
        match &got {
            Ok(_) => assert!(
                matches!(expect, Some(Ok(())) | None),
                "Gmm::new accepted weights {weights:?}, expected {expect:?}"
            ),
            Err(e) => match expect {
                Some(want) => assert_eq!(Err(*e), want, "Gmm::new weights {weights:?}"),
                None => assert_eq!(*e, Error::InvalidWeights),
            },
        }
    }

    if let Ok(m) = &got {
        check_model(m);
        assert_eq!(m.means(), means);
        assert_eq!(
            C::parameters(m),
            case.model.covariances,
            "the covariances are stored as given"
        );
        let sum: f64 = weights.iter().map(|&v| f(v)).sum();
        for (&w, &stored) in weights.iter().zip(m.weights().iter()) {
            let want = f(w) / sum;
            assert!((f(stored) - want).abs() <= 4.0 * T::EPS64 * want + T::TINY);
        }
    }
    if let Covariances::Full(c) = &case.model.covariances {
        // from_components takes validated components and agrees with new.
        let components: Vec<Gaussian<T, D>> = c
            .iter()
            .enumerate()
            .filter_map(|(k, m)| Gaussian::new(means[k], matrix(m, "covariance")).ok())
            .collect();
        if let Ok(components) = <[Gaussian<T, D>; K]>::try_from(components) {
            assert_eq!(
                Gmm::<T, D, K>::from_components(weights, components).map(|m| Model::of(&m)),
                got.as_ref().map(Model::of).map_err(|e| *e),
                "from_components and new differ"
            );
        }
    }

    // Fit options.
    let tol = case.tol.0;
    let reg = case.reg_covar.0;
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
