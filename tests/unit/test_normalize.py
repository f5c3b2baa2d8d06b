"""ID numbers, phones, dates and masking (DOMAIN.md §4)."""

from datetime import date, datetime

import pytest
from hypothesis import given, strategies as st

from fangkong_lib.ingest.normalize import (
    id_check_char, mask_id, mask_phone, normalize_date, normalize_datetime, normalize_id_number,
    normalize_phone, sex_from_id,
)


@pytest.mark.parametrize("value", ["11010519491231002X", "440524188001010014", "11010519491231002x",
                                   " 1101 0519 4912 3100 2X ", "１１０１０５１９４９１２３１００２Ｘ"])
def test_valid_ids_are_accepted_and_normalised(value):
    out, err = normalize_id_number(value)
    assert err is None
    assert out in ("11010519491231002X", "440524188001010014")


@pytest.mark.parametrize("value, reason", [
    ("110105194912310021", "校验位"),
    ("110105194913310028", "出生日期"),
    (4.11625e17, "数字"),
    ("4.11625E+17", "科学计数法"),
    (411625199001010000, "000"),
    ("12345", "18 位"),
    ("", "为空"),
])
def test_bad_ids_are_rejected_with_a_reason(value, reason):
    out, err = normalize_id_number(value)
    assert out is None and reason in err


def test_check_char_and_sex():
    assert id_check_char("11010519491231002") == "X"
    assert sex_from_id("11010519491231002X") == "女"
    assert sex_from_id("440524188001010014") == "男"


@pytest.mark.parametrize("value, expected", [
    ("13812341234", "13812341234"), ("+86 138-1234-1234", "13812341234"),
    ("0086 13812341234", "13812341234"), ("8613812341234", "13812341234"),
    ("0394-3211234", "03943211234"), (13812341234.0, "13812341234"),
])
def test_phones(value, expected):
    assert normalize_phone(value) == (expected, None)


@pytest.mark.parametrize("value", ["12812341234", "1381234123", "010-12345678", "abc"])
def test_bad_phones(value):
    out, err = normalize_phone(value)
    assert out is None and "手机号" in err


@pytest.mark.parametrize("value", ["2022-04-05", "2022/4/5", "2022.4.5", "2022年4月5日", 44656,
                                   "44656", datetime(2022, 4, 5, 13, 0), "2022-04-05 08:30", "20220405"])
def test_dates(value):
    assert normalize_date(value) == (date(2022, 4, 5), None)


def test_date_without_year_needs_a_default_year():
    assert normalize_date("4月5日")[0] is None
    assert normalize_date("4月5日", default_year=2022) == (date(2022, 4, 5), None)
    assert normalize_datetime("2022-04-05 08:30")[0] == datetime(2022, 4, 5, 8, 30)
    assert normalize_date("2022-02-30")[0] is None


def test_masks():
    assert mask_id("411625199001010017") == "411625********0017"
    assert mask_phone("13812341234") == "138****1234"


@given(st.one_of(st.text(), st.integers(), st.floats(), st.none(), st.dates(), st.datetimes()))
def test_normalisers_never_raise(value):
    normalize_id_number(value)
    normalize_phone(value)
    normalize_date(value)


# -- Properties: repairable damage is repaired, the rest is rejected ---------

FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789X"}


@st.composite
def valid_ids(draw):
    region = draw(st.integers(110000, 659999))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2022, 4, 7)))
    seq = draw(st.integers(0, 999))
    first = f"{region}{born:%Y%m%d}{seq:03d}"
    return first + id_check_char(first)


@st.composite
def repairable(draw, idn):
    chars = []
    for c in idn:
        if draw(st.booleans()) and c in FULL_WIDTH:
            c = FULL_WIDTH[c]
        if c in ("X", "Ｘ") and draw(st.booleans()):
            c = c.lower()
        chars.append(c)
        if draw(st.integers(0, 9)) == 0:
            chars.append(draw(st.sampled_from([" ", "\u3000", "\n"])))
    pad = draw(st.sampled_from(["", " ", "\n", "\t "]))
    return pad + "".join(chars) + pad


