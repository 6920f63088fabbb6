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
from typing import Any

import numpy as np

from xiangchuang.engine import ENGINE_VERSION
from xiangchuang.engine.dates import from_day, month_label
from xiangchuang.engine.evaluate import NEVER, Outcome
from xiangchuang.engine.facts import FACTS, GROUPS
from xiangchuang.engine.money import fen_to_capital, format_fen
from xiangchuang.engine.parameters import ParameterSet, Version, thaw
from xiangchuang.engine.program import Condition, Later
from xiangchuang.engine.tri import NAMES, PASS, UNKNOWN

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
    "online_sales_received": "线上销售补助享受记录（received 登记）",
    "job_subsidy_received": "岗位补贴享受记录（received 登记）",
    "si_months_received": "已享受社保补贴月数（received 登记）",
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


def fact_label(table: str, name: str) -> str:
    if name in _DERIVED:
        return _DERIVED[name]
    if "__" in name:
        prefix, base = name.split("__", 1)
        if prefix in _PREFIX:
            t, who = _PREFIX[prefix]
            if base.endswith("_received"):
                return f"{who}的{base}（received 登记）"
            fact = FACTS[t].get(base)
            return f"{who}{fact.label if fact else base}"
    fact = FACTS.get(table, {}).get(name)
    return fact.label if fact else name


def format_param(value: Any, unit: str) -> str:
    if value is None:
        return "（无有效值）"
    if unit == "yuan":
        return format_fen(int(value))
    if unit == "ratio":
        pct = Decimal(value.numerator) / Decimal(value.denominator) * 100
        return f"{pct.normalize():f}%"
    if unit == "list":
        labels = [GROUPS[v][1] if v in GROUPS else str(v) for v in value]
        return "、".join(labels)
    if unit == "table":
        return str(thaw(value))
    suffix = {"days": "天", "months": "个月", "years": "年", "bp": "个基点", "count": ""}.get(unit, "")
    return f"{value}{suffix}"


def _format_var(key: str, value: Any) -> str:
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        v = int(value)
        if key.endswith("_date"):
            return "—" if v >= int(NEVER) else from_day(v).isoformat()
        if key.endswith("_fen"):
            return format_fen(v)
        if key.endswith("_month"):
            return month_label(v)
        if key.endswith("_permyriad"):
            text = f"{Decimal(v) / 100:f}"
            if "." in text:  # only fraction digits are trimmed: 10000 → 100%, 1550 → 15.5%, 0 → 0%
                text = text.rstrip("0").rstrip(".")
            return text + "%"
        return str(v)
    return str(value)


def _fill(template: str, values: Mapping[str, str] | _Vars) -> str:
    if "{" not in template:
        return template
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _resolve(value: Any) -> Any:
    return value.make() if isinstance(value, Later) else value


class _Vars:
    """The values a message may quote, formatted only when a placeholder asks for one: the
    condition's own values (``info``), then the evaluation date and the parameters used."""

    def __init__(self, explainer: Explainer, outcome: Outcome, i: int, info: Mapping[str, Any]) -> None:
        self._ex = explainer
        self._outcome = outcome
        self._i = i
        self._info = info
        self.extra: dict[str, str] = {}

    def get(self, key: str, default: str) -> str:
        if key in self.extra:
            return self.extra[key]
        i = self._i
        if key in self._info:
            a = np.asarray(_resolve(self._info[key]))
            return _format_var(key, a[i] if a.ndim and a.size > i else (a.item() if a.ndim == 0 else a[0]))
        if key == "on":
            return from_day(self._outcome.ctx.on).isoformat()
        ver = self._outcome.ctx.used.get(key)
        if ver is not None:
            v = int(ver[i]) if len(ver) > i else int(ver[0])
            p = self._ex.params[key]
            return format_param(p.versions[v].value if v >= 0 else None, p.unit)
        return default


_DOC_CACHE: dict[tuple[str, str, int], dict[str, Any]] = {}


def _param_doc(params: ParameterSet, name: str, version: int) -> dict[str, Any]:
    key = (params.digest, name, version)
    doc = _DOC_CACHE.get(key)
    if doc is None:
        doc = _param_doc_uncached(params, name, version)
        if len(_DOC_CACHE) < 100_000:
            _DOC_CACHE[key] = doc
    return dict(doc)


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
            "pending": True,
            "display": "该日期无有效参数",
        }
    v: Version = p.versions[version]
    doc = v.as_dict(p.unit)
    doc["label"] = p.label
    doc["display"] = format_param(v.value, p.unit)
    return doc


