"""Every computable program of 渝人社发〔2020〕74号 (PROVISIONS.md §1), with the fixed ids."""

from __future__ import annotations

import dataclasses

import numpy as np

from xiangchuang.engine.facts import FACTS, filled
from xiangchuang.engine.program import Ctx, Program, has_district
from xiangchuang.engine.programs import carriers, employment, loans, mentors, online_sales, startup, training
from xiangchuang.engine.vec import isin


def _loan_kinds(*kinds: str):  # type: ignore[no-untyped-def]
    """Loans of these kinds, and loans whose kind is not given (they might be of these kinds: the
    program's kind condition is then unknown, never a vanished row)."""
    codes = [FACTS["loans"]["kind"].code_of(k) for k in kinds]

    def applies(ctx: Ctx) -> np.ndarray:
        k = ctx.t["kind"]
        ok: np.ndarray = ~k.known | isin(k.values, codes)
        return ok

    return applies


def _contracted(ctx: Ctx) -> np.ndarray:
    """Loans that have been contracted: a contract date, or a settlement period or outstanding
    balance given (a loan being settled was contracted, on a date not given: undetermined). A loan
    with none of these is an application not yet contracted: no interest subsidy applies yet."""
    t = ctx.t
    ok: np.ndarray = (
        t["contract_date"].known | t["settle_start"].known | t["settle_end"].known | t["principal_fen"].known
    )
    return ok


def _training_kind(kind: str):  # type: ignore[no-untyped-def]
    code = FACTS["trainings"]["kind"].code_of(kind)

    def applies(ctx: Ctx) -> np.ndarray:
        k = ctx.t["kind"]
        ok: np.ndarray = k.known & (k.values == code)
        return ok

    return applies


def _applicants(ctx: Ctx) -> np.ndarray:
    if "__applicant" in ctx.t:
        return ctx.t["__applicant"].values.astype(bool)
    return filled(np.bool_, True, ctx.n)


def _workshops(ctx: Ctx) -> np.ndarray:
    w = ctx.t["workshop_recognised"]
    ok: np.ndarray = (w.known & w.values.astype(bool)) | ctx.t["workshop_employed"].known
    return ok


def _tenants(ctx: Ctx) -> np.ndarray:
    return ctx.t["carrier_id"].known | ctx.t["tenancy_start"].known


PROGRAMS: tuple[Program, ...] = (
    startup.PROGRAM,
    online_sales.PROGRAM,
    dataclasses.replace(carriers.CARRIER_RENT_REDUCTION, applies=_tenants),
    dataclasses.replace(carriers.FREE_WORKSTATION, applies=_applicants),
    dataclasses.replace(loans.LOAN_INDIVIDUAL, applies=_loan_kinds("individual", "partnership")),
    dataclasses.replace(loans.LOAN_SMALL_MICRO, applies=_loan_kinds("small_micro")),
    loans.COUNTER_GUARANTEE_WAIVER,
    dataclasses.replace(loans.LOAN_INTEREST_SUBSIDY, applies=_contracted),
    employment.JOB_SUBSIDY,
    employment.SOCIAL_INSURANCE_SUBSIDY,
    dataclasses.replace(employment.WORKSHOP_AWARD, applies=_workshops),
    dataclasses.replace(training.TRAINING_SYB, applies=_training_kind("syb")),
    dataclasses.replace(training.TRAINING_ONLINE, applies=_training_kind("online")),
    dataclasses.replace(training.TRAINING_IYB, applies=_training_kind("iyb")),
    mentors.PROGRAM,
    carriers.CARRIER_AWARD,
    training.ONJOB_TRAINING_SUBSIDY,
)

PROGRAM_IDS: tuple[str, ...] = tuple(p.id for p in PROGRAMS)
BY_ID: dict[str, Program] = {p.id: p for p in PROGRAMS}

# The order in which a registry-wide run on several threads starts the programs: heaviest first
# (longest-processing-time-first), so that a long program never starts last and leaves one thread
# working alone. Measured by benchmarks/engine_bench.py (time per program at 1M businesses, one
# thread); only the speed of a batch depends on it, never a result.
BATCH_ORDER: tuple[str, ...] = (
    "social_insurance_subsidy",
    "loan_interest_subsidy",
    "carrier_rent_reduction",
    "job_subsidy",
    "loan_individual",
    "workshop_award",
    "free_workstation",
    "training_syb",
    "startup_subsidy",
    "online_sales_subsidy",
    "loan_small_micro",
    "training_iyb",
    "training_online",
    "counter_guarantee_waiver",
    "carrier_award",
    "mentor_service_subsidy",
    "onjob_training_subsidy",
)
_RANK: dict[str, int] = {pid: k for k, pid in enumerate(BATCH_ORDER)}


def batch_rank(program: Program) -> int:
    """A program's place in :data:`BATCH_ORDER` (a program not listed goes last)."""
    return _RANK.get(program.id, len(BATCH_ORDER))


def city_only_parameters(programs: tuple[Program, ...] | list[Program] | None = None) -> frozenset[str]:
    """The parameters only programs without a district read (``has_district``: free workstations,
    whose subject is a person): a district's values of them are never applied (README choice 38)."""
    with_district: set[str] = set()
    without: set[str] = set()
    for p in PROGRAMS if programs is None else programs:
        names = {n for c in (*p.conditions, *p.any_of) for n in c.params} | set(p.amount_params)
        (with_district if has_district(p.subject) else without).update(names)
    return frozenset(without - with_district)
