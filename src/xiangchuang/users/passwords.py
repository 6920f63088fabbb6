"""Password policy and hashing (SECURITY.md; OWASP ASVS 5.0 §6.2; 等保2.0 身份鉴别).

- Length 8–64 characters (ASVS: at least 8, allow at least 64); any character allowed, no composition
  rules by default. 等保 asks for complexity: :attr:`PasswordRules.require_classes` turns it on
  (documented trade-off: ASVS discourages it).
- Blocked: the 30,000 most common passwords of the ``zxcvbn`` frequency list, plus common Chinese
  choices (拼音 and number patterns) listed here, compared case-insensitively; the login name itself; one
  repeated character.
- argon2id with at least 19 MiB of memory and 2 passes (OWASP's minimum profile); parameters are
  settings, the minimum is enforced, and a stored hash with weaker parameters is re-hashed at login.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from xiangchuang.errors import ValidationFailed

MIN_MEMORY_KIB: Final = 19 * 1024
MIN_TIME_COST: Final = 2

_CHINESE_COMMON: Final = (
    "woaini",
    "woaini1314",
    "woaini520",
    "5201314",
    "1314520",
    "520520",
    "521521",
    "a123456",
    "a12345678",
    "aa123456",
    "abc123456",
    "qq123456",
    "qq5201314",
    "123456a",
    "123456aa",
    "123123123",
    "147258369",
    "123654789",
    "1qaz2wsx",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "zxcvbnm",
    "qwertyuiop",
    "asdfghjkl",
    "iloveyou",
    "wang123456",
    "zhang123456",
    "li123456",
    "liu123456",
    "chen123456",
    "yang123456",
    "huang123456",
    "zhao123456",
    "wangwei",
    "zhangwei",
    "woaiwojia",
    "chongqing",
    "chongqing123",
    "cq123456",
    "88888888",
    "66666666",
    "168168168",
    "12344321",
    "11223344",
    "112233",
    "00000000",
    "1234567890",
    "987654321",
    "password1",
    "passw0rd",
    "p@ssw0rd",
    "admin123",
    "admin888",
    "root1234",
    "test1234",
    "xiangchuang",
    "xiangchuang123",
    "12345678a",
    "abcd1234",
    "aaaa1111",
    "a1b2c3d4",
)


@cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"]) | frozenset(_CHINESE_COMMON)


@dataclass(frozen=True)
class PasswordRules:
    min_length: int = 8
    max_length: int = 64
    require_classes: int = 0  # 等保 complexity: how many of lower / upper / digit / other (0 = off)


def check_password(
    password: str, *, login: str | None = None, rules: PasswordRules = PasswordRules()
) -> None:
    """Raise :class:`ValidationFailed` (Chinese, names the field and the rule) if the password is refused."""
    if len(password) < rules.min_length:
        raise ValidationFailed(f"密码：长度至少 {rules.min_length} 个字符")
    if len(password) > rules.max_length:
        raise ValidationFailed(f"密码：长度不能超过 {rules.max_length} 个字符")
    lowered = password.lower()
    if lowered in _common():
        raise ValidationFailed("密码：这是常见密码，容易被猜中，请换一个")
    if login and lowered == login.lower():
        raise ValidationFailed("密码：不能与登录名相同")
    if len(set(password)) == 1:
        raise ValidationFailed("密码：不能由同一个字符重复组成")
    if rules.require_classes:
        classes = sum(
            (
                any(c.islower() for c in password),
                any(c.isupper() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password),
            )
        )
        if classes < rules.require_classes:
            raise ValidationFailed(
                f"密码：须包含小写字母、大写字母、数字、符号中的至少 {rules.require_classes} 类"
            )


@dataclass(frozen=True)
class Argon2Params:
    memory_kib: int = MIN_MEMORY_KIB
    time_cost: int = MIN_TIME_COST
    parallelism: int = 1

    def __post_init__(self) -> None:
        if self.memory_kib < MIN_MEMORY_KIB or self.time_cost < MIN_TIME_COST or self.parallelism < 1:
            raise ValueError(
                f"argon2id 参数过弱：内存至少 {MIN_MEMORY_KIB} KiB（19 MiB），迭代次数至少 {MIN_TIME_COST}"
            )


@cache
def hasher(params: Argon2Params = Argon2Params()) -> PasswordHasher:
    return PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def hash_password(password: str, params: Argon2Params = Argon2Params()) -> str:
    return hasher(params).hash(password)


def verify_password(stored: str, password: str, params: Argon2Params = Argon2Params()) -> bool:
    try:
        return hasher(params).verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str, params: Argon2Params = Argon2Params()) -> bool:
    try:
        return hasher(params).check_needs_rehash(stored)
    except InvalidHashError:
        return True


_DUMMY: dict[Argon2Params, str] = {}


def burn_time(password: str, params: Argon2Params = Argon2Params()) -> None:
    """Verify against a dummy hash, so an unknown login costs as much time as a known one."""
    if params not in _DUMMY:
        _DUMMY[params] = hash_password("dummy-password-for-timing", params)
    verify_password(_DUMMY[params], password, params)
