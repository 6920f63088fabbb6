"""Explanations in Chinese: one row of an outcome → the stable result document.

Result document (``xiangchuang schema result``)::

    {"on", "engine_version", "parameters_version",
     "programs": [{"program", "title", "clause", "subject", "status", "amount_fen", "amount",
                   "conditions": [{"id", "status", "clause", "message", "distance", "parameters": [...]}],
                   "missing": [...], "eligible_from", "funding": [...], "pending_parameters", ...}]}
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

import numpy as np

from xiangchuang.engine import ENGINE_VERSION
from xiangchuang.engine.dates import EPOCH, from_day, month_label
from xiangchuang.engine.evaluate import (
    DISTRICT_KNOWN,
    EXTRA_RULES,
    IN_FORCE,
    NEVER,
    Outcome,
    extra_condition,
)
from xiangchuang.engine.facts import FACTS, NO_VALUE, list_labels
from xiangchuang.engine.money import fen_to_capital, format_fen
from xiangchuang.engine.parameters import NO_VERSION, ParameterSet, Version, thaw
from xiangchuang.engine.program import (
    NO_VALUE_KEY,
    NOT_USED,
    Condition,
    Later,
    Program,
    Projection,
    district_fact,
)
from xiangchuang.engine.tri import NAMES, UNKNOWN

STATUS = {0: "ineligible", 1: "undetermined", 2: "eligible"}
STATUS_ZH = {
    "eligible": "符合",
    "ineligible": "不符合",
    "undetermined": "待定（缺少信息）",
    "soon": "即将符合",
}
COND_ZH = {"pass": "满足", "fail": "不满足", "unknown": "未知"}

_PREFIX = {
    "founder": ("persons", "创办人"),
    "person": ("persons", "该人员"),
    "borrower": ("persons", "借款人"),
    "business": ("businesses", "经营主体"),
    "carrier": ("carriers", "入驻载体"),
}
_DERIVED = {
    "startup_years_claimed": "已享受创业补助的年度（received 登记）",
    "startup_claimed_this_year": "本年度创业补助享受记录（received 登记）",
    "workshop_claimed_this_year": "本年度车间奖补享受记录（received 登记）",
    "workshop_build_received": "车间建设补助享受记录（received 登记中所属期间为 build 的记录）",
    "online_sales_received": "线上销售补助享受记录（received 登记）",
    "free_workstation_received": "免费创业工位享受记录（received 登记）",
    "person__training_syb_received_fen": "该学员已享受的SYB培训补贴金额（received 登记的 amount_fen）",
    "job_subsidy_received": "岗位补贴享受记录（received 登记）",
    "si_months_received": "已享受社保补贴月数（received 登记）",
    "si_received_periods": "已享受社保补贴的所属期间（received 登记的 period，须为月份区间如 2023-09/2024-02）",
    "si_employer_fen": "各月单位缴费金额（contributions 的 employer_fen）",
    "si_run_months": "社会保险缴费记录（contributions）",
    "employer_si_paid_fen": "申领年度单位缴纳社保费（business.years）",
    "online_revenue_fen": "线上年销售收入（business.years）",
    "online_orders": "线上年销售单数（business.years）",
    "courier_fees_fen": "当年快递费用（business.years）",
    "received": "已享受政策登记（received）",
    "borrower__other_loans": "借款人的其他贷款情况（person.other_loans）",
    "mentor_service_subsidy_received": "服务补助领取记录（received 登记）",
    "onjob_training_subsidy_received": "培训补贴领取记录（received 登记）",
}
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_NEVER = int(NEVER)
_EPOCH_ORDINAL = EPOCH.toordinal()

_LABELS: dict[tuple[str, str], str] = {}


def fact_label(table: str, name: str) -> str:
    key = (table, name)
    label = _LABELS.get(key)
    if label is None:
        label = _fact_label(table, name)
        if len(_LABELS) < 10_000:  # fact names come from the definitions, not from a case
            _LABELS[key] = label
    return label


def _fact_label(table: str, name: str) -> str:
    if name in _DERIVED:
        return _DERIVED[name]
    if "__" in name:
        prefix, base = name.split("__", 1)
        if prefix in _PREFIX:
            t, who = _PREFIX[prefix]
            if base.endswith("_received"):
                return f"{who}的{base}（received 登记）"
            fact = FACTS[t].get(base)
            return _joined(who, fact.label) if fact else f"{who}{base}"
    fact = FACTS.get(table, {}).get(name)
    return fact.label if fact else name


def _joined(who: str, label: str) -> str:
    """Whose fact and its label, the words they share said once: 经营主体 + 主体类型 → 经营主体类型,
    入驻载体 + 载体类型 → 入驻载体类型, 该人员 + 人员类别 → 该人员类别. Only an overlap of two
    characters or more: 借款人 + 人员类别 stays 借款人人员类别 (not 借款人员类别)."""
    for k in range(len(who), 1, -1):
        if label.startswith(who[-k:]):
            return who + label[k:]
    return who + label


def format_param(value: Any, unit: str, name: str) -> str:
    """A parameter's value as shown (``name``, the parameter's: a ``list`` value shows the labels of
    what it lists, ``facts.list_labels``)."""
    if value is None:
        return NO_VALUE
    if unit == "yuan":
        return format_fen(int(value))
    if unit == "ratio":
        pct = Decimal(value.numerator) / Decimal(value.denominator) * 100
        return f"{pct.normalize():f}%"
    if unit == "list":
        return "、".join(list_labels(name, value))
    if unit == "table":
        return str(thaw(value))
    suffix = {"days": "天", "months": "个月", "years": "年", "bp": "个基点", "count": ""}.get(unit, "")
    return f"{value}{suffix}"


def _day_text(n: int) -> str:
    """``from_day(n).isoformat()`` without building a timedelta."""
    try:
        return dt.date.fromordinal(_EPOCH_ORDINAL + n).isoformat()
    except (ValueError, OverflowError):
        return from_day(n).isoformat()  # out of range: fails as from_day does


_DATE, _FEN, _MONTH, _PERMYRIAD, _PLAIN = range(1, 6)
_VAR_KINDS: dict[str, int] = {}


def _var_kind(key: str) -> int:
    """How an integer value is shown, by the suffix of its name (a name from the definitions)."""
    kind = _VAR_KINDS.get(key)
    if kind is None:
        kind = _PLAIN
        for suffix, k in (("_date", _DATE), ("_fen", _FEN), ("_month", _MONTH), ("_permyriad", _PERMYRIAD)):
            if key.endswith(suffix):
                kind = k
                break
        if len(_VAR_KINDS) < 10_000:
            _VAR_KINDS[key] = kind
    return kind


def _format_int(key: str, v: int) -> str:
    kind = _VAR_KINDS.get(key) or _var_kind(key)
    if kind == _PLAIN:
        return str(v)
    if kind == _FEN:
        return format_fen(v)
    if kind == _DATE:
        return "—" if v >= _NEVER else _day_text(v)
    if kind == _MONTH:
        return month_label(v)
    text = f"{Decimal(v) / 100:f}"  # _PERMYRIAD
    if "." in text:  # only fraction digits are trimmed: 10000 → 100%, 1550 → 15.5%, 0 → 0%
        text = text.rstrip("0").rstrip(".")
    return text + "%"


def _format_var(key: str, value: Any) -> str:
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return _format_int(key, int(value))
    return str(value)


def _quote(key: str, value: Any, i: int) -> str:
    """Row ``i`` of a value a message quotes (a column, a one-row column or a scalar), formatted."""
    if isinstance(value, Later):
        value = value.make()
    if type(value) is np.ndarray and value.ndim == 1:
        j = i if value.shape[0] > i else 0
        x = value.item(j)
        if type(x) is int:  # an integer column (or a Python int in an object column)
            return _format_int(key, x)
        return _format_var(key, value[j])
    a = np.asarray(value)
    return _format_var(key, a[i] if a.ndim and a.size > i else (a.item() if a.ndim == 0 else a[0]))


_TEMPLATES: dict[str, tuple[str, ...]] = {}


def _compiled(template: str) -> tuple[str, ...]:
    """A message template split once into literal text and placeholder names, alternating:
    ``(text, name, text, …, text)``; a template without placeholders is ``(template,)``."""
    parts = _TEMPLATES.get(template)
    if parts is None:
        parts = tuple(_PLACEHOLDER.split(template))
        if len(_TEMPLATES) < 10_000:  # templates come from the program definitions, not from a case
            _TEMPLATES[template] = parts
    return parts


def _resolve(value: Any) -> Any:
    return value.make() if isinstance(value, Later) else value


# A parameter's document, how a message quotes it and its name if pending, per parameter set
# (its digest), name and version index: built once; documents are handed out as copies (a result
# document is its caller's to change).
_Cited = tuple[dict[str, Any], str, str | None]
_ByName = dict[str, dict[int, _Cited]]
_DOC_CACHE: dict[str, _ByName] = {}


def _param_docs(params: ParameterSet) -> _ByName:
    docs = _DOC_CACHE.get(params.digest)
    if docs is None:
        docs = {}
        if len(_DOC_CACHE) < 64:
            _DOC_CACHE[params.digest] = docs
    return docs


def _cited(params: ParameterSet, docs: _ByName, name: str, version: int) -> _Cited:
    versions = docs.get(name)
    if versions is None:
        versions = docs[name] = {}
    got = versions.get(version)
    if got is None:
        p = params[name]
        doc = _param_doc_uncached(params, name, version)
        quoted = format_param(p.versions[version].value if version >= 0 else None, p.unit, name)
        got = (doc, quoted, doc["name"] if doc.get("pending") else None)
        versions[version] = got
    return got


def _param_doc_uncached(params: ParameterSet, name: str, version: int) -> dict[str, Any]:
    p = params[name]
    if version < 0:
        return {
            "name": name,
            "label": p.label,
            "value": None,
            "unit": p.unit,
            "since": None,
            "reference": None,
            "status": None,
            # 「参数待核实」 is about a value's status (secondary, assumed): a parameter with no value in
            # force has none to check (the rule parameters_in_force says so), whatever its status.
            "pending": False,
            "display": "该日期无有效参数",
        }
    v: Version = p.versions[version]
    doc = v.as_dict(p.unit)
    doc["label"] = p.label
    doc["display"] = format_param(v.value, p.unit, name)
    return doc


class _RowParams(dict[str, _Cited]):
    """The parameters one row used, by name: their (shared) documents and quoted values. Filled
    with every parameter used when made; one used later (by a message's ``Later`` value) is looked
    up on first use. Parameters read for every row but not used by this one (``NOT_USED``) are in
    ``skipped``: never cited."""

    __slots__ = ("_docs", "_i", "_params", "_used", "skipped")

    def __init__(self, params: ParameterSet, docs: _ByName, outcome: Outcome, i: int) -> None:
        self._params = params
        self._docs = docs
        self._used = used = outcome.ctx.used
        self._i = i
        self.skipped: frozenset[str] | set[str] = frozenset()
        for name, ver in used.items():
            version = ver.item(i) if not i or ver.shape[0] > i else ver.item(0)
            if version == NOT_USED:
                self.skipped = {*self.skipped, name}
                continue
            versions = docs.get(name)
            got = versions.get(version) if versions is not None else None
            self[name] = got if got is not None else _cited(params, docs, name, version)

    def __missing__(self, name: str) -> _Cited:
        ver = self._used[name]
        i = self._i
        got = _cited(self._params, self._docs, name, int(ver[i]) if len(ver) > i else int(ver[0]))
        self[name] = got
        return got


def _render(
    parts: tuple[str, ...],
    outcome: Outcome,
    i: int,
    info: Mapping[str, Any],
    missing: str | None,
    row: _RowParams,
) -> str:
    """A compiled message with its placeholders filled, each value formatted only when asked for:
    for a condition the missing facts (``missing``), then the condition's own values (``info``),
    then the evaluation date and the parameters used; an unknown placeholder stays as written."""
    out = list(parts)
    for k in range(1, len(out), 2):
        key = out[k]
        if key == "missing" and missing is not None:
            out[k] = missing
        elif key in info:
            value = info[key]
            if type(value) is np.ndarray and value.ndim == 1:  # the usual: an integer column
                x = value.item(i if value.shape[0] > i else 0)
                if type(x) is int:
                    kind = _VAR_KINDS.get(key) or _var_kind(key)
                    out[k] = (
                        str(x) if kind == _PLAIN else format_fen(x) if kind == _FEN else _format_int(key, x)
                    )
                    continue
            out[k] = _quote(key, value, i)
        elif key == "on":
            out[k] = _day_text(outcome.ctx.on)
        elif key in outcome.ctx.used and key not in row.skipped:
            out[k] = row[key][1]
        else:
            out[k] = "{" + key + "}"
    return "".join(out)


# Per program (kept by identity): its amount message and, per condition, the group, the
# beginning of its document and its compiled message by state (fail, unknown, pass), and its
# compiled distance message.
_CondSpec = tuple[
    Condition, str | None, tuple[dict[str, Any], ...], tuple[tuple[str, ...], ...], tuple[str, ...] | None
]
_ProgSpec = tuple[Program, tuple[str, ...], tuple[_CondSpec, ...]]
_SPECS: dict[int, _ProgSpec] = {}


def _cond_spec(c: Condition, group: str | None) -> _CondSpec:
    return (
        c,
        group,
        tuple({"id": c.id, "status": NAMES[state], "clause": c.clause} for state in (0, 1, 2)),
        (_compiled(c.fail_msg), _compiled(c.unknown_msg), _compiled(c.pass_msg)),
        _compiled(c.gap_msg) if c.gap_msg else None,
    )


def _spec(prog: Program) -> _ProgSpec:
    got = _SPECS.get(id(prog))
    if got is None or got[0] is not prog:
        conds = tuple(_cond_spec(c, None) for c in prog.conditions)
        conds += tuple(_cond_spec(c, "any_of") for c in prog.any_of)
        got = (prog, _compiled(prog.amount_msg), conds)
        if len(_SPECS) < 10_000:  # programs are definitions (the cache keeps them alive: ids stay unique)
            _SPECS[id(prog)] = got
    return got


# A condition citing a parameter without a value in force on the row (evaluate._without_value,
# README choice 25): no figure, group list or date from another date's value.
NO_VALUE_MSG: Final = "该日期尚无有效的政策参数（{}），本条件不能满足"

_NO_DETAILS = (
    "该结果来自登记库批量运行（details=False），未保留各条件的结论与取值；"
    "请对该主体重新评估（details=True）后再生成解释"
)


class Explainer:
    """Builds result documents for single rows (the single-case path)."""

    def __init__(self, params: ParameterSet) -> None:
        self.params = params
        self._docs = _param_docs(params)

    def condition(self, outcome: Outcome, c: Condition, i: int, group: str | None) -> dict[str, Any]:
        """One condition's document, with its ``missing`` facts (``program`` gathers those)."""
        if not outcome.conds:
            raise ValueError(_NO_DETAILS)
        spec = _cond_spec(c, group)
        row = _RowParams(self.params, self._docs, outcome, i)
        docs: list[dict[str, Any]] = []
        self._conditions(outcome, (spec,), i, row, docs, {}, [], with_missing=True)
        return docs[0]

    def _conditions(
        self,
        outcome: Outcome,
        specs: tuple[_CondSpec, ...],
        i: int,
        row: _RowParams,
        docs: list[dict[str, Any]],
        missing_facts: dict[str, None],
        satisfied_by: list[str],
        *,
        with_missing: bool = False,
    ) -> None:
        """The documents of conditions (appended to ``docs``); their missing facts are gathered in
        ``missing_facts`` (in order, once each) and the grounds (``any_of``) that pass in
        ``satisfied_by``."""
        conds = outcome.conds
        ctx = outcome.ctx
        used = ctx.used
        for c, group, heads, messages, gap in specs:
            co = conds[c.id]
            state = co.state.item(i)
            missing: list[str] | tuple[()]
            if state == 1:  # UNKNOWN
                t = ctx.t
                missing = [n for n in c.facts if not t[n].known[i]]
                table = outcome.program.subject
                missing_text = "、".join([fact_label(table, n) for n in missing]) or "所需信息"
                for n in missing:
                    missing_facts[n] = None
            else:
                missing = ()
                missing_text = "所需信息"
            doc = heads[state].copy()  # id, status, clause
            no_value = co.info.get(NO_VALUE_KEY)
            lacks = "" if no_value is None else _resolve(no_value)[i]
            if lacks:
                doc["message"] = NO_VALUE_MSG.format(lacks)
            else:
                parts = messages[state]
                doc["message"] = (
                    parts[0] if len(parts) == 1 else _render(parts, outcome, i, co.info, missing_text, row)
                )
            cites = c.params
            if not cites:
                doc["parameters"] = []
            elif len(cites) == 1:
                cite = cites[0]
                doc["parameters"] = [row[cite][0].copy()] if cite in used and cite not in row.skipped else []
            else:
                doc["parameters"] = [row[n][0].copy() for n in cites if n in used and n not in row.skipped]
            if with_missing:
                doc["missing"] = list(missing)
            if group:
                doc["group"] = group
                if state == 2:
                    satisfied_by.append(c.id)
            if state == 0 and gap is not None and not lacks:  # (none from a value not in force)
                doc["distance"] = (
                    gap[0] if len(gap) == 1 else _render(gap, outcome, i, co.info, missing_text, row)
                )
            if state == 0 and co.passes_on is not None and not lacks:  # (nor from an unknown fact)
                p = co.passes_on
                passes_on = p.day(i) if isinstance(p, Projection) else int(p[i])
                if passes_on < _NEVER:
                    doc["passes_on"] = _day_text(passes_on)
            docs.append(doc)

    def program(self, outcome: Outcome, i: int) -> dict[str, Any]:
        prog, amount_msg, specs = _spec(outcome.program)
        if specs and not outcome.conds:
            raise ValueError(_NO_DETAILS)
        if len(outcome.conds) > len(specs):  # a program-wide rule decided something (evaluate.py)
            specs = specs + tuple(
                _cond_spec(extra_condition(prog, cid), None)
                for cid in EXTRA_RULES
                if cid in outcome.conds and outcome.conds[cid].state.item(i) != 2  # (where it decides)
            )
        ctx = outcome.ctx
        status = STATUS[outcome.status.item(i)]
        row = _RowParams(self.params, self._docs, outcome, i)
        conditions: list[dict[str, Any]] = []
        missing_facts: dict[str, None] = {}
        satisfied_by: list[str] = []
        self._conditions(outcome, specs, i, row, conditions, missing_facts, satisfied_by)
        subject = prog.subject
        missing = (
            [{"fact": n, "label": fact_label(subject, n)} for n in missing_facts] if missing_facts else []
        )
        amount = outcome.amount.item(i) if status == "eligible" else (0 if status == "ineligible" else None)
        params_docs: list[dict[str, Any]] = []
        pending: list[str] = []
        moot = _moot_grounds(prog, specs, satisfied_by)
        for name in sorted(ctx.used):
            if name in row.skipped:
                continue
            cited, _, pending_name = row[name]
            params_docs.append(cited.copy())
            if pending_name is not None and pending_name not in moot:
                pending.append(pending_name)
        info = outcome.amount_out.info
        in_force = outcome.conds.get(IN_FORCE)
        lacking = (
            _resolve(in_force.info["lacking"])[i]
            if in_force is not None and in_force.state.item(i) == 0
            else ""
        )
        unknown = (
            _unknown_rule_facts(outcome, i, missing_facts)
            if len(amount_msg) > 1 and status != "eligible" and not outcome.soon.item(i) and not lacking
            else ()
        )
        if lacking:
            # No figure of the rule from another date's value (README choice 25): the parameters
            # without a value in force on the row are named instead.
            amount_rule = AMOUNT_NO_VALUE.format(lacking)
        elif unknown:
            # The rule's figures would quote an unknown fact's placeholder (0, or another kind's
            # value) as if it were known (PROVISIONS §0: unknown is not zero): name them instead.
            amount_rule = AMOUNT_PENDING.format(missing="、".join(fact_label(subject, n) for n in unknown))
        else:
            parts = _pending_parts(outcome, i) if prog.pending_parts else None
            amount_rule = (
                amount_msg[0]
                if len(amount_msg) == 1
                else _render(amount_msg, outcome, i, {**info, **parts} if parts else info, None, row)
            )
        t = ctx.t
        doc: dict[str, Any] = {
            "program": prog.id,
            "title": prog.title,
            "clause": prog.clause,
            "subject": {"table": subject, "id": str(t["id"].values[i]) if "id" in t else str(i)},
            "status": status,
            "status_label": STATUS_ZH[status],
            "amount_fen": amount,
            "amount": format_fen(amount) if amount is not None else None,
            "amount_capital": fen_to_capital(amount) if amount else None,
            "benefit": prog.benefit,
            "paid_to": prog.paid_to,
            "amount_rule": amount_rule,
            "conditions": conditions,
            "missing": missing,
            "parameters": params_docs,
            "pending_parameters": pending,
        }
        if status == "eligible" and info:
            # The amount's own figures (e.g. claim_months of the social-insurance subsidy): what the
            # grant register records beside the amount when the application is approved.
            figures: dict[str, int] = {}
            for k, v in info.items():
                a = np.asarray(_resolve(v))
                if a.dtype.kind in "iu" and a.size:
                    if a.ndim == 1:
                        figures[k] = a.item(i if a.shape[0] > i else 0)
                    else:
                        figures[k] = int(a[i] if a.ndim and a.size > i else a.reshape(-1)[0])
            doc["amount_info"] = figures
        if prog.any_of:
            doc["any_of"] = {"label": prog.any_of_label, "satisfied_by": satisfied_by}
        if outcome.soon.item(i):
            doc["soon"] = True
            doc["eligible_from"] = _day_text(int(outcome.eligible_from[i]))
            doc["status_label"] = STATUS_ZH["soon"] + f"（{doc['eligible_from']}起）"
            doc["projected_amount_fen"] = int(outcome.amount_out.amount[i])
            if prog.funded:  # (who will pay the projected amount: as for an eligible row)
                doc["funding"] = self._funding(outcome, i, doc["projected_amount_fen"])
        if status == "eligible" and amount is not None and prog.funded:
            doc["funding"] = self._funding(outcome, i, amount)
        if prog.id == "online_sales_subsidy":
            # Each route's amount; none where it is unknown whether the route qualifies.
            # Each route's amount; none where it is unknown whether the route qualifies, nor where
            # a parameter of its amount has no value in force on the row (README choice 25).
            conds = outcome.conds
            doc["alternatives"] = {
                route: None
                if conds[cond].state.item(i) == 1 or _without_value(outcome, i, params)
                else int(_resolve(info[key])[i])
                for route, cond, key, params in _ROUTE_AMOUNTS
            }
        return doc

    def _funding(self, outcome: Outcome, i: int, amount: int) -> list[dict[str, Any]]:
        extra = outcome.district_part.item(i) if outcome.district_part is not None else 0
        parts = [{"source": "市级及以上资金", "amount_fen": amount - extra}]
        if extra:
            payer = "区县财政"
            for name, ver in outcome.ctx.used.items():
                v = int(ver[i]) if len(ver) > i else int(ver[0])
                if v >= 0 and self.params[name].versions[v].paid_by:
                    payer = self.params[name].versions[v].paid_by or payer
            parts.append(
                {"source": payer, "amount_fen": extra, "reason": "区县提高标准的部分由区县财政承担（1.2）"}
            )
        return parts


# The online-sales routes shown side by side: (route, its condition, its amount's key in the amount
# info, the parameters whether it qualifies and its amount read).
_ROUTE_AMOUNTS: Final = (
    (
        "revenue",
        "revenue_route",
        "route_revenue_fen",
        (
            "online_sales_subsidy.revenue_threshold",
            "online_sales_subsidy.revenue_rate",
            "online_sales_subsidy.cap",
        ),
    ),
    (
        "orders",
        "orders_route",
        "route_orders_fen",
        (
            "online_sales_subsidy.orders_threshold",
            "online_sales_subsidy.courier_rate",
            "online_sales_subsidy.cap",
        ),
    ),
)


def _without_value(outcome: Outcome, i: int, names: tuple[str, ...]) -> bool:
    """Whether row ``i`` read one of the parameters ``names`` at a date without a value in force."""
    used = outcome.ctx.used
    for name in names:
        ver = used.get(name)
        if ver is not None and ver.item(i if ver.shape[0] > i else 0) == NO_VERSION:
            return True
    return False


# The amount rule of a row that read a parameter without a value in force (README choice 25).
AMOUNT_NO_VALUE: Final = "该日期尚无有效的政策参数（{}），不计算金额"

# The amount rule of a row (not eligible) where a fact the rule's figures rest on is unknown.
AMOUNT_PENDING: Final = "尚缺{missing}，暂不计算金额（补齐后按本项目的计算规则核定）"


def _moot_grounds(prog: Program, specs: tuple[_CondSpec, ...], satisfied_by: list[str]) -> frozenset[str]:
    """The parameters only grounds that did not hold cite, where another ground holds (``any_of``):
    they did not decide the row, so an unverified value among them does not make its result
    「参数待核实」 (README choice 42). Each is still cited by its own ground's condition."""
    if not satisfied_by:
        return frozenset()
    other: set[str] = set(prog.amount_params)
    idle: set[str] = set()
    for c, group, *_ in specs:
        (idle if group and c.id not in satisfied_by else other).update(c.params)
    return frozenset(idle - other)


# A part of an amount (``Program.pending_parts``) whose own condition is unknown on the row.
PART_PENDING: Final = "待定（缺{missing}）"


def _pending_parts(outcome: Outcome, i: int) -> dict[str, Any]:
    """The amount message's values of the parts whose condition is unknown on row ``i``: 「待定（缺
    …）」 naming the condition's missing facts instead of the part's placeholder figure."""
    prog, t = outcome.program, outcome.ctx.t
    by_id = {c.id: c for c in (*prog.conditions, *prog.any_of)}
    out: dict[str, Any] = {}
    for key, cid in prog.pending_parts:
        co = outcome.conds.get(cid)
        if co is None or co.state.item(i) != UNKNOWN:
            continue
        missing = [fact_label(prog.subject, n) for n in by_id[cid].facts if not t[n].known[i]]
        text = PART_PENDING.format(missing="、".join(missing)) if missing else "待定"
        out[key] = np.asarray([text], dtype=object)
    return out


def _unknown_rule_facts(outcome: Outcome, i: int, missing: Mapping[str, None]) -> list[str]:
    """The facts of ``rule_facts`` (default: the amount facts) unknown on row ``i`` where they
    matter: a condition of the row is unknown for want of them (``missing``), or the amount reads
    them (``amount_facts``). (A partnership's partner count does not matter to an individual's
    loan.) And the row's district where a district's own values may apply (``district_known``):
    the figures are the city's."""
    prog, t = outcome.program, outcome.ctx.t
    names = prog.amount_facts if prog.rule_facts is None else prog.rule_facts
    out = [n for n in names if (n in missing or n in prog.amount_facts) and not t[n].known[i]]
    district = outcome.conds.get(DISTRICT_KNOWN)
    if district is not None and district.state.item(i) == UNKNOWN:
        out.append(district_fact(prog.subject))
    return out


def result_document(outcomes: list[Outcome], params: ParameterSet, on: dt.date) -> dict[str, Any]:
    """The stable JSON document for a single case: every applicable row of every program."""
    ex = Explainer(params)
    programs = []
    for o in outcomes:
        applies = o.applies
        if type(applies) is np.ndarray and applies.shape == (1,):  # one row: no index array needed
            if applies[0]:
                programs.append(ex.program(o, 0))
            continue
        rows = (
            [k for k, x in enumerate(applies.tolist()) if x]
            if type(applies) is np.ndarray and applies.ndim == 1 and applies.shape[0] <= 64
            else o.rows
        )
        for i in rows:
            programs.append(ex.program(o, int(i)))
    return {
        "on": on.isoformat(),
        "engine_version": ENGINE_VERSION,
        "parameters_version": params.version,
        "programs": programs,
    }


_ = (Fraction, UNKNOWN)
