"""From input tables to the columns the programs read: joins, register counts, contribution runs.

Everything here is vectorized (NumPy sorts, bincounts and fancy indexing) and is the single place
where facts are derived, for one case and for a registry alike. Tables of at most ``SMALL`` rows
(one case) take small paths with Python integers where a dozen NumPy calls per column would cost
more than the work; they give the same tables (tests/engine/test_case_fast.py).
"""

from __future__ import annotations

import functools
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from xiangchuang.engine.dates import (
    FIRST_DATE,
    MONTH_ORDER_RULE,
    from_day,
    month_index,
    month_index_scalar,
    month_label,
    month_range,
    period_year,
    years_of,
)
from xiangchuang.engine.facts import FACTS, NO_REF, UNRESOLVED_REF, Col, LazyColumns, Table, filled
from xiangchuang.engine.memory import refresh_pages
from xiangchuang.engine.vec import lexsort, pick

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Tables a case or a batch may leave out entirely; then the facts they carry are unknown.
OPTIONAL_LONG: Final = ("business_years", "contributions", "other_loans", "received")

PERSON_FIELDS: Final = (
    "birth_date",
    "gender",
    "groups",
    "returning_entrepreneur",
    "graduation_date",
    "startup_intention",
    "first_business",
    "second_time_founder_stable",
    "honour_city_level",
    "has_licence",
    "licence_date",
    "hukou_district",
)
CARRIER_FIELDS: Final = ("kind", "level", "schedule")
HIRE_BUSINESS_FIELDS: Final = ("district", "founded_by_returning")
BORROWER_FIELDS: Final = (*PERSON_FIELDS, "other_loans_known", "other_loans_complete")
TRAINEE_FIELDS: Final = (
    "returning_entrepreneur",
    "startup_intention",
    "has_licence",
    "licence_date",
    "training_syb_received",
    "training_syb_received_fen",
    "training_online_received",
    "training_iyb_received",
    "hukou_district",
)
BUSINESS_FIELDS: Final = (
    "district",
    "kind",
    "size_class",
    "status",
    "founded_by_returning",
    "staff_count",
    "new_eligible_hires",
    "honour_city_level",
    "recommended_by",
    "credit_rated",
    "registration_date",
    # The founder's facts that count for a loan naming no borrowing person (a small/micro-firm loan:
    # the waiver's honour and 二次创业 grounds are the 创业人员's, 1.2).
    "founder__honour_city_level",
    "founder__second_time_founder_stable",
)
# Borrower facts read from the business's founder where the loan names no borrower.
BORROWER_OR_FOUNDER: Final = ("honour_city_level", "second_time_founder_stable")


# Tables of at most this many rows (one case) take the small paths below: Python over the few
# values instead of a dozen NumPy calls per column, and shared read-only constant columns. Larger
# tables (a registry, a batch) take the vectorized paths. Both give the same tables (tests set
# SMALL = -1 to compare them).
SMALL = 64

_NO_ROWS: Final = np.zeros(0, dtype=np.int64)
_NO_ROWS.setflags(write=False)


def _own(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A column's own copy of ``a``; a read-only (shared) array is already safe to share."""
    return a if not a.flags.writeable else a.copy()


def _ones(n: int) -> BoolArray:
    return filled(np.bool_, True, n) if n <= SMALL else np.ones(n, dtype=bool)


def _zeros(n: int, dtype: npt.DTypeLike) -> npt.NDArray[Any]:
    return filled(dtype, 0, n) if n <= SMALL else np.zeros(n, dtype=dtype)


def _all(a: npt.NDArray[Any]) -> bool:
    return all(a.tolist()) if a.size <= SMALL else bool(a.all())


def default_claim_year(on: int) -> int:
    """The startup subsidy's claim year and the online-sales year when none is given: the last
    completed calendar year before day ``on`` (README choice 1; applications offer the same)."""
    return from_day(on).year - 1


@dataclass
class Facts:
    """The input tables, and which optional tables were supplied at all."""

    tables: dict[str, Table]
    supplied: set[str] = field(default_factory=set)

    def __getitem__(self, name: str) -> Table:
        return self.tables[name]


def empty_table(name: str) -> Table:
    t = Table(name, 0)
    for fname in FACTS[name]:
        t[fname] = t[fname]
    return t


def _join(dst: Table, src: Table, ref: str, fields: tuple[str, ...], prefix: str) -> None:
    """Make ``prefix__field`` columns of dst from the referenced src rows (built on first use)."""
    field_of = _join_names(prefix, fields)
    cols = dst.cols
    if not cols.keys().isdisjoint(field_of):
        for name in field_of:
            cols.pop(name, None)
    dst.lazy.update(dict.fromkeys(field_of, _Join(dst[ref], src, field_of)))


@functools.cache
def _join_names(prefix: str, fields: tuple[str, ...]) -> dict[str, str]:
    """The joined column's name → the source column (static: one per join of ``assemble``)."""
    return {f"{prefix}__{f}": f for f in fields}


def _derived(dst: Table, name: str, make: Callable[[], Col]) -> None:
    """A column of ``dst`` derived from its own facts, built on first use (a previous assembly's
    column goes, as a join's does)."""
    dst.cols.pop(name, None)
    dst.lazy[name] = make


class _Join(LazyColumns):
    """The columns of one join; the referenced row of each row is resolved once, on first use,
    and shared by its columns."""

    __slots__ = ("_field_of", "_ref", "_resolved", "_src")

    def __init__(self, ref: Col, src: Table, field_of: dict[str, str]) -> None:
        self._ref = ref
        self._src = src
        self._field_of = field_of
        self._resolved: tuple[IntArray, BoolArray, bool] | None = None

    def column(self, key: str) -> Col:
        return _take(self._src, self._field_of[key], self)

    def resolve(self) -> tuple[IntArray, BoolArray, bool]:
        if self._resolved is None:
            idx = self._ref.values.astype(np.int64, copy=False)
            if idx.size <= SMALL:
                self._resolved = self._resolve_small(idx)
            else:
                valid = self._ref.known & (idx != NO_REF)
                everywhere = bool(valid.all())
                self._resolved = (idx if everywhere else pick(valid, idx, 0), valid, everywhere)
        return self._resolved

    def _resolve_small(self, idx: IntArray) -> tuple[IntArray, BoolArray, bool]:
        rows = idx.tolist()
        known = self._ref.known.tolist()
        if NO_REF not in rows and False not in known:
            return idx, _ones(len(rows)), True
        ok = [k and i != NO_REF for i, k in zip(rows, known, strict=True)]
        if all(ok):
            return idx, _ones(len(ok)), True
        valid = np.array(ok, dtype=np.bool_)
        valid.setflags(write=False)  # shared by the join's columns
        return np.array([i if v else 0 for i, v in zip(rows, ok, strict=True)], dtype=np.int64), valid, False


def _take(src: Table, field: str, index: _Join) -> Col:
    col = src[field]
    safe, valid, everywhere = index.resolve()
    if len(col.values) == 0:
        return Col(_zeros(len(safe), col.values.dtype), _zeros(len(safe), np.bool_))
    if _all(col.known):
        known = _own(valid)  # every source row known: known where the reference is valid
    else:
        known = col.known[safe]
        if not everywhere:
            known &= valid
    return Col(col.values[safe], known)


def _count(rows: IntArray, n: int, weights: IntArray | None = None) -> IntArray:
    ok = (rows >= 0) & (rows < n)
    if not ok.all():
        rows = rows[ok]
        weights = None if weights is None else weights[ok]
    if rows.size == 0:
        return _zeros(n, np.int64)
    return np.bincount(rows, weights=weights, minlength=n).astype(np.int64, copy=False)


def _received(
    facts: Facts, program: str, target: Table, row_col: str = "subject_row"
) -> tuple[IntArray, Col]:
    """Rows of the register for ``program`` (as row numbers of the subject table), and a count column.

    The count is of the entries naming the row, so it is never more than the row received: where it
    is unknown only because some entry names no subject (it may be any row's, README choice 16),
    a count above zero still decides "received" — every reader takes an entry naming the row as
    enough to fail (``known | received``: ``common.none_received``, :func:`_claimed_in_year`,
    :func:`_part_received`, ``startup.within_max_years``)."""
    rec = facts.tables.get("received")
    n = target.n
    supplied = "received" in facts.supplied
    if n <= SMALL:
        known = filled(np.bool_, supplied, n)
        if rec is None or rec.n == 0:
            return _NO_ROWS, Col(filled(np.int64, 0, n), known)
    else:
        known = np.full(n, supplied, dtype=bool)
    if rec is None or rec.n == 0:
        return _NO_ROWS, Col(np.zeros(n, dtype=np.int64), known)
    sel = _register_rows(rec).get(program, _NO_ROWS)
    if not sel.size:
        return sel, Col(_zeros(n, np.int64), known)
    rows = rec[row_col].values[sel].astype(np.int64, copy=False)
    if (
        row_col == "subject_row"
        and program not in _HIRED_PERSON_PROGRAMS
        and names_no_subject(rec, sel, rows)
    ):
        # An entry naming no subject (a batch file's empty subject_id) may be any row's: whether
        # each received the program is unknown (README choice 16, as for the job subsidy's).
        known = np.zeros(n, dtype=bool)
    return sel, Col(_count(rows, n), known)


# Programs whose register entries are about the hired person: an entry naming no one is handled
# by :func:`_hired_person_rows` (it may be any hire's).
_HIRED_PERSON_PROGRAMS: Final = frozenset({"job_subsidy", "social_insurance_subsidy"})


def names_no_subject(rec: Table, sel: IntArray, rows: IntArray) -> bool:
    """Whether any of the register rows ``sel`` (resolved to ``rows``) gives no subject at all (an
    id given but not in the data is someone else's: it concerns none of the rows)."""
    unresolved = rows < 0
    if not unresolved.any():
        return False
    subject = rec.cols.get("subject_id")
    if subject is None:
        return True
    at = sel[unresolved]
    return bool(np.any(~subject.known[at] | (subject.values[at] == "")))


def _received_fen(facts: Facts, sel: IntArray, n: int, known: BoolArray) -> Col:
    """Per subject row, the amount its register entries ``sel`` (of one program) add up to, in fen
    (exact int64 sums); unknown where the register is unknown or an entry's amount is not given (the
    amounts given still add up: the least the row received)."""
    if not sel.size:
        return Col(_zeros(n, np.int64), known)
    rec = facts.tables["received"]
    rows = rec["subject_row"].values[sel].astype(np.int64, copy=False)
    amount = rec["amount_fen"]
    inside = (rows >= 0) & (rows < n)
    rows = rows[inside]
    total = np.zeros(n, dtype=np.int64)
    given = amount.known[sel][inside]
    # Only the amounts given add up: the total is then never more than the row received (_received).
    np.add.at(total, rows, pick(given, amount.values[sel][inside].astype(np.int64, copy=False), 0))
    unknown_amount = np.zeros(n, dtype=bool)
    unknown_amount[rows[~given]] = True
    return Col(total, known & ~unknown_amount)


def _register_rows(rec: Table) -> dict[str, IntArray]:
    """Row numbers of the register grouped by program (one pass, cached on the table)."""
    cached = rec.cols.get("__by_program")
    if cached is not None:
        got: dict[str, IntArray] = cached.values[0]
        return got
    programs = rec["program"].values.astype(str)
    names, inverse = np.unique(programs, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(names) + 1))
    groups = {str(name): order[bounds[k] : bounds[k + 1]] for k, name in enumerate(names)}
    holder = np.empty(1, dtype=object)
    holder[0] = groups
    rec.cols["__by_program"] = Col(holder, np.ones(1, dtype=bool))
    return groups


