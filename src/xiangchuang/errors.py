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


class Refusal(str):
    """The Chinese reason of a refused change that a page shows again with its form, remembering how to
    answer: 403 / 404 when the record is outside the caller's scope (or does not exist), 422 for anything
    else (a form to correct). A refusal of access must not look like a form error."""

    status: int

    def __new__(cls, exc: DomainError) -> Refusal:
        self = super().__new__(cls, exc.message)
        self.status = exc.status if exc.status in (403, 404) else 422
        return self


def page_status(error: str | None) -> int:
    """The status of a page shown with ``error`` (200 without one; a :class:`Refusal`'s own; else 422)."""
    if not error:
        return 200
    return error.status if isinstance(error, Refusal) else 422
