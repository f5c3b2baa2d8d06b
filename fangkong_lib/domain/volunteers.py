"""One fist (党员志愿者): the volunteer roster, where each volunteer is
posted, and what is not covered (pure functions).

- the roster: the volunteers ledger (党员干部突击队 and 基层党员服务队, with
  their 身份, 岗位 and hours served) and, for a day, each volunteer's posts:
  grids and home-isolated households (``volunteer_assignments``) and
  checkpoint shifts (the duty roster, ``duty_shifts`` rows of 身份 志愿者);
- the gaps: every household under home isolation needs a volunteer in each
  post the policy lists (代购员 and 守门员, ``policy/volunteers.toml``), and
  every checkpoint shift needs its people (the duty roster's own gaps,
  :func:`fangkong_lib.domain.duty.roster`);
- 五包一: :class:`TeamVolunteers` names the volunteer of a controlled
  person's team from the roster (the household's, else the grid's).

Frames in, new frames out; nothing is read or written here.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Mapping

import pandas as pd

from ..policy.duty import DutyPolicy
from ..policy.volunteers import VolunteerPolicy, load_volunteer_policy
from .controls import active_controls, filter_village
from .duty import roster

__all__ = [
    "ASSIGNMENT_STATES", "CATEGORIES", "DEFAULT_TEAM", "TeamVolunteers", "active_assignments", "checkpoint_shifts",
    "filter_roster", "gap_labels", "grid_volunteers", "household_cover", "kpi_labels", "summarize_volunteers", "volunteer_category",
    "volunteer_gap_figures", "volunteer_roster", "volunteer_shifts",
]

#: A volunteer with no 队伍 belongs to the service team (the 376).
DEFAULT_TEAM = "基层党员服务队"
#: The categories the page filters by: the two teams, and the probationary
#: members and activists among the volunteers.
CATEGORIES = ("党员干部突击队", "基层党员服务队", "预备党员", "入党积极分子")
#: 派驻状态 of a volunteer on a day.
ASSIGNMENT_STATES = ("已派驻", "未派驻")
#: Kind of a household posting (volunteer_assignments.kind) and of a grid one.
HOUSEHOLD, GRID = "居家隔离户", "网格"


def _policy(policy: VolunteerPolicy | None) -> VolunteerPolicy:
    return policy if policy is not None else load_volunteer_policy()


def kpi_labels(policy: VolunteerPolicy | None = None) -> dict[str, str]:
    """KPI key → Chinese label, in display order (the households' label
    names the posts the policy requires)."""
    roles = "/".join(_policy(policy).household_roles)
    return {
        "assault": "党员干部突击队", "service": "基层党员服务队", "probationary": "其中预备党员",
        "activists": "其中入党积极分子", "hours": "累计服务时长(小时)", "unassigned": "未派驻",
        "households": "居家隔离户", "households_missing": f"缺{roles}的隔离户", "short_shifts": "卡口缺员班次",
    }


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _ts(value) -> pd.Series:
    return pd.to_datetime(value, errors="coerce")


def _some(items: list[str], unit: str, shown: int = 3) -> str:
    """The first ``shown`` items, and how many in all when there are more."""
    text = "、".join(items[:shown])
    return f"{text} 等{len(items)}{unit}" if len(items) > shown else text


def volunteer_category(volunteers: pd.DataFrame) -> pd.Series:
    """The team of each volunteer (队伍; blank counts as the service team)."""
    if "team" not in volunteers.columns:
        return pd.Series(DEFAULT_TEAM, index=volunteers.index, dtype=object)
    return volunteers["team"].map(lambda v: _text(v) or DEFAULT_TEAM)


def active_assignments(assignments: pd.DataFrame, day: date) -> pd.DataFrame:
    """Postings in force on ``day``: started, and not ended before it."""
    if assignments.empty:
        return assignments
    ts = pd.Timestamp(day)
    start, end = _ts(assignments["start_date"]), _ts(assignments["end_date"])
    return assignments[((start <= ts) & (end.isna() | (end >= ts))).to_numpy(dtype=bool)]


def volunteer_shifts(volunteers: pd.DataFrame, shifts: pd.DataFrame, start: date, end: date,
                     policy: VolunteerPolicy | None = None) -> pd.DataFrame:
    """Duty-roster rows from ``start`` to ``end`` (inclusive) of people on
    duty as volunteers (身份 in the policy's ``checkpoints.roles``), with the
    ``volunteer_no`` of the roster volunteer each one is: same name and
    phone, else the only volunteer of that name (empty when none matches)."""
    policy = _policy(policy)
    cols = ["date", "post", "shift", "name", "phone", "role", "volunteer_no"]
    if shifts.empty:
        return pd.DataFrame(columns=cols)
    days = _ts(shifts["date"])
    rows = shifts[((days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))
                   & shifts["role"].isin(policy.shift_roles)).to_numpy(dtype=bool)]
    by_both = {(_text(n), _text(p)): no for n, p, no in
               zip(volunteers["name"], volunteers["phone"], volunteers["volunteer_no"])}
    names = volunteers["name"].map(_text)
    unique = names[~names.duplicated(keep=False)]
    by_name = dict(zip(unique, volunteers.loc[unique.index, "volunteer_no"]))
    numbers = [by_both.get((_text(n), _text(p))) or by_name.get(_text(n), "")
               for n, p in zip(rows["name"], rows["phone"])]
    return rows.assign(volunteer_no=numbers)[cols].reset_index(drop=True)


def volunteer_roster(volunteers: pd.DataFrame, assignments: pd.DataFrame, shifts: pd.DataFrame, day: date,
                     policy: VolunteerPolicy | None = None) -> pd.DataFrame:
    """The volunteers ledger with each volunteer's posts on ``day``.

    Added columns: ``team`` (blank filled), ``grids`` (grid codes),
    ``households`` (people in home isolation they serve, with the post),
    ``shifts`` (checkpoint shifts within the policy's ``window_days``
    before or after ``day``: the volunteer is on the rotation),
    ``posts`` (how many of the three), ``state`` (已派驻 / 未派驻).
    """
    policy = _policy(policy)
    out = volunteers.copy()
    out["team"] = volunteer_category(volunteers)
    active = active_assignments(assignments, day)
    grids: dict[str, list[str]] = {}
    homes: dict[str, list[str]] = {}
    for no, kind, grid, who, role in zip(active["volunteer_no"], active["kind"], active["grid"],
                                         active["household"], active["role"]):
        if kind == GRID:
            grids.setdefault(no, []).append(_text(grid))
        elif kind == HOUSEHOLD:
            homes.setdefault(no, []).append(f"{_text(who)}（{role}）")
    window = timedelta(days=policy.window_days)
    on = volunteer_shifts(volunteers, shifts, day - window, day + window, policy)
    duty: dict[str, list[str]] = {}
    for no, when, post, shift in zip(on["volunteer_no"], on["date"], on["post"], on["shift"]):
        if no:
            duty.setdefault(no, []).append(f"{pd.Timestamp(when):%m月%d日} {post} {shift}")
    numbers = out["volunteer_no"]
    out["grids"] = numbers.map(lambda n: "、".join(grids.get(n, [])))
    out["households"] = numbers.map(lambda n: "、".join(homes.get(n, [])))
    out["shifts"] = numbers.map(lambda n: _some(sorted(duty.get(n, [])), "班"))
    out["posts"] = numbers.map(lambda n: len(grids.get(n, [])) + len(homes.get(n, [])) + len(duty.get(n, [])))
    out["state"] = out["posts"].map(lambda n: ASSIGNMENT_STATES[0] if n else ASSIGNMENT_STATES[1])
    return out.reset_index(drop=True)


def filter_roster(rows: pd.DataFrame, *, village: str | None = None, category: str | None = None,
                  post: str | None = None, state: str | None = None, query: str | None = None) -> pd.DataFrame:
    """Rows of :func:`volunteer_roster` of one village, category (a team or
    身份 预备党员 / 入党积极分子), post (岗位), state, or matching ``query``
    (name, number or grid)."""
    out = filter_village(rows, village)
    if category:
        out = out[(out["team"] == category) | (out["identity"] == category)]
    if post:
        out = out[out["post"] == post]
    if state:
        out = out[out["state"] == state]
    if query:
        text = out["name"].fillna("") + " " + out["volunteer_no"].fillna("") + " " + out["grids"].fillna("")
        out = out[text.str.contains(query, regex=False)]
    return out


def household_cover(controls: pd.DataFrame, assignments: pd.DataFrame, day: date,
                    policy: VolunteerPolicy | None = None) -> pd.DataFrame:
    """One row per person whose measure on ``day`` is one of the policy's
    household measures (居家隔离户), with the volunteers posted to them per
    required post (a column per post: names) and what is missing.

    ``missing`` lists the posts nobody holds ("代购员、守门员"); ``reason``
    says it ("缺代购员、缺守门员"), empty when the household is covered.
    """
    policy = _policy(policy)
    roles = list(policy.household_roles)
    base = ["id_number", "name", "village", "natural_village", "grid", "house_no", "phone", "current_measure",
            "start_date", "end_date"]
    active = active_controls(controls, day)
    homes = active[active["current_measure"].isin(policy.household_measures)]
    posted = active_assignments(assignments, day)
    posted = posted[posted["kind"] == HOUSEHOLD]
    held: dict[tuple[str, str], list[str]] = {}
    for idn, role, name in zip(posted["household_id"], posted["role"], posted["name"]):
        held.setdefault((_text(idn), role), []).append(_text(name))
    out = homes[[c for c in base if c in homes.columns]].copy()
    for role in roles:
        out[role] = [("、".join(held.get((_text(i), role), []))) for i in out["id_number"]]
    out["missing"] = ["、".join(r for r in roles if not row[r]) for _, row in out.iterrows()] if len(out) else []
    out["reason"] = out["missing"].map(lambda m: "、".join(f"缺{r}" for r in m.split("、")) if m else "")
    return out.reset_index(drop=True)


def checkpoint_shifts(posts: pd.DataFrame, shifts: pd.DataFrame, day: date,
                      policy: VolunteerPolicy | None = None, duty_policy: DutyPolicy | None = None) -> pd.DataFrame:
    """The duty roster of the checkpoints (the policy's ``checkpoints.kind``)
    on ``day``: :func:`fangkong_lib.domain.duty.roster` rows, plus
    ``volunteers`` (the names on duty as volunteers)."""
    policy = _policy(policy)
    posts = posts[posts["kind"] == policy.checkpoint_kind]
    table = roster(posts, shifts, day, day, duty_policy)
    on = shifts[(_ts(shifts["date"]) == pd.Timestamp(day)).to_numpy(dtype=bool)] if len(shifts) else shifts
    names: dict[tuple[str, str], list[str]] = {}
    if len(on):
        for post, shift, name, role in zip(on["post"], on["shift"], on["name"], on["role"]):
            if role in policy.shift_roles:
                names.setdefault((post, shift), []).append(_text(name))
    table["volunteers"] = ["、".join(names.get((p, s), [])) for p, s in zip(table["post"], table["shift"])]
    return table


def grid_volunteers(grids: pd.DataFrame, assignments: pd.DataFrame, day: date) -> pd.DataFrame:
    """Per grid code: ``count`` of volunteers posted to it on ``day`` and
    their ``names``."""
    active = active_assignments(assignments, day)
    active = active[active["kind"] == GRID]
    names: dict[str, list[str]] = {}
    for grid, name in zip(active["grid"], active["name"]):
        names.setdefault(_text(grid), []).append(_text(name))
    codes = grids["code"].tolist()
    return pd.DataFrame({"count": [len(names.get(c, [])) for c in codes],
                         "names": ["、".join(names.get(c, [])) for c in codes]}, index=pd.Index(codes, name="code"))


def summarize_volunteers(rows: pd.DataFrame, households: pd.DataFrame, checkpoints: pd.DataFrame) -> dict:
    """The KPIs (keys of :func:`kpi_labels`) of a filtered roster, its
    households and the checkpoint shifts."""
    team = rows["team"] if "team" in rows.columns else volunteer_category(rows)
    return {
        "assault": int((team == "党员干部突击队").sum()),
        "service": int((team == DEFAULT_TEAM).sum()),
        "probationary": int(((team == DEFAULT_TEAM) & (rows["identity"] == "预备党员")).sum()),
        "activists": int(((team == DEFAULT_TEAM) & (rows["identity"] == "入党积极分子")).sum()),
        "hours": float(pd.to_numeric(rows["hours"], errors="coerce").fillna(0).sum()),
        "unassigned": int((rows["state"] == ASSIGNMENT_STATES[1]).sum()),
        "households": len(households),
        "households_missing": int((households["missing"] != "").sum()) if len(households) else 0,
        "short_shifts": int((checkpoints["missing"] > 0).sum()) if len(checkpoints) else 0,
    }


def gap_labels(policy: VolunteerPolicy | None = None) -> dict[str, str]:
    """The overview's volunteer figures (keys of :func:`volunteer_gap_figures`)
    with their Chinese labels."""
    return {"volunteer_households": f"隔离户缺{'/'.join(_policy(policy).household_roles)}",
            "checkpoint_short_shifts": "卡口缺员班次"}


def volunteer_gap_figures(data: Mapping[str, pd.DataFrame], day: date, village: str | None = None,
                          policy: VolunteerPolicy | None = None, memo=None) -> dict[str, pd.DataFrame]:
    """What the overview and the briefing say about the volunteers on ``day``:
    ``volunteer_households`` (home-isolated households without a volunteer in
    every required post, :func:`household_cover`) and
    ``checkpoint_short_shifts`` (the day's checkpoint shifts short of people,
    :func:`checkpoint_shifts`; none on a day the duty roster does not cover
    at all, before it was kept). ``village`` limits the households;
    checkpoints are the township's (with ``memo``, see
    :func:`~.overview.summarize_overview`, computed once for the day)."""
    if memo is None:
        homes = household_cover(filter_village(data["controls"], village), data["volunteer_assignments"], day, policy)
    else:  # row by row: the township's once for the day, then one village's rows
        homes = filter_village(memo(("household_cover", day, None if policy is None else id(policy)),
                                    lambda: household_cover(data["controls"], data["volunteer_assignments"], day,
                                                            policy)), village).reset_index(drop=True)
    shifts = (memo or (lambda _key, build: build()))(
        ("checkpoint_shifts", day, None if policy is None else id(policy)),
        lambda: checkpoint_shifts(data["duty_posts"], data["duty_shifts"], day, policy))
    rostered = data["duty_shifts"]
    if not (_ts(rostered["date"]) == pd.Timestamp(day)).any():
        shifts = shifts.iloc[0:0]
    return {"volunteer_households": homes[homes["missing"] != ""].reset_index(drop=True),
            "checkpoint_short_shifts": shifts[shifts["missing"] > 0].reset_index(drop=True)}


class TeamVolunteers:
    """Names the 志愿者 of a controlled person's 五包一 team from the roster.

    The volunteer posted to the person's household (居家隔离户, first posted
    first), else to the person's grid, else to another grid of the same
    natural village, else of the same village: always a volunteer of the
    roster, never a made-up name. None when the village has nobody posted.

    Parameters
    ----------
    assignments : DataFrame
        The ``volunteer_assignments`` ledger.
    grids : DataFrame
        The ``grids`` ledger (code, village, natural_village).
    day : date, optional
        Only postings in force on that day count (all of them without it).

    Examples
    --------
    >>> a = pd.DataFrame({"assign_no": ["P1", "P2"], "name": ["甲", "乙"], "kind": ["网格", "居家隔离户"],
    ...                   "grid": ["G1", "G1"], "household_id": [None, "X"], "start_date": ["2022-04-01"] * 2,
    ...                   "end_date": [None, None]})
    >>> g = pd.DataFrame({"code": ["G1", "G2"], "village": ["柳湾村"] * 2, "natural_village": ["东庄"] * 2})
    >>> pick = TeamVolunteers(a, g)
    >>> pick("X", "G1"), pick("Y", "G1"), pick("Y", "G2"), pick("Y", None, "杏园村")
    ('乙', '甲', '甲', None)
    """

    def __init__(self, assignments: pd.DataFrame, grids: pd.DataFrame, day: date | None = None):
        rows = assignments if day is None else active_assignments(assignments, day)
        if len(rows):
            rows = rows.assign(_start=_ts(rows["start_date"])).sort_values(["_start", "assign_no"], kind="stable")
        where = {c: (v, n) for c, v, n in zip(grids["code"], grids["village"], grids["natural_village"])}
        self._household: dict[str, str] = {}
        self._grid: dict[str, str] = {}
        self._natural: dict[tuple, str] = {}
        self._village: dict[str, str] = {}
        for kind, grid, idn, name in zip(rows.get("kind", []), rows.get("grid", []), rows.get("household_id", []),
                                         rows.get("name", [])):
            name = _text(name)
            if not name:
                continue
            if kind == HOUSEHOLD and _text(idn):
                self._household.setdefault(_text(idn), name)
            elif kind == GRID and _text(grid):
                self._grid.setdefault(_text(grid), name)
                village, natural = where.get(_text(grid), (None, None))
                if village:
                    self._natural.setdefault((village, natural), name)
                    self._village.setdefault(village, name)
        self._where = where

    def posted_to_household(self, id_number: str | None) -> bool:
        """Whether a volunteer is posted to this person's household."""
        return _text(id_number) in self._household

    def __call__(self, id_number: str | None = None, grid: str | None = None, village: str | None = None,
                 natural_village: str | None = None, *, household: bool = True) -> str | None:
        if household and _text(id_number) in self._household:
            return self._household[_text(id_number)]
        grid = _text(grid)
        if grid in self._grid:
            return self._grid[grid]
        village, natural_village = self._where.get(grid, (village, natural_village))
        return self._natural.get((village, natural_village)) or self._village.get(village)
