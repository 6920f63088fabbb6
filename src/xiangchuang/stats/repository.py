"""The SQL of the statistics: indicator sources over the registry, applications and ledger, and the one
aggregation (GROUP BY district, quarter, dim) around them. Everything here is set-based and portable:
SQLite (≥ 3.25, window functions) and PostgreSQL run the same statements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Final

import numpy as np
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Integer,
    Numeric,
    Select,
    String,
    and_,
    case,
    cast,
    distinct,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy import text as _sql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import FunctionElement

from xiangchuang.engine.memory import cyclic_gc_paused
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
from xiangchuang.stats.parallel import readers, readers_possible, run_parallel
from xiangchuang.stats.periods import TimeKind, Window

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


# --- relations several indicators read -------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Shared:
    """A relation that several indicators' sources read — the window's first approvals (read by the approved
    count, the beneficiaries, the approved amount, the mentor subsidies), the returning entrepreneurs'
    first foundings, the businesses founded by returning entrepreneurs … Each indicator's rule is still
    written once, in its source, as a SELECT over the relation.

    Called with a window, it returns the relation as a FROM item: an ordinary subquery when a source is
    built on its own (drill-down, trend, one indicator), or — inside :func:`sharing`, when
    :func:`figures_many` computes the indicators that read it in ONE statement — a MATERIALIZED CTE of
    that statement, computed once for all of them. ``widen`` names the window the shared relation is built
    over then (the same for the quarter's flow and the cumulative totals, e.g. everything up to the
    window's end); a source must therefore keep its own window filters on top of the relation."""

    name: str
    build: Callable[[Window], Any]
    widen: Callable[[Window], Window] | None = None

    def __call__(self, w: Window) -> Any:
        ctx = _SHARING.get()
        if ctx is None:
            return self.build(w).subquery(self.name)
        return ctx.relation(self, w)


@dataclass
class _Sharing:
    ctes: dict[tuple[str, Window], Any] = field(default_factory=dict)
    used: set[tuple[str, Window]] = field(default_factory=set)
    materialize: bool = True

    def relation(self, shared: Shared, w: Window) -> Any:
        key_w = shared.widen(w) if shared.widen is not None else w
        key = (shared.name, key_w)
        self.used.add(key)
        if not self.materialize:
            return shared.build(w).subquery(shared.name)
        if key not in self.ctes:
            cte = shared.build(key_w).cte(f"sh_{shared.name}_{len(self.ctes)}")
            self.ctes[key] = cte.prefix_with("MATERIALIZED")
        return self.ctes[key]


_SHARING: ContextVar[_Sharing | None] = ContextVar("stats_sharing", default=None)


@contextmanager
def sharing(*, materialize: bool = True) -> Iterator[_Sharing]:
    """Shared relations built inside become one MATERIALIZED CTE each (``materialize``) or are only
    recorded (planning: which indicators read which relation)."""
    ctx = _Sharing(materialize=materialize)
    token = _SHARING.set(ctx)
    try:
        yield ctx
    finally:
        _SHARING.reset(token)


def _up_to_end(w: Window) -> Window:
    return replace(w, open_start=True)


# --- who counts ------------------------------------------------------------------------------------------


def founded_by_returning(own_flag: Any, founder_returning: ColumnElement[bool]) -> ColumnElement[bool]:
    """由返乡入乡创业人员创办 as the engine reads it (README choice 76; engine.assemble): the business's
    own flag where given — ``False`` is not overridden by a returning founder — else whether its founder
    is a 返乡入乡创业人员 (``founder_returning``)."""
    return or_(own_flag.is_(True), and_(own_flag.is_(None), founder_returning))


def is_returning(business: Any = Business) -> ColumnElement[bool]:
    """A business founded by returning / incoming entrepreneurs (:func:`founded_by_returning`): flagged on
    the business, or, where the business gives no flag, with a founder flagged as 返乡入乡创业人员."""
    flagged_founder = (  # uncorrelated: one hashed set, not a probe per business
        select(Founder.business_id)
        .join(Person, Person.id == Founder.person_id)
        .where(Person.returning_entrepreneur == true())  # "=": the (returning_entrepreneur, id) index
    )
    return founded_by_returning(business.founded_by_returning, business.id.in_(flagged_founder))


def _in_window(column: Any, w: Window, kind: TimeKind) -> list[ColumnElement[bool]]:
    """The window's bounds as early filters in a source (no lower bound for cumulative figures)."""
    lo = w.since(kind)
    out = [column < w.until(kind)]
    if lo is not None:
        out.append(column >= lo)
    return out


def _first_foundings_select(w: Window) -> Any:
    f, b, p = aliased(Founder), aliased(Business), aliased(Person)
    f2, b2 = aliased(Founder), aliased(Business)
    start = func.coalesce(f.since, b.registration_date)
    start2 = func.coalesce(f2.since, b2.registration_date)
    earlier = exists(
        select(f2.id)
        .join(b2, b2.id == f2.business_id)
        .where(
            f2.person_id == f.person_id,
            founded_by_returning(b2.founded_by_returning, p.returning_entrepreneur.is_(True)),
            or_(
                start2 < start,
                and_(start2 == start, or_(b2.id < b.id, and_(b2.id == b.id, f2.id < f.id))),
            ),
        )
    )
    return (
        select(f.person_id.label("person_id"), b.district.label("district"), start.label("start"))
        .join(b, b.id == f.business_id)
        .join(p, p.id == f.person_id)
        .where(founded_by_returning(b.founded_by_returning, p.returning_entrepreneur.is_(True)))
        .where(*_in_window(start, w, "date"), ~earlier)
    )


FIRST_FOUNDINGS: Final = Shared("first_foundings", _first_foundings_select, widen=_up_to_end)


def _first_foundings(w: Window) -> Any:
    """Each returning / incoming entrepreneur's first founding — (person, district of that business, start)
    — the earliest by (start, business id, founder row id) among the person's qualifying foundings (the
    business founded by returning entrepreneurs, :func:`founded_by_returning` with the person as founder), where
    start is the founder's 起始日期, or else the business's registration date. Candidates are the foundings
    starting in the window; NOT EXISTS an earlier qualifying founding of the same person. Shared by the new
    and the cumulative figures (everything up to the window's end, so the window's own bounds are applied
    again here)."""
    ff = FIRST_FOUNDINGS(w)
    return select(ff).where(*_in_window(ff.c.start, w, "date")).subquery("ff")


def _group_valid_on(day: Any) -> ColumnElement[bool]:
    return and_(
        or_(PersonGroup.since.is_(None), PersonGroup.since <= day),
        or_(PersonGroup.until.is_(None), PersonGroup.until >= day),
    )


# --- sources: registry -----------------------------------------------------------------------------------


def src_entrepreneurs(w: Window) -> Select[Any]:
    ff = _first_foundings(w)
    return select(
        ff.c.person_id.label("entity"),
        ff.c.district.label("district"),
        ff.c.start.label("at"),
        _text(_NO_DIM).label("dim"),
        _one().label("amount"),
        _no_app().label("application_id"),
    )


def src_entrepreneurs_by_group(w: Window) -> Select[Any]:
    ff = _first_foundings(w)
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


def _returning_businesses_select(w: Window) -> Any:
    return select(
        Business.id.label("id"),
        Business.district.label("district"),
        Business.registration_date.label("registration_date"),
        Business.kind.label("kind"),
        Business.industry.label("industry"),
    ).where(*_in_window(Business.registration_date, w, "date"), is_returning())


RETURNING_BUSINESSES: Final = Shared("returning_businesses", _returning_businesses_select, widen=_up_to_end)


def src_businesses(dim: str) -> Any:
    def source(w: Window) -> Select[Any]:
        rb = RETURNING_BUSINESSES(w)
        if dim == "kind":
            d: Any = rb.c.kind
        elif dim == "industry":
            d = func.coalesce(func.nullif(rb.c.industry, ""), "未填写")
        else:
            d = _text(_NO_DIM)
        return select(
            rb.c.id.label("entity"),
            rb.c.district.label("district"),
            rb.c.registration_date.label("at"),
            d.label("dim"),
            _one().label("amount"),
            _no_app().label("application_id"),
        ).where(*_in_window(rb.c.registration_date, w, "date"))

    return source


def _returning_hires_select(w: Window) -> Any:
    return (
        select(
            Employment.id.label("id"),
            Employment.person_id.label("person_id"),
            Employment.hire_date.label("hire_date"),
            Business.district.label("district"),
        )
        .join(Business, Business.id == Employment.business_id)
        .where(*_in_window(Employment.hire_date, w, "date"), is_returning())
    )


RETURNING_HIRES: Final = Shared("returning_hires", _returning_hires_select)


def src_jobs(*, key_groups: bool) -> Any:
    def source(w: Window) -> Select[Any]:
        h = RETURNING_HIRES(w)
        stmt = select(
            h.c.id.label("entity"),
            h.c.district.label("district"),
            h.c.hire_date.label("at"),
            _text(_NO_DIM).label("dim"),
            _one().label("amount"),
            _no_app().label("application_id"),
        )
        if key_groups:
            stmt = stmt.where(
                exists(
                    select(PersonGroup.id).where(
                        PersonGroup.person_id == h.c.person_id, _group_valid_on(h.c.hire_date)
                    )
                )
            )
        return stmt

    return source


def src_insured_new(w: Window) -> Select[Any]:
    """Jobs proven by social insurance: an employment's first contribution month (no earlier month)."""
    c, c2 = aliased(Contribution), aliased(Contribution)
    earlier = exists(select(c2.id).where(c2.employment_id == c.employment_id, c2.month < c.month))
    return (
        select(
            c.employment_id.label("entity"),
            Business.district.label("district"),
            c.month.label("at"),
            _text(_NO_DIM).label("dim"),
            _one().label("amount"),
            _no_app().label("application_id"),
        )
        .join(Employment, Employment.id == c.employment_id)
        .join(Business, Business.id == Employment.business_id)
        .where(*_in_window(c.month, w, "month"), ~earlier, is_returning())
    )


def src_insured_at_quarter_end(w: Window) -> Select[Any]:
    """Employments insured in the last month of a quarter (季末参保在岗)."""
    ends = [q.last_month for q in w.quarters]
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
        .where(Contribution.month.in_(ends), is_returning())
    )


