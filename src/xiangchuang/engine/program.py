"""Programs and conditions, written over columns.

A :class:`Condition` is a function from a context (the subject table, the evaluation date and the
parameters) to a :class:`CondOut`: a tri-state column, optionally the date from which it will pass
(for 「即将符合」) and columns of values that its Chinese messages quote. A :class:`Program` is a
list of conditions that must all pass, optionally a group of grounds of which one must pass
(``any_of``), and an amount formula. The same definition serves one case and a million rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt

from xiangchuang.engine.facts import FACTS, GROUPS, Table, group_mask
from xiangchuang.engine.money import FenArray
from xiangchuang.engine.parameters import NO_VERSION, Parameter, ParameterSet
from xiangchuang.engine.tri import TriArray
from xiangchuang.engine.vec import pick

IntArray = npt.NDArray[np.int64]
DayArray = npt.NDArray[np.int32]
Info = dict[str, "npt.NDArray[Any] | Later"]
_T = TypeVar("_T")

# The info key of a condition that cites a parameter without a value in force on the row: the
# parameters' labels per row ("" where it has them all). Set by ``evaluate._without_value`` for a
# condition's declared parameters, or by a condition itself for a parameter it reads for some rows
# only (loans.one_loan_per_borrower); explain.py then names them instead of the condition's message.
NO_VALUE_KEY: Final = "no_value"

# In ``Ctx.used``: a row that read the parameter but whose result it did not decide (e.g. a carrier's
# own rent schedule instead of the default): not cited, not 「参数待核实」, never "not in force".
NOT_USED = -2


def district_fact(subject: str) -> str:
    """The column of a subject table that holds its district (parameters are looked up by it,
    ``Ctx.district``): its own, or its business's."""
    return "district" if "district" in FACTS.get(subject, {}) else "business__district"


def has_district(subject: str) -> bool:
    """Whether rows of ``subject`` have a district to look parameters up by (``district_fact``):
    their own, or their business's. A person has neither (free workstations, README choice 38):
    such a program is evaluated at the city's values only."""
    facts = FACTS.get(subject, {})
    return "district" in facts or "business_id" in facts


class Later:
    """A value a message may quote that costs a pass over the rows: computed only when an
    explanation asks for it (registry-wide runs never do), and then once (an explanation may quote
    it for every row)."""

    __slots__ = ("_fn", "_got")

    def __init__(self, make: Callable[[], npt.NDArray[Any]]) -> None:
        self._fn = make
        self._got: npt.NDArray[Any] | None = None

    def make(self) -> npt.NDArray[Any]:
        if self._got is None:
            self._got = self._fn()
        return self._got


NEVER_DAY = 2**31 - 1  # a passes-on day that never comes


class Projection:
    """A sparse ``passes_on`` column: the day from which a condition will pass, given only for the
    rows where one is projected (``rows``, ascending); every other row never passes by time alone.
    For a condition that projects a date for few rows of a large table (the job subsidy's 12-month
    run: only hires whose run is current and short), 「即将符合」 then looks at those rows alone
    instead of scanning, and no full column of "never" is written."""

    __slots__ = ("days", "n", "rows")

    def __init__(self, n: int, rows: npt.NDArray[np.intp], days: DayArray) -> None:
        self.n = n
        self.rows = rows
        self.days = days

    def at(self, rows: npt.NDArray[np.intp]) -> DayArray:
        """The day of each of ``rows`` (any order): its projected day, else ``NEVER_DAY``."""
        if not self.rows.size:
            return np.full(rows.shape, NEVER_DAY, dtype=np.int32)
        pos = np.searchsorted(self.rows, rows)
        np.minimum(pos, self.rows.size - 1, out=pos)
        hit = self.rows[pos] == rows
        out: DayArray = pick(hit, self.days[pos], np.int32(NEVER_DAY)).astype(np.int32, copy=False)
        return out

    def day(self, row: int) -> int:
        """The day of one row (an explanation's)."""
        pos = int(np.searchsorted(self.rows, row))
        if pos < self.rows.size and int(self.rows[pos]) == row:
            return int(self.days[pos])
        return NEVER_DAY


