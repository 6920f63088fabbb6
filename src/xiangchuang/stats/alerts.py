"""Dynamic monitoring (clause 5.13 动态监测): alert rules, their evaluation, and the alerts' life cycle.

A rule is an id, a Chinese label and a set-based query returning *findings* (a key, the district, the
responsible role, a subject ``table:key`` and a Chinese message). Its thresholds are dated parameters
(``monitoring.*`` in ``policy/parameters/60_monitoring.yaml``, overridable per district).

:func:`run_alerts` evaluates the rules: a new finding opens an alert (``stat_alerts``), notifies the
responsible role through the outbox and is audited; a finding seen again only refreshes ``last_seen_at``
(``open_key`` is unique, so no second alert opens for it — also under concurrency); an open alert whose
finding is gone is resolved by the system. A finding that staff resolved by hand is not raised again
(a new finding — e.g. the application entering the step again — is). :func:`resolve_alert` is the staff's hand resolution.
Nothing here commits; messages and audit records never carry a personal number (a shared phone or bank
account is named by the applicants' person numbers, never by the number or its blind index).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Final

from sqlalchemy import and_, case, distinct, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xiangchuang.applications.kinds import KINDS
from xiangchuang.applications.workflow import ROLE_LABELS, STATE_LABELS, table_for
from xiangchuang.audit.chain import record
from xiangchuang.chinatime import CHINA
from xiangchuang.engine.parameters import ParameterSet, load_parameters, thaw
from xiangchuang.errors import Forbidden, NotFound, ValidationFailed
from xiangchuang.ledger.service import SOURCE_LABELS
from xiangchuang.models import (
    Account,
    Application,
    ImportBatch,
    Objection,
    Person,
    StatAlert,
    TransitionLog,
)
from xiangchuang.outbox.service import enqueue
from xiangchuang.stats.service import district_codes, district_name

SYSTEM: Final = "system"


@dataclass(frozen=True)
class Finding:
    key: str
    district: int | None
    role: str
    subject: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    now: dt.datetime
    params: ParameterSet

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(CHINA).date()

    def value(self, name: str, district: int | None = None) -> Any:
        return thaw(self.params[name].value_at(self.today, district))


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    find: Callable[[Session, Context], list[Finding]]


RULES: dict[str, Rule] = {}
# Modules of other services that register rules with :func:`rule` when imported (a new one appends itself).
RULE_PROVIDERS: Final[list[str]] = ["xiangchuang.community.monitoring"]
_providers_loaded = [False]


def load_rule_providers() -> None:
    """Import every rule provider module (idempotent): those listed here and the indicator providers
    (stats/indicators.py PROVIDERS), which may register their services' rules (e.g. stats.ind_services)."""
    if _providers_loaded[0]:
        return
    from xiangchuang.stats.indicators import load

    load()
    for name in RULE_PROVIDERS:
        importlib.import_module(name)
    _providers_loaded[0] = True


def rule(rule_id: str, label: str) -> Callable[[Callable[[Session, Context], list[Finding]]], Rule]:
    def wrap(fn: Callable[[Session, Context], list[Finding]]) -> Rule:
        r = Rule(rule_id, label, fn)
        RULES[rule_id] = r
        return r

    return wrap


def _responsible(kind: str, state: str) -> str:
    roles = [r for row in table_for(kind) if row.from_state == state for r in row.roles if r != "applicant"]
    return roles[0] if roles else "district_reviewer"


def _days(delta: dt.timedelta) -> float:
    return round(delta.total_seconds() / 86400, 1)


