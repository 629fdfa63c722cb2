#!/usr/bin/env bash
# The CI performance and correctness gate (docs/results.md): run a suite,
# record it in a results database kept between CI runs, gate it against a
# stored baseline, and exit with the gate's status.
#
# usage: ci/gate.sh [options] [--] RUN_OPTIONS...
#   RUN_OPTIONS          passed to `dtbench run` (e.g. --suite ddp --np 1,2)
#   --db FILE            results database (default: $DTBENCH_DB, else
#                        ./dtbench-results.db); keep it on the runner
#   --base REF           baseline to gate against: a tag, a run id or latest
#                        (default: baseline)
#   --init               when BASE does not exist yet, tag this run as BASE
#                        and exit with the run's own status (first run)
#   --promote            when the gate passes, move the BASE tag to this run
#                        (pushes to the main branch)
#   --min-effect PCT     passed to dtbench gate (default: dtbench's, 5)
#   --out DIR            keep the run's TAP, the gate report and a CSV of the
#                        run there (default: gate-out)
#   --dtbench PATH       the dtbench to run (default: build/dtbench)
#
# Exit status: 0 no regression, 1 HEAD regressed against BASE, 2 bad input
# or a run that could not be recorded (and 1 or 0, the run's own status,
# with --init on the first run).
set -uo pipefail
cd "$(dirname "$0")/.."

db="${DTBENCH_DB:-dtbench-results.db}"
base=baseline
init=0
promote=0
min_effect=()
out=gate-out
dtbench=build/dtbench
while [ $# -gt 0 ]; do
    case "$1" in
        --db) db=$2; shift 2 ;;
        --base) base=$2; shift 2 ;;
        --init) init=1; shift ;;
        --promote) promote=1; shift ;;
        --min-effect) min_effect=(--min-effect "$2"); shift 2 ;;
        --out) out=$2; shift 2 ;;
        --dtbench) dtbench=$2; shift 2 ;;
        --) shift; break ;;
        *) break ;;
    esac
done
if [ $# -eq 0 ]; then
    echo "ci/gate.sh: no run options (e.g. -- --suite ddp); see the header of ci/gate.sh" >&2
    exit 2
fi
if [ ! -x "$dtbench" ]; then
    echo "ci/gate.sh: $dtbench is not built (bash ci/build.sh release)" >&2
    exit 2
fi
mkdir -p "$out" || exit 2

echo "ci/gate.sh: dtbench run $* (database $db, baseline $base)"
"$dtbench" run --db "$db" --tap "$out/run.tap" "$@" 2>"$out/run.err"
run_status=$?
cat "$out/run.err" >&2
if [ $run_status -ge 2 ]; then
    echo "ci/gate.sh: the run failed to start or to be recorded (exit $run_status)" >&2
    exit 2
fi
head=$(sed -n 's/^dtbench: recorded run \([0-9][0-9]*\) .*/\1/p' "$out/run.err" | tail -n 1)
if [ -z "$head" ]; then
    echo "ci/gate.sh: the run did not say which run it recorded" >&2
    exit 2
fi
[ $run_status -eq 0 ] || echo "ci/gate.sh: run $head has failing checks; the gate decides whether they are new"
"$dtbench" export --format csv --run "$head" --out "$out/run.csv" --db "$db" >/dev/null || exit 2

if ! "$dtbench" show "$base" --db "$db" >/dev/null 2>"$out/base.err"; then
    if [ $init -eq 1 ] && grep -q "unknown run or tag" "$out/base.err"; then
        "$dtbench" tag "$head" "$base" --db "$db" || exit 2
        echo "ci/gate.sh: no baseline '$base' yet: run $head is the baseline now (nothing to gate)"
        exit $run_status
    fi
    cat "$out/base.err" >&2
    exit 2
fi

"$dtbench" gate --base "$base" --head "$head" --db "$db" --verbose "${min_effect[@]}" |
    tee "$out/gate.txt"
gate_status=${PIPESTATUS[0]}
if [ "$gate_status" -eq 0 ] && [ $promote -eq 1 ]; then
    "$dtbench" tag "$head" "$base" --db "$db" || exit 2
fi
exit "$gate_status"
