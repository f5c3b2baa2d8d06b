"""Map building: the library's builders against the naive folium way.

Naive = one folium object per feature (a GeoJson per grid cell, a
CircleMarker per point), which is what most notebooks do. Both are rendered
to a complete HTML document, with the same (offline, inlined) assets.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np

from fangkong_lib.dataset import Dataset
from fangkong_lib.demo import build_demo
from fangkong_lib.domain.overview import summarize_overview
from fangkong_lib.views.maps import add_points_layer, make_base_map, make_overview_map, render_map

from .common import report, timed


def _naive_overview(data, counts) -> str:
    m = make_base_map(data.villages.total_bounds)
    for _, row in data.grids.iterrows():
        n = int(counts.get(row["code"], 0))
        folium.GeoJson(row.geometry.__geo_interface__, tooltip=f"{row['code']} 管控 {n} 人",
                       style_function=lambda f, n=n: {"fillColor": "#e4643c" if n else "#f7f7f2", "weight": 0.5}).add_to(m)
    for _, row in data.villages.iterrows():
        folium.GeoJson(row.geometry.__geo_interface__, tooltip=row["name"]).add_to(m)
    for _, row in data.naturals.iterrows():
        folium.CircleMarker([row["lat"], row["lon"]], radius=3, tooltip=row["name"]).add_to(m)
    return render_map(m)


def _points(n: int, data, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = data.villages.total_bounds
    lon, lat = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
    return gpd.GeoDataFrame({"label": [f"点位{i}" for i in range(n)]},
                            geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _ours_points(data, pts) -> str:
    m = make_base_map(data.villages.total_bounds)
    add_points_layer(m, pts, label="label")
    return render_map(m)


def _naive_points(data, pts) -> str:
    m = make_base_map(data.villages.total_bounds)
    for geom, label in zip(pts.geometry, pts["label"]):
        folium.CircleMarker([geom.y, geom.x], radius=4, tooltip=label).add_to(m)
    return render_map(m)


def run() -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.sqlite"
        build_demo(db)
        data = Dataset.load(db)
        ov = summarize_overview(data.ledgers, data.today)

        def ours():
            return render_map(make_overview_map(data.grids, data.villages, data.naturals, ov.by_grid,
                                                title="态势图", note="合成演示数据"))

        t_ours, html_ours = timed(ours)
        t_naive, html_naive = timed(lambda: _naive_overview(data, ov.by_grid), repeat=3)
        pts = _points(10_000, data)
        t_pts, html_pts = timed(lambda: _ours_points(data, pts), repeat=3)
        t_pts_naive, html_pts_naive = timed(lambda: _naive_points(data, pts), repeat=1, warmup=0)

    rows = [
        {"case": "overview map, demo scale (376 cells)", "library_s": t_ours, "naive_s": t_naive,
         "speedup": t_naive / t_ours, "library_MB": len(html_ours.encode()) / 1e6,
         "naive_MB": len(html_naive.encode()) / 1e6},
        {"case": "10,000 points", "library_s": t_pts, "naive_s": t_pts_naive, "speedup": t_pts_naive / t_pts,
         "library_MB": len(html_pts.encode()) / 1e6, "naive_MB": len(html_pts_naive.encode()) / 1e6},
    ]
    checks = [
        ("10,000 points at least 20x faster than one folium object per point", rows[1]["speedup"] >= 20),
        ("overview map under 0.5 s at demo scale", t_ours < 0.5),
        ("overview map under 2 MB at demo scale", rows[0]["library_MB"] < 2),
    ]
    return report("map", rows, checks)
