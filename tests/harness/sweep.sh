#!/bin/sh
# The seed sweep in CI (docs/tolerance.md): the reference DDP over SEEDS
# seeds must fail nothing (every failed case would be a false positive),
# and a broken DDP (zoo-ddp-lastmicro, wrong everywhere) must fail on every
# seed of a short sweep; both summaries must say so, and prove must parse
# the TAP.
# usage: sweep.sh DTBENCH SEEDS [dtbench run options for the reference sweep...]
set -u
DTBENCH=$1 SEEDS=$2
shift 2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-sweep-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
export DTBENCH_DB="$TMP/results.db"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

"$DTBENCH" run --suite ddp --seeds "$SEEDS" "$@" --tap "$TMP/ref.tap" 2>"$TMP/ref.err"
rc=$?
cat "$TMP/ref.err"
if [ $rc -ne 0 ]; then
    fail "ref-ddp sweep: exit $rc, want 0"
    grep -A24 '^not ok' "$TMP/ref.tap" | head -80
fi
clean="0 of [0-9]* cases failed (0.00%; 0 on a tolerance check)"
grep -q "seed sweep of $SEEDS seeds from .*: $clean, seeds with a failed case: 0 of $SEEDS" \
    "$TMP/ref.err" || fail "ref-ddp sweep: no summary line saying 0 cases failed"
prove -e cat "$TMP/ref.tap" >"$TMP/prove" 2>&1 || { cat "$TMP/prove"; fail "prove failed"; }

"$DTBENCH" run --suite ddp --seeds 3 --impl zoo-ddp-lastmicro --np 1 --model mlp-odd \
    --tap "$TMP/zoo.tap" 2>"$TMP/zoo.err"
rc=$?
tail -3 "$TMP/zoo.err"
[ $rc -eq 1 ] || fail "zoo-ddp-lastmicro sweep: exit $rc, want 1"
grep -q "seeds with a failed case: 3 of 3" "$TMP/zoo.err" ||
    fail "zoo-ddp-lastmicro sweep: not caught on every seed"
prove -e cat "$TMP/zoo.tap" >"$TMP/prove" 2>&1
grep -q "Parse errors" "$TMP/prove" && fail "prove: parse errors in the zoo sweep"

[ $failures -eq 0 ] && echo "sweep.sh: all checks passed"
[ $failures -eq 0 ]
