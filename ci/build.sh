#!/usr/bin/env bash
# Configures and builds dtbench.  Usage: ci/build.sh [release|sanitize] [extra cmake args]
#   release  -> build/        (RelWithDebInfo; CUDA backend when nvcc is found)
#   sanitize -> build-asan/   (AddressSanitizer + UndefinedBehaviorSanitizer, CPU only)
set -euo pipefail
cd "$(dirname "$0")/.."

flavour="${1:-release}"
shift || true

# The CUDA toolkit lives in /usr/local/cuda on our machines; PATH may lack it.
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
cuda=OFF
if command -v nvcc >/dev/null 2>&1; then cuda=ON; fi

case "$flavour" in
  release)  dir=build;      args=(-DDTB_WITH_CUDA="$cuda") ;;
  sanitize) dir=build-asan; cuda=OFF; args=(-DDTB_SANITIZE=ON -DDTB_WITH_CUDA=OFF) ;;
  *) echo "ci/build.sh: unknown flavour '$flavour' (release or sanitize)" >&2; exit 2 ;;
esac

cmake -S . -B "$dir" "${args[@]}" "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
echo "built $dir (CUDA backend: ${cuda}, flavour: $flavour)"
