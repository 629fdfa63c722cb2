#!/bin/sh
# dtbench plugin-check, one mode per CTest test:
#   good IMPL CASES [ARGS...]   exit 0, nothing on stderr, the declaration printed
#                               (name, ABI 2, every capability), strict checks (ours)
#                               unless --no-strict, CASES "ok" lines, one per case,
#                               and "passed CASES cases"
#   bad BAD_DIR                 every malformed plugin, and the plugins whose entry
#                               function segfaults, calls exit(0) or hangs: exit 2,
#                               exactly one line on stderr naming the problem, nothing
#                               on stdout (dtbench itself survives); bad input too
#   fault PLUGIN REASON         a plugin that crashes, hangs, exits or fails in
#                               train_step: exit 1, every case run "FAIL ... first
#                               problem: completed: REASON", the last line repeats it,
#                               no rank process left behind
#   zoo IMPL CHECK              a deliberately broken plugin: exit 1, the last line
#                               names CHECK as the first problem
# usage: plugin_check.sh MODE DTBENCH ARGS...
set -u
MODE=$1 DTBENCH=$2
shift 2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-plugin-check-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# run ARGS...: dtbench plugin-check ARGS, stdout in $TMP/out, stderr in $TMP/err, rc in $rc
run() {
    "$DTBENCH" plugin-check "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
}

# expect_bad STDERR_SUBSTRING ARGS...: exit 2, one stderr line, no stdout
expect_bad() {
    want=$1
    shift
    start=$(date +%s)
    run "$@"
    took=$(($(date +%s) - start))
    [ $rc -eq 2 ] || fail "plugin-check $*: exit $rc, want 2: $(cat "$TMP/err")"
    lines=$(wc -l <"$TMP/err")
    [ "$lines" -eq 1 ] || fail "plugin-check $*: $lines lines on stderr, want 1: $(cat "$TMP/err")"
    grep -qF -- "$want" "$TMP/err" || fail "plugin-check $*: stderr '$(cat "$TMP/err")' lacks '$want'"
    grep -q '^dtbench: plugin-check: ' "$TMP/err" ||
        fail "plugin-check $*: stderr does not start with 'dtbench: plugin-check: '"
    [ ! -s "$TMP/out" ] || fail "plugin-check $*: wrote to stdout: $(head -3 "$TMP/out")"
    echo "plugin_check.sh: $* -> exit 2 in ${took} s: $(cat "$TMP/err")"
}

last_line() { tail -n 1 "$TMP/out"; }

case $MODE in
good)
    IMPL=$1 CASES=$2
    shift 2
    run "$IMPL" "$@"
    cat "$TMP/out"
    [ $rc -eq 0 ] || fail "$IMPL: exit $rc, want 0: $(cat "$TMP/err")"
    [ ! -s "$TMP/err" ] || fail "$IMPL: stderr not empty: $(head -5 "$TMP/err")"
    name=$(sed -n 's/^  name  *//p' "$TMP/out")
    [ -n "$name" ] || fail "$IMPL: no name line"
    grep -q '^  abi           2 (table of [0-9]* bytes)$' "$TMP/out" || fail "$IMPL: no ABI line"
    grep -q '^  optional      get_compute_params: ' "$TMP/out" || fail "$IMPL: no optional line"
    judged=strict
    case " $* " in *" --no-strict "*) judged=neutral ;; esac
    grep -q "^cases: mlp-odd, 3 steps, seed 20261123, timeout [0-9.]* s per world, $judged checks" \
        "$TMP/out" || fail "$IMPL: no 'cases:' line with $judged checks"
    caps=$(sed -n 's/^  capabilities  //p' "$TMP/out")
    for cap in fp32 sgd-momentum adamw grad-clip model-mlp cpu; do
        case ",$caps," in *",$cap,"*) ;; *) fail "$IMPL: capability $cap not printed ($caps)" ;; esac
    done
    # one case per stage, per other precision and optimizer, clip, accum, uneven
    for cap in single-device ddp zero1 zero2 zero3; do
        case ",$caps," in *",$cap,"*)
            stage=$cap; [ "$cap" = single-device ] && stage=single
            grep -q "^ok  $stage fp32 sgd np=" "$TMP/out" || fail "$IMPL: no $stage case" ;;
        esac
    done
    case ",$caps," in *,bf16-mixed,*)
        grep -q '^ok  [a-z0-9]* bf16 sgd np=' "$TMP/out" || fail "$IMPL: no bf16 case" ;;
    esac
    grep -q '^ok  [a-z0-9]* fp32 adamw np=' "$TMP/out" || fail "$IMPL: no adamw case"
    grep -q '^ok  [a-z0-9]* fp32 sgd clip np=' "$TMP/out" || fail "$IMPL: no clipping case"
    case ",$caps," in *,grad-accum,*)
        grep -q '^ok  [a-z0-9]* fp32 sgd accum mb=2 np=' "$TMP/out" || fail "$IMPL: no accum case" ;;
    esac
    ok=$(grep -c '^ok  ' "$TMP/out")
    [ "$ok" -eq "$CASES" ] || fail "$IMPL: $ok cases passed, want $CASES"
    grep -q '^FAIL ' "$TMP/out" && fail "$IMPL: a case failed"
    last_line | grep -q "^plugin-check: $name passed $CASES cases in [0-9.]* s$" ||
        fail "$IMPL: last line '$(last_line)'"
    echo "plugin_check.sh: $IMPL: $(last_line)"
    ;;
