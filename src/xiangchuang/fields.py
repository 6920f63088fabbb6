"""Rules for the fields people type into forms and API calls, shared by every service (one definition each).

Each check returns the clean value or raises :class:`ValidationFailed` with a Chinese message that
names the field first (``"{字段}：{规则}"``), which the pages show beside the field and the API returns
as its ``detail``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from xiangchuang.audit.chain import contains_personal_number
from xiangchuang.engine.districts import is_district
from xiangchuang.errors import ValidationFailed

# Tab, line feed and carriage return are how people type multi-line text; every other control
# character (NUL above all) is refused.
_ALLOWED_CONTROL = frozenset("\t\n\r")


def now_utc(now: dt.datetime | None = None) -> dt.datetime:
    """The given instant (tests pass one) or the current time in UTC."""
    return now if now is not None else dt.datetime.now(dt.UTC)


def text(
    value: str | None,
    what: str,
    max_len: int,
    *,
    required: bool = True,
    personal_numbers: bool = False,
) -> str | None:
    """Trimmed text of at most ``max_len`` characters; empty is None unless ``required``.

    Free text is stored in plain columns, so a personal number (身份证号, mobile, bank card) is refused
    unless the field is one whose purpose is to hold it (``personal_numbers=True``), which then
    stores it encrypted (SECURITY.md)."""
    v = (value or "").strip()
    if not v:
        if required:
            raise ValidationFailed(f"{what}：必填")
        return None
    if len(v) > max_len:
        raise ValidationFailed(f"{what}：不超过 {max_len} 个字符（现 {len(v)} 个）")
    if any(ord(ch) < 32 and ch not in _ALLOWED_CONTROL for ch in v):
        raise ValidationFailed(f"{what}：不能含有空字符或其他控制字符")
    if not personal_numbers and contains_personal_number(v):
        raise ValidationFailed(f"{what}：不得包含身份证号、手机号或银行卡号等个人信息")
    return v


def required_text(value: str | None, what: str, max_len: int, *, personal_numbers: bool = False) -> str:
    out = text(value, what, max_len, personal_numbers=personal_numbers)
    assert out is not None  # required=True never returns None
    return out


def integer(value: Any, what: str, lo: int, hi: int) -> int:
    """A whole number in [lo, hi], given as a number or as text (a form field)."""
    if isinstance(value, bool):
        raise ValidationFailed(f"{what}：须为 {lo}–{hi} 的整数")
    try:
        n = value if isinstance(value, int) else int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(f"{what}：须为 {lo}–{hi} 的整数") from None
    if not lo <= n <= hi:
        raise ValidationFailed(f"{what}：须为 {lo}–{hi} 的整数")
    return n


def district(value: Any, what: str = "区县") -> int:
    """A Chongqing district code (6-digit 行政区划代码, 500xxx)."""
    try:
        code = value if isinstance(value, int) and not isinstance(value, bool) else int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(f"{what}：须为重庆市区县代码（如 500101）") from None
    if not is_district(code):
        raise ValidationFailed(f"{what}：{code} 不是重庆市的区县代码")
    return code


def date(value: dt.date | str | None, what: str) -> dt.date:
    """A calendar date: a date, or text YYYY-MM-DD."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    v = (value or "").strip() if isinstance(value, str) else value
    if v is None or v == "":
        raise ValidationFailed(f"{what}：必填")
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise ValidationFailed(f"{what}：须为日期 YYYY-MM-DD") from None


def optional_date(value: dt.date | str | None, what: str) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return date(value, what)


def choice(value: str | None, what: str, options: Mapping[str, str]) -> str:
    """One of the keys of ``options`` (its values are the Chinese labels shown in the message)."""
    if value not in options:
        raise ValidationFailed(f"{what}：须为 {'、'.join(options.values())} 之一")
    return str(value)
