#!/bin/bash
# "reported figures match measured" end to end (docs/verification.md):
#  - dtbench exports its MPI_* wrappers, so a dlopen'd plugin's calls bind
#    to them;
#  - halfcomm (an MPI_Allreduce every step, half of it reported) fails the
#    point at every world size, "reports 0.50x", the worker having measured
#    its calls: the plugin's own MPI calls reached the wrappers;
#  - ring (a ring of MPI_Sendrecv reported as the allreduce it implements)
#    passes, its sends measured as p2p;
#  - untracked (151 MB touched, nothing tracked) fails on memory, except in
#    a sanitizer build, where the memory half says why it was not compared;
#  - the reference DDP and ZeRO-1/2/3, each rank world run directly (one
#    AdamW case with accumulation and clipping, fp32 and bf16-mixed, np 2
#    and 3), report exactly what the worker measured, calls and bytes of
#    every kind, non-zero. (Their suites, harness_suite_*, hold them to the
#    point itself at np 1-4.)
# usage: verify.sh DTBENCH VERIFY_PLUGIN_DIR RANK_DUMP
set -u
DTBENCH=$(realpath "$1") PLUGINS=$2 DUMP=$3
POINT="reported figures match measured"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-verify-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

for sym in MPI_Allreduce MPI_Reduce_scatter_block MPI_Allgather MPI_Send MPI_Sendrecv; do
    nm -D --defined-only "$DTBENCH" | grep -qw "$sym" || fail "dtbench does not export $sym"
done

# run NAME SUITE IMPL NP [extra]: TAP into $TMP/NAME.tap, exit status echoed
run() {
    local name=$1 suite=$2 impl=$3 np=$4
    shift 4
    "$DTBENCH" run --suite "$suite" --impl "$impl" --np "$np" --model mlp-odd \
        --db "$TMP/results.db" --tap "$TMP/$name.tap" "$@" 2>"$TMP/$name.err"
    echo $?
}

