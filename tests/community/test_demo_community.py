"""The community demo seeder: through the services (a drawn review included), idempotent (both databases)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.registry.factories import Registry
from xiangchuang.audit import audit_key
from xiangchuang.community import typical as T
from xiangchuang.community.demo import seed
from xiangchuang.demo_seed import SEEDERS, SeedContext
from xiangchuang.models import ClosureCase, ClosureReferral, MentorDraw, Nomination, ProjectReach


def test_demo_seed(db_engine, pii):
    assert "xiangchuang.community.demo:seed" in SEEDERS
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        for i in range(3):
            reg.business(
                founder=reg.person(), registration_date=dt.date(2020, 1, 1),
                deregistration_date=dt.date(2025, 6, 1 + i),
            )  # fmt: skip
        for _ in range(4):
            b = reg.business(founder=reg.person(), registration_date=dt.date(2021, 1, 1))
            reg.hire(b, reg.person(), dt.date(2022, 1, 1))
        for _ in range(5):
            reg.person()  # candidates for the review panel
    ctx = SeedContext(
        cipher=pii.cipher, audit_key=audit_key(pii.cipher.ring), on=dt.date(2025, 12, 31), district=500101
    )
    with Session(db_engine) as s, s.begin():
        summary = seed(s, ctx)
    assert "创业失败帮扶 3 户" in summary and "已公开宣传" in summary, summary
    with Session(db_engine) as s:
        assert s.execute(select(func.count()).select_from(ClosureCase)).scalar_one() == 3
        assert s.execute(select(ClosureReferral.state).order_by(ClosureReferral.id)).scalars().all() == [
            "completed",
            "referred",
        ]
        assert s.execute(select(func.count()).select_from(ProjectReach)).scalar_one() == 4
        assert s.execute(select(MentorDraw.status)).scalar_one() == "drawn"
        assert s.execute(select(func.count()).select_from(Nomination)).scalar_one() == 2
        stories = T.published_stories(s, cipher=pii.cipher)
        assert [x["name"] for x in stories] == ["刘某某"] and stories[0]["commendations"]
    with Session(db_engine) as s, s.begin():
        assert "跳过" in seed(s, ctx)
