"""The SQL of the statistics: indicator sources over the registry, applications and ledger, and the one
aggregation (GROUP BY district, quarter, dim) around them. Everything here is set-based and portable:
SQLite (≥ 3.25, window functions) and PostgreSQL run the same statements.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    cast,
    distinct,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from xiangchuang.models import (
    Application,
    Business,
    Contribution,
    Employment,
    Founder,
    JournalEntry,
    Person,
    PersonGroup,
    TransitionLog,
)
from xiangchuang.stats.indicators import Indicator
from xiangchuang.stats.periods import Window

# --- portable helpers -----------------------------------------------------------------------------------


class seconds_between(FunctionElement[int]):
    """Whole seconds from the first timestamp to the second."""

    type = BigInteger()
    inherit_cache = True


@compiles(seconds_between, "postgresql")
def _seconds_pg(element: seconds_between, compiler: Any, **kw: Any) -> str:
    a, b = list(element.clauses)
    return f"CAST(ROUND(EXTRACT(EPOCH FROM ({compiler.process(b, **kw)} - {compiler.process(a, **kw)}))) AS BIGINT)"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    a, b = list(element.clauses)
    return (
        f"CAST(ROUND((julianday({compiler.process(b, **kw)}) - julianday({compiler.process(a, **kw)}))"
        " * 86400.0) AS BIGINT)"
    )


def _text(value: str) -> ColumnElement[str]:
    return literal(value, String())


_NO_DIM = ""


def _one() -> ColumnElement[int]:
    return literal(1, Integer())


def _no_app() -> ColumnElement[Any]:
    return cast(null(), Integer())


# --- who counts ------------------------------------------------------------------------------------------


def returning_business_ids() -> Select[Any]:
    """Businesses founded by returning / incoming entrepreneurs: flagged on the business, or with a founder
    flagged as 返乡入乡创业人员."""
    flagged_founder = exists(
        select(Founder.id)
        .join(Person, Person.id == Founder.person_id)
        .where(Founder.business_id == Business.id, Person.returning_entrepreneur.is_(True))
    )
    return select(Business.id).where(or_(Business.founded_by_returning.is_(True), flagged_founder))


def _first_foundings() -> Any:
    """Each returning / incoming entrepreneur's first founding: (person, business district, start date)."""
    start = func.coalesce(Founder.since, Business.registration_date)
    ranked = (
        select(
            Founder.person_id.label("person_id"),
            Business.district.label("district"),
            start.label("start"),
            func.row_number().over(partition_by=Founder.person_id, order_by=(start, Business.id)).label("rn"),
        )
        .join(Business, Business.id == Founder.business_id)
        .join(Person, Person.id == Founder.person_id)
        .where(or_(Person.returning_entrepreneur.is_(True), Business.founded_by_returning.is_(True)))
        .subquery("ranked_foundings")
    )
    return (
        select(ranked.c.person_id, ranked.c.district, ranked.c.start).where(ranked.c.rn == 1).subquery("ff")
    )


def _group_valid_on(day: Any) -> ColumnElement[bool]:
    return and_(
        or_(PersonGroup.since.is_(None), PersonGroup.since <= day),
        or_(PersonGroup.until.is_(None), PersonGroup.until >= day),
    )


# --- sources: registry -----------------------------------------------------------------------------------


def src_entrepreneurs(_w: Window) -> Select[Any]:
    ff = _first_foundings()
    return select(
        ff.c.person_id.label("entity"),
        ff.c.district.label("district"),
        ff.c.start.label("at"),
        _text(_NO_DIM).label("dim"),
        _one().label("amount"),
        _no_app().label("application_id"),
    )


def src_entrepreneurs_by_group(_w: Window) -> Select[Any]:
    ff = _first_foundings()
    return (
        select(
            ff.c.person_id.label("entity"),
            ff.c.district.label("district"),
            ff.c.start.label("at"),
            PersonGroup.group_code.label("dim"),
            _one().label("amount"),
            _no_app().label("application_id"),
        )
        .join(PersonGroup, PersonGroup.person_id == ff.c.person_id)
        .where(_group_valid_on(ff.c.start))
        .distinct()
    )


def src_businesses(dim: str) -> Any:
    def source(_w: Window) -> Select[Any]:
        if dim == "kind":
            d: Any = Business.kind
        elif dim == "industry":
            d = func.coalesce(func.nullif(Business.industry, ""), "未填写")
        else:
            d = _text(_NO_DIM)
        return select(
            Business.id.label("entity"),
            Business.district.label("district"),
            Business.registration_date.label("at"),
            d.label("dim"),
            _one().label("amount"),
            _no_app().label("application_id"),
        ).where(Business.id.in_(returning_business_ids()))

    return source