@rule("stale_step", "申请在办理环节超时")
def _stale_step(session: Session, ctx: Context) -> list[Finding]:
    limits = {
        d: {str(k): int(v) for k, v in ctx.value("monitoring.step_time_limit_days", d).items()}
        for d in district_codes()
    }
    steps = sorted({s for lim in limits.values() for s in lim})
    shortest = {s: min(lim.get(s, 10**6) for lim in limits.values()) for s in steps}
    since = func.max(TransitionLog.at)
    loosest_cutoff = ctx.now - dt.timedelta(days=min(shortest.values()))
    rows = session.execute(
        select(
            Application.id,
            Application.application_no,
            Application.district,
            Application.state,
            Application.kind,
            since.label("since"),
        )
        .join(TransitionLog, TransitionLog.application_id == Application.id)
        .where(Application.state.in_(steps))
        .group_by(
            Application.id,
            Application.application_no,
            Application.district,
            Application.state,
            Application.kind,
        )
        .having(since < loosest_cutoff)
    ).all()
    out = []
    for app_id, no, district, state, kind, entered in rows:
        entered = entered if entered.tzinfo else entered.replace(tzinfo=dt.UTC)
        limit = limits.get(district, limits[next(iter(limits))]).get(state)
        if limit is None or ctx.now - entered <= dt.timedelta(days=limit):
            continue
        waited = _days(ctx.now - entered)
        out.append(
            Finding(
                key=f"{no}:{state}:{entered.isoformat()}",
                district=district,
                role=_responsible(kind, state),
                subject=f"applications:{no}",
                message=f"申请 {no}（{KINDS[kind].title}）在「{STATE_LABELS[state]}」已停留 {waited} 天，超过时限 {limit} 天",
                details={
                    "application_id": app_id,
                    "state": state,
                    "waited_days": waited,
                    "limit_days": limit,
                },
            )
        )
    return out


@rule("budget_used", "区县预算使用接近上限")
def _budget_used(session: Session, ctx: Context) -> list[Finding]:
    budget = func.sum(case((Account.kind == "budget", -Account.balance_fen), else_=0))
    available = func.sum(case((Account.kind == "available", Account.balance_fen), else_=0))
    rows = session.execute(
        select(Account.district, Account.funding_source, budget.label("budget"), available.label("available"))
        .where(Account.kind.in_(("budget", "available")))
        .group_by(Account.district, Account.funding_source)
    ).all()
    out = []
    for district, source, total, avail in rows:
        total, avail = int(total or 0), int(avail or 0)
        if total <= 0:
            continue
        threshold: Fraction = ctx.value("monitoring.budget_used_ratio", district)
        used = total - avail
        if used * threshold.denominator < threshold.numerator * total:
            continue
        pct = used * 100 / total
        out.append(
            Finding(
                key=f"{district}:{source}",
                district=district,
                role="district_finance",
                subject=f"ledger_accounts:{district}-{source}",
                message=(
                    f"{district_name(district)}{SOURCE_LABELS.get(source, source)}预算已使用 {pct:.1f}%"
                    f"（预警线 {float(threshold) * 100:.0f}%）"
                ),
                details={"source": source, "budget_fen": total, "used_fen": used, "used_pct": round(pct, 2)},
            )
        )
    return out


@rule("objection_open", "公示异议未处理")
def _objection_open(session: Session, ctx: Context) -> list[Finding]:
    days = min(int(ctx.value("monitoring.objection_open_days", d)) for d in district_codes())
    rows = session.execute(
        select(
            Objection.id,
            Objection.raised_at,
            Application.application_no,
            Application.district,
            Application.kind,
        )
        .join(Application, Application.id == Objection.application_id)
        .where(Objection.resolved_at.is_(None), Objection.raised_at < ctx.now - dt.timedelta(days=days))
    ).all()
    out = []
    for oid, raised, no, district, kind in rows:
        raised = raised if raised.tzinfo else raised.replace(tzinfo=dt.UTC)
        limit = int(ctx.value("monitoring.objection_open_days", district))
        if ctx.now - raised <= dt.timedelta(days=limit):
            continue
        out.append(
            Finding(
                key=str(oid),
                district=district,
                role="district_reviewer",
                subject=f"applications:{no}",
                message=f"申请 {no}（{KINDS[kind].title}）的公示异议已 {_days(ctx.now - raised)} 天未处理（时限 {limit} 天）",
                details={"objection_id": oid},
            )
        )
    return out


