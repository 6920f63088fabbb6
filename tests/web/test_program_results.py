"""The check-up pages' result sections (``_program_results.html``, public and registry check-up) show
the result document's facts: an eligible row's amount, a 「即将符合」 row's projected amount (never
¥0.00), the funding split, the rule, and every parameter used with its value, date, reference and
status, as `xiangchuang check`'s readable report does."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

from tests.test_cli_report import STARTUP_SOON as SOON_CASE
from xiangchuang.checkup.service import PUBLIC_STATUS
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import load_yaml
from xiangchuang.engine.money import format_fen
from xiangchuang.engine.parameters import STATUS_LABELS, load_parameters
from xiangchuang.web.render import templates


def _render(doc: dict[str, Any]) -> str:
    page = templates().env.get_template("_program_results.html").render(doc=doc, public_status=PUBLIC_STATUS)
    return html.unescape(re.sub(r"\s+", " ", page))


def _text(section: str) -> str:
    return re.sub(r"<[^>]+>", "", section)


def _section(page: str, title: str) -> str:
    start = page.index(f">{title}</a>")
    end = page.find("</section>", start)
    return page[start:end]


def test_a_soon_row_shows_its_projected_amount_not_zero() -> None:
    doc = evaluate(SOON_CASE, dt.date(2022, 2, 20))
    (row,) = [p for p in doc["programs"] if p["program"] == "startup_subsidy"]
    assert row["soon"] and row["projected_amount_fen"] == 246913
    section = _text(_section(_render(doc), row["title"]))
    assert "即将符合：2022-03-10起" in section
    assert "预计金额 ¥2,469.13（2022-03-10起）" in section
    assert "¥0.00" not in section
    assert "资金来源：市级及以上资金 ¥2,469.13" in section
    assert "计算：" + row["amount_rule"] in section


def test_every_parameter_used_is_listed_with_its_value_date_reference_and_status() -> None:
    example = Path(__file__).resolve().parents[2] / "src/xiangchuang/policy/examples/returning_founder.yaml"
    doc = evaluate(load_yaml(example.read_text(encoding="utf-8")), dt.date(2024, 3, 20), load_parameters())
    page = _render(doc)
    shown = 0
    for row in doc["programs"]:
        section = _section(page, row["title"])
        if row["status"] == "eligible" and row["amount_fen"]:
            assert f"金额 {format_fen(row['amount_fen'])}" in _text(section)
        assert f"所用参数（{len(row['parameters'])} 项）" in section or not row["parameters"]
        for q in row["parameters"]:
            cells = f"<td>{q['label']}</td><td>{q['display']}"
            assert cells in section, (row["program"], q["name"])
            assert (q["since"] or "该日期无有效参数") in section
            assert (q["reference"] or "—") in section
            if q["status"]:
                assert STATUS_LABELS[q["status"]] in section
            shown += 1
    assert shown >= 10