def src_jobs(*, key_groups: bool) -> Any:
    def source(_w: Window) -> Select[Any]:
        stmt = (
            select(
                Employment.id.label("entity"),
                Business.district.label("district"),
                Employment.hire_date.label("at"),
                _text(_NO_DIM).label("dim"),
                _one().label("amount"),
                _no_app().label("application_id"),
            )
            .join(Business, Business.id == Employment.business_id)
            .where(Business.id.in_(returning_business_ids()))
        )
        if key_groups:
            stmt = stmt.where(
                exists(
                    select(PersonGroup.id).where(
                        PersonGroup.person_id == Employment.person_id, _group_valid_on(Employment.hire_date)
                    )
                )
            )
        return stmt

    return source


def src_insured_new(_w: Window) -> Select[Any]:
    """Jobs proven by social insurance: an employment's first contribution month."""
    first = (
        select(Contribution.employment_id.label("employment_id"), func.min(Contribution.month).label("month"))
        .group_by(Contribution.employment_id)
        .subquery("first_month")
    )
    return (
        select(
            first.c.employment_id.label("entity"),
            Business.district.label("district"),
            first.c.month.label("at"),
            _text(_NO_DIM).label("dim"),
            _one().label("amount"),
            _no_app().label("application_id"),
        )
        .join(Employment, Employment.id == first.c.employment_id)
        .join(Business, Business.id == Employment.business_id)
        .where(Business.id.in_(returning_business_ids()))
    )


def src_insured_at_quarter_end(w: Window) -> Select[Any]:
    """Employments insured in the last month of a quarter (季末参保在岗)."""
    ends = [q.last_month for q in w.quarters]
    lo, _hi = w.bounds("month")
    return (
        select(
            Contribution.employment_id.label("entity"),
            Business.district.label("district"),
            Contribution.month.label("at"),
            _text(_NO_DIM).label("dim"),
            _one().label("amount"),
            _no_app().label("application_id"),
        )
        .join(Employment, Employment.id == Contribution.employment_id)
        .join(Business, Business.id == Employment.business_id)
        .where(Contribution.month.in_(ends), Contribution.month >= lo)
        .where(Business.id.in_(returning_business_ids()))
    )


# --- sources: applications -------------------------------------------------------------------------------


def _first_action(action: str) -> Any:
    """Each application's first transition by ``action`` (so an application is counted once)."""
    return (
        select(TransitionLog.application_id.label("application_id"), func.min(TransitionLog.at).label("at"))
        .where(TransitionLog.action == action)
        .group_by(TransitionLog.application_id)
        .subquery(f"first_{action}")
    )


def src_application_event(action: str, *, amount: str = "one", once: bool = True) -> Any:
    """Applications by their ``action`` transition, dimension = the application kind (program).

    ``once``: only the first such transition counts (received = first submission; a resubmission after
    补正 is the same application). Otherwise every transition, still counted once per quarter by
    ``COUNT(DISTINCT application)`` (returned twice in one quarter → once)."""

    def source(_w: Window) -> Select[Any]:
        if once:
            ev = _first_action(action)
            app_id, at = ev.c.application_id, ev.c.at
            base = select().select_from(ev).join(Application, Application.id == app_id)
        else:
            app_id, at = TransitionLog.application_id, TransitionLog.at
            base = (
                select()
                .select_from(TransitionLog)
                .join(Application, Application.id == app_id)
                .where(TransitionLog.action == action)
            )
        if amount == "approved":
            value: ColumnElement[Any] = func.coalesce(Application.amount_approved_fen, 0)
        else:
            value = _one()
        entity: ColumnElement[Any] = app_id
        if amount == "subject":
            entity = Application.kind + _text("|") + Application.subject_key
        return base.add_columns(
            entity.label("entity"),
            Application.district.label("district"),
            at.label("at"),
            Application.kind.label("dim"),
            value.label("amount"),
            app_id.label("application_id"),
        )

    return source


