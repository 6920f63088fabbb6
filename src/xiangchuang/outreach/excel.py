"""Excel (openpyxl) for outreach: read the register import sheet, write the import template, the masked
register export, the talent-programme list and the per-row error report."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook, load_workbook

from xiangchuang.errors import ValidationFailed
from xiangchuang.outreach.service import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    IMPORT_COLUMNS,
    REQUIRED_COLUMNS,
    STATUS_LABELS,
    MaskedPerson,
    RowError,
    TalentRow,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_register(content: bytes) -> list[tuple[int, dict[str, str]]]:
    """The rows of the first sheet by column header (Chinese headers as in the template)."""
    if len(content) > MAX_BYTES:
        raise ValidationFailed(f"文件：超过 {MAX_BYTES // 1024 // 1024} MB")
    if not content.startswith(b"PK"):
        raise ValidationFailed("文件：不是 Excel（.xlsx）文件")
    try:
        return _rows(content)
    except ValidationFailed:
        raise
    except Exception as exc:  # a damaged or crafted file: openpyxl/zipfile raise many kinds of errors
        raise ValidationFailed("文件：无法读取该 Excel 文件（文件已损坏或不是 .xlsx）") from exc


def _rows(content: bytes) -> list[tuple[int, dict[str, str]]]:
    wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    try:
        header = [_cell(v) for v in next(rows)]
    except StopIteration:
        raise ValidationFailed("文件：工作表为空") from None
    by_label = {label: key for key, label in IMPORT_COLUMNS}
    index = {by_label[h]: i for i, h in enumerate(header) if h in by_label}
    missing = [label for key, label in IMPORT_COLUMNS if key in REQUIRED_COLUMNS and key not in index]
    if missing:
        raise ValidationFailed(f"文件：缺少列 {'、'.join(missing)}（请使用导入模板）")
    out = []
    for number, values in enumerate(rows, start=2):
        cells = [_cell(v) for v in values]
        if not any(cells):
            continue
        out.append((number, {k: cells[i] if i < len(cells) else "" for k, i in index.items()}))
        if len(out) > MAX_ROWS:  # the importer refuses more than MAX_ROWS; read no further
            break
    wb.close()
    return out


def _book(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    for col in ws.columns:
        ws.column_dimensions[col[0].column_letter].width = 18
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template() -> bytes:
    return _book(
        "外出人员登记",
        [label for _, label in IMPORT_COLUMNS],
        [
            [
                "（示例）张三",
                "13800000000",
                "示例镇",
                "广东省深圳市",
                "电子制造",
                "焊接、设备维修",
                "2026-01-20",
                "电话、微信",
                "",
            ]
        ],
    )


def register_export(rows: Iterable[MaskedPerson]) -> bytes:
    header = [
        "登记编号",
        "姓名（脱敏）",
        "手机号（脱敏）",
        "家乡乡镇/街道",
        "务工地",
        "从事行业",
        "技能",
        "同意联系日期",
        "同意的联系方式",
        "撤回同意日期",
        "状态",
        "返乡日期",
        "登记库人员编号",
        "保存至",
    ]
    return _book(
        "外出人员登记",
        header,
        (
            [
                p.ref_no,
                p.name,
                p.phone,
                p.home_town,
                p.work_place,
                p.trade,
                "、".join(p.skills),
                p.consent_on.isoformat(),
                "、".join(CHANNEL_LABELS[c] for c in p.consent_scope),
                p.consent_withdrawn_on.isoformat() if p.consent_withdrawn_on else "",
                STATUS_LABELS[p.status],
                p.returned_on.isoformat() if p.returned_on else "",
                p.person_no or "",
                p.retain_until.isoformat(),
            ]
            for p in rows
        ),
    )


def programme_export(rows: Iterable[TalentRow]) -> bytes:
    header = [
        "记录号",
        "人员编号",
        "姓名",
        "用人单位编号",
        "用人单位",
        "岗位",
        "人才类别",
        "职称/学历/技能等级",
        "聘用日期",
        "认定日期",
    ]
    return _book(
        "引进人才",
        header,
        (
            [
                r.id,
                r.person_no,
                r.name,
                r.business_no,
                r.business_name,
                r.position,
                CATEGORY_LABELS[r.category],
                r.qualification,
                r.hired_on.isoformat(),
                r.decided_on.isoformat() if r.decided_on else "",
            ]
            for r in rows
        ),
    )


def error_report(errors: Iterable[RowError]) -> bytes:
    return _book("错误报告", ["行号", "列", "问题"], ([e.row, e.field, e.message] for e in errors))
