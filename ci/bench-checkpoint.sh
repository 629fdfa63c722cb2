#!/usr/bin/env bash
# Checkpoint write and read speed (docs/checkpoint.md, "Speed") against the
# disk's own sequential write speed for the same bytes.
#
# A world of NP ranks of IMPL trains one AdamW step of MODEL and saves a
# canonical checkpoint (every rank its part, fdatasync, then rank 0's
# coverage check, sha256 of every file, manifest, renames, fsyncs); a second
# world loads it (rank 0 verifies every sha256 before any value is read)
# and trains one more step. The worker times both (<root>/.timing). The
# disk's figure: dd of one file of the checkpoint's size, 1 MiB blocks,
# conv=fdatasync, in the same directory. With --cold (root only), the page
# cache is dropped before the load, so that it reads the disk.
#
# usage: bash ci/bench-checkpoint.sh [--model mlp-100m] [--np 4] [--impl ref-zero3]
#                                    [--dir DIR] [--cold] [BUILD_DIR]
set -euo pipefail
model=mlp-100m np=4 impl=ref-zero3 dir="${TMPDIR:-/tmp}" cold=0 build=build
while [ $# -gt 0 ]; do
    case $1 in
        --model) model=$2; shift 2 ;;
        --np) np=$2; shift 2 ;;
        --impl) impl=$2; shift 2 ;;
        --dir) dir=$2; shift 2 ;;
        --cold) cold=1; shift ;;
        -*) echo "bench-checkpoint.sh: unknown option $1" >&2; exit 2 ;;
        *) build=$1; shift ;;
    esac
done
dtbench="$build/dtbench"
[ -x "$dtbench" ] || { echo "bench-checkpoint.sh: no $dtbench (build first)" >&2; exit 2; }
plugins="$(cd "$build/plugins" && pwd)"
stage=${impl#ref-}
work=$(mktemp -d "$dir/dtbench-ckpt-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun --oversubscribe --bind-to none -np "$np" -x OPENBLAS_NUM_THREADS=1 -x OMP_NUM_THREADS=1)
worker() { # STEPS OUT [options]
    local steps=$1 out=$2
    shift 2
    "${mpi[@]}" "$dtbench" worker --impl "$plugins/$impl.so" --model "$model" --optimizer adamw \
        --lr 0.001 --momentum 0 --beta1 0.9 --beta2 0.999 --eps 1e-08 --weight-decay 0.01 \
        --clip 0 --batch "$np" --micro-batches 1 --steps "$steps" --seed 1 --bucket-bytes 0 \
        --prefetch-depth -1 --stage "$stage" --precision fp32 \
        --require "$stage,fp32,adamw,checkpoint,model-mlp,cpu" --check-steps none --solo 0 \
        --out "$out" "$@" >"$out.log" 2>&1 || { tail -5 "$out.log" >&2; exit 1; }
}
echo "bench-checkpoint: $impl, $model, AdamW fp32, $np ranks, checkpoint root $work/ck"
worker 1 "$work/save" --ckpt-root "$work/ck" --ckpt-save-steps 1
[ $cold -eq 1 ] && { sync; echo 3 >/proc/sys/vm/drop_caches || echo "  (could not drop the page cache)"; }
worker 2 "$work/load" --ckpt-root "$work/ck" --ckpt-resume "$work/ck/step-1"
bytes=$(awk '/^save / { sub("bytes=", "", $3); print $3 }' "$work/ck/.timing")
files=$(ls "$work/ck/step-1"/*.npy | wc -l)
# The disk: the checkpoint's bytes as one file, written sequentially and synced.
mib=$(( (bytes + 1048575) / 1048576 ))
dd_out=$(dd if=/dev/zero of="$work/dd.bin" bs=1M count="$mib" conv=fdatasync 2>&1 | tail -1)
dd_s=$(echo "$dd_out" | awk -F', ' '{ print $3 }' | awk '{ print $1 }')
rm -f "$work/dd.bin"
awk -v bytes="$bytes" -v files="$files" -v dd_s="$dd_s" -v mib="$mib" '
    /^(save|load) / {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        t[$1] = v["total_s"]; a[$1] = v["first_s"]; b[$1] = v["second_s"]
    }
    END {
        printf "  checkpoint: %d files, %.1f MB\n", files, bytes / 1e6
        printf "  %-34s %10s %10s\n", "", "seconds", "MB/s"
        printf "  %-34s %10.3f %10.0f\n", "save (stores + fdatasync)", a["save"], bytes / 1e6 / a["save"]
        printf "  %-34s %10.3f %10.0f\n", "save (sha256, manifest, commit)", b["save"], bytes / 1e6 / b["save"]
        printf "  %-34s %10.3f %10.0f\n", "save, total", t["save"], bytes / 1e6 / t["save"]
        printf "  %-34s %10.3f %10.0f\n", "load (open, verify sha256)", a["load"], bytes / 1e6 / a["load"]
        printf "  %-34s %10.3f %10.0f\n", "load (the plugin reads)", b["load"], bytes / 1e6 / b["load"]
        printf "  %-34s %10.3f %10.0f\n", "load, total", t["load"], bytes / 1e6 / t["load"]
        printf "  %-34s %10.3f %10.0f\n", "disk: dd " mib " MiB, fdatasync", dd_s, mib * 1.048576 / dd_s
    }' "$work/ck/.timing"
