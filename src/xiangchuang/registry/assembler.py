"""The engine's facts from the registry: ``assemble_facts(conn, on=…, district=…) -> Facts``.

The tables and columns are those of ``engine.facts.TABLES`` with batchio's semantics (references as row
numbers, enums as codes, groups as bit masks, NULL = unknown), so each program's one definition applies
unchanged. Row order: by primary key. ``id`` columns are the registry numbers (person_no, business_no,
employment_no, carrier_no), which are also what the register (grants) and match results use.

Where each fact comes from (on the evaluation date ``on``):

- persons: the Person columns; ``groups`` = bit mask of the PersonGroup rows in force on ``on``
  (since ≤ on ≤ until, NULL bounds open; a person without rows in force belongs to no group — the
  registry is the record, so this is a known "none", not unknown); ``honour_city_level`` = an Honour of
  level city/provincial/national awarded on or before ``on`` (none → known false);
  ``has_licence``/``licence_date`` = the registration of the earliest business the person founded
  (Founder, any FOUNDING_ROLES), if registered on or before ``on``.
- businesses: the Business columns (``status`` is ``deregistered`` from the deregistration date on);
  ``founder_id`` = the legal representative / operator (FOUNDER_ROLES) in force on ``on`` (the earliest
  ``since`` if several, none in force → unknown); ``carrier_id``, ``tenancy_start`` and the bills = the
  Tenancy in force (latest start); ``honour_city_level`` as for persons; ``recommended_by`` = the latest
  Recommendation on or before ``on`` (none → "none"); ``credit_rated`` = a CreditRating of the
  business valid on ``on``. ``claim_year``/``sales_year`` are not stored: the engine's default (the last
  completed year) applies. ``workshop_new_build``/``workshop_build_cost_fen`` are the Business columns
  (migration 0028; NULL = unknown, so a recognised workshop's amount stays undetermined, README choice 51).
- business_years, hires (``contract`` = Employment.contract, else true when a contract start is
  recorded), contributions (``employer_fen`` = pension + medical + maternity + unemployment + injury
  employer parts; never the individual part; month YYYYMM → month number), carriers, received (Grant:
  subject_key → subject_id, person_key → person_id; ``subject_row`` resolved per program through
  ``engine.case.RECEIVED_SUBJECT`` exactly as batchio does). carriers: ``award_year`` and ``rating`` =
  the CarrierRating of the last completed year before ``on`` (recorded by district staff with its
  evidence; none recorded → both unknown), so a match judges the yearly performance award on the
  recorded 等次 (an application: the year it claims and that year's 等次, set by
  ``applications.service._claim_period_facts``, README choice 87). business_years, contributions and received
  are *supplied* tables: a missing row is a known "none".
- trainings: the training records of the persons in scope (:func:`_trainings`, read from the training
  service's enrolments: SYB / IYB / 网络创业 classes, enrolled or finished, ``id`` = ``training_no``,
  ``start_date`` = the class's start, ``completion_date`` = set for a completed trainee only).
- onjob_trainings (岗位培训, clause 4.11): read by :func:`_onjob_trainings` from the jobs service's
  ``onjob_trainings`` rows in scope (the district's, those of the businesses in scope, those listed in
  ``Scope.onjob_ids``); ``founded_by_returning`` is the provider business's flag when the provider is a
  registry business, else the value recorded with the training (associations, artisans).
- mentor_services (:func:`mentor_services_table`): the mentor pool's service records
  (``models.mentors.MentorService``) with the mentor's level, the organiser's rating and whether the
  organiser confirmed the record — those in scope: listed in ``Scope.mentor_service_ids`` (an application
  for ``mentor_service_subsidy`` names its record), rendered in the district, or all for the whole city.
- Not in the registry (yet): loans, other_loans — absent, so their programs have no subjects here (the
  loan service evaluates its own).

District: the district's businesses, their founders and employees, the employees' contributions, the
carriers the businesses are tenants of plus the district's own carriers, and every register row about
any of these subjects (whichever district paid it: 「同一主体不重复享受」 is city-wide). ``None`` reads the
whole city.

Context (a district, or the subjects of one explanation / application): the other employments of the
persons hired in scope, wherever they work, with their contributions and their employers' business
rows (``repository.scope_sql`` says how far and why). The engine compares the hire records of one
person (每人一次: ``job_subsidy.one_per_person`` and its one 「即将符合」 listing per person), so a
record in scope is decided as in a whole-city evaluation. Those rows are marked in the column
``CONTEXT`` of ``businesses`` and ``hires``; ``matching.evaluate`` makes no program apply to them
(no result, no count), and they do not decide where a person's results are filed (``PERSON_DISTRICT``).

首次创业 (first_business) — the decision. The engine reads ``persons.first_business`` through
``businesses.founder_id`` (``founder__first_business``), i.e. per person; the notice means it per
business (「首次创办」: this business is the founder's first). The registry knows the history (Founder
rows), so:

1. ``persons.first_business`` is the person-level fact "had founded at most one business by ``on``"
   (never, or only one) — true for one-business founders, false for anyone with two or more. Alone it
   is conservative: it never makes a later business look first.
2. ``businesses.founder_first_business`` is the per-business value: no business founded by the same
   person was registered earlier (same day: the lower record id counts as earlier). The engine's
   ``assemble`` prefers it over the person's flag when it is known. So the earliest business of a
   multi-business founder can qualify for 创业补助 and the later ones cannot; for every one-business
   founder both values agree.

A batch file can give (2) as the businesses column ``founder_first_business``; the synthetic data does not, which is the one documented
difference between ``match --from-db`` and the engine over the same data written to files.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from xiangchuang.engine.assemble import Facts
from xiangchuang.engine.case import RECEIVED_SUBJECT
from xiangchuang.engine.dates import to_day
from xiangchuang.engine.facts import FACTS, GROUPS, NO_REF, Col, Table
from xiangchuang.engine.schedule import ScheduleError, parse_schedule
from xiangchuang.models import Business, Employment, Founder, OnjobTraining, Person
from xiangchuang.registry import repository as repo
from xiangchuang.registry.repository import (
    BAD_CODE,
    MONTH_SPAN,
    NULL_INT,
    UNKNOWN_GROUP_BIT,
    Columns,
    Method,
    RegistryDataError,
    Scope,
)

SUPPLIED: Final = frozenset({"business_years", "contributions", "received"})
FIRST_BUSINESS_OVERRIDE: Final = "founder_first_business"
PERSON_DISTRICT: Final = "__district"  # where a person founded / works (for storing person results)
# businesses / hires: true for a row read only as context (module docstring), never a subject.
CONTEXT: Final = "__context"
_TABLE_ZH: Final = {
    "persons": "人员",
    "businesses": "经营主体",
    "hires": "招用记录",
    "carriers": "载体",
    "business_years": "经营主体年度数据",
    "contributions": "社保缴费记录",
    "received": "已享受政策登记",
    "trainings": "培训记录",
}
_NEVER_DAY: Final = np.iinfo(np.int64).max

I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass
class LoadStats:
    """How the facts were read: seconds, rows and fetch method per table."""

    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)
    connections: int = 1  # > 1: read in parallel on helper connections sharing one snapshot
    # Of ``rows``, the business and hire rows read only as context (module docstring): not subjects.
    context: dict[str, int] = field(default_factory=dict)


def _connection(conn_or_session: Connection | Session) -> Connection:
    return conn_or_session.connection() if isinstance(conn_or_session, Session) else conn_or_session


def assemble_facts(
    conn_or_session: Connection | Session,
    *,
    on: dt.date,
    district: int | None,
    subjects: Scope | None = None,
    method: Method = "auto",
    workers: int | None = None,
    stats: LoadStats | None = None,
) -> Facts:
    """The engine's input tables for ``on`` from the registry: one district (or the whole city), or
    the given ``subjects`` (used to re-derive one explanation). See the module docstring."""
    t0 = time.perf_counter()
    conn = _connection(conn_or_session)
    scope = subjects if subjects is not None else Scope(district=district)
    s = repo.scope_sql(scope, on)
    stats = stats if stats is not None else LoadStats()

    fetched, stats.connections = repo.fetch_all(
        conn,
        {
            "persons": repo.persons_query(s),
            "memberships": repo.memberships_query(s),
            "person_honours": repo.person_honours_query(s),
            "founders": repo.founders_query(s),
            "businesses": repo.businesses_query(s),
            "business_years": repo.business_years_query(s),
            "hires": repo.hires_query(s),
            "contributions": repo.contributions_query(s),
            "carriers": repo.carriers_query(s),
            "received": repo.grants_query(s),
            "trainings": repo.trainings_query(s),
        },
        method=method,
        workers=workers,
    )
    for name, (cols, used) in fetched.items():
        stats.methods[name] = used
        stats.rows[name] = len(next(iter(cols.values())))
    p, pg, ph = _by_pk(fetched["persons"][0]), fetched["memberships"][0], fetched["person_honours"][0]
    f, b = fetched["founders"][0], _by_pk(fetched["businesses"][0])
    by, h = fetched["business_years"][0], _by_pk(fetched["hires"][0])
    c, cr, g = fetched["contributions"][0], _by_pk(fetched["carriers"][0]), _by_pk(fetched["received"][0])

    if np.any(pg["bit"] & UNKNOWN_GROUP_BIT):
        unknown = "、".join(repo.unknown_group_codes(conn))
        raise RegistryDataError(
            f"人员类别（person_groups.group_code）含未知取值：{unknown}（可选：{'、'.join(GROUPS)}）"
        )

    day = to_day(on)
    tables: dict[str, Table] = {}
    persons = _table(
        "persons",
        p,
        (
            "id",
            "birth_date",
            "gender",
            "hukou_district",
            "returning_entrepreneur",
            "graduation_date",
            "startup_intention",
            "second_time_founder_stable",
            "holds_free_workstation",
        ),
    )
    every = np.ones(persons.n, dtype=bool)
    member = _ref(p["pk"], pg["person_pk"])
    mask = np.zeros(persons.n, dtype=np.int64)
    np.bitwise_or.at(mask, member.values[member.known].astype(np.int64), pg["bit"][member.known])
    persons["groups"] = Col(mask, every.copy())
    honoured = _ref(p["pk"], ph["person_pk"])
    flag = np.zeros(persons.n, dtype=bool)
    flag[honoured.values[honoured.known]] = True
    persons["honour_city_level"] = Col(flag, every.copy())
    tables["persons"] = persons

    # Business history: per person the first business founded (earliest registration, then lowest id).
    f_person = _ref(p["pk"], f["person_pk"])
    ok = f_person.known
    fp, fb, freg = f_person.values[ok], f["business_pk"][ok], f["registration_date"][ok]
    order = np.lexsort((fb, freg, fp))
    fp, fb, freg = fp[order], fb[order], freg[order]
    distinct = np.ones(fp.size, dtype=bool)
    distinct[1:] = (fp[1:] != fp[:-1]) | (fb[1:] != fb[:-1])
    n_founded = np.bincount(fp[distinct & (freg <= day)], minlength=persons.n)  # founded by the date
    first_of_person = np.ones(fp.size, dtype=bool)
    first_of_person[1:] = fp[1:] != fp[:-1]
    first_business_pk = np.full(persons.n, NULL_INT, dtype=np.int64)
    first_business_pk[fp[first_of_person]] = fb[first_of_person]
    first_reg = np.full(persons.n, _NEVER_DAY, dtype=np.int64)
    first_reg[fp[first_of_person]] = freg[first_of_person]
    has_licence = first_reg <= day
    persons["has_licence"] = Col(has_licence, every.copy())
    persons["licence_date"] = Col(np.where(has_licence, first_reg, 0).astype(np.int32), has_licence)
    persons["first_business"] = Col(n_founded <= 1, every.copy())

    # Carriers before businesses (businesses refer to them).
    carriers = _table(
        "carriers",
        cr,
        ("id", "kind", "level", "district", "municipal_date", "national_date", "award_year", "rating"),
    )
    carriers["schedule"] = _readable_schedules(_text(cr["schedule"]))
    tables["carriers"] = carriers

    businesses = _table(
        "businesses",
        b,
        (
            "id",
            "district",
            "kind",
            "size_class",
            "registration_date",
            "status",
            "founded_by_returning",
            "staff_count",
            "new_eligible_hires",
            "honour_city_level",
            "recommended_by",
            "credit_rated",
            "workshop_recognised",
            "workshop_employed",
            "workshop_new_build",
            "workshop_build_cost_fen",
            "tenancy_start",
            "rent_fen",
            "property_fee_fen",
            "utilities_fen",
        ),
    )
    businesses["carrier_id"] = _ref(cr["pk"], b["carrier_pk"])
    # The founder (legal representative / operator in force): earliest since, then lowest record id
    # (the same rule as repository.founder_in_force, which the one-stop service uses for one business).
    cand = (f["is_founder"] == 1) & (f["in_force"] == 1)
    cb, cp, cs, cid = f["business_pk"][cand], f["person_pk"][cand], f["since"][cand], f["pk"][cand]
    order = np.lexsort((cid, cs, cb))  # NULL since (NULL_INT) sorts first: "since the beginning"
    cb, cp = cb[order], cp[order]
    first = np.ones(cb.size, dtype=bool)
    first[1:] = cb[1:] != cb[:-1]
    founder_pk = np.full(businesses.n, NULL_INT, dtype=np.int64)
    b_row = _ref(b["pk"], cb[first])
    founder_pk[b_row.values[b_row.known]] = cp[first][b_row.known]
    founder = _ref(p["pk"], founder_pk)
    businesses["founder_id"] = founder
    safe = np.where(founder.known, founder.values, 0)
    is_first = founder.known & (first_business_pk[safe] == b["pk"]) if persons.n else founder.known
    businesses[FIRST_BUSINESS_OVERRIDE] = Col(is_first, founder.known.copy())
    b_context = b["context"] == 1 if "context" in b else np.zeros(businesses.n, dtype=bool)
    businesses.cols[CONTEXT] = Col(b_context, np.ones(businesses.n, dtype=bool))
    tables["businesses"] = businesses

    years = _table(
        "business_years",
        by,
        ("year", "employer_si_paid_fen", "online_revenue_fen", "online_orders", "courier_fees_fen"),
    )
    years["business_id"] = _ref(b["pk"], by["business_pk"])
    tables["business_years"] = years

    hires = _table("hires", h, ("id", "hire_date", "contract"))
    hires["business_id"] = _ref(b["pk"], h["business_pk"])
    hires["person_id"] = _ref(p["pk"], h["person_pk"])
    hb = hires["business_id"]  # (every hire's employer is read: repository.scope_sql)
    h_context = (
        hb.known & b_context[np.where(hb.known, hb.values, 0)]
        if businesses.n
        else np.zeros(hires.n, dtype=bool)
    )
    hires.cols[CONTEXT] = Col(h_context, np.ones(hires.n, dtype=bool))
    tables["hires"] = hires

    contributions = Table("contributions", len(c["hire_month"]))
    contributions["hire_id"] = _ref(h["pk"], c["hire_month"] // MONTH_SPAN)
    ym = c["hire_month"] % MONTH_SPAN  # YYYYMM (both parts are NOT NULL columns)
    contributions["month"] = Col(((ym // 100 - 1970) * 12 + ym % 100 - 1).astype(np.int32), ym > 0)
    contributions["employer_fen"] = _col("contributions", "employer_fen", c["employer_fen"], None)
    tables["contributions"] = contributions

    tables["onjob_trainings"] = _onjob_trainings(conn, s)
    tables["mentor_services"] = mentor_services_table(conn, s)
    stats.rows["mentor_services"] = tables["mentor_services"].n
    tables["received"] = _received(g, tables)
    tables["trainings"] = _trainings(fetched["trainings"][0], p["pk"])

    # Where each person founded (else works): only to file person results under a district. The
    # context rows do not count: a district's run files its persons under the district, as before.
    pdist = np.zeros(persons.n, dtype=np.int32)
    hp = hires["person_id"]
    both = hp.known & hb.known & ~h_context
    pdist[hp.values[both]] = businesses["district"].values[hb.values[both]]
    founding = founder.known & ~b_context
    pdist[founder.values[founding]] = businesses["district"].values[founding]
    persons.cols[PERSON_DISTRICT] = Col(pdist, pdist != 0)

    stats.context = context_rows(tables)
    stats.seconds = time.perf_counter() - t0
    return Facts(tables, set(SUPPLIED))


def person_district(conn_or_session: Connection | Session, person_no: str, *, on: dt.date) -> int | None:
    """The district the engine files one person under on ``on`` (``PERSON_DISTRICT``: where the person
    founded, else works); None when the registry places the person nowhere or has no such person.
    Never the 户籍 (README choice 12: no rule reads it, and it may be any county in China)."""
    conn = _connection(conn_or_session)
    pk = conn.execute(select(Person.id).where(Person.person_no == person_no)).scalar()
    if pk is None:
        return None
    # The businesses that can place the person: those they founded and their employers (as in a
    # whole-city run, which reads them all).
    founded = select(Founder.business_id).where(Founder.person_id == pk, Founder.role.in_(repo.FOUNDER_ROLES))
    employers = select(Employment.business_id).where(Employment.person_id == pk)
    related = tuple(sorted({int(b) for b in conn.execute(founded.union(employers)).scalars()}))
    scope = Scope(person_ids=(int(pk),), business_ids=related)
    persons = assemble_facts(conn, on=on, district=None, subjects=scope).tables["persons"]
    where = persons[PERSON_DISTRICT]
    for row, no in enumerate(persons["id"].values.tolist()):
        if no == person_no and where.known[row]:
            return int(where.values[row])
    return None


def context_rows(tables: dict[str, Table]) -> dict[str, int]:
    """Per table with context rows (``CONTEXT``), how many: rows read that are not subjects."""
    out: dict[str, int] = {}
    for name, t in tables.items():
        col = t.cols.get(CONTEXT)
        if col is not None:
            out[name] = int(np.count_nonzero(col.values))
    return out


# ---- trainings (the training service's records) ----------------------------------------------------


def _trainings(t: Columns, person_pks: I64) -> Table:
    """The engine's ``trainings`` table from the training records read by ``repo.trainings_query``."""
    t = _by_pk(t)
    table = _table("trainings", t, ("id", "kind", "start_date", "completion_date"))
    table["person_id"] = _ref(person_pks, t["person_pk"])
    return table


