"""联系方式: an applicant changes their phone or bank account after typing their password again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from xiangchuang.models import User
from xiangchuang.registry.pii import Pii
from xiangchuang.users import contact
from xiangchuang.web.deps import SessionDep, StateDep, now_utc, require_role
from xiangchuang.web.render import render

router = APIRouter(include_in_schema=False)
Applicant = Annotated[User, Depends(require_role("applicant"))]


@router.get("/me/contact")
def contact_page(request: Request, db: SessionDep, state: StateDep, user: Applicant) -> Response:
    shown = contact.masked_contact(db, user=user, pii=Pii(state.cipher))
    return render(request, "contact.html", {"contact": shown, "done": False, "warning": None, "error": None})


@router.post("/me/contact")
def change_contact(
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Applicant,
    password: Annotated[str, Form(max_length=200)],
    phone: Annotated[str | None, Form(max_length=30)] = None,
    bank_account: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    result = contact.change_contact(
        db,
        user=user,
        password=password,
        phone=phone,
        bank_account=bank_account,
        pii=Pii(state.cipher),
        audit_key=state.audit_key,
        policy=state.policy,
        now=now_utc(),
    )
    return render(
        request,
        "contact.html",
        {"contact": result.contact, "done": result.ok, "warning": result.warning, "error": result.message},
        status=200 if result.ok else 401,
    )
