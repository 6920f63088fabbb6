"""Loan pages and the loan API through the web, on both databases: the whole path by the roles that
own each step, exactly the allowed moves, tokens limited to their organisation and district, masked /
role-specific responses, settlement and statement download."""

from __future__ import annotations

import datetime as dt
import io
import re

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from xiangchuang.loans.service import china_date
from xiangchuang.models import Loan, User

BANK = "CQRCB"
D = 500101


def _bank(as_role, db_engine, login="bank.one", district=D, code=BANK):
    c = as_role(login, "bank", district)
    with db_engine.begin() as conn:
        conn.execute(update(User).where(User.id == c.user_id).values(org_code=code, org_name="农商行"))
    return c


def _apply(applicant) -> int:
    r = applicant.post(
        "/loans/new",
        {
            "kind": "individual",
            "bank_code": BANK,
            "amount": "100000",
            "term_months": "24",
            "purpose": "开办民宿",
        },
    )
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


def _token(sysadm, **over) -> str:
    form = {
        "name": "银行系统",
        "owner_org": "bank",
        "org_name": "农商行",
        "org_code": BANK,
        "district": str(D),
        "days": "30",
        "scopes": ["loans:read", "loans:write"],
        **over,
    }
    r = sysadm.post("/admin/tokens", form)
    assert r.status_code == 200, r.text
    return re.search(r"<code>(xct_[^<]+)</code>", r.text).group(1)