def trainings_table(
    *,
    ids: list[str],
    person_rows: list[int],
    kinds: list[str],
    start_days: list[int],
    completion_days: list[int | None],
    districts: list[int | None] | None = None,
) -> Table:
    """A ``trainings`` table from plain values (a training not yet stored: enrolment eligibility);
    ``districts``: where each training is held (None: not known, the city's values apply)."""
    n = len(ids)
    every = np.ones(n, dtype=bool)
    kind = FACTS["trainings"]["kind"]
    done = np.asarray([d is not None for d in completion_days], dtype=bool)
    where = districts if districts is not None else [None] * n
    return Table(
        "trainings",
        n,
        {
            "id": Col(np.asarray(ids, dtype=object), every.copy()),
            "person_id": Col(np.asarray(person_rows, dtype=np.int64), every.copy()),
            "kind": Col(np.asarray([kind.code_of(k) for k in kinds], dtype=np.int32), every.copy()),
            "start_date": Col(np.asarray(start_days, dtype=np.int32), every.copy()),
            "completion_date": Col(np.asarray([d or 0 for d in completion_days], dtype=np.int32), done),
            "district": Col(
                np.asarray([d or 0 for d in where], dtype=np.int32),
                np.asarray([d is not None for d in where], dtype=bool),
            ),
        },
    )


