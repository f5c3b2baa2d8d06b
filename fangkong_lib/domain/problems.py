"""Supervision problems and their rectification loop (督查问题整改闭环).

The loop 发现问题—反馈整改—跟踪问效 is an explicit state machine over the
stages of :data:`fangkong_lib.ledgers.PROBLEM_STAGES`::

    发现 ──反馈──> 反馈 ──整改中──> 整改中 ──复查──> 复查 ──销号──> 销号
                                  ^   └─整改中─┘        │
                                  └────复查未通过────────┘

A step names the event written to the history (``problem_events``); the
stage is where the problem stands afterwards. No step can be skipped, a
problem closes (销号) only from 复查, i.e. after a passed re-inspection, and
a closed problem takes no further step. Everything here is pure: frames in,
new frames out.

The same loop runs the command's assigned tasks (交办事项): a
:class:`LoopKind` names the ledgers an item and its history live in, its
number sequence and the words its forms and messages use;
:data:`PROBLEM_LOOP` (the default everywhere) and :data:`TASK_LOOP`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Mapping

import pandas as pd

from ..ledgers import PROBLEM_STAGES, SUPERVISION_TEAMS

FOUND, ASSIGNED, FIXING, RECHECKED, CLOSED = PROBLEM_STAGES
FAILED = "复查未通过"

#: (stage now, step) → stage afterwards. The one definition of the loop.
TRANSITIONS: dict[tuple[str, str], str] = {
    (FOUND, ASSIGNED): ASSIGNED,  # 交办: responsible unit, person and deadline
    (ASSIGNED, FIXING): FIXING,  # the unit reports it is rectifying
    (FIXING, FIXING): FIXING,  # further progress reports
    (FIXING, RECHECKED): RECHECKED,  # re-inspected and passed
    (RECHECKED, FAILED): FIXING,  # the re-inspection did not pass: back to rectification
    (RECHECKED, CLOSED): CLOSED,  # 销号
}

#: What the user does, per step (Chinese, for buttons and messages).
STEP_ACTIONS = {
    ASSIGNED: "交办（反馈责任单位）",
    FIXING: "报告整改进展",
    RECHECKED: "复查通过",
    FAILED: "复查未通过",
    CLOSED: "销号",
}

#: Fields each step must carry besides who and when.
STEP_REQUIRES: dict[str, tuple[str, ...]] = {
    ASSIGNED: ("unit", "person", "deadline"),
    FIXING: ("note",),
    RECHECKED: ("note",),
    FAILED: ("note",),
    CLOSED: (),
}
FIELD_LABELS = {"unit": "责任单位", "person": "责任人", "deadline": "整改时限", "note": "情况说明",
                "evidence": "佐证材料", "who": "经办人"}

ACCOUNTABILITY = ("约谈", "通报", "诫勉")

#: Columns of the overdue list, with the Chinese headers of the briefing.
OVERDUE_COLUMNS = {
    "problem_no": "问题编号", "team": "督查组", "village": "村", "target": "被督查单位",
    "category": "问题类别", "description": "问题描述", "unit": "责任单位", "person": "责任人",
    "deadline": "整改时限", "days_overdue": "逾期天数", "stage": "阶段",
}


@dataclass(frozen=True)
class LoopKind:
    """What the rectification loop runs on, and the words it speaks.

    Attributes
    ----------
    items, events : str
        Ledger keys of the items (their ``stage`` column) and of their history.
    key : str
        The number column in both (``problem_no``, ``task_no``).
    prefix : str
        Number prefix: ``DC`` gives ``DC2022-001``.
    noun : str
        What an item is called in messages (问题, 交办事项).
    defaults : mapping
        Fields a new item starts with besides its stage.
    step_actions : mapping
        Step → what the user does (buttons, messages).
    stage_words : mapping
        Stage → how the page names it.
    labels : mapping
        Field key → its Chinese name in messages.
    date_label : str
        The item's date (督查日期, 交办日期).
    recheck_word, close_word, fix_word : str
        复查 / 销号 / 整改 in this loop's words.
    """

    items: str
    events: str
    key: str
    prefix: str
    noun: str
    defaults: Mapping = field(default_factory=dict)
    step_actions: Mapping = field(default_factory=lambda: dict(STEP_ACTIONS))
    stage_words: Mapping = field(default_factory=lambda: {s: s for s in PROBLEM_STAGES})
    labels: Mapping = field(default_factory=lambda: dict(FIELD_LABELS))
    date_label: str = "督查日期"
    recheck_word: str = "复查"
    close_word: str = "销号"
    fix_word: str = "整改"


#: The supervision problems' loop (督查问题整改).
PROBLEM_LOOP = LoopKind("problems", "problem_events", "problem_no", "DC", "问题", defaults={"accountability": "无"})
#: The command's assigned tasks (交办事项): a decision of a meeting, handed to
#: a unit and a person with a deadline, done and checked, then closed (办结).
TASK_LOOP = LoopKind(
    "tasks", "task_events", "task_no", "JB", "交办事项",
    step_actions={ASSIGNED: "交办（明确责任单位、责任人、时限）", FIXING: "报告办理进展", RECHECKED: "核验通过",
                  FAILED: "核验未通过", CLOSED: "办结"},
    stage_words={FOUND: "待交办", ASSIGNED: "已交办", FIXING: "办理中", RECHECKED: "已核验", CLOSED: "已办结"},
    labels={**FIELD_LABELS, "deadline": "完成时限"},
    date_label="交办日期", recheck_word="核验", close_word="办结", fix_word="办理",
)


class TransitionError(ValueError):
    """A step the loop does not allow; the message says why, in Chinese."""


def allowed_steps(stage: str) -> tuple[str, ...]:
    """Steps that may follow ``stage`` (none once closed)."""
    if stage not in PROBLEM_STAGES:
        raise TransitionError(f"未知阶段「{stage}」（应为 {'、'.join(PROBLEM_STAGES)} 之一）")
    return tuple(step for (src, step) in TRANSITIONS if src == stage)


def next_stage(stage: str, step: str, *, kind: LoopKind = PROBLEM_LOOP) -> str:
    """The stage after ``step`` from ``stage``; :class:`TransitionError` if
    the loop does not allow it (skipped step, closed item, unknown step)."""
    allowed = allowed_steps(stage)
    if (stage, step) in TRANSITIONS:
        return TRANSITIONS[(stage, step)]
    k = kind
    if stage == CLOSED:
        raise TransitionError(f"{k.noun}已{k.close_word}，不能再「{step}」")
    if step == CLOSED:
        raise TransitionError(f"当前阶段为「{stage}」：须{k.recheck_word}通过后才能{k.close_word}")
    if step == FOUND:
        raise TransitionError(f"{k.noun}已处于「{stage}」阶段，不能再次「发现」（新{k.noun}请新开）")
    if step not in k.step_actions:
        raise TransitionError(f"未知环节「{step}」")
    options = "、".join(k.step_actions[s] for s in allowed)
    raise TransitionError(f"当前阶段为「{stage}」，不能直接「{k.step_actions[step]}」；下一步只能是：{options}")


def passed_recheck(history: pd.DataFrame) -> bool:
    """True when the latest re-inspection in ``history`` passed: a 复查 with
    no 复查未通过 or new rectification after it."""
    if history is None or history.empty:
        return False
    steps = history.sort_values("time", kind="stable")["step"].tolist()
    relevant = [s for s in steps if s in (RECHECKED, FAILED, FIXING)]
    return bool(relevant) and relevant[-1] == RECHECKED


def check_step(problem: Mapping, step: str, values: Mapping, history: pd.DataFrame | None = None, *,
               kind: LoopKind = PROBLEM_LOOP) -> str:
    """Validate one step on one problem; return the new stage.

    ``problem`` is the problem row (``stage``, ``date``…), ``values`` the
    step's fields (``who``, ``unit``, ``person``, ``deadline``, ``note``,
    ``evidence``), ``history`` the problem's events. Raises
    :class:`TransitionError` listing everything that is wrong. ``kind``
    says whose loop it is (its words in the messages).
    """
    new = next_stage(problem.get("stage") or FOUND, step, kind=kind)
    missing = [kind.labels[k] for k in ("who", *STEP_REQUIRES[step]) if _blank(values.get(k))]
    if missing:
        raise TransitionError(f"「{kind.step_actions[step]}」须填写：{'、'.join(missing)}")
    if step == ASSIGNED:
        found = _as_date(problem.get("date"))
        deadline = _as_date(values.get("deadline"))
        if found and deadline and deadline < found:
            raise TransitionError(f"{kind.labels['deadline']} {deadline.isoformat()} 早于{kind.date_label} "
                                  f"{found.isoformat()}")
    if step == CLOSED and history is not None and not passed_recheck(history):
        raise TransitionError(f"最近一次{kind.recheck_word}未通过或没有{kind.recheck_word}记录："
                              f"须{kind.recheck_word}通过后才能{kind.close_word}")
    return new


def replay(history: pd.DataFrame) -> str:
    """The stage a history leads to, checking every step against the loop
    (the first event must be 发现)."""
    steps = history.sort_values("time", kind="stable")["step"].tolist()
    if not steps or steps[0] != FOUND:
        raise TransitionError("整改过程须从「发现」开始")
    stage = FOUND
    for step in steps[1:]:
        stage = next_stage(stage, step)
    return stage


def _blank(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value) or (
        isinstance(value, str) and not value.strip())


def _as_date(value) -> date | None:
    if _blank(value):
        return None
    return pd.Timestamp(value).date()


# -- Overdue, filters, board ----------------------------------------------------


def is_overdue(problems: pd.DataFrame, day: date) -> pd.Series:
    """Past the deadline (整改时限 before ``day``) and not closed."""
    deadline = pd.to_datetime(problems["deadline"])
    return (deadline < pd.Timestamp(day)).fillna(False) & (problems["stage"] != CLOSED)


def overdue_problems(problems: pd.DataFrame, day: date) -> pd.DataFrame:
    """The overdue list for the daily briefing: problems past their deadline
    and not closed on ``day``, most overdue first, with ``days_overdue``.

    Only problems found on or before ``day`` count. Columns: the keys of
    :data:`OVERDUE_COLUMNS` (rename with it for Chinese headers).
    """
    known = problems[pd.to_datetime(problems["date"]) <= pd.Timestamp(day)]
    late = known[is_overdue(known, day)]
    late = late.assign(days_overdue=(pd.Timestamp(day) - pd.to_datetime(late["deadline"])).dt.days.astype(int))
    late = late.sort_values(["days_overdue", "problem_no"], ascending=[False, True])
    return late.reindex(columns=list(OVERDUE_COLUMNS)).reset_index(drop=True)


def filter_problems(
    problems: pd.DataFrame,
    day: date,
    *,
    team: str = "",
    village: str = "",
    category: str = "",
    unit: str = "",
    overdue: bool = False,
) -> pd.DataFrame:
    """Problems found on or before ``day`` matching every given filter, with
    an ``overdue`` column."""
    out = problems[pd.to_datetime(problems["date"]) <= pd.Timestamp(day)]
    for column, value in (("team", team), ("village", village), ("category", category), ("unit", unit)):
        if value:
            out = out[out[column] == value]
    out = out.assign(overdue=is_overdue(out, day))
    if overdue:
        out = out[out["overdue"]]
    return out


def board(problems: pd.DataFrame, *, kind: LoopKind = PROBLEM_LOOP) -> dict[str, pd.DataFrame]:
    """The problems (or items of ``kind``) by stage, one frame per column of
    the board (overdue first, then newest first)."""
    columns = {}
    for stage in PROBLEM_STAGES:
        rows = problems[problems["stage"] == stage]
        if "overdue" in rows:
            rows = rows.sort_values(["overdue", "date", kind.key], ascending=[False, False, True])
        columns[stage] = rows
    return columns


# -- Counts and workload -----------------------------------------------------------


def closing_dates(events: pd.DataFrame) -> pd.Series:
    """Date each problem was closed (its last 销号 event), by problem_no."""
    closed = events[events["step"] == CLOSED]
    return pd.to_datetime(closed.groupby("problem_no")["time"].max()).dt.normalize()


def week_start(values: pd.Series) -> pd.Series:
    """The Monday of each date's week."""
    ts = pd.to_datetime(values).dt.normalize()
    return ts - pd.to_timedelta(ts.dt.day_of_week, unit="D")


