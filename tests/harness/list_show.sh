#!/bin/sh
# Suite recipes and recorded case configurations in the open:
#   list FAULT_DIR   `dtbench list --suite NAME` for every suite of `dtbench list`:
#                    exit 0, the suite's kind and description, and numbers of its
#                    recipe; an unknown suite is one line and exit 2; plain
#                    `dtbench list` keeps its format
#   show FAULT_DIR   a small recorded run (the fails plugin: every fp32 case fails
#                    "completed", every bf16 case is skipped) shown with
#                    `show RUN --case N` and `--case KEY`: the whole configuration
#                    one field per line and the checks with their diagnostics; a
#                    case that is not there is one line and exit 2; plain `show RUN`
#                    keeps its format
# usage: list_show.sh MODE DTBENCH FAULT_DIR
set -u
MODE=$1 DTBENCH=$2 FAULT=$3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-list-show-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
# dtbench list probes the Python peers by importing torch and DeepSpeed
# (seconds each; tests/python's python_list checks that listing): here the
# bridge refuses them at once, with no venv.
export DTBENCH_PYTHON_VENV="$TMP/no-venv"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# has FILE LINE...: every LINE is a whole line of FILE
has() {
    f=$1
    shift
    for line in "$@"; do
        grep -qxF -- "$line" "$f" || fail "$(head -1 "$f"): no line '$line'"
    done
}

# expect_bad STDERR_SUBSTRING ARGS...: exit 2, one stderr line, no stdout
expect_bad() {
    want=$1
    shift
    "$DTBENCH" "$@" >"$TMP/bo" 2>"$TMP/be"
    rc=$?
    [ $rc -eq 2 ] || fail "dtbench $*: exit $rc, want 2"
    [ "$(wc -l <"$TMP/be")" -eq 1 ] || fail "dtbench $*: not one line on stderr: $(cat "$TMP/be")"
    grep -qF -- "$want" "$TMP/be" || fail "dtbench $*: stderr '$(cat "$TMP/be")' lacks '$want'"
    [ ! -s "$TMP/bo" ] || fail "dtbench $*: wrote to stdout"
}

