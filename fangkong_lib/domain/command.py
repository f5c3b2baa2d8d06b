"""指挥调度 (the command line, 1+17+N): the structure, the daily rhythm of
meetings, the tasks their decisions become, and the villages' 17:00 reports.

- **Structure**: the ``command_units`` ledger: one township HQ (乡指挥部),
  the 17 village party branches (村党支部) and N working groups and
  departments, each with a lead and a phone.
- **Meetings**: the daily rhythm is data (``policy/command/rhythm.toml``):
  the HQ's 早会商 and 晚汇报, every branch's 08:00 支部会商.
  :func:`meeting_status` says per expected meeting whether it was held, and
  flags low attendance.
- **Tasks** (交办事项): each decision becomes a task that runs through the
  rectification loop of :mod:`.problems` (:data:`~.problems.TASK_LOOP`):
  交办 with a unit, a person and a deadline, progress, a check, 办结. Open
  and overdue tasks are counted here.
- **Village reports**: :func:`~.reports.village_report_status` per day, and
  a calendar of late and missing reports (:func:`report_calendar`).

Pure functions: frames in, new frames out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Mapping

import pandas as pd

from ..ledgers import DUTY_POST_KINDS, get_ledger
from ..policy.command_rhythm import Rhythm, load_rhythm
from . import problems as loop
from .duty import ROSTER_COLUMNS, on_duty, roster, roster_gaps
from .reports import REPORT_LATE, REPORT_MISSING, REPORT_STATES, village_report_status

__all__ = [
    "COMMAND_KPI_LABELS", "CommandFigures", "MEETING_HELD", "MEETING_MISSING", "MEETING_PENDING", "TASK_STATUSES",
    "command_figures", "duty_gaps_on", "duty_now", "duty_posts", "duty_roster", "duty_week", "expected_meetings", "filter_tasks", "meeting_status", "report_calendar",
    "structure_counts", "structure_label", "structure_table", "task_table", "week_of",
]

UNIT_KINDS = get_ledger("command_units")["kind"].choices
HQ, BRANCH = UNIT_KINDS[0], UNIT_KINDS[1]
MEETING_KINDS = get_ledger("meetings")["kind"].choices
#: The duty roster's kinds of post the command staffs (duty_posts.kind).
DUTY_HQ, DUTY_BRANCH = DUTY_POST_KINDS[:2]

#: States of an expected meeting on a day.
MEETING_HELD, MEETING_MISSING, MEETING_PENDING = "已召开", "未召开", "未到时间"
LOW_ATTENDANCE = "到会率低"

#: The task-status filter: key → Chinese label ("" = all).
TASK_STATUSES = {"": "全部交办事项", "open": "未办结", "overdue": "逾期未办结", "done": "已办结"}

#: Figures the overview and the briefing take from here (key → label).
COMMAND_KPI_LABELS = {
    "duty_gaps": "指挥部值班缺岗",  # the HQ's and the village HQs' short shifts
    "tasks_open": "未办结交办事项",
    "tasks_overdue": "逾期交办事项",
    "reports_late": "村日报迟报",
    "reports_missing": "村日报未报",
}


# -- Structure (1+17+N) ----------------------------------------------------------------


def _unit_order(units: pd.DataFrame) -> pd.DataFrame:
    """HQ first, then the branches, then the groups and departments (each in ledger order)."""
    rank = {k: i for i, k in enumerate(UNIT_KINDS)}
    return units.assign(_rank=units["kind"].map(rank).fillna(len(rank))).sort_values(
        "_rank", kind="stable").drop(columns="_rank")


def structure_counts(units: pd.DataFrame) -> dict[str, int]:
    """Units per kind, in the order 乡指挥部, 村党支部, 工作专班, 职能部门.

    >>> structure_counts(pd.DataFrame({"kind": ["乡指挥部", "村党支部", "村党支部", "工作专班"]}))
    {'乡指挥部': 1, '村党支部': 2, '工作专班': 1, '职能部门': 0}
    """
    counts = units["kind"].value_counts()
    return {k: int(counts.get(k, 0)) for k in UNIT_KINDS}


def structure_label(units: pd.DataFrame) -> str:
    """The structure as the township says it: ``1+17+N`` with N spelled out.

    >>> structure_label(pd.DataFrame({"kind": ["乡指挥部"] + ["村党支部"] * 17 + ["工作专班"] * 8 + ["职能部门"] * 4}))
    '1+17+12'
    """
    c = structure_counts(units)
    return f"{c[HQ]}+{c[BRANCH]}+{c[UNIT_KINDS[2]] + c[UNIT_KINDS[3]]}"


def structure_table(units: pd.DataFrame, tasks: pd.DataFrame, day: date) -> pd.DataFrame:
    """The units in order (HQ, branches, groups), with the tasks each one is
    responsible for on ``day``: ``tasks_open`` and ``tasks_overdue``, and
    ``missing`` naming what a unit lacks (负责人, 电话)."""
    table = task_table(tasks, day)
    open_ = table[table["stage"] != loop.CLOSED]
    out = _unit_order(units).reset_index(drop=True)
    out["tasks_open"] = out["unit"].map(open_.groupby("unit").size()).fillna(0).astype(int)
    out["tasks_overdue"] = out["unit"].map(open_[open_["overdue"]].groupby("unit").size()).fillna(0).astype(int)
    lacks = []
    for lead, phone in zip(out["lead"], out["lead_phone"]):
        gaps = [w for w, v in (("负责人", lead), ("电话", phone)) if not isinstance(v, str) or not v.strip()]
        lacks.append("缺" + "、".join(gaps) if gaps else "")
    out["missing"] = lacks
    return out


# -- Meetings ------------------------------------------------------------------------


def expected_meetings(units: pd.DataFrame, day: date, rhythm: Rhythm | None = None) -> pd.DataFrame:
    """The meetings the rhythm expects on ``day``: one row per unit and
    meeting (``unit``, ``village``, ``kind``, ``due``: the time it is held)."""
    rhythm = rhythm or load_rhythm()
    ordered = _unit_order(units)
    rows = []
    for meeting in rhythm.meetings:
        mine = ordered[ordered["kind"] == meeting.units]
        for unit, village in zip(mine["unit"], mine["village"]):
            rows.append(dict(unit=unit, village=village if isinstance(village, str) else "", kind=meeting.kind,
                             due=pd.Timestamp(datetime.combine(day, meeting.at))))
    return pd.DataFrame(rows, columns=["unit", "village", "kind", "due"])


def meeting_status(units: pd.DataFrame, meetings: pd.DataFrame, tasks: pd.DataFrame, day: date,
                   now: datetime | None = None, rhythm: Rhythm | None = None) -> pd.DataFrame:
    """Every meeting of ``day``: those the rhythm expects (held or not) and
    any other meeting recorded that day (专题会议).

    ``now`` (default: the end of the day) decides which expected meetings
    are still to come: one not recorded ``grace_minutes`` after its time is
    未召开, before that 未到时间. Columns: ``unit``, ``village``, ``kind``,
    ``due``, ``status``, ``held_at``, ``expected``, ``present``,
    ``attendance`` (present ÷ expected), ``flag`` (到会率低 below the
    rhythm's minimum), ``decisions`` (tasks the meeting assigned), ``host``.
    """
    rhythm = rhythm or load_rhythm()
    now = pd.Timestamp(now) if now is not None else pd.Timestamp(datetime.combine(day, datetime.max.time()))
    plan = expected_meetings(units, day, rhythm)
    held = meetings[pd.to_datetime(meetings["date"]) == pd.Timestamp(day)]
    held = held.drop_duplicates(["kind", "unit"], keep="last")
    cols = ["kind", "unit", "village", "held_at", "expected", "present", "host"]
    merged = plan.merge(held[cols].rename(columns={"village": "village_held"}), on=["kind", "unit"], how="outer",
                        indicator=True)
    merged["village"] = merged["village"].where(merged["village"].notna() & (merged["village"] != ""),
                                                merged["village_held"]).fillna("")
    recorded = merged["_merge"] != "left_only"
    grace = pd.Timedelta(minutes=rhythm.grace_minutes)
    late = merged["due"].notna() & (merged["due"] + grace <= now)
    merged["status"] = [MEETING_HELD if r else (MEETING_MISSING if lt else MEETING_PENDING)
                        for r, lt in zip(recorded, late)]
    expected = pd.to_numeric(merged["expected"], errors="coerce").astype(float)
    present = pd.to_numeric(merged["present"], errors="coerce").astype(float)
    share = (present / expected).where(expected > 0)
    merged["attendance"] = share.round(2)
    merged["flag"] = [LOW_ATTENDANCE if s == s and s < rhythm.min_attendance else "" for s in share]
    day_tasks = tasks[pd.to_datetime(tasks["date"]) == pd.Timestamp(day)]
    decided = day_tasks.groupby(["source", "meeting_unit"]).size()
    merged["decisions"] = [int(decided.get((k, u), 0)) for k, u in zip(merged["kind"], merged["unit"])]
    order = {k: i for i, k in enumerate(MEETING_KINDS)}
    merged = merged.assign(_k=merged["kind"].map(order)).sort_values(["_k", "due"], kind="stable")
    columns = ["unit", "village", "kind", "due", "status", "held_at", "expected", "present", "attendance", "flag",
               "decisions", "host"]
    return merged[columns].reset_index(drop=True)


# -- Tasks (交办事项) ----------------------------------------------------------------------


def task_table(tasks: pd.DataFrame, day: date) -> pd.DataFrame:
    """Tasks assigned on or before ``day``, with ``overdue`` (past the
    deadline and not 办结) and ``stage_word`` (the stage in the task's words)."""
    out = tasks[pd.to_datetime(tasks["date"]) <= pd.Timestamp(day)]
    return out.assign(overdue=loop.is_overdue(out, day).astype(bool),
                      stage_word=out["stage"].map(loop.TASK_LOOP.stage_words).fillna(out["stage"]))


def filter_tasks(tasks: pd.DataFrame, day: date, *, status: str = "", unit: str = "",
                 village: str = "") -> pd.DataFrame:
    """:func:`task_table` narrowed to a status (:data:`TASK_STATUSES` key),
    a responsible unit and a village."""
    if status not in TASK_STATUSES:
        raise ValueError(f"未知的办理状态：{status}")
    out = task_table(tasks, day)
    if unit:
        out = out[(out["unit"] == unit) | (out["meeting_unit"] == unit)]
    if village:
        out = out[out["village"] == village]
    if status == "open":
        out = out[out["stage"] != loop.CLOSED]
    elif status == "overdue":
        out = out[out["overdue"]]
    elif status == "done":
        out = out[out["stage"] == loop.CLOSED]
    return out


# -- Village reports ---------------------------------------------------------------------


def report_calendar(data: Mapping[str, pd.DataFrame], day: date, days: int = 7) -> pd.DataFrame:
    """The villages' report states (已报告 / 零报告 / 迟报 / 未报告) for the
    ``days`` days up to ``day``: one row per village, one column per day
    (oldest first, headed ``MM-DD``), then the counts ``迟报`` and ``未报告``."""
    columns = {}
    for back in range(days - 1, -1, -1):
        d = day - timedelta(days=back)
        columns[f"{d:%m-%d}"] = village_report_status(data, d)["status"]
    table = pd.DataFrame(columns)
    table.index.name = "村"
    table[REPORT_LATE] = (table == REPORT_LATE).sum(axis=1)
    table[REPORT_MISSING] = (table.iloc[:, :days] == REPORT_MISSING).sum(axis=1)
    return table


# -- What the overview and the briefing take ----------------------------------------------


@dataclass
class CommandFigures:
    """The command's figures for one day: ``kpis`` (keys of
    :data:`COMMAND_KPI_LABELS`) and the rows each counts."""

    kpis: dict[str, int]
    rows: dict[str, pd.DataFrame] = field(default_factory=dict)


def command_figures(data: Mapping[str, pd.DataFrame], day: date, *, village: str | None = None,
                    memo=None) -> CommandFigures:
    """Duty gaps at the HQ and the village HQs on ``day``, open and overdue
    tasks, and the villages' late and missing 17:00 reports; ``village``
    narrows them to one village (and the HQ's own duty).

    Duty gaps count the shifts on ``day`` that the roster leaves short
    (:func:`duty_gaps_on`). Before the roster (or the daily reports) began,
    nothing is counted as short (or missing).

    ``memo(key, build)`` (see :func:`~.overview.summarize_overview`): the
    township's tables of the day are computed once, then one village's rows
    are taken (tasks, reports and the short shifts of its posts).
    """
    once = memo or (lambda _key, build: build())
    tasks = once(("tasks", day), lambda: task_table(data["tasks"], day) if "tasks" in data
                 else pd.DataFrame(columns=["stage", "overdue"]))
    reports = once(("village_reports", day), lambda: village_report_status(data, day))
    if not _started(data.get("village_reports"), day):
        reports = reports.iloc[0:0]  # before the daily reports began, none is missing
    if village:
        tasks = tasks[tasks["village"] == village]
        reports = reports[reports.index == village]
    open_ = tasks[tasks["stage"] != loop.CLOSED]
    if not _started(data.get("duty_shifts"), day):
        gaps = pd.DataFrame(columns=ROSTER_COLUMNS)
    elif memo is None:
        gaps = duty_gaps_on(data, day, village=village)
    else:  # every post's short shifts once; then the HQ's and the village's posts
        gaps = once(("duty_gaps", day), lambda: duty_gaps_on(data, day))
        if village:
            posts = duty_posts(data, village=village)
            gaps = gaps[gaps["post"].isin(posts["name"])].reset_index(drop=True)
    rows = {
        "duty_gaps": gaps,
        "tasks_open": open_,
        "tasks_overdue": open_[open_["overdue"].astype(bool)],
        "reports_late": reports[reports["status"] == REPORT_LATE].reset_index(),
        "reports_missing": reports[reports["status"] == REPORT_MISSING].reset_index(),
    }
    return CommandFigures({k: len(v) for k, v in rows.items()}, rows)


def _started(ledger: pd.DataFrame | None, day: date) -> bool:
    """Whether a ledger kept day by day (reports, the roster) had begun by ``day``."""
    if ledger is None or ledger.empty:
        return False
    first = pd.to_datetime(ledger["date"]).min()
    return pd.notna(first) and first <= pd.Timestamp(day)


def duty_gaps_on(data: Mapping[str, pd.DataFrame], day: date, end: date | None = None, *,
                 hq_only: bool = False, village: str | None = None) -> pd.DataFrame:
    """The short shifts from ``day`` to ``end`` (default: ``day``) at the
    HQ's posts (指挥部) and, unless ``hq_only``, the village HQs (村指挥部;
    only ``village``'s when given), from the shared duty roster
    (:func:`~.duty.roster_gaps`); empty without a roster."""
    posts = duty_posts(data, hq_only=hq_only, village=village)
    if posts.empty:
        return pd.DataFrame(columns=ROSTER_COLUMNS)
    return roster_gaps(posts, data["duty_shifts"], day, end)


def duty_posts(data: Mapping[str, pd.DataFrame], *, hq_only: bool = False, village: str | None = None) -> pd.DataFrame:
    """The command's duty posts: the HQ (指挥部) and the village HQs (村指挥部)."""
    posts = data.get("duty_posts")
    if posts is None or posts.empty:
        return pd.DataFrame(columns=["name", "kind", "village"])
    hq = posts["kind"] == DUTY_HQ
    branches = posts["kind"] == DUTY_BRANCH
    if village:
        branches &= posts["village"] == village
    return posts[hq if hq_only else (hq | branches)]


def duty_now(data: Mapping[str, pd.DataFrame], when: datetime, *, village: str | None = None) -> pd.DataFrame:
    """Who is on duty at ``when`` at the HQ and the village HQs (one row per
    post: its current shift, people and gap; :func:`~.duty.on_duty`)."""
    posts = duty_posts(data, village=village)
    if posts.empty:
        return pd.DataFrame(columns=ROSTER_COLUMNS)
    return on_duty(posts, data["duty_shifts"], when)


def duty_roster(data: Mapping[str, pd.DataFrame], day: date, end: date | None = None, *,
                village: str | None = None) -> pd.DataFrame:
    """The HQ's and village HQs' roster from ``day`` to ``end`` (:func:`~.duty.roster`)."""
    posts = duty_posts(data, village=village)
    if posts.empty:
        return pd.DataFrame(columns=ROSTER_COLUMNS)
    return roster(posts, data["duty_shifts"], day, end)


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of ``day``'s week.

    >>> week_of(date(2022, 4, 7))
    (datetime.date(2022, 4, 4), datetime.date(2022, 4, 10))
    """
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def duty_week(data: Mapping[str, pd.DataFrame], day: date, *, village: str | None = None) -> pd.DataFrame:
    """The week of ``day`` (Monday to Sunday) at a glance: one row per post
    (HQ, and ``village``'s HQ when given), one column per day headed
    ``MM-DD``, each cell the shifts' assigned/required (``白班2/2 夜班1/2``)
    with ``!`` after a short shift."""
    start, end = week_of(day)
    posts = duty_posts(data, hq_only=not village, village=village)
    if posts.empty:
        return pd.DataFrame()
    table = roster(posts, data["duty_shifts"], start, end)
    table = table.assign(cell=[f"{s}{a}/{r}{'!' if m else ''}" for s, a, r, m in
                               zip(table["shift"], table["assigned"], table["required"], table["missing"])])
    cells = table.groupby(["post", "date"], sort=False)["cell"].agg(" ".join).unstack("date")
    cells = cells.reindex(index=list(dict.fromkeys(table["post"])))
    cells.columns = [f"{pd.Timestamp(d):%m-%d}" for d in cells.columns]
    cells.index.name = "点位"
    return cells
