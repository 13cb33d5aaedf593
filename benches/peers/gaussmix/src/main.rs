//! gaussmix's side of benches/peers/run.sh.
//!
//!     gaussmix-peer-bench probe DATA_DIR CASE MAX_ITER
//!     gaussmix-peer-bench time DATA_DIR CASE TOTAL WARMUP
//!
//! Reads DATA_DIR/CASE.x.f64 and DATA_DIR/CASE.start.txt (written by
//! benches/peers/data.py) and works, for `f64` then `f32` (the same points,
//! rounded to nearest) and each covariance kind, with `gaussmix::fit` from
//! the file's start, `tol = 0` and the relative `reg_covar` that makes the
//! absolute regularisation the file's `reg_abs`.
//!
//! * `probe` fits with `max_iter = MAX_ITER` and prints `TYPE KIND m`, the
//!   iterations the fit made. With `tol = 0` gaussmix still stops
//!   (`Converged`) once a step lowers the mean log-likelihood by no more
//!   than rounding, i.e. at its fixed point; run.sh writes these counts to
//!   CASE.iters.txt and every program then runs exactly m iterations.
//! * `time` runs one untimed fit of WARMUP iterations, then REPS =
//!   ceil(TOTAL / (m - 1)) times a fit of `max_iter = 1` and a fit of m
//!   iterations, each timed. A fit of m iterations makes m + 1 E passes and
//!   m M-steps (the last E pass scores the returned model), as
//!   scikit-learn's; the difference of the two sums is the time of
//!   REPS · (m - 1) iterations, without the fixed cost (the checks and
//!   the last E pass). The baseline is one iteration, not zero, because
//!   scikit-learn cannot fit zero iterations from a given start. Prints one `RESULT key=value...` line per
//!   kind: both sums, the iterations made (-1 if any fit made other than asked), how
//!   the last ended, the mean log-likelihood of its model and the absolute
//!   regularisation of its last M-step.

use std::ops::ControlFlow;
use std::time::Instant;

use gaussmix::nalgebra::{SMatrix, SVector};
use gaussmix::{fit, CovarianceKind, Diag, FitOptions, Full, Gmm, Real, Spherical, Tied};

/// The shared start, all kinds' covariances, as in the file.
struct Start {
    n: usize,
    d: usize,
    k: usize,
    reg_abs: f64,
    reg_rel: f64,
    weights: Vec<f64>,
    means: Vec<Vec<f64>>,
    cov_full: Vec<Vec<f64>>,
    var_diag: Vec<Vec<f64>>,
    var_spherical: Vec<f64>,
    cov_tied: Vec<f64>,
}

fn read_start(path: &str) -> Start {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut s = Start {
        n: 0,
        d: 0,
        k: 0,
        reg_abs: 0.0,
        reg_rel: 0.0,
        weights: vec![],
        means: vec![],
        cov_full: vec![],
        var_diag: vec![],
        var_spherical: vec![],
        cov_tied: vec![],
    };
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let Some(key) = words.next() else { continue };
        let values: Vec<f64> = words.map(|w| w.parse().expect("a number")).collect();
        match key {
            "n" => s.n = values[0] as usize,
            "d" => s.d = values[0] as usize,
            "k" => s.k = values[0] as usize,
            "reg_abs" => s.reg_abs = values[0],
            "reg_rel" => s.reg_rel = values[0],
            "weights" => s.weights = values,
            "mean" => s.means.push(values),
            "cov_full" => s.cov_full.push(values),
            "var_diag" => s.var_diag.push(values),
            "var_spherical" => s.var_spherical.push(values[0]),
            "cov_tied" => s.cov_tied = values,
            _ => {}
        }
    }
    s
}

fn read_points(path: &str, n: usize, d: usize) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(bytes.len(), n * d * 8, "{path}: size");
    bytes
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// `f32` or `f64`, from and to the file's `f64`.
trait Float: Real {
    const NAME: &'static str;
    fn of(x: f64) -> Self;
    fn wide(self) -> f64;
}

