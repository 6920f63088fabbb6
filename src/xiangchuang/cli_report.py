"""The readable report of a result document (``xiangchuang check`` without ``--json``,
``xiangchuang explain-match``): the same facts as the JSON document, in Chinese.

Per program: the conclusion and amount (a 「即将符合」 row: its projected amount and date), who pays
(funding), the amount rule, each condition with its clause, distance, the date from which it is met
(``passes_on``) and the parameters it cites (by number), any-of grounds, the missing facts, and once
per program every parameter used: its value, effective date, reference and status (「参数待核实」
marked). ``tests/test_cli_report.py`` checks that the text carries every such fact of the JSON.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape

from xiangchuang.cli_common import console
from xiangchuang.engine.money import format_fen
from xiangchuang.engine.parameters import STATUS_LABELS

_COLOUR = {"eligible": "green", "ineligible": "red", "undetermined": "yellow"}
_MARK = {"pass": "[green]✓[/]", "fail": "[red]✗[/]", "unknown": "[yellow]?[/]"}
_ROUTES = {"revenue": "按线上销售额", "orders": "按线上销售单数"}


def district_label(code: int) -> str:
    """A district as 「500101 万州区」 (the code alone where it is not one of Chongqing's)."""
    from xiangchuang.engine.districts import district_by_code

    try:
        return f"{code} {district_by_code(code).name}"
    except KeyError:
        return str(code)


def paid_by_text(district: int | None, paid_by: str | None, *, where: bool = True) -> str:
    """Who bears a district value's difference: 「（500101 万州区，区县财政承担差额）」 (``where``:
    with the district); nothing for a city value."""
    if not district:
        return ""
    return f"（{district_label(district) + '，' if where else ''}{paid_by}承担差额）"


def status_text(status: str) -> str:
    """A parameter value's status in Chinese: 已核实, or 「…，参数待核实」 (highlighted)."""
    label = STATUS_LABELS[status]
    return label if status == "confirmed" else f"[magenta]{label}[/]"


def parameter_line(prm: dict[str, Any]) -> str:
    """One cited parameter of a result document: label (name): value｜since｜reference｜status."""
    head = f"{escape(prm['label'])}（{prm['name']}）："
    if prm.get("since") is None:  # no value in force on the date
        return head + escape(prm["display"])
    where = paid_by_text(prm.get("district"), prm.get("paid_by"))
    return (
        f"{head}{escape(prm['display'] + where)}｜{prm['since']}起｜{escape(prm.get('reference') or '—')}"
        f"｜{status_text(prm['status'])}"
    )


def amount_text(p: dict[str, Any]) -> str:
    """The amount as the conclusion line shows it: a 「即将符合」 row's projected amount and date."""
    if p.get("soon"):
        return f"预计金额：{format_fen(int(p['projected_amount_fen']))}（{p['eligible_from']}起）"
    return f"金额：{p['amount'] or '—'}"


def print_program(p: dict[str, Any], *, subtitle: str | None = None) -> None:
    """One program's row of a result document, readably (``subtitle``: a line under its heading)."""
    console.rule(
        f"[bold]{escape(p['title'])}[/]（{p['program']}，第{p['clause']}条）  主体 {escape(str(p['subject']['id']))}"
    )
    if subtitle:
        console.print(subtitle)
    console.print(
        f"结论：[{_COLOUR[p['status']]}]{p['status_label']}[/]    {amount_text(p)}    "
        f"{escape(p['benefit'])}，发放对象：{escape(p['paid_to'])}"
    )
    if p.get("amount_capital"):
        console.print(f"大写：{p['amount_capital']}")
    if p.get("funding"):
        console.print(
            "资金来源："
            + "；".join(
                f"{f['source']} {format_fen(int(f['amount_fen']))}"
                + (f"（{escape(f['reason'])}）" if f.get("reason") else "")
                for f in p["funding"]
            )
        )
    console.print(f"计算：{escape(p['amount_rule'])}")
    if p.get("alternatives"):
        console.print(
            "两种计算："
            + "；".join(
                f"{_ROUTES.get(route, route)} {format_fen(int(fen)) if fen is not None else '待定'}"
                for route, fen in p["alternatives"].items()
            )
        )
    number = {prm["name"]: k for k, prm in enumerate(p["parameters"], start=1)}
    any_of = p.get("any_of")
    for c in p["conditions"]:
        if any_of is not None and c.get("group"):
            shown = len(any_of["satisfied_by"])
            console.print(
                f"  以下满足其一即可（{escape(any_of['label'])}）："
                + (f"已满足{shown}项" if shown else "尚无一项满足")
            )
            any_of = None  # (once, before the first ground)
        cited = "、".join(str(k) for k in sorted(number[prm["name"]] for prm in c["parameters"]))
        where = f"〔{c['clause']}" + (f"；参数{cited}" if cited else "") + "〕"
        extra = f"  [red]{escape(c['distance'])}[/]" if c.get("distance") else ""
        on = c.get("passes_on")
        if on and f"{on}起满足" not in (c.get("distance") or "") + c["message"]:
            extra += f"  [cyan]{on}起满足[/]"
        grp = "（任一）" if c.get("group") else ""
        console.print(f"  {_MARK[c['status']]} {grp}{escape(c['message'])}  [dim]{where}[/]{extra}")
    if p["missing"]:
        console.print("  [yellow]缺少信息：[/]" + "、".join(escape(m["label"]) for m in p["missing"]))
    if p["parameters"]:
        console.print("  参数（取值｜生效日期｜依据｜核实状态）：")
        for k, prm in enumerate(p["parameters"], start=1):
            console.print(f"    {k}. {parameter_line(prm)}")
    if p["pending_parameters"]:
        console.print("  [magenta]参数待核实：[/]" + "、".join(p["pending_parameters"]))
