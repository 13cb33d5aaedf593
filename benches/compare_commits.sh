#!/usr/bin/env bash
# Times the `em_step` of the working tree against an older commit in one
# run, interleaved, and prints medians and new/old ratios. Full covariance,
# or the kind KIND names (both commits after core v2).
#
#   bash benches/compare_commits.sh [COMMIT]        # default COMMIT: 4e47936
#   ROUNDS=31 REPS=11 bash benches/compare_commits.sh 4e47936
#   CASES="d8_k8_f64 d8_k8_f32" bash benches/compare_commits.sh
#   KIND=diag CASES="d8_k8_f64" bash benches/compare_commits.sh ce87d6b
#   FROM_ITER=5 bash benches/compare_commits.sh HEAD  # time the model five
#                    # em_steps from the start (a fit's later iterations,
#                    # where the clusters have separated), not the start
#   RAW=/tmp/raw.txt bash benches/compare_commits.sh   # also keep every run's line
#   NEW_FEATURES=fma bash benches/compare_commits.sh HEAD  # the working tree
#                    # built with these gaussmix features (comma-separated)
#
# Cases (benches/cases/mod.rs, N = 100 000 points, same points on both
# sides): d2_k3_f64, d2_k3_f32, d8_k8_f64, d8_k8_f32; the figure is ns per
# point·component of one `em_step` (one E pass and the M-step).
#
# How:
#  1. `git worktree add --detach` checks COMMIT out under a temporary
#     directory in /tmp (removed on exit, also on failure or Ctrl-C).
#  2. Two throwaway cargo packages are generated next to it, each a copy of
#     benches/compare/timing.rs (the timing program; its header has the
#     details) with benches/cases/mod.rs: `new` depends on the working tree,
#     `old` on the worktree and, for a commit before core v2, is built with
#     the feature `old_api` (the old `em_step` returned a tuple). Each starts from its tree's Cargo.lock, so
#     both use the same dependency versions as `cargo bench`; the release
#     profile is cargo's default, as for `cargo bench`. Build output goes to
#     target/compare-commits/ (kept, so a second run rebuilds only gaussmix).
#     Network: crates.io only, and only if a dependency is not cached.
#  3. Each round runs, per case, both binaries one after the other (new
#     first in odd rounds, old first in even ones), each timing REPS
#     `em_step`s after 2 warm-ups and reporting their median. Adjacent runs
#     see about the same machine load, so the ratio of a pair is robust to
#     load that drifts over seconds; the table reports, per case, the
#     median over rounds of each side's time, their ratio, and the median
#     (with the quartiles) of the per-round new/old ratios, which is the
#     figure to quote; the same for each run's fastest em_step. A paired
#     median above 1.05 is flagged.
#
# Not part of `cargo test` or `cargo bench`: benches/compare/ has no
# main.rs and is no target of the gaussmix package. Needs git, cargo, awk.
set -euo pipefail

COMMIT=${1:-4e47936}
ROUNDS=${ROUNDS:-21}
REPS=${REPS:-9}
CASES=${CASES:-"d2_k3_f64 d2_k3_f32 d8_k8_f64 d8_k8_f32"}
export KIND=${KIND:-full}
export FROM_ITER=${FROM_ITER:-0}
case $KIND in
full | diag | spherical | tied) ;;
*)
    echo "KIND=$KIND: one of full, diag, spherical, tied" >&2
    exit 2
    ;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OLD_REV=$(git rev-parse --verify "$COMMIT^{commit}")
export CARGO_TARGET_DIR="$ROOT/target/compare-commits"
WORK=$(mktemp -d /tmp/gaussmix-compare.XXXXXX)

