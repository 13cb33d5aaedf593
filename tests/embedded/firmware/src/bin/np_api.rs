//! The no-panic proof (item 3) for the rest of the API, every covariance
//! kind (full, diag, spherical, tied), at D = 2, K = 3, f32, on a data
//! slice whose length comes from the semihosting command line (600 points
//! if none is given), so the optimiser cannot see it:
//! `init::kmeans_plus_plus`, `em_step`, `SufficientStats` (`new`,
//! `accumulate`, `accumulate_slice`, `merge`, `needs_recentring`,
//! `recentred`, `m_step`), `fit`, `log_likelihood`, `predict`, `log_prob`,
//! `responsibilities` (`firmware::np_api`). Panic handler that calls an
//! undefined function, no formatting code.
//!
//! Exit status 0 if, for every kind, at 600 points everything succeeds and
//! the fit classifies every point to its own cluster, or with fewer than 3
//! the first call fails with `TooFewPoints` (see `firmware::np_api` for
//! other lengths); 1 otherwise.
#![no_std]
#![no_main]

use gaussmix_firmware as firmware;

firmware::no_panic_handler!();
firmware::hardfault_exits!();

#[cortex_m_rt::entry]
fn main() -> ! {
    firmware::guard_arm();
    firmware::exit(firmware::np_api())
}
