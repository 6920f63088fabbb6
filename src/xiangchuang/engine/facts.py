"""The facts the engine reads: documented input tables, and columns with a 'known' mask.

Every fact is a column of values plus a boolean ``known`` column. A missing fact is *unknown*,
never zero or false (PROVISIONS §0). The same tables serve one case (length-1 columns, built by
``case.case_to_tables``) and a registry (built from Parquet/CSV by the CLI), so every program has
one definition.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from xiangchuang.engine.dates import (
    FIRST_DATE,
    LAST_DATE,
    MONTH_ORDER_RULE,
    check_period,
    check_year,
    month_label,
    months_in_order,
    to_day,
)
from xiangchuang.engine.districts import district_codes
from xiangchuang.engine.schedule import parse_schedule
from xiangchuang.engine.vec import pick

Kind = Literal[
    "id", "ref", "date", "month", "int", "fen", "bool", "code", "division", "enum", "groups", "text"
]

# Key groups (重点群体), PROVISIONS §0. A bit each in a person's ``groups`` column.
GROUPS: Final[dict[str, tuple[int, str]]] = {
    "college_graduate": (0, "高校毕业生"),
    "veteran": (1, "退役军人"),
    "returning_migrant_worker": (2, "返乡农民工"),
    "poverty_registered": (3, "农村建档立卡贫困人员（脱贫人口）"),
    "registered_unemployed": (4, "登记失业人员"),
    "dibao": (5, "低保家庭人员"),
    "hard_to_employ": (6, "就业困难人员"),
    "disabled": (7, "残疾人"),
    "released_prisoner": (8, "刑满释放人员"),
    "overcapacity_worker": (9, "化解过剩产能企业职工"),
    "online_merchant": (10, "网络商户"),
    "farmer": (11, "农民"),
    "age_4050": (12, "“4050”人员"),
    "zero_employment_family": (13, "零就业家庭成员"),
}


# Codes: a ``code`` fact is one of Chongqing's 41 districts (where a business is registered, a loan
# or a training takes place: the district whose values apply and whose finance pays); a ``division``
# fact (户籍) is any county-level division code of China (GB/T 2260: province part 11–82), since a
# person moving to the countryside (入乡) may come from anywhere. One rule for cases, batch files
# and the command line.
DISTRICT_CODES: Final[frozenset[int]] = frozenset(district_codes())
DIVISION_MIN: Final = 110000
DIVISION_MAX: Final = 829999
CODE_RULE: Final[dict[str, str]] = {
    "code": "须为重庆市41个区县之一的代码（如 500101 万州区；两江新区、重庆高新区、万盛经开区为 500190、500192、500193）",
    "division": "须为6位县级行政区划代码（GB/T 2260，如 500101、510104）",
}


# A code written as text is exactly six ASCII digits: not "0500101", "+500101" nor " 500101" (read
# as 500101 before), nor full-width digits (Python's \d and str.isdigit take them). One rule for a
# case's value and a batch file's text column; the case schema states it more narrowly (a district's
# codes as an enum, a division's pattern [1-8][0-9]{5}), and the loader then checks the code itself.
CODE_TEXT_PATTERN: Final = "^[0-9]{6}$"


def code_text_ok(text: str) -> bool:
    """Whether ``text`` is a code written as text (:data:`CODE_TEXT_PATTERN`)."""
    return len(text) == 6 and text.isascii() and text.isdigit()


def code_ok(kind: str, code: int) -> bool:
    """Whether ``code`` is a valid value of a ``code`` (district) or ``division`` (户籍) fact."""
    if kind == "code":
        return code in DISTRICT_CODES
    return DIVISION_MIN <= code <= DIVISION_MAX


def codes_ok(kind: str, codes: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """:func:`code_ok` over a column."""
    if kind == "code":
        ok: npt.NDArray[np.bool_] = np.isin(codes, np.fromiter(DISTRICT_CODES, dtype=np.int64))
        return ok
    in_range: npt.NDArray[np.bool_] = (codes >= DIVISION_MIN) & (codes <= DIVISION_MAX)
    return in_range


def group_mask(names: tuple[str, ...] | list[str]) -> int:
    """Bit mask of group names; unknown names raise ValueError (in Chinese)."""
    mask = 0
    for n in names:
        if n not in GROUPS:
            raise ValueError(f"未知的人员类别：{n}")
        mask |= 1 << GROUPS[n][0]
    return mask


def group_labels(mask: int) -> list[str]:
    return [label for _, (bit, label) in GROUPS.items() if mask >> bit & 1]


@dataclass(frozen=True)
class Fact:
    """A documented input column."""

    name: str
    kind: Kind
    label: str
    choices: tuple[str, ...] = ()
    ref: str | None = None  # for kind 'ref': the table the id points to
    description: str = ""
    # For kind 'text' with a documented format (the text), or an 'int' with a range of its own (the
    # integer: a year, ``dates.check_year``): raises ValueError (a Chinese message) on a bad value,
    # for a case and a batch file alike.
    check: Callable[[Any], object] | None = None
    # For an enum whose choices a list parameter names (a kind of business, carrier, loan or
    # training provider) or that a form offers (a business's status: the public check-up's
    # question, the import's choices): each choice's Chinese label, in the order of ``choices``.
    # What messages, parameter values and forms show instead of the code (README choice 75).
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.labels and len(self.labels) != len(self.choices):
            raise ValueError(f"{self.name}: one label per choice")

    def label_of(self, code: str) -> str:
        """A choice's Chinese label (the code itself where the fact has no labels)."""
        return self.labels[self.choices.index(code)] if self.labels and code in self.choices else code

    def code_of(self, text: str) -> int:
        try:
            return self.choices.index(text)
        except ValueError:
            allowed = "、".join(self.choices)
            raise ValueError(
                f"{self.label}（{self.name}）：取值 {text!r} 不在允许范围内（{allowed}）"
            ) from None