@dataclass
class Runs:
    """Per hire: the last and first paid month, the length of the unbroken run of paid months ending
    at the last, the number of distinct paid months (-1 / 0 / 0 / 0 where a hire has no
    contributions; then ``last - first + 1 == count == 0``) and where the hire's months start in
    ``months``; and the distinct paid months in (hire, month) order with each month's employer
    contributions summed (several rows for one month — e.g. one per insurance type — add up)."""

    last: npt.NDArray[np.int32]
    first: npt.NDArray[np.int32]
    run: npt.NDArray[np.int32]
    count: npt.NDArray[np.int32]
    start: IntArray
    months: npt.NDArray[np.int32]
    fen: IntArray


def contribution_runs(
    hire_rows: IntArray, months: npt.NDArray[np.int32], n_hires: int, fen: IntArray | None = None
) -> Runs:
    """The contribution runs of every hire (see :class:`Runs`).

    Linear in the number of rows when they come sorted by (hire, month), as the registry and the
    synthetic data write them; otherwise sorted first."""
    if hire_rows.size <= SMALL and n_hires <= SMALL:
        small = _runs_small(hire_rows, months, n_hires, fen)
        if small is not None:
            return small
    last = np.full(n_hires, -1, dtype=np.int32)
    first = np.zeros(n_hires, dtype=np.int32)
    run = np.zeros(n_hires, dtype=np.int32)
    count = np.zeros(n_hires, dtype=np.int32)
    start = np.zeros(n_hires, dtype=np.int64)
    if hire_rows.size == 0:
        return Runs(last, first, run, count, start, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64))
    h = hire_rows.astype(np.int64, copy=False)
    m = months.astype(np.int32, copy=False)
    f = fen.astype(np.int64, copy=False) if fen is not None else np.zeros(h.size, dtype=np.int64)
    if h.size and (int(h.min()) < 0 or int(h.max()) >= n_hires):
        ok = (h >= 0) & (h < n_hires)
        h, m, f = h[ok], m[ok], f[ok]
        if h.size == 0:  # no row refers to a hire of the table: nobody has a run
            return Runs(
                last, first, run, count, start, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
            )
    same_hire = h[1:] == h[:-1]
    step = m[1:] - m[:-1]
    if not (np.all(h[1:] >= h[:-1]) and np.all(~same_hire | (step >= 0))):
        order = np.lexsort((m, h))
        h, m, f = h[order], m[order], f[order]
        same_hire = h[1:] == h[:-1]
        step = m[1:] - m[:-1]
    dup = same_hire & (step == 0)
    if dup.any():
        starts = np.flatnonzero(np.r_[True, ~dup])
        f = np.add.reduceat(f, starts)
        h, m = h[starts], m[starts]
        same_hire = h[1:] == h[:-1]
        step = m[1:] - m[:-1]
    run_start = np.flatnonzero(np.r_[True, ~same_hire | (step != 1)])
    last_pos = np.flatnonzero(np.r_[~same_hire, True])
    last_start = run_start[np.searchsorted(run_start, last_pos, side="right") - 1]
    hires = h[last_pos]
    last[hires] = m[last_pos]
    run[hires] = last_pos - last_start + 1
    first_pos = np.r_[0, last_pos[:-1] + 1]
    count[hires] = last_pos - first_pos + 1
    first[hires] = m[first_pos]
    start[hires] = first_pos
    return Runs(last, first, run, count, start, m, f)


# The small path computes with Python integers: it is taken only where the arrays' fixed-width
# arithmetic cannot wrap (month differences in int32, sums of up to SMALL amounts in int64).
_MONTH_LIMIT: Final = 1 << 30
_FEN_LIMIT: Final = 1 << 56
_KEY: Final = 1 << 31


