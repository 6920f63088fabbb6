"""Pages for support after failure (3.10), places and trades (5.14) and typical entrepreneurs (5.15):
district staff in their district, the city administrator everywhere; the applicant's own consents
(``/me/community``); the public page of published stories (``/stories``). A refused form re-renders the
page with the Chinese reason (``role="alert"``) and writes nothing (savepoint)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from xiangchuang.chinatime import china_date
from xiangchuang.community import places as P
from xiangchuang.community import service as S
from xiangchuang.community import typical as T
from xiangchuang.community.common import visible_districts
from xiangchuang.errors import DomainError, Refusal, ValidationFailed, page_status
from xiangchuang.mentors import draw as mentor_draw
from xiangchuang.mentors import service as mentors
from xiangchuang.models import User
from xiangchuang.users.service import UserScope
from xiangchuang.web import nav
from xiangchuang.web.deps import DistrictScope, ParamsDep, SessionDep, StateDep, require_role
from xiangchuang.web.render import render
from xiangchuang.web.workbench import clock

router = APIRouter(include_in_schema=False)

Staff = Annotated[User, Depends(require_role("window_clerk", "district_reviewer", "city_admin"))]
Applicant = Annotated[User, Depends(require_role("applicant"))]

nav.add("/community/closures", "创业失败帮扶", ("window_clerk", "district_reviewer", "city_admin"), 50)
nav.add("/community/places", "一村一品", ("window_clerk", "district_reviewer", "city_admin"), 51)
nav.add("/community/nominations", "创业典型", ("window_clerk", "district_reviewer", "city_admin"), 52)
nav.add("/me/community", "帮扶与宣传", ("applicant",), 42)


def _today(request: Request) -> dt.date:
    return china_date(clock(request))


def _date(value: str | None, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationFailed(f"{field}：请填写日期（如 2025-03-01）") from None


def _opt_date(value: str | None, field: str) -> dt.date | None:
    return _date(value, field) if (value or "").strip() else None


def _int(value: str | None, field: str) -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        raise ValidationFailed(f"{field}：请填写整数") from None


def _attempt(db: Session, action: Callable[[], Any]) -> Refusal | None:
    """Run a change in a savepoint: None when done, else the Chinese reason (nothing written) with the
    status to answer (403 / 404 for a record out of scope)."""
    try:
        with db.begin_nested():
            action()
    except DomainError as exc:
        return Refusal(exc)
    return None


# ---- 3.10 after failure ------------------------------------------------------------------------------


def _closures_page(
    request: Request, db: Session, scope: UserScope, params: Any, error: str | None = None, status: int = 200
) -> Response:
    day = _today(request)
    month = S.previous_month(day)
    return render(
        request,
        "community/closures.html",
        {
            "pending": S.closed_without_offer(db, scope=scope, today=day, params=params),
            "cases": S.list_cases(db, scope=scope, today=day),
            "injury": S.injury_participation(db, month=month, district=visible_districts(scope)),
            "uninsured": S.uninsured_employers(db, scope=scope, month=month),
            "month": month,
            "error": error,
        },
        status=status,
    )


@router.get("/community/closures")
def closures(
    request: Request, db: SessionDep, scope: DistrictScope, user: Staff, params: ParamsDep
) -> Response:
    return _closures_page(request, db, scope, params)


@router.post("/community/closures")
def closure_offer(
    request: Request,
    db: SessionDep,
    state: StateDep,
    scope: DistrictScope,
    user: Staff,
    params: ParamsDep,
    business_no: Annotated[str, Form(max_length=40)],
) -> Response:
    holder: dict[str, str] = {}

    def act() -> None:
        holder["no"] = S.offer(
            db, scope=scope, audit_key=state.audit_key, business_no=business_no, today=_today(request)
        ).case_no

    error = _attempt(db, act)
    if error:
        return _closures_page(request, db, scope, params, error, page_status(error))
    return RedirectResponse(f"/community/closures/{holder['no']}", status_code=303)


def _case_page(
    request: Request, db: Session, scope: UserScope, case_no: str, error: str | None = None, status: int = 200
) -> Response:
    return render(
        request,
        "community/case.html",
        {
            "c": S.case_view(db, scope=scope, case_no=case_no, today=_today(request)),
            "kinds": S.KIND_LABELS,
            "outcomes": S.OUTCOMES,
            "today": _today(request).isoformat(),
            "error": error,
        },
        status=status,
    )


@router.get("/community/closures/{case_no}")
def closure_case(
    case_no: str, request: Request, db: SessionDep, scope: DistrictScope, user: Staff
) -> Response:
    return _case_page(request, db, scope, case_no)


@router.post("/community/closures/{case_no}/{action}")
async def closure_action(
    case_no: str,
    action: str,
    request: Request,
    db: SessionDep,
    state: StateDep,
    scope: DistrictScope,
    user: Staff,
    params: ParamsDep,
) -> Response:
    form = await request.form()
    f = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    day = _today(request)
    key = state.audit_key

    def act() -> None:
        if action == "consent":
            kinds = [str(v) for v in form.getlist("kinds")]
            S.record_consent(
                db, scope=scope, audit_key=key, case_no=case_no, kinds=kinds,
                consent_on=_date(f.get("consent_on"), "同意日期"), today=day,
            )  # fmt: skip
        elif action == "decline":
            S.decline(
                db, scope=scope, audit_key=key, case_no=case_no, on=_date(f.get("on"), "日期"), today=day
            )
        elif action == "refer":
            S.refer(
                db, scope=scope, audit_key=key, case_no=case_no, kind=f.get("kind", ""),
                agency=f.get("agency", ""), owner=f.get("owner", ""),
                referred_on=_date(f.get("referred_on"), "转介日期"),
                next_followup_on=_opt_date(f.get("next_followup_on"), "下次回访日期"), today=day, params=params,
            )  # fmt: skip
        elif action == "followup":
            S.follow_up(
                db, scope=scope, audit_key=key, referral_no=f.get("referral_no", ""),
                on=_date(f.get("on"), "回访日期"), note=f.get("note", ""),
                next_followup_on=_opt_date(f.get("next_followup_on"), "下次回访日期"), today=day, params=params,
            )  # fmt: skip
        elif action == "outcome":
            S.record_outcome(
                db, scope=scope, audit_key=key, referral_no=f.get("referral_no", ""),
                outcome=f.get("outcome", ""), on=_date(f.get("on"), "结果日期"), note=f.get("note"), today=day,
            )  # fmt: skip
        else:
            raise ValidationFailed(f"未知操作 {action}")

    error = _attempt(db, act)
    if error:
        return _case_page(request, db, scope, case_no, error, page_status(error))
    return RedirectResponse(f"/community/closures/{case_no}", status_code=303)


# ---- 5.14 places and trades ----------------------------------------------------------------------------


def _places_page(
    request: Request, db: Session, scope: UserScope, error: str | None = None, status: int = 200
) -> Response:
    return render(
        request,
        "community/places.html",
        {
            "places": P.places(db, scope=scope),
            "projects": P.projects(db, scope=scope),
            "report": P.tag_report(db, scope=scope),
            "columns": P.REPORT_COLUMNS,
            "tag_kinds": P.TAG_KINDS,
            "place_kinds": P.PLACE_KINDS,
            "levels": P.LEVELS,
            "project_kinds": P.PROJECT_KINDS,
            "district": scope.district or "",
            "can_manage": scope.role in ("district_reviewer", "city_admin"),
            "today": _today(request).isoformat(),
            "error": error,
        },
        status=status,
    )


@router.get("/community/places")
def places_page(request: Request, db: SessionDep, scope: DistrictScope, user: Staff) -> Response:
    return _places_page(request, db, scope)


@router.get("/community/tag-report.xlsx")
def tag_report_xlsx(request: Request, db: SessionDep, scope: DistrictScope, user: Staff) -> Response:
    day = _today(request)
    return Response(
        P.tag_report_xlsx(db, scope=scope, today=day),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="tag-report-{day.isoformat()}.xlsx"'},
    )


@router.post("/community/places/{action}")
async def places_action(
    action: str, request: Request, db: SessionDep, state: StateDep, scope: DistrictScope, user: Staff
) -> Response:
    form = await request.form()
    f = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
    day = _today(request)
    key = state.audit_key

    def act() -> None:
        if action == "business-tag":
            P.tag_business(
                db, scope=scope, audit_key=key, business_no=f.get("business_no", ""),
                tag_kind=f.get("tag_kind", ""), tag=f.get("tag", ""),
            )  # fmt: skip
        elif action == "place":
            P.add_place(
                db, scope=scope, audit_key=key, place_code=f.get("place_code", ""), name=f.get("name", ""),
                kind=f.get("kind", ""), district=_int(f.get("district"), "区县代码"),
                town_code=f.get("town_code") or None,
            )  # fmt: skip
        elif action == "place-tag":
            P.tag_place(
                db, scope=scope, audit_key=key, place_code=f.get("place_code", ""),
                tag_kind=f.get("tag_kind", ""), tag=f.get("tag", ""),
            )  # fmt: skip
        elif action == "designation":
            P.designate(
                db, scope=scope, audit_key=key, place_code=f.get("place_code", ""), title=f.get("title", ""),
                level=f.get("level", ""), designated_on=_date(f.get("designated_on"), "认定日期"), today=day,
                reference=f.get("reference") or None, tag=f.get("tag") or None,
            )  # fmt: skip
        elif action == "project":
            P.add_project(
                db, scope=scope, audit_key=key, project_no=f.get("project_no", ""), kind=f.get("kind", ""),
                title=f.get("title", ""), district=_int(f.get("district"), "区县代码"),
                start_on=_date(f.get("start_on"), "开始日期"), end_on=_opt_date(f.get("end_on"), "结束日期"),
                place_code=f.get("place_code") or None, operator=f.get("operator") or None,
            )  # fmt: skip
        elif action == "reach":
            P.reach(
                db, scope=scope, audit_key=key, project_no=f.get("project_no", ""),
                business_no=f.get("business_no", ""), reached_on=_date(f.get("reached_on"), "服务日期"),
                today=day, service=f.get("service") or None,
            )  # fmt: skip
        else:
            raise ValidationFailed(f"未知操作 {action}")

    error = _attempt(db, act)
    if error:
        return _places_page(request, db, scope, error, page_status(error))
    return RedirectResponse("/community/places", status_code=303)


# ---- 5.15 typical entrepreneurs ----------------------------------------------------------------------


def _nominations_page(
    request: Request, db: Session, scope: UserScope, error: str | None = None, status: int = 200
) -> Response:
    rows = T.list_nominations(db, scope=scope)
    return render(
        request,
        "community/nominations.html",
        {
            "rows": rows,
            "waiting": [r for r in rows if r["state"] == "nominated"],
            "categories": T.CATEGORIES,
            "specialties": mentor_draw.SPECIALTY_ZH,
            "year": _today(request).year,
            "tomorrow": (_today(request) + dt.timedelta(days=1)).isoformat(),
            "is_city": scope.role == "city_admin",
            "error": error,
        },
        status=status,
    )


@router.get("/community/nominations")
def nominations_page(request: Request, db: SessionDep, scope: DistrictScope, user: Staff) -> Response:
    return _nominations_page(request, db, scope)


@router.post("/community/nominations")
def nominate(
    request: Request,
    db: SessionDep,
    state: StateDep,
    scope: DistrictScope,
    user: Staff,
    person_no: Annotated[str, Form(max_length=40)] = "",
    business_no: Annotated[str, Form(max_length=40)] = "",
    category: Annotated[str, Form(max_length=30)] = "",
    year: Annotated[str, Form(max_length=6)] = "",
    headline: Annotated[str, Form(max_length=300)] = "",
    story: Annotated[str, Form(max_length=6000)] = "",
) -> Response:
    holder: dict[str, str] = {}

    def act() -> None:
        holder["no"] = T.nominate(
            db, scope=scope, audit_key=state.audit_key, person_no=person_no.strip(),
            business_no=business_no.strip() or None, category=category, year=_int(year, "年度"),
            headline=headline, story=story, today=_today(request),
        ).nomination_no  # fmt: skip

    error = _attempt(db, act)
    if error:
        return _nominations_page(request, db, scope, error, page_status(error))
    return RedirectResponse(f"/community/nominations/{holder['no']}", status_code=303)


@router.post("/community/reviews")
async def open_review(
    request: Request, db: SessionDep, state: StateDep, scope: DistrictScope, user: Staff, params: ParamsDep
) -> Response:
    form = await request.form()
    f = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
    nos = [str(v) for v in form.getlist("nomination_nos")]

    def act() -> None:
        event_date = _date(f.get("event_date"), "评审日期")
        unseal = dt.datetime.combine(event_date, dt.time(8, 0), tzinfo=dt.timezone(dt.timedelta(hours=8)))
        T.open_review(
            db, scope=scope, audit_key=state.audit_key, keys=mentors.Keys(state.cipher, state.audit_key),
            event_no=f.get("event_no", ""), title=f.get("title", "") or "创业典型评审", nomination_nos=nos,
            event_date=event_date, unseal_at=unseal,
            quotas=[(f.get("specialty", ""), f.get("level", ""), _int(f.get("count"), "评审专家人数"))],
            backups=_int(f.get("backups") or "0", "备选人数"), organiser_user=user.login,
            supervisor_user=f.get("supervisor_user", ""), params=params,
        )  # fmt: skip

    error = _attempt(db, act)
    if error:
        return _nominations_page(request, db, scope, error, page_status(error))
    return RedirectResponse("/community/nominations", status_code=303)


def _nomination_page(
    request: Request, db: Session, scope: UserScope, no: str, error: str | None = None, status: int = 200
) -> Response:
    return render(
        request,
        "community/nomination.html",
        {
            "n": T.nomination_view(db, scope=scope, nomination_no=no),
            "levels": T.LEVELS,
            "can_act": scope.role in ("district_reviewer", "city_admin"),
            "is_city": scope.role == "city_admin",
            "today": _today(request).isoformat(),
            "error": error,
        },
        status=status,
    )


@router.get("/community/nominations/{no}")
def nomination_page(no: str, request: Request, db: SessionDep, scope: DistrictScope, user: Staff) -> Response:
    return _nomination_page(request, db, scope, no)


@router.post("/community/nominations/{no}/{action}")
async def nomination_action(
    no: str,
    action: str,
    request: Request,
    db: SessionDep,
    state: StateDep,
    scope: DistrictScope,
    user: Staff,
    params: ParamsDep,
) -> Response:
    form = await request.form()
    f = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
    day = _today(request)

    def act() -> None:
        if action == "publish":
            T.publish(db, scope=scope, audit_key=state.audit_key, nomination_no=no, today=day)
        elif action == "commend":
            T.commend(
                db, scope=scope, audit_key=state.audit_key, nomination_no=no, title=f.get("title", ""),
                level=f.get("level", ""), awarded_on=_date(f.get("awarded_on"), "表彰日期"), today=day,
                reference=f.get("reference") or None,
            )  # fmt: skip
        elif action == "results":
            n = T.nomination_view(db, scope=scope, nomination_no=no)
            T.collect_results(
                db, scope=scope, audit_key=state.audit_key, event_no=n["event_no"] or "", params=params
            )
        else:
            raise ValidationFailed(f"未知操作 {action}")

    error = _attempt(db, act)
    if error:
        return _nomination_page(request, db, scope, no, error, page_status(error))
    return RedirectResponse(f"/community/nominations/{no}", status_code=303)


# ---- the applicant's consents, the public stories ---------------------------------------------------------


def _mine_page(
    request: Request, db: Session, scope: UserScope, error: str | None = None, status: int = 200
) -> Response:
    day = _today(request)
    return render(
        request,
        "community/mine.html",
        {
            "cases": S.list_cases(db, scope=scope, today=day),
            "nominations": T.list_nominations(db, scope=scope),
            "kinds": S.KIND_LABELS,
            "today": day.isoformat(),
            "error": error,
        },
        status=status,
    )


@router.get("/me/community")
def mine(request: Request, db: SessionDep, scope: DistrictScope, user: Applicant) -> Response:
    return _mine_page(request, db, scope)


@router.post("/me/community/{action}")
async def mine_action(
    action: str, request: Request, db: SessionDep, state: StateDep, scope: DistrictScope, user: Applicant
) -> Response:
    form = await request.form()
    f = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
    day = _today(request)
    key = state.audit_key

    def act() -> None:
        if action == "consent":
            S.record_consent(
                db, scope=scope, audit_key=key, case_no=f.get("case_no", ""),
                kinds=[str(v) for v in form.getlist("kinds")], consent_on=day, today=day,
            )  # fmt: skip
        elif action == "decline":
            S.decline(db, scope=scope, audit_key=key, case_no=f.get("case_no", ""), on=day, today=day)
        elif action == "withdraw":
            S.withdraw_consent(
                db, scope=scope, audit_key=key, case_no=f.get("case_no", ""), on=day, today=day
            )
        elif action == "publish-consent":
            T.give_consent(
                db, scope=scope, audit_key=key, cipher=state.cipher, nomination_no=f.get("nomination_no", ""),
                publish_name=f.get("publish_name", ""), today=day,
            )  # fmt: skip
        elif action == "publish-withdraw":
            T.withdraw_consent(
                db, scope=scope, audit_key=key, nomination_no=f.get("nomination_no", ""), today=day
            )
        else:
            raise ValidationFailed(f"未知操作 {action}")

    error = _attempt(db, act)
    if error:
        return _mine_page(request, db, scope, error, page_status(error))
    return RedirectResponse("/me/community", status_code=303)


@router.get("/stories")
def stories(request: Request, db: SessionDep, state: StateDep) -> Response:
    return render(
        request, "community/stories.html", {"stories": T.published_stories(db, cipher=state.cipher)}
    )
