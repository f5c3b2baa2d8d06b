"""The command page's views (指挥调度): the task board and the map of the
villages' report states and open tasks, HQ marked. Escaped HTML, no widgets;
the map starts from :func:`~fangkong_lib.views.maps.make_map_frame`."""

from __future__ import annotations

from datetime import date
from typing import Mapping

import folium
import geopandas as gpd
import pandas as pd

from ..domain.problems import TASK_LOOP
from ..domain.reports import REPORT_LATE, REPORT_MISSING, REPORT_ON_TIME, REPORT_ZERO
from .boards import problem_board_html
from .html import Markup, html, join_html
from .maps import _features, add_village_labels, legend_rows, make_map_frame

__all__ = ["REPORT_COLOURS", "make_command_map", "task_board_html", "task_card_html"]

#: Fill of a village by its 17:00 report state.
REPORT_COLOURS = {REPORT_ON_TIME: "#4fa857", REPORT_ZERO: "#9fd19a", REPORT_LATE: "#f59e72",
                  REPORT_MISSING: "#b8322a"}
HQ_COLOUR = "#1d4f91"


def _day(value) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    return pd.Timestamp(value).strftime("%m-%d")


def task_card_html(row: Mapping) -> str:
    """One assigned task as a card: number, the decision, where, who, deadline;
    an overdue card carries ``fk-overdue`` and a 逾期 tag."""
    overdue = bool(row.get("overdue"))
    tag = Markup('<span class="fk-tag">逾期</span>') if overdue else ""
    who = " · ".join(x for x in (row.get("unit") or "", row.get("person") or "") if isinstance(x, str) and x)
    deadline = _day(row.get("deadline"))
    lines = [
        html("<b>{no}</b>{tag}", no=row["task_no"], tag=tag),
        html("{d}", d=row.get("description") or ""),
        html("{src}{where}", src=row.get("source") or "",
             where=html(" · {v}", v=row["village"]) if isinstance(row.get("village"), str) and row["village"] else ""),
        html("责任：{who}", who=who) if who else "",
        html("时限 {d}", d=deadline) if deadline else "",
    ]
    cls = "fk-card fk-overdue" if overdue else "fk-card"
    body = join_html([line for line in lines if line], sep=Markup("<br>"))
    return str(html('<div class="{cls}" data-task="{no}" data-stage="{stage}">{body}</div>',
                    cls=cls, no=row["task_no"], stage=row.get("stage") or "", body=body))


def task_board_html(columns: Mapping[str, pd.DataFrame]) -> str:
    """The tasks by stage, in the tasks' words (待交办 … 已办结)."""
    return problem_board_html(columns, card=task_card_html, titles=TASK_LOOP.stage_words)


def make_command_map(villages: gpd.GeoDataFrame, reports: pd.DataFrame, open_tasks: pd.Series,
                     overdue_tasks: pd.Series, *, township: str, day: date, hq: Mapping | None = None,
                     village: str | None = None, note: str = "") -> folium.Map:
    """Villages filled by their 17:00 report state on ``day`` (已报告 /
    零报告 / 迟报 / 未报告), the tooltip adding the time and the village's
    open and overdue tasks; the HQ (乡指挥部) as a marked point.

    ``reports`` is :func:`fangkong_lib.domain.reports.village_report_status`
    (indexed by village), ``open_tasks``/``overdue_tasks`` counts by village,
    ``hq`` the HQ's row of the command structure (``unit``, ``lead``,
    ``lon``, ``lat``) or None.
    """
    names = villages["name"].tolist()
    states = reports["status"].reindex(names).fillna(REPORT_MISSING)
    times = pd.to_datetime(reports["reported_at"]).reindex(names)
    opened = open_tasks.reindex(names).fillna(0).astype(int)
    late = overdue_tasks.reindex(names).fillna(0).astype(int)
    counts = states.value_counts()
    subtitle = " · ".join([f"{s} {int(counts.get(s, 0))}" for s in REPORT_COLOURS] + [day.isoformat()])
    entries = [(c, s) for s, c in REPORT_COLOURS.items()]
    m = make_map_frame(
        villages, focus=village or None, title=f"{township}指挥调度图", subtitle=subtitle, notes=note,
        legend=[*legend_rows("各村17:00日报告", entries), *legend_rows(None, [(HQ_COLOUR, "乡疫情防控指挥部")], mark="dot")],
    )
    tips = [html("<b>{n}</b>：{s}{t}<br>未办结交办事项 {o} 件{l}", n=n, s=s,
                 t=f"（{t:%H:%M}）" if pd.notna(t) else "", o=o, l=html("，其中逾期 {k} 件", k=k) if k else "")
            for n, s, t, o, k in zip(names, states, times, opened, late)]
    fills = [REPORT_COLOURS.get(s, "#7b8794") for s in states]
    hl = [bool(village) and n == village for n in names]
    folium.GeoJson(
        _features(villages, {"tip": [str(t) for t in tips], "fill": fills, "hl": hl}),
        name="各村日报告",
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": 0.7,
                                  "color": "#1f4e79" if f["properties"]["hl"] else "#8a8a8a",
                                  "weight": 3 if f["properties"]["hl"] else 0.8},
        highlight_function=lambda f: {"weight": 2.5, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
    ).add_to(m)
    add_village_labels(m, villages)
    if hq is not None and pd.notna(hq.get("lon")) and pd.notna(hq.get("lat")):
        tip = html("<b>{u}</b><br>负责人：{lead}", u=hq.get("unit") or "", lead=hq.get("lead") or "")
        folium.CircleMarker([float(hq["lat"]), float(hq["lon"])], radius=9, color="#ffffff", weight=2,
                            fill=True, fill_color=HQ_COLOUR, fill_opacity=0.95,
                            tooltip=folium.Tooltip(str(tip))).add_to(m)  # values escaped by html()
    return m
