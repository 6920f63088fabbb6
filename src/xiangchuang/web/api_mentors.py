"""JSON API v1 of the mentor pool (clauses 2.6, 3.9) for signed-in users.

City and district staff read the pool (names masked), the events and a draw's slots — without names until
the unseal time, every view audited through ``draw_view``. A mentor reads only their own profile and
their own seats (``my_assignment``) and answers a seat. No response model has a field that could carry
another mentor's name before unseal: ``DrawSlot.name`` is filled by ``draw_view`` only after it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel

from xiangchuang.mentors import repository as repo
from xiangchuang.mentors import service as S
from xiangchuang.models import User
from xiangchuang.web import workbench as wb
from xiangchuang.web.api import error_responses
from xiangchuang.web.deps import SessionDep, StateDep, require_role
from xiangchuang.web.pages_mentors import STAFF_ROLES, event_for, keys_of, role_of, scope_district

router = APIRouter(
    prefix="/api/v1/mentors", tags=["创业导师库"], responses=error_responses(401, 403, 404, 409, 422, 503)
)
Staff = Annotated[User, Depends(require_role(*STAFF_ROLES))]
MentorUser = Annotated[User, Depends(require_role("mentor"))]


class PoolEntry(BaseModel):
    mentor_no: str
    masked_name: str
    level: str
    specialty: str
    district: int
    employer_name: str | None
    available: bool
    status: str


class EventSummary(BaseModel):
    event_no: str
    title: str
    kind: str
    district: int | None
    event_date: dt.date
    panel_size: int
    backups: int
    earliest_draw_at: dt.datetime
    unseal_at: dt.datetime
    status: str


class DrawSlot(BaseModel):
    slot: int
    stratum: str
    status: str
    mentor_no: str | None
    name: str | None


class EventDetail(EventSummary):
    sealed: bool | None
    draw_status: str | None
    seed: str | None
    failure: str | None
    slots: list[DrawSlot]
    scores_in: int | None
    scores_expected: int | None


class MyProfile(BaseModel):
    linked: bool
    mentor_no: str | None = None
    level: str | None = None
    specialty: str | None = None
    other_specialties: str | None = None
    employer_name: str | None = None
    district: int | None = None
    available: bool | None = None
    status: str | None = None


class MyAssignment(BaseModel):
    event_no: str
    title: str
    event_date: dt.date
    slot: int
    status: str


class Answer(BaseModel):
    answer: Literal["accept", "decline"]


def _summary(ev: object) -> dict[str, object]:
    return {k: getattr(ev, k) for k in EventSummary.model_fields}


@router.get("", response_model=list[PoolEntry], summary="导师库（姓名脱敏）")
def pool(
    db: SessionDep,
    user: Staff,
    level: str | None = None,
    specialty: str | None = None,
    status: str | None = None,
    q: str | None = None,
) -> list[PoolEntry]:
    rows = repo.pool(
        db,
        district=scope_district(user),
        level=level,
        specialty=specialty,
        status=status,
        q=(q or "")[:60] or None,
    )
    return [PoolEntry(**{k: getattr(r, k) for k in PoolEntry.model_fields}) for r in rows]


@router.get("/events", response_model=list[EventSummary], summary="评审活动")
def events(db: SessionDep, user: Staff) -> list[EventSummary]:
    return [EventSummary.model_validate(_summary(e)) for e in repo.events(db, district=scope_district(user))]


@router.get(
    "/events/{event_no}", response_model=EventDetail, summary="评审活动与抽取席位（揭封前无姓名；查看留痕）"
)
def event(event_no: str, request: Request, db: SessionDep, state: StateDep, user: Staff) -> EventDetail:
    ev = event_for(db, user, event_no)
    d = repo.draw(db, ev.id)
    extra: dict[str, object] = {
        "sealed": None,
        "draw_status": None,
        "seed": None,
        "failure": None,
        "slots": [],
        "scores_in": None,
        "scores_expected": None,
    }
    if d is not None:
        view = S.draw_view(
            db,
            keys=keys_of(state),
            actor=user.login,
            role=role_of(user),
            event_no=event_no,
            now=wb.clock(request),
        )
        got, need = S.scoring_progress(db, event_no=event_no)
        extra = {
            "sealed": view.sealed,
            "draw_status": view.status,
            "seed": view.seed,
            "failure": view.failure,
            "slots": [
                DrawSlot(slot=s.slot, stratum=s.stratum, status=s.status, mentor_no=s.mentor_no, name=s.name)
                for s in view.slots
            ],
            "scores_in": got,
            "scores_expected": need,
        }
    return EventDetail.model_validate({**_summary(ev), **extra})


@router.get("/me", response_model=MyProfile, summary="导师本人资料（仅本人）")
def me(db: SessionDep, state: StateDep, user: MentorUser) -> MyProfile:
    if repo.mentor_of_user(db, user.login) is None:
        return MyProfile(linked=False)
    p = S.my_profile(db, keys=keys_of(state), actor=user.login)
    p.pop("name")
    return MyProfile(linked=True, **p)


@router.get("/me/assignments", response_model=list[MyAssignment], summary="导师本人的评审任务（不含他人）")
def my_assignments(request: Request, db: SessionDep, state: StateDep, user: MentorUser) -> list[MyAssignment]:
    if repo.mentor_of_user(db, user.login) is None:
        return []
    seats = S.my_assignments(db, keys=keys_of(state), actor=user.login, now=wb.clock(request))
    return [
        MyAssignment(
            event_no=a.event_no, title=a.title, event_date=a.event_date, slot=a.slot, status=a.status
        )
        for a in seats
    ]


@router.post(
    "/me/assignments/{event_no}/answer", response_model=MyAssignment | None, summary="确认参加或谢绝"
)
def answer(
    event_no: str,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: MentorUser,
    body: Annotated[Answer, Body()],
) -> MyAssignment | None:
    seat = S.respond(
        db,
        keys=keys_of(state),
        actor=user.login,
        event_no=event_no,
        accept=body.answer == "accept",
        now=wb.clock(request),
    )
    if seat is None:
        return None
    return MyAssignment(
        event_no=seat.event_no,
        title=seat.title,
        event_date=seat.event_date,
        slot=seat.slot,
        status=seat.status,
    )
