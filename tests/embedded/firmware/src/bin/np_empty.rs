//! Flash baseline: the skeleton every `np_*` binary shares (cortex-m-rt
//! start-up and vector table, the HardFault handler, semihosting exit, the
//! non-linking panic handler) and nothing else.
#![no_std]
#![no_main]

use gaussmix_firmware as firmware;

firmware::no_panic_handler!();
firmware::hardfault_exits!();

#[cortex_m_rt::entry]
fn main() -> ! {
    firmware::guard_arm();
    firmware::exit(core::hint::black_box(true))
}
