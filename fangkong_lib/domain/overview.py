"""The overview figures (态势总览): pure functions over ledger DataFrames.

Every function takes the ledgers as a mapping ``{ledger key: DataFrame}`` (as
loaded by :func:`fangkong_lib.store.load_ledgers`) and a date, and returns new
objects; nothing is read or written here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Hashable

import pandas as pd

from ..policy import fever_threshold
from .alerts import arrivals_expected
from .supplies import stock_by_item  # the one stock computation, re-exported
from .command import COMMAND_KPI_LABELS, command_figures
from .controls import (
    Data, active_controls, bad_test_date_rows, describe_bad_rows, filter_village, parsed_test_dates, test_schedule,
)
from .volunteers import gap_labels as volunteer_gap_labels, volunteer_gap_figures

__all__ = [
    "CONTROL_MEASURES", "KPI_LABELS", "Overview", "Data", "filter_village", "active_controls", "test_schedule",
    "fevers_on", "stock_by_item", "summarize_overview",
]

CONTROL_MEASURES = ("集中隔离", "居家隔离", "居家健康监测", "三天两检")

#: KPI keys in display order with their Chinese labels (one place).
KPI_LABELS = {
    "away": "在外人员",
    "arriving_3d": "3日内预计返乡",
    "arrived_today": "今日返乡",
    "under_control": "管控中",
    "集中隔离": "集中隔离",
    "居家隔离": "居家隔离",
    "居家健康监测": "居家健康监测",
    "三天两检": "三天两检",
    "tests_due": "今日应检",
    "tests_done_today": "今日已检",
    "tests_overdue": "逾期未检",
    "fevers": "发热",
    "open_problems": "未销号问题",
    "stock_items": "库存物资(种)",
    "stock_value": "库存估值(元)",
    **COMMAND_KPI_LABELS,  # 指挥调度: duty gaps, open and overdue tasks, villages' late and missing reports
}
KPI_LABELS.update(volunteer_gap_labels())  # 党员志愿者: households and checkpoint shifts short


#: ``memo(key, build)``: ``build()`` once per key for the same data (see :func:`summarize_overview`).
Memo = Callable[[Hashable, Callable[[], Any]], Any]


@dataclass
class Overview:
    """What the overview shows for one date and filter."""

    day: date
    kpis: dict[str, float]
    by_village: pd.DataFrame
    by_grid: pd.Series
    controls: pd.DataFrame
    tests_due: pd.DataFrame
    tests_overdue: pd.DataFrame
    fevers: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    #: Control rows left out of the test figures because their test dates
    #: cannot be read (see :func:`.controls.bad_test_date_rows`); ``notes``
    #: says the same in sentences.
    bad_rows: pd.DataFrame = field(default_factory=lambda: bad_test_date_rows(pd.DataFrame()))
    #: The rows each KPI counts that the fields above do not hold (KPI key →
    #: frame): people away, arrivals in 3 days, today's planned and done
    #: tests, open problems, the stock. A page opens them from the card.
    rows: dict[str, pd.DataFrame] = field(default_factory=dict)


def _ts(day: date) -> pd.Timestamp:
    return pd.Timestamp(day)


def fevers_on(daily_checks: pd.DataFrame, day: date, threshold: float | None = None) -> pd.DataFrame:
    """Readings on ``day`` at or above the fever threshold (either slot); the
    threshold defaults to that of the regime in force on ``day``."""
    threshold = fever_threshold(day) if threshold is None else threshold
    rows = daily_checks[daily_checks["date"] == _ts(day)]
    hot = (rows["temp_am"] >= threshold) | (rows["temp_pm"] >= threshold)
    return rows[hot.fillna(False)]


def no_memo(_key, build):
    """The ``memo`` of the figures when nothing is kept: compute now."""
    return build()


def summarize_overview(
    data: Data,
    day: date,
    *,
    village: str | None = None,
    measure: str | None = None,
    memo: Memo | None = None,
) -> Overview:
    """KPIs, the per-village table and per-grid counts for one date and filter.

    ``village`` limits everything to one administrative village; ``measure``
    limits the control figures (people under control, tests, fevers) to one
    measure. Supplies are township-wide and ignore both filters.

    ``memo(key, build)``, when given, returns ``build()`` computed once per
    ``key`` for the same ``data`` (a page's cache, dropped when the data are
    re-read): what does not depend on the village (the measures in force on
    the day, computed row by row; the stock; the command's tables) is
    computed for the township once and then filtered; the figures are the
    same as without it.
    """
    # each row's test dates parsed once for the ledger (only worth it when kept)
    parsed = memo(("test_dates",), lambda: parsed_test_dates(data["controls"])) if memo else None
    memo = memo or no_memo
    ts = _ts(day)
    villages = data["villages"]["name"].tolist()
    away = filter_village(data["away"], village)
    returnees = filter_village(data["returnees"], village)
    controls_all = filter_village(data["controls"], village)
    # the measure in force is a property of each control row: the township's once, then one village's rows
    active = filter_village(memo(("active_controls", day, measure),
                                 lambda: active_controls(data["controls"], day, measure)), village)
    if village and parsed is not None:  # the township's schedule once, per village, then one village's rows
        schedule = filter_village(memo(("test_schedule", day, measure), lambda: test_schedule(
            memo(("active_controls", day, measure), lambda: active_controls(data["controls"], day, measure)),
            data["tests"], day, parsed, per_village=True)), village).reset_index(drop=True)
        if schedule.empty:
            schedule = test_schedule(active.iloc[0:0], data["tests"], day)
    else:
        schedule = test_schedule(active, data["tests"], day, parsed)
    fevers = fevers_on(filter_village(data["daily_checks"], village), day)
    fevers = fevers[fevers["id_number"].isin(active["id_number"])]
    problems = filter_village(data["problems"], village)
    stock = memo(("stock", day), lambda: stock_by_item(data["donations"], data["distributions"], day))

    away_now = away[(away["returned"] != True) & (away["left_date"].isna() | (away["left_date"] <= ts))]  # noqa: E712
    # the same list the returnee page acts on: pre-registered and not yet
    # arrived, plus people away whose expected return falls in the window
    arriving = arrivals_expected(returnees, away, day)
    arrived_today = returnees[returnees["actual_arrival"] == ts]
    open_problems = problems[(problems["stage"] != "销号") & (problems["date"] <= ts)]
    planned_today = schedule[schedule["planned"] == ts]
    due = schedule[schedule["state"] == "due"]
    overdue = schedule[schedule["state"] == "overdue"]

    kpis: dict[str, float] = {
        "away": len(away_now),
        "arriving_3d": len(arriving),
        "arrived_today": len(arrived_today),
        "under_control": len(active),
    }
    counts = active["current_measure"].value_counts()
    for m in CONTROL_MEASURES:
        kpis[m] = int(counts.get(m, 0))
    kpis.update(
        tests_due=len(planned_today),
        tests_done_today=int((planned_today["state"] == "done").sum()),
        tests_overdue=len(overdue),
        fevers=len(fevers),
        open_problems=len(open_problems),
        stock_items=int((stock["stock"] > 0).sum()),
        stock_value=float(stock["stock_value"].sum().round(2)),
    )

    command = command_figures(data, day, village=village, memo=memo)  # 指挥调度
    kpis.update(command.kpis)

    # the table's rows: every village, or the one chosen (counted directly: its frames hold only its rows)
    shown = ([village] if village in villages else []) if village else villages

    def per_village(frame: pd.DataFrame) -> pd.Series:
        if village:
            return pd.Series([int((frame["village"] == v).sum()) for v in shown], index=shown, dtype=int)
        return frame["village"].value_counts().reindex(villages, fill_value=0) if len(frame) else pd.Series(0, index=villages)

    table = pd.DataFrame(index=pd.Index(shown, name="村"))
    table["在外人员"] = per_village(away_now)
    table["3日内预计返乡"] = per_village(arriving)
    table["管控中"] = per_village(active)
    for m in CONTROL_MEASURES:
        table[m] = per_village(active[active["current_measure"] == m])
    table["今日应检"] = per_village(planned_today)
    table["今日待检"] = per_village(due)
    table["逾期未检"] = per_village(overdue)
    table["发热"] = per_village(fevers)
    table["未销号问题"] = per_village(open_problems)
    table = table.astype(int)

    # 党员志愿者: households in home isolation and checkpoint shifts short of people
    volunteer_gaps = volunteer_gap_figures(data, day, village, memo=memo) if "volunteer_assignments" in data else {}
    kpis.update({key: len(rows) for key, rows in volunteer_gaps.items()})

    grids = data["grids"]["code"]
    by_grid = active.groupby("grid").size().reindex(grids, fill_value=0) if len(active) else pd.Series(0, index=grids)
    bad_rows = bad_test_date_rows(controls_all, parsed)

    return Overview(
        day=day,
        kpis=kpis,
        by_village=table,
        by_grid=by_grid.astype(int),
        controls=active,
        tests_due=due,
        tests_overdue=overdue,
        fevers=fevers,
        notes=describe_bad_rows(bad_rows),
        bad_rows=bad_rows,
        rows={
            "away": away_now, "arriving_3d": arriving, "tests_due": planned_today,
            "tests_done_today": planned_today[planned_today["state"] == "done"],
            "open_problems": open_problems, "stock_items": stock[stock["stock"] > 0], "stock_value": stock,
            **command.rows,
            **volunteer_gaps,
        },
    )
