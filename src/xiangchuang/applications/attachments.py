"""Materials (attachments) of an application: checked, stored by content, recorded, audited.

Upload (:func:`upload`), in order:

1. scope: the applicant on their own application, or a window clerk of its district (代办); only while
   the application can still be changed by the applicant (草稿, 退回补正, 待确认邀请);
2. the material is one of the kind's materials (:mod:`~xiangchuang.applications.kinds`);
3. size: not empty, not above the material's limit;
4. type: the file name's extension must be one the material allows, and the content, sniffed by its
   magic bytes, must be that type — PDF ``%PDF-``, JPEG ``FF D8 FF``, PNG ``89 50 4E 47 0D 0A 1A 0A``;
   XLSX / DOCX / OFD are ZIP files that must hold ``[Content_Types].xml`` + ``xl/workbook.xml`` /
   ``[Content_Types].xml`` + ``word/document.xml`` / ``OFD.xml``; a ZIP whose members would expand past
   :data:`MAX_UNZIPPED_BYTES` is refused (zip bomb). A mismatch gets a Chinese error naming the
   material and the rule.

The file is stored under ``<data_dir>/attachments/ab/cd/<sha256>`` — the server chooses the name; the
user's file name never reaches the file system, it is kept (sanitised: no path, no control characters,
long digit runs masked) as metadata. Writing is atomic (temporary file + rename) and content-addressed:
the same content is stored once. The file is written before the caller commits; if the transaction
rolls back, an unreferenced file remains, which :func:`unreferenced_files` lists for cleanup.

Reading (:func:`read`) checks the same scope as :func:`~xiangchuang.applications.service.get_application`
and the stored file's SHA-256, and audits the read (materials hold personal data).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xiangchuang.applications import repository as repo
from xiangchuang.applications.kinds import EXTENSIONS, FILE_TYPES, KINDS, Material
from xiangchuang.applications.scope import check_read_scope
from xiangchuang.applications.workflow import ROLE_LABELS, STATE_LABELS
from xiangchuang.audit import record
from xiangchuang.config import get_settings
from xiangchuang.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from xiangchuang.models import Application, Attachment

UPLOAD_STATES: Final = ("draft", "returned", "invited")
UPLOAD_ROLES: Final = ("applicant", "window_clerk")
MAX_UNZIPPED_BYTES: Final = 200 * 1024 * 1024
MAX_NAME: Final = 100
_DIGITS = re.compile(r"\d{6,}[Xx]?")
_ZIP_MEMBERS: Final = {
    "xlsx": ("[Content_Types].xml", "xl/workbook.xml"),
    "docx": ("[Content_Types].xml", "word/document.xml"),
    "ofd": ("OFD.xml",),
}


@dataclass(frozen=True)
class StoredFile:
    attachment: Attachment
    content: bytes


def storage_root(data_dir: Path | None = None) -> Path:
    return (data_dir if data_dir is not None else get_settings().data_dir) / "attachments"


def path_for(root: Path, sha256: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("sha256 must be 64 lowercase hex digits")
    return root / sha256[:2] / sha256[2:4] / sha256


def sanitize_name(name: str) -> str:
    """The user's file name as metadata: last path component, NFC, no control characters, digit runs of
    6 or more masked (a 身份证号 or phone number in a file name must not be stored in plain text)."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    base = _DIGITS.sub(lambda m: "*" * len(m.group(0)), base)
    if len(base) > MAX_NAME:
        suffix = PurePosixPath(base).suffix[:10]
        base = base[: MAX_NAME - len(suffix)] + suffix
    return base or "未命名"


def sniff(content: bytes) -> str | None:
    """The file type by magic bytes (and, for ZIP containers, by their members); None if unknown."""
    if content.startswith(b"%PDF-"):
        return "pdf"
    if content.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as zf:
                infos = zf.infolist()
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
            return "zip-bomb"
        names = {i.filename for i in infos}
        for kind, members in _ZIP_MEMBERS.items():
            if all(m in names for m in members):
                return kind
        return "zip"
    return None


def _describe(detected: str | None) -> str:
    if detected in FILE_TYPES:
        return FILE_TYPES[detected]
    if detected == "zip":
        return "普通 ZIP 压缩包"
    return "无法识别的格式"


def check_file(material: Material, filename: str, content: bytes) -> str:
    """The file type if the file may be uploaded as ``material``; otherwise ValidationFailed in Chinese."""
    what = f"材料「{material.label}」"
    size = len(content)
    if size == 0:
        raise ValidationFailed(f"{what}：文件为空（{material.rule}）")
    if size > material.max_bytes:
        raise ValidationFailed(f"{what}：文件大小 {size / (1024 * 1024):.1f} MB 超过上限（{material.rule}）")
    suffix = PurePosixPath(re.split(r"[\\/]", filename or "")[-1]).suffix.lower()
    declared = EXTENSIONS.get(suffix)
    if declared is None or declared not in material.types:
        raise ValidationFailed(f"{what}：不接受扩展名为「{suffix or '无'}」的文件（{material.rule}）")
    detected = sniff(content)
    if detected == "zip-bomb":
        raise ValidationFailed(f"{what}：压缩内容解压后过大，已拒绝（{material.rule}）")
    if detected != declared:
        raise ValidationFailed(
            f"{what}：文件扩展名为「{suffix}」，但内容是{_describe(detected)}，与扩展名不符（{material.rule}）"
        )
    return declared


