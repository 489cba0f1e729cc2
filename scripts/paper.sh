#!/usr/bin/env bash
# The main job: one model to the paper's figures. Installs what is missing, builds, then runs
#   layerlab paper --model MODEL --data DATA --out OUT [extra flags]
# Usage: bash scripts/paper.sh [--max-tokens N ...]      # the bundled model and corpus, into runs/paper
#        bash scripts/paper.sh MODEL DATA [OUT] [--max-tokens N] [--wic DIR] ...
# LAYERLAB_NO_SETUP=1 skips the install-and-build step and LAYERLAB_PAPER_OUT changes the default output
# folder (the tests run this script on a built checkout, into a temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 1 ] && [ "${1#--}" = "$1" ]; then
  echo "usage: bash scripts/paper.sh [MODEL DATA [OUT] [layerlab paper flags]]" >&2
  echo "  no arguments: the bundled model and corpus (assets/, see assets/ASSETS.md), report in runs/paper" >&2
  echo "  MODEL: a local model folder (config.json + safetensors) or a Hugging Face id such as openai-community/gpt2" >&2
  echo "  DATA:  plain text (documents separated by blank lines), .jsonl with a text field, or .parquet with a text column" >&2
  echo "  e.g.   bash scripts/paper.sh openai-community/gpt2 assets/corpus.jsonl runs/gpt2" >&2
  exit 2
fi
args=()
if [ $# -ge 2 ] && [ "${1#--}" = "$1" ]; then
  args=(--model "$1" --data "$2")
  shift 2
fi
out=${LAYERLAB_PAPER_OUT:-runs/paper}
if [ ${#args[@]} -gt 0 ] && [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then out=$1; shift; fi
[ "${LAYERLAB_NO_SETUP:-}" = 1 ] || bash scripts/setup.sh >&2
exec node dist/src/cli/main.js paper "${args[@]}" --out "$out" "$@"
