//! gaussmix's EM against an independent float64 reference, for every
//! covariance kind.
//!
//! `tests/reference/em_reference.py` runs textbook EM in numpy (log-sum-exp
//! responsibilities, `slogdet`/`solve` or per-variance log-densities,
//! two-pass covariances, no regularisation) for the kinds full, diag,
//! spherical and tied, and writes the data, the initial model and the model
//! after 0, 1, 2, 5 and 10 iterations with its total log-likelihood to
//! `tests/reference/*.txt` (format in `tests/reference/README.md`; the
//! covariances always as full matrices). Here the same data and initial
//! model, built as the kind stores it (`Gmm::<f64, D, K, Kind>::new` with
//! the diagonals, the `[0][0]` entries or the one shared matrix), go through
//! [`gaussmix::em_step`] and [`gaussmix::fit`] with `reg_covar = 0`, and
//! every weight, mean coordinate, covariance entry and log-likelihood must
//! agree with the reference within `1e-9 · max(1, |reference|)`. One generic
//! function checks every fixture; `every_fixture_is_checked` makes sure no
//! file in `tests/reference/` is left out.

mod common;

use std::ops::ControlFlow;

use common::Kind;
use gaussmix::nalgebra::{SMatrix, SVector};
use gaussmix::{
    em_step, fit, Diag, FitOptions, Frozen, Full, Gmm, Spherical, SufficientStats, Termination,
    Tied,
};

/// Allowed deviation, relative to `max(1, |reference|)`.
const TOL: f64 = 1e-9;

/// One recorded iteration of the reference: the model after `iteration`
/// M-steps and the total log-likelihood of the data under it.
struct Snapshot<const D: usize, const K: usize> {
    iteration: usize,
    log_likelihood: f64,
    weights: [f64; K],
    means: [SVector<f64, D>; K],
    covariances: [SMatrix<f64, D, D>; K],
}

impl<const D: usize, const K: usize> Snapshot<D, K> {
    /// The recorded model as a `Gmm` of kind `C`, built from what `C`
    /// stores of the recorded matrices (the reference's initial model when
    /// `iteration == 0`). The recorded matrices must have the kind's form
    /// exactly (zero off-diagonals for diag, one variance per component for
    /// spherical, one matrix for tied): the model's `covariances()` must
    /// reproduce them bit for bit.
    fn model<C: Kind>(&self) -> Gmm<f64, D, K, C> {
        let t = self.iteration;
        let model = C::from_full(self.weights, self.means, &self.covariances)
            .unwrap_or_else(|e| panic!("iteration {t}: invalid {} model: {e:?}", C::NAME));
        for (k, (got, want)) in model
            .covariances()
            .iter()
            .zip(&self.covariances)
            .enumerate()
        {
            assert_eq!(
                got,
                want,
                "iteration {t}: recorded cov {k} is not a {} covariance",
                C::NAME
            );
        }
        model
    }
}

/// A parsed fixture file.
struct Fixture<const D: usize, const K: usize> {
    /// The covariance kind named by the `kind` line (`"full"` without one).
    kind: String,
    /// The parameters the `frozen` line holds fixed (none without one).
    frozen: Frozen,
    data: Vec<[f64; D]>,
    snapshots: Vec<Snapshot<D, K>>,
}

impl<const D: usize, const K: usize> Fixture<D, K> {
    fn snapshot(&self, iteration: usize) -> Option<&Snapshot<D, K>> {
        self.snapshots.iter().find(|s| s.iteration == iteration)
    }
}

/// Parses one float, naming `line` on error.
fn float(token: &str, line: usize) -> f64 {
    token
        .parse::<f64>()
        .unwrap_or_else(|e| panic!("line {line}: bad float {token:?}: {e}"))
}

/// Parses exactly `N` floats from `tokens` into an array.
fn floats<const N: usize>(tokens: &[&str], line: usize) -> [f64; N] {
    assert_eq!(
        tokens.len(),
        N,
        "line {line}: expected {N} values, found {}",
        tokens.len()
    );
    let mut out = [0.0; N];
    for (slot, token) in out.iter_mut().zip(tokens) {
        *slot = float(token, line);
    }
    out
}

fn integer(token: &str, line: usize) -> usize {
    token
        .parse()
        .unwrap_or_else(|e| panic!("line {line}: bad integer {token:?}: {e}"))
}

/// Iteration data being read: which of its `K` means and covariances have
/// been seen.
struct Partial<const D: usize, const K: usize> {
    iteration: usize,
    log_likelihood: Option<f64>,
    weights: Option<[f64; K]>,
    means: [Option<SVector<f64, D>>; K],
    covariances: [Option<SMatrix<f64, D, D>>; K],
}

