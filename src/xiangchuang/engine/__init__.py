"""The policy engine: pure, vectorized, no database or web code.

``evaluate(case, on)`` explains one case; ``evaluate_batch(tables, on)`` runs the same program
definitions over columns for a whole registry.
"""

ENGINE_VERSION = "0.1.0"
