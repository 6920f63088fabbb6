"""Imports and registry search pages (district staff), on SQLite and PostgreSQL: an Excel upload goes
through the registry importer, the result is shown and the error report (masked) downloads only in the
importing district; the search shows masked personal data and only the staff member's district."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from tests.web.apps_world import build
from xiangchuang.ids import make_resident_id
from xiangchuang.models import AuditEvent, Person

ID_OK = make_resident_id(500101, dt.date(1990, 1, 1), 123)


@pytest.fixture
def world(db_engine, pii, web_settings, akey):
    w = build(db_engine, pii, web_settings, akey)
    yield w
    w.close()


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["人员编号", "姓名", "身份证号", "手机号码", "户籍所在区县"])
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_import_page_accepts_valid_rows_and_serves_the_error_report_in_district(world, db_engine):
    clerk, rev2, vet = world.client("clerk"), world.client("rev2"), world.client("vet")
    page = clerk.get("/staff/imports")
    for field in ("kind", "mode", "file"):
        assert f'<label for="{field}">' in page.text
    content = _xlsx(
        [["P-NEW1", "赵六", ID_OK, "13800138000", "渝中区"], ["P-NEW2", "钱七", "123", "", "渝中区"]]
    )
    r = clerk.post(
        "/staff/imports",
        data={"kind": "persons", "mode": "accept_valid"},
        files={"file": ("persons.xlsx", content, "application/octet-stream")},
    )
    assert r.status_code == 200, r.text
    assert "新增 1" in r.text and "拒绝 1" in r.text and "身份证号" in r.text
    token = re.search(r"/staff/imports/reports/([0-9a-f]{16})\.xlsx", r.text).group(1)
    report = clerk.get(f"/staff/imports/reports/{token}.xlsx")
    assert report.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(report.content))["错误报告"]
    assert sheet.max_row >= 2 and sheet.cell(row=2, column=1).value == 3
    assert rev2.get(f"/staff/imports/reports/{token}.xlsx").status_code == 404  # other district
    assert vet.get("/staff/imports").status_code == 403
    with db_engine.connect() as conn:
        assert conn.execute(select(Person.name).where(Person.person_no == "P-NEW1")).scalar() == "赵六"
        assert (
            conn.execute(select(AuditEvent).where(AuditEvent.action == "registry.import")).first() is not None
        )


def test_registry_search_is_masked_and_district_scoped(world):
    clerk, clerk2 = world.client("clerk"), world.client("clerk2")
    r = clerk.get("/staff/registry", params={"q": "B-VET"})
    assert r.status_code == 200 and "B-VET" in r.text and "P-VET" in r.text
    assert re.search(r"\d{4}\*{10}\w{4}", r.text) and not re.search(r"\d{17}[0-9X]", r.text)
    other = clerk2.get("/staff/registry", params={"q": "B-VET"}).text
    assert "本区县没有符合条件的经营主体" in other and "P-VET" not in other
    assert "B-OTHER" in clerk2.get("/staff/registry", params={"q": "B-OTHER"}).text
