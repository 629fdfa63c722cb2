#!/bin/bash
# Nothing outlives a run (issue #17): a `dtbench run` whose rank hangs is
# ended by SIGKILL, SIGHUP and SIGTERM in turn; each time, within a few
# seconds, no mpirun and no rank of it is left, and (for the signals dtbench
# can catch) its TMPDIR holds no case folder and no Open MPI session folder,
# and /dev/shm none of the world's shared-memory segments.
# Prints the time from the signal to a clean process table.
# usage: containment.sh DTBENCH HANG_PLUGIN
set -u
DTBENCH=$1 HANG=$2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-contain-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# Processes of this test's runs: their command lines name its TMPDIR's
# database or the plugin under its own copy.
cp "$HANG" "$TMP/hang-contain.so"
PLUGIN="$TMP/hang-contain.so"
procs() { pgrep -f "$PLUGIN" | grep -vx "$$" | wc -l; }

for sig in KILL HUP TERM; do
    root="$TMP/root-$sig"
    mkdir "$root"
    TMPDIR="$root" "$DTBENCH" run --suite ddp --impl "$PLUGIN" --np 2 --model mlp-odd \
        --steps 2 --timeout 300 --db "$TMP/db-$sig" --tap "$TMP/tap-$sig" 2>"$TMP/err-$sig" &
    run=$!
    # Wait for both ranks of the first world (at most 60 s).
    for _ in $(seq 600); do
        [ "$(pgrep -f "worker --impl $PLUGIN" | wc -l)" -ge 2 ] && break
        sleep 0.1
    done
    [ "$(pgrep -f "worker --impl $PLUGIN" | wc -l)" -ge 2 ] || fail "$sig: the ranks never started"
    # Open MPI's job id of the world, from a rank's environment: its
    # shared-memory segments are /dev/shm/vader_segment.<host>.<job hex>.<n>.
    rank=$(pgrep -f "^[^ ]*dtbench worker --impl $PLUGIN" | head -1)
    job=$(tr '\0' '\n' <"/proc/$rank/environ" 2>/dev/null | sed -n 's/^OMPI_MCA_ess_base_jobid=//p')
    start=$(date +%s.%N)
    kill -"$sig" "$run"
    wait "$run"
    rc=$?
    # Everything gone within 10 s.
    for _ in $(seq 100); do
        [ "$(procs)" -eq 0 ] && break
        sleep 0.1
    done
    took=$(echo "$(date +%s.%N) - $start" | bc)
    left=$(procs)
    [ "$left" -eq 0 ] || { fail "$sig: $left process(es) left: $(pgrep -af "$PLUGIN")"; pkill -9 -f "$PLUGIN"; }
    case $sig in
        KILL) [ $rc -eq 137 ] || fail "KILL: exit $rc, want 137" ;;
        HUP) [ $rc -eq 129 ] || fail "HUP: exit $rc, want 129"
             grep -q "interrupted by SIGHUP" "$TMP/err-$sig" || fail "HUP: no message" ;;
        TERM) [ $rc -eq 143 ] || fail "TERM: exit $rc, want 143"
              grep -q "interrupted by SIGTERM" "$TMP/err-$sig" || fail "TERM: no message" ;;
    esac
    # dtbench cleans its TMPDIR when it can act on the signal, and reports
    # no test point for the case the signal cut short (the first one).
    if [ "$sig" != KILL ]; then
        points=$(grep -c '^\(not \)\?ok ' "$TMP/tap-$sig")
        [ "$points" -eq 0 ] || fail "$sig: $points TAP point(s) for a case the signal cut short: $(grep -m1 'ok ' "$TMP/tap-$sig")"
        stale=$(ls -A "$root")
        [ -z "$stale" ] || fail "$sig: left in TMPDIR: $stale"
        [ -n "$job" ] || fail "$sig: no Open MPI job id in rank $rank's environment"
        if [ -n "$job" ]; then
            shm=$(ls /dev/shm/vader_segment.*."$(printf %x "$job")".* 2>/dev/null | wc -l)
            [ "$shm" -eq 0 ] || fail "$sig: $shm shared-memory segment(s) of the world left in /dev/shm"
        fi
    fi
    echo "containment.sh: SIG$sig: exit $rc, no process left after ${took} s"
done

[ $failures -eq 0 ] && echo "containment.sh: all checks passed"
[ $failures -eq 0 ]
