//! The `serde` feature: models of every kind round-trip through JSON bit
//! for bit in scikit-learn's shapes; a document that would make an invalid
//! model is a deserialisation error; the small public types round-trip.
#![cfg(feature = "serde")]

mod common;

use gaussmix::nalgebra::{matrix, vector};
use gaussmix::{
    Diag, Error, FitOptions, FitReport, Frozen, Full, Gmm, OnlineOptions, Spherical, StepSize,
    Termination, Tied,
};

fn round_trip<M>(m: &M) -> M
where
    M: serde::Serialize + serde::de::DeserializeOwned,
{
    let text = serde_json::to_string(m).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A fitted model of each kind, `f64` and `f32`, through JSON: equal bit
/// for bit (serde_json writes the shortest representation that reads back).
fn fitted<C: common::Kind>() {
    let data = common::sample(&common::three_clusters(), 500, 3);
    let start: Gmm<f64, 2, 3, C> =
        gaussmix::init::random_points(&data, &mut common::rng(1)).unwrap();
    let report = start.fit(&data, &FitOptions::default()).unwrap();
    assert_eq!(round_trip(&report.model), report.model);
    assert_eq!(round_trip(&report), report);
    let single: Vec<_> = data.iter().map(|x| x.cast::<f32>()).collect();
    let start: Gmm<f32, 2, 3, C> =
        gaussmix::init::random_points(&single, &mut common::rng(1)).unwrap();
    let model = start.fit(&single, &FitOptions::default()).unwrap().model;
    assert_eq!(round_trip(&model), model);
}

#[test]
fn every_kind_round_trips() {
    fitted::<Full>();
    fitted::<Diag>();
    fitted::<Spherical>();
    fitted::<Tied>();
}

#[test]
fn documents_have_scikit_learns_shapes() {
    let full = Gmm::<f64, 2, 2>::new(
        [0.25, 0.75],
        [vector![0.0, 1.0], vector![2.0, 3.0]],
        [matrix![1.0, 0.5; 0.5, 2.0], matrix![3.0, 0.0; 0.0, 4.0]],
    )
    .unwrap();
    assert_eq!(
        serde_json::to_string(&full).unwrap(),
        r#"{"kind":"full","weights":[0.25,0.75],"means":[[0.0,1.0],[2.0,3.0]],"covariances":[[[1.0,0.5],[0.5,2.0]],[[3.0,0.0],[0.0,4.0]]]}"#
    );
    let diag = Gmm::<f64, 2, 2, Diag>::new(
        [0.25, 0.75],
        [vector![0.0, 1.0], vector![2.0, 3.0]],
        [vector![1.0, 2.0], vector![3.0, 4.0]],
    )
    .unwrap();
    assert_eq!(
        serde_json::to_string(&diag).unwrap(),
        r#"{"kind":"diag","weights":[0.25,0.75],"means":[[0.0,1.0],[2.0,3.0]],"covariances":[[1.0,2.0],[3.0,4.0]]}"#
    );
    let spherical = Gmm::<f64, 2, 2, Spherical>::new(
        [0.25, 0.75],
        [vector![0.0, 1.0], vector![2.0, 3.0]],
        [1.5, 2.5],
    )
    .unwrap();
    assert_eq!(
        serde_json::to_string(&spherical).unwrap(),
        r#"{"kind":"spherical","weights":[0.25,0.75],"means":[[0.0,1.0],[2.0,3.0]],"covariances":[1.5,2.5]}"#
    );
    let tied = Gmm::<f64, 2, 2, Tied>::new(
        [0.25, 0.75],
        [vector![0.0, 1.0], vector![2.0, 3.0]],
        matrix![1.0, 0.5; 0.5, 2.0],
    )
    .unwrap();
    let text = serde_json::to_string(&tied).unwrap();
    assert_eq!(
        text,
        r#"{"kind":"tied","weights":[0.25,0.75],"means":[[0.0,1.0],[2.0,3.0]],"covariances":[[1.0,0.5],[0.5,2.0]]}"#
    );
    // Fields in any order, or as a sequence in the documented order.
    let reordered = r#"{"covariances":[[1.0,0.5],[0.5,2.0]],"means":[[0.0,1.0],[2.0,3.0]],"kind":"tied","weights":[0.25,0.75]}"#;
    assert_eq!(
        serde_json::from_str::<Gmm<f64, 2, 2, Tied>>(reordered).unwrap(),
        tied
    );
    let as_sequence = r#"["tied",[0.25,0.75],[[0.0,1.0],[2.0,3.0]],[[1.0,0.5],[0.5,2.0]]]"#;
    assert_eq!(
        serde_json::from_str::<Gmm<f64, 2, 2, Tied>>(as_sequence).unwrap(),
        tied
    );
}

/// Each document is refused, with a message containing `says`.
fn refused<M: serde::de::DeserializeOwned + core::fmt::Debug>(doc: &str, says: &str) {
    match serde_json::from_str::<M>(doc) {
        Ok(m) => panic!("accepted {doc}: {m:?}"),
        Err(e) => assert!(
            e.to_string().contains(says),
            "{doc}: {e} (expected `{says}`)"
        ),
    }
}

#[test]
fn invalid_documents_are_errors_never_models() {
    let ok = r#"{"kind":"full","weights":[0.25,0.75],"means":[[0.0,1.0],[2.0,3.0]],"covariances":[[[1.0,0.5],[0.5,2.0]],[[3.0,0.0],[0.0,4.0]]]}"#;
    serde_json::from_str::<Gmm<f64, 2, 2>>(ok).unwrap();
    let with = |from: &str, to: &str| {
        assert!(ok.contains(from));
        ok.replacen(from, to, 1)
    };
    type G = Gmm<f64, 2, 2>;
    // What Gmm::new refuses: the error's own message.
    refused::<G>(
        &with("[0.25,0.75]", "[-0.25,1.25]"),
        &Error::InvalidWeights.to_string(),
    );
    refused::<G>(
        &with("[0.25,0.75]", "[0.25,0.8]"),
        &Error::InvalidWeights.to_string(),
    );
    refused::<G>(
        &with("[[1.0,0.5],[0.5,2.0]]", "[[1.0,2.0],[2.0,1.0]]"),
        &Error::NotPositiveDefinite { component: 0 }.to_string(),
    );
    refused::<G>(
        &with("[[3.0,0.0],[0.0,4.0]]", "[[3.0,1.0],[0.0,4.0]]"),
        "component 1",
    );
    // f32: a number beyond f32's range is refused by serde_json itself.
    refused::<Gmm<f32, 2, 2>>(
        &with("[[0.0,1.0],[2.0,3.0]]", "[[0.0,1e39],[2.0,3.0]]"),
        "out of range",
    );
    // Shape and kind.
    refused::<G>(&with("\"full\"", "\"diag\""), "\"full\"");
    refused::<G>(
        &with("[0.25,0.75]", "[0.25,0.25,0.5]"),
        "sequence of 2 entries",
    );
    refused::<G>(
        &with("[[0.0,1.0],[2.0,3.0]]", "[[0.0,1.0],[2.0]]"),
        "sequence of 2 entries",
    );
    refused::<G>(&with("\"means\"", "\"centres\""), "unknown field `centres`");
    refused::<G>(
        r#"{"kind":"full","weights":[0.5,0.5]}"#,
        "missing field `means`",
    );
    refused::<G>(
        r#"{"kind":"full","kind":"full","weights":[0.5,0.5]}"#,
        "duplicate field `kind`",
    );
    refused::<G>(&with("0.25,", "null,"), "invalid type");
    refused::<Gmm<f64, 2, 2, Spherical>>(
        r#"{"kind":"spherical","weights":[0.5,0.5],"means":[[0.0,0.0],[1.0,1.0]],"covariances":[1.0,-1.0]}"#,
        "component 1",
    );
}

#[test]
fn options_reports_and_errors() {
    let options = FitOptions::<f64>::default()
        .with_max_iter(7)
        .with_tol(1e-5)
        .with_frozen(Frozen::NONE.with_means());
    assert_eq!(round_trip(&options), options);
    // Missing fields take their defaults.
    let partial: FitOptions<f64> = serde_json::from_str(r#"{"max_iter": 5}"#).unwrap();
    assert_eq!(partial, FitOptions::default().with_max_iter(5));
    let online = OnlineOptions::<f32>::default()
        .with_step(StepSize::Constant(0.01))
        .with_refresh(4);
    assert_eq!(round_trip(&online), online);
    assert_eq!(round_trip(&Termination::Converged), Termination::Converged);
    assert_eq!(
        serde_json::to_string(&Error::InvalidOption { option: "tol" }).unwrap(),
        r#"{"InvalidOption":{"option":"tol"}}"#
    );
    assert_eq!(
        serde_json::to_string(&Error::NonFiniteData { index: 3 }).unwrap(),
        r#"{"NonFiniteData":{"index":3}}"#
    );
    // A report's model is validated like any other.
    let data = common::sample(&common::two_clusters(), 200, 2);
    let report: FitReport<f64, 2, 2> = common::two_clusters()
        .fit(&data, &FitOptions::default())
        .unwrap();
    let text = serde_json::to_string(&report).unwrap();
    let broken = text.replacen("\"weights\":[", "\"weights\":[-", 1);
    refused::<FitReport<f64, 2, 2>>(&broken, &Error::InvalidWeights.to_string());
}

#[test]
fn binary_documents_with_nan_or_infinity_are_errors() {
    // postcard writes structs as sequences and floats as raw bits, so a
    // document can hold what JSON cannot.
    let model = Gmm::<f32, 2, 2>::new(
        [0.25, 0.75],
        [vector![0.0, 1.5], vector![2.5, 3.5]],
        [matrix![1.0, 0.5; 0.5, 2.0], matrix![3.0, 0.0; 0.0, 4.0]],
    )
    .unwrap();
    let bytes = postcard::to_allocvec(&model).unwrap();
    assert_eq!(
        postcard::from_bytes::<Gmm<f32, 2, 2>>(&bytes).unwrap(),
        model
    );
    // Replace the bits of one number (the mean 1.5, the weight 0.25, the
    // covariance 2.0) by NaN, ±infinity or a negative value.
    let patch = |old: f32, new: f32| {
        let (o, n) = (old.to_le_bytes(), new.to_le_bytes());
        let at = bytes.windows(4).position(|w| w == o).unwrap();
        let mut b = bytes.clone();
        b[at..at + 4].copy_from_slice(&n);
        b
    };
    let expect = |b: Vec<u8>, e: Error| match postcard::from_bytes::<Gmm<f32, 2, 2>>(&b) {
        Ok(m) => panic!("accepted {m:?}"),
        Err(got) => assert_eq!(got, postcard::Error::SerdeDeCustom, "{e}"),
    };
    expect(
        patch(1.5, f32::NAN),
        Error::NonFiniteParameter { component: 0 },
    );
    expect(
        patch(1.5, f32::INFINITY),
        Error::NonFiniteParameter { component: 0 },
    );
    expect(
        patch(0.25, f32::NAN),
        Error::NonFiniteParameter { component: 0 },
    );
    expect(patch(0.25, -0.25), Error::InvalidWeights);
    expect(
        patch(2.0, f32::NEG_INFINITY),
        Error::NotPositiveDefinite { component: 0 },
    );
    expect(
        patch(2.0, -2.0),
        Error::NotPositiveDefinite { component: 0 },
    );
    // The kind is checked in sequences too.
    let diag: Result<Gmm<f32, 2, 2, Diag>, _> = postcard::from_bytes(&bytes);
    assert!(diag.is_err());
}

#[test]
fn a_firmware_reads_a_scikit_learn_document_without_allocating() {
    // The README's path from Python to a microcontroller: the JSON that
    // `tests/sklearn/sklearn_models.py` writes from a fitted
    // GaussianMixture, read by serde-json-core (no_std, no alloc) into an
    // f32 model, which scores like the f64 one read by serde_json.
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("sklearn/sklearn_models.json")).unwrap();
    let text = serde_json::to_string(&doc["kinds"]["full"]["model"]).unwrap();
    let (single, used): (Gmm<f32, 3, 3>, usize) =
        serde_json_core::from_slice(text.as_bytes()).unwrap();
    assert_eq!(used, text.len());
    let double: Gmm<f64, 3, 3> = serde_json::from_str(&text).unwrap();
    let x = vector![0.5, -0.2, 0.1];
    let (a, b) = (
        single.log_prob(&x.cast::<f32>()).unwrap(),
        double.log_prob(&x).unwrap(),
    );
    assert!((f64::from(a) - b).abs() < 1e-5 * b.abs(), "{a} vs {b}");
    // And refuses an invalid one.
    let bad = text.replacen("\"weights\":[", "\"weights\":[-", 1);
    assert!(serde_json_core::from_slice::<Gmm<f32, 3, 3>>(bad.as_bytes()).is_err());
}
