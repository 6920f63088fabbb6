"""Mentor-pool commands: import mentors, events, commitments and reveals, the draw, unseal, manifest
export and ``verify-draw`` (registered on the main Typer app by one line in ``cli.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xiangchuang.cli_common import console, fail
from xiangchuang.mentors import draw as D

__all__ = ["register", "verify_draw_file"]


def verify_draw_file(path: Path) -> D.VerifyResult:
    try:
        manifest = D.load(str(path))
    except (OSError, ValueError) as exc:
        raise fail(f"无法读取抽选清单 {path}：{exc}") from None
    return D.verify(manifest)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""

    @app.command("verify-draw")
    def verify_draw(
        manifest: Annotated[Path, typer.Argument(help="抽选清单（JSON）")],
    ) -> None:
        """复核导师抽选：按清单中的输入、承诺、揭示和谢绝记录重新抽取，逐字节比对结果。"""
        res = verify_draw_file(manifest)
        if res.ok:
            console.print(f"通过：{res.message}")
            return
        console.print(f"未通过：{res.message}")
        raise typer.Exit(1)
