//! The `sample` target: see `src/targets/sample.rs` for what it drives and
//! asserts. With `GAUSSMIX_FUZZ_REPLAY=fuzz/regressions` it replays the
//! stored regressions of `sample` instead, and exits.
#![no_main]

use gaussmix_fuzz::regression::replay_from_env;
use gaussmix_fuzz::targets::sample::{fuzz, Input, NAME};
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: replay_from_env(NAME), |input: Input| fuzz(&input));
