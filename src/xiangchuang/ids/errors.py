"""The single exception raised by every validator in :mod:`xiangchuang.ids`."""

from __future__ import annotations

__all__ = ["IdValidationError"]


class IdValidationError(ValueError):
    """An identifier failed validation.

    ``field`` is the Chinese field name (``身份证号``), ``rule`` the Chinese rule that failed, and
    ``str(err)`` the full message, e.g. ``身份证号：校验码错误（GB 11643 MOD 11-2），应为X``.

    The message never contains the full input value (PII). ``masked_value`` may carry a masked form for
    logs; it is not part of the message.
    """

    field: str
    rule: str
    masked_value: str | None

    def __init__(self, field: str, rule: str, *, masked_value: str | None = None) -> None:
        self.field = field
        self.rule = rule
        self.masked_value = masked_value
        super().__init__(f"{field}：{rule}")

    @property
    def message(self) -> str:
        """The full Chinese message (same as ``str(self)``)."""
        return f"{self.field}：{self.rule}"

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Keep the exception picklable (multiprocessing) despite the keyword-only argument.
        return (_rebuild, (self.field, self.rule, self.masked_value))


def _rebuild(field: str, rule: str, masked_value: str | None) -> IdValidationError:
    return IdValidationError(field, rule, masked_value=masked_value)
