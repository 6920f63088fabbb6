"""The work queue: scope, filters (state, kind, district, street, dates, objections), sorting, paging."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from tests.applications import ACTORS, D1, D2, act, application_in, create, setup
from xiangchuang.applications import repository as repo
from xiangchuang.db import make_sessionmaker
from xiangchuang.errors import Forbidden, ValidationFailed
from xiangchuang.models import Application


def _queue(engine, role="district_reviewer", district=D1, actor=None, **kw):
    with make_sessionmaker(engine)() as s:
        return repo.work_queue(
            s,
            actor=actor or ACTORS[role],
            role=role,
            actor_district=None if role in ("city_admin", "applicant") else district,
            **kw,
        )


def _fixture(engine):
    """Five D1 applications on two streets in three states, one D2 application."""
    ids = {
        "a": create(engine, street="龙都街道"),
        "b": create(engine, street="龙都街道", kind="online_sales_subsidy"),
        "c": create(engine, street="百安坝街道"),
    }
    ids["d"] = application_in(engine, "submitted")
    ids["e"] = application_in(engine, "objection")
    ids["x"] = create(engine, subject="B-OTHER", district=D2, role="window_clerk")
    return ids


def test_staff_see_their_district_applicants_their_own_and_the_city_everything(db_engine, pii):
    setup(db_engine, pii)
    ids = _fixture(db_engine)
    d1 = {a.id for a in _queue(db_engine, page_size=200).items}
    assert d1 == {ids[k] for k in "abcde"}
    assert {a.id for a in _queue(db_engine, "district_reviewer", district=D2).items} == {ids["x"]}
    assert _queue(db_engine, "city_admin").total == 6
    assert {a.id for a in _queue(db_engine, "city_admin", filters=repo.QueueFilter(district=D2)).items} == {
        ids["x"]
    }
    assert _queue(db_engine, "applicant").total == 6  # the helper's applicant made them all
    assert _queue(db_engine, "applicant", actor="someone-else").total == 0
    with pytest.raises(Forbidden, match="其他区县"):
        _queue(db_engine, filters=repo.QueueFilter(district=D2))


def test_filters_by_state_kind_street_objection_and_date(db_engine, pii):
    setup(db_engine, pii)
    ids = _fixture(db_engine)

    def got(**f):
        return {a.id for a in _queue(db_engine, filters=repo.QueueFilter(**f)).items}

    assert got(states=("draft",)) == {ids["a"], ids["b"], ids["c"]}
    assert got(states=("submitted", "objection")) == {ids["d"], ids["e"]}
    assert got(kinds=("online_sales_subsidy",)) == {ids["b"]}
    assert got(street="龙都街道") == {ids["a"], ids["b"]}
    assert got(street="龙都街道", kinds=("startup_subsidy",)) == {ids["a"]}
    assert got(has_open_objection=True) == {ids["e"]}
    assert ids["e"] not in got(has_open_objection=False)
    assert got(subject_key="B-VET", states=("draft",)) == {ids["a"], ids["b"], ids["c"]}
    today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    assert got(created_from=today, created_to=today) == {ids[k] for k in "abcde"}
    assert got(created_to=today - dt.timedelta(days=1)) == set()
    with pytest.raises(ValidationFailed, match="未知状态"):
        got(states=("flying",))
    with pytest.raises(ValidationFailed, match="未知类型"):
        got(kinds=("loan_individual",))


def test_sorting_is_stable_and_paging_covers_every_row_once(db_engine, pii):
    setup(db_engine, pii)
    made = [create(db_engine) for _ in range(7)]
    with db_engine.begin() as conn:
        for n, app_id in enumerate(made):
            conn.execute(
                update(Application).where(Application.id == app_id).values(amount_requested_fen=(n % 3) * 100)
            )
    seen: list[int] = []
    for page in (1, 2, 3):
        p = _queue(db_engine, sort="amount", descending=True, page=page, page_size=3)
        assert p.total == 7 and p.pages == 3
        seen += [a.id for a in p.items]
    assert sorted(seen) == sorted(made)
    amounts = {app_id: (n % 3) * 100 for n, app_id in enumerate(made)}
    assert seen == sorted(made, key=lambda i: (-amounts[i], -i))
    asc = _queue(db_engine, sort="application_no", page_size=200).items
    assert [a.application_no for a in asc] == sorted(a.application_no for a in asc)
    for bad in ({"sort": "password"}, {"page": 0}, {"page_size": 1000}):
        with pytest.raises(ValidationFailed):
            _queue(db_engine, **bad)


def test_states_count_and_the_moved_queries_behave_as_before(db_engine, pii):
    setup(db_engine, pii)
    _fixture(db_engine)
    with make_sessionmaker(db_engine)() as s:
        assert repo.states_count(s, district=D1) == {"draft": 3, "submitted": 1, "objection": 1}
        assert sum(repo.states_count(s, district=None).values()) == 6
    app_id = application_in(db_engine, "second_review")
    act(db_engine, app_id, "pass_second_review", "district_reviewer")
    with make_sessionmaker(db_engine)() as s:
        assert repo.latest_amount(s, app_id) == 197_531
        assert repo.latest_checkup(s, app_id) == ("eligible", 197_531)
        assert repo.open_objections(s, app_id) == 0