def F(
    name: str,
    kind: Kind,
    label: str,
    *choices: str,
    ref: str | None = None,
    description: str = "",
    check: Callable[[Any], object] | None = None,
    labels: tuple[str, ...] = (),
) -> Fact:
    return Fact(name, kind, label, tuple(choices), ref, description, check, labels)


# The input tables. Column names are the documented names of the batch files (Parquet or CSV) and
# of the keys of a case document's sections.
TABLES: Final[dict[str, tuple[Fact, ...]]] = {
    "persons": (
        F("id", "id", "人员编号"),
        F("birth_date", "date", "出生日期"),
        F("gender", "enum", "性别", "M", "F"),
        F(
            "hukou_district",
            "division",
            "户籍所在地",
            description="县级行政区划代码（GB/T 2260），可为市外（入乡创业）；仅作记录：任何规则都不读取户籍（1.1 同等待遇）",
        ),
        F("groups", "groups", "人员类别", description="重点群体列表；缺省为未知，空列表为“不属于任何类别”"),
        F("returning_entrepreneur", "bool", "返乡入乡创业人员"),
        F("graduation_date", "date", "毕业（离校）日期"),
        F("startup_intention", "bool", "有创业意愿"),
        F("first_business", "bool", "首次创业（此前未创办过企业或个体工商户）"),
        F("second_time_founder_stable", "bool", "经营稳定守信的二次创业者"),
        F("honour_city_level", "bool", "获得设区的市级以上荣誉称号"),
        F("has_licence", "bool", "已取得营业执照"),
        F("licence_date", "date", "营业执照取得日期"),
        F("holds_free_workstation", "bool", "正在使用免费创业工位"),
    ),
    "businesses": (
        F("id", "id", "经营主体编号"),
        F("district", "code", "所在区县"),
        F(
            "kind",
            "enum",
            "主体类型",
            "enterprise",
            "individual_business",
            "farmer_cooperative",
            "other",
            labels=("企业", "个体工商户", "农民专业合作社", "其他"),
        ),
        F("size_class", "enum", "规模", "small_micro", "medium", "large"),
        F("registration_date", "date", "登记日期"),
        F(
            "status",
            "enum",
            "经营状态",
            "normal",
            "abnormal",
            "deregistered",
            "revoked",
            labels=("正常", "经营异常", "注销", "吊销"),
        ),
        F("founder_id", "ref", "创办人（法定代表人/经营者）", ref="persons"),
        F("founded_by_returning", "bool", "由返乡入乡创业人员创办"),
        F(
            "founder_first_business",
            "bool",
            "本主体是创办人首次创办的企业或个体工商户",
            description="缺省时取创办人的“首次创业”（persons.first_business）",
        ),
        F("staff_count", "int", "现有职工人数（含当年新招用）"),
        F("new_eligible_hires", "int", "当年新招用符合条件人员数（劳动合同1年以上）"),
        F("honour_city_level", "bool", "获得设区的市级以上荣誉称号（主体或项目）"),
        F("recommended_by", "enum", "推荐机构", "none", "national_incubator_demo", "credit_community"),
        F("credit_rated", "bool", "经金融机构评估认定为信用小微企业"),
        F("workshop_recognised", "bool", "认定为扶贫（就业帮扶）车间"),
        F("workshop_employed", "int", "车间吸纳脱贫人口等就业困难人员人数"),
        F("workshop_new_build", "bool", "新建车间（申请建设补助）"),
        F("workshop_build_cost_fen", "fen", "车间建设投入（分）"),
        F("carrier_id", "ref", "入驻载体", ref="carriers"),
        F("tenancy_start", "date", "入驻日期"),
        F("rent_fen", "fen", "当期场租（分）"),
        F("property_fee_fen", "fen", "当期物业费（分）"),
        F("utilities_fen", "fen", "当期水电费（分）"),
        F("claim_year", "int", "创业补助申领年度", check=check_year),
        F("sales_year", "int", "线上销售年度", check=check_year),
        F("online_route", "enum", "线上销售补助申领方式", "auto", "revenue", "orders"),
    ),
    "business_years": (
        F("business_id", "ref", "经营主体编号", ref="businesses"),
        F("year", "int", "年度", check=check_year),
        F("employer_si_paid_fen", "fen", "当年实际缴纳社保费单位部分（分）"),
        F("online_revenue_fen", "fen", "线上年销售收入（分）"),
        F("online_orders", "int", "线上年销售单数"),
        F("courier_fees_fen", "fen", "当年快递费用（分）"),
    ),
    "hires": (
        F("id", "id", "招用记录编号"),
        F("business_id", "ref", "用人单位", ref="businesses"),
        F("person_id", "ref", "招用人员", ref="persons"),
        F("hire_date", "date", "招用日期"),
        F("contract", "bool", "已签订劳动合同"),
        F("si_period_start", "month", "社保补贴申领期起（月）"),
        F(
            "si_period_end",
            "month",
            "社保补贴申领期止（月）",
            description=f"与申领期起（月）同时写明时，{MONTH_ORDER_RULE}",
        ),
    ),
    "contributions": (
        F("hire_id", "ref", "招用记录编号", ref="hires"),
        F("month", "month", "缴费月份"),
        F("employer_fen", "fen", "单位缴纳部分（养老、医疗含大额、生育、失业、工伤，分）"),
    ),
    "loans": (
        F("id", "id", "贷款编号"),
        F("kind", "enum", "贷款类型", "individual", "partnership", "small_micro"),
        F("borrower_id", "ref", "借款人（个人）", ref="persons"),
        F("business_id", "ref", "借款主体（小微企业）", ref="businesses"),
        F("district", "code", "贷款所在区县"),
        F("contract_date", "date", "贷款合同日期"),
        F("amount_fen", "fen", "申请/合同金额（分）"),
        F("partners", "int", "合伙人数"),
        F("term_months", "int", "贷款期限（月）"),
        F("rate_bp", "int", "合同利率（基点，1% = 100）"),
        F(
            "lpr_bp",
            "int",
            "合同载明的一年期LPR（基点；可不填，按合同日期适用的公布值计算，填写时须与之一致）",
        ),
        F("new_loan", "bool", "新发放贷款"),
        F("recommended_by", "enum", "项目推荐机构", "none", "national_incubator_demo", "credit_community"),
        F("credit_rated", "bool", "借款主体经金融机构评估认定为信用主体"),
        F("settle_start", "date", "贴息结算期起"),
        F("settle_end", "date", "贴息结算期止"),
        F("principal_fen", "fen", "结算期内贷款余额（分）"),
        F("excluded_days", "int", "结算期内展期、逾期天数"),
    ),
    "other_loans": (
        F("person_id", "ref", "借款人", ref="persons"),
        F(
            "kind",
            "enum",
            "贷款种类",
            "student",
            "housing",
            "car",
            "consumer",
            "business",
            "other",
            labels=("助学贷款", "住房贷款", "购车贷款", "消费贷款", "经营贷款", "其他贷款"),
        ),
        F("amount_fen", "fen", "贷款余额（分）"),
    ),
    "trainings": (
        F("id", "id", "培训记录编号"),
        F("person_id", "ref", "学员", ref="persons"),
        F("kind", "enum", "培训类别", "syb", "iyb", "online"),
        F("start_date", "date", "培训开始日期"),
        F("completion_date", "date", "结业日期"),
        # Where the training is held: a district's own (raised) training values apply to its
        # trainings, and the raised part is the district's to pay (区县财政). Not given: city values.
        F("district", "code", "培训举办区县（区县提高标准时适用其取值）"),
    ),
    "mentor_services": (
        F("id", "id", "服务记录编号"),
        F("mentor_id", "text", "导师编号"),
        F("district", "code", "服务所在区县"),
        F("level", "enum", "导师层级", "city", "district"),
        F("activity", "enum", "服务类型", "lecture", "assessment", "pairing", "other"),
        F("units", "int", "服务工作量（次/场/对）"),
        F("rating", "enum", "服务实效评价", "excellent", "good", "pass", "poor"),
        F("confirmed", "bool", "组织单位已确认"),
    ),
    "carriers": (
        F("id", "id", "载体编号"),
        F(
            "kind",
            "enum",
            "载体类型",
            "incubator",
            "returning_park",
            "station",
            "ecommerce_center",
            "logistics_park",
            labels=("创业孵化基地", "返乡创业园", "创业服务站", "电子商务服务中心", "物流园区"),
        ),
        F("level", "enum", "载体级别", "national", "municipal", "district"),
        F("district", "code", "所在区县"),
        F("municipal_date", "date", "认定为市级载体日期"),
        F("national_date", "date", "认定为国家级载体日期"),
        F("award_year", "int", "申请奖补年度", check=check_year),
        F("rating", "enum", "年度绩效评估等次", "A", "B", "C", "none"),
        F(
            "schedule",
            "text",
            "载体减免方案（如 1:100/50/0;2:50/50/0，入驻年次:场租/物业/水电减免%）",
            check=parse_schedule,
        ),
    ),
    "onjob_trainings": (
        F("id", "id", "培训补贴申请编号"),
        F(
            "provider_kind",
            "enum",
            "培训主体",
            "business",
            "cooperative",
            "association",
            "artisan",
            labels=("企业", "农民专业合作社", "专业技术协会", "手工艺传承人"),
        ),
        F("founded_by_returning", "bool", "返乡入乡创业主体"),
        F("district", "code", "所在区县"),
        F("course_level", "enum", "培训等级", "junior", "intermediate", "senior", "special"),
        F("trainees", "int", "培训合格人数"),
        F("skilled_post", "bool", "技能岗位（企业在职职工培训须为技能岗位）"),
        F("completion_date", "date", "培训结业日期"),
    ),
    "received": (
        F("program", "text", "已享受项目"),
        F("subject_id", "text", "享受主体编号"),
        F("person_id", "text", "对应人员编号"),
        F("period", "text", "所属期间", check=check_period),
        F("months", "int", "补贴月数"),
        F("amount_fen", "fen", "金额（分）"),
        F("district", "code", "发放区县"),
    ),
}

