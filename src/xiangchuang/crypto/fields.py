"""SM4-GCM field encryption with a key ring, and HMAC-SM3 blind indexes."""

from __future__ import annotations

import base64
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

FORMAT_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16


class KeyRingError(RuntimeError):
    """The key ring is missing or malformed (message in Chinese, names the setting)."""


class DecryptionError(ValueError):
    """Ciphertext was tampered with or encrypted under an unknown key."""


@dataclass(frozen=True)
class KeyRing:
    """Data keys by id; ``active`` encrypts new values, all decrypt. ``index_key`` for blind indexes."""

    keys: dict[str, bytes]
    active: str
    index_key: bytes

    @classmethod
    def from_json(cls, text: str, source: str) -> KeyRing:
        try:
            doc = json.loads(text)
            keys = {str(k): base64.b64decode(v) for k, v in doc["keys"].items()}
            active = str(doc["active"])
            index_key = base64.b64decode(doc["index_key"])
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyRingError(
                f"密钥环 {source} 格式错误：须为 JSON {{active, keys: {{编号: base64}}, index_key}}"
            ) from exc
        if active not in keys:
            raise KeyRingError(f"密钥环 {source}：active 指向不存在的密钥 {active}")
        if any(len(k) != 16 for k in keys.values()) or len(index_key) < 32:
            raise KeyRingError(f"密钥环 {source}：SM4 密钥须为16字节，索引密钥至少32字节")
        return cls(keys, active, index_key)

    @classmethod
    def load(cls, inline: str | None, path: Path) -> KeyRing:
        if inline:
            return cls.from_json(inline, "XIANGCHUANG_KEYRING")
        if not path.exists():
            raise KeyRingError(
                f"缺少密钥环：请设置 XIANGCHUANG_KEYRING 或 XIANGCHUANG_KEYRING_FILE（当前查找 {path}）；"
                "开发或演示环境可运行 xiangchuang keygen 生成"
            )
        return cls.from_json(path.read_text(encoding="utf-8"), str(path))


def generate_keyring(path: Path) -> KeyRing:
    """Write a fresh key ring (mode 0600). Refuses to overwrite an existing one."""
    if path.exists():
        raise KeyRingError(f"密钥环 {path} 已存在，拒绝覆盖")
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "active": "k1",
        "keys": {"k1": base64.b64encode(os.urandom(16)).decode()},
        "index_key": base64.b64encode(os.urandom(32)).decode(),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh)
    return KeyRing.from_json(json.dumps(doc), str(path))


class FieldCipher:
    """Encrypt, decrypt and index one kind of field (the field name is bound as associated data)."""

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring

    def encrypt(self, plaintext: str, field: str) -> bytes:
        kid = self.ring.active.encode()
        nonce = os.urandom(NONCE_BYTES)
        enc = Cipher(algorithms.SM4(self.ring.keys[self.ring.active]), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(field.encode() + b"\0" + kid)
        body = enc.update(plaintext.encode("utf-8")) + enc.finalize()
        return struct.pack("BB", FORMAT_VERSION, len(kid)) + kid + nonce + body + enc.tag

    def decrypt(self, blob: bytes, field: str) -> str:
        try:
            version, klen = struct.unpack_from("BB", blob)
            if version != FORMAT_VERSION:
                raise DecryptionError("未知的密文格式版本")
            kid = blob[2 : 2 + klen]
            key = self.ring.keys[kid.decode()]
            nonce = blob[2 + klen : 2 + klen + NONCE_BYTES]
            body, tag = blob[2 + klen + NONCE_BYTES : -TAG_BYTES], blob[-TAG_BYTES:]
            dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
            dec.authenticate_additional_data(field.encode() + b"\0" + kid)
            return (dec.update(body) + dec.finalize()).decode("utf-8")
        except (InvalidTag, KeyError, struct.error, UnicodeDecodeError, ValueError) as exc:
            if isinstance(exc, DecryptionError):
                raise
            raise DecryptionError("密文校验失败（可能被篡改或密钥不符）") from exc

    def blind_index(self, normalized: str, field: str) -> str:
        """HMAC-SM3 of the normalized value, per field: equality lookup and uniqueness without plaintext."""
        h = hmac.HMAC(self.ring.index_key, hashes.SM3())
        h.update(field.encode() + b"\0" + normalized.encode("utf-8"))
        return h.finalize().hex()
