#!/bin/sh
# dtbench's command line: help on every command, `list`, and bad input
# (exactly one line on stderr naming the problem, exit status 2).
# usage: cli.sh DTBENCH BAD_PLUGIN_DIR VALID_PLUGIN
set -u
DTBENCH=$1 BAD=$2 GOOD=$3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-cli-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect STATUS STDOUT_SUBSTRING -- ARGS...
expect_ok() {
    want=$1; shift
    "$DTBENCH" "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?
    [ $rc -eq 0 ] || fail "dtbench $*: exit $rc, want 0: $(cat "$TMP/err")"
    grep -qF -- "$want" "$TMP/out" || fail "dtbench $*: stdout lacks '$want'"
}

# expect_bad STDERR_SUBSTRING ARGS...: exit 2, one stderr line, no stdout
expect_bad() {
    want=$1; shift
    "$DTBENCH" "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?
    [ $rc -eq 2 ] || fail "dtbench $*: exit $rc, want 2"
    lines=$(wc -l <"$TMP/err")
    [ "$lines" -eq 1 ] || fail "dtbench $*: $lines lines on stderr, want 1: $(cat "$TMP/err")"
    grep -qF -- "$want" "$TMP/err" || fail "dtbench $*: stderr '$(cat "$TMP/err")' lacks '$want'"
    grep -q '^dtbench: ' "$TMP/err" || fail "dtbench $*: stderr does not start with 'dtbench: '"
    [ ! -s "$TMP/out" ] || fail "dtbench $*: wrote to stdout"
}

expect_ok "usage: dtbench COMMAND" --help
expect_ok "usage: dtbench COMMAND" help
expect_ok "usage: dtbench run --suite NAME" run --help
expect_ok "usage: dtbench run --suite NAME" help run
expect_ok "usage: dtbench list" list --help
expect_ok "usage: dtbench list" help list
expect_ok "usage: dtbench worker" worker --help
expect_ok "usage: dtbench plugin-check PLUGIN" plugin-check --help
expect_ok "usage: dtbench plugin-check PLUGIN" help plugin-check
expect_ok "plugin-check" --help
expect_ok "--suite NAME   instead, every parameter of one suite" list --help
expect_ok "usage: dtbench show REF [--case N|KEY] [--db FILE]" show --help
expect_ok "usage: dtbench bench-step" bench-step --help
expect_ok "usage: dtbench bench-step" help bench-step
expect_ok "mlp-odd" list
expect_ok "ddp" list

"$DTBENCH" >/dev/null 2>&1; [ $? -eq 2 ] || fail "dtbench without a command: want exit 2"
expect_bad "unknown command 'bogus'" bogus
expect_bad "run: unknown option '--bogus'" run --suite ddp --bogus
expect_bad "--suite NAME is required" run
expect_bad "unknown suite 'nosuch'" run --suite nosuch
expect_bad "unknown model 'nosuch'" run --suite ddp --model nosuch
expect_bad "--np: '0' is not a list of rank counts (1..64)" run --suite ddp --np 0
expect_bad "--np: '2,x' is not a list of rank counts (1..64)" run --suite ddp --np 2,x
expect_bad "--np: '-1' is not a list of rank counts (1..64)" run --suite ddp --np -1
expect_bad "--np: '65' is not a list of rank counts (1..64)" run --suite ddp --np 65
expect_bad "--steps: 0 is out of range" run --suite ddp --steps 0
expect_bad "--timeout: 'abc' is not a number" run --suite ddp --timeout abc
expect_bad "unknown implementation 'nosuch'" run --suite ddp --impl nosuch
expect_bad "plugin /nonexistent/impl.so does not exist" run --suite ddp --impl /nonexistent/impl.so
expect_bad "x.so is not a loadable shared object" run --suite ddp --impl "$BAD/x.so"
expect_bad "is not a dtbench plugin (no symbol dtbench_plugin_entry)" run --suite ddp --impl "$BAD/no-entry.so"
expect_bad "built for plugin ABI 3, this dtbench speaks ABI 2" run --suite ddp --impl "$BAD/bad-abi.so"
expect_bad "built for plugin ABI 1; this dtbench speaks ABI 2" run --suite ddp --impl "$BAD/abi-v1.so"
expect_bad "missing function get_params" run --suite ddp --impl "$BAD/null-function.so"
expect_bad "lacks capability ddp" run --suite ddp --impl "$BAD/no-ddp-cap.so"
expect_bad "help: unknown command 'bogus'" help bogus
expect_bad "list: unknown option '--bogus'" list --bogus
expect_bad "mpirun '/nonexistent/mpirun' not found" run --suite ddp --impl "$GOOD" --mpirun /nonexistent/mpirun
expect_bad "--tap: cannot write /nonexistent/dir/out.tap" run --suite ddp --impl "$GOOD" --tap /nonexistent/dir/out.tap

[ $failures -eq 0 ] && echo "cli.sh: all checks passed"
[ $failures -eq 0 ]
