#!/usr/bin/env bash
# A disk that fills up (docs/results.md): a run whose database lives on a full
# file system records nothing, says that every result of the run is lost,
# exits non-zero, and loses nothing recorded before. The file system is a
# small tmpfs in a private mount namespace (unshare -m) that dies with the
# test. Exit 77 (skipped) where that is not possible.
# usage: disk_full.sh DTBENCH
set -u
D=$1
if [ "${2:-}" != --inside ]; then
    [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1 || {
        echo "disk_full.sh: needs root and unshare for a tmpfs: skipped"; exit 77; }
    unshare -m true 2>/dev/null || { echo "disk_full.sh: unshare -m not permitted: skipped"; exit 77; }
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-full-XXXXXX") || exit 1
    trap 'rm -rf "$TMP"' EXIT
    unshare -m bash "$0" "$D" --inside "$TMP"
    exit $?
fi

TMP=$3
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
mount --make-rprivate / 2>/dev/null
mkdir "$TMP/fs"
mount -t tmpfs -o size=2m tmpfs "$TMP/fs" || { echo "disk_full.sh: cannot mount a tmpfs: skipped"; exit 77; }
RUN=(run --suite ddp --np 1 --model mlp-odd --steps 2)

# Run 1 records normally; then the file system is filled to the last byte.
"$D" "${RUN[@]}" --db "$TMP/fs/r.db" --tap "$TMP/r1.tap" 2>"$TMP/r1.err" ||
    fail "run 1: $(cat "$TMP/r1.err")"
n1=$(sqlite3 "$TMP/fs/r.db" "SELECT count(*) FROM cases WHERE run_id = 1")
# Leave a little room: enough to begin run 2, not to record its cases (the
# first size that lets run 2 begin; a run refused before its first case is
# also correct, exit 2 with the reason, but tests nothing here).
avail=$(df --output=avail -k "$TMP/fs" | tail -1 | tr -d ' ')
began=0
for left in 64 96 128 192; do
    rm -f "$TMP/fs/fill"
    dd if=/dev/zero of="$TMP/fs/fill" bs=1k count=$((avail - left)) 2>/dev/null
    "$D" "${RUN[@]}" --db "$TMP/fs/r.db" --tap "$TMP/r2.tap" 2>"$TMP/r2.err"
    rc=$?
    grep -q "could not record" "$TMP/r2.err" && { began=1; break; }
done
[ $began -eq 1 ] || fail "no room left made a run begin and fail to record: $(cat "$TMP/r2.err")"
[ $rc -ne 0 ] || fail "a run on a full disk exited 0"
if grep -q "could not record case 0 " "$TMP/r2.err"; then
    grep -q "none of the [0-9]* cases could be recorded in .*: all of run [0-9]*'s results are lost" \
        "$TMP/r2.err" || fail "the run does not say all its results are lost: $(cat "$TMP/r2.err")"
else
    grep -q "recorded incomplete in .*: [0-9]* of [0-9]* cases recorded" "$TMP/r2.err" ||
        fail "the run does not say how many cases were recorded: $(cat "$TMP/r2.err")"
fi
grep -q "all passed" "$TMP/r2.err" && fail "a run whose results were lost says all passed"
grep -q "no check failed, but the results were not all recorded" "$TMP/r2.err" ||
    fail "the summary does not say the results were not recorded"
# Run 1 is intact.
rm -f "$TMP/fs/fill"
[ "$(sqlite3 "$TMP/fs/r.db" "SELECT count(*) FROM cases WHERE run_id = 1")" = "$n1" ] ||
    fail "run 1 lost cases"
"$D" runs --db "$TMP/fs/r.db" | grep -Eq '^ +1 .* complete ' || fail "run 1 is no longer complete"
umount "$TMP/fs"
echo "disk_full.sh: run 2 with $left KiB free: exit $rc: $(grep -m1 'lost\|recorded incomplete' "$TMP/r2.err")"
[ $failures -eq 0 ] && echo "disk_full.sh: all checks passed"
[ $failures -eq 0 ]
