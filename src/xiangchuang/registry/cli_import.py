"""Registry commands (import): registered on the main Typer app by xiangchuang.cli."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
