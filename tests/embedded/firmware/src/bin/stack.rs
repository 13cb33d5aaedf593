//! Peak stack of each gaussmix call, by stack painting, and the RAM of the
//! model and statistics types; printed through semihosting (`hprintln`,
//! so this binary carries formatting code and is not a flash figure).
//!
//! For each call, `peak_stack` paints the free stack below its own frame
//! with a pattern, runs the call, and finds the lowest word that changed:
//! the figure is the stack the call (and everything it calls) used below
//! the caller's stack pointer, to 4 bytes. The lines are `key value`,
//! parsed by tests/embedded/figures.sh; `depth` is the stack already in
//! use (`_stack_start − SP`) where the measured calls are made. Exit status 0, or 1 if a call fails.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::mem::size_of;
use core::ops::ControlFlow;

use cortex_m_semihosting::hprintln;
use gaussmix::{em_step, fit, init, FitOptions, FitReport, Gaussian, Gmm, SufficientStats};
use gaussmix_firmware::{self as firmware, draw, peak_stack, Pcg32, N2, N4};
use panic_semihosting as _;

firmware::hardfault_exits!();

#[cortex_m_rt::entry]
fn main() -> ! {
    firmware::guard_arm();
    hprintln!("stack_capacity {}", firmware::stack_capacity());
    hprintln!("size Gmm<f32,2,3> {}", size_of::<Gmm<f32, 2, 3>>());
    hprintln!(
        "size SufficientStats<f32,2,3> {}",
        size_of::<SufficientStats<f32, 2, 3>>()
    );
    hprintln!(
        "size FitReport<f32,2,3> {}",
        size_of::<FitReport<f32, 2, 3>>()
    );
    hprintln!("size Gaussian<f32,2> {}", size_of::<Gaussian<f32, 2>>());
    hprintln!("size Gmm<f32,4,4> {}", size_of::<Gmm<f32, 4, 4>>());
    hprintln!(
        "size SufficientStats<f32,4,4> {}",
        size_of::<SufficientStats<f32, 4, 4>>()
    );
    hprintln!(
        "size FitReport<f32,4,4> {}",
        size_of::<FitReport<f32, 4, 4>>()
    );

    // D = 2, K = 3 by default; `arg=stack,arg=4` on the semihosting command
    // line for D = 4, K = 4. One per run: on the micro:bit (16 KB of RAM)
    // the firmware frames of both would not fit beside the measured stack.
    let mut line = [0u8; 96];
    let ok = if firmware::word(firmware::cmdline(&mut line), 1) == Some(b"4") {
        d4k4()
    } else {
        d2k3()
    };
    firmware::exit(ok)
}

#[inline(never)]
fn d2k3() -> bool {
    // SAFETY: the only slice of the shared buffer in this run.
    let data = unsafe { firmware::data_buffer::<2>(N2) };
    firmware::truth_d2k3().is_ok_and(|t| measure("2,3", &t, data))
}

#[inline(never)]
fn d4k4() -> bool {
    // SAFETY: the only slice of the shared buffer in this run.
    let data = unsafe { firmware::data_buffer::<4>(N4) };
    firmware::truth_d4k4().is_ok_and(|t| measure("4,4", &t, data))
}

/// Each step is its own non-inlined function so that the firmware's frames
/// (which hold whole models: 880 B each at D = 4, K = 4) stay small beside
/// the measured stack on the micro:bit.
#[inline(never)]
fn measure<const D: usize, const K: usize>(
    tag: &str,
    truth: &Gmm<f32, D, K>,
    data: &mut [[f32; D]],
) -> bool {
    hprintln!("depth measure<{}> {}", tag, firmware::stack_depth());
    // The same draws as fit_test and `insn fit2`: data first, then the
    // initial means, so the fits here take the same iterations.
    let mut rng = Pcg32::new(firmware::SEED);
    let Some(model) = build(tag, truth) else {
        return false;
    };
    draw(&model, &mut rng, data);
    let data: &[[f32; D]] = data;
    let Some(start) = start::<D, K>(tag, data, &mut rng) else {
        return false;
    };
    let Some(fitted) = fit_it(tag, data, start) else {
        return false;
    };
    step(tag, data, &fitted)
        && infer(tag, &fitted, data.first().copied().unwrap_or([0.0; D]))
        && sample(tag, &fitted, &mut rng)
}

#[inline(never)]
fn build<const D: usize, const K: usize>(
    tag: &str,
    truth: &Gmm<f32, D, K>,
) -> Option<Gmm<f32, D, K>> {
    let (model, s) = peak_stack(|| {
        Gmm::<f32, D, K>::new(
            truth.weights().clone_owned().into(),
            truth.means(),
            truth.covariances(),
        )
    });
    hprintln!("stack Gmm::new<{}> {}", tag, s);
    model.ok()
}

#[inline(never)]
fn sample<const D: usize, const K: usize>(
    tag: &str,
    model: &Gmm<f32, D, K>,
    rng: &mut Pcg32,
) -> bool {
    let (x, s) = peak_stack(|| model.sample(rng));
    hprintln!("stack Gmm::sample<{}> {}", tag, s);
    black_box(x);
    true
}

#[inline(never)]
fn start<const D: usize, const K: usize>(
    tag: &str,
    data: &[[f32; D]],
    rng: &mut Pcg32,
) -> Option<Gmm<f32, D, K>> {
    let (start, s) = peak_stack(|| init::random_points::<f32, D, K, Full, _, _>(data, rng));
    hprintln!("stack init::random_points<{}> {}", tag, s);
    start.ok()
}

#[inline(never)]
fn fit_it<const D: usize, const K: usize>(
    tag: &str,
    data: &[[f32; D]],
    start: Gmm<f32, D, K>,
) -> Option<Gmm<f32, D, K>> {
    let options = FitOptions::default().with_max_iter(200);
    let (report, s) = peak_stack(|| fit(data, start, &options, |_| ControlFlow::Continue(())));
    hprintln!("stack fit<{}> {}", tag, s);
    let report = report.ok()?;
    hprintln!("iterations fit<{}> {}", tag, report.iterations);
    Some(report.model)
}

#[inline(never)]
fn step<const D: usize, const K: usize>(
    tag: &str,
    data: &[[f32; D]],
    model: &Gmm<f32, D, K>,
) -> bool {
    let (step, s) = peak_stack(|| em_step(data, model, 1e-6));
    hprintln!("stack em_step<{}> {}", tag, s);
    step.is_ok()
}

#[inline(never)]
fn infer<const D: usize, const K: usize>(tag: &str, m: &Gmm<f32, D, K>, x: [f32; D]) -> bool {
    let (r, s) = peak_stack(|| m.log_prob(&x));
    hprintln!("stack Gmm::log_prob<{}> {}", tag, s);
    let (r2, s2) = peak_stack(|| m.responsibilities(&x));
    hprintln!("stack Gmm::responsibilities<{}> {}", tag, s2);
    let (r3, s3) = peak_stack(|| m.predict(&x));
    hprintln!("stack Gmm::predict<{}> {}", tag, s3);
    r.is_ok() && r2.is_ok() && r3.is_ok()
}
