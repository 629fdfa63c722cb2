#!/usr/bin/env bash
# README command 1: set up, build, and run the main job: the ddp conformance
# suite of the reference DDP against the single-device baseline, worlds 1-4.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
bash ci/build.sh release
exec build/dtbench run --suite ddp "$@"
