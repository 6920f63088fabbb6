"""Bank card numbers: 12–19 digits; a failed Luhn check is a warning, not an error.

Some domestic cards (e.g. older 存折-linked or 社保卡 financial accounts) do not follow Luhn, so the
check only warns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from xiangchuang.ids.errors import IdValidationError
from xiangchuang.ids.masking import mask_bank_card

__all__ = ["BankCardCheck", "check_bank_card", "luhn_ok"]

FIELD: Final = "银行卡号"
MIN_LENGTH: Final = 12
MAX_LENGTH: Final = 19
LUHN_WARNING: Final = "银行卡号未通过Luhn校验，请核对"

_DIGITS: Final = frozenset("0123456789")
_SPACES: Final = frozenset(" \t\r\n\u3000\u00a0")


@dataclass(frozen=True, slots=True)
class BankCardCheck:
    """Result of :func:`check_bank_card`: the compact number and the Luhn outcome."""

    number: str
    luhn_ok: bool
    warning: str | None

    def masked(self) -> str:
        return mask_bank_card(self.number)


def luhn_ok(digits: str) -> bool:
    """Whether an all-digit string passes the Luhn (MOD 10) check."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def check_bank_card(text: str) -> BankCardCheck:
    """Check a bank card number. Spaces are removed; raises only :class:`IdValidationError`."""
    if not isinstance(text, str):
        raise IdValidationError(FIELD, "必须为文本")
    number = "".join(ch for ch in text if ch not in _SPACES)
    if not number:
        raise IdValidationError(FIELD, "不能为空")
    masked = mask_bank_card(number)
    if any(ch not in _DIGITS for ch in number):
        raise IdValidationError(FIELD, "只能包含数字", masked_value=masked)
    if not MIN_LENGTH <= len(number) <= MAX_LENGTH:
        raise IdValidationError(FIELD, f"长度应为12–19位，实际为{len(number)}位", masked_value=masked)
    ok = luhn_ok(number)
    return BankCardCheck(number=number, luhn_ok=ok, warning=None if ok else LUHN_WARNING)
