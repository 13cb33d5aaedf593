#!/usr/bin/env bash
# Fuzzing smoke test for gaussmix (issue 3, part 5: "no input panics or
# poisons a model"). Run from the repository root of a fresh clone:
#
#     bash .ci/fuzz.sh
#
# Installs what it needs (a nightly toolchain, cargo-fuzz), builds every
# target in fuzz/, replays the stored regressions (JSON documents under
# fuzz/regressions/, each run by its target binary: a `fixed` one must pass,
# an `open` one must still fail), then fuzzes each target for a bounded time
# starting from the committed seeds, and prints how many inputs each target
# executed. Any regression not as its status says, and any crash (panic,
# failed invariant, sanitizer report, timeout, OOM), fails the script.
#
# Environment (all optional):
#   FUZZ_SECONDS      seconds of fuzzing per target (default 30)
#   FUZZ_SANITIZER    cargo-fuzz sanitizer: address (default) or none
#   FUZZ_TARGETS      space-separated subset of targets (default: all)
#   GAUSSMIX_FUZZ_PD  "strict" to require covariances positive definite in
#                     exact arithmetic, not only to working precision
#
# Time on the 2-core machine (measured 29 Nov 2026, another fuzzer
# running beside it): building the targets 110 s when only gaussmix and
# fuzz/ changed (a cold build adds the dependencies, about 40 s more), the
# regression replay under a second per target, then about 33 s per target:
# 4.4 minutes in all (about 5 cold). FUZZ_SECONDS=20 saves 40 s. A machine
# without them first installs the nightly toolchain and cargo-fuzz
# (`cargo install`, 80 s).
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
    step "${t}: stored regressions"
    # The target binary replays fuzz/regressions/${t}/*.json and exits
    # (GAUSSMIX_FUZZ_REPLAY, see fuzz/src/regression.rs): one line per
    # document, pass / open (fails as expected) / FAIL.
    set +e
    GAUSSMIX_FUZZ_REPLAY="${PWD}/fuzz/regressions" "${bindir}/${t}" >"${logdir}/replay.log" 2>&1
    status=$?
    set -e
    grep -E "^(pass|open|FAIL) |regressions as expected" "${logdir}/replay.log" | cut -c1-300 || true
    broken=$(grep -c "^FAIL " "${logdir}/replay.log" || true)
    if ((status != 0)); then
        failed+=("${t} (regressions: ${broken} not as expected, exit ${status})")
        ((broken)) || tail -5 "${logdir}/replay.log"
    fi

    step "${t}: fuzzing for ${seconds} s"
    # New inputs go to the first directory (git-ignored); libFuzzer only
    # reads the committed seeds.
    corpus="${PWD}/fuzz/corpus/${t}"
    mkdir -p "${corpus}"
    dirs=("${corpus}")
    [[ -d "${PWD}/fuzz/seeds/${t}" ]] && dirs+=("${PWD}/fuzz/seeds/${t}")
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
    echo "Reproduce: cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/crash-...;"
    echo "store it: GAUSSMIX_FUZZ_JSON=case.json fuzz/target/*/release/TARGET crash-... (see fuzz/README.md)"
    exit 1
fi
