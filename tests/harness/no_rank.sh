#!/bin/sh
# A rank world in which no rank ever started (the launcher fails after
# dtbench's up-front probe passed: a node lost, a launcher that breaks under
# load) fails each case with "no rank started", not with "rank 0 exited
# before finishing", which would blame a rank that never ran.
# usage: no_rank.sh DTBENCH
set -u
DTBENCH=$1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-norank-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
mkdir worlds && export TMPDIR="$TMP/worlds"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
REAL=${DTB_MPIRUN:-$(command -v mpirun)}
# the probe world goes to the real mpirun; every case's world starts nothing
cat >fake-mpirun <<SH
#!/bin/sh
case " \$* " in *" worker-probe "*) exec "$REAL" "\$@" ;; esac
echo "fake-mpirun: cannot reach the nodes" >&2
exit 1
SH
chmod +x fake-mpirun
"$DTBENCH" run --suite ddp --np 1,2 --model mlp-odd --steps 2 --mpirun "$TMP/fake-mpirun" \
    --db r.db --tap out.tap 2>err.txt
rc=$?
[ $rc -eq 1 ] || fail "exit $rc, want 1: $(cat err.txt)"
n=$(grep -c '^not ok [0-9]* - .*: completed$' out.tap)
[ "$n" -ge 2 ] || fail "want failed 'completed' points, got $n"
got=$(grep -c '^  message: "no rank started (mpirun exited with status 1)"' out.tap)
[ "$got" -eq "$n" ] || fail "want $n 'no rank started' messages, got $got: $(grep '^  message' out.tap | sort | uniq -c)"
grep -q 'exited before finishing' out.tap && fail "a message blames a rank that never started"
[ $failures -eq 0 ] && echo "no_rank.sh: all checks passed"
[ $failures -eq 0 ]
