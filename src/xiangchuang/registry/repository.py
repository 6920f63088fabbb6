"""Queries of 政策找人 over the registry: what the facts assembler reads and what matching stores.

Reading: every engine input table is ONE ``SELECT`` (split into primary-key ranges only for very large
tables) whose columns are already what the engine wants: dates as day numbers, booleans and enums as
integer codes (several packed into one integer), the five employer parts summed. Two ways bring a
select into NumPy (:func:`fetch`):

- ``"columns"`` (default on SQLite and PostgreSQL): the database aggregates each column into one text
  (``group_concat`` / ``string_agg``, NULL written as a sentinel) and NumPy parses each text in C — no
  Python object per row. Measured, 1.3M rows × 3 integer columns: SQLite 0.63 s against 0.97 s for
  tuples (``fetchall`` + NumPy); PostgreSQL 0.41 s against 0.65–0.8 s for ``COPY (…) TO STDOUT`` +
  Arrow's CSV reader (psycopg delivers COPY one row per message) and 0.69 s + 1.07 s for tuples + Arrow.
- ``"rows"``: portable: the driver's tuples, converted a whole column at a time. Used for other
  databases and whenever a text value holds the separator (the aggregate's row count then disagrees).

Per value the text aggregation costs SQLite about 0.15 µs, so the number of values read dominates:
hence the packing, the month folded into the employment key, and no unused columns.
:func:`fetch_all` may read on several PostgreSQL connections sharing one snapshot.

Writing: a match run and its results (bulk insert; COPY on PostgreSQL), and the look-ups of
``explain-match``.
"""

from __future__ import annotations

import datetime as dt
import queue
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Integer,
    Select,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union,
)
from sqlalchemy import text as text_sql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from xiangchuang.engine.facts import FACTS, GROUPS
from xiangchuang.models import (
    Business,
    BusinessYear,
    Carrier,
    CarrierRating,
    Contribution,
    Course,
    CreditRating,
    Employment,
    Enrolment,
    Founder,
    Grant,
    Honour,
    MatchResult,
    MatchRun,
    Mentor,
    MentorService,
    OnjobTraining,
    Person,
    PersonGroup,
    Recommendation,
    Tenancy,
    TrainingClass,
)

Method = Literal["auto", "columns", "rows"]
AnySelect = Select[*tuple[Any, ...]]
Kind = Literal["int", "small", "text"]

# Founder.role values. The founder the engine sees (创办人: 法定代表人/经营者) is a row with one of
# FOUNDER_ROLES; a person "has founded" a business (business history, 首次创业) with any FOUNDING_ROLES.
FOUNDER_ROLES: Final = ("legal_representative", "operator")
FOUNDING_ROLES: Final = (*FOUNDER_ROLES, "partner")
# 设区的市级以上荣誉: Honour.level values that count.
HONOUR_LEVELS: Final = ("city", "provincial", "national")

NULL_INT: Final = -(2**62)  # a NULL in an integer column after fetching
BAD_CODE: Final = -2  # an enum value outside the documented choices
UNKNOWN_GROUP_BIT: Final = 1 << 62  # a group_code outside engine.facts.GROUPS
MONTH_SPAN: Final = 1 << 20  # contributions: employment_id · MONTH_SPAN + YYYYMM
CHUNK_KEYS: Final = 2_000_000  # primary-key span of one select (keeps each aggregated text < 1 GB)
_NULL_TEXT: Final = "\x1e"
_SEP: Final = "\n"
_NONE: Final[Any] = None


class RegistryDataError(ValueError):
    """A registry value the engine cannot read (message in Chinese, names the table and record)."""


# ---- SQL building blocks -------------------------------------------------------------------------


class day_number(FunctionElement[int]):
    """Days since 1970-01-01 of a DATE column (NULL stays NULL): the engine's date encoding."""

    type = Integer()
    inherit_cache = True
    name = "day_number"


@compiles(day_number, "sqlite")
def _day_sqlite(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


@compiles(day_number)
def _day_default(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(CAST({compiler.process(element.clauses, **kw)} AS DATE) - DATE '1970-01-01')"


class as_int(FunctionElement[int]):
    """A BOOLEAN column as 0/1 (NULL stays NULL)."""

    type = Integer()
    inherit_cache = True
    name = "as_int"


@compiles(as_int, "sqlite")
def _int_sqlite(element: as_int, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)})"