case $MODE in
list)
    "$DTBENCH" list >"$TMP/list" 2>&1 || fail "dtbench list: exit $?"
    grep -q '^suites:$' "$TMP/list" || fail "dtbench list: no 'suites:' heading"
    grep -q '^  ddp            54 cases  DDP fp32' "$TMP/list" || fail "dtbench list: the ddp line changed"
    suites=$(sed -n '/^suites:$/,/^models:$/p' "$TMP/list" | sed -n 's/^  \([a-z0-9-]*\) .*/\1/p')
    [ "$(echo "$suites" | wc -w)" -ge 7 ] || fail "dtbench list: fewer than 7 suites: $suites"
    for s in $suites; do
        "$DTBENCH" list --suite "$s" >"$TMP/$s" 2>"$TMP/$s.err"
        rc=$?
        [ $rc -eq 0 ] || fail "list --suite $s: exit $rc: $(cat "$TMP/$s.err")"
        [ ! -s "$TMP/$s.err" ] || fail "list --suite $s: stderr: $(cat "$TMP/$s.err")"
        head -1 "$TMP/$s" | grep -Eq "^suite $s: (conformance|benchmark)$" || fail "list --suite $s: first line"
        grep -q '^  description       [A-Za-z]' "$TMP/$s" || fail "list --suite $s: no description"
        grep -q '^  world sizes       [0-9]' "$TMP/$s" || fail "list --suite $s: no world sizes"
        grep -q '^  seed              [0-9]' "$TMP/$s" || fail "list --suite $s: no seed"
        echo "== list --suite $s"
        cat "$TMP/$s"
    done
    has "$TMP/checkpoint" "  implementation    ref-zero2 (default; --impl)" \
        "  world sizes       1,2,3,4 (of the shapes below; --np keeps a shape whose two worlds it lists)" \
        "  steps             8" "  checked steps     4,6,8" "  cases             52" \
        "  requires          sgd-momentum,adamw,grad-clip,grad-accum,uneven-batch,checkpoint,model-mlp,cpu" \
        "    self@2>self@2   saved after step 4 at 2 rank(s), resumed at 2 (bit for bit)" \
        "    self@4>self@3   saved after step 4 at 4 rank(s), resumed at 3" \
        "    zero3@3>self@2  saved after step 4 at 3 rank(s), resumed at 2" \
        "    crash           self at 3 ranks saving every 2 steps, one rank killed, restarted from the latest checkpoint"
    for s in ddp zero1 zero2 zero3; do
        has "$TMP/$s" "  stage             $s" "  world sizes       1,2,3,4" \
            "  global batch      30" "  micro-batches     3" "  steps             10" \
            "  checked steps     1,10" "  seed              20261123" \
            "  precisions        fp32, bf16-mixed" \
            "  models            mlp-odd (5209 params), mlp-small (26122 params)" \
            "  requires          $s,sgd-momentum,adamw,grad-clip,grad-accum,uneven-batch,model-mlp,cpu" \
            "  per case          fp32,bf16-mixed: a case whose precision the implementation lacks is skipped" \
            "  recipes" \
            "    sgd             sgd-momentum  lr 0.05  momentum 0.9  weight decay 0.0001  clip norm 0.05" \
            "    sgd noclip      sgd-momentum  lr 0.05  momentum 0.9  weight decay 0.0001  clip norm 0 (off)" \
            "    adamw           adamw  lr 0.01  betas 0.9, 0.999  eps 1e-08  weight decay 0.01  clip norm 0.05"
        grep -q '^    uneven-micro    mlp-odd, sgd noclip, fp32, np=2, batch 31 in 3 micro-batches: ' \
            "$TMP/$s" || fail "list --suite $s: no uneven-micro edge case"
        grep -q '^    empty-share     mlp-odd, adamw, fp32, np=4, batch 6 in 2 micro-batches: ' \
            "$TMP/$s" || fail "list --suite $s: no empty-share edge case"
        grep -q '^    clip-some       mlp-odd, sgd, fp32, np=3, batch 30 in 3 micro-batches, clip norm 0.2: ' \
            "$TMP/$s" || fail "list --suite $s: no clip-some edge case with its clip norm"
        grep -q '^    bucket-span     mlp-small, sgd noclip, fp32, np=2, batch 30 in 3 micro-batches, bucket bytes 8192: ' \
            "$TMP/$s" || fail "list --suite $s: no bucket-span edge case with its bucket bytes"
    done
    has "$TMP/ddp" "  bucket bytes      4096" "  prefetch depths   the plugin's default" "  cases             54"
    has "$TMP/zero3" "  bucket bytes      the plugin's default" \
        "  prefetch depths   1,0 (after 1 only with mlp-odd)" "  cases             78"
    has "$TMP/throughput" "  global batch      256" "  micro-batches     1" "  world sizes       1,2,4 (--np)" \
        "  implementations   ref-ddp,ref-zero1,ref-zero2,ref-zero3 (--impl LIST)" \
        "  warm-up           2 (--warmup)" "  repetitions       5 (--reps, at least 5)" \
        "  steps             warm-up + repetitions per world" \
        "    adamw           adamw  lr 0.001  betas 0.9, 0.999  eps 1e-08  weight decay 0.01  clip norm 1"
    has "$TMP/memory" "  global batch      32" "  steps             2 per world" \
        "  precisions        fp32, bf16-mixed (--precision)"
    grep -q '^  sizes             1 KiB, 4 KiB, .*, 64 MiB (--sizes)$' "$TMP/comm" || fail "comm: no sizes"
    grep -q '^  collectives       allreduce, reduce_scatter, allgather, broadcast' "$TMP/comm" ||
        fail "comm: no collectives"
    expect_bad "list: unknown suite 'nosuch' (see dtbench list)" list --suite nosuch
    expect_bad "list: unknown option '--bogus'" list --suite ddp --bogus
    ;;
