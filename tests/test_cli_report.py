"""The readable ``check`` report carries the facts of the JSON document (``check --json``) for the
same case: per program its status, amount (a 「即将符合」 row: the projected amount and date), funding,
amount rule, every condition (message, clause, distance, the date it is met from, the parameters it
cites) and every parameter used (value, effective date, reference, status), the missing facts and
the parameters to be checked. Compared program by program on worked cases, so the two cannot drift."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from xiangchuang.cli import app
from xiangchuang.cli import console as cli_console
from xiangchuang.engine.money import format_fen
from xiangchuang.engine.parameters import STATUS_LABELS

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "src/xiangchuang/policy/examples/returning_founder.yaml"
DEMO_DISTRICTS = ROOT / "src/xiangchuang/policy/overlays/demo-districts.yaml"

# Startup subsidy one day before the first anniversary: 「即将符合」 with a projected amount.
STARTUP_SOON = {
    "person": {"id": "P1", "groups": ["returning_migrant_worker"], "first_business": True},
    "business": {
        "id": "B1",
        "district": "500101",
        "kind": "enterprise",
        "size_class": "small_micro",
        "registration_date": "2021-03-10",
        "status": "normal",
        "years": {"2021": {"employer_si_paid_fen": 1234567}},
    },
    "received": [],
}
# A founder in a group only the district's list (demo overlay) adds: the projected amount is the
# district's to pay (funding split city ¥0.00 / district).
DISTRICT_SOON = {
    "person": {
        "id": "P2",
        "groups": ["registered_unemployed"],
        "first_business": True,
        "returning_entrepreneur": True,
    },
    "business": {
        "id": "B2",
        "district": "500101",
        "kind": "enterprise",
        "size_class": "small_micro",
        "registration_date": "2023-04-10",
        "status": "normal",
        "founded_by_returning": True,
        "years": {"2023": {"employer_si_paid_fen": 1234567}},
    },
    "received": [],
}
# A job-subsidy hire 9 months into its run: the condition is met on 2024-06-01 (beyond 30 days: not
# 「即将符合」, but the date is the condition's).
JOB_RUN = {
    "business": {
        "id": "B3",
        "district": "500235",
        "kind": "enterprise",
        "size_class": "small_micro",
        "registration_date": "2020-01-01",
        "status": "normal",
        "founded_by_returning": True,
    },
    "hires": [
        {
            "id": "H1",
            "hire_date": "2023-06-01",
            "contract": True,
            "person": {"id": "W1", "groups": ["poverty_registered"]},
            "contributions": [
                {"month": f"{y}-{m:02d}", "employer_fen": 72000}
                for y, m in [(2023, k) for k in range(6, 13)] + [(2024, 1), (2024, 2)]
            ],
        }
    ],
    "received": [],
}


def _run(case: Path, on: str, *extra: str) -> tuple[dict[str, Any], str]:
    args = ["check", str(case), "--on", on, *extra]
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    return doc, text.output


def _blocks(text: str) -> dict[tuple[str, str], list[str]]:
    """The report's lines per (program, subject): from a program's heading to the next one."""
    heading = re.compile(r"（([a-z_]+)，第[0-9.]+条）  主体 (\S+)")
    out: dict[tuple[str, str], list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        m = heading.search(line)
        if m:
            current = out.setdefault((m.group(1), m.group(2)), [])
        elif current is not None:
            current.append(line)
    return out


def _param_numbers(lines: list[str]) -> dict[int, str]:
    """The program's numbered parameter lines: number → the parameter's name."""
    out = {}
    for line in lines:
        m = re.match(r"\s+(\d+)\. .*?（([a-z_.0-9]+)）：", line)
        if m:
            out[int(m.group(1))] = m.group(2)
    return out


def check_text_carries_json(doc: dict[str, Any], text: str) -> None:
    """Every fact of each program's JSON row is in its block of the readable report."""
    blocks = _blocks(text)
    assert len(blocks) == len(doc["programs"])
    for p in doc["programs"]:
        lines = blocks[(p["program"], str(p["subject"]["id"]))]
        block = "\n".join(lines)
        where = f"{p['program']} {p['subject']['id']}"
        conclusion = next(line for line in lines if line.startswith("结论："))
        assert p["status_label"] in conclusion, where
        if p.get("soon"):
            projected = format_fen(p["projected_amount_fen"])
            assert f"预计金额：{projected}（{p['eligible_from']}起）" in conclusion, where
            assert "¥0.00" not in conclusion, where  # (the ineligible row's amount is not the projection)
        elif p["amount"] is not None:
            assert f"金额：{p['amount']}" in conclusion, where
        else:
            assert "金额：—" in conclusion, where
        assert p["benefit"] in conclusion and p["paid_to"] in conclusion, where
        if p.get("amount_capital"):
            assert p["amount_capital"] in block, where
        for f in p.get("funding") or ():
            assert f"{f['source']} {format_fen(f['amount_fen'])}" in block, where
            if f.get("reason"):
                assert f["reason"] in block, where
        assert f"计算：{p['amount_rule']}" in block, where
        for route, fen in (p.get("alternatives") or {}).items():
            assert (format_fen(fen) if fen is not None else "待定") in block, (where, route)
        numbers = _param_numbers(lines)
        assert sorted(numbers.values()) == sorted(x["name"] for x in p["parameters"]), where
        marks = {"pass": "✓", "fail": "✗", "unknown": "?"}
        cond_lines = [x for x in lines if x[2:3] in ("✓", "✗", "?") and x.startswith("  ")]
        assert len(cond_lines) == len(p["conditions"]), where
        for c, line in zip(p["conditions"], cond_lines, strict=True):
            assert line[2] == marks[c["status"]], (where, c["id"])
            assert f"{c['message']}  〔{c['clause']}" in line, (where, c["id"])
            assert ("（任一）" in line) == bool(c.get("group")), (where, c["id"])
            if c.get("distance"):
                assert c["distance"] in line, (where, c["id"])
            if c.get("passes_on"):
                assert f"{c['passes_on']}起满足" in line, (where, c["id"])
            cited = re.search(r"〔[^〕]*；参数([0-9、]+)〕", line)
            shown = {numbers[int(k)] for k in cited.group(1).split("、")} if cited else set()
            assert shown == {x["name"] for x in c["parameters"]}, (where, c["id"])
        for prm in p["parameters"]:
            line = next(x for x in lines if f"（{prm['name']}）：" in x)
            assert prm["label"] in line and prm["display"] in line, (where, prm["name"])
            if prm["since"] is not None:
                assert f"{prm['since']}起" in line and prm["reference"] in line, (where, prm["name"])
                assert STATUS_LABELS[prm["status"]] in line, (where, prm["name"])
        for m in p["missing"]:
            assert m["label"] in block, where
        for name in p["pending_parameters"]:
            assert name in block and "参数待核实" in block, where


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_console, "width", 3000)  # (one report line per line: no wrapping)


