//! gaussmix's EM against an independent float64 reference.
//!
//! `tests/reference/em_reference.py` runs textbook EM in numpy (log-sum-exp
//! responsibilities, `slogdet`/`solve` log-densities, two-pass covariances,
//! no regularisation) and writes the data, the initial model and the model
//! after 0, 1, 2, 5 and 10 iterations with its total log-likelihood to
//! `tests/reference/*.txt` (format in `tests/reference/README.md`). Here the
//! same data and initial model go through [`gaussmix::em_step`] and
//! [`gaussmix::fit`] with `reg_covar = 0`, and every weight, mean coordinate,
//! covariance entry and log-likelihood must agree with the reference within
//! `1e-9 · max(1, |reference|)`.

use std::ops::ControlFlow;

use gaussmix::nalgebra::{SMatrix, SVector};
use gaussmix::{em_step, fit, FitOptions, Gmm, Termination};

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
    /// The recorded model as a `Gmm` (the reference's initial model when
    /// `iteration == 0`).
    fn model(&self) -> Gmm<f64, D, K> {
        Gmm::new(self.weights, self.means, self.covariances)
            .unwrap_or_else(|e| panic!("iteration {}: invalid model: {e:?}", self.iteration))
    }
}

/// A parsed fixture file.
struct Fixture<const D: usize, const K: usize> {
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
    Fixture { data, snapshots }
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
    fn model<const D: usize, const K: usize>(
        &mut self,
        source: &str,
        model: &Gmm<f64, D, K>,
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

    fn report(&self) {
        println!(
            "{}: {} values compared\n  largest absolute deviation |got - ref|: {:.3e} ({})\n  \
             largest relative deviation |got - ref| / max(1, |ref|): {:.3e} ({}); tolerance {TOL:e}",
            self.case,
            self.compared,
            self.max_abs,
            self.max_abs_at,
            self.max_rel,
            self.max_rel_at,
        );
    }
}

/// Runs one case: `em_step` from the reference's initial model, then `fit`.
fn check_case<const D: usize, const K: usize>(case: &'static str, text: &str) {
    let fixture = parse::<D, K>(text);
    let data = &fixture.data;
    let init = fixture.snapshots[0].model();
    let last = fixture.snapshots.last().map_or(0, |s| s.iteration);
    let mut check = Checker::new(case);

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

    // fit with tol = 0 stops early only if an iteration lowers the mean
    // log-likelihood. Exact EM never does, and rounding cannot here: both
    // fixtures are far from convergence at t = 10 (the reference's
    // log-likelihood still rises by several units per iteration), so the
    // fit runs all `last` iterations.
    let options = FitOptions::default()
        .with_max_iter(last)
        .with_tol(0.0)
        .with_reg_covar(0.0);
    let mut trace = Vec::new();
    let report = fit(data, init, &options, |it| {
        trace.push((it.iteration, it.log_likelihood));
        ControlFlow::Continue(())
    })
    .unwrap_or_else(|e| panic!("{case}: fit: {e:?}"));
    assert_eq!(
        (report.iterations, report.termination),
        (last, Termination::MaxIterations),
        "{case}: fit with tol = 0 stopped early"
    );
    let want = fixture.snapshots.last().expect("parsed");
    check.model("fit", &report.model, data, want);
    check.value(
        last,
        "fit: report.log_likelihood",
        report.log_likelihood,
        want.log_likelihood,
    );
    assert_eq!(
        trace.iter().map(|&(t, _)| t).collect::<Vec<_>>(),
        (0..=last).collect::<Vec<_>>(),
        "{case}: fit callback iterations"
    );
    for s in &fixture.snapshots {
        check.value(
            s.iteration,
            "fit: callback log-likelihood",
            trace[s.iteration].1,
            s.log_likelihood,
        );
    }

    check.report();
    assert!(check.max_rel <= TOL, "{case}: largest relative deviation");
}

#[test]
fn d2k3_matches_numpy_reference() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/d2k3.txt");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    check_case::<2, 3>("d2k3", &text);
}

#[test]
fn d5k4_matches_numpy_reference() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/d5k4.txt");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    check_case::<5, 4>("d5k4", &text);
}
