#!/bin/sh
# Each rank world runs with its case folder as TMPDIR (harness/world/world.c),
# so Open MPI's session folder and shared-memory files live there: two runs
# sharing a TMPDIR never race to create the same session folder, and nothing
# is left in TMPDIR afterwards. A wrapper mpirun records the TMPDIR it got.
# usage: world_tmpdir.sh DTBENCH
set -u
DTBENCH=$1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-tmpdir-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

REAL=$(command -v mpirun) || { echo "world_tmpdir.sh: no mpirun in PATH" >&2; exit 1; }
mkdir "$TMP/root"
cat >"$TMP/mpirun" <<SCRIPT
#!/bin/sh
echo "\$TMPDIR" >>"$TMP/seen"
exec "$REAL" "\$@"
SCRIPT
chmod +x "$TMP/mpirun"

# Two runs at once over the same TMPDIR: both pass.
for k in 1 2; do
    TMPDIR="$TMP/root" "$DTBENCH" run --suite ddp --np 2 --model mlp-odd --steps 2 \
        --mpirun "$TMP/mpirun" --db "$TMP/db$k" --tap "$TMP/tap$k" 2>"$TMP/err$k" &
done
wait
for k in 1 2; do
    grep -q "dtbench: all passed" "$TMP/err$k" || fail "run $k: $(tail -3 "$TMP/err$k")"
done

[ -s "$TMP/seen" ] || fail "the wrapper mpirun never ran"
# Every world got a case folder of its own as TMPDIR.
bad=$(grep -cv "^$TMP/root/dtbench-[A-Za-z0-9]\{6\}\$" "$TMP/seen")
[ "$bad" -eq 0 ] || fail "$bad world(s) did not get their case folder as TMPDIR: $(head -3 "$TMP/seen")"
dups=$(sort "$TMP/seen" | uniq -d | wc -l)
[ "$dups" -eq 0 ] || fail "$dups case folder(s) served two worlds"
# Nothing left behind: no case folder, no Open MPI session folder.
left=$(ls -A "$TMP/root")
[ -z "$left" ] || fail "left in TMPDIR: $left"

[ $failures -eq 0 ] && echo "world_tmpdir.sh: $(wc -l <"$TMP/seen") worlds, each in its own TMPDIR; nothing left"
[ $failures -eq 0 ]