def _runs_small(
    hire_rows: IntArray, months: npt.NDArray[np.int32], n_hires: int, fen: IntArray | None
) -> Runs | None:
    """:func:`contribution_runs` for a few rows (one case), or None where it must not be used."""
    if not (
        hire_rows.dtype.kind in "iu" and months.dtype.kind in "iu" and (fen is None or fen.dtype.kind in "iu")
    ):
        return None
    hs: list[int] = hire_rows.tolist()
    if not hs:
        none32, none64 = filled(np.int32, 0, n_hires), filled(np.int64, 0, n_hires)
        return Runs(
            filled(np.int32, -1, n_hires),
            none32,
            none32,
            none32,
            none64,
            filled(np.int32, 0, 0),
            filled(np.int64, 0, 0),
        )
    ms: list[int] = months.tolist()
    fs: list[int] = [0] * len(hs) if fen is None else fen.tolist()
    if not (
        min(ms) >= -_MONTH_LIMIT and max(ms) < _MONTH_LIMIT and min(fs) > -_FEN_LIMIT and max(fs) < _FEN_LIMIT
    ):
        return None
    if min(hs) < 0 or max(hs) >= n_hires:  # rows about no hire are left out
        keep = [i for i, h in enumerate(hs) if 0 <= h < n_hires]
        if not keep:
            return None  # (rows, but none about a hire: the vectorized path decides)
        hs, ms, fs = [hs[i] for i in keep], [ms[i] for i in keep], [fs[i] for i in keep]
    # (hire, month) as one integer key, in the order of the pair
    keys = [h * _KEY + m + _MONTH_LIMIT for h, m in zip(hs, ms, strict=True)]
    if sorted(keys) != keys:
        order = sorted(range(len(keys)), key=keys.__getitem__)  # stable, as lexsort
        keys, fs = [keys[i] for i in order], [fs[i] for i in order]
    if len(set(keys)) == len(keys):
        distinct, amount = keys, fs
    else:
        distinct, amount = [keys[0]], [fs[0]]
        for key, f in zip(keys[1:], fs[1:], strict=True):
            if key == distinct[-1]:
                amount[-1] += f  # several rows of one month add up
            else:
                distinct.append(key)
                amount.append(f)
    hire = [key // _KEY for key in distinct]
    month = [key % _KEY - _MONTH_LIMIT for key in distinct]
    last = [-1] * n_hires
    first = [0] * n_hires
    run = [0] * n_hires
    count = [0] * n_hires
    start = [0] * n_hires
    i, size = 0, len(distinct)
    while i < size:
        h = hire[i]
        j = bisect_right(hire, h, i) - 1  # the hire's months are i..j
        k = i
        if month[j] - month[i] != j - i:  # not one unbroken run: where does the last run start?
            k = j
            while month[k] - month[k - 1] == 1:
                k -= 1
        last[h], first[h], run[h], count[h], start[h] = month[j], month[i], j - k + 1, j - i + 1, i
        i = j + 1
    per_hire = np.array((last, first, run, count), dtype=np.int32)  # (one allocation for four columns)
    return Runs(
        per_hire[0],
        per_hire[1],
        per_hire[2],
        per_hire[3],
        np.array(start, dtype=np.int64),
        np.array(month, dtype=np.int32),
        np.array(amount, dtype=np.int64),
    )


def assemble(facts: Facts, on: int) -> dict[str, Table]:
    """Add the derived columns to every subject table (in place) and return the tables."""
    T = facts.tables
    for name in FACTS:
        if name not in T:
            T[name] = empty_table(name)
    refresh_pages(max(t.n for t in T.values()))  # registry-wide: huge pages only if memory allows
    persons, businesses, hires, loans = T["persons"], T["businesses"], T["hires"], T["loans"]

    last_year = default_claim_year(on)
    for year_col in ("claim_year", "sales_year"):
        c = businesses[year_col]
        if businesses.n <= SMALL and c.values.dtype.kind in "iu":
            known = c.known.tolist()
            if False not in known:
                values = c.values.astype(np.int64)
            elif True not in known:
                values = np.array([last_year] * businesses.n, dtype=np.int64)
            else:
                values = np.array(
                    [v if k else last_year for v, k in zip(c.values.tolist(), known, strict=True)],
                    dtype=np.int64,
                )
        else:
            values = pick(c.known, c.values, last_year).astype(np.int64)
        businesses.cols[year_col] = Col(values, _ones(businesses.n))

    # The registration year (the claim and sales years are compared with it): built once, when a
    # program first reads it, in the years' own type.
    _derived(businesses, "registration_year", functools.partial(_year_col, businesses["registration_date"]))

    # Businesses: founder facts, the year rows for the claim and sales years.
    _join(businesses, persons, "founder_id", PERSON_FIELDS, "founder")
    # 首次创办 is about this business: the registry's per-business value wins over the person's flag.
    own = businesses["founder_first_business"]
    joined = businesses["founder__first_business"]
    businesses.cols["founder__first_business"] = _prefer(own, joined, np.dtype(np.bool_))
    # 由返乡入乡创业人员创办 (online sales, job subsidy): the business's own flag where given, else
    # whether its founder is a returning/incoming entrepreneur (the hires read it through the join).
    businesses.cols["founded_by_returning"] = _prefer(
        businesses["founded_by_returning"], businesses["founder__returning_entrepreneur"], np.dtype(np.bool_)
    )
    _join(businesses, T["carriers"], "carrier_id", CARRIER_FIELDS, "carrier")
    _year_facts(businesses, T["business_years"])

    # Register of what was already granted.
    years_min, years_max = _years_claimed(facts, "startup_subsidy", businesses)
    businesses.cols["startup_years_claimed"] = years_min
    businesses.cols["startup_years_claimed_max"] = years_max
    businesses.cols["startup_claimed_this_year"] = _claimed_in_year(facts, "startup_subsidy", businesses)
    businesses.cols["workshop_claimed_this_year"] = _claimed_in_year(
        facts, "workshop_award", businesses, part=WORKSHOP_BUILD_PERIOD
    )
    businesses.cols["workshop_build_received"] = _part_received(
        facts, "workshop_award", businesses, WORKSHOP_BUILD_PERIOD
    )
    businesses.cols["online_sales_received"] = _received(facts, "online_sales_subsidy", businesses)[1]
    businesses.cols["workshop_award_received"] = _received(facts, "workshop_award", businesses)[1]

    # Persons: register and other loans.
    for prog in ("training_syb", "training_online", "training_iyb", "free_workstation"):
        sel, count = _received(facts, prog, persons)
        persons.cols[f"{prog}_received"] = count
        if prog == "training_syb":  # (the reduced share may be topped up: README choice 6)
            persons.cols["training_syb_received_fen"] = _received_fen(facts, sel, persons.n, count.known)
    # The job and social-insurance subsidies' entries are about the hired person (README choice 16).
    sel_job, rows_job, may_job = _hired_person_rows(facts, "job_subsidy", persons, hires)
    known_rec = _received(facts, "job_subsidy", persons)[1].known
    persons.cols["job_subsidy_received"] = Col(
        _count(rows_job, persons.n) if sel_job.size else _zeros(persons.n, np.int64), known_rec
    )
    sel_si, rows_si, may_si = _hired_person_rows(facts, "social_insurance_subsidy", persons, hires)
    if sel_si.size:
        months_si, months_known = _si_months(facts, sel_si, rows_si, persons.n)
        persons.cols["si_months_received"] = Col(months_si, known_rec & months_known)
    else:
        persons.cols["si_months_received"] = Col(_zeros(persons.n, np.int64), _own(known_rec))
    ol = T["other_loans"]
    olk = _row_flag(persons, "__other_loans_supplied", "other_loans" in facts.supplied)
    persons.cols["other_loans_known"] = Col(olk, _ones(persons.n))
    # Whether each person's other loans are described completely: a loan of unknown kind, or a
    # consumer loan of unknown amount, leaves "no other outstanding loans" open (loans.py), and the
    # explanation then names the other-loans information as the missing fact.
    persons.cols["other_loans_complete"] = Col(_other_loans_complete(ol, persons.n), _ones(persons.n))

    # Hires: the hired person's and the employer's facts; contribution runs.
    _join(hires, persons, "person_id", PERSON_FIELDS, "person")
    _join(hires, businesses, "business_id", HIRE_BUSINESS_FIELDS, "business")
    person_id = hires["person_id"]
    idx = person_id.values.astype(np.int64, copy=False)
    if idx.size <= SMALL and False not in person_id.known.tolist() and min(idx.tolist(), default=0) >= 0:
        valid, safe = _ones(idx.size), idx  # every hire's person is a row (one case)
    else:
        valid = person_id.known & (person_id.values >= 0)
        safe = pick(valid, idx, 0)
    hires.cols["job_subsidy_received"] = _unsure(
        _take_rows(persons["job_subsidy_received"], safe, valid), may_job
    )
    # How many hire records the table holds for each hire's person (0: person not given): only the
    # records of persons hired more than once are compared by the job subsidy's 每人一次.
    hires.cols["person_hires"] = _person_hires(safe, valid, persons.n)
    T["repeat_hires"] = _repeat_hires(hires)
    # The month number of each hire date (job_subsidy and social_insurance_subsidy count months of
    # the employment from it): built once, when a program first reads it.
    _derived(hires, "hire_month", functools.partial(_hire_month, hires["hire_date"]))
    hires.cols["si_months_received"] = _unsure(_take_rows(persons["si_months_received"], safe, valid), may_si)
    # The months already subsidised: each social-insurance entry of the hire's person, as a month
    # range, against the hire (a claim must not pay a month twice; employment.months_not_subsidised).
    T["si_register"], hires.cols["si_received_periods"] = _si_register(
        facts, sel_si, rows_si, safe, valid, persons.n
    )
    # Whether the register cannot rule out any month for the hire's person: not supplied, or an
    # entry naming no one may be the person's (``si_months_received`` is then unknown too).
    if "received" not in facts.supplied:
        open_ = np.ones(hires.n, dtype=bool)
    elif may_si is not None:
        open_ = may_si.copy()
    else:
        open_ = _zeros(hires.n, np.bool_)
    hires.cols["si_register_open"] = Col(open_, _ones(hires.n))
    del person_id, idx, valid, safe
    con = T["contributions"]
    ck = _row_flag(hires, "__contributions_supplied", "contributions" in facts.supplied)
    fen = con["employer_fen"]
    # A month after the evaluation month cannot have been paid on the evaluation date: such rows
    # are left out (the evaluation month itself may already be paid; README choice 4).
    h_rows, c_months, c_fen, c_fen_known = _paid_by(
        con["hire_id"].values.astype(np.int64, copy=False),
        con["month"].values.astype(np.int32, copy=False),
        fen.values.astype(np.int64, copy=False),
        fen.known,
        month_index_scalar(from_day(on)),
    )
    runs = contribution_runs(h_rows, c_months, hires.n, c_fen)
    # Months whose employer contribution is not known (a row without ``employer_fen``): the
    # same runs over a count of such rows give, per distinct month, whether its amount is unknown.
    unknown_fen = None
    if not _all(c_fen_known):
        unknown_fen = contribution_runs(h_rows, c_months, hires.n, (~c_fen_known).astype(np.int64)).fen
    hires.cols["si_last_month"] = Col(runs.last, _own(ck))
    hires.cols["si_run_months"] = Col(runs.run, _own(ck))
    hires.cols["si_paid_months"] = Col(runs.count, _own(ck))
    # Where each hire's paid months start among the distinct paid months, and the first of them:
    # a hire whose months are one unbroken run finds a month range by subtraction alone.
    hires.cols["si_first_month"] = Col(runs.first, _own(ck))
    hires.cols["si_months_start"] = Col(runs.start, _own(ck))
    # The distinct paid months in (hire, month) order with the running total of employer
    # contributions before each: a claim over a month range is a subtraction. A last row holds
    # the grand total, so every range has an end row.
    T["contribution_months"] = _contribution_months(runs, unknown_fen)
    hires.cols["si_employer_fen"] = _unknown_fen_months(T["contribution_months"], runs, hires.n)
    del runs, unknown_fen

    # Loans: the borrower's and the business's facts.
    _join(loans, persons, "borrower_id", BORROWER_FIELDS, "borrower")
    flag = loans["borrower__other_loans_known"]
    complete = loans["borrower__other_loans_complete"]
    loans.cols["borrower__other_loans"] = Col(
        _zeros(loans.n, np.bool_),
        flag.known & flag.values.astype(bool) & complete.known & complete.values.astype(bool),
    )
    _join(loans, businesses, "business_id", BUSINESS_FIELDS, "business")
    for f in BORROWER_OR_FOUNDER:
        # (The makers hold the joins and the reference column, never the table: no reference cycle.)
        own_make, founder_make = (loans.lazy[f"{p}__{f}"] for p in ("borrower", "business__founder"))
        _derived(
            loans,
            f"borrower__{f}",
            functools.partial(_borrower_or_founder, loans["borrower_id"], own_make, founder_make, f),
        )
    d = loans["district"]
    bd = loans["business__district"]
    loans.cols["district"] = _prefer(d, bd, np.dtype(np.int32))
    # The project's recommendation (免除反担保, 1.2): the loan's own where given, else its business's
    # (as the one-stop service takes it when it accepts a loan).
    rec = loans["recommended_by"]
    loans.cols["recommended_by"] = _prefer(rec, loans["business__recommended_by"], rec.values.dtype)

    # Trainings: the trainee's facts and register.
    _join(T["trainings"], persons, "person_id", TRAINEE_FIELDS, "person")
    for name, prog in (
        ("carriers", "carrier_award"),
        ("mentor_services", "mentor_service_subsidy"),
        ("onjob_trainings", "onjob_training_subsidy"),
    ):
        T[name].cols[f"{prog}_received"] = _received(facts, prog, T[name])[1]
    return T


def _borrower_or_founder(
    ref: Col,
    own_join: Callable[[], Col] | LazyColumns,
    founder_join: Callable[[], Col] | LazyColumns,
    field: str,
) -> Col:
    """The borrower's fact where the loan names a borrower, else its business's founder's (a
    small/micro-firm loan: the person who founded the borrowing business, README choice 79). A
    loan naming a borrower who is not among the persons (``UNRESOLVED_REF``) names a borrower all
    the same: that borrower's facts are unknown, never the founder's."""
    own = _lazy_col(own_join, f"borrower__{field}")
    founder = _lazy_col(founder_join, f"business__founder__{field}")
    named = (ref.known & (ref.values != NO_REF)) | (ref.values == UNRESOLVED_REF)
    return Col(pick(named, own.values, founder.values), pick(named, own.known, founder.known))


def _lazy_col(make: Callable[[], Col] | LazyColumns, name: str) -> Col:
    return make.column(name) if isinstance(make, LazyColumns) else make()


def _prefer(a: Col, b: Col, dtype: np.dtype[Any]) -> Col:
    """``a``'s value where known, else ``b``'s (as ``dtype``); known where either is."""
    if len(a.values) <= SMALL and a.values.dtype == b.values.dtype == dtype:
        a_known = a.known.tolist()
        if True not in a_known:  # (e.g. a fact the case does not give)
            return Col(_own(b.values), _own(b.known))
        if False not in a_known:
            return Col(_own(a.values), _ones(len(a_known)))
        b_known = b.known.tolist()
        values: Any = np.array(
            [x if k else y for x, y, k in zip(a.values.tolist(), b.values.tolist(), a_known, strict=True)],
            dtype=dtype,
        )
        return Col(values, np.array([p or q for p, q in zip(a_known, b_known, strict=True)], dtype=np.bool_))
    return Col(pick(a.known, a.values, b.values).astype(dtype), a.known | b.known)


def _other_loans_complete(ol: Table, n_persons: int) -> BoolArray:
    """Per person: no other loan of theirs has an unknown kind, or is a consumer loan of unknown amount."""
    if not ol.n:
        return _ones(n_persons)
    k, a, who = ol["kind"], ol["amount_fen"], ol["person_id"]
    consumer = FACTS["other_loans"]["kind"].code_of("consumer")
    incomplete = ~k.known | ((k.values == consumer) & ~a.known)
    idx = who.values.astype(np.int64, copy=False)
    ok = who.known & (idx >= 0) & (idx < n_persons) & incomplete
    out: BoolArray = np.bincount(idx[ok], minlength=n_persons)[:n_persons] == 0
    return out


def _person_hires(safe: IntArray, valid: BoolArray, n_persons: int) -> Col:
    """Per hire, the number of hires of the same person (0 where the person is not a row)."""
    n = safe.size
    ok = valid & (safe >= 0) & (safe < n_persons)
    if n <= SMALL:
        rows = [r if k else -1 for r, k in zip(safe.tolist(), ok.tolist(), strict=True)]
        counts: dict[int, int] = {}
        for r in rows:
            counts[r] = counts.get(r, 0) + 1
        values = np.array([counts[r] if r >= 0 else 0 for r in rows], dtype=np.int32)
        return Col(values, _ones(n))
    at = pick(ok, safe, 0)
    per_person = np.bincount(at, minlength=1)
    per_person[0] -= n - int(np.count_nonzero(ok))  # (rows without a person were counted at 0)
    return Col(pick(ok, per_person[at], 0).astype(np.int32), _ones(n))  # (a count: int32 halves the reads)


_REPEAT: Final = ("row", "group", "start")
_NO_REPEAT: Final = Col(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))  # (empty: nothing to write)


