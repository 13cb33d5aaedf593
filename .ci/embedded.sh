#!/usr/bin/env bash
# Embedded CI for gaussmix: run from a clean clone, as root, as
# `bash .ci/embedded.sh`. Installs what it needs (rustup targets, a nightly
# with rust-src, QEMU, ARM binutils, gcc), then
#
#   1. builds the end-to-end firmware (tests/embedded/firmware, fit_test) and
#      runs it on three emulated boards: Cortex-M4F (mps2-an386), Cortex-M3
#      (lm3s6965evb), Cortex-M0 (microbit): a fit of every covariance kind
#      (full, diag, spherical, tied), checked against the truth, and the
#      fitted parameters' bits identical on the three boards; checks a
#      deliberate panic and a deliberate HardFault end QEMU with status 1,
#      and that the no-panic binaries run and pass (np_api also with 2
#      points, where every kind's first call must fail with TooFewPoints);
#   2. builds the library for thumbv6m-none-eabi, thumbv7em-none-eabihf and
#      riscv32imac-unknown-none-elf;
#   3. proves nothing needs `alloc`: nightly `-Zbuild-std=core`;
#   4. the no-panic link check (tests/embedded/nopanic.sh), strict: every
#      np_* binary at opt-level 3 and "s";
#   5. the figures (tests/embedded/figures.sh): flash, stack, RAM and exact
#      instruction counts, per covariance kind and before/after for full,
#      as Markdown tables.
#
# Every QEMU run is wrapped in `timeout`; any failure fails the script. A
# failing no-panic check (4) fails it at the end, after the figures, so that
# one run shows both what links and what it costs.
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

step() { printf '\n==> [%d s] %s\n' "$(($(date +%s) - START))" "$*"; }

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

NP_FIT=(np_fit np_fit_diag np_fit_spherical np_fit_tied np_full)
NP_API=(np_api)
np_bins=()
for b in "${NP_FIT[@]}" "${NP_API[@]}"; do np_bins+=(--bin "$b"); done
BITS=$(mktemp)
LOG=$(mktemp)
unlinked=()
step "firmware: build and run the end-to-end fit of every kind on three boards"
for target in thumbv7em-none-eabihf thumbv7m-none-eabi thumbv6m-none-eabi; do
    (cd "$FW" && cargo build --release --target "$target" --bin fit_test)
    # The no-panic binaries link only if no panic path survives: one that
    # does not is reported here and by the no-panic step, and fails the
    # script at the end; the others still run.
    failed=()
    if ! (cd "$FW" && cargo build --release --target "$target" --keep-going "${np_bins[@]}") 2>"$LOG"; then
        cat "$LOG" >&2
        mapfile -t failed < <(sed -n 's/^error: could not compile `gaussmix-firmware` (bin "\([a-z_0-9]*\)").*/\1/p' "$LOG")
        if ((${#failed[@]} == 0)) || ! grep -q gaussmix_firmware_a_panic_path_survived_optimisation "$LOG"; then
            echo "firmware build failed on $target" >&2
            exit 1
        fi
        for b in "${failed[@]}"; do unlinked+=("$b on $target"); done
    fi
    echo "--- fit_test on $target ($(board "$target"))"
    out=$(run "$target" "$FW/target/$target/release/fit_test" | tr -d '\r') || {
        printf '%s\n' "$out"
        echo "fit_test failed on $target" >&2
        exit 1
    }
    printf '%s\n' "$out"
    # "  bits <kind> ll 0x... model 0x...": the fitted parameters' bits.
    grep '^  bits ' <<<"$out" | sed "s/^/$target /" >>"$BITS"
    for bin in "${NP_FIT[@]}" "${NP_API[@]}"; do
        if [[ " ${failed[*]} " == *" $bin "* ]]; then
            echo "$bin on $target: DOES NOT LINK (a panic path survives at opt-level 3), not run"
            continue
        fi
        run "$target" "$FW/target/$target/release/$bin"
        echo "$bin on $target: exit 0"
        if [[ $bin == np_api ]]; then
            # Two points: the first call must fail with TooFewPoints for
            # every kind, and nothing fault.
            run "$target" "$FW/target/$target/release/$bin" 2
            echo "$bin 2 on $target: exit 0"
        fi
    done
done
rm -f "$LOG"
echo "--- bits of the fitted models, per board"
cat "$BITS"
if [[ $(awk '{ $1 = ""; print }' "$BITS" | sort -u | wc -l) != 4 ]]; then
    echo "the fits differ between boards (expected one line per kind)" >&2
    exit 1
fi
echo "bit-identical on the three boards for the four kinds"
rm -f "$BITS"

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
# Strict: every profile (opt-level 3, "s", and mixed) must link. Its
# failure is reported at the end, after the figures.
nopanic=0
NOPANIC_STRICT=1 bash tests/embedded/nopanic.sh || nopanic=$?

step "figures (tests/embedded/figures.sh)"
bash tests/embedded/figures.sh

if ((nopanic != 0 || ${#unlinked[@]} != 0)); then
    if ((${#unlinked[@]} != 0)); then
        printf 'not linked at opt-level 3 (a panic path survives): %s\n' "${unlinked[@]}"
    fi
    step "FAILED: a panic path survives (see the no-panic step above); done in $(($(date +%s) - START)) s"
    exit 1
fi
step "done in $(($(date +%s) - START)) s"
