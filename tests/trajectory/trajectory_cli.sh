#!/bin/sh
# `dtbench trajectory`'s command line: help, the recipe names a suite spells
# with spaces given with dashes, --out an existing empty directory, and bad
# input: exactly one line on stderr naming the problem, exit status 2, no
# stdout, and nothing left behind (no --out, no staging directory), also
# when a write fails half-way (a file size limit).
# usage: trajectory_cli.sh DTBENCH
set -u
DTBENCH=$1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-trajcli-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# The work directory holds only what the test put there: out.txt, err.txt,
# full/ (non-empty), afile; never a trajectory or a staging directory.
clean() {
    left=$(cd "$TMP/work" && ls -A | grep -v -x -e full -e afile | tr '\n' ' ')
    [ -z "$left" ] || fail "$1: left behind in the work directory: $left"
}

expect_bad() {
    want=$1; shift
    (cd "$TMP/work" && "$DTBENCH" trajectory "$@") >"$TMP/out.txt" 2>"$TMP/err.txt"; rc=$?
    [ $rc -eq 2 ] || fail "trajectory $*: exit $rc, want 2"
    lines=$(wc -l <"$TMP/err.txt")
    [ "$lines" -eq 1 ] || fail "trajectory $*: $lines lines on stderr, want 1: $(cat "$TMP/err.txt")"
    grep -qF -- "$want" "$TMP/err.txt" || fail "trajectory $*: stderr '$(cat "$TMP/err.txt")' lacks '$want'"
    grep -q '^dtbench: ' "$TMP/err.txt" || fail "trajectory $*: stderr does not start with 'dtbench: '"
    [ ! -s "$TMP/out.txt" ] || fail "trajectory $*: wrote to stdout"
    clean "trajectory $*"
}

mkdir -p "$TMP/work/full" && echo x >"$TMP/work/full/keep" && echo x >"$TMP/work/afile" || exit 1

"$DTBENCH" trajectory --help >"$TMP/out.txt" 2>&1 || fail "trajectory --help: nonzero exit"
grep -qF "usage: dtbench trajectory --model NAME --recipe NAME --out DIR" "$TMP/out.txt" ||
    fail "trajectory --help lacks the usage line"
"$DTBENCH" help trajectory >"$TMP/out.txt" 2>&1 || fail "help trajectory: nonzero exit"
grep -qF "usage: dtbench trajectory" "$TMP/out.txt" || fail "help trajectory lacks the usage"
"$DTBENCH" --help | grep -q "^  trajectory " || fail "dtbench --help does not list trajectory"

M="--model mlp-odd --recipe sgd"
expect_bad "unknown option '--bogus'" $M --out t --bogus 1
expect_bad "--model, --recipe and --out are required" --recipe sgd --out t
expect_bad "--model, --recipe and --out are required" --model mlp-odd --out t
expect_bad "--model, --recipe and --out are required" $M
expect_bad "unknown model 'nosuch'" --model nosuch --recipe sgd --out t
expect_bad "suite ddp has no recipe 'sgdx'" --model mlp-odd --recipe sgdx --out t
expect_bad "'sgd noclip'" --model mlp-odd --recipe "sgd_noclip" --out t
expect_bad "unknown suite 'nosuch'" $M --suite nosuch --out t
expect_bad "throughput is a benchmark suite" $M --suite throughput --out t
expect_bad "--precision: 'fp16' is not fp32 or bf16" $M --precision fp16 --out t
expect_bad "--steps: 'ten' is not" $M --steps ten --out t
expect_bad "--steps: 0 is out of range" $M --steps 0 --out t
expect_bad "--steps: 100001 is out of range" $M --steps 100001 --out t
expect_bad "--seed: '-1' is not" $M --seed -1 --out t
expect_bad "--seed: '1x' is not" $M --seed 1x --out t
expect_bad "--batch: '3.5' is not" $M --batch 3.5 --out t
expect_bad "--micro-batches: 0 is out of range" $M --micro-batches 0 --out t
expect_bad "--micro-batches: 5 micro-batches exceed the global batch of 4" $M --batch 4 --micro-batches 5 --out t
expect_bad "3 micro-batches (the suite's) exceed the global batch of 2" $M --batch 2 --out t
expect_bad "would hold" --model mlp-650m --recipe adamw --out t
expect_bad "--out: full exists and is not an empty directory" $M --out full
expect_bad "--out: afile exists and is not an empty directory" $M --out afile
expect_bad "--out: cannot create a directory in missing" $M --out missing/t
expect_bad "--out: afile/t: Not a directory" $M --out afile/t
expect_bad "unexpected argument 'extra'" $M --out t extra
mkdir "$TMP/work/hollow"
(cd "$TMP/work/hollow" && "$DTBENCH" trajectory $M --out .) >"$TMP/out.txt" 2>"$TMP/err.txt"
[ $? -eq 2 ] && grep -qF "does not name a new directory" "$TMP/err.txt" ||
    fail "--out . in an empty directory: $(cat "$TMP/err.txt")"
