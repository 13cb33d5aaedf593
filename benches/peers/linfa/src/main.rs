//! linfa-clustering's side of benches/peers/run.sh.
//!
//!     linfa-peer-bench DATA_DIR CASE TOTAL WARMUP
//!
//! linfa-clustering 0.8.1's `GaussianMixtureModel` has one covariance kind
//! (full) and no way to start from given parameters: its fit always starts
//! from its own initialisation (k-means, the default, or random
//! responsibilities) and keeps the model private until the end. So this
//! program fits the same points (DATA_DIR/CASE.x.f64; `f32`: rounded to
//! nearest) from linfa's `GmmInitMethod::Random` start (responsibilities
//! drawn from its default seeded generator, then one M-step; cheaper than
//! the k-means start, whose k-means would also use rayon threads) with the
//! same absolute `reg_covar` (CASE.start.txt) and the same iteration count
//! m as the other programs' full-covariance fits (CASE.iters.txt).
//! linfa's EM costs the same whatever the data or model (no shortcut), so
//! the different start changes its time only by noise.
//!
//! linfa refuses `tolerance = 0`, so the fits take the smallest positive
//! normal number: a fit then stops early only if an iteration leaves the
//! lower bound exactly unchanged. A fit that ran all its iterations without
//! converging returns `Err(NotConverged)`, which is what the program checks
//! for (an `Ok` would mean it stopped early).
//!
//! After one untimed fit of WARMUP iterations it times, REPS =
//! ceil(TOTAL / (m - 1)) times, a fit of one iteration and a fit of m (the
//! difference is m - 1 iterations without the start, as for the other
//! programs; linfa's fit makes m E-steps and m M-steps, no final E-step).
//! Prints one `RESULT key=value...` line per type.

use std::time::Instant;

use linfa::prelude::*;
use linfa::DatasetBase;
use linfa_clustering::{GaussianMixtureModel, GmmError, GmmInitMethod};
use ndarray::Array2;

fn start_value(text: &str, key: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {key} in the start file"))
        .trim()
        .parse()
        .expect("a number")
}

fn iterations_for(dir: &str, case: &str, ty: &str) -> usize {
    let path = format!("{dir}/{case}.iters.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .find_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() == 3 && w[0] == ty && w[1] == "full").then(|| w[2].parse().expect("count"))
        })
        .unwrap_or_else(|| panic!("{path}: no line for {ty} full"))
}

trait Float: linfa::Float {
    const NAME: &'static str;
    fn of(x: f64) -> Self;
}

impl Float for f64 {
    const NAME: &'static str = "f64";
    fn of(x: f64) -> Self {
        x
    }
}

impl Float for f32 {
    const NAME: &'static str = "f32";
    fn of(x: f64) -> Self {
        x as f32
    }
}

/// A fit of `iterations`; `true` if it ran them all (`NotConverged`).
fn fit<F: Float, T>(
    data: &DatasetBase<Array2<F>, T>,
    k: usize,
    reg: F,
    iterations: usize,
) -> bool {
    let result = GaussianMixtureModel::<F>::params(k)
        .n_runs(1)
        .init_method(GmmInitMethod::Random)
        .tolerance(F::min_positive_value())
        .reg_covariance(reg)
        .max_n_iterations(iterations as u64)
        .fit(std::hint::black_box(data));
    match std::hint::black_box(result) {
        Err(GmmError::NotConverged(_)) => true,
        Ok(_) => false,
        Err(e) => panic!("linfa fit: {e}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert_eq!(args.len(), 5, "usage: linfa-peer-bench DATA_DIR CASE TOTAL WARMUP");
    let (dir, case) = (&args[1], &args[2]);
    let total: usize = args[3].parse().expect("TOTAL");
    let warmup: usize = args[4].parse().expect("WARMUP");
    let start = std::fs::read_to_string(format!("{dir}/{case}.start.txt")).expect("start file");
    let (n, d, k) = (
        start_value(&start, "n") as usize,
        start_value(&start, "d") as usize,
        start_value(&start, "k") as usize,
    );
    let reg = start_value(&start, "reg_abs");
    let bytes = std::fs::read(format!("{dir}/{case}.x.f64")).expect("data file");
    assert_eq!(bytes.len(), n * d * 8, "data size");
    let x: Vec<f64> = bytes
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    time::<f64>(dir, case, &x, (n, d, k), reg, total, warmup);
    time::<f32>(dir, case, &x, (n, d, k), reg, total, warmup);
}

fn time<F: Float>(
    dir: &str,
    case: &str,
    x: &[f64],
    (n, d, k): (usize, usize, usize),
    reg: f64,
    total: usize,
    warmup: usize,
) {
    let records = Array2::from_shape_vec((n, d), x.iter().map(|&v| F::of(v)).collect())
        .expect("shape");
    let data = DatasetBase::from(records);
    let reg = F::of(reg);
    let iterations = iterations_for(dir, case, F::NAME);
    if warmup > 0 {
        fit(&data, k, reg, warmup);
    }
    let reps = total.div_ceil(iterations.saturating_sub(1).max(1)).max(1);
    let (mut seconds1, mut seconds) = (0.0, 0.0);
    let mut all_made = true;
    for _ in 0..reps {
        let t = Instant::now();
        all_made &= fit(&data, k, reg, 1);
        seconds1 += t.elapsed().as_secs_f64();
        let t = Instant::now();
        all_made &= fit(&data, k, reg, iterations);
        seconds += t.elapsed().as_secs_f64();
    }
    println!(
        "RESULT program=linfa case={case} type={} kind=full asked={iterations} iterations={} \
         reps={reps} seconds={seconds:.6} seconds1={seconds1:.6} start=linfa-random",
        F::NAME,
        if all_made { iterations as i64 } else { -1 },
    );
}
