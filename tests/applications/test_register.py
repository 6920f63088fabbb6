"""核准 writes the register of what was granted, and the register refuses what the notice caps: the
startup subsidy's 3 years (slots, a database check), the social-insurance subsidy's months per person (the
engine's limit and its count of distinct months; a unique months chain), once-only programs — on both databases, with the approval left undone when
refused (application state, ledger and register unchanged)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.applications import ACTORS, D1, KEY, LATER, NOW, PARAMS, application_in, setup, state_of
from tests.registry.factories import Registry
from xiangchuang import ledger
from xiangchuang.applications import disbursement
from xiangchuang.db import make_sessionmaker
from xiangchuang.errors import InvalidTransition
from xiangchuang.models import Application, Determination, Grant

AMOUNT = 197_531  # B-VET's 创业补助 (tests.applications.registry)


def _budget(engine, amount_fen: int = 100_000_000) -> None:
    with make_sessionmaker(engine)() as s, s.begin():
        disbursement.open_budget(s, district=D1, amount_fen=amount_fen, at=NOW, note="测试预算")


def _approve(engine, app_id: int) -> None:
    with make_sessionmaker(engine)() as s, s.begin():
        disbursement.act(
            s,
            application_id=app_id,
            action="approve",
            actor=ACTORS["district_reviewer"],
            role="district_reviewer",
            actor_district=D1,
            audit_key=KEY,
            now=LATER,
            params=PARAMS,
        )


def _grants(engine, **where: object) -> list[Grant]:
    with Session(engine) as s:
        stmt = select(Grant).filter_by(**where).order_by(Grant.id)
        return list(s.execute(stmt).scalars())


def _reserved(engine, app_id: int) -> int:
    with Session(engine) as s:
        no = s.get(Application, app_id).application_no  # type: ignore[union-attr]
        return ledger.approved_outstanding(
            s, district=D1, funding_source=disbursement.FUNDING_SOURCE, application_ref=no
        )


def test_approval_registers_the_grant_with_the_next_startup_slot(db_engine, pii):
    setup(db_engine, pii)
    _budget(db_engine)
    app_id = application_in(db_engine, "publicity", period="2024")
    _approve(db_engine, app_id)
    assert state_of(db_engine, app_id) == "approved"
    [g] = _grants(db_engine, program="startup_subsidy")
    with Session(db_engine) as s:
        no = s.get(Application, app_id).application_no  # type: ignore[union-attr]
    assert (g.subject_kind, g.subject_key, g.period, g.slot, g.amount_fen) == (
        "business",
        "B-VET",
        "2024",
        1,
        AMOUNT,
    )
    assert g.source == f"workflow:{no}" and g.district == D1
    assert g.granted_on == dt.date(2025, 3, 20)  # the approval's date in China


def test_a_fourth_startup_year_is_refused_and_the_approval_undone(db_engine, pii):
    """Three years registered while this application was in publicity (another approval, an import):
    the approval, which determines the application again on the day, is refused in Chinese with the
    engine's reason; the application stays in publicity, nothing is reserved. (The register's own
    slot check behind it is tested by test_the_database_itself_holds_the_startup_slots.)"""
    setup(db_engine, pii)
    _budget(db_engine)
    # (The claim year is evaluated: 2024, a completed year on the review date 2025-03-03.)
    app_id = application_in(db_engine, "publicity", period="2024")
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        for slot, year in ((1, "2021"), (2, "2022"), (3, "2023")):
            reg.grant("startup_subsidy", "B-VET", period=year, amount_fen=AMOUNT, slot=slot)
    with pytest.raises(InvalidTransition, match=r"核准前按登记库当前数据.*重新判定.*已享受3个年度"):
        _approve(db_engine, app_id)
    assert state_of(db_engine, app_id) == "publicity"
    assert _reserved(db_engine, app_id) == 0
    assert len(_grants(db_engine, program="startup_subsidy")) == 3


def test_the_database_itself_holds_the_startup_slots(db_engine, pii):
    setup(db_engine, pii)
    row = {
        "program": "startup_subsidy",
        "subject_kind": "business",
        "subject_key": "B-VET",
        "amount_fen": 1,
        "district": D1,
        "source": "test",
    }
    with db_engine.begin() as conn:
        conn.execute(insert(Grant).values(**row, period="2021", slot=1))
    for extra in ({"period": "2022", "slot": 1}, {"period": "2022", "slot": 4}):
        with pytest.raises(IntegrityError), db_engine.begin() as conn:
            conn.execute(insert(Grant).values(**row, **extra))


def test_the_same_period_twice_is_refused(db_engine, pii):
    """Another application of the same subject and period was approved first (an application made at a
    window and one made online): the register refuses the second approval."""
    setup(db_engine, pii)
    _budget(db_engine)
    app_id = application_in(db_engine, "publicity", period="2024")
    with db_engine.begin() as conn:
        Registry(conn, pii).grant("startup_subsidy", "B-VET", period="2024", amount_fen=AMOUNT, slot=2)
    # (核准 determines again first: the engine's once-per-year rule refuses it before the register's)
    with pytest.raises(InvalidTransition, match=r"重新判定.*该年度已享受过创业补助"):
        _approve(db_engine, app_id)
    assert state_of(db_engine, app_id) == "publicity" and _reserved(db_engine, app_id) == 0


def _si_application(engine, pii) -> int:
    """A 社保补贴 application for the hire H-POOR (a 脱贫 person hired 2023-07, employer contributions
    every month since) in publicity, its second review's determination as the engine made it."""
    with engine.begin() as conn:
        reg = Registry(conn, pii, start=500)
        founder = reg.person(no="P-BOSS", groups=["veteran"])
        b = reg.business(no="B-SI", founder=founder, registration_date=dt.date(2022, 5, 1))
        worker = reg.person(no="P-POOR", groups=["poverty_registered"], birth_date=dt.date(1985, 4, 1))
        h = reg.hire(b, worker, dt.date(2023, 7, 1), no="H-POOR")
        reg.contributions(
            h, [y * 100 + m for y in (2023, 2024, 2025) for m in range(1, 13) if y * 100 + m >= 202307]
        )
    return application_in(
        engine, "publicity", kind="social_insurance_subsidy", subject="H-POOR", period="2024-07/2024-12"
    )


