//! Fit + inference at D = 2, K = 3, f32, full covariance, with a panic
//! handler that does not link (item 3) and no formatting code: the flash
//! figure "fit + inference". Calls `init::random_points`, `fit`, `predict`,
//! `log_prob` and `responsibilities` (`firmware::np_fit`); the data are a
//! fixed pattern of three clusters computed in place (no sampler). Exit
//! status 0 if the fit converges and the three cluster centres are
//! predicted to three different components. `np_fit_diag`,
//! `np_fit_spherical` and `np_fit_tied` are the same for the other kinds.
#![no_std]
#![no_main]

use gaussmix::Full as Kind;
use gaussmix_firmware::{self as firmware, N2};

firmware::no_panic_handler!();
firmware::hardfault_exits!();

static mut DATA: [[f32; 2]; N2] = [[0.0; 2]; N2];

#[cortex_m_rt::entry]
fn main() -> ! {
    firmware::guard_arm();
    // SAFETY: the only reference to DATA, taken once.
    let data = unsafe { &mut *core::ptr::addr_of_mut!(DATA) };
    firmware::exit(firmware::np_fit::<Kind>(data))
}
