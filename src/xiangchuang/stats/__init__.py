"""Quarterly statistics, monitoring and reports (clause 5.13)."""
