#!/usr/bin/env bash
# The one test command (README): set up, lint, type-check, check the layer rules, run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff"; .venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
echo "== mypy"; .venv/bin/mypy
echo "== import-linter"; .venv/bin/lint-imports
echo "== pytest"
set +e
.venv/bin/pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest 没有收集到任何测试 / pytest collected no tests (exit 5)" >&2
  exit 1
fi
exit "$rc"
