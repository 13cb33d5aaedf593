//! The timing program of `benches/compare_commits.sh` (read that script's
//! header first). It is not a target of the gaussmix package: the script
//! copies it into two throwaway packages, one depending on the working
//! tree and one on an older commit's worktree, and builds the second with
//! the feature `old_api`, the only difference between the two builds:
//!
//! * old (before core v2): `em_step` returns a tuple `(Gmm, T)`;
//! * new: `em_step` returns the struct `EmStep { model, log_likelihood, .. }`.
//!
//! Both build the start with `Gmm::<T, D, K, C>::new(weights, means,
//! covariances)` and take their data from `benches/cases/mod.rs`, which
//! uses none of gaussmix, so both time the same points. The covariance
//! kind `C` is full, or the environment's `KIND` (`diag`, `spherical`,
//! `tied`; new API only), with the start's covariances as the kind keeps
//! them (the diagonals; their mean; the first component's matrix).
//!
//! Usage: `timing CASE REPS` runs 2 warm-up `em_step`s, then times REPS of
//! them one by one and prints `CASE median_ns min_ns`, the median and
//! fastest time per point·component. `timing CASE check` prints the
//! log-likelihood of the start and whether its statistics need a
//! recentred pass (which would double the work timed). CASE is one of
//! `d2_k3_f64`, `d2_k3_f32`, `d8_k8_f64`, `d8_k8_f32`. With `FROM_ITER=n`
//! in the environment both time (and check) the model `n` `em_step`s
//! after the start instead of the start.

use std::hint::black_box;
use std::time::Instant;

#[path = "../cases/mod.rs"]
mod cases;

use cases::{Case, N};
use gaussmix::nalgebra::{self, SMatrix, SVector};
#[cfg(not(feature = "old_api"))]
use gaussmix::{CovarianceKind, Diag, Full, Spherical, Tied};
use gaussmix::{em_step, Gmm, Real, SufficientStats};

/// `reg_covar` of `benches/em.rs`'s `em_step` benches.
const REG_COVAR: f64 = 1e-6;

/// One EM iteration from `model`: the new model and the log-likelihood
/// of `model`.
#[cfg(feature = "old_api")]
fn step<T: Real, const D: usize, const K: usize>(
    data: &[SVector<T, D>],
    model: &Gmm<T, D, K>,
    reg: T,
) -> (Gmm<T, D, K>, T) {
    em_step(data, model, reg).expect("em step")
}

/// One EM iteration from `model`: the new model and the log-likelihood
/// of `model`.
#[cfg(not(feature = "old_api"))]
fn step<T: Real, const D: usize, const K: usize, C: CovarianceKind>(
    data: &[SVector<T, D>],
    model: &Gmm<T, D, K, C>,
    reg: T,
) -> (Gmm<T, D, K, C>, T) {
    let s = em_step(data, model, reg).expect("em step");
    (s.model, s.log_likelihood)
}

/// EM iterations made from the case's start, untimed, before the model
/// that is timed (the environment's `FROM_ITER`, default 0): later
/// iterations of a fit can cost more than the first, where the clusters
/// have separated and many shares are cut off to 0.
fn from_iter() -> usize {
    std::env::var("FROM_ITER").map_or(0, |v| v.parse().expect("FROM_ITER: a number"))
}

/// Whether the start's statistics over `data` need a recentred pass.
#[cfg(feature = "old_api")]
fn needs_recentring<T: Real, const D: usize, const K: usize>(
    data: &[SVector<T, D>],
    model: &Gmm<T, D, K>,
) -> bool {
    let mut stats = SufficientStats::new(model);
    for x in data {
        stats.accumulate(model, x).expect("E step");
    }
    stats.needs_recentring()
}

/// Whether the start's statistics over `data` need a recentred pass.
#[cfg(not(feature = "old_api"))]
fn needs_recentring<T: Real, const D: usize, const K: usize, C: CovarianceKind>(
    data: &[SVector<T, D>],
    model: &Gmm<T, D, K, C>,
) -> bool {
    let mut stats = SufficientStats::new(model);
    for x in data {
        stats.accumulate(model, x).expect("E step");
    }
    stats.needs_recentring()
}