def _repeat_hires(hires: Table) -> Table:
    """The hire records of persons hired more than once (``person_hires`` > 1), grouped by person
    in the order in which a person's records are compared (``one_per_person``, ``months_claimed_once``,
    the 「即将符合」 listing): the records with a known hire date by (hire date, row), then those
    without one by row. Columns: ``row``, the hires row; ``group``, the person's number (0, 1, …
    in this order); ``start``, where the person's records start in this order. Built once per
    assembly, so the programs neither scan every hire for them nor sort them again."""
    counts = hires["person_hires"].values
    if hires.n <= SMALL:  # a case's few hires: Python, and most often none
        repeat = [i for i, c in enumerate(counts.tolist()) if c > 1]
        if not repeat:
            return Table("repeat_hires", 0, dict.fromkeys(_REPEAT, _NO_REPEAT))
        sub = np.array(repeat, dtype=np.int64)
    else:
        sub = np.flatnonzero(counts > 1)
    m = sub.size
    hd = hires["hire_date"]
    dated = hd.known[sub]
    day = hd.values[sub].astype(np.int64, copy=False)
    who = hires["person_id"].values[sub].astype(np.int64, copy=False)
    order = lexsort((np.where(dated, day, 0), ~dated, who))  # ties: row order
    sub, who = sub[order], who[order]
    head = np.r_[True, who[1:] != who[:-1]] if m else np.zeros(0, dtype=bool)
    group = np.cumsum(head, dtype=np.int64) - 1
    start = np.flatnonzero(head)[group]
    ones = _ones(m)
    cols = {
        "row": Col(sub.astype(np.int64, copy=False), ones),
        "group": Col(group, ones),
        "start": Col(start, ones),
    }
    return Table("repeat_hires", m, cols)


