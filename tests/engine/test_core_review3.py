"""Core review (three): each test fails on the code before its fix.

- A loan naming a borrower who is not among the persons has an unknown borrower: the waiver's
  honour and 二次创业 grounds do not read the founder's facts (choice 79; 批量输入表).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from xiangchuang.batchio import load_directory
from xiangchuang.engine.evaluate import run
from xiangchuang.engine.explain import result_document
from xiangchuang.engine.parameters import load_parameters

PARAMS = load_parameters()


def _rows(doc: dict[str, Any], program: str) -> dict[str, dict[str, Any]]:
    return {r["subject"]["id"]: r for r in doc["programs"] if r["program"] == program}


def _cond(row: dict[str, Any], cid: str) -> dict[str, Any] | None:
    return next((c for c in row["conditions"] if c["id"] == cid), None)


def _write(directory: Path, name: str, header: list[str], rows: list[list[str]]) -> None:
    with open(directory / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows(rows)


# ---- 3. a loan naming a borrower who is not among the persons -----------------------------------


def test_an_unresolved_borrower_is_unknown_not_the_founder(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "persons",
        ["id", "groups", "honour_city_level", "second_time_founder_stable"],
        [["P1", "returning_migrant_worker", "true", "true"]],
    )
    _write(
        tmp_path,
        "businesses",
        [
            "id",
            "district",
            "kind",
            "size_class",
            "founder_id",
            "honour_city_level",
            "credit_rated",
            "recommended_by",
        ],
        [["B1", "500103", "enterprise", "small_micro", "P1", "false", "false", "none"]],
    )
    header = ["id", "kind", "borrower_id", "business_id", "district", "contract_date", "amount_fen"]
    header += ["term_months", "new_loan", "recommended_by", "credit_rated"]
    common = ["B1", "500103", "2024-06-01", "30000000", "36", "true", "none", "false"]
    _write(
        tmp_path,
        "loans",
        header,
        [
            ["L1", "individual", "PX", *common],  # names PX, who is not in persons.csv
            ["L2", "small_micro", "", *common],  # names no borrower: the founder's facts (choice 79)
        ],
    )
    facts, report = load_directory(tmp_path)
    assert report.unresolved == {"loans.borrower_id": 1}
    on = dt.date(2024, 7, 1)
    rows = _rows(result_document(run(facts, on, PARAMS), PARAMS, on), "counter_guarantee_waiver")
    named = rows["L1"]
    for cid in ("honoured", "second_time_founder"):
        got = _cond(named, cid)
        assert got is not None and got["status"] == "unknown", got
    assert {"borrower__honour_city_level", "borrower__second_time_founder_stable"} <= {
        m["fact"] for m in named["missing"]
    }
    founder = rows["L2"]
    for cid in ("honoured", "second_time_founder"):
        got = _cond(founder, cid)
        assert got is not None and got["status"] == "pass", got