def src_step_durations(w: Window) -> Select[Any]:
    """Time spent in each workflow step: from the transition that entered the state to the one that left
    it (the state history), dimension = the step (the state left), at = when it was left."""
    _lo, hi = w.bounds("instant")
    entered = func.lag(TransitionLog.at).over(
        partition_by=TransitionLog.application_id, order_by=(TransitionLog.at, TransitionLog.id)
    )
    steps = (
        select(
            TransitionLog.id.label("id"),
            TransitionLog.application_id.label("application_id"),
            TransitionLog.from_state.label("step"),
            TransitionLog.at.label("left_at"),
            entered.label("entered_at"),
        )
        .where(TransitionLog.at < hi)
        .subquery("steps")
    )
    return (
        select(
            steps.c.id.label("entity"),
            Application.district.label("district"),
            steps.c.left_at.label("at"),
            steps.c.step.label("dim"),
            seconds_between(steps.c.entered_at, steps.c.left_at).label("amount"),
            steps.c.application_id.label("application_id"),
        )
        .join(Application, Application.id == steps.c.application_id)
        .where(steps.c.entered_at.is_not(None), steps.c.step.in_(TIMED_STEPS))
    )


TIMED_STEPS = (
    "submitted",
    "accepted",
    "first_review",
    "second_review",
    "publicity",
    "objection",
    "approved",
    "disbursing",
)


# --- sources: ledger -------------------------------------------------------------------------------------


def src_paid(dim: str) -> Any:
    """Money paid out: the ledger's ``disburse`` entries (not the applications' own amounts)."""

    def source(_w: Window) -> Select[Any]:
        if dim == "source":
            d: Any = JournalEntry.funding_source
        else:
            d = func.coalesce(Application.kind, _text("other"))
        return (
            select(
                JournalEntry.id.label("entity"),
                JournalEntry.district.label("district"),
                JournalEntry.created_at.label("at"),
                d.label("dim"),
                JournalEntry.amount_fen.label("amount"),
                Application.id.label("application_id"),
            )
            .select_from(JournalEntry)
            .outerjoin(Application, Application.application_no == JournalEntry.application_ref)
            .where(JournalEntry.operation == "disburse")
        )

    return source


# --- the aggregation -------------------------------------------------------------------------------------


def _bucketed(ind: Indicator, w: Window) -> Any:
    src = ind.source(w).subquery("src")
    lo, hi = w.bounds(ind.time)
    cond = [src.c.at < hi]
    if not ind.cumulative:
        cond.append(src.c.at >= lo)
    return (
        select(
            src.c.entity,
            src.c.district,
            w.bucket(src.c.at, ind.time, cumulative=ind.cumulative).label("quarter"),
            src.c.dim,
            src.c.amount,
            src.c.application_id,
        )
        .where(*cond)
        .subquery("b")
    )


def aggregate(ind: Indicator, w: Window, *, city: bool, district: int | None = None) -> Select[Any]:
    """Rows (district, quarter, dim, value): one per group, district 0 for the city-wide figure."""
    b = _bucketed(ind, w)
    keys: list[ColumnElement[Any]] = [b.c.quarter, b.c.dim]
    if not city:
        keys.insert(0, b.c.district)
    dcol = literal_column("0") if city else b.c.district
    if ind.measure == "median":
        ranked = select(
            *keys,
            b.c.amount,
            func.row_number().over(partition_by=keys, order_by=b.c.amount).label("rn"),
            func.count().over(partition_by=keys).label("cnt"),
        )
        if district is not None:
            ranked = ranked.where(b.c.district == district)
        r = ranked.subquery("r")
        rkeys = [r.c.quarter, r.c.dim] if city else [r.c.district, r.c.quarter, r.c.dim]
        return (
            select(
                (literal_column("0") if city else r.c.district).label("district"),
                r.c.quarter,
                r.c.dim,
                cast(func.round(func.avg(r.c.amount)), BigInteger).label("value"),
            )
            .where(or_(r.c.rn == (r.c.cnt + 1) // 2, r.c.rn == (r.c.cnt + 2) // 2))
            .group_by(*rkeys)
        )
    value = func.count(distinct(b.c.entity)) if ind.measure == "count" else func.sum(b.c.amount)
    stmt = select(dcol.label("district"), b.c.quarter, b.c.dim, value.label("value")).group_by(*keys)
    if district is not None:
        stmt = stmt.where(b.c.district == district)
    return stmt


def drill_rows(
    ind: Indicator, w: Window, *, district: int | None, dim: str | None, limit: int
) -> Select[Any]:
    """The rows behind a figure: entity, district, quarter, dim, amount, application id."""
    b = _bucketed(ind, w)
    stmt = select(b.c.entity, b.c.district, b.c.quarter, b.c.dim, b.c.amount, b.c.application_id)
    if district is not None:
        stmt = stmt.where(b.c.district == district)
    if dim is not None:
        stmt = stmt.where(b.c.dim == dim)
    return stmt.order_by(b.c.district, b.c.entity).limit(limit)


def run(session: Session, stmt: Select[Any]) -> list[Any]:
    return list(session.execute(stmt).all())
