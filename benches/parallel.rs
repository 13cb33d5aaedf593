//! Multi-core fits (feature `std`): `fit_parallel` with 1 and with 2
//! threads on N = 10⁶ points, D = 8, K = 8, f64, 3 iterations (4 passes),
//! interleaved over several rounds; prints the median time of each and the
//! speed-up. The report must be bit-identical, which is checked too.
//!
//! Each round also times the machine's own ceiling for two threads: two
//! independent one-thread fits, each of half the points, at once on two
//! threads (the same passes over the same points, with no shards merged
//! and no thread waiting for another). A core that slows down when the
//! other one works too (a lower clock with both busy, a shared physical
//! core, a neighbour's load on a virtual machine) lowers both speed-ups
//! alike; the ratio of the two is what `fit_parallel` itself costs.
//!
//!     cargo bench --features std --bench parallel
//!
//! The speed-up is only meaningful on a machine with two idle cores.

use std::num::NonZeroUsize;
use std::ops::ControlFlow;
use std::time::Instant;

use gaussmix::nalgebra::{SMatrix, SVector};
use gaussmix::{fit_parallel, FitOptions, Gmm};

#[path = "cases/mod.rs"]
mod cases;

const N: usize = 1_000_000;
const ROUNDS: usize = 7;

fn main() {
    let truth = cases::eight_clusters();
    let data = cases::sample(&truth, N, 0x5eed_0108);
    let start_case = cases::d8_k8();
    let s = start_case.start;
    let start = Gmm::<f64, 8, 8>::new(
        s.weights,
        s.means.map(SVector::from),
        s.covariances.map(|c| SMatrix::from_fn(|i, j| c[i][j])),
    )
    .expect("valid start");
    let options = FitOptions::default().with_tol(0.0).with_max_iter(3);
    let run = |threads: usize| {
        let t = Instant::now();
        let r = fit_parallel(
            &data,
            start,
            &options,
            NonZeroUsize::new(threads).expect("positive"),
            |_| ControlFlow::Continue(()),
        )
        .expect("fit");
        (t.elapsed().as_secs_f64(), r)
    };
    // Two one-thread fits of half the points each, at once.
    let (left, right) = data.split_at(N / 2);
    let fit_half = |points: &[[f64; 8]]| {
        fit_parallel(points, start, &options, NonZeroUsize::MIN, |_| {
            ControlFlow::Continue(())
        })
        .expect("fit of half the points")
        .iterations
    };
    let halves = || {
        let t = Instant::now();
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| fit_half(left));
            let b = fit_half(right);
            (a.join().expect("left half"), b)
        });
        // Both ran every pass (tolerance 0): the same work as the fit.
        assert_eq!((a, b), (3, 3));
        t.elapsed().as_secs_f64()
    };
    let (_, reference) = run(1);
    let mut one = Vec::new();
    let mut two = Vec::new();
    let mut ceiling = Vec::new();
    for round in 0..ROUNDS {
        let order = if round % 2 == 0 { [1, 2, 0] } else { [0, 2, 1] };
        for threads in order {
            if threads == 0 {
                ceiling.push(halves());
                continue;
            }
            let (t, r) = run(threads);
            assert_eq!(r, reference, "{threads} threads: another result");
            if threads == 1 {
                one.push(t)
            } else {
                two.push(t)
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (a, b, c) = (median(&mut one), median(&mut two), median(&mut ceiling));
    let per = |t: f64| t * 1e9 / (N as f64 * 8.0 * f64::from(4u32));
    println!("fit_parallel, N = {N}, D = 8, K = 8, f64, 3 iterations (4 passes), {ROUNDS} rounds:");
    println!(
        "  1 thread : {a:.3} s ({:.1} ns per point·component·pass)",
        per(a)
    );
    println!(
        "  2 threads: {b:.3} s ({:.1} ns per point·component·pass)",
        per(b)
    );
    println!("  speed-up : {:.2}x (bit-identical reports)", a / b);
    println!(
        "  ceiling  : {c:.3} s for two one-thread fits of half the points at once: {:.2}x",
        a / c
    );
    println!(
        "  speed-up / ceiling: {:.2} (1: fit_parallel costs nothing beyond what the machine does)",
        c / b
    );
}
