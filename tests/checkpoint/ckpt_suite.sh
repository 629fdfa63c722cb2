#!/bin/bash
# The checkpoint suite (docs/checkpoint.md) on one implementation, held to
# what it must show:
#   correct plugins (ref-*, fair-*): every point passes; the only skips are
#     the bf16-mixed cases of a plugin without that capability (and a
#     "crash injected" whose kill never landed, said on stderr);
#   zoo-zero-ckptshard (zero2): saves only rank 0's optimizer shard: fails
#     "checkpoint committed" wherever it saves at 2+ ranks ("checkpoints
#     committed" in the crash cases), and is clean wherever it only loads or
#     saves alone (1 rank);
#   zoo-ddp-ckptscratch (ddp): a save that zeroes the momentum of ranks
#     other than 0: fails "saving run ranks identical" wherever it saves at
#     2+ ranks (the checkpoint itself is right), clean when it saves alone;
#   zoo-zero-ckptstep (zero1), zoo-zero-ckptstate (zero3): a load that
#     restarts the step counter / zeroes the optimizer state: the resumed
#     run fails wherever it loads (bit-identical, or tolerance at step 8;
#     "restart bit-identical" in the crash cases), and every case where
#     another implementation loads what it saved is clean.
# Then, for a zoo plugin, its own stage's conformance suite (no save, no
# load) must pass: only this suite catches it.
# usage: ckpt_suite.sh DTBENCH IMPL STAGE [NP_LIST] [CONFORMANCE_SUITE]
#   STAGE: the stage IMPL runs (ddp, zero1, zero2, zero3): sides so named
#   in a label are IMPL itself.
set -u
DTBENCH=$1 IMPL=$2 STAGE=$3 NP=${4:-1,2,3,4} CONFORMANCE=${5:-}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-ckpt-test-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
name=$(basename "$IMPL" .so)
failures=0
fail() { echo "FAIL: $name: $*" >&2; failures=$((failures + 1)); }

case $name in zoo-*) want_rc=1 ;; *) want_rc=0 ;; esac
# shellcheck disable=SC2086
"$DTBENCH" run --suite checkpoint --impl "$IMPL" --np "$NP" ${DTB_CKPT_ARGS:-} \
    --db "$TMP/r.db" --tap "$TMP/out.tap" 2>"$TMP/err"
rc=$?
tail -3 "$TMP/err" >&2
[ $rc -eq $want_rc ] || fail "exit status $rc, want $want_rc"
prove -e cat "$TMP/out.tap" >"$TMP/prove" 2>&1
grep -q "Parse errors" "$TMP/prove" && fail "prove: $(cat "$TMP/prove")"

# One line per point: STATUS<TAB>LABEL<TAB>CHECK (STATUS pass, fail or skip).
awk -f "$(dirname "$0")/../common/tap_points.awk" "$TMP/out.tap" >"$TMP/points"
[ -s "$TMP/points" ] || fail "no test points"
cut -f2 "$TMP/points" | sort -u >"$TMP/cases"

