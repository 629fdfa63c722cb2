#!/bin/bash
# A checkpoint that is torn, modified, foreign or misused is refused with one
# line before the plugin sees a value, and a world whose save cannot be
# committed leaves no step-<S> directory (docs/checkpoint.md). Runs the
# training worker directly, as a reproduce line does; then `dtbench
# checkpoint` must give the same verdicts.
# usage: ckpt_refuse.sh DTBENCH PLUGIN_DIR
set -u
DTBENCH=$1 PLUGINS=$2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-ckpt-refuse-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

MPIRUN=(mpirun --oversubscribe --bind-to none)
[ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)
# worker OPTIMIZER NP OUT [more worker options]: ref-zero2 on mlp-odd, 4 steps.
worker() {
    local opt=$1 np=$2 out=$3
    shift 3
    local lr=0.05 mom=0.9 b1=0 b2=0 eps=0 wd=0.0001 req=sgd-momentum
    if [ "$opt" = adamw ]; then lr=0.01 mom=0 b1=0.9 b2=0.999 eps=1e-08 wd=0.01 req=adamw; fi
    "${MPIRUN[@]}" -np "$np" "$DTBENCH" worker --impl "$PLUGINS/ref-zero2.so" \
        --model "${MODEL:-mlp-odd}" --optimizer "$opt" --lr $lr --momentum $mom --beta1 $b1 \
        --beta2 $b2 --eps $eps --weight-decay $wd --clip 0.05 --batch 30 --micro-batches 3 \
        --steps 4 --seed 7 --bucket-bytes 4096 --prefetch-depth -1 --stage zero2 \
        --precision fp32 --require "zero2,fp32,$req,checkpoint,model-mlp,cpu" \
        --solo 0 --out "$out" "$@" >"$out.log" 2>&1
}
# refused NAME WANT OPTIMIZER NP [options]: the worker exits 3 and its
# error-0.txt says WANT on one line.
refused() {
    local name=$1 want=$2
    shift 2
    local out="$TMP/$name" opt=$1 np=$2
    shift 2
    worker "$opt" "$np" "$out" "$@"
    local rc=$?
    [ $rc -ne 0 ] || { fail "$name: the worker accepted it"; return; }
    local err
    err=$(cat "$out"/error-*.txt 2>/dev/null | head -1)
    [ "$(cat "$out"/error-0.txt 2>/dev/null | wc -l)" -eq 1 ] || fail "$name: not one line: $err"
    [[ $err == *"$want"* ]] || fail "$name: message '$err' lacks '$want'"
    echo "refused ($name): $err"
}

# A good checkpoint of step 2, AdamW, 2 ranks.
worker adamw 2 "$TMP/save" --check-steps 4 --ckpt-root "$TMP/ck" --ckpt-save-steps 2 ||
    fail "saving world failed: $(tail -3 "$TMP/save.log")"
[ -f "$TMP/ck/step-2/manifest.json" ] || fail "no committed step-2"
ls -a "$TMP/ck" | grep -q partial && fail "a staging directory was left"
# It loads, at another world size.
worker adamw 3 "$TMP/load" --check-steps 4 --ckpt-resume "$TMP/ck/step-2" ||
    fail "the good checkpoint was refused: $(cat "$TMP"/load/error-*.txt 2>/dev/null)"

copy() { rm -rf "$TMP/$1" && mkdir -p "$TMP/$1" && cp -r "$TMP/ck/step-2" "$TMP/$1/"; }
copy flip
printf '\x7f' | dd of="$TMP/flip/step-2/exp_avg.npy" bs=1 seek=300 conv=notrunc status=none
refused flip "exp_avg.npy does not match its sha256" adamw 2 --check-steps 4 \
    --ckpt-resume "$TMP/flip/step-2"
copy short
truncate -s -4 "$TMP/short/step-2/params.npy"
refused short "params.npy" adamw 2 --check-steps 4 --ckpt-resume "$TMP/short/step-2"
copy nomanifest
rm "$TMP/nomanifest/step-2/manifest.json"
refused nomanifest "no manifest.json" adamw 2 --check-steps 4 \
    --ckpt-resume "$TMP/nomanifest/step-2"
refused optimizer "holds adamw state" sgd 2 --check-steps 4 --ckpt-resume "$TMP/ck/step-2"
MODEL=mlp-small refused model "holds model mlp-odd" adamw 2 --check-steps 4 \
    --ckpt-resume "$TMP/ck/step-2"
refused early-check "is not after the checkpoint's step 2" adamw 2 --check-steps 2,4 \
    --ckpt-resume "$TMP/ck/step-2"
refused missing "no such directory" adamw 1 --check-steps 4 --ckpt-resume "$TMP/nothing/step-2"
refused saves-without-root "--ckpt-save-steps needs --ckpt-root" adamw 1 --check-steps 4 \
    --ckpt-save-steps 2
refused exists "step-2" adamw 2 --check-steps 4 --ckpt-root "$TMP/ck" --ckpt-save-steps 2

# dtbench checkpoint: the same verdicts from the command line.
cli() { # WANT_RC STDOUT_OR_STDERR_SUBSTRING ARGS...
    local want=$1 text=$2
    shift 2
    "$DTBENCH" checkpoint "$@" >"$TMP/cli.out" 2>"$TMP/cli.err"
    local rc=$?
    [ $rc -eq "$want" ] || fail "checkpoint $*: exit $rc, want $want: $(cat "$TMP/cli.err")"
    grep -qF -- "$text" "$TMP/cli.out" "$TMP/cli.err" || fail "checkpoint $*: no '$text'"
    if [ "$want" -ne 0 ]; then
        [ "$(wc -l <"$TMP/cli.err")" -eq 1 ] || fail "checkpoint $*: not one line on stderr"
    fi
}
cli 0 "  step          2" "$TMP/ck/step-2"
cli 0 "  arrays        params.npy exp_avg.npy exp_avg_sq.npy" "$TMP/ck/step-2"
cli 1 "exp_avg.npy does not match its sha256" "$TMP/flip/step-2"
cli 1 "no manifest.json" "$TMP/nomanifest/step-2"
cli 2 "No such file or directory" "$TMP/nothing/step-2"
cli 0 "$TMP/ck/step-2" --latest "$TMP/ck"
cli 1 "no committed checkpoint under" --latest "$TMP/flip/step-2"
cli 2 "unknown option '--x'" --x

[ $failures -eq 0 ] && echo "ckpt_refuse.sh: all checks passed"
[ $failures -eq 0 ]
