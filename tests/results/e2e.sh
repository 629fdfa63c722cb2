#!/usr/bin/env bash
# End to end over the results database: `dtbench run` records (default file,
# --db, DTBENCH_DB), then runs/show/compare/gate/tag/export; a run killed by
# SIGTERM, SIGHUP or SIGKILL is incomplete with its finished cases kept; bad input
# is one line on stderr, exit 2, and leaves every existing file as it was.
# usage: e2e.sh DTBENCH
set -u
D=$1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-results-e2e-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
unset DTBENCH_DB DTBENCH_DB_TIMEOUT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
have_sqlite3=0
command -v sqlite3 >/dev/null 2>&1 && have_sqlite3=1
SMALL=(--suite ddp --np 1,2 --model mlp-odd --steps 3)

# expect_bad STDERR_SUBSTRING ARGS...: exit 2, one line on stderr naming it
expect_bad() {
    local want=$1; shift
    "$D" "$@" >out.txt 2>err.txt; local rc=$?
    [ $rc -eq 2 ] || fail "dtbench $*: exit $rc, want 2"
    [ "$(wc -l <err.txt)" -eq 1 ] || fail "dtbench $*: want one stderr line: $(cat err.txt)"
    grep -qF -- "$want" err.txt || fail "dtbench $*: stderr '$(cat err.txt)' lacks '$want'"
    grep -q '^dtbench: ' err.txt || fail "dtbench $*: stderr does not start with 'dtbench: '"
}

# ---- recording: the default file in the working directory --------------------------
mkdir sub
(cd sub && "$D" run "${SMALL[@]}" --tap run1.tap 2>../run1.err)
rc=$?
[ $rc -eq 0 ] || fail "run 1 (ref-ddp): exit $rc: $(cat run1.err)"
DB=$TMP/sub/dtbench-results.db
[ -f "$DB" ] || fail "run without --db did not create ./dtbench-results.db"
grep -q "recorded run 1 ([0-9]* cases, .* ms per case) in dtbench-results.db" run1.err ||
    fail "run 1 does not say where it recorded: $(cat run1.err)"
cases=$(grep -c ': completed$' sub/run1.tap)

# DTBENCH_DB names the database; a zoo plugin fails checks that passed in run 1.
DTBENCH_DB=$DB "$D" run "${SMALL[@]}" --impl zoo-ddp-sum --tap run2.tap 2>run2.err
rc=$?
[ $rc -eq 1 ] || fail "run 2 (zoo-ddp-sum): exit $rc, want 1: $(cat run2.err)"
grep -q "recorded run 2" run2.err || fail "run 2 not recorded in \$DTBENCH_DB: $(cat run2.err)"

# ---- reading -------------------------------------------------------------------------
"$D" runs --db "$DB" >runs.txt || fail "runs: exit $?"
grep -Eq '^ +1 .* complete .* ddp +ref-ddp +cpu +'"$cases"' ' runs.txt ||
    fail "runs lacks run 1: $(cat runs.txt)"
grep -Eq '^ +2 .* complete .* zoo-ddp-sum ' runs.txt || fail "runs lacks run 2: $(cat runs.txt)"
"$D" show 1 --db "$DB" >show.txt || fail "show 1: exit $?"
for want in "run 1: complete" "implementation ref-ddp" "command: " "case 0: ddp mlp-odd" \
            "ok   completed" "step_seconds" "comm_bytes.allreduce" "mem_peak.total"; do
    grep -qF -- "$want" show.txt || fail "show 1 lacks '$want'"
done
DTBENCH_DB=$DB "$D" show latest >show2.txt || fail "show latest: exit $?"
grep -q "^run 2: complete" show2.txt || fail "show latest is not run 2"
grep -q "FAIL " show2.txt || fail "show 2 shows no failed check"

"$D" compare 1 2 --db "$DB" >compare.txt || fail "compare 1 2: exit $?"
for want in "BASE run 1" "HEAD run 2" "step_seconds" "x1." "(REGRESSED)" "summary: $cases cases compared"; do
    grep -qF -- "$want" compare.txt || fail "compare lacks '$want': $(head -30 compare.txt)"
done

grep -q "different machines" compare.txt && fail "compare warns about machines on one machine"

# ---- tag and gate ----------------------------------------------------------------------
"$D" tag 1 baseline --db "$DB" >tag.txt || fail "tag: exit $?"
grep -q "tagged run 1 as baseline" tag.txt || fail "tag says: $(cat tag.txt)"
"$D" runs --db "$DB" | grep -Eq '^ +1 .* baseline$' || fail "runs does not show the tag"
"$D" gate --base baseline --head 2 --db "$DB" >gate.txt
rc=$?
[ $rc -eq 1 ] || fail "gate zoo vs baseline: exit $rc, want 1: $(cat gate.txt)"
grep -q "^REGRESSION check: .*passed in BASE run 1 and fails in HEAD run 2" gate.txt ||
    fail "gate does not say which check regressed: $(cat gate.txt)"
