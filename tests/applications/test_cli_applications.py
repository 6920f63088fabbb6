"""The application commands: invite (idempotent), expire-invitations, publicity (masked, Excel export)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import openpyxl
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.applications import KEY, application_in, setup, stored_run
from xiangchuang.applications import cli_applications
from xiangchuang.cli import app
from xiangchuang.config import get_settings
from xiangchuang.db import make_sessionmaker
from xiangchuang.models import (
    Application,
    AuditEvent,
    Determination,
    MatchResult,
    MatchRun,
    ParameterChange,
)

runner = CliRunner()


@pytest.fixture
def cli_env(db_engine, pii, monkeypatch):
    url = db_engine.url.render_as_string(hide_password=False)
    if db_engine.dialect.name == "postgresql":
        with db_engine.connect() as conn:
            path = conn.execute(text("SHOW search_path")).scalar_one()
        url += f"?options=-csearch_path%3D{path.strip(chr(34))}"
    ring = pii.cipher.ring
    doc = {
        "active": ring.active,
        "keys": {k: base64.b64encode(v).decode() for k, v in ring.keys.items()},
        "index_key": base64.b64encode(ring.index_key).decode(),
    }
    monkeypatch.setenv("XIANGCHUANG_DATABASE_URL", url)
    monkeypatch.setenv("XIANGCHUANG_KEYRING", json.dumps(doc))
    monkeypatch.setattr(cli_applications, "audit_key", lambda _ring: KEY)  # one chain key with the helpers
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_invite_is_idempotent_and_expire_runs(db_engine, pii, cli_env):
    setup(db_engine, pii)
    run_id = stored_run(db_engine, [("startup_subsidy", "B-VET", 197_531)])
    first = runner.invoke(app, ["invite", str(run_id), "--district", "500101", "--actor", "u-reviewer"])
    assert first.exit_code == 0, first.output
    assert "新发出邀请 1 份" in first.output
    again = runner.invoke(app, ["invite", str(run_id), "--district", "500101"])
    assert again.exit_code == 0 and "新发出邀请 0 份；此前已邀请 1 份" in again.output
    with Session(db_engine) as s:
        assert s.execute(select(func.count()).select_from(Application)).scalar_one() == 1
    expired = runner.invoke(app, ["expire-invitations"])
    assert expired.exit_code == 0 and "已过期的邀请 0 份" in expired.output  # valid for 30 days from today
    missing = runner.invoke(app, ["invite", "999"])
    assert missing.exit_code == 1 and "政策找人运行 999 不存在" in missing.output


def test_publicity_prints_the_masked_list_and_exports_it(db_engine, pii, cli_env, tmp_path):
    setup(db_engine, pii)
    application_in(db_engine, "publicity")
    out = tmp_path / "公示.xlsx"
    result = runner.invoke(app, ["publicity", "GS50010120250303", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "已导出 1 行" in result.output and "¥1,975.31" in result.output
    assert not re.search(r"\d{17}[\dX]", result.output)
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows[3][4] == "创业补助"
    with Session(db_engine) as s:
        assert (
            s.execute(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "export.publicity_list")
            ).scalar_one()
            == 1
        )
    unknown = runner.invoke(app, ["publicity", "GS0"])
    assert unknown.exit_code == 1 and "公示批次 GS0 不存在" in unknown.output


def test_match_explain_and_invite_use_the_approved_parameter_changes(db_engine, pii, cli_env):
    """The registry commands evaluate with the parameters in force, as the web does: a city change
    approved by four eyes (startup subsidy 20% → 25% from 2025-01-01) reaches the stored match result,
    its re-derived explanation and the invitation's requested amount and attached determination alike
    (before, the commands read the YAML only: 197,531 fen stored and invited, 246,913 determined)."""
    setup(db_engine, pii)
    at = dt.datetime(2025, 1, 2, 2, 0, tzinfo=dt.UTC)
    with make_sessionmaker(db_engine)() as s, s.begin():
        s.add(
            ParameterChange(
                name="startup_subsidy.rate",
                value="0.25",
                since=dt.date(2025, 1, 1),
                reference="渝人社〔2025〕测试号",
                reason="提高比例",
                state="approved",
                requested_by="city.a",
                requested_at=at,
                decided_by="city.b",
                decided_at=at,
            )
        )
    res = runner.invoke(app, ["match-db", "--on", "2025-03-03", "--district", "500101", "--no-snapshot"])
    assert res.exit_code == 0, res.output
    with Session(db_engine) as s:
        run_id = s.execute(select(func.max(MatchRun.id))).scalar_one()
        result = s.execute(
            select(MatchResult).where(
                MatchResult.run_id == run_id,
                MatchResult.program == "startup_subsidy",
                MatchResult.subject_key == "B-VET",
            )
        ).scalar_one()
    assert result.amount_fen == 246_913  # 25% of 987,653
    explained = runner.invoke(app, ["explain-match", str(result.id), "--json"])
    assert explained.exit_code == 0, explained.output
    doc = json.loads(explained.output)
    assert doc["amount_fen"] == doc["stored"]["amount_fen"] == 246_913
    assert not any("参数版本" in w for w in doc["warnings"])
    invited = runner.invoke(
        app, ["invite", str(run_id), "--district", "500101", "--program", "startup_subsidy"]
    )
    assert invited.exit_code == 0 and "新发出邀请 1 份" in invited.output, invited.output
    with Session(db_engine) as s:
        application = s.execute(select(Application)).scalar_one()
        determination = s.execute(
            select(Determination).where(Determination.application_id == application.id)
        ).scalar_one()
    assert application.amount_requested_fen == determination.amount_fen == 246_913
