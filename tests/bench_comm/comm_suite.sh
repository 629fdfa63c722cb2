#!/usr/bin/env bash
# `dtbench run --suite comm` end to end on a small size list at np 2: TAP
# that prove passes, every "results correct" point ok, the database holding
# the cases and metrics of docs/benchmarks.md's comm contract; then a world
# that fails, a truncated result file and a result reporting a wrong
# element, each reported as it should be (fake mpirun wrappers: no test hook
# in dtbench itself).
# usage: comm_suite.sh DTBENCH
set -u
D=$1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-comm-suite-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
unset DTBENCH_DB
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
REAL_MPIRUN=${DTB_MPIRUN:-$(command -v mpirun)}
SIZES=(--sizes 1K,64K)
OPS="allreduce reduce_scatter allgather broadcast"
N_CASES=16  # 4 collectives x 2 sizes x 2 sides at np 2

# ---- a good run -----------------------------------------------------------------
"$D" run --suite comm --np 2 "${SIZES[@]}" --db r.db --tap out.tap 2>err.txt
rc=$?
[ $rc -eq 0 ] || fail "comm suite: exit $rc: $(tail -5 err.txt)"
grep -B1 -A12 '^not ok' out.tap | head -60
prove -e cat out.tap >prove.txt 2>&1 || { cat prove.txt; fail "prove failed"; }
grep -q "Parse errors" prove.txt && fail "prove: parse errors"
n_correct=$(grep -c '^ok [0-9]* - .*: results correct$' out.tap)
[ "$n_correct" -eq $N_CASES ] || fail "$n_correct 'results correct' points ok, want $N_CASES"
grep -q '^not ok' out.tap && fail "a test point failed"
grep -q "^# comm np=2: fp32" err.txt || fail "no table on stderr: $(cat err.txt)"
grep -q "^# target: allreduce 64 KiB np=2: dtbench busbw" err.txt || fail "no target line"
for op in $OPS; do
    grep -Eq "^ +1024 $op " err.txt || fail "table lacks $op at 1024 B"
done

q() { sqlite3 r.db "$1"; }
[ "$(q 'select count(*) from cases')" -eq $N_CASES ] || fail "cases: $(q 'select count(*) from cases')"
[ "$(q "select suite || ' ' || impl || ' ' || status from runs")" = "comm dtbench-comm complete" ] ||
    fail "run row: $(q 'select suite, impl, status from runs')"
for op in $OPS; do
    for size in 1024 65536; do
        for side in dtbench mpi; do
            key="comm $op $size np=2 $side"
            n=$(q "select count(*) from cases where case_key = '$key' and completed = 1 and world_size = 2")
            [ "$n" -eq 1 ] || fail "no completed case '$key'"
        done
    done
