//! EM across threads with the public statistics API: the data cut into
//! shards, each shard's E-step statistics accumulated on a thread of its
//! own (`std::thread::scope`), merged in shard order, then one M-step. The
//! crate's `fit_parallel` (feature `std`) packages the same loop; this is
//! what a caller writes when the shards live somewhere else.
//!
//! The same three calls carry over to any map-reduce engine:
//!
//! * **map**: on each worker, `SufficientStats::new(&model)` and
//!   `accumulate_slice(&model, shard)`: a fixed-size, `Copy` value of
//!   `O(K·D²)` numbers (a few hundred bytes at `D = 2, K = 3`), whatever
//!   the shard's size, so it is cheap to send;
//! * **reduce**: `merge`, which is associative and commutative to
//!   rounding (and refuses statistics of another model with
//!   `Error::MismatchedStatistics`); merging in a fixed order makes the
//!   result independent of how the work was scheduled;
//! * **driver**: `needs_recentring` (rarely true: then one more map pass,
//!   over `recentred()` statistics) and `m_step(&model, reg)` on the merged
//!   value, then broadcast the new model for the next map.
//!
//! The program fits the seed notebook's 3-cluster mixture on 200 000
//! points this way with 1, 2 and 4 threads, checks that every thread count
//! gives the same model bit for bit (the shards and their merge order do
//! not depend on the thread count), and that it agrees with
//! `gaussmix::fit` on the same start to rounding. Run it with
//!
//! ```text
//! cargo run --release --example shards
//! ```

use std::error::Error;
use std::ops::ControlFlow;

use gaussmix::nalgebra::{matrix, vector, SVector};
use gaussmix::{fit, FitOptions, Gmm, SufficientStats};
use rand_pcg::Pcg64Mcg;

/// Points per shard: a multiple of the crate's 128-point blocks.
const SHARD: usize = 16 * 1024;
/// EM iterations.
const ITERATIONS: usize = 20;

type Model = Gmm<f64, 2, 3>;
type Stats = SufficientStats<f64, 2, 3>;

/// One E pass: shards accumulated on `threads` threads, merged in order.
fn pass(
    data: &[SVector<f64, 2>],
    model: &Model,
    stats: Stats,
    threads: usize,
) -> Result<Stats, gaussmix::Error> {
    let shards: Vec<&[SVector<f64, 2>]> = data.chunks(SHARD).collect();
    let per_thread = shards.len().div_ceil(threads);
    let mut parts: Vec<Result<Stats, gaussmix::Error>> = vec![Ok(stats); shards.len()];
    std::thread::scope(|scope| {
        for (shards, parts) in shards.chunks(per_thread).zip(parts.chunks_mut(per_thread)) {
            scope.spawn(move || {
                for (shard, part) in shards.iter().zip(parts.iter_mut()) {
                    let mut s = stats;
                    *part = s.accumulate_slice(model, shard).map(|_| s);
                }
            });
        }
    });
    let mut merged = stats;
    for part in parts {
        merged.merge(&part?)?;
    }
    Ok(merged)
}

/// `ITERATIONS` EM iterations from `start` with `threads` threads.
fn em(
    data: &[SVector<f64, 2>],
    start: Model,
    reg: f64,
    threads: usize,
) -> Result<Model, gaussmix::Error> {
    let mut model = start;
    for _ in 0..ITERATIONS {
        let mut stats = pass(data, &model, SufficientStats::new(&model), threads)?;
        // Rare (far-off shifts lose digits to cancellation): one more pass,
        // shifted by the means this one found.
        while stats.needs_recentring() {
            stats = pass(data, &model, stats.recentred(), threads)?;
        }
        model = stats.m_step(&model, reg)?;
    }
    Ok(model)
}

fn main() -> Result<(), Box<dyn Error>> {
    let truth = Gmm::<f64, 2, 3>::new(
        [0.2, 0.5, 0.3],
        [vector![1.5, 6.0], vector![7.9, 4.3], vector![15.3, 5.4]],
        [
            matrix![1.0, 0.3; 0.3, 1.5],
            matrix![2.0, -0.5; -0.5, 1.0],
            matrix![1.2, 0.0; 0.0, 0.8],
        ],
    )?;
    let mut rng = Pcg64Mcg::new(0x5eed_5aa2d);
    let data: Vec<SVector<f64, 2>> = (0..200_000).map(|_| truth.sample(&mut rng)).collect();
    let start: Model = gaussmix::init::kmeans_plus_plus(&data, &mut rng)?;

    // `fit` with tol = 0 runs exactly ITERATIONS iterations; its absolute
    // regularisation is the relative `reg_covar` times the data's scale.
    let options = FitOptions::default()
        .with_tol(0.0)
        .with_max_iter(ITERATIONS);
    let reference = fit(&data, start, &options, |_| ControlFlow::Continue(()))?;
    let reg = reference.effective_reg_covar;

    let one = em(&data, start, reg, 1)?;
    for threads in [2, 4] {
        let many = em(&data, start, reg, threads)?;
        if many != one {
            return Err(format!("{threads} threads gave another model than 1").into());
        }
    }
    let mut worst = 0.0f64;
    for k in 0..3 {
        let d = (one.means()[k] - reference.model.means()[k]).norm()
            / reference.model.means()[k].norm();
        worst = worst.max(d);
        let c = (one.covariances()[k] - reference.model.covariances()[k]).norm()
            / reference.model.covariances()[k].norm();
        worst = worst.max(c);
    }
    println!(
        "{} points, {} shards of {SHARD}, {ITERATIONS} iterations",
        data.len(),
        data.len().div_ceil(SHARD)
    );
    println!("1, 2 and 4 threads: the same model, bit for bit");
    println!("largest relative difference from `fit`: {worst:.1e}");
    for k in 0..3 {
        println!(
            "component {k}: weight {:.4}, mean [{:.4}, {:.4}]",
            one.weights()[k],
            one.means()[k][0],
            one.means()[k][1]
        );
    }
    if worst > 1e-10 {
        return Err(format!("sharded EM differs from fit by {worst:e}").into());
    }
    Ok(())
}
