//! The no-panic proof (item 3) and the flash figure "fit + inference +
//! sampling" at D = 2, K = 3, f32: `Gmm::new`, `Gmm::sample` (600 draws),
//! `init::random_points`, `fit`, `predict`, `log_prob`, `responsibilities`,
//! with a panic handler that calls an undefined function (the binary links
//! only if no panic path survives) and no formatting code. Exit status 0 if
//! the fit converges and the true means are predicted to three different
//! components.
#![no_std]
#![no_main]

use gaussmix_firmware::{self as firmware, Pcg32, N2};

firmware::no_panic_handler!();
firmware::hardfault_exits!();

static mut DATA: [[f32; 2]; N2] = [[0.0; 2]; N2];

#[cortex_m_rt::entry]
fn main() -> ! {
    firmware::guard_arm();
    // SAFETY: the only reference to DATA, taken once.
    let data = unsafe { &mut *core::ptr::addr_of_mut!(DATA) };
    let ok = match firmware::truth_d2k3() {
        Ok(truth) => {
            let mut rng = Pcg32::new(core::hint::black_box(firmware::SEED));
            firmware::draw(&truth, &mut rng, data);
            match firmware::fit_from_random_points::<gaussmix::Full, 2, 3>(data, &mut rng) {
                Ok(report) => match firmware::infer_all(&report.model, &truth.means()) {
                    Some((checksum, predicted)) => {
                        core::hint::black_box(checksum);
                        report.converged() && firmware::all_distinct(&predicted)
                    }
                    None => false,
                },
                Err(_) => false,
            }
        }
        Err(_) => false,
    };
    firmware::exit(ok)
}