done
# metrics: name unit kind better, per side
want_metrics='algbw_gbps GB/s timing higher
busbw_gbps GB/s timing higher
busbw_over_mpi ratio timing higher
seconds s timing lower'
got=$(q "select distinct m.name || ' ' || m.unit || ' ' || m.kind || ' ' || m.better from metrics m
         join cases c on c.id = m.case_id where c.case_key like '% dtbench' order by m.name")
[ "$got" = "$want_metrics" ] || fail "dtbench side metrics: $got"
got=$(q "select distinct m.name from metrics m join cases c on c.id = m.case_id
         where c.case_key like '% mpi' order by m.name" | tr '\n' ' ')
[ "$got" = "algbw_gbps busbw_gbps seconds " ] || fail "mpi side metrics: $got"
[ "$(q "select count(*) from metrics m join cases c on c.id = m.case_id where c.case_key like '% dtbench'")" -eq 32 ] ||
    fail "dtbench cases do not have 4 metrics each"
# every repetition stored: 2 warm-ups + 5 timed, world-wide (rank NULL)
bad=$(q "select count(*) from metrics m where (select count(*) from samples s where s.metric_id = m.id) != 7
         or (select sum(warmup) from samples s where s.metric_id = m.id) != 2
         or exists (select 1 from samples s where s.metric_id = m.id and (s.rank is not null or s.value < 0))")
[ "$bad" -eq 0 ] || fail "$bad metrics without 7 samples (2 warm-up), rank NULL, non-negative"
# algbw = S / t / 1e9 and busbw = algbw * 2(N-1)/N = algbw for allreduce at N = 2,
# reduce-scatter busbw = algbw / 2 at N = 2
check_bw() { # KEY FACTOR
    q "select count(*) from samples t join metrics mt on mt.id = t.metric_id and mt.name = 'seconds'
       join samples a on a.seq = t.seq join metrics ma on ma.id = a.metric_id and ma.name = 'algbw_gbps'
       join samples b on b.seq = t.seq join metrics mb on mb.id = b.metric_id and mb.name = 'busbw_gbps'
       join cases c on c.id = mt.case_id and c.id = ma.case_id and c.id = mb.case_id
       where c.case_key = '$1'
         and abs(a.value - 65536 / t.value / 1e9) <= 1e-9 * a.value
         and abs(b.value - a.value * $2) <= 1e-9 * a.value"
}
[ "$(check_bw 'comm allreduce 65536 np=2 dtbench' 1.0)" -eq 7 ] || fail "allreduce algbw/busbw arithmetic"
[ "$(check_bw 'comm reduce_scatter 65536 np=2 mpi' 0.5)" -eq 7 ] || fail "reduce_scatter algbw/busbw arithmetic"
[ "$(check_bw 'comm broadcast 65536 np=2 dtbench' 1.0)" -eq 7 ] || fail "broadcast algbw/busbw arithmetic"
"$D" show latest --db r.db >show.txt || fail "show: exit $?"
grep -q "busbw_over_mpi" show.txt || fail "show lacks busbw_over_mpi"

# ---- bad input ------------------------------------------------------------------
"$D" run --suite comm --np 2 --sizes 1K,lots --db r.db --tap bad.tap 2>bad.txt
rc=$?
[ $rc -eq 2 ] || fail "bad --sizes: exit $rc, want 2"
[ "$(wc -l <bad.txt)" -eq 1 ] || fail "bad --sizes: want one line: $(cat bad.txt)"
grep -q "^dtbench: --sizes: 'lots' is not a size" bad.txt || fail "bad sizes message: $(cat bad.txt)"
"$D" run --suite comm --np 2 --sizes 1K,1024 --db r.db --tap bad.tap 2>bad.txt
[ $? -eq 2 ] && grep -q "1024 bytes listed twice" bad.txt || fail "duplicate --sizes: $(cat bad.txt)"
"$D" run --suite comm --precision bf16 --db r.db --tap bad.tap 2>bad.txt
[ $? -eq 2 ] && grep -q "\-\-precision does not apply to the comm suite" bad.txt || fail "--precision on comm: $(cat bad.txt)"
"$D" run --suite comm --impl ref-ddp --db r.db --tap bad.tap 2>bad.txt
[ $? -eq 2 ] && grep -q "\-\-impl does not apply to the comm suite" bad.txt || fail "--impl on comm: $(cat bad.txt)"

# ---- a world that fails -----------------------------------------------------------
# fake_mpirun NAME BODY: a wrapper; $OUT is the world's directory (the last
# argument). dtbench's up-front probe world (worker-probe) goes to the real
# mpirun: these wrappers fail the comm world, not the launcher.
fake_mpirun() {
    cat >"$1" <<SH
#!/usr/bin/env bash
OUT=\${@: -1}
case " \$* " in *" worker-probe "*) exec "$REAL_MPIRUN" "\$@" ;; esac
$2
SH
    chmod +x "$1"
}
expect_failure() { # WRAPPER TAP_PATTERN DIAG_PATTERN
    "$D" run --suite comm --np 2 "${SIZES[@]}" --db r.db --mpirun "$TMP/$1" --tap "$1.tap" 2>"$1.err"
    local rc=$?
    [ $rc -eq 1 ] || fail "$1: exit $rc, want 1: $(tail -3 "$1.err")"
    grep -q "$2" "$1.tap" || fail "$1: no '$2' in the TAP"
    grep -q "$3" "$1.tap" || fail "$1: no '$3' in the diagnostics: $(grep -A8 '^not ok' "$1.tap" | head -20)"
    prove -e cat "$1.tap" >"$1.prove" 2>&1
    grep -q "Parse errors" "$1.prove" && fail "$1: prove parse errors"
    [ "$(grep -c '^ok\|^not ok' "$1.tap")" -eq $((2 * N_CASES)) ] || fail "$1: not every case reported"
}
# a launcher that cannot start even the probe world: bad input, nothing run
printf '#!/bin/sh\necho "mpirun: deliberately failing" >&2\nexit 1\n' >"$TMP/broken"
chmod +x "$TMP/broken"
"$D" run --suite comm --np 2 "${SIZES[@]}" --db broken.db --mpirun "$TMP/broken" 2>broken.err >broken.tap
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <broken.err)" -eq 1 ] &&
    grep -q "cannot start a rank world: a one-rank probe exited with status 1: mpirun: deliberately failing" broken.err ||
    fail "broken launcher: exit $rc: $(cat broken.err)"
[ ! -e broken.db ] && [ ! -s broken.tap ] || fail "broken launcher: something was recorded or written"

fake_mpirun exits1 'echo "mpirun: deliberately failing" >&2; exit 1'
expect_failure exits1 "^not ok 1 - dtbench allreduce 1 KiB np=2: completed" "exited with status 1"
grep -q "^ok 2 - dtbench allreduce 1 KiB np=2: results correct # SKIP the comm world did not complete" exits1.tap ||
    fail "exits1: results correct not skipped"

fake_mpirun truncates "\"$REAL_MPIRUN\" \"\$@\" || exit \$?
f=\$OUT/comm-result.txt; truncate -s \$((\$(stat -c %s \"\$f\") / 2)) \"\$f\""
expect_failure truncates "^not ok 1 - dtbench allreduce 1 KiB np=2: completed" "comm result .*truncated"

# the first case (dtbench allreduce 1 KiB) reports 1 wrong element on rank 1
fake_mpirun wrong "\"$REAL_MPIRUN\" \"\$@\" || exit \$?
sed -i '0,/^check \([0-9]*\) 0 -1 -1 -1 0 0\$/s//check \1 1 1 3 17 2.5 -2.5/' \"\$OUT/comm-result.txt\""
expect_failure wrong "^not ok 2 - dtbench allreduce 1 KiB np=2: results correct" "first_element: 17"
grep -A12 "^not ok 2 " wrong.tap | grep -q "expected: 2.5" || fail "wrong: no expected value"
grep -A12 "^not ok 2 " wrong.tap | grep -q "got: -2.5" || fail "wrong: no value got"
[ "$(grep -c '^not ok' wrong.tap)" -eq 1 ] || fail "wrong: more than the one case failed"

[ $failures -eq 0 ] || { echo "comm_suite.sh: $failures failure(s)"; exit 1; }
echo "comm_suite.sh: all passed"
