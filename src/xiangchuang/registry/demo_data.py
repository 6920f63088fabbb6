"""Load the synthetic data set into the registry through the import code paths (validated, encrypted).

:func:`import_tables` turns ``synth.generate`` output into one import table per record kind, with the
documented English column names (the model field names, ``*_fen`` for money), so the demo exercises
exactly what a staff member's file goes through. Everything is synthetic (合成数据，非真实个人信息).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection

from xiangchuang import synth
from xiangchuang.engine.districts import load_districts
from xiangchuang.registry.importer import (
    DEFAULT_BATCH_SIZE,
    ImportResult,
    Mode,
    import_table,
    source_from_table,
)
from xiangchuang.registry.kinds import CARRIER_KIND_CHOICES
from xiangchuang.registry.pii import Pii

__all__ = ["DEMO_ORDER", "SI_SPLIT", "bank_accounts", "import_tables", "load_demo", "split_employer_fen"]

DEMO_ORDER: Final = (
    "persons",
    "businesses",
    "founders",
    "carriers",
    "tenancies",
    "employments",
    "contributions",
    "business_years",
    "honours",
    "recommendations",
    "credit_ratings",
    "grants",
)

SI_SPLIT: Final = (
    ("employer_pension_fen", 160),
    ("employer_medical_fen", 85),
    ("employer_maternity_fen", 5),
    ("employer_unemployment_fen", 8),
    ("employer_injury_fen", 10),
)
"""Chongqing employer rates in ‰ of the wage base (pension 16 %, medical incl. 大额 8.5 %, maternity 0.5 %,
unemployment 0.8 %, injury 1 %: 26.8 % in all, the synthetic data's total)."""
INDIVIDUAL_PERMILLE: Final = 102  # pension 8 % + medical 2 % + unemployment 0.2 %
_TOTAL_PERMILLE: Final = sum(p for _, p in SI_SPLIT)


def split_employer_fen(total: pa.Array) -> dict[str, pa.Array]:
    """Split employer totals into the five parts (exact: the parts sum to the total) and an individual part."""
    t = np.asarray(total.to_numpy(zero_copy_only=False), dtype=np.int64)
    out: dict[str, pa.Array] = {}
    rest = t.copy()
    for name, permille in SI_SPLIT[1:]:
        part = t * permille // _TOTAL_PERMILLE
        rest -= part
        out[name] = pa.array(part)
    out[SI_SPLIT[0][0]] = pa.array(rest)
    out["individual_fen"] = pa.array((t * INDIVIDUAL_PERMILLE + _TOTAL_PERMILLE // 2) // _TOTAL_PERMILLE)
    return {name: out[name] for name, _ in (*SI_SPLIT, ("individual_fen", 0))}


def bank_accounts(n: int, seed: int, share: float = 0.4) -> pa.Array:
    """Synthetic 19-digit debit card numbers (prefix 622202, Luhn-valid) for ``share`` of ``n`` people."""
    rng = np.random.default_rng(seed)
    body = np.zeros((n, 18), dtype=np.int64)
    body[:, :6] = [6, 2, 2, 2, 0, 2]
    body[:, 6:] = rng.integers(0, 10, (n, 12))
    # Luhn: double every second digit from the right of the full number (i.e. even offsets of the body).
    digits = body[:, ::-1].copy()
    doubled = digits[:, 0::2] * 2
    digits[:, 0::2] = np.where(doubled > 9, doubled - 9, doubled)
    check = (10 - digits.sum(axis=1) % 10) % 10
    full = np.concatenate([body, check[:, None]], axis=1).astype(np.uint8) + ord("0")
    text = [bytes(row).decode() for row in full]
    mask = rng.random(n) >= share
    return pa.array(text, type=pa.string(), mask=mask)


def _not_null(t: pa.Table, col: str) -> pa.Table:
    return t.filter(pc.is_valid(t.column(col)))


def import_tables(tables: dict[str, pa.Table], seed: int = 0) -> dict[str, pa.Table]:
    """Synthetic engine tables → import tables per record kind (English column names)."""
    p = tables["persons"]
    b = tables["businesses"]
    h = tables["hires"]
    c = tables["contributions"]
    out: dict[str, pa.Table] = {}
    out["persons"] = pa.table(
        {
            "person_no": p["id"],
            "name": p["name"],
            "id_number": p["id_number"],
            "phone": p["phone"],
            "bank_account": bank_accounts(p.num_rows, seed),
            "birth_date": p["birth_date"],
            "gender": p["gender"],
            "hukou_district": p["hukou_district"],
            "graduation_date": p["graduation_date"],
            "returning_entrepreneur": p["returning_entrepreneur"],
            "startup_intention": p["startup_intention"],
            "second_time_founder_stable": p["second_time_founder_stable"],
            "holds_free_workstation": p["holds_free_workstation"],
            "groups": p["groups"],
        }
    )
    out["businesses"] = pa.table(
        {
            "business_no": b["id"],
            "uscc": b["uscc"],
            "name": b["name"],
            "kind": b["kind"],
            "size_class": b["size_class"],
            "registration_date": b["registration_date"],
            "district": b["district"],
            "industry": b["industry"],
            "status": b["status"],
            "founded_by_returning": b["founded_by_returning"],
            "staff_count": b["staff_count"],
            "new_eligible_hires": b["new_eligible_hires"],
            "workshop_recognised": b["workshop_recognised"],
            "workshop_employed": b["workshop_employed"],
            "workshop_new_build": b["workshop_new_build"],
            "workshop_build_cost_fen": b["workshop_build_cost_fen"],
        }
    )
    role = pc.if_else(pc.equal(b["kind"], "individual_business"), "operator", "legal_representative")
    out["founders"] = pa.table(
        {"business_no": b["id"], "person_no": b["founder_id"], "role": role, "since": b["registration_date"]}
    )
    cr = tables["carriers"]
    names = {d.code: d.short for d in load_districts()}
    labels = {ch.code: ch.label for ch in CARRIER_KIND_CHOICES}
    carrier_names = [
        f"{names.get(dist, '')}{labels.get(kind, kind)}（{cid}）"
        for dist, kind, cid in zip(
            cr["district"].to_pylist(), cr["kind"].to_pylist(), cr["id"].to_pylist(), strict=True
        )
    ]
    out["carriers"] = pa.table(
        {
            "carrier_no": cr["id"],
            "name": pa.array(carrier_names, type=pa.string()),
            "kind": cr["kind"],
            "level": cr["level"],
            "district": cr["district"],
            "municipal_date": cr["municipal_date"],
            "national_date": cr["national_date"],
            "schedule": cr["schedule"],
        }
    )
    ten = _not_null(b, "carrier_id")
    out["tenancies"] = pa.table(
        {
            "business_no": ten["id"],
            "carrier_no": ten["carrier_id"],
            "start": ten["tenancy_start"],
            "rent_fen": ten["rent_fen"],
            "property_fee_fen": ten["property_fee_fen"],
            "utilities_fen": ten["utilities_fen"],
        }
    )
    out["employments"] = pa.table(
        {
            "employment_no": h["id"],
            "business_no": h["business_id"],
            "person_no": h["person_id"],
            "hire_date": h["hire_date"],
            "contract": h["contract"],
        }
    )
    out["contributions"] = pa.table(
        {"employment_no": c["hire_id"], "month": c["month"], **split_employer_fen(c["employer_fen"])}
    )
    by = tables["business_years"]
    out["business_years"] = pa.table(
        {
            "business_no": by["business_id"],
            "year": by["year"],
            "employer_si_paid_fen": by["employer_si_paid_fen"],
            "online_revenue_fen": by["online_revenue_fen"],
            "online_orders": by["online_orders"],
            "courier_fees_fen": by["courier_fees_fen"],
        }
    )
    hb = b.filter(pc.fill_null(b["honour_city_level"], False))
    hp = p.filter(pc.and_(pc.fill_null(p["honour_city_level"], False), pc.is_valid(p["licence_date"])))
    out["honours"] = pa.concat_tables(
        [
            pa.table(
                {
                    "business_no": hb["id"],
                    "person_no": pa.nulls(hb.num_rows, pa.string()),
                    "level": pa.array(["city"] * hb.num_rows, pa.string()),
                    "title": pa.array(["重庆市返乡创业示范项目（演示）"] * hb.num_rows, pa.string()),
                    "awarded_on": hb["registration_date"],
                }
            ),
            pa.table(
                {
                    "business_no": pa.nulls(hp.num_rows, pa.string()),
                    "person_no": hp["id"],
                    "level": pa.array(["city"] * hp.num_rows, pa.string()),
                    "title": pa.array(["重庆市优秀返乡创业者（演示）"] * hp.num_rows, pa.string()),
                    "awarded_on": hp["licence_date"],
                }
            ),
        ]
    )
    rec = b.filter(pc.not_equal(b["recommended_by"], "none"))
    out["recommendations"] = pa.table(
        {
            "business_no": rec["id"],
            "recommended_by": rec["recommended_by"],
            "recommended_on": rec["registration_date"],
        }
    )
    cred = b.filter(pc.fill_null(b["credit_rated"], False))
    out["credit_ratings"] = pa.table(
        {
            "business_no": cred["id"],
            "institution": pa.array(["重庆农村商业银行（演示）"] * cred.num_rows, pa.string()),
            "rated_on": cred["registration_date"],
        }
    )
    g = tables["received"]
    out["grants"] = pa.table(
        {
            "program": g["program"],
            "subject_key": pc.if_else(
                pc.is_in(g["program"], pa.array(["job_subsidy", "social_insurance_subsidy"])),
                g["person_id"],
                g["subject_id"],
            ),
            "grantee_person_no": g["person_id"],
            "period": g["period"],
            "slot": _startup_slots(g),
            "months": g["months"],
            "amount_fen": g["amount_fen"],
            "district": g["district"],
            "source": pa.array(["synth"] * g.num_rows, pa.string()),
        }
    )
    return {k: out[k] for k in DEMO_ORDER}


def _startup_slots(g: pa.Table) -> pa.Array:
    """Startup-subsidy claims numbered 1, 2, 3 per business in period order; other programs null."""
    prog = g["program"].to_pylist()
    subj = g["subject_id"].to_pylist()
    per = g["period"].to_pylist()
    order = sorted(range(len(prog)), key=lambda i: (subj[i], per[i]))
    slots: list[int | None] = [None] * len(prog)
    count: dict[str, int] = {}
    for i in order:
        if prog[i] == "startup_subsidy":
            count[subj[i]] = count.get(subj[i], 0) + 1
            slots[i] = count[subj[i]]
    return pa.array(slots, type=pa.int64())


def load_demo(
    conn: Connection,
    *,
    businesses: int,
    seed: int,
    pii: Pii,
    mode: Mode = "accept_valid",
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[str, str, int, int], None] | None = None,
) -> list[ImportResult]:
    """Generate the synthetic data set and import every kind in the caller's transaction."""
    tables = import_tables(synth.generate(businesses, seed), seed)
    results: list[ImportResult] = []
    for kind, table in tables.items():
        source = source_from_table(table, name=f"synth-{businesses}-{seed}:{kind}")

        def step(stage: str, done: int, total: int, kind: str = kind) -> None:
            if progress:
                progress(kind, stage, done, total)

        results.append(
            import_table(
                conn, kind=kind, source=source, pii=pii, mode=mode, batch_size=batch_size, progress=step
            )
        )
    return results