def _year_col(day: Col) -> Col:
    return Col(years_of(day.values.astype(np.int32, copy=False)).astype(np.int64), day.known)


def _hire_month(hd: Col) -> Col:
    return Col(month_index(hd.values.astype(np.int32, copy=False)), hd.known)


def _unsure(col: Col, may: BoolArray | None) -> Col:
    """``col`` unknown where a register entry naming no one may be about the row's person (the
    values stay what the entries that name the person add up to: a lower bound)."""
    if may is None:
        return col
    return Col(col.values, col.known & ~may)


def _take_rows(col: Col, safe: IntArray, valid: BoolArray) -> Col:
    """``col.take`` with the safe row numbers computed once for several columns."""
    if len(col.values) == 0:
        return Col(np.zeros(len(safe), dtype=col.values.dtype), np.zeros(len(safe), dtype=bool))
    return Col(col.values[safe], col.known[safe] & valid)


def _year_facts(businesses: Table, by: Table) -> None:
    """The business-year facts of each business's claim year and sales year."""
    n = businesses.n
    small = n <= SMALL and by.n <= SMALL and (n or not by.n)
    rows: list[tuple[int, int]] | None = None
    for year_col, fields in (
        ("claim_year", ("employer_si_paid_fen",)),
        ("sales_year", ("online_revenue_fen", "online_orders", "courier_fees_fen")),
    ):
        if small:
            if rows is None:  # (business row, year) of every year row
                rows = (
                    list(
                        zip(
                            by["business_id"].values.astype(np.int64, copy=False).tolist(),
                            by["year"].values.astype(np.int64, copy=False).tolist(),
                            strict=True,
                        )
                    )
                    if by.n
                    else []
                )
            if _year_facts_small(businesses, by, year_col, fields, rows):
                continue
        year_row = np.full(n, NO_REF, dtype=np.int64)
        if by.n:
            b = by["business_id"].values.astype(np.int64, copy=False)
            y = by["year"].values.astype(np.int64, copy=False)
            want = businesses[year_col].values.astype(np.int64, copy=False)
            okb = (b >= 0) & (b < n)
            match = okb & (y == pick(okb, want[pick(okb, b, 0)], -1))
            year_row[b[match]] = np.flatnonzero(match)
        has_row = year_row != NO_REF
        for f in fields:
            col = by[f].take(year_row, has_row)
            # A year not in the supplied table is a known zero only when the whole table was supplied.
            # A year with no row is unknown: nothing says it was zero, even when other years are given.
            col.values = pick(has_row, col.values, 0)
            col.known = has_row & col.known
            businesses.cols[f] = col


def _year_facts_small(
    businesses: Table, by: Table, year_col: str, fields: tuple[str, ...], rows: list[tuple[int, int]]
) -> bool:
    """_year_facts of one year column for a few rows, with Python integers (the same columns), or
    False where only the vectorized path applies (columns that are not integers)."""
    n = businesses.n
    year_row = [NO_REF] * n
    if rows:
        want = businesses[year_col].values.astype(np.int64, copy=False).tolist()
        for j, (business, year) in enumerate(rows):
            if 0 <= business < n and year == want[business]:
                year_row[business] = j  # (the last matching row wins, as in the vectorized path)
    cols = [by[f] for f in fields]
    if any(col.values.dtype.kind not in "iu" for col in cols):
        return False
    if NO_REF not in year_row:  # every business has its year's row
        found = np.array(year_row, dtype=np.int64)
        for f, col in zip(fields, cols, strict=True):
            businesses.cols[f] = Col(col.values[found], col.known[found])
    elif year_row.count(NO_REF) == n:  # none has
        for f, col in zip(fields, cols, strict=True):
            businesses.cols[f] = Col(_zeros(n, col.values.dtype), _zeros(n, np.bool_))
    else:
        for f, col in zip(fields, cols, strict=True):
            values: list[Any] = col.values.tolist()
            known = col.known.tolist()
            taken: Any = np.array([0 if r == NO_REF else values[r] for r in year_row], dtype=col.values.dtype)
            businesses.cols[f] = Col(
                taken, np.array([r != NO_REF and known[r] for r in year_row], dtype=np.bool_)
            )
    return True


