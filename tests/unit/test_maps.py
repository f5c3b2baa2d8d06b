"""Map builders: offline, escaped, composable."""

import json
import re

import folium
import geopandas as gpd
import pytest
import shapely

from fangkong_lib.views.maps import (
    ATTRIBUTION_PREFIX,
    add_grid_layer, escape_text, make_base_map, make_overview_map, map_iframe, render_map, to_gcj02,
)

EVIL = "<img src=x onerror=alert(1)>"
REMOTE = re.compile(r"""<(?:script[^>]*\ssrc|link[^>]*\shref)\s*=\s*["']?(?:https?:)?//""", re.I)


@pytest.fixture(scope="module")
def overview_html(demo_data):
    from fangkong_lib.domain.overview import summarize_overview

    ov = summarize_overview(demo_data.ledgers, demo_data.today)
    m = make_overview_map(demo_data.grids, demo_data.villages, demo_data.naturals, ov.by_grid,
                          title="态势图", note="合成演示数据")
    return render_map(m)


def test_overview_map_loads_nothing_from_anywhere(overview_html):
    assert not REMOTE.search(overview_html)
    assert "url(http" not in overview_html
    assert "L.map(" in overview_html and "leaflet" in overview_html.lower()
    assert overview_html.count('"type": "Feature"') + overview_html.count('"type":"Feature"') >= 376 + 17 + 112
    assert len(overview_html.encode()) < 2_000_000


def test_map_options_and_furniture(overview_html):
    text = " ".join(overview_html.split())
    assert '"maxZoom": 18' in text
    assert f"setPrefix({json.dumps(ATTRIBUTION_PREFIX)})" in text  # no flag, our own prefix
    assert "imperial: false" in text
    assert "管控人数（按网格）" in text and "合成演示数据" in text


def test_folium_class_defaults_are_not_mutated(overview_html):
    assert any(name == "jquery" for name, _ in folium.Map.default_js)
    assert all(url.startswith("https://") for _, url in folium.Map.default_js)


@pytest.mark.parametrize("text, expected", [
    (EVIL, "&lt;img src=x onerror=alert(1)&gt;"),
    ("${alert(1)}", "&#36;{alert(1)}"),
    ("`x`", "&#96;x&#96;"),
    ("a\\b", "a&#92;b"),
    ('"q"', "&quot;q&quot;"),
    (None, ""),
])
def test_escape_text(text, expected):
    assert escape_text(text) == expected


def test_evil_names_reach_the_map_only_escaped(demo_data):
    grids = demo_data.grids.copy()
    villages = demo_data.villages.copy()
    naturals = demo_data.naturals.copy()
    grids.loc[0, "natural_village"] = EVIL
    villages.loc[0, "name"] = EVIL + "${x}"
    naturals.loc[0, "name"] = "`${x}`"
    html = render_map(make_overview_map(grids, villages, naturals, title=EVIL, note=EVIL))
    assert EVIL not in html
    assert "${x}" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_iframe_is_sandboxed_without_same_origin():
    doc = map_iframe("<html><script>x='\"'</script></html>")
    assert 'sandbox="allow-scripts"' in doc  # exactly what the README says: no popups either
    assert "allow-same-origin" not in doc
    assert "<script>" not in doc  # the document is an attribute value, escaped


def test_builders_compose(demo_data):
    m = make_base_map(demo_data.villages.total_bounds)
    assert add_grid_layer(m, demo_data.grids) is m
    assert isinstance(m, folium.Map)


def test_basemaps(demo_data, monkeypatch):
    html = render_map(make_base_map(demo_data.villages.total_bounds, basemap="osm"))
    assert "tile.openstreetmap.org" in html
    monkeypatch.delenv("FANGKONG_TIANDITU_KEY", raising=False)
    with pytest.raises(ValueError, match="FANGKONG_TIANDITU_KEY"):
        make_base_map(demo_data.villages.total_bounds, basemap="tianditu")
    monkeypatch.setenv("FANGKONG_TIANDITU_KEY", "k123")
    assert "tk=k123" in render_map(make_base_map(demo_data.villages.total_bounds, basemap="tianditu"))
    with pytest.raises(ValueError, match="未知底图"):
        make_base_map(demo_data.villages.total_bounds, basemap="google")


def test_amap_data_is_shifted_to_gcj02():
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(115.189, 33.644)], crs="EPSG:4326")
    shifted = to_gcj02(pts).geometry.iloc[0]
    metres = shapely.Point(115.189, 33.644).distance(shifted) * 100_000
    assert 300 < metres < 900  # GCJ-02 is a few hundred metres off WGS-84 here


# -- The live map: one document, its layers updated in place ---------------------------


