"""The columnar facts snapshot (registry.snapshot), on SQLite and PostgreSQL: it equals a fresh
``assemble_facts`` column by column, is never used after a write through any path (ORM, Core, raw SQL,
the importer, an approval writing the register), survives a crashed build and rebuilds a corrupt file."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Connection, Engine, delete, insert, select, text, update
from sqlalchemy.sql import visitors

from tests.registry.factories import bulk_load, registry_tables
from tests.registry.test_matching import (
    D1,
    D2,
    ON,
    PARAMS,
    TWO_ON,
    hired_in_two_districts,
    scenario,
    stored,
)
from xiangchuang import synth
from xiangchuang.db import make_sessionmaker
from xiangchuang.engine.assemble import Facts
from xiangchuang.models import Business, BusinessYear, Grant, PersonGroup
from xiangchuang.registry import assembler, snapshot
from xiangchuang.registry import repository as repo
from xiangchuang.registry.assembler import assemble_facts
from xiangchuang.registry.demo_data import import_tables
from xiangchuang.registry.importer import import_table, source_from_table
from xiangchuang.registry.matching import run_match
from xiangchuang.registry.repository import Scope
from xiangchuang.registry.snapshot import SOURCE_TABLES, SnapshotStore

ROOT = Path(__file__).resolve().parents[2]


def assert_same(got: Facts, want: Facts) -> None:
    """Equal table by table, column by column: names and order, dtypes, values and known masks."""
    assert got.supplied == want.supplied
    assert list(got.tables) == list(want.tables)
    for name, w in want.tables.items():
        g = got.tables[name]
        assert g.n == w.n, name
        assert list(g.cols) == list(w.cols), name
        assert not g.lazy and not w.lazy
        for cname, wc in w.cols.items():
            gc = g.cols[cname]
            for part in ("values", "known"):
                gv, wv = getattr(gc, part), getattr(wc, part)
                where = f"{name}.{cname}.{part}"
                assert gv.dtype == wv.dtype and gv.shape == wv.shape, where
                if wv.dtype == object:
                    assert gv.tolist() == wv.tolist(), where
                    assert all(type(a) is type(b) for a, b in zip(gv, wv, strict=True)), where
                else:
                    assert np.array_equal(gv, wv), where


def fresh(engine: Engine, on: dt.date = ON, district: int | None = None) -> Facts:
    with engine.connect() as conn, conn.begin():
        return assemble_facts(conn, on=on, district=district)


def via(store: SnapshotStore, engine: Engine, on: dt.date = ON, district: int | None = None, **kw: Any):
    with engine.connect() as conn, conn.begin():
        return store.facts(conn, on=on, district=district, **kw)


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore(tmp_path / "facts-snapshots")


@pytest.fixture
def registry(db_engine, pii):
    with db_engine.begin() as conn:
        scenario(conn, pii)
    return db_engine


# ---- the source tables and their triggers -----------------------------------------------------------


def _tables_of(stmt: Any) -> set[str]:
    return {
        n.name for n in visitors.iterate(stmt) if getattr(n, "__visit_name__", None) == "table" and n.name
    }


def test_source_tables_are_exactly_what_the_assembler_reads():
    """Every table named in the assembler's selects (city-wide and scoped) is tracked, and nothing else;
    the migration's frozen list is the same."""
    read: set[str] = set()
    for scope in (Scope(), Scope(district=D1, person_ids=(1,), carrier_ids=(1,), onjob_ids=(1,))):
        s = repo.scope_sql(scope, ON)
        for make in (
            repo.persons_query,
            repo.memberships_query,
            repo.person_honours_query,
            repo.founders_query,
            repo.businesses_query,
            repo.business_years_query,
            repo.hires_query,
            repo.contributions_query,
            repo.carriers_query,
            repo.grants_query,
            repo.trainings_query,
        ):
            read |= _tables_of(make(s).stmt)
        read |= _tables_of(repo.mentor_services_query(s))
    read |= {"onjob_trainings", "businesses"}  # assembler._onjob_trainings (ORM select of both)
    assert read == set(SOURCE_TABLES)
    # The assembler's own statements name no other table.
    source = Path(assembler.__file__).read_text(encoding="utf-8")
    # (person_district reads founders, employments and persons: source tables all three)
    assert "from xiangchuang.models import Business, Employment, Founder, OnjobTraining, Person" in source
    spec = importlib.util.spec_from_file_location(
        "m0025", ROOT / "src/xiangchuang/migrations/versions/0025_facts_change_tracking.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert tuple(module.TABLES) == SOURCE_TABLES


def test_every_source_table_has_its_trigger_and_a_missing_one_disables_the_snapshot(registry, store):
    with registry.connect() as conn:
        assert snapshot._triggers_present(conn)
    with registry.connect() as conn, conn.begin() as tx:  # DDL in a transaction, rolled back
        if registry.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER facts_changes_grants ON grants"))
        else:
            conn.execute(text("DROP TRIGGER facts_v_grants_upd"))
        facts, use = store.facts(conn, on=ON, district=None)
        assert use.outcome == "direct" and "触发器" in use.reason
        tx.rollback()
    assert not list(store.root.glob("*.facts")) if store.root.exists() else True
    assert_same(facts, fresh(registry))
    _, use = via(store, registry)
    assert use.outcome == "built"


# ---- equality with a fresh assembly --------------------------------------------------------------------


def test_snapshot_equals_a_fresh_assembly_column_by_column(db_engine, pii, store):
    on = dt.date(2025, 12, 31)
    reg = registry_tables(synth.generate(300, 11), on)
    with db_engine.begin() as conn:
        bulk_load(conn, reg, pii, on)
    want = fresh(db_engine, on)
    built, use = via(store, db_engine, on)
    assert use.outcome == "built" and use.path is not None and use.path.exists()
    assert_same(built, want)
    again, use = via(store, db_engine, on)
    assert use.outcome == "snapshot", use.reason
    assert_same(again, want)
    assert want.tables["contributions"].n > 1000 and want.tables["received"].n > 0
    # Another date is another snapshot (the assembler resolves what is in force on the date).
    other, use = via(store, db_engine, dt.date(2024, 6, 30))
    assert use.outcome == "built"
    assert_same(other, fresh(db_engine, dt.date(2024, 6, 30)))
    # Loaded arrays are the caller's own (the engine may write into them).
    again.tables["businesses"]["staff_count"].values[:] = -1
    assert_same(via(store, db_engine, on)[0], want)


def test_district_snapshots_equal_the_district_assembly_and_the_district_match(registry, store):
    for district in (D1, D2):
        built, use = via(store, registry, district=district)
        assert use.outcome == "built"
        assert_same(built, fresh(registry, district=district))
        loaded, use = via(store, registry, district=district)
        assert use.outcome == "snapshot"
        assert_same(loaded, fresh(registry, district=district))
    assert len(list(store.root.glob("*.facts"))) == 2


def test_district_match_equals_filtering_the_city_match(registry, store):
    """A district's run (from its snapshot) stores exactly the city-wide run's results of that
    district's businesses and hires, with the same amounts."""

    def results(district):
        with make_sessionmaker(registry)() as s, s.begin():
            report = run_match(session=s, on=ON, district=district, params=PARAMS, snapshots=store)
        rows = stored(registry, report.run.id)
        return report, {
            k: (r.status, r.amount_fen, r.eligible_from, r.district)
            for k, r in rows.items()
            if r.subject_table in ("businesses", "hires")
        }

    _, city = results(None)
    for district in (D1, D2):
        results(district)  # builds the district's snapshot
        report, mine = results(district)
        assert report.snapshot is not None and report.snapshot.outcome == "snapshot"
        assert mine == {k: v for k, v in city.items() if v[3] == district}
        assert mine


def test_a_district_snapshot_keeps_the_context_rows(db_engine, pii, store):
    """The district's context (its hired persons' records in other districts, registry.assembler) is part
    of its snapshot: a run from the snapshot compares them and still stores none of them."""
    with db_engine.begin() as conn:
        hired_in_two_districts(conn, pii)

    def results(district, snapshots):
        with make_sessionmaker(db_engine)() as s, s.begin():
            report = run_match(session=s, on=TWO_ON, district=district, params=PARAMS, snapshots=snapshots)
        rows = stored(db_engine, report.run.id)
        return report, {
            k: (r.status, r.amount_fen, r.eligible_from, r.district)
            for k, r in rows.items()
            if r.subject_table in ("businesses", "hires")
        }

    _, city = results(None, None)
    assert ("job_subsidy", "H-E") in city and ("job_subsidy", "H-L") not in city
    for district in (D2, D1):
        results(district, store)  # builds the district's snapshot
        report, mine = results(district, store)
        assert report.snapshot is not None and report.snapshot.outcome == "snapshot"
        assert mine == {k: v for k, v in city.items() if v[3] == district}
        assert report.context == {"businesses": 1, "hires": 2}


# ---- every write path makes the next match see it ------------------------------------------------------


def _business_id(conn: Connection, no: str) -> int:
    return int(conn.execute(select(Business.id).where(Business.business_no == no)).scalar_one())


def _orm(engine, change):
    with make_sessionmaker(engine)() as s, s.begin():
        b = s.execute(select(Business).where(Business.business_no == "B-VET")).scalar_one()
        if change == "insert":
            s.add(BusinessYear(business_id=b.id, year=2023, employer_si_paid_fen=123_456))
        elif change == "update":
            b.staff_count = 42
        else:
            s.delete(
                s.execute(select(BusinessYear).where(BusinessYear.business_id == b.id)).scalars().first()
            )


def _core(engine, change):
    with engine.begin() as conn:
        bid = _business_id(conn, "B-VET")
        if change == "insert":
            conn.execute(
                insert(BusinessYear).values(business_id=bid, year=2023, employer_si_paid_fen=123_456)
            )
        elif change == "update":
            conn.execute(update(Business).where(Business.id == bid).values(staff_count=42))
        else:
            conn.execute(delete(BusinessYear).where(BusinessYear.business_id == bid))


def _raw(engine, change):
    with engine.begin() as conn:
        bid = _business_id(conn, "B-VET")
        if change == "insert":
            conn.execute(
                text(
                    "INSERT INTO business_years (business_id, year, employer_si_paid_fen) VALUES (:b, 2023, 123456)"
                ),
                {"b": bid},
            )
        elif change == "update":
            conn.execute(text("UPDATE businesses SET staff_count = 42 WHERE id = :b"), {"b": bid})
        else:
            conn.execute(text("DELETE FROM business_years WHERE business_id = :b"), {"b": bid})


def _vet(facts: Facts) -> tuple[int, int | None, int]:
    """B-VET as the facts see it: its row, staff count (None = unknown), number of business years."""
    b = facts.tables["businesses"]
    i = int(np.flatnonzero(b["id"].values == "B-VET")[0])
    staff = int(b["staff_count"].values[i]) if b["staff_count"].known[i] else None
    years = facts.tables["business_years"]
    return i, staff, int(np.count_nonzero(years["business_id"].values == i))


@pytest.mark.parametrize("path", ["orm", "core", "raw_sql"])
@pytest.mark.parametrize("change", ["insert", "update", "delete"])
def test_a_write_through_any_path_makes_the_next_load_rebuild(registry, store, path, change):
    via(store, registry)
    before, use = via(store, registry)
    assert use.outcome == "snapshot"
    {"orm": _orm, "core": _core, "raw_sql": _raw}[path](registry, change)
    after, use = via(store, registry)
    assert use.outcome == "built" and "变动" in use.reason
    assert_same(after, fresh(registry))
    (_, staff0, years0), (_, staff1, years1) = _vet(before), _vet(after)
    if change == "insert":
        assert years1 == years0 + 1
    elif change == "update":
        assert staff1 == 42 != staff0
    else:
        assert years1 < years0
    assert via(store, registry)[1].outcome == "snapshot"  # and the new snapshot is used from then on


def test_an_import_makes_the_next_load_rebuild(registry, store, pii):
    via(store, registry)
    before, _ = via(store, registry)
    tables = import_tables(synth.generate(6, 5), seed=5)
    with registry.begin() as conn:
        for kind in ("persons", "businesses", "employments"):
            assert import_table(
                conn, kind=kind, source=source_from_table(tables[kind], name=kind), pii=pii
            ).ok
    after, use = via(store, registry)
    assert use.outcome == "built"
    assert_same(after, fresh(registry))
    for name, kind in (("persons", "persons"), ("businesses", "businesses"), ("hires", "employments")):
        assert after.tables[name].n == before.tables[name].n + tables[kind].num_rows


def test_an_approval_writing_the_register_makes_the_next_match_see_it(db_engine, pii, store):
    from tests.applications import application_in, setup
    from tests.applications.test_register import _approve, _budget

    setup(db_engine, pii)
    _budget(db_engine)
    app_id = application_in(db_engine, "publicity", period="2024")
    via(store, db_engine)
    before, use = via(store, db_engine)
    assert use.outcome == "snapshot"
    _approve(db_engine, app_id)
    after, use = via(store, db_engine)
    assert use.outcome == "built"
    assert_same(after, fresh(db_engine))
    rec = after.tables["received"]
    assert rec.n == before.tables["received"].n + 1
    assert "B-VET" in rec["subject_id"].values.tolist()


def test_the_next_match_reflects_a_register_row_written_by_raw_sql(registry, store):
    def online() -> str | None:
        with make_sessionmaker(registry)() as s, s.begin():
            report = run_match(session=s, on=ON, district=None, params=PARAMS, snapshots=store)
        r = stored(registry, report.run.id).get(("online_sales_subsidy", "B-ONLINE"))
        assert report.snapshot is not None
        return (r.status if r else None), report.snapshot.outcome

    assert online() == ("eligible", "built")
    assert online() == ("eligible", "snapshot")
    with registry.begin() as conn:
        conn.execute(
            insert(Grant).values(
                program="online_sales_subsidy",
                subject_kind="business",
                subject_key="B-ONLINE",
                period="2024",
                amount_fen=1,
                district=D1,
                source="test",
            )
        )
    assert online() == (None, "built")  # no longer eligible: already received


def test_uncommitted_writes_of_the_callers_transaction_are_seen_and_never_saved(registry, store):
    via(store, registry)
    with registry.connect() as conn, conn.begin() as tx:
        conn.execute(update(Business).where(Business.business_no == "B-VET").values(staff_count=77))
        facts, use = store.facts(conn, on=ON, district=None)
        assert use.outcome == "direct"
        assert _vet(facts)[1] == 77
        tx.rollback()
    facts, use = via(store, registry)
    assert _vet(facts)[1] != 77
    assert use.outcome in ("snapshot", "built")
    assert_same(facts, fresh(registry))


def test_a_commit_by_another_transaction_after_the_build_is_seen(registry, store):
    via(store, registry)
    with registry.connect() as reader:
        with reader.begin():
            assert store.facts(reader, on=ON, district=None)[1].outcome == "snapshot"
        with registry.begin() as writer:
            writer.execute(delete(PersonGroup).where(PersonGroup.group_code == "veteran"))
        with reader.begin():
            facts, use = store.facts(reader, on=ON, district=None)
        assert use.outcome == "built"
        assert_same(facts, fresh(registry))


def test_postgresql_an_older_transaction_snapshot_never_sees_a_newer_file(registry, store):
    if registry.dialect.name != "postgresql":
        pytest.skip("PostgreSQL transaction snapshots")
    with registry.connect().execution_options(isolation_level="REPEATABLE READ") as old, old.begin():
        old.execute(text("SELECT 1 FROM persons LIMIT 1"))  # takes this transaction's snapshot
        with registry.begin() as writer:
            writer.execute(update(Business).where(Business.business_no == "B-VET").values(staff_count=55))
        via(store, registry)  # a file that includes the write
        facts, use = store.facts(old, on=ON, district=None)
        assert use.outcome == "direct"
        assert _vet(facts)[1] != 55  # what this transaction sees


def test_postgresql_pruning_and_its_horizon(registry, store, monkeypatch):
    if registry.dialect.name != "postgresql":
        pytest.skip("PostgreSQL change log")
    # The pruning: below the given snapshot's xmin only, and the horizon moves there.
    with registry.begin() as conn:
        conn.execute(update(Business).where(Business.business_no == "B-VET").values(staff_count=2))
    _, use = via(store, registry)
    assert use.path is not None
    token = snapshot.read_manifest(use.path)["token"]
    monkeypatch.setattr(snapshot, "PRUNE_ROWS", 0)
    SnapshotStore._pg_prune(registry, token)
    with registry.connect() as conn:
        below, horizon = conn.execute(
            text(
                f"SELECT (SELECT count(*) FROM facts_changes WHERE xid < {snapshot._XMIN}),"
                f" (SELECT pruned_below = {snapshot._XMIN} FROM facts_horizon)"
            ),
            {"s": token},
        ).one()
    assert below == 0 and horizon
    assert via(store, registry)[1].outcome == "snapshot"  # the snapshot it was pruned for stays valid
    # A snapshot older than the horizon is never trusted, even when the change rows that would show it
    # stale are gone: a write, then a pruning past that write's row.
    with registry.begin() as conn:
        conn.execute(update(Business).where(Business.business_no == "B-VET").values(staff_count=1))
    with registry.begin() as conn:
        conn.execute(text("UPDATE facts_horizon SET pruned_below = (SELECT max(xid) + 1 FROM facts_changes)"))
        conn.execute(text("DELETE FROM facts_changes WHERE xid < (SELECT pruned_below FROM facts_horizon)"))
        assert conn.execute(text("SELECT count(*) FROM facts_changes")).scalar_one() == 0
    try:
        facts, use = via(store, registry)
        assert use.outcome != "snapshot"
        assert _vet(facts)[1] == 1
    finally:  # the schema is shared by the following tests: no horizon ahead of the cluster's xmin
        with registry.begin() as conn:
            conn.execute(text("UPDATE facts_horizon SET pruned_below = 0"))


def test_postgresql_writes_in_replica_mode_are_tracked_too(registry, store):
    """Logical replication and some tools write with session_replication_role = replica, where ordinary
    triggers do not fire: the tracking triggers are ENABLE ALWAYS."""
    if registry.dialect.name != "postgresql":
        pytest.skip("PostgreSQL replication role")
    via(store, registry)
    with registry.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(update(Business).where(Business.business_no == "B-VET").values(staff_count=66))
    facts, use = via(store, registry)
    assert use.outcome == "built" and _vet(facts)[1] == 66


def test_deleting_the_sqlite_version_rows_counts_as_a_change(registry, store):
    if registry.dialect.name != "sqlite":
        pytest.skip("SQLite versions")
    via(store, registry)
    assert via(store, registry)[1].outcome == "snapshot"
    with registry.begin() as conn:
        conn.execute(text("DELETE FROM facts_versions"))
        assert conn.execute(text("SELECT count(*) FROM facts_versions")).scalar_one() == len(SOURCE_TABLES)
    assert via(store, registry)[1].outcome == "built"


def test_concurrent_builders_leave_a_valid_snapshot(registry, store):
    import threading

    errors: list[BaseException] = []

    def build() -> None:
        try:
            _, use = via(store, registry, rebuild=True)
            assert use.outcome == "built"
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert not list(store.root.glob(".tmp-*"))
    facts, use = via(store, registry)
    assert use.outcome == "snapshot"
    assert_same(facts, fresh(registry))


# ---- crashes and corruption ----------------------------------------------------------------------------


def test_a_crash_during_the_build_leaves_the_previous_state(registry, store, monkeypatch):
    old, _ = via(store, registry)
    [first] = store.root.glob("*.facts")
    with registry.begin() as conn:
        conn.execute(update(Business).where(Business.business_no == "B-VET").values(staff_count=42))
    real = snapshot.write

    def crash(f, facts, meta):
        real(f, facts, meta)
        f.truncate(f.tell() // 2)
        raise OSError("模拟：写入快照时进程中断")

    monkeypatch.setattr(snapshot, "write", crash)
    with pytest.raises(OSError, match="模拟"):
        via(store, registry)
    assert list(store.root.glob("*.facts")) == [first]  # the old file only, no half file under a real name
    assert not list(store.root.glob(".tmp-*"))
    # A half-written temporary file left by a killed process is never read.
    (store.root / ".tmp-killed.facts").write_bytes(first.read_bytes()[:1000])
    monkeypatch.setattr(snapshot, "write", real)
    facts, use = via(store, registry)
    assert use.outcome == "built"
    assert _vet(facts)[1] == 42 and _vet(old)[1] != 42
    assert_same(facts, fresh(registry))


@pytest.mark.parametrize("damage", ["flip_data", "flip_manifest", "truncate", "empty", "garbage"])
def test_a_corrupt_snapshot_file_is_rebuilt_not_trusted(registry, store, damage):
    via(store, registry)
    [path] = store.root.glob("*.facts")
    data = bytearray(path.read_bytes())
    if damage == "flip_data":
        data[-10] ^= 0xFF
    elif damage == "flip_manifest":
        data[snapshot._HEADER.size + 5] ^= 0x01
    elif damage == "truncate":
        data = data[: len(data) - 100]
    elif damage == "empty":
        data = bytearray()
    else:
        data = bytearray(b"not a snapshot" * 100)
    path.write_bytes(bytes(data))
    facts, use = via(store, registry)
    assert use.outcome == "built" and "损坏" in use.reason
    assert_same(facts, fresh(registry))
    assert via(store, registry)[1].outcome == "snapshot"


def test_a_rebuild_on_request_and_the_status_listing(registry, store):
    via(store, registry)
    _, use = via(store, registry, rebuild=True)
    assert use.outcome == "built" and use.reason == "按要求重建"
    with registry.connect() as conn:
        [entry] = store.status(conn)
    assert entry["fresh"] and entry["on"] == ON.isoformat() and entry["district"] is None
    with registry.begin() as conn:
        conn.execute(update(Business).where(Business.business_no == "B-VET").values(staff_count=3))
    with registry.connect() as conn:
        assert not store.status(conn)[0]["fresh"]
    assert store.clear() == 1
    with registry.connect() as conn:
        assert store.status(conn) == []


# ---- the command line --------------------------------------------------------------------------------


def test_cli_match_from_db_says_whether_it_used_the_snapshot(registry, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from xiangchuang.cli import app
    from xiangchuang.config import get_settings

    url = registry.url
    if registry.dialect.name == "postgresql":
        with registry.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    monkeypatch.setenv("XIANGCHUANG_DATABASE_URL", url.render_as_string(hide_password=False))
    monkeypatch.setenv("XIANGCHUANG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        args = ["match", "--from-db", "--on", ON.isoformat()]
        first = runner.invoke(app, args)
        assert first.exit_code == 0, first.output
        assert "已重建事实快照" in first.output
        second = runner.invoke(app, args)
        assert second.exit_code == 0 and "使用事实快照" in second.output, second.output
        forced = runner.invoke(app, [*args, "--rebuild-snapshot"])
        assert forced.exit_code == 0 and "按要求重建" in forced.output, forced.output
        plain = runner.invoke(app, ["match-db", "--on", ON.isoformat(), "--no-snapshot"])
        assert plain.exit_code == 0 and "未使用事实快照（--no-snapshot）" in plain.output, plain.output
        listing = runner.invoke(app, ["facts-snapshot"])
        assert listing.exit_code == 0 and "有效" in listing.output and ON.isoformat() in listing.output
        built = runner.invoke(
            app, ["facts-snapshot", "--on", "2025-02-01", "--district", str(D1), "--rebuild"]
        )
        assert built.exit_code == 0 and "已重建事实快照" in built.output, built.output
        assert len(list((tmp_path / "facts-snapshots").glob("*.facts"))) == 2
        cleared = runner.invoke(app, ["facts-snapshot", "--clear"])
        assert cleared.exit_code == 0 and "已删除 2 个" in cleared.output
    finally:
        get_settings.cache_clear()


def test_a_builders_late_tidy_never_deletes_a_newer_snapshot(registry, store):
    """The interleaving behind a rare CI failure: builders A and B both rename their files, then A tidies
    after B. A's tidy used to delete B's newer file (and B's tidy A's), leaving no snapshot at all."""
    import os
    import shutil

    _, use = via(store, registry, rebuild=True)
    newer = use.path
    key_id = newer.name.rsplit("-", 1)[0]
    older = newer.with_name(f"{key_id}-0000000000000000{newer.suffix}")
    shutil.copyfile(newer, older)
    stamp = newer.stat().st_mtime_ns
    os.utime(older, ns=(stamp - 10**9, stamp - 10**9))  # A's file, renamed a second before B's
    store._tidy(key_id, older)  # A tidies late
    assert newer.exists()
    store._tidy(key_id, newer)  # B tidies: A's older file goes
    assert not older.exists() and newer.exists()
    assert via(store, registry)[1].outcome == "snapshot"
