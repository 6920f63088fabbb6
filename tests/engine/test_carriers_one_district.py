"""Audit of the carrier programs (P-F2, P-F6): one district governs a rent-reduction row — the
carrier kinds are looked up by the carrier's district, as the default schedule is — and the
carrier award's messages name what is missing. Each test fails on the code before its fix. (The
fees a reduction of 0% does not need, P-F3, are worked cases: policy/cases/carriers_review.yaml.)"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.engine.test_carriers_review import _cond, _program
from xiangchuang.batchio import match_rows
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import case_to_tables, combine
from xiangchuang.engine.evaluate import run
from xiangchuang.engine.explain import Explainer
from xiangchuang.engine.parameters import ParameterSet, load_parameters

ON = dt.date(2024, 6, 20)
RENT = "carrier_rent_reduction"

# 500102 adds the 创业服务站 to the carriers whose tenants get the reduction (and pays for it).
_OVERLAY = (
    "carrier_rent_reduction.carrier_kinds:\n"
    "  districts:\n"
    "    500102:\n"
    "      - {since: 2021-01-01, paid_by: 区县财政, status: assumed, reference: 测试,"
    " value: [incubator, returning_park, station]}\n"
)


@pytest.fixture(scope="module")
def params(tmp_path_factory: pytest.TempPathFactory) -> ParameterSet:
    path: Path = tmp_path_factory.mktemp("kinds") / "station.yaml"
    path.write_text(_OVERLAY, encoding="utf-8")
    return load_parameters(str(path))


def _station_tenant(business: int | None, carrier: int | None, k: int = 1) -> dict[str, Any]:
    """A tenant of a 创业服务站 (year 1 of the default schedule: rent 100%, property 50%)."""
    case: dict[str, Any] = {
        "person": {"id": f"P{k}", "groups": ["returning_migrant_worker"], "returning_entrepreneur": True},
        "carrier": {"id": f"C{k}", "kind": "station", "level": "district", "district": carrier},
        "business": {
            "id": f"B{k}",
            "district": business,
            "kind": "enterprise",
            "size_class": "small_micro",
            "registration_date": "2023-01-01",
            "status": "normal",
            "founded_by_returning": True,
            "tenancy_start": "2024-01-01",
            "rent_fen": 100000,
            "property_fee_fen": 20000,
            "utilities_fen": 10000,
        },
    }
    for part in ("carrier", "business"):
        if case[part]["district"] is None:
            del case[part]["district"]
    return case


# (business district, carrier district) → status, amount, the district's part, the match row's district
ROWS: list[tuple[int | None, int | None, str, int | None, int, int | None]] = [
    (500102, 500101, "ineligible", 0, 0, 500101),  # before: eligible on the business's list
    (500101, 500102, "eligible", 110000, 110000, 500102),  # before: ineligible, on the business's list
    (None, 500101, "ineligible", 0, 0, 500101),  # before: undetermined, asking the business's district
    (None, 500102, "eligible", 110000, 110000, 500102),  # before: undetermined
    (500102, None, "eligible", 110000, 110000, 500102),  # the carrier's unknown: the business's governs
    (None, None, "undetermined", None, 0, None),  # neither known: 500102 may be it
]


@pytest.mark.parametrize(("business", "carrier", "status", "amount", "district_part", "district"), ROWS)
def test_the_carrier_kinds_go_by_the_carriers_district(
    params: ParameterSet,
    business: int | None,
    carrier: int | None,
    status: str,
    amount: int | None,
    district_part: int,
    district: int | None,
) -> None:
    r = _program(evaluate(_station_tenant(business, carrier), ON, params), RENT)
    assert (r["status"], r["amount_fen"]) == (status, amount), r["conditions"]
    if status != "undetermined":  # the list of the governing district, named in the message
        kinds = _cond(r, "in_carrier")
        assert kinds["status"] == ("pass" if status == "eligible" else "fail")
        assert ("创业服务站）" in kinds["message"]) is (status == "eligible")
    assert [c["status"] for c in r["conditions"] if c["id"] == "district_known"] == (
        ["unknown"] if status == "undetermined" else []
    )
    paid = {f["source"]: f["amount_fen"] for f in r.get("funding") or []}
    assert paid.get("区县财政", 0) == district_part


def test_a_batch_gives_each_row_as_alone_and_names_the_governing_district(params: ParameterSet) -> None:
    cases = [_station_tenant(b, c, k) for k, (b, c, *_) in enumerate(ROWS, start=1)]
    singles = [_program(evaluate(case, ON, params), RENT) for case in cases]
    outcomes = run(combine([case_to_tables(case) for case in cases]), ON, params)
    o = next(o for o in outcomes if o.program.id == RENT)
    ex = Explainer(params)
    assert [ex.program(o, i) for i in range(len(cases))] == singles
    got = {r["subject_id"]: r for r in match_rows([o], include_undetermined=True).to_pylist()}
    expected = {
        f"B{k}": (status, amount, district_part if status == "eligible" else None, district)
        for k, (_, _, status, amount, district_part, district) in enumerate(ROWS, start=1)
        if status != "ineligible"
    }
    assert {
        k: (r["status"], r["amount_fen"], r["district_part_fen"], r["district"]) for k, r in got.items()
    } == expected


# ---- carrier_award: an unknown award year is never quoted as a number; the register is named ----


def _award(carrier: dict[str, Any], received: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    case: dict[str, Any] = {
        "carrier": {
            "id": "C1",
            "kind": "incubator",
            "district": 500101,
            "municipal_date": "2021-06-01",
            **carrier,
        }
    }
    if received is not None:
        case["received"] = received
    return _program(evaluate(case, ON), "carrier_award")


def test_an_unknown_award_year_is_not_quoted_as_year_0() -> None:
    r = _award({"level": "municipal", "rating": "none"})
    perf = _cond(r, "performance")
    assert perf["status"] == "fail"
    assert perf["message"] == "申请奖补年度未知，不能享受绩效奖补：未评定绩效等次"
    assert not any("0年度" in c["message"] for c in r["conditions"])


def test_parts_unknown_for_want_of_the_register_name_it() -> None:
    r = _award({"level": "national", "national_date": "2023-03-01", "award_year": 2023, "rating": "A"})
    assert r["status"] == "undetermined"
    for cid in ("oneoff", "performance", "national"):
        assert _cond(r, cid)["message"] == "缺少事实，无法判断：已享受政策登记（received）", cid
    assert [m["fact"] for m in r["missing"]] == ["received"]


def test_a_part_unknown_for_its_own_fact_does_not_name_a_register_supplied() -> None:
    r = _award(
        {"level": "national", "national_date": "2023-03-01", "award_year": 2023},
        [{"program": "carrier_award", "subject_id": "C1", "period": "oneoff", "amount_fen": 60000000}],
    )
    assert _cond(r, "performance")["message"] == "缺少事实，无法判断：年度绩效评估等次"
    assert _cond(r, "national")["status"] == "pass"
    # Level and national date both unknown: whether it was promoted is open; both are named.
    r = _award({"award_year": 2023, "rating": "A"}, [])
    assert _cond(r, "national")["message"] == "缺少事实，无法判断：认定为国家级载体日期、载体级别"
