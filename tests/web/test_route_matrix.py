"""Every page and API route of loans / city / 三员 / contact × every role, on both databases: exactly the
allowed roles get 200, every other role 403; and no 200 response carries an ID number, phone or card."""

from __future__ import annotations

import re

from sqlalchemy import update

from xiangchuang.models import Person, User
from xiangchuang.registry.pii import Pii
from xiangchuang.users.service import ROLE_LABELS

D = 500101
PARAM = "startup_subsidy.rate"
LOAN_VIEW = {"applicant", "window_clerk", "district_reviewer", "guarantee_fund", "bank", "city_admin"}
ROUTES = {
    "/loans": LOAN_VIEW,
    "/loans/new": {"applicant"},
    "/loans/on-behalf": {"window_clerk"},
    "/loans/{id}": LOAN_VIEW,
    "/api/v1/loans": LOAN_VIEW,
    "/api/v1/loans/{no}": LOAN_VIEW,
    "/loans-settlement": {"district_finance", "city_admin"},
    "/city/parameters": {"city_admin", "district_reviewer", "district_finance", "window_clerk"},
    f"/city/parameters/{PARAM}": {"city_admin", "district_reviewer", "district_finance", "window_clerk"},
    "/city/districts": {"city_admin"},
    "/api/v1/city/parameter-changes": {"city_admin"},
    f"/api/v1/city/parameters/{PARAM}": {"city_admin"},
    "/api/v1/city/districts": {"city_admin"},
    "/admin/users": {"sys_admin", "sec_admin"},
    "/admin/tokens": {"sys_admin", "sec_admin"},
    "/admin/security": {"sec_admin"},
    "/admin/audit": {"audit_admin"},
    "/api/v1/admin/users": {"sys_admin", "sec_admin"},
    "/api/v1/admin/audit-events": {"audit_admin"},
    "/me/contact": {"applicant"},
}
# Standalone numbers only: a loan number (DK + date + random hex) may hold 18 digits in a row by chance.
PII = [
    re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])"),  # 身份证号
    re.compile(r"(?<![\dA-Za-z])1[3-9]\d{9}(?![\dA-Za-z])"),  # mobile
    re.compile(r"(?<![\dA-Za-z.])\d{16,19}(?![\dA-Za-z])"),  # bank card (digits after a "." are a fraction)
]


def test_every_route_every_role(as_role, db_engine, cipher, linked):
    pii = Pii(cipher)
    phone_enc, phone_idx = pii.phone("13812345678")
    card_enc, _ = pii.bank_account("6222021234567890123")
    with db_engine.begin() as conn:
        conn.execute(
            update(Person)
            .where(Person.id == linked["person_id"])
            .values(phone_enc=phone_enc, phone_bidx=phone_idx, bank_account_enc=card_enc)
        )
    clients = {}
    for role in ROLE_LABELS:
        district = (
            D
            if role in ("window_clerk", "district_reviewer", "district_finance", "guarantee_fund", "bank")
            else None
        )
        clients[role] = as_role(f"m.{role.replace('_', '')}", role, district)
    with db_engine.begin() as conn:
        conn.execute(update(User).where(User.id == clients["bank"].user_id).values(org_code="CQRCB"))
    r = clients["applicant"].post(
        "/loans/new",
        {
            "kind": "individual",
            "bank_code": "CQRCB",
            "amount": "50000",
            "term_months": "12",
            "purpose": "种植",
        },
    )
    loan_id = r.headers["location"].rsplit("/", 1)[1]
    loan_no = clients["applicant"].get("/api/v1/loans").json()[0]["loan_no"]
    unexpected = []
    for route, allowed in ROUTES.items():
        url = route.replace("{id}", loan_id).replace("{no}", loan_no)
        for role, c in clients.items():
            got = c.get(url)
            want = 200 if role in allowed else 403
            if got.status_code != want:
                unexpected.append((url, role, got.status_code))
            if got.status_code == 200:
                body = got.text
                for pattern in PII:
                    hit = pattern.search(body)
                    if hit:
                        unexpected.append((url, role, "PII", hit.group(0)))
    assert unexpected == []


