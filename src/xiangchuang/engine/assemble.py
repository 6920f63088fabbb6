"""From input tables to the columns the programs read: joins, register counts, contribution runs.

Everything here is vectorized (NumPy sorts, bincounts and fancy indexing) and is the single place
where facts are derived, for one case and for a registry alike.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from xiangchuang.engine.dates import from_day
from xiangchuang.engine.facts import FACTS, NO_REF, Col, Table
from xiangchuang.engine.vec import pick

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
BUSINESS_FIELDS: Final = (
    "district",
    "kind",
    "size_class",
    "status",
    "founded_by_returning",
    "staff_count",
    "new_eligible_hires",
    "honour_city_level",
    "credit_rated",
    "registration_date",
)


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
    index = _JoinIndex(dst[ref])
    for f in fields:
        name = f"{prefix}__{f}"
        dst.cols.pop(name, None)
        dst.lazy[name] = functools.partial(_take, src, f, index)


class _JoinIndex:
    """The referenced row of each row, resolved once per join and shared by its columns."""

    def __init__(self, ref: Col) -> None:
        self._ref = ref
        self._resolved: tuple[IntArray, BoolArray, bool] | None = None

    def resolve(self) -> tuple[IntArray, BoolArray, bool]:
        if self._resolved is None:
            idx = self._ref.values.astype(np.int64, copy=False)
            valid = self._ref.known & (idx != NO_REF)
            everywhere = bool(valid.all())
            self._resolved = (idx if everywhere else pick(valid, idx, 0), valid, everywhere)
        return self._resolved


def _take(src: Table, field: str, index: _JoinIndex) -> Col:
    col = src[field]
    safe, valid, everywhere = index.resolve()
    if len(col.values) == 0:
        return Col(np.zeros(len(safe), dtype=col.values.dtype), np.zeros(len(safe), dtype=bool))
    if col.known.all():
        known = valid.copy()  # every source row known: known where the reference is valid
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
        return np.zeros(n, dtype=np.int64)
    return np.bincount(rows, weights=weights, minlength=n).astype(np.int64, copy=False)


def _received(
    facts: Facts, program: str, target: Table, row_col: str = "subject_row"
) -> tuple[IntArray, Col]:
    """Rows of the register for ``program`` (as row numbers of the subject table), and a count column."""
    rec = facts.tables.get("received")
    n = target.n
    known = np.full(n, "received" in facts.supplied, dtype=bool)
    if rec is None or rec.n == 0:
        return np.zeros(0, dtype=np.int64), Col(np.zeros(n, dtype=np.int64), known)
    sel = _register_rows(rec).get(program, np.zeros(0, dtype=np.int64))
    rows = rec[row_col].values[sel].astype(np.int64, copy=False)
    return sel, Col(_count(rows, n), known)


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
    contributions; then ``last - first + 1 == count == 0``) and where the hire's months start in ``months``; and the distinct paid months in
    (hire, month) order with each month's employer contributions summed (several rows for one month
    — e.g. one per insurance type — add up)."""

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