def test_the_whole_path_through_pages_and_api(as_role, app, db_engine):
    applicant = as_role("zhang.san", "applicant")
    reviewer = as_role("rev.one", "district_reviewer", D)
    fund = as_role("fund.one", "guarantee_fund", D)
    bank = _bank(as_role, db_engine)
    sysadm = as_role("adm.sys", "sys_admin")

    assert applicant.get("/loans/new").status_code == 200
    loan_id = _apply(applicant)
    page = applicant.get(f"/loans/{loan_id}")
    assert page.status_code == 200 and "草稿" in page.text and "提交贷款申请" in page.text
    # the reviewer cannot act on a draft; the applicant cannot accept
    assert reviewer.post(f"/loans/{loan_id}/act/accept").status_code in (403, 409)
    assert applicant.post(f"/loans/{loan_id}/act/submit").status_code == 303
    assert applicant.post(f"/loans/{loan_id}/act/accept").status_code == 403
    queue = reviewer.get("/loans")
    assert queue.status_code == 200 and "待您办理" in queue.text
    detail = reviewer.get(f"/loans/{loan_id}").text
    assert "受理，开始资格审核" in detail and "签订借款合同" not in detail  # exactly the allowed moves
    assert reviewer.post(f"/loans/{loan_id}/act/accept").status_code == 303
    assert reviewer.post(f"/loans/{loan_id}/act/pass_eligibility").status_code == 303
    with db_engine.connect() as conn:
        assert conn.execute(select(Loan.state).where(Loan.id == loan_id)).scalar_one() == "guarantee_review"
    gpage = fund.get(f"/loans/{loan_id}").text
    assert "免除依据" in gpage and "同意担保，送银行审批" in gpage
    r = fund.post(
        f"/loans/{loan_id}/act/approve_guarantee",
        {"guaranteed_amount": "100000", "counter_guarantee": "required", "waiver_ground": ""},
    )
    assert r.status_code == 303, r.text
    bpage = bank.get(f"/loans/{loan_id}").text
    assert "一年期LPR" in bpage and "基点" in bpage
    # the bank's system, by API token
    token = _token(sysadm)
    loan_no = bank.get("/api/v1/loans").json()[0]["loan_no"]
    today = china_date(dt.datetime.now(dt.UTC))
    lpr = int(re.search(r"（(\d+) 基点）", bpage).group(1))
    with TestClient(app) as system:
        h = {"authorization": f"Bearer {token}"}
        body = {
            "contract_no": "HT-001",
            "amount_fen": 10_000_000,
            "rate_bp": lpr,
            "contract_date": today.isoformat(),
            "start_date": today.isoformat(),
            "term_months": 24,
            "repayment_method": "equal_principal",
        }
        r = system.post(f"/api/v1/loans/{loan_no}/contract", json=body, headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "contracted" and r.json()["lpr_bp"] == lpr
        assert system.post(f"/api/v1/loans/{loan_no}/disburse", headers=h).json()["state"] == "repaying"
        first = r.json()["schedule"][0]
        pay = {
            "repayment_ref": "R1",
            "paid_on": today.isoformat(),
            "principal_fen": first["principal_fen"],
            "interest_fen": first["interest_fen"],
        }
        r = system.post(f"/api/v1/loans/{loan_no}/repayments", json=pay, headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["schedule"][0]["covered_on"] == today.isoformat()
        # a guarantee-fund action with a bank token: 403
        g = {"guaranteed_amount_fen": 1, "counter_guarantee": "required"}
        assert system.post(f"/api/v1/loans/{loan_no}/guarantee", json=g, headers=h).status_code == 403
    # the applicant's view: timeline, schedule; no staff fields
    mine = applicant.get(f"/api/v1/loans/{loan_no}").json()
    assert mine["view"] == "applicant" and "borrower_person_no" not in mine and "version" not in mine
    assert [t["to_state"] for t in mine["timeline"]][:3] == ["submitted", "hrss_review", "guarantee_review"]
    assert len(mine["schedule"]) == 24
    page = applicant.get(f"/loans/{loan_id}").text
    assert "还款计划" in page and "已还" in page and "季度贴息" in page
    staff = reviewer.get(f"/api/v1/loans/{loan_no}").json()
    assert staff["view"] == "staff" and staff["contract_no"] == "HT-001"


def test_scope_other_district_other_bank_and_other_roles(as_role, app, db_engine):
    applicant = as_role("zhang.san", "applicant")
    loan_id = _apply(applicant)
    loan_no = applicant.get("/api/v1/loans").json()[0]["loan_no"]
    far = as_role("rev.far", "district_reviewer", 500102)
    assert far.get(f"/loans/{loan_id}").status_code == 403
    assert far.get(f"/api/v1/loans/{loan_no}").status_code == 403
    assert far.get("/api/v1/loans").json() == []
    assert far.get("/loans/999999").status_code == 404
    other_bank = _bank(as_role, db_engine, "bank.two", D, "OTHER")
    assert other_bank.get(f"/loans/{loan_id}").status_code == 403
    assert other_bank.get("/api/v1/loans").json() == []
    for role in ("sys_admin", "sec_admin", "audit_admin", "mentor", "district_finance"):
        c = as_role(f"x.{role.replace('_', '')}", role, D if role == "district_finance" else None)
        assert c.get("/loans").status_code == 403, role
        assert c.get(f"/loans/{loan_id}").status_code == 403, role
        assert c.get(f"/api/v1/loans/{loan_no}").status_code == 403, role
    another = as_role("li.si", "applicant")
    assert another.get(f"/loans/{loan_id}").status_code == 403
    assert another.get("/loans/new").status_code == 200
    # tokens: another district, read-only scope
    sysadm = as_role("adm.sys", "sys_admin")
    far_token = _token(sysadm, district="500102", name="远郊银行")
    read_only = _token(sysadm, scopes=["loans:read"], name="只读")
    with TestClient(app) as system:
        assert (
            system.get(
                f"/api/v1/loans/{loan_no}", headers={"authorization": f"Bearer {far_token}"}
            ).status_code
            == 403
        )
        r = system.get(f"/api/v1/loans/{loan_no}", headers={"authorization": f"Bearer {read_only}"})
        assert r.status_code == 200 and r.json()["view"] == "staff"
        r = system.post(f"/api/v1/loans/{loan_no}/disburse", headers={"authorization": f"Bearer {read_only}"})
        assert r.status_code == 403
        assert system.get("/api/v1/loans", headers={"authorization": "Bearer xct_nope"}).status_code == 401


def test_settlement_and_statement_by_district_finance_only(as_role):
    finance = as_role("fin.one", "district_finance", D)
    assert finance.get("/loans-settlement").status_code == 200
    r = finance.post("/loans-settlement", {"quarter": "2026Q3"})
    assert r.status_code == 200 and "2026Q3 结算结果" in r.text
    xlsx = finance.get("/loans-settlement/2026Q3/statement.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    from openpyxl import load_workbook

    assert load_workbook(io.BytesIO(xlsx.content)).active is not None
    assert finance.get("/loans-settlement/2026Q9/statement.xlsx").status_code == 422
    for role in ("district_reviewer", "bank", "applicant", "sys_admin"):
        c = as_role(f"s.{role.replace('_', '')}", role, D if role == "district_reviewer" else None)
        assert c.get("/loans-settlement").status_code == 403
        assert c.post("/loans-settlement", {"quarter": "2026Q3"}).status_code == 403
        assert c.get("/loans-settlement/2026Q3/statement.xlsx").status_code == 403


def _to_guarantee(as_role, applicant, reviewer) -> int:
    loan_id = _apply(applicant)
    assert applicant.post(f"/loans/{loan_id}/act/submit").status_code == 303
    assert reviewer.post(f"/loans/{loan_id}/act/accept").status_code == 303
    assert reviewer.post(f"/loans/{loan_id}/act/pass_eligibility").status_code == 303
    return loan_id


def test_guarantee_fund_api_waiver_ground_and_refusals(as_role, app, db_engine):
    from xiangchuang.loans.service import WAIVER_GROUNDS

    applicant = as_role("zhang.san", "applicant")
    reviewer = as_role("rev.one", "district_reviewer", D)
    sysadm = as_role("adm.sys", "sys_admin")
    loan_id = _to_guarantee(as_role, applicant, reviewer)
    loan_no = applicant.get("/api/v1/loans").json()[0]["loan_no"]
    token = _token(sysadm, owner_org="guarantee_fund", org_code="", scopes=["loans:read", "guarantees:write"])
    with TestClient(app) as fund:
        h = {"authorization": f"Bearer {token}"}
        # a waiver needs a ground the engine finds satisfied; a missing ground is a 422 naming the field
        r = fund.post(
            f"/api/v1/loans/{loan_no}/guarantee",
            json={"guaranteed_amount_fen": 10_000_000, "counter_guarantee": "waived"},
            headers=h,
        )
        assert r.status_code == 422 and "waiver_ground" in r.json()["detail"]
        assert set(WAIVER_GROUNDS)  # the grounds exist
        r = fund.post(
            f"/api/v1/loans/{loan_no}/guarantee",
            json={"guaranteed_amount_fen": 10_000_000, "counter_guarantee": "required"},
            headers=h,
        )
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "bank_review" and r.json()["guaranteed_amount_fen"] == 10_000_000
        # a bank action with a guarantee-fund token is refused
        assert fund.post(f"/api/v1/loans/{loan_no}/disburse", headers=h).status_code == 403
    # refusal needs a reason; the bank refuses with one
    bank = _bank(as_role, db_engine)
    assert bank.post(f"/loans/{loan_id}/act/refuse").status_code == 422
    assert bank.post(f"/loans/{loan_id}/act/refuse", {"reason": "经营流水不足"}).status_code == 303
    mine = applicant.get(f"/api/v1/loans/{loan_no}").json()
    assert mine["state"] == "refused" and mine["decision_reason"] == "经营流水不足"
    assert "经营流水不足" in applicant.get(f"/loans/{loan_id}").text


def test_applicant_withdraws_and_moves_not_in_the_table_are_refused(as_role, db_engine):
    applicant = as_role("zhang.san", "applicant")
    reviewer = as_role("rev.one", "district_reviewer", D)
    city = as_role("city.a", "city_admin")
    loan_id = _apply(applicant)
    assert applicant.post(f"/loans/{loan_id}/act/submit").status_code == 303
    assert reviewer.post(f"/loans/{loan_id}/act/sign_contract").status_code in (403, 409)
    assert reviewer.post(f"/loans/{loan_id}/act/no_such_move").status_code in (403, 409)
    assert city.get(f"/loans/{loan_id}").status_code == 200  # the city sees every district …
    assert city.post(f"/loans/{loan_id}/act/accept").status_code == 403  # … but acts on none
    assert applicant.post(f"/loans/{loan_id}/act/withdraw").status_code == 303
    with db_engine.connect() as conn:
        assert conn.execute(select(Loan.state).where(Loan.id == loan_id)).scalar_one() == "withdrawn"
    page = applicant.get(f"/loans/{loan_id}").text
    assert "已撤回" in page and "<h2>办理</h2>" not in page


def test_bank_marks_overdue_and_extends_through_the_page(as_role, app, db_engine):
    applicant = as_role("zhang.san", "applicant")
    reviewer = as_role("rev.one", "district_reviewer", D)
    fund = as_role("fund.one", "guarantee_fund", D)
    bank = _bank(as_role, db_engine)
    loan_id = _to_guarantee(as_role, applicant, reviewer)
    fund.post(
        f"/loans/{loan_id}/act/approve_guarantee",
        {"guaranteed_amount": "100000", "counter_guarantee": "required"},
    )
    page = bank.get(f"/loans/{loan_id}").text
    lpr = int(re.search(r"（(\d+) 基点）", page).group(1))
    today = china_date(dt.datetime.now(dt.UTC))
    r = bank.post(
        f"/loans/{loan_id}/act/sign_contract",
        {
            "contract_no": "HT-9",
            "amount": "100000",
            "rate_bp": str(lpr),
            "contract_date": (today - dt.timedelta(days=70)).isoformat(),
            "start_date": (today - dt.timedelta(days=70)).isoformat(),
            "term_months": "24",
            "repayment_method": "equal_principal",
        },
    )
    assert r.status_code == 303, r.text
    assert bank.post(f"/loans/{loan_id}/act/disburse").status_code == 303
    # the first instalment fell due before today and is unpaid: overdue
    r = bank.post(f"/loans/{loan_id}/act/mark_overdue", {"on": today.isoformat()})
    assert r.status_code == 303, r.text
    with db_engine.connect() as conn:
        assert conn.execute(select(Loan.state).where(Loan.id == loan_id)).scalar_one() == "overdue"
    # an extension is not possible while overdue
    assert bank.post(f"/loans/{loan_id}/act/extend", {"months": "6", "reason": "经营困难"}).status_code in (
        403,
        409,
    )
    assert "逾期" in applicant.get(f"/loans/{loan_id}").text


def test_window_clerk_applies_on_behalf_of_a_borrower_of_their_district(as_role, db_engine, linked):
    from xiangchuang.models import Person

    applicant = as_role("zhang.san", "applicant")
    clerk = as_role("clerk.one", "window_clerk", D)
    far_clerk = as_role("clerk.far", "window_clerk", 500102)
    with db_engine.connect() as conn:
        person_no = conn.execute(
            select(Person.person_no).where(Person.id == linked["person_id"])
        ).scalar_one()
    form = {
        "kind": "individual",
        "borrower_person_no": person_no,
        "bank_code": BANK,
        "amount": "80000",
        "term_months": "12",
        "purpose": "代办：开办农家乐",
    }
    assert clerk.get("/loans/on-behalf").status_code == 200
    assert applicant.get("/loans/on-behalf").status_code == 403
    assert far_clerk.post("/loans/on-behalf", form).status_code == 403
    assert clerk.post("/loans/on-behalf", {**form, "borrower_person_no": "NOPE"}).status_code == 422
    r = clerk.post("/loans/on-behalf", form)
    assert r.status_code == 303, r.text
    loan_id = int(r.headers["location"].rsplit("/", 1)[1])
    mine = applicant.get("/api/v1/loans").json()
    assert [x["id"] for x in mine] == [loan_id]
    with db_engine.connect() as conn:
        assert conn.execute(select(Loan.on_behalf).where(Loan.id == loan_id)).scalar_one() is True
    assert far_clerk.get(f"/loans/{loan_id}").status_code == 403


def test_bank_extends_a_loan_in_good_standing_and_the_applicant_sees_it(as_role, db_engine):
    applicant = as_role("zhang.san", "applicant")
    reviewer = as_role("rev.one", "district_reviewer", D)
    fund = as_role("fund.one", "guarantee_fund", D)
    bank = _bank(as_role, db_engine)
    loan_id = _to_guarantee(as_role, applicant, reviewer)
    fund.post(
        f"/loans/{loan_id}/act/approve_guarantee",
        {"guaranteed_amount": "100000", "counter_guarantee": "required"},
    )
    page = bank.get(f"/loans/{loan_id}").text
    lpr = int(re.search(r"（(\d+) 基点）", page).group(1))
    today = china_date(dt.datetime.now(dt.UTC)).isoformat()
    contract = {
        "contract_no": "HT-EXT",
        "amount": "100000",
        "rate_bp": str(lpr),
        "contract_date": today,
        "start_date": today,
        "term_months": "24",
        "repayment_method": "equal_principal",
    }
    assert bank.post(f"/loans/{loan_id}/act/sign_contract", contract).status_code == 303
    assert bank.post(f"/loans/{loan_id}/act/disburse").status_code == 303
    assert bank.post(f"/loans/{loan_id}/act/extend", {"months": "6"}).status_code == 422  # reason required
    r = bank.post(f"/loans/{loan_id}/act/extend", {"months": "6", "reason": "受灾减产"})
    assert r.status_code == 303, r.text
    with db_engine.connect() as conn:
        state, extended = conn.execute(
            select(Loan.state, Loan.extended_maturity_date).where(Loan.id == loan_id)
        ).one()
    assert state == "extended" and extended is not None
    page = applicant.get(f"/loans/{loan_id}").text
    assert "展期" in page and "受灾减产" in page
