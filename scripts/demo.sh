#!/usr/bin/env bash
# The main job on the embedded default: set up, generate demo data, run 政策找人, explain a case.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/xiangchuang demo "$@"
