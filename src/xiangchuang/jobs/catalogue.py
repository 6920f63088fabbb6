"""The vocabulary of the job board: trades (行业/工种大类) and skills, seeker categories, contract kinds.

Skills are codes so that posts and seekers can be matched exactly (free text would not be comparable);
each skill belongs to one trade. At most 64 skills: matching holds a person's or post's skills as one
64-bit mask (:mod:`xiangchuang.jobs.matching`). A district that needs another skill adds it here.
"""

from __future__ import annotations

from typing import Final

from xiangchuang.errors import ValidationFailed

TRADES: Final[dict[str, str]] = {
    "agriculture": "种植养殖",
    "food_processing": "农产品加工",
    "manufacturing": "制造加工",
    "construction": "建筑施工",
    "ecommerce": "电子商务",
    "logistics": "物流运输",
    "tourism": "乡村旅游与餐饮",
    "crafts": "传统手工艺",
    "care": "家政养老",
    "repair": "维修服务",
    "management": "经营管理",
}

# (code, label, trade) in a fixed order: the position is the bit in the skill mask.
_SKILLS: Final = (
    ("planting", "种植技术", "agriculture"),
    ("livestock", "畜禽养殖", "agriculture"),
    ("aquaculture", "水产养殖", "agriculture"),
    ("agri_machinery", "农机操作", "agriculture"),
    ("fruit_tea", "果树茶园管护", "agriculture"),
    ("food_processing", "食品加工", "food_processing"),
    ("sorting_packing", "分拣包装", "food_processing"),
    ("quality_check", "质量检验", "food_processing"),
    ("cold_chain", "冷链仓储", "food_processing"),
    ("welding", "焊工", "manufacturing"),
    ("machining", "车工/机床操作", "manufacturing"),
    ("assembly", "装配", "manufacturing"),
    ("electrician", "电工", "manufacturing"),
    ("sewing", "缝纫", "manufacturing"),
    ("masonry", "砌筑", "construction"),
    ("carpentry", "木工", "construction"),
    ("rebar", "钢筋工", "construction"),
    ("decoration", "装饰装修", "construction"),
    ("painting", "油漆涂装", "construction"),
    ("live_streaming", "直播带货", "ecommerce"),
    ("online_store", "网店运营", "ecommerce"),
    ("graphic_design", "美工设计", "ecommerce"),
    ("customer_service", "客服", "ecommerce"),
    ("driving_c1", "小型车驾驶（C1）", "logistics"),
    ("driving_b2", "货车驾驶（B2）", "logistics"),
    ("warehouse", "仓库管理", "logistics"),
    ("forklift", "叉车操作", "logistics"),
    ("tour_guide", "导游讲解", "tourism"),
    ("homestay", "民宿管理", "tourism"),
    ("cooking", "烹饪（厨师）", "tourism"),
    ("serving", "餐厅服务", "tourism"),
    ("housekeeping", "客房服务", "tourism"),
    ("bamboo_weaving", "竹编", "crafts"),
    ("embroidery", "刺绣/织锦", "crafts"),
    ("pottery", "陶艺", "crafts"),
    ("woodcarving", "木雕", "crafts"),
    ("elderly_care", "养老护理", "care"),
    ("childcare", "育婴", "care"),
    ("domestic", "家政服务", "care"),
    ("auto_repair", "汽车维修", "repair"),
    ("appliance_repair", "家电维修", "repair"),
    ("phone_repair", "手机维修", "repair"),
    ("accounting", "会计", "management"),
    ("marketing", "市场营销", "management"),
    ("office", "行政文员", "management"),
    ("computer", "计算机操作", "management"),
)
SKILLS: Final[dict[str, str]] = {code: label for code, label, _ in _SKILLS}
SKILL_TRADE: Final[dict[str, str]] = {code: trade for code, _, trade in _SKILLS}
SKILL_BIT: Final[dict[str, int]] = {code: i for i, (code, _, _) in enumerate(_SKILLS)}
SKILLS_BY_TRADE: Final[dict[str, tuple[str, ...]]] = {
    t: tuple(code for code, _, trade in _SKILLS if trade == t) for t in TRADES
}
assert len(_SKILLS) <= 64, "skills are held as a 64-bit mask"
MAX_SKILLS: Final = 8  # per post or seeker

SEEKER_CATEGORIES: Final[dict[str, str]] = {
    "returning_worker": "返乡农民工",
    "graduate": "高校毕业生",
    "unemployed": "登记失业人员",
    "other": "其他求职人员",
}
CONTRACT_KINDS: Final[dict[str, str]] = {
    "fixed_term": "固定期限劳动合同",
    "open_ended": "无固定期限劳动合同",
    "task": "以完成一定工作任务为期限",
    "part_time": "非全日制用工",
    "seasonal": "季节性/临时用工",
}
POST_STATE_LABELS: Final[dict[str, str]] = {
    "reported": "待核实",
    "published": "已发布",
    "rejected": "已退回",
    "filled": "已招满",
    "closed": "已关闭",
}
APPLICATION_STATE_LABELS: Final[dict[str, str]] = {
    "applied": "已应聘",
    "hired": "已录用",
    "declined": "未录用",
    "withdrawn": "已撤回",
}
PROVIDER_KINDS: Final[dict[str, str]] = {
    "business": "企业（技能岗位职工培训）",
    "cooperative": "农民专业合作社",
    "association": "专业技术协会",
    "artisan": "手工艺传承人",
}
COURSE_LEVELS: Final[dict[str, str]] = {
    "junior": "初级",
    "intermediate": "中级",
    "senior": "高级",
    "special": "专项能力",
}


def parse_skills(raw: str | list[str] | tuple[str, ...], what: str = "技能") -> tuple[str, ...]:
    """Skill codes (or Chinese labels) from a list or a comma/、-separated text; unknown → ValidationFailed."""
    if isinstance(raw, str):
        items = [x.strip() for x in raw.replace("，", ",").replace("、", ",").split(",")]
    else:
        items = [str(x).strip() for x in raw]
    by_label = {label: code for code, label in SKILLS.items()}
    out: list[str] = []
    for item in items:
        if not item:
            continue
        code = item if item in SKILLS else by_label.get(item)
        if code is None:
            raise ValidationFailed(f"{what}：「{item[:20]}」不在技能目录中")
        if code not in out:
            out.append(code)
    if len(out) > MAX_SKILLS:
        raise ValidationFailed(f"{what}：最多 {MAX_SKILLS} 项")
    return tuple(out)


def skills_text(codes: str | tuple[str, ...]) -> str:
    """Chinese labels of stored skill codes, joined with 、."""
    items = codes.split(",") if isinstance(codes, str) else codes
    return "、".join(SKILLS.get(c, c) for c in items if c)


def skill_mask(codes: str | tuple[str, ...]) -> int:
    items = codes.split(",") if isinstance(codes, str) else codes
    mask = 0
    for c in items:
        if c in SKILL_BIT:
            mask |= 1 << SKILL_BIT[c]
    return mask
