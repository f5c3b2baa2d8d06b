"""The daily report (日报): figures that the overview does not already give.

Pure functions over ledger DataFrames, like :mod:`.overview`; the daily
briefing combines them with :func:`.overview.summarize_overview` so that its
figures are the dashboards' figures.

- Villages report the day's figures before 17:00, a zero report included
  (日报告、零报告); a report counts if it was made by the deadline.
- People under control over the last days, per measure, for the trend chart.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pandas as pd

from .overview import CONTROL_MEASURES, Data, active_controls

#: Villages report the day's figures before this time (DOMAIN.md §3).
REPORT_DEADLINE = time(17, 0)

#: Report states of a village for a day, in the order a meeting reads them.
REPORT_ON_TIME, REPORT_ZERO, REPORT_LATE, REPORT_MISSING = "已报告", "零报告", "逾期未报", "未报告"


def report_cutoff(day: date, deadline: time = REPORT_DEADLINE) -> pd.Timestamp:
    """The moment a day's figures are due (``day`` at 17:00 by default).

    >>> report_cutoff(date(2022, 4, 7))
    Timestamp('2022-04-07 17:00:00')
    """
    return pd.Timestamp.combine(day, deadline)


def village_report_status(data: Data, day: date, deadline: time = REPORT_DEADLINE) -> pd.DataFrame:
    """One row per administrative village: did it report ``day`` by the deadline?

    Columns: ``status`` (已报告 / 零报告 / 逾期未报 (reported after the
    deadline) / 未报告), ``reported_at`` (NaT when no report), ``on_time``
    (bool) and ``reported_under_control`` (the village's own count of people
    under control, missing when no report). Reports from villages not in the
    village list are ignored.
    """
    villages = pd.Index(data["villages"]["name"].tolist(), name="村")
    reports = data.get("village_reports")
    cutoff = report_cutoff(day, deadline)
    if reports is None or reports.empty:
        rows = pd.DataFrame(index=villages, columns=["reported_at", "zero_report", "under_control"])
    else:
        rows = reports[reports["date"] == pd.Timestamp(day)].sort_values("reported_at")
        rows = rows.drop_duplicates("village", keep="first").set_index("village")
        rows = rows.reindex(villages)[["reported_at", "zero_report", "under_control"]]
    reported_at = pd.to_datetime(rows["reported_at"])
    on_time = (reported_at <= cutoff).fillna(False).astype(bool)
    zero = rows["zero_report"].fillna(False).astype(bool)
    status = pd.Series(REPORT_MISSING, index=villages, dtype=object)
    status[reported_at.notna() & ~on_time] = REPORT_LATE
    status[on_time & ~zero] = REPORT_ON_TIME
    status[on_time & zero] = REPORT_ZERO
    return pd.DataFrame({
        "status": status,
        "reported_at": reported_at,
        "on_time": on_time,
        "reported_under_control": pd.to_numeric(rows["under_control"], errors="coerce"),
    }, index=villages)


def arrivals_on(data: Data, day: date) -> pd.DataFrame:
    """Returnees who arrived on ``day`` (the overview's 今日返乡)."""
    returnees = data["returnees"]
    return returnees[returnees["actual_arrival"] == pd.Timestamp(day)]


def releases_on(data: Data, day: date) -> pd.DataFrame:
    """Control rows released on ``day`` (实际解除日期), i.e. under control the
    day before and no longer on ``day``."""
    controls = data["controls"]
    return controls[controls["released_date"] == pd.Timestamp(day)]


def per_village(frame: pd.DataFrame, villages: list[str]) -> pd.Series:
    """Row counts per village, every village present (0 when none)."""
    if frame.empty:
        return pd.Series(0, index=villages, dtype=int)
    return frame.groupby("village").size().reindex(villages, fill_value=0).astype(int)


def control_history(data: Data, day: date, days: int = 14) -> pd.DataFrame:
    """People under control on each of the ``days`` days ending on ``day``,
    one column per measure plus ``合计`` (the same rule as the overview)."""
    dates = [day - timedelta(days=n) for n in range(days - 1, -1, -1)]
    rows = []
    for d in dates:
        counts = active_controls(data["controls"], d)["current_measure"].value_counts()
        rows.append([int(counts.get(m, 0)) for m in CONTROL_MEASURES])
    out = pd.DataFrame(rows, index=pd.Index(dates, name="日期"), columns=list(CONTROL_MEASURES))
    out["合计"] = out.sum(axis=1)
    return out
