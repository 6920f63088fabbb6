"""SM4-GCM field encryption, HMAC-SM3 blind index: known answers, tampering, key ring errors."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from xiangchuang.crypto import FieldCipher, KeyRing, KeyRingError, generate_keyring
from xiangchuang.crypto.fields import DecryptionError


def test_sm3_known_answer():
    # GB/T 32905-2016 example 1: SM3("abc").
    h = hashes.Hash(hashes.SM3())
    h.update(b"abc")
    assert h.finalize().hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sm4_known_answer():
    # GB/T 32907-2016 example: key = plaintext = 0123456789abcdeffedcba9876543210.
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (enc.update(key) + enc.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


@pytest.fixture
def cipher(tmp_path):
    return FieldCipher(generate_keyring(tmp_path / "k.json"))


def test_round_trip_and_random_nonce(cipher):
    a = cipher.encrypt("500101199001011234", "person.id_number")
    b = cipher.encrypt("500101199001011234", "person.id_number")
    assert a != b
    assert cipher.decrypt(a, "person.id_number") == "500101199001011234"
    assert b"500101199001011234" not in a


def test_tampered_ciphertext_is_rejected(cipher):
    blob = bytearray(cipher.encrypt("13800138000", "person.phone"))
    blob[-20] ^= 1
    with pytest.raises(DecryptionError):
        cipher.decrypt(bytes(blob), "person.phone")


def test_ciphertext_is_bound_to_its_field(cipher):
    blob = cipher.encrypt("13800138000", "person.phone")
    with pytest.raises(DecryptionError):
        cipher.decrypt(blob, "person.id_number")


def test_blind_index_is_deterministic_and_per_field(cipher):
    assert cipher.blind_index("x", "a") == cipher.blind_index("x", "a")
    assert cipher.blind_index("x", "a") != cipher.blind_index("x", "b")


def test_key_rotation_old_values_still_decrypt(tmp_path):
    ring = generate_keyring(tmp_path / "k.json")
    old = FieldCipher(ring).encrypt("v", "f")
    doc = json.loads((tmp_path / "k.json").read_text())
    doc["keys"]["k2"] = "AAAAAAAAAAAAAAAAAAAAAA=="
    doc["active"] = "k2"
    rotated = FieldCipher(KeyRing.from_json(json.dumps(doc), "test"))
    assert rotated.decrypt(old, "f") == "v"
    assert rotated.decrypt(rotated.encrypt("w", "f"), "f") == "w"


def test_missing_key_ring_is_a_clear_chinese_error(tmp_path):
    with pytest.raises(KeyRingError, match="缺少密钥环"):
        KeyRing.load(None, tmp_path / "none.json")
    with pytest.raises(KeyRingError, match="格式错误"):
        KeyRing.from_json("{}", "env")


def test_generate_refuses_to_overwrite(tmp_path):
    generate_keyring(tmp_path / "k.json")
    with pytest.raises(KeyRingError, match="拒绝覆盖"):
        generate_keyring(tmp_path / "k.json")
    assert oct((tmp_path / "k.json").stat().st_mode & 0o777) == "0o600"
