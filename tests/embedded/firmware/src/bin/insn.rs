//! Workloads for the instruction counts (run under QEMU with
//! tests/embedded/qemu-plugin/insn_count.so). The semihosting command line
//! names the workload and a repeat count `R`:
//!
//! ```text
//! qemu-system-arm ... -semihosting-config enable=on,target=native,arg=insn,arg=em2,arg=11
//! ```
//!
//! Every workload first draws its data with gaussmix's sampler from the
//! full-covariance truth (N2 = 600 points at D = 2, K = 3; N4 = 300 at
//! D = 4, K = 4; seed `SEED`), then, with a model of the workload's
//! covariance kind (a suffix `-diag`, `-spherical` or `-tied`; full without
//! one) built from the truth as the kind represents it (`Kind::represent`):
//!
//! | workload      | work after drawing the data                                   |
//! |---------------|---------------------------------------------------------------|
//! | `em2`/`em4`   | `R` × `em_step` (E pass + M-step), starting from the truth    |
//! | `it2`/`it4`   | one `fit` of `R` iterations from the truth (`tol = 0`, `reg_covar` as `em2`'s; fails unless it makes all `R`) |
//! | `fit2`/`fit4` | `R` × (`init::random_points` + `fit`, default options)        |
//! | `lp2`/`lp4`   | `R` passes of `log_prob` over the data                        |
//! | `resp2`/`resp4` | `R` passes of `responsibilities`                            |
//! | `pred2`/`pred4` | `R` passes of `predict`                                     |
//! | `sample2`/`sample4` | `R · N` further `Gmm::sample` draws                     |
//!
//! The streaming workloads (online EM, the bounded-work fit) are in
//! `insn_stream.rs`, a binary of their own: in this one they changed how
//! LLVM inlined the batch fit's E pass, and so these counts.
//!
//! The difference of the counts of one workload at two values of `R`
//! removes the start-up and the drawing of the data. Nothing is printed
//! (formatting would add instructions that depend on the values); results
//! go through `black_box`. Exit status 0, or 1 if a call fails or the
//! command line is bad.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::ops::ControlFlow;

use gaussmix::{em_step, fit, Diag, FitOptions, Full, Gmm, Spherical, Tied};
use gaussmix_firmware::{self as firmware, draw, Kind, Pcg32, N2, N4};
use panic_semihosting as _;

firmware::hardfault_exits!();

#[derive(Clone, Copy)]
enum Work {
    Em,
    Iter,
    Fit,
    LogProb,
    Resp,
    Predict,
    Sample,
}

#[cortex_m_rt::entry]
fn main() -> ! {
    firmware::guard_arm();
    let mut line = [0u8; 96];
    let line = firmware::cmdline(&mut line);
    let word = firmware::word(line, 1).unwrap_or(b"");
    let mut parts = word.splitn(2, |&b| b == b'-');
    let name = parts.next().unwrap_or(b"");
    let kind = parts.next().unwrap_or(b"full");
    let Some(reps) = firmware::number(firmware::word(line, 2)) else {
        firmware::exit(false)
    };
    let reps = reps as usize;
    let (work, d) = match name {
        b"em2" => (Work::Em, 2),
        b"em4" => (Work::Em, 4),
        b"it2" => (Work::Iter, 2),
        b"it4" => (Work::Iter, 4),
        b"fit2" => (Work::Fit, 2),
        b"fit4" => (Work::Fit, 4),
        b"lp2" => (Work::LogProb, 2),
        b"lp4" => (Work::LogProb, 4),
        b"resp2" => (Work::Resp, 2),
        b"resp4" => (Work::Resp, 4),
        b"pred2" => (Work::Predict, 2),
        b"pred4" => (Work::Predict, 4),
        b"sample2" => (Work::Sample, 2),
        b"sample4" => (Work::Sample, 4),
        _ => firmware::exit(false),
    };
    let ok = match (kind, d) {
        (b"full", 2) => d2::<Full>(work, reps),
        (b"diag", 2) => d2::<Diag>(work, reps),
        (b"spherical", 2) => d2::<Spherical>(work, reps),
        (b"tied", 2) => d2::<Tied>(work, reps),
        (b"full", 4) => d4::<Full>(work, reps),
        (b"diag", 4) => d4::<Diag>(work, reps),
        (b"spherical", 4) => d4::<Spherical>(work, reps),
        (b"tied", 4) => d4::<Tied>(work, reps),
        _ => false,
    };
    firmware::exit(ok)
}

#[inline(never)]
fn d2<C: Kind>(work: Work, reps: usize) -> bool {
    // SAFETY: the only reference to the buffer, taken once.
    let data = unsafe { firmware::data_buffer::<2>(N2) };
    firmware::truth_d2k3().is_ok_and(|truth| run::<C, 2, 3>(&truth, data, work, reps))
}

#[inline(never)]
fn d4<C: Kind>(work: Work, reps: usize) -> bool {
    // SAFETY: the only reference to the buffer, taken once.
    let data = unsafe { firmware::data_buffer::<4>(N4) };
    firmware::truth_d4k4().is_ok_and(|truth| run::<C, 4, 4>(&truth, data, work, reps))
}

fn run<C: Kind, const D: usize, const K: usize>(
    full_truth: &Gmm<f32, D, K>,
    data: &mut [[f32; D]],
    work: Work,
    reps: usize,
) -> bool {
    let mut rng = Pcg32::new(firmware::SEED);
    draw(full_truth, &mut rng, data);
    let data: &[[f32; D]] = data;
    let Ok(truth) = C::represent(full_truth) else {
        return false;
    };
    let truth = &truth;
    match work {
        Work::Em => {
            let mut model = *truth;
            for _ in 0..reps {
                match em_step(data, &model, 1e-6) {
                    Ok(step) => {
                        black_box(step.log_likelihood);
                        model = step.model;
                    }
                    Err(_) => return false,
                }
            }
            black_box(&model);
        }
        Work::Iter => {
            // Iterations inside one fit: the difference of two counts is the
            // iterations alone (E pass, M-step, the loop's bookkeeping),
            // without the calls and checks of an `em_step` per iteration.
            // The same regularisation as `em2`'s `em_step`s.
            let options = FitOptions::default()
                .with_tol(0.0)
                .with_max_iter(reps)
                .with_reg_covar(1e-6);
            match fit(data, *truth, &options, |_| ControlFlow::Continue(())) {
                Ok(r) if r.iterations == reps => {
                    black_box(&r);
                }
                _ => return false,
            }
        }
        Work::Fit => {
            for _ in 0..reps {
                match firmware::fit_from_random_points::<C, D, K>(data, &mut rng) {
                    Ok(r) => {
                        black_box(&r);
                    }
                    Err(_) => return false,
                }
            }
        }
        Work::LogProb => {
            for _ in 0..reps {
                for x in data {
                    match truth.log_prob(black_box(x)) {
                        Ok(v) => {
                            black_box(v);
                        }
                        Err(_) => return false,
                    }
                }
            }
        }
        Work::Resp => {
            for _ in 0..reps {
                for x in data {
                    match truth.responsibilities(black_box(x)) {
                        Ok(v) => {
                            black_box(v);
                        }
                        Err(_) => return false,
                    }
                }
            }
        }
        Work::Predict => {
            for _ in 0..reps {
                for x in data {
                    match truth.predict(black_box(x)) {
                        Ok(v) => {
                            black_box(v);
                        }
                        Err(_) => return false,
                    }
                }
            }
        }
        Work::Sample => {
            for _ in 0..reps * data.len() {
                black_box(truth.sample(&mut rng));
            }
        }
    }
    true
}
