#!/bin/bash
# The ddp suite must catch each deliberately broken DDP of the zoo, on the
# checks that its bug class breaks, and nowhere it cannot show:
#   zoo-ddp-sum        sums instead of averaging: the pre-clip gradient norm at
#                      np > 1, and the parameters of unclipped SGD at np > 1
#                      (clipping rescales a summed gradient and Adam is scale
#                      invariant, so elsewhere the parameters may well pass);
#                      a world of one is correct.
#   zoo-ddp-lastmicro  accumulator reset each micro-batch: loss, gradient norm
#                      and parameters at every np, a world of one included.
#   zoo-ddp-localclip  clips by the local norm before the reduction: gradient
#                      norm at np > 1, and the parameters of the cases that
#                      clip at np > 1; a world of one is correct.
#   zoo-ddp-micromean  averages each micro-batch over its own samples: only
#                      the uneven-micro edge case (10, 10, 11) shows it, in
#                      the gradient norm and the parameters; the matrix (equal
#                      micro-batches) is clean.
#   zoo-ddp-globalws   activation workspace for the global batch: activations
#                      over their bound in every case, results correct.
#   zoo-ddp-clipalways scales by clip / norm also below the threshold: only the
#                      clip-some edge case (a threshold crossed both ways)
#                      shows it, in its clip coefficient and parameters.
#   zoo-ddp-emptyskip  a rank with an empty share skips the step's collectives:
#                      the empty-share edge case hangs and times out; every
#                      case where all ranks have samples is clean.
#   zoo-ddp-bucketlayer a bucket spanning two layers is reduced over its top
#                      layer only: the bucket-span edge case (and mlp-odd at
#                      np > 1, whose buckets span layers too) fails the
#                      parameters and the ranks' agreement; np=1 is correct.
# Cases the plugin cannot run (a precision it lacks: "completed # SKIP") are
# left out of the expectations; every other case is held to them.
# Exit status 1, TAP that prove parses without errors.
# usage: zoo.sh DTBENCH ZOO_PLUGIN [NP_LIST [MORE dtbench run OPTIONS...]]
set -u
DTBENCH=$1 ZOO=$2 NP=${3:-1,2,3}
MORE=("${@:4}")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-zoo-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $ZOO: $*" >&2; failures=$((failures + 1)); }

# DTB_ZOO_ARGS: more dtbench run options, e.g. "--seeds 20" to hold the
# plugin to these expectations on every case of a seed sweep.
# shellcheck disable=SC2086
"$DTBENCH" run --suite ddp --impl "$ZOO" --np "$NP" ${MORE[@]+"${MORE[@]}"} ${DTB_ZOO_ARGS:-} \
    --tap "$TMP/out.tap" \
    2>"$TMP/err"
rc=$?
cat "$TMP/err" >&2
[ $rc -eq 1 ] || fail "exit status $rc, want 1"
prove -e cat "$TMP/out.tap" >"$TMP/prove" 2>&1
grep -q "Parse errors" "$TMP/prove" && fail "prove: $(cat "$TMP/prove")"

