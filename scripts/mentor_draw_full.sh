#!/usr/bin/env bash
# The full-size proofs of the mentor draw (issue 5, MENTOR_DRAW.md acceptance), which CI runs smaller:
#   1. chi-square uniformity of per-mentor selection counts and backup ranks over SEEDS seeds
#      (default 100,000), p > 0.01;
#   2. Hypothesis over CHUNKS × EXAMPLES random pools/events/histories/declines (default 10 × 10,000 =
#      100,000 instances, each chunk with its own --hypothesis-seed so the chunks are different instances
#      and each chunk's result is logged as it finishes): 0 recusal, quota or cap violations; infeasible
#      draws fail with the right reason.
# Usage: bash scripts/mentor_draw_full.sh [examples_per_chunk] [chunks] [seeds]   (seeds=0 skips step 1)
# About 0.035 s of CPU per Hypothesis instance (≈ 1 CPU-hour for 100,000) on the development machine.
set -uo pipefail
cd "$(dirname "$0")/.."
EXAMPLES="${1:-10000}"
CHUNKS="${2:-10}"
SEEDS="${3:-100000}"
start=$(date +%s)
failed=0
t0=$(date +%s)
if [ "$SEEDS" -eq 0 ]; then
  echo "uniformity: skipped (seeds=0)"
elif XC_CHI_SEEDS="$SEEDS" .venv/bin/pytest tests/mentors/test_uniformity.py -p no:cacheprovider -q -q; then
  echo "uniformity seeds=$SEEDS: passed ($(( $(date +%s) - t0 )) s)"
else
  echo "uniformity seeds=$SEEDS: FAILED"; failed=1
fi
for chunk in $(seq 1 "$CHUNKS"); do
  t0=$(date +%s)
  if XC_DRAW_EXAMPLES="$EXAMPLES" .venv/bin/pytest tests/mentors/test_properties.py -p no:cacheprovider \
      --hypothesis-seed="$chunk" -q -q; then
    echo "properties chunk $chunk/$CHUNKS examples=$EXAMPLES seed=$chunk: passed ($(( $(date +%s) - t0 )) s)"
  else
    echo "properties chunk $chunk/$CHUNKS examples=$EXAMPLES seed=$chunk: FAILED"; failed=1
  fi
done
echo "total instances=$(( EXAMPLES * CHUNKS )) seeds=$SEEDS failed=$failed elapsed_s=$(( $(date +%s) - start ))"
exit "$failed"
