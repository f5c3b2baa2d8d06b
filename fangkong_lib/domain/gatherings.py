"""Gatherings (聚集管控: 红白事报备): the rules, the approval steps and the
figures of the gatherings page, the overview and the daily briefing.

The rules are data (``policy/gatherings.toml``, :func:`fangkong_lib.policy.community.load_gathering_rules`):
weddings reported at least 3 days ahead, at most 50 people and 10 per table
(红事缓办); funerals reported within 24 h of the death, kept small, a village
cadre supervising throughout, 分餐 (白事简办). :func:`gathering_breaches` is
the one checker: it names every rule a gathering breaks, in words that carry
the limit ("报备不足3天", "人数超过50人", "每桌超过10人"), and returns nothing
when none is broken. A breach is a fact to act on, not a typing error: the row
is kept, and no one can approve it as it stands.

Approval goes village first, then township (:data:`STEPS`).
Pure functions: frames and mappings in, new objects out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Mapping

import numpy as np
import pandas as pd

from ..ledgers import GATHERING_APPROVALS
from ..policy.community import FuneralRules, GatheringRules, WeddingRules, load_gathering_rules

__all__ = [
    "APPROVED", "FIGURE_LABELS", "KPI_LABELS", "PENDING", "REFUSED", "STEPS", "VILLAGE_APPROVED", "Step", "breach_text",
    "check_step", "filter_gatherings", "gathering_breaches", "gathering_figures", "gathering_label",
    "gathering_table", "kpi_rows", "now_on", "summarize_gatherings",
]

PENDING, VILLAGE_APPROVED, APPROVED, REFUSED = GATHERING_APPROVALS  # 待审批, 村已审批, 乡已审批, 不予批准


@dataclass(frozen=True)
class Step:
    """One approval step: who takes it, from which state, to which."""

    level: str  # 村 / 乡
    before: str
    after: str


#: The approval steps: the village approves a pending report, then the
#: township approves what the village approved. Either may refuse (不予批准)
#: what is still waiting for it.
STEPS = {"村": Step("村", PENDING, VILLAGE_APPROVED), "乡": Step("乡", VILLAGE_APPROVED, APPROVED)}


def _blank(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value)) or value == ""


def _yes(value) -> bool:
    """A 是 (True, numpy's True); blank or 否 is not."""
    return isinstance(value, (bool, np.bool_)) and bool(value)


def _ts(value) -> pd.Timestamp | None:
    return None if _blank(value) else pd.Timestamp(value)


def _wedding(g: Mapping, r: WeddingRules) -> list[str]:
    out = []
    reported, day = _ts(g.get("reported_at")), _ts(g.get("date"))
    if reported is None:
        out.append("未填报备时间")
    elif day is not None and (day.normalize() - reported.normalize()).days < r.report_days_ahead:
        out.append(f"报备不足{r.report_days_ahead}天")
    return out + _size(g, r.max_people, r.max_per_table) + _pledge(g, r.pledge)


def _funeral(g: Mapping, r: FuneralRules) -> list[str]:
    out = []
    reported, died = _ts(g.get("reported_at")), _ts(g.get("deceased_at"))
    if reported is None:
        out.append("未填报备时间")
    elif died is None:
        out.append("未填去世时间")
    elif reported - died > pd.Timedelta(hours=r.report_within_hours):
        out.append(f"超过{r.report_within_hours}小时报备")
    out += _size(g, r.max_people, None)
    if r.supervised and not _yes(g.get("supervised")):
        out.append("无村干部全程监管")
    if r.separate_meals and not _yes(g.get("separate_meals")):
        out.append("未分餐")
    return out + _pledge(g, r.pledge)


def _size(g: Mapping, max_people: int, max_per_table: int | None) -> list[str]:
    people, tables = g.get("expected_people"), g.get("tables")
    if _blank(people):
        return ["未填人数"]
    out = []
    if people > max_people:
        out.append(f"人数超过{max_people}人")
    if max_per_table is not None and not _blank(tables) and tables > 0 and people > max_per_table * tables:
        out.append(f"每桌超过{max_per_table}人")
    return out


def _pledge(g: Mapping, required: bool) -> list[str]:
    return ["未签承诺书"] if required and not _yes(g.get("pledge")) else []


def gathering_breaches(gathering: Mapping, rules: GatheringRules | None = None) -> list[str]:
    """The rules ``gathering`` (a row of the gatherings ledger) breaks, each
    in words that include the limit; ``[]`` when it keeps them all.

    Boundaries are allowed: a wedding reported exactly 3 days ahead (calendar
    days, the day of the report counting as 0), exactly 50 people, exactly 10
    per table, a funeral reported exactly 24 h after the death.

    >>> from datetime import date, datetime
    >>> gathering_breaches(dict(kind="红事", date=date(2022, 4, 9), reported_at=datetime(2022, 4, 7, 9),
    ...                         expected_people=60, tables=6, pledge=True))
    ['报备不足3天', '人数超过50人']
    >>> gathering_breaches(dict(kind="红事", date=date(2022, 4, 10), reported_at=datetime(2022, 4, 7, 9),
    ...                         expected_people=50, tables=5, pledge=True))
    []
    """
    rules = rules or load_gathering_rules()
    kind_rules = rules.for_kind(gathering.get("kind"))
    if isinstance(kind_rules, WeddingRules):
        return _wedding(gathering, kind_rules)
    if isinstance(kind_rules, FuneralRules):
        return _funeral(gathering, kind_rules)
    return []


def breach_text(breaches: list[str]) -> str:
    """The 不符合项 cell: the breaches joined with 、 ("" when none)."""
    return "、".join(breaches)


def gathering_label(row: Mapping) -> str:
    """How a gathering is named in lists and forms: 事主 类型 日期."""
    day = _ts(row.get("date"))
    return f"{row.get('host')} {row.get('kind')} {day.date().isoformat() if day is not None else '日期未填'}"


def gathering_table(gatherings: pd.DataFrame, enforcements: pd.DataFrame | None = None, *,
                    rules: GatheringRules | None = None) -> pd.DataFrame:
    """The gatherings with ``breaches`` (list), ``breach_text`` (不符合项),
    ``state`` (审批, blank read as 待审批), ``label`` and ``enforcements``
    (how many enforcement actions name the gathering)."""
    rules = rules or load_gathering_rules()
    out = gatherings.copy()
    records = out.astype(object).where(out.notna(), None).to_dict("records")
    out["breaches"] = [gathering_breaches(r, rules) for r in records]
    out["breach_text"] = out["breaches"].map(breach_text)
    out["state"] = out["approval"].fillna(PENDING).replace("", PENDING)
    out["label"] = [gathering_label(r) for r in records]
    counts = pd.Series(0, index=out.index)
    if enforcements is not None and len(enforcements) and len(out):
        e = enforcements[enforcements["target_type"] == "红白事"]
        keys = pd.Series(list(zip(e["host"], pd.to_datetime(e["event_date"]), e["kind"]))).value_counts()
        mine = list(zip(out["host"], pd.to_datetime(out["date"]), out["kind"]))
        counts = pd.Series([int(keys.get(k, 0)) for k in mine], index=out.index)
    out["enforcements"] = counts.astype(int)
    return out


def filter_gatherings(table: pd.DataFrame, *, village: str = "", kind: str = "", state: str = "",
                      breaches_only: bool = False, query: str = "") -> pd.DataFrame:
    """Rows of :func:`gathering_table` matching every filter."""
    out = table
    if village:
        out = out[out["village"] == village]
    if kind:
        out = out[out["kind"] == kind]
    if state:
        out = out[out["state"] == state]
    if breaches_only:
        out = out[out["breach_text"] != ""]
    query = query.strip()
    if query:
        text = out["host"].fillna("") + " " + out["place"].fillna("") + " " + out["supervisor"].fillna("")
        out = out[text.str.contains(query, regex=False)]
    return out


#: KPI keys of the gatherings page in display order, with Chinese labels.
KPI_LABELS = {
    "gatherings": "红白事报备",
    "weddings": "红事",
    "funerals": "白事",
    "pending_village": "待村审批",
    "pending_township": "待乡审批",
    "approved": "乡已审批",
    "refused": "不予批准",
    "breaching": "不符合项",
    "upcoming_7d": "7日内举办",
    "enforcements": "联合执法",
}


def kpi_rows(table: pd.DataFrame, key: str, day: date) -> pd.DataFrame:
    """The gatherings KPI ``key`` counts (all but ``enforcements``)."""
    ts = pd.Timestamp(day)
    when = pd.to_datetime(table["date"])
    chosen = {
        "gatherings": slice(None),
        "weddings": table["kind"] == "红事",
        "funerals": table["kind"] == "白事",
        "pending_village": table["state"] == PENDING,
        "pending_township": table["state"] == VILLAGE_APPROVED,
        "approved": table["state"] == APPROVED,
        "refused": table["state"] == REFUSED,
        "breaching": table["breach_text"] != "",
        "upcoming_7d": (when >= ts) & (when <= ts + pd.Timedelta(days=7)),
    }[key]
    return table.loc[chosen]


def summarize_gatherings(table: pd.DataFrame, enforcements: pd.DataFrame, day: date) -> dict[str, int]:
    """KPIs of the (filtered) gathering table and the enforcement log shown."""
    kpis = {key: len(kpi_rows(table, key, day)) for key in KPI_LABELS if key != "enforcements"}
    kpis["enforcements"] = len(enforcements)
    return kpis


def check_step(row: Mapping, level: str, approve: bool, rules: GatheringRules | None = None) -> list[str]:
    """Why the ``level`` (村 / 乡) cannot approve (or refuse) ``row`` now:
    sentences, ``[]`` when the step may be taken."""
    step = STEPS.get(level)
    if step is None:
        return [f"未知的审批层级：{level}（应为 村 或 乡）"]
    state = row.get("approval") or PENDING
    if state == REFUSED:
        return ["该报备已不予批准，请重新报备"]
    if state == APPROVED:
        return ["该报备乡里已审批，无需再审批"]
    if approve and state != step.before:
        if level == "乡":
            return ["须先经村审批，乡里才能审批（当前：待审批）"]
        return [f"村里已审批，等待乡里审批（当前：{state}）"]
    if not approve and level == "村" and state != PENDING:
        return [f"村里已审批，只能由乡里不予批准（当前：{state}）"]
    if approve:
        breaches = gathering_breaches(row, rules)
        if breaches:
            return [f"不符合防控规定（{breach_text(breaches)}），不能批准：请劝导缓办或压减规模后重新报备，或不予批准"]
    return []


def gathering_figures(gatherings: pd.DataFrame, day: date, *, village: str | None = None,
                      table: pd.DataFrame | None = None) -> dict[str, int]:
    """The figures the overview and the daily briefing show for ``day``:
    ``gatherings_pending`` (reports waiting for the village or township),
    ``gatherings_breaching`` (gatherings on or after ``day`` breaking a rule)
    and ``gatherings_7d`` (gatherings in the next 7 days). ``table``: the
    township's :func:`gathering_table` when already computed (each row's
    figures are its own)."""
    if table is None:
        table = gathering_table(gatherings if not village else gatherings[gatherings["village"] == village])
    elif village:
        table = table[table["village"] == village]
    ts = pd.Timestamp(day)
    reported = pd.to_datetime(table["reported_at"])
    known = table[reported.isna() | (reported < ts + pd.Timedelta(days=1))]
    when = pd.to_datetime(known["date"])
    ahead = known[when >= ts]
    return {
        "gatherings_pending": int(known["state"].isin([PENDING, VILLAGE_APPROVED]).sum()),
        "gatherings_breaching": int((ahead["breach_text"] != "").sum()),
        "gatherings_7d": int((when.between(ts, ts + pd.Timedelta(days=7))).sum()),
    }


#: Labels of :func:`gathering_figures` (overview cards, briefing headline).
FIGURE_LABELS = {
    "gatherings_pending": "红白事待审批",
    "gatherings_breaching": "红白事不符合规定",
    "gatherings_7d": "7日内红白事",
}


def now_on(day: date) -> datetime:
    """A time stamp on the data's ``day`` at the wall clock's time (forms
    default to it; the demo's today is not the calendar's)."""
    return datetime.combine(day, datetime.now().time().replace(microsecond=0, second=0))
