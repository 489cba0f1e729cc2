#!/usr/bin/env bash
# The main job: one model to the paper's figures. Installs what is missing, builds, then runs
#   layerlab paper --model MODEL --data DATA --out OUT [extra flags]
# Usage: bash scripts/paper.sh MODEL DATA [OUT] [--max-tokens N] [--wic DIR] ...
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
  echo "usage: bash scripts/paper.sh MODEL DATA [OUT] [layerlab paper flags]" >&2
  echo "  MODEL: a local model folder (config.json + safetensors) or a Hugging Face id such as openai-community/gpt2" >&2
  echo "  DATA:  plain text (documents separated by blank lines), .jsonl with a text field, or .parquet with a text column" >&2
  exit 2
fi
model=$1 data=$2
shift 2
out=runs/paper
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then out=$1; shift; fi
bash scripts/setup.sh >&2
exec node dist/src/cli/main.js paper --model "$model" --data "$data" --out "$out" "$@"