impl Float for f64 {
    const NAME: &'static str = "f64";
    fn of(x: f64) -> Self {
        x
    }
    fn wide(self) -> f64 {
        self
    }
}

impl Float for f32 {
    const NAME: &'static str = "f32";
    fn of(x: f64) -> Self {
        x as f32
    }
    fn wide(self) -> f64 {
        f64::from(self)
    }
}

fn vector<T: Float, const D: usize>(v: &[f64]) -> SVector<T, D> {
    SVector::from_fn(|i, _| T::of(v[i]))
}

fn matrix<T: Float, const D: usize>(m: &[f64]) -> SMatrix<T, D, D> {
    SMatrix::from_fn(|i, j| T::of(m[i * D + j]))
}

/// A kind's model of the start, from the file's line for that kind.
trait Kind: CovarianceKind {
    fn start<T: Float, const D: usize, const K: usize>(s: &Start) -> Gmm<T, D, K, Self>;
}

fn weights_means<T: Float, const D: usize, const K: usize>(
    s: &Start,
) -> ([T; K], [SVector<T, D>; K]) {
    (
        std::array::from_fn(|k| T::of(s.weights[k])),
        std::array::from_fn(|k| vector(&s.means[k])),
    )
}

impl Kind for Full {
    fn start<T: Float, const D: usize, const K: usize>(s: &Start) -> Gmm<T, D, K, Full> {
        let (w, m) = weights_means(s);
        Gmm::new(w, m, std::array::from_fn(|k| matrix(&s.cov_full[k]))).expect("valid start")
    }
}

impl Kind for Diag {
    fn start<T: Float, const D: usize, const K: usize>(s: &Start) -> Gmm<T, D, K, Diag> {
        let (w, m) = weights_means(s);
        Gmm::new(w, m, std::array::from_fn(|k| vector(&s.var_diag[k]))).expect("valid start")
    }
}

impl Kind for Spherical {
    fn start<T: Float, const D: usize, const K: usize>(s: &Start) -> Gmm<T, D, K, Spherical> {
        let (w, m) = weights_means(s);
        Gmm::new(w, m, std::array::from_fn(|k| T::of(s.var_spherical[k]))).expect("valid start")
    }
}

impl Kind for Tied {
    fn start<T: Float, const D: usize, const K: usize>(s: &Start) -> Gmm<T, D, K, Tied> {
        let (w, m) = weights_means(s);
        Gmm::new(w, m, matrix(&s.cov_tied)).expect("valid start")
    }
}

/// What `main` was asked for.
#[derive(Clone, Copy)]
enum Mode {
    /// Fit with `max_iter` = this and `tol = 0`; print how many iterations
    /// the fit made (the count every program then runs).
    Probe(usize),
    /// Time the fits of the counts in CASE.iters.txt: `(total, warmup)`.
    Time(usize, usize),
}

/// The iteration counts of CASE.iters.txt: lines `TYPE KIND ITERATIONS`.
fn iterations_for(dir: &str, case: &str, ty: &str, kind: &str) -> usize {
    let path = format!("{dir}/{case}.iters.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .find_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() == 3 && w[0] == ty && w[1] == kind).then(|| w[2].parse().expect("count"))
        })
        .unwrap_or_else(|| panic!("{path}: no line for {ty} {kind}"))
}

