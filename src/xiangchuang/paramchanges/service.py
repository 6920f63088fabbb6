"""City parameter changes: request → approve (a second, different city administrator) | reject | withdraw.

Keyword-only functions over a Session; they never commit. Every state change writes an audit record
(``parameter_change.request`` / ``.approve`` / ``.reject`` / ``.withdraw``). :func:`effective_parameters`
lays the approved changes over the YAML parameters with the engine's pure
:func:`~xiangchuang.engine.parameters.with_dated_values` (the engine never sees the database).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Final

import yaml
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xiangchuang.audit import record
from xiangchuang.engine.parameters import (
    DatedValue,
    ParameterError,
    ParameterSet,
    convert_value,
    with_dated_values,
)
from xiangchuang.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xiangchuang.models import ParameterChange, User

CHANGE_ROLE: Final = "city_admin"
STATE_LABELS: Final = {
    "pending": "待复核",
    "approved": "已生效（已复核）",
    "rejected": "已驳回",
    "withdrawn": "已撤回",
}


def _actor_id(user: User) -> str:
    return f"user:{user.id}"


def _require_city_admin(user: User) -> None:
    if user.role != CHANGE_ROLE or user.disabled:
        raise Forbidden("参数调整：只有市级管理员可以申请或复核参数调整")


def parse_value_text(params: ParameterSet, name: str, text: str) -> Any:
    """The form's text (YAML scalar or list) → the YAML-style value, checked against the unit."""
    if name not in params:
        raise NotFound(f"参数 {name} 不存在")
    text = text.strip()
    if not text or len(text) > 2000:
        raise ValidationFailed("新取值：不能为空，且不超过 2000 个字符")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationFailed("新取值：不是有效的值（列表请写成 [a, b]）") from exc
    if params[name].unit == "ratio":
        raw = str(raw) if not isinstance(raw, str) else raw  # a ratio is kept as a decimal string
    if params[name].unit == "date" and isinstance(raw, dt.date):
        raw = raw.isoformat()
    try:
        convert_value(params, name, raw)
    except ParameterError as exc:
        raise ValidationFailed(f"新取值：{exc}") from exc
    return raw


def china_day(now: dt.datetime) -> dt.date:
    return (now.astimezone(dt.UTC) + dt.timedelta(hours=8)).date()


def _not_in_past(since: dt.date, now: dt.datetime) -> None:
    """A change never applies to days already past (no retroactive change of a rule)."""
    if since < china_day(now):
        raise ValidationFailed(
            f"生效日期：{since.isoformat()} 已过，须不早于今天（{china_day(now).isoformat()}）"
        )


def request_change(
    session: Session,
    *,
    user: User,
    params: ParameterSet,
    name: str,
    value_text: str,
    since: dt.date,
    reason: str,
    reference: str,
    audit_key: bytes,
    now: dt.datetime,
) -> ParameterChange:
    _require_city_admin(user)
    value = parse_value_text(params, name, value_text)
    reason = reason.strip()
    reference = reference.strip()
    if not reason or len(reason) > 1000:
        raise ValidationFailed("调整理由：不能为空，且不超过 1000 个字符")
    if not reference or len(reference) > 200:
        raise ValidationFailed("依据（文号及条款）：不能为空，且不超过 200 个字符")
    _not_in_past(since, now)
    _consistent(
        session, params, DatedValue(name=name, since=since, value=value, reference=reference), "新取值"
    )
    change = ParameterChange(
        name=name,
        value=value,
        since=since,
        reference=reference,
        reason=reason,
        state="pending",
        requested_by=_actor_id(user),
        requested_at=now,
    )
    session.add(change)
    session.flush()
    record(
        session,
        key=audit_key,
        actor=_actor_id(user),
        actor_role=user.role,
        action="parameter_change.request",
        subject=f"parameter_changes:{change.id}",
        details={"name": name, "value": value, "since": since.isoformat()},
        at=now,
    )
    return change


def _pending(session: Session, change_id: int) -> ParameterChange:
    change = session.get(ParameterChange, change_id)
    if change is None:
        raise NotFound(f"参数调整申请 {change_id} 不存在")
    if change.state != "pending":
        raise Conflict(f"参数调整申请 {change_id}：当前状态为“{STATE_LABELS[change.state]}”，不能再处理")
    return change


def _consistent(session: Session, base: ParameterSet, change: DatedValue, what: str) -> None:
    """The parameters in force (``base`` and the approved changes) with ``change`` laid over them are
    consistent: else (e.g. a workshop tier award outside the published range, or a range that leaves
    a tier outside it, README choice 81) the change is refused with the engine's Chinese error, which
    names the parameters and the rule, and nothing is written."""
    try:
        with_dated_values(effective_parameters(session, base), [change])
    except ParameterError as exc:
        raise ValidationFailed(f"{what}：{exc}") from None


