#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::pedantic)]
// `!(x > 0)` is deliberate throughout: unlike `x <= 0` it is also true for NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]
#![allow(
    clippy::many_single_char_names,
    clippy::similar_names,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::needless_range_loop,
    clippy::module_name_repetitions,
    clippy::missing_panics_doc,
    // Exact float comparisons are deliberate (zero responsibilities, bitwise
    // identical shifts, exact test vectors).
    clippy::float_cmp
)]

#[cfg(any(test, feature = "std"))]
extern crate std;

// Modules import one way, each only from those before it in this order
// (tests/layout.rs checks it): real, error, sample, data, linalg,
// covariance, estep, mixture, stats, mstep, fit, online, init, serial.
pub mod covariance;
mod data;
mod error;
mod estep;
mod fit;
pub mod init;
mod linalg;
mod mixture;
mod mstep;
mod online;
mod real;
pub mod sample;
#[cfg(feature = "serde")]
mod serial;
mod stats;

pub use covariance::{CovarianceKind, Diag, Full, Gaussian, Spherical, Tied};
pub use data::AsPoint;
pub use error::Error;
pub use fit::{
    em_step, fit, fit_in_place, fit_restarts, fit_weighted, fit_with_responsibilities, EmStep,
    FitOptions, FitReport, FitSummary, Iteration, Phase, Position, Progress, ResumableFit,
    Termination,
};
#[cfg(feature = "std")]
pub use fit::{fit_parallel, SHARD};
pub use mixture::Gmm;
pub use mstep::Frozen;
pub use online::{OnlineGmm, OnlineOptions, OnlineUpdate, StepSize};
pub use real::Real;
pub use stats::SufficientStats;

/// nalgebra, re-exported so callers can name the crate's `SVector`/`SMatrix`
/// types without a version clash. (nalgebra's `vector!`/`matrix!` macros
/// expand to `nalgebra::` paths, so using them needs a direct dependency.)
pub use nalgebra;
/// `rand_core`, re-exported for the [`rand_core::Rng`] trait the samplers and
/// initialisers take.
pub use rand_core;
