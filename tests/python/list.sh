#!/bin/sh
# `dtbench list` shows the Python peers as py:NAME with what they declare
# (probed through the bridge, in a child), and a peer that cannot load as
# refused with its reason, while the list goes on.
# usage: list.sh DTBENCH
set -u
DTBENCH=$1
venv=${DTBENCH_PYTHON_VENV:-/opt/dtbench-peers}
if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    [ "${DTBENCH_REQUIRE_PEERS:-0}" = 1 ] && { echo "FAIL: no torch in $venv" >&2; exit 1; }
    echo "skipped: no torch in $venv"; exit 77
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dtbench-pylist-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

"$DTBENCH" list >"$TMP/list" 2>&1 || fail "dtbench list: exit $?"
grep -q '^Python implementations (--impl py:NAME; ' "$TMP/list" || fail "no Python heading"
for line in 'py:torch_ddp +torch 2\.[0-9.]+[^ ]* +ddp,fp32,bf16-mixed,model-mlp,cpu' \
            'py:torch_zero1 +torch [^ ]+ +zero1,fp32,bf16-mixed,model-mlp,cpu' \
            'py:torch_fsdp +torch [^ ]+ +zero2,zero3,fp32,bf16-mixed,model-mlp,cpu' \
            'py:deepspeed_zero +deepspeed 0\.[0-9.]+, torch [^ ]+ +zero1,zero2,zero3,fp32,bf16-mixed,model-mlp,cpu'; do
    grep -Eq "^  $line" "$TMP/list" || fail "no line /$line/"
done
# Without a usable venv every peer is refused, in one line each, and the
# C plugins are still listed.
DTBENCH_PYTHON_VENV="$TMP/none" "$DTBENCH" list >"$TMP/refused" 2>&1 || fail "list without a venv: exit $?"
grep -Eq '^  torch_ddp\.py +refused: DTBENCH_PYTHON_VENV=.* is not a Python 3\.[0-9]+ virtual environment' \
    "$TMP/refused" || fail "no refusal line: $(grep torch_ddp "$TMP/refused")"
grep -q '^  ref-ddp ' "$TMP/refused" || fail "the C plugins are missing without a venv"
[ $failures -eq 0 ] && echo "list.sh: all checks passed"
[ $failures -eq 0 ]
