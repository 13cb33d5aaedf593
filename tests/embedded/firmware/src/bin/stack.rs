//! Peak stack of each gaussmix call, by stack painting, and the RAM of the
//! model and statistics types; printed through semihosting (`hprintln`,
//! so this binary carries formatting code and is not a flash figure).
//!
//! For each call, `peak_stack` paints the free stack below its own frame
//! with a pattern, runs the call, and finds the lowest word that changed:
//! the figure is the stack the call (and everything it calls) used below
//! the caller's stack pointer, to 4 bytes. The lines are `key name value`,
//! parsed by tests/embedded/figures.sh; names carry `<D,K>` for full
//! covariance and `<D,K,kind>` for the other kinds; `depth` is the stack
//! already in use (`_stack_start − SP`) where the measured calls are made.
//! Exit status 0, or 1 if a call fails.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::mem::size_of;
use core::ops::ControlFlow;

use cortex_m_semihosting::hprintln;
use gaussmix::{
    em_step, fit, fit_in_place, init, CovarianceKind, Diag, FitOptions, FitReport, Full, Gaussian,
    Gmm, Spherical, SufficientStats, Tied,
};
use gaussmix_firmware::{self as firmware, draw, peak_stack, peak_stack_with, Kind, Pcg32, N2, N4};
use panic_semihosting as _;

firmware::hardfault_exits!();

/// The tag of a measurement: `D,K` for full covariance (as before the
/// kinds existed), `D,K,kind` for the others.
struct Tag<C: CovarianceKind, const D: usize, const K: usize>(core::marker::PhantomData<C>);

impl<C: CovarianceKind, const D: usize, const K: usize> core::fmt::Display for Tag<C, D, K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if C::NAME == "full" {
            write!(f, "{},{}", D, K)
        } else {
            write!(f, "{},{},{}", D, K, C::NAME)
        }
    }
}

fn tag<C: CovarianceKind, const D: usize, const K: usize>() -> Tag<C, D, K> {
    Tag(core::marker::PhantomData)
}

fn sizes<C: CovarianceKind, const D: usize, const K: usize>() {
    let t = tag::<C, D, K>();
    hprintln!("size Gmm<f32,{}> {}", t, size_of::<Gmm<f32, D, K, C>>());
    hprintln!(
        "size SufficientStats<f32,{}> {}",
        t,
        size_of::<SufficientStats<f32, D, K, C>>()
    );
    hprintln!(
        "size FitReport<f32,{}> {}",
        t,
        size_of::<FitReport<f32, D, K, C>>()
    );
}

#[cortex_m_rt::entry]
fn main() -> ! {
    firmware::guard_arm();
    hprintln!("stack_capacity {}", firmware::stack_capacity());
    sizes::<Full, 2, 3>();
    sizes::<Diag, 2, 3>();
    sizes::<Spherical, 2, 3>();
    sizes::<Tied, 2, 3>();
    sizes::<Full, 4, 4>();
    hprintln!("size Gaussian<f32,2> {}", size_of::<Gaussian<f32, 2>>());

    // D = 2, K = 3 (every kind) by default; `arg=stack,arg=4` on the
    // semihosting command line for D = 4, K = 4 (full). One per run: on the
    // micro:bit (16 KB of RAM) the firmware frames of both would not fit
    // beside the measured stack.
    let mut line = [0u8; 96];
    let ok = if firmware::word(firmware::cmdline(&mut line), 1) == Some(b"4") {
        d4k4()
    } else {
        d2k3::<Full>() && d2k3::<Diag>() && d2k3::<Spherical>() && d2k3::<Tied>()
    };
    firmware::exit(ok)
}

#[inline(never)]
fn d2k3<C: Kind>() -> bool {
    // SAFETY: the only slice of the shared buffer alive (one kind at a time).
    let data = unsafe { firmware::data_buffer::<2>(N2) };
    firmware::truth_d2k3().is_ok_and(|t| measure::<C, 2, 3>(&t, data))
}

#[inline(never)]
fn d4k4() -> bool {
    // SAFETY: the only slice of the shared buffer in this run.
    let data = unsafe { firmware::data_buffer::<4>(N4) };
    firmware::truth_d4k4().is_ok_and(|t| measure::<Full, 4, 4>(&t, data))
}

