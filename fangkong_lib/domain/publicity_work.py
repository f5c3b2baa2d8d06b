"""Publicity work per village (宣传网, surface 1): coverage against the
targets of ``policy/publicity.toml``, and the villages falling behind.

For each village, up to a day: 村村通广播 broadcasts per day over the last
``window_days``; households reached by leaflets (宣传单) and by door visits
(入户宣传) since ``since``, as a share of the village's households; members
of its WeChat groups (latest report) per household; banners put up. A
village missing any target is behind (宣传滞后), and the reasons say by how
much. Pure functions: frames in, new frames out.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from ..policy.community import PublicityPolicy, load_publicity_policy

__all__ = ["COVERAGE_COLUMNS", "FIGURE_LABELS", "KPI_LABELS", "filter_publicity", "publicity_coverage", "publicity_figures",
           "summarize_publicity"]

#: Columns of :func:`publicity_coverage` with their Chinese headers.
COVERAGE_COLUMNS = {
    "village": "村", "reasons_text": "未达标项", "households": "户数", "broadcasts_per_day": "日均广播(次)", "leaflet_households": "宣传单到户",
    "leaflet_share": "宣传单覆盖率", "door_households": "入户宣传(户)", "door_share": "入户覆盖率",
    "wechat_groups": "微信群", "wechat_members": "群成员", "wechat_share": "群成员/户", "banners": "横幅标语",
}


def _in_range(rows: pd.DataFrame, start: date | None, end: date) -> pd.DataFrame:
    when = pd.to_datetime(rows["date"])
    keep = when <= pd.Timestamp(end)
    if start is not None:
        keep &= when >= pd.Timestamp(start)
    return rows[keep]


def publicity_coverage(publicity: pd.DataFrame, villages: pd.DataFrame, day: date, *,
                       policy: PublicityPolicy | None = None) -> pd.DataFrame:
    """One row per village (in the villages' order) with its publicity up to
    ``day`` against the targets: the columns of :data:`COVERAGE_COLUMNS`,
    plus ``coverage`` (the share of its weakest target reached, at most 1:
    1 means every target met; the map's colour),
    ``reasons`` (list) and ``behind`` (bool)."""
    policy = policy or load_publicity_policy()
    t = policy.targets
    since = _in_range(publicity, t.since, day)
    window_start = pd.Timestamp(day) - pd.Timedelta(days=t.window_days - 1)
    window = since[pd.to_datetime(since["date"]) >= window_start]
    names = villages["name"].tolist()
    households = pd.to_numeric(villages["households"], errors="coerce").fillna(0).to_numpy()

    def total(frame: pd.DataFrame, channel: str, column: str) -> pd.Series:
        rows = frame[frame["channel"] == channel]
        return pd.to_numeric(rows[column], errors="coerce").fillna(0).groupby(rows["village"]).sum().reindex(
            names, fill_value=0)

    wechat = since[since["channel"] == "微信群"]
    if len(wechat):
        latest_day = pd.to_datetime(wechat["date"]).groupby(wechat["village"]).transform("max")
        latest = wechat[pd.to_datetime(wechat["date"]) == latest_day]
        groups = latest.groupby("village")["groups"].max().reindex(names).fillna(0)
        members = latest.groupby("village")["members"].max().reindex(names).fillna(0)
    else:
        groups = members = pd.Series(0, index=names)
    out = pd.DataFrame({
        "village": names,
        "households": households.astype(int),
        "broadcasts_per_day": (total(window, "村村通广播", "quantity") / t.window_days).round(1).to_numpy(),
        "leaflet_households": total(since, "宣传单", "households").astype(int).to_numpy(),
        "door_households": total(since, "入户宣传", "households").astype(int).to_numpy(),
        "wechat_groups": pd.to_numeric(groups, errors="coerce").fillna(0).astype(int).to_numpy(),
        "wechat_members": pd.to_numeric(members, errors="coerce").fillna(0).astype(int).to_numpy(),
        "banners": total(since, "横幅标语", "quantity").astype(int).to_numpy(),
    })
    per_household = out["households"].where(out["households"] > 0)
    out["leaflet_share"] = (out["leaflet_households"] / per_household).fillna(0).round(3)
    out["door_share"] = (out["door_households"] / per_household).fillna(0).round(3)
    out["wechat_share"] = (out["wechat_members"] / per_household).fillna(0).round(3)
    # how far the village is towards its weakest target (1 = every target met): the map's colour
    progress = pd.concat([
        out["broadcasts_per_day"] / t.broadcasts_per_day if t.broadcasts_per_day else 1.0,
        out["leaflet_share"] / t.leaflet_share if t.leaflet_share else 1.0,
        out["door_share"] / t.door_visit_share if t.door_visit_share else 1.0,
        out["wechat_share"] / t.wechat_member_share if t.wechat_member_share else 1.0,
        out["banners"] / t.banners if t.banners else 1.0,
    ], axis=1)
    out["coverage"] = progress.min(axis=1).clip(upper=1.0).round(3)
    reasons = []
    for r in out.itertuples(index=False):
        why = []
        if r.broadcasts_per_day < t.broadcasts_per_day:
            why.append(f"广播日均{r.broadcasts_per_day:g}次，不足{t.broadcasts_per_day:g}次")
        if r.leaflet_share < t.leaflet_share:
            why.append(f"宣传单覆盖{r.leaflet_share:.0%}，不足{t.leaflet_share:.0%}")
        if r.door_share < t.door_visit_share:
            why.append(f"入户宣传覆盖{r.door_share:.0%}，不足{t.door_visit_share:.0%}")
        if r.wechat_share < t.wechat_member_share:
            why.append(f"微信群成员每户{r.wechat_share:.2f}人，不足{t.wechat_member_share:g}人")
        if r.banners < t.banners:
            why.append(f"横幅标语{r.banners}条，不足{t.banners}条")
        reasons.append(why)
    if day < t.since:  # the targets apply from their start only
        reasons = [[] for _ in reasons]
    out["reasons"] = reasons
    out["reasons_text"] = out["reasons"].map("；".join)
    out["behind"] = out["reasons"].map(bool)
    return out


def filter_publicity(publicity: pd.DataFrame, *, village: str = "", channel: str = "", topic: str = "",
                     start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """The publicity rows matching every filter (dates inclusive)."""
    out = publicity
    if village:
        out = out[out["village"] == village]
    if channel:
        out = out[out["channel"] == channel]
    if topic:
        out = out[out["topic"] == topic]
    when = pd.to_datetime(out["date"])
    if start is not None:
        out = out[when >= pd.Timestamp(start)]
        when = pd.to_datetime(out["date"])
    if end is not None:
        out = out[when <= pd.Timestamp(end)]
    return out


#: KPI keys of the publicity page with Chinese labels, in display order.
KPI_LABELS = {
    "villages": "村数",
    "behind": "宣传滞后村",
    "broadcasts": "广播(次)",
    "wechat_members": "微信群成员",
    "leaflet_households": "宣传单到户",
    "door_households": "入户宣传(户)",
    "banners": "横幅标语",
    "records": "宣传记录",
}


def summarize_publicity(coverage: pd.DataFrame, rows: pd.DataFrame) -> dict[str, int]:
    """KPIs: villages shown and behind (from ``coverage``) and the work in
    the filtered ``rows``."""
    def channel_sum(channel: str, column: str) -> int:
        chosen = rows[rows["channel"] == channel]
        return int(pd.to_numeric(chosen[column], errors="coerce").fillna(0).sum())

    return {
        "villages": len(coverage),
        "behind": int(coverage["behind"].sum()),
        "broadcasts": channel_sum("村村通广播", "quantity"),
        "wechat_members": int(coverage["wechat_members"].sum()),
        "leaflet_households": channel_sum("宣传单", "households"),
        "door_households": channel_sum("入户宣传", "households"),
        "banners": channel_sum("横幅标语", "quantity"),
        "records": len(rows),
    }


#: Labels of :func:`publicity_figures` (overview cards, briefing headline).
FIGURE_LABELS = {"publicity_behind": "宣传滞后村", "publicity_coverage": "宣传单覆盖率(%)"}


def publicity_figures(publicity: pd.DataFrame, villages: pd.DataFrame, day: date, *,
                      village: str | None = None, coverage: pd.DataFrame | None = None) -> dict[str, int]:
    """The figures the overview and the briefing show: villages behind, and
    the leaflet coverage of all households (percent). ``coverage``: the
    township's :func:`publicity_coverage` on ``day`` when already computed."""
    cov = publicity_coverage(publicity, villages, day) if coverage is None else coverage
    if village:
        cov = cov[cov["village"] == village]
    households = int(cov["households"].sum())
    reached = int(cov[["leaflet_households", "households"]].min(axis=1).sum())
    return {"publicity_behind": int(cov["behind"].sum()),
            "publicity_coverage": round(100 * reached / households) if households else 0}
