"""Date periods (民法典 第201–203条) and exact money."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from xiangchuang.engine.dates import (
    add_months,
    anniversary,
    anniversary_scalar,
    completed_years,
    from_day,
    month_index,
    month_start,
    to_day,
    years_of,
)
from xiangchuang.engine.money import fen_to_capital, format_fen, mul_rate_half_up, mul_rate_scalar


def test_anniversary_of_29_february_is_28_february_in_common_years():
    assert anniversary_scalar(dt.date(2020, 2, 29), 1) == dt.date(2021, 2, 28)
    assert anniversary_scalar(dt.date(2020, 2, 29), 4) == dt.date(2024, 2, 29)


def test_anniversary_column_matches_scalar_rule():
    days = np.asarray(
        [to_day(dt.date(2021, 3, 10)), to_day(dt.date(2020, 2, 29)), to_day(dt.date(2019, 12, 31))],
        dtype=np.int32,
    )
    got = [from_day(x) for x in anniversary(days, 1)]
    assert got == [dt.date(2022, 3, 10), dt.date(2021, 2, 28), dt.date(2020, 12, 31)]


@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2090, 1, 1)), st.integers(0, 40))
def test_anniversary_vectorized_equals_scalar(d, n):
    col = anniversary(np.asarray([to_day(d)], dtype=np.int32), n)
    assert from_day(int(col[0])) == anniversary_scalar(d, n)


@given(
    st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2060, 1, 1)),
    st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2090, 1, 1)),
)
def test_completed_years_agrees_with_anniversaries(start, on):
    n = int(completed_years(np.asarray([to_day(start)], np.int32), np.asarray([to_day(on)], np.int32))[0])
    if on >= start:
        assert anniversary_scalar(start, n) <= on < anniversary_scalar(start, n + 1)


@given(st.integers(0, 10**12), st.integers(0, 10**4), st.integers(1, 10**4))
def test_rate_times_base_equals_exact_decimal_half_up(base, num, den):
    expected = int((Decimal(base) * Decimal(num) / Decimal(den)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    got = mul_rate_half_up(np.asarray([base]), np.asarray([num]), np.asarray([den]))[0]
    assert int(got) == expected == mul_rate_scalar(base, Fraction(num, den))


def test_half_up_rounds_half_a_fen_up():
    assert int(mul_rate_half_up(np.asarray([5]), np.asarray([1]), np.asarray([10]))[0]) == 1  # 0.5 → 1
    assert int(mul_rate_half_up(np.asarray([12345672]), np.asarray([1]), np.asarray([5]))[0]) == 2469134  # .4
    assert int(mul_rate_half_up(np.asarray([12345673]), np.asarray([1]), np.asarray([5]))[0]) == 2469135  # .6


def test_money_display_and_capitals():
    assert format_fen(123450) == "¥1,234.50"
    assert fen_to_capital(123450) == "壹仟贰佰叁拾肆元伍角整"
    assert fen_to_capital(100010000) == "壹佰万零壹佰元整"
    # The largest amounts int64 fen can hold read in 亿亿 (it used to fail with an IndexError).
    assert fen_to_capital(4 * 10**18) == "肆亿亿元整"
    assert fen_to_capital(5) == "伍分"
    assert fen_to_capital(20000000) == "贰拾万元整"
    assert fen_to_capital(0) == "零元整"


@given(
    st.lists(
        st.tuples(
            st.dates(min_value=dt.date(1850, 1, 1), max_value=dt.date(2250, 1, 1)), st.integers(-600, 600)
        ),
        min_size=1,
        max_size=20,
    )
)
def test_add_months_table_and_arithmetic_paths_agree_with_the_scalar_rule(pairs):
    from xiangchuang.engine.dates import add_months, add_months_scalar

    days = np.asarray([to_day(d) for d, _ in pairs], dtype=np.int32)
    shifts = np.asarray([k for _, k in pairs], dtype=np.int64)
    per_row = add_months(days, shifts)  # arithmetic path
    for i, (d, k) in enumerate(pairs):
        assert from_day(int(per_row[i])) == add_months_scalar(d, k)
        one = add_months(days[i : i + 1], k)  # table path when in 1900-2199
        assert from_day(int(one[0])) == add_months_scalar(d, k)


@given(
    st.lists(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2060, 1, 1)), min_size=1, max_size=20),
    st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2090, 1, 1)),
    st.integers(0, 12),
)
def test_completed_years_of_a_column_equal_the_scalar_rule(starts, on, n):
    """The per-date table (used for long columns) and the arithmetic agree; 'fewer than n whole
    years' is 'the n-th anniversary comes after on' (how the near-retirement rule is tested)."""
    days = np.asarray([to_day(d) for d in starts] * 300, dtype=np.int32)  # long enough for the table
    on_col = np.asarray([to_day(on)], np.int32)
    col = completed_years(days, on_col)
    short = completed_years(days[: len(starts)], on_col)
    assert col.tolist() == short.tolist() * 300
    assert ((col < n) == (anniversary(days, n) > on_col)).all()


