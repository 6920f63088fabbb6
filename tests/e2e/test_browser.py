"""End to end in a real browser (Debian chromium + chromedriver, driven by Selenium; never downloads a
driver): a real server (uvicorn subprocess, SQLite seeded here), and the whole path of a 创业补助
application — the entrepreneur checks eligibility and applies with attachments; the street clerk accepts
and passes the first review; the district reviewer returns it for correction; the entrepreneur fixes it
and resubmits; clerk and reviewer review again; 公示 (the server's test clock moves past the publicity
period); the reviewer approves (budget reserved); district finance makes a batch, pays and confirms; the
entrepreneur sees 已拨付. Keyboard-only use (Tab order) and labels are checked on the apply form.

A screenshot of each step is saved in test-artifacts/e2e/ (gitignored). Without chromium the test is
skipped locally and FAILS under CI=true (.ci/run installs chromium and chromium-driver)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.applications import LATER, PDF
from tests.e2e.kit import (
    ARTIFACTS,
    ActionChains,
    By,
    Journey,
    Keys,
    WebDriverWait,
    chromium,
    gone,
    make_server,
)
from xiangchuang.applications.kinds import KINDS


@pytest.fixture
def browser():
    yield from chromium()


@pytest.fixture
def server(tmp_path):
    yield from make_server(tmp_path)


def _files(tmp: Path) -> dict[str, Path]:
    out = {}
    for m in KINDS["startup_subsidy"].materials:
        path = tmp / f"{m.label[:8]}.pdf"
        path.write_bytes(PDF + m.id.encode() + b"\n")
        out[m.id] = path
    return out


def test_startup_subsidy_end_to_end(server, browser, tmp_path):
    j = Journey(browser, server)
    files = _files(tmp_path)
    d = browser

    # finance opens the year's budget (so 核准 can reserve it)
    j.sign_in("e2e.finance")
    j.go("/finance")
    d.find_element(By.ID, "budget-amount").send_keys("500000")
    d.find_element(By.ID, "budget-note").send_keys("渝财社〔2025〕1号")
    j.click("form[action='/finance/budget'] button")
    j.wait_text("已完成")
    j.shot("finance-budget")

    # 1. the entrepreneur checks eligibility on their registry data
    j.sign_in("e2e.vet")
    j.go("/my/checkup")
    j.wait_text("按我的登记信息体检")
    assert "创业补贴" in d.page_source or "创业补助" in d.page_source
    j.shot("applicant-checkup")

    # 2. apply: choose the program → the form (keyboard only, labels) → materials → check → submit
    j.go("/my/apply")
    j.click("a[href='/my/apply/startup_subsidy']")
    form = d.find_element(By.ID, "apply-form")
    fields = [
        e
        for e in form.find_elements(By.CSS_SELECTOR, "input, textarea, select")
        if e.get_attribute("type") != "hidden"
    ]
    # (the district is chosen only where the registry files the applicant nowhere: README choice 12)
    assert [f.get_attribute("id") for f in fields] == ["period", "amount", "district", "description"]
    for f in fields:
        labels = d.find_elements(By.CSS_SELECTOR, f"label[for='{f.get_attribute('id')}']")
        assert len(labels) == 1 and labels[0].text.strip(), f"field {f.get_attribute('id')} has no label"
    # keyboard only: from the page start, Tab reaches every field and the submit button, in order
    d.refresh()  # focus at the start of the document
    reached: list[str] = []
    for _ in range(40):
        ActionChains(d).send_keys(Keys.TAB).perform()
        el = d.switch_to.active_element
        ident = el.get_attribute("id") or f"{el.tag_name}:{el.text[:10]}"
        reached.append(ident)
        if ident == "apply-next":
            break
    order = [x for x in reached if x in ("period", "amount", "district", "description", "apply-next")]
    assert order == ["period", "amount", "district", "description", "apply-next"], reached
    # type and submit with the keyboard only
    period = d.find_element(By.ID, "period")
    period.send_keys(Keys.CONTROL, "a")
    period.send_keys("2024")
    d.find_element(By.ID, "description").send_keys("退役军人返乡创业，2022年开办")
    j.shot("applicant-apply-form")
    old = d.find_element(By.TAG_NAME, "html")
    d.find_element(By.ID, "apply-next").send_keys(Keys.ENTER)
    WebDriverWait(d, 30).until(lambda _d: gone(old))
    j.wait_text("上传材料")
    app_id = int(d.current_url.rstrip("/").split("/")[-2])
    for material, path in files.items():
        d.find_element(By.ID, f"file_{material}").send_keys(str(path))
    j.click("#upload")
    j.wait_text("已上传")
    j.shot("applicant-materials")
    j.click("#to-review")
    j.wait_text("核对申请信息")
    assert "还缺少必需材料" not in d.page_source
    j.shot("applicant-check-answers")
    j.click("#submit")
    j.wait_text("申请已提交")
    app_no = d.find_element(By.ID, "application-no").text
    assert app_no.startswith("SQ")
    j.shot("applicant-confirmation")

    # 3. the street clerk accepts it from the queue and passes the first review
    j.sign_in("e2e.clerk")
    j.go("/staff/queue")
    j.wait_text(app_no)
    j.shot("clerk-queue")
    j.staff_act(app_id, "accept")
    assert j.state() == "已受理"
    j.shot("clerk-accepted")
    j.staff_act(app_id, "start_first_review")
    j.staff_act(app_id, "pass_first_review")
    assert j.state() == "复审（区县）"

    # 4. the district reviewer returns it for correction
    j.sign_in("e2e.reviewer")
    j.go(f"/staff/applications/{app_id}")
    assert "与申请人体检结果一致" in d.page_source
    j.shot("reviewer-application")
    j.staff_act(app_id, "return", "社保缴费证明页面不清晰，请重新上传")
    assert j.state() == "退回补正"

    # 5. the entrepreneur sees what to fix, uploads a new file and resubmits
    j.sign_in("e2e.vet")
    j.go(f"/my/applications/{app_id}")
    assert d.find_element(By.ID, "return-note").text == "社保缴费证明页面不清晰，请重新上传"
    j.shot("applicant-returned")
    j.go(f"/my/applications/{app_id}/materials")
    clearer = tmp_path / "社保缴费证明-清晰.pdf"
    clearer.write_bytes(PDF + b"% clearer scan\n")
    d.find_element(By.ID, "file_social_insurance_record").send_keys(str(clearer))
    j.click("#upload")
    j.wait_text("已上传")
    j.go(f"/my/applications/{app_id}/review")
    j.click("#submit")
    j.wait_text("申请已提交")
    j.shot("applicant-resubmitted")

    # 6. clerk and reviewer review; 公示
    j.sign_in("e2e.clerk")
    for action in ("accept", "start_first_review", "pass_first_review"):
        j.staff_act(app_id, action)
    j.sign_in("e2e.reviewer")
    j.staff_act(app_id, "pass_second_review")
    assert j.state() == "公示中"
    j.go("/staff/publicity")
    j.click("table a")
    j.wait_text("公示期")
    assert "P-VET" not in d.page_source
    j.shot("reviewer-publicity-list")

    # 7. the publicity period ends (the server's test clock moves on); approval
    j.clock.write_text(LATER.isoformat())
    j.staff_act(app_id, "approve")
    assert j.state() == "已核准"
    j.shot("reviewer-approved")

    # 8. finance: batch, pay, bank file, confirm
    j.sign_in("e2e.finance")
    j.go("/finance")
    d.find_element(By.ID, f"pay-{app_id}").send_keys(Keys.SPACE)
    j.click("#create-batch")
    j.wait_text("拨付批次")
    run = d.find_element(By.CSS_SELECTOR, "button[id^='run-']")
    batch_id = run.get_attribute("id").split("-")[1]
    j.click(f"#run-{batch_id}")
    j.wait_text("已支付")
    cookies = {c["name"]: c["value"] for c in d.get_cookies()}
    bank = httpx.get(f"{j.base}/finance/batches/{batch_id}/bank.xlsx", cookies=cookies, timeout=30)
    assert bank.status_code == 200 and bank.content[:2] == b"PK"
    j.click(f"#confirm-{batch_id}")
    j.wait_text("已拨付")
    j.shot("finance-disbursed")

    # 9. the entrepreneur sees 已拨付
    j.sign_in("e2e.vet")
    j.go(f"/my/applications/{app_id}")
    assert j.state() == "已拨付"
    assert "补贴已拨付" in d.page_source
    j.shot("applicant-disbursed")
    assert len(list(ARTIFACTS.glob("*.png"))) >= 15
