#!/bin/sh
# The Python bridge refuses broken modules in one line (exit 2) and fails a
# case whose module raises, with the exception in the message and the
# traceback in the YAML (docs/python.md). Needs no torch: the modules use
# NumPy only (the peers' venv's, else Debian's python3-numpy).
# usage: bridge_errors.sh DTBENCH MODULES_DIR
set -u
DTBENCH=$1 MODULES=$2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-pyerr-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
export DTBENCH_DB="$TMP/results.db"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
run() { "$DTBENCH" run --suite ddp --np 1 --model mlp-odd --steps 2 "$@"; }

# refused: exit 2, one line that names the problem
refused() { # refused IMPL PATTERN
    run --impl "$1" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ $rc -eq 2 ] || fail "$1: exit $rc, want 2"
    [ "$(wc -l <"$TMP/err")" -eq 1 ] || { fail "$1: not one line:"; cat "$TMP/err" >&2; }
    grep -Eq "$2" "$TMP/err" || fail "$1: no /$2/ in: $(cat "$TMP/err")"
}
refused "$MODULES/no_create.py" "no_create.py: AttributeError: the module lacks function create"
refused "$MODULES/bad_caps.py" "unknown capability 'zero4'"
refused "$MODULES/syntax_error.py" "SyntaxError.*syntax_error.py, line 5"
refused "$TMP/absent.py" "plugin .*absent.py does not exist"
refused "py:absent" "unknown Python implementation 'py:absent' \(no .*python/peers/absent.py"
refused "py:" "names no Python implementation"

# a module that raises: its cases fail, with the exception and the traceback
cp "$MODULES/raises.py" "$TMP/raises.py"
cp "$MODULES/raises.py" "$TMP/raises_host.py"
cp "$MODULES/raises.py" "$TMP/raises_facts.py"
failed_with() { # failed_with MODULE PATTERN...
    m=$1
    shift
    run --impl "$TMP/$m" --tap "$TMP/$m.tap" >/dev/null 2>"$TMP/err"
    rc=$?
    [ $rc -eq 1 ] || { fail "$m: exit $rc, want 1"; tail -3 "$TMP/err" >&2; }
    for p in "$@"; do
        grep -Eq "$p" "$TMP/$m.tap" || fail "$m: no /$p/ in its TAP"
    done
}
failed_with raises.py \
    'message: "rank 0 failed: train_step\(2\) failed: Python train_step: ValueError: deliberate failure at step 2' \
    'Traceback \(most recent call last\)' 'raises.py", line [0-9]+, in train_step'
failed_with raises_host.py \
    'Python create: ValueError: out holds 8 bytes, [0-9]+ needed'
failed_with raises_facts.py \
    'Python get_facts: TypeError: get_facts returned dict, not dtbench.Facts'

[ $failures -eq 0 ] && echo "bridge_errors.sh: all checks passed"
[ $failures -eq 0 ]
