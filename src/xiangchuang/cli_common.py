"""What every command module shares: the consoles, the Chinese error exit, dates, parameter sets."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import rich._wrap
import typer
from rich.console import Console
from rich.table import Table as _RichTable

from xiangchuang.engine.dates import check_supported, parse_date
from xiangchuang.engine.parameters import ParameterError, ParameterSet, load_parameters

# Chinese line breaking for everything the CLI prints (reports and table cells). rich breaks lines
# only at spaces, so a Chinese sentence (no spaces) was folded at the exact width, even inside an
# amount or a date: 「各自最高¥200,000.」 / 「00」. The rule here is the common core of UAX #14 for
# zh-CN: a line may break between two Chinese characters, and between a Chinese character and
# other text, but not inside a run of other text (an amount, a date, an id, a Latin word), not
# before closing punctuation (，。、；：）」 …) and not after opening punctuation (（「 …); spaces
# still break. A token longer than the line is folded as before.
_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_OPEN = "（「『【〔《〈“‘"
_CLOSE = "，。、；：？！）」』】〕》〉”’…％·"
_TOKEN = re.compile(rf"\s*[{_OPEN}]*(?:[{_CJK}]|[^\s{_CJK}]+)[{_CLOSE}]*\s*")


def chinese_words(text: str) -> Iterator[tuple[int, int, str]]:
    """rich's ``words`` (the units a line may break between) with Chinese line breaking."""
    match = _TOKEN.match(text)
    while match is not None:  # (every character but a space starts a token: none is skipped)
        start, end = match.span()
        yield start, end, match.group(0)
        match = _TOKEN.match(text, end)


if callable(getattr(rich._wrap, "words", None)):
    rich._wrap.words = chinese_words  # divide_line, which all wrapping uses, looks it up by name

console = Console()
err = Console(stderr=True)


class Table(_RichTable):
    """rich's table whose cells wrap (fold) when the terminal is narrow, instead of ending in "…":
    a value, a name or a reference (文号 + 条款) cut to a few characters is unreadable. A column
    may still ask for another overflow or ``no_wrap``."""

    def add_column(self, *args: Any, overflow: Any = "fold", **kwargs: Any) -> None:
        super().add_column(*args, overflow=overflow, **kwargs)


OnOpt = Annotated[str | None, typer.Option("--on", help="评估日期 YYYY-MM-DD（默认：案例中的 on，否则今天）")]
OverlayOpt = Annotated[
    list[Path] | None, typer.Option("--params-overlay", help="区县参数叠加文件（YAML，可多次指定）")
]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a Chinese error and return the exit to raise."""
    err.print(f"[bold red]错误：[/]{message}")
    return typer.Exit(code)


def to_date(text: str | None, default: dt.date | None = None, option: str = "--on") -> dt.date:
    """The date an option gives (YYYY-MM-DD, 1900-01-01 to 2099-12-31), else ``default`` or today;
    a Chinese error naming the option and the rule."""
    if text is None:
        return default or dt.date.today()
    try:
        return check_supported(parse_date(text))
    except ValueError as exc:
        raise fail(f"{option}：{exc}") from None


def parameter_set(overlays: list[Path] | None) -> ParameterSet:
    try:
        return load_parameters(*[str(p) for p in overlays or []])
    except (ParameterError, OSError) as exc:
        raise fail(str(exc)) from None