fn run_kind<T: Float, const D: usize, const K: usize, C: Kind>(
    dir: &str,
    case: &str,
    data: &[[T; D]],
    s: &Start,
    mode: Mode,
) {
    let start = C::start::<T, D, K>(s);
    let options = |n| {
        FitOptions::<T>::default()
            .with_tol(T::zero())
            .with_max_iter(n)
            .with_reg_covar(T::of(s.reg_rel))
    };
    let go = |_: &gaussmix::Iteration<T>| ControlFlow::Continue(());
    let (total, warmup) = match mode {
        Mode::Probe(max_iter) => {
            let report = fit(data, start, &options(max_iter), go).expect("fit");
            println!("{} {} {}", T::NAME, C::NAME, report.iterations);
            return;
        }
        Mode::Time(total, warmup) => (total, warmup),
    };
    let iterations = iterations_for(dir, case, T::NAME, C::NAME);
    if warmup > 0 {
        fit(data, start, &options(warmup), go).expect("warm-up fit");
    }
    // One iteration and the fixed cost (the checks and the E pass that
    // scores the returned model), then the fit whose further iterations
    // add to it; enough pairs to time at least `total` of those.
    let timed = |n| {
        let options = options(n);
        let t = Instant::now();
        let report = fit(std::hint::black_box(data), start, &options, go).expect("fit");
        (t.elapsed().as_secs_f64(), std::hint::black_box(report))
    };
    let reps = total.div_ceil(iterations.saturating_sub(1).max(1)).max(1);
    let (mut seconds1, mut seconds) = (0.0, 0.0);
    let mut all_made = true;
    let mut report = None;
    for _ in 0..reps {
        let (t, r) = timed(1);
        seconds1 += t;
        all_made &= r.iterations == 1;
        let (t, r) = timed(iterations);
        seconds += t;
        all_made &= r.iterations == iterations;
        report = Some(r);
    }
    let report = report.expect("at least one fit");
    println!(
        "RESULT program=gaussmix case={case} type={} kind={} asked={iterations} iterations={} \
         reps={reps} seconds={seconds:.6} seconds1={seconds1:.6} mll={:.12e} reg_abs={:.6e} end={:?}",
        T::NAME,
        C::NAME,
        if all_made { report.iterations as i64 } else { -1 },
        report.mean_log_likelihood.wide(),
        report.effective_reg_covar.wide(),
        report.termination,
    );
}

fn run_type<T: Float, const D: usize, const K: usize>(
    dir: &str,
    case: &str,
    x: &[f64],
    s: &Start,
    mode: Mode,
) {
    let data: Vec<[T; D]> = x
        .chunks_exact(D)
        .map(|p| std::array::from_fn(|i| T::of(p[i])))
        .collect();
    run_kind::<T, D, K, Full>(dir, case, &data, s, mode);
    run_kind::<T, D, K, Diag>(dir, case, &data, s, mode);
    run_kind::<T, D, K, Spherical>(dir, case, &data, s, mode);
    run_kind::<T, D, K, Tied>(dir, case, &data, s, mode);
}

fn run<const D: usize, const K: usize>(dir: &str, case: &str, x: &[f64], s: &Start, mode: Mode) {
    run_type::<f64, D, K>(dir, case, x, s, mode);
    run_type::<f32, D, K>(dir, case, x, s, mode);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: gaussmix-peer-bench probe DATA_DIR CASE MAX_ITER\n       \
                 gaussmix-peer-bench time DATA_DIR CASE TOTAL WARMUP";
    let number = |i: usize| -> usize { args.get(i).and_then(|a| a.parse().ok()).expect(usage) };
    let mode = match (args.get(1).map(String::as_str), args.len()) {
        (Some("probe"), 5) => Mode::Probe(number(4)),
        (Some("time"), 6) => Mode::Time(number(4), number(5)),
        _ => panic!("{usage}"),
    };
    let (dir, case) = (&args[2], &args[3]);
    let s = read_start(&format!("{dir}/{case}.start.txt"));
    assert!(s.reg_abs >= 0.0 && s.reg_rel >= 0.0);
    let x = read_points(&format!("{dir}/{case}.x.f64"), s.n, s.d);
    match (s.d, s.k) {
        (2, 3) => run::<2, 3>(dir, case, &x, &s, mode),
        (8, 8) => run::<8, 8>(dir, case, &x, &s, mode),
        (d, k) => panic!("no build for D = {d}, K = {k}: add a line to main"),
    }
}