def _si_determination(engine, app_id: int) -> dict:
    with Session(engine) as s:
        result = s.execute(
            select(Determination.result)
            .where(Determination.application_id == app_id, Determination.stage == "second_review")
            .order_by(Determination.id.desc())
        ).scalar()
    assert result is not None
    return dict(result)


def test_social_insurance_months_are_registered_per_person(db_engine, pii):
    setup(db_engine, pii)
    _budget(db_engine)
    app_id = _si_application(db_engine, pii)
    doc = _si_determination(db_engine, app_id)
    assert doc["status"] == "eligible", doc
    months = doc["amount_info"]["claim_months"]
    assert months == 6  # the last completed half-year (claimed twice a year)
    _approve(db_engine, app_id)
    [g] = _grants(db_engine, program="social_insurance_subsidy")
    assert (g.subject_kind, g.subject_key, g.person_key, g.months, g.months_from) == (
        "person",
        "P-POOR",
        "P-POOR",
        6,
        0,
    )


def test_social_insurance_over_36_months_is_refused(db_engine, pii):
    """31 months registered for the person after this claim's review (approved elsewhere meanwhile):
    6 more would make 37 > 36 — refused, nothing changed."""
    setup(db_engine, pii)
    _budget(db_engine)
    app_id = _si_application(db_engine, pii)
    with db_engine.begin() as conn:
        Registry(conn, pii).grant(
            "social_insurance_subsidy",
            "P-POOR",
            period="2020-2022",
            amount_fen=1,
            person_key="P-POOR",
            months=31,
        )
    # (核准 determines again first: the engine cannot tell which months 「2020-2022」 paid — 待定)
    with pytest.raises(
        InvalidTransition, match=r"重新判定.*结论为「待定（缺少信息）」.*已享受社保补贴的所属期间"
    ):
        _approve(db_engine, app_id)
    assert state_of(db_engine, app_id) == "publicity" and _reserved(db_engine, app_id) == 0
    with Session(db_engine) as s:
        total = s.execute(select(func.sum(Grant.months)).where(Grant.person_key == "P-POOR")).scalar()
    assert total == 31