# ---- on-job trainings (clause 4.11) ----------------------------------------------------------------


def _onjob_trainings(conn: Connection, s: repo.ScopeSql) -> Table:
    """The engine's ``onjob_trainings`` table from the jobs service's records (see the module docstring)."""
    stmt = (
        select(
            OnjobTraining.training_no,
            OnjobTraining.provider_kind,
            func.coalesce(Business.founded_by_returning, OnjobTraining.founded_by_returning),
            OnjobTraining.district,
            OnjobTraining.course_level,
            OnjobTraining.trainees,
            OnjobTraining.skilled_post,
            OnjobTraining.completion_date,
        )
        .select_from(OnjobTraining)
        .outerjoin(Business, Business.id == OnjobTraining.business_id)
        .order_by(OnjobTraining.id)
    )
    if s.onjob is not None:
        stmt = stmt.where(OnjobTraining.id.in_(s.onjob))
    rows = conn.execute(stmt).all()
    n = len(rows)
    facts = FACTS["onjob_trainings"]
    table = Table("onjob_trainings", n)
    every = np.ones(n, dtype=bool)

    def enum(name: str, values: list[str]) -> Col:
        try:
            return Col(np.asarray([facts[name].code_of(v) for v in values], dtype=np.int32), every.copy())
        except ValueError as exc:
            raise RegistryDataError(
                f"岗位培训：{facts[name].label}（{name}）取值不在允许范围内：{exc}"
            ) from None

    def flag(values: list[bool | None]) -> Col:
        known = np.asarray([v is not None for v in values], dtype=bool)
        return Col(np.asarray([bool(v) for v in values], dtype=bool), known)

    cols: list[Any] = list(zip(*rows, strict=True)) if rows else [() for _ in range(8)]
    table["id"] = Col(np.asarray(list(cols[0]), dtype=object), every.copy())
    table["provider_kind"] = enum("provider_kind", list(cols[1]))
    table["founded_by_returning"] = flag(list(cols[2]))
    table["district"] = Col(np.asarray(list(cols[3]), dtype=np.int32), every.copy())
    table["course_level"] = enum("course_level", list(cols[4]))
    table["trainees"] = Col(np.asarray(list(cols[5]), dtype=np.int64), every.copy())
    table["skilled_post"] = flag(list(cols[6]))
    table["completion_date"] = Col(np.asarray([to_day(d) for d in cols[7]], dtype=np.int32), every.copy())
    return table


