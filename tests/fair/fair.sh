#!/bin/bash
# Fairness of the suites' judgement: a plugin built from examples/ddp_simple
# runs its suite on worlds of 1-4 ranks over the default models (mlp-odd,
# mlp-small), and must show EXPECT:
#   pass      exit 0: every point of every fp32 case passes, the neutral
#             communication and memory checks among them;
#   comm      exit 1: "communication volume" fails at every np > 1 case;
#   memory    exit 1: "memory within formula" fails at every np > 1 case;
#   measured  exit 1: "reported figures match measured" (the harness's own
#             PMPI count) fails at every np > 1 case.
# A broken plugin fails nowhere else: no other check, in particular no
# numeric one (loss, norm, parameters, ranks identical, determinism), at any
# np, and nothing at np = 1. Every plugin here is fp32 only, so every
# bf16-mixed case must be skipped. Exit status 0 when all holds.
# usage: fair.sh DTBENCH PLUGIN.so SUITE EXPECT
set -u
DTBENCH=$1 PLUGIN=$2 SUITE=$3 EXPECT=$4
# The neutral checks' names (harness/judge/checks.c on main) and the
# reported-vs-measured check's (the PMPI count; docs/verification.md).
COMM_CHECK="communication volume"
MEM_CHECK="memory within formula"
MEASURED_CHECK="reported figures match measured"
NAME=$(basename "$PLUGIN" .so)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-fair-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $NAME: $*" >&2; failures=$((failures + 1)); }

case $EXPECT in
    pass) want_rc=0 check= ;;
    comm) want_rc=1 check=$COMM_CHECK ;;
    memory) want_rc=1 check=$MEM_CHECK ;;
    measured) want_rc=1 check=$MEASURED_CHECK ;;
    *) echo "fair.sh: unknown expectation '$EXPECT'" >&2; exit 2 ;;
esac

"$DTBENCH" run --suite "$SUITE" --impl "$PLUGIN" --np 1-4 --tap "$TMP/out.tap" \
    --db "$TMP/results.db" 2>"$TMP/err"
rc=$?
tail -2 "$TMP/err" >&2
[ $rc -eq $want_rc ] || fail "exit status $rc, want $want_rc"
prove -e cat "$TMP/out.tap" >"$TMP/prove" 2>&1
grep -q "Parse errors" "$TMP/prove" && fail "prove: $(cat "$TMP/prove")"

# One line per point: STATUS<TAB>NP<TAB>PRECISION<TAB>LABEL<TAB>CHECK, STATUS
# pass, fail or skip; labels "<impl> <model> <recipe> <precision> np=<n> mb=<m>".
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
        prec = (label ~ / bf16 np=/) ? "bf16" : "fp32"
        printf "%s\t%s\t%s\t%s\t%s\n", status, np, prec, label, check
    }' "$TMP/out.tap" >"$TMP/points"
[ -s "$TMP/points" ] || fail "no test points"

# Every bf16 case is one skipped point; every fp32 case ran, none skipped
# (edge cases included: labels end in "edge=<name>").
bf16_cases=$(awk -F'\t' '$3 == "bf16" { print $4 }' "$TMP/points" | sort -u | wc -l)
bf16_skips=$(awk -F'\t' '$3 == "bf16" && $1 == "skip" && $5 == "completed"' "$TMP/points" | wc -l)
bf16_points=$(awk -F'\t' '$3 == "bf16"' "$TMP/points" | wc -l)
[ "$bf16_cases" -gt 0 ] && [ "$bf16_skips" -eq "$bf16_cases" ] && [ "$bf16_points" -eq "$bf16_cases" ] ||
    fail "$bf16_skips of $bf16_cases bf16-mixed cases skipped ($bf16_points points)"
awk -F'\t' '$3 == "fp32" { print $4 }' "$TMP/points" | sort -u >"$TMP/cases"
completed=$(awk -F'\t' '$3 == "fp32" && $1 == "pass" && $5 == "completed"' "$TMP/points" | wc -l)
[ "$(wc -l <"$TMP/cases")" -gt 0 ] && [ "$completed" -eq "$(wc -l <"$TMP/cases")" ] ||
    fail "$completed of $(wc -l <"$TMP/cases") fp32 cases completed"
fp32_skips=$(awk -F'\t' '$3 == "fp32" && $1 == "skip"' "$TMP/points" | wc -l)
[ "$fp32_skips" -eq 0 ] || fail "$fp32_skips fp32 points skipped"

# The neutral checks judge every case: memory at every np, communication
# volume at np > 1 (a world of one has "world of 1 issues no collectives").
multi=$(grep -vc ' np=1 ' "$TMP/cases")
for pair in "$MEM_CHECK|$(wc -l <"$TMP/cases")" "$COMM_CHECK|$multi"; do
    c=${pair%|*} want=${pair##*|}
    n=$(awk -F'\t' -v c="$c" '$3 == "fp32" && $5 == c' "$TMP/points" | wc -l)
    [ "$n" -eq "$want" ] && [ "$want" -gt 0 ] || fail "'$c' judged $n fp32 cases, want $want"
done

if [ -n "$check" ] && ! grep -qF "	$check" "$TMP/points"; then
    fail "no point of check '$check': this dtbench lacks it (see tests/fair/CMakeLists.txt)"
elif [ -n "$check" ]; then
    # It fails at every np > 1 case...
    while IFS= read -r label; do
        np=${label##* np=}; np=${np%% *}
        [ "$np" -gt 1 ] || continue
        grep -qF -x "fail	$np	fp32	$label	$check" "$TMP/points" ||
            fail "'$label: $check' did not fail"
    done <"$TMP/cases"
    # ...and nothing else fails, nor anything at np = 1.
    awk -F'\t' -v c="$check" '$1 == "fail" && ($5 != c || $2 == 1) { print $4 ": " $5 }' \
        "$TMP/points" >"$TMP/others"
    [ ! -s "$TMP/others" ] ||
        fail "$(wc -l <"$TMP/others") other failing points, e.g. $(head -3 "$TMP/others" | tr '\n' ';')"
    # The diagnostics name the bug: e.g. "rank 1 moves 2.00x the minimum of DDP".
    grep -A12 "^not ok [0-9]* - .*: $check\$" "$TMP/out.tap" | grep -m1 "message:" >&2
else
    awk -F'\t' '$1 == "fail" { print $4 ": " $5 }' "$TMP/points" >"$TMP/others"
    [ ! -s "$TMP/others" ] ||
        fail "$(wc -l <"$TMP/others") failing points, e.g. $(head -3 "$TMP/others" | tr '\n' ';')"
fi

echo "fair.sh: $NAME on $SUITE: $(grep -c '^pass' "$TMP/points") passed, $(grep -c '^fail' "$TMP/points") failed, $(grep -c '^skip' "$TMP/points") skipped"
[ $failures -eq 0 ] && echo "fair.sh: $NAME: as expected ($EXPECT)"
[ $failures -eq 0 ]
