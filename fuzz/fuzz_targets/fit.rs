//! The `fit` target: see `src/targets/fit.rs` for what it drives and
//! asserts. With `GAUSSMIX_FUZZ_REPLAY=fuzz/regressions` it replays the
//! stored regressions of `fit` instead, and exits.
#![no_main]

use gaussmix_fuzz::regression::replay_from_env;
use gaussmix_fuzz::targets::fit::{fuzz, Input, NAME};
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: replay_from_env(NAME), |input: Input| fuzz(&input));
