"""People under control and their planned tests: the pieces the overview,
the alert lists and the daily report share (pure functions).

:func:`active_controls` says who is under which measure on a day;
:func:`test_schedule` turns each control row's planned test dates (核酸日期,
ISO dates joined by ``;``) into one row per planned test with its state. A
row whose test dates cannot be read (free text such as ``明天;后天`` typed
into the ledger) is skipped, never fatal: :func:`bad_test_date_rows` names
it so that a page can say which row to correct while showing the rest.
"""

from __future__ import annotations

from datetime import date
from typing import Mapping

import numpy as np
import pandas as pd

from .plans import current_measures

Data = Mapping[str, pd.DataFrame]

#: Columns of :func:`bad_test_date_rows`.
BAD_ROW_COLUMNS = ["row", "id_number", "name", "village", "value", "reason"]
#: What is wrong with a bad row's test dates, in the user's words.
BAD_TEST_DATES = "核酸日期无法识别，应为 2022-04-07 这样的日期，以 ; 分隔"


def filter_village(frame: pd.DataFrame, village: str | None) -> pd.DataFrame:
    """Rows of one village (all rows when ``village`` is empty)."""
    if not village or "village" not in frame.columns:
        return frame
    return frame[frame["village"] == village]


def active_controls(controls: pd.DataFrame, day: date, measure: str | None = None) -> pd.DataFrame:
    """Control rows in force on ``day`` with the measure of that day in
    ``current_measure``; optionally only one measure."""
    if controls.empty:
        return controls.assign(current_measure=pd.Series(dtype=object))
    current = current_measures(controls, day)
    out = controls.assign(current_measure=current)
    out = out[out["current_measure"].notna()]
    if measure:
        out = out[out["current_measure"] == measure]
    return out


def _as_text(value) -> str:
    """A test-date cell as text: lists joined as stored, missing as empty."""
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


def parse_test_dates(value) -> tuple[date, ...] | None:
    """The planned test dates of one cell, sorted; ``None`` when any of them
    cannot be read.

    >>> parse_test_dates("2022-04-07;2022-04-05")
    (datetime.date(2022, 4, 5), datetime.date(2022, 4, 7))
    >>> parse_test_dates("明天;后天") is None
    True
    """
    try:
        return tuple(sorted(date.fromisoformat(p.strip()) for p in _as_text(value).split(";") if p.strip()))
    except ValueError:
        return None


def parsed_test_dates(controls: pd.DataFrame) -> pd.Series:
    """:func:`parse_test_dates` of every row of ``controls`` (by its index):
    what :func:`test_schedule` and :func:`bad_test_date_rows` take as
    ``parsed`` when a page parses the ledger once."""
    return controls["test_dates"].map(parse_test_dates)


def _planned_tests(controls: pd.DataFrame, parsed: pd.Series | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """One row per planned test (column ``planned``, a Timestamp) and a mask
    over ``controls`` of the rows whose test dates cannot be read.
    ``parsed``: :func:`parsed_test_dates` of a ledger ``controls`` is rows of."""
    if parsed is not None and parsed.index.is_unique and controls.index.isin(parsed.index).all():
        parsed = parsed.loc[controls.index]
    else:
        parsed = controls["test_dates"].map(parse_test_dates)
    bad = parsed.isna()
    plan = controls.loc[~bad.to_numpy(dtype=bool), ["id_number", "name", "village", "grid"]]
    plan = plan.assign(planned=parsed[~bad]).explode("planned")
    plan = plan[plan["planned"].notna()]
    plan["planned"] = pd.to_datetime(plan["planned"])
    return plan, bad


def bad_test_date_rows(controls: pd.DataFrame, parsed: pd.Series | None = None) -> pd.DataFrame:
    """Control rows whose planned test dates (核酸日期) cannot be read.

    ``row`` is the row's number in the controls ledger as loaded (1-based,
    the order the ledger page and exports list them: the frame's index + 1,
    so it stays right for a filtered frame), ``value`` what was typed. These
    rows are left out of every test list until corrected.

    >>> controls = pd.DataFrame({"id_number": ["A", "B"], "name": ["甲", "乙"], "village": ["柳湾村"] * 2,
    ...                          "grid": ["G1"] * 2, "test_dates": ["2022-04-07", "明天;后天"]})
    >>> bad_test_date_rows(controls)[["row", "name", "value"]].to_dict("records")
    [{'row': 2, 'name': '乙', 'value': '明天;后天'}]
    """
    if controls.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in BAD_ROW_COLUMNS})
    _, bad = _planned_tests(controls, parsed)
    rows = controls[bad.to_numpy(dtype=bool)]
    return pd.DataFrame({
        "row": [int(i) + 1 if isinstance(i, (int, np.integer)) else i for i in rows.index],
        "id_number": rows["id_number"].to_numpy(),
        "name": rows["name"].to_numpy(),
        "village": rows["village"].to_numpy(),
        "value": rows["test_dates"].to_numpy(),
        "reason": BAD_TEST_DATES,
    }, columns=BAD_ROW_COLUMNS)


