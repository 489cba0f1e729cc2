#!/usr/bin/env bash
# The test command: installs what the tests need (including Debian's Chromium for the report tests),
# builds, and runs the whole suite with Node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -f scripts/ensure-chromium.sh ]; then bash scripts/ensure-chromium.sh; fi
# OpenBLAS for fp32 in the suite: sweep tests check prefix sharing bit for bit, which holds for OpenBLAS's
# sgemm but only to ~1e-7 for oneDNN's (src/backend/f32-kernel.ts); the kernel choice has its own tests.
export LAYERLAB_F32_KERNEL="${LAYERLAB_F32_KERNEL:-openblas}"
# Only *.test.js files: helpers under dist/test are modules, not tests.
node --test $(find dist/test -name '*.test.js' | sort)