impl<const D: usize, const K: usize> Partial<D, K> {
    fn finish(self) -> Snapshot<D, K> {
        let t = self.iteration;
        let missing = |what: &str| -> ! { panic!("iteration {t}: no {what}") };
        Snapshot {
            iteration: t,
            log_likelihood: self.log_likelihood.unwrap_or_else(|| missing("loglik")),
            weights: self.weights.unwrap_or_else(|| missing("weights")),
            means: self.means.map(|m| m.unwrap_or_else(|| missing("mean"))),
            covariances: self
                .covariances
                .map(|c| c.unwrap_or_else(|| missing("cov"))),
        }
    }
}

/// Parses a fixture for `D` dimensions and `K` components (the `dims` line
/// must agree).
fn parse<const D: usize, const K: usize>(text: &str) -> Fixture<D, K> {
    let mut points = None;
    let mut kind = None;
    let mut frozen = Frozen::NONE;
    let mut data = Vec::new();
    let mut snapshots = Vec::new();
    let mut current: Option<Partial<D, K>> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let tokens: Vec<&str> = raw.split_whitespace().collect();
        let Some((&keyword, rest)) = tokens.split_first() else {
            continue;
        };
        if keyword.starts_with('#') {
            continue;
        }
        let partial = || -> Partial<D, K> { panic!("line {line}: {keyword} before iteration") };
        match keyword {
            "dims" => {
                assert_eq!(rest.len(), 3, "line {line}: dims D K N");
                let dims = [integer(rest[0], line), integer(rest[1], line)];
                assert_eq!(dims, [D, K], "line {line}: fixture dims vs test's D, K");
                points = Some(integer(rest[2], line));
            }
            "kind" => {
                assert_eq!(rest.len(), 1, "line {line}: kind NAME");
                assert!(kind.is_none(), "line {line}: second kind line");
                assert!(current.is_none(), "line {line}: kind after iteration");
                kind = Some(rest[0].to_string());
            }
            "frozen" => {
                assert!(current.is_none(), "line {line}: frozen after iteration");
                for name in rest {
                    frozen = match *name {
                        "weights" => frozen.with_weights(),
                        "means" => frozen.with_means(),
                        "covariances" => frozen.with_covariances(),
                        other => panic!("line {line}: unknown frozen parameter {other:?}"),
                    };
                }
            }
            "point" => {
                assert!(current.is_none(), "line {line}: point after iteration");
                data.push(floats::<D>(rest, line));
            }
            "iteration" => {
                assert_eq!(rest.len(), 1, "line {line}: iteration t");
                snapshots.extend(current.take().map(Partial::finish));
                current = Some(Partial {
                    iteration: integer(rest[0], line),
                    log_likelihood: None,
                    weights: None,
                    means: [None; K],
                    covariances: [None; K],
                });
            }
            "loglik" => {
                let p = current.get_or_insert_with(partial);
                p.log_likelihood = Some(floats::<1>(rest, line)[0]);
            }
            "weights" => {
                let p = current.get_or_insert_with(partial);
                p.weights = Some(floats::<K>(rest, line));
            }
            "mean" | "cov" => {
                let p = current.get_or_insert_with(partial);
                assert!(!rest.is_empty(), "line {line}: {keyword} k values...");
                let k = integer(rest[0], line);
                assert!(k < K, "line {line}: component {k} out of range");
                if keyword == "mean" {
                    p.means[k] = Some(SVector::from(floats::<D>(&rest[1..], line)));
                } else {
                    // Row-major D·D values: from_row_slice reads them so.
                    assert_eq!(rest.len() - 1, D * D, "line {line}: cov needs D*D values");
                    let v: Vec<f64> = rest[1..].iter().map(|t| float(t, line)).collect();
                    p.covariances[k] = Some(SMatrix::from_row_slice(&v));
                }
            }
            other => panic!("line {line}: unknown record {other:?}"),
        }
    }
    snapshots.extend(current.map(Partial::finish));
    assert_eq!(Some(data.len()), points, "number of points vs dims line");
    assert!(
        snapshots.first().is_some_and(|s| s.iteration == 0),
        "the fixture must record iteration 0 (the initial model)"
    );
    assert!(
        snapshots
            .windows(2)
            .all(|w| w[0].iteration < w[1].iteration),
        "iterations must increase"
    );
    Fixture {
        kind: kind.unwrap_or_else(|| "full".to_string()),
        frozen,
        data,
        snapshots,
    }
}

