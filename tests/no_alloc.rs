//! Proof that the library never touches the heap: a counting global
//! allocator records every allocation made on the test's thread while fit,
//! inference, initialisation and sampling run, and the count must be zero.
//!
//! (The library is `#![no_std]` without `alloc`, so it cannot even name an
//! allocator; this test guards the claim against a future dependency or
//! feature that would quietly bring one in.)

// Implementing `GlobalAlloc` is the one use of `unsafe` in the project; the
// library itself forbids it.
#![allow(unsafe_code)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ops::ControlFlow;

use gaussmix::nalgebra::SVector;
use gaussmix::{
    fit, fit_in_place, fit_with_responsibilities, init, FitOptions, Full, SufficientStats,
};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every method forwards to `System` unchanged; the counter is a
// const-initialised thread-local `Cell`, which itself never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn counter_sees_allocations() {
    // The instrument works: a Vec is counted.
    let n = allocations_during(|| drop(std::hint::black_box(vec![1u8; 64])));
    assert_eq!(n, 1);
}

#[test]
fn fit_inference_and_sampling_allocate_nothing() {
    let truth = common::three_clusters();
    let data64 = common::sample(&truth, 2_000, 5);
    let data32: Vec<[f32; 2]> = data64.iter().map(|x| [x[0] as f32, x[1] as f32]).collect();
    let mut resp = vec![SVector::<f64, 3>::zeros(); data64.len()];
    let mut rng = common::rng(6);

    let n = allocations_during(|| {
        let start = init::random_points::<f64, 2, 3, Full, _, _>(&data64, &mut rng).unwrap();
        let seeded = init::kmeans_plus_plus::<f64, 2, 3, Full, _, _>(&data64, &mut rng).unwrap();
        let options = FitOptions::default().with_tol(1e-8);
        let report = fit(&data64, start, &options, |_| ControlFlow::Continue(())).unwrap();
        assert!(report.iterations > 3);
        let mut in_place = start;
        let summary = fit_in_place(&data64, &mut in_place, &options, |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(
            (in_place, summary.iterations),
            (report.model, report.iterations)
        );
        let report2 = fit_with_responsibilities(&data64, seeded, &options, &mut resp, |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
        let model = report2.model;
        for x in &data64[..50] {
            std::hint::black_box((
                model.log_prob(x).unwrap(),
                model.responsibilities(x).unwrap(),
                model.predict(x).unwrap(),
                model.sample(&mut rng),
                model.sample_from(1, &mut rng),
            ));
        }
        std::hint::black_box((
            model.log_likelihood(&data64).unwrap(),
            model.bic(&data64).unwrap(),
            model.aic(&data64).unwrap(),
        ));
        let mut a = SufficientStats::new(&model);
        let mut b = SufficientStats::new(&model);
        for x in &data64[..1000] {
            a.accumulate(&model, x).unwrap();
        }
        for x in &data64[1000..] {
            b.accumulate(&model, x).unwrap();
        }
        a.merge(&b).unwrap();
        std::hint::black_box(a.m_step(&model, 1e-6).unwrap());

        // f32 on plain arrays, as firmware would call it.
        let start32 = init::random_points::<f32, 2, 3, Full, _, _>(&data32, &mut rng).unwrap();
        let fitted = fit(&data32, start32, &FitOptions::default(), |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
        std::hint::black_box(fitted.model.responsibilities(&data32[0]).unwrap());
    });
    assert_eq!(n, 0, "the library allocated {n} times");
    assert!(resp.iter().all(|r| (r.sum() - 1.0).abs() < 1e-12));
}