# points NAME: one line per point of ours: STATUS<TAB>LABEL, then its YAML
# folded onto the same line (keys and values separated by |)
points() {
    awk -v point="$POINT" '
        /^(not )?ok [0-9]+ - / {
            if (line != "") print line
            line = ""
            if (index($0, ": " point) == 0) next
            status = ($1 == "not") ? "fail" : "pass"
            if ($0 ~ / # SKIP /) status = "skip"
            label = $0; sub(/^(not )?ok [0-9]+ - /, "", label); sub(/: .*$/, "", label)
            line = status "\t" label "\t"
            next
        }
        line != "" && /^  [a-z0-9_]+: / { l = $0; sub(/^  /, "", l); line = line l "|" }
        END { if (line != "") print line }' "$TMP/$1.tap"
}

# --- halfcomm: fails everywhere, reports 0.50x -------------------------------------
rc=$(run halfcomm ddp "$PLUGINS/halfcomm.so" 1,3 --steps 2)
[ "$rc" -eq 1 ] || fail "halfcomm: exit status $rc, want 1"
points halfcomm >"$TMP/halfcomm.points"
n=$(grep -c . "$TMP/halfcomm.points")
[ "$n" -ge 6 ] || fail "halfcomm: want at least 6 points of '$POINT', got $n"
[ "$(grep -c '^fail' "$TMP/halfcomm.points")" -eq "$n" ] ||
    fail "halfcomm: every point must fail: $(grep -v '^fail' "$TMP/halfcomm.points" | head -2)"
[ "$(grep -c 'message: "rank [0-9] reports [0-9,]* \(bus \)\{0,1\}bytes per step, the worker measured [0-9,]* (reports 0.50x)' "$TMP/halfcomm.points")" -eq "$n" ] ||
    fail "halfcomm: every message must say 'reports 0.50x': $(head -2 "$TMP/halfcomm.points")"
grep 'np=3' "$TMP/halfcomm.points" | grep -q 'allreduce: "reported 2 calls [0-9]* bytes, measured 2 calls' ||
    fail "halfcomm: the YAML lacks the per-kind calls and bytes"

# --- ring: passes, its sends measured as p2p ----------------------------------------
rc=$(run ring ddp "$PLUGINS/ring.so" 1,3 --steps 2)
points ring >"$TMP/ring.points"
n=$(grep -c . "$TMP/ring.points")
[ "$n" -ge 6 ] || fail "ring: want at least 6 points of '$POINT', got $n"
[ "$(grep -c '^pass' "$TMP/ring.points")" -eq "$n" ] ||
    fail "ring: every point must pass: $(grep -v '^pass' "$TMP/ring.points" | head -2)"
grep 'np=3' "$TMP/ring.points" | grep -q 'p2p: "reported 0 calls 0 bytes, measured 8 calls' ||
    fail "ring: at np=3 the worker must measure 2 steps x 4 sendrecv: $(grep np=3 "$TMP/ring.points" | head -1)"

# --- untracked: fails on memory (or says why not) -------------------------------------
rc=$(run untracked ddp "$PLUGINS/untracked.so" 1,2 --steps 2)
points untracked >"$TMP/untracked.points"
n=$(grep -c . "$TMP/untracked.points")
[ "$n" -ge 4 ] || fail "untracked: want at least 4 points of '$POINT', got $n"
if grep -q 'memory_not_compared: "a sanitizer build' "$TMP/untracked.points"; then
    echo "verify.sh: a sanitizer build: the memory half is not compared"
    [ "$(grep -c '^pass.*memory_not_compared: "a sanitizer build' "$TMP/untracked.points")" -eq "$n" ] ||
        fail "untracked (sanitizer build): every point must pass, saying why memory was not compared"
else
    [ "$(grep -c '^fail.*message: "rank [0-9] tracks 0.0 MiB at peak, its process grew by 1[45][0-9].[0-9] MiB' "$TMP/untracked.points")" -eq "$n" ] ||
        fail "untracked: every point must fail on memory: $(head -2 "$TMP/untracked.points")"
fi

# --- the references: measured = reported, exactly, non-zero ------------------------------
for impl in ref-ddp ref-zero1 ref-zero2 ref-zero3; do
    stage=${impl#ref-}
    for prec in fp32 bf16-mixed; do
        for np in 2 3; do
            out="$TMP/$impl-$prec-$np"
            mpirun --oversubscribe --bind-to none -np $np "$DTBENCH" worker \
                --impl "$(dirname "$DTBENCH")/plugins/$impl.so" --out "$out" --model mlp-odd \
                --optimizer adamw --lr 0.01 --momentum 0 --beta1 0.9 --beta2 0.999 --eps 1e-8 \
                --weight-decay 0.01 --clip 0.05 --batch 30 --micro-batches 3 --steps 2 \
                --seed 20261123 --bucket-bytes 0 --prefetch-depth -1 --stage "$stage" \
                --precision $prec --require "$stage" --check-steps 1,2 --solo 0 \
                >"$out.log" 2>&1 || { fail "$impl $prec np=$np: $(tail -3 "$out.log")"; continue; }
            "$DUMP" "$out"/rank-*.bin >"$out.dump" || { fail "$impl: unreadable rank files"; continue; }
            [ "$(grep -c . "$out.dump")" -eq $np ] || fail "$impl $prec np=$np: want $np rank files"
            while read -r line; do
                eval "$(echo "$line" | tr ' ' '\n' | grep -E '^(rank|measured_valid|reported_calls|reported_bytes|measured_calls|measured_bytes)=')"
                [ "$measured_valid" = 1 ] || fail "$impl $prec np=$np rank $rank: measured_valid $measured_valid"
                [ "$reported_calls" = "$measured_calls" ] && [ "$reported_bytes" = "$measured_bytes" ] ||
                    fail "$impl $prec np=$np rank $rank: reported $reported_calls/$reported_bytes, measured $measured_calls/$measured_bytes"
                [ "$measured_bytes" != "0,0,0,0,0,0,0" ] ||
                    fail "$impl $prec np=$np rank $rank: nothing measured"
            done <"$out.dump"
        done
    done
done

[ $failures -eq 0 ] && echo "verify.sh: all checks passed"
[ $failures -eq 0 ]
