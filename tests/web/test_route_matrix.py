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
    re.compile(r"(?<![\dA-Za-z])\d{16,19}(?![\dA-Za-z])"),  # bank card
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
