"""The situation map (态势图): what the overview dashboard shows and what
``fangkong map``, the overview's 导出地图 and the briefing export. One
function, :func:`make_situation_map`, so the map a user sees is the map
they export: same filters, same layers, same frame.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Sequence

from ..domain.overview import CONTROL_MEASURES, summarize_overview
from .layers import MAP_LAYERS, MapContext, check_layers
from .maps import make_map_frame

if TYPE_CHECKING:  # pragma: no cover
    import folium

    from ..dataset import Dataset
    from ..domain.overview import Overview

__all__ = ["make_situation_map", "situation_map", "map_subtitle", "weekday", "check_filters"]

_WEEKDAYS = "一二三四五六日"


def weekday(day: date) -> str:
    """星期一 … 星期日.

    >>> weekday(date(2022, 4, 7))
    '星期四'
    """
    return f"星期{_WEEKDAYS[day.weekday()]}"


def check_filters(data: "Dataset", village: str | None, measure: str | None) -> None:
    """A clear Chinese error for an unknown village or control measure."""
    if village and village not in data.village_names:
        raise ValueError(f"未知的村：{village}")
    if measure and measure not in CONTROL_MEASURES:
        raise ValueError(f"未知的管控措施：{measure}（可选：{'、'.join(CONTROL_MEASURES)}）")


def map_subtitle(day: date, village: str | None = None, measure: str | None = None) -> str:
    """``全乡 · 2022-04-07（星期四）`` with the filters that apply.

    >>> map_subtitle(date(2022, 4, 7), "柳湾村", "居家隔离")
    '柳湾村 · 居家隔离 · 2022-04-07（星期四）'
    """
    return " · ".join(x for x in (village or "全乡", measure, f"{day.isoformat()}（{weekday(day)}）") if x)


def situation_map(
    data: "Dataset",
    day: date | None = None,
    *,
    village: str | None = None,
    measure: str | None = None,
    layers: Sequence[str] | None = None,
    basemap: str = "none",
    title: str | None = None,
    overview: "Overview | None" = None,
    for_print: bool = False,
) -> tuple["folium.Map", tuple[str, ...]]:
    """:func:`make_situation_map` and the CSS selectors that show its drawn
    layers are on screen (a PNG is taken only once they are)."""
    day = day or data.today
    village, measure = village or None, measure or None
    check_filters(data, village, measure)
    keys = check_layers(layers)
    ov = overview or summarize_overview(data.ledgers, day, village=village, measure=measure)
    ctx = MapContext(data, ov, village, basemap)
    datum = "GCJ-02" if basemap == "amap" else "WGS-84"
    m = make_map_frame(
        ctx.frame("villages"), focus=village, basemap=basemap, for_print=for_print,
        title=title or f"{data.township}疫情防控态势图", subtitle=map_subtitle(day, village, measure),
        legend=[row for key in keys for row in MAP_LAYERS[key].legend(ctx)],
        notes=f"{data.source_note} · 坐标系 {datum} · 制图：{data.township}疫情防控指挥部",
    )
    drawn = [key for key in keys if MAP_LAYERS[key].add(m, ctx) is not False]
    return m, tuple(MAP_LAYERS[key].ready for key in drawn)


def make_situation_map(data: "Dataset", day: date | None = None, **kwargs) -> "folium.Map":
    """The situation map for a date and filter, with the chosen layers.

    Parameters
    ----------
    data : Dataset
    day : date, optional
        Defaults to the data's today.
    village, measure : str, optional
        The overview's filters: one administrative village (zoomed to, its
        cells outlined) and one control measure (the counts colouring the
        grid cells). ``""`` means no filter.
    layers : sequence of str, optional
        Keys of :data:`~fangkong_lib.views.layers.MAP_LAYERS`; the defaults
        (grids, villages, natural villages) when not given.
    basemap : {"none", "osm", "amap", "tianditu"}
    title : str, optional
    overview : Overview, optional
        Figures already computed for the same date and filters.
    for_print : bool
        No zoom buttons and no animations (a screenshot shows the final state).

    Title, date, legend, metric scale bar, north arrow and the data-source
    note are always drawn (personal data masked, every text escaped).
    """
    return situation_map(data, day, **kwargs)[0]
