"""The import's column-wise validation says what the form's says.

:func:`fangkong_lib.ingest.columns.validate_columns` cleans a file's columns
in bulk; :func:`fangkong_lib.ingest.validate.validate_record` (the forms and
the URL) cleans one record. On random and hostile cells, for every row, the
two give the same cleaned values and the same problems (the same Chinese
sentences, in the same order), and the rows the import skips are the blank
ones.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong_lib.ingest.columns import validate_columns
from fangkong_lib.ingest.normalize import id_check_char
from fangkong_lib.ingest.validate import coerce_value, validate_record
from fangkong_lib.ledgers import LEDGERS, get_ledger

TODAY = date(2022, 4, 10)
VILLAGES = {"柳湾村", "杏园村"}


def _id(body: str) -> str:
    return body + id_check_char(body)


GOOD_ID = _id("41162519900101123")
HOSTILE = ["", " ", "\u3000", "\n", "\x00", "a\x00b", "=1+1", "<script>alert(1)</script>", "'; DROP TABLE x; --",
           "Ｆｕｌｌ　ｗｉｄｔｈ", "e\u0301", "\u0301", "ﬁ", "⼥", "男 ", " 女\n", "\u200b", "x" * 300, "\ud7ff",
           "4.11625E+17", "１３８１２３４１２３４", "+86 138-1234-1234", "0394-1234567", "2022年4月5日", "4月5日",
           "2022/13/45", "20220405", "44656", "是", "否", "也许", "1e3", "NaN", "inf", "-0", "柳湾村", "杏园村 ",
           "别的村", "上海", "省外低风险地区", "自驾", " 12 ", "36.5", "1;2；3", "2022-04-08;2022-04-10"]
IDS = [GOOD_ID, GOOD_ID.lower(), " " + GOOD_ID, GOOD_ID[:-1] + ("0" if GOOD_ID[-1] != "0" else "1"),
       _id("41162518000101123"), _id("41162519900230123"), _id("41162530000101123"), "411625900101123",
       "41162519900101000", "41162519900101123X0", "４" + GOOD_ID[1:], "41162519900101123\u0661",
       _id("11010519491231002")]
PHONES = ["13812341234", "12812341234", "1381234123", "138123412345", "03941234567", "1381234123\n"]


def cell():
    """A cell as a spreadsheet or a form gives it: text (clean, hostile,
    random Unicode), numbers, dates, booleans, blanks."""
    return st.one_of(
        st.sampled_from(HOSTILE + IDS + PHONES),
        st.text(max_size=12),
        st.text(alphabet=st.sampled_from("0123456789xX -/年月日:．１２"), max_size=20),
        st.integers(min_value=-10**19, max_value=10**19),
        st.floats(allow_nan=True, allow_infinity=True),
        st.dates(min_value=date(1800, 1, 1), max_value=date(2100, 1, 1)),
        st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1)),
        st.booleans(),
        st.none(),
    )


def _check(ledger_key: str, keys: list[str], rows: list[list], villages=VILLAGES) -> None:
    ledger = get_ledger(ledger_key)
    columns = {k: [r[j] for r in rows] for j, k in enumerate(keys)}
    found = validate_columns(ledger, columns, villages=villages, today=TODAY, default_year=TODAY.year)
    for i, cells in enumerate(rows):
        raw = dict(zip(keys, cells))
        record, problems = validate_record(ledger, raw, villages=villages, default_year=TODAY.year, today=TODAY)
        blank = all(coerce_value(ledger[k], v, default_year=TODAY.year, today=TODAY) == (None, None)
                    for k, v in raw.items())
        assert (i in found.blank) == blank, (raw, found.blank)
        if blank:
            continue
        assert [p.sentence() for p in found.problems.get(i, [])] == [p.sentence() for p in problems], raw
        assert found.problems.get(i, []) == problems, raw
        if not problems:
            values = {k: found.values[j][i] for j, k in enumerate(keys)}
            assert values == record, raw


RETURNEE_KEYS = [f.key for f in get_ledger("returnees").tabular_fields]
REQUIRED = [f.key for f in get_ledger("returnees").fields if f.required]


@st.composite
def returnee_file(draw):
    """Some of the returnee columns (every required one) in any order, and
    rows that are mostly right with hostile cells mixed in."""
    optional = [k for k in RETURNEE_KEYS if k not in REQUIRED]
    keys = REQUIRED + draw(st.lists(st.sampled_from(optional), unique=True, max_size=8))
    keys = draw(st.permutations(keys))
    good = {"name": "张三", "sex": "男", "id_number": GOOD_ID, "phone": "13812341234", "village": "柳湾村",
            "risk_category": "上海", "expected_arrival": "2022-04-09", "actual_arrival": "2022/4/5",
            "report_date": date(2022, 4, 1), "transport": "自驾", "trip_star": "否", "test48_time": "4月8日 10:00"}
    rows = []
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        mode = draw(st.sampled_from(["good", "hostile", "blank"]))
        if mode == "blank":
            rows.append([draw(st.sampled_from([None, "", " "])) for _ in keys])
        elif mode == "good":
            rows.append([good.get(k, draw(st.sampled_from(["", "备注", None]))) for k in keys])
        else:
            rows.append([draw(st.one_of(st.just(good.get(k)), cell())) for k in keys])
    return keys, rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(returnee_file())
def test_returnee_rows_get_the_forms_answer(file):
    keys, rows = file
    _check("returnees", keys, rows)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(LEDGERS)), st.data())
def test_every_ledger_gets_the_forms_answer(ledger_key, data):
    ledger = get_ledger(ledger_key)
    keys = [f.key for f in ledger.tabular_fields]
    rows = data.draw(st.lists(st.lists(cell(), min_size=len(keys), max_size=len(keys)), min_size=1, max_size=6))
    _check(ledger_key, keys, rows, villages=data.draw(st.sampled_from([None, VILLAGES])))


def test_bulk_paths_cover_a_big_column_the_same_way():
    """Thousands of clean values (the bulk paths) with bad ones among them."""
    ids = [_id(f"4116251950{m:02d}{d:02d}{s:03d}") for m in range(1, 13) for d in (1, 15, 28) for s in range(30)]
    ids[7] = ids[7][:-1] + ("0" if ids[7][-1] != "0" else "1")  # check character wrong
    ids[8] = _id("41162519500230123")  # no such day
    names = [f"姓名{i}" if i % 11 else f" Ｎａｍｅ\t{i} " for i in range(len(ids))]
    phones = [f"13{i:09d}" if i % 13 else f"138-{i:04d}-{i:04d}" for i in range(len(ids))]
    rows = [[n, idn, p, "柳湾村", "上海", "2022-04-09"] for n, idn, p in zip(names, ids, phones)]
    _check("returnees", ["name", "id_number", "phone", "village", "risk_category", "expected_arrival"], rows)


@pytest.mark.parametrize("text", ["a\x00b", "\x00"])
def test_a_text_holding_the_separator_is_cleaned_one_by_one(text):
    _check("returnees", ["name", "id_number", "phone", "village", "risk_category", "expected_arrival"],
           [[text, GOOD_ID, "13812341234", "柳湾村", "上海", "2022-04-09"]] * 3)
