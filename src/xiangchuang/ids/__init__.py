"""Validation and masking of Chinese personal and organisation identifiers.

Every validator raises only :class:`IdValidationError` (a ``ValueError``) with a Chinese message that
never contains the full input.
"""

from xiangchuang.ids.bank_card import BankCardCheck, check_bank_card
from xiangchuang.ids.errors import IdValidationError
from xiangchuang.ids.masking import mask_bank_card, mask_name, mask_phone, mask_resident_id, mask_uscc
from xiangchuang.ids.phone import validate_mobile
from xiangchuang.ids.resident_id import ResidentId, check_char, make_resident_id, validate_resident_id
from xiangchuang.ids.uscc import Uscc, make_uscc, uscc_check_char, validate_uscc

__all__ = [
    "BankCardCheck",
    "IdValidationError",
    "ResidentId",
    "Uscc",
    "check_bank_card",
    "check_char",
    "make_resident_id",
    "make_uscc",
    "mask_bank_card",
    "mask_name",
    "mask_phone",
    "mask_resident_id",
    "mask_uscc",
    "uscc_check_char",
    "validate_mobile",
    "validate_resident_id",
    "validate_uscc",
]
