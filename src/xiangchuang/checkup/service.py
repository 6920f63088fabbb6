"""Run a check-up: the engine's result document for one case, with a Chinese error naming the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from xiangchuang.chinatime import CHINA
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import CaseError
from xiangchuang.engine.case import case_date as engine_case_date
from xiangchuang.engine.parameters import ParameterSet
from xiangchuang.errors import ValidationFailed

# What the public pages say for each status (the engine's own labels are for staff).
PUBLIC_STATUS: Final = {"eligible": "符合", "ineligible": "暂不符合", "undetermined": "待确定"}


def china_today() -> dt.date:
    return dt.datetime.now(CHINA).date()


def case_date(case: Mapping[str, Any], on: dt.date | None) -> dt.date:
    """``on`` if given, else the case's own ``on`` (a date in the supported range, as ``check`` reads
    it: ValidationFailed naming the field otherwise), else today in China."""
    if on is not None:
        return on
    try:
        own = engine_case_date(case)
    except CaseError as exc:
        raise ValidationFailed(str(exc)) from None
    return china_today() if own is None else own


def run_checkup(
    case: Mapping[str, Any], *, params: ParameterSet, on: dt.date | None = None
) -> dict[str, Any]:
    """The engine's result document (``xiangchuang schema result``) for ``case`` on ``on`` (default: the
    case's ``on``, else today in China). A malformed case raises :class:`ValidationFailed`."""
    day = case_date(case, on)
    try:
        return evaluate(case, day, params)
    except CaseError as exc:
        raise ValidationFailed(str(exc)) from None
