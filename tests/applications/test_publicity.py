"""公示: lists per district and publication day, masked views, objections against a line, Excel export."""

from __future__ import annotations

import datetime as dt
import re

import openpyxl
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.applications import ACTORS, D1, D2, KEY, LATER, NOW, act, application_in, setup
from xiangchuang.applications import publicity
from xiangchuang.db import make_sessionmaker
from xiangchuang.errors import Forbidden, InvalidTransition
from xiangchuang.ids.masking import mask_name_middle
from xiangchuang.models import Application, AuditEvent, Objection, Person, PublicityBatch, PublicityLine

ID_NUMBER = re.compile(r"\d{17}[\dX]")


def _rename(engine, person_no: str, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(Person).where(Person.person_no == person_no).values(name=name))


def _batches(engine):
    with Session(engine) as s:
        return s.execute(select(PublicityBatch).order_by(PublicityBatch.id)).scalars().all()


def _lines(engine):
    with Session(engine) as s:
        return s.execute(select(PublicityLine).order_by(PublicityLine.id)).scalars().all()


def test_names_are_masked_keeping_first_and_last_character():
    assert mask_name_middle("张三明") == "张*明"
    assert mask_name_middle("欧阳娜娜") == "欧**娜"
    assert mask_name_middle("张三") == "张*"
    assert mask_name_middle("李") == "*"


def test_passing_second_review_lists_the_application_on_the_districts_batch_of_the_day(db_engine, pii):
    setup(db_engine, pii)
    first = application_in(db_engine, "publicity")
    again = application_in(db_engine, "publicity")  # another period of the same subject, same day
    [batch] = _batches(db_engine)
    assert batch.batch_no == "GS50010120250303" and batch.district == D1
    assert (batch.start_date, batch.end_date, batch.working_days) == (
        dt.date(2025, 3, 3),
        dt.date(2025, 3, 10),
        5,
    )
    lines = _lines(db_engine)
    assert [(ln.application_id, ln.seq, ln.status, ln.amount_fen) for ln in lines] == [
        (first, 1, "listed", 197_531),
        (again, 2, "listed", 197_531),
    ]
    with Session(db_engine) as s:
        app = s.get(Application, first)
        assert app is not None and (app.publicity_start, app.publicity_end) == (
            batch.start_date,
            batch.end_date,
        )
    next_day = application_in(db_engine, "second_review")
    act(db_engine, next_day, "pass_second_review", "district_reviewer", now=NOW + dt.timedelta(days=1))
    assert [b.batch_no for b in _batches(db_engine)] == ["GS50010120250303", "GS50010120250304"]
    assert _batches(db_engine)[1].end_date == dt.date(2025, 3, 11)


def test_the_public_view_is_masked_and_has_no_internal_numbers(db_engine, pii):
    setup(db_engine, pii)
    _rename(db_engine, "P-VET", "张三明")
    application_in(db_engine, "publicity")
    with Session(db_engine) as s:
        view = publicity.public_view(s, batch_no="GS50010120250303", pii=pii)
        id_number = pii.reveal_id(
            s.execute(select(Person.id_number_enc).where(Person.person_no == "P-VET")).scalar_one()
        )
    [line] = view.lines
    assert line.name == "张*明"
    assert line.id_number == id_number[:4] + "*" * 10 + id_number[-4:]
    assert line.program == "创业补助" and line.amount_fen == 197_531 and line.amount == "¥1,975.31"
    assert line.business_name.startswith("测试经营主体")
    assert (
        view.district_name == "万州区"
        and "公示期：2025年03月03日至2025年03月10日（5个工作日）" in view.period_text
    )
    text = repr(view)
    assert "张三明" not in text and id_number not in text and "application" not in text
    assert not ID_NUMBER.search(text)


def test_an_objection_is_recorded_against_the_line_and_blocks_approval_until_resolved(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "objection")
    [line] = _lines(db_engine)
    with Session(db_engine) as s:
        [objection] = s.execute(select(Objection)).scalars().all()
        assert objection.publicity_line_id == line.id
        _public, staff = publicity.staff_view(
            s, batch_id=line.batch_id, pii=pii, role="district_reviewer", actor_district=D1
        )
        assert [(x.line_id, x.open_objections, x.application_id) for x in staff] == [(line.id, 1, app_id)]
    with pytest.raises(InvalidTransition):  # 公示异议处理中: approval is not offered there
        act(db_engine, app_id, "approve", "district_reviewer", now=LATER)
    act(db_engine, app_id, "dismiss_objection", "district_reviewer", reason="经核查异议不成立")
    with Session(db_engine) as s:
        _public, staff = publicity.staff_view(
            s, batch_id=line.batch_id, pii=pii, role="district_reviewer", actor_district=D1
        )
        assert staff[0].open_objections == 0
    assert act(db_engine, app_id, "approve", "district_reviewer", now=LATER).application.state == "approved"


