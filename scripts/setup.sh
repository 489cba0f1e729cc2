#!/usr/bin/env bash
# Installs everything layerlab needs on a fresh Debian machine (system packages, npm packages, native
# addon, TypeScript build). Idempotent: a second run only checks. Used by scripts/test.sh and
# scripts/paper.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian's redis-server package starts a system service on 127.0.0.1:6379 as it installs (a systemd unit,
# or its init script where there is no systemd and no policy-rc.d forbids it). layerlab needs only the
# binary: tests start their own server on a free loopback port. So a service this script installed is
# stopped and disabled at once (a redis-server installed before is left as its owner set it up).
stop_system_redis() {
  if [ -d /run/systemd/system ]; then
    as_root systemctl disable --now redis-server.service >/dev/null 2>&1 || true
  else
    as_root /etc/init.d/redis-server stop >/dev/null 2>&1 || true
    as_root update-rc.d redis-server disable >/dev/null 2>&1 || true
  fi
  if [ -e /run/redis/redis-server.pid ] && as_root kill -0 "$(cat /run/redis/redis-server.pid)" 2>/dev/null; then
    echo "setup: warning: the redis-server system service is still running (layerlab does not need it)" >&2
  fi
}

# Build tools, Debian's OpenBLAS (the BLAS kernels behind every matrix product), oneDNN (bf16 matmuls and
# its fp32 GEMM), fonts for the report's PNG figures, and redis-server with openssl (the queue tests start their
# own servers, one of them with TLS certificates made by openssl).
packages=(libopenblas-dev libdnnl-dev g++ make python3 fonts-dejavu-core fonts-liberation redis-server openssl)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  if [[ " ${missing[*]} " == *" redis-server "* ]]; then stop_system_redis; fi
fi

# npm packages (exact versions from package-lock.json); the install script builds the N-API addon.
stamp=node_modules/.layerlab-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ ! -f build/Release/layerlab_native.node ]; then
  npm ci --no-audit --no-fund
  touch "$stamp"
fi
npm run --silent build
