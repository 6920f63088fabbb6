#!/usr/bin/env bash
# The full-size proofs of the mentor draw (issue 5, MENTOR_DRAW.md acceptance), which CI runs smaller:
#   - Hypothesis over XC_DRAW_EXAMPLES random pools/events/histories/declines (default here 100,000):
#     0 recusal, quota or cap violations; infeasible draws fail with the right reason;
#   - chi-square uniformity over XC_CHI_SEEDS seeds (default here 100,000), p > 0.01; backup rank uniform.
# Usage: bash scripts/mentor_draw_full.sh [examples] [seeds]   (one core; expect hours on a busy machine)
# Output: the pytest summary with Hypothesis statistics, and the elapsed time.
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLES="${1:-100000}"
SEEDS="${2:-100000}"
start=$(date +%s)
XC_DRAW_EXAMPLES="$EXAMPLES" .venv/bin/pytest tests/mentors/test_properties.py -p no:cacheprovider \
  --hypothesis-show-statistics -q -q
XC_CHI_SEEDS="$SEEDS" .venv/bin/pytest tests/mentors/test_uniformity.py -p no:cacheprovider -q -q
echo "examples=$EXAMPLES seeds=$SEEDS elapsed_s=$(( $(date +%s) - start ))"