@rule("shared_contact", "同一银行账户或手机号被多名申请人使用")
def _shared_contact(session: Session, ctx: Context) -> list[Finding]:
    minimum = int(ctx.value("monitoring.shared_contact_min_applicants"))
    applicants = (
        select(
            Application.applicant_person_no.label("person_no"),
            func.min(Application.district).label("district"),
        )
        .where(Application.applicant_person_no.is_not(None))
        .group_by(Application.applicant_person_no)
        .subquery("applicants")
    )
    out = []
    for what, column in (("phone", Person.phone_bidx), ("bank_account", Person.bank_account_bidx)):
        shared = (
            select(column.label("bidx"))
            .join(applicants, applicants.c.person_no == Person.person_no)
            .where(column.is_not(None))
            .group_by(column)
            .having(func.count(distinct(Person.id)) >= minimum)
            .subquery("shared")
        )
        rows = session.execute(
            select(shared.c.bidx, Person.person_no, applicants.c.district)
            .join(Person, column == shared.c.bidx)
            .join(applicants, applicants.c.person_no == Person.person_no)
            .order_by(shared.c.bidx, Person.person_no)
        ).all()
        groups: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for bidx, person_no, district in rows:
            groups[bidx].append((person_no, district))
        label = "手机号" if what == "phone" else "银行账户"
        for members in groups.values():
            people = [p for p, _ in members]
            districts = sorted({d for _, d in members})
            one = districts[0] if len(districts) == 1 else None
            shown = "、".join(people[:10]) + ("等" if len(people) > 10 else "")
            out.append(
                Finding(
                    key=f"{what}:{people[0]}",
                    district=one,
                    role="district_reviewer" if one is not None else "city_admin",
                    subject=f"persons:{people[0]}",
                    message=f"同一{label}被 {len(people)} 名申请人使用（人员编号 {shown}），请核查是否冒领",
                    details={
                        "what": what,
                        "person_nos": people[:50],
                        "count": len(people),
                        "districts": districts,
                    },
                )
            )
    return out


@rule("district_spike", "区县申请量突增")
def _district_spike(session: Session, ctx: Context) -> list[Finding]:
    window = int(ctx.value("monitoring.spike_window_days"))
    k = int(ctx.value("monitoring.spike_baseline_windows"))
    factor: Fraction = ctx.value("monitoring.spike_factor")
    minimum = int(ctx.value("monitoring.spike_min_count"))
    start = ctx.now - dt.timedelta(days=window)
    base_start = start - dt.timedelta(days=window * k)
    first = (
        select(TransitionLog.application_id, func.min(TransitionLog.at).label("at"))
        .where(TransitionLog.action == "submit")
        .group_by(TransitionLog.application_id)
        .subquery("first_submit")
    )
    current = func.sum(case((first.c.at >= start, 1), else_=0))
    base = func.sum(case((first.c.at < start, 1), else_=0))
    rows = session.execute(
        select(Application.district, current.label("current"), base.label("base"))
        .join(first, first.c.application_id == Application.id)
        .where(and_(first.c.at >= base_start, first.c.at < ctx.now))
        .group_by(Application.district)
    ).all()
    out = []
    for district, cur, baseline in rows:
        cur, baseline = int(cur or 0), int(baseline or 0)
        if cur < minimum or cur * k * factor.denominator < factor.numerator * baseline:
            continue
        avg = baseline / k
        out.append(
            Finding(
                key=f"{district}:{start.astimezone(CHINA).date().isoformat()}",
                district=district,
                role="city_admin",
                subject=f"districts:{district}",
                message=(
                    f"{district_name(district)}近 {window} 天收到申请 {cur} 件，"
                    f"为此前 {k} 个周期平均（{avg:.1f} 件）的 {cur / avg:.1f} 倍"
                    if avg
                    else f"{district_name(district)}近 {window} 天收到申请 {cur} 件，此前 {k} 个周期没有申请"
                ),
                details={"current": cur, "baseline_total": baseline, "windows": k, "window_days": window},
            )
        )
    return out


