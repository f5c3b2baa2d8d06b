"""The daily report (日报): figures that the overview does not already give.

Pure functions over ledger DataFrames, like :mod:`.overview`; the daily
briefing combines them with :func:`.overview.summarize_overview` so that its
figures are the dashboards' figures.

- Villages report the day's figures before 17:00, a zero report included
  (日报告、零报告); a report counts if it was made by the deadline. The
  deadline and the state words live in :mod:`.reports` (re-exported here).
- People under control over the last days, per measure, for the trend chart.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from .overview import CONTROL_MEASURES, Data, active_controls
from .reports import (  # noqa: F401  (the briefing reads the report rules from here)
    REPORT_DEADLINE, REPORT_LATE, REPORT_MISSING, REPORT_ON_TIME, REPORT_STATES, REPORT_ZERO, report_cutoff,
    village_report_status,
)


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
