//! Multi-core fits (feature `std`): `fit_parallel` with 1 and with 2
//! threads on N = 10⁶ points, D = 8, K = 8, f64, 3 iterations (4 passes),
//! interleaved over several rounds; prints the median time of each and the
//! speed-up. The report must be bit-identical, which is checked too.
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
    let (_, reference) = run(1);
    let mut one = Vec::new();
    let mut two = Vec::new();
    for round in 0..ROUNDS {
        for threads in if round % 2 == 0 { [1, 2] } else { [2, 1] } {
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
    let (a, b) = (median(&mut one), median(&mut two));
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
}