# ---- the mentor pool's service records (clause 2.6 → mentor_service_subsidy) ------------------------


def mentor_services_table(conn: Connection, s: repo.ScopeSql) -> Table:
    """The engine's ``mentor_services`` table from the mentor pool (few rows: one plain select)."""
    rows = conn.execute(repo.mentor_services_query(s)).all()

    def ints(i: int) -> npt.NDArray[np.int64]:
        return np.asarray([NULL_INT if r[i] is None else int(r[i]) for r in rows], dtype=np.int64)

    cols: Columns = {
        "pk": ints(0),
        "id": np.asarray([r[1] for r in rows], dtype=object),
        "mentor_id": np.asarray([r[2] for r in rows], dtype=object),
        "district": ints(3),
        "level": ints(4),
        "activity": ints(5),
        "units": ints(6),
        "rating": ints(7),
        "confirmed": ints(8),
    }
    return _table(
        "mentor_services",
        cols,
        ("id", "mentor_id", "district", "level", "activity", "units", "rating", "confirmed"),
    )


# ---- conversions -----------------------------------------------------------------------------------


def _by_pk(cols: Columns) -> Columns:
    pk = cols["pk"]
    if pk.size < 2 or bool(np.all(pk[1:] > pk[:-1])):
        return cols
    order = np.argsort(pk, kind="stable")
    return {k: v[order] for k, v in cols.items()}