# --- sources: applications -------------------------------------------------------------------------------


def _events(action: str, *, once: bool) -> Shared:
    """The window's ``action`` transitions with their application's district, kind, subject and approved
    amount (one relation per action: every indicator counting that event reads it). ``once``: only the
    application's first such transition (NOT EXISTS an earlier one). Candidates come from the
    (action, at) index over the window only; the earlier one is probed in the (application_id, action,
    at) index."""
    key = (action, once)
    if key not in _EVENTS:

        def build(w: Window) -> Any:
            t, t2 = aliased(TransitionLog), aliased(TransitionLog)
            stmt = (
                select(
                    t.id.label("transition_id"),
                    t.application_id.label("application_id"),
                    t.at.label("at"),
                    Application.district.label("district"),
                    Application.kind.label("kind"),
                    Application.subject_key.label("subject_key"),
                    Application.amount_approved_fen.label("amount_approved_fen"),
                )
                .select_from(t)
                .join(Application, Application.id == t.application_id)
                .where(t.action == action, *_in_window(t.at, w, "instant"))
            )
            if once:
                stmt = stmt.where(
                    ~exists(
                        select(t2.id).where(
                            t2.application_id == t.application_id,
                            t2.action == action,
                            or_(t2.at < t.at, and_(t2.at == t.at, t2.id < t.id)),
                        )
                    )
                )
            return stmt

        _EVENTS[key] = Shared(f"ev_{action}" + ("_first" if once else ""), build)
    return _EVENTS[key]


