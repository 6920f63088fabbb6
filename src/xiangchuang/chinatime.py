"""China Standard Time: the one definition of the zone every date in the notice is read in.

Times are stored in UTC; a day, a quarter, a working day or a deadline is the China date of the instant
(UTC+8, no daylight saving since 1991).
"""

from __future__ import annotations

import datetime as dt
from typing import Final

CHINA: Final = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def china_date(moment: dt.datetime) -> dt.date:
    """The date in China of an aware instant."""
    return moment.astimezone(CHINA).date()
