//! The batch fit with its E passes split across threads (feature `std`).
//!
//! The data are cut into shards of a fixed size, [`SHARD`] points, whatever
//! the number of threads; each shard's statistics are accumulated on their
//! own (in blocks, as one thread would), and the shards' statistics are
//! merged in shard order. The arithmetic is therefore the same whatever the
//! number of threads: the result is bit-identical with 1, 2 or 16. It
//! differs from [`fit`](crate::fit)'s only by the order of the sums (shards
//! summed apart, then added), to rounding.

use core::num::NonZeroUsize;
use core::ops::ControlFlow;

use std::vec::Vec;

use super::{run, FitOptions, FitReport, Iteration};
use crate::covariance::CovarianceKind;
use crate::data::{total_weight, AsPoint};
use crate::error::Error;
use crate::estep::BLOCK;
use crate::mixture::Gmm;
use crate::real::Real;
use crate::stats::SufficientStats;

/// Points per shard: 64 blocks. A shard is the unit of work a thread takes,
/// and its size fixes the order of the sums.
pub const SHARD: usize = 64 * BLOCK;

/// [`fit`](crate::fit) with each E pass split across `threads` threads (of
/// `std::thread::scope`), in shards of [`SHARD`] points merged in a fixed
/// order: the same report whatever `threads` is, bit for bit, and the same
/// fit as [`fit`](crate::fit)'s to rounding (the sums are grouped by shard).
/// Each thread takes a contiguous run of shards.
/// Statistics of one shard per thread are all it adds in memory, besides
/// one slot per shard to merge them in order.
///
/// # Errors
///
/// As for [`fit`](crate::fit); a bad point is named by its index in `data`
/// (the first in data order).
///
/// # Example
///
/// ```
/// use core::num::NonZeroUsize;
/// use core::ops::ControlFlow;
/// use gaussmix::{fit_parallel, FitOptions, Gmm};
/// use nalgebra::{matrix, vector};
///
/// let data: Vec<[f64; 2]> = (0..20_000)
///     .map(|i| [(i % 7) as f64 * 0.1 + 5.0 * (i % 2) as f64, (i % 5) as f64 * 0.1])
///     .collect();
/// let start = Gmm::<f64, 2, 2>::new(
///     [0.5, 0.5],
///     [vector![1.0, 0.0], vector![4.0, 0.5]],
///     [matrix![1.0, 0.0; 0.0, 1.0]; 2],
/// )?;
/// let go = |_: &_| ControlFlow::Continue(());
/// let options = FitOptions::default();
/// let one = fit_parallel(&data, start, &options, NonZeroUsize::MIN, go)?;
/// let two = fit_parallel(&data, start, &options, NonZeroUsize::new(2).unwrap(), go)?;
/// assert_eq!(one, two); // bit for bit
/// # Ok::<(), gaussmix::Error>(())
/// ```
pub fn fit_parallel<T, const D: usize, const K: usize, C, P, F>(
    data: &[P],
    init: Gmm<T, D, K, C>,
    options: &FitOptions<T>,
    threads: NonZeroUsize,
    callback: F,
) -> Result<FitReport<T, D, K, C>, Error>
where
    T: Real + Send + Sync,
    C: CovarianceKind,
    P: AsPoint<T, D> + Sync,
    F: FnMut(&Iteration<T>) -> ControlFlow<()>,
{
    options.validate()?;
    let n = total_weight(data.len(), None, K)?;
    let mut model = init;
    let summary = run(
        &mut model,
        options,
        n,
        callback,
        |model, stats, _| sharded_pass(data, threads.get(), model, stats),
        None,
    )?;
    Ok(summary.with_model(model))
}

/// One E pass: every shard accumulated into a copy of the empty `stats`,
/// the copies merged into `stats` in shard order.
fn sharded_pass<T, const D: usize, const K: usize, C, P>(
    data: &[P],
    threads: usize,
    model: &Gmm<T, D, K, C>,
    stats: &mut SufficientStats<T, D, K, C>,
) -> Result<(), Error>
where
    T: Real + Send + Sync,
    C: CovarianceKind,
    P: AsPoint<T, D> + Sync,
{
    let empty = *stats;
    let shards = data.len().div_ceil(SHARD);
    let mut results: Vec<Result<SufficientStats<T, D, K, C>, Error>> = Vec::new();
    results.resize(shards, Ok(empty));
    // Contiguous runs of shards, one per thread, as even as possible.
    let per_thread = shards.div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        for (run, slots) in results.chunks_mut(per_thread).enumerate() {
            scope.spawn(move || {
                for (i, slot) in slots.iter_mut().enumerate() {
                    let shard = run * per_thread + i;
                    let start = shard * SHARD;
                    let points = data
                        .get(start..(start + SHARD).min(data.len()))
                        .unwrap_or(&[]);
                    let mut s = empty;
                    *slot = points
                        .chunks(BLOCK)
                        .enumerate()
                        .try_for_each(|(b, block)| {
                            s.add_block(model, block, (), start + b * BLOCK, None)
                                .map(|_| ())
                        })
                        .map(|()| s);
                }
            });
        }
    });
    for r in results {
        stats.merge(&r?)?;
    }
    Ok(())
}