@compiles(as_int)
def _int_default(element: as_int, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"


def enum_code(column: Any, table: str, field_name: str) -> ColumnElement[int]:
    """The engine's code of an enum text column (its position in the fact's choices); BAD_CODE otherwise."""
    choices = FACTS[table][field_name].choices
    whens: list[tuple[ColumnElement[bool], Any]] = [(column == c, i) for i, c in enumerate(choices)]
    whens.append((column.is_(None), null()))
    return case(*whens, else_=BAD_CODE)


def _in_force(since: Any, until: Any, on: dt.date) -> ColumnElement[bool]:
    return and_(or_(since.is_(None), since <= on), or_(until.is_(None), until >= on))


def founder_in_force(session: Session, business_id: int, on: dt.date) -> Person | None:
    """The business's founder the engine sees on ``on`` (``businesses.founder_id``, the assembler): the
    legal representative / operator (FOUNDER_ROLES) whose row is in force on ``on`` (since ≤ on ≤ until,
    NULL bounds open); when several, the earliest ``since`` (NULL first: "since the beginning"), then
    the lowest record id. None when no such row is in force (README choice 23)."""
    return session.execute(
        select(Person)
        .join(Founder, Founder.person_id == Person.id)
        .where(
            Founder.business_id == business_id,
            Founder.role.in_(FOUNDER_ROLES),
            _in_force(Founder.since, Founder.until, on),
        )
        .order_by(Founder.since.is_not(None), Founder.since, Founder.id)
        .limit(1)
    ).scalar_one_or_none()


def _group_bit() -> ColumnElement[int]:
    whens: list[tuple[ColumnElement[bool], Any]] = [
        (PersonGroup.group_code == name, 1 << bit) for name, (bit, _) in GROUPS.items()
    ]
    return case(*whens, else_=UNKNOWN_GROUP_BIT)


# ---- what to read: the scope ---------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which part of the registry to read.

    All empty: the whole city. Otherwise the businesses of ``district`` and those listed, their founders
    and employees (and those listed in ``person_ids``), the employees' contributions, the carriers the
    businesses are tenants of (plus the district's carriers and those listed), and every register row
    (grant) about any of them, whatever district paid it.

    Context (read, never a subject of the evaluation): the *other* employments of the persons hired by
    the businesses in scope — wherever they work — with their contributions and their employers'
    business rows, so that the rules comparing the hire records of one person (the job subsidy's
    每人一次 ``one_per_person`` and its one 「即将符合」 listing per person, and any such rule of the
    social-insurance subsidy) see every record of the person, as a whole-city evaluation does. See
    :func:`scope_sql` for how far this goes and why no further.
    """

    district: int | None = None
    business_ids: tuple[int, ...] = ()
    person_ids: tuple[int, ...] = ()
    carrier_ids: tuple[int, ...] = ()
    onjob_ids: tuple[int, ...] = ()  # on-job trainings (岗位培训) listed besides the district's
    mentor_service_ids: tuple[int, ...] = ()  # mentor service records (mentor_service_subsidy)

    @property
    def whole_city(self) -> bool:
        return self.district is None and not (
            self.business_ids
            or self.person_ids
            or self.carrier_ids
            or self.onjob_ids
            or self.mentor_service_ids
        )


@dataclass
class ScopeSql:
    """Subqueries of the primary keys read (None: every row)."""

    businesses: AnySelect | None  # the businesses in scope (their subjects are the evaluation's)
    persons: AnySelect | None
    hires: AnySelect | None  # the hires in scope and, as context, the other hires of their persons
    carriers: AnySelect | None
    on: dt.date
    onjob: AnySelect | None = None  # on-job trainings: the district's, the businesses', those listed
    mentor_services: AnySelect | None = None
    # The business rows read: those in scope and, as context, the employers of the context hires.
    businesses_read: AnySelect | None = None


def scope_sql(scope: Scope, on: dt.date) -> ScopeSql:
    if scope.whole_city:
        return ScopeSql(None, None, None, None, on)
    conds: list[ColumnElement[bool]] = []
    if scope.district is not None:
        conds.append(Business.district == scope.district)
    if scope.business_ids:
        conds.append(Business.id.in_(scope.business_ids))
    biz = select(Business.id).where(or_(*conds) if conds else false())
    people: list[AnySelect] = [
        select(Founder.person_id.label("id")).where(Founder.business_id.in_(biz)),
        select(Employment.person_id.label("id")).where(Employment.business_id.in_(biz)),
    ]
    if scope.person_ids:
        people.append(select(Person.id.label("id")).where(Person.id.in_(scope.person_ids)))
    persons = select(union(*people).subquery().c.id)
    # Context: every employment of the persons hired in scope (their hires in scope among them) and
    # the business rows of those employments. How far the chain must go — what the engine reads to
    # decide a context record (engine/assemble.py joins, engine/programs/employment.py):
    # - a job-subsidy condition reads of a hire record its own columns (hire date, contract), its
    #   contributions (the consecutive run), its person (groups; the register: job_subsidy_received)
    #   and of its employer only ``founded_by_returning`` and ``district`` (assemble's
    #   HIRE_BUSINESS_FIELDS; the district also selects district parameters). A social-insurance
    #   condition reads the hire, its contributions, its person (groups, graduation, birth date,
    #   gender, the register) and of the employer only the district.
    # - the person is in scope already (an employee of a business in scope), with all their register
    #   rows: job / social-insurance grants are keyed by the hired person (kinds.GRANT_SUBJECT, as the
    #   importer checks and the workflow writes), so no grant about a context business bears on it.
    # - so a context business's founder, other employees, carriers, year figures, on-job trainings and
    #   grants are not read (no condition deciding a hire record reads them; the context rows' own
    #   results are dropped: assembler.CONTEXT, matching.evaluate), and the chain ends after one step:
    #   a context record's person is a person in scope, all of whose hires are read. Row order stays
    #   the primary key, so ties (hire date, then row) are broken as in a whole-city read.
    hired = select(Employment.person_id).where(Employment.business_id.in_(biz))
    hires = select(Employment.id).where(Employment.person_id.in_(hired))
    employers = select(Employment.business_id.label("id")).where(Employment.person_id.in_(hired))
    businesses_read = select(union(biz, employers).subquery().c.id)
    carrier_conds: list[ColumnElement[bool]] = [
        Carrier.id.in_(
            select(Tenancy.carrier_id).where(
                Tenancy.business_id.in_(biz), _in_force(Tenancy.start, Tenancy.end, on)
            )
        )
    ]
    if scope.district is not None:
        carrier_conds.append(Carrier.district == scope.district)
    if scope.carrier_ids:
        carrier_conds.append(Carrier.id.in_(scope.carrier_ids))
    carriers = select(Carrier.id).where(or_(*carrier_conds))
    onjob_conds: list[ColumnElement[bool]] = [OnjobTraining.business_id.in_(biz)]
    if scope.district is not None:
        onjob_conds.append(OnjobTraining.district == scope.district)
    if scope.onjob_ids:
        onjob_conds.append(OnjobTraining.id.in_(scope.onjob_ids))
    onjob = select(OnjobTraining.id).where(or_(*onjob_conds))
    return ScopeSql(
        biz,
        persons,
        hires,
        carriers,
        on,
        onjob=onjob,
        mentor_services=mentor_services_scope(scope),
        businesses_read=businesses_read,
    )


def mentor_services_scope(scope: Scope) -> AnySelect:
    """Mentor service records in scope: those listed, and those rendered in the district."""
    conds: list[ColumnElement[bool]] = []
    if scope.district is not None:
        conds.append(MentorService.district == scope.district)
    if scope.mentor_service_ids:
        conds.append(MentorService.id.in_(scope.mentor_service_ids))
    return select(MentorService.id).where(or_(*conds) if conds else false())


def mentor_services_query(s: ScopeSql) -> AnySelect:
    """The engine's ``mentor_services`` rows (facts.TABLES): a record, its mentor's level, the organiser's
    confirmation and rating (enums as codes, NULL = unknown)."""
    stmt = select(
        MentorService.id.label("pk"),
        MentorService.service_no.label("id"),
        Mentor.mentor_no.label("mentor_id"),
        MentorService.district.label("district"),
        enum_code(Mentor.level, "mentor_services", "level").label("level"),
        enum_code(MentorService.activity, "mentor_services", "activity").label("activity"),
        MentorService.units.label("units"),
        enum_code(MentorService.rating, "mentor_services", "rating").label("rating"),
        case((MentorService.confirmed_at.is_(None), 0), else_=1).label("confirmed"),
    ).join(Mentor, Mentor.id == MentorService.mentor_id)
    if s.mentor_services is not None:
        stmt = stmt.where(MentorService.id.in_(s.mentor_services))
    return stmt.order_by(MentorService.id)


# ---- the selects ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A select with labelled columns, each an integer (NULL → NULL_INT) or a text (NULL → None)."""

    stmt: AnySelect
    kinds: Mapping[str, Kind]
    key: Any = None  # the driving table's primary key: very large tables are read in key ranges
    weight: int = 1  # rough cost (rows × columns), to start the largest selects first


def _q(
    stmt: AnySelect, key: Any = None, text: Sequence[str] = (), small: Sequence[str] = (), weight: int = 1
) -> Query:
    """``small``: integer columns in [BAD_CODE, 12] (enum codes, 0/1 flags), packed 15 to an integer."""
    kinds: dict[str, Kind] = {
        c.name: ("text" if c.name in text else "small" if c.name in small else "int")
        for c in stmt.selected_columns
    }
    return Query(stmt, kinds, key, weight)


def persons_query(s: ScopeSql) -> Query:
    stmt = select(
        Person.id.label("pk"),
        Person.person_no.label("id"),
        day_number(Person.birth_date).label("birth_date"),
        enum_code(Person.gender, "persons", "gender").label("gender"),
        Person.hukou_district.label("hukou_district"),
        as_int(Person.returning_entrepreneur).label("returning_entrepreneur"),
        day_number(Person.graduation_date).label("graduation_date"),
        as_int(Person.startup_intention).label("startup_intention"),
        as_int(Person.second_time_founder_stable).label("second_time_founder_stable"),
        as_int(Person.holds_free_workstation).label("holds_free_workstation"),
    )
    if s.persons is not None:
        stmt = stmt.where(Person.id.in_(s.persons))
    small = (
        "gender",
        "returning_entrepreneur",
        "startup_intention",
        "second_time_founder_stable",
        "holds_free_workstation",
    )
    return _q(stmt, Person.id, text=("id",), small=small, weight=20)


def memberships_query(s: ScopeSql) -> Query:
    """Key-group memberships in force on the date, as (person, bit); OR-ed per person by the assembler."""
    stmt = select(PersonGroup.person_id.label("person_pk"), _group_bit().label("bit")).where(
        _in_force(PersonGroup.since, PersonGroup.until, s.on)
    )
    if s.persons is not None:
        stmt = stmt.where(PersonGroup.person_id.in_(s.persons))
    return _q(stmt, PersonGroup.id, weight=8)


def person_honours_query(s: ScopeSql) -> Query:
    """Persons with a 设区的市级以上 honour awarded on or before the date."""
    stmt = select(Honour.person_id.label("person_pk")).where(
        Honour.person_id.is_not(None), Honour.level.in_(HONOUR_LEVELS), Honour.awarded_on <= s.on
    )
    if s.persons is not None:
        stmt = stmt.where(Honour.person_id.in_(s.persons))
    return _q(stmt.distinct())


def founders_query(s: ScopeSql) -> Query:
    """Founding rows of the persons in scope, over ALL their businesses (the business history)."""
    stmt = (
        select(
            Founder.id.label("pk"),
            Founder.business_id.label("business_pk"),
            Founder.person_id.label("person_pk"),
            case((Founder.role.in_(FOUNDER_ROLES), 1), else_=0).label("is_founder"),
            case((_in_force(Founder.since, Founder.until, s.on), 1), else_=0).label("in_force"),
            day_number(Founder.since).label("since"),
            day_number(Business.registration_date).label("registration_date"),
            Business.district.label("district"),
        )
        .join(Business, Business.id == Founder.business_id)
        .where(Founder.role.in_(FOUNDING_ROLES))
    )
    if s.persons is not None:
        stmt = stmt.where(Founder.person_id.in_(s.persons))
    return _q(stmt, Founder.id, small=("is_founder", "in_force"), weight=5)


def businesses_query(s: ScopeSql) -> Query:
    """The business rows read (:class:`ScopeSql`): in a scoped read, ``context`` is 1 for a business
    read only as the employer of a context hire (not in scope), else 0."""
    on = s.on
    wanted: list[ColumnElement[bool]] = []
    read = s.businesses_read if s.businesses_read is not None else s.businesses

    def scoped(col: Any) -> list[ColumnElement[bool]]:
        return [] if read is None else [col.in_(read)]

    honours = (
        select(Honour.business_id.label("business_id"), func.count().label("n"))
        .where(
            Honour.business_id.is_not(None),
            Honour.level.in_(HONOUR_LEVELS),
            Honour.awarded_on <= on,
            *scoped(Honour.business_id),
        )
        .group_by(Honour.business_id)
        .subquery("bh")
    )
    recs = (
        select(
            Recommendation.business_id.label("business_id"),
            Recommendation.recommended_by.label("recommended_by"),
            func.row_number()
            .over(
                partition_by=Recommendation.business_id,
                order_by=(Recommendation.recommended_on.desc(), Recommendation.id.desc()),
            )
            .label("rn"),
        )
        .where(Recommendation.recommended_on <= on, *scoped(Recommendation.business_id))
        .subquery("rec")
    )
    credit = (
        select(CreditRating.business_id.label("business_id"), func.count().label("n"))
        .where(
            CreditRating.business_id.is_not(None),
            _in_force(CreditRating.rated_on, CreditRating.valid_until, on),
            *scoped(CreditRating.business_id),
        )
        .group_by(CreditRating.business_id)
        .subquery("cr")
    )
    tenancy = (
        select(
            Tenancy.business_id.label("business_id"),
            Tenancy.carrier_id.label("carrier_id"),
            Tenancy.start.label("start"),
            Tenancy.rent_fen.label("rent_fen"),
            Tenancy.property_fee_fen.label("property_fee_fen"),
            Tenancy.utilities_fen.label("utilities_fen"),
            func.row_number()
            .over(partition_by=Tenancy.business_id, order_by=(Tenancy.start.desc(), Tenancy.id.desc()))
            .label("rn"),
        )
        .where(_in_force(Tenancy.start, Tenancy.end, on), *scoped(Tenancy.business_id))
        .subquery("ten")
    )
    deregistered = FACTS["businesses"]["status"].code_of("deregistered")
    status = case(
        (and_(Business.deregistration_date.is_not(None), Business.deregistration_date <= on), deregistered),
        else_=enum_code(Business.status, "businesses", "status"),
    )
    stmt = (
        select(
            Business.id.label("pk"),
            Business.business_no.label("id"),
            Business.district.label("district"),
            enum_code(Business.kind, "businesses", "kind").label("kind"),
            enum_code(Business.size_class, "businesses", "size_class").label("size_class"),
            day_number(Business.registration_date).label("registration_date"),
            status.label("status"),
            as_int(Business.founded_by_returning).label("founded_by_returning"),
            Business.staff_count.label("staff_count"),
            Business.new_eligible_hires.label("new_eligible_hires"),
            case((honours.c.n.is_not(None), 1), else_=0).label("honour_city_level"),
            func.coalesce(enum_code(recs.c.recommended_by, "businesses", "recommended_by"), 0).label(
                "recommended_by"
            ),
            case((credit.c.n.is_not(None), 1), else_=0).label("credit_rated"),
            as_int(Business.workshop_recognised).label("workshop_recognised"),
            Business.workshop_employed.label("workshop_employed"),
            as_int(Business.workshop_new_build).label("workshop_new_build"),
            Business.workshop_build_cost_fen.label("workshop_build_cost_fen"),
            tenancy.c.carrier_id.label("carrier_pk"),
            day_number(tenancy.c.start).label("tenancy_start"),
            tenancy.c.rent_fen.label("rent_fen"),
            tenancy.c.property_fee_fen.label("property_fee_fen"),
            tenancy.c.utilities_fen.label("utilities_fen"),
            *(
                []
                if s.businesses is None
                else [case((Business.id.in_(s.businesses), 0), else_=1).label("context")]
            ),
        )
        .select_from(Business)
        .outerjoin(honours, honours.c.business_id == Business.id)
        .outerjoin(recs, and_(recs.c.business_id == Business.id, recs.c.rn == 1))
        .outerjoin(credit, credit.c.business_id == Business.id)
        .outerjoin(tenancy, and_(tenancy.c.business_id == Business.id, tenancy.c.rn == 1))
    )
    if read is not None:
        wanted.append(Business.id.in_(read))
    small = (
        "kind",
        "size_class",
        "status",
        "founded_by_returning",
        "honour_city_level",
        "recommended_by",
        "credit_rated",
        "workshop_recognised",
        "workshop_new_build",
        "context",
    )
    return _q(stmt.where(*wanted), Business.id, text=("id",), small=small, weight=12)


def business_years_query(s: ScopeSql) -> Query:
    stmt = select(
        BusinessYear.business_id.label("business_pk"),
        BusinessYear.year.label("year"),
        BusinessYear.employer_si_paid_fen.label("employer_si_paid_fen"),
        BusinessYear.online_revenue_fen.label("online_revenue_fen"),
        BusinessYear.online_orders.label("online_orders"),
        BusinessYear.courier_fees_fen.label("courier_fees_fen"),
    )
    if s.businesses is not None:
        stmt = stmt.where(BusinessYear.business_id.in_(s.businesses))
    return _q(stmt, BusinessYear.id, weight=20)


def hires_query(s: ScopeSql) -> Query:
    contract = case(
        (Employment.contract.is_not(None), as_int(Employment.contract)),
        (Employment.contract_start.is_not(None), 1),
        else_=null(),
    )
    stmt = select(
        Employment.id.label("pk"),
        Employment.employment_no.label("id"),
        Employment.business_id.label("business_pk"),
        Employment.person_id.label("person_pk"),
        day_number(Employment.hire_date).label("hire_date"),
        contract.label("contract"),
    )
    if s.hires is not None:
        stmt = stmt.where(Employment.id.in_(s.hires))
    return _q(stmt, Employment.id, text=("id",), small=("contract",), weight=12)


def contributions_query(s: ScopeSql) -> Query:
    """Monthly contributions; employer_fen = the five employer parts (not the individual part)."""
    employer = (
        Contribution.employer_pension_fen
        + Contribution.employer_medical_fen
        + Contribution.employer_maternity_fen
        + Contribution.employer_unemployment_fen
        + Contribution.employer_injury_fen
    )
    # employment and month in one integer (employment_id · 2^20 + YYYYMM): one value less per row.
    hire_month = cast(Contribution.employment_id, BigInteger) * MONTH_SPAN + Contribution.month
    stmt = select(hire_month.label("hire_month"), employer.label("employer_fen"))
    if s.hires is not None:
        stmt = stmt.where(Contribution.employment_id.in_(s.hires))
    return _q(stmt, Contribution.id, weight=30)


def _year_ratings(year: int) -> Any:
    """The carriers' performance ratings (CarrierRating) of ``year``: the award year of a carrier_award
    review and its 等次 (a carrier without a rating for that year: both unknown, as in a batch file
    without them). A match reads the last completed year before its date (:func:`carriers_query`); an
    application its own claimed year (:func:`carrier_rating`, README choice 87)."""
    return (
        select(
            CarrierRating.carrier_id.label("carrier_id"),
            CarrierRating.year.label("year"),
            CarrierRating.rating.label("rating"),
        )
        .where(CarrierRating.year == year)
        .subquery("rating")
    )


def carrier_rating(conn: Connection, carrier_no: str, year: int) -> int | None:
    """The engine's code of the carrier's 等次 for ``year`` (``carriers.rating``), read as
    :func:`carriers_query` reads it; ``None`` when no rating of that year is recorded (unknown)."""
    rated = _year_ratings(year)
    stmt = (
        select(enum_code(rated.c.rating, "carriers", "rating"))
        .select_from(Carrier)
        .join(rated, rated.c.carrier_id == Carrier.id)
        .where(Carrier.carrier_no == carrier_no)
    )
    value = conn.execute(stmt).scalar_one_or_none()
    return None if value is None else int(value)


def carriers_query(s: ScopeSql) -> Query:
    rated = _year_ratings(s.on.year - 1)  # (the last completed year: engine.assemble.default_claim_year)
    stmt = select(
        Carrier.id.label("pk"),
        Carrier.carrier_no.label("id"),
        enum_code(Carrier.kind, "carriers", "kind").label("kind"),
        enum_code(Carrier.level, "carriers", "level").label("level"),
        Carrier.district.label("district"),
        day_number(Carrier.municipal_date).label("municipal_date"),
        day_number(Carrier.national_date).label("national_date"),
        Carrier.schedule.label("schedule"),
        rated.c.year.label("award_year"),
        enum_code(rated.c.rating, "carriers", "rating").label("rating"),
    ).outerjoin(rated, rated.c.carrier_id == Carrier.id)
    if s.carriers is not None:
        stmt = stmt.where(Carrier.id.in_(s.carriers))
    return _q(stmt, Carrier.id, text=("id", "schedule"), small=("kind", "level"))


TRAINING_KINDS: Final = FACTS["trainings"]["kind"].choices  # the subsidised kinds (syb, iyb, online)


def trainings_query(s: ScopeSql) -> Query:
    """Training records (enrolments) of the persons in scope in SYB / IYB / 网络创业 classes: waiting-list
    and withdrawn enrolments are not trainings; ``completion_date`` only for a completed trainee."""
    stmt = (
        select(
            Enrolment.id.label("pk"),
            Enrolment.training_no.label("id"),
            Enrolment.person_id.label("person_pk"),
            enum_code(Course.kind, "trainings", "kind").label("kind"),
            day_number(TrainingClass.start_date).label("start_date"),
            day_number(case((Enrolment.state == "completed", Enrolment.completion_date), else_=null())).label(
                "completion_date"
            ),
            TrainingClass.district.label("district"),
        )
        .join(TrainingClass, TrainingClass.id == Enrolment.class_id)
        .join(Course, Course.id == TrainingClass.course_id)
        .where(
            Course.kind.in_(TRAINING_KINDS),
            Enrolment.state.in_(("enrolled", "completed", "not_completed")),
        )
    )
    if s.persons is not None:
        stmt = stmt.where(Enrolment.person_id.in_(s.persons))
    return _q(stmt, Enrolment.id, text=("id",), small=("kind",))


def grants_query(s: ScopeSql) -> Query:
    stmt = select(
        Grant.id.label("pk"),
        Grant.program.label("program"),
        Grant.subject_key.label("subject_id"),
        Grant.person_key.label("person_id"),
        Grant.period.label("period"),
        Grant.months.label("months"),
        Grant.amount_fen.label("amount_fen"),
        Grant.district.label("district"),
    )
    if s.businesses is not None and s.persons is not None and s.carriers is not None:
        business_nos = select(Business.business_no).where(Business.id.in_(s.businesses))
        person_nos = select(Person.person_no).where(Person.id.in_(s.persons))
        carrier_nos = select(Carrier.carrier_no).where(Carrier.id.in_(s.carriers))
        about: list[ColumnElement[bool]] = [
            Grant.subject_key.in_(business_nos),
            Grant.subject_key.in_(person_nos),
            Grant.person_key.in_(person_nos),
            Grant.subject_key.in_(carrier_nos),
        ]
        if s.onjob is not None:
            about.append(
                Grant.subject_key.in_(select(OnjobTraining.training_no).where(OnjobTraining.id.in_(s.onjob)))
            )
        if s.mentor_services is not None:
            service_nos = select(MentorService.service_no).where(MentorService.id.in_(s.mentor_services))
            about.append(and_(Grant.program == "mentor_service_subsidy", Grant.subject_key.in_(service_nos)))
        stmt = stmt.where(or_(*about))
    return _q(stmt, Grant.id, text=("program", "subject_id", "person_id", "period"))


def unknown_group_codes(conn: Connection) -> list[str]:
    known = list(GROUPS)
    rows = conn.execute(
        select(PersonGroup.group_code).where(PersonGroup.group_code.not_in(known)).distinct().limit(5)
    )
    return [str(r[0]) for r in rows]


# ---- fetching ------------------------------------------------------------------------------------


Columns = dict[str, npt.NDArray[Any]]


@dataclass
class FetchStats:
    """How each table was read (for the benchmark and the tests)."""

    methods: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


class _Fallback(Exception):
    pass


def fetch_all(
    conn: Connection, queries: Mapping[str, Query], *, method: Method = "auto", workers: int | None = None
) -> tuple[dict[str, tuple[Columns, str]], int]:
    """Run several selects, in parallel on helper connections that see the same snapshot as ``conn``
    where that can be guaranteed; returns the columns per query and the number of connections used.

    - PostgreSQL: ``conn`` exports its snapshot (``pg_export_snapshot``); each helper opens a REPEATABLE
      READ transaction on it (``SET TRANSACTION SNAPSHOT``), so every table is read from one snapshot
      (the aggregation then runs in several server processes). A transaction that has already written
      reads sequentially, since helpers would not see its own rows.
    - SQLite, other databases, or ``workers`` ≤ 1 (the default): sequentially on ``conn``. (Parallel
      SQLite readers measured no gain on the 2-vCPU machine, and cannot tell whether ``conn`` has
      uncommitted rows.)
    """
    workers = min(workers or 1, len(queries))
    opener = _helpers(conn) if workers > 1 else None
    if opener is None:
        return {name: fetch(conn, q, method=method) for name, q in queries.items()}, 1
    open_helper, close_all = opener
    tasks: queue.SimpleQueue[str] = queue.SimpleQueue()
    for name in sorted(queries, key=lambda n: -queries[n].weight):
        tasks.put(name)
    results: dict[str, tuple[Columns, str]] = {}

    def work() -> None:
        with open_helper() as helper:
            while True:
                try:
                    name = tasks.get_nowait()
                except queue.Empty:
                    return
                results[name] = fetch(helper, queries[name], method=method)

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="facts") as pool:
            for done in [pool.submit(work) for _ in range(workers)]:
                done.result()
    finally:
        close_all()
    return {name: results[name] for name in queries}, workers


_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f-]+")


