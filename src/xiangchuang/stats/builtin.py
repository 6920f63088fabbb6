"""The indicators over what exists today: registry (entrepreneurs, businesses, jobs, social insurance),
applications (per program) and the ledger (money paid, by funding source)."""

from __future__ import annotations

from xiangchuang.applications.kinds import KINDS
from xiangchuang.applications.workflow import STATE_LABELS
from xiangchuang.engine.facts import GROUPS
from xiangchuang.ledger.service import SOURCE_LABELS
from xiangchuang.stats import repository as r
from xiangchuang.stats.indicators import Group, Indicator, register, register_group

GROUP_DIMS = tuple((code, label) for code, (_, label) in sorted(GROUPS.items(), key=lambda kv: kv[1][0]))
KIND_DIMS = tuple((k.id, k.title) for k in KINDS.values())
PAID_DIMS = (*KIND_DIMS, ("other", "其他（未关联申请）"))
BUSINESS_KIND_DIMS = (
    ("enterprise", "企业"),
    ("individual_business", "个体工商户"),
    ("farmer_cooperative", "农民专业合作社"),
    ("other", "其他"),
)
STEP_DIMS = tuple((s, STATE_LABELS[s]) for s in r.TIMED_STEPS)
SOURCE_DIMS = tuple(SOURCE_LABELS.items())

register_group(Group("entrepreneurs", "创业人员", 10))
register_group(Group("businesses", "经营主体", 20))
register_group(Group("jobs", "带动就业", 30))
register_group(Group("applications", "申请办理", 40))
register_group(Group("money", "补贴金额", 50))
register_group(Group("timeliness", "办理时长", 60))

_RET = "返乡入乡创业人员：本人标记为返乡入乡创业人员，或所创办主体标记为返乡入乡人员创办；"

# --- 创业人员 -------------------------------------------------------------------------------------------------
register(
    Indicator(
        "entrepreneurs_new",
        "新增返乡入乡创业人员",
        "人",
        "entrepreneurs",
        r.src_entrepreneurs,
        "date",
        entity="persons",
        definition=_RET
        + "按首次创办（创办人起始日期，缺省为主体登记日期）计入所在季度和该主体所在区县，每人计一次。",
    )
)
register(
    Indicator(
        "entrepreneurs_total",
        "累计返乡入乡创业人员",
        "人",
        "entrepreneurs",
        r.src_entrepreneurs,
        "date",
        cumulative=True,
        entity="persons",
        definition="截至季末的新增返乡入乡创业人员总数。",
    )
)
register(
    Indicator(
        "entrepreneurs_new_by_group",
        "新增创业人员按重点群体",
        "人",
        "entrepreneurs",
        r.src_entrepreneurs_by_group,
        "date",
        dims=GROUP_DIMS,
        dim_label="人员类别",
        entity="persons",
        definition="首次创办之日具有该重点群体身份的新增创业人员；一人属多个类别的在各类别分别计入，类别之和可大于人数。",
    )
)
register(
    Indicator(
        "entrepreneurs_total_by_group",
        "累计创业人员按重点群体",
        "人",
        "entrepreneurs",
        r.src_entrepreneurs_by_group,
        "date",
        cumulative=True,
        dims=GROUP_DIMS,
        dim_label="人员类别",
        entity="persons",
        definition="截至季末，按首次创办之日的重点群体身份。",
    )
)

# --- 经营主体 -------------------------------------------------------------------------------------------------
_BIZ = "返乡入乡人员创办的经营主体（主体标记或任一创办人为返乡入乡创业人员），按登记日期计入季度、按登记区县计入区县。"
register(
    Indicator(
        "businesses_new",
        "新增创办经营主体",
        "户",
        "businesses",
        r.src_businesses(""),
        "date",
        entity="businesses",
        definition=_BIZ,
    )
)
register(
    Indicator(
        "businesses_total",
        "累计创办经营主体",
        "户",
        "businesses",
        r.src_businesses(""),
        "date",
        cumulative=True,
        entity="businesses",
        definition="截至季末。" + _BIZ,
    )
)
register(
    Indicator(
        "businesses_new_by_kind",
        "新增经营主体按类型",
        "户",
        "businesses",
        r.src_businesses("kind"),
        "date",
        dims=BUSINESS_KIND_DIMS,
        dim_label="主体类型",
        dim_total=True,
        entity="businesses",
        definition=_BIZ,
    )
)
register(
    Indicator(
        "businesses_new_by_industry",
        "新增经营主体按行业",
        "户",
        "businesses",
        r.src_businesses("industry"),
        "date",
        dim_label="行业",
        dim_total=True,
        entity="businesses",
        definition=_BIZ + "行业为登记库所填行业（未填写的单列）。",
    )
)