/// Times `em_step` on `case`'s data from the start `model` (or checks it).
macro_rules! time {
    ($case:expr, $model:expr, $ty:expr, $mode:expr, $T:ty, $K:expr) => {{
        let (case, model, ty, mode) = ($case, $model, $ty, $mode);
        let c = |x: f64| -> $T { nalgebra::convert(x) };
        let data: Vec<SVector<$T, _>> = case
            .data
            .iter()
            .map(|p| SVector::from_fn(|i, _| c(p[i])))
            .collect();
        let reg = c(REG_COVAR);
        let mut model = model;
        for _ in 0..from_iter() {
            model = step(&data, &model, reg).0;
        }
        let name = format!("{}_{ty}", case.name);
        if mode == "check" {
            let ll = step(&data, &model, reg).1;
            println!(
                "{name} log_likelihood={ll:?} needs_recentring={}",
                needs_recentring(&data, &model)
            );
        } else {
            let reps: usize = mode.parse().expect("REPS: a number");
            for _ in 0..2 {
                black_box(step(black_box(&data), black_box(&model), reg));
            }
            let mut times: Vec<f64> = (0..reps.max(1))
                .map(|_| {
                    let t = Instant::now();
                    black_box(step(black_box(&data), black_box(&model), reg));
                    t.elapsed().as_secs_f64() * 1e9 / (N * $K) as f64
                })
                .collect();
            times.sort_by(f64::total_cmp);
            let n = times.len();
            let median = if n % 2 == 1 {
                times[n / 2]
            } else {
                0.5 * (times[n / 2 - 1] + times[n / 2])
            };
            println!("{name} {median:.4} {:.4}", times[0]);
        }
    }};
}

/// The start of `case` as full covariance (the old API knows no other).
#[cfg(feature = "old_api")]
fn run<T: Real, const D: usize, const K: usize>(case: &Case<D, K>, ty: &str, mode: &str) {
    let c = |x: f64| -> T { nalgebra::convert(x) };
    let s = &case.start;
    let model = Gmm::<T, D, K>::new(
        s.weights.map(c),
        s.means.map(|m| SVector::from_fn(|i, _| c(m[i]))),
        s.covariances.map(|m| SMatrix::from_fn(|i, j| c(m[i][j]))),
    )
    .expect("valid start");
    time!(case, model, ty, mode, T, K);
}

/// The start of `case` as the kind `KIND` names keeps it.
#[cfg(not(feature = "old_api"))]
fn run<T: Real, const D: usize, const K: usize>(case: &Case<D, K>, ty: &str, mode: &str) {
    let c = |x: f64| -> T { nalgebra::convert(x) };
    let s = &case.start;
    let w = s.weights.map(c);
    let m = s.means.map(|m| SVector::<T, D>::from_fn(|i, _| c(m[i])));
    let full = s
        .covariances
        .map(|m| SMatrix::<T, D, D>::from_fn(|i, j| c(m[i][j])));
    match std::env::var("KIND").as_deref() {
        Err(_) | Ok("full") => {
            let model = Gmm::<T, D, K, Full>::new(w, m, full).expect("valid start");
            time!(case, model, ty, mode, T, K);
        }
        Ok("diag") => {
            let v = full.map(|f| f.diagonal());
            let model = Gmm::<T, D, K, Diag>::new(w, m, v).expect("valid start");
            time!(case, model, ty, mode, T, K);
        }
        Ok("spherical") => {
            let v = full.map(|f| f.trace() / c(D as f64));
            let model = Gmm::<T, D, K, Spherical>::new(w, m, v).expect("valid start");
            time!(case, model, ty, mode, T, K);
        }
        Ok("tied") => {
            let model = Gmm::<T, D, K, Tied>::new(w, m, full[0]).expect("valid start");
            time!(case, model, ty, mode, T, K);
        }
        Ok(other) => {
            eprintln!("unknown KIND {other} (full, diag, spherical, tied)");
            std::process::exit(2);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(case), Some(mode)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: timing d2_k3_f64|d2_k3_f32|d8_k8_f64|d8_k8_f32 REPS|check");
        std::process::exit(2);
    };
    match case.as_str() {
        "d2_k3_f64" => run::<f64, 2, 3>(&cases::d2_k3(), "f64", mode),
        "d2_k3_f32" => run::<f32, 2, 3>(&cases::d2_k3(), "f32", mode),
        "d8_k8_f64" => run::<f64, 8, 8>(&cases::d8_k8(), "f64", mode),
        "d8_k8_f32" => run::<f32, 8, 8>(&cases::d8_k8(), "f32", mode),
        _ => {
            eprintln!("unknown case {case}");
            std::process::exit(2);
        }
    }
}
