"""Map builders (folium), offline and safe.

All interactive maps live in this module. Builders compose: each
``add_*_layer(m, ...)`` takes a map and returns it, so layers stack.

- Offline: the default basemap is ``"none"`` (boundaries only), and
  :func:`render_map` inlines every script, style and font (see
  :mod:`fangkong_lib.views.assets`), so a map works with no network, from a
  USB stick and inside a sandboxed iframe.
- Safe: folium escapes nothing. Every string that reaches a popup, tooltip,
  title or legend goes through :func:`escape_text` first.
- Fast: features go into one GeoJSON layer per kind (never one folium object
  per point), with coordinates rounded to about a metre.
- One frame: every map, on every page and in every file, starts from
  :func:`make_map_frame` (base map fitted to the area, title, legend, notes,
  north arrow); pages then add their layers with the ``add_*_layer``
  builders. Rows without a boundary (villages imported from their own
  template) are kept and drawn without a shape.
"""

from __future__ import annotations

import html as _html
import json
from typing import Iterable, Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.plugins import FastMarkerCluster
from jinja2 import Template

from ..config import tianditu_key, tianditu_url
from .assets import localize_assets
from .html import Markup, escape_text, html, join_html

BASEMAPS = ("none", "osm", "amap", "tianditu")
#: Colour ramp for counts of people under control (0 first).
CONTROL_COLOURS = ("#f7f7f2", "#fde0c5", "#facba6", "#f59e72", "#e4643c", "#b8322a")
CONTROL_BINS = (0, 1, 2, 3, 5, 8)
ATTRIBUTION_PREFIX = "防控工作台 · Leaflet"
PRECISION = 1e-5  # degrees, about 1 m
#: Shown when nothing has a boundary yet (villages imported from their own
#: template): the area around the Dancheng county seat (DOMAIN.md §1).
FALLBACK_BOUNDS = (115.10, 33.58, 115.28, 33.71)


def _bins_colour(value: float, bins: Sequence[float] = CONTROL_BINS,
                 colours: Sequence[str] = CONTROL_COLOURS) -> str:
    idx = int(np.searchsorted(np.asarray(bins), value, side="right")) - 1
    return colours[max(0, min(idx, len(colours) - 1))]