/// Each step is its own non-inlined function so that the firmware's frames
/// (which hold whole models: 880 B each at D = 4, K = 4) stay small beside
/// the measured stack on the micro:bit.
#[inline(never)]
fn measure<C: Kind, const D: usize, const K: usize>(
    truth: &Gmm<f32, D, K>,
    data: &mut [[f32; D]],
) -> bool {
    let t = tag::<C, D, K>();
    hprintln!("depth measure<{}> {}", t, firmware::stack_depth());
    // The same draws as fit_test and `insn fit2`: data first (from the full
    // truth, as every kind's fit sees them), then the initial means, so the
    // fits here take the same iterations.
    let mut rng = Pcg32::new(firmware::SEED);
    let Ok(represented) = C::represent(truth) else {
        return false;
    };
    let Some(model) = build::<C, D, K>(&represented) else {
        return false;
    };
    draw(truth, &mut rng, data);
    let data: &[[f32; D]] = data;
    let Some(start) = start::<C, D, K>(data, &mut rng) else {
        return false;
    };
    let Some(fitted) = fit_it::<C, D, K>(data, start) else {
        return false;
    };
    step::<C, D, K>(data, &fitted)
        && kmeans::<C, D, K>(data, &mut rng)
        && infer::<C, D, K>(&fitted, data.first().copied().unwrap_or([0.0; D]))
        && sample::<C, D, K>(&model, &mut rng)
}

#[inline(never)]
fn build<C: Kind, const D: usize, const K: usize>(
    model: &Gmm<f32, D, K, C>,
) -> Option<Gmm<f32, D, K, C>> {
    let (model, s) = peak_stack(|| C::rebuild(model));
    hprintln!("stack Gmm::new<{}> {}", tag::<C, D, K>(), s);
    model.ok()
}

#[inline(never)]
fn sample<C: Kind, const D: usize, const K: usize>(
    model: &Gmm<f32, D, K, C>,
    rng: &mut Pcg32,
) -> bool {
    let (x, s) = peak_stack(|| model.sample(rng));
    hprintln!("stack Gmm::sample<{}> {}", tag::<C, D, K>(), s);
    black_box(x);
    true
}

#[inline(never)]
fn start<C: Kind, const D: usize, const K: usize>(
    data: &[[f32; D]],
    rng: &mut Pcg32,
) -> Option<Gmm<f32, D, K, C>> {
    let (start, s) = peak_stack(|| init::random_points::<f32, D, K, C, _, _>(data, rng));
    hprintln!("stack init::random_points<{}> {}", tag::<C, D, K>(), s);
    start.ok()
}

#[inline(never)]
fn kmeans<C: Kind, const D: usize, const K: usize>(data: &[[f32; D]], rng: &mut Pcg32) -> bool {
    let (start, s) = peak_stack(|| init::kmeans_plus_plus::<f32, D, K, C, _, _>(data, rng));
    hprintln!("stack init::kmeans_plus_plus<{}> {}", tag::<C, D, K>(), s);
    start.is_ok()
}

#[inline(never)]
fn fit_it<C: Kind, const D: usize, const K: usize>(
    data: &[[f32; D]],
    start: Gmm<f32, D, K, C>,
) -> Option<Gmm<f32, D, K, C>> {
    let options = FitOptions::default().with_max_iter(200);
    let (report, s) = peak_stack_with(start, (data, &options), fit_with::<C, D, K>);
    let t = tag::<C, D, K>();
    hprintln!("stack fit<{}> {}", t, s);
    let report = report.ok()?;
    hprintln!("iterations fit<{}> {}", t, report.iterations);
    let mut model = start;
    let (summary, s) =
        peak_stack(|| fit_in_place(data, &mut model, &options, |_| ControlFlow::Continue(())));
    hprintln!("stack fit_in_place<{}> {}", t, s);
    let summary = summary.ok()?;
    (summary.iterations == report.iterations && model == report.model).then_some(report.model)
}

#[inline(never)]
fn step<C: Kind, const D: usize, const K: usize>(
    data: &[[f32; D]],
    model: &Gmm<f32, D, K, C>,
) -> bool {
    let (step, s) = peak_stack(|| em_step(data, model, 1e-6));
    hprintln!("stack em_step<{}> {}", tag::<C, D, K>(), s);
    step.is_ok()
}

#[inline(never)]
fn infer<C: Kind, const D: usize, const K: usize>(m: &Gmm<f32, D, K, C>, x: [f32; D]) -> bool {
    let t = tag::<C, D, K>();
    let (r, s) = peak_stack(|| m.log_prob(&x));
    hprintln!("stack Gmm::log_prob<{}> {}", t, s);
    let (r2, s2) = peak_stack(|| m.responsibilities(&x));
    hprintln!("stack Gmm::responsibilities<{}> {}", t, s2);
    let (r3, s3) = peak_stack(|| m.predict(&x));
    hprintln!("stack Gmm::predict<{}> {}", t, s3);
    r.is_ok() && r2.is_ok() && r3.is_ok()
}

/// `fit` from `start`, for `peak_stack_with`: `start` stays in the frame of
/// the caller (`fit_it`), as in a program that calls `fit` on a model of its
/// own, and what `fit` copies of it is measured.
fn fit_with<C: CovarianceKind, const D: usize, const K: usize>(
    start: Gmm<f32, D, K, C>,
    (data, options): (&[[f32; D]], &FitOptions<f32>),
) -> Result<FitReport<f32, D, K, C>, gaussmix::Error> {
    fit(data, start, options, |_| ControlFlow::Continue(()))
}