# The range of values a case or a batch file may give (beyond them a value is an input error, named
# in Chinese, never an overflow deep inside a rule or an explanation): dates 1900-01-01 to
# 2099-12-31 (days since 1970-01-01), the years of those dates (the year facts' check), and counts
# and amounts in fen below 10^15 (10 万亿元).
DAY_MIN: Final = to_day(FIRST_DATE)  # -25567
DAY_MAX: Final = to_day(LAST_DATE)  # 47481
INT_LIMIT: Final = 10**15

FACTS: Final[dict[str, dict[str, Fact]]] = {t: {f.name: f for f in fs} for t, fs in TABLES.items()}

# The list parameters whose entries are the choices of an enum fact (table, field): the kinds a
# program admits. The other lists name key groups (GROUPS) or codes shown as written.
LIST_CHOICES: Final[dict[str, tuple[str, str]]] = {
    "startup_subsidy.business_kinds": ("businesses", "kind"),
    "carrier_rent_reduction.carrier_kinds": ("carriers", "kind"),
    "carrier_award.kinds": ("carriers", "kind"),
    "loan.exempt_loan_kinds": ("other_loans", "kind"),
    "onjob_training_subsidy.provider_kinds": ("onjob_trainings", "provider_kind"),
}

# How a message or a parameter's display quotes a value not in force on the date (never the
# earliest value in its place: README choices 25, 68).
NO_VALUE: Final = "（无有效值）"


