#!/usr/bin/env bash
# Installs everything layerlab needs on a fresh Debian machine (system packages, npm packages, native
# addon, TypeScript build). Idempotent: a second run only checks. Used by scripts/test.sh and
# scripts/paper.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Build tools, Debian's OpenBLAS (the BLAS kernels behind every matrix product), oneDNN (bf16 matmuls and
# its fp32 GEMM) and fonts for the report's PNG figures.
packages=(libopenblas-dev libdnnl-dev g++ make python3 fonts-dejavu-core fonts-liberation)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm packages (exact versions from package-lock.json); the install script builds the N-API addon.
stamp=node_modules/.layerlab-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ ! -f build/Release/layerlab_native.node ]; then
  npm ci --no-audit --no-fund
  touch "$stamp"
fi
npm run --silent build
