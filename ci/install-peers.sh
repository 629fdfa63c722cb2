#!/usr/bin/env bash
# Installs the Python peers' environment (docs/python.md): a virtual
# environment made from Debian's /usr/bin/python3 (the interpreter the Python
# bridge embeds; not the pyenv python3 first on PATH) with
# ci/peers-requirements.txt, at $DTBENCH_PYTHON_VENV or /opt/dtbench-peers
# (the bridge's default). Does nothing when the venv already has exactly
# those versions. Cost on a fresh machine: 2.9 GiB downloaded from PyPI,
# 5.2 GB on disk, about 1.5 minutes here (docs/python.md has the figures).
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${DTBENCH_PYTHON_VENV:-/opt/dtbench-peers}"
python=/usr/bin/python3
requirements=ci/peers-requirements.txt

if [ -x "$venv/bin/python" ] &&
   "$venv/bin/python" -m pip freeze 2>/dev/null | sort >"${TMPDIR:-/tmp}/dtbench-peers-freeze.$$" &&
   ! grep -E '^[a-zA-Z]' "$requirements" | sort | comm -23 - "${TMPDIR:-/tmp}/dtbench-peers-freeze.$$" | grep -q .; then
  rm -f "${TMPDIR:-/tmp}/dtbench-peers-freeze.$$"
  echo "install-peers: $venv has $(grep -cE '^[a-zA-Z]' "$requirements") pinned packages"
  exit 0
fi
rm -f "${TMPDIR:-/tmp}/dtbench-peers-freeze.$$"

if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "install-peers: $python lacks venv/ensurepip (apt-get install python3-venv; ci/install-deps.sh does)" >&2
  exit 2
fi
echo "install-peers: creating $venv from $python ($("$python" --version 2>&1))"
start=$(date +%s)
"$python" -m venv "$venv"
# DS_BUILD_OPS=0: DeepSpeed compiles nothing at install (its ops build at
# first use; the peers use none that need a compiler).
DS_BUILD_OPS=0 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-input -r "$requirements"
echo "install-peers: installed in $(( $(date +%s) - start )) s, $(du -sh "$venv" | cut -f1) on disk:" \
     "$("$venv/bin/python" -c 'import torch, numpy, deepspeed; print("torch", torch.__version__, "numpy", numpy.__version__, "deepspeed", deepspeed.__version__)' 2>/dev/null | tail -1)"
