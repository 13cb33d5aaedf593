//! Streaming workloads for the instruction counts, with the mark plugin
//! (tests/embedded/qemu-plugin/insn_count.c, argument `mark=<address of
//! gaussmix_mark>`): the largest count between two calls of
//! `gaussmix_mark` is the worst unit of work. The command line names the
//! workload and a number `R`:
//!
//! ```text
//! qemu-system-arm ... -semihosting-config enable=on,target=native,arg=insn_stream,arg=online2,arg=2 \
//!     -plugin insn_count.so,mark=0x...
//! ```
//!
//! Data: N2 = 600 points drawn from the full-covariance truth at D = 2,
//! K = 3, f32 (as `insn`).
//!
//! | workload | work after drawing the data |
//! |---|---|
//! | `bounded2` | a `ResumableFit` from `init::random_points` to the end, `R` points per call (budget), `gaussmix_mark` before each call; with `R = 0` the plain `fit` from the same start between two marks |
//! | `online2` | an `OnlineGmm` (warm-up of `W = 60` points from the truth, M-step every update), then `R · N` updates over the data, `gaussmix_mark` before each |
//! | `onlinestats2` | the same with no M-step after the warm-up (`refresh = usize::MAX`): the statistics' share |
//!
//! A binary of its own so that these workloads do not change how the batch
//! workloads of `insn` compile. Exit status 0, or 1 if a call fails or the
//! command line is bad.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::ops::ControlFlow;

use gaussmix::{init, FitOptions, Full, Gmm, OnlineGmm, OnlineOptions, Progress, ResumableFit};
use gaussmix_firmware::{self as firmware, draw, Kind, Pcg32, N2};
use panic_semihosting as _;

firmware::hardfault_exits!();

/// The online learner's warm-up, in points.
const WARM_UP: usize = 60;

#[cortex_m_rt::entry]
fn main() -> ! {
    firmware::guard_arm();
    let mut line = [0u8; 96];
    let line = firmware::cmdline(&mut line);
    let work = firmware::word(line, 1).unwrap_or(b"");
    let Some(reps) = firmware::number(firmware::word(line, 2)) else {
        firmware::exit(false)
    };
    let reps = reps as usize;
    // SAFETY: the only reference to the buffer, taken once.
    let data = unsafe { firmware::data_buffer::<2>(N2) };
    let Ok(truth) = firmware::truth_d2k3() else {
        firmware::exit(false)
    };
    let mut rng = Pcg32::new(firmware::SEED);
    draw(&truth, &mut rng, data);
    let data: &[[f32; 2]] = data;
    let ok = match work {
        b"bounded2" => bounded::<Full, 2, 3>(data, reps, &mut rng),
        b"online2" => online::<Full, 2, 3>(&truth, data, reps, 1),
        b"onlinestats2" => online::<Full, 2, 3>(&truth, data, reps, usize::MAX),
        _ => false,
    };
    firmware::exit(ok)
}

/// The `bounded2` workload.
#[inline(never)]
fn bounded<C: Kind, const D: usize, const K: usize>(
    data: &[[f32; D]],
    reps: usize,
    rng: &mut Pcg32,
) -> bool {
    // The options of `fit_from_random_points`.
    let options = FitOptions::default().with_max_iter(200);
    let Ok(start) = init::random_points::<f32, D, K, C, _, _>(data, rng) else {
        return false;
    };
    if reps == 0 {
        // The plain fit between two marks, for comparison.
        firmware::gaussmix_mark();
        let r = gaussmix::fit(data, start, &options, |_| ControlFlow::Continue(()));
        firmware::gaussmix_mark();
        return r.is_ok();
    }
    let Ok(mut fit) = ResumableFit::new(start, &options) else {
        return false;
    };
    loop {
        firmware::gaussmix_mark();
        match fit.advance(data, reps) {
            Ok(Progress::Working(at)) => {
                black_box(at);
            }
            Ok(Progress::Done(report)) => {
                black_box(&report);
                break;
            }
            Err(_) => return false,
        }
    }
    firmware::gaussmix_mark();
    true
}

/// The `online2` and `onlinestats2` workloads, from the truth.
#[inline(never)]
fn online<C: Kind, const D: usize, const K: usize>(
    truth: &Gmm<f32, D, K, C>,
    data: &[[f32; D]],
    reps: usize,
    refresh: usize,
) -> bool {
    let options = OnlineOptions::default().with_refresh(refresh);
    let Ok(mut online) = OnlineGmm::<f32, D, K, WARM_UP, C>::new(*truth, &options) else {
        return false;
    };
    for x in data.iter().take(WARM_UP) {
        if online.update(x).is_err() {
            return false;
        }
    }
    for _ in 0..reps {
        for x in data {
            firmware::gaussmix_mark();
            match online.update(black_box(x)) {
                Ok(u) => {
                    black_box(u);
                }
                Err(_) => return false,
            }
        }
    }
    firmware::gaussmix_mark();
    black_box(online.model());
    true
}