/// Compares values against the reference, keeping the largest deviations
/// and panicking on the first one beyond [`TOL`].
struct Checker {
    case: &'static str,
    compared: usize,
    max_abs: f64,
    max_abs_at: String,
    max_rel: f64,
    max_rel_at: String,
}

impl Checker {
    fn new(case: &'static str) -> Self {
        Self {
            case,
            compared: 0,
            max_abs: 0.0,
            max_abs_at: String::new(),
            max_rel: 0.0,
            max_rel_at: String::new(),
        }
    }

    /// Checks one value; `what` names the quantity and its indices.
    fn value(&mut self, iteration: usize, what: &str, got: f64, want: f64) {
        let abs = (got - want).abs();
        let rel = abs / want.abs().max(1.0);
        self.compared += 1;
        let at = || format!("iteration {iteration}, {what}");
        if abs > self.max_abs {
            self.max_abs = abs;
            self.max_abs_at = at();
        }
        if rel > self.max_rel {
            self.max_rel = rel;
            self.max_rel_at = at();
        }
        // `!(rel <= TOL)` also fails on NaN.
        assert!(
            rel <= TOL,
            "{}: iteration {iteration}: {what}: gaussmix {got:?} vs reference {want:?} \
             (|diff| = {abs:e}, relative {rel:e} > {TOL:e})",
            self.case
        );
    }

    /// Checks the weights, means, covariances of `model` and its
    /// log-likelihood on `data` against a snapshot; `source` says how the
    /// model was obtained.
    fn model<C: Kind, const D: usize, const K: usize>(
        &mut self,
        source: &str,
        model: &Gmm<f64, D, K, C>,
        data: &[[f64; D]],
        want: &Snapshot<D, K>,
    ) {
        let t = want.iteration;
        for k in 0..K {
            self.value(
                t,
                &format!("{source}: weight[{k}]"),
                model.weights()[k],
                want.weights[k],
            );
        }
        for (k, (got, want)) in model.means().iter().zip(&want.means).enumerate() {
            for i in 0..D {
                self.value(t, &format!("{source}: mean[{k}][{i}]"), got[i], want[i]);
            }
        }
        for (k, (got, want)) in model
            .covariances()
            .iter()
            .zip(&want.covariances)
            .enumerate()
        {
            for i in 0..D {
                for j in 0..D {
                    self.value(
                        t,
                        &format!("{source}: cov[{k}][({i}, {j})]"),
                        got[(i, j)],
                        want[(i, j)],
                    );
                }
            }
        }
        let ll = model
            .log_likelihood(data)
            .unwrap_or_else(|e| panic!("{}: iteration {t}: log_likelihood: {e:?}", self.case));
        self.value(
            t,
            &format!("{source}: model.log_likelihood(data)"),
            ll,
            want.log_likelihood,
        );
    }

    /// Prints the largest deviations, then `note`, in one piece (tests run
    /// in parallel).
    fn report(&self, note: &str) {
        println!(
            "{}: {} values compared\n  largest absolute deviation |got - ref|: {:.3e} ({})\n  \
             largest relative deviation |got - ref| / max(1, |ref|): {:.3e} ({}); tolerance {TOL:e}\n  \
             {note}",
            self.case,
            self.compared,
            self.max_abs,
            self.max_abs_at,
            self.max_rel,
            self.max_rel_at,
        );
    }
}

