"""Citizen identity numbers (居民身份证号码), GB 11643-1999.

Layout: 6-digit address code (GB/T 2260), 8-digit birth date ``YYYYMMDD``, 3-digit sequence (odd for
men, even for women) and one ISO 7064 MOD 11-2 check character (``0``–``9`` or ``X``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from xiangchuang.ids.errors import IdValidationError
from xiangchuang.ids.masking import mask_resident_id

__all__ = [
    "PROVINCE_PREFIXES",
    "ResidentId",
    "check_char",
    "make_resident_id",
    "validate_resident_id",
]

FIELD: Final = "身份证号"
LENGTH: Final = 18
MIN_BIRTH_DATE: Final = date(1900, 1, 1)

_DIGITS: Final = frozenset("0123456789")
_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS: Final = "10X98765432"

PROVINCE_PREFIXES: Final[frozenset[int]] = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, *range(31, 38), *range(41, 47), *range(50, 55), *range(61, 66)}
    | {71, 81, 82}
)
"""Province-level codes (first two digits) valid in a resident ID number."""


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A validated resident ID number (``number`` normalized: check char ``X`` upper case)."""

    number: str
    birth_date: date
    gender: Literal["M", "F"]
    region_code: int

    def masked(self) -> str:
        return mask_resident_id(self.number)


def _is_digits(text: str) -> bool:
    return bool(text) and all(ch in _DIGITS for ch in text)


def check_char(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    if len(first17) != LENGTH - 1 or not _is_digits(first17):
        raise IdValidationError(FIELD, "计算校验码需要前17位数字")
    total = sum(int(ch) * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def validate_resident_id(text: str, *, today: date | None = None) -> ResidentId:
    """Validate an 18-character resident ID number.

    Surrounding whitespace is stripped and a lower-case ``x`` is accepted. Raises only
    :class:`IdValidationError`, with a Chinese message that never contains the full number.
    """
    if not isinstance(text, str):
        raise IdValidationError(FIELD, "必须为文本")
    number = text.strip()
    if not number:
        raise IdValidationError(FIELD, "不能为空")
    masked = mask_resident_id(number)
    if len(number) != LENGTH:
        raise IdValidationError(FIELD, f"长度应为18位，实际为{len(number)}位", masked_value=masked)
    body, last = number[:17], number[17]
    if not _is_digits(body):
        raise IdValidationError(FIELD, "前17位只能是数字", masked_value=masked)
    if last == "x":
        last = "X"
        number = body + last
    if last not in _DIGITS and last != "X":
        raise IdValidationError(FIELD, "第18位校验码只能是数字或X", masked_value=masked)

    if int(body[:2]) not in PROVINCE_PREFIXES:
        raise IdValidationError(FIELD, f"省级行政区划代码无效（前两位为{body[:2]}）", masked_value=masked)

    try:
        birth = date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        raise IdValidationError(
            FIELD, "出生日期不是有效日期（第7–14位，YYYYMMDD）", masked_value=masked
        ) from None
    if birth < MIN_BIRTH_DATE:
        raise IdValidationError(FIELD, "出生日期早于1900年1月1日", masked_value=masked)
    reference = date.today() if today is None else today
    if birth > reference:
        raise IdValidationError(FIELD, "出生日期晚于当前日期", masked_value=masked)

    expected = check_char(body)
    if last != expected:
        raise IdValidationError(
            FIELD, f"校验码错误（GB 11643 MOD 11-2），应为{expected}", masked_value=masked
        )

    return ResidentId(
        number=number,
        birth_date=birth,
        gender="M" if int(body[16]) % 2 == 1 else "F",
        region_code=int(body[:6]),
    )


def make_resident_id(region_code: int, birth: date, seq: int) -> str:
    """Build a valid resident ID number (synthetic data only).

    ``seq`` (0–999) is the 3-digit sequence; odd means male. ``region_code`` must be 6 digits with a
    known province prefix and ``birth`` on or after 1900-01-01.
    """
    if isinstance(region_code, bool) or not 100000 <= region_code <= 999999:
        raise ValueError(f"行政区划代码必须是6位整数：{region_code}")
    if region_code // 10000 not in PROVINCE_PREFIXES:
        raise ValueError(f"行政区划代码的省级前缀无效：{region_code}")
    if not MIN_BIRTH_DATE <= birth <= date(9999, 12, 31):
        raise ValueError(f"出生日期必须不早于1900年1月1日：{birth.isoformat()}")
    if isinstance(seq, bool) or not 0 <= seq <= 999:
        raise ValueError(f"顺序码必须在0–999之间：{seq}")
    first17 = f"{region_code:06d}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)
