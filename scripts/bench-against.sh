#!/usr/bin/env bash
# Throughput of this tree against a baseline commit, measured in one run on this machine.
#
#   scripts/bench-against.sh <baseline-commit> [runs]
#
# Builds the throughput bench (crates/relevance-cli/benches/throughput.rs) of the baseline
# in a temporary worktree with its own target directory, and of this tree, then runs the
# two executables alternately `runs` times (default 5), so a drift in the machine's speed
# hits both alike. Prints each run's figures and, per route, the median over the runs of
# requests per second and of the ratio to the bare route, for both trees. Nothing here
# passes or fails on the figures: it is a measurement.
#
# Settings: BENCH_SECONDS / BENCH_ROUNDS / BENCH_CONCURRENCY as for the bench itself
# (defaults here: 2 s, 3 rounds, 32 connections); BASELINE_TARGET_DIR to keep the
# baseline's build between runs (default: a directory under the system's temp dir).
set -euo pipefail

baseline=${1:?usage: scripts/bench-against.sh <baseline-commit> [runs]}
runs=${2:-5}
root=$(git rev-parse --show-toplevel)
commit=$(git -C "$root" rev-parse --verify "$baseline^{commit}")
short=${commit:0:7}
tmp=${TMPDIR:-/tmp}
worktree="$tmp/relevance-bench-base-$short"
base_target=${BASELINE_TARGET_DIR:-$tmp/relevance-bench-target-$short}

cleanup() { git -C "$root" worktree remove --force "$worktree" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
git -C "$root" worktree add --detach "$worktree" "$commit" >/dev/null

executable() { # <dir> <target dir>: builds the bench there and prints the executable's path
  (cd "$1" && CARGO_TARGET_DIR="$2" cargo bench -p relevance-cli --bench throughput --no-run \
    --message-format=json 2>/dev/null) |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "throughput":
        print(m["executable"])' | tail -1
}
echo "building the baseline ($short) and this tree ..." >&2
base_exe=$(executable "$worktree" "$base_target")
this_exe=$(executable "$root" "${CARGO_TARGET_DIR:-$root/target}")
[ -x "$base_exe" ] && [ -x "$this_exe" ] || { echo "could not build both benches" >&2; exit 1; }

export BENCH_SECONDS=${BENCH_SECONDS:-2} BENCH_ROUNDS=${BENCH_ROUNDS:-3}
results="$tmp/relevance-bench-results-$$"
: >"$results"
for run in $(seq 1 "$runs"); do
  for side in baseline this; do
    exe=$base_exe; [ "$side" = this ] && exe=$this_exe
    # Lines: "  bare /healthz  39708", "  API key  agents/get  37833  0.95 of bare", ...
    "$exe" --bench | awk -v side="$side" -v run="$run" '
      /bare \/healthz/      { print side, run, "bare", $3 }
      /API key  agents/     { print side, run, "api", $4 }
      /embed key agents/    { print side, run, "embed", $4 }
      /non-200/             { print "warning:", $0 > "/dev/stderr" }' >>"$results"
  done
  echo "run $run of $runs done" >&2
done

python3 - "$results" "$short" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
rate = {}
for side, run, route, value in rows:
    rate.setdefault((side, route), {})[run] = float(value)
print(f"throughput against {sys.argv[2]} (median of {len(rate[('this', 'bare')])} alternating runs)")
print(f"  {'route':22}{'baseline':>10}{'this':>10}   ratio to bare: baseline  this")
for route, label in [("bare", "bare /healthz"), ("api", "API key agents/get"), ("embed", "embed key agents/get")]:
    med = {side: statistics.median(rate[(side, route)].values()) for side in ("baseline", "this")}
    ratio = {side: statistics.median(rate[(side, route)][run] / rate[(side, "bare")][run]
                                     for run in rate[(side, route)]) for side in ("baseline", "this")}
    extra = "" if route == "bare" else f"   {ratio['baseline']:>20.2f}  {ratio['this']:.2f}"
    print(f"  {label:22}{med['baseline']:>10.0f}{med['this']:>10.0f}{extra}")
PY
rm -f "$results"