/// Runs one fixture for kind `C`: the recorded models, `em_step` from the
/// reference's initial model one iteration at a time, then `fit` to each
/// recorded iteration.
fn check_case<C: Kind, const D: usize, const K: usize>(case: &'static str, text: &str) {
    let fixture = parse::<D, K>(text);
    assert_eq!(fixture.kind, C::NAME, "{case}: the fixture's kind line");
    let data = &fixture.data;
    let init: Gmm<f64, D, K, C> = fixture.snapshots[0].model();
    let last = fixture.snapshots.last().map_or(0, |s| s.iteration);
    let mut check = Checker::new(case);

    // The recorded models themselves: each snapshot, built as the kind
    // stores it, must have the recorded log-likelihood (the E-step and
    // log-density alone, without an M-step in between).
    for s in &fixture.snapshots {
        check.model("recorded model", &s.model::<C>(), data, s);
    }

    if fixture.frozen != Frozen::NONE {
        check_frozen(&fixture, init, &mut check);
        check.report(&format!("kind {}, frozen {:?}", C::NAME, fixture.frozen));
        assert!(check.max_rel <= TOL, "{case}: largest relative deviation");
        return;
    }

    // em_step, one iteration at a time. The step out of the last recorded
    // model is also taken, only for the log-likelihood it returns.
    let mut model = init;
    for t in 0..=last {
        let want = fixture.snapshot(t);
        if let Some(want) = want {
            check.model("em_step", &model, data, want);
        }
        let gaussmix::EmStep {
            model: next,
            log_likelihood: old_ll,
            ..
        } = em_step(data, &model, 0.0)
            .unwrap_or_else(|e| panic!("{case}: em_step from iteration {t}: {e:?}"));
        if let Some(want) = want {
            check.value(
                t,
                "log-likelihood returned by em_step for this (old) model",
                old_ll,
                want.log_likelihood,
            );
        }
        model = next;
    }

    // fit with tol = 0 and max_iter = t, for every recorded t ≥ 1. It
    // stops early only if an iteration lowers the mean log-likelihood.
    // Exact EM never does; rounding can only at a fixed point. Seven
    // fixtures are far from one at t = 10 (the log-likelihood still rises
    // by 0.1 or more per iteration: the smallest rise is printed below), so
    // the fit runs all t iterations. d5k4_tied reaches a fixed point at
    // t = 9 (the reference's log-likelihood rises by 1e-14 relative from
    // t = 9 to 10, its clusters fully separated), where rounding may lower
    // it: then the fit stops with `Converged` and hands back the model
    // before the fall, which is still the t = 10 model within the
    // tolerance. The callback's trace of the longest fit is checked at
    // every recorded t.
    let mut trace = Vec::new();
    for want in fixture.snapshots.iter().filter(|s| s.iteration > 0) {
        let t = want.iteration;
        let source = format!("fit(max_iter = {t})");
        let options = FitOptions::default()
            .with_max_iter(t)
            .with_tol(0.0)
            .with_reg_covar(0.0);
        trace.clear();
        let report = fit(data, init, &options, |it| {
            trace.push((it.iteration, it.log_likelihood));
            ControlFlow::Continue(())
        })
        .unwrap_or_else(|e| panic!("{case}: {source}: {e:?}"));
        assert_eq!(
            trace.iter().map(|&(t, _)| t).collect::<Vec<_>>(),
            (0..=report.iterations).collect::<Vec<_>>(),
            "{case}: {source}: callback iterations"
        );
        match report.termination {
            Termination::MaxIterations => assert_eq!(report.iterations, t, "{case}: {source}"),
            Termination::Converged => {
                // Only a fall within rounding (1e-12 relative) at a fixed point.
                let &[.., (_, before), (_, after)] = trace.as_slice() else {
                    panic!("{case}: {source} converged without an iteration")
                };
                assert!(
                    after < before && before - after <= 1e-12 * before.abs(),
                    "{case}: {source} stopped at iteration {}: {before} -> {after}",
                    report.iterations
                );
            }
            other => panic!("{case}: {source} stopped: {other:?}"),
        }
        check.model(&source, &report.model, data, want);
        check.value(
            t,
            &format!("{source}: report.log_likelihood"),
            report.log_likelihood,
            want.log_likelihood,
        );
    }
    for s in &fixture.snapshots {
        if let Some(&(_, ll)) = trace.get(s.iteration) {
            check.value(
                s.iteration,
                "fit: callback log-likelihood",
                ll,
                s.log_likelihood,
            );
        }
    }
    let smallest_rise = trace
        .windows(2)
        .map(|w| w[1].1 - w[0].1)
        .fold(f64::INFINITY, f64::min);

    check.report(&format!(
        "kind {}; smallest rise of the log-likelihood over one fit iteration: {smallest_rise:.3e}",
        C::NAME
    ));
    assert!(check.max_rel <= TOL, "{case}: largest relative deviation");
}

