#!/usr/bin/env bash
# gaussmix against its peers, scikit-learn (PyPI) and linfa-clustering
# (crates.io), on the same data from the same start, interleaved; prints
# one Markdown table of ns per point·component·iteration with the ratios.
#
#   bash benches/peers/run.sh                      # from the repository root
#   ROUNDS=5 TARGET_CPU=both bash benches/peers/run.sh
#
# HOW LONG: about 13 minutes with the defaults, 17 with TARGET_CPU=both
# (measured: 16 min 53 s, 3 rounds, on the 2-core machine shared with other
# jobs, load 3-6); per round about 2.5 minutes of scikit-learn and under 1
# each of gaussmix and linfa per build. The first run also spends about
# 1 minute on the venv (pip) and 2-4 on the release builds.
#
# Options (environment):
#   ROUNDS=3          rounds; each runs every program once per case, in an
#                     order that rotates from round to round and case to case
#   TIMED=100         EM iterations timed per measurement (in fits of m)
#   MAX_ITER=20       at most this many iterations per fit (m below); more
#                     and linfa's fits stop early on these data (an
#                     iteration leaves its lower bound exactly unchanged,
#                     and it refuses tolerance 0), which the report flags
#   WARMUP=2          iterations of the untimed warm-up fit before each kind
#   REG_COVAR=1e-6    absolute covariance regularisation, in every program
#                     (scikit-learn's default; gaussmix gets the relative
#                     value REG_COVAR / s, s the data's mean per-coordinate
#                     variance, and the run checks its effective value)
#   TARGET_CPU=generic | native | both: build the two Rust programs for the
#                     default target, with -C target-cpu=native, or both (two
#                     more columns)
#   MALLOC_TUNED=0    1: run every program with GLIBC_TUNABLES raising glibc
#                     malloc's mmap and trim thresholds (256 MiB, 1 GiB), so
#                     large temporaries are not returned to the kernel and
#                     faulted in again at each step. linfa's f64 fits spend
#                     most of their time in such page faults by default
#                     (about 4x slower at D = 8, K = 8 than with this);
#                     numpy's large arrays take the same path; gaussmix
#                     allocates nothing while fitting. Off by default: the
#                     table shows what a default build and environment give.
#
# What it does:
#  1. A venv under target/peers/venv with the pinned packages of
#     benches/peers/requirements.txt (scikit-learn 1.9.1, numpy 2.4.6, ...).
#  2. benches/peers/data.py writes the data sets once, seeded, to
#     target/peers/data/: N = 100 000 points each, D = 2, K = 3 and
#     D = 8, K = 8, the same points and starts as benches/cases/mod.rs (the
#     same generator; `cargo bench --bench em` times the same data), as raw
#     float64, with one shared start per case (weights, means, the
#     covariances of every kind) in a text file that all three programs read.
#  3. cargo builds (--release, into target/peers/cargo-*) benches/peers/gaussmix
#     (a path dependency on this crate; Cargo.lock copied from the
#     repository's) and benches/peers/linfa (linfa-clustering 0.8.1), each a
#     package with its own [workspace], outside gaussmix's targets and tests.
#  4. The number of iterations m, per case, type and kind: how many
#     iterations gaussmix's `fit` makes with tol = 0 and max_iter = MAX_ITER.
#     gaussmix cannot be made to iterate past its fixed point (with tol = 0
#     it still stops once a step lowers the mean log-likelihood by no more
#     than rounding), and from these starts it gets there in 6 to 21
#     iterations (100 for f32 tied at D = 2), so every program runs exactly
#     m iterations: scikit-learn with max_iter = m and tol = 0, linfa with
#     max_n_iterations = m and the smallest positive tolerance (it refuses
#     0). Each program checks that each fit made the iterations asked.
#  5. Rounds. Each program fits f64 and f32 (the same points rounded), each
#     covariance kind it has: per kind one untimed warm-up fit, then
#     ceil(TIMED / (m - 1)) pairs of timed fits, one of m iterations and one
#     of 1; the difference is (m - 1) iterations, without each program's
#     set-up, data check and final E-step (gaussmix's and scikit-learn's fits
#     of m iterations make m + 1 E passes, linfa's m). One thread everywhere:
#     OMP/OPENBLAS/MKL_NUM_THREADS=1 and threadpoolctl for scikit-learn,
#     RAYON_NUM_THREADS=1 for linfa (its GMM does not use rayon anyway).
#     Machines here may set OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) for
#     old OpenBLAS builds; they slow a current numpy, so the scikit-learn
#     command alone runs without them, and the run prints the kernel that
#     OpenBLAS then uses.
#  6. benches/peers/report.py prints the table (per-program medians over the
#     rounds, ratios of gaussmix to each peer, and the final mean
#     log-likelihoods of gaussmix and scikit-learn, which must agree) and any
#     failed check. Every RESULT line is kept in target/peers/results-*.txt.
#
# Peers' limits: linfa-clustering's GaussianMixtureModel has full covariance
# only and cannot start from given parameters; it fits from its own random
# start (GmmInitMethod::Random, seeded) for the same m iterations. Its EM
# costs the same on any start, but its log-likelihood is not comparable.
#
# Not part of `cargo test` or `cargo bench`: benches/peers/ has no main.rs,
# and the two packages under it are their own workspaces. Needs python3
# (3.11+, with venv), cargo, network access to PyPI and crates.io on the
# first run.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
TIMED=${TIMED:-100}
MAX_ITER=${MAX_ITER:-20}
WARMUP=${WARMUP:-2}
REG_COVAR=${REG_COVAR:-1e-6}
TARGET_CPU=${TARGET_CPU:-generic}
MALLOC_TUNED=${MALLOC_TUNED:-0}
CASES="d2_k3 d8_k8"

