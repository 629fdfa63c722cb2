#!/bin/bash
# Calibration data for the memory half of "reported figures match measured"
# (docs/verification.md): for each implementation, model, precision,
# optimizer and world size, one rank world of `dtbench worker` (the
# conformance recipe: global batch 30 in 3 micro-batches, clipping, the
# parameters fetched after steps 1 and 3 of 3), and per rank the tracked
# total peak, the RSS growth and their difference (the untracked bytes).
# Not a CTest test: it takes minutes. Prints a table on stdout:
#   impl model precision optimizer np rank tracked growth untracked
# usage: rss_calibrate.sh DTBENCH RANK_DUMP [MODELS] [NPS] [IMPLS]
# ($BATCH and $MICRO override the batch of 30 in 3 micro-batches.)
set -u
DTBENCH=$(realpath "$1") DUMP=$2
MODELS=${3:-mlp-odd mlp-small mlp-1m mlp-8m mlp-20m}
NPS=${4:-1 2 3 4}
IMPLS=${5:-baseline ref-ddp ref-zero1 ref-zero2 ref-zero3}
PLUGINS=$(dirname "$DTBENCH")/plugins
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-rsscal-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "impl model precision optimizer np rank tracked growth untracked"
for impl in $IMPLS; do
    case $impl in
        baseline) stage=single nps=1 require=single-device ;;
        ref-ddp) stage=ddp nps=$NPS require=ddp ;;
        *) stage=zero${impl#ref-zero} nps=$NPS require=$stage ;;
    esac
    for model in $MODELS; do
        for prec in fp32 bf16-mixed; do
            for opt in adamw sgd; do
                for np in $nps; do
                    out="$TMP/$impl-$model-$prec-$opt-$np"
                    if ! mpirun --oversubscribe --bind-to none -np "$np" \
                        -x OPENBLAS_NUM_THREADS=1 -x OMP_NUM_THREADS=1 \
                        "$DTBENCH" worker --impl "$PLUGINS/$impl.so" --out "$out" \
                        --model "$model" --optimizer "$opt" --lr 0.01 --momentum 0.9 \
                        --beta1 0.9 --beta2 0.999 --eps 1e-8 --weight-decay 0.01 --clip 0.05 \
                        --batch "${BATCH:-30}" --micro-batches "${MICRO:-3}" --steps 3 \
                        --seed 20261123 \
                        --bucket-bytes 0 --prefetch-depth -1 --stage "$stage" \
                        --precision "$prec" --require "$require" --check-steps 1,3 \
                        --solo 0 >"$out.log" 2>&1; then
                        echo "rss_calibrate.sh: $impl $model $prec $opt np=$np failed:" >&2
                        tail -5 "$out.log" >&2
                        continue
                    fi
                    "$DUMP" "$out"/rank-*.bin | while read -r line; do
                        eval "$(echo "$line" | tr ' ' '\n' | grep -E '^(rank|tracked_peak|rss_growth)=')"
                        echo "$impl $model $prec $opt $np $rank $tracked_peak $rss_growth" \
                             "$((rss_growth - tracked_peak))"
                    done
                    rm -rf "$out"
                done
            done
        done
    done
done