@dataclass
class CondOut:
    state: TriArray
    # The day from which a failed condition will pass by time alone (「即将符合」): a column, or a
    # sparse :class:`Projection`; None when the condition is not time-based.
    passes_on: DayArray | Projection | None = None
    info: Info = field(default_factory=dict)


@dataclass
class AmountOut:
    """An amount per row. ``known`` (optional) is False where the amount depends on a fact that is
    unknown (e.g. which of two routes is higher when one route's facts are missing): such a row
    is never paid a guessed amount; the program is undetermined there and the facts the amount
    reads (``Program.amount_facts``) that are missing are listed (PROVISIONS §0: unknown ≠ zero)."""

    amount: FenArray
    info: Info = field(default_factory=dict)
    known: npt.NDArray[np.bool_] | None = None


@dataclass(frozen=True)
class Condition:
    id: str
    clause: str
    test: Callable[[Ctx], CondOut]
    pass_msg: str
    fail_msg: str
    unknown_msg: str = "缺少事实，无法判断：{missing}"
    facts: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    gap_msg: str | None = None  # distance to passing, for a failed condition
    # Whether the condition says itself what a parameter without a value in force on the row's date
    # means, its state already failing there (the interest subsidy's regime_applies, quoting the
    # rules' first date). Otherwise such a row's condition fails with a message naming those
    # parameters (evaluate._without_value): never a pass, a fail or a figure from another date's
    # value (README choices 25 and 90).
    quotes_no_value: bool = False


# The ``Ctx.memo`` key of the rows that would be 「即将符合」 but were not listed because their
# projected amount is not known (evaluate._soon_amount_known): a rule's explanation of a row it
# withheld in favour of such a row says so (employment._withheld_note).
SOON_UNPRICED: Final = "soon_unpriced"

SoonRule = Callable[
    ["Ctx", TriArray, npt.NDArray[np.bool_], DayArray], tuple[npt.NDArray[np.bool_], DayArray]
]


@dataclass(frozen=True)
class Program:
    id: str
    clause: str
    title: str
    subject: str  # the table whose rows are the subjects
    conditions: tuple[Condition, ...]
    amount: Callable[[Ctx, Mapping[str, TriArray]], AmountOut]
    amount_msg: str
    amount_params: tuple[str, ...] = ()
    amount_facts: tuple[str, ...] = ()  # the facts the amount reads (listed when they are missing)
    # The facts whose values the amount rule's figures (``amount_msg``) quote or are computed from;
    # None: ``amount_facts``. On a row that is not eligible where one of them is unknown, the rule
    # is not quoted with its figures (they would be an unknown fact's placeholder, PROVISIONS §0):
    # it names the missing facts instead (explain.AMOUNT_PENDING). () for a rule whose text
    # already says what an unknown fact leaves open (the SYB deadline).
    rule_facts: tuple[str, ...] | None = None
    # Parts of the amount that are separate awards, each behind a condition of its own (README choice
    # 36): (the ``amount_msg`` placeholder of the part, the condition id). Where the condition is
    # unknown on a row, the part is quoted as 「待定（缺…）」 naming that condition's missing facts,
    # never as the ¥0.00 it adds to the amount (explain.PART_PENDING, README choice 68).
    pending_parts: tuple[tuple[str, str], ...] = ()
    any_of: tuple[Condition, ...] = ()
    any_of_label: str = ""
    benefit: str = "补贴"
    paid_to: str = "申请主体"
    # Whether the amount is money paid from public funds (a subsidy or an award): then the result
    # says which part the city and which part a district pays. A loan's amount is credit granted by
    # a bank, not a payment: no funding split (the district pays only for the interest subsidy, 1.2).
    funded: bool = True
    summary: str = ""
    applies: Callable[[Ctx], npt.NDArray[np.bool_]] | None = None
    # The program's own rule on which rows stay 「即将符合」, applied after the generic one to a table
    # of several rows: (ctx, status, soon, eligible_from) → (soon, eligible_from). The job subsidy's
    # 每人一次 lists one record per person (employment.one_listing_per_person).
    soon_rule: SoonRule | None = None
    # Whether a row whose district is not given takes the city's values as its own (README choice
    # 38: a training record without the district where it was held gets the city standard). Else
    # such a row is undecided where a parameter it read has district values (choice 69, the rule
    # district_known): an on-the-job training, a mentor service, a loan, a business.
    city_without_district: bool = False


