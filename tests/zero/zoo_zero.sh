#!/bin/bash
# The suite of each ZeRO stage must catch each deliberately broken ZeRO of
# the zoo, on the checks its bug class breaks, and nowhere it cannot show:
#   zoo-zero-localclip  (zero2) clip norm from the local shard: gradient norm
#                       and the parameters of clipped cases at np > 1; a world
#                       of one is correct.
#   zoo-zero-pad        (zero1) gradients shifted by the unit padding: loss
#                       and parameters at np > 1 (mlp-odd has padding at 2, 3,
#                       4 ranks); a world of one has no padding and is correct.
#   zoo-zero3-stale     (zero3) backward through step-1 parameters: gradient
#                       norm and final parameters everywhere, and the extra
#                       gathered copies break the memory theory.
#   zoo-zero-bf16acc    (zero2) bf16 gradient accumulation: parameters of
#                       every bf16-mixed case; fp32 cases are correct.
#   zoo-zero2-overlap   (zero2) bucket refilled before its reduce-scatter's
#                       result was consumed: loss and parameters everywhere.
#   zoo-zero2-fullbuckets (zero2) buckets sized to the whole model: the
#                       buffers' bounds at np > 1 (one rank of two buckets of
#                       a unit is all ZeRO-2 may keep), the exact buffer
#                       layout everywhere; every result correct.
#   zoo-zero3-gatherall (zero3) room for every layer's gathered parameters:
#                       memory within formula (and theory) everywhere, a
#                       world of one included; every result correct.
# Exit status 1, TAP that prove parses without errors.
# usage: zoo_zero.sh DTBENCH ZOO_PLUGIN SUITE [NP_LIST]
set -u
DTBENCH=$1 ZOO=$2 SUITE=$3 NP=${4:-1,2,3}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-zoo-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $ZOO: $*" >&2; failures=$((failures + 1)); }

# DTB_ZOO_ARGS: more dtbench run options, e.g. "--seeds 20" to hold the
# plugin to these expectations on every case of a seed sweep.
# shellcheck disable=SC2086
"$DTBENCH" run --suite "$SUITE" --impl "$ZOO" --np "$NP" --model mlp-odd ${DTB_ZOO_ARGS:-} \
    --tap "$TMP/out.tap" 2>"$TMP/err"
rc=$?
tail -3 "$TMP/err" >&2
[ $rc -eq 1 ] || fail "exit status $rc, want 1"
prove -e cat "$TMP/out.tap" >"$TMP/prove" 2>&1
grep -q "Parse errors" "$TMP/prove" && fail "prove: $(cat "$TMP/prove")"

# One line per test point: STATUS<TAB>LABEL<TAB>CHECK
awk -f "$(dirname "$0")/../common/tap_points.awk" "$TMP/out.tap" >"$TMP/points"
[ -s "$TMP/points" ] || fail "no test points"
cut -f2 "$TMP/points" | sort -u >"$TMP/cases"
last_params=$(grep -o 'params after step [0-9]*' "$TMP/points" | sort -t' ' -k4 -n | tail -1)

# Does a case label match a selector: words joined by '+', each one of
# all, np>1, np=1, clip, noclip, bf16, fp32.
matches() {
    local label=$1 np=${1##* np=} word
    np=${np%% *}
    for word in ${2//+/ }; do
        case $word in
            all) ;;
            "np>1") [ "$np" -gt 1 ] || return 1 ;;
            "np=1") [ "$np" -eq 1 ] || return 1 ;;
            noclip) [[ $label == *" noclip "* ]] || return 1 ;;
            clip) [[ $label != *" noclip "* ]] || return 1 ;;
            bf16) [[ $label == *" bf16 "* ]] || return 1 ;;
            fp32) [[ $label == *" fp32 "* ]] || return 1 ;;
            *) fail "unknown selector word $word"; return 1 ;;
        esac
    done
}
# expect_fail CHECK SELECTOR: every case matching SELECTOR fails CHECK.
expect_fail() {
    local check=$1 sel=$2 n=0
    while IFS= read -r label; do
        matches "$label" "$sel" || continue
        n=$((n + 1))
        grep -qF -x "fail	$label	$check" "$TMP/points" || fail "'$label: $check' did not fail"
    done <"$TMP/cases"
    [ $n -gt 0 ] || fail "no case for '$check' ($sel)"
}
# expect_clean SELECTOR: every point of every matching case passed.
expect_clean() {
    local sel=$1 n=0
    while IFS= read -r label; do
        matches "$label" "$sel" || continue
        n=$((n + 1))
        if grep -qF "fail	$label	" "$TMP/points"; then
            fail "'$label' should be correct, but: $(grep -F "fail	$label	" "$TMP/points" |
                cut -f3 | head -3 | tr '\n' ';')"
        fi
    done <"$TMP/cases"
    [ $n -gt 0 ] || fail "no case for clean '$sel'"
}

case $(basename "$ZOO" .so) in
zoo-zero-localclip)
    expect_fail "grad norm every step" "np>1"
    expect_fail "$last_params" "np>1+clip"
    expect_clean "np=1" ;;
zoo-zero-pad)
    expect_fail "loss every step" "np>1"
    expect_fail "$last_params" "np>1"
    expect_clean "np=1" ;;
zoo-zero3-stale)
    grep -q '^  likely_cause: ".*state carried between steps' "$TMP/out.tap" ||
        fail "no likely_cause naming the state carried between steps"
    expect_fail "grad norm every step" all
    expect_fail "$last_params" all
    expect_fail "memory within theory" all ;;
zoo-zero-bf16acc)
    expect_fail "$last_params" bf16
    expect_clean fp32 ;;
zoo-zero2-overlap)
    expect_fail "loss every step" all
    expect_fail "$last_params" all ;;
zoo-zero3-gatherall)
    expect_fail "memory within formula" all
    expect_fail "memory within theory" all
    awk -F'\t' '$1 == "fail" && $3 ~ /^(loss|grad norm|params)/ { print }' "$TMP/points" \
        >"$TMP/numeric"
    [ ! -s "$TMP/numeric" ] || fail "its results are correct, but: $(head -2 "$TMP/numeric")" ;;
zoo-zero2-fullbuckets)
    expect_fail "activations and buffers within bounds" "np>1"
    expect_fail "activations and buffers match theory" all
    awk -F'\t' '$1 == "fail" && $3 ~ /^(loss|grad norm|params)/ { print }' "$TMP/points" \
        >"$TMP/numeric"
    [ ! -s "$TMP/numeric" ] || fail "its results are correct, but: $(head -2 "$TMP/numeric")" ;;
*) fail "no expectations for this plugin" ;;
esac

echo "zoo_zero.sh: $(basename "$ZOO"): $(grep -c '^fail' "$TMP/points") of $(wc -l <"$TMP/points") points failed"
[ $failures -eq 0 ] && echo "zoo_zero.sh: all checks passed"
[ $failures -eq 0 ]
