"""Any text in the register's fields gives either a clean entry or Chinese messages naming the field —
never an exception; any bytes as an import file give a ValidationFailed at most."""

from __future__ import annotations

import datetime as dt
import io

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from xiangchuang.errors import ValidationFailed
from xiangchuang.outreach import excel
from xiangchuang.outreach.service import IMPORT_COLUMNS, PersonInput, add_months, check_person

TODAY = dt.date(2026, 11, 27)
LABELS = (
    "姓名",
    "手机号",
    "家乡乡镇/街道",
    "务工地",
    "从事行业",
    "技能",
    "其他联系方式",
    "同意联系日期",
    "同意的联系方式",
)


@settings(max_examples=300)
@given(st.tuples(*[st.text(max_size=40) for _ in range(9)]))
def test_check_person_never_raises(values):
    data = PersonInput(*values)
    clean, errors = check_person(data, today=TODAY)
    assert (clean is None) == bool(errors)
    for _field, message in errors:
        assert message.startswith(LABELS), message
    if clean is not None:
        assert clean.phone.startswith("+86") and clean.consent_on <= TODAY and clean.consent_scope


@settings(max_examples=100)
@given(st.binary(max_size=300))
def test_read_register_refuses_any_bytes_in_chinese(blob):
    try:
        excel.read_register(b"PK" + blob)
    except ValidationFailed as exc:
        assert exc.message.startswith("文件：")


def test_a_sheet_without_the_columns_is_refused():
    wb = Workbook()
    wb.active.append(["姓名", "电话"])
    buf = io.BytesIO()
    wb.save(buf)
    try:
        excel.read_register(buf.getvalue())
    except ValidationFailed as exc:
        assert "缺少列" in exc.message and "手机号" in exc.message
    else:
        raise AssertionError("accepted a sheet without the template's columns")
    assert next(label for _, label in IMPORT_COLUMNS) == "姓名"


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)), st.integers(0, 240))
def test_add_months_is_calendar_months(day, months):
    later = add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day == day.day or (later.day < day.day and (later + dt.timedelta(days=1)).day == 1)