def test_the_months_chain_serialises_two_approvals_for_one_person(db_engine, pii):
    """Two approvals that read the same running total write the same months_from: the unique index lets
    only the first commit, so the cap cannot be passed by a race."""
    setup(db_engine, pii)
    row = {
        "program": "social_insurance_subsidy",
        "subject_kind": "person",
        "subject_key": "P-X",
        "person_key": "P-X",
        "amount_fen": 1,
        "district": D1,
        "source": "test",
        "months": 12,
        "months_from": 24,
    }
    with db_engine.begin() as conn:
        conn.execute(insert(Grant).values(**row, period="2024"))
    with pytest.raises(IntegrityError), db_engine.begin() as conn:
        conn.execute(insert(Grant).values(**row, period="2025"))
    with db_engine.begin() as conn:  # imported rows (no months_from) are not part of the chain
        conn.execute(insert(Grant).values(**{**row, "months_from": None}, period="2019"))
        conn.execute(insert(Grant).values(**{**row, "months_from": None}, period="2018"))


def test_an_in_kind_approval_reserves_nothing_and_is_never_disbursed(db_engine, pii):
    """A rent reduction is granted by the carrier on the tenant's bills: 核准 recognises it and registers it,
    but reserves no budget and cannot be put in a disbursement batch (a cash payment would pay it twice)."""
    from xiangchuang.applications.workflow import IN_KIND_KINDS, allowed_actions
    from xiangchuang.errors import ValidationFailed
    from xiangchuang.models import Business

    setup(db_engine, pii)
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        business = conn.execute(select(Business.id).where(Business.business_no == "B-VET")).scalar_one()
        reg.tenancy(business, reg.carrier(district=D1), dt.date(2024, 6, 1))
    _budget(db_engine)
    app_id = application_in(db_engine, "publicity", kind="carrier_rent_reduction", period="2025")
    _approve(db_engine, app_id)
    assert state_of(db_engine, app_id) == "approved" and "carrier_rent_reduction" in IN_KIND_KINDS
    [g] = _grants(db_engine, program="carrier_rent_reduction")
    assert g.subject_key == "B-VET" and g.amount_fen > 0  # registered (the bills' reduction), not paid
    assert _reserved(db_engine, app_id) == 0
    assert allowed_actions("carrier_rent_reduction", "approved", "district_finance") == []
    with (
        make_sessionmaker(db_engine)() as s,
        s.begin(),
        pytest.raises(ValidationFailed, match="不能编入拨付批次"),
    ):
        disbursement.start_batch(
            s, application_ids=[app_id], district=D1, actor=ACTORS["district_finance"], role="district_finance",
            actor_district=D1, at=LATER, params=PARAMS, audit_key=KEY,
        )  # fmt: skip


def test_a_free_workstation_can_be_approved_although_it_pays_nothing(db_engine, pii):
    """In kind, amount 0: the approval used to be refused (核准金额为空) because it tried to reserve budget."""
    setup(db_engine, pii)
    with db_engine.begin() as conn:
        Registry(conn, pii).person(
            no="P-YOUNG", birth_date=dt.date(1996, 4, 1), startup_intention=True, holds_free_workstation=False
        )
    app_id = application_in(db_engine, "publicity", kind="free_workstation", subject="P-YOUNG", period="once")
    _approve(db_engine, app_id)
    assert state_of(db_engine, app_id) == "approved" and _reserved(db_engine, app_id) == 0
    [g] = _grants(db_engine, program="free_workstation")
    assert (g.subject_key, g.amount_fen) == ("P-YOUNG", 0)


# ---- the social-insurance limit and months as the engine defines them (README choices 5 and 49) ----------
# The approval used to cap a person's months at social_insurance_subsidy.max_months (36) and to add up the
# registered Grant.months, while the engine's limit runs to retirement when fewer than 5 years remain at hire
# (more or fewer than 36) and counts distinct months: a claim the second review found eligible could never
# be approved (and re-review found it eligible again), and one past a shorter retirement limit was approved.


