#!/usr/bin/env bash
# Panic-freedom at link time (item 3 of tests/embedded/README.md).
#
# The np_* binaries have a #[panic_handler] that calls an extern "C"
# function nothing defines: they link only if the optimiser removed every
# panic path. At D = 2, K = 3, f32:
#
#   np_fit, np_fit_diag, np_fit_spherical, np_fit_tied
#       init::random_points, fit, predict, log_prob, responsibilities, one
#       binary per covariance kind;
#   np_full
#       the same (full) plus Gmm::new and Gmm::sample;
#   np_api
#       on a data slice whose length comes from the semihosting command line
#       (unknown to the optimiser): init::kmeans_plus_plus, em_step,
#       SufficientStats::{new, accumulate, accumulate_slice, merge,
#       needs_recentring, recentred, m_step}, fit, log_likelihood and the
#       inference calls, for each of the four kinds (the call chains
#       printed on failure name the kind).
#
# For each target and profile this builds them all (cargo --keep-going);
# for each binary that does not link it rebuilds with `--features
# panic-loop` (a handler that links) and lists every branch to
# core::panicking::* with the inlined call chain that leads to it
# (arm-none-eabi-objdump + arm-none-eabi-addr2line), so the panicking call
# in gaussmix can be named.
#
# Exit status: non-zero if the `release` profile (the one the figures use,
# opt-level 3) does not link on thumbv7em-none-eabihf or thumbv6m-none-eabi.
# The size-optimised profiles are reported but do not fail the check unless
# NOPANIC_STRICT=1 (as .ci/embedded.sh runs it).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE/firmware"
export CARGO_TERM_COLOR=never

BINS=(np_fit np_fit_diag np_fit_spherical np_fit_tied np_full
    np_api)
PROFILES=(release release-mixed release-s)
TARGETS=(thumbv7em-none-eabihf thumbv6m-none-eabi)
fail=0

bin_args() { local b; for b in "${BINS[@]}"; do printf -- '--bin %s ' "$b"; done; }

# Prints each branch into core::panicking::* and each branch to a shared
# `bl core::panicking::*` site, with the inlined call chain (innermost
# first) that the DWARF gives for the branching instruction.
panic_sites() { # elf
    local elf=$1 dis
    dis=$(mktemp)
    arm-none-eabi-objdump -d --no-show-raw-insn -C "$elf" >"$dis"
    awk '
        function target(line,   t) {
            t = substr(line, index(line, "<core::panicking::") + 1); sub(/[+>].*/, "", t); return t
        }
        # Pass 1: the addresses of calls into core::panicking (outside it).
        NR == FNR {
            if ($0 ~ /^[0-9a-f]+ <.*>:$/) { inside = ($0 ~ /<core::panicking::/); next }
            if (!inside && $0 ~ /\tb[a-z]*(\.[wn])?\t[0-9a-f]+ <core::panicking::/) {
                a = $1; sub(/:$/, "", a); site[a] = target($0)
            }
            next
        }
        # Pass 2: those calls, and branches that jump to one of them.
        /^[0-9a-f]+ <.*>:$/ { inside = ($0 ~ /<core::panicking::/); next }
        inside { next }
        {
            a = $1; sub(/:$/, "", a)
            if (a in site) { print a, site[a]; next }
            if (match($0, /\t(b[a-z]*(\.[wn])?|cbn?z)\t(r[0-9]+, )?[0-9a-f]+ </)) {
                t = substr($0, RSTART, RLENGTH); sub(/ <$/, "", t); n = split(t, w, /[\t ,]+/)
                if (w[n] in site) print a, site[w[n]] " (via 0x" w[n] ")"
            }
        }' "$dis" "$dis" | while read -r addr what; do
        echo "    0x$addr -> $what"
        arm-none-eabi-addr2line -i -f -C -e "$elf" "0x$addr" | paste - - |
            awk -F'\t' '{ printf "        %s  (%s)\n", $1, $2 }'
    done
    rm -f "$dis"
}

for profile in "${PROFILES[@]}"; do
    for target in "${TARGETS[@]}"; do
        log=$(mktemp)
        # shellcheck disable=SC2046
        if cargo build -q --keep-going --profile "$profile" --target "$target" $(bin_args) 2>"$log"; then
            echo "links: all ${#BINS[@]} np_* binaries for $target, profile $profile: no panic path"
            rm -f "$log"
            continue
        fi
        # The binaries that failed to link (cargo names each); anything
        # else (a compile error) is fatal.
        mapfile -t failed < <(sed -n 's/^error: could not compile `gaussmix-firmware` (bin "\([a-z_0-9]*\)").*/\1/p' "$log" | sort -u)
        if ((${#failed[@]} == 0)) || ! grep -q gaussmix_firmware_a_panic_path_survived_optimisation "$log"; then
            cat "$log" >&2
            rm -f "$log"
            echo "BUILD FAILED for $target, profile $profile (not a panic path)" >&2
            exit 1
        fi
        rm -f "$log"
        echo "DOES NOT LINK for $target, profile $profile: ${failed[*]} (a panic path survives; the other binaries link)"
        local_args=()
        for b in "${failed[@]}"; do local_args+=(--bin "$b"); done
        cargo build -q --profile "$profile" --target "$target" --features panic-loop "${local_args[@]}"
        for b in "${failed[@]}"; do
            echo "  $b: calls into core::panicking:"
            panic_sites "target/$target/$profile/$b"
        done
        if [[ $profile == release || ${NOPANIC_STRICT:-0} == 1 ]]; then
            fail=1
        fi
    done
done
exit $fail