def _contribution_months(runs: Runs, unknown: IntArray | None = None) -> Table:
    """The distinct paid months with the running total of employer contributions before each and,
    where some month's employer contribution is unknown (``unknown``: per distinct month, the
    number of its rows without an amount), the running count of such months before each
    (``unknown_before``; absent when every amount is known)."""
    size = runs.months.size + 1
    fen: list[int] | None = runs.fen.tolist() if size <= SMALL else None
    if fen is not None and (not fen or (min(fen) > -_FEN_LIMIT and max(fen) < _FEN_LIMIT)):
        before = np.array([0, *accumulate(fen)], dtype=np.int64)
        month = np.array([*runs.months.tolist(), -1], dtype=np.int32)
    else:
        before = np.zeros(size, dtype=np.int64)
        np.cumsum(runs.fen, dtype=np.int64, out=before[1:])
        month = np.append(runs.months, np.int32(-1))
    always = _ones(size)
    cols = {"month": Col(month, always), "fen_before": Col(before, always)}
    if unknown is not None:
        if size <= SMALL:
            ub = np.array([0, *accumulate(int(u > 0) for u in unknown.tolist())], dtype=np.int64)
        else:
            ub = np.zeros(size, dtype=np.int64)
            np.cumsum(unknown > 0, dtype=np.int64, out=ub[1:])
        cols["unknown_before"] = Col(ub, always)
    return Table("contribution_months", size, cols)


def _unknown_fen_months(months: Table, runs: Runs, n: int) -> Col:
    """Per hire, the number of its paid months whose employer contribution is unknown; known
    where there is none (a missing amount is never read as zero, PROVISIONS §0)."""
    ub = months.cols.get("unknown_before")
    if ub is None:
        return Col(_zeros(n, np.int32), _ones(n))
    start = runs.start
    count = runs.count.astype(np.int64)
    values = (ub.values[start + count] - ub.values[start]).astype(np.int32)
    return Col(values, values == 0)


def _paid_by(
    hire_rows: IntArray,
    months: npt.NDArray[np.int32],
    fen: IntArray,
    fen_known: BoolArray,
    last: int,
) -> tuple[IntArray, npt.NDArray[np.int32], IntArray, BoolArray]:
    """The contribution rows of months up to ``last`` (the evaluation month)."""
    if months.size <= SMALL:
        listed: list[int] = months.tolist()
        if not listed or max(listed) <= last:
            return hire_rows, months, fen, fen_known
        keep = np.array([m <= last for m in listed], dtype=np.bool_)
    else:
        if not months.size or int(months.max()) <= last:
            return hire_rows, months, fen, fen_known
        keep = months <= last
    return hire_rows[keep], months[keep], fen[keep], fen_known[keep]


def _row_flag(table: Table, name: str, default: bool) -> BoolArray:
    """Per-row 'this optional fact was supplied' (a case) or the whole table's presence (a batch).
    For a few rows the flags are read-only, so the columns that carry them share one array."""
    if name in table.cols:
        flag = table.cols[name].values.astype(bool)
        if flag.size <= SMALL:
            flag.setflags(write=False)
        return flag
    if table.n <= SMALL:
        return filled(np.bool_, default, table.n)
    return np.full(table.n, default, dtype=bool)


# Register periods that name a one-off part of a program rather than a year (the workshop's
# construction subsidy, paid once per workshop beside its yearly employment awards).
WORKSHOP_BUILD_PERIOD: Final = "build"
# The SYB top-up (补足差额, README choice 6): registered as a second SYB row of the trainee with this
# period; the engine adds up the trainee's SYB amounts whatever their periods.
SYB_TOP_UP_PERIOD: Final = "补差"


def _named_part(facts: Facts, program: str, sel: IntArray, part: str) -> BoolArray:
    """Which of ``program``'s register rows ``sel`` are the one-off part ``part`` (period text)."""
    period = facts.tables["received"]["period"]
    texts = period.values[sel]
    return np.asarray(
        [bool(k) and str(x).strip() == part for x, k in zip(texts, period.known[sel], strict=True)],
        dtype=bool,
    )


def _part_received(facts: Facts, program: str, target: Table, part: str) -> Col:
    """Per subject, how many register entries of ``program`` are the one-off part ``part``. Unknown
    where the register is, or where an entry names neither a year nor a part (it may be the part)."""
    sel, col = _received(facts, program, target)
    n = target.n
    if not sel.size or not n:
        return Col(_zeros(n, np.int64), col.known)
    rows = facts.tables["received"]["subject_row"].values[sel].astype(np.int64)
    ok = (rows >= 0) & (rows < n)
    is_part = _named_part(facts, program, sel, part)
    vague = ok & (_period_years(facts, program, sel) < 0) & ~is_part
    unsure = np.zeros(n, dtype=bool)
    unsure[rows[vague]] = True
    count = _count(rows[ok & is_part], n)
    # An entry naming the row and the part decides, whatever other entries leave open (_received).
    return Col(count, _own((col.known & ~unsure) | (count > 0)))


def _claimed_in_year(
    facts: Facts, program: str, target: Table, year_col: str = "claim_year", part: str | None = None
) -> Col:
    """Whether the register holds ``program`` for the row's claim year (period = the year).

    An entry of the subject whose period is not a year (missing, 「2023年」, 「2023-01」) may be
    for any year: unless another entry names the claim year, whether the year was claimed is
    then unknown (PROVISIONS §0: unknown is not "not claimed"). An entry naming the program's
    one-off ``part`` is not about a year."""
    sel, col = _received(facts, program, target)
    known = col.known
    if sel.size and target.n:  # (no rows: register rows about subjects not read have nothing to mark)
        claimed = np.zeros(target.n, dtype=bool)
        rec = facts.tables["received"]
        rows = rec["subject_row"].values[sel].astype(np.int64)
        ok = (rows >= 0) & (rows < target.n)
        years = _period_years(facts, program, sel)
        claim = target[year_col].values.astype(np.int64, copy=False)
        hit = ok & (years == claim[pick(ok, rows, 0)])
        claimed[rows[hit]] = True
        vague = ok & (years < 0)
        if part is not None:
            vague &= ~_named_part(facts, program, sel, part)
        if vague.any():
            unsure = np.zeros(target.n, dtype=bool)
            unsure[rows[vague]] = True
            known = known & ~(unsure & ~claimed)
    else:
        claimed = _zeros(target.n, np.bool_)
    # An entry naming the row and the year decides, whatever other entries leave open (_received).
    return Col(claimed, _own(known | claimed))


def _period_years(facts: Facts, program: str, sel: IntArray) -> IntArray:
    """The year each of ``program``'s register rows ``sel`` names (four digits), else -1 (read once
    per program: both the per-year and the year-count columns need it)."""
    rec = facts.tables["received"]
    cached = rec.cols.get("__period_years")
    if cached is None:
        holder = np.empty(1, dtype=object)
        holder[0] = {}
        cached = rec.cols["__period_years"] = Col(holder, np.ones(1, dtype=bool))
    by_program: dict[str, IntArray] = cached.values[0]
    got = by_program.get(program)
    if got is None or got.shape != sel.shape:
        period = rec["period"]
        got = np.asarray(
            [
                _year_or(-1, p) if k else -1
                for p, k in zip(period.values[sel], period.known[sel], strict=True)
            ],
            dtype=np.int64,
        )
        by_program[program] = got
    return got


