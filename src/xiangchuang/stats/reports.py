"""Quarterly reports from a :class:`~xiangchuang.stats.service.QuarterReport`: Excel, PDF and CSV.

Excel, one fixed layout: a sheet per indicator group; row 1 the title, row 2 the status (published by
whom and when, or provisional), row 3 the column headers, row 4 the units; then one row per district in
the order of the district list (all 41, zeros shown) with code and Chinese name, and a 全市合计 row whose
figures are the city-wide aggregation (for medians the city median, not a sum). A dimension becomes one
column per value (fixed dimensions always show every value) plus a 合计 column where the values partition
the set. Two more sheets: 修订记录 (the revisions of a closed quarter, or 无) and 指标说明 (definitions).

PDF: a two-page summary in Chinese using ReportLab's built-in CID font STSong-Light (no font file is
shipped or embedded), with charts from ``reportlab.graphics``. CSV: one row per figure (long format),
UTF-8 with BOM so Excel opens it in Chinese.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from copy import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import openpyxl
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from xiangchuang.stats import indicators as registry
from xiangchuang.stats.indicators import Indicator
from xiangchuang.stats.service import CITY, QuarterReport, district_codes, district_name

FONT: Final = "STSong-Light"
TOTAL_LABEL: Final = "全市合计"
TITLE: Final = "重庆市返乡入乡创业统计季报"


@dataclass(frozen=True)
class Column:
    header: str
    unit: str
    value: Callable[[int], float | int]  # district → shown value
    number_format: str


def _status_line(report: QuarterReport) -> str:
    if report.status == "published" and report.published_at is not None:
        when = report.published_at.astimezone(_china()).strftime("%Y-%m-%d %H:%M")
        extra = f"；其后有 {len(report.revisions)} 次修订，见「修订记录」" if report.revisions else ""
        return f"状态：已关账发布（{report.published_by}，北京时间 {when}）{extra}"
    return "状态：未关账，实时计算数，仅供参考"


def _china() -> Any:
    from xiangchuang.chinatime import CHINA

    return CHINA


def _fmt(ind: Indicator) -> str:
    return "#,##0" if ind.decimals == 0 else "#,##0." + "0" * ind.decimals


def columns(report: QuarterReport, ind: Indicator) -> list[Column]:
    """The columns an indicator takes in its sheet (the same for every quarter when its dims are fixed)."""
    fmt = _fmt(ind)

    def getter(dim: str) -> Callable[[int], float | int]:
        return lambda d: ind.shown(report.value(ind.id, d, dim))

    if not ind.has_dim:
        return [Column(ind.label, ind.unit, getter(""), fmt)]
    dims = report.dims_of(ind)
    cols = [Column(f"{ind.label}：{ind.dim_name(dim)}", ind.unit, getter(dim), fmt) for dim in dims]
    if ind.dim_total:
        cols.append(
            Column(
                f"{ind.label}：合计",
                ind.unit,
                lambda d: ind.shown(sum(report.value(ind.id, d, dim) for dim in dims)),
                fmt,
            )
        )
    return cols


def _rows(district: int | None) -> list[int]:
    return [district] if district is not None else district_codes()


_HEAD = Font(bold=True)
_FILL = PatternFill("solid", fgColor="DDEBF7")
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


class _Styles:
    """Each distinct cell style of the workbook is set up once; the other cells with that style take a copy
    of its style array (openpyxl hashes the font / fill / border objects on every assignment, which was
    most of the time spent writing the workbook)."""

    def __init__(self) -> None:
        self._done: dict[tuple[object, ...], Any] = {}

    def apply(self, cell: Any, key: tuple[object, ...], **attrs: Any) -> None:
        proto = self._done.get(key)
        if proto is not None:
            cell._style = copy(proto)
            return
        for name, value in attrs.items():
            setattr(cell, name, value)
        self._done[key] = copy(cell._style)


def write_xlsx(report: QuarterReport, path: Path, *, district: int | None = None) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    styles = _Styles()
    rows = _rows(district)
    for group in registry.groups():
        inds = registry.all_indicators(group.id)
        if not inds:
            continue
        ws = wb.create_sheet(group.label)
        cols = [c for ind in inds for c in columns(report, ind)]
        ws.cell(1, 1, f"{TITLE}（{report.quarter.zh}）— {group.label}").font = Font(bold=True, size=14)
        ws.cell(2, 1, _status_line(report))
        ws.cell(3, 1, "区县代码")
        ws.cell(3, 2, "区县")
        ws.cell(4, 1, "单位")
        for j, col in enumerate(cols, start=3):
            ws.cell(3, j, col.header)
            ws.cell(4, j, col.unit)
        for r in (3, 4):
            for j in range(1, len(cols) + 3):
                styles.apply(
                    ws.cell(r, j),
                    ("head",),
                    font=_HEAD,
                    fill=_FILL,
                    border=_BOX,
                    alignment=Alignment(wrap_text=True, vertical="center", horizontal="center"),
                )
        r = 5
        for code in [*rows, CITY]:
            city = code == CITY
            ws.cell(r, 1, code if not city else None)
            ws.cell(r, 2, district_name(code) if not city else TOTAL_LABEL)
            if city:
                for j in (1, 2):
                    styles.apply(ws.cell(r, j), ("total",), font=_HEAD)
            for j, col in enumerate(cols, start=3):
                cell = ws.cell(r, j, col.value(code))
                bold = {"font": _HEAD} if city else {}
                styles.apply(
                    cell,
                    ("figure", col.number_format, city),
                    number_format=col.number_format,
                    border=_BOX,
                    **bold,
                )
            r += 1
        ws.freeze_panes = "C5"
        ws.column_dimensions["A"].width = 10
        ws.column_dimensions["B"].width = 22
        for j in range(3, len(cols) + 3):
            ws.column_dimensions[get_column_letter(j)].width = 16
        ws.row_dimensions[3].height = 48

    ws = wb.create_sheet("修订记录")
    ws.append([f"{report.quarter.zh} 关账后的修订（原发布数不变，修订数列于其旁）"])
    ws.append(
        [
            "修订号",
            "修订时间（北京时间）",
            "修订人",
            "说明",
            "指标",
            "区县",
            "维度",
            "原发布数",
            "修订数",
            "单位",
        ]
    )
    if not report.revisions:
        ws.append(["无"])
    for rev in report.revisions:
        when = rev.published_at.astimezone(_china()).strftime("%Y-%m-%d %H:%M")
        for c in rev.changes:
            ind = registry.get(c["indicator"])
            ws.append(
                [
                    rev.revision,
                    when,
                    rev.published_by,
                    rev.note,
                    ind.label,
                    c["district_name"],
                    ind.dim_name(c["dim"]) if c["dim"] else "",
                    ind.shown(c["original"]),
                    ind.shown(c["revised"]),
                    ind.unit,
                ]
            )
    ws = wb.create_sheet("指标说明")
    ws.append(["指标分组", "指标编号", "指标", "单位", "维度", "统计口径"])
    labels = {g.id: g.label for g in registry.groups()}
    for ind in registry.all_indicators():
        ws.append([labels[ind.group], ind.id, ind.label, ind.unit, ind.dim_label or "", ind.definition])
    wb.save(path)
    return path


# --- CSV -------------------------------------------------------------------------------------------------

CSV_HEADER: Final = (
    "季度",
    "状态",
    "区县代码",
    "区县",
    "指标分组",
    "指标编号",
    "指标",
    "维度",
    "维度名称",
    "单位",
    "数值",
    "基本单位数值",
)


def write_csv(report: QuarterReport, path: Path, *, district: int | None = None) -> Path:
    labels = {g.id: g.label for g in registry.groups()}
    status = "已关账发布" if report.status == "published" else "未关账（实时数）"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    keep = None if district is None else {district, CITY}

    def emit(state: str, ind: Indicator, d: int, dim: str, value: int) -> None:
        w.writerow(
            [
                report.quarter.label,
                state,
                d if d != CITY else "",
                district_name(d),
                labels[ind.group],
                ind.id,
                ind.label,
                dim,
                ind.dim_name(dim) if dim else "",
                ind.unit,
                ind.shown(value),
                value,
            ]
        )

    order = {ind.id: n for n, ind in enumerate(registry.all_indicators())}
    for (i, d, dim), value in sorted(
        report.figures.items(), key=lambda kv: (order.get(kv[0][0], 999), kv[0][1], kv[0][2])
    ):
        if i in order and (keep is None or d in keep):
            emit(status, registry.get(i), d, dim, value)
    for rev in report.revisions:
        when = rev.published_at.astimezone(_china()).strftime("%Y-%m-%d")
        for c in rev.changes:
            if keep is None or c["district"] in keep:
                emit(
                    f"修订{rev.revision}（{when}）",
                    registry.get(c["indicator"]),
                    c["district"],
                    c["dim"],
                    c["revised"],
                )
    path.write_text(buf.getvalue(), encoding="utf-8-sig", newline="")
    return path


# --- PDF -------------------------------------------------------------------------------------------------


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _total(report: QuarterReport, ind: Indicator, district: int) -> int:
    return sum(v for (i, d, _dim), v in report.figures.items() if i == ind.id and d == district)


def _fmt_value(ind: Indicator, value: int) -> str:
    shown = ind.shown(value)
    return f"{shown:,.{ind.decimals}f}" if ind.decimals else f"{int(shown):,}"


PDF_PAGES: Final = 2


def write_pdf(report: QuarterReport, path: Path, *, district: int | None = None) -> Path:
    """A two-page summary: headline figures and a district chart; program mix, funding sources, timeliness."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.charts.piecharts import Pie
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _register_font()
    h1 = ParagraphStyle("h1", fontName=FONT, fontSize=18, leading=24, spaceAfter=6)
    h2 = ParagraphStyle("h2", fontName=FONT, fontSize=13, leading=18, spaceBefore=8, spaceAfter=4)
    body = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13)
    scope = district if district is not None else CITY
    where = district_name(scope) if district is not None else "全市"
    story: list[Any] = [
        Paragraph(f"{TITLE}（{report.quarter.zh}）", h1),
        Paragraph(f"范围：{where}。{_status_line(report)}", body),
        Paragraph("一、主要指标", h2),
    ]
    headline = [
        "entrepreneurs_new", "entrepreneurs_total", "businesses_new", "businesses_total", "jobs_created",
        "jobs_created_key_groups", "jobs_insured_new", "applications_received", "applications_approved",
        "applications_rejected", "applications_returned", "beneficiaries", "amount_approved", "amount_paid",
    ]  # fmt: skip
    data = [["指标", "数值", "单位"]]
    for ind_id in headline:
        ind = registry.get(ind_id)
        data.append([ind.label, _fmt_value(ind, _total(report, ind, scope)), ind.unit])
    table = Table(data, colWidths=[90 * mm, 45 * mm, 20 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("FONTSIZE", (0, 0), (-1, -1), 9.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("ALIGN", (1, 1), (1, -1), "RIGHT"),
            ]
        )
    )
    story += [table, Paragraph("二、各区县受理申请件数（前 12 位）", h2)]
    received = registry.get("applications_received")
    by_d = sorted(
        ((d, _total(report, received, d)) for d in district_codes()), key=lambda kv: (-kv[1], kv[0])
    )[:12]
    by_d = [kv for kv in by_d if kv[1]] or [(scope, 0)]
    drawing = Drawing(170 * mm, 80 * mm)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 30 * mm, 5 * mm, 130 * mm, 72 * mm
    chart.data = [[v for _, v in reversed(by_d)]]
    chart.categoryAxis.categoryNames = [district_name(d) for d, _ in reversed(by_d)]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#4472C4")
    drawing.add(chart)
    story += [drawing, PageBreak(), Paragraph("三、各项目拨付金额构成（元，来源：资金台账）", h2)]

    paid = registry.get("amount_paid")
    slices = [(paid.dim_name(dim), report.value(paid.id, scope, dim)) for dim in report.dims_of(paid)]
    slices = [s for s in slices if s[1] > 0]
    pie_d = Drawing(170 * mm, 70 * mm)
    if slices:
        pie = Pie()
        pie.x, pie.y, pie.width, pie.height = 45 * mm, 5 * mm, 60 * mm, 60 * mm
        pie.data = [v for _, v in slices]
        pie.labels = [f"{name} {v / 100:,.2f}" for name, v in slices]
        pie.slices.fontName = FONT
        pie.slices.fontSize = 8
        palette = ["#4472C4", "#ED7D31", "#A5A5A5", "#FFC000", "#5B9BD5", "#70AD47", "#264478", "#9E480E"]
        for n in range(len(slices)):
            pie.slices[n].fillColor = colors.HexColor(palette[n % len(palette)])
        pie_d.add(pie)
    else:
        pie_d.add(String(10, 30 * mm, "本季度无拨付", fontName=FONT, fontSize=12))
    story.append(pie_d)

    story.append(Paragraph("四、拨付金额按资金来源", h2))
    src = registry.get("paid_by_source")
    src_rows = [["资金来源", "拨付金额（元）"]] + [
        [src.dim_name(dim), _fmt_value(src, report.value(src.id, scope, dim))] for dim in report.dims_of(src)
    ]
    story.append(_simple_table(src_rows, [60 * mm, 50 * mm], Table, TableStyle, colors))
    story.append(Paragraph("五、各环节办理时长中位数（天）", h2))
    med = registry.get("step_median_days")
    med_rows = [["环节", "中位数（天）"]] + [
        [med.dim_name(dim), _fmt_value(med, report.value(med.id, scope, dim))] for dim in report.dims_of(med)
    ]
    story.append(_simple_table(med_rows, [60 * mm, 50 * mm], Table, TableStyle, colors))
    story.append(Spacer(1, 4 * mm))
    story.append(
        Paragraph(
            "说明：金额以分为单位精确计算后折算为元；拨付金额取自资金台账拨付分录；季度按北京时间划分；"
            "全市中位数为全市数据的中位数。各指标口径见 Excel 报表「指标说明」工作表。",
            body,
        )
    )
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{TITLE}（{report.quarter.zh}）",
        author="乡创通",
    )
    doc.build(story)
    return path


def _simple_table(rows: list[list[str]], widths: list[float], table: Any, style: Any, colors: Any) -> Any:
    t = table(rows, colWidths=widths)
    t.setStyle(
        style(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("FONTSIZE", (0, 0), (-1, -1), 9.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("ALIGN", (1, 1), (1, -1), "RIGHT"),
            ]
        )
    )
    return t


FORMATS: Final = {"xlsx": write_xlsx, "pdf": write_pdf, "csv": write_csv}


def write(report: QuarterReport, path: Path, *, fmt: str, district: int | None = None) -> Path:
    try:
        writer = FORMATS[fmt]
    except KeyError:
        from xiangchuang.errors import ValidationFailed

        raise ValidationFailed(f"报表格式 {fmt!r} 不受支持，应为 xlsx、pdf 或 csv") from None
    return writer(report, path, district=district)