@given(
    day=st.integers(-60_000, 120_000),
    shift=st.integers(-600, 600),
    dtype=st.sampled_from([np.int32, np.int64]),
)
def test_one_row_date_paths_equal_columns(day, shift, dtype):
    """The single case's one-row shortcuts (Python ints, inside and outside the lookup tables'
    1900–2199 range) give the same values, dtype and shape as the column code on two rows."""
    one, two = np.asarray([day], dtype=dtype), np.asarray([day, day], dtype=dtype)
    years = np.asarray([shift // 12], dtype=np.int64)
    pairs = [
        (add_months(one, shift), add_months(two, shift)),
        (add_months(one, np.asarray([shift], dtype=np.int64)), add_months(two, np.asarray([shift]))),
        (anniversary(one, years), anniversary(two, years)),
        (anniversary(one, shift // 12), anniversary(two, shift // 12)),
        (month_index(one), month_index(two)),
        (years_of(one), years_of(two)),
        (
            month_start(np.asarray([shift * 3], dtype=dtype)),
            month_start(np.asarray([shift * 3] * 2, dtype=dtype)),
        ),
    ]
    for got, want in pairs:
        assert got.dtype == want.dtype and got.shape == (1,)
        assert got[0] == want[0]


def test_empty_columns_keep_their_dtypes():
    """An empty column takes the lookup path: the same empty results and dtypes as the arithmetic."""
    from xiangchuang.engine.dates import _add_months_arith, _civil_arith, civil_from_days, days_from_civil

    for dtype in (np.int32, np.int64):
        e = np.zeros(0, dtype=dtype)
        assert add_months(e, 3).dtype == _add_months_arith(e, np.asarray(3)).dtype == np.int32
        assert [a.dtype for a in civil_from_days(e)] == [a.dtype for a in _civil_arith(e)]
        assert month_start(e).shape == (0,) and month_start(e).dtype == np.int32
        assert month_index(e).dtype == years_of(e).dtype == np.int32
        z = np.zeros(0, dtype=np.int64)
        assert days_from_civil(z, z + 1, z + 1).dtype == np.int32


@given(st.integers(-(10**15), 10**15))
def test_format_fen_is_yuan_with_thousands_and_two_decimals(fen):
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    assert format_fen(fen) == f"{sign}¥{yuan:,}.{cents:02d}"
    assert format_fen(np.int64(fen)) == format_fen(fen)


def test_rotated_tables_look_up_every_day_of_their_range():
    """The column lookups (rotated tables read by the day itself, negative days counted from the
    end) give the arithmetic's values for every day 1900-01-01 … 2199-12-31, in int32 and int64."""
    from xiangchuang.engine import dates as d

    days = np.arange(d._TABLE_FIRST, d._TABLE_FIRST + d._TABLE_Y.size, dtype=np.int32)
    y, m, day = d._civil_arith(days)
    for col in (days, days.astype(np.int64)):
        got = d.civil_from_days(col)
        assert all(np.array_equal(a, b) for a, b in zip(got, (y, m, day), strict=True))
        months = d.month_index(col)
        assert np.array_equal(months, (y - 1970) * 12 + m - 1)
        assert np.array_equal(d.years_of(col), y)
        starts = d.month_start(months)
        assert np.array_equal(d.month_index(starts), months) and bool(
            (d.civil_from_days(starts)[2] == 1).all()
        )
        assert np.array_equal(d.add_months(col[:-400], 12), d._add_months_arith(col[:-400], np.asarray(12)))
