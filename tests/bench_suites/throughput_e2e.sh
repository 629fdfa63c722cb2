#!/usr/bin/env bash
# End to end, the throughput suite on one small model at worlds 1 and 2:
# TAP that prove accepts; the BLAS peak once per world; every timed
# repetition stored with its warm-ups flagged; samples/s and GFLOP/s the
# exact transforms of the step times; bus bytes per step zero in a world of
# one and, for DDP, exactly the gradient plus the loss allreduce at two;
# the overlap figures present; a rerun compares with `dtbench compare`.
# Bad input is one line and exit 2.
# usage: throughput_e2e.sh DTBENCH
set -u
D=$1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-throughput-e2e-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
DB=$TMP/r.db
q() { sqlite3 "$DB" "$1"; }
ARGS=(run --suite throughput --sizes mlp-100k --np 1,2 --warmup 1 --reps 5 --db "$DB")

"$D" "${ARGS[@]}" --tap t1.tap 2>t1.err
rc=$?
if [ $rc -ne 0 ] || [ ! -s t1.tap ]; then
    echo "FAIL: throughput suite: exit $rc: $(tail -5 t1.err)" >&2
    exit 1
fi
prove -e cat t1.tap >prove.txt 2>&1
grep -q "^Result: PASS" prove.txt || fail "prove did not pass: $(tail -3 prove.txt)"
# 2 peak points + 4 impls x 2 worlds x (completed, overlap measured)
[ "$(grep -c '^ok ' t1.tap)" -eq 18 ] || fail "want 18 ok points: $(grep -c '^ok ' t1.tap)"
grep -q "^not ok" t1.tap && fail "a point failed: $(grep '^not ok' t1.tap)"
for h in "step ms" "samples/s" "GFLOP/s" "%peak" "overlap" "states/f" "bus/min"; do
    grep -qF "$h" t1.err || fail "the summary table lacks '$h'"
done

run=$(q "SELECT max(id) FROM runs")
[ "$(q "SELECT count(*) FROM cases WHERE run_id=$run AND case_key LIKE 'throughput peak np=%'")" -eq 2 ] ||
    fail "want one peak case per world size"