def to_gcj02(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Shift WGS-84 geometries to GCJ-02, the datum of AMap (Gaode) tiles.

    The data moves, not the tiles; otherwise everything is ~500 m off.
    """
    from prcoords import wgs_gcj

    def shift(coords: np.ndarray) -> np.ndarray:
        out = np.empty_like(coords)
        for i, (lon, lat) in enumerate(coords):
            c = wgs_gcj((lat, lon), check_china=False)
            out[i] = (c.lon, c.lat)
        return out

    result = gdf.copy()
    result["geometry"] = shapely.transform(gdf.geometry.values, shift)
    return result


def make_base_map(
    bounds: Sequence[float],
    *,
    basemap: str = "none",
    height: str = "100%",
    attribution_prefix: str = ATTRIBUTION_PREFIX,
) -> folium.Map:
    """An empty map fitted to ``bounds`` (minx, miny, maxx, maxy).

    Parameters
    ----------
    basemap : {"none", "osm", "amap", "tianditu"}
        ``none`` draws boundaries on a plain background and works everywhere.
        ``amap`` expects the data converted with :func:`to_gcj02`;
        ``tianditu`` needs ``FANGKONG_TIANDITU_KEY``.
    """
    if basemap not in BASEMAPS:
        raise ValueError(f"未知底图 {basemap!r}（可选：{', '.join(BASEMAPS)}）")
    minx, miny, maxx, maxy = bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        tiles=None,
        zoom_start=12,
        min_zoom=8,
        max_zoom=18,
        control_scale=False,
        prefer_canvas=False,  # SVG: every feature is a DOM element (testable, crisp in print)
        height=height,
        zoom_snap=0.25,
        # folium passes max_zoom to the tile layer only; with no tiles the map
        # itself needs it, or MarkerCluster breaks (folium#1395).
        maxZoom=18,
    )
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap", max_zoom=18).add_to(m)
    elif basemap == "amap":
        import xyzservices.providers as xyz

        folium.TileLayer(xyz.Gaode.Normal, name="高德地图", max_zoom=18).add_to(m)
    elif basemap == "tianditu":
        key = tianditu_key()
        if not key:
            raise ValueError("天地图底图需要设置环境变量 FANGKONG_TIANDITU_KEY（服务端密钥）")
        folium.TileLayer(
            tiles=tianditu_url().replace("{key}", key), attr="天地图", name="天地图",
            subdomains="01234567", max_zoom=18,
        ).add_to(m)
    # Our layers need Leaflet alone; jQuery, Bootstrap and Font Awesome (half
    # the document once inlined) come back in render_map if an Icon is added.
    m.default_js = [js for js in folium.Map.default_js if js[0] == "leaflet"]
    m.default_css = [css for css in folium.Map.default_css if css[0] == "leaflet_css"]
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    m.get_root().header.add_child(
        Element("<style>.leaflet-container{background:#eef1ec;font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif}</style>"),
        name="fangkong_map_style",
    )
    _MapSetup(attribution_prefix, [[miny, minx], [maxy, maxx]]).add_to(m)
    return m


class _MapSetup(MacroElement):
    """A metric-only scale bar, and Leaflet's attribution prefix set for a
    government audience (no flag) while basemap credits stay."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.setPrefix({{ this.prefix|tojson }});
        L.control.scale({imperial: false, metric: true, position: "bottomleft"}).addTo({{ this._parent.get_name() }});
        (function (map, bounds) {
            // The frame may get its final size after the map was created
            // (widgets lay out late): fit again once it has one.
            function refit() { map.invalidateSize({animate: false}); map.fitBounds(bounds, {animate: false}); }
            window.addEventListener("load", refit);
            window.addEventListener("resize", refit);
        })({{ this._parent.get_name() }}, {{ this.bounds|tojson }});
        {% endmacro %}"""
    )

    def __init__(self, prefix: str, bounds):
        super().__init__()
        self._name = "MapSetup"
        self.prefix = escape_text(prefix)
        self.bounds = bounds


def simplify_coverage(gdf: gpd.GeoDataFrame, tolerance: float, grid: float = 1e-4) -> gpd.GeoDataFrame:
    """``gdf``'s polygons simplified as one coverage and snapped to ``grid``
    degrees: neighbours keep one shared edge (no gaps, no slivers), so a
    county of villages shrinks from megabytes to a few hundred kilobytes.

    ``tolerance`` is in degrees (0.001 is about 100 m); ``grid`` 1e-4 is about
    10 m. Shared vertices snap to the same grid point, so the simplified
    boundaries still meet.

    Examples
    --------
    >>> from shapely import box
    >>> tiles = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)])
    >>> out = simplify_coverage(tiles, 0.01)
    >>> bool(out.geometry.iloc[0].intersection(out.geometry.iloc[1]).length > 0.99)
    True
    """
    geoms = gdf.geometry.values
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out = np.array(geoms, dtype=object)
    if keep.any():
        simple = shapely.coverage_simplify(np.asarray(geoms[keep], dtype=object), tolerance)
        out[keep] = shapely.set_precision(simple, grid)
    return gdf.set_geometry(gpd.GeoSeries(list(out), index=gdf.index, crs=gdf.crs))


def _features(gdf: gpd.GeoDataFrame, props: dict[str, Iterable]) -> dict:
    geoms = shapely.set_precision(gdf.geometry.values, PRECISION)
    columns = {k: list(v) for k, v in props.items()}
    feats = []
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            continue
        feats.append({
            "type": "Feature",
            "geometry": shapely.geometry.mapping(geom),
            "properties": {k: v[i] for k, v in columns.items()},
        })
    return {"type": "FeatureCollection", "features": feats}


#: Grid outlines: a cell of the chosen village, any other cell.
GRID_HIGHLIGHT, GRID_STROKE = "#1f4e79", "#8a8a8a"


def grid_layer_state(grids: gpd.GeoDataFrame, counts: pd.Series | None = None, *,
                     highlight_village: str | None = None,
                     count_label: str = "管控中") -> tuple[list[str], list[dict], list[Markup]]:
    """What :func:`add_grid_layer` draws for each cell, in ``grids``' order:
    its escaped code (the feature's id), its Leaflet style and its tooltip
    (escaped HTML). The live map's update carries the same (one function,
    so a map updated in place shows what a map drawn anew would)."""
    values = (counts.reindex(grids["code"]).fillna(0).astype(int).to_numpy()
              if counts is not None else np.zeros(len(grids), dtype=int))
    members = grids["member"] if "member" in grids else [""] * len(grids)
    # html("<b>{code}</b><br>{v} · {nv}<br>联户党员：{mem}<br>{label}：{n} 人", ...) per cell, each value
    # escaped by escape_text as html() does, without its per-call overhead (a filter change redoes every cell)
    esc, label = escape_text, escape_text(count_label)
    tips = [
        Markup(f"<b>{esc(code)}</b><br>{esc(v)} · {esc(nv)}<br>联户党员：{esc(mem)}<br>{label}：{int(n)} 人")
        for code, v, nv, mem, n in zip(grids["code"], grids["village"], grids["natural_village"], members, values)
    ]
    ramp = np.clip(np.searchsorted(np.asarray(CONTROL_BINS), values, side="right") - 1, 0, len(CONTROL_COLOURS) - 1)
    chosen = (grids["village"] == highlight_village).to_numpy() if highlight_village else np.zeros(len(grids), bool)
    styles = [{"fillColor": CONTROL_COLOURS[i], "fillOpacity": 0.85,
               "color": GRID_HIGHLIGHT if hl else GRID_STROKE, "weight": 1.6 if hl else 0.5}
              for i, hl in zip(ramp, chosen)]
    return [escape_text(c) for c in grids["code"]], styles, tips


def add_grid_layer(
    m: folium.Map,
    grids: gpd.GeoDataFrame,
    counts: pd.Series | None = None,
    *,
    highlight_village: str | None = None,
    name: str = "网格（管控人数）",
    count_label: str = "管控中",
) -> folium.Map:
    """Grid cells (六级网格) coloured by the number of people under control
    (or of whatever ``counts`` counts: ``count_label`` names it in tooltips).

    ``counts`` is indexed by grid code; missing codes count as 0. Cells of
    ``highlight_village`` get a darker outline.
    """
    codes, styles, tips = grid_layer_state(grids, counts, highlight_village=highlight_village,
                                           count_label=count_label)
    data = _features(grids, {
        "code": codes,
        "fill": [s["fillColor"] for s in styles],
        "hl": [s["color"] == GRID_HIGHLIGHT for s in styles],
        "tip": tips,
    })
    folium.GeoJson(
        data,
        name=name,
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "fillOpacity": 0.85,
            "color": GRID_HIGHLIGHT if f["properties"]["hl"] else GRID_STROKE,
            "weight": 1.6 if f["properties"]["hl"] else 0.5,
        },
        highlight_function=lambda f: {"weight": 2.5, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True) if len(grids) else None,  # folium refuses a tooltip over no feature
        smooth_factor=0.5,
    ).add_to(m)
    return m


def add_village_layer(m: folium.Map, villages: gpd.GeoDataFrame, *, name: str = "行政村界") -> folium.Map:
    """Administrative-village boundaries with their names as tooltips."""
    data = _features(villages, {"tip": [html("<b>{n}</b>", n=n) for n in villages["name"]]})
    folium.GeoJson(
        data,
        name=name,
        style_function=lambda f: {"fill": False, "color": "#2f3b52", "weight": 2.2},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False) if len(villages) else None,
        interactive=False,
    ).add_to(m)
    return m


class _Labels(MacroElement):
    """Permanent text labels (escaped) at points, as Leaflet divIcons."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function () {
            var group = L.layerGroup().addTo({{ this._parent.get_name() }});
            {{ this.rows|tojson }}.forEach(function (row) {
                L.marker([row[0], row[1]], {interactive: false, keyboard: false,
                    icon: L.divIcon({className: "fk-label", html: row[2], iconSize: null})}).addTo(group);
            });
        })();
        {% endmacro %}"""
    )

    def __init__(self, rows):
        super().__init__()
        self._name = "Labels"
        self.rows = rows


def add_village_labels(m: folium.Map, villages: gpd.GeoDataFrame) -> folium.Map:
    """Village names as permanent labels at a point inside each village."""
    pts = villages.geometry.representative_point()
    rows = [[round(p.y, 5), round(p.x, 5), escape_text(n)] for p, n in zip(pts, villages["name"])
            if p is not None and not p.is_empty]  # a village without a boundary has no label point
    _Labels(rows).add_to(m)
    m.get_root().header.add_child(Element(
        "<style>.fk-label{white-space:nowrap;transform:translate(-50%,-50%);font-weight:bold;font-size:12px;"
        "color:#1d2a44;text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff}</style>"),
        name="fk_label_css")
    return m


def add_natural_village_layer(m: folium.Map, naturals: gpd.GeoDataFrame, *,
                              name: str = "自然村") -> folium.Map:
    """Natural villages (自然村) as small circles at their settlements."""
    pts = _naturals_as_points(naturals)
    data = _features(pts, {
        "tip": [html("{n}（{v}）", n=n, v=v) for n, v in zip(pts["name"], pts["village"])],
    })
    folium.GeoJson(
        data,
        name=name,
        marker=folium.CircleMarker(radius=3.5, color="#1d3557", weight=1, fill=True,
                                   fill_color="#ffffff", fill_opacity=1),
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False) if len(pts) else None,  # a township without natural villages yet
    ).add_to(m)
    return m


def add_points_layer(m: folium.Map, points: gpd.GeoDataFrame, *, label: str | None = None,
                     name: str = "点位", cluster: bool = True, color: str | None = None,
                     severity: Sequence[str] | None = None) -> folium.Map:
    """Many points at once: one clustered layer (FastMarkerCluster) whose
    popups carry the escaped ``label`` column; never one object per point.
    ``color`` names a column of CSS colours (one per point); with
    ``severity`` (those colours, mildest first) a cluster takes the colour of
    its most severe point, so a closed place shows even when zoomed out."""
    lons, lats = points.geometry.x.round(6).to_numpy(), points.geometry.y.round(6).to_numpy()
    labels = [escape_text(v) for v in points[label]] if label else [""] * len(points)
    colours = [escape_text(c) for c in points[color]] if color else ["#b8322a"] * len(points)
    rows = [[float(a), float(b), t, c] for a, b, t, c in zip(lats, lons, labels, colours)]
    if cluster:
        callback = """function (row) {
            var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
                {radius: 5, color: row[3], fillColor: row[3], weight: 1, fillOpacity: 0.8});
            if (row[2]) { marker.bindTooltip(row[2]); }
            return marker;
        }"""
        icon = None
        if severity:
            icon = """function (cluster) {
                var order = %s, worst = -1;
                cluster.getAllChildMarkers().forEach(function (m) {
                    worst = Math.max(worst, order.indexOf(m.options.color));
                });
                var n = cluster.getChildCount();
                return L.divIcon({className: 'marker-cluster fk-cluster', iconSize: new L.Point(40, 40),
                    html: '<div style="background:' + (worst < 0 ? '#7b8794' : order[worst]) + '"><span>' + n + '</span></div>'});
            }""" % json.dumps([escape_text(c) for c in severity])
            m.get_root().header.add_child(Element(
                "<style>.fk-cluster{background:rgba(255,255,255,.65);border-radius:20px}"
                ".fk-cluster div{color:#fff;font-weight:bold;opacity:.92}</style>"), name="fk_cluster_css")
        FastMarkerCluster(rows, callback=callback, name=name, icon_create_function=icon).add_to(m)
    else:
        feats = _features(points, {"tip": labels})
        folium.GeoJson(feats, name=name, marker=folium.CircleMarker(radius=4, color="#b8322a")).add_to(m)
    return m


def village_values_state(villages: gpd.GeoDataFrame, values: pd.Series, *, bins: Sequence[float],
                         colours: Sequence[str], unit: str = "",
                         highlight_village: str | None = None) -> tuple[list[str], list[dict], list[Markup]]:
    """What :func:`add_village_values_layer` draws for each area, in
    ``villages``' order: its escaped name (the feature's id), its style and
    its tooltip (escaped HTML); the live map's update carries the same."""
    vals = values.reindex(villages["name"]).fillna(0).to_numpy()
    tips = [html("<b>{n}</b>：{v}{unit}", n=n, v=f"{v:,.0f}", unit=unit) for n, v in zip(villages["name"], vals)]
    styles = [{"fillColor": _bins_colour(v, bins, colours), "fillOpacity": 0.75,
               "color": GRID_HIGHLIGHT if hl else GRID_STROKE, "weight": 3 if hl else 0.8}
              for v, hl in zip(vals, [bool(highlight_village) and n == highlight_village for n in villages["name"]])]
    return [escape_text(n) for n in villages["name"]], styles, tips