/// A fixture with frozen parameters: M-steps one at a time
/// (`SufficientStats::m_step_frozen`) and fits with `FitOptions::frozen`
/// (tol = 0, no regularisation) against every recorded model.
fn check_frozen<C: Kind, const D: usize, const K: usize>(
    fixture: &Fixture<D, K>,
    init: Gmm<f64, D, K, C>,
    check: &mut Checker,
) {
    let data = &fixture.data;
    let frozen = fixture.frozen;
    let last = fixture.snapshots.last().map_or(0, |s| s.iteration);
    let mut model = init;
    for t in 0..=last {
        if let Some(want) = fixture.snapshot(t) {
            check.model("m_step_frozen", &model, data, want);
        }
        let mut stats = SufficientStats::new(&model);
        stats.accumulate_slice(&model, data).unwrap();
        while stats.needs_recentring() {
            stats = stats.recentred();
            stats.accumulate_slice(&model, data).unwrap();
        }
        let next = stats.m_step_frozen(&model, 0.0, frozen).unwrap();
        // The frozen parameters do not move by a bit.
        if frozen.weights {
            assert_eq!(next.weights(), model.weights(), "iteration {t}: weights");
        }
        if frozen.means {
            assert_eq!(next.means(), model.means(), "iteration {t}: means");
        }
        if frozen.covariances {
            assert_eq!(
                next.covariances(),
                model.covariances(),
                "iteration {t}: covariances"
            );
        }
        model = next;
    }
    for want in fixture.snapshots.iter().filter(|s| s.iteration > 0) {
        let t = want.iteration;
        let options = FitOptions::default()
            .with_max_iter(t)
            .with_tol(0.0)
            .with_reg_covar(0.0)
            .with_frozen(frozen);
        let report = fit(data, init, &options, |_| ControlFlow::Continue(())).unwrap();
        assert_eq!(report.iterations, t, "fit(max_iter = {t}) with {frozen:?}");
        check.model(
            &format!("fit(max_iter = {t}, frozen)"),
            &report.model,
            data,
            want,
        );
    }
}

/// Reads `tests/reference/{case}.txt` and checks it for kind `C`.
fn check_file<C: Kind, const D: usize, const K: usize>(case: &'static str) {
    let path = format!("{}/tests/reference/{case}.txt", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    check_case::<C, D, K>(case, &text);
}

/// One test per fixture, and the list of them for `every_fixture_is_checked`.
macro_rules! fixtures {
    ($($test:ident: $case:literal, $kind:ty, D = $d:literal, K = $k:literal;)*) => {
        /// Every fixture this file checks, by name (`tests/reference/NAME.txt`).
        const FIXTURES: &[&str] = &[$($case),*];
        $(
            #[test]
            fn $test() {
                check_file::<$kind, $d, $k>($case);
            }
        )*
    };
}

fixtures! {
    d2k3_matches_numpy_reference: "d2k3", Full, D = 2, K = 3;
    d2k3_diag_matches_numpy_reference: "d2k3_diag", Diag, D = 2, K = 3;
    d2k3_spherical_matches_numpy_reference: "d2k3_spherical", Spherical, D = 2, K = 3;
    d2k3_tied_matches_numpy_reference: "d2k3_tied", Tied, D = 2, K = 3;
    d5k4_matches_numpy_reference: "d5k4", Full, D = 5, K = 4;
    d5k4_diag_matches_numpy_reference: "d5k4_diag", Diag, D = 5, K = 4;
    d5k4_spherical_matches_numpy_reference: "d5k4_spherical", Spherical, D = 5, K = 4;
    d5k4_tied_matches_numpy_reference: "d5k4_tied", Tied, D = 5, K = 4;
    d2k3_frozen_means_matches_numpy_reference: "d2k3_frozen_means", Full, D = 2, K = 3;
    d2k3_diag_frozen_means_matches_numpy_reference: "d2k3_diag_frozen_means", Diag, D = 2, K = 3;
    d2k3_spherical_frozen_means_matches_numpy_reference:
        "d2k3_spherical_frozen_means", Spherical, D = 2, K = 3;
    d2k3_tied_frozen_means_matches_numpy_reference: "d2k3_tied_frozen_means", Tied, D = 2, K = 3;
    d2k3_frozen_weights_covariances_matches_numpy_reference:
        "d2k3_frozen_weights_covariances", Full, D = 2, K = 3;
    d2k3_diag_frozen_weights_covariances_matches_numpy_reference:
        "d2k3_diag_frozen_weights_covariances", Diag, D = 2, K = 3;
    d2k3_spherical_frozen_weights_covariances_matches_numpy_reference:
        "d2k3_spherical_frozen_weights_covariances", Spherical, D = 2, K = 3;
    d2k3_tied_frozen_weights_covariances_matches_numpy_reference:
        "d2k3_tied_frozen_weights_covariances", Tied, D = 2, K = 3;
}

/// No fixture in `tests/reference/` goes unchecked: the `.txt` files there
/// are exactly the ones listed above.
#[test]
fn every_fixture_is_checked() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference");
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "txt"))
        .map(|path| {
            path.file_stem()
                .and_then(|s| s.to_str())
                .expect("UTF-8 file name")
                .to_string()
        })
        .collect();
    found.sort();
    let mut listed: Vec<String> = FIXTURES.iter().map(|s| (*s).to_string()).collect();
    listed.sort();
    assert_eq!(
        found, listed,
        "fixtures in {dir} vs the ones this file checks"
    );
}
