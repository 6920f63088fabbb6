"""Chinese labels of the mentor pool's codes (pages, API descriptions, statistics)."""

from __future__ import annotations

from typing import Final

from xiangchuang.engine.programs.mentors import RATING_LABELS
from xiangchuang.registry.kinds import MENTOR_SPECIALTY_CHOICES

SPECIALTY: Final = {c.code: c.label for c in MENTOR_SPECIALTY_CHOICES}
LEVEL: Final = {"city": "市级", "district": "区县级"}
STATUS: Final = {"active": "在库", "suspended": "暂停", "retired": "退出"}
EVENT_KIND: Final = {
    "competition_round": "创业大赛（初赛/复赛）",
    "competition_final": "创业大赛决赛",
    "project_review": "项目评审",
}
EVENT_STATUS: Final = {
    "planned": "待承诺",
    "committing": "承诺中",
    "drawn": "已抽取",
    "failed": "抽取失败",
    "scoring": "评分中",
    "closed": "已结束",
}
SLOT_STATUS: Final = {"notified": "已通知", "confirmed": "已确认", "declined": "已谢绝", "vacant": "空缺"}
ACTIVITY: Final = {
    "lecture": "授课讲座",
    "assessment": "项目评审评估",
    "pairing": "一对一结对帮扶",
    "other": "其他",
}
RATING: Final = RATING_LABELS
RELATION: Final = {
    "spouse": "配偶",
    "lineal": "直系血亲",
    "collateral3": "三代以内旁系血亲",
    "in_law": "近姻亲",
    "other": "其他利害关系",
}
SUPPORT: Final = {"brand": "品牌打造", "financing": "融资对接", "sales_channel": "销售渠道", "other": "其他"}
PARTY: Final = {"organiser": "组织方", "supervisor": "监督方"}


def stratum(code: str) -> str:
    """``agriculture/city`` → 农业种养×市级."""
    spec, _, level = code.partition("/")
    return f"{SPECIALTY.get(spec, spec)}×{LEVEL.get(level, level)}"