def test_a_live_update_carries_hostile_names_only_escaped(demo_data):
    from fangkong_lib.views.maps import overview_map_update

    grids, villages = demo_data.grids.copy(), demo_data.villages.copy()
    grids.loc[0, "code"] = EVIL
    grids.loc[1, "natural_village"] = "`${x}`</script>"
    grids.loc[2, "village"] = villages.loc[0, "name"] = EVIL + "${x}"
    counts = grids.set_index("code")["village"].map(lambda v: 7 if v.startswith("<img") else 0)
    update = overview_map_update(grids, villages, counts, village=EVIL + "${x}", title=EVIL,
                                 subtitle="</script><script>alert(1)</script>")
    text = json.dumps(update, ensure_ascii=False)
    assert "<img" not in text and "${x}" not in text and "</script>" not in text and "<script>" not in text
    layer = update["layers"]["grids"]
    evil_code = "&lt;img src=x onerror=alert(1)&gt;"
    assert layer["key"] == "code" and evil_code in layer["styles"] and evil_code in layer["tips"]
    assert "&#96;&#36;{x}&#96;&lt;/script&gt;" in layer["tips"][escape_text(grids.loc[1, "code"])]
    # the chosen village: its cells outlined and coloured by their count; the map fits to it
    chosen = layer["styles"][escape_text(grids.loc[2, "code"])]
    assert chosen["color"] == "#1f4e79" and chosen["weight"] > 1 and chosen["fillColor"] != "#f7f7f2"
    assert layer["styles"][escape_text(grids.loc[3, "code"])]["color"] == "#8a8a8a"
    (south, west), (north, east) = update["bounds"]
    assert (west, south, east, north) == pytest.approx(tuple(villages.iloc[[0]].total_bounds))
    assert update["panels"]["topleft"].startswith("<h4>&lt;img src=x")


def test_the_live_update_draws_what_a_new_map_would(demo_data):
    from fangkong_lib.domain.overview import summarize_overview
    from fangkong_lib.views.maps import overview_map_update

    village = demo_data.village_names[2]
    ov = summarize_overview(demo_data.ledgers, demo_data.today, village=village)
    drawn = render_map(make_overview_map(demo_data.grids, demo_data.villages, demo_data.naturals, ov.by_grid,
                                         village=village))
    update = overview_map_update(demo_data.grids, demo_data.villages, ov.by_grid, village=village)
    features = {f["properties"]["code"]: f["properties"]
                for f in json.loads(re.search(r"geo_json_\w+_add\((\{.*?\})\);", drawn, re.S).group(1))["features"]}
    layer = update["layers"]["grids"]
    assert set(features) == set(layer["tips"]) and len(features) == len(demo_data.grids)
    for code, props in features.items():
        assert props["tip"] == layer["tips"][code]
        assert props["fill"] == layer["styles"][code]["fillColor"]
        assert props["hl"] == (layer["styles"][code]["color"] == "#1f4e79")
    assert sum(props["hl"] for props in features.values()) == int((demo_data.grids["village"] == village).sum())


def test_a_live_map_listens_to_its_parent_only_and_an_export_shows_its_state(demo_data):
    from fangkong_lib.views.maps import live_layer, live_update, with_live_state

    document = render_map(make_overview_map(demo_data.grids, demo_data.villages, demo_data.naturals, live=True))
    assert "event.source !== window.parent" in document and '"grids": geo_json_' in document
    assert "innerHTML" in document and "eval(" not in document
    update = live_update({"grids": live_layer("code", ["a"], [{"fillColor": "#b8322a"}], [escape_text_markup("x")])},
                         bounds=(115.1, 33.6, 115.2, 33.7))
    exported = with_live_state(document, {**update, "version": 3, "note": "</script><img src=x>"})
    state = re.search(r'<script type="application/json" id="fk-live-state">(.*?)</script>', exported, re.S)
    assert state and json.loads(state.group(1))["note"] == "</script><img src=x>"  # inert inside its script
    assert "<img src=x>" not in exported
    with pytest.raises(TypeError):
        live_layer("code", ["a"], [{}], ["<b>not escaped</b>"])
    with pytest.raises(ValueError):
        live_layer("code", ["a"], [{"onclick": "x"}], [escape_text_markup("x")])
    with pytest.raises(TypeError):
        live_update({}, panels={"topleft": "<b>not escaped</b>"})


def escape_text_markup(text):
    from fangkong_lib.views.html import html

    return html("{t}", t=text)


def test_the_county_live_update_escapes_township_names():
    from datetime import date

    import pandas as pd

    from fangkong_lib.views.page_maps import county_map_update

    towns = gpd.GeoDataFrame({"name": [EVIL, "虎岗乡"]},
                             geometry=[shapely.box(115.1, 33.6, 115.2, 33.7), shapely.box(115.2, 33.6, 115.3, 33.7)],
                             crs="EPSG:4326")
    update = county_map_update(towns, pd.Series({EVIL: 30, "虎岗乡": 3}), county="郸城县", measure="</b>在外人员",
                               day=date(2022, 4, 7))
    text = json.dumps(update, ensure_ascii=False)
    assert "<img" not in text and "</b>在外人员" not in text
    layer = update["layers"]["townships"]
    assert layer["key"] == "name" and escape_text(EVIL) in layer["styles"] and escape_text(EVIL) in layer["tips"]
    assert layer["styles"][escape_text(EVIL)]["fillColor"] != layer["styles"]["虎岗乡"]["fillColor"]
    assert "&lt;/b&gt;在外人员" in update["panels"]["topleft"] and "&lt;/b&gt;在外人员" in update["panels"]["bottomright"]