@given(st.data())
def test_valid_id_survives_repairable_damage(data):
    idn = data.draw(valid_ids())
    damaged = data.draw(repairable(idn))
    assert normalize_id_number(damaged, today=date(2022, 4, 7)) == (idn, None)


@given(valid_ids(), st.sampled_from(["number", "scientific", "zeros", "digit"]), st.integers(0, 16))
def test_valid_id_is_rejected_after_irreparable_damage(idn, damage, pos):
    from hypothesis import assume

    if damage == "number":
        damaged = float(idn[:17] + ("0" if idn[17] == "X" else idn[17]))
    elif damage == "scientific":
        damaged = f"{float(idn[:17]):.5E}"
    elif damage == "zeros":
        damaged = idn[:15] + "000"
        # 1 in 11 such strings has a valid check character: as text it is
        # indistinguishable from a real ID ending in 000, so nothing can tell
        assume(id_check_char(damaged[:17]) != damaged[17])
    else:  # one digit mistyped
        digit = str((int(idn[pos]) + 1) % 10)
        damaged = idn[:pos] + digit + idn[pos + 1:]
    out, err = normalize_id_number(damaged, today=date(2022, 4, 7))
    assert out is None and err


@given(st.integers(3, 9), st.integers(0, 99_999_999), st.sampled_from(["", "+86", "86", "0086", "+86 "]),
       st.sampled_from(["", " ", "-"]))
def test_mobiles_survive_formatting(second, rest, prefix, sep):
    number = f"1{second}{rest:09d}"
    typed = prefix + number[:3] + sep + number[3:7] + sep + number[7:]
    assert normalize_phone(typed) == (number, None)


@pytest.mark.parametrize("value, expected", [
    ("是", (True, None)), ("否", (False, None)), (1, (True, None)), (0.0, (False, None)), (True, (True, None)),
    ("也许", (None, "应填 是 或 否")), (2, (None, "应填 是 或 否")), ("1.5", (None, "应填 是 或 否")),
])
def test_yes_no_is_a_yes_or_a_no(value, expected):
    from fangkong_lib.ingest.validate import coerce_bool

    assert coerce_bool(value) == expected


def test_blank_cells_of_every_kind_are_blank():
    import pandas as pd

    from fangkong_lib.ingest.validate import coerce_value
    from fangkong_lib.ledgers import get_ledger

    flag = get_ledger("returnees")["trip_star"]
    for blank in (None, "", "  ", float("nan"), pd.NA, pd.NaT):
        assert coerce_value(flag, blank) == (None, None)


def test_dates_outside_sane_bounds_are_refused():
    from datetime import date

    from fangkong_lib.ingest.validate import coerce_value
    from fangkong_lib.ledgers import get_ledger

    today = date(2022, 4, 7)
    returnees = get_ledger("returnees")
    assert coerce_value(returnees["expected_arrival"], "2022-04-20", today=today) == (date(2022, 4, 20), None)
    assert "超出合理范围" in coerce_value(returnees["expected_arrival"], "3000-01-01", today=today)[1]
    assert "超出合理范围" in coerce_value(returnees["expected_arrival"], "1999-12-31", today=today)[1]
    assert coerce_value(returnees["report_date"], "2022-04-08", today=today)[1] == "不能晚于今天（2022-04-07）"
    assert coerce_value(returnees["test48_time"], "2022-04-06 09:00", today=today)[1] is None
    tests = get_ledger("controls")["test_dates"]
    assert coerce_value(tests, "2022/4/8；2022-04-10", today=today) == (["2022-04-08", "2022-04-10"], None)
    assert "「明天」不是日期" in coerce_value(tests, "明天;后天", today=today)[1]