def _store(root: Path, sha256: str, content: bytes) -> Path:
    target = path_for(root, sha256)
    if target.exists() and target.stat().st_size == len(content):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _check_upload_scope(app: Application, *, actor: str, role: str, actor_district: int | None) -> None:
    if role not in UPLOAD_ROLES:
        raise Forbidden(f"{ROLE_LABELS.get(role, role)}不能上传申请材料")
    if role == "applicant" and app.applicant_user != actor:
        raise Forbidden("只能为本人的申请上传材料")
    if role == "window_clerk" and actor_district != app.district:
        raise Forbidden(f"无权为其他区县（{app.district}）的申请上传材料")


def upload(
    session: Session,
    *,
    application_id: int,
    material: str,
    filename: str,
    content: bytes,
    actor: str,
    role: str,
    actor_district: int | None,
    audit_key: bytes,
    data_dir: Path | None = None,
    now: dt.datetime | None = None,
) -> Attachment:
    """Check, store and record one material file (see the module docstring). The same file uploaded
    again for the same material returns the existing record."""
    at = now if now is not None else dt.datetime.now(dt.UTC)
    app = repo.load(session, application_id)
    _check_upload_scope(app, actor=actor, role=role, actor_district=actor_district)
    if app.state not in UPLOAD_STATES:
        raise InvalidTransition(
            f"申请当前状态为「{STATE_LABELS[app.state]}」，不能再上传材料（仅草稿、退回补正、免申即享邀请待确认时可上传）"
        )
    kind = KINDS[app.kind]
    spec = kind.material(material)
    if spec is None:
        allowed = "、".join(m.label for m in kind.materials)
        raise ValidationFailed(f"「{kind.title}」申请没有材料类型 {material!r}，可上传：{allowed}")
    file_type = check_file(spec, filename, content)
    sha256 = hashlib.sha256(content).hexdigest()
    existing = repo.attachment_by_content(session, application_id=app.id, material=spec.id, sha256=sha256)
    if existing is not None:
        return existing
    _store(storage_root(data_dir), sha256, content)
    row = Attachment(
        application_id=app.id,
        material=spec.id,
        original_name=sanitize_name(filename),
        file_type=file_type,
        size_bytes=len(content),
        sha256=sha256,
        uploaded_by=actor,
        uploader_role=role,
        uploaded_at=at,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # the same file, uploaded at the same moment by another request
        found = repo.attachment_by_content(session, application_id=app.id, material=spec.id, sha256=sha256)
        if found is None:
            raise
        return found
    record(
        session,
        key=audit_key,
        actor=actor,
        actor_role=role,
        district=app.district,
        action="attachment.upload",
        subject=f"applications:{app.application_no}",
        details={
            "material": spec.id,
            "file_type": file_type,
            "size_bytes": len(content),
            "sha256": sha256,
            "on_behalf": role == "window_clerk",
        },
        at=at,
    )
    return row


def read(
    session: Session,
    *,
    attachment_id: int,
    actor: str,
    role: str,
    actor_district: int | None,
    audit_key: bytes,
    data_dir: Path | None = None,
    now: dt.datetime | None = None,
) -> StoredFile:
    """One attachment's record and bytes, if the actor's scope covers its application (404 / 403 as
    :func:`~xiangchuang.applications.service.get_application`); the read is audited."""
    row = repo.attachment(session, attachment_id)
    if row is None:
        raise NotFound(f"附件 {attachment_id} 不存在")
    app = repo.load(session, row.application_id)
    check_read_scope(app, actor=actor, role=role, actor_district=actor_district)
    path = path_for(storage_root(data_dir), row.sha256)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"附件 {attachment_id} 的文件已不在存储中，请联系管理员") from None
    if hashlib.sha256(content).hexdigest() != row.sha256:
        raise ValidationFailed(f"附件 {attachment_id} 的文件校验值不符（可能已被篡改），已拒绝读取")
    record(
        session,
        key=audit_key,
        actor=actor,
        actor_role=role,
        district=app.district,
        action="attachment.read",
        subject=f"applications:{app.application_no}",
        details={"attachment": row.id, "material": row.material},
        at=now,
    )
    return StoredFile(row, content)


def missing_required(session: Session, app: Application) -> list[Material]:
    """The kind's required materials with no file uploaded, in the kind's order."""
    have = repo.materials_present(session, app.id)
    return [m for m in KINDS[app.kind].required_materials if m.id not in have]


def unreferenced_files(session: Session, *, data_dir: Path | None = None) -> list[Path]:
    """Stored files no attachment row refers to (left by rolled-back uploads): safe to delete."""
    root = storage_root(data_dir)
    if not root.exists():
        return []
    known = repo.all_attachment_hashes(session)
    found: Iterable[Path] = (p for p in root.glob("??/??/*") if p.is_file() and not p.name.startswith("."))
    return sorted(p for p in found if p.name not in known)
