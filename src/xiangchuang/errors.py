"""Domain errors carry their HTTP status; one handler renders them as JSON or HTML (Chinese messages)."""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A refusal a user can understand: ``status`` is the HTTP status, ``message`` is in Chinese."""

    status: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class InvalidTransition(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403


class ValidationFailed(DomainError):
    status = 422
