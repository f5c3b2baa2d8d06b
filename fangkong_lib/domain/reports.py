"""Villages' daily reports (日报告、零报告): the deadline and the state words,
in one place for the daily briefing and the alert lists.

Villages report the day's figures to the township before 17:00, a zero
report included (DOMAIN.md §3). A report counts as on time if it came in by
the deadline; one that came later is 迟报; a village with nothing in is 未报告.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Mapping

import pandas as pd

#: Villages report the day's figures before this time (DOMAIN.md §3).
REPORT_DEADLINE = time(17, 0)

#: Report states of a village for a day, in the order a meeting reads them.
REPORT_ON_TIME, REPORT_ZERO, REPORT_LATE, REPORT_MISSING = "已报告", "零报告", "迟报", "未报告"
REPORT_STATES = (REPORT_ON_TIME, REPORT_ZERO, REPORT_LATE, REPORT_MISSING)


def report_cutoff(day: date, deadline: time = REPORT_DEADLINE) -> pd.Timestamp:
    """The moment a day's figures are due (``day`` at 17:00 by default).

    >>> report_cutoff(date(2022, 4, 7))
    Timestamp('2022-04-07 17:00:00')
    """
    return pd.Timestamp.combine(day, deadline)


def village_report_status(
    data: Mapping[str, pd.DataFrame],
    day: date,
    deadline: time = REPORT_DEADLINE,
    *,
    now: datetime | None = None,
) -> pd.DataFrame:
    """One row per administrative village (in the ledger's order): did it
    report ``day`` by the deadline?

    ``data`` holds the ``villages`` and ``village_reports`` ledgers. Columns:
    ``status`` (:data:`REPORT_STATES`), ``reported_at`` (the first report
    of the day, NaT when none), ``on_time`` (bool) and
    ``reported_under_control`` (the village's own count of people under
    control, missing when no report). With ``now``, only reports in by then
    count (what was known at that moment). Reports from villages not in the
    village list are ignored.
    """
    villages = pd.Index(data["villages"]["name"].tolist(), name="村")
    reports = data.get("village_reports")
    cutoff = report_cutoff(day, deadline)
    if reports is None or reports.empty:
        rows = pd.DataFrame(index=villages, columns=["reported_at", "zero_report", "under_control"])
    else:
        rows = reports[reports["date"] == pd.Timestamp(day)]
        if now is not None:
            rows = rows[rows["reported_at"] <= pd.Timestamp(now)]
        rows = rows.sort_values("reported_at").drop_duplicates("village", keep="first").set_index("village")
        rows = rows.reindex(villages)[["reported_at", "zero_report", "under_control"]]
    reported_at = pd.to_datetime(rows["reported_at"])
    on_time = (reported_at <= cutoff).fillna(False).astype(bool)
    zero = rows["zero_report"].astype("boolean").fillna(False).astype(bool)
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
