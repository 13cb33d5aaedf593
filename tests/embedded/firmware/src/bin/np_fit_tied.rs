//! `np_fit` (see there) with tied covariance: `init::random_points`, `fit`,
//! `predict`, `log_prob`, `responsibilities` at D = 2, K = 3, f32, a panic
//! handler that does not link, no formatting code. The flash figure "fit +
//! inference" of the kind.
#![no_std]
#![no_main]

use gaussmix::Tied as Kind;
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