def list_labels(name: str | None, values: Any) -> list[str]:
    """A list parameter's entries in Chinese: the labels of a kind's choices (``LIST_CHOICES``),
    of key groups (``GROUPS``), else as written (e.g. district codes). What a message naming the
    list in force and a parameter's displayed value show (README choice 75): one definition."""
    where = LIST_CHOICES.get(name) if name is not None else None
    if where is not None:
        fact = FACTS[where[0]][where[1]]
        return [fact.label_of(str(v)) for v in values]
    return [GROUPS[v][1] if v in GROUPS else str(v) for v in values]


NO_REF: Final = -1
# A reference that was given but names no row of the table it refers to (a batch file naming an id
# that is not in the referred table): unknown like NO_REF (``known`` False), but not "not given" —
# e.g. a loan naming a borrower who is not among the persons has an unknown borrower, not the
# founder as its borrower (assemble._borrower_or_founder).
UNRESOLVED_REF: Final = -2

Values = npt.NDArray[np.generic]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class Col:
    """A fact column: values, and where they are known."""

    values: npt.NDArray[np.int64] | npt.NDArray[np.int32] | npt.NDArray[np.bool_] | npt.NDArray[np.object_]
    known: BoolArray

    def take(self, idx: npt.NDArray[np.int64], valid: BoolArray) -> Col:
        """Rows idx of this column; rows where ``valid`` is False become unknown."""
        safe = pick(valid, idx, 0)
        if len(self.values) == 0:
            return Col(np.zeros(len(idx), dtype=self.values.dtype), np.zeros(len(idx), dtype=bool))
        return Col(self.values[safe], self.known[safe] & valid)