def _helpers(
    conn: Connection,
) -> tuple[Callable[[], AbstractContextManager[Connection]], Callable[[], None]] | None:
    if conn.dialect.name == "postgresql":
        if conn.execute(text_sql("SELECT pg_current_xact_id_if_assigned()")).scalar_one() is not None:
            return None  # this transaction has written: only conn itself sees its rows
        snapshot = str(conn.execute(text_sql("SELECT pg_export_snapshot()")).scalar_one())
        if not _SNAPSHOT_ID.fullmatch(snapshot):
            return None
        engine = conn.engine

        @contextmanager
        def open_pg() -> Iterator[Connection]:
            with engine.connect() as helper:
                helper.execution_options(isolation_level="REPEATABLE READ")
                with helper.begin():
                    helper.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                    yield helper

        return open_pg, lambda: None
    return None


def _dialect_method(conn: Connection, method: Method) -> Method:
    if method != "auto":
        return method
    return "columns" if conn.dialect.name in ("sqlite", "postgresql") else "rows"


_PACK: Final = 15  # small columns per packed integer (4 bits each)


def _packed(stmt: AnySelect, kinds: Mapping[str, Kind]) -> tuple[AnySelect, dict[str, Kind], list[list[str]]]:
    """Replace the small columns of a select by packed integers (each 4 bits: 0 = NULL, else value + 3)."""
    small = [n for n, k in kinds.items() if k == "small"]
    if len(small) < 2:
        return stmt, {n: ("int" if k == "small" else k) for n, k in kinds.items()}, []
    sub = stmt.subquery("packed_src")
    packs = [small[i : i + _PACK] for i in range(0, len(small), _PACK)]
    cols: list[Any] = [sub.c[n] for n, k in kinds.items() if k != "small"]
    out: dict[str, Kind] = {n: k for n, k in kinds.items() if k != "small"}
    for j, names in enumerate(packs):
        expr: Any = None
        for k, name in enumerate(names):
            term = cast(func.coalesce(sub.c[name] + 3, 0), BigInteger) * literal(16**k, BigInteger)
            expr = term if expr is None else expr + term
        cols.append(expr.label(f"__pack{j}"))
        out[f"__pack{j}"] = "int"
    return select(*cols), out, packs


