"""Application kinds: one per program of the notice that a person or business applies for.

Each kind names its engine program (the same id), the registry table its subject is a row of and the
number that identifies the subject there, how its claim period is written (:func:`check_period`:
the social-insurance subsidy's claim months 「YYYY-MM/YYYY-MM」, the startup subsidy's claim year — the
periods the engine evaluates), and the materials
(attachments) an application of that kind carries. Loans are not here: 创业担保贷款 has its own flow
(guarantee fund, bank), see issue 4.

Materials follow what each program's conditions have to be shown by (PROVISIONS.md §1): the licence
for 首次创办 / 正常经营, the key-group proof for 重点群体, the contribution record for the amounts based on
social insurance, the online sales ledger for 线上销售, the labour contract for 岗位/社保补贴, the training
certificate for 创业培训, the lease for 场租减免. The lists are the system's (the notice names no
materials); a district adds to them here. Sizes are upload limits of the system, not policy values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from xiangchuang.engine.assemble import MONTH_RANGE_RULE, SYB_TOP_UP_PERIOD, format_month_range
from xiangchuang.engine.dates import OutOfRange, month_range
from xiangchuang.engine.dates import check_period as period_in_range
from xiangchuang.engine.programs import BY_ID
from xiangchuang.errors import ValidationFailed

FILE_TYPES: Final = {
    "pdf": "PDF",
    "jpeg": "JPEG 图片",
    "png": "PNG 图片",
    "xlsx": "Excel（.xlsx）",
    "docx": "Word（.docx）",
    "ofd": "OFD 版式文件",
}
EXTENSIONS: Final = {
    ".pdf": "pdf",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".png": "png",
    ".xlsx": "xlsx",
    ".docx": "docx",
    ".ofd": "ofd",
}
MB: Final = 1024 * 1024


@dataclass(frozen=True)
class Material:
    id: str  # material type id
    label: str  # shown to the applicant and the reviewer
    types: tuple[str, ...]  # allowed file types (keys of FILE_TYPES)
    max_bytes: int
    required: bool

    @property
    def rule(self) -> str:
        """The rule in Chinese: allowed types and size limit."""
        kinds = "、".join(FILE_TYPES[t] for t in self.types)
        return f"限 {kinds}，不超过 {self.max_bytes // MB} MB"


_SCAN = ("pdf", "jpeg", "png", "ofd")  # a scanned or photographed certificate
_DOC = ("pdf", "docx", "ofd")
_SHEET = ("xlsx", "pdf")

LICENCE = Material("business_licence", "营业执照", _SCAN, 10 * MB, True)
IDENTITY = Material("identity", "身份证明", ("jpeg", "png", "pdf"), 5 * MB, True)
KEY_GROUP = Material(
    "key_group_proof", "重点群体身份证明（退役证、毕业证书、返乡证明等）", _SCAN, 10 * MB, True
)
SI_RECORD = Material("social_insurance_record", "社保缴费证明", ("pdf", "xlsx", "ofd"), 10 * MB, True)
CONTRACT = Material("labour_contract", "劳动合同", (*_SCAN, "docx"), 20 * MB, True)
HIRED_ID = Material("hired_identity", "被招用人员身份证明", ("jpeg", "png", "pdf"), 5 * MB, True)
ONLINE_SALES = Material("online_sales_ledger", "网络销售流水", _SHEET, 20 * MB, True)
COURIER = Material("courier_fees", "快递费用凭证", _SHEET, 20 * MB, False)
CERTIFICATE = Material("training_certificate", "培训合格证", _SCAN, 10 * MB, True)
ROSTER = Material("training_roster", "培训花名册", _SHEET, 10 * MB, True)
LEASE = Material("lease_contract", "租赁合同", (*_SCAN, "docx"), 20 * MB, True)


@dataclass(frozen=True)
class Kind:
    id: str  # = the engine program id
    subject_table: str  # engine/registry table of the subject
    subject_key: str  # the registry number that identifies the subject
    period: str  # how the claim period is written (shown to the applicant)
    materials: tuple[Material, ...] = ()
    # The notice's once-only rule across periods (and subjects), held by applications.exclusive_key:
    # "subject" — once per subject ever (线上销售补助：一次性，同一主体不重复享受，either route);
    # "hired_person" — once per hired person across employers (岗位补贴, PROVISIONS §1 job_subsidy [A]);
    # "trainee" — once per trainee and kind across classes and providers (创业培训补贴：每类每人一次, 2.4).
    once_per: str | None = None
    # The one period the kind is claimed for (None: written by the applicant in ``period``'s convention):
    # a free workstation is granted once (ONCE_PERIOD), so a second application is the same period.
    fixed_period: str | None = None

    def material(self, material_id: str) -> Material | None:
        return next((m for m in self.materials if m.id == material_id), None)

    @property
    def required_materials(self) -> tuple[Material, ...]:
        return tuple(m for m in self.materials if m.required)

    @property
    def title(self) -> str:
        return BY_ID[self.id].title

    @property
    def clause(self) -> str:
        return BY_ID[self.id].clause


# The claim period conventions the engine reads (service.determine passes the period to it):
# the social-insurance subsidy's claim months (hires.si_period_start/end; claimed twice a year, in
# March and September, PROVISIONS §1), the startup subsidy's claim year (businesses.claim_year).
SI_PERIOD: Final = "月份区间，如 2024-01/2024-06"
# The kinds with a top-up claim (period SYB_TOP_UP_PERIOD): a second claim of the same trainee, paying
# the difference to the full subsidy (README choice 6; the engine decides whether it is due).
TOP_UP_KINDS: Final = ("training_syb",)
YEAR_PERIOD: Final = "年度，如 2024"
ONCE_PERIOD: Final = "once"


def check_period(kind: str, text: str) -> str:
    """The application's claim period in its kind's convention, written the one way the register
    and the once-per-period key use: the social-insurance subsidy's claim months are refused (in
    Chinese, naming the field and the rule) unless the engine can read them; a kind with a fixed
    period (the free workstation: ``once``) refuses any other. Other kinds keep the
    text (a startup period that is not a four-digit year leaves the engine's default claim year:
    not yet refused, see service._claim_period_facts). Months, and a period written as a year, are
    those of the supported range (``engine.dates.check_period``, README choice 28): outside it the
    range's rule, as a case's or a batch file's register period, not the format's."""
    period = text.strip()
    fixed = KINDS[kind].fixed_period if kind in KINDS else None
    if fixed is not None and period != fixed:
        raise ValidationFailed(
            f"申请期间「{period}」：「{BY_ID[kind].title}」为一次性支持，申请期间只能填写「{fixed}」"
        )
    if period == SYB_TOP_UP_PERIOD and kind not in TOP_UP_KINDS:
        raise ValidationFailed(
            f"申请期间「{SYB_TOP_UP_PERIOD}」只用于SYB培训补贴的补足差额（结业后期限内登记经营主体的），"
            f"「{BY_ID[kind].title}」不能申请补差"
        )
    label = "申请期间（社保补贴申领月份）" if kind == "social_insurance_subsidy" else "申请期间"
    try:
        period_in_range(period)
    except OutOfRange as exc:
        raise ValidationFailed(exc.rule(label)) from None
    if kind == "social_insurance_subsidy":
        months = month_range(period)
        if months is None:
            raise ValidationFailed(f"{label}「{period}」{MONTH_RANGE_RULE}")
        return format_month_range(*months)
    if KINDS[kind].period == YEAR_PERIOD:
        # One way to write a year (「2024年」 and 「2024年度」 are 2024): the once-per-year key and the
        # register hold the year the engine evaluates (README choice 86), never two texts of it. Other
        # texts are kept (the engine then evaluates its default year; approval determines again).
        year = _YEAR.fullmatch(period)
        if year is not None:
            return year.group(1)
    return period


_YEAR: Final = re.compile(r"([0-9]{4})(?:年度?)?")


_KINDS: Final = (
    Kind(
        "startup_subsidy",
        "businesses",
        "business_no",
        YEAR_PERIOD,
        (LICENCE, IDENTITY, KEY_GROUP, SI_RECORD),
    ),
    Kind(
        "online_sales_subsidy",
        "businesses",
        "business_no",
        "一次性：once",
        (
            LICENCE,
            IDENTITY,
            ONLINE_SALES,
            COURIER,
            Material("returning_proof", "返乡入乡创业证明", _SCAN, 10 * MB, False),
        ),
        once_per="subject",
    ),
    Kind(
        "job_subsidy",
        "hires",
        "employment_no",
        YEAR_PERIOD,
        (LICENCE, CONTRACT, SI_RECORD, HIRED_ID),
        once_per="hired_person",
    ),
    Kind(
        "social_insurance_subsidy",
        "hires",
        "employment_no",
        SI_PERIOD,
        (
            LICENCE,
            CONTRACT,
            SI_RECORD,
            HIRED_ID,
            Material("graduation_certificate", "毕业证书", _SCAN, 10 * MB, False),
        ),
    ),
    Kind(
        "training_syb",
        "trainings",
        "training_no",
        "培训期次",
        (CERTIFICATE, IDENTITY, ROSTER),
        once_per="trainee",
    ),
    Kind(
        "training_online",
        "trainings",
        "training_no",
        "培训期次",
        (CERTIFICATE, IDENTITY, ROSTER),
        once_per="trainee",
    ),
    Kind(
        "training_iyb",
        "trainings",
        "training_no",
        "培训期次",
        (CERTIFICATE, IDENTITY, ROSTER, LICENCE),
        once_per="trainee",
    ),
    Kind(
        "free_workstation",
        "persons",
        "person_no",
        "一次性：once",
        (
            IDENTITY,
            Material("business_plan", "创业计划书", _DOC, 20 * MB, True),
            Material("poverty_proof", "建档立卡贫困人员证明", _SCAN, 10 * MB, False),
        ),
        fixed_period=ONCE_PERIOD,
    ),
    Kind(
        "carrier_rent_reduction",
        "businesses",
        "business_no",
        YEAR_PERIOD,
        (LICENCE, LEASE, Material("tenancy_agreement", "入驻协议", (*_SCAN, "docx"), 20 * MB, False)),
    ),
    Kind(
        "workshop_award",
        "businesses",
        "business_no",
        YEAR_PERIOD,
        (
            LICENCE,
            Material("workshop_recognition", "就业帮扶车间认定文件", _SCAN, 10 * MB, True),
            Material("staff_roster", "用工花名册", _SHEET, 10 * MB, True),
        ),
    ),
    Kind(
        "carrier_award",
        "carriers",
        "carrier_no",
        YEAR_PERIOD,
        (
            Material("carrier_recognition", "载体认定文件", _SCAN, 10 * MB, True),
            Material("performance_report", "绩效评估报告", _DOC, 20 * MB, True),
            Material("tenant_roster", "入驻企业名册", _SHEET, 10 * MB, True),
        ),
    ),
    Kind(
        "mentor_service_subsidy",
        "mentor_services",
        "service_no",
        "服务期，如 2024",
        (
            Material("mentor_appointment", "导师聘书", _SCAN, 10 * MB, True),
            Material("service_record", "服务记录", (*_SHEET, "docx"), 10 * MB, True),
        ),
    ),
    Kind(
        "onjob_training_subsidy", "onjob_trainings", "training_no", "培训期次", (LICENCE, ROSTER, CERTIFICATE)
    ),
)

KINDS: Final[dict[str, Kind]] = {k.id: k for k in _KINDS}
KIND_IDS: Final[tuple[str, ...]] = tuple(KINDS)
