"""Social-insurance subsidy messages where the limit cuts the claim period's months, or a month's
employer contribution is not given (PROVISIONS §0: unknown is not zero): the contributions
condition states the period's contributions and what the limit leaves of them; a sum over months
whose amount is unknown is only 「已知部分」 and names those months; the amount rule likewise. The
same words for each hire evaluated alone and with the others in one case (more rows)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.parameters import load_parameters

PARAMS = load_parameters()
ON = dt.date(2024, 3, 15)  # default claim period 2023-09 to 2024-02
BUSINESS = {"id": "B1", "district": "500235", "kind": "enterprise", "founded_by_returning": True}


def _months() -> list[str]:
    return [f"2023-{m:02d}" for m in range(1, 13)] + ["2024-01", "2024-02"]


def _hire(n: int, skip_fen: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "id": f"H{n}",
        "person": {
            "id": f"W{n}",
            "groups": ["poverty_registered"],
            "birth_date": "1990-01-01",
            "gender": "M",
        },
        "hire_date": "2023-01-01",
        "contract": True,
        "contributions": [
            {"month": m} if m in skip_fen else {"month": m, "employer_fen": 72000} for m in _months()
        ],
    }


def _received(n: int, period: str, months: int) -> dict[str, Any]:
    return {
        "program": "social_insurance_subsidy",
        "person_id": f"W{n}",
        "period": period,
        "months": months,
        "amount_fen": 1,
    }


HIRES = {
    # 36 months used up: nothing left to claim, though the period has contributions
    "H1": (_hire(1), [_received(1, "2020-01/2022-12", 36)]),
    # 33 months used up: the period's 6 months are cut to 3
    "H2": (_hire(2), [_received(2, "2020-01/2022-09", 33)]),
    # 2023-10's employer contribution not given
    "H3": (_hire(3, ("2023-03", "2023-10")), []),
}
EXPECTED = {
    "H1": (
        "ineligible",
        "单位缴纳社会保险费¥4,320.00（6个月），已享受月数已达最长补贴月数，本次无可补贴月份",
    ),
    "H2": ("eligible", "单位缴纳社会保险费¥4,320.00（6个月），其中按最长补贴月数可补贴¥2,160.00（3个月）"),
    "H3": ("undetermined", "单位缴纳社会保险费已知部分¥3,600.00（6个月，其中2023-10的单位缴费金额未知）"),
}
AMOUNT_RULES = {
    "H2": "保险费计¥2,160.00（3个月），不含个人缴费",
    "H3": "保险费计已知部分¥3,600.00（6个月，其中2023-10的单位缴费金额未知），不含个人缴费",
}


def _rows(hire_ids: list[str]) -> dict[str, dict[str, Any]]:
    case = {
        "business": BUSINESS,
        "hires": [HIRES[h][0] for h in hire_ids],
        "received": [r for h in hire_ids for r in HIRES[h][1]],
    }
    doc = evaluate(case, ON, PARAMS)
    return {r["subject"]["id"]: r for r in doc["programs"] if r["program"] == "social_insurance_subsidy"}


def _message(row: dict[str, Any]) -> str:
    (cond,) = (c for c in row["conditions"] if c["id"] == "contributions_in_period")
    return str(cond["message"])


def test_the_contributions_message_states_the_period_and_what_the_limit_leaves() -> None:
    together = _rows(list(HIRES))
    for hid, (status, words) in EXPECTED.items():
        alone = _rows([hid])[hid]
        assert (alone["status"], together[hid]["status"]) == (status, status)
        assert words in _message(alone), _message(alone)
        assert _message(alone) == _message(together[hid])
        assert alone["amount_rule"] == together[hid]["amount_rule"]
        if hid in AMOUNT_RULES:
            assert AMOUNT_RULES[hid] in alone["amount_rule"], alone["amount_rule"]


def test_limit_used_up_is_the_limit_condition_s_failure_not_the_contributions() -> None:
    row = _rows(["H1"])["H1"]
    states = {c["id"]: c["status"] for c in row["conditions"]}
    assert (states["months_left"], states["contributions_in_period"]) == ("fail", "pass")
    assert "无可补贴的单位缴费" not in _message(row)