# Every timed metric: 1 warm-up + 5 timed samples, values positive; the
# step's metrics of the 4 implementations, measured in 3 interleaved
# rounds, 3 of each.
bad=$(q "SELECT c.label || ' ' || m.name FROM cases c JOIN metrics m ON m.case_id=c.id
         WHERE c.run_id=$run AND m.name IN ('peak_gflops','compute_only_seconds')
         AND ((SELECT count(*) FROM samples s WHERE s.metric_id=m.id AND s.warmup=1) != 1
           OR (SELECT count(*) FROM samples s WHERE s.metric_id=m.id AND s.warmup=0 AND s.value > 0) != 5)")
[ -z "$bad" ] || fail "metrics without 1 warm-up + 5 positive timed samples: $bad"
bad=$(q "SELECT c.label || ' ' || m.name FROM cases c JOIN metrics m ON m.case_id=c.id
         WHERE c.run_id=$run AND m.name IN ('step_seconds','samples_per_second',
               'achieved_gflops','peak_fraction')
         AND ((SELECT count(*) FROM samples s WHERE s.metric_id=m.id AND s.warmup=1) != 3
           OR (SELECT count(*) FROM samples s WHERE s.metric_id=m.id AND s.warmup=0 AND s.value > 0) != 15)")
[ -z "$bad" ] || fail "step metrics without 3 rounds of 1 warm-up + 5 positive timed samples: $bad"
# Side by side: every implementation's bus bytes per step at the stage's
# minimum (N = 2; the references move exactly the minimum of their padded
# partition, within the neutral slack), and its model states at the formula
# (ZeRO-3 above it: the gathered layers its working memory declares).
bad=$(q "SELECT c.label || ' ' || m.name FROM cases c JOIN metrics m ON m.case_id=c.id
         JOIN samples s ON s.metric_id=m.id WHERE c.run_id=$run
         AND ((m.name = 'bus_bytes_over_minimum' AND (s.value < 0.99 OR s.value > 1.1))
           OR (m.name = 'model_states_over_formula' AND (s.value < 0.99 OR s.value > 1.1)
               AND c.label NOT LIKE 'ref-zero3 %')
           OR (m.name = 'model_states_over_formula' AND (s.value < 1.1 OR s.value > 2)
               AND c.label LIKE 'ref-zero3 %'))")
[ -z "$bad" ] || fail "ratios to the formula or minimum off [0.99, 1.1]: $bad"
[ "$(q "SELECT count(*) FROM cases c JOIN metrics m ON m.case_id=c.id WHERE c.run_id=$run
        AND m.name='bus_bytes_over_minimum'")" -eq 4 ] ||
    fail "want bus_bytes_over_minimum for the 4 implementations at N = 2"
# samples/s = 256 / step seconds, repetition by repetition.
bad=$(q "SELECT count(*) FROM cases c JOIN metrics a ON a.case_id=c.id AND a.name='step_seconds'
         JOIN metrics b ON b.case_id=c.id AND b.name='samples_per_second'
         JOIN samples sa ON sa.metric_id=a.id JOIN samples sb ON sb.metric_id=b.id AND sb.rep=sa.rep
         WHERE c.run_id=$run AND abs(sb.value * sa.value - 256) > 1e-9 * 256")
[ "$bad" -eq 0 ] || fail "$bad samples/s values are not 256 / step seconds"
n=$(q "SELECT count(*) FROM cases c JOIN metrics m ON m.case_id=c.id AND m.name='overlap_ratio'
       JOIN samples s ON s.metric_id=m.id WHERE c.run_id=$run AND s.value > 0")
[ "$n" -eq 8 ] || fail "overlap_ratio in $n of 8 cases"
bus() { q "SELECT s.value FROM cases c JOIN metrics m ON m.case_id=c.id AND m.name='comm_bus_bytes'
           JOIN samples s ON s.metric_id=m.id WHERE c.run_id=$run AND c.case_key='$1'"; }
[ "$(bus 'throughput ddp mlp-100k fp32 np=1')" = "0.0" ] || fail "np=1 DDP moved bytes: $(bus 'throughput ddp mlp-100k fp32 np=1')"
# DDP at N=2: allreduce of 4 Psi + 8 bytes per step, bus factor 2(N-1)/N = 1.
[ "$(bus 'throughput ddp mlp-100k fp32 np=2')" = "405552.0" ] ||
    fail "np=2 DDP bus bytes per step $(bus 'throughput ddp mlp-100k fp32 np=2'), want 4*101386+8"
[ -n "$(q "SELECT blas FROM runs WHERE id=$run AND blas_threads=1 AND cpu_cores>=1")" ] ||
    fail "machine facts missing"

# A world larger than warm-ups + repetitions: one sample per rank still fits.
"$D" run --suite throughput --impl ref-ddp --sizes mlp-100k --np 6 --warmup 0 --reps 5 \
    --db "$DB" --tap wide.tap 2>wide.err || fail "np 6, 5 repetitions: exit $?: $(tail -3 wide.err)"
[ "$(q "SELECT count(*) FROM cases c JOIN metrics m ON m.case_id=c.id AND m.name='mem_peak.total'
        JOIN samples s ON s.metric_id=m.id WHERE c.run_id=(SELECT max(id) FROM runs)")" -eq 6 ] ||
    fail "np 6: want 6 per-rank mem_peak.total samples"

# A rerun compares case by case.
"$D" "${ARGS[@]}" --tap t2.tap 2>t2.err || fail "rerun: $(tail -3 t2.err)"
"$D" compare "$run" latest --db "$DB" >cmp.txt 2>&1
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 1 ] || fail "compare: exit $rc: $(cat cmp.txt)"
grep -q "step_seconds" cmp.txt || fail "compare does not show step_seconds: $(head -20 cmp.txt)"
grep -q "throughput zero3 mlp-100k fp32 np=2" cmp.txt ||
    grep -q "ref-zero3 mlp-100k fp32 np=2" cmp.txt || fail "compare does not match the zero3 case"

# ---- bad input ----------------------------------------------------------------------
expect_bad() {
    local want=$1; shift
    "$D" "$@" --db "$DB" >out.txt 2>err.txt; local rc=$?
    [ $rc -eq 2 ] || fail "dtbench $*: exit $rc, want 2"
    [ "$(wc -l <err.txt)" -eq 1 ] || fail "dtbench $*: want one stderr line: $(cat err.txt)"
    grep -qF -- "$want" err.txt || fail "dtbench $*: stderr '$(cat err.txt)' lacks '$want'"
}
expect_bad "is listed twice" run --suite throughput --impl ref-ddp,ref-ddp
expect_bad "--impl: '" run --suite throughput --impl ref-ddp,,ref-zero1
expect_bad "--np" run --suite throughput --np 0
expect_bad "--warmup" run --suite throughput --warmup x

[ $failures -eq 0 ] && echo "throughput_e2e: all checks passed"
exit $((failures > 0))
