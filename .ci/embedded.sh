#!/usr/bin/env bash
# Embedded CI for gaussmix: run from a clean clone, as root, as
# `bash .ci/embedded.sh`. Installs what it needs (rustup targets, a nightly
# with rust-src, QEMU, ARM binutils, gcc), then
#
#   1. builds the end-to-end firmware (tests/embedded/firmware, fit_test) and
#      runs it on three emulated boards: Cortex-M4F (mps2-an386), Cortex-M3
#      (lm3s6965evb), Cortex-M0 (microbit); checks a deliberate panic and a
#      deliberate HardFault end QEMU with status 1, and that the no-panic
#      binaries run and pass;
#   2. builds the library for thumbv6m-none-eabi, thumbv7em-none-eabihf and
#      riscv32imac-unknown-none-elf;
#   3. proves nothing needs `alloc`: nightly `-Zbuild-std=core`;
#   4. the no-panic link check (tests/embedded/nopanic.sh);
#   5. the figures (tests/embedded/figures.sh): flash, stack, RAM and exact
#      instruction counts, as Markdown tables.
#
# Every QEMU run is wrapped in `timeout`; any failure fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TERM_COLOR=never
# Library builds go to their own target directory (under the ignored
# /target), so they neither wait for nor disturb other cargo runs.
LIB_TARGET_DIR=$ROOT/target/embedded-ci
FW=$ROOT/tests/embedded/firmware
TIMEOUT=${TIMEOUT:-120}
START=$(date +%s)

step() { printf '\n==> %s\n' "$*"; }

step "toolchain and tools"
rustup target add thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf riscv32imac-unknown-none-elf
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal
fi
rustup component add rust-src --toolchain nightly
missing=()
command -v qemu-system-arm >/dev/null || missing+=(qemu-system-arm)
command -v arm-none-eabi-objdump >/dev/null || missing+=(binutils-arm-none-eabi)
command -v gcc >/dev/null || missing+=(gcc)
if ((${#missing[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
fi
cargo --version
rustc --version
rustup run nightly rustc --version
qemu-system-arm --version | head -1
arm-none-eabi-size --version | head -1

# board TARGET -> QEMU arguments for the board that matches the target
board() {
    case $1 in
    thumbv7em-none-eabihf) echo "-cpu cortex-m4 -machine mps2-an386" ;;
    thumbv7m-none-eabi) echo "-cpu cortex-m3 -machine lm3s6965evb" ;;
    thumbv6m-none-eabi) echo "-cpu cortex-m0 -machine microbit" ;;
    esac
}

# run TARGET ELF [ARG...] -> runs the firmware under QEMU with semihosting
# (semihosting arguments after the ELF), returns QEMU's exit status.
run() {
    local target=$1 elf=$2 cfg a
    cfg="enable=on,target=native,arg=$(basename "$2")"
    shift 2
    for a in "$@"; do cfg="$cfg,arg=$a"; done
    # shellcheck disable=SC2046
    timeout "$TIMEOUT" qemu-system-arm $(board "$target") -nographic \
        -semihosting-config "$cfg" -kernel "$elf"
}

step "firmware: build and run the end-to-end fit on three boards"
for target in thumbv7em-none-eabihf thumbv7m-none-eabi thumbv6m-none-eabi; do
    (cd "$FW" && cargo build --release --target "$target" --bin fit_test --bin np_fit --bin np_full)
    echo "--- fit_test on $target ($(board "$target"))"
    run "$target" "$FW/target/$target/release/fit_test"
    for bin in np_fit np_full; do
        run "$target" "$FW/target/$target/release/$bin"
        echo "$bin on $target: exit 0"
    done
done

step "firmware: a panic and a HardFault exit QEMU with status 1"
for target in thumbv7em-none-eabihf thumbv6m-none-eabi; do
    for what in panic fault; do
        status=0
        run "$target" "$FW/target/$target/release/fit_test" "$what" || status=$?
        if [[ $status != 1 ]]; then
            echo "fit_test $what on $target: expected exit status 1, got $status" >&2
            exit 1
        fi
        echo "fit_test $what on $target: exit status 1, as expected"
    done
done

step "library: cargo build --release for three no_std targets"
for target in thumbv6m-none-eabi thumbv7em-none-eabihf riscv32imac-unknown-none-elf; do
    cargo build --release --target "$target" --target-dir "$LIB_TARGET_DIR"
done

step "library: nothing needs alloc (nightly -Zbuild-std=core)"
cargo +nightly build -Zbuild-std=core --target thumbv7em-none-eabihf --release \
    --target-dir "$LIB_TARGET_DIR/build-std"

step "no panic path (tests/embedded/nopanic.sh)"
# Strict: every profile (opt-level 3, "s", and mixed) must link.
NOPANIC_STRICT=1 bash tests/embedded/nopanic.sh

step "figures (tests/embedded/figures.sh)"
bash tests/embedded/figures.sh

step "done in $(($(date +%s) - START)) s"
