"""The loan commands against a real database (both kinds): settle, schedule, statement."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import tests.loans as helpers
from tests.loans import budgets, contracted, repay, setup
from xiangchuang.audit.chain import audit_key, verify
from xiangchuang.cli import app
from xiangchuang.config import get_settings
from xiangchuang.crypto import KeyRing, generate_keyring
from xiangchuang.ledger import budget_summary
from xiangchuang.models import LoanInstalment, LoanSubsidyLine

runner = CliRunner()


@pytest.fixture
def cli_env(db_engine, tmp_path, monkeypatch):
    """The command line pointed at the test database, with a key ring whose audit key the helpers use."""
    url = db_engine.url.render_as_string(hide_password=False)
    if db_engine.dialect.name == "postgresql":
        with db_engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        url += f"?options=-csearch_path%3D{schema}"
    ring_file = tmp_path / "keyring.json"
    generate_keyring(ring_file)
    key = audit_key(KeyRing.load(None, ring_file))
    monkeypatch.setattr(helpers, "KEY", key)
    monkeypatch.setenv("XIANGCHUANG_DATABASE_URL", url)
    monkeypatch.setenv("XIANGCHUANG_KEYRING_FILE", str(ring_file))
    monkeypatch.delenv("XIANGCHUANG_KEYRING", raising=False)
    get_settings.cache_clear()
    yield key
    get_settings.cache_clear()


def test_settle_schedule_and_statement_commands(db_engine, pii, cli_env, tmp_path):
    setup(db_engine, pii)
    budgets(db_engine)
    loan_id = contracted(db_engine)
    with Session(db_engine) as s:
        plan = list(
            s.scalars(
                select(LoanInstalment).where(LoanInstalment.loan_id == loan_id).order_by(LoanInstalment.seq)
            )
        )
    for inst in plan[:5]:
        repay(db_engine, loan_id, f"R{inst.seq}", inst.due_date, inst.principal_fen, inst.interest_fen)

    shown = runner.invoke(app, ["loans", "schedule", "HT2026-0001"])
    assert shown.exit_code == 0, shown.output
    assert "等额本金" in shown.output and "2026-05-10" in shown.output and "¥200,000.00" in shown.output

    first = runner.invoke(app, ["loans", "settle", "--quarter", "2026Q3", "--district", "500103"])
    assert first.exit_code == 0, first.output
    assert "本次结算 1 笔" in first.output and "¥864.81" in first.output
    again = runner.invoke(app, ["loans", "settle", "--quarter", "2026Q3", "--district", "500103"])
    text = again.output.replace("\n", "")  # (the summary wraps between Chinese characters)
    assert again.exit_code == 0 and "本次结算 0 笔" in text and "此前已结算 1 笔" in text
    with Session(db_engine) as s:
        assert budget_summary(s, district=500103, funding_source="city").disbursed_fen == 86_481
        assert len(s.scalars(select(LoanSubsidyLine)).all()) == 1
        assert verify(s, cli_env) is None

    out = tmp_path / "结算单.xlsx"
    exported = runner.invoke(app, ["loans", "statement", "--quarter", "2026Q3", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    ws = openpyxl.load_workbook(out).active
    assert ws.cell(row=3, column=17).value == "捌佰陆拾肆元捌角壹分"

    bad = runner.invoke(app, ["loans", "settle", "--quarter", "2026-3"])
    assert bad.exit_code != 0 and "YYYYQn" in bad.output
    missing = runner.invoke(app, ["loans", "schedule", "HT-NONE"])
    assert missing.exit_code != 0 and "HT-NONE" in missing.output
    assert dt.date.today() > dt.date(2026, 9, 30)  # the commands use today's date: 2026Q3 has ended
