#!/usr/bin/env bash
# Figures for gaussmix on Cortex-M, printed as Markdown tables on stdout:
# flash, peak stack, RAM of the types, and exact instruction counts from a
# QEMU TCG plugin, for full covariance (D = 2, K = 3 and D = 4, K = 4) and
# per covariance kind (full, diag, spherical, tied at D = 2, K = 3), with
# full covariance before/after against the figures of
# tests/embedded/README.md before core v2 (BEFORE_* below). Called by
# .ci/embedded.sh; runnable alone from anywhere once the tools are
# installed (see tests/embedded/README.md):
#
#     bash tests/embedded/figures.sh
#
# Fails (non-zero) if a build or a firmware run fails, or if two runs of the
# same workload give different instruction counts.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
FW=$HERE/firmware
cd "$FW"
export CARGO_TERM_COLOR=never

V7EM=thumbv7em-none-eabihf
V7M=thumbv7m-none-eabi
V6M=thumbv6m-none-eabi
TIMEOUT=${TIMEOUT:-300}
KINDS=(full diag spherical tied)

# Full covariance before core v2: tests/embedded/README.md as of 97f383a
# (library 53858be plus the from_symmetric inlining; re-measured at 52d7f8d,
# the commit before core v2, with Rust 1.95.0: the same instruction counts
# and stack, flash within 30 bytes). D = 2, K = 3, f32.
BEFORE_PKI_M4F=93.4       # EM, instructions per point·component·iteration
BEFORE_PKI_M0=4221.7
BEFORE_PKI_S_M4F=254.9    # the same at release-s
BEFORE_FIT_M4F=3440133    # a whole fit from random_points (19 iterations)
BEFORE_FIT_M0=168828815
BEFORE_LP_M4F=203.7       # log_prob per call
BEFORE_LP_M0=8725.0
BEFORE_FLASH_M4F_3=18336  # np_fit − np_empty: random_points, fit, inference
BEFORE_FLASH_M4F_S=10056
BEFORE_FLASH_M0_3=18940
BEFORE_FLASH_M0_S=12860
BEFORE_FULL_M4F_3=19944   # np_full − np_empty: the same plus Gmm::new, sample
BEFORE_FULL_M4F_S=11676
BEFORE_STACK_FIT_M4F=1088 # peak stack of fit, release
BEFORE_STACK_FIT_M0=1020
BEFORE_STACK_FIT_M4F_S=1312
BEFORE_STACK_EM_M4F=1040  # em_step
BEFORE_STACK_INIT_M4F=536 # init::random_points
BEFORE_GMM=204            # size_of Gmm<f32, 2, 3>
BEFORE_STATS=144          # size_of SufficientStats<f32, 2, 3>

# The data sizes are the firmware's constants.
N2=$(sed -n 's/^pub const N2: usize = \([0-9_]*\);/\1/p' src/lib.rs | tr -d _)
N4=$(sed -n 's/^pub const N4: usize = \([0-9_]*\);/\1/p' src/lib.rs | tr -d _)

log() { printf '%s\n' "$*" >&2; }

qemu_args() { # target -> board arguments
    case $1 in
    "$V7EM") echo "-cpu cortex-m4 -machine mps2-an386" ;;
    "$V7M") echo "-cpu cortex-m3 -machine lm3s6965evb" ;;
    "$V6M") echo "-cpu cortex-m0 -machine microbit" ;;
    esac
}

semihosting() { # words... -> -semihosting-config value with arg=word each
    local cfg="enable=on,target=native" w
    for w in "$@"; do cfg="$cfg,arg=$w"; done
    echo "$cfg"
}

build() { # profile target bins... (extra cargo flags in $FEATURES)
    local profile=$1 target=$2
    shift 2
    local bins=() b
    for b in "$@"; do bins+=(--bin "$b"); done
    # shellcheck disable=SC2086 # FEATURES is empty or "--features X": split it
    cargo build -q --profile "$profile" --target "$target" ${FEATURES:-} "${bins[@]}"
}

elf() { echo "target/$2/$1/$3"; } # profile target bin

flash() { # elf -> .text + .rodata in bytes
    arm-none-eabi-size -A "$1" | awk '$1 == ".text" || $1 == ".rodata" { s += $2 } END { print s }'
}

