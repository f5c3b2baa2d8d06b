"""The 24 h road checkpoints (卡口, gate 6): their logs by duty day, shift,
hour and checkpoint, the flows through each one, and the roster's gaps at
checkpoints (the duty roster model of :mod:`.duty`).

A checkpoint's day runs shift by shift: a log written at 2:00 on 4月8日 is
in the night shift of 4月7日, so it counts for the 7th's duty day, the day
whose roster staffed it. Pure functions: frames in, new frames out.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from ..ledgers import get_ledger
from ..policy.duty import DutyPolicy, load_duty_policy
from .duty import roster, roster_gaps, shift_at

__all__ = [
    "CHECKPOINT_KIND", "OUTCOMES", "checkpoint_gaps_today", "checkpoint_posts", "checkpoint_roster", "duty_now",
    "filter_logs", "flows_by_checkpoint", "logs_by_hour", "watch_figures", "with_duty_shift", "WATCH_LABELS",
]

#: The kind of post (duty_posts) a checkpoint is.
CHECKPOINT_KIND = "卡口"
#: 处置结果 of a checkpoint log, in the ledger's order.
OUTCOMES = get_ledger("checkpoint_logs")["outcome"].choices


def checkpoint_posts(posts: pd.DataFrame) -> pd.DataFrame:
    """The posts that are checkpoints (卡口)."""
    return posts[posts["kind"] == CHECKPOINT_KIND].reset_index(drop=True)


def with_duty_shift(logs: pd.DataFrame, policy: DutyPolicy | None = None) -> pd.DataFrame:
    """``logs`` with ``duty_day`` (the day whose shift was on duty, a date),
    ``shift`` (its name) and ``hour`` (of the clock, 0–23) added; a row
    without a readable time gets none."""
    policy = policy if policy is not None else load_duty_policy()
    times = pd.to_datetime(logs["time"], errors="coerce")
    days, shifts = [], []
    for when in times:
        found = None if pd.isna(when) else shift_at(CHECKPOINT_KIND, when.to_pydatetime(), policy)
        days.append(found[0] if found else None)
        shifts.append(found[1].name if found else None)
    return logs.assign(duty_day=days, shift=shifts, hour=times.dt.hour.astype("Int64"))


def filter_logs(logs: pd.DataFrame, day: date, *, checkpoint: str = "", shift: str = "", outcome: str = "",
                policy: DutyPolicy | None = None) -> pd.DataFrame:
    """The logs of duty day ``day`` (see :func:`with_duty_shift`), of one
    checkpoint, shift and 处置结果 when given, in time order."""
    rows = with_duty_shift(logs, policy)
    keep = rows["duty_day"] == day
    if checkpoint:
        keep &= rows["checkpoint"] == checkpoint
    if shift:
        keep &= rows["shift"] == shift
    if outcome:
        keep &= rows["outcome"] == outcome
    return rows[keep].sort_values("time", kind="stable").reset_index(drop=True)


def logs_by_hour(logs: pd.DataFrame) -> pd.DataFrame:
    """Logs counted by hour of the clock (rows, 0–23 in duty-day order: from
    the first shift's start) and checkpoint (columns), with a 合计 row and
    column. ``logs`` come from :func:`filter_logs`."""
    first = min((s.start for s in load_duty_policy().kind(CHECKPOINT_KIND).shifts), default=0)
    hours = [(first + i) % 24 for i in range(24)]
    if logs.empty:
        table = pd.DataFrame(index=hours)
    else:
        table = pd.crosstab(logs["hour"].astype(int), logs["checkpoint"]).reindex(hours, fill_value=0)
    table["合计"] = table.sum(axis=1) if len(table.columns) else 0
    table.loc["合计"] = table.sum()
    table.index = [f"{h:02d}:00–{(h + 1) % 24:02d}:00" if isinstance(h, int) else h for h in table.index]
    table.index.name = "时段"
    return table.astype(int)


def flows_by_checkpoint(logs: pd.DataFrame, checkpoints: list[str]) -> pd.DataFrame:
    """Per checkpoint (every name in ``checkpoints``, in order): people
    checked, not pre-registered (未报备), sampled on the spot and each
    处置结果. Index: checkpoint name."""
    rows = []
    for name in checkpoints:
        own = logs[logs["checkpoint"] == name]
        row = {"checkpoint": name, "checked": len(own),
               "unregistered": int((own["pre_registered"] == False).sum()),  # noqa: E712 (nullable booleans)
               "sampled": int((own["sampled"] == True).sum())}  # noqa: E712
        row |= {o: int((own["outcome"] == o).sum()) for o in OUTCOMES}
        rows.append(row)
    columns = ["checkpoint", "checked", "unregistered", "sampled", *OUTCOMES]
    return pd.DataFrame(rows, columns=columns).set_index("checkpoint")


def checkpoint_gaps_today(posts: pd.DataFrame, shifts: pd.DataFrame, day: date,
                          policy: DutyPolicy | None = None) -> pd.DataFrame:
    """The checkpoint shifts of ``day`` that are short, with their reason
    (for the overview and the daily briefing): 卡口, 班次, 已排, 缺员情况."""
    gaps = roster_gaps(checkpoint_posts(posts), shifts, day, day, policy)
    return gaps[["post", "shift", "assigned", "missing", "reason"]].rename(columns={
        "post": "卡口", "shift": "班次", "assigned": "已排人数", "missing": "缺员", "reason": "缺员情况"})


def checkpoint_roster(posts: pd.DataFrame, shifts: pd.DataFrame, day: date, *, checkpoint: str = "",
                      shift: str = "", policy: DutyPolicy | None = None) -> pd.DataFrame:
    """The checkpoints' roster of ``day`` (one row per checkpoint and shift)."""
    cps = checkpoint_posts(posts)
    if checkpoint:
        cps = cps[cps["name"] == checkpoint]
    table = roster(cps, shifts, day, day, policy)
    return table[table["shift"] == shift].reset_index(drop=True) if shift else table


def duty_now(day: date, hour: int) -> datetime:
    """The moment "now" on a page showing ``day`` at ``hour`` o'clock."""
    return datetime.combine(day, datetime.min.time()).replace(hour=hour)


#: The overview's and the briefing's figures of the sentinels (the
#: checkpoints' short shifts are the one fist's ``checkpoint_short_shifts``:
#: the volunteers fill them).
WATCH_LABELS = {"buyers_untested": "购药未核酸", "fevers_today": "哨点发热报告"}


def watch_figures(ledgers, day: date, at: datetime) -> tuple[dict[str, int], dict[str, pd.DataFrame]]:
    """The day's figures of gates 5 and 6 for the overview and the briefing,
    with the rows each counts: four-class drug buyers whose test lead is
    still open at ``at`` (``buyers_untested``) and fever reports of the day
    (``fevers_today``)."""
    from .leads import OPEN_STATUSES, lead_status
    from .sentinels import with_lead_status

    leads = lead_status(ledgers["leads"], at)
    buyers = with_lead_status(ledgers["drug_buyers"], leads, source="哨点购药", when="date", by_day=True)
    buyers = buyers[buyers["lead_status"].isin(OPEN_STATUSES)]
    fevers = ledgers["fever_reports"]
    fevers = fevers[pd.to_datetime(fevers["reported_at"]).dt.date == day]
    rows = {"buyers_untested": buyers, "fevers_today": fevers}
    return {k: len(v) for k, v in rows.items()}, rows