def test_an_upheld_objection_takes_the_line_off_and_passing_again_lists_it_anew(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "objection")
    act(db_engine, app_id, "review_again", "district_reviewer", reason="异议成立，重新核查")
    [line] = _lines(db_engine)
    assert line.status == "withdrawn"
    with Session(db_engine) as s:
        assert publicity.public_view(s, batch_no="GS50010120250303", pii=pii).lines == []
    act(db_engine, app_id, "pass_second_review", "district_reviewer", now=LATER)
    lines = _lines(db_engine)
    assert [(ln.status, ln.application_id) for ln in lines] == [("withdrawn", app_id), ("listed", app_id)]
    assert _batches(db_engine)[-1].start_date == dt.date(2025, 3, 20)


def test_an_upheld_objection_and_a_second_pass_on_the_same_day_relist_the_same_line(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "objection")
    act(db_engine, app_id, "review_again", "district_reviewer", reason="异议成立，重新核查")
    act(db_engine, app_id, "pass_second_review", "district_reviewer")
    [line] = _lines(db_engine)
    assert line.status == "listed"


def test_the_excel_export_is_masked_complete_and_audited(db_engine, pii, tmp_path):
    setup(db_engine, pii)
    _rename(db_engine, "P-VET", "欧阳娜娜")
    application_in(db_engine, "publicity")
    application_in(db_engine, "publicity")
    [batch] = _batches(db_engine)
    path = tmp_path / "公示名单.xlsx"
    with make_sessionmaker(db_engine)() as s, s.begin():
        n = publicity.export_list(
            s,
            batch_id=batch.id,
            pii=pii,
            path=path,
            actor=ACTORS["district_reviewer"],
            role="district_reviewer",
            actor_district=D1,
            audit_key=KEY,
        )
    assert n == 2
    ws = openpyxl.load_workbook(path).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0][0] == "万州区返乡入乡创业扶持拟补贴对象公示名单（GS50010120250303）"
    assert rows[1][0].startswith("公示期：2025年03月03日至2025年03月10日（5个工作日）")
    assert rows[2] == list(publicity.HEADERS)
    for seq, row in enumerate(rows[3:5], start=1):
        assert (
            row[0] == seq and row[1] == "欧**娜" and row[4] == "创业补助" and row[5] == pytest.approx(1975.31)
        )
        assert re.fullmatch(r"5001\*{10}\d{3}[\dX]", row[2])
    assert rows[5][0] == "合计" and rows[5][5] == pytest.approx(3950.62)
    everything = " ".join(str(c) for r in rows for c in r if c is not None)
    assert "欧阳娜娜" not in everything and not ID_NUMBER.search(everything)
    with Session(db_engine) as s:
        last = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
        assert last.action == "export.publicity_list" and last.subject == "publicity_batches:GS50010120250303"
        assert last.details == {"lines": 2, "total_fen": 395_062}


def test_another_districts_staff_cannot_view_or_export_the_list(db_engine, pii, tmp_path):
    setup(db_engine, pii)
    application_in(db_engine, "publicity")
    [batch] = _batches(db_engine)
    with make_sessionmaker(db_engine)() as s:
        with pytest.raises(Forbidden, match="其他区县"):
            publicity.staff_view(s, batch_id=batch.id, pii=pii, role="district_reviewer", actor_district=D2)
        with pytest.raises(Forbidden):
            publicity.export_list(
                s,
                batch_id=batch.id,
                pii=pii,
                path=tmp_path / "x.xlsx",
                actor="u",
                role="applicant",
                actor_district=None,
                audit_key=KEY,
            )
        public, staff = publicity.staff_view(
            s, batch_id=batch.id, pii=pii, role="city_admin", actor_district=None
        )
        assert len(public.lines) == len(staff) == 1
        with pytest.raises(Forbidden, match="其他区县"):
            publicity.staff_view(s, batch_id=batch.id, pii=pii, role="district_finance", actor_district=D2)
        # the district's finance office sees its own district's list (the list page links to it)
        public, _ = publicity.staff_view(
            s, batch_id=batch.id, pii=pii, role="district_finance", actor_district=D1
        )
        assert len(public.lines) == 1
    assert not (tmp_path / "x.xlsx").exists()
