"""The policy engine: pure, vectorized, no database or web code.

``evaluate(case, on)`` explains one case; ``evaluate_batch(tables, on)`` runs the same program
definitions over columns for a whole registry.
"""

from xiangchuang.engine import memory as _memory  # noqa: F401  (chooses NumPy's page size: memory.py)

ENGINE_VERSION = "0.1.0"