def _write(tmp_path: Path, case: dict[str, Any], name: str = "case") -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_soon_row_shows_its_projected_amount_and_date(tmp_path: Path) -> None:
    """Before: 「结论：即将符合（2022-03-10起）    金额：¥0.00」, the projection nowhere."""
    doc, text = _run(_write(tmp_path, STARTUP_SOON), "2022-03-09")
    startup = next(p for p in doc["programs"] if p["program"] == "startup_subsidy")
    assert startup["soon"] and startup["projected_amount_fen"] == 246913
    assert "预计金额：¥2,469.13（2022-03-10起）" in text
    assert "资金来源：市级及以上资金 ¥2,469.13" in text
    check_text_carries_json(doc, text)


def test_a_district_funded_soon_row_shows_its_split(tmp_path: Path) -> None:
    """Before: 「金额：¥0.00」 beside 「资金来源：市级及以上资金 0.00元；区县财政 2,469.13元」."""
    doc, text = _run(_write(tmp_path, DISTRICT_SOON), "2024-03-20", "--params-overlay", str(DEMO_DISTRICTS))
    startup = next(p for p in doc["programs"] if p["program"] == "startup_subsidy")
    assert [f["amount_fen"] for f in startup["funding"]] == [0, 246913]
    assert "预计金额：¥2,469.13（2024-04-10起）" in text
    assert "资金来源：市级及以上资金 ¥0.00；区县财政 ¥2,469.13" in text
    assert "（500101 万州区，区县财政承担差额）｜2021-01-01起｜" in text
    check_text_carries_json(doc, text)


def test_a_condition_shows_the_date_it_is_met_and_its_parameters(tmp_path: Path) -> None:
    """Before: 「✗ 连续缴纳社会保险费9个月，不足12个月 〔1.3〕 还需连续缴纳3个月」 — no date, no
    parameter value, effective date, reference or status."""
    doc, text = _run(_write(tmp_path, JOB_RUN), "2024-03-20")
    job = next(p for p in doc["programs"] if p["program"] == "job_subsidy")
    run = next(c for c in job["conditions"] if c["id"] == "consecutive_contributions")
    assert run["passes_on"] == "2024-06-01" and not job.get("soon")
    line = next(x for x in text.splitlines() if "连续缴纳社会保险费9个月" in x)
    assert "2024-06-01起满足" in line
    assert "12个月｜2020-08-05起｜渝人社发〔2020〕74号" in text
    assert "假设值，参数待核实" in text
    check_text_carries_json(doc, text)


def test_every_status_and_parameters_without_a_value(tmp_path: Path) -> None:
    """Eligible, ineligible, undetermined and 「即将符合」 rows, funding, any-of grounds and each
    route's amount; before the notice every parameter is cited as without a value on the date."""
    statuses: set[str] = set()
    for case, on in (
        (EXAMPLE, "2024-03-20"),
        (EXAMPLE, "2019-06-01"),
        (_write(tmp_path, STARTUP_SOON), "2022-03-09"),
        (
            _write(
                tmp_path, {**STARTUP_SOON, "business": {**STARTUP_SOON["business"], "kind": "other"}}, "other"
            ),
            "2022-03-10",
        ),
    ):
        doc, text = _run(case, on)
        check_text_carries_json(doc, text)
        statuses |= {"soon" if p.get("soon") else p["status"] for p in doc["programs"]}
        if on < "2020":
            assert "该日期无有效参数" in text
    assert statuses == {"eligible", "ineligible", "undetermined", "soon"}
