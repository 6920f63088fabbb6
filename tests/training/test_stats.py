"""The training indicators in the quarterly statistics: trainees and completions by course kind, completers
who later registered a business, classes by mode — per district and quarter, on both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tests.registry.factories import Registry
from tests.training.world import CLERK, KEY, NOW, PARAMS, D, build, new_class
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.stats import indicators as registry
from xiangchuang.stats.periods import Quarter, Window
from xiangchuang.stats.service import CITY, compute
from xiangchuang.training import service as svc

Q1 = Quarter(2025, 1)
AFTER = dt.datetime(2025, 3, 10, 2, 0, tzinfo=dt.UTC)


def test_training_figures(db_engine, pii):
    w = build(db_engine, pii)
    cls = new_class(db_engine, pii.cipher, w, w.syb_course)
    sk = new_class(db_engine, pii.cipher, w, w.skills_course, capacity=1)
    sessions = make_sessionmaker(db_engine)
    with transaction(sessions) as s:
        nos = []
        for person in (w.preparing, w.licensed):
            e = svc.enrol(s, class_id=cls, person_id=person, who=CLERK, audit_key=KEY, params=PARAMS, now=NOW)
            nos.append(e.training_no)
        svc.enrol(s, class_id=sk, person_id=w.preparing, who=CLERK, audit_key=KEY, params=PARAMS, now=NOW)
        svc.enrol(
            s, class_id=sk, person_id=w.licensed, who=CLERK, audit_key=KEY, params=PARAMS, now=NOW
        )  # waits
        for k in range(1, 6):
            svc.record_attendance(
                s, class_id=cls, session_no=k, session_date=dt.date(2025, 3, 2 + k),
                present={nos[0]: True, nos[1]: k == 1}, who=w.provider_actor, audit_key=KEY, now=AFTER,
            )  # fmt: skip
        svc.complete_class(s, class_id=cls, who=w.provider_actor, audit_key=KEY, params=PARAMS, now=AFTER)
    with db_engine.begin() as conn:  # the completer founds a business after completing
        Registry(conn, pii).business(no="B-LATER", founder=w.preparing, registration_date=dt.date(2025, 4, 2))
    inds = registry.all_indicators("training")
    assert [i.id for i in inds] == [
        "training_trainees",
        "training_completions",
        "training_completers_registered",
        "training_classes",
    ]
    with Session(db_engine) as s:
        figs = compute(s, window=Window((Q1,)), indicators=inds)[Q1.label]
    assert figs[("training_trainees", D, "syb")] == 2
    assert figs[("training_trainees", D, "skills")] == 1  # the waiting-list trainee is not counted
    assert figs[("training_trainees", CITY, "syb")] == 2
    assert figs[("training_completions", D, "syb")] == 1
    assert figs[("training_completers_registered", D, "syb")] == 1
    assert figs[("training_classes", D, "night_school")] == 2