def _years_claimed(facts: Facts, program: str, target: Table) -> tuple[Col, Col]:
    """Per subject, how many distinct years the register shows ``program`` received for: at least
    (the first column) and at most (the second).

    Entries naming the same year (a duplicate, or one per district) are one year. An entry whose
    period is not a year (missing, 「2023年」) is some year, perhaps one already counted: it adds one
    to the most only (and makes the least 1 where no entry names a year), and the first column is
    then not known exactly."""
    sel, col = _received(facts, program, target)
    n = target.n
    if not sel.size or not n:
        return col, col
    rows = facts.tables["received"]["subject_row"].values[sel].astype(np.int64)
    years = _period_years(facts, program, sel)
    ok = (rows >= 0) & (rows < n)
    named = ok & (years >= 0)
    pairs = np.unique(rows[named] * 10_000 + years[named])  # (subject, year) once; years are < 10,000
    distinct = _count(pairs // 10_000, n)
    vague = _count(rows[ok & (years < 0)], n)
    least = distinct + ((distinct == 0) & (vague > 0))
    # The exact number is known only without such entries (the least stays the value to quote).
    return (
        Col(least.astype(np.int64), col.known & (vague == 0)),
        Col((distinct + vague).astype(np.int64), _own(col.known)),
    )


# A social-insurance subsidy's register period: the months it paid, 「2023-09/2024-02」 (also
# 「2023-09至2024-02」, 「2023-09 — 2024-02」 is not accepted). README choice 5. Read by
# ``dates.month_range`` (the received table's period is checked there too: ``dates.check_period``).
MONTH_RANGE_RULE: Final = (
    f"须写作 YYYY-MM/YYYY-MM（如 2023-09/2024-02，也可写 2023-09至2024-02），{MONTH_ORDER_RULE}"
)


def format_month_range(first: int, last: int) -> str:
    """「YYYY-MM/YYYY-MM」 for the months ``first`` to ``last`` (month numbers)."""
    return f"{month_label(first)}/{month_label(last)}"


# How an entry's period bounds the months it paid (``si_register.exact``): a month range (exactly
# those months), a year (some months of that year, README choice 34), anything else or missing
# (any months at all).
_ANY_FIRST: Final = -(2**30)
_ANY_LAST: Final = 2**30


def _si_period_ranges(facts: Facts, sel: IntArray) -> tuple[IntArray, IntArray, BoolArray]:
    """Per register row of ``sel``: the first and last month its period may cover, and whether it
    covers exactly those (a month range) rather than some months of them (a year, anything else)."""
    period = facts.tables["received"]["period"]
    texts = [
        str(p) if k else ""
        for p, k in zip(period.values[sel].tolist(), period.known[sel].tolist(), strict=True)
    ]
    return _period_ranges(texts)


def _period_ranges(texts: list[str]) -> tuple[IntArray, IntArray, BoolArray]:
    """``_si_period_ranges`` of the period texts ``texts`` ("" where the period is unknown)."""
    parsed: dict[str, tuple[int, int, bool]] = {}
    for text in set(texts):
        r = month_range(text)
        if r is not None:
            parsed[text] = (r[0], r[1], True)
        else:
            year = _year_or(-1, text)
            y0 = (year - 1970) * 12
            parsed[text] = (y0, y0 + 11, False) if year >= FIRST_DATE.year else (_ANY_FIRST, _ANY_LAST, False)
    got = [parsed[t] for t in texts]
    first = np.asarray([g[0] for g in got], dtype=np.int64)
    last = np.asarray([g[1] for g in got], dtype=np.int64)
    exact = np.asarray([g[2] for g in got], dtype=np.bool_)
    return first, last, exact


def _si_months(facts: Facts, sel: IntArray, rows: IntArray, n: int) -> tuple[IntArray, BoolArray]:
    """Per person, the months of social-insurance subsidy the register shows, and whether that is
    known. Months are counted once each (PROVISIONS §1 "up to 36 months per person"; README choice
    49): the month-range periods of a person's entries count as the distinct months they cover
    together (the same range registered twice, or two overlapping ranges, count their common months
    once). An entry whose ``months`` differs from the length of its range (a subsidy for some months
    of it), or that has ``months`` and no month range, adds its ``months``; an entry with neither
    leaves the person's months unknown (never zero, PROVISIONS §0)."""
    months = facts.tables["received"]["months"]
    first, last, exact = _si_period_ranges(facts, sel)
    return _months_used(first, last, exact, months.values[sel].astype(np.int64), months.known[sel], rows, n)


def si_months_registered(entries: list[tuple[str | None, int | None]]) -> int | None:
    """The months of social-insurance subsidy one person's register entries (period, months; None
    where not written) show, counted as the engine counts ``si_months_received`` (``_si_months``:
    distinct months, README choice 49); None where they are not known (an entry with neither a month
    range nor months). The one-stop register checks an approval with it (``applications/register``)."""
    if not entries:
        return 0
    first, last, exact = _period_ranges(["" if p is None else str(p) for p, _ in entries])
    values = np.asarray([0 if m is None else m for _, m in entries], dtype=np.int64)
    known = np.asarray([m is not None for _, m in entries], dtype=np.bool_)
    total, ok = _months_used(first, last, exact, values, known, np.zeros(len(entries), dtype=np.int64), 1)
    return int(total[0]) if bool(ok[0]) else None


def _months_used(
    first: IntArray,
    last: IntArray,
    exact: BoolArray,
    m_values: IntArray,
    m_known: BoolArray,
    rows: IntArray,
    n: int,
) -> tuple[IntArray, BoolArray]:
    """``_si_months`` of register rows given by their ranges (``_si_period_ranges``), months and
    owners ``rows`` (of ``n``)."""
    ok = (rows >= 0) & (rows < n)
    span = last - first + 1
    # The entries whose months are exactly their range's: counted as a union of ranges per person.
    ranged = ok & exact & (~m_known | (m_values == span))
    added = pick(m_known & ~ranged, m_values, 0).astype(np.int64)
    unknown_rows = rows[ok & ~m_known & ~exact]
    known = np.ones(n, dtype=bool)
    known[unknown_rows] = False
    total = _count(rows, n, added)
    if ranged.any():
        who, adds = _distinct_months(rows[ranged], first[ranged], last[ranged])
        total = total + _count(who, n, adds)
    return total, known


def _distinct_months(who: IntArray, first: IntArray, last: IntArray) -> tuple[IntArray, IntArray]:
    """For month ranges ``first``–``last`` of owners ``who``: per range (in owner and first-month
    order) its owner and the months it adds to that owner's earlier-starting ranges, so that the
    owner's sum is the number of distinct months its ranges cover. Sorted once; a cumulative maximum
    of the last month within each owner (offset per owner, so one running maximum over the whole
    column never crosses owners) says how far the earlier ranges reach."""
    order = lexsort((first, who))
    who, first, last = who[order], first[order], last[order]
    base = int(min(first.min(), last.min()))
    f, t = first - base, last - base  # (≥ 0)
    width = int(max(f.max(), t.max())) + 2
    offset = who.astype(np.int64) * width
    reach = np.maximum.accumulate(offset + t)
    # The furthest month reached by the owner's earlier ranges (below 0 for the owner's first range:
    # the previous owner's reach minus this owner's offset is at most -1).
    before = np.concatenate(([-1], reach[:-1])) - offset
    adds = np.maximum(t - np.maximum(f - 1, before), 0)
    return who, adds.astype(np.int64)


def _si_register(
    facts: Facts,
    sel: IntArray,
    rows: IntArray,
    safe: IntArray,
    valid: BoolArray,
    n_persons: int,
) -> tuple[Table, Col]:
    """The social-insurance register entries per hire: one row per (hire, entry of the hire's
    person) with the hire row, the first and last month the entry may cover, whether exactly
    (``exact``) and the entry's register row (``entry``, for its period text); and per hire a
    column ``si_received_periods`` (the number of such entries), known where
    the person's entries all name a month range (whether the register was supplied, and whether an
    entry naming no one may be the person's, is ``si_months_received``'s known mask)."""
    n = safe.size
    known = _ones(n)
    empty = Table(
        "si_register",
        0,
        {
            k: Col(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))
            for k in ("hire", "first", "last", "entry")
        }
        | {"exact": Col(np.zeros(0, dtype=bool), np.zeros(0, dtype=bool))},
    )
    ok = (rows >= 0) & (rows < n_persons)
    if not sel.size or not ok.any() or not n:
        return empty, Col(np.zeros(n, dtype=np.int64), known)
    e_sel, e_person = sel[ok], rows[ok]
    first, last, exact = _si_period_ranges(facts, e_sel)
    h = np.flatnonzero(valid & (safe >= 0) & (safe < n_persons))
    order = np.argsort(safe[h], kind="stable")
    hires_by_person, persons_sorted = h[order], safe[h][order]
    lo = np.searchsorted(persons_sorted, e_person, side="left")
    cnt = np.searchsorted(persons_sorted, e_person, side="right") - lo
    total = int(cnt.sum())
    entry = np.repeat(np.arange(e_sel.size, dtype=np.int64), cnt)
    offsets = np.cumsum(cnt) - cnt
    pos = np.repeat(lo - offsets, cnt) + np.arange(total, dtype=np.int64)
    hire = hires_by_person[pos].astype(np.int64)
    always = np.ones(total, dtype=bool)
    table = Table(
        "si_register",
        total,
        {
            "hire": Col(hire, always),
            "first": Col(first[entry], always),
            "last": Col(last[entry], always),
            "exact": Col(exact[entry], always),
            "entry": Col(e_sel[entry].astype(np.int64), always),
        },
    )
    per_hire = np.bincount(hire, minlength=n).astype(np.int64)
    vague = np.bincount(hire[~exact[entry]], minlength=n) > 0
    return table, Col(per_hire, known & ~vague)


