#!/bin/sh
# A plugin that crashes, hangs or exits fails each of its own cases with the
# reason, and the run goes on to the end: exit status 1, TAP that prove
# parses, one "not ok ... completed" per case naming the reason, the plan
# covering every case, and no rank process left behind. The fault plugins
# are fp32 only, so each bf16-mixed case is one skipped "completed" point
# naming the missing capability (and never launched).
# With NP2_REASON, every np=2 case's reason also says that (which rank).
# usage: fault.sh DTBENCH PLUGIN EXPECTED_REASON [NP2_REASON]
set -u
DTBENCH=$1 PLUGIN=$2 REASON=$3 NP2_REASON=${4:-}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-fault-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# The hang plugin is ended by the world timeout, short to keep the test fast;
# the others end on their own, and a longer limit keeps mpirun's teardown
# of a world whose rank exited (slow under ASan on a loaded machine) from
# being mistaken for a hang.
case $(basename "$PLUGIN" .so) in
    hang | slow) LIMIT=4 ;;
    *) LIMIT=30 ;;
esac
start=$(date +%s)
"$DTBENCH" run --suite ddp --impl "$PLUGIN" --np 1,2 --model mlp-odd --steps 2 --timeout $LIMIT \
    --tap "$TMP/out.tap" 2>"$TMP/err"
rc=$?
end=$(date +%s)
cat "$TMP/out.tap"
cat "$TMP/err" >&2
[ $rc -eq 1 ] || fail "exit status $rc, want 1"
# Every case (2 world sizes x the suite's recipes) has only its "completed"
# point, failed.
n=$(grep -c '^not ok [0-9]* - .*: completed$' "$TMP/out.tap")
[ "$n" -ge 4 ] || fail "want at least 4 'not ok ... completed' points, got $n"
grep -q '^not ok [0-9]* - .* np=1 .*: completed$' "$TMP/out.tap" || fail "no np=1 case"
grep -q '^not ok [0-9]* - .* np=2 .*: completed$' "$TMP/out.tap" || fail "no np=2 case"
s=$(grep -c "^ok [0-9]* - .* bf16 np=.*: completed # SKIP .* lacks capability bf16-mixed$" \
    "$TMP/out.tap")
# Every bf16-mixed case is skipped, every fp32 one (the matrix's and the
# uneven-micro edge case's at np=2) failed.
[ "$s" -ge 2 ] || fail "want skipped bf16-mixed cases, got $s"
[ "$(grep -c '^[a-z ]*ok [0-9]* - .* bf16 np=' "$TMP/out.tap")" -eq "$s" ] ||
    fail "a bf16-mixed case was not skipped"
[ "$(grep -c '^[a-z ]*ok [0-9]* - .* fp32 np=' "$TMP/out.tap")" -eq "$n" ] ||
    fail "an fp32 case did not fail on completed"
[ "$(grep -c '^ok ' "$TMP/out.tap")" -eq "$s" ] || fail "a point passed"
[ "$(grep -c "^  message: \".*$REASON" "$TMP/out.tap")" -eq "$n" ] ||
    fail "want $n messages naming '$REASON'"
[ "$(grep -c '^  reproduce: "' "$TMP/out.tap")" -eq "$n" ] || fail "want $n reproduce lines"
if [ -n "$NP2_REASON" ]; then
    n2=$(grep -c '^not ok [0-9]* - .* np=2 .*: completed$' "$TMP/out.tap")
    got=$(grep -A3 '^not ok [0-9]* - .* np=2 .*: completed$' "$TMP/out.tap" |
          grep -cF -- "$NP2_REASON")
    [ "$got" -eq "$n2" ] || fail "want $n2 np=2 messages naming '$NP2_REASON', got $got"
fi
t=$((n + s))
[ "$(tail -n 1 "$TMP/out.tap")" = "1..$t" ] || fail "the plan does not close the stream with 1..$t"
grep -q "$t cases, $t test points: 0 passed, $n failed, $s skipped" "$TMP/err" ||
    fail "summary missing"
prove -e cat "$TMP/out.tap" >"$TMP/prove" 2>&1
grep -q "Parse errors" "$TMP/prove" && fail "prove: $(cat "$TMP/prove")"
grep -q "Tests: $t Failed: $n" "$TMP/prove" || fail "prove did not count $n failures: $(cat "$TMP/prove")"
pgrep -f "worker --impl $PLUGIN" >/dev/null && fail "rank processes of $PLUGIN still running"
# Whatever bytes the plugin wrote, every YAML block is valid UTF-8 and YAML.
/usr/bin/python3 "$(dirname "$0")/tap_yaml.py" "$TMP/out.tap" >/dev/null ||
    fail "a YAML block of the TAP is not valid YAML"
echo "fault.sh: $(basename "$PLUGIN") took $((end - start)) s"
[ $failures -eq 0 ] && echo "fault.sh: all checks passed"
[ $failures -eq 0 ]