@rule("import_overdue", "数据导入未按期到达")
def _import_overdue(session: Session, ctx: Context) -> list[Finding]:
    schedule = {str(k): int(v) for k, v in ctx.value("monitoring.import_schedule_days").items()}
    last = dict(
        session.execute(
            select(ImportBatch.kind, func.max(ImportBatch.created_at))
            .where(ImportBatch.kind.in_(list(schedule)), or_(ImportBatch.status == "done"))
            .group_by(ImportBatch.kind)
        ).all()
    )
    out = []
    for kind, days in sorted(schedule.items()):
        at = last.get(kind)
        if at is not None:
            at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
            if ctx.now - at <= dt.timedelta(days=days):
                continue
        when = at.astimezone(CHINA).date().isoformat() if at is not None else "从未导入"
        out.append(
            Finding(
                key=kind,
                district=None,
                role="city_admin",
                subject=f"import_batches:{kind}",
                message=f"「{kind}」数据超过 {days} 天未导入（最近一次：{when}）",
                details={"kind": kind, "max_days": days, "last": when},
            )
        )
    return out


# --- evaluation and life cycle ---------------------------------------------------------------------------


@dataclass
class RunResult:
    opened: list[int] = field(default_factory=list)
    seen_again: int = 0
    suppressed: int = 0
    resolved: list[int] = field(default_factory=list)
    by_rule: dict[str, int] = field(default_factory=dict)


def run_alerts(
    session: Session,
    *,
    audit_key: bytes,
    now: dt.datetime | None = None,
    rules: Sequence[str] | None = None,
    params: ParameterSet | None = None,
) -> RunResult:
    """Evaluate the rules (all, or those named) and open / refresh / resolve alerts accordingly."""
    load_rule_providers()
    at = now or dt.datetime.now(dt.UTC)
    unknown = [r for r in rules or () if r not in RULES]
    if unknown:
        raise ValidationFailed(f"未知的预警规则 {', '.join(unknown)}；可选：{', '.join(RULES)}")
    ctx = Context(at, params or load_parameters())
    result = RunResult()
    for rule_id in rules or list(RULES):
        findings = RULES[rule_id].find(session, ctx)
        result.by_rule[rule_id] = len(findings)
        seen: set[str] = set()
        for f in findings:
            open_key = f"{rule_id}|{f.key}"[:200]
            seen.add(open_key)
            refreshed = session.execute(
                update(StatAlert)
                .where(StatAlert.open_key == open_key)
                .values(last_seen_at=at, message=f.message[:500], details=f.details)
                .execution_options(synchronize_session=False)
            )
            if getattr(refreshed, "rowcount", 0):
                result.seen_again += 1
                continue
            handled = session.execute(
                select(StatAlert.id).where(
                    StatAlert.rule == rule_id,
                    StatAlert.finding_key == f.key[:160],
                    StatAlert.state == "resolved",
                    StatAlert.resolved_by != SYSTEM,
                )
            ).first()
            if handled is not None:  # staff handled this very finding: it is not raised again
                result.suppressed += 1
                continue
            alert = StatAlert(
                rule=rule_id, finding_key=f.key[:160], open_key=open_key, district=f.district, role=f.role,
                subject=f.subject[:120], message=f.message[:500], details=f.details, state="open",
                first_seen_at=at, last_seen_at=at,
            )  # fmt: skip
            try:
                with session.begin_nested():
                    session.add(alert)
                    session.flush()
            except IntegrityError:  # opened at the same moment by another run
                result.seen_again += 1
                continue
            alert.outbox_id = enqueue(
                session,
                template="stats.alert",
                payload={
                    "alert_id": alert.id,
                    "rule": rule_id,
                    "rule_label": RULES[rule_id].label,
                    "message": f.message,
                    "district": f.district,
                    "subject": f.subject,
                },
                role=f.role,
                district=f.district if f.role != "city_admin" else None,
            )
            record(
                session, key=audit_key, actor=SYSTEM, action="stats.alert_open", subject=f"stat_alerts:{alert.id}",
                district=f.district, details={"rule": rule_id, "role": f.role}, at=at,
            )  # fmt: skip
            result.opened.append(alert.id)
        stale = session.execute(
            select(StatAlert).where(StatAlert.rule == rule_id, StatAlert.state == "open")
        ).scalars()
        for alert in list(stale):
            if alert.open_key not in seen:
                _resolve(session, alert, actor=SYSTEM, role=None, resolution="条件已消除（系统自动解除）", at=at,
                         audit_key=audit_key)  # fmt: skip
                result.resolved.append(alert.id)
    session.flush()
    return result