cleanup() {
    if [ -d "$WORK/old" ]; then
        git -C "$ROOT" worktree remove --force "$WORK/old" || true
    fi
    rm -rf "$WORK"
    git -C "$ROOT" worktree prune || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

git -C "$ROOT" worktree add --quiet --detach "$WORK/old" "$OLD_REV"
# The old `em_step` returned a tuple until core v2 named its result.
OLD_FEATURES=--features=old_api
if grep -rqs "pub struct EmStep" "$WORK/old/src"; then OLD_FEATURES=; fi
if [ -n "$OLD_FEATURES" ] && [ "$KIND" != full ]; then
    echo "KIND=$KIND: $COMMIT is before core v2, which had full covariance only" >&2
    exit 2
fi

# package NAME GAUSSMIX_PATH LOCKFILE [FEATURES]
package() {
    local dir="$WORK/pkg-$1"
    mkdir -p "$dir/src" "$dir/cases"
    cp "$ROOT/benches/compare/timing.rs" "$dir/src/main.rs"
    cp "$ROOT/benches/cases/mod.rs" "$dir/cases/mod.rs"
    cp "$3" "$dir/Cargo.lock"
    cat >"$dir/Cargo.toml" <<EOF
[package]
name = "gaussmix-compare-$1"
version = "0.0.0"
edition = "2021"
publish = false

[[bin]]
name = "timing-$1"
path = "src/main.rs"

[dependencies]
gaussmix = { path = "$2"$(features "${4:-}") }

[features]
old_api = []

[workspace]
EOF
}

# ', features = ["a", "b"]' for a comma-separated list, nothing for none.
features() {
    [ -n "$1" ] || return 0
    printf ', features = ["%s"]' "$(echo "$1" | sed 's/,/", "/g')"
}

package new "$ROOT" "$ROOT/Cargo.lock" "${NEW_FEATURES:-}"
package old "$WORK/old" "$WORK/old/Cargo.lock"

echo "building: working tree${NEW_FEATURES:+ with features $NEW_FEATURES} ($(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml || echo ' + uncommitted changes in src/')) and $(git -C "$ROOT" rev-parse --short "$OLD_REV")" >&2
cargo build --quiet --release --manifest-path "$WORK/pkg-new/Cargo.toml"
cargo build --quiet --release --manifest-path "$WORK/pkg-old/Cargo.toml" $OLD_FEATURES
# Copies, so a concurrent rebuild of the target dir cannot swap them mid-run.
cp "$CARGO_TARGET_DIR/release/timing-new" "$CARGO_TARGET_DIR/release/timing-old" "$WORK/"

echo "same computation on both sides (log-likelihood of the start; a recentred pass would double the work):"
for c in $CASES; do
    printf '  new: %s\n  old: %s\n' "$("$WORK/timing-new" "$c" check)" "$("$WORK/timing-old" "$c" check)"
done

RESULTS="$WORK/results"
: >"$RESULTS"
echo "timing: $ROUNDS rounds x ${REPS} em_steps per run, cases: $CASES" >&2
for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then order="new old"; else order="old new"; fi
    for c in $CASES; do
        for side in $order; do
            # "<case> <median ns> <min ns>"
            echo "$r $side $("$WORK/timing-$side" "$c" "$REPS")" >>"$RESULTS"
        done
    done
    printf '\r  round %d/%d' "$r" "$ROUNDS" >&2
done
echo >&2
if [ -n "${RAW:-}" ]; then cp "$RESULTS" "$RAW"; fi

# Medians per case and side, and of the per-round paired ratios; the same
# for each run's fastest em_step (load only ever adds time, so the fastest
# of a run is the least disturbed).
awk -v old="$(git -C "$ROOT" rev-parse --short "$OLD_REV")" -v kind="$KIND" -v from="$FROM_ITER" '
function sort(a, n,    i, j, t) {
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
}
function quantile(a, n, q,    h, l) {   # linear interpolation, a sorted
    h = 1 + (n - 1) * q; l = int(h)
    return l >= n ? a[n] : a[l] + (h - l) * (a[l + 1] - a[l])
}
function row(c, label, col,    r, n, mn, mo, mp) {
    n = 0
    for (r = 1; r <= rounds; r++) {
        if (!((c, "new", r) in t) || !((c, "old", r) in t)) continue
        n++
        split(t[c, "new", r], x); a[n] = x[col]
        split(t[c, "old", r], x); b[n] = x[col]
        p[n] = a[n] / b[n]
    }
    sort(a, n); sort(b, n); sort(p, n)
    mn = quantile(a, n, 0.5); mo = quantile(b, n, 0.5); mp = quantile(p, n, 0.5)
    printf "%-10s %-7s %9.3f %9.3f %9.3f %11.3f   [%5.3f, %5.3f]  %s\n", c, label, mn, mo, mn / mo, mp, quantile(p, n, 0.25), quantile(p, n, 0.75), (mp > 1.05 ? "SLOWER by more than 5%" : "ok")
    delete a; delete b; delete p
}
{ t[$3, $2, $1] = $4 " " $5; if (!($3 in seen)) { seen[$3] = 1; order[++nc] = $3 }; if ($1 > rounds) rounds = $1 }
END {
    printf "\n%s covariance em_step%s, ns per point·component (N = 100 000), working tree vs %s, %d rounds\n", kind, (from > 0 ? " from iteration " from : ""), old, rounds
    printf "(median: of a run'"'"'s em_steps; fastest: the run'"'"'s fastest; columns new, old: medians over rounds)\n"
    printf "%-10s %-7s %9s %9s %9s %11s %17s\n", "case", "per run", "new", "old", "new/old", "paired med", "paired [q1, q3]"
    for (i = 1; i <= nc; i++) { row(order[i], "median", 1); row(order[i], "fastest", 2) }
}' "$RESULTS"
