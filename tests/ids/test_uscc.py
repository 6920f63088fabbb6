from __future__ import annotations

import pytest

from xiangchuang.ids import IdValidationError, make_uscc, uscc_check_char, validate_uscc
from xiangchuang.ids.uscc import AUTHORITIES, CATEGORIES, org_code_check_char

# Published real-world codes (business licences / credit-China listings).
REAL_CODES = [
    "91110000600037341L",  # python-stdnum doctest
    "9144030071526726XG",  # 深圳市腾讯计算机系统有限公司 (org code check char X)
    "91110000710926094P",  # 中国石油化工股份有限公司
    "91310000631696382C",  # 宝山钢铁股份有限公司
    "91420684MA4927PJ7B",  # post-2015 "MA" organisation code with letters
    "121200004013590816",  # 事业单位 (authority 1)
]


def _error(text: str) -> IdValidationError:
    with pytest.raises(IdValidationError) as info:
        validate_uscc(text)
    err = info.value
    assert err.field == "统一社会信用代码"
    assert str(err).startswith("统一社会信用代码：")
    if len(text.strip()) >= 8:
        assert text.strip().upper() not in str(err)
    return err


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_accepted(code: str) -> None:
    uscc = validate_uscc(code)
    assert uscc.code == code
    assert uscc.authority == code[0]
    assert uscc.category == code[1]
    assert uscc.region_code == int(code[2:8])


def test_fields_and_names() -> None:
    uscc = validate_uscc("91110000600037341L")
    assert uscc.authority_name == "工商（市场监管）"
    assert uscc.category_name == "企业"
    assert uscc.org_code == "600037341"


def test_lowercase_accepted() -> None:
    assert validate_uscc(" 9144030071526726xg ").code == "9144030071526726XG"


def test_check_char_known_answers() -> None:
    assert uscc_check_char("91110000600037341") == "L"
    assert uscc_check_char("9144030071526726X") == "G"
    assert org_code_check_char("71526726") == "X"
    assert org_code_check_char("60003734") == "1"


@pytest.mark.parametrize(("authority", "category"), [("N", "2"), ("N", "3"), ("Y", "1"), ("A", "1")])
def test_letter_authorities_accepted(authority: str, category: str) -> None:
    """python-stdnum 2.2 rejects these; GB 32100 allows them."""
    code = make_uscc(authority, category, 500101, 12345678)
    assert code[0] == authority
    uscc = validate_uscc(code)
    assert uscc.authority == authority
    assert uscc.region_code == 500101


def test_n_code_fixed_vector() -> None:
    assert make_uscc("N", "2", 500101, 12345678) == "N2500101123456788F"
    assert validate_uscc("N2500101123456788F").category_name == "村级集体经济组织"


def test_wrong_final_check_char() -> None:
    err = _error("91110000600037341M")
    assert err.rule == "校验码错误（GB 32100 MOD 31），应为L"


def test_wrong_org_code_check_char() -> None:
    # Change position 17 and recompute position 18 so only the GB 11714 check fails.
    first17 = "91110000600037342"
    err = _error(first17 + uscc_check_char(first17))
    assert "GB 11714" in err.rule


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_forbidden_letters_rejected(letter: str) -> None:
    code = "91110000600037341L"
    err = _error(code[:10] + letter + code[11:])
    assert err.rule == "不得包含字母I、O、Z、S、V"


def test_forbidden_lowercase_letter_rejected() -> None:
    _error("91110000600037341o")


@pytest.mark.parametrize("authority", ["0", "B", "M", "X"])
def test_unknown_authority_rejected(authority: str) -> None:
    first17 = f"{authority}1500101600037341"
    assert "登记管理部门" in _error(first17 + uscc_check_char(first17)).rule


def test_category_not_allowed_for_authority() -> None:
    first17 = "94500101600037341"  # 工商 has only 1, 2, 3
    assert "机构类别" in _error(first17 + uscc_check_char(first17)).rule


def test_region_must_be_digits() -> None:
    first17 = "9150010A600037341"
    assert "行政区划码" in _error(first17 + uscc_check_char(first17)).rule


@pytest.mark.parametrize(
    "text", ["", "9111000060003734", "91110000600037341LL", "91110000-600037341L", "９1110000600037341L"]
)
def test_malformed_rejected(text: str) -> None:
    _error(text)


def test_every_category_round_trips() -> None:
    for authority, categories in CATEGORIES.items():
        assert authority in AUTHORITIES
        for category in categories:
            code = make_uscc(authority, category, 500000, 7654321)
            assert validate_uscc(code).category == category


def test_make_uscc_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        make_uscc("Z", "1", 500101, 1)
    with pytest.raises(ValueError):
        make_uscc("9", "4", 500101, 1)
    with pytest.raises(ValueError):
        make_uscc("9", "1", 5001010, 1)
    with pytest.raises(ValueError):
        make_uscc("9", "1", 500101, 100_000_000)
