"""Excel import templates (one per record kind) and the column reference (docs/import-columns.md).

A template's first sheet has the Chinese header row, formatted so Excel keeps 身份证号 and months as text
and offers drop-down lists for choices; the sheet 说明 explains every column (required?, format, allowed
values, example); a hidden sheet 取值 holds the drop-down lists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from xiangchuang.engine.districts import load_districts
from xiangchuang.registry.kinds import KINDS, TYPE_FORMATS, Column, KindSpec

__all__ = ["GENERAL_RULES", "columns_markdown", "requirement", "write_template"]

GENERAL_RULES: Final = (
    "表头在第1行，每行一条记录；列的顺序不限，可省略非必填列，未识别的列会被忽略并在结果中列出。",
    "列名可用中文（模板中的列名或所列别名）或英文名（数据库字段名）。",
    "金额：列名为中文名或带“（元）”时单位为元，最多2位小数，按分精确换算；列名带“（分）”或英文名以 _fen 结尾时为整数分。",
    "日期：YYYY-MM-DD 文本或 Excel 日期；月份：YYYY-MM 或 YYYYMM；区县：6位代码或名称（如 万州区）。",
    "文件中有的列以文件为准（空白即清空）；文件中没有的列，已登记记录保持不变。编号列（人员编号、主体编号、用工编号）留空则保持原编号。",
    "同一文件重复导入不会改变任何数据（按自然键匹配：未变的行不写入）。",
    "身份证号、手机号码、银行账号加密存储；错误报告中一律脱敏显示。",
    "导入模式：全部或全不（默认，任一行有错则不写入任何数据）或接受有效行（写入有效行，错误行列入报告）。",
)

_REQUIRED_FILL: Final = PatternFill("solid", fgColor="FDE9D9")
_HEADER_FILL: Final = PatternFill("solid", fgColor="DDEBF7")
_NUMBER_FORMATS: Final[dict[str, str]] = {
    "date": "yyyy-mm-dd",
    "money": "0.00",
    "int": "0",
    "year": "0",
}
_TEXT_TYPES: Final = frozenset(
    {"text", "id_number", "phone", "bank", "uscc", "regno", "month", "enum", "groups", "schedule", "district"}
)
_TEMPLATE_ROWS: Final = 500  # rows pre-formatted (text cells stay text when staff paste numbers)


def requirement(spec: KindSpec, col: Column) -> str:
    """是 / 否 / an either-or note, as the template and the docs show it."""
    for ref in spec.refs:
        if col.field in ref.by:
            if spec.name == "contributions":
                return "二选一：用工编号，或 人员 + 主体"
            others = "、".join(spec.column(b).display for b in ref.by if b != col.field)
            return f"至少一项（与{others}）" if ref.required else "可空"
    if col.required and col.default is None:
        return "是"
    return "否"


def _allowed(col: Column) -> str:
    if col.type == "bool":
        return "是、否"
    if col.type in ("enum", "groups"):
        return "、".join(f"{c.label}（{c.code}）" for c in col.choices)
    if col.type == "district":
        return "重庆市41个区县（含两江新区、重庆高新区、万盛经开区）"
    parts: list[str] = []
    if col.minimum is not None and col.type not in ("money",):
        parts.append(f"≥{col.minimum}")
    if col.maximum is not None:
        parts.append(f"≤{col.maximum}")
    if col.max_len is not None:
        parts.append(f"最多{col.max_len}个字符")
    if col.type == "money":
        parts.append("≥0")
    return "，".join(parts)


def _aliases(col: Column) -> str:
    return "、".join(col.aliases)


def write_template(kind: str, path: Path) -> Path:
    """Write the Excel template of ``kind`` to ``path``."""
    spec = KINDS.get(kind)
    if spec is None:
        raise KeyError(f"未知的记录类别 {kind}：可选 {'、'.join(KINDS)}")
    wb = Workbook()
    ws = wb.active
    if not isinstance(ws, Worksheet):  # a new workbook always has one worksheet
        raise TypeError("openpyxl 新建工作簿缺少工作表")
    ws.title = spec.label
    lists = wb.create_sheet("取值")
    notes = wb.create_sheet("说明", 1)
    list_col = 0
    for j, col in enumerate(spec.columns, start=1):
        letter = get_column_letter(j)
        cell = ws.cell(row=1, column=j, value=col.display)
        required = requirement(spec, col) == "是"
        cell.font = Font(bold=True, color="C00000" if required else "000000")
        cell.fill = _REQUIRED_FILL if required else _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[letter].width = max(12, min(40, 2 * len(col.display) + 4))
        fmt = "@" if col.type in _TEXT_TYPES else _NUMBER_FORMATS.get(col.type, "General")
        for r in range(2, _TEMPLATE_ROWS + 2):
            ws.cell(row=r, column=j).number_format = fmt
        values: list[str] = []
        if col.type == "bool":
            values = ["是", "否"]
        elif col.type == "enum":
            values = [c.label for c in col.choices]
        elif col.type == "district":
            values = [d.name for d in load_districts()]
        if values:
            list_col += 1
            lcol = get_column_letter(list_col)
            lists.cell(row=1, column=list_col, value=col.display)
            for i, v in enumerate(values, start=2):
                lists.cell(row=i, column=list_col, value=v)
            dv = DataValidation(
                type="list",
                formula1=f"'取值'!${lcol}$2:${lcol}${len(values) + 1}",
                allow_blank=True,
                showErrorMessage=False,
            )
            dv.prompt = f"可选：{'、'.join(values[:12])}{'……' if len(values) > 12 else ''}（也可填代码）"
            dv.promptTitle = col.display
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{_TEMPLATE_ROWS + 1}")
    ws.freeze_panes = "A2"
    lists.sheet_state = "hidden"
    _write_notes(notes, spec)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _write_notes(ws: Worksheet, spec: KindSpec) -> None:
    ws.append([f"{spec.label}（{spec.name}）导入说明"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([spec.description])
    ws.append([f"自然键（据此判断新增或更新）：{spec.key_note}"])
    for rule in GENERAL_RULES:
        ws.append([f"· {rule}"])
    ws.append([])
    header = ["列名", "英文名", "必填", "格式", "允许取值", "示例", "说明", "也接受的列名"]
    ws.append(header)
    head_row = ws.max_row
    for j in range(1, len(header) + 1):
        c = ws.cell(row=head_row, column=j)
        c.font = Font(bold=True)
        c.fill = _HEADER_FILL
    for col in spec.columns:
        ws.append(
            [
                col.display,
                col.field,
                requirement(spec, col),
                TYPE_FORMATS[col.type],
                _allowed(col),
                col.example,
                col.note,
                _aliases(col),
            ]
        )
    for letter, width in zip("ABCDEFGH", (24, 26, 16, 36, 40, 22, 50, 30), strict=True):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=head_row + 1):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def columns_markdown() -> str:
    """The column reference of every kind, as written to docs/import-columns.md."""
    out = [
        "# 导入列说明（import columns）",
        "",
        "本文件由 `xiangchuang.registry.templates.columns_markdown()` 生成（测试保证与代码一致）。",
        "每类记录的 Excel 模板：`xiangchuang template KIND -o 模板.xlsx`；导入：",
        "`xiangchuang import KIND FILE.(xlsx|csv|parquet) [--mode all-or-nothing|accept-valid] [--errors 报告.xlsx] [--district 代码]`。",
        "",
        "## 通用规则",
        "",
        *[f"- {r}" for r in GENERAL_RULES],
        "",
        "## 记录类别",
        "",
        "| 类别（KIND） | 中文名 | 自然键 |",
        "|---|---|---|",
        *[f"| `{s.name}` | {s.label} | {_md(s.key_note)} |" for s in KINDS.values()],
        "",
    ]
    for spec in KINDS.values():
        out += [
            f"## {spec.label}（`{spec.name}`）",
            "",
            spec.description,
            "",
            f"自然键：{spec.key_note}。",
            "",
            "| 列名 | 英文名 | 必填 | 格式 | 允许取值 | 示例 | 说明 | 也接受 |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for col in spec.columns:
            out.append(
                "| "
                + " | ".join(
                    _md(x)
                    for x in (
                        col.display,
                        f"`{col.field}`",
                        requirement(spec, col),
                        TYPE_FORMATS[col.type],
                        _allowed(col),
                        col.example,
                        col.note,
                        _aliases(col),
                    )
                )
                + " |"
            )
        out.append("")
    return "\n".join(out)
