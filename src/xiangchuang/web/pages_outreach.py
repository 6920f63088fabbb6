"""外出人员联络 pages (clause 4.12) for district staff (their district) and 街道/乡镇 window clerks (their
town): the register (masked; the full contact by an audited button), registration form, Excel import (all
or nothing, errors per row and column) and masked export, campaigns and the contact log, returns and the
businesses returnees start, 乡情 talent, introduced talent (recognition, programme export) and their
families' service requests. Routes only call :mod:`xiangchuang.outreach.service`; a refused form is shown
again with the Chinese reason (role="alert") and nothing of it is written (a savepoint per attempt)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from xiangchuang import fields
from xiangchuang.audit import record
from xiangchuang.chinatime import china_date
from xiangchuang.errors import DomainError, ValidationFailed
from xiangchuang.models import User
from xiangchuang.outreach import excel
from xiangchuang.outreach import service as S
from xiangchuang.web import nav
from xiangchuang.web.deps import ParamsDep, SessionDep, StateDep, require_role
from xiangchuang.web.render import render
from xiangchuang.web.workbench import clock

router = APIRouter(include_in_schema=False)
Staff = Annotated[User, Depends(require_role(*S.STAFF_ROLES))]
T = TypeVar("T")

nav.add("/outreach", "外出人员联络", S.STAFF_ROLES, 50)
nav.add("/outreach/introduced", "引进人才", S.STAFF_ROLES, 51)

LABELS: dict[str, Any] = {
    "channels": S.CHANNEL_LABELS,
    "methods": S.METHOD_LABELS,
    "answers": S.ANSWER_LABELS,
    "statuses": S.STATUS_LABELS,
    "occasions": S.OCCASION_LABELS,
    "talent_kinds": S.TALENT_LABELS,
    "categories": S.CATEGORY_LABELS,
    "introduced_states": S.INTRODUCED_LABELS,
    "family_kinds": S.FAMILY_LABELS,
    "family_states": S.FAMILY_STATE_LABELS,
}


def _today(request: Request) -> dt.date:
    return china_date(clock(request))


def _attempt(db: SessionDep, fn: Callable[[], T]) -> tuple[T | None, DomainError | None]:
    """Run one change in a savepoint: a refusal rolls back whatever it wrote and comes back as the error."""
    try:
        with db.begin_nested():
            return fn(), None
    except DomainError as exc:
        return None, exc


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v.strip()[:2000] for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def _page(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> Response:
    return render(request, f"outreach/{name}", {**LABELS, **ctx}, status=status)


# --- the register -----------------------------------------------------------------------------------------


@router.get("/outreach")
def register_list(
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Staff,
    status: str = "",
    phone: str = "",
) -> Response:
    actor = S.actor_of(user)
    rows, error = _attempt(
        db,
        lambda: S.list_people(
            db,
            actor=actor,
            cipher=state.cipher,
            params=params,
            today=_today(request),
            status=status or None,
            phone=phone[:20] or None,
        ),
    )
    return _page(
        request,
        "list.html",
        {"rows": rows or [], "status": status, "error": error.message if error else None, "actor": actor},
        422 if error else 200,
    )


def _new_form(request: Request, values: dict[str, Any], error: str | None, status: int = 200) -> Response:
    return _page(request, "new.html", {"v": values, "error": error}, status)


@router.get("/outreach/new")
def new_person_form(request: Request, user: Staff) -> Response:
    actor = S.actor_of(user)
    return _new_form(request, {"home_town": actor.street or "", "consent_scope": []}, None)


@router.post("/outreach/new")
async def new_person(request: Request, db: SessionDep, state: StateDep, user: Staff) -> Response:
    form = await request.form()
    values = {
        k: str(form.get(k, "")).strip()[:400]
        for k in (
            "name",
            "phone",
            "home_town",
            "work_place",
            "trade",
            "skills",
            "consent_on",
            "other_contact",
        )
    }
    scope = [str(s) for s in form.getlist("consent_scope") if str(s) in S.CHANNEL_LABELS]
    actor = S.actor_of(user)
    row, error = _attempt(
        db,
        lambda: S.register_person(
            db,
            actor=actor,
            cipher=state.cipher,
            data=S.PersonInput(**values, consent_scope=scope),
            audit_key=state.audit_key,
            today=_today(request),
        ),
    )
    if error is not None or row is None:
        values.pop("phone", None)  # a refused form never echoes the mobile back
        return _new_form(
            request,
            {**values, "consent_scope": scope},
            error.message if error else None,
            error.status if error else 422,
        )
    return RedirectResponse(f"/outreach/people/{row.id}?done=registered", status_code=303)


def _detail(
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: User,
    person_id: int,
    *,
    error: str | None = None,
    revealed: S.Revealed | None = None,
    status: int = 200,
) -> Response:
    actor = S.actor_of(user)
    person = S.get_person(
        db, actor=actor, cipher=state.cipher, params=params, person_id=person_id, today=_today(request)
    )
    return _page(
        request,
        "detail.html",
        {
            "p": person,
            "contacts": S.contacts_of(db, actor=actor, person_id=person_id),
            "ventures": S.ventures_of(db, actor=actor, person_id=person_id),
            "campaign_list": S.campaigns(db, actor=actor),
            "error": error,
            "revealed": revealed,
            "done": request.query_params.get("done", "")[:20],
            "today": _today(request).isoformat(),
        },
        status,
    )


@router.get("/outreach/people/{person_id}")
def person_detail(
    request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: Staff, person_id: int
) -> Response:
    return _detail(request, db, state, params, user, person_id)


@router.post("/outreach/people/{person_id}/reveal")
def person_reveal(
    request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: Staff, person_id: int
) -> Response:
    revealed, error = _attempt(
        db,
        lambda: S.reveal_contact(
            db, actor=S.actor_of(user), cipher=state.cipher, person_id=person_id, audit_key=state.audit_key
        ),
    )
    return _detail(
        request,
        db,
        state,
        params,
        user,
        person_id,
        error=error.message if error else None,
        revealed=revealed,
        status=error.status if error else 200,
    )


@router.post("/outreach/people/{person_id}/{action}")
async def person_action(
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Staff,
    person_id: int,
    action: str,
) -> Response:
    f = await _form(request)
    scope = [str(v) for v in (await request.form()).getlist("consent_scope")][:4]
    actor, today, key = S.actor_of(user), _today(request), state.audit_key

    def run() -> object:
        if action == "contacts":
            campaign = f.get("campaign_id", "")
            if campaign and not campaign.isdigit():
                raise ValidationFailed("联络活动：不是有效的选项")
            return S.log_contact(
                db,
                actor=actor,
                person_id=person_id,
                contacted_on=f.get("contacted_on", ""),
                method=f.get("method", ""),
                answer=f.get("answer", ""),
                note=f.get("note", ""),
                campaign_id=int(campaign) if campaign else None,
                audit_key=key,
                today=today,
            )
        if action == "return":
            return S.record_return(
                db,
                actor=actor,
                person_id=person_id,
                returned_on=f.get("returned_on", ""),
                person_no=f.get("person_no") or None,
                audit_key=key,
                today=today,
            )
        if action == "link":
            return S.link_person(
                db, actor=actor, person_id=person_id, person_no=f.get("person_no", ""), audit_key=key
            )
        if action == "ventures":
            return S.record_venture(
                db, actor=actor, person_id=person_id, business_no=f.get("business_no", ""), audit_key=key
            )
        if action == "renew":
            return S.renew_consent(
                db,
                actor=actor,
                person_id=person_id,
                on=f.get("on", ""),
                scope=scope,
                audit_key=key,
                today=today,
            )
        if action == "withdraw":
            return S.withdraw_consent(
                db,
                actor=actor,
                person_id=person_id,
                on=fields.date(f.get("on", ""), "撤回日期"),
                audit_key=key,
                today=today,
            )
        raise ValidationFailed("操作：不支持")

    _, error = _attempt(db, run)
    if error is not None:
        return _detail(request, db, state, params, user, person_id, error=error.message, status=error.status)
    return RedirectResponse(f"/outreach/people/{person_id}?done={action}", status_code=303)


# --- import and export ------------------------------------------------------------------------------------


@router.get("/outreach/import")
def import_form(request: Request, user: Staff) -> Response:
    return _page(request, "import.html", {"outcome": None, "error": None})


@router.post("/outreach/import")
async def import_run(request: Request, db: SessionDep, state: StateDep, user: Staff) -> Response:
    form = await request.form()
    upload = form.get("file")
    actor, today = S.actor_of(user), _today(request)
    content = await upload.read(excel.MAX_BYTES + 1) if isinstance(upload, UploadFile) else b""

    def run() -> S.ImportOutcome:
        if not content:
            raise ValidationFailed("文件：请选择要导入的 Excel（.xlsx）文件")
        rows = excel.read_register(content)
        return S.import_register(
            db, actor=actor, cipher=state.cipher, rows=rows, audit_key=state.audit_key, today=today
        )

    outcome, error = _attempt(db, run)
    failed = error is not None or (outcome is not None and not outcome.ok)
    return _page(
        request,
        "import.html",
        {"outcome": outcome, "error": error.message if error else None},
        422 if failed else 200,
    )


def _xlsx(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type=excel.XLSX,
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


@router.get("/outreach/import-template.xlsx")
def import_template(user: Staff) -> Response:
    return _xlsx(excel.template(), "outreach-import-template.xlsx")


@router.get("/outreach/export.xlsx")
def export_register(
    request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: Staff
) -> Response:
    actor = S.actor_of(user)
    rows = S.list_people(
        db, actor=actor, cipher=state.cipher, params=params, today=_today(request), limit=100_000
    )
    record(
        db,
        key=state.audit_key,
        **actor.audit,
        action="outreach.person.export",
        subject=f"outreach_people:district-{actor.district}",
        details={"count": len(rows), "masked": True},
    )
    return _xlsx(excel.register_export(rows), "outreach-register.xlsx")


# --- campaigns --------------------------------------------------------------------------------------------


def _campaigns(
    request: Request,
    db: SessionDep,
    user: User,
    error: str | None = None,
    v: dict[str, str] | None = None,
    status: int = 422,
) -> Response:
    actor = S.actor_of(user)
    return _page(
        request,
        "campaigns.html",
        {
            "campaign_list": S.campaigns(db, actor=actor),
            "can_create": actor.role == S.DECIDER_ROLE,
            "error": error,
            "v": v or {},
        },
        status if error else 200,
    )


@router.get("/outreach/campaigns")
def campaigns_page(request: Request, db: SessionDep, user: Staff) -> Response:
    return _campaigns(request, db, user)


@router.post("/outreach/campaigns")
async def campaign_create(request: Request, db: SessionDep, state: StateDep, user: Staff) -> Response:
    f = await _form(request)
    row, error = _attempt(
        db,
        lambda: S.create_campaign(
            db,
            actor=S.actor_of(user),
            name=f.get("name", ""),
            occasion=f.get("occasion", ""),
            starts_on=f.get("starts_on", ""),
            ends_on=f.get("ends_on", ""),
            description=f.get("description", ""),
            audit_key=state.audit_key,
        ),
    )
    if error is not None or row is None:
        return _campaigns(
            request, db, user, error.message if error else None, f, error.status if error else 422
        )
    return RedirectResponse(f"/outreach/campaigns/{row.id}", status_code=303)


@router.get("/outreach/campaigns/{campaign_id}")
def campaign_page(request: Request, db: SessionDep, user: Staff, campaign_id: int) -> Response:
    actor = S.actor_of(user)
    campaign = S.get_campaign(db, actor=actor, campaign_id=campaign_id)
    rows = S.campaign_contacts(db, actor=actor, campaign_id=campaign_id)
    return _page(request, "campaign.html", {"c": campaign, "rows": rows})


# --- 乡情 talent -------------------------------------------------------------------------------------------


def _talents(
    request: Request,
    db: SessionDep,
    user: User,
    error: str | None = None,
    v: dict[str, str] | None = None,
    status: int = 422,
) -> Response:
    assert user.district is not None
    S.actor_of(user)
    return _page(
        request,
        "talents.html",
        {
            "pool": S.talent_pool(db, user.district),
            "error": error,
            "v": v or {},
            "today": _today(request).isoformat(),
        },
        status if error else 200,
    )


@router.get("/outreach/talents")
def talents_page(request: Request, db: SessionDep, user: Staff) -> Response:
    return _talents(request, db, user)


@router.post("/outreach/talents")
async def talent_add(request: Request, db: SessionDep, state: StateDep, user: Staff) -> Response:
    f = await _form(request)
    ref = f.get("outreach_ref", "")

    def run() -> object:
        outreach_id = None
        if ref and not f.get("person_no"):
            outreach_id = S.person_by_ref(db, actor=S.actor_of(user), ref_no=ref).id
        return S.add_hometown_talent(
            db,
            actor=S.actor_of(user),
            kind=f.get("kind", ""),
            town=f.get("town", ""),
            trade=f.get("trade", ""),
            skills=f.get("skills", ""),
            recognised_on=f.get("recognised_on", ""),
            person_no=f.get("person_no") or None,
            outreach_person_id=outreach_id,
            audit_key=state.audit_key,
            today=_today(request),
        )

    _, error = _attempt(db, run)
    if error is not None:
        return _talents(request, db, user, error.message, f, error.status)
    return RedirectResponse("/outreach/talents?done=1", status_code=303)


# --- introduced talent and family requests ----------------------------------------------------------------


def _introduced(
    request: Request,
    db: SessionDep,
    user: User,
    error: str | None = None,
    v: dict[str, str] | None = None,
    status: int = 422,
) -> Response:
    actor = S.actor_of(user)
    return _page(
        request,
        "introduced.html",
        {
            "rows": S.introduced_talents(db, actor=actor),
            "is_reviewer": actor.role == S.DECIDER_ROLE,
            "me": actor.login,
            "error": error,
            "v": v or {},
            "today": _today(request).isoformat(),
        },
        status if error else 200,
    )


@router.get("/outreach/introduced")
def introduced_page(request: Request, db: SessionDep, user: Staff) -> Response:
    return _introduced(request, db, user)


@router.post("/outreach/introduced")
async def introduced_propose(request: Request, db: SessionDep, state: StateDep, user: Staff) -> Response:
    f = await _form(request)
    _, error = _attempt(
        db,
        lambda: S.propose_talent(
            db,
            actor=S.actor_of(user),
            business_no=f.get("business_no", ""),
            person_no=f.get("person_no", ""),
            position=f.get("position", ""),
            category=f.get("category", ""),
            qualification=f.get("qualification", ""),
            hired_on=f.get("hired_on", ""),
            evidence=f.get("evidence", ""),
            audit_key=state.audit_key,
            today=_today(request),
        ),
    )
    if error is not None:
        return _introduced(request, db, user, error.message, f, error.status)
    return RedirectResponse("/outreach/introduced?done=1", status_code=303)


@router.post("/outreach/introduced/{talent_id}/decision")
async def introduced_decide(
    request: Request, db: SessionDep, state: StateDep, user: Staff, talent_id: int
) -> Response:
    f = await _form(request)
    _, error = _attempt(
        db,
        lambda: S.decide_talent(
            db,
            actor=S.actor_of(user),
            talent_id=talent_id,
            decision=f.get("decision", ""),
            note=f.get("note", ""),
            audit_key=state.audit_key,
            today=_today(request),
        ),
    )
    if error is not None:
        return _introduced(request, db, user, error.message, None, error.status)
    return RedirectResponse("/outreach/introduced?done=1", status_code=303)


@router.get("/outreach/introduced/export.xlsx")
def introduced_export(db: SessionDep, state: StateDep, user: Staff) -> Response:
    """已认定引进人才名单（含姓名，供人才项目申报和职称评审），导出写入审计。"""
    rows = S.programme_export(db, actor=S.actor_of(user), audit_key=state.audit_key)
    return _xlsx(excel.programme_export(rows), "introduced-talent.xlsx")


def _family(
    request: Request,
    db: SessionDep,
    user: User,
    error: str | None = None,
    v: dict[str, str] | None = None,
    status: int = 422,
) -> Response:
    actor = S.actor_of(user)
    today = _today(request)
    return _page(
        request,
        "family.html",
        {
            "rows": S.family_requests(db, actor=actor),
            "talents": S.introduced_talents(db, actor=actor, state="recognised"),
            "today": today,
            "error": error,
            "v": v or {},
        },
        status if error else 200,
    )


@router.get("/outreach/family")
def family_page(request: Request, db: SessionDep, user: Staff) -> Response:
    return _family(request, db, user)


@router.post("/outreach/family")
async def family_create(
    request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: Staff
) -> Response:
    f = await _form(request)

    def run() -> object:
        talent = f.get("talent_id", "")
        if not talent.isdigit():
            raise ValidationFailed("引进人才：请选择")
        return S.create_family_request(
            db,
            actor=S.actor_of(user),
            talent_id=int(talent),
            kind=f.get("kind", ""),
            description=f.get("description", ""),
            owner_department=f.get("owner_department", ""),
            received_on=f.get("received_on", ""),
            params=params,
            audit_key=state.audit_key,
            today=_today(request),
        )

    _, error = _attempt(db, run)
    if error is not None:
        return _family(request, db, user, error.message, f, error.status)
    return RedirectResponse("/outreach/family?done=1", status_code=303)


@router.post("/outreach/family/{request_id}/{action}")
async def family_advance(
    request: Request, db: SessionDep, state: StateDep, user: Staff, request_id: int, action: str
) -> Response:
    f = await _form(request)
    _, error = _attempt(
        db,
        lambda: S.advance_family_request(
            db,
            actor=S.actor_of(user),
            request_id=request_id,
            action=action,
            answer=f.get("answer", ""),
            audit_key=state.audit_key,
            today=_today(request),
        ),
    )
    if error is not None:
        return _family(request, db, user, error.message, None, error.status)
    return RedirectResponse("/outreach/family?done=1", status_code=303)
