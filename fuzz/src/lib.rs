//! Input types, cases and invariant checks for the gaussmix fuzz targets.
//!
//! Every target runs in two steps. Its `Input` (`#[derive(Arbitrary)]`) is
//! a *recipe*: floats come from a [`num::Num`], whose raw variants carry
//! any `f64` or `f32` bit pattern (NaN with any payload, ±inf, subnormals,
//! ±0) next to "nice" variants that get the fuzzer past validation into the
//! EM loop; models come from a [`spec::ModelSpec`] whose covariance recipes
//! include `L Lᵀ` products. The recipe is lowered to a *case*
//! ([`case`]): the concrete values gaussmix is given (precision, `D`, `K`,
//! covariance kind, points, parameters, options), which the target's checks
//! then run on. Regressions are cases stored as JSON ([`regression`]), so
//! they mean the same whatever the recipes become.
//!
//! The checks ([`check`]) are the crate's documented invariants, computed
//! in `f64` independently of the crate's own code.

pub mod case;
pub mod check;
pub mod num;
pub mod regression;
pub mod rng;
pub mod spec;

/// The targets: input, case, lowering and checks of each.
pub mod targets {
    pub mod construction;
    pub mod fit;
    pub mod inference;
    pub mod sample;
}

pub use num::{f, Num, Scalar, V};
pub use rng::SplitMix;

/// Library bugs the targets have found and that are not fixed yet: each is
/// tolerated while fuzzing (so a campaign is not stopped by it again and
/// again), in the narrow condition the target states, and never while the
/// stored regressions are replayed, where its document (`"status":
/// "open"`) must still fail. See README.md, "Findings".
pub mod known {
    use std::sync::atomic::{AtomicBool, Ordering};

    static STRICT: AtomicBool = AtomicBool::new(false);

    /// Known bugs are not tolerated from now on (the regression replay;
    /// also `GAUSSMIX_FUZZ_STRICT=1` while fuzzing).
    pub fn set_strict() {
        STRICT.store(true, Ordering::Relaxed);
    }

    /// Whether the known bug `id` (a regression's file name) is tolerated.
    pub fn tolerated(id: &str) -> bool {
        static ENV: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let env =
            *ENV.get_or_init(|| std::env::var("GAUSSMIX_FUZZ_STRICT").is_ok_and(|v| v == "1"));
        let _ = id;
        !(env || STRICT.load(Ordering::Relaxed))
    }
}
