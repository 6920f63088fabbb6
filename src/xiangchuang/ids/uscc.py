"""Unified social credit codes (统一社会信用代码), GB 32100-2015.

Layout (18 characters from ``0-9A-HJ-NP-RTUWXY``; I, O, Z, S and V are never used):

* position 1: registration authority (登记管理部门代码),
* position 2: organisation category within that authority (机构类别代码),
* positions 3–8: administrative division code of the registering office (GB/T 2260),
* positions 9–17: organisation code (主体标识码, GB 11714: 8 characters + MOD 11 check character,
  which is a digit or ``X``),
* position 18: check character, ISO 7064 MOD 31-3 over the first 17 characters.

Unlike python-stdnum 2.2, codes whose first character is a letter (``A``, ``N``, ``Y``) are accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from xiangchuang.ids.errors import IdValidationError
from xiangchuang.ids.masking import mask_uscc

__all__ = [
    "AUTHORITIES",
    "CATEGORIES",
    "CHARSET",
    "Uscc",
    "make_uscc",
    "org_code_check_char",
    "uscc_check_char",
    "validate_uscc",
]

FIELD: Final = "统一社会信用代码"
LENGTH: Final = 18
CHARSET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES: Final[dict[str, int]] = {ch: i for i, ch in enumerate(CHARSET)}
_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_DIGITS: Final = frozenset("0123456789")
_FORBIDDEN: Final = frozenset("IOZSV")

AUTHORITIES: Final[dict[str, str]] = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "工商（市场监管）",
    "A": "中央军委改革和编制办公室",
    "N": "农业（农业农村）",
    "Y": "其他",
}
"""Registration-authority codes (GB 32100-2015 appendix A, with the later A and N additions)."""

CATEGORIES: Final[dict[str, dict[str, str]]] = {
    "1": {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
    "2": {"1": "外国常驻新闻机构", "9": "其他"},
    "3": {
        "1": "律师执业机构",
        "2": "公证处",
        "3": "基层法律服务所",
        "4": "司法鉴定机构",
        "5": "仲裁委员会",
        "9": "其他",
    },
    "4": {"1": "外国在华文化中心", "9": "其他"},
    "5": {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"},
    "6": {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"},
    "7": {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"},
    "8": {"1": "基层工会", "9": "其他"},
    "9": {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"},
    "A": {"1": "军队事业单位", "9": "其他"},
    "N": {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"},
    "Y": {"1": "其他"},
}
"""Organisation-category codes allowed for each authority."""


@dataclass(frozen=True, slots=True)
class Uscc:
    """A validated unified social credit code (upper case)."""

    code: str
    authority: str
    category: str
    region_code: int

    @property
    def authority_name(self) -> str:
        return AUTHORITIES[self.authority]

    @property
    def category_name(self) -> str:
        return CATEGORIES[self.authority][self.category]

    @property
    def org_code(self) -> str:
        """Positions 9–17: the GB 11714 organisation code."""
        return self.code[8:17]

    def masked(self) -> str:
        return mask_uscc(self.code)


def _org_value(ch: str) -> int:
    # GB 11714: digits are their value, letters A–Z are 10–35.
    return int(ch) if ch in _DIGITS else ord(ch) - ord("A") + 10


def org_code_check_char(body8: str) -> str:
    """GB 11714 MOD 11 check character (``0``–``9`` or ``X``) for an 8-character organisation code."""
    if len(body8) != 8 or any(ch not in _VALUES for ch in body8):
        raise IdValidationError(FIELD, "计算组织机构代码校验码需要8位代码字符")
    remainder = 11 - sum(_org_value(ch) * w for ch, w in zip(body8, _ORG_WEIGHTS, strict=True)) % 11
    if remainder == 11:
        return "0"
    if remainder == 10:
        return "X"
    return str(remainder)


def uscc_check_char(first17: str) -> str:
    """ISO 7064 MOD 31-3 check character for the first 17 characters."""
    if len(first17) != LENGTH - 1 or any(ch not in _VALUES for ch in first17):
        raise IdValidationError(FIELD, "计算校验码需要前17位代码字符")
    total = sum(_VALUES[ch] * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def validate_uscc(text: str) -> Uscc:
    """Validate a unified social credit code; lower case is accepted and upper-cased.

    Raises only :class:`IdValidationError`.
    """
    if not isinstance(text, str):
        raise IdValidationError(FIELD, "必须为文本")
    code = text.strip().upper()
    if not code:
        raise IdValidationError(FIELD, "不能为空")
    masked = mask_uscc(code)
    if len(code) != LENGTH:
        raise IdValidationError(FIELD, f"长度应为18位，实际为{len(code)}位", masked_value=masked)
    if any(ch in _FORBIDDEN for ch in code):
        raise IdValidationError(FIELD, "不得包含字母I、O、Z、S、V", masked_value=masked)
    if any(ch not in _VALUES for ch in code):
        raise IdValidationError(FIELD, "只能由数字和大写英文字母组成", masked_value=masked)

    authority, category = code[0], code[1]
    if authority not in AUTHORITIES:
        raise IdValidationError(FIELD, f"第1位登记管理部门代码无效：{authority}", masked_value=masked)
    if category not in CATEGORIES[authority]:
        raise IdValidationError(
            FIELD,
            f"第2位机构类别代码无效：登记管理部门“{AUTHORITIES[authority]}”下没有类别{category}",
            masked_value=masked,
        )
    region = code[2:8]
    if any(ch not in _DIGITS for ch in region):
        raise IdValidationError(FIELD, "第3–8位行政区划码只能是数字", masked_value=masked)

    org_expected = org_code_check_char(code[8:16])
    if code[16] != org_expected:
        raise IdValidationError(
            FIELD, f"第17位组织机构代码校验码错误（GB 11714），应为{org_expected}", masked_value=masked
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise IdValidationError(FIELD, f"校验码错误（GB 32100 MOD 31），应为{expected}", masked_value=masked)

    return Uscc(code=code, authority=authority, category=category, region_code=int(region))


def make_uscc(authority: str, category: str, region_code: int, org_seq: int) -> str:
    """Build a valid code (synthetic data only).

    ``org_seq`` (0–99 999 999) becomes the 8-digit organisation-code body; positions 17 and 18 are
    computed.
    """
    if authority not in AUTHORITIES:
        raise ValueError(f"登记管理部门代码无效：{authority!r}")
    if category not in CATEGORIES[authority]:
        raise ValueError(f"登记管理部门{authority}下没有机构类别{category!r}")
    if isinstance(region_code, bool) or not 0 <= region_code <= 999999:
        raise ValueError(f"行政区划码必须是6位整数：{region_code}")
    if isinstance(org_seq, bool) or not 0 <= org_seq <= 99_999_999:
        raise ValueError(f"组织机构代码序号必须在0–99999999之间：{org_seq}")
    body8 = f"{org_seq:08d}"
    first17 = f"{authority}{category}{region_code:06d}{body8}{org_code_check_char(body8)}"
    return first17 + uscc_check_char(first17)
