"""Queries of the carriers service (every list is filtered by the caller's scope)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from xiangchuang.models import (
    Business,
    Carrier,
    CarrierBill,
    CarrierRating,
    Person,
    Tenancy,
    Workstation,
    WorkstationAllocation,
)

CITY_ROLES = ("city_admin",)
DISTRICT_ROLES = ("district_reviewer", "district_finance", "window_clerk")
READ_ROLES = (*CITY_ROLES, *DISTRICT_ROLES, "carrier_operator")
STAFF_ROLES = ("district_reviewer", "window_clerk")  # record carriers, tenants, allocations, ratings


@dataclass(frozen=True)
class Actor:
    """Who acts: ``id`` for the audit log, the role, the district (staff) or organisation code (operator)."""

    id: str
    role: str
    district: int | None = None
    org_code: str | None = None

    @property
    def applicant_id(self) -> str:
        """The workflow's applicant id of a carrier operator: its organisation (any of its accounts)."""
        return f"org:{self.org_code}"


def scoped(stmt: Select, actor: Actor) -> Select:  # type: ignore[type-arg]
    """``stmt`` (over Carrier) limited to the carriers the actor may see."""
    if actor.role in CITY_ROLES:
        return stmt
    if actor.role in DISTRICT_ROLES:
        return stmt.where(Carrier.district == (actor.district if actor.district is not None else -1))
    if actor.role == "carrier_operator" and actor.org_code:
        return stmt.where(Carrier.operator_org_code == actor.org_code)
    return stmt.where(Carrier.id == -1)


def carriers(session: Session, actor: Actor, *, district: int | None = None) -> list[Carrier]:
    stmt = scoped(select(Carrier), actor)
    if district is not None:
        stmt = stmt.where(Carrier.district == district)
    return list(session.scalars(stmt.order_by(Carrier.district, Carrier.carrier_no)))


def carrier_by_no(session: Session, carrier_no: str) -> Carrier | None:
    return session.scalar(select(Carrier).where(Carrier.carrier_no == carrier_no.strip()))


def business_by_no(session: Session, business_no: str) -> Business | None:
    return session.scalar(select(Business).where(Business.business_no == business_no.strip()))


def person_by_no(session: Session, person_no: str) -> Person | None:
    return session.scalar(select(Person).where(Person.person_no == person_no.strip()))


def workstations(session: Session, carrier_id: int) -> list[Workstation]:
    return list(
        session.scalars(
            select(Workstation).where(Workstation.carrier_id == carrier_id).order_by(Workstation.number)
        )
    )


def workstation(session: Session, carrier_id: int, number: str) -> Workstation | None:
    return session.scalar(
        select(Workstation).where(Workstation.carrier_id == carrier_id, Workstation.number == number.strip())
    )


def _in_force(start: Any, end: Any, on: dt.date) -> Any:
    return and_(start <= on, or_(end.is_(None), end >= on))


def tenancies(
    session: Session, carrier_id: int, *, on: dt.date | None = None
) -> list[tuple[Tenancy, Business]]:
    stmt = (
        select(Tenancy, Business)
        .join(Business, Business.id == Tenancy.business_id)
        .where(Tenancy.carrier_id == carrier_id)
    )
    if on is not None:
        stmt = stmt.where(_in_force(Tenancy.start, Tenancy.end, on))
    rows = session.execute(stmt.order_by(Tenancy.start, Tenancy.id)).all()
    return [(r[0], r[1]) for r in rows]


def occupied_numbers(session: Session, carrier_id: int, on: dt.date) -> dict[str, str]:
    """Workstation number → who uses it on ``on`` (a tenant's business number or an allocation number)."""
    out: dict[str, str] = {}
    for t, b in tenancies(session, carrier_id, on=on):
        if t.workstation:
            out[t.workstation] = b.business_no
    rows = session.execute(
        select(Workstation.number, WorkstationAllocation.allocation_no)
        .join(WorkstationAllocation, WorkstationAllocation.workstation_id == Workstation.id)
        .where(
            WorkstationAllocation.carrier_id == carrier_id,
            WorkstationAllocation.status == "active",
            WorkstationAllocation.start <= on,
            WorkstationAllocation.end >= on,
        )
    ).all()
    for number, no in rows:
        out[str(number)] = str(no)
    return out


def allocations(session: Session, carrier_id: int) -> list[tuple[WorkstationAllocation, Workstation, Person]]:
    rows = session.execute(
        select(WorkstationAllocation, Workstation, Person)
        .join(Workstation, Workstation.id == WorkstationAllocation.workstation_id)
        .join(Person, Person.id == WorkstationAllocation.person_id)
        .where(WorkstationAllocation.carrier_id == carrier_id)
        .order_by(WorkstationAllocation.start.desc(), WorkstationAllocation.id.desc())
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def allocation_by_no(session: Session, allocation_no: str) -> WorkstationAllocation | None:
    return session.scalar(
        select(WorkstationAllocation).where(WorkstationAllocation.allocation_no == allocation_no.strip())
    )


def active_allocation_of(session: Session, person_id: int, on: dt.date) -> WorkstationAllocation | None:
    return session.scalar(
        select(WorkstationAllocation).where(
            WorkstationAllocation.person_id == person_id,
            WorkstationAllocation.status == "active",
            WorkstationAllocation.end >= on,
        )
    )


def bills(
    session: Session, carrier_id: int, *, month: int | None = None
) -> list[tuple[CarrierBill, Business]]:
    stmt = (
        select(CarrierBill, Business)
        .join(Business, Business.id == CarrierBill.business_id)
        .where(CarrierBill.carrier_id == carrier_id)
    )
    if month is not None:
        stmt = stmt.where(CarrierBill.month == month)
    rows = session.execute(stmt.order_by(CarrierBill.month.desc(), Business.business_no)).all()
    return [(r[0], r[1]) for r in rows]


def bill_by_no(session: Session, bill_no: str) -> CarrierBill | None:
    return session.scalar(select(CarrierBill).where(CarrierBill.bill_no == bill_no.strip()))


def reductions_by_tenant(session: Session, carrier_id: int) -> list[tuple[str, str, int, int, int]]:
    """Per tenant: business number, name, bills, gross and reduction (fen) over every month billed."""
    rows = session.execute(
        select(
            Business.business_no,
            Business.name,
            func.count(CarrierBill.id),
            func.coalesce(func.sum(CarrierBill.gross_fen), 0),
            func.coalesce(func.sum(CarrierBill.reduction_fen), 0),
        )
        .join(Business, Business.id == CarrierBill.business_id)
        .where(CarrierBill.carrier_id == carrier_id)
        .group_by(Business.business_no, Business.name)
        .order_by(Business.business_no)
    ).all()
    return [(str(a), str(b), int(c), int(d), int(e)) for a, b, c, d, e in rows]


def reduction_total(session: Session, carrier_id: int) -> tuple[int, int]:
    row = session.execute(
        select(
            func.coalesce(func.sum(CarrierBill.gross_fen), 0),
            func.coalesce(func.sum(CarrierBill.reduction_fen), 0),
        ).where(CarrierBill.carrier_id == carrier_id)
    ).one()
    return int(row[0]), int(row[1])


def ratings(session: Session, carrier_id: int) -> list[CarrierRating]:
    return list(
        session.scalars(
            select(CarrierRating)
            .where(CarrierRating.carrier_id == carrier_id)
            .order_by(CarrierRating.year.desc())
        )
    )