def _ref(target_pks: I64, pks: I64) -> Col:
    """Primary keys → row numbers of the (sorted) target table; NULL or not loaded → unknown."""
    given = pks != NULL_INT
    if target_pks.size == 0:
        return Col(np.full(pks.size, NO_REF, dtype=np.int64), np.zeros(pks.size, dtype=bool))
    idx = np.minimum(np.searchsorted(target_pks, pks), target_pks.size - 1)
    found = given & (target_pks[idx] == pks)
    return Col(np.where(found, idx, NO_REF).astype(np.int64), found)


def _readable_schedules(col: Col) -> Col:
    """Carriers' stored rent schedules, a schedule the engine's reader refuses marked not known
    (its text kept): one stored before the reader became stricter (e.g. with skipped years). The
    engine then leaves that carrier's tenants' rent reduction undetermined, naming the schedule as
    the missing fact (not the default schedule, not a failed run); ``schedule_warnings`` names the
    carrier. Each distinct text is read once (schedules are few)."""
    bad = [t for t in np.unique(col.values[col.known].astype(str)).tolist() if _schedule_error(t)]
    if not bad:
        return col
    return Col(col.values, col.known & ~np.isin(col.values, np.asarray(bad, dtype=object)))


def _schedule_error(text: str) -> str | None:
    try:
        parse_schedule(text)
    except ScheduleError as exc:
        return str(exc)
    return None