def add_village_values_layer(
    m: folium.Map,
    villages: gpd.GeoDataFrame,
    values: pd.Series,
    *,
    bins: Sequence[float],
    colours: Sequence[str],
    unit: str = "",
    name: str = "按村统计",
    highlight_village: str | None = None,
) -> folium.Map:
    """Villages filled by a value each (``values`` indexed by village name,
    binned by ``bins`` into ``colours``), the value in the tooltip."""
    names, styles, tips = village_values_state(villages, values, bins=bins, colours=colours, unit=unit,
                                               highlight_village=highlight_village)
    data = _features(villages, {"tip": tips, "fill": [s["fillColor"] for s in styles],
                                "hl": [s["color"] == GRID_HIGHLIGHT for s in styles], "name": names})
    folium.GeoJson(
        data,
        name=name,
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": 0.75,
                                  "color": GRID_HIGHLIGHT if f["properties"]["hl"] else GRID_STROKE,
                                  "weight": 3 if f["properties"]["hl"] else 0.8},
        highlight_function=lambda f: {"weight": 2.5, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True) if len(villages) else None,
    ).add_to(m)
    return m


def value_legend_entries(bins: Sequence[float], colours: Sequence[str], unit: str = "") -> list[tuple[str, str]]:
    """(colour, label) pairs for :func:`add_village_values_layer`'s ramp
    (a bin holds values from its lower bound up to, not including, the next)."""
    entries = []
    for i, lo in enumerate(bins):
        hi = bins[i + 1] if i + 1 < len(bins) else None
        if hi is None:
            text = f"≥{lo:,g}{unit}"
        elif hi - lo == 1:
            text = f"{lo:,g}{unit}"
        else:
            text = f"{lo:,g}–{hi:,g}{unit}"
        entries.append((colours[i], text))
    return entries


