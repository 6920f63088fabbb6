"""Reports: the Excel workbook opened and checked cell by cell; the PDF rendered to images with pdftoppm and
its text extracted with pdftotext; the CSV read back."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess

import openpyxl
import pytest
from sqlalchemy.orm import Session

from tests.stats.scenario import A, B, C, build
from xiangchuang.audit.chain import audit_key
from xiangchuang.engine.districts import load_districts
from xiangchuang.stats import indicators as registry
from xiangchuang.stats.periods import Quarter
from xiangchuang.stats.reports import CSV_HEADER, PDF_PAGES, write_csv, write_pdf, write_xlsx
from xiangchuang.stats.service import close_quarter, quarter_report

Q3 = Quarter(2026, 3)
AFTER = dt.datetime(2026, 10, 8, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def report(db_engine, pii):
    build(db_engine, pii)
    with Session(db_engine) as s, s.begin():
        close_quarter(s, quarter=Q3, actor="admin1", audit_key=audit_key(pii.cipher.ring), now=AFTER)
    with Session(db_engine) as s:
        return quarter_report(s, quarter=Q3)


def _header_col(ws, header: str) -> int:
    for cell in ws[3]:
        if cell.value == header:
            return cell.column
    raise AssertionError(f"no column {header!r}: {[c.value for c in ws[3]]}")


def _row_of(ws, name: str) -> int:
    for row in ws.iter_rows(min_row=5, max_col=2):
        if row[1].value == name:
            return row[1].row
    raise AssertionError(name)


def test_the_excel_workbook_has_one_fixed_layout(report, tmp_path):
    path = write_xlsx(report, tmp_path / "q.xlsx")
    wb = openpyxl.load_workbook(path)
    # one sheet per registered group (other modules add theirs), then the revisions and the definitions
    assert wb.sheetnames == [*(g.label for g in registry.groups()), "修订记录", "指标说明"]
    builtin = ["创业人员", "经营主体", "带动就业", "申请办理", "补贴金额", "办理时长"]
    assert [n for n in wb.sheetnames if n in builtin] == builtin
    ws = wb["申请办理"]
    assert ws["A1"].value == "重庆市返乡入乡创业统计季报（2026年第三季度）— 申请办理"
    assert ws["A2"].value.startswith("状态：已关账发布（admin1，北京时间 2026-10-08 10:00）")
    assert (ws["A3"].value, ws["B3"].value, ws["A4"].value) == ("区县代码", "区县", "单位")
    districts = load_districts()
    assert ws.max_row == 4 + len(districts) + 1  # a row per district and the totals row
    assert [ws.cell(5 + n, 2).value for n in range(len(districts))] == [d.name for d in districts]
    assert ws.cell(ws.max_row, 2).value == "全市合计"
    col = _header_col(ws, "受理申请（收到）：创业补助")
    assert ws.cell(4, col).value == "件"
    assert ws.cell(_row_of(ws, "万州区"), col).value == 1
    assert ws.cell(_row_of(ws, "涪陵区"), col).value == 0  # submitted in Q2
    total = _header_col(ws, "受理申请（收到）：合计")
    assert [ws.cell(_row_of(ws, n), total).value for n in ("万州区", "涪陵区", "渝中区")] == [2, 1, 1]
    assert ws.cell(ws.max_row, total).value == 4
    # totals row = sum of district rows, for every additive column of the sheet
    for j in range(3, ws.max_column + 1):
        assert sum(ws.cell(r, j).value for r in range(5, ws.max_row)) == ws.cell(ws.max_row, j).value
    money = wb["补贴金额"]
    paid = _header_col(money, "拨付金额：合计")
    assert money.cell(4, paid).value == "元"
    assert money.cell(_row_of(money, "涪陵区"), paid).value == pytest.approx(3000.25)
    assert money.cell(money.max_row, paid).value == pytest.approx(13000.25)
    assert money.cell(money.max_row, paid).number_format == "#,##0.00"
    timing = wb["办理时长"]
    fr = _header_col(timing, "各环节办理时长中位数：初审（街道/乡镇）")
    assert timing.cell(4, fr).value == "天"
    assert timing.cell(timing.max_row, fr).value == 1.5  # city median, not a sum
    assert wb["修订记录"]["A3"].value == "无"
    assert wb["指标说明"].max_row == 1 + len(registry.all_indicators())


def test_the_pdf_renders_in_chinese_with_charts(report, tmp_path):
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.fail("pdftoppm / pdftotext 未安装：apt-get install poppler-utils")
    path = write_pdf(report, tmp_path / "q.pdf")
    assert path.read_bytes()[:5] == b"%PDF-"
    assert (
        b"STSong-Light" in path.read_bytes() and b"FontFile" not in path.read_bytes()
    )  # CID font, not embedded
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == PDF_PAGES
    from PIL import Image

    for page in pages:
        with Image.open(page) as im:
            assert im.size == (414, 585)  # A4 (595 × 842 pt) at 50 dpi, rounded up by pdftoppm
            assert (
                len(im.convert("L").getcolors(256) or []) > 8
            )  # not blank: text, table lines and chart colours
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    for heading in (
        "重庆市返乡入乡创业统计季报（2026年第三季度）",
        "一、主要指标",
        "二、各区县受理申请件数",
        "三、各项目拨付金额构成",
        "五、各环节办理时长中位数",
    ):
        assert heading in text.replace(" ", ""), heading
    assert "万州区" in text and "13,000.25" in text


def test_the_csv_is_long_format_with_revisions_marked(report, tmp_path):
    path = write_csv(report, tmp_path / "q.csv", district=B)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert tuple(rows[0]) == CSV_HEADER
    by = {(r[3], r[5], r[7]): r for r in rows[1:]}
    assert by[("涪陵区", "amount_paid", "startup_subsidy")][10:] == ["3000.25", "300025"]
    assert by[("全市", "applications_received", "startup_subsidy")][10] == "1"
    assert not any(r[3] in ("万州区", "渝中区") for r in rows[1:])  # only the district and the city
    assert {r[1] for r in rows[1:]} == {"已关账发布"}
    _ = (A, C)


def test_the_pdf_chinese_glyphs_are_drawn(report, tmp_path):
    """With a CJK font installed (Debian: fonts-wqy-microhei) poppler substitutes it for the non-embedded
    STSong-Light, and the title's Chinese characters are drawn (not blank boxes)."""
    fonts = (
        subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
        if shutil.which("fc-list")
        else ""
    )
    if not fonts.strip():
        pytest.skip("没有安装中文字体（apt-get install fonts-wqy-microhei），无法检查字形渲染")
    path = write_pdf(report, tmp_path / "q.pdf")
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")], check=True
    )
    from PIL import Image

    (page,) = tmp_path.glob("p-*.png")
    with Image.open(page) as im:
        # The title's first characters 重庆市返乡入乡 (before "2026"): x 8–30 %, y 5–9 % of the page.
        w, h = im.size
        band = im.convert("L").crop((int(w * 0.08), int(h * 0.05), int(w * 0.30), int(h * 0.09)))
        dark = sum(n for n, value in (band.getcolors(256) or []) if value < 128)
    assert dark > 230  # measured: 291 with the glyphs, ~175 with blank boxes (no CJK font), 0 with no font
