"""The outreach register in a real browser (Debian chromium via Selenium, a real uvicorn server on a
seeded SQLite, the server's test clock at 2025-03-03): a window clerk opens 外出人员联络 from the main
navigation, a refused registration comes back with the reason (role="alert"), registers a person with
consent, sees only masked contact details until the audited 显示完整联系方式, logs a Spring Festival
contact, records the return linked to the registry person and the business founded (B-VET), and a
withdrawal of consent. Screenshots in test-artifacts/e2e/."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.e2e.kit import By, Journey, chromium, make_server
from xiangchuang.db import make_engine
from xiangchuang.models import AuditEvent, OutreachPerson
from xiangchuang.outreach import service as S

PHONE = "13987654321"


def _campaign(session, cipher, audit_key) -> None:
    import datetime as dt

    S.create_campaign(
        session,
        actor=S.Actor("e2e.reviewer", "district_reviewer", 500101),
        name="2025年春节返乡人员座谈",
        occasion="spring_festival",
        starts_on=dt.date(2025, 1, 20),
        ends_on=dt.date(2025, 3, 10),
        description="春节返乡座谈",
        audit_key=audit_key,
    )


@pytest.fixture
def browser():
    yield from chromium()


@pytest.fixture
def server(tmp_path):
    yield from make_server(tmp_path, extra_seed=_campaign)


def _fill(d, field_id: str, value: str) -> None:
    el = d.find_element(By.ID, field_id)
    if el.get_attribute("type") == "date":
        d.execute_script("arguments[0].value = arguments[1]", el, value)
    else:
        el.clear()
        el.send_keys(value)


def test_outreach_register_journey(server, browser, tmp_path):
    j = Journey(browser, server)
    d = browser
    j.sign_in("e2e.clerk")
    j.go("/")
    j.click("nav a[href='/outreach']")
    j.wait_text("外出人员联络登记")
    j.click("a[href='/outreach/new']")
    for field, value in (
        ("name", "陈小春"),
        ("phone", "1398765"),
        ("home_town", "龙兴镇"),
        ("work_place", "广东省东莞市"),
        ("trade", "模具制造"),
        ("skills", "数控、钳工"),
        ("consent_on", "2025-01-28"),
    ):
        _fill(d, field, value)
    d.find_element(By.ID, "scope_phone").click()
    d.find_element(By.ID, "scope_wechat").click()
    for label in d.find_elements(By.CSS_SELECTOR, "form.form label[for]"):
        assert d.find_elements(By.ID, label.get_attribute("for")), label.text  # every label has its field
    j.click("form.form button[type=submit]")
    alert = d.find_element(By.CSS_SELECTOR, "[role=alert]")
    assert "手机号：不是有效的中国大陆手机号" in alert.text
    assert d.find_element(By.ID, "work_place").get_attribute("value") == "广东省东莞市"  # kept
    _fill(d, "phone", PHONE)
    assert d.find_element(By.ID, "scope_phone").is_selected()  # the consent choices are kept too
    j.click("form.form button[type=submit]")
    j.wait_text("已保存")
    assert PHONE not in d.page_source and "陈小春" not in d.page_source
    assert "+86139****4321" in d.page_source and "陈**" in d.page_source
    j.shot("outreach-registered")

    # a Spring Festival contact, by a channel the person agreed to
    d.find_element(By.CSS_SELECTOR, "#method option[value=phone]").click()
    d.find_element(By.CSS_SELECTOR, "#answer option[value=will_return]").click()
    d.find_element(By.CSS_SELECTOR, "#campaign_id option:nth-child(2)").click()
    _fill(d, "contacted_on", "2025-02-01")
    _fill(d, "note", "春节座谈，有意回乡开模具加工厂")
    j.click("form[action$='/contacts'] button")
    j.wait_text("计划返乡（创业/就业）")

    # the full contact only on request (audited)
    j.click("#reveal")
    assert d.find_element(By.ID, "full-phone").text == "+86" + PHONE
    assert d.find_element(By.ID, "full-name").text == "陈小春"

    # came home: linked to the registry person, then the business they founded
    _fill(d, "returned_on", "2025-03-01")
    _fill(d, "return_person_no", "P-VET")
    j.click("form[action$='/return'] button")
    j.wait_text("P-VET")
    assert "已返乡" in d.find_element(By.ID, "status").text
    _fill(d, "business_no", "B-VET")
    j.click("form[action$='/ventures'] button")
    j.wait_text("B-VET")
    j.shot("outreach-returned-business")

    # consent withdrawn: recorded, shown in the register, no more contact forms
    j.click("form[action$='/withdraw'] button")
    j.wait_text("登记将在下次清理时删除")
    assert not d.find_elements(By.ID, "reveal")
    j.go("/outreach")
    table = d.find_element(By.ID, "register").text
    assert "已于 2025-03-03 撤回" in table and "陈**" in table and PHONE not in d.page_source
    j.shot("outreach-register")

    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'xiangchuang.db'}")
    with engine.connect() as conn:
        assert conn.execute(select(OutreachPerson.consent_withdrawn_on)).scalar_one() is not None
        actions = list(
            conn.execute(
                select(AuditEvent.action).where(AuditEvent.action.like("outreach.%")).order_by(AuditEvent.seq)
            ).scalars()
        )
    engine.dispose()
    assert actions == [
        "outreach.campaign.create",
        "outreach.person.register",
        "outreach.contact.log",
        "outreach.person.reveal_contact",
        "outreach.person.return",
        "outreach.venture.record",
        "outreach.consent.withdraw",
    ]