class _MapPanel(MacroElement):
    """A fixed HTML box on the map (title, legend, notes, north arrow)."""

    _template = Template(
        """{% macro html(this, kwargs) %}
        <div class="fk-panel fk-{{ this.position }}" style="{{ this.style }}">{{ this.body }}</div>
        {% endmacro %}
        {% macro header(this, kwargs) %}
        <style>
        .fk-panel{position:absolute;z-index:1000;background:rgba(255,255,255,.92);padding:6px 10px;
          border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);font-size:13px;line-height:1.45;color:#222}
        .fk-topleft{top:10px;left:54px}.fk-topright{top:10px;right:10px}
        .fk-bottomleft{bottom:40px;left:10px}.fk-bottomright{bottom:24px;right:10px}
        .fk-panel .sw{display:inline-block;width:14px;height:10px;margin-right:5px;border:1px solid #999}
        .fk-panel h4{margin:0 0 2px 0;font-size:16px}
        </style>
        {% endmacro %}"""
    )

    def __init__(self, body: Markup, position: str = "topright", style: str = ""):
        super().__init__()
        if not isinstance(body, Markup):  # data reaches a panel only through views.html
            raise TypeError("map panel body must be Markup built with views.html.html()")
        if position not in ("topleft", "topright", "bottomleft", "bottomright"):
            raise ValueError(f"position {position!r}")
        self._name = "MapPanel"
        self.body, self.position, self.style = body, position, style

    def render(self, **kwargs):
        # The panel lives in the map's container so it shows in screenshots.
        figure = self.get_root()
        figure.header.add_child(Element(self._template.module.header(self, kwargs)), name="fk_panel_css")
        script = (f"(function(){{var d=document.createElement('div');d.innerHTML={_js_string(self._template.module.html(self, kwargs))};"
                  f"{self._parent.get_name()}.getContainer().appendChild(d.firstElementChild);}})();")
        figure.script.add_child(Element(script), name=self.get_name())