# One line per test point: STATUS<TAB>NP<TAB>NOCLIP<TAB>CASE<TAB>CHECK, with
# STATUS fail, pass or skip.
awk '
    /^(not )?ok [0-9]+ - / {
        status = ($1 == "not") ? "fail" : "pass"
        if ($0 ~ / # SKIP /) status = "skip"
        line = $0
        sub(/^(not )?ok [0-9]+ - /, "", line)
        sub(/ # SKIP.*$/, "", line)
        i = index(line, ": ")
        if (i == 0) next
        label = substr(line, 1, i - 1); check = substr(line, i + 2)
        np = label; sub(/.* np=/, "", np); sub(/ .*/, "", np)
        noclip = (label ~ / noclip /) ? 1 : 0
        printf "%s\t%s\t%s\t%s\t%s\n", status, np, noclip, label, check
    }' "$TMP/out.tap" >"$TMP/points"
[ -s "$TMP/points" ] || fail "no test points"
awk -F'\t' '$1 == "skip" && $5 == "completed" { print $4 }' "$TMP/points" | sort -u >"$TMP/skipped"
cut -f4 "$TMP/points" | sort -u | comm -23 - "$TMP/skipped" >"$TMP/cases"
last_params=$(grep -o 'params after step [0-9]*' "$TMP/points" | sort -t' ' -k4 -n | tail -1)

# expect_fail CHECK SELECTOR: every case matching SELECTOR ("all", "np>1",
# "np>1 noclip", "np>1 clip") fails CHECK.
expect_fail() {
    local check=$1 sel=$2 n=0
    while IFS= read -r label; do
        np=${label##* np=}; np=${np%% *}
        case $sel in
            all) ;;
            "np>1") [ "$np" -gt 1 ] || continue ;;
            "np>1 noclip") [ "$np" -gt 1 ] && [[ $label == *" noclip "* ]] || continue ;;
            "np>1 clip") [ "$np" -gt 1 ] && [[ $label != *" noclip "* ]] || continue ;;
            edge=*) [[ $label == *" $sel" || $label == *" $sel "* ]] || continue ;;
        esac
        n=$((n + 1))
        grep -qF -x "fail	$np	$([[ $label == *" noclip "* ]] && echo 1 || echo 0)	$label	$check" \
            "$TMP/points" || fail "'$label: $check' did not fail"
    done <"$TMP/cases"
    [ $n -gt 0 ] || fail "no case for '$check' ($sel)"
}
# expect_np1_clean: every point of every np=1 case passed
expect_np1_clean() {
    awk -F'\t' '$2 == 1 && $1 == "fail" { print $4 ": " $5 }' "$TMP/points" >"$TMP/bad1"
    [ ! -s "$TMP/bad1" ] || fail "a world of one should be correct, but: $(head -3 "$TMP/bad1")"
    grep -q "	1	" "$TMP/points" || fail "no np=1 case ran"
}

# expect_matrix_clean: every point of every case of the matrix (no edge=) passed
expect_matrix_clean() {
    awk -F'\t' '$1 == "fail" && $4 !~ / edge=/ { print $4 ": " $5 }' "$TMP/points" >"$TMP/badm"
    [ ! -s "$TMP/badm" ] || fail "the matrix should be clean, but: $(head -3 "$TMP/badm")"
}

# expect_hint TEXT: some failing point's YAML names the likely cause TEXT
expect_hint() {
    grep -q "^  likely_cause: \".*$1" "$TMP/out.tap" || fail "no likely_cause naming '$1'"
}

case $(basename "$ZOO" .so) in
zoo-ddp-sum)
    expect_hint "the ranks' results were summed"
    expect_fail "grad norm every step" "np>1"
    expect_fail "$last_params" "np>1 noclip"
    expect_np1_clean ;;
zoo-ddp-lastmicro)
    expect_fail "loss every step" all
    expect_fail "grad norm every step" all
    expect_fail "$last_params" all ;;
zoo-ddp-localclip)
    expect_fail "grad norm every step" "np>1"
    expect_fail "$last_params" "np>1 clip"
    expect_np1_clean ;;
zoo-ddp-micromean)
    expect_hint "each micro-batch was averaged over its own samples"
    expect_fail "grad norm every step" edge=uneven-micro
    expect_fail "$last_params" edge=uneven-micro
    expect_matrix_clean ;;
zoo-ddp-globalws)
    expect_fail "activations and buffers within bounds" all
    awk -F'\t' '$1 == "fail" && $5 ~ /^(loss|grad norm|params)/ { print }' "$TMP/points" \
        >"$TMP/numeric"
    [ ! -s "$TMP/numeric" ] || fail "its results are correct, but: $(head -2 "$TMP/numeric")" ;;
zoo-ddp-clipalways)
    expect_fail "clip coefficient exact" edge=clip-some
    expect_fail "$last_params" edge=clip-some
    expect_matrix_clean ;;
zoo-ddp-emptyskip)
    expect_fail "completed" edge=empty-share
    expect_matrix_clean ;;
zoo-ddp-bucketlayer)
    expect_fail "$last_params" edge=bucket-span
    expect_fail "ranks bitwise identical" edge=bucket-span
    expect_np1_clean ;;
*) fail "no expectations for this plugin" ;;
esac

echo "zoo.sh: $(basename "$ZOO"): $(grep -c '^fail' "$TMP/points") of $(wc -l <"$TMP/points") points failed"
[ $failures -eq 0 ] && echo "zoo.sh: all checks passed"
[ $failures -eq 0 ]