def _unpack(cols: Columns, packs: list[list[str]]) -> Columns:
    for j, names in enumerate(packs):
        packed = cols.pop(f"__pack{j}")
        for k, name in enumerate(names):
            code = (packed >> (4 * k)) & 15
            cols[name] = np.where(code == 0, NULL_INT, code - 3).astype(np.int64)
    return cols


def fetch(conn: Connection, query: Query, *, method: Method = "auto") -> tuple[Columns, str]:
    """Run one select; returns its columns (int64 arrays with NULL_INT, object arrays with None)."""
    chosen = _dialect_method(conn, method)
    stmts = [query.stmt]
    if query.key is not None:
        # Two statements: SQLite answers a lone min() or max() of the primary key from the b-tree ends.
        lo = conn.execute(select(func.min(query.key))).scalar()
        hi = conn.execute(select(func.max(query.key))).scalar()
        if lo is not None and hi is not None and hi - lo >= CHUNK_KEYS:
            stmts = [
                query.stmt.where(query.key >= start, query.key < start + CHUNK_KEYS)
                for start in range(int(lo), int(hi) + 1, CHUNK_KEYS)
            ]
    parts: list[Columns] = []
    for stmt in stmts:
        packed, kinds, packs = _packed(stmt, query.kinds)
        if chosen == "columns":
            try:
                parts.append(_unpack(_fetch_columns(conn, packed, kinds), packs))
                continue
            except _Fallback:
                chosen = "rows"
        parts.append(_unpack(_fetch_rows(conn, packed, kinds), packs))
    if len(parts) == 1:
        return parts[0], chosen
    return {name: np.concatenate([p[name] for p in parts]) for name in query.kinds}, chosen