# ---------------------------------------------------------------------------
# Instruction counts
PLUGIN=$FW/target/insn_count.so
mkdir -p "$FW/target"
gcc -O2 -Wall -Wextra -shared -fPIC -o "$PLUGIN" "$HERE/qemu-plugin/insn_count.c"

# count profile target workload reps: instructions of one run (exit 0 required)
count() {
    local profile=$1 target=$2 work=$3 reps=$4 out n
    # shellcheck disable=SC2046
    if ! out=$(timeout "$TIMEOUT" qemu-system-arm $(qemu_args "$target") -nographic \
        -semihosting-config "$(semihosting insn "$work" "$reps")" \
        -plugin "$PLUGIN" -kernel "$(elf "$profile" "$target" insn)" 2>&1 >/dev/null); then
        log "FAILED: insn $work $reps on $target ($profile)"
        return 1
    fi
    n=$(sed -n 's/^insn_count: //p' <<<"$out")
    [[ -n $n ]] || { log "no count from insn $work $reps on $target"; return 1; }
    echo "$n"
}

# count2 ...: as count, run twice; fails if the two counts differ
count2() {
    local a b
    a=$(count "$@")
    b=$(count "$@")
    if [[ $a != "$b" ]]; then
        log "NOT REPEATABLE: $* gave $a then $b"
        return 1
    fi
    echo "$a"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

log "==> instruction counts (each run twice)"
declare -A C
for p in release release-s release-mixed; do
    build "$p" "$V7EM" insn
    build "$p" "$V6M" insn
done
# suffix KIND -> the workload suffix of a kind (none for full)
suffix() { [[ $1 == full ]] && echo "" || echo "-$1"; }
for t in "$V7EM" "$V6M"; do
    for w in em2:1 em2:11 it2:1 it2:11 em4:1 em4:11 lp2:1 lp2:3 resp2:1 resp2:3 pred2:1 pred2:3 \
        sample2:1 sample2:3 fit2:0 fit2:1 lp4:1 lp4:3 sample4:1 sample4:3; do
        C[$t:release:$w]=$(count2 release "$t" "${w%:*}" "${w#*:}")
    done
    for kind in "${KINDS[@]:1}"; do
        for w in em2:1 em2:11 it2:1 it2:11 lp2:1 lp2:3 fit2:0 fit2:1; do
            x=${w%:*}-$kind
            C[$t:release:$x:${w#*:}]=$(count2 release "$t" "$x" "${w#*:}")
        done
    done
    for p in release-s release-mixed; do
        for w in em2:1 em2:11; do
            C[$t:$p:$w]=$(count2 "$p" "$t" "${w%:*}" "${w#*:}")
        done
    done
done

# marks target workload reps -> "marks max min span total" of one run with
# the mark plugin (the largest / smallest count between consecutive
# gaussmix_mark calls, from the first to the last, the whole run)
marks() {
    local t=$1 work=$2 reps=$3 out addr
    addr=$(arm-none-eabi-nm "$(elf release "$t" insn_stream)" | awk '/ gaussmix_mark$/ { print $1 }')
    [[ -n $addr ]] || { log "no gaussmix_mark in insn_stream"; return 1; }
    # shellcheck disable=SC2046
    if ! out=$(timeout "$TIMEOUT" qemu-system-arm $(qemu_args "$t") -nographic \
        -semihosting-config "$(semihosting insn_stream "$work" "$reps")" \
        -plugin "$PLUGIN,mark=0x$addr" -kernel "$(elf release "$t" insn_stream)" 2>&1 >/dev/null); then
        log "FAILED: insn_stream $work $reps on $t (marks)"
        return 1
    fi
    sed -n 's/^insn_marks: \([0-9]*\) max \([0-9]*\) min \([0-9]*\) span \([0-9]*\)$/\1 \2 \3 \4/p' <<<"$out" | tr '\n' ' '
    sed -n 's/^insn_count: //p' <<<"$out"
}
log "==> online updates and bounded-work calls (marks)"
build release "$V7EM" insn_stream
build release "$V6M" insn_stream
declare -A MK
for t in "$V7EM" "$V6M"; do
    for w in online2:1 online2:2 onlinestats2:1 onlinestats2:2; do
        MK[$t:$w]=$(marks "$t" "${w%:*}" "${w#*:}")
    done
done
for b in 0 1 16 64 128; do
    MK[$V7EM:bounded2:$b]=$(marks "$V7EM" bounded2 "$b")
done
# mk KEY N -> field N of a marks result
mk() { awk -v i="$2" '{ print $i }' <<<"${MK[$1]}"; }
per_update() { # target workload -> mean instructions per update (2 passes − 1 pass) / N
    ratio $(($(mk "$1:$2:2" 5) - $(mk "$1:$2:1" 5))) "$N2"
}

per_pki() { # target profile workload n k -> instructions per point·component·iteration
    ratio $((${C[$1:$2:$3:11]} - ${C[$1:$2:$3:1]})) $((10 * $4 * $5))
}
per_call() { # target workload n -> instructions per call (3 passes − 1 pass)
    ratio $((${C[$1:release:$2:3]} - ${C[$1:release:$2:1]})) $((2 * $3))
}
per_iter() { # target workload -> instructions per EM iteration (11 − 1 em_steps)
    echo $(((${C[$1:release:$2:11]} - ${C[$1:release:$2:1]}) / 10))
}
per_fit() { # target [workload] -> instructions of one whole fit from random_points
    local w=${2:-fit2}
    echo $((${C[$1:release:$w:1]} - ${C[$1:release:$w:0]}))
}

# ---------------------------------------------------------------------------
# Flash
log "==> flash"
declare -A F
STRICT_NOTE=""
FLASH_BINS="np_empty np_fit np_full np_fit_diag np_fit_spherical np_fit_tied"
for p in release release-mixed release-s; do
    for t in "$V7EM" "$V6M"; do
        # All at once (cargo links them in parallel), --keep-going so that
        # one binary with a panic path does not stop the others.
        failed=()
        # shellcheck disable=SC2086
        if ! FEATURES=--keep-going build "$p" "$t" $FLASH_BINS 2>"$FW/target/flash.log"; then
            mapfile -t failed < <(sed -n 's/^error: could not compile `gaussmix-firmware` (bin "\([a-z_0-9]*\)").*/\1/p' "$FW/target/flash.log")
            if ((${#failed[@]} == 0)); then
                cat "$FW/target/flash.log" >&2
                exit 1
            fi
            # A panic path survives in these at this profile (see
            # nopanic.sh): measure the build whose panic handler links (it
            # exits with status 1).
            FEATURES="--features panic-loop" build "$p" "$t" "${failed[@]}"
            STRICT_NOTE=1
        fi
        for b in $FLASH_BINS; do
            F[$t:$p:$b:mark]=""
            for f in "${failed[@]}"; do [[ $f == "$b" ]] && F[$t:$p:$b:mark]="†"; done
            F[$t:$p:$b]=$(flash "$(elf "$p" "$t" "$b")")
        done
    done
done

# ---------------------------------------------------------------------------
# Stack and RAM
log "==> stack"
build release "$V7EM" stack
build release "$V7M" stack
build release "$V6M" stack
build release-s "$V7EM" stack
build release-s "$V6M" stack
declare -A S
stack_run() { # profile target D -> "key value" lines, prefixed
    local out
    # shellcheck disable=SC2046
    if ! out=$(timeout "$TIMEOUT" qemu-system-arm $(qemu_args "$2") -nographic \
        -semihosting-config "$(semihosting stack "$3")" -kernel "$(elf "$1" "$2" stack)" 2>/dev/null); then
        log "FAILED: stack $3 on $2 ($1)"
        return 1
    fi
    while read -r key name value; do
        [[ -n $value ]] && S[$1:$2:$key $name]=$value
    done < <(tr -d '\r' <<<"$out")
}
stack_run release "$V7EM" 2
stack_run release "$V7EM" 4
stack_run release "$V7M" 2
stack_run release "$V7M" 4
stack_run release "$V6M" 2
stack_run release-s "$V7EM" 2
stack_run release-s "$V6M" 2
# (D = 4, K = 4 is not run on the micro:bit: its 16 KB cannot hold the
# 4.8 KB of data, this harness's frames and a 6 KB fit.)

st() { echo "${S[$1:$2:stack $3]:-n/a}"; }

# ---------------------------------------------------------------------------
# Tables

# key KIND -> the stack/iteration key suffix of a kind at D = 2, K = 3
key() { [[ $1 == full ]] && echo "2,3" || echo "2,3,$1"; }
# npfit KIND -> the flash binary of a kind
npfit() { [[ $1 == full ]] && echo np_fit || echo "np_fit_$1"; }
# fl TARGET PROFILE BIN -> flash above the np_empty baseline, † if measured
# with the panic handler that links
fl() { echo "$((${F[$1:$2:$3]} - ${F[$1:$2:np_empty]}))${F[$1:$2:$3:mark]}"; }
# change BEFORE NOW -> "+x.x %"
change() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f %%", (b - a) / a * 100 }'; }
# row LABEL BEFORE NOW -> a before/after row (NOW may end in †)
row() { echo "| $1 | $2 | $3 | $(change "$2" "${3%†}") |"; }

cat <<EOF

### Per covariance kind (D = 2, K = 3, f32, N = $N2)

Data drawn from the full-covariance truth; each kind's EM iterations start
from the truth as the kind represents it, its fit from \`init::random_points\`
(same RNG, so the same initial means). Flash is \`np_fit_<kind>\` (\`np_fit\`
for full: \`random_points\`, \`fit\`, \`log_prob\`, \`responsibilities\`,
\`predict\`) minus the \`np_empty\` skeleton. Instructions as below: EM by
\`em_step\` (one call per iteration, which checks its options and the number
of points on every call), and an iteration inside \`fit\`.

| kind | EM per point·component·iteration, M4F | M0 | iteration of \`fit\`, M4F | M0 | \`log_prob\` per call, M4F | M0 | whole fit, M4F | M0 | iterations |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
for kind in "${KINDS[@]}"; do
    x=$(suffix "$kind")
    echo "| $kind | $(per_pki "$V7EM" release "em2$x" "$N2" 3) | $(per_pki "$V6M" release "em2$x" "$N2" 3) | $(per_pki "$V7EM" release "it2$x" "$N2" 3) | $(per_pki "$V6M" release "it2$x" "$N2" 3) | $(per_call "$V7EM" "lp2$x" "$N2") | $(per_call "$V6M" "lp2$x" "$N2") | $(per_fit "$V7EM" "fit2$x") | $(per_fit "$V6M" "fit2$x") | ${S[release:$V7EM:iterations fit<$(key "$kind")>]:-?} |"
done
cat <<EOF

| kind | flash M4F, opt-level 3 | M4F, "s" | M0, 3 | M0, "s" | peak stack of \`fit\`, M4F | M4F "s" | M0 | \`fit_in_place\` M4F | \`em_step\` M4F | \`Gmm\` / \`SufficientStats\` bytes |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
for kind in "${KINDS[@]}"; do
    k=$(key "$kind") b=$(npfit "$kind")
    echo "| $kind | $(fl "$V7EM" release "$b") | $(fl "$V7EM" release-s "$b") | $(fl "$V6M" release "$b") | $(fl "$V6M" release-s "$b") | $(st release "$V7EM" "fit<$k>") | $(st release-s "$V7EM" "fit<$k>") | $(st release "$V6M" "fit<$k>") | $(st release "$V7EM" "fit_in_place<$k>") | $(st release "$V7EM" "em_step<$k>") | ${S[release:$V7EM:size Gmm<f32,$k>]:-?} / ${S[release:$V7EM:size SufficientStats<f32,$k>]:-?} |"
done
if [[ -n $STRICT_NOTE ]]; then
    echo
    echo "† a panic path survives in this binary at this profile (see nopanic.sh): measured"
    echo "with \`--features panic-loop\` (a panic handler that links), which counts the"
    echo "surviving paths and the handler (about 200 bytes)."
fi

cat <<EOF

### Full covariance before and after core v2 (D = 2, K = 3, f32)

Before: tests/embedded/README.md before core v2 (library 53858be plus the
\`from_symmetric\` inlining; the same figures re-measured at 52d7f8d).

| figure | before | now | change |
|---|---:|---:|---:|
EOF
row "EM, instructions per point·component·iteration, M4F" "$BEFORE_PKI_M4F" "$(per_pki "$V7EM" release em2 "$N2" 3)"
row "EM, instructions per point·component·iteration, M0" "$BEFORE_PKI_M0" "$(per_pki "$V6M" release em2 "$N2" 3)"
row "EM, instructions per point·component·iteration, M4F \`release-s\`" "$BEFORE_PKI_S_M4F" "$(per_pki "$V7EM" release-s em2 "$N2" 3)"
row "whole fit from \`random_points\`, M4F (19 iterations before, ${S[release:$V7EM:iterations fit<2,3>]:-?} now)" "$BEFORE_FIT_M4F" "$(per_fit "$V7EM")"
row "whole fit from \`random_points\`, M0" "$BEFORE_FIT_M0" "$(per_fit "$V6M")"
row "\`log_prob\` per call, M4F" "$BEFORE_LP_M4F" "$(per_call "$V7EM" lp2 "$N2")"
row "\`log_prob\` per call, M0" "$BEFORE_LP_M0" "$(per_call "$V6M" lp2 "$N2")"
row "flash, fit + inference, M4F, opt-level 3" "$BEFORE_FLASH_M4F_3" "$(fl "$V7EM" release np_fit)"
row "flash, fit + inference, M4F, \"s\"" "$BEFORE_FLASH_M4F_S" "$(fl "$V7EM" release-s np_fit)"
row "flash, fit + inference, M0, opt-level 3" "$BEFORE_FLASH_M0_3" "$(fl "$V6M" release np_fit)"
row "flash, fit + inference, M0, \"s\"" "$BEFORE_FLASH_M0_S" "$(fl "$V6M" release-s np_fit)"
row "flash, fit + inference + sampling, M4F, opt-level 3" "$BEFORE_FULL_M4F_3" "$(fl "$V7EM" release np_full)"
row "flash, fit + inference + sampling, M4F, \"s\"" "$BEFORE_FULL_M4F_S" "$(fl "$V7EM" release-s np_full)"
row "peak stack of \`fit\`, M4F" "$BEFORE_STACK_FIT_M4F" "$(st release "$V7EM" "fit<2,3>")"
row "peak stack of \`fit\`, M4F \`release-s\`" "$BEFORE_STACK_FIT_M4F_S" "$(st release-s "$V7EM" "fit<2,3>")"
row "peak stack of \`fit\`, M0" "$BEFORE_STACK_FIT_M0" "$(st release "$V6M" "fit<2,3>")"
row "peak stack of \`fit_in_place\` (new; before: \`fit\`), M4F" "$BEFORE_STACK_FIT_M4F" "$(st release "$V7EM" "fit_in_place<2,3>")"
row "peak stack of \`em_step\`, M4F" "$BEFORE_STACK_EM_M4F" "$(st release "$V7EM" "em_step<2,3>")"
row "peak stack of \`init::random_points\`, M4F" "$BEFORE_STACK_INIT_M4F" "$(st release "$V7EM" "init::random_points<2,3>")"
row "\`size_of::<Gmm<f32, 2, 3>>\`" "$BEFORE_GMM" "${S[release:$V7EM:size Gmm<f32,2,3>]}"
row "\`size_of::<SufficientStats<f32, 2, 3>>\`" "$BEFORE_STATS" "${S[release:$V7EM:size SufficientStats<f32,2,3>]}"

cat <<EOF

### Streaming and bounded work (D = 2, K = 3, f32, full covariance, \`release\`)

Instructions between consecutive calls of \`gaussmix_mark\` (exact, the
plugin's \`mark=\` argument), which the workloads call before every online
update and every \`ResumableFit::advance\`: worst is the largest, mean the
difference of two runs over the data (2 × N − 1 × N updates) per update.
\`OnlineGmm\` with a warm-up of 60 points from the truth, then updates
over the N = $N2 points with the default decaying step; "statistics only"
never refreshes after the warm-up (\`refresh = usize::MAX\`), so the rest
of a full update is its M-step. \`ResumableFit\` runs a whole fit (the
options of the whole-fit row) from \`init::random_points\` with a budget
of B points per call; its worst call holds B points of an E pass and one
M-step; "all calls" is the sum over the fit (\`random_points\` excluded),
against the plain \`fit\` from the same start ($(mk "$V7EM:bounded2:0" 4) instructions).

| figure | Cortex-M4F | Cortex-M0 |
|---|---:|---:|
| online update, M-step every update: mean / worst | $(per_update "$V7EM" online2) / $(mk "$V7EM:online2:2" 2) | $(per_update "$V6M" online2) / $(mk "$V6M:online2:2" 2) |
| online update, statistics only: mean / worst | $(per_update "$V7EM" onlinestats2) / $(mk "$V7EM:onlinestats2:2" 2) | $(per_update "$V6M" onlinestats2) / $(mk "$V6M:onlinestats2:2" 2) |
EOF
for b in 1 16 64 128; do
    echo "| \`ResumableFit::advance\`, budget $b: worst call (calls; all calls ÷ \`fit\`) | $(mk "$V7EM:bounded2:$b" 2) ($(($(mk "$V7EM:bounded2:$b" 1) - 1)); $(awk -v a="$(mk "$V7EM:bounded2:$b" 4)" -v b="$(mk "$V7EM:bounded2:0" 4)" 'BEGIN { printf "%.3f", a / b }')) | – |"
done

cat <<EOF

### Flash (\`.text\` + \`.rodata\`, bytes; \`arm-none-eabi-size -A\`)

Minimal binaries without formatting code (tests/embedded/firmware/src/bin/np_*.rs):
\`np_empty\` is the cortex-m-rt skeleton (start-up, HardFault handler,
semihosting exit); \`np_fit\` adds \`init::random_points\` + \`fit\` +
\`predict\`/\`log_prob\`/\`responsibilities\` at D = 2, K = 3, f32;
\`np_full\` adds \`Gmm::new\` and \`Gmm::sample\` (the sampler). The
vector table (1 KiB on the M4F board, 192 B on the M0) is not counted.

| profile | target | empty (baseline) | fit + inference | − baseline | fit + inference + sampling | − baseline |
|---|---|---:|---:|---:|---:|---:|
EOF
for p in release release-mixed release-s; do
    # shellcheck disable=SC2016 # the backquotes are Markdown
    case $p in
    release) pn='`release`: opt-level 3 everywhere' ;;
    release-mixed) pn='`release-mixed`: firmware "s", gaussmix/nalgebra/libm 3' ;;
    release-s) pn='`release-s`: opt-level "s" everywhere' ;;
    esac
    for t in "$V7EM" "$V6M"; do
        e=${F[$t:$p:np_empty]} f=${F[$t:$p:np_fit]} u=${F[$t:$p:np_full]}
        echo "| $pn | $t | $e | $f${F[$t:$p:np_fit:mark]} | $((f - e)) | $u${F[$t:$p:np_full:mark]} | $((u - e)) |"
    done
done
if [[ -n $STRICT_NOTE ]]; then
    echo
    echo "† does not link with the undefined-symbol panic handler at this profile (a panic"
    echo "path survives; see nopanic.sh); measured with \`--features panic-loop\`,"
    echo "whose panic handler links (a semihosting exit): the figure includes the"
    echo "surviving panic paths and that handler (about 200 bytes more than a build"
    echo "in which they are gone)."
fi

cat <<EOF

### Peak stack (bytes, stack painting, below the caller's stack pointer)

Full covariance (the other kinds' \`fit\` and \`em_step\` are in the table per
kind above).

| call | M4F \`release\` | M4F \`release-s\` | M3 \`release\` | M0 \`release\` | M0 \`release-s\` |
|---|---:|---:|---:|---:|---:|
EOF
for call in 'fit' 'fit_in_place' 'em_step' 'init::random_points' 'init::kmeans_plus_plus' 'Gmm::new' \
    'Gmm::sample' 'Gmm::log_prob' 'Gmm::responsibilities' 'Gmm::predict'; do
    echo "| \`$call\` D=2,K=3 | $(st release "$V7EM" "$call<2,3>") | $(st release-s "$V7EM" "$call<2,3>") | $(st release "$V7M" "$call<2,3>") | $(st release "$V6M" "$call<2,3>") | $(st release-s "$V6M" "$call<2,3>") |"
done
for call in 'fit' 'fit_in_place' 'em_step' 'init::random_points' 'Gmm::new' 'Gmm::sample' 'Gmm::log_prob'; do
    echo "| \`$call\` D=4,K=4 | $(st release "$V7EM" "$call<4,4>") | – | $(st release "$V7M" "$call<4,4>") | – | – |"
done
echo
echo "Fits: ${S[release:$V7EM:iterations fit<2,3>]:-?} iterations at D=2,K=3 (N=$N2), ${S[release:$V7EM:iterations fit<4,4>]:-?} at D=4,K=4 (N=$N4)."

sz() { echo "${S[release:$V7EM:size $1]:-n/a}"; }
cat <<EOF

### RAM of the types (bytes, \`core::mem::size_of\` on thumbv7em)

| type | D=2, K=3 | D=4, K=4 |
|---|---:|---:|
| \`Gmm<f32, D, K>\` | $(sz 'Gmm<f32,2,3>') | $(sz 'Gmm<f32,4,4>') |
| \`SufficientStats<f32, D, K>\` | $(sz 'SufficientStats<f32,2,3>') | $(sz 'SufficientStats<f32,4,4>') |
| \`FitReport<f32, D, K>\` | $(sz 'FitReport<f32,2,3>') | $(sz 'FitReport<f32,4,4>') |
| data, N points of \`[f32; D]\` | $((8 * N2)) (N=$N2) | $((16 * N4)) (N=$N4) |

### Instructions (exact, QEMU TCG plugin; every run made twice, all ${#C[@]} pairs identical)

Per point·component·EM iteration = (count with 11 \`em_step\`s − count with 1) / (10·N·K),
from the true parameters on the same data; for an iteration of \`fit\`, the
same with one \`fit\` of 11 and one of 1 iterations (\`tol = 0\`, the same
\`reg_covar\`). Per call = (3 passes − 1 pass) / (2·N).

| figure | Cortex-M4F | Cortex-M0 |
|---|---:|---:|
| EM, per point·component·iteration, D=2,K=3 (\`release\`) | $(per_pki "$V7EM" release em2 "$N2" 3) | $(per_pki "$V6M" release em2 "$N2" 3) |
| EM, per point·component·iteration, D=2,K=3 (\`release-mixed\`) | $(per_pki "$V7EM" release-mixed em2 "$N2" 3) | $(per_pki "$V6M" release-mixed em2 "$N2" 3) |
| EM, per point·component·iteration, D=2,K=3 (\`release-s\`) | $(per_pki "$V7EM" release-s em2 "$N2" 3) | $(per_pki "$V6M" release-s em2 "$N2" 3) |
| iteration of \`fit\`, per point·component, D=2,K=3 (\`release\`) | $(per_pki "$V7EM" release it2 "$N2" 3) | $(per_pki "$V6M" release it2 "$N2" 3) |
| EM, per point·component·iteration, D=4,K=4 (\`release\`) | $(per_pki "$V7EM" release em4 "$N4" 4) | $(per_pki "$V6M" release em4 "$N4" 4) |
| one EM iteration, D=2,K=3, N=$N2 | $(per_iter "$V7EM" em2) | $(per_iter "$V6M" em2) |
| one EM iteration, D=4,K=4, N=$N4 | $(per_iter "$V7EM" em4) | $(per_iter "$V6M" em4) |
| \`log_prob\` per call, D=2,K=3 | $(per_call "$V7EM" lp2 "$N2") | $(per_call "$V6M" lp2 "$N2") |
| \`responsibilities\` per call, D=2,K=3 | $(per_call "$V7EM" resp2 "$N2") | $(per_call "$V6M" resp2 "$N2") |
| \`predict\` per call, D=2,K=3 | $(per_call "$V7EM" pred2 "$N2") | $(per_call "$V6M" pred2 "$N2") |
| \`sample\` per call, D=2,K=3 (incl. PCG32) | $(per_call "$V7EM" sample2 "$N2") | $(per_call "$V6M" sample2 "$N2") |
| \`log_prob\` per call, D=4,K=4 | $(per_call "$V7EM" lp4 "$N4") | $(per_call "$V6M" lp4 "$N4") |
| \`sample\` per call, D=4,K=4 (incl. PCG32) | $(per_call "$V7EM" sample4 "$N4") | $(per_call "$V6M" sample4 "$N4") |
| whole fit from \`random_points\`, D=2,K=3, N=$N2 ($(
    printf '%s' "${S[release:$V7EM:iterations fit<2,3>]:-?}"
) iterations) | $(per_fit "$V7EM") | $(per_fit "$V6M") |

Raw counts (\`release\`, workload:repeats = instructions):

EOF
for t in "$V7EM" "$V6M"; do
    printf -- '- %s:' "$t"
    for k in $(printf '%s\n' "${!C[@]}" | grep "^$t:release:" | sort -t: -k3,3 -k4,4n); do
        printf ' %s=%s' "${k#"$t":release:}" "${C[$k]}"
    done
    echo
done