bad)
    BAD=$1
    expect_bad "bad-abi.so: built for plugin ABI 3, this dtbench speaks ABI 2" "$BAD/bad-abi.so"
    expect_bad "abi-v1.so: built for plugin ABI 1; this dtbench speaks ABI 2" "$BAD/abi-v1.so"
    expect_bad "short-table.so: plugin table of 40 bytes is shorter than ABI 2's" "$BAD/short-table.so"
    expect_bad "no-entry.so is not a dtbench plugin (no symbol dtbench_plugin_entry)" "$BAD/no-entry.so"
    expect_bad "null-function.so: plugin table is missing function get_params" "$BAD/null-function.so"
    expect_bad "null-table.so: dtbench_plugin_entry returned NULL" "$BAD/null-table.so"
    expect_bad "null-name.so: plugin table is missing name" "$BAD/null-name.so"
    expect_bad "x.so is not a loadable shared object" "$BAD/x.so"
    expect_bad "cannot be checked: it declares no stage to run" "$BAD/no-ddp-cap.so"
    # The entry function itself: a crash (a sanitizer build turns it into its
    # own exit(1)), exit(0), a hang past --timeout.
    expect_bad "entry-segv.so" "$BAD/entry-segv.so"
    grep -Eq "crashed while loading .*killed by signal 11|exit status 1: .*sanitizer" "$TMP/err" ||
        fail "entry-segv: not reported as a crash: $(cat "$TMP/err")"
    expect_bad "entry-exit.so ended the process while loading: exit(0) called" "$BAD/entry-exit.so"
    expect_bad "entry-hang.so did not finish loading within 2 s" "$BAD/entry-hang.so" --timeout 2
    [ "$took" -le 10 ] || fail "entry-hang: took $took s with --timeout 2"
    # bad input
    expect_bad "which plugin?"
    expect_bad "unexpected argument 'two'" one two
    expect_bad "plugin-check: unknown option '--bogus'" ref-ddp --bogus
    expect_bad "unknown implementation 'nosuch'" nosuch
    expect_bad "plugin /nonexistent/p.so does not exist" /nonexistent/p.so
    expect_bad "--np: '0' is not a list of rank counts" ref-ddp --np 0
    expect_bad "--timeout: 'x' is not a number" ref-ddp --timeout x
    expect_bad "--strict and --no-strict contradict each other" ref-ddp --strict --no-strict
    expect_bad "--np 2: the plugin's only stage is single-device, which runs at np 1" baseline --np 2
    expect_bad "mpirun '/nonexistent/mpirun' not found" ref-ddp --mpirun /nonexistent/mpirun
    expect_bad "--tap: cannot write /nonexistent/dir/x.tap" ref-ddp --tap /nonexistent/dir/x.tap
    ;;
fault)
    PLUGIN=$1 REASON=$2
    name=$(basename "$PLUGIN" .so)
    LIMIT=30
    [ "$name" = hang ] && LIMIT=3
    run "$PLUGIN" --timeout $LIMIT --tap "$TMP/out.tap"
    cat "$TMP/out"
    [ $rc -eq 1 ] || fail "$name: exit $rc, want 1: $(cat "$TMP/err")"
    n=$(grep -c '^FAIL ' "$TMP/out")
    [ "$n" -ge 1 ] || fail "$name: no FAIL line"
    [ "$(grep -c "^FAIL .*  first problem: completed: .*$REASON" "$TMP/out")" -eq "$n" ] ||
        fail "$name: not every FAIL line names 'completed: $REASON'"
    grep -q '^ok  ' "$TMP/out" && fail "$name: a case passed"
    last_line | grep -q "^plugin-check: $name FAILED $n of $n cases.*; first problem: ddp fp32 sgd np=2: completed: .*$REASON" ||
        fail "$name: last line '$(last_line)'"
    if [ "$name" = hang ]; then
        [ "$n" -eq 1 ] || fail "hang: $n cases run, want 1 (a hang stops the rest)"
        grep -q '^(4 more cases not run: a world hung past the timeout' "$TMP/out" ||
            fail "hang: the cases not run are not mentioned"
    else
        [ "$n" -eq 5 ] || fail "$name: $n cases, want 5"
    fi
    prove -e cat "$TMP/out.tap" >"$TMP/prove" 2>&1
    grep -q "Parse errors" "$TMP/prove" && fail "$name: prove: $(cat "$TMP/prove")"
    pgrep -f "worker --impl $PLUGIN" >/dev/null && fail "$name: rank processes still running"
    ;;
zoo)
    IMPL=$1 CHECK=$2
    run "$IMPL"
    cat "$TMP/out"
    [ $rc -eq 1 ] || fail "$IMPL: exit $rc, want 1: $(cat "$TMP/err")"
    last_line | grep -q "^plugin-check: $IMPL FAILED [0-9]* of [0-9]* cases in [0-9.]* s; first problem: [^:]*: $CHECK: " ||
        fail "$IMPL: last line '$(last_line)' does not name '$CHECK'"
    grep -q "^FAIL .*  first problem: $CHECK: " "$TMP/out" || fail "$IMPL: no FAIL line names $CHECK"
    ;;
*)
    fail "unknown mode $MODE"
    ;;
esac
[ $failures -eq 0 ] && echo "plugin_check.sh $MODE: all checks passed"
[ $failures -eq 0 ]
