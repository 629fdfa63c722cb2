#!/bin/sh
# A whole suite against one implementation: the exit status wanted (0 for a
# reference implementation, 1 for a zoo plugin that must be caught), and TAP
# that prove parses (and passes when everything passed).
# usage: suite_run.sh DTBENCH SUITE IMPL WANT_STATUS
set -u
DTBENCH=$1 SUITE=$2 IMPL=$3 WANT=$4
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-suite-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
"$DTBENCH" run --suite "$SUITE" --impl "$IMPL" --tap "$TMP/out.tap"
rc=$?
grep -B1 -A14 '^not ok' "$TMP/out.tap" | head -200
[ $rc -eq "$WANT" ] || { echo "FAIL: exit status $rc, want $WANT"; exit 1; }
prove -e cat "$TMP/out.tap" >"$TMP/prove" 2>&1; prc=$?
if grep -q "Parse errors" "$TMP/prove"; then cat "$TMP/prove"; echo "FAIL: parse errors"; exit 1; fi
if [ "$WANT" -eq 0 ] && [ $prc -ne 0 ]; then cat "$TMP/prove"; echo "FAIL: prove failed"; exit 1; fi
echo "suite_run.sh: $IMPL on $SUITE: exit $rc as wanted"
