"""The duty roster (值班值守): who is on duty at which post in which shift,
and where the roster is short.

One model for every post that must be staffed: the township HQ, the village
HQs and the 24 h road checkpoints (卡口). Posts come from the ``duty_posts``
ledger, assignments (one person, one shift, one day) from ``duty_shifts``,
and the shifts and minimum staffing per kind of post from
``policy/duty.toml``. A shift belongs to the day it starts: the night shift
of 4月7日 (23:00–7:00) is on duty at 3:00 on 4月8日.

Pure functions: frames in, new frames out.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Iterable

import pandas as pd

from ..policy.duty import DutyPolicy, PostKind, Shift, load_duty_policy

__all__ = [
    "ROSTER_COLUMNS", "gap_reason", "on_duty", "roster", "roster_gaps", "roster_summary", "shift_at",
    "shifts_for",
]

#: Columns of :func:`roster` (and :func:`roster_gaps`, :func:`on_duty`).
ROSTER_COLUMNS = [
    "date", "post", "kind", "village", "shift", "start", "end", "required", "assigned", "missing",
    "names", "roles", "reason",
]
#: Chinese headers of the roster columns, for tables and exports.
ROSTER_LABELS = {
    "date": "日期", "post": "点位", "kind": "点位类型", "village": "村", "shift": "班次", "start": "开始",
    "end": "结束", "required": "应到人数", "assigned": "已排人数", "missing": "缺员", "names": "值班人员",
    "roles": "身份", "reason": "缺员情况",
}


def _policy(policy: DutyPolicy | None) -> DutyPolicy:
    return policy if policy is not None else load_duty_policy()


def shifts_for(kind: str, policy: DutyPolicy | None = None) -> tuple[Shift, ...]:
    """The shifts of a kind of post (none for a kind that is not rostered).

    >>> [s.name for s in shifts_for("卡口")]
    ['早班', '中班', '夜班']
    """
    return _policy(policy).kind(kind).shifts


def shift_at(kind: str, when: datetime, policy: DutyPolicy | None = None) -> tuple[date, Shift] | None:
    """The shift of a kind of post that is on duty at ``when``, with the day
    it belongs to (the day it started), or None when no shift covers it.

    >>> day, shift = shift_at("卡口", datetime(2022, 4, 8, 3, 0))
    >>> day.isoformat(), shift.name
    ('2022-04-07', '夜班')
    """
    for shift in shifts_for(kind, policy):
        for day in (when.date(), when.date() - timedelta(days=1)):
            begin, end = shift.span(day)
            if begin <= when < end:
                return day, shift
    return None


def gap_reason(rules: PostKind, shift: Shift, roles: Iterable[str]) -> tuple[int, int, str]:
    """(required, missing, reason) for the 身份 of the people on a shift.

    ``missing`` is how many more people the shift needs to meet both its
    minimum and every group; the reason says what is missing, in Chinese
    ("缺2人（缺民警或医护、缺志愿者或党员）"), empty when nothing is.

    >>> from fangkong_lib.policy.duty import load_duty_policy
    >>> rules = load_duty_policy().kind("卡口")
    >>> gap_reason(rules, rules.shift("夜班"), ["乡干部", "志愿者"])
    (3, 1, '缺1人（缺民警或医护）')
    """
    roles = [r if isinstance(r, str) else "" for r in roles]
    required = rules.minimum_of(shift)
    have = Counter(roles)
    short_groups, group_missing = [], 0
    for need in rules.needs:
        got = sum(have[r] for r in need.roles)
        if got < need.count:
            lack = need.count - got
            group_missing += lack
            short_groups.append(f"缺{need.label}" + (f"{lack}人" if lack > 1 else ""))
    # people outside every group still count towards the minimum
    missing = max(required - len(roles), group_missing)
    if not missing:
        return required, 0, ""
    if len(roles) == 0:
        return required, missing, f"无人值守（缺{missing}人）"
    detail = f"（{'、'.join(short_groups)}）" if short_groups else ""
    return required, missing, f"缺{missing}人{detail}"


def _clean_posts(posts: pd.DataFrame, policy: DutyPolicy) -> pd.DataFrame:
    posts = posts.dropna(subset=["name"]).drop_duplicates("name", keep="last")
    return posts[[bool(policy.kind(k).shifts) for k in posts["kind"]]]


def _day(value) -> date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    return pd.Timestamp(value).date()


def roster(posts: pd.DataFrame, shifts: pd.DataFrame, start: date, end: date | None = None,
           policy: DutyPolicy | None = None) -> pd.DataFrame:
    """One row per post × day × shift from ``start`` to ``end`` (inclusive;
    ``end`` defaults to ``start``): the people required and assigned, their
    names and 身份, how many are missing and why (empty reason: complete).

    Posts whose kind has no shifts are left out; an assignment naming a post
    that is not in ``posts`` or a shift its kind does not have is ignored.
    Columns: :data:`ROSTER_COLUMNS` (``start``/``end`` are datetimes).
    """
    policy = _policy(policy)
    end = end or start
    posts = _clean_posts(posts, policy)
    people: dict[tuple, list[tuple[str, str]]] = {}
    if len(shifts):
        days = [_day(v) for v in shifts["date"]]
        for day, post, shift, name, role in zip(days, shifts["post"], shifts["shift"], shifts["name"],
                                                shifts["role"]):
            if day is None or not (start <= day <= end) or not isinstance(name, str) or not name.strip():
                continue
            people.setdefault((day, post, shift), []).append((name.strip(), role if isinstance(role, str) else ""))
    rows = []
    n_days = (end - start).days + 1
    for post in posts.to_dict("records"):
        rules = policy.kind(post["kind"])
        village = post.get("village") if isinstance(post.get("village"), str) else ""
        for offset in range(max(n_days, 0)):
            day = start + timedelta(days=offset)
            for shift in rules.shifts:
                on = people.get((day, post["name"], shift.name), [])
                required, missing, reason = gap_reason(rules, shift, [r for _, r in on])
                begin, finish = shift.span(day)
                rows.append(dict(
                    date=day, post=post["name"], kind=post["kind"], village=village, shift=shift.name,
                    start=begin, end=finish, required=required, assigned=len(on), missing=missing,
                    names="、".join(n for n, _ in on),
                    roles="、".join(f"{n}（{r}）" if r else n for n, r in on),
                    reason=reason,
                ))
    return pd.DataFrame(rows, columns=ROSTER_COLUMNS)


def roster_gaps(posts: pd.DataFrame, shifts: pd.DataFrame, start: date, end: date | None = None,
                policy: DutyPolicy | None = None) -> pd.DataFrame:
    """The rows of :func:`roster` that are short (``missing`` > 0), with their
    Chinese reason ("缺2人（缺民警或医护）", "无人值守（缺3人）")."""
    table = roster(posts, shifts, start, end, policy)
    return table[table["missing"] > 0].reset_index(drop=True)


def on_duty(posts: pd.DataFrame, shifts: pd.DataFrame, when: datetime,
            policy: DutyPolicy | None = None) -> pd.DataFrame:
    """Who is on duty at ``when``, one row per rostered post: the shift on
    duty then (the night shift that started yesterday, after midnight) with
    its people and gap. Columns: :data:`ROSTER_COLUMNS`."""
    policy = _policy(policy)
    posts = _clean_posts(posts, policy)
    tables = []
    for kind, group in posts.groupby("kind", sort=False):
        found = shift_at(kind, when, policy)
        if found is None:
            continue
        day, shift = found
        table = roster(group, shifts, day, day, policy)
        tables.append(table[table["shift"] == shift.name])
    if not tables:
        return pd.DataFrame(columns=ROSTER_COLUMNS)
    out = pd.concat(tables, ignore_index=True)
    order = {name: i for i, name in enumerate(posts["name"])}
    return out.sort_values("post", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def roster_summary(table: pd.DataFrame) -> dict[str, int]:
    """Counts of a roster: shifts, complete, short, unstaffed, people missing."""
    return {
        "shifts": int(len(table)),
        "complete": int((table["missing"] == 0).sum()),
        "short": int((table["missing"] > 0).sum()),
        "empty": int((table["assigned"] == 0).sum()),
        "missing": int(table["missing"].sum()),
    }