def counts_over_time(
    problems: pd.DataFrame,
    events: pd.DataFrame,
    visits: pd.DataFrame,
    day: date,
    *,
    by: str = "team",
    keys: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Per team (``by="team"``) or village (``by="village"``) and week up to
    ``day``: visits (督查次数), problems found, closed, and overdue at the
    end of the week (or on ``day`` for the current week).

    Returns a long frame: ``key``, ``week`` (Monday), ``visits``, ``found``,
    ``closed``, ``overdue``. Weeks without any activity are kept (zeros), so
    the series are comparable.
    """
    ts = pd.Timestamp(day)
    problems = problems[pd.to_datetime(problems["date"]) <= ts]
    visits = visits[pd.to_datetime(visits["date"]) <= ts]
    closed_on = closing_dates(events[pd.to_datetime(events["time"]) < ts + pd.Timedelta(days=1)])
    starts = pd.concat([week_start(problems["date"]), week_start(visits["date"])])
    if starts.empty:
        return pd.DataFrame(columns=["key", "week", "visits", "found", "closed", "overdue"])
    weeks = pd.date_range(starts.min(), week_start(pd.Series([ts])).iloc[0], freq="7D")
    keys = list(keys) if keys is not None else sorted(set(problems[by].dropna()) | set(visits[by].dropna()))
    rows = []
    p_week = week_start(problems["date"])
    v_week = week_start(visits["date"])
    closed = problems["problem_no"].map(closed_on)
    c_week = week_start(closed)
    deadline = pd.to_datetime(problems["deadline"])
    for key in keys:
        mine = problems[by] == key
        mine_v = visits[by] == key
        for week in weeks:
            end = min(week + pd.Timedelta(days=6), ts)
            open_then = closed.isna() | (closed > end)
            rows.append(dict(
                key=key, week=week,
                visits=int((mine_v & (v_week == week)).sum()),
                found=int((mine & (p_week == week)).sum()),
                closed=int((mine & (c_week == week)).sum()),
                overdue=int((mine & (pd.to_datetime(problems["date"]) <= end) & (deadline < end) & open_then).sum()),
            ))
    return pd.DataFrame(rows)


def summarize_by(problems: pd.DataFrame, visits: pd.DataFrame, day: date, *, by: str,
                 keys: Iterable[str] | None = None) -> pd.DataFrame:
    """Totals up to ``day`` per team or village: visits, found, closed, open,
    overdue (index: the key)."""
    ts = pd.Timestamp(day)
    problems = problems[pd.to_datetime(problems["date"]) <= ts]
    visits = visits[pd.to_datetime(visits["date"]) <= ts]
    keys = list(keys) if keys is not None else sorted(set(problems[by].dropna()) | set(visits[by].dropna()))
    over = is_overdue(problems, day)

    def count(mask: pd.Series, frame: pd.DataFrame) -> pd.Series:
        return frame[mask].groupby(by).size().reindex(keys, fill_value=0)

    table = pd.DataFrame(index=pd.Index(keys, name=by))
    table["visits"] = visits.groupby(by).size().reindex(keys, fill_value=0)
    table["found"] = count(pd.Series(True, index=problems.index), problems)
    table["closed"] = count(problems["stage"] == CLOSED, problems)
    table["open"] = table["found"] - table["closed"]
    table["overdue"] = count(over, problems)
    return table.astype(int)


def team_workload(problems: pd.DataFrame, visits: pd.DataFrame, day: date,
                  teams: Iterable[str] = SUPERVISION_TEAMS) -> pd.DataFrame:
    """What each supervision team has on its hands on ``day``: problems it
    follows (not closed); of those, under rectification (整改中, the team
    re-inspects them next), of which reported done by the unit, and passed
    re-inspection waiting for 销号; overdue; its visits in the last 7 days
    and in all."""
    ts = pd.Timestamp(day)
    teams = list(teams)
    known = problems[pd.to_datetime(problems["date"]) <= ts]
    open_ = known[known["stage"] != CLOSED]
    done = pd.to_datetime(open_["done_date"]).notna()
    past = visits[pd.to_datetime(visits["date"]) <= ts]
    recent = past[pd.to_datetime(past["date"]) > ts - pd.Timedelta(days=7)]

    def per_team(frame):
        return frame.groupby("team").size().reindex(teams, fill_value=0)

    table = pd.DataFrame(index=pd.Index(teams, name="team"))
    table["open"] = per_team(open_)
    table["fixing"] = per_team(open_[open_["stage"] == FIXING])
    table["reported_done"] = per_team(open_[(open_["stage"] == FIXING) & done])
    table["to_close"] = per_team(open_[open_["stage"] == RECHECKED])
    table["overdue"] = per_team(open_[is_overdue(open_, day)])
    table["visits_7d"] = per_team(recent)
    table["visits"] = per_team(past)
    return table.astype(int)


def problem_history(events: pd.DataFrame, problem_no: str, *, kind: LoopKind = PROBLEM_LOOP) -> pd.DataFrame:
    """One problem's (or task's) events in order."""
    rows = events[events[kind.key] == problem_no]
    return rows.sort_values("time", kind="stable").reset_index(drop=True)


def next_problem_no(existing: Iterable[str], year: int, prefix: str = "DC") -> str:
    """The next number of the township's sequence, e.g. ``DC2022-035``
    (``prefix="JB"`` for assigned tasks: ``JB2022-007``).

    >>> next_problem_no(["DC2022-001", "DC2022-034", "JB2022-090"], 2022)
    'DC2022-035'
    """
    prefix = f"{prefix}{year}-"
    numbers = [int(n[len(prefix):]) for n in existing if isinstance(n, str) and n.startswith(prefix)
               and n[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"
