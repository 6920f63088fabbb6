#!/usr/bin/env bash
# The main job on the embedded default: set up, generate demo data, run 政策找人, explain a case, create the
# demo accounts (passwords printed once), then serve the web app on 127.0.0.1:8000.
# `--no-serve` (or XIANGCHUANG_NO_SERVE=1) stops after the demo, for tests and CI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
serve=1
[ "${XIANGCHUANG_NO_SERVE:-}" = "1" ] && serve=0
data_dir="data/demo"
args=()
prev=""
for a in "$@"; do
  if [ "$a" = "--no-serve" ]; then serve=0; continue; fi
  if [ "$prev" = "--data-dir" ]; then data_dir="$a"; fi
  case "$a" in --data-dir=*) data_dir="${a#--data-dir=}" ;; esac
  args+=("$a"); prev="$a"
done
.venv/bin/xiangchuang demo ${args[@]+"${args[@]}"}
data_dir="$(cd "$data_dir" && pwd)"
export XIANGCHUANG_DATA_DIR="$data_dir" XIANGCHUANG_DATABASE_URL="sqlite:///$data_dir/xiangchuang.db" XIANGCHUANG_DEMO=true
unset XIANGCHUANG_KEYRING XIANGCHUANG_KEYRING_FILE
.venv/bin/xiangchuang demo-accounts
[ "$serve" = "1" ] || exit 0
exec .venv/bin/xiangchuang serve --host 127.0.0.1 --port "${XIANGCHUANG_PORT:-8000}"
