"""The one registry of layers a briefing map can show.

:data:`MAP_LAYERS` maps a key (the ``--layer`` value of ``fangkong map``) to a
:class:`MapLayer`: its Chinese label, the builder that draws it, its legend
rows and the selector that shows Leaflet has drawn it. The command line,
the pages and :func:`fangkong_lib.views.situation.make_situation_map` all read this
registry, so a new layer is one :func:`register_map_layer` call.

This module stays light (the command line reads it to build its options):
builders import the map code only when they run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

if TYPE_CHECKING:  # pragma: no cover
    import folium
    import geopandas as gpd

    from ..dataset import Dataset
    from ..domain.overview import Overview

__all__ = ["MapContext", "MapLayer", "MAP_LAYERS", "register_map_layer", "default_layers", "check_layers"]

#: Colours the builders of :mod:`fangkong_lib.views.maps` draw with (legend swatches).
VILLAGE_STROKE, NATURAL_STROKE, PLACE_COLOUR = "#2f3b52", "#1d3557", "#b8322a"


@dataclass
class MapContext:
    """What a layer builder may draw: the data (shifted to GCJ-02 for the
    AMap basemap), the day's overview figures and the filters."""

    data: "Dataset"
    overview: "Overview"
    village: str | None = None
    basemap: str = "none"
    _frames: dict = field(default_factory=dict, repr=False)

    def frame(self, name: str) -> "gpd.GeoDataFrame":
        """``grids``, ``villages``, ``naturals`` (points) or ``places``
        (points), in the basemap's datum, personal data masked."""
        if name not in self._frames:
            gdf = _layer_frame(self.data, name)
            if self.basemap == "amap" and len(gdf):
                from .maps import to_gcj02

                gdf = to_gcj02(gdf)
            self._frames[name] = gdf
        return self._frames[name]