def describe_bad_rows(bad_rows: pd.DataFrame, ledger_name: str = "管控台账") -> list[str]:
    """One sentence per bad row, for a page's status line or a briefing note.

    >>> rows = pd.DataFrame([{"row": 3, "name": "乙", "village": "柳湾村", "value": "明天;后天",
    ...                       "reason": BAD_TEST_DATES}])
    >>> describe_bad_rows(rows)[0]
    '管控台账第3行（柳湾村 乙）：核酸日期“明天;后天”无法识别，应为 2022-04-07 这样的日期，以 ; 分隔；该行未计入核酸统计，请更正'
    """
    return [
        f"{ledger_name}第{int(r['row'])}行（{r['village']} {r['name']}）：核酸日期“{r['value']}”"
        f"{str(r['reason']).removeprefix('核酸日期')}；该行未计入核酸统计，请更正"
        for r in bad_rows.to_dict("records")
    ]


def test_schedule(controls: pd.DataFrame, tests: pd.DataFrame, day: date,
                  parsed: pd.Series | None = None, *, per_village: bool = False) -> pd.DataFrame:
    """One row per planned test of each control row with its state on ``day``.

    A planned test on date t is done when a sample was taken on t or later,
    before the next planned test and not after ``day``. States: ``done``,
    ``due`` (planned today, not yet done), ``overdue`` (planned before today,
    not done), ``planned`` (later). Rows whose test dates cannot be read are
    left out (see :func:`bad_test_date_rows`).

    ``per_village``: each village's rows as if scheduled on their own (a
    person's tests follow one another within a village), so that one
    village's rows of the township's schedule are that village's schedule.
    """
    cols = ["id_number", "name", "village", "grid", "planned", "done_on", "state"]
    if controls.empty:
        return pd.DataFrame(columns=cols)
    plan, _ = _planned_tests(controls, parsed)
    if plan.empty:
        return pd.DataFrame(columns=cols)
    person = ["village", "id_number"] if per_village else ["id_number"]
    plan = plan.sort_values(["id_number", "planned"])
    plan["next"] = plan.groupby(person)["planned"].shift(-1)
    ts = pd.Timestamp(day)
    samples = tests.loc[tests["sample_date"] <= ts, ["id_number", "sample_date"]]
    merged = plan.reset_index(drop=True).merge(samples, on="id_number", how="left")
    in_window = (merged["sample_date"] >= merged["planned"]) & (
        merged["next"].isna() | (merged["sample_date"] < merged["next"])
    )
    done = merged[in_window].groupby([*person, "planned"])["sample_date"].min()
    plan = plan.reset_index(drop=True)
    key = pd.MultiIndex.from_frame(plan[[*person, "planned"]])
    plan["done_on"] = done.reindex(key).to_numpy()
    plan["state"] = np.where(
        plan["done_on"].notna(),
        "done",
        np.where(plan["planned"] == ts, "due", np.where(plan["planned"] < ts, "overdue", "planned")),
    )
    return plan[cols]


# not a pytest test, although its name starts with ``test_`` (test modules import it)
test_schedule.__test__ = False
