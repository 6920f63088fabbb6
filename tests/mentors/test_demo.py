"""The mentor pool's demo seeder on both databases: idempotent; the demo mentor holds a sealed seat."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.registry.factories import Registry
from xiangchuang.demo_seed import SEEDERS, SeedContext
from xiangchuang.mentors import demo
from xiangchuang.mentors import service as S
from xiangchuang.models import AccelerationSupport, Mentor, MentorEvent


def test_seed_is_idempotent_and_the_demo_mentor_has_a_seat(db_engine, pii):
    assert "xiangchuang.mentors.demo:seed" in SEEDERS
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        for i in range(4):
            reg.business(founder=reg.person(), registration_date=dt.date(2022, 1, 1 + i), district=500101)
        for _ in range(16):
            reg.person()
    ctx = SeedContext(cipher=pii.cipher, audit_key=bytes(32), on=dt.date(2025, 6, 1), district=500101)
    with Session(db_engine) as s, s.begin():
        first = demo.seed(s, ctx)
    assert "12 名演示导师" in first
    with Session(db_engine) as s, s.begin():
        assert "未重复创建" in demo.seed(s, ctx)
    keys = S.Keys(pii.cipher, bytes(32))
    with Session(db_engine) as s, s.begin():
        assert s.execute(select(func.count()).select_from(Mentor)).scalar_one() == 12
        assert s.execute(select(func.count()).select_from(MentorEvent)).scalar_one() == 2
        assert s.execute(select(func.count()).select_from(AccelerationSupport)).scalar_one() == 2
        seats = S.my_assignments(s, keys=keys, actor="demo.mentor")
        assert [a.event_no for a in seats] == ["DEMO-HD2"]
        view = S.draw_view(s, keys=keys, actor="demo.city", role="city_admin", event_no="DEMO-HD2")
        assert view.sealed and all(slot.name is None for slot in view.slots)
        past = S.draw_view(s, keys=keys, actor="demo.city", role="city_admin", event_no="DEMO-HD1")
        assert not past.sealed and all(slot.name for slot in past.slots)
