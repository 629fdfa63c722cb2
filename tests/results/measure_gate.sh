#!/usr/bin/env bash
# Measures what docs/results.md reports about the gate on this machine:
#  - the time and database size recording adds per case;
#  - false positives: a baseline and RERUNS reruns of the same suite and
#    implementation, each rerun gated against the baseline;
#  - sensitivity: the same reruns with every timing sample of HEAD scaled by
#    1.05 .. 2.00 (a copy of the database per factor, changed with sqlite3),
#    gated again: how often each injected slowdown fails the gate.
# Not a CTest test (minutes of runs); run it by hand:
#   bash tests/results/measure_gate.sh build/dtbench [RERUNS] [-- run options]
# default run options: --suite ddp --np 1,2 --model mlp-odd
set -u
D=$(realpath "$1"); shift
RERUNS=10
if [ $# -gt 0 ] && [ "$1" != "--" ]; then RERUNS=$1; shift; fi
[ "${1:-}" = "--" ] && shift
ARGS=("$@")
[ ${#ARGS[@]} -gt 0 ] || ARGS=(--suite ddp --np 1,2 --model mlp-odd)
command -v sqlite3 >/dev/null || { echo "measure_gate.sh: needs sqlite3" >&2; exit 2; }
OUT=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-measure-XXXXXX")
echo "measure_gate.sh: ${ARGS[*]}, 1 + $RERUNS runs, in $OUT"
DB=$OUT/m.db
db_bytes() { sqlite3 "$1" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null; stat -c %s "$1"; }

per_case_ms=()
for i in $(seq 0 "$RERUNS"); do
    before=0
    [ -f "$DB" ] && before=$(db_bytes "$DB")
    "$D" run "${ARGS[@]}" --db "$DB" >/dev/null 2>"$OUT/run$i.err"
    line=$(grep "recorded run" "$OUT/run$i.err") || { echo "run $i not recorded:"; cat "$OUT/run$i.err"; exit 1; }
    cases=$(echo "$line" | sed -E 's/.*\(([0-9]+) cases?, ([0-9.]+) ms per case\).*/\1/')
    ms=$(echo "$line" | sed -E 's/.*\(([0-9]+) cases?, ([0-9.]+) ms per case\).*/\2/')
    after=$(db_bytes "$DB")
    per_case_ms+=("$ms")
    [ "$i" -gt 0 ] && echo "run $((i + 1)): $cases cases, $ms ms and $(( (after - before) / cases )) bytes per case recorded; load $(cut -d' ' -f1-3 /proc/loadavg)"
done

echo "== false positives: reruns of the unchanged suite gated against run 1"
fp=0
for k in $(seq 2 $((RERUNS + 1))); do
    "$D" gate --base 1 --head "$k" --db "$DB" >"$OUT/gate$k.txt"; rc=$?
    [ $rc -eq 1 ] && { fp=$((fp + 1)); grep '^REGRESSION' "$OUT/gate$k.txt"; }
    [ $rc -le 1 ] || { echo "gate $k: exit $rc"; cat "$OUT/gate$k.txt"; }
done
echo "false positives: $fp of $RERUNS"

echo "== injected slowdowns: HEAD's timing samples scaled"
for factor in 1.05 1.10 1.20 1.30 1.50 2.00; do
    hits=0
    for k in $(seq 2 $((RERUNS + 1))); do
        cp "$DB" "$OUT/s.db"
        sqlite3 "$OUT/s.db" "UPDATE samples SET value = value * $factor WHERE metric_id IN
            (SELECT m.id FROM metrics m JOIN cases c ON c.id = m.case_id
             WHERE c.run_id = $k AND m.kind = 'timing')"
        "$D" gate --base 1 --head "$k" --db "$OUT/s.db" >"$OUT/gate-$factor-$k.txt"
        [ $? -eq 1 ] && hits=$((hits + 1))
    done
    echo "slowdown x$factor: gate failed $hits of $RERUNS"
done
rm -f "$OUT/s.db"*
echo "measure_gate.sh: outputs kept in $OUT"
