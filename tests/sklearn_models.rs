//! scikit-learn models in and out (feature `serde`): the models that
//! `tests/sklearn/sklearn_models.py` fitted with scikit-learn (pinned
//! 1.9.1) on the committed data, read as gaussmix documents through
//! `Gmm::new`, score the held-out points as scikit-learn did; and
//! gaussmix's own fits, exported to `tests/sklearn/gaussmix_models.json`,
//! are what that script loads into scikit-learn (it checks that
//! scikit-learn scores them identically). No Python runs here: both JSON
//! files are committed. `GAUSSMIX_WRITE_SKLEARN=1` rewrites the export.
#![cfg(feature = "serde")]

mod common;

use gaussmix::nalgebra::{SMatrix, SVector};
use gaussmix::{init, CovarianceKind, Diag, FitOptions, Full, Gmm, Spherical, Tied};
use serde_json::{json, Value};

const SKLEARN: &str = include_str!("sklearn/sklearn_models.json");
const DATA: &str = include_str!("sklearn/data.json");
const EXPORT: &str = "tests/sklearn/gaussmix_models.json";

type X = SVector<f64, 3>;

fn points(doc: &Value, key: &str) -> Vec<X> {
    let rows: Vec<[f64; 3]> = serde_json::from_value(doc[key].clone()).unwrap();
    rows.into_iter().map(SVector::from).collect()
}

fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// The largest deviations found for one kind.
#[derive(Debug, Default)]
struct Agreement {
    log_prob: f64,
    responsibilities: f64,
    score: f64,
    bic: f64,
    aic: f64,
    precision: f64,
}

/// `precisions_cholesky_` (`P`, with `P Pᵀ = Σ⁻¹`) agrees with the
/// document's covariances: `Pᵀ Σ P = I`; returns the largest deviation.
fn precision_check<C: CovarianceKind>(model: &Gmm<f64, 3, 3, C>, p: &Value) -> f64 {
    let covariances = model.covariances();
    let factor = |k: usize| -> SMatrix<f64, 3, 3> {
        match C::NAME {
            "full" => SMatrix::from_fn(|i, j| p[k][i][j].as_f64().unwrap()),
            "tied" => SMatrix::from_fn(|i, j| p[i][j].as_f64().unwrap()),
            "diag" => SMatrix::from_diagonal(&SVector::from_fn(|i, _| p[k][i].as_f64().unwrap())),
            _ => SMatrix::identity() * p[k].as_f64().unwrap(),
        }
    };
    (0..3)
        .map(|k| {
            let f = factor(k);
            (f.transpose() * covariances[k] * f - SMatrix::identity()).amax()
        })
        .fold(0.0, f64::max)
}

fn models_in<C: CovarianceKind>(doc: &Value, test: &[X]) -> Agreement {
    let entry = &doc["kinds"][C::NAME];
    // The documented constructor path: a gaussmix document through serde
    // (and so through Gmm::new).
    let model: Gmm<f64, 3, 3, C> = serde_json::from_value(entry["model"].clone()).unwrap();
    let mut a = Agreement {
        precision: precision_check(&model, &entry["precisions_cholesky"]),
        ..Agreement::default()
    };
    for (i, x) in test.iter().enumerate() {
        let lp = model.log_prob(x).unwrap();
        a.log_prob = a
            .log_prob
            .max(relative(lp, entry["score_samples"][i].as_f64().unwrap()));
        let r = model.responsibilities(x).unwrap();
        for k in 0..3 {
            let theirs = entry["predict_proba"][i][k].as_f64().unwrap();
            // Relative; gaussmix cuts a responsibility below e⁻²⁰⁰ ≈ 1e-87
            // of the largest to exactly 0 (its documented log-sum-exp), so
            // below 1e-80 the difference is absolute.
            let d = if theirs > 1e-80 {
                relative(r[k], theirs)
            } else {
                (r[k] - theirs).abs()
            };
            a.responsibilities = a.responsibilities.max(d);
        }
        assert_eq!(
            model.predict(x).unwrap() as u64,
            entry["predict"][i].as_u64().unwrap(),
            "{} point {i}",
            C::NAME
        );
    }
    let score = model.mean_log_likelihood(test).unwrap();
    a.score = relative(score, entry["score"].as_f64().unwrap());
    a.bic = relative(model.bic(test).unwrap(), entry["bic"].as_f64().unwrap());
    a.aic = relative(model.aic(test).unwrap(), entry["aic"].as_f64().unwrap());
    println!(
        "in  {:9}: log_prob {:.1e}, responsibilities {:.1e}, score {:.1e}, bic {:.1e}, aic {:.1e}, precisions_cholesky {:.1e}",
        C::NAME, a.log_prob, a.responsibilities, a.score, a.bic, a.aic, a.precision
    );
    assert!(a.log_prob <= 1e-12, "{a:?}");
    assert!(a.responsibilities <= 1e-12, "{a:?}");
    assert!(a.score <= 1e-12, "{a:?}");
    assert!(a.bic <= 1e-10 && a.aic <= 1e-10, "{a:?}");
    assert!(a.precision <= 1e-10, "{a:?}");
    a
}