class Explainer:
    """Builds result documents for single rows (the single-case path)."""

    def __init__(self, params: ParameterSet) -> None:
        self.params = params

    def condition(self, outcome: Outcome, c: Condition, i: int, group: str | None) -> dict[str, Any]:
        co = outcome.conds[c.id]
        state = int(co.state[i])
        variables = _Vars(self, outcome, i, co.info)
        table = outcome.program.subject
        missing = [n for n in c.facts if not outcome.ctx.t[n].known[i]] if state == UNKNOWN else []
        variables.extra["missing"] = "、".join(fact_label(table, n) for n in missing) or "所需信息"
        template = c.pass_msg if state == PASS else (c.unknown_msg if state == UNKNOWN else c.fail_msg)
        doc: dict[str, Any] = {
            "id": c.id,
            "status": NAMES[state],
            "clause": c.clause,
            "message": _fill(template, variables),
            "parameters": [self._used_param(outcome, n, i) for n in c.params if n in outcome.ctx.used],
            "missing": missing,
        }
        if group:
            doc["group"] = group
        if state == 0 and c.gap_msg:
            doc["distance"] = _fill(c.gap_msg, variables)
        if co.passes_on is not None and state != PASS and int(co.passes_on[i]) < int(NEVER):
            doc["passes_on"] = from_day(int(co.passes_on[i])).isoformat()
        return doc

    def _used_param(self, outcome: Outcome, name: str, i: int) -> dict[str, Any]:
        ver = outcome.ctx.used[name]
        return _param_doc(self.params, name, int(ver[i]) if len(ver) > i else int(ver[0]))

    def program(self, outcome: Outcome, i: int) -> dict[str, Any]:
        prog = outcome.program
        t = outcome.ctx.t
        status = STATUS[int(outcome.status[i])]
        conditions = [self.condition(outcome, c, i, None) for c in prog.conditions]
        conditions += [self.condition(outcome, c, i, "any_of") for c in prog.any_of]
        missing: list[dict[str, str]] = []
        seen = set()
        for c in conditions:
            for n in c.pop("missing"):
                if n not in seen:
                    seen.add(n)
                    missing.append({"fact": n, "label": fact_label(prog.subject, n)})
        amount = int(outcome.amount[i]) if status == "eligible" else (0 if status == "ineligible" else None)
        amount_vars = _Vars(self, outcome, i, outcome.amount_out.info)
        used_names = sorted(set(outcome.ctx.used))
        params_docs = [self._used_param(outcome, n, i) for n in used_names]
        doc: dict[str, Any] = {
            "program": prog.id,
            "title": prog.title,
            "clause": prog.clause,
            "subject": {"table": prog.subject, "id": str(t["id"].values[i]) if "id" in t else str(i)},
            "status": status,
            "status_label": STATUS_ZH[status],
            "amount_fen": amount,
            "amount": format_fen(amount) if amount is not None else None,
            "amount_capital": fen_to_capital(amount) if amount else None,
            "benefit": prog.benefit,
            "paid_to": prog.paid_to,
            "amount_rule": _fill(prog.amount_msg, amount_vars),
            "conditions": conditions,
            "missing": missing,
            "parameters": params_docs,
            "pending_parameters": [d["name"] for d in params_docs if d.get("pending")],
        }
        if status == "eligible" and outcome.amount_out.info:
            # The amount's own figures (e.g. claim_months of the social-insurance subsidy): what the
            # grant register records beside the amount when the application is approved.
            info = {k: np.asarray(_resolve(v)) for k, v in outcome.amount_out.info.items()}
            doc["amount_info"] = {
                k: int(a[i] if a.ndim and a.size > i else a.reshape(-1)[0])
                for k, a in info.items()
                if a.dtype.kind in "iu" and a.size
            }
        if prog.any_of:
            doc["any_of"] = {
                "label": prog.any_of_label,
                "satisfied_by": [c.id for c in prog.any_of if int(outcome.conds[c.id].state[i]) == PASS],
            }
        if outcome.soon[i]:
            doc["soon"] = True
            doc["eligible_from"] = from_day(int(outcome.eligible_from[i])).isoformat()
            doc["status_label"] = STATUS_ZH["soon"] + f"（{doc['eligible_from']}起）"
            doc["projected_amount_fen"] = int(outcome.amount_out.amount[i])
        if status == "eligible" and amount is not None:
            doc["funding"] = self._funding(outcome, i, amount)
        if prog.id == "online_sales_subsidy":
            doc["alternatives"] = {
                "revenue": int(_resolve(outcome.amount_out.info["route_revenue_fen"])[i]),
                "orders": int(_resolve(outcome.amount_out.info["route_orders_fen"])[i]),
            }
        return doc

    def _funding(self, outcome: Outcome, i: int, amount: int) -> list[dict[str, Any]]:
        extra = int(outcome.district_part[i]) if outcome.district_part is not None else 0
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


def result_document(outcomes: list[Outcome], params: ParameterSet, on: dt.date) -> dict[str, Any]:
    """The stable JSON document for a single case: every applicable row of every program."""
    ex = Explainer(params)
    programs = []
    for o in outcomes:
        for i in o.rows:
            programs.append(ex.program(o, int(i)))
    return {
        "on": on.isoformat(),
        "engine_version": ENGINE_VERSION,
        "parameters_version": params.version,
        "programs": programs,
    }


_ = (Fraction, UNKNOWN)
