//! Fit + inference at D = 2, K = 3, f32, with a panic handler that does not
//! link (item 3) and no formatting code: the flash figure "fit + inference".
//! Calls `init::random_points`, `fit`, `predict`, `log_prob` and
//! `responsibilities`; the data are a fixed pattern of three clusters
//! computed in place (no sampler). Exit status 0 if the fit converges and
//! the three cluster centres are predicted to three different components.
#![no_std]
#![no_main]

use gaussmix::nalgebra::SVector;
use gaussmix_firmware::{self as firmware, Pcg32, N2};

firmware::no_panic_handler!();
firmware::hardfault_exits!();

static mut DATA: [[f32; 2]; N2] = [[0.0; 2]; N2];

const CENTRES: [[f32; 2]; 3] = [[1.5, 6.0], [7.9, 4.3], [15.3, 5.4]];

#[cortex_m_rt::entry]
fn main() -> ! {
    firmware::guard_arm();
    // SAFETY: the only reference to DATA, taken once.
    let data = unsafe { &mut *core::ptr::addr_of_mut!(DATA) };
    // Three clusters: centre + a uniform spread in ±0.8 on each axis.
    let mut jitter = Pcg32::new(1);
    for (x, c) in data.iter_mut().zip(CENTRES.iter().cycle()) {
        *x = [
            c[0] + firmware::spread(&mut jitter),
            c[1] + firmware::spread(&mut jitter),
        ];
    }
    let data = core::hint::black_box(&*data);
    // Seed 0 puts one initial mean in each cluster (checked; with these
    // tight, far-apart clusters many seeds end in a local optimum).
    let mut rng = Pcg32::new(core::hint::black_box(0));
    let ok = match firmware::fit_from_random_points::<2, 3>(data, &mut rng) {
        Ok(report) => {
            let centres = CENTRES.map(SVector::from);
            match firmware::infer_all(&report.model, &centres) {
                Some((checksum, predicted)) => {
                    core::hint::black_box(checksum);
                    report.converged() && firmware::all_distinct(&predicted)
                }
                None => false,
            }
        }
        Err(_) => false,
    };
    firmware::exit(ok)
}
