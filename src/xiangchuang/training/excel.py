"""Excel (.xlsx, openpyxl) for training: the class roster export (masked 身份证号 and phone: a roster leaves
the system), and the enrolment / attendance imports — every row checked, errors reported per row and
column in Chinese, and all rows written or none."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import openpyxl
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from xiangchuang.crypto import FieldCipher
from xiangchuang.errors import ValidationFailed
from xiangchuang.ids.masking import mask_name, mask_phone, mask_resident_id
from xiangchuang.models import Person
from xiangchuang.registry.pii import ID_FIELD, PHONE_FIELD
from xiangchuang.training import repository as repo

MAX_BYTES: Final = 5 * 1024 * 1024
MAX_ROWS: Final = 2000
ROSTER_HEADERS: Final = (
    "学员编号",
    "登记库人员编号",
    "姓名",
    "身份证号",
    "手机号",
    "报名状态",
    "候补顺序",
    "出勤课次",
    "结业日期",
    "证书编号",
)
ENROL_HEADERS: Final = ("登记库人员编号",)
ATTEND_HEADERS: Final = ("学员编号", "课次", "上课日期", "出勤")
STATE_ZH: Final = {
    "enrolled": "已报名",
    "waiting": "候补",
    "withdrawn": "已退出",
    "completed": "已结业",
    "not_completed": "未达结业要求",
}


def roster_xlsx(session: Session, *, class_id: int, cipher: FieldCipher | None = None) -> bytes:
    """The class roster; 身份证号 and phone masked (shown only when a cipher is given to decrypt them)."""
    klass = repo.klass(session, class_id)
    marks = repo.attendance(session, class_id)
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "花名册"
    ws.append([f"培训班 {klass.class_no}（{klass.start_date}–{klass.end_date}，共 {klass.sessions} 课次）"])
    ws.append(list(ROSTER_HEADERS))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for e, p in repo.roster(session, class_id):
        id_masked = phone_masked = "—"
        if cipher is not None:
            id_masked = mask_resident_id(cipher.decrypt(p.id_number_enc, ID_FIELD))
            if p.phone_enc is not None:
                phone_masked = mask_phone(cipher.decrypt(p.phone_enc, PHONE_FIELD))
        ws.append(
            [
                e.training_no,
                p.person_no,
                mask_name(p.name),
                id_masked,
                phone_masked,
                STATE_ZH[e.state],
                e.waiting_seq,
                sum(1 for v in marks.get(e.id, {}).values() if v),
                e.completion_date.isoformat() if e.completion_date else None,
                e.certificate_code,
            ]
        )
    for col, width in zip("ABCDEFGHIJ", (22, 18, 10, 22, 16, 12, 10, 10, 12, 18), strict=True):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@dataclass
class RowErrors:
    errors: list[str] = field(default_factory=list)

    def add(self, row: int, column: str, reason: str) -> None:
        self.errors.append(f"第 {row} 行「{column}」：{reason}")

    def raise_if_any(self) -> None:
        if self.errors:
            more = f"（另有 {len(self.errors) - 20} 处）" if len(self.errors) > 20 else ""
            raise ValidationFailed("导入未执行，请修改后重新上传：" + "；".join(self.errors[:20]) + more)


def _rows(content: bytes, headers: Sequence[str]) -> list[tuple[int, list[Any]]]:
    if len(content) > MAX_BYTES:
        raise ValidationFailed(f"文件：不超过 {MAX_BYTES // 1024 // 1024} MB")
    if not content.startswith(b"PK"):
        raise ValidationFailed("文件：须为 Excel（.xlsx）文件")
    try:
        wb = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise ValidationFailed("文件：无法读取该 Excel 文件（须为 .xlsx 格式）") from None
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    head = next(it, None)
    got = [str(h).strip() if h is not None else "" for h in (head or ())]
    missing = [h for h in headers if h not in got]
    if missing:
        raise ValidationFailed(f"表头：缺少列「{'」「'.join(missing)}」（第 1 行须为：{'、'.join(headers)}）")
    idx = [got.index(h) for h in headers]
    out = []
    for n, values in enumerate(it, start=2):
        vals = list(values)
        picked = [vals[i] if i < len(vals) else None for i in idx]
        if all(v is None or str(v).strip() == "" for v in picked):
            continue
        out.append((n, picked))
        if len(out) > MAX_ROWS:
            raise ValidationFailed(f"文件：一次最多导入 {MAX_ROWS} 行")
    wb.close()
    if not out:
        raise ValidationFailed("文件：没有数据行")
    return out


def read_enrolments(session: Session, content: bytes) -> list[tuple[int, int]]:
    """(row number, person pk) per data row; unknown or repeated person numbers are errors."""
    errors = RowErrors()
    out: list[tuple[int, int]] = []
    seen: dict[str, int] = {}
    for n, (no,) in _rows(content, ENROL_HEADERS):
        text = str(no or "").strip()
        if not text:
            errors.add(n, "登记库人员编号", "必填")
            continue
        if text in seen:
            errors.add(n, "登记库人员编号", f"与第 {seen[text]} 行重复")
            continue
        seen[text] = n
        pk = session.execute(select(Person.id).where(Person.person_no == text)).scalar_one_or_none()
        if pk is None:
            errors.add(n, "登记库人员编号", f"{text} 不在登记库中")
            continue
        out.append((n, int(pk)))
    errors.raise_if_any()
    return out


@dataclass(frozen=True)
class AttendanceRow:
    row: int
    training_no: str
    session_no: int
    session_date: dt.date
    present: bool


_YES: Final = {"是", "出勤", "到", "1", "y", "yes", "true", "√"}
_NO: Final = {"否", "缺勤", "未到", "0", "n", "no", "false", "×"}


def read_attendance(content: bytes) -> list[AttendanceRow]:
    errors = RowErrors()
    out: list[AttendanceRow] = []
    seen: dict[tuple[str, int], int] = {}
    for n, (no, sess, day, here) in _rows(content, ATTEND_HEADERS):
        ok = True
        training_no = str(no or "").strip()
        if not training_no:
            errors.add(n, "学员编号", "必填")
            ok = False
        session_no = 0
        try:
            session_no = int(str(sess).strip()) if sess is not None and not isinstance(sess, bool) else 0
        except ValueError:
            session_no = 0
        if session_no <= 0:
            errors.add(n, "课次", "须为正整数")
            ok = False
        date: dt.date | None = None
        if isinstance(day, dt.datetime):
            date = day.date()
        elif isinstance(day, dt.date):
            date = day
        else:
            try:
                date = dt.date.fromisoformat(str(day or "").strip())
            except ValueError:
                errors.add(n, "上课日期", "须为日期 YYYY-MM-DD")
                ok = False
        flag = str(here if here is not None else "").strip().lower()
        if flag not in _YES and flag not in _NO:
            errors.add(n, "出勤", "须填 是 或 否")
            ok = False
        if ok and (training_no, session_no) in seen:
            errors.add(n, "学员编号", f"与第 {seen[(training_no, session_no)]} 行为同一学员同一课次")
            ok = False
        if ok and date is not None:
            seen[(training_no, session_no)] = n
            out.append(AttendanceRow(n, training_no, session_no, date, flag in _YES))
    errors.raise_if_any()
    return out