grep -q "^gate: FAIL" gate.txt || fail "gate has no FAIL verdict line"
# Runs from another machine: compare warns, gate refuses unless asked.
cp "$DB" cross.db
sqlite3 cross.db "UPDATE runs SET host = 'other-host', cpu_cores = 64 WHERE id = 2" ||
    fail "cannot edit cross.db"
"$D" compare 1 2 --db cross.db >cross-compare.txt 2>&1 || fail "compare across machines failed"
grep -q "^WARNING: BASE and HEAD ran on different machines (host '.*' vs 'other-host', cores [0-9]* vs 64)" \
    cross-compare.txt || fail "compare does not warn about different machines: $(head -4 cross-compare.txt)"
"$D" gate --base 1 --head 2 --db cross.db >cross-gate.txt 2>cross-gate.err
rc=$?
[ $rc -eq 2 ] || fail "gate across machines: exit $rc, want 2"
grep -q "ran on different machines .*give --cross-machine" cross-gate.err ||
    fail "gate does not name the machines: $(cat cross-gate.err)"
[ "$(wc -l <cross-gate.err)" -eq 1 ] || fail "gate across machines: more than one line"
"$D" gate --base 1 --head 2 --db cross.db --cross-machine >cross-gate.txt 2>cross-gate.err
rc=$?
[ $rc -eq 1 ] || fail "gate --cross-machine: exit $rc, want 1 (the zoo run regressed)"
grep -q "WARNING: BASE and HEAD ran on different machines" cross-gate.err ||
    fail "gate --cross-machine does not warn"
"$D" gate --base baseline --head baseline --db "$DB" >gate0.txt
rc=$?
[ $rc -eq 0 ] || fail "gate of a run against itself: exit $rc: $(cat gate0.txt)"
grep -q "^gate: PASS" gate0.txt || fail "gate has no PASS verdict line"

# ---- export -----------------------------------------------------------------------------
"$D" export --format csv --out all.csv --db "$DB" >export.txt || fail "export: exit $?"
grep -q "read back and verified" export.txt || fail "export says: $(cat export.txt)"
head -n 1 all.csv | grep -q '^"run_id","run_started_at",' || fail "CSV header: $(head -n 1 all.csv)"
"$D" export --format csv --run baseline --out one.csv --db "$DB" || fail "export --run: exit $?"
if [ $have_sqlite3 -eq 1 ]; then
    # sqlite3's own CSV reader takes the file back: as many rows as samples
    want=$(sqlite3 "$DB" "SELECT count(*) FROM samples")
    got=$(sqlite3 :memory: ".import --csv all.csv t" "SELECT count(*) FROM t")
    [ "$got" = "$want" ] || fail "sqlite3 read $got CSV rows, the database has $want samples"
    # every sample of run 1, matched by case, metric and sequence number (the
    # unit test checks the 17-digit values read back bit for bit with strtod)
    differ=$(sqlite3 :memory: ".import --csv one.csv t" "ATTACH '$DB' AS r" \
        "SELECT count(*) FROM t LEFT JOIN (SELECT c.case_index, m.name, s.seq, s.value
           FROM r.samples s JOIN r.metrics m ON m.id = s.metric_id
           JOIN r.cases c ON c.id = m.case_id WHERE c.run_id = 1) d
         ON d.case_index = CAST(t.case_index AS INTEGER) AND d.name = t.metric
            AND d.seq = CAST(t.seq AS INTEGER)
         WHERE d.value IS NULL OR abs(d.value - CAST(t.value AS REAL)) > 1e-15 * abs(d.value)")
    [ "$differ" = 0 ] || fail "$differ values of run 1 differ after the CSV round trip"
fi

# ---- bad input: one line, exit 2, nothing altered -------------------------------------
expect_bad "unknown run 99" show 99 --db "$DB"
expect_bad "unknown run or tag 'nosuch'" gate --base nosuch --db "$DB"
expect_bad "unknown run or tag 'nosuch'" compare 1 nosuch --db "$DB"
expect_bad "unknown run 42" tag 42 other --db "$DB"
expect_bad "is not a tag name" tag 1 "bad name" --db "$DB"
expect_bad "needs BASE and HEAD" compare 1 --db "$DB"
expect_bad "--base REF is required" gate --db "$DB"
expect_bad "--format csv is required" export --format json --out x.json --db "$DB"
expect_bad "cannot write $TMP/no/such/dir/x.csv" export --format csv --out "$TMP/no/such/dir/x.csv" --db "$DB"
expect_bad "not a regular file" export --format csv --out "$TMP/sub" --db "$DB"
[ ! -e "$TMP/no" ] || fail "export created a directory"
expect_bad "no results database" runs --db missing.db
[ ! -e missing.db ] || fail "runs created missing.db"
printf 'this is a text file, not a database\n' >notes.txt
cp notes.txt notes.orig
expect_bad "notes.txt is not a SQLite database" runs --db notes.txt
expect_bad "notes.txt is not a SQLite database" tag 1 x --db notes.txt
expect_bad "notes.txt is not a SQLite database" export --format csv --out n.csv --db notes.txt
expect_bad "notes.txt is not a SQLite database" run "${SMALL[@]}" --db notes.txt
cmp -s notes.txt notes.orig || fail "a command altered notes.txt"
[ ! -e notes.txt-wal ] && [ ! -e notes.txt-journal ] || fail "a command created a journal next to notes.txt"
expect_bad "unexpected argument 'extra'" show 1 extra --db "$DB"
if [ $have_sqlite3 -eq 1 ]; then
    cp "$DB" newer.db
    sqlite3 newer.db "PRAGMA user_version = 99"
    cp newer.db newer.orig
    expect_bad "written by a newer dtbench" runs --db newer.db
    expect_bad "written by a newer dtbench" run "${SMALL[@]}" --db newer.db
    cmp -s newer.db newer.orig || fail "a command altered newer.db"
    # locked beyond the timeout: another process holds the write lock
    (echo "BEGIN EXCLUSIVE;"; sleep 6; echo "ROLLBACK;") | sqlite3 "$DB" &
    holder=$!
    sleep 1
    before=$(sqlite3 "$DB" "SELECT count(*) FROM tags")
    DTBENCH_DB_TIMEOUT=1 expect_bad "is locked by another process" tag 1 other --db "$DB"
    DTBENCH_DB_TIMEOUT=1 expect_bad "is locked by another process" run "${SMALL[@]}" --db "$DB"
    wait $holder
    [ "$(sqlite3 "$DB" "SELECT count(*) FROM tags")" = "$before" ] || fail "tag wrote through a lock"
    [ "$(sqlite3 "$DB" "SELECT count(*) FROM runs")" = 2 ] || fail "run recorded through a lock"
