//! Learning a sensor's normal behaviour online and flagging anomalies by
//! their log-density, as a microcontroller would: one `OnlineGmm` update per
//! sample, fixed memory, no data kept.
//!
//! ```text
//! cargo run --release --example anomaly
//! ```
//!
//! The simulated sensor reads (temperature, vibration) from a machine with
//! two operating modes, idle and running, whose temperatures creep upwards
//! over the run (a slow drift the model must follow: a constant step
//! size). Injected into the stream, at known times, are three kinds of
//! fault: a vibration spike, a reading stuck at a value between the modes,
//! and a temperature jump. Each sample is scored by `ln p(x)` under the
//! current model *before* it is learnt; a sample scoring more than
//! `THRESHOLD` nats below the running mean score is flagged and not learnt,
//! so faults do not teach the model that they are normal. (For a Gaussian
//! in D = 2 the score `ln p(x)` is a constant minus half a χ²₂ variable, an
//! exponential of mean 1: it falls 8 nats below its mean with probability
//! `e⁻⁹ ≈ 1.2e-4`; a mixture's modes add a little to that.) The program prints the detections
//! against the injected faults and exits non-zero if a fault is missed or
//! more than 0.1 % of normal samples are flagged.

use gaussmix::nalgebra::{matrix, vector, SVector};
use gaussmix::{Gmm, OnlineGmm, OnlineOptions, StepSize};
use rand_core::Rng;
use rand_pcg::Pcg64Mcg;

/// Samples in the stream.
const N: usize = 40_000;
/// The learner's warm-up: the first samples, fitted in one batch.
const WARM_UP: usize = 200;

/// What was injected at a sample, if anything.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    Spike,
    Stuck,
    Jump,
}

/// A standard normal draw (Box–Muller on the caller's RNG).
fn normal(rng: &mut Pcg64Mcg) -> f64 {
    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let v = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (-2.0 * (1.0 - u).ln()).sqrt() * (core::f64::consts::TAU * v).cos()
}

/// The sensor at sample `i`: the reading and the fault injected, if any.
fn sensor(i: usize, rng: &mut Pcg64Mcg) -> (SVector<f64, 2>, Option<Fault>) {
    // Running 60 % of the time, switching every 40 samples (the warm-up
    // must see every normal mode: a mode it has not seen scores as a fault
    // and is never learnt).
    let running = (i / 40) % 5 < 3;
    let drift = 3.0 * i as f64 / N as f64; // degrees over the whole run
    let (t, v) = if running {
        (
            65.0 + drift + 1.5 * normal(rng),
            4.0 + 0.6 * normal(rng) + 0.3 * normal(rng),
        )
    } else {
        (40.0 + drift + 1.0 * normal(rng), 0.5 + 0.2 * normal(rng))
    };
    let fault = match i {
        _ if i < 2 * WARM_UP => None,
        _ if i.is_multiple_of(2_777) => Some(Fault::Spike),
        _ if i.is_multiple_of(3_331) => Some(Fault::Stuck),
        _ if i.is_multiple_of(4_441) => Some(Fault::Jump),
        _ => None,
    };
    let x = match fault {
        None => vector![t, v],
        Some(Fault::Spike) => vector![t, v + 6.0],
        Some(Fault::Stuck) => vector![52.0, 2.2],
        Some(Fault::Jump) => vector![t + 12.0, v],
    };
    (x, fault)
}

/// How far below the running mean score (in nats) a sample is flagged.
const THRESHOLD: f64 = 8.0;

fn main() -> Result<(), gaussmix::Error> {
    let mut rng = Pcg64Mcg::new(0x5eed_0f5e_550a);
    // A rough start: the learner needs only to know there are two modes.
    let start = Gmm::<f64, 2, 2>::new(
        [0.5, 0.5],
        [vector![40.0, 1.0], vector![60.0, 3.0]],
        [matrix![25.0, 0.0; 0.0, 4.0]; 2],
    )?;
    // γ = 0.002: a memory of about 500 samples, enough to follow the drift.
    let options = OnlineOptions::default().with_step(StepSize::Constant(0.002));
    let mut online = OnlineGmm::<f64, 2, 2, WARM_UP>::new(start, &options)?;
    // The running mean score of the samples learnt (the learner's own
    // average, weighted by the same steps as its statistics).
    let mut baseline = 0.0;
    let (mut faults, mut caught, mut false_alarms, mut normal_samples) = (0, 0, 0, 0);
    let mut by_kind = [
        (Fault::Spike, 0, 0),
        (Fault::Stuck, 0, 0),
        (Fault::Jump, 0, 0),
    ];
    for i in 0..N {
        let (x, fault) = sensor(i, &mut rng);
        if !online.is_warm() {
            online.update(&x)?;
            continue;
        }
        baseline = online.mean_log_likelihood().unwrap_or(baseline);
        let score = online.model().log_prob(&x)?;
        let flagged = score < baseline - THRESHOLD;
        if let Some(kind) = fault {
            faults += 1;
            caught += usize::from(flagged);
            if let Some(row) = by_kind.iter_mut().find(|r| r.0 == kind) {
                row.1 += 1;
                row.2 += usize::from(flagged);
            }
        } else {
            normal_samples += 1;
            false_alarms += usize::from(flagged);
        }
        if !flagged {
            online.update(&x)?;
        }
        if i % 10_000 == 0 {
            let m = online.model().means();
            println!(
                "sample {i:>6}: modes at ({:.1} °C, {:.2} g) and ({:.1} °C, {:.2} g), mean score {:.2}",
                m[0][0], m[0][1], m[1][0], m[1][1], baseline
            );
        }
    }
    println!();
    println!("| fault | injected | flagged |");
    println!("|---|---:|---:|");
    for (kind, n, c) in by_kind {
        println!("| {kind:?} | {n} | {c} |");
    }
    let rate = false_alarms as f64 / normal_samples as f64;
    println!(
        "\n{caught} of {faults} faults flagged; {false_alarms} of {normal_samples} normal samples flagged ({:.3} %)",
        100.0 * rate
    );
    if caught < faults || rate > 1e-3 {
        eprintln!("detection below what this example promises");
        std::process::exit(1);
    }
    Ok(())
}