def _js_string(text: str) -> str:
    """A JS string literal for text that is already HTML-escaped (readable
    Chinese, no line-separator surprises)."""
    return json.dumps(text, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def title_html(title: str, subtitle: str = "") -> Markup:
    """The title box's content (escaped): ``title`` and an optional ``subtitle``."""
    return html("<h4>{title}</h4>", title=title) + (html("<div>{s}</div>", s=subtitle) if subtitle else "")


def add_title(m: folium.Map, title: str, subtitle: str = "") -> folium.Map:
    """The title box (top left): ``title`` and an optional ``subtitle``."""
    _MapPanel(title_html(title, subtitle), "topleft", "max-width:60%").add_to(m)
    return m


#: Legend marks: a filled swatch (areas), a ring (points), a line (boundaries).
_LEGEND_MARKS = {
    "swatch": '<span class="sw" style="background:{c}"></span>',
    "dot": '<span class="fk-lg-dot" style="border-color:{c};background:{c}"></span>',
    "ring": '<span class="fk-lg-dot" style="border-color:{c}"></span>',
    "line": '<span class="fk-lg-line" style="border-top-color:{c}"></span>',
}
_LEGEND_CSS = ("<style>.fk-lg-line{display:inline-block;width:16px;height:0;border-top:2px solid;"
               "vertical-align:middle;margin-right:5px}.fk-lg-dot{display:inline-block;width:7px;height:7px;"
               "border:1.5px solid;border-radius:50%;background:#fff;margin:0 8px 0 3px;vertical-align:middle}</style>")


def legend_rows(title: str | None, entries: Sequence[tuple[str, str]], *, mark: str = "swatch") -> list[Markup]:
    """Legend rows (escaped HTML) for :func:`make_map_frame`'s ``legend``: a
    bold ``title`` (if any), then one row per (colour, label) with a ``mark``
    (``swatch``, ``dot``, ``ring`` or ``line``)."""
    template = _LEGEND_MARKS[mark] + "{t}"
    head = [html("<b>{title}</b>", title=title)] if title else []
    return head + [html("<div>" + template + "</div>", c=c, t=t) for c, t in entries]


def add_legend(m: folium.Map, title: str | None, entries: Sequence[tuple[str, str]] = (), *,
               rows: Sequence[Markup] = (), mark: str = "swatch") -> folium.Map:
    """A legend box (bottom right): ``entries`` are (colour, label) pairs
    under ``title``; ``rows`` are further rows from :func:`legend_rows`."""
    body = join_html([*legend_rows(title, entries, mark=mark), *rows])
    m.get_root().header.add_child(Element(_LEGEND_CSS), name="fk_legend_css")
    _MapPanel(body, "bottomright").add_to(m)
    return m


def add_notes(m: folium.Map, text: str) -> folium.Map:
    """A source/notes line at the bottom left (e.g. 合成演示数据)."""
    _MapPanel(html("{text}", text=text), "bottomleft", "font-size:12px").add_to(m)
    return m


def add_north_arrow(m: folium.Map) -> folium.Map:
    """A north arrow (top right)."""
    arrow = _MapPanel(Markup('<div style="text-align:center;font-weight:bold;font-size:14px;line-height:1.1">'
                             "&#9650;<br>N</div>"), "topright", "padding:4px 8px")
    arrow.add_to(m)
    return m


def control_legend_entries() -> list[tuple[str, str]]:
    """(colour, label) pairs for the control-count ramp."""
    labels = []
    for i, lo in enumerate(CONTROL_BINS):
        hi = CONTROL_BINS[i + 1] - 1 if i + 1 < len(CONTROL_BINS) else None
        labels.append(f"{lo} 人" if hi == lo else (f"{lo}–{hi} 人" if hi is not None else f"≥{lo} 人"))
    return list(zip(CONTROL_COLOURS, labels))


def area_bounds(area, focus: str | None = None) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) of ``area`` (bounds, or a GeoDataFrame of
    villages), of its village named ``focus`` when it has a shape. Rows
    without a boundary are skipped; with no boundary at all, the
    :data:`FALLBACK_BOUNDS`."""
    if not isinstance(area, gpd.GeoDataFrame):
        return tuple(float(v) for v in area)
    shaped = area[area.geometry.notna() & ~area.geometry.is_empty]
    if focus is not None and "name" in shaped:
        chosen = shaped[shaped["name"] == focus]
        shaped = chosen if len(chosen) else shaped
    if shaped.empty:
        return FALLBACK_BOUNDS
    return tuple(float(v) for v in shaped.total_bounds)


def make_map_frame(
    area,
    *,
    focus: str | None = None,
    basemap: str = "none",
    title: str = "",
    subtitle: str = "",
    legend: Sequence[Markup] = (),
    notes: str = "",
    north_arrow: bool = True,
    for_print: bool = False,
    height: str = "100%",
) -> folium.Map:
    """The frame every map starts from: a base map fitted to ``area``, with
    title, legend, notes and north arrow. Layers are added afterwards with
    the ``add_*_layer(m, ...)`` builders.

    Parameters
    ----------
    area : GeoDataFrame or (minx, miny, maxx, maxy)
        Usually the villages (行政村); rows without a boundary are skipped.
    focus : str, optional
        A village name: the map zooms to it (the whole area if unknown).
    basemap : {"none", "osm", "amap", "tianditu"}
    title, subtitle : str
        The title box; none when ``title`` is empty.
    legend : sequence of Markup
        Rows from :func:`legend_rows` (escaped); no box when empty.
    notes : str
        The source line (e.g. 合成演示数据); escaped.
    for_print : bool
        No zoom buttons and no animations (a screenshot shows the final state).

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> m = make_map_frame((115.1, 33.6, 115.3, 33.7), title="<态势图>", notes="合成演示数据")
    >>> "&lt;态势图&gt;" in render_map(m)
    True
    """
    m = make_base_map(area_bounds(area, focus), basemap=basemap, height=height)
    if for_print:
        m.options.update(zoom_control=False, zoom_animation=False, fade_animation=False,
                         marker_zoom_animation=False)
    if title:
        add_title(m, title, subtitle)
    if legend:
        add_legend(m, None, rows=legend)
    if notes:
        add_notes(m, notes)
    if north_arrow:
        add_north_arrow(m)
    return m


def _naturals_as_points(naturals: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Natural villages as points at their lon/lat; rows without coordinates
    (imported from the template without them) are left off the map."""
    if "lon" not in naturals or "lat" not in naturals:
        return naturals
    naturals = naturals[naturals["lon"].notna() & naturals["lat"].notna()]
    points = gpd.points_from_xy(naturals["lon"], naturals["lat"])
    return gpd.GeoDataFrame(naturals.drop(columns=["lon", "lat", "geometry"], errors="ignore"),
                            geometry=points, crs=getattr(naturals, "crs", None) or "EPSG:4326")


