#!/usr/bin/env bash
# seed_sweep.sh [FIRST [LAST [TOUR FLAGS...]]]: runs `sigma tour --seed N` for
# every N from FIRST to LAST (default 0..49), each into $OUT/N, and
# prints one line per seed: "seed N: ok" or the checks and sections that
# failed. Exits 1 if any seed failed. Extra flags go to every run (--quick,
# --only train,...). SIGMA names the binary (default build/tools/sigma/sigma);
# JOBS runs that many seeds at once (default 1: each run uses every core).
set -uo pipefail
cd "$(dirname "$0")/.."
first=${1:-0}
last=${2:-49}
shift $(( $# > 2 ? 2 : $# ))
sigma=${SIGMA:-build/tools/sigma/sigma}
jobs=${JOBS:-1}
out=${OUT:-out/seed-sweep}
[ -x "$sigma" ] || { echo "seed_sweep: $sigma not found; run make build first" >&2; exit 2; }
mkdir -p "$out"

one() {
  local n=$1; shift
  if "$sigma" tour --seed "$n" --out "$out/$n" "$@" > "$out/$n.log" 2>&1; then
    echo "seed $n: ok"
  else
    echo "seed $n: FAILED: $(grep -E '^  (FAIL |FAILED:)' "$out/$n.log" | sed 's/^  //' | paste -sd';' -)"
  fi
}
export -f one
export sigma out

start=$(date +%s)
seq "$first" "$last" | xargs -P "$jobs" -I{} bash -c 'one "$@"' _ {} "$@" | sort -t' ' -k2 -n | tee "$out/summary.txt"
failed=$(grep -c FAILED "$out/summary.txt")
echo "$((last - first + 1)) seeds, $failed failed, $(( $(date +%s) - start )) s"
[ "$failed" -eq 0 ]
