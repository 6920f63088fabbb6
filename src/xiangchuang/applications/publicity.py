"""公示 publicity lists (拟补贴对象公示名单).

**How applications get on a list (the choice made):** passing 复审 (``pass_second_review``) lists the
application in its district's batch *of that day*, created by the first application to pass that day
(one batch per district and publication day, unique in the database). So a batch is "open" on the day
it is published and closed after: every line of a batch shares the batch's publicity period, which
starts on the publication day and ends ``applications.publicity_working_days`` working days later by
the Chinese holiday calendar (:func:`~xiangchuang.applications.calendar.publicity_end`). Nobody has to
remember to publish a list, and no application waits in 公示 without being on one. A batch number is
``GS<district><yyyymmdd>``.

Objections (the ``object`` action) are recorded against the application's current line; approval
waits until they are resolved (``objections_resolved``). An upheld objection (``review_again``) takes
the line off the list (status ``withdrawn``); passing 复审 again lists the application anew.

Output: :func:`staff_view` for reviewers (masked as well — the list is what the public sees, plus the
application numbers and objection counts), :func:`public_view` (masked only: 张*明, 5001**********1234,
no internal numbers) and :func:`export_list` (the Excel file to post, audited).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import openpyxl
from openpyxl.styles import Alignment, Font
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xiangchuang.applications import calendar
from xiangchuang.applications import repository as repo
from xiangchuang.applications.kinds import KINDS
from xiangchuang.audit import record
from xiangchuang.engine.districts import district_by_code
from xiangchuang.engine.money import format_fen
from xiangchuang.errors import Forbidden
from xiangchuang.ids.masking import mask_name_middle
from xiangchuang.models import Application, PublicityBatch, PublicityLine
from xiangchuang.registry.pii import Pii

_SEQ_ATTEMPTS: Final = 20
HEADERS: Final = ("序号", "姓名", "身份证号", "经营主体", "补贴项目", "拟补贴金额（元）", "公示状态")


def batch_no_for(district: int, start: dt.date) -> str:
    return f"GS{district}{start:%Y%m%d}"


def district_name(code: int) -> str:
    try:
        return district_by_code(code).name
    except (KeyError, ValueError, LookupError):
        return str(code)


def _open_batch(
    session: Session, *, district: int, today: dt.date, actor: str, at: dt.datetime
) -> PublicityBatch:
    found = repo.publicity_batch_on(session, district=district, start=today)
    if found is not None:
        return found
    days = calendar.publicity_working_days(today)
    batch = PublicityBatch(
        batch_no=batch_no_for(district, today),
        district=district,
        start_date=today,
        end_date=calendar.add_working_days(today, days),
        working_days=days,
        created_by=actor,
        created_at=at,
    )
    try:
        with session.begin_nested():
            session.add(batch)
            session.flush()
    except IntegrityError:  # another reviewer opened the day's batch at the same moment
        again = repo.publicity_batch_on(session, district=district, start=today)
        if again is None:
            raise
        return again
    return batch


def list_application(
    session: Session, *, app: Application, today: dt.date, amount_fen: int | None, actor: str, at: dt.datetime
) -> PublicityLine:
    """Put an application that passed 复审 on its district's batch of ``today`` (see the module docstring)."""
    batch = _open_batch(session, district=app.district, today=today, actor=actor, at=at)
    names = repo.subject_names(session, app, on=today)
    again = repo.line_in_batch(session, batch_id=batch.id, application_id=app.id)
    if again is not None:  # withdrawn after an upheld objection and passed again on the same day
        again.status, again.amount_fen = "listed", amount_fen
        session.flush()
        return again
    for _ in range(_SEQ_ATTEMPTS):
        line = PublicityLine(
            batch_id=batch.id,
            seq=repo.next_line_seq(session, batch.id),
            application_id=app.id,
            kind=app.kind,
            person_id=names.person.id if names.person is not None else None,
            business_name=names.business_name,
            amount_fen=amount_fen,
            status="listed",
        )
        try:
            with session.begin_nested():
                session.add(line)
                session.flush()
            return line
        except IntegrityError:  # a concurrent line took the same number: take the next one
            continue
    raise RuntimeError("could not number the publicity line")  # pragma: no cover


def withdraw_line(session: Session, app: Application) -> PublicityLine | None:
    line = repo.current_line(session, app.id)
    if line is not None:
        line.status = "withdrawn"
        session.flush()
    return line


# --- views ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicLine:
    seq: int
    name: str  # masked: 张*明
    id_number: str  # masked: 5001**********1234
    business_name: str
    program: str
    amount_fen: int | None
    amount: str  # ¥1,975.31