def make_overview_map(
    grids: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    naturals: gpd.GeoDataFrame,
    counts: pd.Series | None = None,
    *,
    village: str | None = None,
    basemap: str = "none",
    title: str | None = None,
    subtitle: str = "",
    note: str = "",
    count_label: str = "管控中",
    legend_title: str = "管控人数（按网格）",
    live: bool = False,
) -> folium.Map:
    """Grid cells coloured by a count per cell (people under control by
    default), village boundaries, natural villages, legend, scale and notes,
    from frames (analysts' notebooks, the returnee page). The dashboards'
    situation map is :func:`fangkong_lib.views.situation.make_situation_map`.

    With ``village`` the map zooms to that village and outlines its cells.
    ``live``: the page may update the map in place (:func:`overview_map_update`).
    """
    naturals = _naturals_as_points(naturals)
    if basemap == "amap":
        grids, villages, naturals = to_gcj02(grids), to_gcj02(villages), to_gcj02(naturals)
    m = make_map_frame(villages, focus=village, basemap=basemap, title=title or "", subtitle=subtitle,
                       legend=legend_rows(legend_title, control_legend_entries()), notes=note)
    add_grid_layer(m, grids, counts, highlight_village=village, name=f"网格（{count_label}）",
                   count_label=count_label)
    add_village_layer(m, villages)
    add_natural_village_layer(m, naturals)
    add_village_labels(m, villages)
    if live:
        add_live_updates(m, {"grids": f"网格（{count_label}）"})
    return m