_EVENTS: dict[tuple[str, bool], Shared] = {}


def src_application_event(
    action: str, *, amount: str = "one", once: bool = True, kind: str | None = None
) -> Any:
    """Applications by their ``action`` transition, dimension = the application kind (program).

    ``once``: only the application's first such transition counts (NOT EXISTS an earlier one): received
    = first submission; a resubmission after 补正 is the same application. Otherwise every transition,
    still counted once per quarter by ``COUNT(DISTINCT application)`` (returned twice in a quarter → once).
    ``amount``: "one" (a count), "approved" (the approved amount, fen) or "subject" (the entity is the
    applicant within the program: kind|subject). ``kind``: one program only."""

    def source(w: Window) -> Select[Any]:
        ev = _events(action, once=once)(w)
        if amount == "approved":
            value: ColumnElement[Any] = func.coalesce(ev.c.amount_approved_fen, 0)
        else:
            value = _one()
        entity: Any = ev.c.application_id
        if amount == "subject":
            entity = ev.c.kind + _text("|") + ev.c.subject_key
        stmt = select(
            entity.label("entity"),
            ev.c.district.label("district"),
            ev.c.at.label("at"),
            ev.c.kind.label("dim"),
            value.label("amount"),
            ev.c.application_id.label("application_id"),
        )
        return stmt if kind is None else stmt.where(ev.c.kind == kind)

    return source


