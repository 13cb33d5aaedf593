//! `inference`: an arbitrary user model of any covariance kind (skipped if
//! `Gmm::new` rejects it) and arbitrary points through `log_prob`,
//! `responsibilities`, `predict`, `log_likelihood`, `mean_log_likelihood`,
//! `bic` and `aic` (each point as `SVector`, `[T; D]` and `Point`), and for
//! full covariance `Gaussian::log_density`.
//!
//! The component log-densities `ln Nₖ(x)` the checks need come from each
//! component as a model of its own (`case::single`), computed by the same
//! kernel, and for full covariance must equal `Gaussian::log_density`.
//!
//! Asserts: no panic; the model satisfies every invariant; for a point with
//! a NaN/inf coordinate every call is `Err(NonFiniteData { index: 0 })`; for
//! a finite point the result is `Err(ZeroDensity { index: 0 })` exactly when
//! every component of positive weight has log-density −∞ (as documented:
//! `log_prob` never returns −∞ or NaN), and otherwise `log_prob` is finite
//! and within `[m, m + ln K]` of `m = maxₖ(ln wₖ + ln Nₖ(x))`,
//! responsibilities lie in `[0, 1]`, sum to 1 within `K·ε` and match Bayes'
//! rule, `predict` is their argmax (lowest index on a tie); component
//! log-densities are never NaN nor above the value at the mean; the
//! log-likelihood of the points is the sum of their `log_prob`s, or the
//! first bad point's error with its index; the log-likelihood, its mean, BIC
//! (`−2 ln L + p ln N`, `p = PARAMETER_COUNT` as scikit-learn counts it for
//! the kind) and AIC are finite on `Ok`, else `LikelihoodOverflow`.

use arbitrary::Arbitrary;
use gaussmix::nalgebra::{Point, SVector};
use gaussmix::{Error, Gmm};
use serde::{Deserialize, Serialize};

use crate::case::{component_log_density, points, single, Kind, KindExt, Model, Typed, Vector};
use crate::check::{argmax, check_model, check_responsibilities, sum_tolerance};
use crate::dispatch_shape;
use crate::num::{f, Num, Scalar};
use crate::spec::{ModelSpec, Shape};

pub const NAME: &str = "inference";

/// The most points a case scores.
pub const MAX_POINTS: usize = 64;

#[derive(Arbitrary, Debug)]
pub struct Input {
    pub single: bool,
    pub shape: Shape,
    pub kind: Kind,
    pub model: ModelSpec,
    pub points: Vec<[Num; 3]>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields, bound = "")]
pub struct Case<T: Scalar> {
    pub kind: Kind,
    pub dimension: usize,
    pub components: usize,
    /// `Gmm::new` on these (the case ends if it rejects them).
    pub model: Model<T>,
    pub points: Vec<Vector<T>>,
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
        model: input.model.model::<T, D, K>(input.kind),
        points: input
            .points
            .iter()
            .take(MAX_POINTS)
            .map(|p| (0..D).map(|i| crate::num::V(p[i].get())).collect())
            .collect(),
    }
}

crate::target_entry!();

