"""District finance through the service and the ``xiangchuang disburse`` commands: approval reserves the
budget (refused in Chinese without one), a batch paid and confirmed leaves the applications 已拨付 and
the ledger reconciled, every step audited."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.applications import ACTORS, D1, D2, KEY, LATER, PARAMS, application_in, setup, state_of
from tests.applications.test_cli_applications import cli_env  # noqa: F401  (the CLI's database and keys)
from xiangchuang import ledger
from xiangchuang.applications import disbursement
from xiangchuang.audit import verify
from xiangchuang.cli import app
from xiangchuang.db import make_sessionmaker
from xiangchuang.errors import DomainError
from xiangchuang.models import Application, AuditEvent, DisbursementItem, Person

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("cli_env")
AMOUNT = 197_531  # B-VET's 创业补助 (see tests.applications.registry)


def _approve(engine, app_id: int) -> None:
    with make_sessionmaker(engine)() as s, s.begin():
        disbursement.act(
            s,
            application_id=app_id,
            action="approve",
            actor=ACTORS["district_reviewer"],
            role="district_reviewer",
            actor_district=D1,
            audit_key=KEY,
            now=LATER,
            params=PARAMS,
        )


def _outstanding(engine, app_id: int) -> int:
    with Session(engine) as s:
        no = s.get(Application, app_id).application_no  # type: ignore[union-attr]
        return ledger.approved_outstanding(
            s, district=D1, funding_source=disbursement.FUNDING_SOURCE, application_ref=no
        )


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_approval_without_a_budget_is_refused_in_chinese_and_changes_nothing(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "publicity")
    with pytest.raises(DomainError, match="请区县财政先下达预算") as refused:
        _approve(db_engine, app_id)
    assert refused.value.message.startswith("资金账本：")
    assert state_of(db_engine, app_id) == "publicity"  # the transition rolled back with the reservation
    assert _outstanding(db_engine, app_id) == 0
    # a budget smaller than the amount: refused too
    _ok(["disburse", "budget", "--district", str(D1), "--amount-yuan", "1000"])
    with pytest.raises(DomainError, match="资金账本"):
        _approve(db_engine, app_id)
    assert state_of(db_engine, app_id) == "publicity"


def test_budget_batch_run_export_confirm_end_to_end(db_engine, pii, tmp_path):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "publicity")
    out = _ok(
        ["disburse", "budget", "--district", str(D1), "--amount-yuan", "5,000.50", "--note", "渝财2025-1"]
    )
    assert "已下达预算 ¥5,000.50" in out
    _approve(db_engine, app_id)
    assert state_of(db_engine, app_id) == "approved"
    assert _outstanding(db_engine, app_id) == AMOUNT  # approval through the service reserved the budget

    out = _ok(["disburse", "batch", "--district", str(D1), "--ids", str(app_id), "--actor", "u-fin"])
    assert "1 笔，合计 ¥1,975.31" in out
    assert state_of(db_engine, app_id) == "disbursing"
    with Session(db_engine) as s:
        batch_id = s.execute(select(DisbursementItem.batch_id)).scalar_one()

    # another district's finance cannot touch the batch
    other = runner.invoke(
        app, ["disburse", "confirm", str(batch_id), "--district", str(D2), "--actor", "u-x"]
    )
    assert other.exit_code == 1 and "无权办理其他区县（500101）的拨付批次" in other.output
    missing = runner.invoke(app, ["disburse", "run", "9999", "--district", str(D1)])
    assert missing.exit_code == 1 and "拨付批次 9999 不存在" in missing.output

    assert "本次支付 1 笔；此前已支付 0 笔" in _ok(["disburse", "run", str(batch_id), "--district", str(D1)])
    assert "本次支付 0 笔；此前已支付 1 笔" in _ok(["disburse", "run", str(batch_id), "--district", str(D1)])

    # the bank file needs the payee's account: refused in Chinese without it, written with it
    bank = tmp_path / "代发.xlsx"
    no_account = runner.invoke(
        app, ["disburse", "export", str(batch_id), "--district", str(D1), "--actor", "u-fin", "-o", str(bank)]
    )
    assert no_account.exit_code == 1 and "没有登记银行账号" in no_account.output
    blob, _warning = pii.bank_account("6222020200112233001")
    with make_sessionmaker(db_engine).begin() as s:
        s.execute(update(Person).where(Person.person_no == "P-VET").values(bank_account_enc=blob))
    out = _ok(
        ["disburse", "export", str(batch_id), "--district", str(D1), "--actor", "u-fin", "-o", str(bank)]
    )
    assert "已导出 1 笔" in out
    rows = [[c.value for c in r] for r in openpyxl.load_workbook(bank).active.iter_rows(min_row=3, max_row=3)]
    assert rows[0][2] == "6222020200112233001"

    assert "已确认拨付 1 份申请" in _ok(
        ["disburse", "confirm", str(batch_id), "--district", str(D1), "--actor", "u-fin"]
    )
    assert state_of(db_engine, app_id) == "disbursed"  # 已拨付
    assert "已确认拨付 0 份申请" in _ok(
        ["disburse", "confirm", str(batch_id), "--district", str(D1), "--actor", "u-fin"]
    )
    assert _outstanding(db_engine, app_id) == 0
    with Session(db_engine) as s:
        assert ledger.reconcile(s) == []
        summary = ledger.budget_summary(s, district=D1, funding_source=disbursement.FUNDING_SOURCE)
        assert summary.disbursed_fen == AMOUNT
        finance = s.execute(
            select(AuditEvent.action, AuditEvent.actor_role, AuditEvent.district)
            .where(AuditEvent.actor == "u-fin")
            .order_by(AuditEvent.seq)
        ).all()
    assert [a for a, _r, _d in finance] == [
        "application.start_disbursement",
        "export.bank_payment_file",
        "application.confirm_disbursement",
    ]
    assert {r for a, r, _d in finance if a.startswith("application.")} == {"district_finance"}
    with db_engine.connect() as conn:
        assert verify(conn, KEY) is None


def test_bad_input_is_refused_before_touching_the_database(db_engine, pii):
    setup(db_engine, pii)
    for args, text in [
        (["disburse", "budget", "--district", "123", "--amount-yuan", "10"], "须为重庆市41个区县之一的代码"),
        (["disburse", "budget", "--district", str(D1), "--amount-yuan", "abc"], "--amount-yuan"),
        (["disburse", "budget", "--district", str(D1), "--amount-yuan", "0"], "下达预算金额：须大于 0"),
        (["disburse", "budget", "--district", str(D1), "--amount-yuan", "1.001"], "--amount-yuan"),
        (["disburse", "batch", "--district", str(D1), "--ids", "1,x", "--actor", "u"], "--ids"),
        (["disburse", "batch", "--district", str(D1), "--ids", "1", "--actor", " "], "--actor"),
    ]:
        result = runner.invoke(app, args)
        assert result.exit_code != 0 and text in result.output, (args, result.output)
    with Session(db_engine) as s:
        assert ledger.reconcile(s) == []


def test_cli_refuses_or_holds_a_business_payee_no_longer_in_force(db_engine, pii):
    """README choice 93 through the commands: a batch is refused (the refusal audited), a run holds the
    item (exit 1 naming it, audited); the command's date is today's."""
    from tests.applications.test_payee_recheck import _approved, _change_representative, _start

    app_id, app_no = _approved(db_engine, pii)
    _change_representative(db_engine, LATER.date() + dt.timedelta(days=5))
    # (today's batch of the approved application: refused, the representative now P-NEW)
    refused = runner.invoke(
        app, ["disburse", "batch", "--district", str(D1), "--ids", str(app_id), "--actor", "u-fin"]
    )
    assert refused.exit_code == 1 and "拨付批次未生成" in refused.output and "P-NEW" in refused.output
    batch_id = _start(db_engine, app_id)  # (made on LATER, the representative then still P-VET)
    ran = runner.invoke(app, ["disburse", "run", str(batch_id), "--district", str(D1), "--actor", "u-fin"])
    assert ran.exit_code == 1, ran.output
    assert "本次支付 0 笔" in ran.output and "1 笔暂缓拨付" in ran.output and app_no in ran.output
    with Session(db_engine) as s:
        holds = s.execute(
            select(AuditEvent.actor).where(AuditEvent.action == "disbursement.payee_held")
        ).scalars()
        assert list(holds) == ["u-fin", "u-fin"]  # the batch's refusal, then the run's hold
        assert s.execute(select(DisbursementItem.status)).scalar_one() == "pending"
    with db_engine.connect() as conn:
        assert verify(conn, KEY) is None
