//! End-to-end test on the device (item 1): draw N2 = 600 points from a known
//! 2-D, 3-component mixture with gaussmix's sampler, fit them in f32 from
//! `init::random_points`, and compare with the truth (components matched
//! by nearest mean). Exit status 0 if weights are within 0.06 and means
//! within 0.35 (Euclidean) of the truth and inference agrees; 1 otherwise,
//! on a panic (panic-semihosting, `exit` feature) or on a HardFault.
//!
//! The RNG seed is `firmware::SEED` unless a number is given on the
//! semihosting command line (`-semihosting-config enable=on,arg=fit_test,arg=7`),
//! which is how the seed scan in tests/embedded/README.md was made.
//! The words `panic` and `fault` instead trigger a panic or a HardFault
//! (an undefined instruction), to check that both end QEMU with status 1.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use firmware::{compare, draw, fit_from_random_points, inference_agrees, truth_d2k3, Pcg32, N2};
use gaussmix_firmware as firmware;
use panic_semihosting as _;

/// Tolerances (N = 600: the standard error of a weight is at most
/// √(0.25/600) ≈ 0.02, that of a mean coordinate 0.05–0.1).
const WEIGHT_TOL: f32 = 0.06;
const MEAN_TOL: f32 = 0.35;

static mut DATA: [[f32; 2]; N2] = [[0.0; 2]; N2];

firmware::hardfault_exits!();

#[entry]
fn main() -> ! {
    firmware::guard_arm();
    let mut line = [0u8; 96];
    let arg = firmware::word(firmware::cmdline(&mut line), 1);
    match arg {
        Some(b"panic") => panic!("deliberate panic"),
        Some(b"fault") => cortex_m::asm::udf(),
        _ => {}
    }
    let seed = firmware::number(arg).unwrap_or(firmware::SEED);
    // SAFETY: the only reference to DATA, taken once.
    let data = unsafe { &mut *core::ptr::addr_of_mut!(DATA) };

    let truth = truth_d2k3().expect("the true mixture is valid");
    let mut rng = Pcg32::new(seed);
    draw(&truth, &mut rng, data);
    let report = match fit_from_random_points::<2, 3>(data, &mut rng) {
        Ok(r) => r,
        Err(e) => {
            hprintln!("seed {}: fit failed: {}", seed, e);
            firmware::exit(false);
        }
    };
    let model = &report.model;
    let c = compare(model, &truth);
    let inference = inference_agrees(model, &truth, &c.matched);
    let ok = c.within(WEIGHT_TOL, MEAN_TOL) && inference;

    hprintln!(
        "seed {}: N = {}, {} iterations ({:?}), mean log-likelihood {}",
        seed,
        data.len(),
        report.iterations,
        report.termination,
        report.mean_log_likelihood
    );
    for (k, &j) in c.matched.iter().enumerate() {
        let g = &model.components()[j];
        hprintln!(
            "  true {} -> fitted {}: weight {:.4} (true {:.1}), mean [{:.4}, {:.4}] (true [{:.1}, {:.1}]), cov [[{:.3}, {:.3}], [{:.3}, {:.3}]]",
            k,
            j,
            model.weights()[j],
            truth.weights()[k],
            g.mean()[0],
            g.mean()[1],
            truth.means()[k][0],
            truth.means()[k][1],
            g.covariance()[(0, 0)],
            g.covariance()[(0, 1)],
            g.covariance()[(1, 0)],
            g.covariance()[(1, 1)],
        );
    }
    hprintln!(
        "  max |w - w_true| = {:.4} (tol {}), max |mu - mu_true| = {:.4} (tol {}), one-to-one {}, inference {}",
        c.max_weight_error,
        WEIGHT_TOL,
        c.max_mean_error,
        MEAN_TOL,
        c.one_to_one,
        inference
    );
    // The bit pattern of the log-likelihood: identical on every core if the
    // f32 arithmetic is (it is IEEE on the M4F FPU and in soft float).
    hprintln!(
        "  log-likelihood bits {:#010x}; {}",
        report.log_likelihood.to_bits(),
        if ok { "PASS" } else { "FAIL" }
    );
    firmware::exit(ok)
}
