"""Money in integer fen (分). Rates are exact fractions; rounding is half-up (四舍五入) to the fen.

No binary floating point touches a money value. Columns are int64; ``Fraction`` rates become
(numerator, denominator) int64 pairs so a rate times a base is exact before rounding.
"""

from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

FenArray = npt.NDArray[np.int64]

# Guard for exact int64 arithmetic: base * numerator * 2 must stay below 2**63.
_LIMIT = 2**62


def mul_rate_half_up(base: FenArray, num: npt.NDArray[np.int64], den: npt.NDArray[np.int64]) -> FenArray:
    """round_half_up(base * num / den) for non-negative base, exact in integers."""
    base = np.asarray(base, dtype=np.int64)
    num = np.asarray(num, dtype=np.int64)
    den = np.asarray(den, dtype=np.int64)
    if base.size == 1 and num.size == 1 and den.size == 1:
        # One row (a single case): the same arithmetic in Python integers, one small array.
        shape = max(base.shape, num.shape, den.shape, key=len)
        return np.full(shape, _half_up(int(base.item()), int(num.item()), int(den.item())), dtype=np.int64)
    if not (base.size and num.size):
        return np.zeros(np.broadcast_shapes(base.shape, num.shape, den.shape), dtype=np.int64)
    bmin, bmax, nmin, nmax = int(base.min()), int(base.max()), int(num.min()), int(num.max())
    if max(abs(bmin), abs(bmax)) * max(abs(nmin), abs(nmax)) >= _LIMIT // 2:
        raise OverflowError("金额超出可精确计算的范围")
    if bmin >= 0 and nmin >= 0:
        # Money and rates are non-negative: round half up in one integer expression.
        fast: FenArray = base * (2 * num)
        if fast.shape != np.broadcast_shapes(fast.shape, den.shape):
            fast = np.broadcast_to(fast, np.broadcast_shapes(fast.shape, den.shape)).copy()
        fast += den  # in place: one temporary instead of three
        fast //= 2 * den
        return fast
    prod = base * num
    sign = np.where(prod < 0, -1, 1)
    out: FenArray = (sign * ((2 * np.abs(prod) + den) // (2 * den))).astype(np.int64)
    return out


def mul_exact(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64], what: str) -> FenArray:
    """``a × b`` (e.g. a count times an amount per head in fen), exact: a product that int64 cannot
    hold would wrap around into a wrong amount, so it is an error naming ``what`` instead."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if a.size and b.size and int(np.abs(a).max()) * int(np.abs(b).max()) >= _LIMIT:
        raise OverflowError(f"金额超出可精确计算的范围：{what}过大")
    out: FenArray = a * b
    return out


def _half_up(base: int, num: int, den: int) -> int:
    """round_half_up(base * num / den) in Python integers (halves away from zero), with the column
    version's range check."""
    if abs(base) * abs(num) >= _LIMIT // 2:
        raise OverflowError("金额超出可精确计算的范围")
    prod = base * num
    q = (2 * abs(prod) + den) // (2 * den)
    return -q if prod < 0 else q


def mul_rate_scalar(base_fen: int, rate: Fraction) -> int:
    """Reference implementation with Python ints: round_half_up(base * rate)."""
    value = Fraction(base_fen) * rate
    q = Decimal(value.numerator) / Decimal(value.denominator)
    return int(q.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def yuan_to_fen(value: Decimal | int | str) -> int:
    """Exact yuan (as decimal text) to fen; rejects fractions of a fen."""
    d = Decimal(str(value)) * 100
    if d != d.to_integral_value():
        raise ValueError(f"金额 {value} 元不是整分")
    return int(d)


def format_fen(fen: int) -> str:
    """¥1,234.50"""
    fen = int(fen)
    if fen < 0:
        return "-" + format_fen(-fen)
    yuan, cents = divmod(fen, 100)
    return f"¥{yuan:,}{_CENTS[cents]}"


_CENTS = tuple(f".{c:02d}" for c in range(100))


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ["", "拾", "佰", "仟"]
_SECTIONS = ["", "万", "亿", "万亿", "亿亿"]  # (int64 fen < 10^17 元: 亿亿 is the last section)


@functools.lru_cache(maxsize=10_000)  # a section is 0–9999: at most 10,000 short strings
def _section(n: int) -> str:
    out = ""
    zero = False
    for pos in range(3, -1, -1):
        d = (n // 10**pos) % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + _UNITS[pos]
    return out


def fen_to_capital(fen: int) -> str:
    """Amount in Chinese capitals as on payment documents: 1234.50 元 → 壹仟贰佰叁拾肆元伍角整."""
    if fen < 0:
        return "负" + fen_to_capital(-fen)
    yuan, cents = divmod(int(fen), 100)
    jiao, fen_digit = divmod(cents, 10)
    parts: list[str] = []
    if yuan:
        sections = []
        n = yuan
        while n:
            sections.append(n % 10000)
            n //= 10000
        text = ""
        need_zero = False
        for idx in range(len(sections) - 1, -1, -1):
            sec = sections[idx]
            if sec == 0:
                need_zero = bool(text)
                continue
            if text and (need_zero or sec < 1000):
                text += "零"
            text += _section(sec) + _SECTIONS[idx]
            need_zero = False
        parts.append(text + "元")
    if jiao == 0 and fen_digit == 0:
        return ("".join(parts) or "零元") + "整"
    if jiao:
        parts.append(_DIGITS[jiao] + "角")
    elif yuan:
        parts.append("零")
    if fen_digit:
        parts.append(_DIGITS[fen_digit] + "分")
    else:
        parts.append("整")
    return "".join(parts)
