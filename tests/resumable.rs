//! The bounded-work fit (`ResumableFit`): run to the end it equals `fit`
//! bit for bit, for every covariance kind, scalar type and budget; no call
//! touches more points than its budget or makes more than one M-step; bad
//! input is the same error as `fit`'s, and sticks.

mod common;

use core::cell::Cell;
use core::ops::ControlFlow;

use gaussmix::nalgebra::SVector;
use gaussmix::{
    fit, init, AsPoint, CovarianceKind, Diag, Error, FitOptions, FitReport, Full, Gmm, Phase,
    Progress, Real, ResumableFit, Spherical, Tied,
};

/// A point that records that it was read, so a test can count the points
/// one call touches.
struct Watched<T: Real, const D: usize> {
    x: SVector<T, D>,
    read: Cell<bool>,
}

impl<T: Real, const D: usize> AsPoint<T, D> for Watched<T, D> {
    fn to_vector(&self) -> SVector<T, D> {
        self.read.set(true);
        self.x
    }
}

fn watched<T: Real, const D: usize>(data: &[SVector<T, D>]) -> Vec<Watched<T, D>> {
    data.iter()
        .map(|&x| Watched {
            x,
            read: Cell::new(false),
        })
        .collect()
}

/// Drives `start` to the end with `budget`, checking each call's bounds:
/// at most `budget` points read and one M-step. Returns the report and
/// the number of calls.
fn drive<T: Real, const D: usize, const K: usize, C: CovarianceKind>(
    data: &[Watched<T, D>],
    start: Gmm<T, D, K, C>,
    options: &FitOptions<T>,
    budget: usize,
) -> (FitReport<T, D, K, C>, usize) {
    let mut fit = ResumableFit::new(start, options).unwrap();
    let mut iterations = 0;
    for calls in 1.. {
        for p in data {
            p.read.set(false);
        }
        let progress = fit.advance(data, budget).unwrap();
        let read = data.iter().filter(|p| p.read.get()).count();
        assert!(
            read <= budget,
            "{read} points read with a budget of {budget}"
        );
        match progress {
            Progress::Working(at) => {
                assert!(at.iterations <= iterations + 1, "two M-steps in one call");
                iterations = at.iterations;
                assert!(at.point <= data.len());
            }
            Progress::Done(report) => {
                assert!(report.iterations <= iterations + 1);
                // Finished: later calls give the same report, touching nothing.
                assert_eq!(fit.advance(data, budget), Ok(Progress::Done(report)));
                return (report, calls);
            }
        }
    }
    unreachable!()
}

fn go<T: Real>(_: &gaussmix::Iteration<T>) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// Every budget gives `fit`'s report bit for bit (a data size that is not
/// a multiple of the 128-point block, budgets below, at and above it).
fn same_as_fit<T: Real, C: CovarianceKind>(options: FitOptions<T>) {
    let data: Vec<SVector<T, 2>> = common::sample(&common::three_clusters(), 1000, 5)
        .iter()
        .map(|x| x.map(T::lit))
        .collect();
    let start: Gmm<T, 2, 3, C> = init::random_points(&data, &mut common::rng(9)).unwrap();
    let expected = fit(&data, start, &options, go).unwrap();
    assert!(expected.iterations >= options.max_iter.min(3));
    let w = watched(&data);
    for budget in [1, 7, 127, 128, 129, 333, 1000, 5000, usize::MAX] {
        let (report, calls) = drive(&w, start, &options, budget);
        assert_eq!(report, expected, "budget {budget}");
        if budget == 1 {
            // One point per call: a call per point and pass, at least.
            assert!(calls >= 1000 * (expected.iterations + 1));
        }
    }
}

#[test]
fn equals_fit_for_every_kind_and_budget() {
    same_as_fit::<f64, Full>(FitOptions::default());
    same_as_fit::<f64, Diag>(FitOptions::default());
    same_as_fit::<f64, Spherical>(FitOptions::default());
    same_as_fit::<f64, Tied>(FitOptions::default());
    same_as_fit::<f32, Full>(FitOptions::default());
    same_as_fit::<f32, Diag>(FitOptions::default());
}

#[test]
fn equals_fit_with_options() {
    same_as_fit::<f64, Full>(FitOptions::default().with_max_iter(0));
    same_as_fit::<f64, Full>(FitOptions::default().with_max_iter(4).with_tol(0.0));
    same_as_fit::<f64, Full>(FitOptions::default().with_reg_covar(0.0));
    let frozen = gaussmix::Frozen::NONE.with_means();
    same_as_fit::<f64, Diag>(FitOptions::default().with_frozen(frozen));
}

#[test]
fn recentred_passes_are_resumable_too() {
    // A start a hundred standard deviations from the data: the first
    // M-steps need recentred passes, which the state machine makes too.
    let data = common::sample(&common::two_clusters(), 300, 3);
    let far = Gmm::<f64, 2, 2>::new(
        [0.5, 0.5],
        [SVector::from([100.0, 100.0]), SVector::from([-100.0, 50.0])],
        [SVector::from([1.0, 1.0]); 2].map(|v| gaussmix::nalgebra::Matrix2::from_diagonal(&v)),
    )
    .unwrap();
    let options = FitOptions::default();
    let expected = fit(&data, far, &options, go).unwrap();
    let mut r = ResumableFit::new(far, &options).unwrap();
    let mut saw_recentring = false;
    let report = loop {
        match r.advance(&data, 50).unwrap() {
            Progress::Working(at) => saw_recentring |= at.phase == Phase::Recentring,
            Progress::Done(report) => break report,
        }
    };
    assert!(saw_recentring);
    assert_eq!(report, expected);
}

#[test]
fn errors_match_fit_and_stick() {
    let mut data = common::sample(&common::two_clusters(), 300, 4);
    data[200] = SVector::from([0.0, f64::NAN]);
    let start = common::two_clusters();
    let options = FitOptions::default();
    assert_eq!(
        fit(&data, start, &options, go),
        Err(Error::NonFiniteData { index: 200 })
    );
    let mut r = ResumableFit::new(start, &options).unwrap();
    assert!(matches!(r.advance(&data, 150), Ok(Progress::Working(_))));
    assert_eq!(
        r.advance(&data, 150),
        Err(Error::NonFiniteData { index: 200 })
    );
    assert_eq!(
        r.advance(&data, 150),
        Err(Error::NonFiniteData { index: 200 })
    );

    // Too few points: on the first call.
    let mut r = ResumableFit::new(start, &options).unwrap();
    assert_eq!(
        r.advance(&data[..1], 10),
        Err(Error::TooFewPoints {
            points: 1,
            needed: 2
        })
    );
    assert_eq!(
        ResumableFit::new(start, &options.with_tol(-1.0)),
        Err(Error::InvalidOption { option: "tol" })
    );
}

#[test]
fn caller_mistakes_leave_the_state_unchanged() {
    let data = common::sample(&common::two_clusters(), 300, 6);
    let start = common::two_clusters();
    let options = FitOptions::default();
    let expected = fit(&data, start, &options, go).unwrap();
    let mut r = ResumableFit::new(start, &options).unwrap();
    r.advance(&data, 100).unwrap();
    let before = r;
    assert_eq!(
        r.advance(&data, 0),
        Err(Error::InvalidOption { option: "budget" })
    );
    assert_eq!(
        r.advance(&data[..299], 10),
        Err(Error::LengthMismatch {
            expected: 300,
            found: 299
        })
    );
    assert_eq!(r, before);
    let report = loop {
        if let Progress::Done(report) = r.advance(&data, 64).unwrap() {
            break report;
        }
    };
    assert_eq!(report, expected);
}
