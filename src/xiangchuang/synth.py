"""Synthetic Chongqing data for the demo, the tests and the benchmarks (合成数据，非真实个人信息).

``generate(businesses, seed)`` builds every input table of the policy engine (the columns documented in
``engine.facts.TABLES``) plus the registry's PII columns (names, 身份证号, 统一社会信用代码, 手机号):
about 3 persons, 2 hires, 3–4 business-years and 12–15 monthly contributions per business, and a
register of what was already granted. Everything is vectorized NumPy / Arrow compute, so a million
businesses take well under a few minutes; the same seed always gives identical tables.

Column encodings (the batch files): ids and enums are strings, dates Arrow ``date32``, months
``"YYYY-MM"`` strings, bools Arrow bools, ints and fen ``int64`` (fen are integer 分, never floats),
district codes ``int32``, groups a ``list<string>`` in Parquet and a ``|``-joined string in CSV (an
empty string is a known "none"). A null is an unknown fact; a small share of facts is left null on
purpose so that the engine's unknown handling is exercised.

All identifiers are synthetic. 身份证号 use the hukou district as region code (for the project's
functional-zone codes 500190/500192/500193, which are not GB/T 2260 codes, the real codes
500112/500107/500110); check characters use the same weights as ``xiangchuang.ids``.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from xiangchuang.engine.dates import add_months, anniversary, civil_from_days, month_index, to_day
from xiangchuang.engine.districts import load_districts
from xiangchuang.engine.facts import GROUPS, TABLES
from xiangchuang.engine.parameters import load_parameters

__all__ = [
    "ID_REGION_OF_ZONE",
    "MOBILE_PREFIXES",
    "TABLE_NAMES",
    "generate",
    "read",
    "resident_ids",
    "summary",
    "usccs",
    "write",
]

I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
U8 = npt.NDArray[np.uint8]

TABLE_NAMES: Final = tuple(TABLES)

# ---- identifiers -------------------------------------------------------------------------------------

ID_REGION_OF_ZONE: Final[dict[int, int]] = {500190: 500112, 500192: 500107, 500193: 500110}
"""Region code used in 身份证号/USCC for the project-assigned functional-zone codes (not GB/T 2260)."""

_RID_WEIGHTS: Final = np.array((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), dtype=np.int64)
_RID_CHECK: Final = np.frombuffer(b"10X98765432", dtype=np.uint8)
_USCC_CHARSET: Final = b"0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS: Final = np.array(
    (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28), dtype=np.int64
)
_ORG_WEIGHTS: Final = np.array((3, 7, 9, 10, 5, 8, 4, 2), dtype=np.int64)
_USCC_VALUE: Final = np.zeros(256, dtype=np.int64)
_USCC_VALUE[np.frombuffer(_USCC_CHARSET, dtype=np.uint8)] = np.arange(len(_USCC_CHARSET))
_ORG_VALUE: Final = np.zeros(256, dtype=np.int64)  # GB 11714: digits are their value, A–Z are 10–35
_ORG_VALUE[48:58] = np.arange(10)
_ORG_VALUE[65:91] = np.arange(10, 36)
_ORG_CHECK: Final = np.frombuffer(b"0" + b"123456789X" + b"0", dtype=np.uint8)  # index 11 - s % 11 (1..11)

# Mobile prefixes (3 digits) with rough shares; every 8-digit continuation is a valid CN mobile number.
MOBILE_PREFIXES: Final = (
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158, 159,
    166, 173, 177, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 199,
)  # fmt: skip
_BIG_PRIME: Final = 2_654_435_761  # multiplier of the id bijections (coprime to every modulus used)

# ---- vocabularies ------------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_SURNAMES: Final = _words(
    "陈 李 王 刘 张 杨 周 黄 罗 谭 唐 何 吴 邓 冉 向 彭 胡 曾 徐 熊 赵 余 蒋 袁 任 冯 谢 廖 肖 龚 郑 秦 蔡 "
    "朱 田 汪 付 梁 高 马 程 林 郭 杜 雷 文 钟 邹 孙 石 夏 江 牟 税 甘 况 卢 舒 代 韩 苏 魏 吕 丁 沈 姚 "
    "崔 陶 贺 顾 毛 郝 邵 万 严 覃 武 戴 莫 孔 汤 欧阳 司马 上官"
)
_MALE_CHARS: Final = _words(
    "伟 强 军 勇 杰 涛 明 超 平 刚 辉 鹏 波 斌 宇 浩 俊 峰 磊 林 建 国 志 文 兵 成 德 海 东 亮 飞 龙 云 川 "
    "江 渝 贵 福 洪 华 新 阳 毅 锋 彬 凯 朝 松 兴 利 祥 正 永"
)
_FEMALE_CHARS: Final = _words(
    "芳 娟 敏 静 丽 艳 秀 英 玲 霞 燕 婷 雪 琳 梅 兰 萍 红 慧 莉 倩 洁 佳 欣 颖 琴 蓉 琼 丹 露 月 春 晓 莎 "
    "璐 媛 琦 悦 巧 凤"
)
_TRADE_CHARS: Final = _words(
    "兴 旺 富 民 丰 源 鑫 盛 达 德 顺 和 美 福 嘉 华 康 泰 祥 瑞 金 山 水 青 绿 乡 农 禾 田 园 春 秋 "
    "云 峰 川 江 渝 巴 蜀 宏 益 恒 誉 信 诚 佳 新 联 裕 茂 丰 乐 安 吉 润 晟 锦 汇 荣"
)

INDUSTRIES: Final = (
    "农业种养殖",
    "农产品加工",
    "乡村旅游",
    "电子商务",
    "餐饮",
    "手工艺",
    "商贸",
    "建筑",
    "物流",
)
_INDUSTRY_BY_KIND: Final = np.array(
    [  # enterprise, individual_business, farmer_cooperative, other
        [0.22, 0.12, 0.10, 0.14, 0.08, 0.04, 0.15, 0.08, 0.07],
        [0.25, 0.08, 0.08, 0.15, 0.18, 0.05, 0.15, 0.02, 0.04],
        [0.70, 0.20, 0.06, 0.02, 0.00, 0.02, 0.00, 0.00, 0.00],
        [0.50, 0.15, 0.20, 0.05, 0.00, 0.05, 0.05, 0.00, 0.00],
    ]
)
_ONLINE_SHARE: Final = np.array([0.45, 0.55, 0.40, 0.95, 0.35, 0.60, 0.45, 0.05, 0.30])
# Per industry, three name parts for each kind of business.
_ENTERPRISE_WORDS: Final = (
    ("农业发展", "生态农业", "种养殖"),
    ("食品", "农产品加工", "粮油"),
    ("旅游开发", "乡村旅游开发", "文旅发展"),
    ("电子商务", "网络科技", "电商"),
    ("餐饮管理", "餐饮服务", "食品餐饮"),
    ("文化创意", "工艺品", "非遗文化"),
    ("商贸", "贸易", "农资"),
    ("建筑工程", "建设工程", "装饰工程"),
    ("物流", "供应链管理", "运输"),
)
_SHOP_WORDS: Final = (
    ("家庭农场", "种植场", "养殖场"),
    ("农产品加工坊", "粮油加工厂", "腊肉加工坊"),
    ("民宿", "农家乐", "山庄"),
    ("电商店", "网店", "电子商务经营部"),
    ("餐馆", "小吃店", "火锅店"),
    ("手工坊", "竹编工作室", "刺绣坊"),
    ("便利店", "商行", "百货店"),
    ("建材经营部", "装饰工程队", "五金店"),
    ("快递服务部", "物流配送站", "运输经营部"),
)
_COOP_WORDS: Final = (
    ("柑橘种植", "生猪养殖", "蔬菜种植"),
    ("榨菜", "花椒", "茶叶"),
    ("乡村旅游", "休闲农业", "农旅"),
    ("农产品电商", "电商", "网销"),
    ("特色餐饮", "农家餐饮", "餐饮"),
    ("竹编", "蜀绣", "手工艺"),
    ("农资", "农产品购销", "果蔬购销"),
    ("农村建筑", "农房建设", "建筑"),
    ("农产品物流", "冷链物流", "运输"),
)

# 1-year LPR (bp) from each date on; before 2019-08-20 the last pre-reform value.
_SCHEDULES: Final = (
    "1:100/50/0;2:50/0/0",
    "1:100/100/50;2:50/50/0;3:30/0/0",
    "1:50/50/50",
    "1:100/0/0;2:100/0/0;3:50/0/0",
)

_GROUP_NAMES: Final = tuple(sorted(GROUPS, key=lambda g: GROUPS[g][0]))
_G: Final = {name: GROUPS[name][0] for name in GROUPS}


def _choices(table: str, column: str) -> tuple[str, ...]:
    for fact in TABLES[table]:
        if fact.name == column:
            return fact.choices
    raise KeyError(column)


# ---- small vectorized helpers ------------------------------------------------------------------------


def _ymd(days: I64) -> tuple[I64, I64, I64]:
    y, m, d = civil_from_days(np.asarray(days, dtype=np.int64))
    return y.astype(np.int64), m.astype(np.int64), d.astype(np.int64)


def _month_of(days: I64) -> I64:
    """Months since 1970-01."""
    return month_index(np.asarray(days, dtype=np.int32)).astype(np.int64)


def _month_start(months: I64) -> I64:
    return np.asarray(months, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _year_start(years: I64) -> I64:
    return (
        (np.asarray(years, dtype=np.int64) - 1970)
        .astype("datetime64[Y]")
        .astype("datetime64[D]")
        .astype(np.int64)
    )


def _anniv(days: I64, years: int) -> I64:
    return anniversary(np.asarray(days, dtype=np.int32), years).astype(np.int64)


def _expand(counts: I64) -> tuple[I64, I64]:
    """Owner row and position within the owner for ``counts[i]`` rows per owner."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(owner.size, dtype=np.int64) - starts[owner]