def src_step_durations(w: Window) -> Any:
    """Time spent in each workflow step: a transition leaving a timed step in the window, from when that
    step was entered — ``entered_at``, the ``at`` of the application's previous transition in (at, id)
    order, stored with the row (NULL for an application's first transition: no duration). The window's
    transitions are a range of the index ``(at, application_id, from_state, entered_at, id)``; each is
    joined to its application for the district. Dimension = the step (the state left); at = when it was
    left; amount = whole seconds from entered_at to at."""
    t = aliased(TransitionLog)
    return (
        select(
            t.id.label("entity"),
            Application.district.label("district"),
            t.at.label("at"),
            t.from_state.label("dim"),
            seconds_between(t.entered_at, t.at).label("amount"),
            t.application_id.label("application_id"),
        )
        .select_from(t)
        .join(Application, Application.id == t.application_id)
        .where(*_in_window(t.at, w, "instant"), t.entered_at.is_not(None), t.from_state.in_(TIMED_STEPS))
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

    def source(w: Window) -> Select[Any]:
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
            .where(JournalEntry.operation == "disburse", *_in_window(JournalEntry.created_at, w, "instant"))
        )

    return source


# --- the aggregation -------------------------------------------------------------------------------------


def _bucketed_select(ind: Indicator, w: Window) -> Select[Any]:
    src = ind.source(replace(w, open_start=ind.cumulative)).subquery("src")
    lo, hi = w.bounds(ind.time)
    cond = [src.c.at < hi]
    if not ind.cumulative:
        cond.append(src.c.at >= lo)
    return select(
        src.c.entity,
        src.c.district,
        w.bucket(src.c.at, ind.time, cumulative=ind.cumulative).label("quarter"),
        src.c.dim,
        src.c.amount,
        src.c.application_id,
    ).where(*cond)


def _bucketed(ind: Indicator, w: Window) -> Any:
    return _bucketed_select(ind, w).subquery("b")


def _grouped(ind: Indicator, b: Any, *, city: bool, district: int | None = None) -> Select[Any]:
    """GROUP BY (district,) quarter, dim over the bucketed rows ``b``; district 0 for the city."""
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
        ).where(b.c.amount.is_not(None))
        if district is not None:
            ranked = ranked.where(b.c.district == district)
        r = ranked.subquery("r_city" if city else "r_district")
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


def aggregate(ind: Indicator, w: Window, *, city: bool, district: int | None = None) -> Select[Any]:
    """Rows (district, quarter, dim, value): one per group, district 0 for the city-wide figure."""
    return _grouped(ind, _bucketed(ind, w), city=city, district=district)