def _si_claim(engine, pii, *, born: dt.date, hired: dt.date, period: str, grants, start: int) -> int:
    """A 社保补贴 application in publicity for the hire H-<start> of a man born ``born`` (registered
    ``grants`` before the second review), employer contributions every month from the hire on."""
    with engine.begin() as conn:
        reg = Registry(conn, pii, start=start)
        founder = reg.person(no=f"P-BOSS{start}", groups=["veteran"])
        b = reg.business(no=f"B-SI{start}", founder=founder, registration_date=dt.date(2018, 5, 1))
        worker = reg.person(no="P-OLD", groups=["poverty_registered"], birth_date=born, gender="M")
        h = reg.hire(b, worker, hired, no=f"H-{start}")
        first = hired.year * 100 + hired.month
        reg.contributions(
            h, [y * 100 + m for y in range(hired.year, 2025) for m in range(1, 13) if y * 100 + m >= first]
        )
        _register(reg, grants)
    return application_in(
        engine, "publicity", kind="social_insurance_subsidy", subject=f"H-{start}", period=period
    )


def _register(reg: Registry, grants) -> None:
    for period, months in grants:
        reg.grant(
            "social_insurance_subsidy",
            "P-OLD",
            period=period,
            amount_fen=1,
            person_key="P-OLD",
            months=months,
        )


def _months_left_text(engine, app_id: int) -> str:
    doc = _si_determination(engine, app_id)
    assert doc["status"] == "eligible", doc
    return next(c["message"] for c in doc["conditions"] if c["id"] == "months_left")


@pytest.mark.parametrize(
    ("grants", "received"),
    [
        ([("2019-03/2022-02", 36)], 36),
        # two overlapping ranges (e.g. imported twice): 24 distinct months, 36 by their sum
        ([("2019-03/2020-12", 22), ("2020-01/2021-02", 14)], 24),
    ],
)
def test_a_claim_within_the_limit_to_retirement_is_approved(db_engine, pii, grants, received):
    """A man born 1964-01-15 (retires 2024-01-15) hired 2019-03-01, fewer than 5 years before it: his limit is
    58 months (2019-03 to 2023-12). The review finds 2022-03/2022-08 eligible; the approval registers it,
    its months chain starting at the distinct months registered."""
    setup(db_engine, pii)
    _budget(db_engine)
    app_id = _si_claim(
        db_engine, pii, born=dt.date(1964, 1, 15), hired=dt.date(2019, 3, 1), period="2022-03/2022-08",
        grants=grants, start=700,
    )  # fmt: skip
    assert f"已享受{received}个月，未超过58个月" in _months_left_text(db_engine, app_id)
    _approve(db_engine, app_id)
    assert state_of(db_engine, app_id) == "approved"
    assert _si_determination(db_engine, app_id)["amount_info"]["claim_limit_months"] == 58
    mine = [g for g in _grants(db_engine, program="social_insurance_subsidy") if g.months_from is not None]
    assert [(g.period, g.months, g.months_from) for g in mine] == [("2022-03/2022-08", 6, received)]


def test_a_claim_past_the_limit_to_retirement_is_refused(db_engine, pii):
    """A man born 1963-06-10 (retires 2023-06-10) hired 2021-06-01: his limit is 24 months. The review finds
    6 of 2022-10/2023-03 eligible with 16 registered; 5 more months registered for him since (approved
    elsewhere) make 27 > 24: refused with the engine's limit, nothing changed (before: 27 ≤ 36, approved)."""
    setup(db_engine, pii)
    _budget(db_engine)
    app_id = _si_claim(
        db_engine, pii, born=dt.date(1963, 6, 10), hired=dt.date(2021, 6, 1), period="2022-10/2023-03",
        grants=[("2021-06/2022-09", 16)], start=720,
    )  # fmt: skip
    assert "已享受16个月，未超过24个月" in _months_left_text(db_engine, app_id)
    with db_engine.begin() as conn:
        _register(Registry(conn, pii, start=740), [("2021-01/2021-05", 5)])
    # (核准 determines again first: 3 months are left, ¥762.00 — less than the ¥1,524.00 publicised)
    with pytest.raises(InvalidTransition, match=r"重新判定.*「符合 ¥762.00」.*「符合 ¥1,524.00」不一致"):
        _approve(db_engine, app_id)
    assert state_of(db_engine, app_id) == "publicity" and _reserved(db_engine, app_id) == 0
    assert all(g.months_from is None for g in _grants(db_engine, program="social_insurance_subsidy"))
