"""Protected personal data: validation, encryption, blind index and masking in one place.

身份证号, mobile numbers and bank accounts are validated with our own validators, stored as SM4-GCM
ciphertexts with an HMAC-SM3 blind index for lookup and uniqueness, and shown masked (server-side).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from xiangchuang.config import Settings, get_settings
from xiangchuang.crypto import FieldCipher, KeyRing
from xiangchuang.ids import (
    ResidentId,
    check_bank_card,
    mask_bank_card,
    mask_phone,
    mask_resident_id,
    validate_mobile,
    validate_resident_id,
)

ID_FIELD = "person.id_number"
PHONE_FIELD = "person.phone"
BANK_FIELD = "person.bank_account"


@dataclass(frozen=True)
class ProtectedId:
    parsed: ResidentId
    ciphertext: bytes
    blind_index: str


class Pii:
    """Encrypts and indexes personal data with the configured key ring."""

    def __init__(self, cipher: FieldCipher) -> None:
        self.cipher = cipher

    def resident_id(self, text: str) -> ProtectedId:
        parsed = validate_resident_id(text)
        return ProtectedId(
            parsed,
            self.cipher.encrypt(parsed.number, ID_FIELD),
            self.cipher.blind_index(parsed.number, ID_FIELD),
        )

    def id_index(self, text: str) -> str:
        return self.cipher.blind_index(validate_resident_id(text).number, ID_FIELD)

    def phone(self, text: str) -> tuple[bytes, str]:
        e164 = validate_mobile(text)
        return self.cipher.encrypt(e164, PHONE_FIELD), self.cipher.blind_index(e164, PHONE_FIELD)

    def bank_account(self, text: str) -> tuple[bytes, str | None]:
        """Returns the ciphertext and a warning (Luhn failure is only a warning)."""
        check = check_bank_card(text)
        return self.cipher.encrypt(check.number, BANK_FIELD), check.warning

    def reveal_id(self, blob: bytes) -> str:
        return self.cipher.decrypt(blob, ID_FIELD)

    def masked_id(self, blob: bytes) -> str:
        return mask_resident_id(self.cipher.decrypt(blob, ID_FIELD))

    def masked_phone(self, blob: bytes | None) -> str | None:
        return None if blob is None else mask_phone(self.cipher.decrypt(blob, PHONE_FIELD))

    def masked_bank(self, blob: bytes | None) -> str | None:
        return None if blob is None else mask_bank_card(self.cipher.decrypt(blob, BANK_FIELD))


def pii_from_settings(settings: Settings | None = None) -> Pii:
    """The key ring from settings; a missing key is a clear start-up error (KeyRingError)."""
    s = settings or get_settings()
    return Pii(FieldCipher(KeyRing.load(s.keyring, s.resolved_keyring_file)))


@cache
def default_pii() -> Pii:
    return pii_from_settings()
