//! Replays every stored regression, `regressions/TARGET/*.json`: each is
//! deserialised into its target's case type (a document that no longer
//! fits the case types fails, loudly) and run through the target's checks
//! with every known-bug tolerance off. A `fixed` document must pass; an
//! `open` one (a library bug not fixed yet) must still fail, so that the
//! fix marks it `fixed`. Every document that does not do what its status
//! says is listed before the test fails (see `gaussmix_fuzz::regression`).
//!
//! ```sh
//! cargo test --manifest-path fuzz/Cargo.toml --test regressions -- --nocapture
//! ```

use std::path::Path;

#[test]
fn stored_regressions_do_what_their_status_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let (ok, failed) = gaussmix_fuzz::regression::replay(&root, None);
    println!("{ok} regressions as expected, {} not", failed.len());
    assert!(
        ok + failed.len() > 0,
        "no regressions in {}",
        root.display()
    );
    assert!(failed.is_empty(), "regressions not as expected: {failed:?}");
}
