"""Chinese line breaking in the CLI's output (cli_common): amounts, dates and ids stay whole, no line
starts with closing punctuation or ends with opening punctuation, and nothing is lost."""

from __future__ import annotations

import itertools
import re
from io import StringIO

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from xiangchuang.cli_common import Table, chinese_words

SENTENCE = (
    "计算：按销售额：¥30,617.25；按快递费：¥9,360.00；默认取较高者，各自最高¥200,000.00（含本数），"
    "自2023-03-10起满足，依据渝人社发〔2020〕74号，以及 Apache-2.0 许可。"
)
WHOLE = ("¥30,617.25", "¥9,360.00", "¥200,000.00", "2023-03-10", "Apache-2.0")
OPENING, CLOSING = "（〔「", "，。、；：）〕」"


def _lines(width: int, renderable: object) -> list[str]:
    buf = StringIO()
    Console(file=buf, width=width, color_system=None).print(renderable)
    return buf.getvalue().splitlines()


@pytest.mark.parametrize("width", [16, 20, 27, 33, 40, 57, 80])
def test_a_report_line_breaks_between_chinese_characters_only(width):
    lines = _lines(width, SENTENCE)
    assert len(lines) > 1
    assert all(cell_len(line) <= width for line in lines)
    for token in WHOLE:
        assert any(token in line for line in lines), (token, lines)
    assert not any(line[:1] in CLOSING for line in lines)
    assert not any(line.rstrip()[-1:] in OPENING for line in lines)
    assert "".join(lines).replace(" ", "") == SENTENCE.replace(" ", "")


@pytest.mark.parametrize("width", [30, 36, 40, 48, 60])
def test_a_table_cell_breaks_the_same_way(width):
    table = Table()
    table.add_column("说明")
    table.add_column("取值")
    table.add_row(SENTENCE, "20%")
    # The first column's text, line by line (borders and padding removed).
    cells = [re.split(r"\s*│\s*", line)[1] for line in _lines(width, table) if line.startswith("│")]
    for token in WHOLE[:4]:
        assert any(token in cell for cell in cells), (token, cells)
    assert not any(cell[:1] in CLOSING for cell in cells)
    assert "".join(cells).replace(" ", "") == SENTENCE.replace(" ", "")


@given(st.text(alphabet=st.sampled_from(list("中文¥1,.0a b-（）〔〕，。、 \n")), max_size=40))
def test_words_cover_the_text_in_order(text):
    words = list(chinese_words(text))
    if not text.strip():
        assert words == []
        return
    assert words[0][0] == 0 and words[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(words))
    assert "".join(w for _, _, w in words) == text
