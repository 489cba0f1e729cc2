#!/usr/bin/env bash
# Makes sure Debian's Chromium (and fonts for charts and PNGs) is installed, for the report's browser
# tests (playwright-core drives /usr/bin/chromium; no browser is downloaded from anywhere else).
# Idempotent: does nothing when /usr/bin/chromium and the fonts are there. Needs root (or sudo) and apt.
set -euo pipefail

PACKAGES=(chromium fonts-liberation fonts-dejavu-core)

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
for p in fonts-liberation fonts-dejavu-core; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "ensure-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) and fonts present"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: missing ${missing[*]} and no apt-get to install them" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "ensure-chromium: missing ${missing[*]}; run as root to install them with apt-get" >&2
    exit 1
  fi
fi
echo "ensure-chromium: installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${PACKAGES[@]}" >/dev/null
/usr/bin/chromium --version
