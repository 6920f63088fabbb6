"""用工需求与岗位匹配 pages (clause 4.11).

- ``/jobs``: the public job board (anyone, phone-friendly): published posts searchable by district,
  town, trade, wage and words; ``/jobs/posts/{no}`` a post's details.
- ``/jobs/my-posts``: a business's posts, report a need, its applicants, recommended seekers, hires.
- ``/jobs/staff/queue``: district staff verify and publish reported posts (their district; the city
  office reads every district); ``/jobs/staff/report``: a window clerk reports for a business.
- ``/jobs/seeker``: a job seeker's registration, their recommended posts with reasons, applications.
- ``/jobs/staff/seekers``: staff list and register seekers of their district, see a seeker's matches.
- ``/jobs/trainings``: on-job trainings (岗位培训) and their subsidy applications.

Bad form input re-renders the form with the Chinese error (role="alert"); nothing is half-written
(each form's service call runs in a savepoint).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from xiangchuang.engine.districts import load_districts
from xiangchuang.errors import DomainError, NotFound
from xiangchuang.ids.masking import mask_name
from xiangchuang.jobs import repository as repo
from xiangchuang.jobs import service
from xiangchuang.jobs.catalogue import (
    APPLICATION_STATE_LABELS,
    CONTRACT_KINDS,
    COURSE_LEVELS,
    POST_STATE_LABELS,
    PROVIDER_KINDS,
    SEEKER_CATEGORIES,
    SKILLS,
    SKILLS_BY_TRADE,
    TRADES,
    skills_text,
)
from xiangchuang.models import Business, Person, User
from xiangchuang.web import nav
from xiangchuang.web import workbench as wb
from xiangchuang.web.api_jobs import actor_of, district_name, public_post
from xiangchuang.web.deps import ParamsDep, SessionDep, StateDep, require_role
from xiangchuang.web.render import render

router = APIRouter(include_in_schema=False)
Applicant = Annotated[User, Depends(require_role("applicant"))]
Clerk = Annotated[User, Depends(require_role("window_clerk"))]
Staff = Annotated[User, Depends(require_role("window_clerk", "district_reviewer"))]
StaffReader = Annotated[User, Depends(require_role("window_clerk", "district_reviewer", "city_admin"))]
PostWorker = Annotated[
    User, Depends(require_role("applicant", "window_clerk", "district_reviewer", "city_admin"))
]
Trainer = Annotated[User, Depends(require_role("applicant", "window_clerk"))]

nav.add("/jobs/my-posts", "用工需求", ("applicant",), 50)
nav.add("/jobs/seeker", "求职登记", ("applicant",), 51)
nav.add("/jobs/staff/queue", "用工需求核实", ("window_clerk", "district_reviewer", "city_admin"), 50)
nav.add("/jobs/staff/seekers", "求职人员", ("window_clerk", "district_reviewer", "city_admin"), 51)
nav.add("/jobs/trainings", "岗位培训补贴", ("applicant", "window_clerk"), 52)

DISTRICTS = [(d.code, d.name) for d in load_districts()]


def _catalogue() -> dict[str, Any]:
    return {
        "trades": TRADES,
        "skills": SKILLS,
        "skills_by_trade": SKILLS_BY_TRADE,
        "contracts": CONTRACT_KINDS,
        "districts": DISTRICTS,
        "categories": SEEKER_CATEGORIES,
        "post_states": POST_STATE_LABELS,
        "app_states": APPLICATION_STATE_LABELS,
        "levels": COURSE_LEVELS,
        "providers": PROVIDER_KINDS,
        "skills_text": skills_text,
        "district_name": district_name,
    }


def _page(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> Response:
    return render(request, name, {**_catalogue(), **ctx}, status=status)


def _form_dict(form: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        values = form.getlist(key)
        out[key] = values if key in ("skills", "trades") else (values[-1] if values else "")
    return out


# ---- public board -------------------------------------------------------------------------------


@router.get("/jobs")
def board(
    request: Request,
    db: SessionDep,
    district: str = "",
    town: str = "",
    trade: str = "",
    min_wage: str = "",
    q: str = "",
    page: str = "1",
) -> Response:
    error = None
    f = repo.BoardFilter()
    try:
        code = int(district) if district.strip() else None
        wage = int(min_wage) * 100 if min_wage.strip() else None
        number = max(1, min(int(page or "1"), 1000))
        f = repo.BoardFilter(
            district=code,
            town=town.strip()[:40] or None,
            trade=trade if trade in TRADES else None,
            min_wage_fen=wage,
            text=q.strip()[:40] or None,
        )
    except ValueError:
        error = "筛选条件：区县、工资和页码须为数字"
        number = 1
    rows, total = repo.board(db, f, page=number)
    posts = [public_post(p, n) for p, n in rows]
    return _page(
        request,
        "jobs/board.html",
        {
            "posts": posts,
            "total": total,
            "page": number,
            "pages": max(1, -(-total // repo.PAGE)),
            "v": {"district": district, "town": town, "trade": trade, "min_wage": min_wage, "q": q},
            "error": error,
        },
    )


@router.get("/jobs/posts/{post_no}")
def post_page(post_no: str, request: Request, db: SessionDep) -> Response:
    post = service.get_post(db, actor=None, post_no=post_no)
    business = db.get(Business, post.business_id)
    return _page(request, "jobs/post.html", {"p": public_post(post, business.name if business else "")})


# ---- business: my posts ---------------------------------------------------------------------------


@router.get("/jobs/my-posts")
def my_posts(request: Request, db: SessionDep, user: Applicant) -> Response:
    posts = repo.business_posts(db, user.business_id) if user.business_id else []
    return _page(request, "jobs/my_posts.html", {"posts": posts, "linked": user.business_id is not None})


def _report_form(
    request: Request, v: dict[str, Any], error: str | None, action: str, clerk: bool, status: int = 200
) -> Response:
    return _page(
        request, "jobs/report.html", {"v": v, "error": error, "action": action, "clerk": clerk}, status=status
    )


def _post_input(v: dict[str, Any]) -> service.PostInput:
    return service.PostInput(
        title=v.get("title", ""),
        trade=v.get("trade", ""),
        skills=v.get("skills", []),
        positions=v.get("positions", ""),
        wage_min_yuan=v.get("wage_min", ""),
        wage_max_yuan=v.get("wage_max", ""),
        town=v.get("town", ""),
        start_date=v.get("start_date", ""),
        contract_kind=v.get("contract_kind", ""),
        contract_months=v.get("contract_months") or None,
        terms=v.get("terms") or None,
        district=v.get("district") or None,
    )


@router.get("/jobs/my-posts/new")
def report_form(request: Request, user: Applicant) -> Response:
    return _report_form(request, {"skills": []}, None, "/jobs/my-posts/new", False)


async def _report(request: Request, db: Session, state: Any, user: User, action: str) -> Response:
    """Report a need from the form (the business, or a clerk naming the business); re-render on error."""
    v = _form_dict(await request.form())
    clerk = user.role == "window_clerk"
    try:
        with db.begin_nested():
            post = service.report_post(
                db,
                actor=actor_of(user),
                data=_post_input(v),
                business_no=v.get("business_no") if clerk else None,
                audit_key=state.audit_key,
                now=wb.clock(request),
            )
    except DomainError as exc:
        return _report_form(request, v, exc.message, action, clerk, status=exc.status)
    return RedirectResponse(f"/jobs/manage/{post.post_no}", status_code=303)


@router.post("/jobs/my-posts/new")
async def report_submit(request: Request, db: SessionDep, state: StateDep, user: Applicant) -> Response:
    return await _report(request, db, state, user, "/jobs/my-posts/new")


@router.get("/jobs/staff/report")
def clerk_report_form(request: Request, user: Clerk) -> Response:
    return _report_form(request, {"skills": []}, None, "/jobs/staff/report", True)


@router.post("/jobs/staff/report")
async def clerk_report_submit(request: Request, db: SessionDep, state: StateDep, user: Clerk) -> Response:
    return await _report(request, db, state, user, "/jobs/staff/report")


def _manage_page(
    request: Request, db: Session, params: Any, user: User, post_no: str, error: str | None, status: int = 200
) -> Response:
    actor = actor_of(user)
    post = service.get_post(db, actor=actor, post_no=post_no)
    service.check_post_reader(actor, post)
    business = db.get(Business, post.business_id)
    applications = [
        {"app": a, "seeker": s, "name": mask_name(p.name)}
        for a, s, p in repo.applications_of_post(db, post.id)
    ]
    matches: list[Any] = []
    if post.state == "published":
        for m in service.matches_for_post(
            db, actor=actor, post_no=post.post_no, params=params, on=wb.china_day(wb.clock(request))
        ):
            assert m.seeker is not None and m.person is not None
            matches.append({"m": m, "seeker": m.seeker, "name": mask_name(m.person.name)})
    talents = (
        service.talent_for_post(db, actor=actor, post_no=post.post_no) if post.state == "published" else []
    )
    return _page(
        request,
        "jobs/manage.html",
        {
            "post": post,
            "p": public_post(post, business.name if business else ""),
            "applications": applications,
            "matches": matches,
            "talents": talents,
            "error": error,
            "can_act": user.role != "city_admin",
            "today": wb.china_day(wb.clock(request)).isoformat(),
        },
        status=status,
    )


@router.get("/jobs/manage/{post_no}")
def manage(post_no: str, request: Request, db: SessionDep, params: ParamsDep, user: PostWorker) -> Response:
    return _manage_page(request, db, params, user, post_no, None)


@router.post("/jobs/manage/{post_no}/hire")
async def manage_hire(
    post_no: str, request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: PostWorker
) -> Response:
    v = _form_dict(await request.form())
    try:
        with db.begin_nested():
            app_id = int(v.get("application_id") or 0)
            action = v.get("action", "hire")
            if action == "decline":
                service.decline(
                    db,
                    actor=actor_of(user),
                    application_id=app_id,
                    audit_key=state.audit_key,
                    now=wb.clock(request),
                )
            else:
                service.hire(
                    db,
                    actor=actor_of(user),
                    application_id=app_id,
                    hire_date=v.get("hire_date"),
                    contract_start=v.get("contract_start") or None,
                    contract_end=v.get("contract_end") or None,
                    audit_key=state.audit_key,
                    now=wb.clock(request),
                )
    except (DomainError, ValueError) as exc:
        message = exc.message if isinstance(exc, DomainError) else "应聘记录编号不正确"
        status = exc.status if isinstance(exc, DomainError) else 422
        return _manage_page(request, db, params, user, post_no, message, status)
    return RedirectResponse(f"/jobs/manage/{post_no}", status_code=303)


@router.post("/jobs/manage/{post_no}/close")
def manage_close(
    post_no: str, request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: PostWorker
) -> Response:
    try:
        with db.begin_nested():
            service.close_post(
                db, actor=actor_of(user), post_no=post_no, audit_key=state.audit_key, now=wb.clock(request)
            )
    except DomainError as exc:
        return _manage_page(request, db, params, user, post_no, exc.message, exc.status)
    return RedirectResponse(f"/jobs/manage/{post_no}", status_code=303)


# ---- staff: verify queue ---------------------------------------------------------------------------


def _queue_page(request: Request, db: Session, user: User, error: str | None, status: int = 200) -> Response:
    district = None if user.role == "city_admin" else user.district
    return _page(
        request,
        "jobs/queue.html",
        {
            "reported": repo.queue(db, district, "reported"),
            "published": repo.queue(db, district, "published"),
            "can_verify": user.role in service.STAFF,
            "error": error,
        },
        status=status,
    )


@router.get("/jobs/staff/queue")
def staff_queue(request: Request, db: SessionDep, user: StaffReader) -> Response:
    return _queue_page(request, db, user, None)


@router.post("/jobs/staff/queue/{post_no}")
async def staff_verify(
    post_no: str, request: Request, db: SessionDep, state: StateDep, user: Staff
) -> Response:
    v = _form_dict(await request.form())
    try:
        with db.begin_nested():
            service.verify_post(
                db,
                actor=actor_of(user),
                post_no=post_no,
                decision=v.get("decision", ""),
                reason=v.get("reason") or None,
                expected_version=int(v["version"]) if str(v.get("version", "")).isdigit() else None,
                audit_key=state.audit_key,
                now=wb.clock(request),
            )
    except DomainError as exc:
        return _queue_page(request, db, user, exc.message, exc.status)
    return RedirectResponse("/jobs/staff/queue", status_code=303)


# ---- seekers ---------------------------------------------------------------------------------------


def _seeker_input(v: dict[str, Any]) -> service.SeekerInput:
    return service.SeekerInput(
        category=v.get("category", ""),
        district=v.get("district", ""),
        town=v.get("town", ""),
        skills=v.get("skills", []),
        trades=v.get("trades", []),
        wage_expected_yuan=v.get("wage_expected") or 0,
        available_from=v.get("available_from") or None,
        phone=v.get("phone") or None,
    )


def _my_seeker_page(
    request: Request,
    db: Session,
    params: Any,
    user: User,
    error: str | None,
    v: dict[str, Any] | None,
    status: int = 200,
) -> Response:
    seeker = repo.seeker_of_person(db, user.person_id) if user.person_id else None
    matches: list[Any] = []
    applications: list[Any] = []
    if seeker is not None:
        if seeker.state == "active":
            matches = service.matches_for_seeker(
                db,
                actor=actor_of(user),
                seeker_no=seeker.seeker_no,
                params=params,
                on=wb.china_day(wb.clock(request)),
            )
        applications = repo.applications_of_seeker(db, seeker.id)
    if v is None:
        v = (
            {
                "category": seeker.category,
                "district": str(seeker.district),
                "town": seeker.town,
                "skills": seeker.skills.split(","),
                "trades": seeker.trades.split(","),
                "wage_expected": str(seeker.wage_expected_fen // 100),
                "available_from": seeker.available_from.isoformat() if seeker.available_from else "",
            }
            if seeker
            else {"skills": [], "trades": []}
        )
    return _page(
        request,
        "jobs/seeker.html",
        {
            "seeker": seeker,
            "linked": user.person_id is not None,
            "matches": [{"m": m, "p": public_post(m.post, m.business_name or "")} for m in matches if m.post],
            "applications": applications,
            "v": v,
            "error": error,
        },
        status=status,
    )


@router.get("/jobs/seeker")
def my_seeker(request: Request, db: SessionDep, params: ParamsDep, user: Applicant) -> Response:
    return _my_seeker_page(request, db, params, user, None, None)


@router.post("/jobs/seeker")
async def my_seeker_save(
    request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: Applicant
) -> Response:
    v = _form_dict(await request.form())
    try:
        with db.begin_nested():
            service.register_seeker(
                db,
                actor=actor_of(user),
                data=_seeker_input(v),
                pii=wb.pii(state),
                audit_key=state.audit_key,
                now=wb.clock(request),
            )
    except DomainError as exc:
        return _my_seeker_page(request, db, params, user, exc.message, v, exc.status)
    return RedirectResponse("/jobs/seeker", status_code=303)


@router.post("/jobs/seeker/apply")
async def my_apply(
    request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: Applicant
) -> Response:
    v = _form_dict(await request.form())
    seeker = repo.seeker_of_person(db, user.person_id) if user.person_id else None
    try:
        if seeker is None:
            raise NotFound("请先办理求职登记")
        with db.begin_nested():
            service.apply(
                db,
                actor=actor_of(user),
                seeker_no=seeker.seeker_no,
                post_no=v.get("post_no", ""),
                params=params,
                audit_key=state.audit_key,
                now=wb.clock(request),
            )
    except DomainError as exc:
        return _my_seeker_page(request, db, params, user, exc.message, None, exc.status)
    return RedirectResponse("/jobs/seeker", status_code=303)


def _seekers_page(
    request: Request, db: Session, user: User, error: str | None, v: dict[str, Any], status: int = 200
) -> Response:
    district = None if user.role == "city_admin" else user.district
    rows = [{"s": s, "name": mask_name(p.name)} for s, p in repo.seekers_in(db, district)]
    return _page(
        request,
        "jobs/seekers.html",
        {"rows": rows, "can_register": user.role == "window_clerk", "v": v, "error": error},
        status=status,
    )


@router.get("/jobs/staff/seekers")
def staff_seekers(request: Request, db: SessionDep, user: StaffReader) -> Response:
    return _seekers_page(
        request, db, user, None, {"skills": [], "trades": [], "district": str(user.district or "")}
    )


@router.post("/jobs/staff/seekers")
async def staff_register(request: Request, db: SessionDep, state: StateDep, user: Clerk) -> Response:
    v = _form_dict(await request.form())
    try:
        with db.begin_nested():
            seeker = service.register_seeker(
                db,
                actor=actor_of(user),
                data=_seeker_input(v),
                person_no=v.get("person_no") or None,
                id_number=v.get("id_number") or None,
                pii=wb.pii(state),
                audit_key=state.audit_key,
                now=wb.clock(request),
            )
    except DomainError as exc:
        v.pop("id_number", None)  # never echo an ID number back into the page
        return _seekers_page(request, db, user, exc.message, v, exc.status)
    return RedirectResponse(f"/jobs/staff/seekers/{seeker.seeker_no}", status_code=303)


def _seeker_matches_page(
    request: Request,
    db: Session,
    params: Any,
    user: User,
    seeker_no: str,
    error: str | None,
    status: int = 200,
) -> Response:
    actor = actor_of(user)
    seeker = service.get_seeker(db, actor=actor, seeker_no=seeker_no)
    person = db.get(Person, seeker.person_id)
    matches = (
        service.matches_for_seeker(
            db, actor=actor, seeker_no=seeker_no, params=params, on=wb.china_day(wb.clock(request))
        )
        if seeker.state == "active"
        else []
    )
    return _page(
        request,
        "jobs/seeker_matches.html",
        {
            "seeker": seeker,
            "name": mask_name(person.name) if person else "",
            "matches": [{"m": m, "p": public_post(m.post, m.business_name or "")} for m in matches if m.post],
            "applications": repo.applications_of_seeker(db, seeker.id),
            "can_apply": user.role == "window_clerk",
            "error": error,
        },
        status=status,
    )


@router.get("/jobs/staff/seekers/{seeker_no}")
def staff_seeker(
    seeker_no: str, request: Request, db: SessionDep, params: ParamsDep, user: StaffReader
) -> Response:
    return _seeker_matches_page(request, db, params, user, seeker_no, None)


@router.post("/jobs/staff/seekers/{seeker_no}/apply")
async def staff_apply(
    seeker_no: str, request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: Clerk
) -> Response:
    v = _form_dict(await request.form())
    try:
        with db.begin_nested():
            service.apply(
                db,
                actor=actor_of(user),
                seeker_no=seeker_no,
                post_no=v.get("post_no", ""),
                params=params,
                audit_key=state.audit_key,
                now=wb.clock(request),
            )
    except DomainError as exc:
        return _seeker_matches_page(request, db, params, user, seeker_no, exc.message, exc.status)
    return RedirectResponse(f"/jobs/staff/seekers/{seeker_no}", status_code=303)


# ---- on-job trainings --------------------------------------------------------------------------------


def _trainings_page(
    request: Request, db: Session, user: User, error: str | None, v: dict[str, Any], status: int = 200
) -> Response:
    if user.role == "applicant":
        rows = (
            repo.onjob_trainings(db, business_id=user.business_id, person_id=user.person_id)
            if (user.business_id or user.person_id)
            else []
        )
    else:
        rows = repo.onjob_trainings(db, district=user.district)
    return _page(
        request,
        "jobs/trainings.html",
        {"rows": rows, "clerk": user.role == "window_clerk", "v": v, "error": error},
        status=status,
    )


@router.get("/jobs/trainings")
def trainings(request: Request, db: SessionDep, user: Trainer) -> Response:
    return _trainings_page(request, db, user, None, {"provider_kind": "business"})


@router.post("/jobs/trainings")
async def trainings_record(request: Request, db: SessionDep, state: StateDep, user: Trainer) -> Response:
    v = _form_dict(await request.form())
    skilled = {"yes": True, "no": False}.get(str(v.get("skilled_post", "")))
    returning = {"yes": True, "no": False}.get(str(v.get("founded_by_returning", "")))
    try:
        with db.begin_nested():
            service.record_training(
                db,
                actor=actor_of(user),
                data=service.TrainingInput(
                    provider_kind=v.get("provider_kind", ""),
                    course=v.get("course", ""),
                    course_level=v.get("course_level", ""),
                    trainees=v.get("trainees", ""),
                    start_date=v.get("start_date") or None,
                    completion_date=v.get("completion_date") or None,
                    skilled_post=skilled,
                    provider_name=v.get("provider_name") or None,
                    founded_by_returning=returning,
                    district=v.get("district") or None,
                ),
                business_no=v.get("business_no") or None,
                person_no=v.get("person_no") or None,
                audit_key=state.audit_key,
                now=wb.clock(request),
            )
    except DomainError as exc:
        return _trainings_page(request, db, user, exc.message, v, exc.status)
    return RedirectResponse("/jobs/trainings", status_code=303)


@router.post("/jobs/trainings/{training_no}/apply")
def trainings_apply(
    training_no: str, request: Request, db: SessionDep, state: StateDep, user: Trainer
) -> Response:
    try:
        with db.begin_nested():
            applicant = wb.applicant_actor(db, user) if user.role == "applicant" else None
            app = service.apply_training_subsidy(
                db,
                actor=actor_of(user),
                applicant_actor=applicant,
                training_no=training_no,
                audit_key=state.audit_key,
                now=wb.clock(request),
            )
    except DomainError as exc:
        return _trainings_page(request, db, user, exc.message, {"provider_kind": "business"}, exc.status)
    where = "/my/applications" if user.role == "applicant" else "/staff/applications"
    return RedirectResponse(f"{where}/{app.id}/materials", status_code=303)
