"""The one-fist map (党员志愿者): grid cells coloured by the volunteers posted
to them, cells with a household short of a volunteer outlined in red, and
the checkpoints coloured by whether the day's shifts are staffed. Built from
:func:`fangkong_lib.views.maps.make_map_frame` like every map; every text
reaches the map through :func:`~fangkong_lib.views.html.html`.
"""

from __future__ import annotations

from datetime import date

import folium
import geopandas as gpd
import pandas as pd

from ..domain.geo import points_from_lonlat
from .html import html
from .maps import _features, add_village_labels, add_village_layer, legend_rows, make_map_frame

__all__ = ["GAP_COLOUR", "VOLUNTEER_BINS", "VOLUNTEER_COLOURS", "make_volunteers_map"]

#: Volunteers posted per grid: none, one, two or more.
VOLUNTEER_BINS, VOLUNTEER_COLOURS = (0, 1, 2), ("#fbe3df", "#cfe8cf", "#6fb36f")
#: Outline of a cell with a household short of a volunteer, and of a short checkpoint.
GAP_COLOUR, OK_COLOUR = "#b8322a", "#2f8f4e"


def _fill(count: int) -> str:
    return VOLUNTEER_COLOURS[min(int(count), len(VOLUNTEER_BINS) - 1)]


def make_volunteers_map(grids: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, posted: pd.DataFrame,
                        gaps: pd.Series, checkpoints: pd.DataFrame, *, township: str, day: date,
                        scope: str = "全乡", village: str | None = None, note: str = "") -> folium.Map:
    """Grids filled by the number of volunteers posted to each (``posted``:
    :func:`fangkong_lib.domain.volunteers.grid_volunteers`, indexed by grid
    code, columns ``count`` and ``names``), outlined in red where a household
    lacks a volunteer (``gaps``: grid code → "张三家缺代购员" text), and the
    checkpoints (``checkpoints``: one row per post with ``name``, ``lon``,
    ``lat``, ``short`` and ``tip``) red when a shift of the day is short.
    """
    counts = posted["count"].reindex(grids["code"]).fillna(0).astype(int).to_numpy()
    names = posted["names"].reindex(grids["code"]).fillna("").to_numpy()
    flags = gaps.reindex(grids["code"]).fillna("").to_numpy()
    tips = [html("<b>{code}</b> {v} · {nv}<br>派驻志愿者：{names}{gap}", code=c, v=v, nv=nv,
                 names=n or "无", gap=html("<br><span style='color:#b8322a'>{g}</span>", g=g) if g else "")
            for c, v, nv, n, g in zip(grids["code"], grids["village"], grids["natural_village"], names, flags)]
    data = _features(grids, {
        "fill": [_fill(n) for n in counts],
        "gap": [bool(g) for g in flags],
        "hl": [bool(village) and v == village for v in grids["village"]],
        "tip": tips,
    })
    entries = [(VOLUNTEER_COLOURS[0], "未派驻志愿者"), (VOLUNTEER_COLOURS[1], "1 名"),
               (VOLUNTEER_COLOURS[2], "2 名及以上")]
    short = int(checkpoints["short"].sum()) if len(checkpoints) else 0
    m = make_map_frame(
        villages, focus=village or None, title=f"{township}党员志愿者派驻",
        subtitle=f"{scope} · {day.isoformat()} · 缺员隔离户 {int((flags != '').sum())} 个网格 · 缺员卡口 {short} 处",
        notes=note,
        legend=[*legend_rows("网格派驻志愿者", entries),
                *legend_rows(None, [(GAP_COLOUR, "红框：隔离户缺代购员/守门员"), (GAP_COLOUR, "卡口当日有班次缺员"),
                                    (OK_COLOUR, "卡口当日班次齐全")], mark="dot")],
    )
    folium.GeoJson(
        data,
        name="网格（派驻志愿者）",
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"], "fillOpacity": 0.8,
            "color": GAP_COLOUR if f["properties"]["gap"] else ("#1f4e79" if f["properties"]["hl"] else "#8a8a8a"),
            "weight": 3 if f["properties"]["gap"] else (1.6 if f["properties"]["hl"] else 0.5),
        },
        highlight_function=lambda f: {"weight": 2.5, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
        smooth_factor=0.5,
    ).add_to(m)
    add_village_layer(m, villages)
    add_village_labels(m, villages)
    points = points_from_lonlat(checkpoints) if len(checkpoints) else checkpoints
    if len(points):
        marks = _features(points, {"colour": [GAP_COLOUR if s else OK_COLOUR for s in points["short"]],
                                   "tip": [html("{t}", t=t) for t in points["tip"]]})
        folium.GeoJson(
            marks,
            name="卡口",
            marker=folium.CircleMarker(radius=7, weight=2, fill=True, fill_opacity=0.9),
            style_function=lambda f: {"color": "#ffffff", "fillColor": f["properties"]["colour"]},
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
        ).add_to(m)
    return m