def schedule_warnings(tables: Mapping[str, Table]) -> list[str]:
    """A warning per carrier whose stored rent schedule cannot be read (``_readable_schedules``)."""
    carriers = tables.get("carriers")
    if carriers is None or "schedule" not in carriers:
        return []
    sched = carriers["schedule"]
    rows = np.flatnonzero(~sched.known & np.asarray(sched.values, dtype=object).astype(bool))  # (text given)
    return [
        f"载体 {carriers['id'].values[r]}：{_schedule_error(str(sched.values[r]))}；"
        "其在驻经营主体的场租减免按待定处理，请重新保存该载体的减免方案"
        for r in rows.tolist()
    ]


def _text(values: npt.NDArray[np.object_]) -> Col:
    known = np.asarray([v is not None for v in values], dtype=bool)
    out = np.where(known, values, "").astype(object)
    return Col(out, known)


def _col(table: str, name: str, raw: npt.NDArray[np.generic], ids: npt.NDArray[np.object_] | None) -> Col:
    kind = FACTS[table][name].kind
    if kind in ("id", "text"):
        return _text(raw.astype(object))
    v = raw.astype(np.int64)
    known = v != NULL_INT
    if kind == "bool":
        return Col((v == 1) & known, known)
    if kind == "enum":
        bad = known & (v == BAD_CODE)
        if bad.any():
            who = f" {ids[np.flatnonzero(bad)[0]]}" if ids is not None else ""
            fact = FACTS[table][name]
            raise RegistryDataError(
                f"{_TABLE_ZH.get(table, table)}{who}：{fact.label}（{name}）取值不在允许范围内"
                f"（{'、'.join(fact.choices)}）"
            )
    if kind in ("int", "fen") and bool(np.any(known & (v < 0))):
        who = f" {ids[np.flatnonzero(known & (v < 0))[0]]}" if ids is not None else ""
        raise RegistryDataError(
            f"{_TABLE_ZH.get(table, table)}{who}：{FACTS[table][name].label}（{name}）不能为负数"
        )
    filled = np.where(known, v, 0)
    if kind in ("date", "month", "code", "division", "enum"):
        return Col(filled.astype(np.int32), known)
    return Col(filled.astype(np.int64), known)


