"""The statistics dashboard in a real browser: the city administrator opens the closed 2024Q4 snapshot,
ECharts draws the charts (a canvas in each chart box, from the vendored echarts.min.js under the strict
CSP), the table view holds the same figures, a group tab switches the indicators, and a district figure
drills down to the applications behind it; a district reviewer sees only their district."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.e2e.kit import USERS, By, Journey, WebDriverWait, chromium, make_server
from tests.stats.scenario import STANDARD_PATH, add_application, path
from xiangchuang.stats.periods import Quarter
from xiangchuang.stats.service import close_quarter

A, B = 500101, 500102
Q = Quarter(2024, 4)


def seed(session, cipher, audit_key):
    conn = session.connection()
    start = dt.datetime(2024, 10, 9, 2, tzinfo=dt.UTC)
    submit = ("submit", "draft", "submitted")
    for n, (district, kind) in enumerate(
        [(A, "startup_subsidy"), (A, "job_subsidy"), (B, "startup_subsidy"), (A, "startup_subsidy")], start=1
    ):
        add_application(
            conn,
            no=f"SQ-E2E-{n}",
            kind=kind,
            district=district,
            subject=f"S{n}",
            steps=path(start + dt.timedelta(days=n), [submit, *STANDARD_PATH]),
            amount_approved_fen=500_000 * n,
        )
    close_quarter(session, quarter=Q, actor="e2e.city", audit_key=audit_key,
                  now=dt.datetime(2025, 1, 8, 2, tzinfo=dt.UTC))  # fmt: skip


@pytest.fixture
def browser():
    yield from chromium()


@pytest.fixture
def server(tmp_path):
    yield from make_server(tmp_path, users=(*USERS, ("e2e.city", "city_admin", None)), extra_seed=seed)


def _canvases(driver) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, ".chart canvas"))


def test_city_admin_sees_the_charts_and_drills_down(browser, server):
    j = Journey(browser, server)
    j.sign_in("e2e.city")
    j.go(f"/stats?quarter={Q.label}&group=applications")
    j.wait_text("已关账发布")
    WebDriverWait(browser, 30).until(lambda d: _canvases(d) >= 3)
    boxes = browser.find_elements(By.CSS_SELECTOR, ".chart")
    assert len(boxes) >= 3 and _canvases(browser) == len(boxes)  # every chart box was drawn
    canvas = browser.find_element(By.CSS_SELECTOR, ".chart canvas")
    assert canvas.size["width"] > 100 and canvas.size["height"] > 100
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "关账日期 2025-01-08" in body and "修订 0" in body
    j.shot("dashboard-city")
    # the table view (accessible) holds the same figures: 3 received in 万州, 1 in 涪陵, 4 city-wide
    browser.find_element(By.CSS_SELECTOR, "section details summary").click()
    cells = browser.find_elements(By.XPATH, "(//section)[1]//tr[th[normalize-space()='万州区']]/td")
    assert cells and cells[-1].text == "3"
    # a tab: the money group, drawn too
    j.click("nav.tabs a[href$='group=money']")
    WebDriverWait(browser, 30).until(lambda d: _canvases(d) >= 3)
    j.wait_text("核准金额")
    # drill-down: 万州区 → its breakdown → the applications behind 创业补助
    j.go(f"/stats/drill?indicator=applications_received&quarter={Q.label}&district={A}")
    j.wait_text("按维度分解")
    j.click("table a[href*='dim=startup_subsidy']")
    j.wait_text("SQ-E2E-1")
    assert "SQ-E2E-4" in browser.page_source and "SQ-E2E-3" not in browser.page_source
    j.shot("drill-applications")


def test_a_district_reviewer_sees_their_district_only(browser, server):
    j = Journey(browser, server)
    j.sign_in("e2e.reviewer")
    j.go(f"/stats?quarter={Q.label}&group=applications")
    WebDriverWait(browser, 30).until(lambda d: _canvases(d) >= 2)
    source = browser.page_source
    assert "万州区" in source and "涪陵区" not in source
    j.go(f"/stats/drill?indicator=applications_received&quarter={Q.label}&district={B}")
    j.wait_text("无权查看其他区县")
