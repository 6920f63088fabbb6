"""Applications (一网通办): kinds, the readable transition tables, and the workflow service."""