def _resolve(
    session: Session, alert: StatAlert, *, actor: str, role: str | None, resolution: str, at: dt.datetime,
    audit_key: bytes,
) -> None:  # fmt: skip
    alert.state, alert.open_key = "resolved", None
    alert.resolved_at, alert.resolved_by, alert.resolution = at, actor, resolution[:500]
    session.flush()
    record(
        session, key=audit_key, actor=actor, actor_role=role, action="stats.alert_resolve",
        subject=f"stat_alerts:{alert.id}", district=alert.district,
        details={"rule": alert.rule, "by_system": actor == SYSTEM}, at=at,
    )  # fmt: skip


def resolve_alert(
    session: Session,
    *,
    alert_id: int,
    actor: str,
    role: str,
    actor_district: int | None,
    resolution: str,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> StatAlert:
    """Staff mark an alert handled (reason required). District roles resolve their own district's only."""
    alert = session.get(StatAlert, alert_id)
    if alert is None:
        raise NotFound(f"预警 {alert_id} 不存在")
    if role not in ROLE_LABELS or role == "applicant":
        raise Forbidden("只有经办、审核、财政或市级管理员可以处理预警")
    if role != "city_admin" and alert.district != actor_district:
        raise Forbidden(f"无权处理其他区县（{alert.district}）的预警")
    if alert.state != "open":
        raise ValidationFailed(f"预警 {alert_id} 已于 {alert.resolved_at} 处理，不能重复处理")
    text = resolution.strip()
    if not text:
        raise ValidationFailed("处理预警须填写处理说明")
    _resolve(session, alert, actor=actor, role=role, resolution=text, at=now or dt.datetime.now(dt.UTC),
             audit_key=audit_key)  # fmt: skip
    return alert


def list_alerts(
    session: Session, *, state: str | None = "open", district: int | None = None, rule_id: str | None = None
) -> list[dict[str, Any]]:
    """Alerts as JSON-ready rows (what the monitoring page lists until they are resolved)."""
    load_rule_providers()
    stmt = select(StatAlert).order_by(StatAlert.first_seen_at.desc(), StatAlert.id.desc())
    if state is not None:
        stmt = stmt.where(StatAlert.state == state)
    if district is not None:
        stmt = stmt.where(StatAlert.district == district)
    if rule_id is not None:
        stmt = stmt.where(StatAlert.rule == rule_id)
    return [
        {
            "id": a.id,
            "rule": a.rule,
            "rule_label": RULES[a.rule].label if a.rule in RULES else a.rule,
            "district": a.district,
            "district_name": district_name(a.district) if a.district is not None else "全市",
            "role": a.role,
            "role_label": ROLE_LABELS.get(a.role, a.role),
            "subject": a.subject,
            "message": a.message,
            "details": a.details,
            "state": a.state,
            "first_seen_at": a.first_seen_at.isoformat(),
            "last_seen_at": a.last_seen_at.isoformat(),
            "resolved_at": a.resolved_at.isoformat() if a.resolved_at else None,
            "resolved_by": a.resolved_by,
            "resolution": a.resolution,
        }
        for a in session.execute(stmt).scalars()
    ]
