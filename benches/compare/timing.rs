//! The timing program of `benches/compare_commits.sh` (read that script's
//! header first). It is not a target of the gaussmix package: the script
//! copies it into two throwaway packages, one depending on the working
//! tree and one on an older commit's worktree, and builds the second with
//! the feature `old_api`, the only difference between the two builds:
//!
//! * old (before core v2): `em_step` returns a tuple `(Gmm, T)`;
//! * new: `em_step` returns the struct `EmStep { model, log_likelihood, .. }`.
//!
//! Both build the start with `Gmm::<T, D, K>::new(weights, means,
//! covariances)` (full covariance, which is the default kind of the new
//! API) and take their data from `benches/cases/mod.rs`, which uses none
//! of gaussmix, so both time the same points.
//!
//! Usage: `timing CASE REPS` runs 2 warm-up `em_step`s, then times REPS of
//! them one by one and prints `CASE median_ns min_ns`, the median and
//! fastest time per point·component. `timing CASE check` prints the
//! log-likelihood of the start and whether its statistics need a
//! recentred pass (which would double the work timed). CASE is one of
//! `d2_k3_f64`, `d2_k3_f32`, `d8_k8_f64`, `d8_k8_f32`.

use std::hint::black_box;
use std::time::Instant;

#[path = "../cases/mod.rs"]
mod cases;

use cases::{Case, N};
use gaussmix::nalgebra::{self, SMatrix, SVector};
use gaussmix::{em_step, Gmm, Real, SufficientStats};

/// `reg_covar` of `benches/em.rs`'s `em_step` benches.
const REG_COVAR: f64 = 1e-6;

fn step<T: Real, const D: usize, const K: usize>(
    data: &[SVector<T, D>],
    model: &Gmm<T, D, K>,
    reg: T,
) -> (Gmm<T, D, K>, T) {
    #[cfg(feature = "old_api")]
    {
        em_step(data, model, reg).expect("em step")
    }
    #[cfg(not(feature = "old_api"))]
    {
        let s = em_step(data, model, reg).expect("em step");
        (s.model, s.log_likelihood)
    }
}

fn run<T: Real, const D: usize, const K: usize>(case: &Case<D, K>, ty: &str, mode: &str) {
    let c = |x: f64| -> T { nalgebra::convert(x) };
    let data: Vec<SVector<T, D>> = case
        .data
        .iter()
        .map(|p| SVector::from_fn(|i, _| c(p[i])))
        .collect();
    let s = &case.start;
    let model = Gmm::<T, D, K>::new(
        s.weights.map(c),
        s.means.map(|m| SVector::from_fn(|i, _| c(m[i]))),
        s.covariances.map(|m| SMatrix::from_fn(|i, j| c(m[i][j]))),
    )
    .expect("valid start");
    let reg = c(REG_COVAR);
    let name = format!("{}_{ty}", case.name);

    if mode == "check" {
        let mut stats = SufficientStats::new(&model);
        for x in &data {
            stats.accumulate(&model, x).expect("E step");
        }
        let (_, ll) = step(&data, &model, reg);
        println!(
            "{name} log_likelihood={ll:?} needs_recentring={}",
            stats.needs_recentring()
        );
        return;
    }

    let reps: usize = mode.parse().expect("REPS: a number");
    for _ in 0..2 {
        black_box(step(black_box(&data), black_box(&model), reg));
    }
    let mut times: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let t = Instant::now();
            black_box(step(black_box(&data), black_box(&model), reg));
            t.elapsed().as_secs_f64() * 1e9 / (N * K) as f64
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