def decide(
    session: Session,
    *,
    user: User,
    params: ParameterSet,
    change_id: int,
    decision: str,
    note: str | None,
    audit_key: bytes,
    now: dt.datetime,
) -> ParameterChange:
    """``approve`` / ``reject`` by a different city administrator; ``withdraw`` by the requester.
    ``params``: the YAML parameters (an approval is checked against them and the approved changes)."""
    _require_city_admin(user)
    change = _pending(session, change_id)
    me = _actor_id(user)
    note = (note or "").strip() or None
    if decision in ("approve", "reject"):
        if change.requested_by == me:
            raise Forbidden("复核：申请人不能复核自己的参数调整，须由另一位市级管理员复核")
        if decision == "reject" and not note:
            raise ValidationFailed("驳回理由：驳回时必须填写")
        if decision == "approve":
            _not_in_past(change.since, now)
            _consistent(session, params, _dated(change), "不能批准")
        new_state = "approved" if decision == "approve" else "rejected"
    elif decision == "withdraw":
        if change.requested_by != me:
            raise Forbidden("撤回：只有提出申请的管理员可以撤回")
        new_state = "withdrawn"
    else:
        raise ValidationFailed(f"操作：{decision!r} 不是 approve/reject/withdraw")
    # Compare-and-set on the version: of two administrators deciding at once, exactly one wins.
    seen = change.version
    done = session.execute(
        update(ParameterChange)
        .where(
            ParameterChange.id == change.id,
            ParameterChange.state == "pending",
            ParameterChange.version == seen,
        )
        .values(
            state=new_state,
            # the four-eyes check constrains a decision by another admin; a withdrawal names nobody
            decided_by=None if decision == "withdraw" else me,
            decided_at=now,
            decision_note=note,
            version=seen + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        raise Conflict(f"参数调整申请 {change_id}：已被他人处理，请刷新页面")
    _decisions[0] += 1  # this process's RecentParameters read again
    session.refresh(change)
    session.flush()
    record(
        session,
        key=audit_key,
        actor=me,
        actor_role=user.role,
        action=f"parameter_change.{decision}",
        subject=f"parameter_changes:{change.id}",
        details={"name": change.name, "since": change.since.isoformat(), "state": change.state},
        at=now,
    )
    return change


def list_changes(session: Session, name: str | None = None) -> list[ParameterChange]:
    stmt = select(ParameterChange).order_by(ParameterChange.id.desc())
    if name is not None:
        stmt = stmt.where(ParameterChange.name == name)
    return list(session.execute(stmt).scalars())


def approved_values(session: Session) -> list[DatedValue]:
    rows = session.execute(
        select(ParameterChange)
        .where(ParameterChange.state == "approved")
        .order_by(ParameterChange.decided_at, ParameterChange.id)
    ).scalars()
    return [_dated(r) for r in rows]


def _dated(change: ParameterChange) -> DatedValue:
    """A change as the dated value laid over the parameters once approved."""
    return DatedValue(
        name=change.name,
        since=change.since,
        value=change.value,
        reference=f"{change.reference}（市级调整 #{change.id}，已复核）",
        note=change.reason,
    )


_cache: dict[tuple[int, str], ParameterSet] = {}


def effective_parameters(session: Session, base: ParameterSet) -> ParameterSet:
    """``base`` (the YAML parameters) with every approved change laid over it. Cached per base and set of
    approved changes, so a request costs one small query when nothing changed."""
    extra = approved_values(session)
    key = (id(base), repr([(v.name, v.since, v.value, v.reference) for v in extra]))
    got = _cache.get(key)
    if got is None:
        if len(_cache) > 32:
            _cache.clear()
        got = with_dated_values(base, extra)
        _cache[key] = got
    return got


_decisions = [0]  # decisions taken in this process (RecentParameters re-reads after one)


class RecentParameters:
    """The effective parameters as read at most ``max_age`` seconds ago, for answers that are shown and
    never stored: the public check-up and the programme pages. It spares those requests their query (and
    with it the database connection and the commit). Anything that stores a determination reads the
    parameters in its own transaction (:func:`effective_parameters`).

    A decision taken in this process is seen by its next request; one taken in another worker process at
    most ``max_age`` seconds after it committed. ``max_age`` 0 reads every time."""

    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self._entry: tuple[float, int, ParameterSet, ParameterSet] | None = None

    def get(self, session: Session, base: ParameterSet) -> ParameterSet:
        entry = self._entry
        now = time.monotonic()
        if (
            entry is not None
            and entry[1] == _decisions[0]
            and entry[2] is base
            and now - entry[0] < self.max_age
        ):
            return entry[3]
        seen = _decisions[0]  # before the read: a decision during it makes the next request read again
        got = effective_parameters(session, base)
        self._entry = (now, seen, base, got)
        return got
