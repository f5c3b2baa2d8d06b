"""The maps of the work pages (重点场所, 督查问题, 捐赠物资), each built from
:func:`fangkong_lib.views.maps.make_map_frame` plus its layers, so the
pages only pick the rows and show the result.
"""

from __future__ import annotations

from datetime import date

import folium
import geopandas as gpd
import pandas as pd

from ..domain.geo import points_from_lonlat
from ..domain.places import STATUS_COLOURS
from .maps import (
    make_overview_map,
    _features, add_points_layer, add_village_labels, add_village_layer, add_village_values_layer, legend_rows,
    make_map_frame, simplify_coverage, value_legend_entries,
    add_live_updates, area_bounds, join_html, live_layer, live_update, title_html, village_values_state,
)

__all__ = ["county_map_update", "make_county_map", "make_leads_map", "make_places_map", "make_problems_map", "make_supplies_map", "PROBLEM_BINS", "PROBLEM_COLOURS",
           "VALUE_BINS", "VALUE_COLOURS", "QTY_BINS"]

#: Open problems per village: bins and colours (0 first).
PROBLEM_BINS, PROBLEM_COLOURS = (0, 1, 2, 3, 5), ("#f7f7f2", "#fde0c5", "#f59e72", "#e4643c", "#b8322a")
#: Supplies issued per village: by estimated value (元) or by quantity of one item.
VALUE_BINS, VALUE_COLOURS = (0, 1, 1000, 3000, 6000), ("#f7f7f2", "#d8ecd3", "#9fd19a", "#4fa857", "#1f6f3a")
QTY_BINS = (0, 1, 20, 50, 100)


def make_places_map(villages: gpd.GeoDataFrame, places: pd.DataFrame, *, township: str, day: date,
                    scope: str = "全乡", village: str | None = None, note: str = "") -> folium.Map:
    """Key places (重点场所) as clustered points coloured by status (a
    cluster takes its most severe colour), on the village boundaries.

    ``places`` are the filtered rows of :func:`fangkong_lib.domain.places.place_table`
    (``name``, ``category``, ``status``, ``lon``, ``lat``); rows without
    coordinates are left off. ``scope`` describes the filters (subtitle).
    """
    points = points_from_lonlat(places)
    m = make_map_frame(
        villages, focus=village or None, title=f"{township}重点场所分布",
        subtitle=f"{scope} · {len(points)} 处 · {day.isoformat()}", notes=note,
        legend=legend_rows("场所状态（圆圈数字为聚合个数，颜色取其中最严重者）",
                           [(c, s) for s, c in STATUS_COLOURS.items()]),
    )
    add_village_layer(m, villages)
    add_village_labels(m, villages)
    if len(points):
        points = points.assign(
            tip=[f"{n}（{c}）{s}" for n, c, s in zip(points["name"], points["category"], points["status"])],
            colour=points["status"].map(STATUS_COLOURS).fillna("#7b8794"),
        )
        add_points_layer(m, points, label="tip", name="重点场所", cluster=True, color="colour",
                         severity=list(STATUS_COLOURS.values()))
    return m


def make_problems_map(villages: gpd.GeoDataFrame, open_counts: pd.Series, *, township: str, day: date,
                      village: str | None = None, note: str = "") -> folium.Map:
    """Villages filled by their open supervision problems (未销号),
    ``open_counts`` indexed by village name."""
    total = int(open_counts.sum()) if len(open_counts) else 0
    m = make_map_frame(
        villages, focus=village or None, title=f"{township}督查问题分布",
        subtitle=f"未销号 {total} 个 · {day.isoformat()}", notes=note,
        legend=legend_rows("未销号问题（按村）", value_legend_entries(PROBLEM_BINS, PROBLEM_COLOURS, " 个")),
    )
    add_village_values_layer(m, villages, open_counts, bins=PROBLEM_BINS, colours=PROBLEM_COLOURS,
                             unit=" 个未销号问题", name="未销号问题", highlight_village=village or None)
    add_village_labels(m, villages)
    return m


def make_supplies_map(villages: gpd.GeoDataFrame, by_village: pd.DataFrame, *, township: str, issues: int,
                      item: str = "", unit: str = "", note: str = "") -> folium.Map:
    """Where donated supplies went: villages filled by the value issued to
    them, or by the quantity of ``item`` when one is chosen.

    ``by_village`` is :func:`fangkong_lib.domain.supplies.issued_by_village`
    (columns ``quantity`` and ``value``, indexed by village); ``issues`` the
    number of issues shown.
    """
    if item:
        values, bins, what, suffix = by_village["quantity"], QTY_BINS, f"{item}（{unit}）", f" {unit}"
    else:
        values, bins, what, suffix = by_village["value"], VALUE_BINS, "估值（元）", " 元"
    m = make_map_frame(
        villages, title=f"{township}捐赠物资发放去向", subtitle=f"{what} · 共 {issues} 次发放", notes=note,
        legend=legend_rows(f"发放到各村：{what}", value_legend_entries(bins, VALUE_COLOURS, suffix)),
    )
    add_village_values_layer(m, villages, values, bins=bins, colours=VALUE_COLOURS, unit=suffix, name="发放到各村")
    add_village_labels(m, villages)
    return m