class LazyColumns(ABC):
    """The maker of several lazy columns (e.g. all the columns of one join): ``Table.lazy`` maps
    each of their names to the one object, and ``column(name)`` builds that column."""

    __slots__ = ()

    @abstractmethod
    def column(self, key: str) -> Col:
        """Build the column ``key`` (one of the names this maker was registered under)."""


class Table:
    """Columns of equal length. Missing columns read as all-unknown. Derived columns may be
    registered as ``lazy`` (a zero-argument callable, or a :class:`LazyColumns`) and are built on
    first use (joined facts a program never reads cost neither time nor memory)."""

    def __init__(self, name: str, n: int, cols: Mapping[str, Col] | None = None) -> None:
        self.name = name
        self.n = n
        self.cols: dict[str, Col] = dict(cols or {})
        self.lazy: dict[str, Callable[[], Col] | LazyColumns] = {}
        # Set by :meth:`share` while several threads read the table (``run_programs``): then a lazy
        # column is built by one thread while the others wait for it (see :meth:`_build_shared`).
        self._guard: threading.Lock | None = None
        self._building: dict[str, threading.Lock] = {}

    def __len__(self) -> int:
        return self.n

    def __contains__(self, key: str) -> bool:
        return key in self.cols or key in self.lazy

    def __getitem__(self, key: str) -> Col:
        col = self.cols.get(key)
        if col is None:
            if self._guard is not None:
                return self._build_shared(key, self._guard)
            col = self._build(key, self.lazy.pop(key, None))
            self.cols[key] = col
        return col

    def _build(self, key: str, make: Callable[[], Col] | LazyColumns | None) -> Col:
        if make is None:
            return self._unknown(key)
        if isinstance(make, LazyColumns):
            return make.column(key)
        return make()

    def share(self, shared: bool) -> None:
        """Whether several threads may read this table at once. A lazy column is then built by the
        first thread that asks for it while the others wait (without this, a second thread would
        find the column neither built nor lazy any more and read it as unknown)."""
        self._guard = threading.Lock() if shared else None

    def _build_shared(self, key: str, guard: threading.Lock) -> Col:
        while True:
            with guard:
                col = self.cols.get(key)
                if col is not None:
                    return col
                busy = self._building.get(key)
                if busy is None:
                    make = self.lazy.pop(key, None)
                    mine = self._building[key] = threading.Lock()
                    mine.acquire()
            if busy is not None:
                with busy:  # another thread is building it: wait, then read it (or build it anew
                    continue  # if that thread failed and put its maker back)
            try:
                col = self._build(key, make)
            except BaseException:
                with guard:
                    if make is not None:
                        self.lazy[key] = make
                    del self._building[key]
                mine.release()
                raise
            with guard:
                self.cols[key] = col
                del self._building[key]
            mine.release()
            return col

    def __setitem__(self, key: str, col: Col) -> None:
        if len(col.values) != self.n:
            raise ValueError(f"column {key} has {len(col.values)} rows, table {self.name} has {self.n}")
        self.cols[key] = col

    def _unknown(self, key: str) -> Col:
        fact = FACTS.get(self.name, {}).get(key)
        dtype, fill = UNKNOWN_FILL[fact.kind if fact else "int"]
        return Col(filled(dtype, fill, self.n), filled(np.bool_, False, self.n))


