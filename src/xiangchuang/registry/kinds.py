"""Column specifications of every import kind (记录类别): the headers staff use, in Chinese.

Each kind names its columns with a Chinese header (what the Excel templates show), the English alias
(the model field name, or for reference columns the name of what they point by) and a few accepted
synonyms. Types decide parsing and validation (see ``registry.importer``); ``pii`` decides how a value
is masked in an error report. References (``Ref``) say how a row finds its person, business,
employment or carrier: by 身份证号 (blind index) or 人员编号, by 统一社会信用代码, 注册号 or 主体编号, …

Money columns hold integer fen in the database. In a file they are yuan when the header is the plain
Chinese name or ends in ``（元）`` / ``_yuan`` and fen when it ends in ``（分）`` / ``_fen``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Final, Literal

from sqlalchemy import Table

from xiangchuang.engine.dates import DATE_RANGE_ZH, MONTH_RANGE_ZH, YEAR_RANGE_ZH
from xiangchuang.engine.facts import FACTS, GROUPS
from xiangchuang.engine.programs import PROGRAMS
from xiangchuang.models import (
    Business,
    BusinessTag,
    BusinessYear,
    Carrier,
    Contribution,
    CreditRating,
    Employment,
    Founder,
    Grant,
    Honour,
    Mentor,
    Person,
    PersonGroup,
    Recommendation,
    Tenancy,
)

__all__ = [
    "KINDS",
    "KIND_ORDER",
    "Choice",
    "Column",
    "ColumnType",
    "KindSpec",
    "Ref",
    "normalize_header",
]

ColumnType = Literal[
    "text",
    "int",
    "bool",
    "date",
    "month",
    "year",
    "money",
    "enum",
    "district",
    "id_number",
    "phone",
    "bank",
    "uscc",
    "regno",
    "groups",
    "schedule",
]
Pii = Literal["id", "phone", "bank", "name"]
Target = Literal["person", "business", "employment", "carrier"]

TYPE_FORMATS: Final[dict[str, str]] = {
    "text": "文本",
    "int": "整数",
    "bool": "是 / 否",
    "date": f"日期：YYYY-MM-DD 文本或 Excel 日期，{DATE_RANGE_ZH}",
    "month": f"月份：YYYY-MM 或 YYYYMM，{MONTH_RANGE_ZH}",
    "year": f"年份：四位整数，{YEAR_RANGE_ZH}",
    "money": "金额：元，最多2位小数（列名带“（分）”时为整数分）",
    "enum": "取值之一（代码或中文名称均可）",
    "district": "6位区县代码或区县名称（如 500101 或 万州区）",
    "id_number": "18位居民身份证号（末位可为X），请设为文本格式",
    "phone": "11位手机号码，请设为文本格式",
    "bank": "12–19位银行账号，请设为文本格式",
    "uscc": "18位统一社会信用代码（GB 32100）",
    "regno": "注册号：8–30位数字或大写字母",
    "groups": "人员类别列表，用“|”“、”“，”或“;”分隔（代码或中文名称）",
    "schedule": "入驻年次:场租%/物业%/水电%，多段用“;”分隔，如 1:100/50/0;2:50/50/0",
}


@dataclass(frozen=True)
class Choice:
    """An allowed value: stored ``code``, Chinese ``label`` and accepted synonyms."""

    code: str
    label: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Column:
    """One documented column of an import file."""

    field: str
    header: str
    type: ColumnType
    required: bool = False
    choices: tuple[Choice, ...] = ()
    max_len: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    aliases: tuple[str, ...] = ()
    note: str = ""
    example: str = ""
    pii: Pii | None = None
    store: bool = True  # False: input only (a reference, a check, or written elsewhere)
    default: str | int | bool | None = None  # used when the cell is blank (and on insert when absent)

    @property
    def display(self) -> str:
        """The header as the template shows it."""
        return f"{self.header}（元）" if self.type == "money" else self.header

    def accepted(self) -> dict[str, str | None]:
        """Accepted headers (normalized) → money unit ("yuan" / "fen") or None."""
        out: dict[str, str | None] = {}
        names = (self.header, *self.aliases)
        if self.type == "money":
            base = self.field.removesuffix("_fen")
            for n in names:
                out[normalize_header(n)] = "yuan"
                out[normalize_header(f"{n}（元）")] = "yuan"
                out[normalize_header(f"{n}（分）")] = "fen"
            out[normalize_header(self.field)] = "fen"
            out[normalize_header(f"{base}_yuan")] = "yuan"
            return out
        for n in (*names, self.field):
            out[normalize_header(n)] = None
        return out


@dataclass(frozen=True)
class Ref:
    """A reference to another record, found by the first of ``by`` columns that is filled."""

    field: str  # the model column it fills (person_id, business_id, …)
    target: Target
    by: tuple[str, ...]  # fields of the input columns, in priority order
    required: bool = True
    label: str = ""


@dataclass(frozen=True)
class KindSpec:
    name: str
    label: str
    table: Table
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # natural key (model fields, after references are resolved)
    key_note: str
    description: str
    refs: tuple[Ref, ...] = ()
    unique: tuple[str, ...] = ()  # other unique model fields, checked for conflicts
    keep_if_blank: tuple[str, ...] = ()  # a blank cell keeps the stored value (derived on insert)
    conflict_keys: tuple[tuple[str, ...], ...] = ()  # ON CONFLICT targets, first fully filled wins
    by_field: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_field", {c.field: c for c in self.columns})

    def column(self, name: str) -> Column:
        return self.by_field[name]

    def header_lookup(self) -> dict[str, tuple[Column, str | None]]:
        out: dict[str, tuple[Column, str | None]] = {}
        for col in self.columns:
            for name, unit in col.accepted().items():
                out.setdefault(name, (col, unit))
        return out


def normalize_header(text: str) -> str:
    """NFKC, no spaces or required markers, lower case: 「 单位养老保险（元）* 」 → 「单位养老保险(元)」."""
    t = unicodedata.normalize("NFKC", str(text)).strip().rstrip("*").strip()
    return "".join(t.split()).lower()


# ---- shared columns ----------------------------------------------------------------------------------

BOOL_NOTE = "是/否（也接受 true/false、1/0、Y/N）"


def _person_ref_columns(required: bool, prefix: str = "") -> tuple[Column, ...]:
    need = "；与人员编号二选一" if required else "；与人员编号二选一，可空"
    return (
        Column(
            f"{prefix}id_number",
            f"{'享受人员' if prefix else ''}身份证号",
            "id_number",
            aliases=() if prefix else ("公民身份号码", "身份证号码", "证件号码"),
            pii="id",
            store=False,
            note=f"按身份证号（盲索引）查找已登记的人员{need}",
            example="50010119900101123X",
        ),
        Column(
            f"{prefix}person_no",
            f"{'享受' if prefix else ''}人员编号",
            "text",
            max_len=40,
            store=False,
            note="系统中的人员编号（人员导入时指定或自动生成）",
            example="P0000001",
        ),
    )


def _business_ref_columns(required: bool) -> tuple[Column, ...]:
    need = "与注册号、主体编号至少填写一项" if required else "可空；填写时与注册号、主体编号任填一项"
    return (
        Column(
            "uscc",
            "统一社会信用代码",
            "uscc",
            aliases=("社会信用代码", "信用代码"),
            store=False,
            note=f"经营主体的统一社会信用代码；{need}",
            example="915001011234567880",
        ),
        Column(
            "registration_no",
            "注册号",
            "regno",
            aliases=("营业执照注册号", "工商注册号"),
            store=False,
            note="无统一社会信用代码的个体工商户的注册号",
            example="500101600012345",
        ),
        Column("business_no", "主体编号", "text", max_len=40, store=False, note="系统中的经营主体编号"),
    )


PERSON_REF = Ref("person_id", "person", ("id_number", "person_no"), label="人员")
BUSINESS_REF = Ref("business_id", "business", ("uscc", "registration_no", "business_no"), label="经营主体")

GROUP_CHOICES: Final = tuple(
    Choice(code, label) for code, (_, label) in sorted(GROUPS.items(), key=lambda kv: kv[1][0])
)

DISTRICT_NOTE = "6位区县代码或名称（38个区县及两江新区、重庆高新区、万盛经开区）"


def _money(
    field_: str, header: str, *aliases: str, note: str = "", example: str = "", default: int | None = None
) -> Column:
    return Column(
        field_, header, "money", aliases=aliases, note=note, example=example, minimum=0, default=default
    )


def _date(field_: str, header: str, *aliases: str, required: bool = False, note: str = "") -> Column:
    return Column(field_, header, "date", required=required, aliases=aliases, note=note, example="2024-03-01")


def _bool(field_: str, header: str, *aliases: str, note: str = "") -> Column:
    return Column(field_, header, "bool", aliases=aliases, note=note or BOOL_NOTE, example="是")


# ---- kinds -------------------------------------------------------------------------------------------

PERSONS = KindSpec(
    name="persons",
    label="人员",
    table=Person.__table__,  # type: ignore[arg-type]
    columns=(
        Column(
            "person_no",
            "人员编号",
            "text",
            max_len=40,
            note="可空：新人员自动生成（P+盲索引前15位）；已登记人员留空则保持原编号",
            example="P0000001",
        ),
        Column("name", "姓名", "text", required=True, max_len=60, pii="name", example="张三"),
        Column(
            "id_number",
            "身份证号",
            "id_number",
            required=True,
            aliases=("公民身份号码", "身份证号码", "证件号码"),
            pii="id",
            note="GB 11643 校验；加密存储（SM4-GCM），按盲索引（HMAC-SM3）去重",
            example="50010119900101123X",
        ),
        Column(
            "phone",
            "手机号码",
            "phone",
            aliases=("手机号", "联系电话", "联系方式"),
            pii="phone",
            note="加密存储",
            example="13800138000",
        ),
        Column(
            "bank_account",
            "银行账号",
            "bank",
            aliases=("银行卡号", "社保卡银行账号"),
            pii="bank",
            note="加密存储；未通过Luhn校验只作提示",
            example="6222021234567890128",
        ),
        Column(
            "birth_date",
            "出生日期",
            "date",
            note="可省略：由身份证号推出；填写时须与身份证号一致",
            example="1990-01-01",
        ),
        Column(
            "gender",
            "性别",
            "enum",
            choices=(Choice("M", "男", ("male",)), Choice("F", "女", ("female",))),
            note="可省略：由身份证号推出；填写时须一致",
            example="男",
        ),
        Column(
            "hukou_district",
            "户籍所在区县",
            "district",
            aliases=("户籍地", "户籍区县"),
            note="仅作记录，任何规则都不读取户籍（1.1 同等待遇）",
            example="万州区",
        ),
        _date("graduation_date", "毕业日期", "毕业（离校）日期", "离校日期"),
        _bool("returning_entrepreneur", "返乡入乡创业人员"),
        _bool("startup_intention", "有创业意愿"),
        _bool("second_time_founder_stable", "经营稳定守信的二次创业者"),
        _bool("holds_free_workstation", "正在使用免费创业工位"),
        Column(
            "groups",
            "人员类别",
            "groups",
            aliases=("重点群体",),
            choices=GROUP_CHOICES,
            store=False,
            note="写入人员类别表（无起止日期）；只增不删，起止日期和证明材料请用“人员类别”导入",
            example="高校毕业生|退役军人",
        ),
    ),
    key=("id_number_bidx",),
    key_note="身份证号（盲索引）",
    description="人员基本信息。身份证号、手机号码、银行账号加密存储。",
    unique=("person_no",),
    keep_if_blank=("person_no",),
    conflict_keys=(("id_number_bidx",),),
)

PERSON_GROUPS = KindSpec(
    name="person_groups",
    label="人员类别",
    table=PersonGroup.__table__,  # type: ignore[arg-type]
    columns=(
        *_person_ref_columns(True),
        Column(
            "group_code",
            "人员类别",
            "enum",
            required=True,
            aliases=("重点群体", "类别"),
            choices=GROUP_CHOICES,
            example="高校毕业生",
        ),
        _date("since", "起始日期", "认定日期", note="可空：不详"),
        _date("until", "截止日期", "终止日期", note="可空：仍属于该类别"),
        Column(
            "evidence",
            "证明材料",
            "text",
            max_len=200,
            aliases=("证明",),
            example="毕业证书编号 xxx",
        ),
    ),
    refs=(PERSON_REF,),
    key=("person_id", "group_code", "since"),
    key_note="人员 + 人员类别 + 起始日期",
    description="重点群体身份及其起止日期、证明材料。",
    conflict_keys=(("person_id", "group_code", "since"),),
)

# (The labels of kinds are the engine's, which its messages and parameter values show.)
_BUSINESS_KIND = FACTS["businesses"]["kind"]
BUSINESS_KIND_CHOICES: Final = (
    Choice("enterprise", _BUSINESS_KIND.label_of("enterprise"), ("公司", "有限公司")),
    Choice("individual_business", _BUSINESS_KIND.label_of("individual_business"), ("个体户", "个体")),
    Choice("farmer_cooperative", _BUSINESS_KIND.label_of("farmer_cooperative"), ("合作社",)),
    Choice("other", _BUSINESS_KIND.label_of("other")),
)
_BUSINESS_STATUS = FACTS["businesses"]["status"]
BUSINESS_STATUS_CHOICES: Final = (
    Choice("normal", _BUSINESS_STATUS.label_of("normal"), ("存续", "在业", "开业")),
    Choice("abnormal", _BUSINESS_STATUS.label_of("abnormal"), ("异常",)),
    Choice("deregistered", _BUSINESS_STATUS.label_of("deregistered"), ("已注销",)),
    Choice("revoked", _BUSINESS_STATUS.label_of("revoked"), ("已吊销",)),
)

BUSINESSES = KindSpec(
    name="businesses",
    label="经营主体",
    table=Business.__table__,  # type: ignore[arg-type]
    columns=(
        Column(
            "business_no",
            "主体编号",
            "text",
            max_len=40,
            note="可空：新主体默认为统一社会信用代码（无则为注册号）；已登记主体留空则保持原编号",
            example="B0000001",
        ),
        Column(
            "uscc",
            "统一社会信用代码",
            "uscc",
            aliases=("社会信用代码", "信用代码"),
            note="GB 32100 校验；与注册号至少填写一项",
            example="915001011234567880",
        ),
        Column(
            "registration_no",
            "注册号",
            "regno",
            aliases=("营业执照注册号", "工商注册号"),
            note="无统一社会信用代码的个体工商户填写",
            example="500101600012345",
        ),
        Column(
            "name",
            "主体名称",
            "text",
            required=True,
            max_len=120,
            aliases=("企业名称", "名称", "字号名称"),
            example="重庆市万州区兴旺农业发展有限公司",
        ),
        Column(
            "kind", "主体类型", "enum", required=True, choices=BUSINESS_KIND_CHOICES, example="个体工商户"
        ),
        Column(
            "size_class",
            "规模",
            "enum",
            aliases=("企业规模",),
            choices=(
                Choice("small_micro", "小微企业", ("小型", "微型", "小微")),
                Choice("medium", "中型企业", ("中型",)),
                Choice("large", "大型企业", ("大型",)),
            ),
            example="小微企业",
        ),
        _date("registration_date", "登记日期", "成立日期", "注册日期", required=True),
        _date("deregistration_date", "注销日期"),
        Column(
            "district",
            "所属区县",
            "district",
            required=True,
            aliases=("所在区县", "区县"),
            note=DISTRICT_NOTE + "；可用 --district 指定缺省值",
            example="万州区",
        ),
        Column("industry", "行业", "text", max_len=40, aliases=("所属行业",), example="农业种养殖"),
        Column(
            "status",
            "经营状态",
            "enum",
            aliases=("登记状态",),
            choices=BUSINESS_STATUS_CHOICES,
            default="normal",
            note="空白为“正常”",
            example="正常",
        ),
        _bool("founded_by_returning", "由返乡入乡创业人员创办"),
        Column("staff_count", "职工人数", "int", minimum=0, aliases=("现有职工人数",), example="8"),
        Column(
            "new_eligible_hires",
            "当年新招用符合条件人员数",
            "int",
            minimum=0,
            example="2",
        ),
        _bool("workshop_recognised", "认定为就业帮扶车间", "扶贫车间", "就业帮扶车间"),
        Column("workshop_employed", "车间吸纳就业困难人员人数", "int", minimum=0, example="20"),
        _bool(
            "workshop_new_build",
            "新建车间（申请建设补助）",
            "新建车间",
            note=BOOL_NOTE + "；空白为未知，车间奖补金额待定（建设投入填0的除外）",
        ),
        _money(
            "workshop_build_cost_fen",
            "车间建设投入",
            "建设投入",
            note="新建车间的建设投入，≥0；空白为未知，新建车间的建设补助待定",
            example="200000.00",
        ),
    ),
    key=("uscc",),
    key_note="统一社会信用代码；无则注册号",
    description="企业、个体工商户、农民专业合作社等经营主体。",
    unique=("business_no", "uscc", "registration_no"),
    keep_if_blank=("business_no", "uscc", "registration_no"),
    conflict_keys=(("uscc",), ("registration_no",)),
)

FOUNDERS = KindSpec(
    name="founders",
    label="创办人",
    table=Founder.__table__,  # type: ignore[arg-type]
    columns=(
        *_business_ref_columns(True),
        *_person_ref_columns(True),
        Column(
            "role",
            "角色",
            "enum",
            required=True,
            aliases=("身份",),
            choices=(
                Choice("legal_representative", "法定代表人", ("法人",)),
                Choice("operator", "经营者", ("个体经营者",)),
                Choice("partner", "合伙人"),
                Choice("shareholder", "股东", ("出资人",)),
            ),
            example="法定代表人",
        ),
        _date("since", "起始日期", "任职日期"),
        _date("until", "截止日期", "离任日期"),
    ),
    refs=(BUSINESS_REF, PERSON_REF),
    key=("business_id", "person_id", "role"),
    key_note="经营主体 + 人员 + 角色",
    description="谁在何时创办或经营哪个主体：判断首次创业、二次创业的依据。",
    conflict_keys=(("business_id", "person_id", "role"),),
)

BUSINESS_TAGS = KindSpec(
    name="business_tags",
    label="主体标签",
    table=BusinessTag.__table__,  # type: ignore[arg-type]
    columns=(
        *_business_ref_columns(True),
        Column(
            "tag_kind",
            "标签类型",
            "enum",
            required=True,
            choices=(
                Choice("county_product", "一县一品"),
                Choice("village_product", "一村一品"),
                Choice("township_industry", "一乡一业"),
            ),
            example="一村一品",
        ),
        Column("tag", "标签", "text", required=True, max_len=60, aliases=("品类", "产业"), example="柑橘"),
    ),
    refs=(BUSINESS_REF,),
    key=("business_id", "tag_kind", "tag"),
    key_note="经营主体 + 标签类型 + 标签",
    description="一县一品、一村一品、一乡一业标签（5.14）。",
    conflict_keys=(("business_id", "tag_kind", "tag"),),
)

EMPLOYMENTS = KindSpec(
    name="employments",
    label="用工",
    table=Employment.__table__,  # type: ignore[arg-type]
    columns=(
        Column(
            "employment_no",
            "用工编号",
            "text",
            max_len=40,
            aliases=("招用记录编号", "劳动合同编号"),
            note="可空：新记录自动生成；已登记记录留空则保持原编号",
            example="H0000001",
        ),
        *_business_ref_columns(True),
        *_person_ref_columns(True),
        _date("hire_date", "招用日期", "入职日期", "用工日期", required=True),
        _bool("contract", "签订劳动合同", "已签订劳动合同"),
        _date("contract_start", "合同起始日期", "合同开始日期"),
        _date("contract_end", "合同终止日期", "合同截止日期", "合同结束日期", note="可空：无固定期限"),
        Column(
            "contract_months",
            "合同期限（月）",
            "int",
            minimum=1,
            maximum=600,
            aliases=("合同期限",),
            store=False,
            note="可空；填写且合同终止日期为空时，由合同起始日期推出合同终止日期",
            example="36",
        ),
        Column("post", "岗位", "text", max_len=60, example="生产工"),
        _date("left_on", "离职日期", "解除合同日期"),
    ),
    refs=(BUSINESS_REF, PERSON_REF),
    key=("business_id", "person_id", "hire_date"),
    key_note="经营主体 + 人员 + 招用日期",
    description="招用人员及劳动合同（岗位补贴、社保补贴的依据）。",
    unique=("employment_no",),
    keep_if_blank=("employment_no",),
    conflict_keys=(("business_id", "person_id", "hire_date"),),
)

CONTRIBUTIONS = KindSpec(
    name="contributions",
    label="社保缴费",
    table=Contribution.__table__,  # type: ignore[arg-type]
    columns=(
        Column(
            "employment_no",
            "用工编号",
            "text",
            max_len=40,
            aliases=("招用记录编号",),
            store=False,
            note="按用工编号找到用工记录；或填写身份证号和主体（统一社会信用代码/注册号/主体编号），按缴费月份在职的用工记录匹配",
            example="H0000001",
        ),
        *_person_ref_columns(False),
        *_business_ref_columns(False),
        Column(
            "month",
            "缴费月份",
            "month",
            required=True,
            aliases=("费款所属期", "所属期", "缴费年月"),
            example="2024-03",
        ),
        _money("employer_pension_fen", "单位养老保险", note="空白为0", example="800.00", default=0),
        _money(
            "employer_medical_fen", "单位医疗保险", note="含大额医疗；空白为0", example="425.00", default=0
        ),
        _money("employer_maternity_fen", "单位生育保险", note="空白为0", example="25.00", default=0),
        _money("employer_unemployment_fen", "单位失业保险", note="空白为0", example="25.00", default=0),
        _money("employer_injury_fen", "单位工伤保险", note="空白为0", example="10.00", default=0),
        _money(
            "individual_fen",
            "个人缴费",
            "个人缴纳",
            note="个人部分合计；空白为0",
            example="520.00",
            default=0,
        ),
    ),
    refs=(
        Ref("employment_id", "employment", ("employment_no",), label="用工记录"),
        Ref("person_id", "person", ("id_number", "person_no"), required=False, label="人员"),
        Ref(
            "business_id",
            "business",
            ("uscc", "registration_no", "business_no"),
            required=False,
            label="经营主体",
        ),
    ),
    key=("employment_id", "month"),
    key_note="用工记录 + 缴费月份",
    description="逐月社会保险缴费：单位养老、医疗（含大额）、生育、失业、工伤部分和个人部分。",
    conflict_keys=(("employment_id", "month"),),
)

BUSINESS_YEARS = KindSpec(
    name="business_years",
    label="主体年度数据",
    table=BusinessYear.__table__,  # type: ignore[arg-type]
    columns=(
        *_business_ref_columns(True),
        Column("year", "年度", "year", required=True, aliases=("年份",), example="2024"),
        _money(
            "employer_si_paid_fen",
            "单位缴纳社保费",
            "当年实际缴纳社保费单位部分",
            note="当年实际缴纳的社会保险费单位部分",
            example="45024.00",
        ),
        _money("online_revenue_fen", "线上销售收入", "线上年销售收入", example="600000.00"),
        Column(
            "online_orders",
            "线上销售单数",
            "int",
            minimum=0,
            aliases=("线上年销售单数",),
            example="3500",
        ),
        _money("courier_fees_fen", "快递费用", "当年快递费用", example="21000.00"),
    ),
    refs=(BUSINESS_REF,),
    key=("business_id", "year"),
    key_note="经营主体 + 年度",
    description="经营主体每年的社保缴费单位部分、线上销售收入、单数和快递费。",
    conflict_keys=(("business_id", "year"),),
)

# Honours and credit ratings belong to a person, a business, or both (at least one).
_PERSON_OR_BUSINESS: Final = (
    Ref("person_id", "person", ("id_number", "person_no"), required=False, label="人员"),
    Ref(
        "business_id",
        "business",
        ("uscc", "registration_no", "business_no"),
        required=False,
        label="经营主体",
    ),
)

HONOURS = KindSpec(
    name="honours",
    label="荣誉称号",
    table=Honour.__table__,  # type: ignore[arg-type]
    columns=(
        *_person_ref_columns(False),
        *_business_ref_columns(False),
        Column(
            "level",
            "荣誉级别",
            "enum",
            required=True,
            aliases=("级别",),
            choices=(
                Choice("national", "国家级"),
                Choice("provincial", "省级", ("省部级",)),
                Choice("city", "市级", ("设区的市级",)),
                Choice("district", "区县级"),
            ),
            example="市级",
        ),
        Column(
            "title",
            "荣誉名称",
            "text",
            required=True,
            max_len=120,
            aliases=("称号",),
            example="重庆市优秀返乡创业者",
        ),
        _date("awarded_on", "授予日期", "获得日期", required=True),
    ),
    refs=_PERSON_OR_BUSINESS,
    key=("person_id", "business_id", "title", "awarded_on"),
    key_note="人员 + 经营主体 + 荣誉名称 + 授予日期（人员与主体至少一项）",
    description="个人、主体或项目获得的设区的市级以上荣誉称号（免除反担保的依据）。",
    conflict_keys=(("person_id", "business_id", "title", "awarded_on"),),
)

RECOMMENDATIONS = KindSpec(
    name="recommendations",
    label="项目推荐",
    table=Recommendation.__table__,  # type: ignore[arg-type]
    columns=(
        *_business_ref_columns(True),
        Column(
            "recommended_by",
            "推荐机构类型",
            "enum",
            required=True,
            choices=(
                Choice("national_incubator_demo", "全国创业孵化示范基地"),
                Choice("credit_community", "信用社区（乡村）", ("信用社区", "信用乡村")),
            ),
            example="信用社区（乡村）",
        ),
        Column("recommender_name", "推荐机构名称", "text", max_len=120, example="万州区某某村"),
        _date("recommended_on", "推荐日期", required=True),
    ),
    refs=(BUSINESS_REF,),
    key=("business_id", "recommended_by", "recommended_on"),
    key_note="经营主体 + 推荐机构类型 + 推荐日期",
    description="全国创业孵化示范基地或信用社区（乡村）推荐的项目。",
    conflict_keys=(("business_id", "recommended_by", "recommended_on"),),
)

CREDIT_RATINGS = KindSpec(
    name="credit_ratings",
    label="信用评定",
    table=CreditRating.__table__,  # type: ignore[arg-type]
    columns=(
        *_person_ref_columns(False),
        *_business_ref_columns(False),
        Column(
            "institution",
            "评定机构",
            "text",
            required=True,
            max_len=120,
            aliases=("金融机构",),
            example="重庆农村商业银行万州分行",
        ),
        _date("rated_on", "评定日期", required=True),
        _date("valid_until", "有效期至", "有效期截止日期"),
    ),
    refs=_PERSON_OR_BUSINESS,
    key=("person_id", "business_id", "institution", "rated_on"),
    key_note="人员 + 经营主体 + 评定机构 + 评定日期（人员与主体至少一项）",
    description="金融机构对小微企业、个体工商户、农户的信用评定。",
    conflict_keys=(("person_id", "business_id", "institution", "rated_on"),),
)

_CARRIER_KIND = FACTS["carriers"]["kind"]
CARRIER_KIND_CHOICES: Final = (
    Choice("incubator", _CARRIER_KIND.label_of("incubator"), ("孵化基地",)),
    Choice("returning_park", _CARRIER_KIND.label_of("returning_park"), ("创业园",)),
    Choice("station", _CARRIER_KIND.label_of("station"), ("服务站",)),
    Choice("ecommerce_center", _CARRIER_KIND.label_of("ecommerce_center"), ("电商服务中心",)),
    Choice("logistics_park", _CARRIER_KIND.label_of("logistics_park"), ("物流园",)),
)

CARRIERS = KindSpec(
    name="carriers",
    label="创业载体",
    table=Carrier.__table__,  # type: ignore[arg-type]
    columns=(
        Column("carrier_no", "载体编号", "text", required=True, max_len=40, example="C0000001"),
        Column("name", "载体名称", "text", required=True, max_len=120, example="万州区返乡创业园"),
        Column("kind", "载体类型", "enum", required=True, choices=CARRIER_KIND_CHOICES, example="返乡创业园"),
        Column(
            "level",
            "载体级别",
            "enum",
            required=True,
            choices=(
                Choice("national", "国家级"),
                Choice("municipal", "市级"),
                Choice("district", "区县级"),
            ),
            example="市级",
        ),
        Column(
            "district",
            "所属区县",
            "district",
            required=True,
            aliases=("所在区县", "区县"),
            note=DISTRICT_NOTE,
            example="万州区",
        ),
        _date("municipal_date", "市级认定日期"),
        _date("national_date", "国家级认定日期"),
        Column("capacity", "工位数", "int", minimum=0, aliases=("容纳能力",), example="60"),
        Column("schedule", "减免方案", "schedule", example="1:100/50/0;2:50/50/0"),
        Column("operator", "运营机构", "text", max_len=120, example="某某孵化器管理有限公司"),
    ),
    key=("carrier_no",),
    key_note="载体编号",
    description="返乡创业园、创业孵化基地、服务站、电商服务中心、物流园区。",
    conflict_keys=(("carrier_no",),),
)

TENANCIES = KindSpec(
    name="tenancies",
    label="入驻",
    table=Tenancy.__table__,  # type: ignore[arg-type]
    columns=(
        *_business_ref_columns(True),
        Column("carrier_no", "载体编号", "text", required=True, max_len=40, store=False, example="C0000001"),
        _date("start", "入驻日期", required=True),
        _date("end", "退出日期", "迁出日期"),
        Column("workstation", "工位号", "text", max_len=40, example="A-101"),
        _money("rent_fen", "场租", example="3000.00"),
        _money("property_fee_fen", "物业费", example="500.00"),
        _money("utilities_fen", "水电费", example="800.00"),
    ),
    refs=(BUSINESS_REF, Ref("carrier_id", "carrier", ("carrier_no",), label="创业载体")),
    key=("business_id", "carrier_id", "start"),
    key_note="经营主体 + 载体 + 入驻日期",
    description="经营主体入驻创业载体及当期场租、物业费、水电费。",
)

GRANT_SUBJECT: Final[dict[str, str]] = {
    "startup_subsidy": "business",
    "online_sales_subsidy": "business",
    "carrier_rent_reduction": "business",
    "free_workstation": "person",
    "loan_individual": "person",
    "loan_small_micro": "business",
    "counter_guarantee_waiver": "loan",
    "loan_interest_subsidy": "loan",
    "job_subsidy": "person",
    "social_insurance_subsidy": "person",
    "workshop_award": "business",
    "training_syb": "person",
    "training_online": "person",
    "training_iyb": "person",
    "mentor_service_subsidy": "mentor_service",
    "carrier_award": "carrier",
    "onjob_training_subsidy": "onjob_training",
}
"""The subject of each program's grant register entry. Job and social-insurance subsidies are registered
per hired person (as the engine's ``received`` table reads them): the register's unique (program, subject,
period) would otherwise refuse a second hire of the same employer in the same period."""

GRANTS = KindSpec(
    name="grants",
    label="已享受补贴",
    table=Grant.__table__,  # type: ignore[arg-type]
    columns=(
        Column(
            "program",
            "项目",
            "enum",
            required=True,
            aliases=("补贴项目", "政策项目"),
            choices=tuple(Choice(p.id, p.title) for p in PROGRAMS),
            example="创业补助",
        ),
        Column(
            "subject_key",
            "主体编号",
            "text",
            required=True,
            max_len=60,
            aliases=("享受主体编号",),
            note="经营主体项目填主体编号、统一社会信用代码或注册号；人员项目（含岗位补贴、社保补贴：被招用人员）填人员编号；载体项目填载体编号",
            example="B0000001",
        ),
        *_person_ref_columns(False, prefix="grantee_"),
        Column(
            "period",
            "所属期间",
            "text",
            required=True,
            max_len=40,
            aliases=("期间", "所属年度"),
            note=f"写作年度或月份区间（YYYY-MM/YYYY-MM）时，年月须在{MONTH_RANGE_ZH}之间",
            example="2023",
        ),
        Column(
            "slot",
            "申领次序",
            "int",
            minimum=1,
            maximum=3,
            aliases=("次序",),
            note="创业补助必填（1–3，每个主体最多3次）",
            example="1",
        ),
        Column("months", "补贴月数", "int", minimum=0, maximum=120, example="6"),
        _money("amount_fen", "金额", "补贴金额", "发放金额", example="5000.00"),
        Column(
            "district",
            "发放区县",
            "district",
            required=True,
            aliases=("所属区县", "区县"),
            note=DISTRICT_NOTE + "；可用 --district 指定缺省值",
            example="万州区",
        ),
        _date("granted_on", "发放日期"),
        Column(
            "source",
            "来源",
            "text",
            max_len=40,
            note="空白为 import:<文件名>",
            example="import:2023年发放名册.xlsx",
        ),
    ),
    refs=(
        Ref(
            "grantee", "person", ("grantee_id_number", "grantee_person_no"), required=False, label="享受人员"
        ),
    ),
    key=("program", "subject_key", "period"),
    key_note="项目 + 主体编号 + 所属期间",
    description="已经享受的补贴登记（跨区县），“只享受一次”“最多三年”等规则读取它，数据库约束保证唯一。",
    conflict_keys=(("program", "subject_key", "period"),),
)

MENTOR_SPECIALTY_CHOICES: Final = (
    Choice("agriculture", "农业种养", ("农业", "种养殖", "农业种养殖")),
    Choice("ecommerce", "电子商务", ("电商",)),
    Choice("finance", "财务金融", ("金融", "财务")),
    Choice("law", "法律"),
    Choice("marketing", "市场营销", ("营销",)),
    Choice("management", "企业管理", ("管理",)),
    Choice("technology", "技术创新", ("技术",)),
    Choice("culture_tourism", "文化旅游", ("乡村旅游", "文旅")),
    Choice("manufacturing", "加工制造", ("制造",)),
    Choice("services", "生活服务", ("服务业",)),
)

MENTORS = KindSpec(
    name="mentors",
    label="创业导师",
    table=Mentor.__table__,  # type: ignore[arg-type]
    columns=(
        Column("mentor_no", "导师编号", "text", required=True, max_len=40, example="T0001"),
        *_person_ref_columns(True),
        Column(
            "level",
            "导师层级",
            "enum",
            required=True,
            aliases=("层级", "级别"),
            choices=(
                Choice("city", "市级", ("市级导师",)),
                Choice("district", "区县级", ("区县级导师", "区级")),
            ),
            example="市级",
        ),
        Column(
            "specialty",
            "主专业",
            "enum",
            required=True,
            aliases=("专业领域", "专长"),
            choices=MENTOR_SPECIALTY_CHOICES,
            note="抽选按“主专业×导师层级”分层",
            example="农业种养",
        ),
        Column("other_specialties", "其他专长", "text", max_len=200, example="电子商务、市场营销"),
        Column("employer_uscc", "工作单位统一社会信用代码", "uscc", store=True, note="用于同单位回避"),
        Column("employer_name", "工作单位", "text", max_len=120, aliases=("单位",), example="重庆某某大学"),
        Column("district", "所在区县", "district", required=True, aliases=("区县",), note=DISTRICT_NOTE),
        Column("available", "可参加抽选", "bool", default=True, note=BOOL_NOTE + "；空为是", example="是"),
        Column(
            "status",
            "状态",
            "enum",
            default="active",
            choices=(
                Choice("active", "在库", ("正常",)),
                Choice("suspended", "暂停"),
                Choice("retired", "退出", ("出库",)),
            ),
            example="在库",
        ),
        Column("user_id", "登录账号", "text", max_len=60, note="导师本人登录用，查看本人资料与抽中通知"),
    ),
    refs=(PERSON_REF,),
    key=("mentor_no",),
    key_note="导师编号",
    description="市级、区县级创业导师：主专业、工作单位（回避）、所在区县、可参加抽选与状态。",
    unique=("person_id", "user_id"),
    conflict_keys=(("mentor_no",),),
)

KINDS: Final[dict[str, KindSpec]] = {
    k.name: k
    for k in (
        PERSONS,
        PERSON_GROUPS,
        BUSINESSES,
        FOUNDERS,
        BUSINESS_TAGS,
        CARRIERS,
        TENANCIES,
        EMPLOYMENTS,
        CONTRIBUTIONS,
        BUSINESS_YEARS,
        HONOURS,
        RECOMMENDATIONS,
        CREDIT_RATINGS,
        GRANTS,
        MENTORS,
    )
}
KIND_ORDER: Final = tuple(KINDS)
"""Kinds in dependency order (a kind only references kinds before it)."""