#[test]
fn scikit_learn_models_score_the_same_in_gaussmix() {
    let doc: Value = serde_json::from_str(SKLEARN).unwrap();
    assert_eq!(doc["scikit_learn"], "1.9.1");
    let data: Value = serde_json::from_str(DATA).unwrap();
    let test = points(&data, "test");
    assert_eq!(test.len(), 60);
    models_in::<Full>(&doc, &test);
    models_in::<Diag>(&doc, &test);
    models_in::<Spherical>(&doc, &test);
    models_in::<Tied>(&doc, &test);
}

/// gaussmix's fit of one kind on the training points and its scores of
/// the held-out ones, as the export holds them.
fn export<C: CovarianceKind>(train: &[X], test: &[X]) -> Value {
    let start: Gmm<f64, 3, 3, C> = init::kmeans_plus_plus(train, &mut common::rng(11)).unwrap();
    let model = start.fit(train, &FitOptions::default()).unwrap().model;
    let log_prob: Vec<f64> = test.iter().map(|x| model.log_prob(x).unwrap()).collect();
    let responsibilities: Vec<[f64; 3]> = test
        .iter()
        .map(|x| model.responsibilities(x).unwrap().into())
        .collect();
    let predict: Vec<usize> = test.iter().map(|x| model.predict(x).unwrap()).collect();
    json!({
        "model": model,
        "log_prob": log_prob,
        "responsibilities": responsibilities,
        "predict": predict,
    })
}

#[test]
fn gaussmix_models_export_for_scikit_learn() {
    let data: Value = serde_json::from_str(DATA).unwrap();
    let (train, test) = (points(&data, "train"), points(&data, "test"));
    let now = json!({
        "generator": "tests/sklearn_models.rs (GAUSSMIX_WRITE_SKLEARN=1)",
        "kinds": {
            "full": export::<Full>(&train, &test),
            "diag": export::<Diag>(&train, &test),
            "spherical": export::<Spherical>(&train, &test),
            "tied": export::<Tied>(&train, &test),
        }
    });
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(EXPORT);
    if std::env::var_os("GAUSSMIX_WRITE_SKLEARN").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
    }
    // The committed export is what gaussmix computes today (to rounding
    // across platforms), and its models read back through Gmm::new.
    let committed: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    fn numbers(v: &Value, out: &mut Vec<f64>) {
        match v {
            Value::Number(n) => out.push(n.as_f64().unwrap()),
            Value::Array(a) => a.iter().for_each(|x| numbers(x, out)),
            Value::Object(o) => o.values().for_each(|x| numbers(x, out)),
            _ => {}
        }
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    numbers(&now["kinds"], &mut a);
    numbers(&committed["kinds"], &mut b);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!(
            (x - y).abs() <= 1e-12 * y.abs().max(1.0),
            "{x} vs committed {y}"
        );
    }
    for kind in ["full", "diag", "spherical", "tied"] {
        assert_eq!(committed["kinds"][kind]["model"]["kind"], kind);
    }
    let _: Gmm<f64, 3, 3, Full> =
        serde_json::from_value(committed["kinds"]["full"]["model"].clone()).unwrap();
    let _: Gmm<f64, 3, 3, Tied> =
        serde_json::from_value(committed["kinds"]["tied"]["model"].clone()).unwrap();
}