# The dtype of each kind's values and what an unknown value holds.
UNKNOWN_FILL: Final[dict[str, tuple[type[np.generic], object]]] = {
    "bool": (np.bool_, False),
    "date": (np.int32, 0),
    "month": (np.int32, 0),
    "code": (np.int32, 0),
    "division": (np.int32, 0),
    "enum": (np.int32, 0),
    "ref": (np.int64, 0),
    "id": (np.object_, ""),
    "text": (np.object_, ""),
    "int": (np.int64, 0),
    "fen": (np.int64, 0),
    "groups": (np.int64, 0),
}

# Columns of at most this many rows (one case) may be shared constants (see ``filled``).
SHARED_MAX = 64
_SHARED: dict[tuple[npt.DTypeLike, type, object, int], npt.NDArray[Any]] = {}


def filled(dtype: npt.DTypeLike, value: object, n: int) -> npt.NDArray[Any]:
    """``np.full(n, value, dtype)``; for a few rows (one case) one shared read-only array per
    (dtype, value, n), so a case's many constant columns cost no allocations. Nobody writes into
    a column (derived columns are new arrays); a shared one raises if someone tried."""
    if n > SHARED_MAX:
        if (value is False or (type(value) is int and value == 0)) and np.dtype(dtype).kind in "biufc":
            return np.zeros(n, dtype=dtype)  # (calloc: pages never written cost no memory)
        return np.full(n, value, dtype=dtype)
    key = (dtype, type(value), value, n)  # (0 and False are equal keys, but not the same fill)
    got = _SHARED.get(key)
    if got is None:
        got = np.full(n, value, dtype=dtype)
        got.setflags(write=False)
        _SHARED[key] = got
    return got


# The month facts that bound a period, (first, last) per table: the last month is not before the
# first (dates.MONTH_ORDER_RULE, as a register period's month range). The case loader and the batch
# reader refuse a period out of order where both months are given (``period_out_of_order``).
MONTH_PERIODS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "hires": (("si_period_start", "si_period_end"),),
}