def _fetch_rows(conn: Connection, stmt: AnySelect, kinds: Mapping[str, Kind]) -> Columns:
    sub = stmt.subquery("src")
    cols = [sub.c[n] if k == "text" else func.coalesce(sub.c[n], NULL_INT) for n, k in kinds.items()]
    result = conn.execute(select(*cols))
    try:
        # The driver's tuples: no per-row Row object (every column is a plain int or text already).
        rows = result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()
    out: Columns = {}
    if not rows:
        for name, kind in kinds.items():
            out[name] = np.zeros(0, dtype=object if kind == "text" else np.int64)
        return out
    if all(k != "text" for k in kinds.values()):
        mat = np.array(rows, dtype=np.int64).reshape(len(rows), len(kinds))
        return {name: np.ascontiguousarray(mat[:, j]) for j, name in enumerate(kinds)}
    for name, values in zip(kinds, zip(*rows, strict=True), strict=True):
        if kinds[name] != "text":
            out[name] = np.array(values, dtype=np.int64)
        else:
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            out[name] = arr
    return out


def _fetch_columns(conn: Connection, stmt: AnySelect, kinds: Mapping[str, Kind]) -> Columns:
    sub = stmt.subquery("src")
    agg_name = "group_concat" if conn.dialect.name == "sqlite" else "string_agg"
    aggs: list[ColumnElement[Any]] = [func.count()]
    for name, kind in kinds.items():
        c = sub.c[name]
        filled = func.coalesce(c, literal(_NULL_TEXT)) if kind == "text" else func.coalesce(c, NULL_INT)
        aggs.append(getattr(func, agg_name)(cast(filled, Text), literal(_SEP)))
    row = conn.execute(select(*aggs)).one()
    n = int(row[0])
    out: Columns = {}
    for (name, kind), text in zip(kinds.items(), row[1:], strict=True):
        if n == 0:
            out[name] = np.zeros(0, dtype=object if kind == "text" else np.int64)
            continue
        if kind != "text":
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                try:
                    values = np.fromstring(text, dtype=np.int64, sep=_SEP)
                except (DeprecationWarning, ValueError) as exc:
                    raise _Fallback from exc
        else:
            parts = text.split(_SEP)
            values = np.empty(len(parts), dtype=object)
            values[:] = parts
            if len(parts) == n:
                values[np.equal(values, _NULL_TEXT)] = _NONE
        if len(values) != n:
            raise _Fallback
        out[name] = values
    return out


