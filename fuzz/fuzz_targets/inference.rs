//! `inference`: an arbitrary user model (skipped if `Gmm::new` rejects it)
//! and arbitrary points through `log_prob`, `responsibilities`, `predict`,
//! `Gaussian::log_density`, `log_likelihood`, `mean_log_likelihood`, `bic`
//! and `aic`.
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
//! first point's error with its index; the log-likelihood, its mean, BIC and
//! AIC are finite on `Ok`.
#![no_main]

use arbitrary::Arbitrary;
use gaussmix::nalgebra::{Point, SVector};
use gaussmix::{Error, Gmm};
use gaussmix_fuzz::{
    argmax, check_model, check_responsibilities, dispatch, f, sum_tolerance, ModelSpec, Num,
    Scalar, Shape,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    single: bool,
    shape: Shape,
    model: ModelSpec,
    points: Vec<[Num; 3]>,
}

fuzz_target!(|input: Input| {
    dispatch!(input.single, input.shape, run(&input));
});

fn run<T: Scalar, const D: usize, const K: usize>(input: &Input) {
    let Ok(model) = input.model.build::<T, D, K>() else {
        return;
    };
    check_model(&model);
    let points: Vec<SVector<T, D>> = input
        .points
        .iter()
        .take(64)
        .map(|p| SVector::from_fn(|i, _| p[i].get()))
        .collect();

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

        let finite = x.iter().all(|&c| f(c).is_finite());
        if !finite {
            let e = Error::NonFiniteData { index: 0 };
            assert_eq!(lp, Err(e));
            assert_eq!(r, Err(e));
            assert_eq!(p, Err(e));
            for c in model.components() {
                assert_eq!(c.log_density(x), Err(e));
            }
        } else {
            check_finite_point(&model, x, lp, r, p);
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
        if ll.is_err() {
            return;
        }
        let bound = sum_tolerance(&model, &points);
        assert!(
            (f(ll.unwrap()) - f(total)).abs() <= bound,
            "log-likelihood {ll:?} is not the sum {total:?} of the log_probs"
        );
    }
}

fn check_finite_point<T: Scalar, const D: usize, const K: usize>(
    model: &Gmm<T, D, K>,
    x: &SVector<T, D>,
    lp: Result<T, Error>,
    r: Result<SVector<T, K>, Error>,
    p: Result<usize, Error>,
) {
    // ln wₖ + ln Nₖ(x), in f64, for the components of positive weight.
    let mut terms = [f64::NEG_INFINITY; K];
    let mut magnitude = 0.0f64;
    for (k, c) in model.components().iter().enumerate() {
        let v = c.log_density(x).map(f);
        let at_mean = f(c.log_density(c.mean()).unwrap());
        let v = v.unwrap_or_else(|e| panic!("log_density of a finite point: {e:?}"));
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
