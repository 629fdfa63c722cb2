#!/bin/sh
# One Python implementation through the bridge on one suite, and what the
# suite must say of it (docs/python.md, the verdict table):
#   peer.sh DTBENCH IMPL SUITE EXIT FAILING [PATTERN] -- [dtbench run options]
# EXIT: the exit status dtbench must give (0 pass, 1 a check failed).
# FAILING: the only checks allowed to fail, '|'-separated ("" for none);
#   with EXIT 1 every one of them must fail at least once.
# PATTERN: an extended regex the TAP must contain (a diagnostic that names
#   the cause), or "".
# Needs the peers' venv (ci/install-peers.sh): without it the test is
# skipped (exit 77), unless DTBENCH_REQUIRE_PEERS=1 (CI), where it fails.
set -u
DTBENCH=$1 IMPL=$2 SUITE=$3 EXIT=$4 FAILING=$5 PATTERN=$6
shift 6
[ "${1:-}" = "--" ] && shift
venv=${DTBENCH_PYTHON_VENV:-/opt/dtbench-peers}
if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    if [ "${DTBENCH_REQUIRE_PEERS:-0}" = 1 ]; then
        echo "FAIL: no torch in $venv (run ci/install-peers.sh)" >&2
        exit 1
    fi
    echo "skipped: no torch in $venv (ci/install-peers.sh installs it)"
    exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-peer-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
export DTBENCH_DB="$TMP/results.db"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

"$DTBENCH" run --suite "$SUITE" --impl "$IMPL" "$@" --tap "$TMP/out.tap" 2>"$TMP/err"
rc=$?
tail -4 "$TMP/err"
[ "$rc" -eq "$EXIT" ] || fail "$IMPL on $SUITE: exit $rc, want $EXIT"
# The checks that failed: "not ok N - <case>: <check>".
sed -n 's/^not ok [0-9]* - [^:]*: //p' "$TMP/out.tap" | sort -u >"$TMP/failed"
if [ -n "$FAILING" ]; then
    grep -Evx "$FAILING" "$TMP/failed" >"$TMP/unexpected"
else
    cp "$TMP/failed" "$TMP/unexpected"
fi
if [ -s "$TMP/unexpected" ]; then
    fail "$IMPL on $SUITE: unexpected failing checks: $(tr '\n' ';' <"$TMP/unexpected")"
    grep -A12 '^not ok' "$TMP/out.tap" | head -60
fi
if [ "$EXIT" -eq 1 ] && [ -n "$FAILING" ]; then
    echo "$FAILING" | tr '|' '\n' | while read -r check; do
        grep -qx "$check" "$TMP/failed" || echo "$check"
    done >"$TMP/missing"
    [ -s "$TMP/missing" ] && fail "$IMPL on $SUITE: never failed: $(tr '\n' ';' <"$TMP/missing")"
fi
if [ -n "$PATTERN" ] && ! grep -Eq "$PATTERN" "$TMP/out.tap"; then
    fail "$IMPL on $SUITE: no diagnostic matching /$PATTERN/"
fi
prove -e cat "$TMP/out.tap" >"$TMP/prove" 2>&1
grep -q "Parse errors" "$TMP/prove" && fail "prove: parse errors"
[ $failures -eq 0 ] && echo "peer.sh: $IMPL on $SUITE as expected"
[ $failures -eq 0 ]