def _roles_required(dependant) -> set[str] | None:
    """The roles a route's ``require_role(...)`` dependency lets through (None: no such dependency)."""
    import inspect

    found: set[str] | None = None
    for dep in dependant.dependencies:
        call = dep.call
        if getattr(call, "__qualname__", "").startswith("require_role."):
            roles = inspect.getclosurevars(call).nonlocals.get("roles")
            found = (found or set()) | set(roles)
        inner = _roles_required(dep)
        if inner is not None:
            found = (found or set()) | inner
    return found


def _needs_sign_in(dependant) -> bool:
    from xiangchuang.web.deps import current_user

    return any(dep.call is current_user or _needs_sign_in(dep) for dep in dependant.dependencies)


def test_every_get_route_without_parameters_every_role(app, as_role, db_engine, cipher, linked):
    """The whole app, not one area: every GET route without path parameters × every role (and no one
    signed in). A route guarded by ``require_role`` answers its roles (never 403) and refuses every other
    role with 403; a signed-in route refuses the anonymous caller; no answer is a 5xx; no 200 carries an
    ID number, phone or card number. The allowed roles are read from the routes' own dependencies, so a new
    route is covered the day it is added."""
    from fastapi.routing import APIRoute
    from fastapi.testclient import TestClient

    pii = Pii(cipher)
    phone_enc, phone_idx = pii.phone("13812345678")
    card_enc, _ = pii.bank_account("6222021234567890123")
    with db_engine.begin() as conn:
        conn.execute(
            update(Person)
            .where(Person.id == linked["person_id"])
            .values(phone_enc=phone_enc, phone_bidx=phone_idx, bank_account_enc=card_enc)
        )
    clients = {}
    for role in ROLE_LABELS:
        district = (
            D
            if role in ("window_clerk", "district_reviewer", "district_finance", "guarantee_fund", "bank")
            else None
        )
        clients[role] = as_role(f"x.{role.replace('_', '')}", role, district)

    def walk(items):  # FastAPI ≥ 0.165 keeps included routers as containers of their original routes
        for r in items:
            inner = getattr(r, "original_router", None)
            if inner is not None:
                yield from walk(inner.routes)
            else:
                yield r

    routes = [
        r
        for r in walk(app.routes)
        if isinstance(r, APIRoute) and "GET" in r.methods and "{" not in r.path and "logout" not in r.path
    ]
    assert len(routes) > 30  # the check itself must not become empty
    unexpected = []
    guarded = 0
    with TestClient(app, base_url="http://testserver") as anonymous:
        for route in routes:
            allowed = _roles_required(route.dependant)
            signed_in = allowed is not None or _needs_sign_in(route.dependant)
            guarded += allowed is not None
            got = anonymous.get(route.path, follow_redirects=False)
            if signed_in and got.status_code not in (401, 303):
                unexpected.append((route.path, "anonymous", got.status_code))
            for role, c in clients.items():
                got = c.get(route.path)
                if got.status_code >= 500:
                    unexpected.append((route.path, role, got.status_code, got.text[:300]))
                elif allowed is not None and (got.status_code == 403) == (role in allowed):
                    # a declared role refused, or an undeclared role let through
                    unexpected.append((route.path, role, got.status_code))
                # (a route without require_role may still refuse by its own rule, e.g. the loan API's
                # caller check: a 403 there is a refusal, never an unexpected success)
                if got.status_code == 200:
                    for pattern in PII:
                        hit = pattern.search(got.text)
                        if hit:
                            unexpected.append((route.path, role, "PII", hit.group(0)))
    assert guarded > 15
    assert unexpected == []


def test_every_nav_link_opens_for_its_roles(as_role, db_engine, linked):
    """The main navigation (web/nav.py) shows each role only links that open for it (200), and every page
    a role opens shows exactly that role's links."""
    from xiangchuang.web import nav

    problems = []
    for role in ROLE_LABELS:
        district = (
            D
            if role in ("window_clerk", "district_reviewer", "district_finance", "guarantee_fund", "bank")
            else None
        )
        c = as_role(f"n.{role.replace('_', '')}", role, district)
        items = nav.for_role(role)
        home = c.get("/me").text
        for item in nav.all_items():
            shown = f'href="{item.href}"' in home
            if shown != (item in items) and item.href != "/me":
                problems.append((role, item.href, "shown" if shown else "missing"))
        for item in items:
            got = c.get(item.href)
            if got.status_code != 200:
                problems.append((role, item.href, got.status_code))
    assert nav.all_items()
    assert problems == []