def aggregate_both(ind: Indicator, w: Window) -> Any:
    """Per district and city-wide in one statement: the bucketed source is a MATERIALIZED CTE read by two
    GROUP BYs (the city figure is its own aggregation — COUNT DISTINCT over the city, the city median —
    not a sum of the district rows)."""
    b = _bucketed_select(ind, w).cte("b").prefix_with("MATERIALIZED")
    return union_all(_grouped(ind, b, city=False), _grouped(ind, b, city=True))


# --- medians in Python: the durations streamed once, np.median per group --------------------------------


def _group_medians(groups: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group ids, medians) — the median of each group: the mean of its two middle values when the count is
    even, rounded half away from zero to an integer, as ``ROUND(AVG(…))`` of the two middle rows in SQL."""
    if groups.size == 0:
        return groups, values
    order = np.lexsort((values, groups))
    g, v = groups[order], values[order]
    starts = np.flatnonzero(np.concatenate(([True], g[1:] != g[:-1])))
    counts = np.diff(np.concatenate((starts, [g.size])))
    two = v[starts + (counts - 1) // 2] + v[starts + counts // 2]
    return g[starts], np.where(two >= 0, (two + 1) // 2, -((-two + 1) // 2))


def median_figures(
    session: Session | Connection, ind: Indicator, w: Window, *, city: bool, district: int | None = None
) -> list[tuple[int, str, str, int]]:
    """Rows (district, quarter, dim, median) for a median indicator, per district and — with ``city`` — the
    city-wide median (district 0), from ONE pass over the bucketed durations. The same figures as
    :func:`aggregate` (window functions in SQL), without sorting the rows twice in the database:

    - PostgreSQL: ``percentile_cont(0.5)`` over ``GROUPING SETS`` (per district; city-wide) in the
      database — the mean of the two middle values, exact for integers below 2⁵³, then rounded half away
      from zero as NUMERIC; only the figures cross the wire;
    - SQLite (no ordered-set aggregates): the database returns the durations with their group (as texts
      of integers, or rows read from the DB-API cursor in chunks) into arrays, and NumPy sorts each
      group once.

    With a fixed dimension (``ind.dims``) the groups are integers — the quarter's position in the window
    and the dim's among the declared ones (:class:`_Coded`) — not the quarter label and the dim text: the
    database sorts (PostgreSQL) or returns (SQLite) integers, ~half the time of the step durations at a
    million applications. A row whose dim (or district) has no code makes it compute the labelled way
    instead, so nothing is dropped; an open dimension is always computed the labelled way."""
    postgres = _dialect(session) == "postgresql"
    if ind.dims is not None:
        coded = _Coded(ind, w, district)
        out = coded.figures_pg(session, city=city) if postgres else coded.figures_sqlite(session, city=city)
        if out is not None:
            return out
    b = _bucketed(ind, w)
    cond = [b.c.amount.is_not(None), b.c.quarter.is_not(None)]
    if district is not None:
        cond.append(b.c.district == district)
    if postgres:
        return _median_figures_sql(session, b, cond, city=city)
    return _median_figures_labelled(session, b, cond, city=city)


class _Coded:
    """A fixed-dimension median indicator's bucketed rows with integer groups: (district, quarter position,
    dim position, amount) — the rows of :func:`_bucketed` (inside the window: the quarter position is never
    NULL); the dim position is NULL for a dim not declared."""

    def __init__(self, ind: Indicator, w: Window, district: int | None) -> None:
        assert ind.dims is not None
        src = ind.source(replace(w, open_start=ind.cumulative)).subquery("src")
        lo, hi = w.bounds(ind.time)
        self.cond = [src.c.at < hi, src.c.amount.is_not(None)]
        if not ind.cumulative:
            self.cond.append(src.c.at >= lo)
        if district is not None:
            self.cond.append(src.c.district == district)
        self.src = src
        self.n_dims = len(ind.dims)
        self.width = len(w.quarters) * self.n_dims  # groups per district
        self.labels = [(q.label, code) for q in w.quarters for code, _label in ind.dims]
        self.quarter = w.bucket_index(src.c.at, ind.time, cumulative=ind.cumulative)
        self.dim = case({code: n for n, (code, _label) in enumerate(ind.dims)}, value=src.c.dim, else_=null())

    def figures_pg(
        self, session: Session | Connection, *, city: bool
    ) -> list[tuple[int, str, str, int]] | None:
        """PostgreSQL: percentile_cont over GROUPING SETS of the integer groups; None if a dim has no code
        or a district is NULL."""
        src, q, d = self.src, self.quarter.label("q"), self.dim.label("d")
        rows = select(src.c.district.label("district"), q, d, src.c.amount).where(*self.cond).subquery("c")
        median = cast(
            func.round(cast(func.percentile_cont(0.5).within_group(rows.c.amount), Numeric())), BigInteger
        )
        per_district = (rows.c.district, rows.c.q, rows.c.d)
        if city:
            grouping: Any = func.grouping_sets(tuple_(*per_district), tuple_(rows.c.q, rows.c.d))
            whole = func.grouping(rows.c.district)
            stmt = select(*per_district, whole, median).group_by(grouping)
        else:
            stmt = select(*per_district, literal(0, Integer()), median).group_by(*per_district)
        out: list[tuple[int, str, str, int]] = []
        for dist, qpos, dpos, is_city, m in session.execute(stmt).all():
            if dpos is None or (dist is None and not is_city):
                return None
            quarter, dim = self.labels[qpos * self.n_dims + dpos]
            out.append((0 if is_city else int(dist), quarter, dim, int(m)))
        return out

    def figures_sqlite(
        self, session: Session | Connection, *, city: bool
    ) -> list[tuple[int, str, str, int]] | None:
        """SQLite: the groups and the amounts as two texts of integers (``group_concat``; group = district ×
        width + quarter position × dims + dim position) parsed by NumPy in C — no Python tuple per row
        (fetching the durations row by row cost ~as much as their query) — and the medians by NumPy.
        Both aggregates are fed the same rows in the same order (one pass, every aggregate stepped per
        row), so the i-th group and the i-th amount belong to one row; group_concat skips NULLs, so a row
        without a group (or an amount that is not an integer) shows as a count that does not match: None
        then."""
        src = self.src
        group = src.c.district * self.width + self.quarter * self.n_dims + self.dim
        n, groups_text, amounts_text = session.execute(
            select(func.count(), func.group_concat(group), func.group_concat(src.c.amount)).where(*self.cond)
        ).one()
        if n == 0:
            return []
        if groups_text is None or amounts_text is None:
            return None
        group_all = np.fromstring(groups_text, dtype=np.int64, sep=",")
        amount_all = np.fromstring(amounts_text, dtype=np.int64, sep=",")
        if group_all.size != n or amount_all.size != n:
            return None
        out: list[tuple[int, str, str, int]] = []
        ids, med = _group_medians(group_all, amount_all)
        for g, m in zip(ids.tolist(), med.tolist(), strict=True):
            quarter, dim = self.labels[g % self.width]
            out.append((g // self.width, quarter, dim, int(m)))
        if city:
            ids, med = _group_medians(group_all % self.width, amount_all)
            for g, m in zip(ids.tolist(), med.tolist(), strict=True):
                quarter, dim = self.labels[g]
                out.append((0, quarter, dim, int(m)))
        return out


def _median_figures_labelled(
    session: Session | Connection, b: Any, cond: list[ColumnElement[bool]], *, city: bool
) -> list[tuple[int, str, str, int]]:
    """SQLite, any median indicator: (district, quarter, dim, amount) from the database, the groups made
    in Python."""
    stmt = select(b.c.district, b.c.quarter, b.c.dim, b.c.amount).where(*cond)
    keys: dict[tuple[str, str], int] = {}
    districts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    amounts: list[np.ndarray] = []
    # the DB-API cursor itself: plain tuples, no Row objects for the (many) durations; the columns are
    # turned into arrays by C loops (no Python code per row)
    conn = session if isinstance(session, Connection) else session.connection()
    cursor = conn.execute(stmt).cursor
    assert cursor is not None
    with cyclic_gc_paused():  # millions of row tuples, none in a cycle
        while part := cursor.fetchmany(200_000):
            d, q, dim, amount = zip(*part, strict=True)
            districts.append(np.array(d, dtype=np.int64))
            amounts.append(np.array(amount, dtype=np.int64))
            pairs = list(zip(q, dim, strict=True))
            for k in sorted(set(pairs).difference(keys)):
                keys[k] = len(keys)
            codes.append(np.fromiter(map(keys.__getitem__, pairs), dtype=np.int64, count=len(pairs)))
    cursor.close()
    if not keys:
        return []
    dist = np.concatenate(districts)
    code = np.concatenate(codes)
    amount_all = np.concatenate(amounts)
    label = list(keys)
    out: list[tuple[int, str, str, int]] = []
    width = len(keys)
    group, med = _group_medians(dist * width + code, amount_all)
    for g, m in zip(group.tolist(), med.tolist(), strict=True):
        q, dim = label[g % width]
        out.append((g // width, q, dim, int(m)))
    if city:
        group, med = _group_medians(code, amount_all)
        for g, m in zip(group.tolist(), med.tolist(), strict=True):
            q, dim = label[g]
            out.append((0, q, dim, int(m)))
    return out


def _median_figures_sql(
    session: Session | Connection, b: Any, cond: list[ColumnElement[bool]], *, city: bool
) -> list[tuple[int, str, str, int]]:
    """PostgreSQL, any median indicator: the medians per district and city-wide as one GROUPING SETS
    aggregation over the labels."""
    median = cast(func.round(cast(func.percentile_cont(0.5).within_group(b.c.amount), Numeric())), BigInteger)
    per_district = (b.c.district, b.c.quarter, b.c.dim)
    if city:
        grouping: Any = func.grouping_sets(tuple_(*per_district), tuple_(b.c.quarter, b.c.dim))
        dcol: ColumnElement[Any] = case((func.grouping(b.c.district) == 1, 0), else_=b.c.district)
        stmt = select(dcol, b.c.quarter, b.c.dim, median).where(*cond).group_by(grouping)
    else:
        stmt = select(*per_district, median).where(*cond).group_by(*per_district)
    return [(int(d), str(q), str(dim), int(m)) for d, q, dim, m in session.execute(stmt).all()]


def figures(
    session: Session | Connection,
    ind: Indicator,
    w: Window,
    *,
    city: bool = True,
    district: int | None = None,
) -> list[Any]:
    """Rows (district, quarter, dim, value) of one indicator: per district (only ``district`` if given) and,
    with ``city``, the city-wide figure (district 0). Medians in Python (:func:`median_figures`), the
    rest as one SQL aggregation (:func:`aggregate_both` / :func:`aggregate`)."""
    if ind.measure == "median":
        return list(median_figures(session, ind, w, city=city, district=district))
    if city and district is None:
        return run(session, aggregate_both(ind, w))
    rows = run(session, aggregate(ind, w, city=False, district=district))
    if city:
        rows += run(session, aggregate(ind, w, city=True, district=district))
    return rows


def batches(inds: Sequence[Indicator], w: Window) -> list[list[Indicator]]:
    """The indicators grouped by the shared relations their sources read (:class:`Shared`): those reading
    a common relation (directly or through another one of the group) form one batch, computed in one
    statement; an indicator reading none, or the only reader of its relations, is a batch of its own.
    Medians are always alone (:func:`median_figures`)."""
    parent = list(range(len(inds)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[str, Window], int] = {}
    for n, ind in enumerate(inds):
        if ind.measure == "median":
            continue
        with sharing(materialize=False) as ctx:
            ind.source(replace(w, open_start=ind.cumulative))
        for key in ctx.used:
            if key in first:
                parent[root(n)] = root(first[key])
            else:
                first[key] = n
    groups: dict[int, list[Indicator]] = {}
    for n, ind in enumerate(inds):
        groups.setdefault(root(n), []).append(ind)
    return list(groups.values())


def aggregate_many(inds: Sequence[Indicator], w: Window) -> Any:
    """Rows (district, quarter, dim, value, n) of several indicators — n their position in ``inds`` — per
    district and city-wide, in ONE statement: each shared relation their sources read is a MATERIALIZED
    CTE computed once for all of them; each indicator's bucketed rows are a MATERIALIZED CTE of their own
    read by its two GROUP BYs (as in :func:`aggregate_both`)."""
    parts: list[Select[Any]] = []
    with sharing():
        for n, ind in enumerate(inds):
            b = _bucketed_select(ind, w).cte(f"b{n}").prefix_with("MATERIALIZED")
            for city in (False, True):
                parts.append(_grouped(ind, b, city=city).add_columns(literal(n, Integer()).label("n")))
    return union_all(*parts)


def figures_many(
    session: Session, inds: Sequence[Indicator], w: Window, *, workers: int = 1
) -> dict[str, list[Any]]:
    """:func:`figures` (per district and city-wide) of many indicators: {indicator id: rows}. Indicators
    reading a common shared relation are computed together (:func:`batches`, :func:`aggregate_many`).

    With ``workers`` > 1 the batches run side by side on that many connections reading the session's own
    snapshot (:mod:`xiangchuang.stats.parallel`), the medians (the costliest) first; when that cannot be
    done exactly (the session's transaction has written, an in-memory database), one after another."""
    todo = sorted(batches(inds, w), key=lambda b: b[0].measure != "median")

    def one(conn: Session | Connection, batch: list[Indicator]) -> list[list[Any]]:
        if len(batch) == 1:
            return [figures(conn, batch[0], w)]
        rows: list[list[Any]] = [[] for _ in batch]
        for d, q, dim, value, n in conn.execute(aggregate_many(batch, w)).all():
            rows[n].append((d, q, dim, value))
        return rows

    workers = min(workers, len(todo))
    if readers_possible(session, workers):
        with readers(session, workers, partial(tune, side_by_side=True)) as conns:
            done = run_parallel(conns, todo, one)
    else:
        tune(session)
        done = [one(session, batch) for batch in todo]
    out: dict[str, list[Any]] = {}
    for batch, rows in zip(todo, done, strict=True):
        for ind, r in zip(batch, rows, strict=True):
            out[ind.id] = r
    return out


def tune(session: Session | Connection, *, side_by_side: bool = False) -> None:
    """Session settings for the statistics' large scans.

    PostgreSQL (this transaction only): no JIT (it compiles every one of the indicators' statements anew
    and costs more than it saves on them) and room for the COUNT DISTINCT hashes and sorts in memory (the
    step durations sort ~75 MB at a million applications; an external merge sort on disk costs seconds).
    With ``side_by_side`` (one of several readers, :func:`figures_many`) no parallel workers per statement:
    the readers themselves keep the cores busy, and each statement starting workers of its own as well
    oversubscribed them (1M applications, 2 cores, 2 readers, alternating runs: 12.5 / 10.5 s without
    them, 13.1 / 12.9 s with).
    SQLite (the connection): a page cache and a memory map large enough for the report's indexes, so the
    scans read pages in place instead of copying them through a 2 MB cache on every pass."""
    dialect = _dialect(session)
    if dialect == "postgresql":
        session.execute(_sql("SET LOCAL jit = off"))
        session.execute(_sql("SET LOCAL work_mem = '256MB'"))
        if side_by_side:
            session.execute(_sql("SET LOCAL max_parallel_workers_per_gather = 0"))
    elif dialect == "sqlite":
        session.execute(_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}"))
        session.execute(_sql(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}"))


SQLITE_CACHE_KIB: Final = 256 * 1024  # the statistics connection's page cache (KiB)
SQLITE_MMAP_BYTES: Final = 4 * 1024**3  # memory-mapped reads of the database file (address space, not RAM)


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


def run(session: Session | Connection, stmt: Any) -> list[Any]:
    return list(session.execute(stmt).all())


def _dialect(session: Session | Connection) -> str:
    return session.dialect.name if isinstance(session, Connection) else session.get_bind().dialect.name