# The sides of a label: "... np=4 mb=3 ckpt=self@4>zero1@3 s=4" or "ckpt=crash".
side_is_impl() { [ "$1" = self ] || [ "$1" = "$STAGE" ]; }
# Does a case match a selector: saves (the implementation saves at 2+
# ranks), saves1 (it saves alone), loads (it loads what was saved),
# others-load (it saves and another implementation loads), crash.
matches() {
    local label=$1 shape from to fw
    shape=${label##* ckpt=}
    shape=${shape%% *}
    if [ "$shape" = crash ]; then [ "$2" = crash ]; return; fi
    [ "$2" = crash ] && return 1
    from=${shape%%>*} to=${shape##*>}
    fw=${from##*@} from=${from%%@*} to=${to%%@*}
    case $2 in
        saves) side_is_impl "$from" && [ "$fw" -gt 1 ] ;;
        saves1) side_is_impl "$from" && [ "$fw" -eq 1 ] ;;
        loads) side_is_impl "$to" ;;
        others-load) side_is_impl "$from" && ! side_is_impl "$to" ;;
        only-loads) side_is_impl "$to" && ! side_is_impl "$from" ;;
        *) fail "unknown selector $2"; return 1 ;;
    esac
}
# expect_fail SELECTOR CHECK...: every matching case fails one of the CHECKs.
expect_fail() {
    local sel=$1 n=0 label check hit
    shift
    while IFS= read -r label; do
        matches "$label" "$sel" || continue
        n=$((n + 1))
        hit=0
        for check in "$@"; do
            grep -qF -x "fail	$label	$check" "$TMP/points" && hit=1
        done
        [ $hit -eq 1 ] || fail "'$label' did not fail any of: $*"
    done <"$TMP/cases"
    [ $n -gt 0 ] || fail "no case for '$sel'"
}
# expect_clean SELECTOR: every point of every matching case passed (or, for
# the resumed world after a refused save, was skipped).
expect_clean() {
    local sel=$1 n=0 label
    while IFS= read -r label; do
        matches "$label" "$sel" || continue
        n=$((n + 1))
        if grep -qF "fail	$label	" "$TMP/points"; then
            fail "'$label' should pass, but: $(grep -F "fail	$label	" "$TMP/points" |
                cut -f3 | head -3 | tr '\n' ';')"
        fi
    done <"$TMP/cases"
    [ $n -gt 0 ] || fail "no case for clean '$sel'"
}

case $name in
zoo-zero-ckptshard)
    expect_fail saves "checkpoint committed"
    expect_fail crash "checkpoints committed"
    expect_clean saves1
    expect_clean only-loads ;;
zoo-ddp-ckptscratch)
    expect_fail saves "saving run ranks identical"
    expect_clean saves1 ;;
zoo-zero-ckptstep | zoo-zero-ckptstate)
    expect_fail loads "resumed run bit-identical" "resumed params after step 8"
    expect_fail crash "restart bit-identical"
    expect_clean others-load ;;
*)
    grep '^fail' "$TMP/points" | head -3 | while IFS= read -r line; do fail "$line"; done
    # A kill that landed after the world finished, three times over, is a
    # skip of the harness's doing, not a verdict: said, not failed.
    awk -F'\t' '$1 == "skip" && $3 == "crash injected"' "$TMP/points" | while IFS= read -r line; do
        echo "note: $name: $line (the kill never landed)" >&2
    done
    awk -F'\t' '$1 == "skip" && $3 != "crash injected"' "$TMP/points" >"$TMP/skips"
    if [ -s "$TMP/skips" ]; then
        grep -q 'lacks capability bf16-mixed' "$TMP/out.tap" ||
            fail "skipped points, and not for bf16-mixed: $(head -2 "$TMP/skips")"
        awk -F'\t' '$2 !~ / bf16 /' "$TMP/skips" | grep -q . &&
            fail "a skip outside the bf16-mixed cases: $(awk -F'\t' '$2 !~ / bf16 /' "$TMP/skips" | head -1)"
    fi
    # Every kind of point the worlds asked for is there.
    wanted=()
    [[ ",$NP," == *",2,"* ]] && wanted+=("checkpoint optimizer state" "resumed ranks identical"
                                          "saving run ranks identical")
    [[ ",$NP," == *",3,"* ]] && wanted+=("crash injected" "restart bit-identical")
    for check in "${wanted[@]}"; do
        grep -qF "	$check" "$TMP/points" || fail "no point '$check'"
    done ;;
esac
echo "ckpt_suite.sh: $name: $(grep -c '^fail' "$TMP/points") of $(wc -l <"$TMP/points") points failed"

if [ -n "$CONFORMANCE" ]; then
    "$DTBENCH" run --suite "$CONFORMANCE" --impl "$IMPL" --np 1,2 --model mlp-odd \
        --db "$TMP/r.db" >"$TMP/conf.tap" 2>"$TMP/conf.err"
    rc=$?
    [ $rc -eq 0 ] || fail "its own suite $CONFORMANCE failed it (exit $rc): $(grep -m2 '^not ok' "$TMP/conf.tap")"
    tail -2 "$TMP/conf.err" >&2
fi
[ $failures -eq 0 ] && echo "ckpt_suite.sh: all checks passed"
[ $failures -eq 0 ]
