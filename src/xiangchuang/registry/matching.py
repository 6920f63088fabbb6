"""政策找人 over the registry: run every program over the assembled facts, store the run, explain a result.

Services take keyword-only arguments and never commit: the command owns the transaction.

A run stores, per (subject, program) that qualifies now (``eligible``) or will by itself within the
horizon (``soon``): the amount (for ``soon`` the projected amount), the district-funded part and
``eligible_from``; the run records its date, district, engine version and parameter version, so
:func:`explain_result` can rebuild that subject's facts at the run's date and re-derive the full
explanation (and say so when the engine, the parameters or the registry changed since).

A district run (and the re-derivation of one explanation) reads, besides its subjects, the other hire
records of the persons hired in scope as context (``registry.assembler``: 每人一次 compares all the
hire records of a person), so each subject in scope gets what a whole-city run gives it; the context
rows are never subjects: :func:`evaluate` makes no program apply to them, so they are neither stored
nor counted.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from xiangchuang.batchio import match_rows, summarize
from xiangchuang.engine import ENGINE_VERSION
from xiangchuang.engine.assemble import Facts, assemble
from xiangchuang.engine.dates import to_day
from xiangchuang.engine.evaluate import Outcome, run_programs
from xiangchuang.engine.explain import Explainer
from xiangchuang.engine.parameters import ParameterSet
from xiangchuang.engine.program import Program
from xiangchuang.engine.programs import BY_ID, PROGRAMS
from xiangchuang.models import MatchResult, MatchRun
from xiangchuang.registry import repository as repo
from xiangchuang.registry.assembler import (
    CONTEXT,
    PERSON_DISTRICT,
    LoadStats,
    assemble_facts,
    context_rows,
    schedule_warnings,
)
from xiangchuang.registry.repository import Method, Scope
from xiangchuang.registry.snapshot import SnapshotStore, SnapshotUse

STORED_STATUSES = ("eligible", "soon")


class MatchError(LookupError):
    """A run or result that does not exist, or a subject gone from the registry (message in Chinese)."""


def evaluate(
    facts: Facts,
    *,
    on: dt.date,
    params: ParameterSet,
    programs: Sequence[Program] = PROGRAMS,
    details: bool = True,
) -> list[Outcome]:
    """The engine over registry facts: assemble, then every program with rows. A row read only as
    context (``assembler.CONTEXT``) is evaluated with the others — the rows in scope are compared
    with it — but no program applies to it: it yields no result and no count."""
    day = to_day(on)
    assemble(facts, day)
    outcomes = run_programs(
        [p for p in programs if facts.tables[p.subject].n], facts, day, params, details=details
    )
    for o in outcomes:
        context = facts.tables[o.program.subject].cols.get(CONTEXT)
        if context is not None and context.values.any():
            o.applies = np.logical_and(o.applies, np.logical_not(context.values))
    return outcomes


@dataclass
class MatchReport:
    run: MatchRun
    summary: list[dict[str, Any]]
    rows: dict[str, int]
    methods: dict[str, str]
    load_seconds: float
    evaluate_seconds: float
    store_seconds: float
    soon_amount_fen: dict[str, int] = field(default_factory=dict)
    snapshot: SnapshotUse | None = None  # how the facts were obtained when a snapshot store was given
    context: dict[str, int] = field(default_factory=dict)  # of ``rows``, those read only as context
    # Stored values the run could not read, each left unknown for its rows (a carrier's schedule).
    warnings: list[str] = field(default_factory=list)


def run_match(
    *,
    session: Session,
    on: dt.date,
    district: int | None,
    params: ParameterSet,
    method: Method = "auto",
    workers: int = 2,
    snapshots: SnapshotStore | None = None,
    rebuild_snapshot: bool = False,
) -> MatchReport:
    """Load the facts (one district or the city), run all programs, store a new run with its results.

    ``workers``: connections reading in parallel on one snapshot (PostgreSQL only; see
    ``repository.fetch_all``) — safe here because the facts are read before anything is written.
    ``snapshots``: take the facts from the columnar facts snapshot when it is fresh (else rebuild it;
    see ``registry.snapshot``); None reads the database every time."""
    stats = LoadStats()
    use: SnapshotUse | None = None
    if snapshots is not None:
        facts, use = snapshots.facts(
            session,
            on=on,
            district=district,
            method=method,
            workers=workers,
            stats=stats,
            rebuild=rebuild_snapshot,
        )
    else:
        facts = assemble_facts(session, on=on, district=district, method=method, workers=workers, stats=stats)
    t1 = time.perf_counter()
    outcomes = evaluate(facts, on=on, params=params, details=False)
    t2 = time.perf_counter()
    rows = result_rows(facts, outcomes, district=district)
    run = repo.insert_run(
        session,
        on=on,
        district=district,
        engine_version=ENGINE_VERSION,
        parameters_version=params.version,
        parameter_sources=";".join(params.sources)[:500],
        subjects=facts.tables["businesses"].n - context_rows(facts.tables).get("businesses", 0),  # in scope
        results=len(rows),
        load_seconds=round(stats.seconds, 4),
        evaluate_seconds=round(t2 - t1, 4),
    )
    for r in rows:
        r["run_id"] = run.id
    repo.insert_results(session, rows)
    t3 = time.perf_counter()
    soon = {
        o.program.id: int(o.amount_out.amount[o.applies & o.soon].sum()) for o in outcomes if o.soon.any()
    }
    return MatchReport(
        run=run,
        summary=summarize(outcomes),
        rows=stats.rows,
        methods=stats.methods,
        load_seconds=stats.seconds,
        evaluate_seconds=t2 - t1,
        store_seconds=t3 - t2,
        soon_amount_fen=soon,
        snapshot=use,
        context=context_rows(facts.tables),
        warnings=schedule_warnings(facts.tables),
    )


def result_rows(facts: Facts, outcomes: Sequence[Outcome], *, district: int | None) -> list[dict[str, Any]]:
    """The rows to store: eligible and soon-eligible (subject, program) pairs."""
    table = match_rows(outcomes)
    out: list[dict[str, Any]] = table.to_pylist()
    person_district: dict[str, int] | None = None
    for r in out:
        r["subject_key"] = r.pop("subject_id")
        if r["subject_table"] == "persons" and not r["district"]:
            if person_district is None:
                p = facts.tables["persons"]
                d = p[PERSON_DISTRICT]
                person_district = dict(
                    zip(p["id"].values.tolist(), np.where(d.known, d.values, 0).tolist(), strict=True)
                )
            r["district"] = person_district.get(r["subject_key"], 0) or (district or 0)
        elif r["district"] is None:  # (a stored result keeps 0 for a district not known)
            r["district"] = 0
        if r["district_part_fen"] is None:  # (only an undetermined row has none; not stored)
            r["district_part_fen"] = 0
    return out


# ---- explaining one stored result ----------------------------------------------------------------


@dataclass
class Explanation:
    result: MatchResult
    run: MatchRun
    document: dict[str, Any]
    current_status: str
    warnings: list[str]


def explain_result(*, session: Session, result_id: int, params: ParameterSet) -> Explanation:
    """Re-derive the full Chinese explanation of one stored result from the registry at the run's date."""
    got = repo.get_result(session, result_id)
    if got is None:
        raise MatchError(f"匹配结果 {result_id} 不存在")
    result, run = got
    conn = session.connection()
    pk = repo.subject_pk(conn, result.subject_table, result.subject_key)
    if pk is None:
        raise MatchError(
            f"主体 {result.subject_key}（{result.subject_table}）已不在登记库中，无法重新推导解释"
        )
    if result.subject_table == "businesses":
        scope = Scope(business_ids=(pk,))
    elif result.subject_table == "hires":
        scope = Scope(business_ids=(repo.employment_business(conn, pk),))
    elif result.subject_table == "persons":
        scope = Scope(person_ids=(pk,))
    elif result.subject_table == "trainings":
        scope = Scope(person_ids=(repo.training_person(conn, pk),))
    elif result.subject_table == "onjob_trainings":
        scope = Scope(onjob_ids=(pk,))
    else:
        scope = Scope(carrier_ids=(pk,))
    program = BY_ID.get(result.program)
    if program is None:
        raise MatchError(f"项目 {result.program} 已不在引擎中（引擎版本 {ENGINE_VERSION}）")
    facts = assemble_facts(session, on=run.on, district=None, subjects=scope)
    outcomes = evaluate(facts, on=run.on, params=params, programs=(program,))
    if not outcomes:
        raise MatchError(f"主体 {result.subject_key} 的事实已无法重建")
    outcome = outcomes[0]
    ids = outcome.ctx.t["id"].values
    rows = np.flatnonzero(ids == result.subject_key)
    if not rows.size:
        raise MatchError(f"主体 {result.subject_key} 的事实已无法重建")
    i = int(rows[0])
    doc = Explainer(params).program(outcome, i)
    doc["on"] = run.on.isoformat()
    doc["engine_version"] = ENGINE_VERSION
    doc["parameters_version"] = params.version
    current = "soon" if doc.get("soon") else doc["status"]
    amount = doc.get("projected_amount_fen") if current == "soon" else doc.get("amount_fen")
    warnings: list[str] = []
    if run.engine_version != ENGINE_VERSION:
        warnings.append(f"引擎版本已由 {run.engine_version} 变为 {ENGINE_VERSION}，以下按当前引擎重新推导")
    if run.parameters_version != params.version:
        warnings.append(
            f"参数版本已由 {run.parameters_version} 变为 {params.version}（或叠加了不同的区县参数），"
            "以下按当前参数重新推导"
        )
    if current != result.status or (amount is not None and int(amount) != result.amount_fen):
        warnings.append(
            f"重新推导的结论（{current}，{amount if amount is not None else '—'}分）与保存的结果"
            f"（{result.status}，{result.amount_fen}分）不同：登记库数据或参数在运行后发生了变化"
        )
    return Explanation(result, run, doc, current, warnings)


def run_results(
    *, session: Session, run_id: int | None, program: str | None, status: str | None, limit: int
) -> tuple[MatchRun, list[MatchResult], int]:
    """A run (default the latest), some of its results and its result count."""
    run = repo.get_run(session, run_id)
    if run is None:
        raise MatchError("尚无匹配运行记录" if run_id is None else f"匹配运行 {run_id} 不存在")
    found = repo.list_results(session, run_id=run.id, program=program, status=status, limit=limit)
    return run, found, repo.count_results(session, run_id=run.id)
