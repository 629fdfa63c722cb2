#!/usr/bin/env bash
# README command 2: set up, build (release, and ASan+UBSan), run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
bash ci/build.sh release
bash ci/build.sh sanitize

jobs="$(nproc)"
echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer"
ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE slow
echo "== all tests (release build)"
ctest --test-dir build --output-on-failure -j "$jobs"
