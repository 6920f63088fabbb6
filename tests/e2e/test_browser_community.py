"""Issue 10 in a real browser, one page per part: after failure (the reviewer offers support for a closed
business, the founder consents on their own page, the reviewer refers), places and trades (a 一村一品 tag
and the report by tag), typical entrepreneurs (a nomination with registry evidence; the public stories
page shows a story reviewed by a drawn panel and published with the person's consent). Screenshots in
test-artifacts/e2e/."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select, update

from tests.e2e.kit import By, Journey, chromium, make_server
from tests.registry.factories import Registry


def _seed(session, cipher, audit_key):
    from xiangchuang.community import typical as T
    from xiangchuang.community.demo import CITY, review_and_publish
    from xiangchuang.demo_seed import SeedContext
    from xiangchuang.models import Business
    from xiangchuang.registry.pii import Pii

    session.execute(
        update(Business)
        .where(Business.business_no == "B-VET")
        .values(deregistration_date=dt.date(2025, 2, 20))
    )
    reg = Registry(session.connection(), Pii(cipher))
    reg._seq = itertools.count(700)
    for _ in range(3):
        reg.person()  # free persons for the review panel
    on = dt.date(2025, 2, 1)
    n = T.nominate(
        session, scope=CITY, audit_key=audit_key, person_no="P-OTHER", business_no="B-OTHER",
        category="returning_entrepreneur", year=2025, headline="退役返乡办农场，带动乡亲就业",
        story="退役后返乡创办家庭农场，发展生态种养。", today=on,
    )  # fmt: skip
    ctx = SeedContext(cipher=cipher, audit_key=audit_key, on=on, district=500101)
    assert "已公开宣传" in review_and_publish(
        session, ctx, n, event_day=on, publish_name="赵某某", exclude=set()
    )
    assert session.execute(select(Business.id).where(Business.business_no == "B-ONLINE2")).scalar_one()


@pytest.fixture
def browser():
    yield from chromium()


@pytest.fixture
def server(tmp_path):
    yield from make_server(tmp_path, extra_seed=_seed)


def test_community_pages_in_the_browser(server, browser):
    j = Journey(browser, server)
    d = browser

    # 3.10 after failure: offer → the founder's consent → referral
    j.sign_in("e2e.reviewer")
    j.go("/community/closures")
    j.wait_text("新注销、尚未发起帮扶的主体")
    j.click("#offer-B-VET")
    assert d.find_element(By.ID, "state").text == "已告知待同意"
    j.sign_in("e2e.vet")
    j.go("/me/community")
    d.find_element(By.ID, "my-BF-B-VET-employment_service").click()
    j.click("#consent-1")
    j.wait_text("已同意转介")
    j.shot("community-consent")
    j.sign_in("e2e.reviewer")
    j.go("/community/closures/BF-B-VET")
    d.find_element(By.ID, "agency").send_keys("区公共就业服务中心")
    j.click("#refer")  # no owner: refused, nothing written
    assert "跟踪责任人" in d.find_element(By.CSS_SELECTOR, "[role=alert]").text
    d.find_element(By.ID, "agency").send_keys("区公共就业服务中心")
    d.find_element(By.ID, "owner").send_keys("张科员")
    j.click("#refer")
    j.wait_text("已转介")
    j.shot("community-referral")

    # 5.14 places and trades: a 一村一品 tag, the report by tag
    j.go("/community/places")
    d.find_element(By.ID, "bt-no").send_keys("B-ONLINE2")
    d.find_element(By.CSS_SELECTOR, "#bt-kind option[value=village_product]").click()
    d.find_element(By.ID, "bt-tag").send_keys("柑橘")
    j.click("#business-tag")
    report = d.find_element(By.ID, "report").text
    assert "一村一品" in report and "柑橘" in report
    j.shot("community-tags")

    # 5.15 typical entrepreneurs: a nomination (evidence from the registry) and the public stories page
    j.go("/community/nominations")
    d.find_element(By.ID, "nm-person").send_keys("P-ONLINE2")
    d.find_element(By.ID, "nm-business").send_keys("B-ONLINE2")
    d.find_element(By.ID, "nm-headline").send_keys("网店带动村民增收")
    d.find_element(By.ID, "nm-story").send_keys("开设网店销售本地农产品。")
    j.click("#nominate")
    assert d.find_element(By.ID, "state").text == "已推荐"
    j.wait_text("登记库证据")
    j.shot("community-nomination")
    d.delete_all_cookies()
    j.as_user = None
    j.go("/stories")
    j.wait_text("赵某某")
    body = d.find_element(By.TAG_NAME, "body").text
    assert "退役返乡办农场" in body and "重庆市返乡创业之星" in body
    assert "P-OTHER" not in body and "B-OTHER" not in body
    j.shot("community-stories")
