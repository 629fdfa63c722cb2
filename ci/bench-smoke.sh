#!/usr/bin/env bash
# The benchmark suites in seconds, so that none of them can rot: throughput,
# memory (with a budget search) and comm on tiny configurations, recorded in
# one database, every TAP stream through prove, a rerun compared, and the
# report drawn with gnuplot.
# usage: ci/bench-smoke.sh [BUILD_DIR]     (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
D="$(pwd)/${1:-build}/dtbench"
dir="$(mktemp -d "${TMPDIR:-/tmp}/dtbench-smoke-XXXXXX")"
trap 'rm -rf "$dir"' EXIT
db="$dir/bench.db"

"$D" run --suite throughput --sizes mlp-100k --np 1,2 --warmup 1 --reps 5 --db "$db" \
    --tap "$dir/throughput.tap"
"$D" run --suite memory --sizes mlp-100k,mlp-1m --np 2 --mem-budget 32M --db "$db" \
    --tap "$dir/memory.tap"
"$D" run --suite comm --np 2 --sizes 64K,1M --warmup 1 --reps 5 --db "$db" --tap "$dir/comm.tap"
for suite in throughput memory comm; do
    prove -e cat "$dir/$suite.tap" >"$dir/prove.txt" 2>&1 || {
        cat "$dir/prove.txt"
        echo "bench-smoke: prove rejected the $suite TAP" >&2
        exit 1
    }
done
"$D" run --suite throughput --sizes mlp-100k --np 2 --impl ref-zero2 --warmup 1 --reps 5 \
    --db "$db" --tap "$dir/rerun.tap"
"$D" compare 1 latest --db "$db" >/dev/null || [ $? -eq 1 ]
"$D" report --db "$db" --out "$dir/report"
[ -s "$dir/report/report.md" ] || { echo "bench-smoke: no report.md" >&2; exit 1; }
for plot in 'throughput-r*-mlp-100k-samples.svg' 'memory-r*-fp32-np2.svg' 'comm-r*-np2.svg'; do
    compgen -G "$dir/report/$plot" >/dev/null ||
        { echo "bench-smoke: the report lacks $plot" >&2; exit 1; }
done
echo "bench-smoke: throughput, memory, comm and the report ran ($(ls "$dir/report"/*.svg | wc -l) plots)"