def assemble(facts: Facts, on: int) -> dict[str, Table]:
    """Add the derived columns to every subject table (in place) and return the tables."""
    T = facts.tables
    for name in FACTS:
        if name not in T:
            T[name] = empty_table(name)
    persons, businesses, hires, loans = T["persons"], T["businesses"], T["hires"], T["loans"]

    # Claim and sales years default to the last completed calendar year.
    last_year = from_day(on).year - 1
    for year_col in ("claim_year", "sales_year"):
        c = businesses[year_col]
        businesses.cols[year_col] = Col(
            pick(c.known, c.values, last_year).astype(np.int64), np.ones(businesses.n, dtype=bool)
        )

    # Businesses: founder facts, the year rows for the claim and sales years.
    _join(businesses, persons, "founder_id", PERSON_FIELDS, "founder")
    # 首次创办 is about this business: the registry's per-business value wins over the person's flag.
    own = businesses["founder_first_business"]
    joined = businesses["founder__first_business"]
    businesses.cols["founder__first_business"] = Col(
        pick(own.known, own.values, joined.values).astype(bool), own.known | joined.known
    )
    _join(businesses, T["carriers"], "carrier_id", ("kind", "level", "schedule"), "carrier")
    by = T["business_years"]
    for year_col, fields in (
        ("claim_year", ("employer_si_paid_fen",)),
        ("sales_year", ("online_revenue_fen", "online_orders", "courier_fees_fen")),
    ):
        year_row = np.full(businesses.n, NO_REF, dtype=np.int64)
        if by.n:
            b = by["business_id"].values.astype(np.int64, copy=False)
            y = by["year"].values.astype(np.int64, copy=False)
            want = businesses[year_col].values.astype(np.int64, copy=False)
            okb = (b >= 0) & (b < businesses.n)
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

    # Register of what was already granted.
    businesses.cols["startup_years_claimed"] = _received(facts, "startup_subsidy", businesses)[1]
    businesses.cols["startup_claimed_this_year"] = _claimed_in_year(facts, "startup_subsidy", businesses)
    businesses.cols["workshop_claimed_this_year"] = _claimed_in_year(facts, "workshop_award", businesses)
    businesses.cols["online_sales_received"] = _received(facts, "online_sales_subsidy", businesses)[1]
    businesses.cols["workshop_award_received"] = _received(facts, "workshop_award", businesses)[1]

    # Persons: register and other loans.
    for prog in ("training_syb", "training_online", "training_iyb", "job_subsidy", "free_workstation"):
        persons.cols[f"{prog}_received"] = _received(facts, prog, persons)[1]
    sel_si, col_si = _received(facts, "social_insurance_subsidy", persons)
    months_si = np.zeros(persons.n, dtype=np.int64)
    if sel_si.size:
        rec = T["received"]
        months_si = _count(
            rec["subject_row"].values[sel_si].astype(np.int64),
            persons.n,
            rec["months"].values[sel_si].astype(np.int64),
        )
    persons.cols["si_months_received"] = Col(months_si, col_si.known)
    T["other_loans"]
    olk = _row_flag(persons, "__other_loans_supplied", "other_loans" in facts.supplied)
    persons.cols["other_loans_known"] = Col(olk, np.ones(persons.n, dtype=bool))

    # Hires: the hired person's and the employer's facts; contribution runs.
    _join(hires, persons, "person_id", PERSON_FIELDS, "person")
    _join(hires, businesses, "business_id", ("district", "founded_by_returning"), "business")
    hires.cols["job_subsidy_received"] = persons["job_subsidy_received"].take(
        hires["person_id"].values.astype(np.int64, copy=False),
        hires["person_id"].known & (hires["person_id"].values >= 0),
    )
    hires.cols["si_months_received"] = persons["si_months_received"].take(
        hires["person_id"].values.astype(np.int64, copy=False),
        hires["person_id"].known & (hires["person_id"].values >= 0),
    )
    con = T["contributions"]
    ck = _row_flag(hires, "__contributions_supplied", "contributions" in facts.supplied)
    h_rows = con["hire_id"].values.astype(np.int64, copy=False)
    c_months = con["month"].values.astype(np.int32, copy=False)
    runs = contribution_runs(
        h_rows, c_months, hires.n, con["employer_fen"].values.astype(np.int64, copy=False)
    )
    hires.cols["si_last_month"] = Col(runs.last, ck.copy())
    hires.cols["si_run_months"] = Col(runs.run, ck.copy())
    hires.cols["si_paid_months"] = Col(runs.count, ck.copy())
    # Where each hire's paid months start among the distinct paid months, and the first of them:
    # a hire whose months are one unbroken run finds a month range by subtraction alone.
    hires.cols["si_first_month"] = Col(runs.first, ck.copy())
    hires.cols["si_months_start"] = Col(runs.start, ck.copy())
    # The distinct paid months in (hire, month) order with the running total of employer
    # contributions before each: a claim over a month range is a subtraction. A last row holds
    # the grand total, so every range has an end row.
    size = runs.months.size + 1
    before = np.zeros(size, dtype=np.int64)
    np.cumsum(runs.fen, dtype=np.int64, out=before[1:])
    always = np.ones(size, dtype=bool)
    T["contribution_months"] = Table(
        "contribution_months",
        size,
        {"month": Col(np.append(runs.months, np.int32(-1)), always), "fen_before": Col(before, always)},
    )
    del runs

    # Loans: the borrower's and the business's facts.
    _join(loans, persons, "borrower_id", (*PERSON_FIELDS, "other_loans_known"), "borrower")
    flag = loans["borrower__other_loans_known"]
    loans.cols["borrower__other_loans"] = Col(
        np.zeros(loans.n, dtype=bool), flag.known & flag.values.astype(bool)
    )
    _join(loans, businesses, "business_id", BUSINESS_FIELDS, "business")
    d = loans["district"]
    bd = loans["business__district"]
    loans.cols["district"] = Col(pick(d.known, d.values, bd.values).astype(np.int32), d.known | bd.known)

    # Trainings: the trainee's facts and register.
    _join(
        T["trainings"],
        persons,
        "person_id",
        (
            "returning_entrepreneur",
            "startup_intention",
            "has_licence",
            "licence_date",
            "training_syb_received",
            "training_online_received",
            "training_iyb_received",
            "hukou_district",
        ),
        "person",
    )
    for name, prog in (
        ("carriers", "carrier_award"),
        ("mentor_services", "mentor_service_subsidy"),
        ("onjob_trainings", "onjob_training_subsidy"),
    ):
        T[name].cols[f"{prog}_received"] = _received(facts, prog, T[name])[1]
    return T


def _row_flag(table: Table, name: str, default: bool) -> BoolArray:
    """Per-row 'this optional fact was supplied' (a case) or the whole table's presence (a batch)."""
    if name in table.cols:
        return table.cols[name].values.astype(bool)
    return np.full(table.n, default, dtype=bool)


def _claimed_in_year(facts: Facts, program: str, target: Table, year_col: str = "claim_year") -> Col:
    """Whether the register holds ``program`` for the row's claim year (period = the year)."""
    sel, col = _received(facts, program, target)
    claimed = np.zeros(target.n, dtype=bool)
    if sel.size and target.n:  # (no rows: register rows about subjects not read have nothing to mark)
        rec = facts.tables["received"]
        rows = rec["subject_row"].values[sel].astype(np.int64)
        ok = (rows >= 0) & (rows < target.n)
        periods = np.asarray([_int_or(-1, p) for p in rec["period"].values[sel]], dtype=np.int64)
        claim = target[year_col].values.astype(np.int64, copy=False)
        hit = ok & (periods == claim[pick(ok, rows, 0)])
        claimed[rows[hit]] = True
    return Col(claimed, col.known.copy())


def _int_or(default: int, text: object) -> int:
    try:
        return int(str(text))
    except ValueError:
        return default
