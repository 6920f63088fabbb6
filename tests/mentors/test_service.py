"""Mentor pool services on SQLite and PostgreSQL: Excel import, event, commitments, sealed draw, the
role matrix before unseal, declines, manifest export, scoring, acceleration and service records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from tests.registry.factories import Registry
from xiangchuang.audit.chain import verify as verify_audit
from xiangchuang.crypto import FieldCipher
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.errors import Conflict, Forbidden, InvalidTransition, ValidationFailed
from xiangchuang.mentors import draw as D
from xiangchuang.mentors import service as S
from xiangchuang.models import (
    AuditEvent,
    Business,
    InboxMessage,
    Mentor,
    MentorDraw,
    MentorDrawSlot,
    MentorScore,
    OutboxMessage,
    Person,
)
from xiangchuang.registry.importer import import_file, write_error_report
from xiangchuang.registry.pii import Pii

EVENT_DAY = dt.date(2025, 6, 12)  # Thursday
BEFORE = dt.datetime(2025, 6, 9, 1, 0, tzinfo=dt.UTC)  # Monday: earlier than 2 working days before
DRAW_AT = dt.datetime(2025, 6, 10, 1, 0, tzinfo=dt.UTC)  # Tuesday 09:00 in Chongqing
UNSEAL = dt.datetime(2025, 6, 12, 0, 30, tzinfo=dt.UTC)
AFTER = dt.datetime(2025, 6, 12, 1, 0, tzinfo=dt.UTC)
STAFF_ACTORS = {
    "city_admin": "u-city",
    "district_reviewer": "u-reviewer",
    "organiser": "u-org",
    "supervisor": "u-sup",
    "chair": "u-chair",
    "auditor": "u-audit",
}


def _keys(pii: Pii) -> S.Keys:
    cipher: FieldCipher = pii.cipher
    return S.Keys(cipher, bytes(range(32)))


def _xlsx(path: Path, headers: list[str], rows: list[list[Any]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


HEADERS = [
    "导师编号",
    "人员编号",
    "导师层级",
    "主专业",
    "工作单位统一社会信用代码",
    "工作单位",
    "所在区县",
    "登录账号",
]


def _setup(engine: Engine, pii: Pii, tmp_path: Path) -> dict[str, Any]:
    """Applicants, 9 agriculture/city and 5 ecommerce/district mentors, imported from Excel."""
    with engine.begin() as conn:
        reg = Registry(conn, pii)
        applicant = reg.person(no="P-APP")
        biz = reg.business(
            no="B-APP", founder=applicant, registration_date=dt.date(2021, 1, 1), district=500102
        )
        reg.person(no="P-STAFF")
        for i in range(14):
            reg.person(no=f"P-M{i:02d}")
        uscc = conn.execute(select(Business.uscc).where(Business.id == biz)).scalar_one()
    rows = []
    for i in range(14):
        city = i < 9
        rows.append(
            [
                f"T{i:02d}",
                f"P-M{i:02d}",
                "市级" if city else "区县级",
                "农业种养" if city else "电子商务",
                uscc if i == 0 else None,  # T00 works for the applicant business: recused
                "某大学" if i else None,
                "万州区",
                f"u-m{i:02d}",
            ]
        )
    path = _xlsx(tmp_path / "mentors.xlsx", HEADERS, rows)
    with engine.begin() as conn:
        res = import_file(conn, kind="mentors", path=path, pii=pii)
    assert res.ok and res.inserted == 14, res.errors
    return {"uscc": uscc}


def test_mentor_import_reports_row_column_and_rule_in_chinese(
    db_engine: Engine, pii: Pii, tmp_path: Path
) -> None:
    with db_engine.begin() as conn:
        Registry(conn, pii).person(no="P-X")
    rows = [
        ["T1", "P-X", "省级", "农业种养", None, None, "万州区", None],
        ["T2", "P-X", "市级", "种花", None, None, "火星区", None],
        ["T3", "P-NOBODY", "市级", "农业种养", None, None, "万州区", None],
    ]
    path = _xlsx(tmp_path / "bad.xlsx", HEADERS, rows)
    with db_engine.begin() as conn:
        res = import_file(conn, kind="mentors", path=path, pii=pii, error_report="r.xlsx")
    assert not res.ok and res.inserted == 0
    by = {(e.row, e.column): e.reason for e in res.errors}
    assert "导师层级" in {c for _, c in by} and "市级、区县级" in by[(2, "导师层级")]
    assert (3, "主专业") in by and (3, "所在区县") in by
    assert any(r == 4 and "人员" in reason for (r, _), reason in by.items()), by
    report = write_error_report(res, tmp_path / "report.xlsx")
    ws = openpyxl.load_workbook(report).worksheets[0]
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    assert "导师层级" in text and "行" in text
    with Session(db_engine) as s:
        assert s.execute(select(func.count()).select_from(Mentor)).scalar_one() == 0


def _event(s: Session, keys: S.Keys, **kw: Any) -> None:
    S.create_event(
        s,
        keys=keys,
        actor="u-org",
        role="organiser",
        event_no=kw.get("event_no", "E1"),
        title="2025年返乡创业大赛复赛",
        kind="project_review",
        event_date=EVENT_DAY,
        unseal_at=UNSEAL,
        quotas=kw.get("quotas", [("agriculture", "city", 3), ("ecommerce", "district", 2)]),
        backups=1,
        projects=[
            S.ProjectIn("PJ1", "生态养殖", person_no="P-APP", business_no="B-APP", returning=True),
            S.ProjectIn("PJ2", "电商助农", person_no="P-M13", returning=False),
        ],
        organiser_user="u-org",
        supervisor_user="u-sup",
        chair_user="u-chair",
        staff_person_nos=["P-M01"],
    )


def _drawn(engine: Engine, pii: Pii, tmp_path: Path) -> tuple[S.Keys, int, str]:
    _setup(engine, pii, tmp_path)
    keys = _keys(pii)
    secrets = {"u-org": D.make_secret(), "u-sup": D.make_secret()}
    with Session(engine) as s, s.begin():
        _event(s, keys)
    with Session(engine) as s, s.begin():
        # relatives and involvement declared by mentors themselves
        S.declare_relation(s, keys=keys, actor="u-m02", person_no="P-APP", relation="spouse")
        S.record_involvement(
            s,
            keys=keys,
            actor="u-m03",
            role="mentor",
            mentor_no="T03",
            kind="invested",
            on=dt.date(2023, 5, 1),
            business_no="B-APP",
        )
    with Session(engine) as s, s.begin(), pytest.raises(InvalidTransition):
        S.reveal(s, keys=keys, actor="u-org", role="organiser", event_no="E1", secret=secrets["u-org"])
    for user, party in (("u-org", "organiser"), ("u-sup", "supervisor")):
        with Session(engine) as s, s.begin():
            S.commit(
                s,
                keys=keys,
                actor=user,
                role=party,
                event_no="E1",
                commitment=D.commitment("E1", party, secrets[user]),
            )
    with Session(engine) as s, s.begin(), pytest.raises(ValidationFailed, match="承诺不符"):
        S.reveal(s, keys=keys, actor="u-org", role="organiser", event_no="E1", secret=D.make_secret())
    for user in secrets:
        with Session(engine) as s, s.begin():
            S.reveal(s, keys=keys, actor=user, role="organiser", event_no="E1", secret=secrets[user])
    with Session(engine) as s, s.begin(), pytest.raises(InvalidTransition, match="最早抽取时间"):
        S.run_draw(s, keys=keys, actor="u-org", role="organiser", event_no="E1", now=BEFORE)
    with Session(engine) as s, s.begin():
        d = S.run_draw(s, keys=keys, actor="u-org", role="organiser", event_no="E1", now=DRAW_AT)
        return keys, d.id, d.status


def _seated(s: Session, keys: S.Keys, d: MentorDraw) -> dict[int, str]:
    man = S._manifest(keys, d)
    by_p = S._mentors_by_pseudonym(s, keys, {p["mentor"] for p in man["result"]["panel"]})
    return {p["slot"]: by_p[p["mentor"]].user_id or "" for p in man["result"]["panel"]}


def test_draw_lifecycle_recusal_and_role_matrix(db_engine: Engine, pii: Pii, tmp_path: Path) -> None:
    keys, draw_id, status = _drawn(db_engine, pii, tmp_path)
    assert status == "drawn"
    with Session(db_engine) as s:
        d = s.get(MentorDraw, draw_id)
        assert d is not None
        man = S._manifest(keys, d)
        assert D.verify(man).ok
        reasons = {e["mentor"]: {r["code"] for r in e["reasons"]} for e in man["result"]["excluded"]}
        p = {no: S.mentor_pseudonym(keys.cipher, no) for no in ("T00", "T01", "T02", "T03", "T13")}
        assert reasons[p["T00"]] == {"employer"}
        assert reasons[p["T01"]] == {"supervising_staff"}
        assert reasons[p["T02"]] == {"relation"}
        assert reasons[p["T03"]] == {"prior_involvement"}
        assert reasons[p["T13"]] == {"applicant"}
        seated = _seated(s, keys, d)
    assert len(seated) == 5
    names = {f"测试人员{k}" for k in range(1, 40)}
    # Role matrix before unseal: no staff role sees a name or the seed; the manifest cannot be exported.
    for role, actor in STAFF_ACTORS.items():
        with Session(db_engine) as s, s.begin():
            view = S.draw_view(s, keys=keys, actor=actor, role=role, event_no="E1", now=DRAW_AT)
            assert view.sealed and view.seed is None
            assert all(x.mentor_no is None and x.name is None for x in view.slots)
            assert not any(n in repr(view) for n in names)
            assert [x.status for x in view.slots] == ["notified"] * 5
        with Session(db_engine) as s, s.begin(), pytest.raises(Forbidden, match="密封"):
            S.export_manifest(s, keys=keys, actor=actor, role=role, event_no="E1", now=DRAW_AT)
    # Mentors: only their own seat; staff views are refused.
    for i in range(14):
        user = f"u-m{i:02d}"
        with Session(db_engine) as s, s.begin():
            mine = S.my_assignment(s, keys=keys, actor=user, event_no="E1", now=DRAW_AT)
            if user in seated.values():
                assert mine is not None and seated[mine.slot] == user
            else:
                assert mine is None
            with pytest.raises(Forbidden):
                S.draw_view(s, keys=keys, actor=user, role="mentor", event_no="E1", now=DRAW_AT)
    with Session(db_engine) as s:
        # The slots table holds no mentor; the sealed manifest holds no plaintext pseudonym.
        cols = set(MentorDrawSlot.__table__.c.keys())
        assert not any("mentor" in c for c in cols)
        blob = s.execute(select(MentorDraw.manifest_enc)).scalar_one()
        assert all(S.mentor_pseudonym(keys.cipher, f"T{i:02d}").encode() not in blob for i in range(14))
        sealed_views = s.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "mentor_draw.view_sealed")
        ).scalar_one()
        assert sealed_views == len(STAFF_ACTORS)
        own = s.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "mentor_draw.own_assignment")
        ).scalar_one()
        assert own == 14
        denied = s.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "mentor_draw.export", AuditEvent.outcome == "denied")
        ).scalar_one()
        assert denied == len(STAFF_ACTORS)
        # Each seated mentor got one notification, addressed to them only.
        msgs = list(
            s.execute(select(OutboxMessage).where(OutboxMessage.template == "mentor_draw.assigned")).scalars()
        )
        assert sorted(m.recipient_user or "" for m in msgs) == sorted(seated.values())
        assert all(set(m.payload) == {"event_no", "title", "event_date", "slot", "message"} for m in msgs)
        assert s.execute(select(func.count()).select_from(InboxMessage)).scalar_one() == 0
        assert verify_audit(s, keys.audit) is None

    # A seated mentor declines: the next backup of the stratum takes the slot and is notified.
    slot, user = min(seated.items())
    with Session(db_engine) as s, s.begin():
        S.respond(s, keys=keys, actor=user, event_no="E1", accept=False, now=DRAW_AT)
    with Session(db_engine) as s, s.begin():
        d2 = s.get(MentorDraw, draw_id)
        assert d2 is not None and d2.version == 2
        after = _seated(s, keys, d2)
        assert after[slot] != user and user not in after.values()
        man = S._manifest(keys, d2)
        assert man["result"]["replacements"][0]["declined"] == S.mentor_pseudonym(
            keys.cipher, user.replace("u-m", "T")
        )
        assert D.verify(man).ok
        new_user = after[slot]
        n = s.execute(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.recipient_user == new_user)
        ).scalar_one()
        assert n == 1
        for u in after.values():
            S.respond(s, keys=keys, actor=u, event_no="E1", accept=True, now=DRAW_AT)
    with Session(db_engine) as s, s.begin():
        view = S.draw_view(
            s, keys=keys, actor="u-reviewer", role="district_reviewer", event_no="E1", now=DRAW_AT
        )
        assert [x.status for x in view.slots] == ["confirmed"] * 5 and all(x.name is None for x in view.slots)

    # After unseal: the supervisor and chair see names; other staff still do not; export verifies.
    with Session(db_engine) as s, s.begin():
        sup = S.draw_view(s, keys=keys, actor="u-sup", role="supervisor", event_no="E1", now=AFTER)
        assert not sup.sealed and all(x.name for x in sup.slots)
        assert {x.mentor_no for x in sup.slots} == {u.replace("u-m", "T") for u in after.values()}
        rev = S.draw_view(
            s, keys=keys, actor="u-reviewer", role="district_reviewer", event_no="E1", now=AFTER
        )
        assert all(x.name is None for x in rev.slots)
        man = S.export_manifest(s, keys=keys, actor="u-sup", role="supervisor", event_no="E1", now=AFTER)
        assert D.verify(man).ok
        with pytest.raises(Forbidden):
            S.export_manifest(s, keys=keys, actor=new_user, role="mentor", event_no="E1", now=AFTER)
        with pytest.raises(InvalidTransition):
            S.respond(s, keys=keys, actor=new_user, event_no="E1", accept=False, now=AFTER)
        with pytest.raises(Conflict):
            S.run_draw(s, keys=keys, actor="u-org", role="organiser", event_no="E1", now=AFTER)

    # Scoring: sealed until all are in, trimmed mean when ≥ 5 scores, ranks, awards, acceleration.
    users = sorted(after.values())
    scores = {"PJ1": [90, 80, 85, 70, 99], "PJ2": [60, 95, 75, 75, 75]}
    with Session(db_engine) as s, s.begin():
        for j, u in enumerate(users):
            S.submit_score(
                s, keys=keys, actor=u, event_no="E1", project_no="PJ1", score=scores["PJ1"][j], now=AFTER
            )
        with pytest.raises(Conflict):
            S.submit_score(s, keys=keys, actor=users[0], event_no="E1", project_no="PJ1", score=1, now=AFTER)
        with pytest.raises(Forbidden):
            S.submit_score(s, keys=keys, actor="u-m01", event_no="E1", project_no="PJ1", score=1, now=AFTER)
        with pytest.raises(InvalidTransition, match="5/10"):
            S.finalize_scores(s, keys=keys, actor="u-org", role="organiser", event_no="E1")
        raw = [r for r in s.execute(select(MentorScore.score_enc)).scalars()]
        assert all(b"90" not in r for r in raw)
        for j, u in enumerate(users):
            S.submit_score(
                s, keys=keys, actor=u, event_no="E1", project_no="PJ2", score=scores["PJ2"][j], now=AFTER
            )
        ranked = S.finalize_scores(
            s, keys=keys, actor="u-chair", role="chair", event_no="E1", awards=[("一等奖", 1), ("二等奖", 1)]
        )
    assert [(r.project_no, r.score_milli, r.award) for r in ranked] == [
        ("PJ1", 85000, "一等奖"),
        ("PJ2", 75000, "二等奖"),
    ]
    with Session(db_engine) as s, s.begin():
        with pytest.raises(ValidationFailed, match="返乡"):
            S.select_for_acceleration(
                s, keys=keys, actor="u-city", role="city_admin", year=2025, event_no="E1", project_no="PJ2"
            )
        sel = S.select_for_acceleration(
            s, keys=keys, actor="u-city", role="city_admin", year=2025, event_no="E1", project_no="PJ1"
        )
        S.record_support(
            s,
            keys=keys,
            actor="u-city",
            role="city_admin",
            selection_id=sel.id,
            kind="financing",
            on=dt.date(2025, 7, 1),
            description="对接创业担保贷款",
            progress=30,
        )
        S.record_support(
            s,
            keys=keys,
            actor="u-city",
            role="city_admin",
            selection_id=sel.id,
            kind="financing",
            on=dt.date(2025, 9, 1),
            description="贷款已发放",
            progress=100,
        )
        with pytest.raises(ValidationFailed, match="倒退"):
            S.record_support(
                s,
                keys=keys,
                actor="u-city",
                role="city_admin",
                selection_id=sel.id,
                kind="financing",
                on=dt.date(2025, 10, 1),
                description="x",
                progress=50,
            )
        S.record_support(
            s,
            keys=keys,
            actor="u-city",
            role="city_admin",
            selection_id=sel.id,
            kind="brand",
            on=dt.date(2025, 8, 1),
            description="注册商标",
            progress=50,
        )
        report = S.acceleration_report(s, year=2025)
        sel_id = sel.id
    assert report == [
        {
            "selection_id": sel_id,
            "project_no": "PJ1",
            "award": "一等奖",
            "progress": {"financing": 100, "brand": 50},
        }
    ]
    with Session(db_engine) as s:
        assert verify_audit(s, keys.audit) is None


def test_infeasible_draw_fails_closed_with_the_reason(db_engine: Engine, pii: Pii, tmp_path: Path) -> None:
    _setup(db_engine, pii, tmp_path)
    keys = _keys(pii)
    secrets = {"organiser": D.make_secret(), "supervisor": D.make_secret()}
    with Session(db_engine) as s, s.begin():
        _event(s, keys, event_no="E2", quotas=[("agriculture", "city", 3), ("ecommerce", "district", 4)])
    for party, user in (("organiser", "u-org"), ("supervisor", "u-sup")):
        with Session(db_engine) as s, s.begin():
            S.commit(
                s,
                keys=keys,
                actor=user,
                role=party,
                event_no="E2",
                commitment=D.commitment("E2", party, secrets[party]),
            )
    for party, user in (("organiser", "u-org"), ("supervisor", "u-sup")):
        with Session(db_engine) as s, s.begin():
            S.reveal(s, keys=keys, actor=user, role=party, event_no="E2", secret=secrets[party])
    with Session(db_engine) as s, s.begin():
        d = S.run_draw(s, keys=keys, actor="u-sup", role="supervisor", event_no="E2", now=DRAW_AT)
        status, failure = d.status, d.failure
    assert status == "failed"
    # ecommerce/district: 5 in the pool, T13 is an applicant → 4 eligible, need 4 + 1 backup.
    assert failure is not None and "专业×级别 分层可用导师不足：电子商务×区县级" in failure
    assert "可用 4 名" in failure
    with Session(db_engine) as s:
        assert s.execute(select(func.count()).select_from(MentorDrawSlot)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == 0


def test_service_records_feed_the_engine(db_engine: Engine, pii: Pii, tmp_path: Path) -> None:
    _setup(db_engine, pii, tmp_path)
    keys = _keys(pii)
    with Session(db_engine) as s, s.begin():
        S.record_service(
            s,
            keys=keys,
            actor="u-m04",
            role="mentor",
            service_no="S1",
            mentor_no="T04",
            activity="lecture",
            units=3,
            district=500101,
            occurred_on=dt.date(2025, 3, 1),
            organiser="万州区就业局",
        )
        with pytest.raises(Forbidden):
            S.record_service(
                s,
                keys=keys,
                actor="u-m04",
                role="mentor",
                service_no="S2",
                mentor_no="T05",
                activity="lecture",
                units=1,
                district=500101,
                occurred_on=dt.date(2025, 3, 1),
                organiser="x",
            )
        S.record_service(
            s,
            keys=keys,
            actor="u-org",
            role="organiser",
            service_no="S3",
            mentor_no="T10",
            activity="pairing",
            units=2,
            district=500101,
            occurred_on=dt.date(2025, 3, 2),
            organiser="万州区就业局",
        )
    with Session(db_engine) as s, s.begin():
        rows = S.service_rows(s)
        assert [r["confirmed"] for r in rows] == [False, False]
        S.confirm_service(s, keys=keys, actor="u-org", role="organiser", service_no="S1", rating="excellent")
        with pytest.raises(InvalidTransition):
            S.confirm_service(s, keys=keys, actor="u-org", role="organiser", service_no="S1", rating="good")
        S.confirm_service(s, keys=keys, actor="u-org", role="organiser", service_no="S3", rating="pass")
        rows = S.service_rows(s)
    res = evaluate({"mentor_services": rows, "received": []}, dt.date(2025, 6, 1))
    out = {r["subject"]["id"]: r for r in res["programs"] if r["program"] == "mentor_service_subsidy"}
    assert out["S1"]["status"] == "eligible" and out["S1"]["amount_fen"] == 360000  # 3 × 1000 × 1.2
    assert out["S3"]["status"] == "eligible" and out["S3"]["amount_fen"] == 192000  # 2 × 1200 × 0.8


def test_mentor_maintains_only_their_own_profile(db_engine: Engine, pii: Pii, tmp_path: Path) -> None:
    _setup(db_engine, pii, tmp_path)
    keys = _keys(pii)
    with Session(db_engine) as s, s.begin():
        S.update_own_profile(
            s, keys=keys, actor="u-m05", changes={"available": False, "other_specialties": "财务"}
        )
        with pytest.raises(ValidationFailed, match="主专业"):
            S.update_own_profile(s, keys=keys, actor="u-m05", changes={"level": "city", "specialty": "law"})
        with pytest.raises(Forbidden):
            S.update_own_profile(s, keys=keys, actor="u-nobody", changes={"available": True})
        prof = S.my_profile(s, keys=keys, actor="u-m05")
    assert prof["mentor_no"] == "T05" and prof["available"] is False


def test_applicant_employer_from_employment_records_recuses_by_uscc_or_name(
    db_engine: Engine, pii: Pii, tmp_path: Path
) -> None:
    """T04 gives the applicant's employer by name only, T05 by USCC: both are recused; T06 (another
    employer) is not."""
    _setup(db_engine, pii, tmp_path)
    keys = _keys(pii)
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        app_person = conn.execute(select(Person.id).where(Person.person_no == "P-APP")).scalar_one()
        emp = reg.business(no="B-EMP", founder=None, registration_date=dt.date(2015, 1, 1))
        reg.hire(emp, app_person, dt.date(2020, 1, 1))
        name, uscc = conn.execute(select(Business.name, Business.uscc).where(Business.id == emp)).one()
        conn.execute(update(Mentor).where(Mentor.mentor_no == "T04").values(employer_name=f" {name} "))
        conn.execute(update(Mentor).where(Mentor.mentor_no == "T05").values(employer_uscc=uscc))
        conn.execute(update(Mentor).where(Mentor.mentor_no == "T06").values(employer_name="另一家单位"))
    with Session(db_engine) as s, s.begin():
        _event(s, keys)
        ev = S._event(s, "E1")
        inputs = D.normalize_inputs(S._draft_inputs(s, keys, ev, load_parameters(), commitments=False))
    ex = D.exclusions(inputs)
    p = {no: S.mentor_pseudonym(keys.cipher, no) for no in ("T04", "T05", "T06")}
    assert {r["code"] for r in ex[p["T04"]]} == {"employer"}
    assert {r["code"] for r in ex[p["T05"]]} == {"employer"}
    assert p["T06"] not in ex
    assert inputs["event"]["earliest_draw_time"] == "2025-06-10T00:00:00+08:00"  # 2 working days before
