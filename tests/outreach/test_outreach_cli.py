"""``xiangchuang outreach purge`` (the scheduled command) and ``outreach talent-pool`` on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from xiangchuang.audit import audit_key
from xiangchuang.cli import app
from xiangchuang.config import get_settings
from xiangchuang.crypto import KeyRing, generate_keyring
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.models import AuditEvent, OutreachPerson
from xiangchuang.outreach import service as S

runner = CliRunner()


@pytest.fixture
def cli_key(db_engine, tmp_path, monkeypatch):
    url = db_engine.url.render_as_string(hide_password=False)
    if db_engine.dialect.name == "postgresql":
        with db_engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        url += f"?options=-csearch_path%3D{schema}"
    ring_file = tmp_path / "keyring.json"
    generate_keyring(ring_file)
    monkeypatch.setenv("XIANGCHUANG_DATABASE_URL", url)
    monkeypatch.setenv("XIANGCHUANG_KEYRING_FILE", str(ring_file))
    monkeypatch.delenv("XIANGCHUANG_KEYRING", raising=False)
    get_settings.cache_clear()
    yield audit_key(KeyRing.load(None, ring_file))
    get_settings.cache_clear()


def test_purge_command_deletes_and_audits(db_engine, pii, cli_key):
    actor = S.Actor("c.clerk", "window_clerk", 500101)
    today = dt.date(2026, 11, 20)
    with transaction(make_sessionmaker(db_engine)) as s:
        ids = []
        for k, consent in enumerate((dt.date(2023, 11, 1), dt.date(2026, 1, 1))):
            row = S.register_person(
                s,
                actor=actor,
                cipher=pii.cipher,
                data=S.PersonInput(
                    "张三", f"1391111000{k}", "龙兴镇", "深圳", "电子", "焊接", consent, "电话"
                ),
                audit_key=cli_key,
                today=today,
            )
            ids.append(row.id)
        S.add_hometown_talent(
            s,
            actor=actor,
            kind="tu_zhuanjia",
            town="龙兴镇",
            trade="种植",
            skills="嫁接",
            recognised_on=today,
            outreach_person_id=ids[1],
            audit_key=cli_key,
            today=today,
        )
    pool = runner.invoke(app, ["outreach", "talent-pool", "--district", "500101"])
    assert pool.exit_code == 0 and "土专家" in pool.output and "共 1 人" in pool.output, pool.output
    r = runner.invoke(app, ["outreach", "purge", "--on", "2026-11-20"])
    assert r.exit_code == 0, r.output
    out = r.output.replace("\n", "")
    assert "超过保存期限 1 条" in out and "撤回同意 0 条" in out
    with db_engine.connect() as conn:
        assert list(conn.execute(select(OutreachPerson.id)).scalars()) == [ids[1]]
        details = conn.execute(
            select(AuditEvent.details).where(AuditEvent.action == "outreach.purge")
        ).scalar_one()
    assert details["expired_ids"] == [ids[0]] and details["retention_months"] == 36
    bad = runner.invoke(app, ["outreach", "purge", "--on", "2026-13-40"])
    assert bad.exit_code == 2 and "--on：日期 2026-13-40 不存在" in bad.output, bad.output