@dataclass(frozen=True)
class PublicList:
    batch_no: str
    district: int
    district_name: str
    start_date: dt.date
    end_date: dt.date
    working_days: int
    lines: list[PublicLine]

    @property
    def title(self) -> str:
        return f"{self.district_name}返乡入乡创业扶持拟补贴对象公示名单（{self.batch_no}）"

    @property
    def period_text(self) -> str:
        return (
            f"公示期：{self.start_date:%Y年%m月%d日}至{self.end_date:%Y年%m月%d日}"
            f"（{self.working_days}个工作日）。如有异议，请于公示期内向区县人力社保部门反映。"
        )


@dataclass(frozen=True)
class StaffLine:
    public: PublicLine
    line_id: int
    application_id: int
    application_no: str
    status: str  # listed | withdrawn
    open_objections: int


def _public_line(pii: Pii, row: repo.LineRow) -> PublicLine:
    person = row.person
    name = mask_name_middle(person.name) if person is not None else "—"
    id_number = pii.masked_id(person.id_number_enc) if person is not None else "—"
    return PublicLine(
        seq=row.line.seq,
        name=name,
        id_number=id_number,
        business_name=row.line.business_name or "—",
        program=KINDS[row.line.kind].title if row.line.kind in KINDS else row.line.kind,
        amount_fen=row.line.amount_fen,
        amount=format_fen(row.line.amount_fen) if row.line.amount_fen is not None else "—",
    )


def _list(batch: PublicityBatch, lines: list[PublicLine]) -> PublicList:
    return PublicList(
        batch_no=batch.batch_no,
        district=batch.district,
        district_name=district_name(batch.district),
        start_date=batch.start_date,
        end_date=batch.end_date,
        working_days=batch.working_days,
        lines=lines,
    )


def public_view(session: Session, *, batch_no: str, pii: Pii) -> PublicList:
    """What is posted: the listed lines, masked, with no internal numbers."""
    batch = repo.publicity_batch(session, batch_no=batch_no)
    rows = repo.batch_lines(session, batch.id, listed_only=True)
    return _list(batch, [_public_line(pii, r) for r in rows])


def staff_view(
    session: Session, *, batch_id: int, pii: Pii, role: str, actor_district: int | None
) -> tuple[PublicList, list[StaffLine]]:
    """The reviewer's view of a batch: every line (also withdrawn ones) with its application and open
    objections. District staff see their own district's batches; the city office all."""
    batch = repo.publicity_batch(session, batch_id=batch_id)
    if role != "city_admin" and (
        role not in ("window_clerk", "district_reviewer", "district_finance")
        or actor_district != batch.district
    ):
        raise Forbidden(f"无权查看其他区县（{batch.district}）的公示名单")
    rows = repo.batch_lines(session, batch.id)
    staff = [
        StaffLine(
            _public_line(pii, r),
            r.line.id,
            r.application.id,
            r.application.application_no,
            r.line.status,
            r.open_objections,
        )
        for r in rows
    ]
    return _list(batch, [s.public for s in staff if s.status == "listed"]), staff


def export_list(
    session: Session,
    *,
    batch_id: int,
    pii: Pii,
    path: Path,
    actor: str,
    role: str,
    actor_district: int | None,
    audit_key: bytes,
) -> int:
    """Write the publicity list of a batch to Excel (masked names and 身份证号) and audit the export;
    returns the number of lines written."""
    public, _staff = staff_view(session, batch_id=batch_id, pii=pii, role=role, actor_district=actor_district)
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "公示名单"
    ws.append([public.title])
    ws.append([public.period_text])
    ws.append(list(HEADERS))
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    total = 0
    for line in public.lines:
        total += line.amount_fen or 0
        ws.append(
            [
                line.seq,
                line.name,
                line.id_number,
                line.business_name,
                line.program,
                None if line.amount_fen is None else line.amount_fen / 100,
                "公示中",
            ]
        )
        ws.cell(row=ws.max_row, column=3).number_format = "@"
        ws.cell(row=ws.max_row, column=6).number_format = "#,##0.00"
    ws.append(["合计", f"{len(public.lines)} 人", "", "", "", total / 100, ""])
    ws.cell(row=ws.max_row, column=6).number_format = "#,##0.00"
    for col, width in zip("ABCDEFG", (6, 10, 22, 30, 30, 16, 10), strict=True):
        ws.column_dimensions[col].width = width
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    record(
        session,
        key=audit_key,
        actor=actor,
        actor_role=role,
        action="export.publicity_list",
        subject=f"publicity_batches:{public.batch_no}",
        details={"lines": len(public.lines), "total_fen": total},
        district=public.district,
    )
    return len(public.lines)
