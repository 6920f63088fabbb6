"""Follow-ups to the carrier audit (review of e0882fc..fe822cd): the district of a ``match`` row,
the municipal-level message, a stored schedule the reader refuses. Each test fails on the code
before its fix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.engine.test_carriers_audit import ON, _cond, _far_params, _program, _tenant
from xiangchuang.batchio import BatchInputError, load_directory, match_rows
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.assemble import assemble
from xiangchuang.engine.case import case_to_tables, combine
from xiangchuang.engine.dates import to_day
from xiangchuang.engine.evaluate import run, run_program
from xiangchuang.engine.explain import Explainer
from xiangchuang.engine.facts import Col
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.engine.programs import PROGRAMS
from xiangchuang.registry.assembler import _readable_schedules, schedule_warnings

# ---- the district of a match row is the one its values were looked up by ----


def _rent_rows(outcomes: Any) -> dict[str, dict[str, Any]]:
    return {
        r["subject_id"]: r
        for r in match_rows(outcomes).to_pylist()
        if r["program"] == "carrier_rent_reduction"
    }


def _cases() -> list[dict[str, Any]]:
    unknown_own = _tenant({"district": 500120})  # the business's district not given
    del unknown_own["business"]["district"]
    other_own = _tenant({"district": 500120})  # the business elsewhere (500101)
    other_own["business"]["id"], other_own["person"]["id"], other_own["carrier"]["id"] = "B2", "P2", "C2"
    own_schedule = _tenant({"district": 500120, "schedule": "1:100/0/0"})  # not the default
    own_schedule["business"]["id"], own_schedule["person"]["id"], own_schedule["carrier"]["id"] = (
        "B3",
        "P3",
        "C3",
    )
    return [unknown_own, other_own, own_schedule]


def test_match_district_is_the_carriers_where_the_default_schedule_goes_by_it(tmp_path: Path):
    params = _far_params(tmp_path)  # 500120 raises the default schedule, and pays the difference
    cases = _cases()
    for case in cases[:2]:
        funding = _program(evaluate(case, ON, params), "carrier_rent_reduction")["funding"]
        assert [f["source"] for f in funding] == ["市级及以上资金", "区县财政"]
    rows = _rent_rows(run(combine([case_to_tables(c) for c in cases]), ON, params))
    assert {k: (r["district"], r["district_part_fen"] > 0) for k, r in rows.items()} == {
        "B1": (500120, True),  # before: None (stored as 0) for a part 500120 pays
        "B2": (500120, True),  # before: 500101, yet the part is 500120's raise
        "B3": (500120, False),  # its carrier's own schedule: the carrier kinds still go by 500120
    }


def test_match_district_survives_a_registry_run(tmp_path: Path):
    """A registry-wide run (details=False) releases the context's intermediate columns: the lookup
    districts stay."""
    params = _far_params(tmp_path)
    facts = combine([case_to_tables(c) for c in _cases()])
    day = to_day(ON)
    assemble(facts, day)
    program = next(p for p in PROGRAMS if p.id == "carrier_rent_reduction")
    outcome = run_program(program, facts, day, params, details=False)
    assert {k: r["district"] for k, r in _rent_rows([outcome]).items()} == {
        "B1": 500120,
        "B2": 500120,
        "B3": 500120,
    }


# ---- 「市级及以上」 quotes the date that has passed ----


@pytest.mark.parametrize(
    ("dates", "quoted"),
    [
        ({"municipal_date": "2024-06-01", "national_date": "2023-09-01"}, "（国家级认定日期2023-09-01）"),
        ({"municipal_date": "2023-06-01", "national_date": "2023-09-01"}, "（认定日期2023-06-01）"),
        ({"municipal_date": "2023-06-01"}, "（认定日期2023-06-01）"),
    ],
)
def test_municipal_quotes_the_date_that_passed(dates: dict[str, str], quoted: str):
    case = {"carrier": {"id": "C1", "kind": "incubator", "district": 500235, **dates}}
    r = _program(evaluate(case, dt.date(2024, 3, 1)), "carrier_award")
    c = _cond(r, "municipal")
    assert c["status"] == "pass"
    assert c["message"] == f"已认定为市级及以上载体{quoted}"


# ---- a stored schedule the reader refuses: that carrier's tenants undetermined, not a failed run ----

LEGACY = "1:100/0/0;3:50/0/0"  # skipped years: accepted before 7bfc44c, refused since


def _with_stored(facts: Any, text: str) -> Any:
    """The carriers' schedules as the registry assembler gives them: ``text`` for the first."""
    carriers = facts.tables["carriers"]
    values = carriers["schedule"].values.copy()
    known = carriers["schedule"].known.copy()
    values[0], known[0] = text, True
    carriers.cols["schedule"] = _readable_schedules(Col(values, known))
    return facts


def test_an_unreadable_stored_schedule_leaves_only_its_tenants_undetermined():
    legacy, other = _tenant({"district": 500101}), _tenant()
    other["business"]["id"], other["person"]["id"], other["carrier"]["id"] = "B2", "P2", "C2"
    facts = _with_stored(combine([case_to_tables(legacy), case_to_tables(other)]), LEGACY)
    assert schedule_warnings(facts.tables) == [
        "载体 C1：载体减免方案格式错误：“3:50/0/0”（入驻年次须从1起依次递增）；"
        "其在驻经营主体的场租减免按待定处理，请重新保存该载体的减免方案"
    ]
    outcomes = run(facts, ON)  # (raised ScheduleError for the whole run, naming no carrier)
    o = next(o for o in outcomes if o.program.id == "carrier_rent_reduction")
    ex = Explainer(load_parameters())
    first, second = ex.program(o, 0), ex.program(o, 1)
    assert first["status"] == "undetermined"
    assert _cond(first, "within_schedule")["status"] == "unknown"
    assert "carrier__schedule" in [m["fact"] for m in first["missing"]]
    assert "carrier_rent_reduction.default_schedule" not in [p["name"] for p in first["parameters"]]
    assert second == _program(evaluate(other, ON), "carrier_rent_reduction")
    assert second["status"] == "eligible"


def test_a_readable_stored_schedule_is_read_as_before():
    facts = _with_stored(combine([case_to_tables(_tenant())]), "1:100/0/0;2:50/0/0")
    assert schedule_warnings(facts.tables) == []
    o = next(o for o in run(facts, ON) if o.program.id == "carrier_rent_reduction")
    assert Explainer(load_parameters()).program(o, 0)["status"] == "eligible"


def test_the_batch_reader_names_the_row_of_an_unreadable_schedule(tmp_path: Path):
    (tmp_path / "carriers.csv").write_text(
        f"id,kind,district,schedule\nC1,incubator,500101,1:100/0/0\nC2,incubator,500101,{LEGACY}\n",
        encoding="utf-8",
    )
    with pytest.raises(BatchInputError) as refused:
        load_directory(tmp_path)
    assert "carriers.csv" in str(refused.value) and "3:50/0/0" in str(refused.value)
    assert "行" in str(refused.value)