def _year_or(default: int, text: object) -> int:
    """The year a register entry's period names (four digits: ``dates.period_year``), else ``default``."""
    year = period_year(text)
    return default if year is None else year


def _hired_person_rows(
    facts: Facts, program: str, persons: Table, hires: Table
) -> tuple[IntArray, IntArray, BoolArray | None]:
    """The register rows of a job / social-insurance subsidy, the person row each is about, and
    the hires whose person such an entry may be about without saying so (None: no such hire).

    Such an entry is about the hired person (README choice 16). ``subject_row`` was resolved from
    its ``person_id`` (never defaulted to the applicant). Where that names no person, or names the
    applicant (the founder, never the hired person of their own business), while ``subject_id``
    names a person (exactly one row of the persons table), the entry counts for that person: an
    entry naming the hired person as its subject never counts for the founder. An entry still
    naming no person of the tables is attributed by its ``subject_id`` if that names a hire record
    (its person); otherwise it counts for no one, and it may be about
    - any hire of the business its ``subject_id`` names (a registry or batch file may name the
      employer; a case names its business when an entry names no one), or
    - any hire at all when it names neither a person nor a subject;
    for those hires whether the subsidy was received is unknown (PROVISIONS §0: an entry that may
    be the hired person's is not "not received"). A ``person_id`` or ``subject_id`` naming someone
    not in the tables is about someone else."""
    rec = facts.tables.get("received")
    if rec is None or rec.n == 0:
        return _NO_ROWS, _NO_ROWS, None
    sel = _register_rows(rec).get(program, _NO_ROWS)
    if not sel.size:
        return sel, _NO_ROWS, None
    rows = rec["subject_row"].values[sel].astype(np.int64)  # (a new array: written below)
    subject = rec.cols.get("subject_id")
    ids = persons.cols.get("id")
    if subject is not None and ids is not None and persons.n:
        resolved = (rows >= 0) & (rows < persons.n)
        open_ = ~resolved
        applicant = persons.cols.get("__applicant")
        if applicant is not None:
            open_ |= resolved & applicant.values[pick(resolved, rows, 0)].astype(bool)
        texts = subject.values[sel]
        at = np.flatnonzero(open_ & subject.known[sel] & (texts != ""))
        if at.size:
            found = _unique_rows(ids.values, texts[at])
            hit = found != NO_REF
            rows[at[hit]] = found[hit]
    unresolved = (rows < 0) | (rows >= persons.n)
    pid = rec.cols.get("person_id")
    if pid is not None:
        unresolved &= ~(pid.known[sel] & (pid.values[sel] != ""))  # (someone not in the tables)
    if not unresolved.any():
        return sel, rows, None
    may: BoolArray = np.zeros(hires.n, dtype=bool)
    at = np.flatnonzero(unresolved)
    if subject is None:
        named = np.zeros(at.size, dtype=bool)
    else:
        named = subject.known[sel][at] & (subject.values[sel][at] != "")
    if (~named).any():
        may[:] = True  # names no one: may be any hired person's
    at = at[named]
    if at.size and subject is not None:
        texts = subject.values[sel][at]
        hire_ids = hires.cols.get("id")
        if hire_ids is not None and hires.n:
            h = _unique_rows(hire_ids.values, texts)
            hit = h != NO_REF
            if hit.any():
                hp = hires["person_id"]
                hrow = h[hit]
                prow = hp.values[hrow].astype(np.int64)
                ok = hp.known[hrow] & (prow >= 0) & (prow < persons.n)
                rows[at[hit][ok]] = prow[ok]
                may[hrow[~ok]] = True
            at, texts = at[~hit], texts[~hit]
        b_ids = facts.tables["businesses"].cols.get("id") if "businesses" in facts.tables else None
        if at.size and b_ids is not None and len(b_ids.values) and hires.n:
            b = _unique_rows(b_ids.values, texts)
            b = b[b != NO_REF]
            if b.size:
                hb = hires["business_id"]
                may |= hb.known & np.isin(hb.values.astype(np.int64, copy=False), b)
    return sel, rows, (may if may.any() else None)


def _unique_rows(ids: npt.NDArray[Any], keys: npt.NDArray[Any]) -> IntArray:
    """The row of each key among ``ids`` where exactly one row has it, else NO_REF (ids repeat
    only in a batch of cases concatenated for tests, where a text cannot say which case it means)."""
    wanted = [str(k) for k in keys.tolist()]
    if ids.size <= SMALL:
        rows: dict[str, int] = {}
        counts: dict[str, int] = {}
        for i, x in enumerate(ids.tolist()):
            rows.setdefault(str(x), i)
            counts[str(x)] = counts.get(str(x), 0) + 1
        return np.asarray([rows[k] if counts.get(k) == 1 else NO_REF for k in wanted], dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    ordered = ids[order]
    probe = np.asarray(wanted, dtype=ids.dtype)
    first = np.searchsorted(ordered, probe, side="left")
    last = np.searchsorted(ordered, probe, side="right")
    out: IntArray = np.where(last - first == 1, order[np.minimum(first, ids.size - 1)], NO_REF).astype(
        np.int64
    )
    return out
