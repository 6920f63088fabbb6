"""载体减免方案: the one definition of a carrier's own rent-reduction schedule text (clause 3.8).

``"1:100/50/0;2:50/0/0"`` — per tenancy year (入驻第几年: 1, 2, 3, … in order, none skipped), the
share of rent, property fee and utilities taken off, in percent. Read exactly (no binary floats, PROVISIONS §0):
a percentage is 0–100 with at most two decimals, kept as an integer number of per-myriad (‱),
so 33.35% is 3335‱ and 0.05% is 5‱. A share with more decimals is refused, never rounded.
Full-width separators (；：／) are read as their ASCII forms. Every reader uses this: the case
parser and the batch loader (bad input is a Chinese error naming the field), the registry importer,
the carrier service and the engine's ``carrier_rent_reduction``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

PERMYRIAD: Final = 10000

_SHARE: Final = re.compile(r"^(\d{1,3})(?:\.(\d{1,2}))?$")
_YEAR: Final = re.compile(r"^\d{1,2}$")
_FULL_WIDTH: Final = str.maketrans({"；": ";", "：": ":", "／": "/"})
FORMAT_HINT: Final = "应为 入驻年次:场租%/物业%/水电%，多段用“;”分隔，如 1:100/50/0;2:50/0/0"

Step = tuple[int, int, int, int]  # (tenancy year, rent ‱, property ‱, utilities ‱)


class ScheduleError(ValueError):
    """A schedule text that is not in the documented format (the message is Chinese)."""


def parse_schedule(text: str) -> list[Step]:
    """The steps of a schedule text, in order; an empty text has none (the default schedule applies).

    Raises :class:`ScheduleError` naming the bad part and the rule it breaks."""
    steps: list[Step] = []
    last = 0
    for raw in str(text).translate(_FULL_WIDTH).split(";"):
        part = raw.strip()
        if not part:
            continue
        pieces = part.split(":")
        if len(pieces) != 2 or not _YEAR.match(pieces[0].strip()):
            raise ScheduleError(f"载体减免方案格式错误：“{part}”（{FORMAT_HINT}）")
        year = int(pieces[0])
        if year != last + 1:  # (from year 1, no year skipped: README choice 27)
            raise ScheduleError(f"载体减免方案格式错误：“{part}”（入驻年次须从1起依次递增）")
        shares = pieces[1].split("/")
        if len(shares) != 3:
            raise ScheduleError(f"载体减免方案格式错误：“{part}”（{FORMAT_HINT}）")
        values = [_share(s.strip(), part) for s in shares]
        steps.append((year, values[0], values[1], values[2]))
        last = year
    return steps


def _share(text: str, part: str) -> int:
    m = _SHARE.match(text)
    if not m:
        raise ScheduleError(
            f"载体减免方案格式错误：“{part}”中的比例“{text}”须为0至100之间的数，最多保留两位小数"
        )
    value = int(m[1]) * 100 + int((m[2] or "").ljust(2, "0"))
    if value > PERMYRIAD:
        raise ScheduleError(f"载体减免方案格式错误：“{part}”中的比例“{text}”超过100%")
    return value


def percent_text(permyriad: int) -> str:
    """A share in per-myriad as the percentage written in a schedule (3335 → "33.35", 5000 → "50")."""
    return f"{(Decimal(permyriad) / 100).normalize():f}"


def format_schedule(steps: list[Step]) -> str:
    """The canonical text of parsed steps (what the registry stores)."""
    return ";".join(f"{y}:{percent_text(r)}/{percent_text(p)}/{percent_text(u)}" for y, r, p, u in steps)