def _digits_into(mat: U8, col: int, values: I64, width: int) -> None:
    v = np.asarray(values, dtype=np.int64)
    for k in range(width):
        mat[:, col + k] = (v // 10 ** (width - 1 - k)) % 10 + 48


def _ascii(mat: U8, valid: Bools | None = None) -> pa.Array:
    """Fixed-width ASCII rows → an Arrow string array without a per-row Python step."""
    n, w = mat.shape
    offsets = np.arange(n + 1, dtype=np.int64) * w
    typ = pa.string()
    if offsets[-1] < 2**31 - 1:
        offsets = offsets.astype(np.int32)
    else:
        typ = pa.large_string()
    bitmap = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    data = np.ascontiguousarray(mat)
    return pa.Array.from_buffers(typ, n, [bitmap, pa.py_buffer(offsets), pa.py_buffer(data)])


def _id_strings(prefix: str, numbers: I64, valid: Bools | None = None) -> pa.Array:
    numbers = np.asarray(numbers, dtype=np.int64)
    width = max(7, len(str(int(numbers.max())))) if numbers.size else 7
    mat = np.empty((numbers.size, len(prefix) + width), dtype=np.uint8)
    mat[:, : len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    _digits_into(mat, len(prefix), numbers, width)
    return _ascii(mat, valid)


def _ids(prefix: str, n: int) -> pa.Array:
    """``prefix`` + a zero-padded number 1..n (at least 7 digits); references use ``pc.take`` on these."""
    return _id_strings(prefix, np.arange(1, n + 1, dtype=np.int64))


def _take(vocab: pa.Array | tuple[str, ...] | list[str], idx: I64, null: Bools | None = None) -> pa.Array:
    arr = vocab if isinstance(vocab, pa.Array) else pa.array(list(vocab), type=pa.string())
    return pc.take(arr, pa.array(np.asarray(idx, dtype=np.int64), mask=null))


def _concat(*parts: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _date(days: I64, null: Bools | None = None) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int64).astype("datetime64[D]"), type=pa.date32(), mask=null)


def _int(values: Any, null: Bools | None = None, typ: pa.DataType | None = None) -> pa.Array:
    return pa.array(np.asarray(values).astype(np.int64), type=typ or pa.int64(), mask=null)


def _bool(values: Any, null: Bools | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.bool_), type=pa.bool_(), mask=null)


def _months(months: I64, null: Bools | None = None) -> pa.Array:
    """'YYYY-MM' strings for months since 1970-01."""
    m = np.asarray(months, dtype=np.int64)
    if m.size == 0:
        return pa.array([], type=pa.string())
    lo, hi = int(m.min()), int(m.max())
    labels = [f"{1970 + k // 12:04d}-{k % 12 + 1:02d}" for k in range(lo, hi + 1)]
    return _take(labels, m - lo, null)


def _null_str(n: int) -> pa.Array:
    return pa.nulls(n, type=pa.string())


def _weighted(rng: np.random.Generator, p: Any, n: int) -> I64:
    p = np.asarray(p, dtype=np.float64)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").astype(np.int64)


def _city_values(name: str, days: I64) -> tuple[npt.NDArray[np.bool_], I64]:
    """Whether a parameter has a value on each day, and its city value there (0 where none)."""
    param = load_parameters()[name]
    ver = param.lookup(None, days.astype(np.int32))
    ver = np.broadcast_to(ver, days.shape)
    in_force = ver >= 0
    return in_force, np.where(in_force, param.ints(ver), 0).astype(np.int64)


def _clip_idx(idx: I64, k: int) -> I64:
    return np.minimum(idx, k - 1)


# ---- check characters (vectorized, same weights as xiangchuang.ids) -----------------------------------


def resident_ids(region: I64, birth_days: I64, seq: I64) -> pa.Array:
    """Valid 18-character 身份证号 (GB 11643) for region codes, birth days and sequence numbers 0–999."""
    n = len(region)
    mat = np.empty((n, 18), dtype=np.uint8)
    y, m, d = _ymd(birth_days)
    _digits_into(mat, 0, region, 6)
    _digits_into(mat, 6, y, 4)
    _digits_into(mat, 10, m, 2)
    _digits_into(mat, 12, d, 2)
    _digits_into(mat, 14, seq, 3)
    total = np.zeros(n, dtype=np.int64)
    for k in range(17):
        total += (mat[:, k].astype(np.int64) - 48) * _RID_WEIGHTS[k]
    mat[:, 17] = _RID_CHECK[total % 11]
    return _ascii(mat)