fn run_typed<T: Scalar, const D: usize, const K: usize, C: KindExt>(case: &Case<T>) {
    let Ok(model) = case.model.build::<D, K, C>() else {
        return;
    };
    check_model(&model);
    let singles: [Gmm<T, D, 1, C>; K] =
        core::array::from_fn(|k| single(&model, k).expect("checked by check_model"));
    let points = points::<T, D>(&case.points);

    let mut first_error = None;
    let mut total = T::zero();
    for (i, x) in points.iter().enumerate() {
        let lp = model.log_prob(x);
        let r = model.responsibilities(x);
        let p = model.predict(x);
        // Every `AsPoint` layout reads the same point.
        let array: [T; D] = (*x).into();
        assert_eq!(model.log_prob(&array), lp);
        assert_eq!(model.log_prob(&Point::from(*x)), lp);
        assert_eq!(model.responsibilities(&array), r);

        let finite = x.iter().all(|&c| f(c).is_finite());
        if !finite {
            let e = Error::NonFiniteData { index: 0 };
            assert_eq!(lp, Err(e));
            assert_eq!(r, Err(e));
            assert_eq!(p, Err(e));
            for s in &singles {
                assert_eq!(s.log_prob(x), Err(e));
            }
            if let Some(components) = C::gaussians(&model) {
                for g in &components {
                    assert_eq!(g.log_density(x), Err(e));
                }
            }
        } else {
            check_finite_point(&model, &singles, x, lp, r, p);
        }
        match lp {
            Ok(v) => total += v,
            Err(e) => {
                if first_error.is_none() {
                    first_error = Some(match e {
                        Error::NonFiniteData { .. } => Error::NonFiniteData { index: i },
                        Error::ZeroDensity { .. } => Error::ZeroDensity { index: i },
                        other => panic!("log_prob: undocumented {other:?}"),
                    });
                }
            }
        }
    }

    let ll = model.log_likelihood(&points);
    let mean = model.mean_log_likelihood(&points);
    let bic = model.bic(&points);
    let aic = model.aic(&points);
    let parameters = Gmm::<T, D, K, C>::PARAMETER_COUNT;
    let per_kind = match C::KIND {
        Kind::Full => K * D * (D + 1) / 2,
        Kind::Diag => K * D,
        Kind::Spherical => K,
        Kind::Tied => D * (D + 1) / 2,
    };
    assert_eq!(parameters, K - 1 + K * D + per_kind);
    if points.is_empty() {
        let e = Error::TooFewPoints {
            points: 0,
            needed: 1,
        };
        assert_eq!(ll, Err(e));
        assert_eq!(mean, Err(e));
        assert_eq!(bic, Err(e));
        assert_eq!(aic, Err(e));
    } else if let Some(e) = first_error {
        assert_eq!(ll, Err(e));
        assert_eq!(mean, Err(e));
        assert_eq!(bic, Err(e));
        assert_eq!(aic, Err(e));
    } else {
        let n = points.len();
        // Every log_prob is finite; their sum (and BIC/AIC, −2 times it)
        // may still overflow: then the documented LikelihoodOverflow.
        for (name, v) in [
            ("log_likelihood", ll),
            ("mean_log_likelihood", mean),
            ("bic", bic),
            ("aic", aic),
        ] {
            match v {
                Ok(v) => assert!(
                    f(v).is_finite(),
                    "{name} = {:e} for {n} points whose log_probs are all finite",
                    f(v)
                ),
                Err(e) => assert_eq!(e, Error::LikelihoodOverflow, "{name}"),
            }
        }
        let Ok(ll) = ll else {
            return;
        };
        let bound = sum_tolerance(&model, &points);
        assert!(
            (f(ll) - f(total)).abs() <= bound,
            "log-likelihood {ll:?} is not the sum {total:?} of the log_probs"
        );
        assert_eq!(mean, Ok(ll / T::of_f64(n as f64)));
        let p = parameters as f64;
        for (name, v, want) in [
            ("bic", bic, -2.0 * f(ll) + p * (n as f64).ln()),
            ("aic", aic, -2.0 * f(ll) + 2.0 * p),
        ] {
            if let Ok(v) = v {
                let slack = 4.0 * T::EPS64 * (2.0 * f(ll).abs() + 2.0 * p * (n as f64 + 1.0).ln());
                assert!(
                    (f(v) - want).abs() <= slack,
                    "{name} = {v:?}, −2 ln L + penalty = {want:e}"
                );
            }
        }
    }
}

fn check_finite_point<T: Scalar, const D: usize, const K: usize, C: KindExt>(
    model: &Gmm<T, D, K, C>,
    singles: &[Gmm<T, D, 1, C>; K],
    x: &SVector<T, D>,
    lp: Result<T, Error>,
    r: Result<SVector<T, K>, Error>,
    p: Result<usize, Error>,
) {
    // ln wₖ + ln Nₖ(x), in f64, for the components of positive weight.
    let mut terms = [f64::NEG_INFINITY; K];
    let mut magnitude = 0.0f64;
    let components = C::gaussians(model);
    let means = model.means();
    for (k, s) in singles.iter().enumerate() {
        let v = component_log_density(s, x)
            .unwrap_or_else(|e| panic!("log-density of a finite point: {e:?}"));
        let at_mean = component_log_density(s, &means[k]).unwrap();
        if let Some(c) = &components {
            // `Err(ZeroDensity)` where the density underflows, as for the
            // single-component model.
            let g = match c[k].log_density(x) {
                Err(Error::ZeroDensity { index: 0 }) => Ok(f64::NEG_INFINITY),
                other => other.map(f),
            };
            assert_eq!(g, Ok(v), "component {k}: Gaussian::log_density");
        }
        assert!(!v.is_nan(), "component {k}: log-density NaN");
        assert!(
            v <= at_mean,
            "component {k}: log-density {v:e} above its peak {at_mean:e}"
        );
        let w = f(model.weights()[k]);
        if w > 0.0 {
            terms[k] = w.ln() + v;
            if v.is_finite() {
                magnitude = magnitude.max(w.ln().abs() + v.abs());
            }
        }
    }
    let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        let e = Error::ZeroDensity { index: 0 };
        assert_eq!(lp, Err(e), "every density is zero");
        assert_eq!(r, Err(e));
        assert_eq!(p, Err(e));
        return;
    }
    let lp = f(lp.unwrap_or_else(|e| panic!("log_prob of a point with a positive density: {e:?}")));
    let r = r.unwrap();
    let p = p.unwrap();
    assert!(lp.is_finite(), "log_prob {lp:e}");
    let slack = 8.0 * T::EPS64 * (1.0 + magnitude);
    assert!(
        lp >= m - slack && lp <= m + (K as f64).ln() + slack,
        "log_prob {lp:e} outside [{m:e}, {m:e} + ln K]"
    );
    check_responsibilities(&r);
    assert!(p < K);
    assert_eq!(p, argmax(&r));
    // Bayes' rule, where the exponent's rounding is small enough to tell.
    if magnitude <= 1e3 {
        let tol = if T::EPS64 > 1e-10 { 1e-3 } else { 1e-9 };
        for k in 0..K {
            let want = (terms[k] - lp).exp();
            let got = f(r[k]);
            assert!(
                (got - want).abs() <= tol,
                "responsibility {k}: {got:e}, Bayes' rule gives {want:e}"
            );
        }
    }
}
