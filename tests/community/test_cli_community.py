"""``closures-pending`` (list, then --offer) and ``community-tag-report`` on a SQLite file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.registry.factories import Registry
from xiangchuang.cli import app
from xiangchuang.config import get_settings
from xiangchuang.crypto import FieldCipher, generate_keyring
from xiangchuang.db import make_engine
from xiangchuang.dbmigrate import upgrade
from xiangchuang.models import AuditEvent, BusinessTag, ClosureCase
from xiangchuang.registry.pii import Pii

runner = CliRunner()


def test_closures_pending_and_tag_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "c.db"
    ring = generate_keyring(tmp_path / "keyring.json")
    monkeypatch.setenv("XIANGCHUANG_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("XIANGCHUANG_KEYRING_FILE", str(tmp_path / "keyring.json"))
    get_settings.cache_clear()
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    with engine.begin() as conn:
        reg = Registry(conn, Pii(FieldCipher(ring)))
        reg.business(
            founder=reg.person(),
            no="B-NEW",
            registration_date=dt.date(2021, 1, 1),
            deregistration_date=dt.date(2025, 3, 1),
        )
        reg.business(
            founder=reg.person(),
            no="B-OLD",
            registration_date=dt.date(2019, 1, 1),
            deregistration_date=dt.date(2024, 1, 1),
        )
        b = reg.business(
            founder=reg.person(),
            no="B-OTHER",
            registration_date=dt.date(2021, 1, 1),
            district=500102,
            deregistration_date=dt.date(2025, 3, 2),
        )
        reg.business(
            founder=reg.person(), no="B-NODATE", registration_date=dt.date(2021, 1, 1), status="deregistered"
        )
        conn.execute(
            BusinessTag.__table__.insert().values(business_id=b, tag_kind="county_product", tag="榨菜")
        )
    try:
        res = runner.invoke(app, ["closures-pending", "--on", "2025-03-10", "--district", "500101"])
        assert res.exit_code == 0, res.output
        assert (
            "B-NEW" in res.output
            and "B-NODATE" in res.output
            and "B-OLD" not in res.output
            and "B-OTHER" not in res.output
        )
        assert "待发起帮扶：2 户" in res.output
        res = runner.invoke(app, ["closures-pending", "--on", "2025-03-10", "--offer", "--as", "ops"])
        assert res.exit_code == 0, res.output
        assert "已发起帮扶告知：3 户" in res.output
        res = runner.invoke(app, ["closures-pending", "--on", "2025-03-10"])
        assert "待发起帮扶：0 户" in res.output
        res = runner.invoke(app, ["closures-pending", "--on", "10/03/2025"])
        assert res.exit_code != 0 and "--on：日期 '10/03/2025' 须写为 YYYY-MM-DD" in res.output
        res = runner.invoke(app, ["closures-pending", "--district", "123"])
        assert res.exit_code != 0 and "须为重庆市41个区县之一的代码" in res.output
        with Session(engine) as s:
            assert sorted(s.execute(select(ClosureCase.case_no)).scalars()) == [
                "BF-B-NEW",
                "BF-B-NODATE",
                "BF-B-OTHER",
            ]
            actors = set(
                s.execute(
                    select(AuditEvent.actor).where(AuditEvent.action == "community.closure_offer")
                ).scalars()
            )
            assert actors == {"ops"}
        res = runner.invoke(app, ["community-tag-report", str(tmp_path / "t.xlsx")])
        assert res.exit_code == 0, res.output
        wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
        assert wb["按标签汇总"]["B3"].value == "榨菜"
    finally:
        get_settings.cache_clear()
        engine.dispose()