def _points(frame):
    import geopandas as gpd
    import pandas as pd

    frame = frame[frame["lon"].notna() & frame["lat"].notna()]
    plain = pd.DataFrame(frame.drop(columns=["geometry", "lon", "lat"], errors="ignore"))
    return gpd.GeoDataFrame(plain, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326")


#: Frames the layers draw from, with the ledger that declares their columns.
_FRAME_LEDGERS = {"grids": "grids", "villages": "villages", "naturals": "natural_villages", "places": "places"}
def _layer_frame(data: "Dataset", name: str):
    from ..ingest.normalize import mask_frame
    from ..ledgers import OUTBOUND_PII_KINDS, get_ledger

    if name not in _FRAME_LEDGERS:
        raise KeyError(f"no frame {name!r} for map layers")
    if name == "grids":
        frame = data.grids
    elif name == "villages":
        frame = data.villages
    else:
        frame = _points(data.ledgers[_FRAME_LEDGERS[name]])
    # Maps leave the office: every kind of personal data is masked, names
    # included (a grid cell's tooltip names its party member).
    return mask_frame(frame, get_ledger(_FRAME_LEDGERS[name]), kinds=OUTBOUND_PII_KINDS)


@dataclass(frozen=True)
class MapLayer:
    """One layer of the briefing map.

    Parameters
    ----------
    key : str
        The ``--layer`` value.
    label : str
        Chinese name (help text, UI).
    add : callable
        ``add(m, ctx)`` draws the layer on the folium map ``m`` from a
        :class:`MapContext`; it returns False when there was nothing to draw.
    legend : callable
        ``legend(ctx)`` returns the layer's legend rows
        (:func:`fangkong_lib.views.maps.legend_rows`, escaped Markup).
    ready : str
        CSS selector present once Leaflet has drawn the layer: a PNG is
        taken only then.
    default : bool
        Drawn when no layer is asked for.
    """

    key: str
    label: str
    add: Callable[["folium.Map", MapContext], None]
    legend: Callable[[MapContext], list]
    ready: str = ".leaflet-overlay-pane path"
    default: bool = True


MAP_LAYERS: dict[str, MapLayer] = {}


def register_map_layer(layer: MapLayer) -> MapLayer:
    """Add (or replace) a layer; ``--layer`` choices and pages follow."""
    MAP_LAYERS[layer.key] = layer
    return layer


def default_layers() -> tuple[str, ...]:
    """Keys drawn when none are asked for (what the overview map shows)."""
    return tuple(k for k, layer in MAP_LAYERS.items() if layer.default)


def check_layers(layers: Sequence[str] | None) -> tuple[str, ...]:
    """The layers to draw in registry order (drawing order: areas first,
    points on top); the defaults when none given; a clear error for an
    unknown key.

    >>> check_layers(["naturals", "grids"])
    ('grids', 'naturals')
    >>> check_layers(None)
    ('grids', 'villages', 'naturals')
    """
    if not layers:
        return default_layers()
    unknown = [k for k in layers if k not in MAP_LAYERS]
    if unknown:
        raise ValueError(f"未知的图层 {', '.join(unknown)}（可选：{', '.join(MAP_LAYERS)}）")
    return tuple(k for k in MAP_LAYERS if k in set(layers))


def layer_help() -> str:
    """``key=label`` for every layer, for help texts."""
    return "，".join(f"{k}={layer.label}" for k, layer in MAP_LAYERS.items())


# -- The layers ---------------------------------------------------------------


def _add_grids(m, ctx: MapContext) -> None:
    from .maps import add_grid_layer

    add_grid_layer(m, ctx.frame("grids"), ctx.overview.by_grid, highlight_village=ctx.village)


def _grid_legend(ctx: MapContext) -> list:
    from .maps import control_legend_entries, legend_rows

    return legend_rows("管控人数（按网格）", control_legend_entries())


def _add_villages(m, ctx: MapContext) -> None:
    from .maps import add_village_labels, add_village_layer

    add_village_layer(m, ctx.frame("villages"))
    add_village_labels(m, ctx.frame("villages"))


def _add_naturals(m, ctx: MapContext) -> None:
    from .maps import add_natural_village_layer

    add_natural_village_layer(m, ctx.frame("naturals"))


def _add_places(m, ctx: MapContext):
    from ..domain.places import STATUS_COLOURS, place_table
    from .maps import add_points_layer

    places = ctx.frame("places")
    if places.empty:
        return False
    ledgers = ctx.data.ledgers  # the status on the map's day, from the latest inspection
    table = place_table(ledgers["places"], ledgers["inspections"], ctx.overview.day).set_index("code")
    status = places["code"].map(table["status"]).fillna(places["status"])
    places = places.assign(
        tip=[f"{n}（{c}，{s}）" for n, c, s in zip(places["name"], places["category"], status.fillna("状态未知"))],
        colour=status.map(STATUS_COLOURS).fillna(PLACE_COLOUR))
    add_points_layer(m, places, label="tip", name="重点场所", cluster=True, color="colour")
    return True


def _places_legend(ctx: MapContext) -> list:
    from ..domain.places import STATUS_COLOURS
    from .maps import legend_rows

    return [*legend_rows("重点场所", [(c, s) for s, c in STATUS_COLOURS.items()], mark="dot"),
            *_note_row("（圆圈内数字为聚合的场所个数）")]


def _note_row(text: str) -> list:
    from .html import html

    return [html("<div>{t}</div>", t=text)]


def _line_legend(label: str, colour: str, mark: str):
    def legend(ctx: MapContext) -> list:
        from .maps import legend_rows

        return legend_rows(None, [(colour, label)], mark=mark)
    return legend


register_map_layer(MapLayer("grids", "网格（按管控人数着色）", _add_grids, _grid_legend))
register_map_layer(MapLayer("villages", "行政村界与村名", _add_villages, _line_legend("行政村界", VILLAGE_STROKE, "line")))
register_map_layer(MapLayer("naturals", "自然村", _add_naturals, _line_legend("自然村", NATURAL_STROKE, "ring")))
register_map_layer(MapLayer("places", "重点场所（按状态着色，聚合）", _add_places, _places_legend,
                            ready=".leaflet-marker-pane > *", default=False))