def make_leads_map(grids: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, naturals: gpd.GeoDataFrame,
                   open_counts: pd.Series, *, village: str | None = None, title: str = "", subtitle: str = "",
                   note: str = "") -> folium.Map:
    """Grid cells coloured by their open leads (未办结线索), ``open_counts``
    indexed by grid code; people only as counts."""
    return make_overview_map(grids, villages, naturals, open_counts, village=village, title=title,
                             subtitle=subtitle, note=note, count_label="未办结线索",
                             legend_title="未办结线索（按网格）")


#: The county map's ramp: from the lowest to the highest township, in five
#: steps (the figures differ by orders of magnitude from one measure to another).
COUNTY_COLOURS = ("#f7f7f2", "#fde0c5", "#f59e72", "#e4643c", "#b8322a")


def county_bins(values: pd.Series) -> tuple[float, ...]:
    """Five classes by the townships' quintiles (rounded, strictly
    increasing): townships that differ by a few percent still look different.

    >>> county_bins(pd.Series([113, 120, 126, 130, 135, 140, 151]))
    (0, 121, 128, 133, 139)
    >>> county_bins(pd.Series([0, 0, 0]))
    (0, 1, 2, 3, 4)
    """
    qs = values.quantile([0.2, 0.4, 0.6, 0.8]).round().astype(int).tolist() if len(values) else [0] * 4
    bins = [0]
    for q in qs:
        bins.append(max(q, bins[-1] + 1))
    return tuple(bins)


def make_county_map(townships: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, values: pd.Series, *,
                    county: str, measure: str, day: date, township: str | None = None,
                    note: str = "", live: bool = False) -> folium.Map:
    """The county overview: townships filled by ``measure`` (``values``
    indexed by township name), villages' boundaries drawn thin.

    Both layers are simplified as coverages (:func:`simplify_coverage`), so
    the map stays small however many villages the county has. ``live``: the
    page may update it in place (:func:`county_map_update`).
    """
    townships = simplify_coverage(townships, 0.002)
    villages = simplify_coverage(villages, 0.0008)
    title, subtitle, legend, bins = _county_texts(values, county=county, measure=measure, day=day)
    m = make_map_frame(townships, focus=township or None, title=title, subtitle=subtitle, notes=note,
                       legend=legend)
    add_village_values_layer(m, townships, values, bins=bins, colours=COUNTY_COLOURS, unit="",
                             name=f"{measure}（按乡镇）", highlight_village=township or None)
    if len(villages):
        folium.GeoJson(
            _features(villages, {}), name="行政村界",
            style_function=lambda f: {"fill": False, "color": "#6b7785", "weight": 0.4, "opacity": 0.7},
            smooth_factor=1.0,
        ).add_to(m)
    add_village_labels(m, townships)
    if live:
        add_live_updates(m, {"townships": f"{measure}（按乡镇）"})
    return m


def _county_texts(values: pd.Series, *, county: str, measure: str, day: date):
    """Title, subtitle, legend rows and bins of the county map for ``measure``."""
    bins = county_bins(values)
    total = int(values.sum()) if len(values) else 0
    legend = legend_rows(f"{measure}（按乡镇）", value_legend_entries(bins, COUNTY_COLOURS))
    return f"{county}各乡镇{measure}", f"合计 {total:,} · {day.isoformat()}", legend, bins


def county_map_update(townships: gpd.GeoDataFrame, values: pd.Series, *, county: str, measure: str, day: date,
                      township: str | None = None) -> dict:
    """The :func:`~fangkong_lib.views.maps.live_update` that brings a live
    :func:`make_county_map` to ``measure`` and its ``values``: fills,
    tooltips, title and legend."""
    title, subtitle, legend, bins = _county_texts(values, county=county, measure=measure, day=day)
    names, styles, tips = village_values_state(townships, values, bins=bins, colours=COUNTY_COLOURS, unit="",
                                               highlight_village=township or None)
    return live_update({"townships": live_layer("name", names, styles, tips)},
                       panels={"topleft": title_html(title, subtitle), "bottomright": join_html(legend)},
                       bounds=area_bounds(townships, township or None))
