#!/bin/bash
# The smallest error the tolerance catches (docs/tolerance.md): runs the
# update-fault test plugin (one element's update scaled by 1 + 2^-k at every
# step) through the ddp suite for each k, and prints per case the largest k
# still caught (a failed check in that case; the plugin without a fault
# passes everything). Not a CTest test: a measurement.
# usage: fault_scan.sh DTBENCH PLUGIN ELEMENT "K..." [dtbench run options...]
#   e.g. fault_scan.sh build/dtbench build/tests/plugins-fault/update-fault.so 0 \
#            "6 8 10 12 14 16 18 20" --np 2 --model mlp-odd
set -u
DTBENCH=$1 PLUGIN=$2 ELEMENT=$3 KS=$4
shift 4
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-fault-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
for k in $KS; do
    DTB_FAULT_K=$k DTB_FAULT_ELEMENT=$ELEMENT DTBENCH_DB=$TMP/db "$DTBENCH" run --suite ddp \
        --impl "$PLUGIN" --tap "$TMP/k$k.tap" "$@" 2>/dev/null
    awk -v k="$k" '/^not ok [0-9]+ - / { line = $0; sub(/^not ok [0-9]+ - /, "", line);
                    sub(/: [^:]*$/, "", line); print k "\t" line }' "$TMP/k$k.tap"
done | awk -F'\t' '{ if (!($2 in best) || $1 > best[$2]) best[$2] = $1 }
                   END { for (c in best) printf "%s\t%s\n", best[c], c }' |
    sed 's/^/largest k caught: /' | sort -t$'\t' -k2