fi

# ---- interrupted runs keep their finished cases -------------------------------------------
# wait_cases DB N: until DB holds at least N cases (30 s at most)
wait_cases() {
    for _ in $(seq 300); do
        n=$(sqlite3 "$1" "SELECT count(*) FROM cases" 2>/dev/null || echo 0)
        [ "${n:-0}" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
if [ $have_sqlite3 -eq 1 ]; then
    "$D" run "${SMALL[@]}" --db term.db >/dev/null 2>term.err &
    pid=$!
    wait_cases term.db 2 || fail "SIGTERM run: no case recorded in 30 s"
    kill -TERM $pid
    wait $pid
    rc=$?
    [ $rc -eq 143 ] || fail "SIGTERM run: exit $rc, want 143 (killed by SIGTERM): $(cat term.err)"
    grep -q "interrupted by SIGTERM: run 1 marked incomplete" term.err ||
        fail "SIGTERM run says: $(cat term.err)"
    [ "$(sqlite3 term.db "SELECT status FROM runs WHERE id = 1")" = incomplete ] ||
        fail "SIGTERM run not marked incomplete"
    kept=$(sqlite3 term.db "SELECT count(*) FROM cases")
    [ "$kept" -ge 2 ] && [ "$kept" -lt "$cases" ] || fail "SIGTERM run kept $kept cases"
    [ "$(sqlite3 term.db "SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM checks k WHERE k.case_id = c.id)")" = 0 ] ||
        fail "SIGTERM run left a case without its checks"

    # SIGHUP (the terminal closed) is handled as SIGTERM: marked, kept, said
    "$D" run "${SMALL[@]}" --db hup.db >/dev/null 2>hup.err &
    pid=$!
    wait_cases hup.db 1 || fail "SIGHUP run: no case recorded in 30 s"
    kill -HUP $pid
    wait $pid
    rc=$?
    [ $rc -eq 129 ] || fail "SIGHUP run: exit $rc, want 129 (killed by SIGHUP): $(cat hup.err)"
    [ "$(wc -l <hup.err)" -eq 1 ] && grep -q "^dtbench: interrupted by SIGHUP: run 1 marked incomplete, its [0-9]* finished cases\? kept in hup.db$" hup.err ||
        fail "SIGHUP run says: $(cat hup.err)"
    [ "$(sqlite3 hup.db "SELECT status FROM runs WHERE id = 1")" = incomplete ] ||
        fail "SIGHUP run not marked incomplete"

    "$D" run "${SMALL[@]}" --db kill.db >/dev/null 2>&1 &
    pid=$!
    wait_cases kill.db 1 || fail "SIGKILL run: no case recorded in 30 s"
    kill -KILL $pid
    wait $pid 2>/dev/null
    "$D" runs --db kill.db | grep -Eq '^ +1 .* incomplete ' ||
        fail "a run killed by SIGKILL does not read as incomplete: $("$D" runs --db kill.db)"
    expect_bad "is incomplete, not complete" gate --base 1 --head 1 --db kill.db
    # Its pid reused by a process that started after the run (by more than
    # the 2 s slack for clock granularity): still dead.
    sleep 3
    sleep 60 &
    other=$!
    sqlite3 kill.db "UPDATE runs SET status = 'running', pid = $other WHERE id = 1" ||
        fail "cannot edit kill.db"
    "$D" runs --db kill.db | grep -Eq '^ +1 .* incomplete ' ||
        fail "a running run whose pid now belongs to a later process does not read as incomplete"
    kill $other 2>/dev/null
fi

[ $failures -eq 0 ] && echo "e2e.sh: all checks passed"
[ $failures -eq 0 ]