rmdir "$TMP/work/hollow" || fail "--out .: something was written into the current directory"

# A write that fails half-way leaves nothing, and says which file: files
# over 16 blocks refused (dash counts 512 bytes, bash 1024; init.npy is
# 21 KB), SIGXFSZ ignored so that the write fails with EFBIG instead.
(cd "$TMP/work" && trap '' XFSZ && ulimit -f 16 && exec "$DTBENCH" trajectory $M --out t) \
    >"$TMP/out.txt" 2>"$TMP/err.txt"; rc=$?
[ $rc -eq 2 ] || fail "write failure: exit $rc, want 2: $(cat "$TMP/err.txt")"
grep -qF "init.npy failed: File too large" "$TMP/err.txt" ||
    fail "write failure: stderr '$(cat "$TMP/err.txt")'"
[ "$(wc -l <"$TMP/err.txt")" -eq 1 ] || fail "write failure: not one line: $(cat "$TMP/err.txt")"
clean "write failure"

# Successes: a dashed recipe name into an existing empty directory; bf16 with
# every option given.
mkdir "$TMP/work/empty"
(cd "$TMP/work" && "$DTBENCH" trajectory --model mlp-odd --recipe sgd-noclip --steps 2 \
    --out empty/) >"$TMP/out.txt" 2>"$TMP/err.txt" || fail "sgd-noclip into an empty dir: $(cat "$TMP/err.txt")"
grep -qF "wrote empty: mlp-odd sgd noclip fp32, 2 steps" "$TMP/out.txt" ||
    fail "sgd-noclip: stdout '$(cat "$TMP/out.txt")'"
grep -qF '"recipe": "sgd noclip"' "$TMP/work/empty/recipe.json" || fail "sgd-noclip: recipe.json"
grep -qF '"clip_norm": 0,' "$TMP/work/empty/recipe.json" || fail "sgd-noclip: clip_norm 0"
[ -f "$TMP/work/empty/step0002/micro2/y.npy" ] || fail "sgd-noclip: step0002/micro2/y.npy missing"
rm -rf "$TMP/work/empty"
(cd "$TMP/work" && "$DTBENCH" trajectory --model mlp-small --recipe adamw --suite zero3 \
    --precision bf16 --steps 3 --seed 987654321987 --batch 7 --micro-batches 2 --out b) \
    >"$TMP/out.txt" 2>"$TMP/err.txt" || fail "bf16 with every option: $(cat "$TMP/err.txt")"
for want in '"suite": "zero3"' '"precision": "bf16-mixed"' '"seed": 987654321987,' \
            '"philox_key": [4106811203, 229],' '"micro_batch_samples": [[0, 3], [3, 4]],' \
            '"global_batch": 7,' '"steps": 3,'; do
    grep -qF "$want" "$TMP/work/b/recipe.json" || fail "bf16 recipe.json lacks $want"
done
[ -f "$TMP/work/b/step0003/micro1/x.npy" ] || fail "bf16: step0003/micro1/x.npy missing"
rm -rf "$TMP/work/b"
clean "successes"

if [ "$failures" -ne 0 ]; then
    echo "trajectory_cli: $failures failure(s)" >&2
    exit 1
fi
echo "trajectory_cli: all checks passed"
