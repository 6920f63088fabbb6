"""Materials: the list per kind, upload checks (size, magic bytes, ZIP members), content-addressed
storage with server names, metadata and audit, the submit guard, and scoped, verified reads."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.applications import (
    ACTORS,
    D1,
    D2,
    DATA_DIR,
    KEY,
    NOW,
    PDF,
    act,
    application_in,
    create,
    district_of,
    setup,
    state_of,
    upload_required,
)
from xiangchuang.applications import attachments
from xiangchuang.applications.kinds import FILE_TYPES, KINDS, LICENCE, MB
from xiangchuang.audit.chain import verify
from xiangchuang.db import make_sessionmaker
from xiangchuang.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from xiangchuang.models import Attachment, AuditEvent


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def _xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["月份", "网络销售额（元）"])
    ws.append(["2024-01", 52000])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
OFD = _zip({"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<ofd:Document/>"})
PLAIN_ZIP = _zip({"readme.txt": b"hello"})


def _upload(engine, app_id, material, filename, content, *, role="applicant", district=D1, actor=None):
    with make_sessionmaker(engine)() as s, s.begin():
        return attachments.upload(
            s,
            application_id=app_id,
            material=material,
            filename=filename,
            content=content,
            actor=actor or ACTORS[role],
            role=role,
            actor_district=district_of(role, district),
            audit_key=KEY,
            data_dir=DATA_DIR,
            now=NOW,
        )


def _read(engine, attachment_id, role, *, district=D1, actor=None):
    with make_sessionmaker(engine)() as s, s.begin():
        return attachments.read(
            s,
            attachment_id=attachment_id,
            actor=actor or ACTORS[role],
            role=role,
            actor_district=district_of(role, district),
            audit_key=KEY,
            data_dir=DATA_DIR,
            now=NOW,
        )


# --- the materials of each kind ------------------------------------------------------------------------


def test_every_kind_lists_its_materials_with_chinese_labels_known_types_and_a_required_one():
    for kind in KINDS.values():
        assert kind.required_materials, kind.id
        ids = [m.id for m in kind.materials]
        assert len(ids) == len(set(ids))
        for m in kind.materials:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in m.label)
            assert m.types and set(m.types) <= set(FILE_TYPES)
            assert 0 < m.max_bytes <= 50 * MB
    assert [m.label for m in KINDS["online_sales_subsidy"].required_materials] == [
        "营业执照",
        "身份证明",
        "网络销售流水",
    ]
    assert "劳动合同" in [m.label for m in KINDS["job_subsidy"].required_materials]
    assert "培训合格证" in [m.label for m in KINDS["training_syb"].required_materials]
    assert "租赁合同" in [m.label for m in KINDS["carrier_rent_reduction"].required_materials]


# --- sniffing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (PDF, "pdf"),
        (JPEG, "jpeg"),
        (_png(), "png"),
        (_xlsx(), "xlsx"),
        (DOCX, "docx"),
        (OFD, "ofd"),
        (PLAIN_ZIP, "zip"),
        (b"MZ\x90\x00", None),
    ],
)
def test_content_is_recognised_by_its_magic_bytes_and_zip_members(content, kind):
    assert attachments.sniff(content) == kind


def test_a_zip_that_would_expand_past_the_limit_is_refused_without_expanding_it(monkeypatch):
    monkeypatch.setattr(attachments, "MAX_UNZIPPED_BYTES", 1000)
    bomb = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"0" * 5000})
    assert attachments.sniff(bomb) == "zip-bomb"
    sheet = KINDS["online_sales_subsidy"].material("online_sales_ledger")
    assert sheet is not None
    with pytest.raises(ValidationFailed, match="解压后过大"):
        attachments.check_file(sheet, "流水.xlsx", bomb)


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("营业执照.pdf", _png(), "扩展名为「.pdf」，但内容是PNG 图片，与扩展名不符"),
        ("营业执照.jpg", PDF, "内容是PDF"),
        ("营业执照.png", b"MZ\x90\x00 not an image", "内容是无法识别的格式"),
        ("营业执照.exe", b"MZ\x90\x00", "不接受扩展名为「.exe」"),
        ("营业执照", PDF, "不接受扩展名为「无」"),
        ("营业执照.xlsx", _xlsx(), "不接受扩展名为「.xlsx」"),  # a licence is a scan, not a sheet
        ("营业执照.pdf", b"", "文件为空"),
    ],
)
def test_a_mismatched_or_unlisted_file_is_refused_naming_the_material_and_the_rule(
    filename, content, message
):
    with pytest.raises(ValidationFailed) as info:
        attachments.check_file(LICENCE, filename, content)
    assert "材料「营业执照」" in info.value.message and message in info.value.message
    assert LICENCE.rule in info.value.message  # 限 PDF、JPEG 图片、PNG 图片、OFD 版式文件，不超过 10 MB


def test_a_docx_renamed_to_xlsx_and_a_plain_zip_are_refused():
    sheet = KINDS["online_sales_subsidy"].material("online_sales_ledger")
    assert sheet is not None
    with pytest.raises(ValidationFailed, match="内容是Word"):
        attachments.check_file(sheet, "流水.xlsx", DOCX)
    with pytest.raises(ValidationFailed, match="普通 ZIP"):
        attachments.check_file(sheet, "流水.xlsx", PLAIN_ZIP)
    assert attachments.check_file(sheet, "流水.XLSX", _xlsx()) == "xlsx"


def test_a_file_above_the_material_limit_is_refused():
    with pytest.raises(ValidationFailed, match=r"文件大小 10\.0 MB 超过上限"):
        attachments.check_file(LICENCE, "营业执照.pdf", PDF + b"0" * (10 * MB - len(PDF) + 1))
    assert attachments.check_file(LICENCE, "营业执照.pdf", PDF + b"0" * (10 * MB - len(PDF))) == "pdf"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\张三\\营业执照.pdf", "营业执照.pdf"),
        ("身份证500101199001011234.jpg", "身份证******************.jpg"),
        ("a\u202ebad\x00.pdf", "abad.pdf"),
        ("...", "未命名"),
    ],
)
def test_the_users_file_name_is_sanitised(name, expected):
    assert attachments.sanitize_name(name) == expected


# --- upload, storage, metadata, audit --------------------------------------------------------------


@pytest.mark.parametrize(
    ("material", "filename", "content", "file_type"),
    [
        ("business_licence", "营业执照.jpg", JPEG, "jpeg"),
        ("identity", "身份证.png", _png(), "png"),
        ("social_insurance_record", "社保.xlsx", _xlsx(), "xlsx"),
        ("key_group_proof", "退役证.ofd", OFD, "ofd"),
    ],
)
def test_an_upload_is_stored_by_content_under_a_server_name_and_recorded_and_audited(
    db_engine, pii, material, filename, content, file_type
):
    setup(db_engine, pii)
    app_id = create(db_engine, materials=False)
    row = _upload(db_engine, app_id, material, f"../../{filename}", content)
    digest = hashlib.sha256(content).hexdigest()
    path = attachments.path_for(attachments.storage_root(DATA_DIR), digest)
    assert path.read_bytes() == content
    assert path.name == digest and filename.split(".")[0] not in str(path)
    assert (row.file_type, row.size_bytes, row.sha256, row.original_name) == (
        file_type,
        len(content),
        digest,
        filename,
    )
    assert row.uploaded_by == ACTORS["applicant"] and row.uploader_role == "applicant"
    with Session(db_engine) as s:
        event = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
        assert event.action == "attachment.upload"
        assert event.details["material"] == material and event.details["sha256"] == digest
        assert verify(s, KEY) is None


def test_the_same_file_twice_is_one_record_and_one_audit_row(db_engine, pii):
    setup(db_engine, pii)
    app_id = create(db_engine, materials=False)
    first = _upload(db_engine, app_id, "business_licence", "执照.pdf", PDF)
    second = _upload(db_engine, app_id, "business_licence", "执照-副本.pdf", PDF)
    assert first.id == second.id
    with Session(db_engine) as s:
        n = s.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "attachment.upload")
        ).scalar_one()
        assert n == 1


def test_a_material_the_kind_does_not_have_is_refused(db_engine, pii):
    setup(db_engine, pii)
    app_id = create(db_engine, materials=False)
    with pytest.raises(ValidationFailed, match="没有材料类型 'lease_contract'"):
        _upload(db_engine, app_id, "lease_contract", "租赁合同.pdf", PDF)


def test_a_clerk_uploads_on_behalf_in_their_district_only_and_reviewers_do_not_upload(db_engine, pii):
    setup(db_engine, pii)
    app_id = create(db_engine, materials=False)
    assert (
        _upload(db_engine, app_id, "identity", "身份证.pdf", PDF, role="window_clerk").uploader_role
        == "window_clerk"
    )
    with pytest.raises(Forbidden, match="其他区县"):
        _upload(db_engine, app_id, "identity", "身份证.png", _png(), role="window_clerk", district=D2)
    with pytest.raises(Forbidden, match="不能上传"):
        _upload(db_engine, app_id, "identity", "身份证.png", _png(), role="district_reviewer")
    with pytest.raises(Forbidden, match="本人"):
        _upload(db_engine, app_id, "identity", "身份证.png", _png(), actor="someone-else")


def test_no_upload_once_submitted(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "submitted")
    with pytest.raises(InvalidTransition, match="不能再上传材料"):
        _upload(db_engine, app_id, "identity", "身份证.png", _png())


# --- the submit guard ---------------------------------------------------------------------------------


def test_submitting_with_a_required_material_missing_is_refused_naming_it(db_engine, pii):
    setup(db_engine, pii)
    app_id = create(db_engine, materials=False)
    _upload(db_engine, app_id, "business_licence", "执照.pdf", PDF)
    _upload(db_engine, app_id, "identity", "身份证.pdf", PDF)
    _upload(db_engine, app_id, "key_group_proof", "退役证.pdf", PDF)
    with pytest.raises(ValidationFailed, match="缺少必需材料「社保缴费证明」（限 PDF、Excel"):
        act(db_engine, app_id, "submit", "applicant")
    assert state_of(db_engine, app_id) == "draft"
    _upload(db_engine, app_id, "social_insurance_record", "社保.xlsx", _xlsx())
    assert act(db_engine, app_id, "submit", "applicant").application.state == "submitted"


def test_an_optional_material_is_not_needed_and_several_missing_are_counted(db_engine, pii):
    setup(db_engine, pii)
    app_id = create(db_engine, kind="online_sales_subsidy", materials=False)
    with pytest.raises(ValidationFailed, match="缺少必需材料「营业执照」等 3 项"):
        act(db_engine, app_id, "submit", "applicant")
    with make_sessionmaker(db_engine)() as s, s.begin():
        upload_required(s, app_id)
    assert act(db_engine, app_id, "submit", "applicant").application.state == "submitted"  # no 快递费用凭证


# --- reading -------------------------------------------------------------------------------------------


def test_reading_checks_scope_like_get_application_and_is_audited(db_engine, pii):
    setup(db_engine, pii)
    app_id = create(db_engine, materials=False)
    row = _upload(db_engine, app_id, "identity", "身份证.png", _png())
    assert _read(db_engine, row.id, "applicant").content == _png()
    assert _read(db_engine, row.id, "district_reviewer").attachment.id == row.id
    assert _read(db_engine, row.id, "city_admin").content == _png()
    with pytest.raises(Forbidden):
        _read(db_engine, row.id, "district_reviewer", district=D2)
    with pytest.raises(Forbidden):
        _read(db_engine, row.id, "applicant", actor="someone-else")
    with pytest.raises(NotFound):
        _read(db_engine, 99999, "city_admin")
    with Session(db_engine) as s:
        reads = s.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "attachment.read")
        ).scalar_one()
        assert reads == 3


def test_a_tampered_stored_file_is_refused(db_engine, pii, tmp_path):
    setup(db_engine, pii)
    app_id = create(db_engine, materials=False)
    content = PDF + b"% unique to this test\n"
    with make_sessionmaker(db_engine)() as s, s.begin():
        row = attachments.upload(
            s,
            application_id=app_id,
            material="identity",
            filename="id.pdf",
            content=content,
            actor=ACTORS["applicant"],
            role="applicant",
            actor_district=None,
            audit_key=KEY,
            data_dir=tmp_path,
            now=NOW,
        )
    path = attachments.path_for(attachments.storage_root(tmp_path), row.sha256)
    path.write_bytes(content + b"changed")
    with make_sessionmaker(db_engine)() as s, s.begin(), pytest.raises(ValidationFailed, match="校验值不符"):
        attachments.read(
            s,
            attachment_id=row.id,
            actor=ACTORS["applicant"],
            role="applicant",
            actor_district=None,
            audit_key=KEY,
            data_dir=tmp_path,
        )


def test_a_rolled_back_upload_leaves_only_an_unreferenced_file_that_is_listed(db_engine, pii, tmp_path):
    setup(db_engine, pii)
    app_id = create(db_engine, materials=False)
    with make_sessionmaker(db_engine)() as s, s.begin():
        attachments.upload(
            s,
            application_id=app_id,
            material="identity",
            filename="id.pdf",
            content=PDF,
            actor=ACTORS["applicant"],
            role="applicant",
            actor_district=None,
            audit_key=KEY,
            data_dir=tmp_path,
            now=NOW,
        )
        s.rollback()
    with Session(db_engine) as s:
        assert s.execute(select(func.count()).select_from(Attachment)).scalar_one() == 0
        leftovers = attachments.unreferenced_files(s, data_dir=tmp_path)
    assert [p.name for p in leftovers] == [hashlib.sha256(PDF).hexdigest()]
