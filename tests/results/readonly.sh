#!/usr/bin/env bash
# Reading never needs to write (docs/results.md): runs, show, compare, gate,
# export and report work on a results database in a read-only folder and on
# a read-only database file, and leave nothing beside it (no -wal, no -shm).
# Root ignores file permissions, so read-only means a read-only bind mount,
# made in a private mount namespace (unshare -m) that dies with the test.
# Exit 77 (skipped) where that is not possible.
# usage: readonly.sh DTBENCH
set -u
D=$1
if [ "${2:-}" != --inside ]; then
    [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1 || {
        echo "readonly.sh: needs root and unshare for a read-only bind mount: skipped"; exit 77; }
    unshare -m true 2>/dev/null || { echo "readonly.sh: unshare -m not permitted: skipped"; exit 77; }
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-readonly-XXXXXX") || exit 1
    trap 'rm -rf "$TMP"' EXIT
    mkdir "$TMP/src" "$TMP/ro" "$TMP/rw" "$TMP/out"
    (cd "$TMP/src" && "$D" run --suite ddp --np 1,2 --model mlp-odd --steps 3 --db r.db \
        --tap r.tap 2>r.err) || { echo "FAIL: recording the run: $(cat "$TMP/src/r.err")"; exit 1; }
    [ ! -e "$TMP/src/r.db-wal" ] || { echo "FAIL: the run left r.db-wal behind"; exit 1; }
    unshare -m bash "$0" "$D" --inside "$TMP"
    exit $?
fi

TMP=$3
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
mount --make-rprivate / 2>/dev/null
mount --bind "$TMP/src" "$TMP/ro" && mount -o remount,ro,bind "$TMP/ro" || {
    echo "readonly.sh: read-only bind mounts are not possible here: skipped"; exit 77; }
touch "$TMP/ro/probe" 2>/dev/null && { echo "FAIL: the bind mount is writable"; exit 1; }
cp "$TMP/src/r.db" "$TMP/rw/f.db"
mount --bind "$TMP/rw/f.db" "$TMP/rw/f.db" && mount -o remount,ro,bind "$TMP/rw/f.db" || {
    echo "readonly.sh: a read-only bind mount of a file is not possible here: skipped"; exit 77; }

# reads DB: every reading command works on it and writes nothing beside it
reads() {
    local db=$1 where=$2 out=$TMP/out
    "$D" runs --db "$db" >"$out/runs.txt" 2>"$out/err" || fail "$where: runs: $(cat "$out/err")"
    grep -Eq '^ +1 .* complete .* ddp +ref-ddp ' "$out/runs.txt" || fail "$where: runs: $(cat "$out/runs.txt")"
    "$D" show 1 --db "$db" >"$out/show.txt" 2>"$out/err" || fail "$where: show: $(cat "$out/err")"
    grep -q "^run 1: complete" "$out/show.txt" || fail "$where: show lacks run 1"
    "$D" show latest --case 0 --db "$db" >/dev/null 2>"$out/err" || fail "$where: show --case: $(cat "$out/err")"
    "$D" compare 1 latest --db "$db" >"$out/cmp.txt" 2>"$out/err" || fail "$where: compare: $(cat "$out/err")"
    grep -q "cases compared" "$out/cmp.txt" || fail "$where: compare says: $(tail -3 "$out/cmp.txt")"
    "$D" gate --base 1 --db "$db" >/dev/null 2>"$out/err" || fail "$where: gate: $(cat "$out/err")"
    rm -f "$out/x.csv"
    "$D" export --format csv --out "$out/x.csv" --db "$db" >/dev/null 2>"$out/err" ||
        fail "$where: export: $(cat "$out/err")"
    [ -s "$out/x.csv" ] || fail "$where: export wrote no CSV"
    rm -rf "$out/rep"
    "$D" report --run 1 --out "$out/rep" --db "$db" >/dev/null 2>"$out/err" ||
        fail "$where: report: $(cat "$out/err")"
    [ -s "$out/rep/report.md" ] || fail "$where: report wrote no report.md"
    [ ! -e "$db-wal" ] && [ ! -e "$db-shm" ] && [ ! -e "$db-journal" ] ||
        fail "$where: a reading command created $(ls "$db"-*)"
}
reads "$TMP/ro/r.db" "read-only folder"
reads "$TMP/rw/f.db" "read-only file"
cmp -s "$TMP/rw/f.db" "$TMP/src/r.db" || fail "the read-only file changed"

# writing to it is bad input: one line naming the file, exit 2
"$D" tag 1 base --db "$TMP/ro/r.db" >/dev/null 2>"$TMP/out/err"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$TMP/out/err")" -eq 1 ] && grep -q "r.db" "$TMP/out/err" ||
    fail "tag on a read-only database: exit $rc: $(cat "$TMP/out/err")"

[ $failures -eq 0 ] && echo "readonly.sh: all checks passed"
[ $failures -eq 0 ]