class Ctx:
    """What a condition sees: the subject table, the date, the parameters, and parameter usage."""

    def __init__(
        self,
        params: ParameterSet,
        table: Table,
        on: int,
        *,
        tables: Mapping[str, Table] | None = None,
        supplied: frozenset[str] | set[str] = frozenset(),
        city_only: bool = False,
        param_day: int | None = None,
    ) -> None:
        self._supplied = supplied
        # The day parameter values are looked up at (default the evaluation date): a later day for
        # the projected amount of a 「即将符合」 row, paid at the values in force on its eligible date
        # (README choice 11). The facts and the evaluation date (``on``) stay as they are.
        self.param_day = on if param_day is None else param_day
        self._param_col: DayArray | None = None
        self._cache: dict[str, Any] = {}
        self.params = params
        self.t = table
        self.on = on
        self.n = table.n
        self.tables = tables or {}
        self.city_only = city_only
        self.used: dict[str, npt.NDArray[np.int32]] = {}
        self._memo: dict[tuple[str, int, int], npt.NDArray[np.int32]] = {}
        self._at_on: dict[str, npt.NDArray[np.int32]] = {}
        self._on_col: DayArray | None = None
        self.district_differs = False
        self._district: tuple[npt.NDArray[np.int32] | None] | None = None
        # Per parameter looked up by districts other than the subject's own (``version(...,
        # districts=, districts_known=)``): those districts and where they are known. Read through
        # :meth:`lookup_district` (the rule district_known, the district of a ``match`` row); kept
        # by :meth:`release`. Other parameters go by the subject's district fact.
        self._lookup_by: dict[str, tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_]]] = {}

    @property
    def on_col(self) -> DayArray:
        """The evaluation date as a length-1 column (broadcasts against every fact column)."""
        if self._on_col is None:
            self._on_col = np.asarray([self.on], dtype=np.int32)
        return self._on_col

    def full(self, a: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """A column broadcast to the table's length (for boolean masks and fancy indexing)."""
        return np.broadcast_to(a, (self.n,)) if a.shape != (self.n,) else a

    def district(self) -> npt.NDArray[np.int32] | None:
        got = self._district
        if got is None:
            name = district_fact(self.t.name)
            values: npt.NDArray[np.int32] | None = self.t[name].values if name in self.t else None  # type: ignore[assignment]
            got = (values,)
            self._district = got
        return got[0]

    def lookup_district(
        self, name: str | None = None
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_]] | None:
        """The district each row's parameter values were looked up by, and where it is known (full
        columns); None where the subject has no district (a person: its values are the city's,
        README choice 38). For parameter ``name``: the districts it was looked up by (``version(...,
        districts=)``; the rent reduction's default schedule goes by the carrier's district), else
        the subject's own (``district_fact``). For the row as a whole (no ``name``): the subject's
        own, except where the row used a parameter looked up by another district (not
        ``NOT_USED``: a carrier with a schedule of its own does not use the default).

        Whether the subject has a district is the schema's (``has_district``), not whether the
        table happens to hold the column: a training record without a district is unknown there
        whether or not another row of the table names one (README choice 69; batch = single)."""
        if name is not None and name in self._lookup_by:
            values, known = self._lookup_by[name]
            return self.full(values), self.full(known)
        column = district_fact(self.t.name)
        own: tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_]] | None
        if column in self.t:
            own = (
                self.full(self.t[column].values).astype(np.int32, copy=False),
                self.full(self.t[column].known),
            )
        elif has_district(self.t.name):  # (no row gave it: unknown on every row)
            own = (np.zeros(self.n, dtype=np.int32), np.zeros(self.n, dtype=bool))
        else:
            own = None
        if name is not None or not self._lookup_by:
            return own
        values, known = own if own is not None else (np.zeros(self.n, np.int32), np.zeros(self.n, bool))
        for param in sorted(self._lookup_by):
            theirs, theirs_known = self._lookup_by[param]
            rows = self.full(self.used[param] != NOT_USED)
            values = pick(rows, self.full(theirs), values).astype(np.int32)
            known = pick(rows, self.full(theirs_known), known).astype(bool)
        return values, known

    def version(
        self,
        name: str,
        days: DayArray | None = None,
        districts: npt.NDArray[np.int32] | None = None,
        districts_known: npt.NDArray[np.bool_] | None = None,
    ) -> npt.NDArray[np.int32]:
        """Version index of a parameter for each row (at ``days``, default the evaluation date).
        ``districts``: the district each row's value is looked up by, when not the subject's own
        (``district_fact``), with ``districts_known`` where it is known (the rule district_known
        then asks for that district, README choice 69)."""
        if days is None and districts is None and self.n == 1:
            return self._version_one(name)
        if districts is not None:
            if districts_known is None:
                raise ValueError(f"参数 {name}：按其他区县取值时须给出该区县是否已知（districts_known）")
            self._lookup_by[name] = (districts, districts_known)
        key = (name, id(days), id(districts))
        got = self._memo.get(key)
        if got is None:
            param = self.params[name]
            d = districts if districts is not None else self.district()
            at = days if days is not None else self._param_days()
            got = param.lookup(d, at, city_only=self.city_only)
            self._memo[key] = got
            if not self.city_only and not self.district_differs and d is not None and param.has_overrides:
                # Whether any row gets a district's own value (then the district pays a difference).
                self.district_differs = bool(np.any(got != param.lookup(None, at, city_only=True)))
        self.used[name] = got
        return got

    def _param_days(self) -> DayArray:
        """The day parameter values are looked up at, as a length-1 column (``param_day``)."""
        if self.param_day == self.on:
            return self.on_col
        if self._param_col is None:
            self._param_col = np.asarray([self.param_day], dtype=np.int32)
        return self._param_col

    def _version_one(self, name: str) -> npt.NDArray[np.int32]:
        """:meth:`version` at the evaluation date for a table of one row (the single case): the
        same lookup and the same district-difference check, with Python ints."""
        got = self._at_on.get(name)
        if got is None:
            param = self.params[name]
            d = self.district()
            if d is None or self.city_only or not param.has_overrides:
                got = param.lookup_one(None, self.param_day)
            else:
                got = param.lookup_one(int(d.item()), self.param_day)
                if not self.district_differs and got.item() != param.lookup_one(None, self.param_day).item():
                    self.district_differs = True
            self._at_on[name] = got
        self.used[name] = got
        return got

    def version_for(
        self, name: str, rows: npt.NDArray[np.bool_], days: DayArray | None = None
    ) -> npt.NDArray[np.int32]:
        """:meth:`version` for every row, cited only for ``rows`` (the rows whose result the value
        decides; e.g. another loan's term limit). A row citing it already (another condition read
        it for every row, before or after) keeps its citation, so the result does not depend on
        the order of the conditions nor on the other rows of the table."""
        before = self.used.get(name)
        got = self.version(name, days)
        base = self.full(before) if before is not None else np.int32(NOT_USED)
        self.used[name] = pick(self.full(rows), self.full(got), base).astype(np.int32)
        return got

    def cited_for(self, rows: npt.NDArray[np.bool_], read: Callable[[], _T]) -> _T:
        """``read()``, with the parameters it reads cited only for ``rows`` (the rows whose result
        they can decide: e.g. a small/micro-firm loan's ceiling, not an individual loan's), as
        :meth:`version_for` does for one parameter: a row citing one already (another condition read
        it for every row, before or after) keeps its citation. A row that does not cite a parameter
        neither waits for its district's values of it (README choice 69) nor fails for want of a
        value in force (choice 25)."""
        before = dict(self.used)
        got = read()
        mask = self.full(rows)
        for name, ver in list(self.used.items()):
            prev = before.get(name)
            if prev is ver:
                continue
            base = self.full(prev) if prev is not None else np.int32(NOT_USED)
            self.used[name] = pick(mask, self.full(ver), base).astype(np.int32)
        return got

    def unused(self, name: str, rows: npt.NDArray[np.bool_]) -> None:
        """Mark ``rows`` as not using parameter ``name`` (read for every row by :meth:`version`):
        their explanations neither cite it nor list it as pending, and its having no value in force
        does not fail them."""
        ver = self.full(self.used[name])
        self.used[name] = pick(self.full(rows), NOT_USED, ver).astype(np.int32)

    def release(self) -> None:
        """Drop the intermediate columns shared between conditions (kept: the parameter versions
        used, which explanations and district payments cite)."""
        self._cache.clear()
        self._memo.clear()
        self._at_on.clear()

    def supplied(self, table: str) -> bool:
        """Whether an optional table (other_loans, received, …) was supplied at all."""
        return table in self._supplied

    def memo(self, key: str, make: Callable[[], Any]) -> Any:
        """Compute a shared column once per program evaluation."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def param(self, name: str) -> Parameter:
        return self.params[name]

    def ratio(self, name: str, days: DayArray | None = None) -> tuple[IntArray, IntArray]:
        return self.params[name].numbers(self.version(name, days))

    def ints(self, name: str, days: DayArray | None = None) -> IntArray:
        return self.params[name].ints(self.version(name, days))

    def in_force(self, name: str, days: DayArray | None = None) -> npt.NDArray[np.bool_]:
        ok: npt.NDArray[np.bool_] = self.version(name, days) != NO_VERSION
        return ok

    def groups_mask(self, name: str, days: DayArray | None = None) -> IntArray:
        """Bit mask of a list-of-groups parameter, per row (district extensions included)."""
        ver = self.version(name, days)
        masks, one_row = _group_masks(self.params[name])
        if ver.shape == (1,):  # one row (the single case): a ready-made read-only column
            v = ver.item()
            return one_row[v if v >= 0 else 0]
        out: IntArray = masks[pick(ver >= 0, ver, 0)]
        return out

    def value(self, name: str) -> Any:
        """A scalar (city) value at the evaluation date, for tables and lists used as a whole."""
        ver = self.version(name)
        idx = int(ver[0]) if self.n else int(self.params[name].lookup(None, self._param_days())[0])
        return self.params[name].versions[idx].value if idx >= 0 else None


_GROUP_MASKS: dict[int, tuple[Parameter, IntArray, tuple[IntArray, ...]]] = {}


def _group_masks(param: Parameter) -> tuple[IntArray, tuple[IntArray, ...]]:
    """The group bit mask of every version of a list-of-groups parameter, as one column and as
    one read-only one-row column per version (computed once per parameter)."""
    got = _GROUP_MASKS.get(id(param))
    if got is None or got[0] is not param:
        masks = np.asarray(
            [group_mask([g for g in v.value if g in GROUPS]) for v in param.versions], dtype=np.int64
        )
        got = (param, masks, one_row_columns(masks))
        _GROUP_MASKS[id(param)] = got
    return got[1], got[2]


def one_row_columns(values: IntArray) -> tuple[IntArray, ...]:
    """Read-only one-row columns of each value (the single case's path: built once, never written)."""
    values.setflags(write=False)
    cols = tuple(values[k : k + 1].copy() for k in range(len(values)))
    for c in cols:
        c.setflags(write=False)
    return cols
