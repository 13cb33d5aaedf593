#!/usr/bin/env bash
# Panic-freedom at link time (item 3 of tests/embedded/README.md).
#
# The binaries np_fit and np_full (fit, init::random_points, predict,
# log_prob, responsibilities, Gmm::new, Gmm::sample at D = 2, K = 3, f32)
# have a #[panic_handler] that calls an extern "C" function nothing defines:
# they link only if the optimiser removed every panic path.
#
# For each target and profile this builds them; when one does not link, it
# rebuilds with `--features panic-loop` (a handler that links) and lists
# every branch to core::panicking::* with the inlined call chain that leads
# to it (arm-none-eabi-objdump + arm-none-eabi-addr2line), so the panicking
# call in gaussmix can be named.
#
# Exit status: non-zero if the `release` profile (the one the figures use,
# opt-level 3) does not link on thumbv7em-none-eabihf or thumbv6m-none-eabi.
# The size-optimised profiles are reported but do not fail the check unless
# NOPANIC_STRICT=1.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE/firmware"
export CARGO_TERM_COLOR=never

BINS=(np_fit np_full)
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
        # shellcheck disable=SC2046
        if cargo build -q --profile "$profile" --target "$target" $(bin_args) 2>/dev/null; then
            echo "links: ${BINS[*]} for $target, profile $profile: no panic path"
            continue
        fi
        echo "DOES NOT LINK: ${BINS[*]} for $target, profile $profile: a panic path survives"
        # shellcheck disable=SC2046
        cargo build -q --profile "$profile" --target "$target" --features panic-loop $(bin_args)
        for b in "${BINS[@]}"; do
            echo "  $b: calls into core::panicking:"
            panic_sites "target/$target/$profile/$b"
        done
        if [[ $profile == release || ${NOPANIC_STRICT:-0} == 1 ]]; then
            fail=1
        fi
    done
done
exit $fail