def usccs(authority: U8, category: U8, region: I64, serial: I64) -> pa.Array:
    """Valid 统一社会信用代码 (GB 32100): authority/category as ASCII bytes, 6-digit region, and a serial
    (0 ≤ serial < 31**6) encoded as a post-2015 organisation code ``MA`` + 6 characters."""
    n = len(region)
    mat = np.empty((n, 18), dtype=np.uint8)
    mat[:, 0] = authority
    mat[:, 1] = category
    _digits_into(mat, 2, region, 6)
    mat[:, 8] = ord("M")
    mat[:, 9] = ord("A")
    charset = np.frombuffer(_USCC_CHARSET, dtype=np.uint8)
    s = np.asarray(serial, dtype=np.int64)
    for k in range(6):
        mat[:, 10 + k] = charset[(s // 31 ** (5 - k)) % 31]
    org = np.zeros(n, dtype=np.int64)
    for k in range(8):
        org += _ORG_VALUE[mat[:, 8 + k]] * _ORG_WEIGHTS[k]
    mat[:, 16] = _ORG_CHECK[11 - org % 11]
    total = np.zeros(n, dtype=np.int64)
    for k in range(17):
        total += _USCC_VALUE[mat[:, k]] * _USCC_WEIGHTS[k]
    mat[:, 17] = charset[(31 - total % 31) % 31]
    return _ascii(mat)


def _bijection(n: int, modulus: int, rng: np.random.Generator) -> I64:
    """n distinct pseudo-random numbers in [0, modulus) (n ≤ modulus)."""
    offset = int(rng.integers(0, modulus))
    return (np.arange(n, dtype=np.int64) * (_BIG_PRIME % modulus) + offset) % modulus


def _phones(n: int, rng: np.random.Generator) -> pa.Array:
    """Distinct valid CN mobile numbers (11 digits)."""
    k = len(MOBILE_PREFIXES)
    code = _bijection(n, k * 10**8, rng)
    code = code[rng.permutation(n)]
    mat = np.empty((n, 11), dtype=np.uint8)
    _digits_into(mat, 0, np.asarray(MOBILE_PREFIXES, dtype=np.int64)[code // 10**8], 3)
    _digits_into(mat, 3, code % 10**8, 8)
    return _ascii(mat)


def _person_names(male: Bools, rng: np.random.Generator) -> pa.Array:
    n = male.size
    ranks = np.arange(1, len(_SURNAMES) + 1, dtype=np.float64)
    sw = 1.0 / ranks**0.9
    sw[-3:] = 0.002  # the compound surnames are rare
    sur = _weighted(rng, sw, n)
    given = (*_MALE_CHARS, *_FEMALE_CHARS, "")
    nm, nf = len(_MALE_CHARS), len(_FEMALE_CHARS)
    g1 = np.where(male, rng.integers(0, nm, n), nm + rng.integers(0, nf, n))
    g2 = np.where(male, rng.integers(0, nm, n), nm + rng.integers(0, nf, n))
    g2 = np.where(rng.random(n) < 0.35, len(given) - 1, g2)
    vocab = pa.array(list(given), type=pa.string())
    return _concat(_take(_SURNAMES, sur), _take(vocab, g1), _take(vocab, g2))


# ---- the generator -----------------------------------------------------------------------------------


@dataclass
class _Districts:
    codes: I64
    names: tuple[str, ...]
    shorts: tuple[str, ...]
    weights: npt.NDArray[np.float64]
    id_region: I64


def _districts() -> _Districts:
    ds = load_districts()
    codes = np.array([d.code for d in ds], dtype=np.int64)
    pops = np.array([d.population_10k for d in ds], dtype=np.float64)
    id_region = np.array([ID_REGION_OF_ZONE.get(d.code, d.code) for d in ds], dtype=np.int64)
    return _Districts(
        codes, tuple(d.name for d in ds), tuple(d.short for d in ds), pops / pops.sum(), id_region
    )


class _Gen:
    def __init__(self, n: int, seed: int, start: dt.date, end: dt.date) -> None:
        if n < 1:
            raise ValueError("businesses 必须为正整数")
        if end <= start:
            raise ValueError("end 必须晚于 start")
        self.n = n
        self.rng = np.random.default_rng(seed)
        # Columns added after the data set's shape was fixed draw from a stream of their own, so
        # adding one leaves every other table of a seed as it was.
        self.rng_late = np.random.default_rng((seed, 1))
        self.start = to_day(start)
        self.end = to_day(end)
        self.end_year = end.year
        self.end_month = (end.year - 1970) * 12 + end.month - 1
        self.d = _districts()
        self.out: dict[str, pa.Table] = {}

    def nulls(self, n: int, frac: float) -> Bools:
        return self.rng.random(n) < frac

    def uniform_days(self, lo: I64, hi: I64) -> I64:
        """A uniform day in [lo, hi] per row (hi ≥ lo)."""
        lo = np.asarray(lo, dtype=np.int64)
        span = np.maximum(np.asarray(hi, dtype=np.int64) - lo, 0)
        out: I64 = lo + np.floor(self.rng.random(lo.size) * (span + 1)).astype(np.int64)
        return out

    # -- businesses ---------------------------------------------------------------------------------

    def businesses(self) -> None:
        rng, n, d = self.rng, self.n, self.d
        self.b_dist = _weighted(rng, d.weights, n)
        self.b_kind = _weighted(rng, [0.35, 0.60, 0.04, 0.01], n)  # order of facts' choices
        kind = self.b_kind
        self.b_industry = np.empty(n, dtype=np.int64)
        for k in range(4):
            sel = np.flatnonzero(kind == k)
            self.b_industry[sel] = _weighted(rng, _INDUSTRY_BY_KIND[k], sel.size)

        # Registration: spread over the period (more recent years busier), with edge cases.
        span = self.end - self.start
        reg = self.start + np.floor(rng.random(n) ** 0.85 * (span + 1)).astype(np.int64)
        r = rng.random(n)
        one_year_before_end = int(_anniv(np.array([self.end]), -1)[0])
        soon = r < 0.04  # reach 1 year of operation within ~6 weeks after `end`
        reg = np.where(soon, one_year_before_end + rng.integers(-5, 46, n), reg)
        reg = np.where((r >= 0.04) & (r < 0.05), one_year_before_end, reg)  # exactly 1 year on `end`
        for lo, leap in ((0.05, dt.date(2020, 2, 29)), (0.053, dt.date(2024, 2, 29))):
            lday = to_day(leap)
            if self.start <= lday <= self.end:
                reg = np.where((r >= lo) & (r < lo + 0.003), lday, reg)
        self.b_reg = np.clip(reg, self.start, self.end)

        self.b_status = _weighted(rng, [0.88, 0.06, 0.04, 0.02], n)
        gone = self.b_status >= 2
        self.b_stop = np.where(gone, self.uniform_days(self.b_reg, np.full(n, self.end)), self.end)

        # Size and staff.
        size = np.zeros(n, dtype=np.int64)
        ent = kind == 0
        rs = rng.random(n)
        size = np.where(ent & (rs < 0.04), 1, size)
        size = np.where(ent & (rs < 0.005), 2, size)
        self.b_size = size
        staff = np.where(
            kind == 1,
            1 + rng.poisson(2.0, n),
            np.where(
                kind == 0, np.maximum(1, np.rint(rng.lognormal(np.log(7.0), 0.9, n))), 3 + rng.poisson(8.0, n)
            ),
        ).astype(np.int64)
        staff = np.where(size == 1, rng.integers(100, 301, n), staff)
        staff = np.where(size == 2, rng.integers(300, 2001, n), staff)
        staff = np.where(ent & (size == 0), np.minimum(staff, 99), staff)
        edge = ent & (size == 0) & (rng.random(n) < 0.01)
        staff = np.where(edge, rng.choice(np.array([100, 101]), n), staff)
        self.b_staff = staff

        # Founder: one person per business, about 3 % of businesses share the founder of another one.
        reuse = rng.random(n) < 0.03
        own = np.flatnonzero(~reuse)
        founder = np.arange(n, dtype=np.int64)
        founder[reuse] = own[rng.integers(0, own.size, int(reuse.sum()))]
        self.b_founder = founder
        self.b_returning = rng.random(n) < 0.70

        # Carriers, in districts drawn by population. About 8 % of businesses are tenants, each of a
        # carrier in its own district: a business keeps the district drawn by population (moving
        # tenants to a carrier's district put 8 % of all businesses into the few carriers'
        # districts, far off the weights at small sizes). The tenants come from the districts that
        # have a carrier, at the rate that keeps their share at 8 %.
        self.carriers_n = max(5, n // 2000)
        self.c_dist = _weighted(rng, d.weights, self.carriers_n)
        by_dist = np.argsort(self.c_dist, kind="stable")  # carriers grouped by district
        count = np.bincount(self.c_dist, minlength=len(d.weights))
        start = np.concatenate(([0], np.cumsum(count)[:-1]))
        here = count[self.b_dist]
        hosted = here > 0
        rate = min(1.0, 0.08 * n / max(1, int(np.count_nonzero(hosted))))
        tenant = hosted & (rng.random(n) < rate)
        pick = start[self.b_dist] + (rng.random(n) * np.maximum(here, 1)).astype(np.int64)
        self.b_carrier = np.where(tenant, by_dist[np.minimum(pick, self.carriers_n - 1)], -1)
        self.c_ids = _ids("C", self.carriers_n)

        si_share = np.array([0.90, 0.55, 0.70, 0.70])
        self.b_si_payer = rng.random(n) < si_share[kind]
        self.b_online = rng.random(n) < _ONLINE_SHARE[self.b_industry]
        # Employer contribution per insured employee per month, fen (base 3,500–7,000 yuan × 26.8 %).
        self.b_si_month_fen = (rng.integers(3500, 7001, n) * 100 * 2680 + 5000) // 10000

    def business_table(self, new_hires: I64) -> pa.Table:
        rng, n, d = self.rng, self.n, self.d
        kind = self.b_kind
        ids = _ids("B", n)
        staff = self.b_staff
        new = np.minimum(new_hires, staff)
        edge = rng.random(n) < 0.02
        pick = rng.integers(0, 4, n)
        edge_staff = np.array([100, 101, 20, 7])[pick]
        edge_new = np.array([15, 9, 3, 1])[pick]
        small_ent = (kind == 0) & (self.b_size == 0)
        staff = np.where(edge & small_ent, np.maximum(staff, edge_staff), staff)
        new = np.where(edge & small_ent & (staff == edge_staff), edge_new, new)
        self.b_staff = staff

        # Workshops, honours, recommendation.
        ws = rng.random(n) < 0.02
        ws_new = ws & (rng.random(n) < 0.3)
        cost = (rng.integers(1000, 15001, n) * 10000).astype(np.int64)  # 100k–1.5M yuan in 100-yuan steps
        tenant = self.b_carrier >= 0
        ten_start = self.uniform_days(self.b_reg, np.full(n, self.end))
        rent = rng.integers(50_000, 800_001, n)
        prop = rng.integers(5_000, 80_001, n)
        util = rng.integers(10_000, 200_001, n)

        # Names and USCC.
        dname = pa.array(list(d.names), type=pa.string())
        dist_name = _take(dname, self.b_dist)
        trade = _concat(
            _take(_TRADE_CHARS, rng.integers(0, len(_TRADE_CHARS), n)),
            _take(_TRADE_CHARS, rng.integers(0, len(_TRADE_CHARS), n)),
        )
        word = self.b_industry * 3 + rng.integers(0, 3, n)
        ent_words = pa.array([w for ws_ in _ENTERPRISE_WORDS for w in ws_], type=pa.string())
        shop_words = pa.array([w for ws_ in _SHOP_WORDS for w in ws_], type=pa.string())
        coop_words = pa.array([w for ws_ in _COOP_WORDS for w in ws_], type=pa.string())
        city_prefix = pc.if_else(
            pa.array(rng.random(n) < 0.5), pa.scalar("重庆"), _concat(pa.scalar("重庆市"), dist_name)
        )
        e_name = _concat(
            city_prefix,
            trade,
            _take(ent_words, word),
            _take(("有限公司", "有限责任公司"), (rng.random(n) < 0.15).astype(np.int64)),
        )
        i_name = _concat(dist_name, trade, _take(shop_words, word))
        c_name = _concat(dist_name, trade, _take(coop_words, word), pa.scalar("专业合作社"))
        o_name = _concat(dist_name, trade, pa.scalar("村股份经济合作社"))
        name = pc.case_when(
            pc.make_struct(pa.array(kind == 0), pa.array(kind == 1), pa.array(kind == 2)),
            e_name,
            i_name,
            c_name,
            o_name,
        )
        auth = np.where(kind == 3, ord("N"), ord("9")).astype(np.uint8)
        cat = np.array([ord("1"), ord("2"), ord("3"), ord("2")], dtype=np.uint8)[kind]
        code = usccs(auth, cat, d.id_region[self.b_dist], _bijection(n, 31**6, rng)[rng.permutation(n)])

        rec_by = _weighted(rng, [0.90, 0.04, 0.06], n)
        status = _choices("businesses", "status")
        cols: dict[str, pa.Array] = {
            "id": ids,
            "district": _int(d.codes[self.b_dist], typ=pa.int32()),
            "kind": _take(_choices("businesses", "kind"), kind),
            "size_class": _take(_choices("businesses", "size_class"), self.b_size),
            "registration_date": _date(self.b_reg),
            "status": _take(status, self.b_status),
            "founder_id": pc.take(self.p_ids, pa.array(self.b_founder)),
            "founded_by_returning": _bool(self.b_returning, self.nulls(n, 0.01)),
            # Per-business 首次创办 is left to the founder's person-level flag (unknown here).
            "founder_first_business": pa.nulls(n, pa.bool_()),
            "staff_count": _int(staff, self.nulls(n, 0.01)),
            "new_eligible_hires": _int(new, self.nulls(n, 0.02)),
            "honour_city_level": _bool(rng.random(n) < 0.03, self.nulls(n, 0.01)),
            "recommended_by": _take(_choices("businesses", "recommended_by"), rec_by),
            "credit_rated": _bool(rng.random(n) < 0.2, self.nulls(n, 0.02)),
            "workshop_recognised": _bool(ws),
            "workshop_employed": _int(rng.poisson(18, n) + 3, ~ws),
            "workshop_new_build": _bool(ws_new, ~ws),
            "workshop_build_cost_fen": _int(cost, ~ws_new),
            "carrier_id": pc.take(self.c_ids, pa.array(self.b_carrier, mask=~tenant)),
            "tenancy_start": _date(ten_start, ~tenant),
            "rent_fen": _int(rent, ~tenant),
            "property_fee_fen": _int(prop, ~tenant),
            "utilities_fen": _int(util, ~tenant | self.nulls(n, 0.02)),
            "claim_year": pa.nulls(n, type=pa.int64()),
            "sales_year": pa.nulls(n, type=pa.int64()),
            "online_route": _null_str(n),
            "uscc": code,
            "name": name,
            "industry": _take(INDUSTRIES, self.b_industry),
        }
        self.b_ids = ids
        self.b_ws = ws
        return pa.table(cols)

    # -- hires (before persons: employees are created from them) ------------------------------------

    def hires(self) -> None:
        rng, n = self.rng, self.n
        count = np.minimum(rng.binomial(self.b_staff, 0.28), 25)
        self.h_bus, _ = _expand(count)
        h = self.h_bus.size
        self.h_n = h
        b = self.h_bus
        last = np.minimum(self.b_stop[b], self.end)
        u = rng.random(h) ** 0.6  # recent hires are more common
        self.h_date = self.b_reg[b] + np.floor(u * (last - self.b_reg[b] + 1)).astype(np.int64)
        self.h_date = np.minimum(self.h_date, last)
        self.h_contract = rng.random(h) < 0.91
        # About 1 % of hires are of a person already hired elsewhere.
        reuse = (rng.random(h) < 0.01) & (np.arange(h) > 0)
        fresh = ~reuse
        rank = np.cumsum(fresh) - 1
        person = self.n + rank
        fresh_idx = np.flatnonzero(fresh)
        person[reuse] = person[fresh_idx[rng.integers(0, fresh_idx.size, int(reuse.sum()))]]
        self.h_person = person
        self.h_fresh = fresh
        self.emp_n = int(fresh.sum())
        # Employees hired this year (for new_eligible_hires).
        this_year = (self.h_date >= _year_start(np.array([self.end_year]))[0]) & self.h_contract
        self.b_new_hires = np.bincount(b[this_year], minlength=n).astype(np.int64)

    # -- persons -----------------------------------------------------------------------------------

    def persons(self) -> pa.Table:
        rng, n, d = self.rng, self.n, self.d
        m = n + self.emp_n
        is_founder = np.zeros(n, dtype=bool)
        is_founder[self.b_founder] = True
        lic = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(lic, self.b_founder, self.b_reg)
        first_bus = np.full(n, -1, dtype=np.int64)  # the founder's (first listed) business
        first_bus[self.b_founder[::-1]] = np.arange(n - 1, -1, -1)
        shared = np.bincount(self.b_founder, minlength=n) > 1

        emp_hire = np.flatnonzero(self.h_fresh)  # the first hire of each employee
        emp_bus = self.h_bus[emp_hire]
        emp_date = self.h_date[emp_hire]

        founder = np.zeros(m, dtype=bool)
        founder[:n] = is_founder
        prospect = np.zeros(m, dtype=bool)
        prospect[:n] = ~is_founder
        employee = np.zeros(m, dtype=bool)
        employee[n:] = True
        fb = np.where(is_founder, first_bus, 0)  # business row for founder slots

        # Birth date and gender.
        age = np.empty(m, dtype=np.float64)
        anchor = np.empty(m, dtype=np.int64)
        age[:n] = np.clip(rng.normal(37, 9, n), 19, 62)
        # Ages are at the founder's earliest registration and at the employee's earliest hire (a
        # founder's first listed business, or an employee's first hire record, may not be the earliest).
        anchor[:n] = np.where(is_founder, lic, self.end)
        age[:n] = np.where(is_founder, age[:n], rng.uniform(19, 45, n))
        age[n:] = np.clip(rng.normal(36, 10, self.emp_n), 18, 59)
        first_hire = np.full(self.emp_n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first_hire, self.h_person - n, self.h_date)
        anchor[n:] = np.minimum(emp_date, first_hire)
        birth = anchor - np.floor(age * 365.2425).astype(np.int64) - rng.integers(0, 365, m)
        male = np.where(founder, rng.random(m) < 0.66, rng.random(m) < 0.5)

        # Hukou: mostly the business district.
        home = np.empty(m, dtype=np.int64)
        home[:n] = np.where(is_founder, self.b_dist[fb], _weighted(rng, d.weights, n))
        home[n:] = self.b_dist[emp_bus]
        move = rng.random(m) < np.where(employee, 0.15, 0.2)
        home = np.where(move, _weighted(rng, d.weights, m), home)

        # Key groups (bit mask).
        returning = np.zeros(m, dtype=bool)
        returning[:n] = np.where(is_founder, self.b_returning[fb], rng.random(n) < 0.5)
        returning[n:] = rng.random(self.emp_n) < 0.03
        ecom = np.zeros(m, dtype=bool)
        ecom[:n] = is_founder & (self.b_industry[fb] == 3)

        def p(founder_p: float, emp_p: float) -> npt.NDArray[np.float64]:
            return np.where(employee, emp_p, founder_p)

        probs: dict[str, npt.NDArray[np.float64] | float] = {
            "college_graduate": p(0.25, 0.15),
            "veteran": p(0.08, 0.04),
            "returning_migrant_worker": np.where(returning, 0.55, 0.0),
            "poverty_registered": p(0.07, 0.25),
            "registered_unemployed": p(0.06, 0.14),
            "dibao": p(0.02, 0.07),
            "hard_to_employ": p(0.03, 0.08),
            "disabled": p(0.02, 0.03),
            "released_prisoner": p(0.005, 0.005),
            "overcapacity_worker": p(0.01, 0.01),
            "online_merchant": np.where(ecom, 0.6, p(0.06, 0.01)),
            "farmer": p(0.30, 0.25),
            "age_4050": p(0.03, 0.12),
            "zero_employment_family": p(0.005, 0.02),
        }
        mask = np.zeros(m, dtype=np.int64)
        for gname, prob in probs.items():
            mask |= (rng.random(m) < prob).astype(np.int64) << _G[gname]

        # Graduation: about 22 years after birth, just before the hire for a share of graduate employees.
        by, _, _ = _ymd(birth)
        grad_year = by + 22 + rng.integers(-1, 3, m)
        grad = _year_start(grad_year) + np.where(rng.random(m) < 0.5, 180, 181)  # 30 Jun / 1 Jul
        young = age <= 28  # (a graduate hired just after graduating is young)
        recent = employee & (rng.random(m) < 0.6) & young
        grad = np.where(recent, anchor - rng.integers(0, 900, m), grad)
        exact = employee & (rng.random(m) < 0.05) & young
        grad = np.where(exact, _anniv(anchor, -2), grad)  # hired exactly on the 2nd anniversary
        grad = np.maximum(grad, birth + 365 * 19)
        is_grad = (mask >> _G["college_graduate"] & 1).astype(bool) & (grad <= self.end)
        mask &= ~(np.int64(1) << _G["college_graduate"])
        mask |= is_grad.astype(np.int64) << _G["college_graduate"]
        grad_null = ~is_grad | (rng.random(m) < 0.03)

        groups_null = self.nulls(m, 0.02)
        shown = np.where(groups_null, 0, mask)  # no hidden values under a null list
        bits = ((shown[:, None] >> np.arange(len(_GROUP_NAMES), dtype=np.int64)) & 1).astype(bool)
        rows, group_idx = np.nonzero(bits)
        offsets = np.zeros(m + 1, dtype=np.int32)
        np.cumsum(np.bincount(rows, minlength=m), out=offsets[1:])
        groups = pa.ListArray.from_arrays(
            pa.array(offsets), _take(_GROUP_NAMES, group_idx), mask=pa.array(groups_null)
        )

        # Other person facts.
        first_business = np.where(employee, rng.random(m) < 0.97, rng.random(m) < 0.85)
        first_business[:n] &= ~shared
        stable = ~first_business & (rng.random(m) < 0.5)
        has_lic = np.zeros(m, dtype=bool)
        has_lic[:n] = is_founder | (rng.random(n) < 0.1)
        has_lic[n:] = rng.random(self.emp_n) < 0.02
        lic_all = np.empty(m, dtype=np.int64)
        lic_all[:n] = np.where(
            is_founder, lic, self.uniform_days(np.full(n, self.start - 2000), np.full(n, self.end))
        )
        lic_all[n:] = self.uniform_days(np.full(self.emp_n, self.start - 2000), np.full(self.emp_n, self.end))
        adult = _anniv(birth, 18)  # no licence before the 18th birthday
        lic_all = np.where(founder, lic_all, np.minimum(np.maximum(lic_all, adult), self.end))
        intention = np.where(
            founder, rng.random(m) < 0.9, np.where(prospect, rng.random(m) < 0.7, rng.random(m) < 0.1)
        )
        age_end = (self.end - birth) / 365.2425
        ws = (intention & (age_end <= 35) & (rng.random(m) < 0.04)) | (rng.random(m) < 0.002)
        self.p_ws = ws
        self.p_birth, self.p_mask, self.p_lic, self.p_has_lic = birth, mask, lic_all, has_lic
        self.p_home = home
        self.p_intention = intention
        self.p_groups_null = groups_null
        self.p_n = m

        # 身份证号: sequence numbers unique within (region, birth date, gender), odd for men.
        region = d.id_region[home]
        key = (region * 100_000 + (birth + 30_000)) * 2 + male
        order = np.argsort(key, kind="stable")
        ks = key[order]
        new_group = np.ones(m, dtype=bool)
        new_group[1:] = ks[1:] != ks[:-1]
        gstart = np.maximum.accumulate(np.where(new_group, np.arange(m), 0))
        rank = np.empty(m, dtype=np.int64)
        rank[order] = np.arange(m) - gstart
        base = rng.integers(0, 500, m)
        base_sorted = base[order]
        gbase = np.empty(m, dtype=np.int64)
        gbase[order] = base_sorted[gstart]
        seq = ((gbase + rank) % 500) * 2 + male.astype(np.int64)

        self.p_ids = _ids("P", m)
        cols: dict[str, pa.Array] = {
            "id": self.p_ids,
            "birth_date": _date(birth),
            "gender": _take(("M", "F"), (~male).astype(np.int64)),
            "hukou_district": _int(d.codes[home], typ=pa.int32()),
            "groups": groups,
            "returning_entrepreneur": _bool(returning, self.nulls(m, 0.01)),
            "graduation_date": _date(grad, grad_null),
            "startup_intention": _bool(intention, self.nulls(m, 0.02)),
            "first_business": _bool(first_business, self.nulls(m, 0.02)),
            "second_time_founder_stable": _bool(stable, self.nulls(m, 0.02)),
            "honour_city_level": _bool(np.where(employee, rng.random(m) < 0.005, rng.random(m) < 0.03)),
            "has_licence": _bool(has_lic),
            "licence_date": _date(lic_all, ~has_lic),
            "holds_free_workstation": _bool(ws, self.nulls(m, 0.01)),
            "name": _person_names(male, rng),
            "id_number": resident_ids(region, birth, seq),
            "phone": _phones(m, rng),
        }
        return pa.table(cols)

    # -- contributions, hires table --------------------------------------------------------------------

    def contributions(self) -> pa.Table:
        rng, h = self.rng, self.h_n
        b = self.h_bus
        has = self.b_si_payer[b] & self.h_contract & (rng.random(h) < 0.95)
        first = np.maximum(_month_of(self.h_date), self.end_month - 23)
        stop_m = _month_of(self.b_stop[b])
        active = rng.random(h) < 0.7
        lag = (rng.random(h) < 0.3).astype(np.int64)
        last = np.where(
            active, self.end_month - lag, first + np.floor(rng.random(h) * (self.end_month - first + 1))
        )
        last = np.minimum(last.astype(np.int64), stop_m)
        count = np.where(has, np.maximum(last - first + 1, 0), 0)
        owner, pos = _expand(count)
        gap_at = np.where((count >= 3) & (rng.random(h) < 0.1), 1 + np.floor(rng.random(h) * (count - 2)), -1)
        keep = pos != gap_at.astype(np.int64)[owner]
        owner, pos = owner[keep], pos[keep]
        month = first[owner] + pos
        self.h_first_month, self.h_count = first, np.bincount(owner, minlength=h).astype(np.int64)
        self.h_run_end = np.where(count > 0, last, -1)
        # Per-hire monthly amount: base wage 3,000–9,000 yuan × 26.8 %, +3 % each calendar year.
        self.h_month_fen = (rng.integers(3000, 9001, h) * 100 * 2680 + 5000) // 10000
        year = month // 12 + 1970
        y0 = first // 12 + 1970
        amount = self.h_month_fen[owner] * (100 + 3 * (year - y0[owner])) // 100
        self.c_owner, self.c_month, self.c_amount = owner, month, amount
        return pa.table(
            {
                "hire_id": pc.take(self.h_ids, pa.array(owner)),
                "month": _months(month),
                "employer_fen": _int(amount),
            }
        )

    def hire_table(self) -> pa.Table:
        rng, h = self.rng, self.h_n
        period = rng.random(h) < 0.05
        ps = np.maximum(_month_of(self.h_date), self.end_month - 11)
        self.h_ids = _ids("H", h)
        return pa.table(
            {
                "id": self.h_ids,
                "business_id": pc.take(self.b_ids, pa.array(self.h_bus)),
                "person_id": pc.take(self.p_ids, pa.array(self.h_person)),
                "hire_date": _date(self.h_date),
                "contract": _bool(self.h_contract, self.nulls(h, 0.01)),
                "si_period_start": _months(ps, ~period),
                "si_period_end": _months(ps + 5, ~period),
            }
        )

    # -- business years ----------------------------------------------------------------------------

    def business_years(self) -> pa.Table:
        rng, n = self.rng, self.n
        y_first, m_first, _ = _ymd(self.b_reg)
        y_last, m_last, _ = _ymd(self.b_stop)
        count = y_last - y_first + 1
        owner, pos = _expand(count)
        self.by_start = np.cumsum(count) - count
        self.by_y0 = y_first
        year = y_first[owner] + pos
        months = np.full(owner.size, 12, dtype=np.int64)
        months = np.where(year == y_last[owner], m_last[owner], months)
        months = np.where(year == y_first[owner], months - m_first[owner] + 1, months)
        months = np.maximum(months, 1)

        # Employer social insurance: the insured staff of the year (growing towards today's staff)
        # × months × the business's monthly rate, never less than the hires' actual contributions.
        k = owner.size
        grow = 60 + 40 * (pos + 1) // count[owner]
        insured = np.maximum(self.b_staff[owner] * grow // 100, 1)
        si = np.where(self.b_si_payer[owner], insured * months * self.b_si_month_fen[owner], 0)
        c_year = self.c_month // 12 + 1970
        c_bus = self.h_bus[self.c_owner]
        row = self.by_start[c_bus] + (c_year - self.by_y0[c_bus])
        si = np.maximum(si, _sum_int(row, self.c_amount, k))

        # Online sales: heavy-tailed revenue, correlated orders and courier fees.
        online = self.b_online[owner]
        scale = rng.lognormal(np.log(180_000.0), 1.3, n)[owner] * rng.lognormal(0.0, 0.3, k) * months / 12.0
        rev_fen = np.where(online, np.rint(scale * 100.0), 0).astype(np.int64)
        aov = rng.lognormal(np.log(90.0), 0.5, n)[owner]
        orders = np.where(online, np.rint(rev_fen / 100.0 / aov), 0).astype(np.int64)
        r = rng.random(k)
        rev_fen = np.where(online & (r < 0.005), 50_000_000, rev_fen)
        rev_fen = np.where(online & (r >= 0.005) & (r < 0.007), 49_999_999, rev_fen)
        r2 = rng.random(k)
        orders = np.where(online & (r2 < 0.005), 2000, orders)
        orders = np.where(online & (r2 >= 0.005) & (r2 < 0.007), 1999, orders)
        fee = rng.integers(300, 1201, n)[owner]
        courier = orders * fee
        online_null = self.nulls(k, 0.02)
        self.by_si, self.by_rev, self.by_orders, self.by_courier = si, rev_fen, orders, courier
        self.by_owner, self.by_year = owner, year
        self.by_online_null = online_null
        return pa.table(
            {
                "business_id": pc.take(self.b_ids, pa.array(owner)),
                "year": _int(year),
                "employer_si_paid_fen": _int(si, self.nulls(k, 0.01)),
                "online_revenue_fen": _int(rev_fen, online_null),
                "online_orders": _int(orders, online_null),
                "courier_fees_fen": _int(courier, online_null),
            }
        )

    # -- loans -------------------------------------------------------------------------------------

    def loans(self) -> tuple[pa.Table, pa.Table]:
        rng, n, d = self.rng, self.n, self.d
        k = max(1, n // 10)
        kind = _weighted(rng, [0.68, 0.07, 0.25], k)
        ent = np.flatnonzero((self.b_kind == 0) & (self.b_size == 0))
        if ent.size == 0:
            ent = np.arange(n)
        b = np.where(kind == 2, ent[rng.integers(0, ent.size, k)], rng.integers(0, n, k))
        person = self.b_founder[b]
        reg = self.b_reg[b]
        contract = np.where(
            (kind < 2) & (rng.random(k) < 0.3),
            reg - rng.integers(0, 121, k),
            self.uniform_days(reg, np.full(k, self.end)),
        )
        contract = np.clip(contract, self.start, self.end)

        # Ceilings (yuan) by contract date: individual 200k → 300k (2024-05) → 500k (2025-06).
        t1, t2 = to_day(dt.date(2024, 5, 1)), to_day(dt.date(2025, 6, 1))
        era = (contract >= t1).astype(np.int64) + (contract >= t2)
        ind_cap = np.array([200_000, 300_000, 500_000])[era]
        sm_cap = np.array([3_000_000, 4_000_000, 6_000_000])[era]
        r = rng.random(k)
        ind = np.where(r < 0.45, ind_cap, rng.integers(5, ind_cap // 10_000, k) * 10_000)
        ind = np.where((r >= 0.45) & (r < 0.55), 100_000, ind)
        ind = np.where(r >= 0.96, ind_cap + rng.integers(1, 11, k) * 10_000, ind)
        partners = rng.integers(2, 7, k)
        per = ind_cap * 11 // 10
        part_total = np.minimum(partners * per, np.array([1_100_000, 4_000_000, 6_000_000])[era])
        part = np.where(r < 0.6, part_total, rng.integers(10, part_total // 10_000 + 1, k) * 10_000)
        sm = np.where(r < 0.35, sm_cap, rng.integers(5, sm_cap // 100_000 + 1, k) * 100_000)
        amount_yuan = np.select([kind == 0, kind == 1], [ind, part], sm)
        amount = amount_yuan * 100

        term = np.where(
            kind == 2,
            np.array([12, 24, 24, 36])[rng.integers(0, 4, k)],
            np.array([12, 24, 36, 36, 48])[rng.integers(0, 5, k)],
        )
        # The published LPR and the rate caps in force on each contract date (the engine's own
        # parameters); a contract before the first published LPR states none.
        lpr_in_force, lpr = _city_values("loan.lpr_1y_bp", contract)
        lpr = np.where(lpr_in_force, lpr, int(load_parameters()["loan.lpr_1y_bp"].versions[0].value))
        dist = self.b_dist[b]
        _, normal_cap = _city_values("loan.rate_cap_over_lpr_bp", contract)
        _, high_cap = _city_values("loan.rate_cap_high_over_lpr_bp", contract)
        high_codes = [
            int(c) for c in load_parameters()["loan.rate_cap_high_districts"].value_at_day(self.end)
        ]
        cap = np.where(np.isin(d.codes[dist], high_codes), high_cap, normal_cap)
        spread = np.where(
            rng.random(k) < 0.85,
            np.floor(rng.random(k) * (cap + 1) / 5) * 5,
            np.floor(rng.random(k) * (cap + 101) / 5) * 5,
        ).astype(np.int64)

        # Settlement: a calendar quarter within the loan's life (clipped to the loan's days).
        maturity = add_months(contract.astype(np.int32), term.astype(np.int64)).astype(np.int64) - 1
        life_end = np.minimum(maturity, self.end)
        u = self.uniform_days(contract, life_end)
        q = _month_of(u) // 3 * 3
        q_start, q_end = _month_start(q), _month_start(q + 3) - 1
        s_start = np.maximum(q_start, contract)
        s_end = np.minimum(q_end, life_end)
        s_null = self.nulls(k, 0.03)
        principal = np.where(
            rng.random(k) < 0.7, amount, amount * rng.integers(30, 100, k) // 100 // 10_000 * 10_000
        )
        excluded = np.where(rng.random(k) < 0.05, np.minimum(rng.integers(1, 31, k), s_end - s_start + 1), 0)
        is_person = kind < 2
        loans = pa.table(
            {
                "id": _ids("L", k),
                "kind": _take(_choices("loans", "kind"), kind),
                "borrower_id": pc.take(self.p_ids, pa.array(person, mask=~is_person)),
                "business_id": pc.take(self.b_ids, pa.array(b, mask=is_person & (contract < reg))),
                "district": _int(d.codes[dist], (kind == 2) & self.nulls(k, 0.3), pa.int32()),
                "contract_date": _date(contract),
                "amount_fen": _int(amount),
                "partners": _int(partners, kind != 1),
                "term_months": _int(term),
                "rate_bp": _int(lpr + spread),
                "lpr_bp": _int(lpr, ~lpr_in_force),
                "new_loan": _bool(rng.random(k) < 0.88, self.nulls(k, 0.01)),
                "recommended_by": _take(
                    _choices("loans", "recommended_by"), _weighted(rng, [0.88, 0.04, 0.08], k)
                ),
                "credit_rated": _bool(rng.random(k) < 0.25, self.nulls(k, 0.02)),
                "settle_start": _date(s_start, s_null),
                "settle_end": _date(s_end, s_null),
                "principal_fen": _int(principal, s_null),
                "excluded_days": _int(excluded, s_null),
            }
        )

        # Other outstanding loans of about 15 % of the personal borrowers.
        borrowers = np.unique(person[is_person])
        has = borrowers[rng.random(borrowers.size) < 0.15]
        two = rng.random(has.size) < 0.1
        who = np.sort(np.concatenate([has, has[two]]))
        j = who.size
        okind = _weighted(rng, [0.15, 0.25, 0.2, 0.25, 0.1, 0.05], j)
        lo = np.array([5_000, 200_000, 30_000, 2_000, 20_000, 5_000])[okind]
        hi = np.array([60_000, 1_200_000, 250_000, 80_000, 500_000, 100_000])[okind]
        amt = (lo + np.floor(rng.random(j) * (hi - lo) / 100) * 100).astype(np.int64) * 100
        other = pa.table(
            {
                "person_id": pc.take(self.p_ids, pa.array(who)),
                "kind": _take(_choices("other_loans", "kind"), okind),
                "amount_fen": _int(amt),
            }
        )
        return loans, other

    # -- trainings ---------------------------------------------------------------------------------

    def trainings(self) -> pa.Table:
        rng = self.rng
        n = self.n
        founders = np.flatnonzero(self.p_has_lic[:n] & (rng.random(n) < 0.15))
        prospects = np.flatnonzero(~self.p_has_lic[:n] & (rng.random(n) < 0.10))
        who = np.concatenate([founders, prospects])
        k = who.size
        kind = np.concatenate(
            [
                _weighted(rng, [0.55, 0.30, 0.15], founders.size),
                np.where(rng.random(prospects.size) < 0.8, 0, 2),
            ]
        )
        lic = self.p_lic[who]
        lic_ok = np.concatenate([np.ones(founders.size, bool), np.zeros(prospects.size, bool)])
        r = rng.random(k)
        ann = _anniv(lic, 1)
        syb = np.select(
            [r < 0.55, r < 0.9, r < 0.95],
            [lic - rng.integers(10, 401, k), lic + rng.integers(0, 365, k), ann],
            lic + rng.integers(366, 901, k),
        )
        iyb = np.select(
            [r < 0.7, r < 0.8, r < 0.85],
            [lic + rng.integers(366, 1401, k), ann, ann - 1],
            lic + rng.integers(30, 301, k),
        )
        start = np.where(kind == 1, iyb, syb)
        start = np.where(lic_ok, start, self.uniform_days(np.full(k, self.start), np.full(k, self.end - 30)))
        completion = start + np.where(kind == 2, rng.integers(3, 8, k), rng.integers(5, 15, k))
        keep = (completion <= self.end) & (start >= self.start - 365)
        who, kind, start, completion = who[keep], kind[keep], start[keep], completion[keep]
        order = np.argsort(start, kind="stable")
        who, kind, start, completion = who[order], kind[order], start[order], completion[order]
        self.t_who, self.t_kind, self.t_completion = who, kind, completion
        t = who.size
        self.t_ids = _ids("T", t)
        return pa.table(
            {
                "id": self.t_ids,
                "person_id": pc.take(self.p_ids, pa.array(who)),
                "kind": _take(_choices("trainings", "kind"), kind),
                "start_date": _date(start),
                "completion_date": _date(completion, self.nulls(t, 0.01)),
                # Where the training is held (a district's raised training values apply there).
                "district": _int(self.d.codes[_weighted(self.rng_late, self.d.weights, t)], typ=pa.int32()),
            }
        )

    # -- small tables ------------------------------------------------------------------------------

    def carriers(self) -> pa.Table:
        rng, c, d = self.rng, self.carriers_n, self.d
        kind = _weighted(rng, [0.35, 0.35, 0.10, 0.12, 0.08], c)
        level = _weighted(rng, [0.08, 0.40, 0.52], c)
        mun = self.uniform_days(np.full(c, to_day(dt.date(2016, 1, 1))), np.full(c, self.end - 200))
        has_mun = level <= 1
        nat = mun + rng.integers(365, 1461, c)
        has_nat = (level == 0) & (nat <= self.end)
        my, _, _ = _ymd(mun)
        award = np.where(rng.random(c) < 0.7, my + rng.integers(1, 4, c), self.end_year - 1)
        award = np.minimum(award, self.end_year)
        sched = rng.integers(0, len(_SCHEDULES), c)
        self.c_level, self.c_has_mun, self.c_mun_year, self.c_award, self.c_has_nat = (
            level,
            has_mun,
            my,
            award,
            has_nat,
        )
        return pa.table(
            {
                "id": self.c_ids,
                "kind": _take(_choices("carriers", "kind"), kind),
                "level": _take(_choices("carriers", "level"), level),
                "district": _int(d.codes[self.c_dist], typ=pa.int32()),
                "municipal_date": _date(mun, ~has_mun),
                "national_date": _date(nat, ~has_nat),
                "award_year": _int(award),
                "rating": _take(_choices("carriers", "rating"), _weighted(rng, [0.25, 0.4, 0.2, 0.15], c)),
                "schedule": _take(_SCHEDULES, sched, rng.random(c) < 0.5),
            }
        )

    def mentor_services(self) -> pa.Table:
        rng, d = self.rng, self.d
        k = max(5, self.n // 200)
        mentors = max(3, self.n // 2000)
        mentor = rng.integers(0, mentors, k)
        m_level = _weighted(rng, [0.3, 0.7], mentors)
        m_dist = _weighted(rng, d.weights, mentors)
        return pa.table(
            {
                "id": _ids("M", k),
                "mentor_id": _id_strings("MT", mentor + 1),
                "district": _int(d.codes[m_dist[mentor]], typ=pa.int32()),
                "level": _take(_choices("mentor_services", "level"), m_level[mentor]),
                "activity": _take(
                    _choices("mentor_services", "activity"), _weighted(rng, [0.3, 0.2, 0.4, 0.1], k)
                ),
                "units": _int(rng.integers(1, 11, k)),
                "rating": _take(
                    _choices("mentor_services", "rating"),
                    _weighted(rng, [0.25, 0.45, 0.25, 0.05], k),
                    self.nulls(k, 0.02),
                ),
                "confirmed": _bool(rng.random(k) < 0.9),
            }
        )

    def onjob_trainings(self) -> pa.Table:
        rng, d = self.rng, self.d
        k = max(5, self.n // 500)
        provider = _weighted(rng, [0.6, 0.2, 0.1, 0.1], k)
        skilled = np.where(provider == 0, rng.random(k) < 0.85, rng.random(k) < 0.6)
        return pa.table(
            {
                "id": _ids("O", k),
                "provider_kind": _take(_choices("onjob_trainings", "provider_kind"), provider),
                "founded_by_returning": _bool(rng.random(k) < 0.6, self.nulls(k, 0.02)),
                "district": _int(d.codes[_weighted(rng, d.weights, k)], typ=pa.int32()),
                "course_level": _take(
                    _choices("onjob_trainings", "course_level"), _weighted(rng, [0.45, 0.3, 0.1, 0.15], k)
                ),
                "trainees": _int(rng.integers(5, 61, k)),
                "skilled_post": _bool(skilled, self.nulls(k, 0.01)),
                "completion_date": _date(self.uniform_days(np.full(k, self.start), np.full(k, self.end))),
            }
        )

    # -- the register of what was granted --------------------------------------------------------------

    def received(self) -> pa.Table:
        rng, n, d = self.rng, self.n, self.d
        parts: list[dict[str, Any]] = []

        def add(
            program: str,
            subject: pa.Array,
            person: pa.Array,
            period: pa.Array,
            months: I64 | None,
            amount: I64,
            district: I64,
        ) -> None:
            k = len(amount)
            parts.append(
                {
                    "program": _take((program,), np.zeros(k, dtype=np.int64)),
                    "subject_id": subject,
                    "person_id": person,
                    "period": period,
                    "months": _int(
                        np.zeros(k) if months is None else months,
                        np.ones(k, bool) if months is None else None,
                    ),
                    "amount_fen": _int(amount),
                    "district": _int(d.codes[district], typ=pa.int32()),
                }
            )

        def years(y: I64) -> pa.Array:
            return pc.cast(pa.array(np.asarray(y, dtype=np.int64)), pa.string())

        founder = self.b_founder
        fmask = self.p_mask[founder]
        key = (1 << _G["college_graduate"]) | (1 << _G["veteran"]) | (1 << _G["returning_migrant_worker"])
        y0, _, _ = _ymd(self.b_reg)
        y_last, _, _ = _ymd(self.b_stop)
        avail = np.clip(np.minimum(self.end_year - 1, y_last) - y0, 0, None)
        cand = ((fmask & key) != 0) & self.b_si_payer & (avail > 0) & (rng.random(n) < 0.35)
        claims = np.where(cand, np.minimum(rng.integers(1, 4, n), np.minimum(avail, 3)), 0)
        bus, pos = _expand(claims)
        year = y0[bus] + 1 + pos
        row = self.by_start[bus] + (year - self.by_y0[bus])
        amount = (self.by_si[row] * 20 + 50) // 100
        add(
            "startup_subsidy",
            pc.take(self.b_ids, pa.array(bus)),
            pc.take(self.p_ids, pa.array(founder[bus])),
            years(year),
            None,
            amount,
            self.b_dist[bus],
        )

        # Online sales subsidy: a share of the businesses that once qualified.
        o, y = self.by_owner, self.by_year
        q = (
            ((self.by_rev >= 50_000_000) | (self.by_orders >= 2000))
            & self.b_returning[o]
            & (y < self.end_year)
            & ~self.by_online_null
        )
        rows = np.flatnonzero(q)
        _, first = np.unique(o[rows], return_index=True)
        rows = rows[first]
        rows = rows[rng.random(rows.size) < 0.15]
        by_rev = np.minimum((self.by_rev[rows] * 5 + 50) // 100, 20_000_000)
        by_ord = np.minimum((self.by_courier[rows] * 30 + 50) // 100, 20_000_000)
        amt = np.where(
            self.by_rev[rows] >= 50_000_000,
            np.maximum(by_rev, np.where(self.by_orders[rows] >= 2000, by_ord, 0)),
            by_ord,
        )
        bo = o[rows]
        add(
            "online_sales_subsidy",
            pc.take(self.b_ids, pa.array(bo)),
            pc.take(self.p_ids, pa.array(founder[bo])),
            years(y[rows]),
            None,
            amt,
            self.b_dist[bo],
        )

        # Job and social-insurance subsidies for hires of poor / unemployed-dibao persons.
        hm = self.p_mask[self.h_person]
        poor = (hm >> _G["poverty_registered"] & 1).astype(bool)
        udb = ((hm >> _G["registered_unemployed"]) & (hm >> _G["dibao"]) & 1).astype(bool)
        hb = self.h_bus
        job = (poor | udb) & (self.h_count >= 12) & (rng.random(self.h_n) < 0.3)
        jh = np.flatnonzero(job)
        # One job subsidy per hired person across employers (the register and the rule allow no
        # more): a person hired more than once is paid for the first of those hires only.
        _, first_hire = np.unique(self.h_person[jh], return_index=True)
        jh = jh[np.sort(first_hire)]
        jy = np.minimum(self.h_first_month[jh] // 12 + 1970 + 1, self.end_year)
        add(
            "job_subsidy",
            pc.take(self.b_ids, pa.array(hb[jh])),
            pc.take(self.p_ids, pa.array(self.h_person[jh])),
            years(jy),
            None,
            np.full(jh.size, 600_000, dtype=np.int64),
            self.b_dist[hb[jh]],
        )
        si = poor & (self.h_count >= 6) & (rng.random(self.h_n) < 0.25)
        sh = np.flatnonzero(si)
        months = np.where(self.h_count[sh] >= 12, np.where(rng.random(sh.size) < 0.5, 12, 6), 6)
        fm = self.h_first_month[sh]
        period = _concat(_months(fm), pa.scalar("/"), _months(fm + months - 1))
        add(
            "social_insurance_subsidy",
            pc.take(self.b_ids, pa.array(hb[sh])),
            pc.take(self.p_ids, pa.array(self.h_person[sh])),
            period,
            months,
            self.h_month_fen[sh] * months,
            self.b_dist[hb[sh]],
        )

        # Trainings paid on completion.
        done = np.flatnonzero((self.t_completion <= self.end - 30) & (rng.random(self.t_who.size) < 0.4))
        for kind_code, program, fee in (
            (0, "training_syb", 100_000),
            (1, "training_iyb", 100_000),
            (2, "training_online", 130_000),
        ):
            sel = done[self.t_kind[done] == kind_code]
            pid = pc.take(self.p_ids, pa.array(self.t_who[sel]))
            cy, _, _ = _ymd(self.t_completion[sel])
            fees = np.where((kind_code == 0) & (rng.random(sel.size) < 0.1), fee // 2, fee)
            add(program, pid, pid, years(cy), None, fees, self.p_home[self.t_who[sel]])

        # Workshop awards.
        ws = np.flatnonzero(self.b_ws & (rng.random(n) < 0.3))
        add(
            "workshop_award",
            pc.take(self.b_ids, pa.array(ws)),
            pc.take(self.p_ids, pa.array(founder[ws])),
            years(np.full(ws.size, self.end_year - 1)),
            None,
            rng.integers(2, 11, ws.size) * 1_000_000,
            self.b_dist[ws],
        )

        # Carrier awards (a small table: a loop is fine).
        c_sub: list[int] = []
        c_per: list[str] = []
        c_amt: list[int] = []
        for i in range(self.carriers_n):
            awards: list[tuple[str, int]] = []
            if self.c_has_mun[i] and rng.random() < 0.5:
                awards.append(("oneoff", 60_000_000))
            if self.c_has_nat[i] and rng.random() < 0.5:
                awards.append(("national", 50_000_000))
            perf_year = int(self.c_mun_year[i]) + 1
            if self.c_has_mun[i] and perf_year < self.end_year and rng.random() < 0.4:
                awards.append(
                    (f"performance:{perf_year}", int(rng.choice([30_000_000, 20_000_000, 10_000_000])))
                )
            for period_text, fen in awards:
                c_sub.append(i)
                c_per.append(period_text)
                c_amt.append(fen)
        c_rows = np.array(c_sub, dtype=np.int64)
        add(
            "carrier_award",
            pc.take(self.c_ids, pa.array(c_rows)),
            _null_str(c_rows.size),
            pa.array(c_per, type=pa.string()),
            None,
            np.array(c_amt, dtype=np.int64),
            self.c_dist[c_rows],
        )

        # Free workstations used last year.
        fw = np.flatnonzero(self.p_ws & (rng.random(self.p_n) < 0.8))
        py = self.end_year - 1
        pid = pc.take(self.p_ids, pa.array(fw))
        add(
            "free_workstation",
            pid,
            pid,
            _take((f"{py}-01-01/{py}-12-31",), np.zeros(fw.size, np.int64)),
            None,
            np.zeros(fw.size, dtype=np.int64),
            self.p_home[fw],
        )

        cols = {name: pa.concat_arrays([p[name] for p in parts]) for name in parts[0]}
        return pa.table(cols)

    # -- all ---------------------------------------------------------------------------------------

    def run(self) -> dict[str, pa.Table]:
        self.businesses()
        self.hires()
        persons = self.persons()
        businesses = self.business_table(self.b_new_hires)
        hires = self.hire_table()
        contributions = self.contributions()
        business_years = self.business_years()
        loans, other_loans = self.loans()
        trainings = self.trainings()
        carriers = self.carriers()
        mentor_services = self.mentor_services()
        onjob = self.onjob_trainings()
        received = self.received()
        out = {
            "persons": persons,
            "businesses": businesses,
            "business_years": business_years,
            "hires": hires,
            "contributions": contributions,
            "loans": loans,
            "other_loans": other_loans,
            "trainings": trainings,
            "mentor_services": mentor_services,
            "carriers": carriers,
            "onjob_trainings": onjob,
            "received": received,
        }
        return {name: out[name] for name in TABLE_NAMES}


def _sum_int(rows: I64, values: I64, k: int) -> I64:
    """Exact integer sums of ``values`` grouped by ``rows`` (0 ≤ rows < k), without float weights."""
    out = np.zeros(k, dtype=np.int64)
    if rows.size:
        np.add.at(out, rows, values)
    return out


# ---- public API --------------------------------------------------------------------------------------


def generate(
    businesses: int, seed: int, start: dt.date = dt.date(2019, 1, 1), end: dt.date = dt.date(2025, 12, 31)
) -> dict[str, pa.Table]:
    """Synthetic tables for ``businesses`` businesses registered between ``start`` and ``end``.

    Returns one Arrow table per input table of the engine (``engine.facts.TABLES``, same order), with
    the registry's PII columns added to ``persons`` and ``businesses``. Deterministic in ``seed``.
    """
    return _Gen(int(businesses), int(seed), start, end).run()


def summary(tables: dict[str, pa.Table]) -> dict[str, int]:
    """Row count per table."""
    return {name: t.num_rows for name, t in tables.items()}


def _for_csv(table: pa.Table) -> pa.Table:
    for i, f in enumerate(table.schema):
        if pa.types.is_list(f.type) or pa.types.is_large_list(f.type):
            table = table.set_column(i, f.name, pc.binary_join(table.column(i), "|"))
    return table


def write(
    tables: dict[str, pa.Table], out_dir: Path, fmt: Literal["parquet", "csv"] = "parquet"
) -> list[Path]:
    """Write ``<table>.parquet`` or ``<table>.csv`` per table into ``out_dir``; returns the paths.

    CSV: dates ISO, bools ``true``/``false``, groups ``|``-joined; strings are always quoted, so an
    unquoted empty field is a null (unknown) and ``""`` an empty string (for groups: known none).

    All or nothing: every table is first written into a staging directory inside ``out_dir`` (the
    same file system), then each is renamed into place and the same table's file of the other
    format is removed (``match`` refuses a directory holding both). A failure while writing leaves
    ``out_dir`` as it was; a target that is a directory is refused before anything is written.
    OSError (``filename`` set) otherwise.
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"不支持的格式：{fmt}")
    out_dir = Path(out_dir)
    other = "csv" if fmt == "parquet" else "parquet"
    for name in tables:
        for path in (out_dir / f"{name}.{fmt}", out_dir / f"{name}.{other}"):
            if path.is_dir():
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".synth-", suffix=".part", dir=out_dir))
    try:
        for name, table in tables.items():
            path = staging / f"{name}.{fmt}"
            try:
                if fmt == "parquet":
                    pq.write_table(table, path)
                else:
                    pacsv.write_csv(_for_csv(table), path)
            except (OSError, pa.ArrowException) as exc:  # (pyarrow's carry no filename)
                raise OSError(getattr(exc, "errno", None), str(exc), str(out_dir / path.name)) from None
        paths: list[Path] = []
        for name in tables:
            path = out_dir / f"{name}.{fmt}"
            os.replace(staging / path.name, path)
            (out_dir / f"{name}.{other}").unlink(missing_ok=True)
            paths.append(path)
        return paths
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read(path: Path, schema: pa.Schema | None = None) -> pa.Table:
    """Read one file written by :func:`write`. For CSV, ``schema`` (e.g. the generated table's) fixes
    the column types and turns ``|``-joined groups back into lists; without it types are inferred."""
    path = Path(path)
    if path.suffix == ".parquet":
        return pq.read_table(path)
    types = None
    if schema is not None:
        types = {f.name: (pa.string() if pa.types.is_list(f.type) else f.type) for f in schema}
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False
        ),
    )
    if schema is not None:
        for i, f in enumerate(schema):
            if pa.types.is_list(f.type):
                col = table.column(f.name)
                split = pc.split_pattern(col, "|")
                # "" means an empty list, not a list holding one empty string.
                empty = pc.equal(col, "")
                split = pc.if_else(empty, pa.scalar([], type=pa.list_(pa.string())), split)
                table = table.set_column(i, f.name, pc.cast(split, f.type))
    return table