# --- 带动就业 -------------------------------------------------------------------------------------------------
register(
    Indicator(
        "jobs_created",
        "带动就业（新招用）",
        "人",
        "jobs",
        r.src_jobs(key_groups=False),
        "date",
        entity="employments",
        definition="返乡入乡人员创办的经营主体新招用人员（用工记录），按招用日期计入季度。",
    )
)
register(
    Indicator(
        "jobs_created_key_groups",
        "其中：重点群体",
        "人",
        "jobs",
        r.src_jobs(key_groups=True),
        "date",
        entity="employments",
        definition="新招用人员中，招用之日具有任一重点群体身份的。",
    )
)
register(
    Indicator(
        "jobs_insured_new",
        "新增参保就业",
        "人",
        "jobs",
        r.src_insured_new,
        "month",
        entity="employments",
        definition="返乡入乡人员创办的经营主体中，首次有社会保险缴费的用工，按首个缴费月计入季度（逐月社保缴费记录）。",
    )
)
register(
    Indicator(
        "jobs_insured_quarter_end",
        "季末参保在岗",
        "人",
        "jobs",
        r.src_insured_at_quarter_end,
        "month",
        entity="employments",
        definition="季度最后一个月有社会保险缴费的用工数。",
    )
)

# --- 申请办理（各项目） ------------------------------------------------------------------------------------------
_APP = "按申请所属区县；维度为申请项目。"
register(
    Indicator(
        "applications_received",
        "受理申请（收到）",
        "件",
        "applications",
        r.src_application_event("submit"),
        "instant",
        dims=KIND_DIMS,
        dim_label="项目",
        dim_total=True,
        definition="首次提交的时间计入季度；退回补正后再提交的仍是同一件申请，不重复计。" + _APP,
    )
)
register(
    Indicator(
        "applications_approved",
        "核准",
        "件",
        "applications",
        r.src_application_event("approve"),
        "instant",
        dims=KIND_DIMS,
        dim_label="项目",
        dim_total=True,
        definition="公示期满核准的时间计入季度。" + _APP,
    )
)
register(
    Indicator(
        "applications_rejected",
        "不予批准",
        "件",
        "applications",
        r.src_application_event("reject"),
        "instant",
        dims=KIND_DIMS,
        dim_label="项目",
        dim_total=True,
        definition="初审或复审不予批准。" + _APP,
    )
)
register(
    Indicator(
        "applications_not_accepted",
        "不予受理",
        "件",
        "applications",
        r.src_application_event("refuse"),
        "instant",
        dims=KIND_DIMS,
        dim_label="项目",
        dim_total=True,
        definition=_APP,
    )
)
register(
    Indicator(
        "applications_returned",
        "退回补正",
        "件",
        "applications",
        r.src_application_event("return", once=False),
        "instant",
        dims=KIND_DIMS,
        dim_label="项目",
        dim_total=True,
        definition="季度内被退回补正的申请件数；同一季度多次退回计一件。" + _APP,
    )
)
register(
    Indicator(
        "beneficiaries",
        "受益对象",
        "个",
        "applications",
        r.src_application_event("approve", amount="subject"),
        "instant",
        dims=KIND_DIMS,
        dim_label="项目",
        dim_total=True,
        entity="subjects",
        definition="季度内获核准申请的不同申请主体（同一主体同一项目计一次）。" + _APP,
    )
)

# --- 补贴金额 -------------------------------------------------------------------------------------------------
register(
    Indicator(
        "amount_approved",
        "核准金额",
        "元",
        "money",
        r.src_application_event("approve", amount="approved"),
        "instant",
        measure="sum",
        dims=KIND_DIMS,
        dim_label="项目",
        dim_total=True,
        scale=100,
        decimals=2,
        definition="季度内核准申请的核准金额（分精确）。" + _APP,
    )
)
register(
    Indicator(
        "amount_paid",
        "拨付金额",
        "元",
        "money",
        r.src_paid("kind"),
        "instant",
        measure="sum",
        dims=PAID_DIMS,
        dim_label="项目",
        dim_total=True,
        entity="ledger_entries",
        scale=100,
        decimals=2,
        definition="台账拨付分录（disburse）的金额，按记账时间计入季度、按台账区县计入区县。",
    )
)
register(
    Indicator(
        "paid_by_source",
        "拨付金额按资金来源",
        "元",
        "money",
        r.src_paid("source"),
        "instant",
        measure="sum",
        dims=SOURCE_DIMS,
        dim_label="资金来源",
        dim_total=True,
        entity="ledger_entries",
        scale=100,
        decimals=2,
        definition="台账拨付分录按资金来源（市级及以上资金 / 区县财政）。",
    )
)

# --- 办理时长 -------------------------------------------------------------------------------------------------
register(
    Indicator(
        "step_median_days",
        "各环节办理时长中位数",
        "天",
        "timeliness",
        r.src_step_durations,
        "instant",
        measure="median",
        dims=STEP_DIMS,
        dim_label="环节",
        entity="transitions",
        scale=86400,
        decimals=2,
        definition="由申请状态记录计算：进入该环节到离开该环节的时长，按离开时间计入季度；全市为全市中位数，不是区县之和。",
    )
)
