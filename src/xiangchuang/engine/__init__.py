"""The policy engine: pure, vectorized, no database or web code.

``evaluate(case, on)`` explains one case; ``evaluate_batch(tables, on)`` runs the same program
definitions over columns for a whole registry.
"""

from xiangchuang.engine.memory import prefer_small_pages

ENGINE_VERSION = "0.1.0"

prefer_small_pages()  # see memory.py: large columns without huge-page compaction stalls
