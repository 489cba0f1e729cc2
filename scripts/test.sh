#!/usr/bin/env bash
# The test command: installs what the tests need (including Debian's Chromium for the report tests),
# builds, and runs the whole suite with Node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -f scripts/ensure-chromium.sh ]; then bash scripts/ensure-chromium.sh; fi
# Only *.test.js files: helpers under dist/test are modules, not tests.
node --test $(find dist/test -name '*.test.js' | sort)