def period_out_of_order(table: str, cols: Mapping[str, Col]) -> tuple[int, str, str] | None:
    """The first row of ``table`` (its columns ``cols``) whose period's last month is before its
    first, as (row, the last month's field, the rule in Chinese naming both months); None if none."""
    for first_name, last_name in MONTH_PERIODS.get(table, ()):
        first, last = cols.get(first_name), cols.get(last_name)
        if first is None or last is None:
            continue
        bad = np.flatnonzero(first.known & last.known & ~months_in_order(first.values, last.values))
        if bad.size:
            row = int(bad[0])
            f, lf = FACTS[table][first_name], FACTS[table][last_name]
            a, b = int(first.values[row]), int(last.values[row])
            rule = f"{lf.label} {month_label(b)} 早于{f.label} {month_label(a)}（{MONTH_ORDER_RULE}）"
            return row, last_name, rule
    return None


# The rows a table may hold once only, by their natural key (the table has no id): a hire's month of
# contributions, a business's year of data. The registry forbids a second row by unique constraints
# (models/employment.py, models/businesses.py); a case and a batch file refuse it the same way
# (``repeated_key``), instead of summing the contributions or letting the last year win.
NATURAL_KEYS: Final[dict[str, tuple[str, str]]] = {
    "contributions": ("hire_id", "month"),
    "business_years": ("business_id", "year"),
}
NATURAL_KEY_RULE: Final[dict[str, str]] = {
    "contributions": "同一招用记录每个缴费月份只能有一行",
    "business_years": "同一经营主体每个年度只能有一行",
}


def repeated_key(table: str, cols: Mapping[str, Col]) -> tuple[int, int] | None:
    """The first row of ``table`` (in row order) whose natural key (:data:`NATURAL_KEYS`) an earlier
    row has, as (row, earlier row); None if none. Rows with a part of the key unknown (an unknown
    month, a reference to no row) are not compared. Vectorized: the two parts as one int64 key (a
    row number times the span of the second part), checked strictly increasing in one pass (the
    usual order: a hire's months in turn), else sorted."""
    names = NATURAL_KEYS.get(table)
    if names is None or names[0] not in cols or names[1] not in cols:
        return None
    first, second = cols[names[0]], cols[names[1]]
    known = first.known & second.known
    rows = None if known.all() else np.flatnonzero(known)
    a = np.asarray(first.values, dtype=np.int64)
    b = np.asarray(second.values, dtype=np.int64)
    if rows is not None:
        a, b = a[rows], b[rows]
    if a.size < 2:
        return None
    low = int(b.min())
    key = a * (int(b.max()) - low + 1) + (b - low)  # (row numbers × a span of months or years: no overflow)
    if bool(np.all(key[1:] > key[:-1])):
        return None
    order = np.argsort(key, kind="stable")  # (equal keys keep their row order)
    same = np.flatnonzero(key[order[1:]] == key[order[:-1]])
    if not same.size:
        return None
    later, earlier = order[same + 1], order[same]
    k = int(np.argmin(later))
    row, before = int(later[k]), int(earlier[k])
    if rows is not None:
        row, before = int(rows[row]), int(rows[before])
    return row, before


def repeated_key_rule(
    table: str, cols: Mapping[str, Col], row: int, earlier: str, id_of: Callable[[str, int], str]
) -> str:
    """What :func:`repeated_key` found, in Chinese: 「招用记录编号 'H1'、缴费月份 2024-02 重复（第3行数据
    已有）：同一招用记录每个缴费月份只能有一行」; ``earlier`` names the earlier row, ``id_of(table,
    row)`` gives the id of a referenced row."""
    shown = []
    for name in NATURAL_KEYS[table]:
        fact, value = FACTS[table][name], int(cols[name].values[row])
        if fact.kind == "ref":
            text = repr(id_of(fact.ref or "", value))
        elif fact.kind == "month":
            text = month_label(value)
        else:
            text = str(value)
        shown.append(f"{fact.label} {text}")
    return f"{'、'.join(shown)} 重复（{earlier}已有）：{NATURAL_KEY_RULE[table]}"
