"""Field encryption (SM4-GCM) and blind indexes (HMAC-SM3) behind one interface.

GB/T 39786-2021 asks for 商用密码 on personal data at rest: 身份证号, phone and bank account are
stored as SM4-GCM ciphertexts (random 96-bit nonce, key id stored with the value) and looked up by
an HMAC-SM3 blind index. A certified device or KMS can replace :class:`KeyRing` later.
"""

from xiangchuang.crypto.fields import FieldCipher, KeyRing, KeyRingError, generate_keyring

__all__ = ["FieldCipher", "KeyRing", "KeyRingError", "generate_keyring"]