show)
    DB=$TMP/r.db
    "$DTBENCH" run --suite ddp --impl "$FAULT/fails.so" --np 1 --model mlp-odd --steps 2 \
        --db "$DB" --tap "$TMP/r.tap" 2>"$TMP/run.err"
    rc=$?
    [ $rc -eq 1 ] || fail "the recorded run: exit $rc, want 1: $(cat "$TMP/run.err")"
    "$DTBENCH" show latest --db "$DB" >"$TMP/show" 2>&1 || fail "show latest: exit $?"
    grep -q '^run 1: complete$' "$TMP/show" || fail "show: no run line"
    grep -q '^case 0: ddp mlp-odd sgd fp32 np=1 mb=3 (fails 0) DID NOT COMPLETE: 0 passed, 1 failed, 0 skipped in ' \
        "$TMP/show" || fail "show: the case 0 line changed: $(grep '^case 0' "$TMP/show")"
    grep -q '^  metrics:$' "$TMP/show" || fail "show: no metrics heading"
    grep -q '^config:$' "$TMP/show" && fail "show without --case printed a configuration"

    "$DTBENCH" show 1 --case 0 --db "$DB" >"$TMP/c0" 2>"$TMP/c0.err" || fail "show --case 0: exit $?: $(cat "$TMP/c0.err")"
    cat "$TMP/c0"
    has "$TMP/c0" "run 1, case 0: ddp mlp-odd sgd fp32 np=1 mb=3" \
        "  label           fails mlp-odd sgd fp32 np=1 mb=3" \
        "  completed       NO, in $(sed -n 's/^  completed       NO, in //p' "$TMP/c0")" \
        "config:" "  suite: ddp" "  model: mlp-odd" "  recipe: sgd" "  world_size: 1" \
        "  optimizer:" "    name: sgd" "    kind: sgd" "    lr: 0.05" "    momentum: 0.9" \
        "    weight_decay: 0.0001" "  global_batch: 30" "  micro_batches: 3" "  steps: 2" \
        "  seed: 20261123" "  clip_norm: 0.05" "  bucket_bytes: 4096" "  stage: ddp" \
        "  precision: fp32" "  check_steps: [1, 2]" "checks:" "  FAIL completed"
    grep -q '^       message: .*deliberate failure' "$TMP/c0" || fail "show --case 0: no failure message"
    grep -q '^       reproduce: ' "$TMP/c0" || fail "show --case 0: no reproduce line"
    # by key: the bf16 adamw case, skipped for the missing capability
    "$DTBENCH" show latest --db "$DB" --case "ddp mlp-odd adamw bf16 np=1 mb=3" >"$TMP/ck" 2>&1 ||
        fail "show --case KEY: exit $?: $(cat "$TMP/ck")"
    has "$TMP/ck" "run 1, case 5: ddp mlp-odd adamw bf16 np=1 mb=3" "    name: adamw" \
        "    lr: 0.01" "    beta1: 0.9" "    beta2: 0.999" "    eps: 1e-08" "  precision: bf16-mixed" \
        "  skip completed (skipped: fails lacks capability bf16-mixed)"
    expect_bad "run 1 has no case 6 (its cases are 0..5)" show 1 --case 6 --db "$DB"
    expect_bad "run 1 has no case with the key 'ddp nosuch'" show 1 --case "ddp nosuch" --db "$DB"
    expect_bad "unknown run or tag 'nosuch'" show nosuch --case 0 --db "$DB"
    ;;
*)
    fail "unknown mode $MODE"
    ;;
esac
[ $failures -eq 0 ] && echo "list_show.sh $MODE: all checks passed"
[ $failures -eq 0 ]
