"""The maps of the gatherings page (聚集管控) and the publicity page (宣传网),
each built from :func:`fangkong_lib.views.maps.make_map_frame` plus layers.
"""

from __future__ import annotations

from datetime import date

import folium
import geopandas as gpd
import pandas as pd

from ..domain.geo import points_from_lonlat
from .maps import (
    add_points_layer, add_village_labels, add_village_values_layer, legend_rows, make_map_frame, value_legend_entries,
)

__all__ = ["COVERAGE_BINS", "COVERAGE_COLOURS", "GATHERING_BINS", "GATHERING_COLOURS", "make_gatherings_map",
           "make_publicity_map"]

#: Gatherings per village (0 first).
GATHERING_BINS, GATHERING_COLOURS = (0, 1, 2, 3, 5), ("#f7f7f2", "#fde0c5", "#f59e72", "#e4643c", "#b8322a")
#: Share of a village's weakest publicity target reached, percent: red to green (all met).
COVERAGE_BINS = (0, 50, 80, 100)
COVERAGE_COLOURS = ("#c0392b", "#f59e72", "#f4d35e", "#4fa857")
ENFORCED_COLOUR = "#1d4f91"


def make_gatherings_map(villages: gpd.GeoDataFrame, counts: pd.Series, enforced_places: pd.DataFrame, *,
                        township: str, day: date, scope: str = "全乡", village: str | None = None,
                        note: str = "") -> folium.Map:
    """Villages filled by the gatherings shown (``counts`` indexed by village
    name) and the key places the joint team acted on (``enforced_places``:
    ``name``, ``tip``, ``lon``, ``lat``) as points."""
    total = int(counts.sum()) if len(counts) else 0
    m = make_map_frame(
        villages, focus=village or None, title=f"{township}红白事与联合执法分布",
        subtitle=f"{scope} · 红白事 {total} 起 · {day.isoformat()}", notes=note,
        legend=legend_rows("红白事（按村）", value_legend_entries(GATHERING_BINS, GATHERING_COLOURS, " 起"))
        + legend_rows(None, [(ENFORCED_COLOUR, "联合执法处置的场所")], mark="dot"),
    )
    add_village_values_layer(m, villages, counts, bins=GATHERING_BINS, colours=GATHERING_COLOURS, unit=" 起红白事",
                             name="红白事", highlight_village=village or None)
    add_village_labels(m, villages)
    points = points_from_lonlat(enforced_places) if len(enforced_places) else enforced_places
    if len(points):
        points = points.assign(colour=ENFORCED_COLOUR)
        add_points_layer(m, points, label="tip", name="联合执法场所", cluster=True, color="colour")
    return m


def make_publicity_map(villages: gpd.GeoDataFrame, coverage: pd.DataFrame, *, township: str, day: date,
                       village: str | None = None, note: str = "") -> folium.Map:
    """Villages coloured by how far they are towards their weakest publicity
    target (percent; 100 = every target met; ``coverage`` as from
    :func:`fangkong_lib.domain.publicity_work.publicity_coverage`)."""
    behind = int(coverage["behind"].sum()) if len(coverage) else 0
    percent = (coverage.set_index("village")["coverage"] * 100).round()
    m = make_map_frame(
        villages, focus=village or None, title=f"{township}宣传覆盖情况",
        subtitle=f"宣传滞后 {behind} 个村 · {day.isoformat()}", notes=note,
        legend=legend_rows("宣传达标程度（最弱一项，按村）", value_legend_entries(COVERAGE_BINS, COVERAGE_COLOURS, "%")),
    )
    add_village_values_layer(m, villages, percent, bins=COVERAGE_BINS, colours=COVERAGE_COLOURS,
                             unit="%（最弱一项宣传目标的完成度）", name="宣传覆盖", highlight_village=village or None)
    add_village_labels(m, villages)
    return m