def overview_map_update(grids: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, counts: pd.Series | None = None, *,
                        village: str | None = None, title: str | None = None, subtitle: str = "",
                        count_label: str = "管控中") -> dict:
    """The :func:`live_update` that brings a live :func:`make_overview_map`
    to ``counts``, ``village`` and ``subtitle`` (``villages`` in the datum
    of the map shown: converted for AMap)."""
    codes, styles, tips = grid_layer_state(grids, counts, highlight_village=village, count_label=count_label)
    return live_update({"grids": live_layer("code", codes, styles, tips)},
                       panels={"topleft": title_html(title or "", subtitle)} if title else {},
                       bounds=area_bounds(villages, village))


# -- The live map: one document, its layers updated in place ---------------------------

#: Panels a live update may refill (the boxes of :func:`make_map_frame`).
LIVE_PANELS = ("topleft", "topright", "bottomleft", "bottomright")
#: Style keys a live update may set, and the kind of value each takes.
LIVE_STYLE_KEYS = {"fillColor": "colour", "color": "colour", "weight": "number", "fillOpacity": "number",
                   "opacity": "number"}


class _LiveUpdates(MacroElement):
    """The listener of a live map (see :func:`add_live_updates`)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function (map, layers) {
            var KINDS = {{ this.kinds|tojson }}, PANELS = {{ this.panels|tojson }};
            var COLOUR = /^#[0-9a-fA-F]{3,8}$/, live = {}, bounds = null;
            function cleanStyle(style) {
                var out = {};
                if (!style || typeof style !== "object") return out;
                Object.keys(KINDS).forEach(function (k) {
                    var v = style[k];
                    if (KINDS[k] === "colour" ? (typeof v === "string" && COLOUR.test(v))
                            : (typeof v === "number" && isFinite(v) && v >= 0 && v <= 20)) out[k] = v;
                });
                return out;
            }
            Object.keys(layers).forEach(function (key) {
                // resetStyle (after a hover) must come back to the live style, not the first one
                var layer = layers[key], first = layer.options.style;
                layer.options.style = function (feature) {
                    var base = typeof first === "function" ? first(feature) : (first || {}), state = live[key];
                    var props = feature && feature.properties, id = state && props ? props[state.key] : undefined;
                    return state && state.styles[id] ? Object.assign({}, base, state.styles[id]) : base;
                };
            });
            function fit() { if (bounds) { map.invalidateSize({animate: false}); map.fitBounds(bounds, {animate: false}); } }
            function apply(update) {
                if (!update || typeof update !== "object") return false;
                var specs = update.layers || {};
                Object.keys(specs).forEach(function (key) {
                    var layer = layers[key], spec = specs[key];
                    if (!layer || !spec || typeof spec.key !== "string") return;
                    var styles = {}, tips = spec.tips || {};
                    Object.keys(spec.styles || {}).forEach(function (id) { styles[id] = cleanStyle(spec.styles[id]); });
                    live[key] = {key: spec.key, styles: styles};
                    layer.eachLayer(function (feature) {
                        var props = feature.feature && feature.feature.properties;
                        if (!props) return;
                        var id = props[spec.key];
                        if (styles[id] && feature.setStyle) feature.setStyle(styles[id]);
                        if (typeof tips[id] === "string") props.tip = tips[id];  // escaped HTML (views/html.py)
                    });
                });
                var panels = update.panels || {};
                Object.keys(panels).forEach(function (where) {
                    if (PANELS.indexOf(where) < 0 || typeof panels[where] !== "string") return;
                    var box = map.getContainer().querySelector(".fk-panel.fk-" + where);
                    if (box) box.innerHTML = panels[where];  // escaped HTML (views/html.py)
                });
                var b = update.bounds, flat = Array.isArray(b) && b.length === 2 && Array.isArray(b[0])
                    && Array.isArray(b[1]) ? b[0].concat(b[1]) : [];
                if (flat.length === 4 && flat.every(function (v) { return typeof v === "number" && isFinite(v); })) {
                    bounds = [[flat[0], flat[1]], [flat[2], flat[3]]];
                    fit();
                }
                return true;
            }
            // after the frame's own refit (its first bounds): the bounds shown now
            window.addEventListener("load", fit);
            window.addEventListener("resize", fit);
            var state = document.getElementById("fk-live-state");  // an exported map: the state it shows
            if (state) { try { apply(JSON.parse(state.textContent)); } catch (e) { /* the first state stays */ } }
            if (window.parent === window) return;
            window.addEventListener("message", function (event) {
                if (event.source !== window.parent) return;  // only the page that shows this map
                var data = event.data;
                if (!data || data.type !== "fk-live-map" || !data.update) return;
                if (apply(data.update)) window.parent.postMessage({type: "fk-live-applied", version: data.update.version}, "*");
            });
            window.parent.postMessage({type: "fk-live-ready"}, "*");
        })({{ this._parent.get_name() }}, {{ this.layers_js }});
        {% endmacro %}"""
    )

    def __init__(self, layers: dict[str, str]):
        super().__init__()
        self._name = "LiveUpdates"
        self.layers = dict(layers)
        self.kinds, self.panels = LIVE_STYLE_KEYS, LIVE_PANELS

    def render(self, **kwargs):
        found = {child.layer_name: child.get_name() for child in self._parent._children.values()
                 if isinstance(child, folium.GeoJson)}
        missing = [name for name in self.layers.values() if name not in found]
        if missing:
            raise ValueError(f"live map: no GeoJSON layer named {missing}")
        self.layers_js = "{" + ", ".join(f"{json.dumps(key)}: {found[name]}" for key, name in self.layers.items()) + "}"
        super().render(**kwargs)


