"""The services commands against a real database (both kinds): ``services overdue`` opens the monitoring
alert of an overdue problem once; ``services summary`` prints the district's figures."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from xiangchuang.audit.chain import audit_key
from xiangchuang.cli import app
from xiangchuang.config import get_settings
from xiangchuang.crypto import KeyRing, generate_keyring
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.models import Business, OutboxMessage, StatAlert
from xiangchuang.services import service as svc
from xiangchuang.users.service import UserScope

runner = CliRunner()


@pytest.fixture
def cli_env(db_engine, tmp_path, monkeypatch):
    url = db_engine.url.render_as_string(hide_password=False)
    if db_engine.dialect.name == "postgresql":
        with db_engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        url += f"?options=-csearch_path%3D{schema}"
    ring_file = tmp_path / "keyring.json"
    generate_keyring(ring_file)
    key = audit_key(KeyRing.load(None, ring_file))
    monkeypatch.setenv("XIANGCHUANG_DATABASE_URL", url)
    monkeypatch.setenv("XIANGCHUANG_KEYRING_FILE", str(ring_file))
    monkeypatch.delenv("XIANGCHUANG_KEYRING", raising=False)
    get_settings.cache_clear()
    yield key
    get_settings.cache_clear()


def test_overdue_and_summary_commands(db_engine, linked, cli_env):
    akey = cli_env
    clerk = UserScope(level="district", user_id=0, login="c.clerk", role="window_clerk", district=500101)
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(days=60)  # raised 60 days ago, default deadline 30 days
    with Session(db_engine) as s, s.begin():
        bno = s.execute(select(Business.business_no).where(Business.id == linked["business_id"])).scalar_one()
        svc.raise_problem(
            s, scope=clerk, audit_key=akey, now=earlier, params=load_parameters(), business_no=bno,
            category="permits", description="审批材料反复补正", owner_department="market", owner="登记科",
        )  # fmt: skip
    first = runner.invoke(app, ["services", "overdue"])
    assert first.exit_code == 0, first.output
    assert "逾期问题 1 个" in first.output and "新增预警 1 条" in first.output
    again = runner.invoke(app, ["services", "overdue"])
    assert again.exit_code == 0 and "新增预警 0 条" in again.output
    with db_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(StatAlert)).scalar() == 1
        assert conn.execute(select(func.count()).where(OutboxMessage.template == "stats.alert")).scalar() == 1
    shown = runner.invoke(app, ["services", "summary", "--district", "500101"], env={"COLUMNS": "120"})
    assert shown.exit_code == 0, shown.output
    assert "万州区" in shown.output and "领导干部联系企业与会商" in shown.output
