"""Mainland China mobile numbers, validated with :mod:`phonenumbers`."""

from __future__ import annotations

import re
from typing import Final

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from xiangchuang.ids.errors import IdValidationError
from xiangchuang.ids.masking import mask_phone

__all__ = ["validate_mobile"]

FIELD: Final = "手机号码"
_MAX_LENGTH: Final = 64
_PLAIN_MOBILE: Final = re.compile(r"^1[3-9][0-9]{9}$")
_MOBILE_TYPES: Final = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def validate_mobile(text: str) -> str:
    """Validate a mainland China mobile number and return it in E.164 form (``+8613800138000``).

    Accepts ``13800138000``, ``138 0013 8000``, ``+86 138 0013 8000`` and similar. Raises only
    :class:`IdValidationError`.
    """
    if not isinstance(text, str):
        raise IdValidationError(FIELD, "必须为文本")
    raw = text.strip()
    if not raw:
        raise IdValidationError(FIELD, "不能为空")
    if _PLAIN_MOBILE.match(raw):
        # Fast path for the common plain 11-digit form: phonenumbers.parse(raw, "CN") would give
        # exactly country code 86 and this national number, so only the validity checks remain.
        plain = phonenumbers.PhoneNumber(country_code=86, national_number=int(raw))
        if phonenumbers.is_valid_number(plain) and phonenumbers.number_type(plain) in _MOBILE_TYPES:
            return "+86" + raw
    masked = mask_phone(raw)
    if len(raw) > _MAX_LENGTH:
        raise IdValidationError(FIELD, "格式无效", masked_value=masked)
    try:
        number = phonenumbers.parse(raw, "CN")
    except Exception:  # NumberParseException, or anything unexpected: never leak a foreign exception
        raise IdValidationError(FIELD, "格式无效，无法识别为电话号码", masked_value=masked) from None
    if number.country_code != 86:
        raise IdValidationError(FIELD, "仅支持中国大陆手机号码（+86）", masked_value=masked)
    if not phonenumbers.is_valid_number(number):
        raise IdValidationError(FIELD, "不是有效的中国大陆号码", masked_value=masked)
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise IdValidationError(FIELD, "不是手机号码（请填写11位手机号）", masked_value=masked)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
