#!/usr/bin/env bash
# Installs what dtbench needs on a Debian machine, non-interactively; does
# nothing when everything is already there. Needs root (or sudo) only when a
# package is missing. The CUDA toolkit is not a Debian package here: the
# build uses it when nvcc is found (ci/build.sh) and builds without it else.
set -euo pipefail

packages=(
  cmake make gcc pkg-config          # build
  libopenmpi-dev openmpi-bin         # rank worlds
  libopenblas-dev                    # tuned BLAS for the CPU backend
  libsqlite3-dev sqlite3             # results database
  libcsv-dev                         # CSV export
  perl                               # prove, the TAP consumer
  python3 binutils                   # tests/layout: Debian's /usr/bin/python3, nm
  python3-dev python3-venv           # the Python bridge embeds libpython3; the peers' venv (docs/python.md)
  python3-numpy                      # tests/trajectory: NumPy for Debian's /usr/bin/python3, which
                                     # the tests call by that path (not the pyenv python3 on PATH)
  python3-yaml                       # tests/harness/tap_prove.sh: a strict YAML reader, same python3
  gnuplot-nox                        # dtbench report's plots (svg terminal, no X)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
