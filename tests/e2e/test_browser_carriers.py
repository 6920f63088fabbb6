"""A carrier's tenant bill in a real browser: the carrier operator (org code ORG-E2E) opens its 返乡创业园,
registers a tenant with a form (a refused entry first: the Chinese reason on the page, nothing written),
generates the month's bills — the reduction computed by the policy engine — and opens the tenant's bill;
district staff then see the carrier and the reduction of the district. Screenshots in test-artifacts/e2e/."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from tests.e2e.kit import USERS, By, Journey, chromium, make_server
from xiangchuang.carriers import service as carriers
from xiangchuang.carriers.repository import Actor
from xiangchuang.models import User

ORG = "ORG-E2E"


def _seed(session, cipher, audit_key) -> None:
    actor = Actor("system:e2e", "district_reviewer", 500101)
    carriers.create_carrier(
        session,
        data=carriers.CarrierInput(
            carrier_no="C-E2E",
            name="演示返乡创业园（浏览器测试）",
            kind="returning_park",
            level="municipal",
            district=500101,
            address="万州区创业路 1 号",
            capacity=20,
            services=("policy", "mentoring"),
            operator="演示运营公司",
            operator_org_code=ORG,
            municipal_date=dt.date(2023, 5, 1),
            workstations=8,
            free_workstations=2,
        ),
        actor=actor,
        audit_key=audit_key,
    )
    session.execute(update(User).where(User.login == "e2e.carrier").values(org_code=ORG))


@pytest.fixture
def browser():
    yield from chromium()


@pytest.fixture
def server(tmp_path):
    yield from make_server(
        tmp_path, users=(*USERS, ("e2e.carrier", "carrier_operator", None)), extra_seed=_seed
    )


def _fill(d, values: dict[str, str]) -> None:
    for field, value in values.items():
        el = d.find_element(By.ID, field)
        el.clear()
        el.send_keys(value)


def test_carrier_tenant_bill(server, browser):
    j = Journey(browser, server)
    d = browser
    j.sign_in("e2e.carrier")
    j.go("/carriers")
    j.wait_text("演示返乡创业园（浏览器测试）")
    j.click("a[href='/carriers/C-E2E']")
    j.wait_text("减免方案（按入驻年次）")
    j.shot("carrier-page")

    # A refused entry: the reason in Chinese on the page, no tenant written.
    tenant = {
        "business_no": "B-VET",
        "workstation": "003",
        "rent": "1000",
        "property_fee": "200",
        "utilities": "150.5",
    }
    _fill(d, {**tenant, "rent": "一千"})
    d.execute_script("document.getElementById('start').value = '2024-06-01'")
    j.click("#tenants ~ form button[type=submit]")
    alert = d.find_element(By.CSS_SELECTOR, "[role=alert]")
    assert "月场租（元）：须为金额" in alert.text
    assert "暂无入驻企业" in d.page_source
    j.shot("tenant-refused")

    _fill(d, tenant)
    d.execute_script("document.getElementById('start').value = '2024-06-01'")
    j.click("#tenants ~ form button[type=submit]")
    j.wait_text("测试经营主体")
    assert not d.find_elements(By.CSS_SELECTOR, "[role=alert]")

    # The month's bills (test clock 2025-03-03: March 2025 is billed); the engine decides the reduction.
    d.execute_script("document.getElementById('bill_month').value = '2025-03'")
    j.click("#bill_month ~ button")
    j.wait_text("ZD202503")
    j.shot("bills")
    j.click("a[href^='/carriers/C-E2E/bills/ZD']")
    j.wait_text("入驻企业账单")
    # Year 1 of tenancy, default schedule: rent 100 %, property 50 %, utilities 0 %.
    assert d.find_element(By.ID, "gross").text == "1,350.50"
    assert d.find_element(By.ID, "reduction").text == "1,100.00"
    assert d.find_element(By.ID, "due").text == "250.50"
    assert (
        "入驻第1年，按所在区县默认方案减免：场租100%、物业50%、水电0%" in d.find_element(By.ID, "reason").text
    )
    j.shot("tenant-bill")

    # District staff see the carrier and its reduction.
    j.sign_in("e2e.reviewer")
    j.go("/carriers/C-E2E")
    j.wait_text("累计减免（元）")
    assert d.find_element(By.ID, "carrier-reduced").text == "1,100.00"
    j.shot("reviewer-carrier")
