"""An unknown fact is never quoted as a figure (PROVISIONS §0: unknown is not zero): the amount rule
of a row that is not eligible names the missing facts instead of computing with their placeholders;
an online-sales route whose qualification is unknown has no amount; a batch's undetermined row has
no amount."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
from typer.testing import CliRunner

from xiangchuang.cli import app
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.explain import AMOUNT_PENDING

runner = CliRunner()


def _program(case: dict[str, Any], on: str, pid: str) -> dict[str, Any]:
    doc = evaluate(case, dt.date.fromisoformat(on))
    (row,) = [p for p in doc["programs"] if p["program"] == pid]
    return row


def _business(**extra: Any) -> dict[str, Any]:
    return {
        "id": "B1",
        "district": 500103,
        "kind": "enterprise",
        "registration_date": "2021-03-10",
        "status": "normal",
        "founded_by_returning": True,
        **extra,
    }


def test_startup_rule_without_the_contributions_names_them() -> None:
    case = {
        "person": {"id": "P1", "groups": ["veteran"], "first_business": True},
        "business": _business(claim_year=2023),
        "received": [],
    }
    row = _program(case, "2024-03-01", "startup_subsidy")
    assert row["status"] == "undetermined"
    assert "¥0.00" not in row["amount_rule"]
    assert row["amount_rule"] == AMOUNT_PENDING.format(missing="申领年度单位缴纳社保费（business.years）")
    # Known contributions: the rule with its figures, eligible or not.
    case["business"] = _business(claim_year=2023, years={"2023": {"employer_si_paid_fen": 100000}})
    row = _program(case, "2024-03-01", "startup_subsidy")
    assert row["status"] == "eligible" and "¥1,000.00的20%" in row["amount_rule"], row["amount_rule"]
    case["person"]["first_business"] = False
    row = _program(case, "2024-03-01", "startup_subsidy")
    assert row["status"] == "ineligible" and "¥1,000.00的20%" in row["amount_rule"], row["amount_rule"]


def test_interest_rule_without_rate_principal_and_days_names_them() -> None:
    case = {
        "person": {"id": "P1", "groups": ["returning_migrant_worker"], "other_loans": []},
        "loan": {
            "kind": "individual",
            "district": 500103,
            "contract_date": "2023-01-10",
            "amount_fen": 20000000,
            "term_months": 36,
            "settle_start": "2023-04-01",
            "settle_end": "2023-06-30",
        },
        "received": [],
    }
    row = _program(case, "2023-07-05", "loan_interest_subsidy")
    assert row["status"] == "undetermined"
    rule = row["amount_rule"]
    assert rule.startswith("尚缺") and "暂不计算金额" in rule, rule
    assert "0基点" not in rule and "已扣除" not in rule and "¥0.00" not in rule, rule
    for label in (
        m["label"] for m in row["missing"] if m["fact"] in ("rate_bp", "principal_fen", "excluded_days")
    ):
        assert label in rule


def test_online_sales_route_of_unknown_qualification_has_no_amount() -> None:
    case = {
        "person": {"id": "P1", "groups": ["veteran"], "first_business": True},
        "business": _business(
            sales_year=2023, years={"2023": {"online_orders": 3000, "courier_fees_fen": 20000000}}
        ),
        "received": [],
    }
    row = _program(case, "2024-03-01", "online_sales_subsidy")
    assert row["status"] == "undetermined"
    assert row["alternatives"] == {"revenue": None, "orders": 6000000}
    assert "¥0.00" not in row["amount_rule"] and "线上年销售收入" in row["amount_rule"], row["amount_rule"]


def test_a_batch_undetermined_row_has_no_amount(tmp_path: Path) -> None:
    def write(name: str, header: list[str], rows: list[list[str]]) -> None:
        with (tmp_path / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)

    write(
        "businesses",
        [
            "id",
            "district",
            "kind",
            "registration_date",
            "status",
            "founder_id",
            "founded_by_returning",
            "claim_year",
            "sales_year",
            "online_route",
        ],
        [
            [
                "B1",
                "500101",
                "individual_business",
                "2021-03-10",
                "normal",
                "P1",
                "true",
                "2023",
                "2023",
                "auto",
            ],
            ["B2", "500103", "enterprise", "2021-02-01", "normal", "P1", "true", "2023", "2023", "auto"],
            ["B3", "500103", "enterprise", "2021-02-01", "normal", "P1", "true", "2023", "2023", "auto"],
        ],
    )
    write("persons", ["id", "groups", "first_business"], [["P1", "veteran", "true"]])
    write(
        "business_years",
        [
            "business_id",
            "year",
            "employer_si_paid_fen",
            "online_revenue_fen",
            "online_orders",
            "courier_fees_fen",
        ],
        [
            ["B1", "2023", "1000000", "60000000", "", "20000000"],  # orders unknown: which route is higher?
            ["B3", "2023", "1000000", "60000000", "3000", "20000000"],
        ],
    )
    write(
        "received", ["program", "subject_id", "person_id", "period", "months", "amount_fen", "district"], []
    )
    out = tmp_path / "out.csv"
    res = runner.invoke(
        app, ["match", str(tmp_path), "--on", "2024-03-01", "-o", str(out), "--include-undetermined"]
    )
    assert res.exit_code == 0, res.output
    rows = pacsv.read_csv(out).to_pylist()
    got = {(r["program"], r["subject_id"]): (r["status"], r["amount_fen"]) for r in rows}
    assert got[("online_sales_subsidy", "B1")] == ("undetermined", None)
    assert got[("startup_subsidy", "B2")] == ("undetermined", None)  # no contributions given
    assert got[("startup_subsidy", "B3")] == ("eligible", 200000)
    assert got[("online_sales_subsidy", "B3")] == ("eligible", 6000000)
    # The same as the single case: no amount where the status is undetermined.
    case = {
        "person": {"id": "P1", "groups": ["veteran"], "first_business": True},
        "business": {**_business(claim_year=2023, sales_year=2023), "id": "B2"},
        "received": [],
    }
    assert _program(case, "2024-03-01", "startup_subsidy")["amount_fen"] is None
