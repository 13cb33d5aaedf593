//! Per-board memory layout and the cortex-m-rt linker script.
//!
//! Mechanism: the board follows from the target triple, one board per
//! triple, and this script copies `memory-<board>.x` to `$OUT_DIR/memory.x`
//! and puts `$OUT_DIR` on the linker search path, where cortex-m-rt's
//! `link.x` finds it (`INCLUDE memory.x`):
//!
//! | target                 | QEMU board    | core       | FLASH / RAM |
//! |------------------------|---------------|------------|-------------|
//! | `thumbv7em-none-eabihf`| `mps2-an386`  | Cortex-M4F | 4M / 4M     |
//! | `thumbv7m-none-eabi`   | `lm3s6965evb` | Cortex-M3  | 256K / 64K  |
//! | `thumbv6m-none-eabi`   | `microbit`    | Cortex-M0  | 256K / 16K  |
//!
//! Do not add a `memory.x` at this crate's root: the linker searches its
//! working directory first, so that file would silently win for every
//! board.
//!
//! `-Tlink.x` is passed from here (`rustc-link-arg-bins`) rather than from
//! `.cargo/config.toml` rustflags, so an environment `RUSTFLAGS` (which
//! replaces config rustflags) cannot drop it.

use std::{env, fs, path::PathBuf};

fn main() {
    let target = env::var("TARGET").unwrap_or_default();
    let board = match target.as_str() {
        "thumbv7em-none-eabihf" => Some("mps2-an386"),
        "thumbv7m-none-eabi" => Some("lm3s6965evb"),
        "thumbv6m-none-eabi" => Some("microbit"),
        _ => None,
    };
    for b in ["mps2-an386", "lm3s6965evb", "microbit"] {
        println!("cargo:rerun-if-changed=memory-{b}.x");
    }
    println!("cargo:rerun-if-changed=build.rs");
    let Some(board) = board else {
        // Not a supported firmware target (e.g. a host `cargo check`): no
        // linker script, nothing to copy.
        return;
    };
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    fs::copy(format!("memory-{board}.x"), out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rustc-cfg=board=\"{board}\"");
    println!(
        "cargo:rustc-check-cfg=cfg(board, values(\"mps2-an386\", \"lm3s6965evb\", \"microbit\"))"
    );
}