def _table(name: str, cols: Columns, fields: tuple[str, ...]) -> Table:
    n = len(next(iter(cols.values())))
    table = Table(name, n)
    ids = cols.get("id")
    for f in fields:
        table[f] = _col(name, f, cols[f], ids)
    return table


def _received(g: Columns, tables: dict[str, Table]) -> Table:
    rec = _table(
        "received", g, ("program", "subject_id", "person_id", "period", "months", "amount_fen", "district")
    )
    subject_row = np.full(rec.n, NO_REF, dtype=np.int64)
    programs = rec["program"].values
    id_arrays: dict[str, pa.Array] = {}
    for program, (target, id_field) in RECEIVED_SUBJECT.items():
        sel = np.flatnonzero(programs == program)
        if not sel.size or target not in tables:
            continue
        if target not in id_arrays:
            id_arrays[target] = pa.array(tables[target]["id"].values.tolist(), type=pa.string())
        col = rec[id_field]
        keys = pa.array(col.values[sel].tolist(), type=pa.string(), mask=~col.known[sel])
        idx = pc.index_in(keys, value_set=id_arrays[target])
        found = np.asarray(idx.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        vals = np.asarray(pc.fill_null(idx, NO_REF).to_numpy(zero_copy_only=False), dtype=np.int64)
        subject_row[sel] = np.where(found, vals, NO_REF)
    rec.cols["subject_row"] = Col(subject_row, np.ones(rec.n, dtype=bool))
    return rec