# ---- match runs ----------------------------------------------------------------------------------


def insert_run(session: Session, **values: Any) -> MatchRun:
    run = MatchRun(**values)
    session.add(run)
    session.flush()
    return run


_RESULT_COLUMNS: Final = (
    "run_id",
    "program",
    "subject_table",
    "subject_key",
    "district",
    "status",
    "amount_fen",
    "district_part_fen",
    "eligible_from",
)


def insert_results(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Bulk insert (PostgreSQL: COPY, about 10× faster than multi-row INSERTs at 100,000 rows)."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        columns = ", ".join(_RESULT_COLUMNS)
        with cursor.copy(f"COPY {MatchResult.__tablename__} ({columns}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(tuple(r[c] for c in _RESULT_COLUMNS))
        cursor.close()
        return
    session.execute(insert(MatchResult), [{c: r[c] for c in _RESULT_COLUMNS} for r in rows])


def get_result(session: Session, result_id: int) -> tuple[MatchResult, MatchRun] | None:
    row = session.execute(
        select(MatchResult, MatchRun)
        .join(MatchRun, MatchRun.id == MatchResult.run_id)
        .where(MatchResult.id == result_id)
    ).first()
    return None if row is None else (row[0], row[1])


def get_run(session: Session, run_id: int | None) -> MatchRun | None:
    """A run by id, or the latest run (None)."""
    stmt = select(MatchRun)
    stmt = stmt.where(MatchRun.id == run_id) if run_id is not None else stmt.order_by(MatchRun.id.desc())
    return session.execute(stmt.limit(1)).scalar_one_or_none()


def list_results(
    session: Session, *, run_id: int, program: str | None, status: str | None, limit: int
) -> list[MatchResult]:
    stmt = select(MatchResult).where(MatchResult.run_id == run_id)
    if program:
        stmt = stmt.where(MatchResult.program == program)
    if status:
        stmt = stmt.where(MatchResult.status == status)
    return list(session.execute(stmt.order_by(MatchResult.id).limit(limit)).scalars())


def count_results(session: Session, *, run_id: int) -> int:
    return int(session.execute(select(func.count()).where(MatchResult.run_id == run_id)).scalar_one())


def subject_pk(conn: Connection, table: str, key: str) -> int | None:
    """Primary key of a subject by its number (business_no, person_no, employment_no, carrier_no)."""
    col: Any = {
        "businesses": (Business.id, Business.business_no),
        "persons": (Person.id, Person.person_no),
        "hires": (Employment.id, Employment.employment_no),
        "carriers": (Carrier.id, Carrier.carrier_no),
        "trainings": (Enrolment.id, Enrolment.training_no),
        "onjob_trainings": (OnjobTraining.id, OnjobTraining.training_no),
        "mentor_services": (MentorService.id, MentorService.service_no),
    }.get(table)
    if col is None:
        return None
    value = conn.execute(select(col[0]).where(col[1] == key)).scalar_one_or_none()
    return None if value is None else int(value)


def training_person(conn: Connection, enrolment_pk: int) -> int:
    """The trainee (person pk) of a training record."""
    return int(conn.execute(select(Enrolment.person_id).where(Enrolment.id == enrolment_pk)).scalar_one())


def employment_business(conn: Connection, employment_pk: int) -> int:
    return int(
        conn.execute(select(Employment.business_id).where(Employment.id == employment_pk)).scalar_one()
    )
