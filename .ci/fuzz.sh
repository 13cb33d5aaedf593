#!/usr/bin/env bash
# Fuzzing smoke test for gaussmix (issue 3, part 5: "no input panics or
# poisons a model"). Run from the repository root of a fresh clone:
#
#     bash .ci/fuzz.sh
#
# Installs what it needs (a nightly toolchain, cargo-fuzz), builds every
# target in fuzz/, replays the committed regression inputs, then fuzzes each
# target for a bounded time starting from the committed seeds and
# regressions, and prints how many inputs each target executed. Any crash
# (panic, failed invariant, sanitizer report, timeout, OOM) fails the script.
#
# Environment (all optional):
#   FUZZ_SECONDS      seconds of fuzzing per target (default 30)
#   FUZZ_SANITIZER    cargo-fuzz sanitizer: address (default) or none
#   FUZZ_TARGETS      space-separated subset of targets (default: all)
#   GAUSSMIX_FUZZ_PD  "strict" to require covariances positive definite in
#                     exact arithmetic, not only to working precision
#
# Time on the 2-core machine (measured): building the targets 65 s cold
# (24 s when only gaussmix changed), then about 33 s per target: 3.5
# minutes for a clean run. A machine without them first installs the
# nightly toolchain and cargo-fuzz (`cargo install`, 80 s).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

seconds="${FUZZ_SECONDS:-30}"
sanitizer="${FUZZ_SANITIZER:-address}"
targets="${FUZZ_TARGETS:-fit inference construction sample}"
start_time=$(date +%s)

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
cargo +nightly --version
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz
fi
cargo fuzz --version

step "build (sanitizer: ${sanitizer})"
cargo +nightly fuzz build --sanitizer "${sanitizer}"

logdir="${PWD}/fuzz/target/fuzz-logs"
mkdir -p "${logdir}"

triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
bindir="${PWD}/fuzz/target/${triple}/release"

failed=()
summary=()
for t in ${targets}; do
    step "${t}: regression inputs"
    # Each committed input once, by itself (a file argument makes libFuzzer
    # run it and exit), so every failing one is listed.
    shopt -s nullglob
    regressions=("${PWD}"/fuzz/regressions/"${t}"/*)
    shopt -u nullglob
    broken=0
    for input in "${regressions[@]}"; do
        if "${bindir}/${t}" "${input}" >"${logdir}/replay.log" 2>&1; then
            echo "pass  ${input#"${PWD}"/}"
        else
            echo "FAIL  ${input#"${PWD}"/}"
            grep -A1 "panicked at" "${logdir}/replay.log" | sed -n 2p | cut -c1-300 || true
            broken=$((broken + 1))
        fi
    done
    ((${#regressions[@]})) || echo "none"
    if ((broken)); then
        failed+=("${t} (${broken} regression inputs)")
    fi

    step "${t}: fuzzing for ${seconds} s"
    # New inputs go to the first directory (git-ignored); libFuzzer only
    # reads the committed seeds and (when they all pass) regressions.
    corpus="${PWD}/fuzz/corpus/${t}"
    mkdir -p "${corpus}"
    dirs=("${corpus}")
    [[ -d "${PWD}/fuzz/seeds/${t}" ]] && dirs+=("${PWD}/fuzz/seeds/${t}")
    ((broken == 0)) && ((${#regressions[@]})) && dirs+=("${PWD}/fuzz/regressions/${t}")
    log="${logdir}/${t}.log"
    set +e
    cargo +nightly fuzz run --sanitizer "${sanitizer}" "${t}" "${dirs[@]}" -- \
        -max_total_time="${seconds}" -rss_limit_mb=2048 -max_len=8192 -timeout=10 \
        -print_final_stats=1 >"${log}" 2>&1
    status=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "${log}" | tail -1)
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "${log}" | tail -1 || true)
    echo "${done_line:-no DONE line (stopped early)}"
    echo "executions: ${runs:-unknown}"
    line="${t}: ${runs:-?} executions"
    ((broken)) && line+=", ${broken} of ${#regressions[@]} regression inputs FAIL"
    if ((status != 0)); then
        echo "FAILED: ${t} exited with status ${status}"
        grep -E "panicked at|ERROR: libFuzzer|SUMMARY|Test unit written" -A1 "${log}" | head -12 || true
        failed+=("${t}")
        summary+=("${line}, CRASH while fuzzing (log: ${log#"${PWD}"/})")
    else
        summary+=("${line}, no crash in ${seconds} s of fuzzing")
    fi
done

step "summary"
printf '%s\n' "${summary[@]}"
echo "wall time: $(($(date +%s) - start_time)) s"
if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]}"
    echo "Reproduce: cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/crash-... (see fuzz/README.md)"
    exit 1
fi