def add_live_updates(m: folium.Map, layers: dict[str, str]) -> folium.Map:
    """Let the page that shows ``m`` update it in place (add it after the layers).

    ``layers`` maps a key of the update to the name of a GeoJSON layer of
    ``m``. The map then takes :func:`live_update` payloads posted by its
    parent page (and from no one else), sets the styles, tooltips (escaped
    HTML), panels and bounds they carry, and posts back
    ``{"type": "fk-live-applied", "version": …}``; an exported document
    applies the state written into it by :func:`with_live_state`.
    """
    _LiveUpdates(layers).add_to(m)
    return m


def live_layer(key: str, ids: Sequence[str], styles: Sequence[dict], tips: Sequence[Markup]) -> dict:
    """One layer of a :func:`live_update`: per feature (by its property
    ``key``, e.g. an escaped grid code) a style and a tooltip (escaped HTML)."""
    for style in styles:
        bad = set(style) - set(LIVE_STYLE_KEYS)
        if bad:
            raise ValueError(f"live map: style keys {sorted(bad)}")
    for tip in tips:
        if not isinstance(tip, Markup):  # data reaches a tooltip only through views.html
            raise TypeError("live map tooltips must be Markup built with views.html.html()")
    return {"key": key, "styles": dict(zip(ids, styles)), "tips": {i: str(t) for i, t in zip(ids, tips)}}


def live_update(layers: dict[str, dict], *, panels: dict[str, Markup] | None = None,
                bounds: Sequence[float] | None = None) -> dict:
    """What a live map is told to show: ``layers`` (from :func:`live_layer`),
    ``panels`` (position → escaped HTML, e.g. :func:`title_html`) and the
    ``bounds`` to fit (minx, miny, maxx, maxy)."""
    panels = dict(panels or {})
    for where, body in panels.items():
        if where not in LIVE_PANELS:
            raise ValueError(f"panel position {where!r}")
        if not isinstance(body, Markup):
            raise TypeError("live map panels must be Markup built with views.html.html()")
    update = {"layers": layers, "panels": {k: str(v) for k, v in panels.items()}}
    if bounds is not None:
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        update["bounds"] = [[miny, minx], [maxy, maxx]]
    return update


def with_live_state(document: str, update: dict) -> str:
    """``document`` (a live map) that shows ``update`` as soon as it opens:
    the map export of a live map is the document shown, in the state shown."""
    state = json.dumps(update, ensure_ascii=False, separators=(",", ":"))
    state = state.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    state = state.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    tag = f'<script type="application/json" id="fk-live-state">{state}</script>'
    at = document.find("<body>")
    if at < 0:
        raise ValueError("not a map document")
    at += len("<body>")
    return document[:at] + tag + document[at:]


def render_map(m: folium.Map) -> str:
    """The map as one self-contained HTML document (scripts, styles and fonts
    inlined; nothing is fetched from anywhere)."""
    if _uses_icons(m):
        m.__dict__.pop("default_js", None)
        m.__dict__.pop("default_css", None)
    localize_assets(m)
    return m.get_root().render()


def _uses_icons(element) -> bool:
    stack = [element]
    while stack:
        el = stack.pop()
        if isinstance(el, folium.Icon):
            return True
        stack.extend(getattr(el, "_children", {}).values())
    return False


def map_iframe(document: str, *, height: int = 560, title: str = "地图") -> str:
    """Wrap a map document in a sandboxed ``srcdoc`` iframe.

    ``allow-scripts`` lets Leaflet run; without ``allow-same-origin`` the map
    cannot touch the dashboard page, its cookies or its kernel.
    """
    # The document is HTML, not text: it is escaped as an attribute value
    # (the browser decodes it back), not as text for a JS template literal.
    return str(html(
        '<iframe class="fk-map" title="{title}" sandbox="allow-scripts" '
        'style="width:100%;height:{height}px;border:1px solid #d0d0d0;border-radius:4px" '
        'srcdoc="{document}"></iframe>',
        title=title, height=int(height), document=Markup(_html.escape(document, quote=True)),
    ))


class MapView:
    """A map shown in JupyterLab or a notebook the same way as on the
    dashboards: self-contained and sandboxed, so it works with no network."""

    def __init__(self, m: folium.Map, height: int = 520):
        self.m, self.height = m, height

    def _repr_html_(self) -> str:
        return map_iframe(render_map(self.m), height=self.height)


def show_map(m: folium.Map, height: int = 520) -> MapView:
    """Display a map offline in a notebook: ``show_map(m)`` as a cell's last line."""
    return MapView(m, height)
