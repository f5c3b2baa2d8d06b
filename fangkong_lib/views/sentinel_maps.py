"""The maps of the checkpoint and sentinel pages (卡口值守, 医疗哨点), built on
:func:`fangkong_lib.views.maps.make_map_frame`: one marker per post or
sentinel (a handful, so one object each), sized by the day's flow and
coloured by state, every text escaped."""

from __future__ import annotations

import math
from datetime import date

import folium
import geopandas as gpd
import pandas as pd

from .html import escape_text
from .maps import add_village_labels, add_village_layer, legend_rows, make_map_frame

__all__ = ["CHECKPOINT_COLOURS", "SENTINEL_COLOURS", "make_checkpoints_map", "make_sentinels_map"]

#: Checkpoint marker colours: the shift on duty complete / short / unstaffed.
CHECKPOINT_COLOURS = {"在岗齐全": "#2f8f4e", "缺员": "#e08a00", "无人值守": "#b8322a"}
#: Sentinel marker colours by category of place.
SENTINEL_COLOURS = {"卫生院": "#8c1d18", "诊所": "#1d4f91", "药店": "#2f8f4e"}


def _radius(count: int, base: float = 7.0) -> float:
    return base + 3.0 * math.sqrt(max(count, 0))


def _markers(m: folium.Map, rows: pd.DataFrame, *, name: str) -> None:
    """``rows`` with lon, lat, tip (text), colour, count."""
    layer = folium.FeatureGroup(name=name)
    for row in rows.itertuples(index=False):
        if pd.isna(row.lon) or pd.isna(row.lat):
            continue
        folium.CircleMarker(
            location=[round(float(row.lat), 6), round(float(row.lon), 6)], radius=_radius(int(row.count)),
            color=row.colour, fill=True, fill_color=row.colour, fill_opacity=0.75, weight=2,
            tooltip=folium.Tooltip(escape_text(row.tip)),
        ).add_to(layer)
    layer.add_to(m)


def make_checkpoints_map(villages: gpd.GeoDataFrame, checkpoints: pd.DataFrame, *, township: str, day: date,
                         scope: str = "", note: str = "") -> folium.Map:
    """The checkpoints (卡口) at their coordinates, each sized by the people
    checked on ``day`` and coloured by the shift on duty (在岗齐全 / 缺员 /
    无人值守).

    ``checkpoints``: one row per checkpoint with ``name``, ``lon``, ``lat``,
    ``checked``, ``unregistered``, ``state`` (a key of
    :data:`CHECKPOINT_COLOURS`), ``on_duty`` (names) and ``reason``; rows
    without coordinates are left off.
    """
    shown = checkpoints.dropna(subset=["lon", "lat"])
    total = int(shown["checked"].sum()) if len(shown) else 0
    m = make_map_frame(
        villages, title=f"{township}卡口值守与通行", notes=note,
        subtitle=f"{scope + ' · ' if scope else ''}{len(shown)} 个卡口 · 当日查验 {total} 人 · {day.isoformat()}",
        legend=legend_rows("当前班次（圆圈大小为当日查验人数）", [(c, s) for s, c in CHECKPOINT_COLOURS.items()],
                           mark="dot"),
    )
    add_village_layer(m, villages)
    add_village_labels(m, villages)
    if len(shown):
        rows = shown.assign(
            colour=shown["state"].map(CHECKPOINT_COLOURS).fillna("#7b8794"),
            count=shown["checked"],
            tip=[f"{n}：当日查验 {c} 人，未报备 {u} 人；当前班次 {s}：{d or '无人'}{'（' + r + '）' if r else ''}"
                 for n, c, u, s, d, r in zip(shown["name"], shown["checked"], shown["unregistered"],
                                             shown["shift"], shown["on_duty"], shown["reason"])],
        )
        _markers(m, rows, name="卡口")
    return m


def make_sentinels_map(villages: gpd.GeoDataFrame, sentinels: pd.DataFrame, *, township: str, day: date,
                       scope: str = "", village: str | None = None, note: str = "") -> folium.Map:
    """The medical sentinels (卫生院, 诊所, 药店) at their coordinates, sized by
    the four-class drug buyers they registered in the period shown, coloured
    by category.

    ``sentinels``: ``name``, ``category``, ``lon``, ``lat``, ``buyers``,
    ``pending`` (buyers whose follow-up test is not done) and ``fevers``.
    """
    shown = sentinels.dropna(subset=["lon", "lat"])
    m = make_map_frame(
        villages, focus=village or None, title=f"{township}医疗哨点", notes=note,
        subtitle=f"{scope + ' · ' if scope else ''}{len(shown)} 个哨点 · {day.isoformat()}",
        legend=legend_rows("哨点类别（圆圈大小为购药登记人数）", [(c, s) for s, c in SENTINEL_COLOURS.items()],
                           mark="dot"),
    )
    add_village_layer(m, villages)
    add_village_labels(m, villages)
    if len(shown):
        rows = shown.assign(
            colour=shown["category"].map(SENTINEL_COLOURS).fillna("#7b8794"),
            count=shown["buyers"],
            tip=[f"{n}（{c}）：购药登记 {b} 人，待核酸 {p} 人，发热报告 {f} 人"
                 for n, c, b, p, f in zip(shown["name"], shown["category"], shown["buyers"], shown["pending"],
                                          shown["fevers"])],
        )
        _markers(m, rows, name="医疗哨点")
    return m
