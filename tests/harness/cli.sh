#!/bin/sh
# dtbench's command line: help on every command, `list`, and bad input
# (exactly one line on stderr naming the problem, exit status 2).
# usage: cli.sh DTBENCH BAD_PLUGIN_DIR VALID_PLUGIN
set -u
DTBENCH=$1 BAD=$2 GOOD=$3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-cli-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
# dtbench list probes the Python peers by importing torch and DeepSpeed
# (seconds each; tests/python's python_list checks that listing): here the
# bridge refuses them at once, with no venv.
export DTBENCH_PYTHON_VENV="$TMP/no-venv"
# a command that should have been refused and runs writes its database
# here, and the directories of its worlds under it
cd "$TMP" || exit 1
mkdir "$TMP/worlds" && export TMPDIR="$TMP/worlds" || exit 1
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
expect_bad "gpt-odd is a GPT; the conformance suites judge MLPs only" run --suite ddp --model gpt-odd
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
# The entry function runs in a child, never in dtbench: a crash or an exit(0)
# there is one line and exit 2, not dtbench dying (139) or exiting 0.
expect_bad "entry-exit.so ended the process while loading: exit(0) called" \
    run --suite ddp --impl "$BAD/entry-exit.so"
expect_bad "entry-segv.so" run --suite ddp --impl "$BAD/entry-segv.so"
expect_bad "entry-exit.so ended the process while loading" \
    run --suite throughput --impl "$BAD/entry-exit.so"
expect_bad "help: unknown command 'bogus'" help bogus
expect_bad "list: unknown option '--bogus'" list --bogus
expect_bad "mpirun '/nonexistent/mpirun' not found" run --suite ddp --impl "$GOOD" --mpirun /nonexistent/mpirun
expect_bad "--tap: cannot write /nonexistent/dir/out.tap" run --suite ddp --impl "$GOOD" --tap /nonexistent/dir/out.tap


# An option given twice is refused by every command, whatever the values
# (issue #17: `run --suite nosuch --suite ddp` used to run ddp).
expect_bad "run: --suite is given twice" run --suite nosuch --suite ddp
expect_bad "run: --np is given twice" run --suite ddp --np 1 --np=2
expect_bad "run: --keep is given twice" run --suite ddp --keep --keep
expect_bad "list: --suite is given twice" list --suite ddp --suite zero1
expect_bad "runs: --limit is given twice" runs --limit 1 --limit 2 --db "$TMP/none.db"
expect_bad "show: --db is given twice" show 1 --db "$TMP/a.db" --db "$TMP/b.db"
expect_bad "export: --out is given twice" export --format csv --out a.csv --out b.csv
expect_bad "report: --out is given twice" report --out "$TMP/r1" --out "$TMP/r2"
expect_bad "trajectory: --model is given twice" trajectory --model mlp-odd --model mlp-odd
[ ! -e "$TMP/none.db" ] && [ ! -e "$TMP/r1" ] || fail "a refused command created a file"

# Byte sizes are decimal numbers with an optional unit: never hex.
expect_bad "--mem-budget: '0x10G' is not a size" run --suite memory --mem-budget 0x10G
expect_bad "--mem-budget: '1e3M' is not a size" run --suite memory --mem-budget 1e3M
expect_bad "--sizes: '0x400' is not a size" run --suite comm --sizes 0x400

# --hostfile: what is wrong with it, before anything runs.
expect_bad "--hostfile: $TMP is a directory" run --suite ddp --impl "$GOOD" --hostfile "$TMP"
expect_bad "--hostfile: $TMP/nohosts does not exist" run --suite ddp --impl "$GOOD" --hostfile "$TMP/nohosts"
: >"$TMP/empty.hosts"
expect_bad "--hostfile: $TMP/empty.hosts names no host" run --suite ddp --impl "$GOOD" --hostfile "$TMP/empty.hosts"
printf '# only a comment\n\n   \n' >"$TMP/comment.hosts"
expect_bad "names no host" run --suite ddp --impl "$GOOD" --hostfile "$TMP/comment.hosts"
# a regular file whose read fails (EIO at address 0): root can read any
# permission-protected file, so this is how the test reaches a read error
expect_bad "--hostfile: cannot read /proc/self/mem" run --suite ddp --impl "$GOOD" --hostfile /proc/self/mem

# help takes one command: an extra argument is named as such.
expect_bad "help: unexpected extra argument 'extra'" help run extra
expect_bad "help: unexpected extra argument 'b'" help a b

# An unusable environment is found before the first case: exit 2, one line,
# nothing recorded, no database file left behind (the default one would be
# ./dtbench-results.db, here in $TMP).
rm -f dtbench-results.db
expect_bad "mpirun '$TMP' is a directory" run --suite ddp --impl "$GOOD" --mpirun "$TMP"
expect_bad "mpirun /bin/true cannot start a rank world: a one-rank probe exited 0 without running dtbench" \
    run --suite ddp --impl "$GOOD" --mpirun /bin/true
expect_bad "--tap: cannot write $TMP: Is a directory" run --suite ddp --impl "$GOOD" --tap "$TMP"
TMPDIR=$TMP/missing expect_bad "TMPDIR $TMP/missing is unusable" run --suite ddp --impl "$GOOD"
expect_bad "--sizes: 3 bytes is less than one fp32 element per rank" run --suite comm --sizes 3
expect_bad "--sizes: 4 bytes is less than one fp32 element per rank (8 bytes at np=2)" \
    run --suite comm --np 2,4 --sizes 1K,4
[ ! -e dtbench-results.db ] || fail "a refused run left dtbench-results.db behind"
[ ! -e "$TMP/missing" ] || fail "a refused run created TMPDIR"

# `list` loads every plugin of its folder in a child: a plugin whose entry
# exits or crashes is one "refused" line, and the listing goes on to the end.
mkdir "$TMP/bin" "$TMP/bin/plugins"
cp "$DTBENCH" "$TMP/bin/dtbench"
cp "$GOOD" "$TMP/bin/plugins/zz-good.so"
cp "$BAD/entry-exit.so" "$BAD/entry-segv.so" "$TMP/bin/plugins/"
"$TMP/bin/dtbench" list >"$TMP/list" 2>"$TMP/list.err"; rc=$?
[ $rc -eq 0 ] || fail "list over hostile plugins: exit $rc, want 0: $(cat "$TMP/list.err")"
grep -q "entry-exit.so .*refused: .*ended the process while loading" "$TMP/list" ||
    fail "list: entry-exit.so not refused: $(cat "$TMP/list")"
grep -q "entry-segv.so .*refused: " "$TMP/list" || fail "list: entry-segv.so not refused"
grep -q "^  ddp  " "$TMP/list" || fail "list: the suites after the plugins are missing"
[ "$(grep -c 'refused' "$TMP/list")" -eq 2 ] || fail "list: the good plugin was refused: $(cat "$TMP/list")"

[ $failures -eq 0 ] && echo "cli.sh: all checks passed"
[ $failures -eq 0 ]
