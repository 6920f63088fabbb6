"""Domain errors carry their HTTP status; one handler renders them as JSON or HTML (Chinese messages)."""

from __future__ import annotations

import errno
import re
from typing import ClassVar, Final


class DomainError(Exception):
    """A refusal a user can understand: ``status`` is the HTTP status, ``message`` is in Chinese."""

    status: ClassVar[int] = 400
    # A refusal that is itself a record: what the service wrote before refusing (the evidence of the
    # refusal, e.g. a refused approval's determination) is committed by the caller that owns the
    # transaction (``db.transaction``, the web request), not rolled back with the rest.
    keeps_record: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class InvalidTransition(DomainError):
    status = 409


class RefusalRecorded(InvalidTransition):
    """An invalid transition whose refusal the service recorded (see ``DomainError.keeps_record``)."""

    keeps_record = True


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


# A text file (a case, a batch CSV) that is not UTF-8, as a spreadsheet on Chinese Windows saves it.
NOT_UTF8: Final = "不是 UTF-8 编码，请以 UTF-8 保存（如由 GBK 另存为 UTF-8）"

# Why a file could not be read or written, by errno, in Chinese (Python's and pyarrow's texts are English).
_ERRNO_ZH: Final[dict[int, str]] = {
    errno.ENOENT: "文件不存在",
    errno.EISDIR: "这是一个目录，须为文件",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.ENOTDIR: "路径中有一项不是目录",
    errno.ENOSPC: "磁盘空间不足",
    errno.EDQUOT: "超出磁盘配额",
    errno.EROFS: "文件系统只读",
    errno.EEXIST: "文件已存在",
    errno.ENAMETOOLONG: "文件名过长",
    errno.EIO: "输入输出错误",
    errno.EMFILE: "打开的文件过多",
    errno.EBUSY: "文件正被占用",
}


def os_reason(exc: OSError) -> str:
    """Why a file could not be read or written, in Chinese (by the errno, also one that pyarrow
    quotes only in its text: 「… Detail: [errno 28] …」)."""
    number = exc.errno
    if number is None:
        found = re.search(r"\[errno (\d+)\]", str(exc), re.I)
        number = int(found.group(1)) if found else None
    if number is not None and number in _ERRNO_ZH:
        return _ERRNO_ZH[number]
    if isinstance(exc, FileNotFoundError):
        return "文件不存在"
    if isinstance(exc, IsADirectoryError):
        return "这是一个目录，须为文件"
    if isinstance(exc, PermissionError):
        return "没有权限"
    return f"操作系统错误 {number}" if number is not None else "操作系统错误"