case "$TARGET_CPU" in
    generic) BUILDS="generic" ;;
    native) BUILDS="native" ;;
    both) BUILDS="generic native" ;;
    *) echo "TARGET_CPU must be generic, native or both" >&2; exit 2 ;;
esac

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT="$ROOT/target/peers"
DATA="$OUT/data"
VENV="$OUT/venv"
PY="$VENV/bin/python"
mkdir -p "$OUT" "$DATA"
began=$(date +%s)
say() { echo "[$(($(date +%s) - began))s] $*" >&2; }

# The scikit-learn command's environment: one thread, and OpenBLAS left to
# pick its kernel for this processor.
bench_env=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1)
# Every program's environment (MALLOC_TUNED).
run_env=(env)
if [ "$MALLOC_TUNED" = 1 ]; then
    run_env=(env GLIBC_TUNABLES=glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824)
fi

# 1. The venv, (re)made when the pins change.
stamp="$VENV/.requirements"
if ! [ -x "$PY" ] || ! cmp -s "$HERE/requirements.txt" "$stamp"; then
    say "venv: installing $(tr '\n' ' ' < "$HERE/requirements.txt")"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
    cp "$HERE/requirements.txt" "$stamp"
fi

# 2. The data, written again only when data.py or REG_COVAR change.
want="$(sha256sum "$HERE/data.py" | cut -d' ' -f1) $REG_COVAR"
if [ "$(cat "$DATA/.made" 2>/dev/null || true)" != "$want" ]; then
    say "data: writing the cases to $DATA"
    "$PY" "$HERE/data.py" "$DATA" "$REG_COVAR" >&2
    echo "$want" > "$DATA/.made"
fi

# 3. The Rust programs.
cp "$ROOT/Cargo.lock" "$HERE/gaussmix/Cargo.lock"
for build in $BUILDS; do
    flags=""
    [ "$build" = native ] && flags="-C target-cpu=native"
    for package in gaussmix linfa; do
        say "cargo build --release ($package, $build${flags:+: $flags})"
        RUSTFLAGS="$flags" CARGO_TARGET_DIR="$OUT/cargo-$build" \
            cargo build --quiet --release --manifest-path "$HERE/$package/Cargo.toml"
    done
done
gaussmix_bin() { echo "$OUT/cargo-$1/release/gaussmix-peer-bench"; }
linfa_bin() { echo "$OUT/cargo-$1/release/linfa-peer-bench"; }

# 4. The iteration counts.
first_build=${BUILDS%% *}
for c in $CASES; do
    "$(gaussmix_bin "$first_build")" probe "$DATA" "$c" "$MAX_ITER" > "$DATA/$c.iters.txt"
    say "m for $c: $(awk '{printf "%s %s %s; ", $1, $2, $3}' "$DATA/$c.iters.txt")"
done

results="$OUT/results-$(date +%Y%m%d-%H%M%S).txt"
{
    echo "# benches/peers/run.sh ROUNDS=$ROUNDS TIMED=$TIMED MAX_ITER=$MAX_ITER WARMUP=$WARMUP REG_COVAR=$REG_COVAR TARGET_CPU=$TARGET_CPU MALLOC_TUNED=$MALLOC_TUNED"
    echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores; $(rustc --version)"
    echo "# gaussmix at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml 2>/dev/null || echo ' (src or Cargo.toml modified)')"
    "${bench_env[@]}" "$PY" "$HERE/sklearn_em.py" --info | sed 's/^/# /'
} > "$results"
cat "$results" >&2

# 5. The rounds: the programs in an order that rotates.
programs=()
for build in $BUILDS; do programs+=("gaussmix:$build" "linfa:$build"); done
programs+=("sklearn:python")
run_one() {
    local program=${1%%:*} build=${1##*:} c=$2
    case "$program" in
        gaussmix) "${run_env[@]}" "$(gaussmix_bin "$build")" time "$DATA" "$c" "$TIMED" "$WARMUP" ;;
        linfa) "${run_env[@]}" RAYON_NUM_THREADS=1 "$(linfa_bin "$build")" "$DATA" "$c" "$TIMED" "$WARMUP" ;;
        sklearn) "${run_env[@]}" "${bench_env[@]}" "$PY" "$HERE/sklearn_em.py" "$DATA" "$c" "$TIMED" "$WARMUP" ;;
    esac | sed "s/^RESULT /RESULT build=$build /" >> "$results"
}
count=${#programs[@]}
shift_by=0
for round in $(seq 1 "$ROUNDS"); do
    for c in $CASES; do
        for i in $(seq 0 $((count - 1))); do
            p=${programs[$(((i + shift_by) % count))]}
            say "round $round/$ROUNDS, $c: $p (load $(cut -d' ' -f1-3 /proc/loadavg))"
            run_one "$p" "$c"
        done
        shift_by=$((shift_by + 1))
    done
done

# 6. The table.
echo
grep '^#' "$results" | sed 's/^# //'
echo "N = 100 000 points; REG_COVAR=$REG_COVAR is absolute"
echo
"$PY" "$HERE/report.py" "$results" "$DATA"
echo
echo "raw results: $results; wall time $(($(date +%s) - began)) s"
